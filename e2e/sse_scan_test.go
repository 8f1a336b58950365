package e2e

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/jackc/pgx/v5"

	"github.com/sealpost/sealpost/internal/audit"
)

// TestSSEPlaintextScan publishes 10,000 messages, each body holding a unique
// marker (SSEBODY-<32 hex>), over HTTPS with PublishBatch to a topic with
// server-side encryption whose only subscriber is an HTTP endpoint that
// answers every notification with 500 (so after one attempt each delivery
// waits in the retry queue, for 10 minutes by its DeliveryPolicy). Midway
// the server is SIGKILLed and restarted with the same root key; the batches
// not acknowledged are published after the restart. Then the server is
// stopped and every marker is looked for (raw, base64 std/url at every
// alignment, hex, JSON-escaped) in every file of the data dir (store, audit
// log, keys), in the server's log (debug level), on PostgreSQL in the
// database's data directory after a CHECKPOINT, and in a logical scan of
// every stored record (pebble read-only; every PostgreSQL table as text).
// None may be found. The same holds for FIFO: 100 messages with
// content-based deduplication to a FIFO topic with SSE leave neither their
// body markers nor the SHA-256 of their bodies (AWS's deduplication id,
// which Sealpost replaces with a keyed hash on SSE topics) anywhere.
//
// Positive controls in the same run: 1,000 markers published the same way
// to a topic without SSE (same dead subscriber) must be found by the logical
// scan and by the file scan of the store; the subject and message-attribute
// markers of messages of the SSE topic must be found too (metadata stays in
// clear, as AWS documents); the SHA-256 deduplication ids of 100 messages
// to a FIFO topic without SSE must be found by the logical scan (the digest
// scan works). And the subscriber must have received the
// plaintext of SSE messages (the delivery path opened them before the 500),
// so the scan covers what delivery does with a body as well.
func TestSSEPlaintextScan(t *testing.T) {
	t.Run("embedded", func(t *testing.T) { sseScan(t, false) })
	t.Run("postgres", func(t *testing.T) { sseScan(t, true) })
}

const (
	sseScanBatches   = 1000 // of 10 entries: 10,000 messages to the SSE topic
	sseScanPlain     = 100  // batches to the topic without SSE
	sseScanWorkers   = 8
	sseScanKillAfter = sseScanBatches / 2 // acknowledged batches before SIGKILL
	sseScanMetaEvery = 20                 // every 20th batch's first entry has a subject and an attribute marker
)

// sseMarker returns prefix-<32 hex>.
func sseMarker(t *testing.T, prefix string) string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return prefix + "-" + hex.EncodeToString(b)
}

// failingSink confirms subscriptions and answers every notification with
// 500, remembering which message bodies it was shown.
type failingSink struct {
	srv   *httptest.Server
	mu    sync.Mutex
	shown map[string]bool // notification Message fields received
	hits  atomic.Int64
}

func newFailingSink(t *testing.T) *failingSink {
	s := &failingSink{shown: map[string]bool{}}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var m struct{ Type, Message, SubscribeURL string }
		json.Unmarshal(b, &m)
		switch r.Header.Get("x-amz-sns-message-type") {
		case "SubscriptionConfirmation":
			go func() {
				if resp, err := http.Get(m.SubscribeURL); err == nil {
					resp.Body.Close()
				}
			}()
		case "Notification":
			s.hits.Add(1)
			s.mu.Lock()
			s.shown[m.Message] = true
			s.mu.Unlock()
			http.Error(w, "down for maintenance", http.StatusInternalServerError)
		}
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *failingSink) saw(body string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.shown[body]
}

// sseBatch is one PublishBatch call's entries and the markers they carry.
type sseBatch struct {
	entries []snstypes.PublishBatchRequestEntry
	bodies  []string // the full message bodies
	markers []string // body markers
	meta    []string // subject and attribute markers
}

func makeSSEBatch(t *testing.T, prefix string, i int, withMeta bool) sseBatch {
	var b sseBatch
	for j := 0; j < 10; j++ {
		mk := sseMarker(t, prefix)
		// JSON, with characters a JSON writer escapes, around the marker.
		body := fmt.Sprintf(`{"order": %d, "ref": "%s", "note": "<b>fragile</b> & \"dry\""}`, i*10+j, mk)
		e := snstypes.PublishBatchRequestEntry{Id: aws.String(fmt.Sprintf("e%d", j)), Message: aws.String(body)}
		if withMeta && j == 0 {
			subj, attr := sseMarker(t, prefix+"SUBJ"), sseMarker(t, prefix+"ATTR")
			e.Subject = aws.String(subj)
			e.MessageAttributes = map[string]snstypes.MessageAttributeValue{
				"ref": {DataType: aws.String("String"), StringValue: aws.String(attr)},
			}
			b.meta = append(b.meta, subj, attr)
		}
		b.entries = append(b.entries, e)
		b.bodies = append(b.bodies, body)
		b.markers = append(b.markers, mk)
	}
	return b
}

