package delivery_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/delivery"
	"github.com/sealpost/sealpost/internal/envelope"
	"github.com/sealpost/sealpost/internal/kms"
	"github.com/sealpost/sealpost/internal/sns"
	"github.com/sealpost/sealpost/internal/snssig"
	"github.com/sealpost/sealpost/internal/store"
)

const testKeyARN = "arn:aws:kms:us-east-1:000000000000:key/0b7f3c1e-0000-4000-8000-000000000001"

// testOpener stands in for *sse.Sealer: it opens bodies sealed with one
// envelope.DataKey (so the AAD check is real) and can be made to fail like
// an unusable key.
type testOpener struct {
	dk *envelope.DataKey

	mu     sync.Mutex
	fail   error
	calls  int
	owners []string
}

func newTestOpener(t *testing.T) *testOpener {
	key := bytes.Repeat([]byte{7}, 32)
	dk, err := envelope.NewDataKey([]byte("test-data-key"), key)
	if err != nil {
		t.Fatal(err)
	}
	return &testOpener{dk: dk}
}

func (o *testOpener) setFail(err error) { o.mu.Lock(); o.fail = err; o.mu.Unlock() }

func (o *testOpener) Open(ctx context.Context, owner, region string, frame []byte, aad envelope.BodyAAD) ([]byte, error) {
	o.mu.Lock()
	o.calls++
	o.owners = append(o.owners, owner+"/"+region)
	fail := o.fail
	o.mu.Unlock()
	if fail != nil {
		return nil, fmt.Errorf("sse: open: %w", fail)
	}
	return o.dk.OpenBody(frame, aad)
}

func (o *testOpener) seal(t *testing.T, plaintext []byte, aad envelope.BodyAAD) []byte {
	b, err := o.dk.SealBody(plaintext, aad)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// publishSealed writes a sealed message with one delivery per subscription
// straight into the store, as the SSE publish path stores it.
func (r *rig) publishSealed(t *testing.T, o *testOpener, body, subject string, attrs map[string]sns.MetaAttr, subs ...string) (id string, frame []byte) {
	t.Helper()
	id = fmt.Sprintf("%08x-0000-4000-8000-%012x", time.Now().UnixNano()&0xffffffff, time.Now().UnixNano()&0xffffffffffff)
	meta := sns.Meta{Type: sns.TypeNotification, Subject: subject, Attributes: attrs, Sealed: true, KeyARN: testKeyARN}
	now := r.clock.Now()
	frame = o.seal(t, []byte(body), meta.BodyAAD(r.topic, id, now))
	pub := store.Publication{Message: store.Message{ID: id, TopicARN: r.topic, CreatedAt: now, Meta: meta.Encode(), Body: frame}}
	for _, s := range subs {
		pub.Deliveries = append(pub.Deliveries, store.Delivery{SubscriptionARN: s, MessageID: id, NextAttemptAt: now})
	}
	if err := r.st.Publish(context.Background(), []store.Publication{pub}); err != nil {
		t.Fatal(err)
	}
	return id, frame
}

// verifySignature checks a Notification's SignatureVersion 1 signature
// with the signing certificate, over the fields as the subscriber got them.
func verifySignature(t *testing.T, signer *snssig.Signer, m map[string]any) {
	t.Helper()
	str := func(k string) string { s, _ := m[k].(string); return s }
	block, _ := pem.Decode(signer.CertPEM())
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := base64.StdEncoding.DecodeString(str("Signature"))
	if err != nil {
		t.Fatal(err)
	}
	sts := snssig.StringToSign(snssig.Message{Type: str("Type"), MessageID: str("MessageId"), TopicARN: str("TopicArn"),
		Subject: str("Subject"), Message: str("Message"), Timestamp: str("Timestamp")})
	sum := sha1.Sum(sts)
	if err := rsa.VerifyPKCS1v15(cert.PublicKey.(*rsa.PublicKey), crypto.SHA1, sum[:], sig); err != nil {
		t.Fatalf("signature does not verify: %v", err)
	}
}

// wipeWatch records every buffer the engine wiped.
type wipeWatch struct {
	mu   sync.Mutex
	bufs [][]byte
}

func (w *wipeWatch) hook(b []byte) { w.mu.Lock(); w.bufs = append(w.bufs, b); w.mu.Unlock() }

// check fails unless at least n buffers were wiped and all are zero now.
func (w *wipeWatch) check(t *testing.T, n int) {
	t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.bufs) < n {
		t.Fatalf("%d buffers wiped, want at least %d", len(w.bufs), n)
	}
	for i, b := range w.bufs {
		for _, c := range b {
			if c != 0 {
				t.Fatalf("wiped buffer %d (%d bytes) is not zero: %.40q", i, len(b), b)
			}
		}
	}
}

