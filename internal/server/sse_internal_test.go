package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/envelope"
	"github.com/sealpost/sealpost/internal/kms"
	"github.com/sealpost/sealpost/internal/sns"
)

// scrape returns the /metrics page of the handler.
func scrape(t *testing.T, m *metrics) string {
	t.Helper()
	rec := &bodyRecorder{h: http.Header{}}
	req, _ := http.NewRequest(http.MethodGet, "/metrics", nil)
	m.handler.ServeHTTP(rec, req)
	return rec.b.String()
}

type bodyRecorder struct {
	h http.Header
	b strings.Builder
}

func (r *bodyRecorder) Header() http.Header         { return r.h }
func (r *bodyRecorder) Write(p []byte) (int, error) { return r.b.Write(p) }
func (r *bodyRecorder) WriteHeader(int)             {}

func TestSSEMetricsLabelsAndCap(t *testing.T) {
	m := newMetrics()
	const key = "arn:aws:kms:us-east-1:000000000000:key/k1"
	const topic = "arn:aws:sns:us-east-1:000000000000:t1"
	m.kmsCall(topic, key, "GenerateDataKey", nil)
	m.kmsCall(topic, key, "Decrypt", nil)
	m.kmsCall(topic, key, "Decrypt", fmt.Errorf("sse: %w", &kms.Error{Kind: kms.ErrDisabled, Msg: "x"}))
	m.kmsCall(topic, key, "Decrypt", errors.New("boom"))
	m.sseMessage(topic, "sealed")
	m.sseMessage(topic, "opened")
	m.sseMessage(topic, "opened")
	page := scrape(t, m)
	for _, want := range []string{
		`sealpost_kms_calls_total{key="` + key + `",op="GenerateDataKey",outcome="ok",queue="",topic="` + topic + `"} 1`,
		`sealpost_kms_calls_total{key="` + key + `",op="Decrypt",outcome="ok",queue="",topic="` + topic + `"} 1`,
		`sealpost_kms_calls_total{key="` + key + `",op="Decrypt",outcome="DisabledException",queue="",topic="` + topic + `"} 1`,
		`sealpost_kms_calls_total{key="` + key + `",op="Decrypt",outcome="error",queue="",topic="` + topic + `"} 1`,
		`sealpost_sse_messages_total{direction="sealed",queue="",topic="` + topic + `"} 1`,
		`sealpost_sse_messages_total{direction="opened",queue="",topic="` + topic + `"} 2`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("missing %s", want)
		}
	}
	// Beyond maxSSESeries topics, new ones are counted as _other: the
	// series count stays bounded however many topics users create.
	for i := range maxSSESeries + 50 {
		tp := fmt.Sprintf("arn:aws:sns:us-east-1:000000000000:bulk-%d", i)
		m.kmsCall(tp, key, "GenerateDataKey", nil)
		m.sseMessage(tp, "sealed")
	}
	page = scrape(t, m)
	if n := strings.Count(page, "\nsealpost_kms_calls_total{"); n != maxSSESeries+4 {
		t.Fatalf("%d kms_calls series, want %d (4 of the first topic, 999 more admitted, 1 _other)", n, maxSSESeries+4)
	}
	if !strings.Contains(page, `sealpost_kms_calls_total{key="_other",op="GenerateDataKey",outcome="ok",queue="",topic="_other"} 51`) ||
		!strings.Contains(page, `sealpost_sse_messages_total{direction="sealed",queue="",topic="_other"} 51`) {
		t.Fatal("calls beyond the cap are not counted under _other")
	}
	// Topics already seen keep their own series after the cap is reached.
	m.kmsCall(topic, key, "GenerateDataKey", nil)
	if !strings.Contains(scrape(t, m), `sealpost_kms_calls_total{key="`+key+`",op="GenerateDataKey",outcome="ok",queue="",topic="`+topic+`"} 2`) {
		t.Fatal("a known topic lost its series")
	}
}

// TestSealerWiring: the server's Sealer reuses data keys for
// --sse-data-key-reuse, reports its KMS calls and the bodies it seals and
// opens in /metrics, and is purged by DisableKey, after which a body of
// that key does not open. Needs the real internal/sse (skips on the
// skeleton's stub).
func TestSealerWiring(t *testing.T) {
	ctx := context.Background()
	s := builtServer(t, "--sse-data-key-reuse", "2m")
	if s.sealer == nil {
		t.Fatal("no sealer")
	}
	root := kms.Caller{Account: "000000000000", Region: "us-east-1", Principal: "arn:aws:iam::000000000000:root", Authenticated: true, Secure: true}
	key, err := s.kms.CreateKey(ctx, root, kms.CreateKeyInput{})
	if err != nil {
		t.Fatal(err)
	}
	topic := "arn:aws:sns:us-east-1:000000000000:wired"
	aad := envelope.BodyAAD{TopicARN: topic, MessageID: "m1", Timestamp: time.Now().UnixMilli()}
	cs := countingSealer{s: s.sealer, m: s.met}
	publisher := sns.Caller{Account: root.Account, Region: root.Region, Principal: root.Principal, Authenticated: true, Secure: true}
	frame, err := cs.Seal(ctx, &publisher, "us-east-1", key.ARN, aad, []byte("wired-body"))
	if err != nil {
		t.Fatal(err)
	}
	pt, err := cs.Open(ctx, "000000000000", "us-east-1", frame, aad)
	if err != nil || string(pt) != "wired-body" {
		t.Fatalf("open: %q, %v", pt, err)
	}
	page := scrape(t, s.met)
	for _, want := range []string{
		`sealpost_kms_calls_total{key="` + key.ARN + `",op="GenerateDataKey",outcome="ok",queue="",topic="` + topic + `"} 1`,
		`sealpost_sse_messages_total{direction="sealed",queue="",topic="` + topic + `"} 1`,
		`sealpost_sse_messages_total{direction="opened",queue="",topic="` + topic + `"} 1`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("missing %s in\n%s", want, page)
		}
	}
	if err := s.kms.DisableKey(ctx, root, key.KeyID); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.Open(ctx, "000000000000", "us-east-1", frame, aad); !errors.Is(err, kms.ErrDisabled) {
		t.Fatalf("open after DisableKey: %v, want DisabledException (cached data key purged)", err)
	}
}