// publishSSEBatches publishes batches with workers goroutines and returns
// the indexes of the batches that were not acknowledged in full (a failed
// call or a Failed entry). kill, when set, is called once after killAfter
// batches were acknowledged; failures after it are expected, before it
// they fail the test.
func publishSSEBatches(t *testing.T, c *sns.Client, topic string, batches []sseBatch, idx []int, kill func(), killAfter int) []int {
	work := make(chan int)
	var mu sync.Mutex
	var unacked []int
	var acked atomic.Int64
	var killed atomic.Bool
	var once sync.Once
	var wg sync.WaitGroup
	for w := 0; w < sseScanWorkers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				out, err := c.PublishBatch(ctx, &sns.PublishBatchInput{TopicArn: aws.String(topic), PublishBatchRequestEntries: batches[i].entries})
				cancel()
				if err == nil && len(out.Failed) > 0 {
					err = fmt.Errorf("entry %s failed: %s %s", aws.ToString(out.Failed[0].Id), aws.ToString(out.Failed[0].Code), aws.ToString(out.Failed[0].Message))
				}
				if err != nil {
					if !killed.Load() {
						t.Errorf("PublishBatch %d to %s: %v", i, topic, err)
					}
					mu.Lock()
					unacked = append(unacked, i)
					mu.Unlock()
					continue
				}
				if n := acked.Add(1); kill != nil && int(n) >= killAfter {
					once.Do(func() {
						killed.Store(true)
						kill()
					})
				}
			}
		}()
	}
	for _, i := range idx {
		work <- i
	}
	close(work)
	wg.Wait()
	return unacked
}