func TestSealedMessageDeliveredInPlaintext(t *testing.T) {
	ctx := context.Background()
	o := newTestOpener(t)
	r := newRigWith(t, nil, delivery.Options{Opener: o})
	ww := &wipeWatch{}
	r.eng.SetWipeHook(ww.hook)
	h := newHook(t, r.clock, func(int) int { return 200 })
	raw := newHook(t, r.clock, func(int) int { return 200 })
	sub := r.subscribe(t, h, nil)
	rawSub := r.subscribe(t, raw, map[string]string{"RawMessageDelivery": "true"})
	const body = `secret-marker-7d1c "quoted" <b>&</b> é`
	attrs := map[string]sns.MetaAttr{"color": {Type: "String", Value: "blue"}}
	id, frame := r.publishSealed(t, o, body, "subj-marker", attrs, sub, rawSub)
	if bytes.Contains(frame, []byte("secret-marker")) {
		t.Fatal("the stored frame holds the plaintext")
	}
	if _, err := r.eng.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	if h.count() != 1 || raw.count() != 1 {
		t.Fatalf("deliveries: %d json, %d raw; want 1 each", h.count(), raw.count())
	}
	m := h.bodies[0]
	if m["Message"] != body || m["MessageId"] != id || m["Subject"] != "subj-marker" || m["TopicArn"] != r.topic {
		t.Fatalf("notification %v", m)
	}
	if a, _ := m["MessageAttributes"].(map[string]any); a == nil || a["color"].(map[string]any)["Value"] != "blue" {
		t.Fatalf("attributes %v", m["MessageAttributes"])
	}
	verifySignature(t, r.signer, m)
	if string(raw.raw[0]) != body {
		t.Fatalf("raw body %q", raw.raw[0])
	}
	// Opened as the topic's account and region; plaintext, JSON body and
	// raw body all wiped after the send.
	if len(o.owners) != 2 || o.owners[0] != "000000000000/us-east-1" {
		t.Fatalf("opener called as %v", o.owners)
	}
	ww.check(t, 3)
	if st := r.eng.Stats(sub); st.Delivered != 1 {
		t.Fatalf("counters %+v", st)
	}
}

// TestSealedKeyFailureFollowsRetryPolicy: while the key is unusable nothing
// reaches the endpoint, each attempt counts as failed and is retried per the
// delivery policy; the delivery resumes once the key is back; a delivery
// whose key never comes back is given up still encrypted, logged at WARN
// with the key and the code, never the body.
func TestSealedKeyFailureFollowsRetryPolicy(t *testing.T) {
	for _, kind := range []error{kms.ErrDisabled, kms.ErrInvalidState, kms.ErrNotFound, kms.ErrAccessDenied, kms.ErrInvalidCiphertext} {
		t.Run(kind.Error(), func(t *testing.T) {
			ctx := context.Background()
			o := newTestOpener(t)
			var dl []delivery.Delivered
			r := newRigWith(t, nil, delivery.Options{Opener: o, DeadLetter: func(_ context.Context, target string, d delivery.Delivered) error {
				dl = append(dl, d)
				return nil
			}})
			h := newHook(t, r.clock, func(int) int { return 200 })
			policy := `{"healthyRetryPolicy":{"minDelayTarget":5,"maxDelayTarget":5,"numRetries":3,"numNoDelayRetries":0,"numMinDelayRetries":3,"numMaxDelayRetries":0,"backoffFunction":"linear"}}`
			sub := r.subscribe(t, h, map[string]string{"DeliveryPolicy": policy,
				"RedrivePolicy": `{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:dlq"}`})
			o.setFail(&kms.Error{Kind: kind, Msg: "key unusable"})
			start := r.clock.Now()
			r.publishSealed(t, o, "resume-marker-1", "", nil, sub)
			// Attempts at +0 and +5 s fail: nothing sent.
			for i, off := range []time.Duration{0, 5 * time.Second} {
				r.clock.Set(start.Add(off))
				r.eng.Tick(ctx)
				if h.count() != 0 {
					t.Fatalf("attempt %d: the endpoint got %d requests while the key is unusable", i+1, h.count())
				}
			}
			if st := r.eng.Stats(sub); st.Failed != 2 || st.Retried != 2 || st.Delivered != 0 {
				t.Fatalf("counters %+v", st)
			}
			// Not due before +10 s; the key comes back; delivered at +10 s.
			o.setFail(nil)
			r.clock.Set(start.Add(10*time.Second - time.Millisecond))
			r.eng.Tick(ctx)
			if h.count() != 0 {
				t.Fatal("retried before the policy's delay")
			}
			r.clock.Set(start.Add(10 * time.Second))
			r.eng.Tick(ctx)
			if h.count() != 1 || h.bodies[0]["Message"] != "resume-marker-1" {
				t.Fatalf("after the key came back: %d deliveries", h.count())
			}

			// A second message whose key never comes back: 4 attempts
			// (numRetries 3), then given up, still encrypted.
			o.setFail(&kms.Error{Kind: kind, Msg: "key unusable"})
			start = r.clock.Now()
			id, frame := r.publishSealed(t, o, "giveup-marker-2", "", nil, sub)
			calls0 := o.calls
			for off := time.Duration(0); off <= time.Minute; off += time.Second {
				r.clock.Set(start.Add(off))
				r.eng.Tick(ctx)
			}
			if o.calls-calls0 != 4 {
				t.Fatalf("%d open attempts, want 4 (1 + numRetries 3)", o.calls-calls0)
			}
			if h.count() != 1 {
				t.Fatalf("the endpoint got %d requests, want only the first message", h.count())
			}
			if n, _ := r.st.PendingDeliveries(ctx, sub); n != 0 {
				t.Fatalf("%d deliveries left after give-up", n)
			}
			if st := r.eng.Stats(sub); st.DeadLettered != 1 || st.Failed != 6 || st.Delivered != 1 {
				t.Fatalf("counters %+v", st)
			}
			if len(dl) != 1 || dl[0].MessageID != id || !bytes.Equal(dl[0].Body, frame) || !dl[0].Sealed || dl[0].KeyARN != testKeyARN {
				t.Fatalf("dead letter %+v", dl)
			}
			if bytes.Contains(dl[0].Body, []byte("giveup-marker")) {
				t.Fatal("dead-letter body holds the plaintext")
			}
			logs := r.logs.String()
			if strings.Contains(logs, "marker") {
				t.Fatalf("a body reached the log:\n%s", logs)
			}
			code := map[error]string{kms.ErrDisabled: "KMSDisabled", kms.ErrInvalidState: "KMSInvalidState", kms.ErrNotFound: "KMSNotFound",
				kms.ErrAccessDenied: "KMSAccessDenied", kms.ErrInvalidCiphertext: "KMSInvalidCiphertext"}[kind]
			var held int
			for _, line := range strings.Split(logs, "\n") {
				if strings.Contains(line, "delivery held") {
					held++
					if !strings.Contains(line, "level=WARN") || !strings.Contains(line, "message_id=") || !strings.Contains(line, "topic="+r.topic) ||
						!strings.Contains(line, "key="+testKeyARN) || !strings.Contains(line, "error_code="+code) {
						t.Fatalf("log line %s", line)
					}
				}
			}
			if held != 6 {
				t.Fatalf("%d WARN lines for failed opens, want 6:\n%s", held, logs)
			}
		})
	}
}