func sseScan(t *testing.T, postgres bool) {
	ctx := context.Background()
	began := time.Now()
	dataDir := filepath.Join(t.TempDir(), "data")
	rootKey := rootKeyFile(t)
	extra := []string{"--store", "pebble", "--root-key-file", rootKey}
	var dsn, pgDataDir string
	if postgres {
		dsn = databaseFor(t, dataDir) // skips without PostgreSQL
		extra = []string{"--store", dsn, "--root-key-file", rootKey}
		pgDataDir = postgresDataDir(t, dsn)
	}
	addr := freePort(t)
	p := start(t, addr, dataDir, extra...)
	requireKMS(t, p)
	kc := p.kmsClient(t, p.tlsURL())
	c := p.client(t, p.tlsURL())

	key, err := kc.CreateKey(ctx, &kms.CreateKeyInput{Description: aws.String("sse plaintext scan")})
	if err != nil {
		t.Fatal(err)
	}
	sseTopic, err := c.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("scan-sse"),
		Attributes: map[string]string{"KmsMasterKeyId": aws.ToString(key.KeyMetadata.Arn)}})
	if err != nil {
		t.Fatal(err)
	}
	plainTopic, err := c.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("scan-plain")})
	if err != nil {
		t.Fatal(err)
	}
	sink := newFailingSink(t)
	// One attempt, then 10 minutes in the retry queue: the messages stay
	// pending for the whole test.
	const retry = `{"healthyRetryPolicy": {"minDelayTarget": 600, "maxDelayTarget": 600, "numRetries": 5}}`
	for _, topic := range []*string{sseTopic.TopicArn, plainTopic.TopicArn} {
		sub, err := c.Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic, Protocol: aws.String("http"),
			Endpoint: aws.String(sink.srv.URL + "/hook"), ReturnSubscriptionArn: true,
			Attributes: map[string]string{"DeliveryPolicy": retry}})
		if err != nil {
			t.Fatal(err)
		}
		waitConfirmed(t, c, sub.SubscriptionArn)
	}
	// SSE publishing works before the load (KMSOptInRequired here means
	// the server has no Sealer).
	if _, err := c.Publish(ctx, &sns.PublishInput{TopicArn: sseTopic.TopicArn, Message: aws.String("probe")}); err != nil {
		t.Fatalf("Publish to the SSE topic: %v", err)
	}

	batches := make([]sseBatch, sseScanBatches)
	all := make([]int, sseScanBatches)
	for i := range batches {
		batches[i] = makeSSEBatch(t, "SSEBODY", i, i%sseScanMetaEvery == 0)
		all[i] = i
	}
	plain := make([]sseBatch, sseScanPlain)
	plainIdx := make([]int, sseScanPlain)
	for i := range plain {
		plain[i] = makeSSEBatch(t, "PLAINBODY", i, false)
		plainIdx[i] = i
	}

	// First half, SIGKILL in the middle of the stream, restart, the rest.
	t0 := time.Now()
	rest := publishSSEBatches(t, c, aws.ToString(sseTopic.TopicArn), batches, all, p.kill, sseScanKillAfter)
	t.Logf("%d batches acknowledged before and around the SIGKILL (%.1fs); %d to publish after the restart",
		sseScanBatches-len(rest), time.Since(t0).Seconds(), len(rest))
	if len(rest) == 0 {
		t.Fatal("the SIGKILL did not interrupt the stream")
	}
	p = start(t, addr, dataDir, extra...)
	c = p.client(t, p.tlsURL())
	t1 := time.Now()
	if left := publishSSEBatches(t, c, aws.ToString(sseTopic.TopicArn), batches, rest, nil, 0); len(left) > 0 {
		t.Fatalf("%d batches failed after the restart", len(left))
	}
	if left := publishSSEBatches(t, c, aws.ToString(plainTopic.TopicArn), plain, plainIdx, nil, 0); len(left) > 0 {
		t.Fatalf("%d batches to the topic without SSE failed", len(left))
	}
	t.Logf("after the restart: %d SSE and %d plain batches in %.1fs", len(rest), sseScanPlain, time.Since(t1).Seconds())
	fifoSSE, fifoPlain := sseScanFIFO(t, c, aws.ToString(key.KeyMetadata.Arn))

	// Delivery opened the sealed bodies (the subscriber saw plaintext and
	// answered 500): wait until it saw the last SSE batch's bodies and the
	// plain ones, so the scan covers the delivery path too.
	deadline := time.Now().Add(90 * time.Second)
	want := append(append([]string{}, batches[rest[len(rest)-1]].bodies...), plain[sseScanPlain-1].bodies...)
	for {
		missing := 0
		for _, b := range want {
			if !sink.saw(b) {
				missing++
			}
		}
		if missing == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the subscriber never saw %d of the last bodies published (%d notifications so far): delivery did not run", missing, sink.hits.Load())
		}
		time.Sleep(100 * time.Millisecond)
	}
	shown := 0
	for _, b := range batches {
		for _, body := range b.bodies {
			if sink.saw(body) {
				shown++
			}
		}
	}
	t.Logf("the failing subscriber was shown %d of %d SSE bodies (%d notifications, each answered 500)", shown, 10*sseScanBatches, sink.hits.Load())
	p.stop(t)

	if out, err := exec.Command(binary, "audit", "verify", "--data-dir", dataDir).CombinedOutput(); err != nil {
		t.Errorf("sealpost audit verify: %v\n%s", err, out)
	}
	auditLog := filepath.Join(audit.Dir(dataDir), audit.FileName)
	if st, err := os.Stat(auditLog); err != nil || st.Size() == 0 {
		t.Errorf("no audit log at %s (%v): the scan cannot cover it", auditLog, err)
	}
	if pgDataDir != "" {
		pgCheckpoint(t, dsn)
	}

	// The scanner: body markers (must be nowhere), metadata markers and
	// plain-topic markers (must be found).
	var secrets []secret
	kind := map[string]string{}
	add := func(k string, values []string) {
		for _, v := range values {
			label := fmt.Sprintf("%s %s", k, v)
			kind[label] = k
			secrets = append(secrets, secret{label, []byte(v)})
		}
	}
	nSubj := 0
	for _, b := range batches {
		add("sse body", b.markers)
		add("sse metadata", b.meta)
		nSubj += len(b.meta)
	}
	for _, b := range plain {
		add("plain body", b.markers)
	}
	add("sse body", fifoSSE.markers)
	for _, body := range fifoSSE.bodies {
		sum := sha256.Sum256([]byte(body))
		label := "sse digest " + hex.EncodeToString(sum[:8])
		kind[label] = "sse digest"
		secrets = append(secrets, secret{label, sum[:]})
	}
	for _, body := range fifoPlain.bodies {
		sum := sha256.Sum256([]byte(body))
		label := "plain digest " + hex.EncodeToString(sum[:8])
		kind[label] = "plain digest"
		secrets = append(secrets, secret{label, sum[:]})
	}
	sc, err := newScanner(secrets)
	if err != nil {
		t.Fatal(err)
	}
	type tally struct{ sseBody, sseDigest, meta, plain, plainDigest map[string]bool }
	count := func(hits []scanHit, where string) tally {
		t.Helper()
		tl := tally{map[string]bool{}, map[string]bool{}, map[string]bool{}, map[string]bool{}, map[string]bool{}}
		for _, h := range hits {
			switch kind[h.label] {
			case "sse body":
				if len(tl.sseBody) < 10 {
					t.Errorf("plaintext of an SSE message found: %s", h)
				}
				tl.sseBody[h.label] = true
			case "sse digest":
				if len(tl.sseDigest) < 10 {
					t.Errorf("SHA-256 of the plaintext of an SSE FIFO message found (content-based deduplication must use a keyed hash): %s", h)
				}
				tl.sseDigest[h.label] = true
			case "plain digest":
				tl.plainDigest[h.label] = true
			case "sse metadata":
				tl.meta[h.label] = true
			case "plain body":
				tl.plain[h.label] = true
			}
		}
		t.Logf("%s: %d SSE body markers and %d SSE FIFO body digests (want 0), %d of %d SSE subject/attribute markers, %d of %d plain-topic markers, %d of %d plain FIFO body digests",
			where, len(tl.sseBody), len(tl.sseDigest), len(tl.meta), nSubj, len(tl.plain), 10*sseScanPlain, len(tl.plainDigest), len(fifoPlain.bodies))
		return tl
	}
	var storeFiles tally
	logical := scanAtRest(t, sc, dataDir, p.logFile, pgDataDir, dsn, func(hits []scanHit, where string, store bool) {
		tl := count(hits, where)
		if store {
			storeFiles = tl
		}
	})
	lg := count(logical, "logical scan of the store")

	// Positive controls.
	if len(storeFiles.plain) == 0 {
		t.Error("positive control: no marker of the topic without SSE found in the store's files: the file scan does not see the store")
	}
	if len(lg.plain) != 10*sseScanPlain {
		t.Errorf("positive control: the logical scan found %d of %d markers of the topic without SSE", len(lg.plain), 10*sseScanPlain)
	}
	if len(lg.meta) != nSubj {
		t.Errorf("positive control: the logical scan found %d of %d subject/attribute markers of the SSE topic (metadata stays in clear)", len(lg.meta), nSubj)
	}
	if len(lg.plainDigest) != len(fifoPlain.bodies) {
		t.Errorf("positive control: the logical scan found %d of %d SHA-256 deduplication digests of the FIFO topic without SSE (the digest scan does not work)", len(lg.plainDigest), len(fifoPlain.bodies))
	}
	if len(storeFiles.meta) == 0 {
		t.Error("positive control: no subject/attribute marker of the SSE topic found in the store's files")
	}
	t.Logf("%s: %d messages to the SSE topic, SIGKILL and restart, scan: %.1fs in all", map[bool]string{false: "embedded", true: "postgres"}[postgres],
		10*sseScanBatches, time.Since(began).Seconds())
}

// sseScanFIFO publishes 100 messages with content-based deduplication to a
// FIFO topic with SSE under keyARN and 100 to one without, each with an
// sqs subscription (a queue ARN: the deliveries stay pending in the store),
// and returns their bodies. AWS's deduplication id is the SHA-256 of the
// body: for the SSE topic that digest must not be on disk (Sealpost keys
// it), for the other it is, and serves as the control of the digest scan.
func sseScanFIFO(t *testing.T, c *sns.Client, keyARN string) (sseFIFO, plainFIFO sseBatch) {
	ctx := context.Background()
	for _, kind := range []struct {
		name string
		sse  bool
		out  *sseBatch
	}{{"scan-sse.fifo", true, &sseFIFO}, {"scan-plain.fifo", false, &plainFIFO}} {
		attrs := map[string]string{"FifoTopic": "true", "ContentBasedDeduplication": "true"}
		if kind.sse {
			attrs["KmsMasterKeyId"] = keyARN
		}
		topic, err := c.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(kind.name), Attributes: attrs})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("sqs"),
			Endpoint: aws.String("arn:aws:sqs:us-east-1:000000000000:" + kind.name)}); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 10; i++ {
			b := makeSSEBatch(t, map[bool]string{true: "SSEFIFO", false: "PLAINFIFO"}[kind.sse], i, false)
			for j := range b.entries {
				b.entries[j].MessageGroupId = aws.String(fmt.Sprintf("g%d", j%3))
			}
			out, err := c.PublishBatch(ctx, &sns.PublishBatchInput{TopicArn: topic.TopicArn, PublishBatchRequestEntries: b.entries})
			if err != nil || len(out.Failed) > 0 || len(out.Successful) != len(b.entries) {
				t.Fatalf("PublishBatch to %s: %+v, %v", kind.name, out, err)
			}
			kind.out.bodies = append(kind.out.bodies, b.bodies...)
			kind.out.markers = append(kind.out.markers, b.markers...)
		}
	}
	return sseFIFO, plainFIFO
}

// pgCheckpoint makes PostgreSQL write its dirty pages to the heap files, so
// the file scan of its data directory sees what its WAL holds.
func pgCheckpoint(t *testing.T, dsn string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CHECKPOINT"); err != nil {
		t.Logf("CHECKPOINT: %v (the heap files may lag the WAL; both are scanned)", err)
	}
}