// TestSealedGivenUpWithoutDeadLetterIsLogged: no RedrivePolicy, no opener
// at all: nothing sent, given up per policy, WARN "still encrypted".
func TestSealedGivenUpWithoutDeadLetterIsLogged(t *testing.T) {
	ctx := context.Background()
	r := newRig(t)
	o := newTestOpener(t)
	h := newHook(t, r.clock, func(int) int { return 200 })
	policy := `{"healthyRetryPolicy":{"minDelayTarget":1,"maxDelayTarget":1,"numRetries":1,"numNoDelayRetries":0,"numMinDelayRetries":1,"numMaxDelayRetries":0,"backoffFunction":"linear"}}`
	sub := r.subscribe(t, h, map[string]string{"DeliveryPolicy": policy})
	start := r.clock.Now()
	id, _ := r.publishSealed(t, o, "nokey-marker", "", nil, sub)
	for off := time.Duration(0); off <= 5*time.Second; off += time.Second {
		r.clock.Set(start.Add(off))
		r.eng.Tick(ctx)
	}
	if h.count() != 0 {
		t.Fatal("sent without an opener")
	}
	logs := r.logs.String()
	if !strings.Contains(logs, `level=WARN msg="delivery given up, still encrypted"`) || !strings.Contains(logs, "message_id="+id) ||
		!strings.Contains(logs, "reason=NoOpener") || strings.Contains(logs, "nokey-marker") {
		t.Fatalf("logs:\n%s", logs)
	}
}

// TestSealedTamperedRecordNotDelivered: a body moved to another record (its
// AAD differs) does not open, so nothing is sent.
func TestSealedTamperedRecordNotDelivered(t *testing.T) {
	ctx := context.Background()
	o := newTestOpener(t)
	r := newRigWith(t, nil, delivery.Options{Opener: o})
	h := newHook(t, r.clock, func(int) int { return 200 })
	sub := r.subscribe(t, h, nil)
	_, frame := r.publishSealed(t, o, "moved-marker", "", nil, sub)
	meta := sns.Meta{Type: sns.TypeNotification, Subject: "changed", Sealed: true, KeyARN: testKeyARN}
	now := r.clock.Now()
	pub := store.Publication{Message: store.Message{ID: "moved-0000-4000-8000-000000000000", TopicARN: r.topic, CreatedAt: now, Meta: meta.Encode(), Body: frame},
		Deliveries: []store.Delivery{{SubscriptionARN: sub, MessageID: "moved-0000-4000-8000-000000000000", NextAttemptAt: now}}}
	if err := r.st.Publish(ctx, []store.Publication{pub}); err != nil {
		t.Fatal(err)
	}
	r.eng.Tick(ctx)
	if h.count() != 1 {
		t.Fatalf("%d deliveries, want only the genuine record's", h.count())
	}
	if !strings.Contains(r.logs.String(), "error_code=InvalidCiphertext") {
		t.Fatalf("logs:\n%s", r.logs.String())
	}
}
