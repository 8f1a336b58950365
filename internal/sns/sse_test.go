package sns_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/envelope"
	"github.com/sealpost/sealpost/internal/sns"
	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/store/pebblestore"
)

// testSealer seals with envelope.DataKey directly: the data-key id is the
// key identifier it was given and the key is derived from it, so a stored
// frame says which key sealed it and opens with the record's BodyAAD. It
// records every call and the plaintext slices it was handed.
type testSealer struct {
	mu     sync.Mutex
	calls  []sealCall
	given  [][]byte
	err    error
	frames int
	// discard keeps no record of calls (benchmarks).
	discard bool
}

type sealCall struct {
	c      sns.Caller
	region string
	keyID  string
	aad    envelope.BodyAAD
}

func (s *testSealer) Seal(ctx context.Context, c *sns.Caller, region, keyID string, aad envelope.BodyAAD, pt []byte) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.discard {
		s.calls = append(s.calls, sealCall{*c, region, keyID, aad})
		s.given = append(s.given, pt)
	}
	if s.err != nil {
		return nil, s.err
	}
	dk, err := testDataKey(keyID)
	if err != nil {
		return nil, err
	}
	s.frames++
	return dk.SealBody(pt, aad)
}

func (s *testSealer) setErr(err error) { s.mu.Lock(); s.err = err; s.mu.Unlock() }

func (s *testSealer) lastCall(t *testing.T) sealCall {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.calls) == 0 {
		t.Fatal("Seal was not called")
	}
	return s.calls[len(s.calls)-1]
}

func testDataKey(keyID string) (*envelope.DataKey, error) {
	k := sha256.Sum256([]byte("test data key for " + keyID))
	return envelope.NewDataKey([]byte(keyID), k[:])
}

// openStored opens a stored sealed message as delivery will: the AAD built
// from the record as stored. It returns the plaintext and the key id.
func openStored(t *testing.T, m store.Message) (string, string) {
	t.Helper()
	meta, err := sns.DecodeMeta(m.Meta)
	if err != nil {
		t.Fatal(err)
	}
	if !meta.Sealed {
		t.Fatalf("message %s is not sealed: %s", m.ID, m.Meta)
	}
	id, err := envelope.ParseBody(m.Body)
	if err != nil {
		t.Fatalf("stored body is not a sealed body: %v", err)
	}
	dk, err := testDataKey(string(id))
	if err != nil {
		t.Fatal(err)
	}
	pt, err := dk.OpenBody(m.Body, meta.BodyAAD(m.TopicARN, m.ID, m.CreatedAt))
	if err != nil {
		t.Fatalf("stored body does not open with the stored record's AAD: %v", err)
	}
	return string(pt), string(id)
}

const sseAcct = "000000000000"

func secure(acct string) sns.Caller {
	c := root(acct)
	c.Secure = true
	return c
}

func newSSEService(t testing.TB, sealer sns.Sealer) (*sns.Service, string) {
	dir := filepath.Join(t.TempDir(), "db")
	st, err := pebblestore.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	clk := &clock{t: time.Date(2026, 3, 1, 0, 0, 0, 123456789, time.UTC)}
	svc := sns.New(st, sns.Options{PublicURL: "https://x", Now: clk.Now, CacheTTL: time.Hour, Sealer: sealer,
		DedupKey: bytes.Repeat([]byte{7}, 32)})
	return svc, dir
}

// subscribeQueue gives topic an SQS subscription, so that its messages are
// stored (a message with no delivery is not).
func subscribeQueue(t *testing.T, svc *sns.Service, c sns.Caller, topic, name string) sns.SubscribeResult {
	t.Helper()
	res, err := svc.Subscribe(context.Background(), c, topic, "sqs", "arn:aws:sqs:us-east-1:"+c.Account+":"+name, nil)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func wantKind(t *testing.T, err, kind error) {
	t.Helper()
	if !errors.Is(err, kind) {
		t.Fatalf("want %v, got %v", kind, err)
	}
}

const testKeyID = "1234abcd-12ab-34cd-56ef-1234567890ab"

// TestKmsMasterKeyIdForms: every identifier form is stored and returned as
// set, through CreateTopic and SetTopicAttributes; "" turns SSE off; a value
// of the wrong shape is InvalidParameter. The key is not looked up.
func TestKmsMasterKeyIdForms(t *testing.T) {
	ctx := context.Background()
	svc, _ := newSSEService(t, &testSealer{})
	c := secure(sseAcct)
	forms := map[string]string{
		"key-id":            testKeyID,
		"key-arn":           "arn:aws:kms:us-east-1:000000000000:key/" + testKeyID,
		"alias-name":        "alias/MyAlias",
		"alias-arn":         "arn:aws:kms:us-east-1:000000000000:alias/MyAlias",
		"other-account-key": "arn:aws:kms:us-east-1:444455556666:key/" + testKeyID,
		"aws-managed":       "alias/aws/sns",
		"unknown-key":       "alias/does-not-exist", // not checked until publish, as in AWS
	}
	plain, err := svc.CreateTopic(ctx, c, "plain", nil, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	for name, v := range forms {
		topic, err := svc.CreateTopic(ctx, c, "t-"+name, map[string]string{"KmsMasterKeyId": v}, nil, "")
		if err != nil {
			t.Fatalf("%s: CreateTopic: %v", name, err)
		}
		a, err := svc.GetTopicAttributes(ctx, c, topic)
		if err != nil || a["KmsMasterKeyId"] != v {
			t.Fatalf("%s: after CreateTopic %q, %v", name, a["KmsMasterKeyId"], err)
		}
		// Same attributes: idempotent.
		if again, err := svc.CreateTopic(ctx, c, "t-"+name, map[string]string{"KmsMasterKeyId": v}, nil, ""); err != nil || again != topic {
			t.Fatalf("%s: repeated CreateTopic: %v", name, err)
		}
		if err := svc.SetTopicAttributes(ctx, c, plain, "KmsMasterKeyId", v); err != nil {
			t.Fatalf("%s: SetTopicAttributes: %v", name, err)
		}
		a, err = svc.GetTopicAttributes(ctx, c, plain)
		if err != nil || a["KmsMasterKeyId"] != v {
			t.Fatalf("%s: after SetTopicAttributes %q, %v", name, a["KmsMasterKeyId"], err)
		}
	}
	if err := svc.SetTopicAttributes(ctx, c, plain, "KmsMasterKeyId", ""); err != nil {
		t.Fatal(err)
	}
	if a, _ := svc.GetTopicAttributes(ctx, c, plain); a["KmsMasterKeyId"] != "" {
		t.Fatalf("KmsMasterKeyId after turning SSE off: %q", a["KmsMasterKeyId"])
	} else if _, ok := a["KmsMasterKeyId"]; ok {
		t.Fatal("KmsMasterKeyId still listed after turning SSE off")
	}
	for name, bad := range map[string]string{
		"too long":  "alias/" + strings.Repeat("a", 2043),
		"space":     "alias/my key",
		"non-ascii": "alias/clé",
		"control":   "alias/a\tb",
	} {
		err := svc.SetTopicAttributes(ctx, c, plain, "KmsMasterKeyId", bad)
		wantKind(t, err, sns.ErrInvalidParameter)
		if !strings.Contains(err.Error(), "KmsMasterKeyId") {
			t.Errorf("%s: message does not name the attribute: %v", name, err)
		}
		_, err = svc.CreateTopic(ctx, c, "bad", map[string]string{"KmsMasterKeyId": bad}, nil, "")
		wantKind(t, err, sns.ErrInvalidParameter)
	}
	// 2048 characters is the limit, not over it.
	if err := svc.SetTopicAttributes(ctx, c, plain, "KmsMasterKeyId", "alias/"+strings.Repeat("a", 2042)); err != nil {
		t.Fatalf("2048 characters: %v", err)
	}
}

// TestPublishSSESealsBody: the stored body of a message published to an SSE
// topic is a sealed frame, not the plaintext; Meta says Sealed and names the
// key; metadata stays in clear; the frame opens with the AAD built from the
// stored record (exact CreatedAt); the plaintext copy handed to the sealer
// is wiped; the data key is asked for as the publisher, in the topic's
// region.
func TestPublishSSESealsBody(t *testing.T) {
	ctx := context.Background()
	ts := &testSealer{}
	svc, _ := newSSEService(t, ts)
	c := secure(sseAcct)
	c.AccessKeyID, c.UserID = "AKIATEST", "AIDATEST"
	topic, err := svc.CreateTopic(ctx, c, "enc", map[string]string{"KmsMasterKeyId": "alias/MyAlias"}, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	subscribeQueue(t, svc, c, topic, "q")
	const body = "secret body marker 4f1c"
	out, err := svc.Publish(ctx, c, sns.PublishInput{TopicARN: topic, Message: body, Subject: "subject marker",
		MessageAttributes: map[string]sns.MessageAttribute{
			"s": {DataType: "String", StringValue: "attr marker"},
			"b": {DataType: "Binary", BinaryValue: []byte{1, 2, 3}},
		}})
	if err != nil {
		t.Fatal(err)
	}
	m, err := svc.Store().GetMessage(ctx, out.MessageID)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(m.Body, []byte(body)) {
		t.Fatal("the stored body holds the plaintext")
	}
	meta, _ := sns.DecodeMeta(m.Meta)
	wantKey := "arn:aws:kms:us-east-1:000000000000:alias/MyAlias"
	if !meta.Sealed || meta.KeyARN != wantKey || meta.Subject != "subject marker" || meta.Attributes["s"].Value != "attr marker" {
		t.Fatalf("meta %+v", meta)
	}
	pt, keyID := openStored(t, m)
	if pt != body || keyID != wantKey {
		t.Fatalf("opened %q under %q", pt, keyID)
	}
	call := ts.lastCall(t)
	if call.keyID != wantKey || call.aad.TopicARN != topic || call.aad.MessageID != out.MessageID {
		t.Fatalf("seal call %+v", call)
	}
	kc := call.c
	if kc.Account != sseAcct || call.region != "us-east-1" || kc.Principal != c.Principal || kc.AccessKeyID != "AKIATEST" ||
		kc.UserID != "AIDATEST" || !kc.Authenticated || !kc.Secure || kc.Service != "" {
		t.Fatalf("sealer caller %+v in %q", kc, call.region)
	}
	for _, g := range ts.given {
		if !bytes.Equal(g, make([]byte, len(g))) {
			t.Fatalf("the plaintext copy handed to Seal was not wiped: %q", g)
		}
	}
}

// TestPublishSSEKeyOfTopicOwner: a key id or alias name is the topic
// owner's, also when another account publishes; the data key is still
// asked for as the publisher.
func TestPublishSSEKeyOfTopicOwner(t *testing.T) {
	ctx := context.Background()
	ts := &testSealer{}
	svc, _ := newSSEService(t, ts)
	owner, other := secure(ownerAcct), secure(otherAcct)
	topic, err := svc.CreateTopic(ctx, owner, "enc", map[string]string{"KmsMasterKeyId": testKeyID}, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.AddPermission(ctx, owner, topic, "pub", []string{otherAcct}, []string{"Publish"}); err != nil {
		t.Fatal(err)
	}
	subscribeQueue(t, svc, owner, topic, "q")
	if _, err := svc.Publish(ctx, other, sns.PublishInput{TopicARN: topic, Message: "m"}); err != nil {
		t.Fatal(err)
	}
	call := ts.lastCall(t)
	if want := "arn:aws:kms:us-east-1:" + ownerAcct + ":key/" + testKeyID; call.keyID != want {
		t.Fatalf("key %q, want %q", call.keyID, want)
	}
	if call.c.Account != otherAcct || call.c.Principal != other.Principal {
		t.Fatalf("kms caller %+v", call.c)
	}
}

// TestPublishBatchSSE: every entry is sealed (each under its own AAD); an
// invalid entry is reported and not sealed; a KMS failure fails the whole
// batch and stores nothing.
func TestPublishBatchSSE(t *testing.T) {
	ctx := context.Background()
	ts := &testSealer{}
	svc, _ := newSSEService(t, ts)
	c := secure(sseAcct)
	topic, err := svc.CreateTopic(ctx, c, "enc", map[string]string{"KmsMasterKeyId": testKeyID}, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	sub, err := svc.Subscribe(ctx, c, topic, "sqs", "arn:aws:sqs:us-east-1:000000000000:q", nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := svc.PublishBatch(ctx, c, topic, []sns.BatchEntry{
		{ID: "a", PublishInput: sns.PublishInput{Message: "body a"}},
		{ID: "bad", PublishInput: sns.PublishInput{Message: ""}},
		{ID: "b", PublishInput: sns.PublishInput{Message: "body b", Subject: "s"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if ts.frames != 2 {
		t.Fatalf("%d bodies sealed, want 2", ts.frames)
	}
	for i, want := range []string{"body a", "", "body b"} {
		if want == "" {
			if res[i].Err == nil {
				t.Fatal("empty entry accepted")
			}
			continue
		}
		m, err := svc.Store().GetMessage(ctx, res[i].Out.MessageID)
		if err != nil {
			t.Fatal(err)
		}
		if pt, _ := openStored(t, m); pt != want {
			t.Fatalf("entry %d opened %q", i, pt)
		}
	}
	ts.setErr(&sns.KMSError{Kind: sns.ErrKMSDisabled, Code: "DisabledException", Message: "arn:aws:kms:us-east-1:000000000000:key/" + testKeyID + " is disabled."})
	_, err = svc.PublishBatch(ctx, c, topic, []sns.BatchEntry{
		{ID: "a", PublishInput: sns.PublishInput{Message: "body a"}},
		{ID: "b", PublishInput: sns.PublishInput{Message: "body b"}},
	})
	wantKind(t, err, sns.ErrKMSDisabled)
	if n, _ := svc.Store().PendingDeliveries(ctx, sub.ARN); n != 2 {
		t.Fatalf("%d deliveries pending after a refused batch, want the first batch's 2", n)
	}
}

// TestPublishSSEKMSErrors: each kms kind becomes its SNS kind, worded as
// AWS does, and nothing is stored; without a Sealer an SSE topic refuses
// messages with KMSOptInRequired (and plain topics still work).
func TestPublishSSEKMSErrors(t *testing.T) {
	ctx := context.Background()
	ts := &testSealer{}
	svc, _ := newSSEService(t, ts)
	c := secure(sseAcct)
	topic, err := svc.CreateTopic(ctx, c, "enc", map[string]string{"KmsMasterKeyId": testKeyID}, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	sub, err := svc.Subscribe(ctx, c, topic, "sqs", "arn:aws:sqs:us-east-1:000000000000:q", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		kind error
		code string
	}{
		{sns.ErrKMSDisabled, "DisabledException"},
		{sns.ErrKMSInvalidState, "KMSInvalidStateException"},
		{sns.ErrKMSNotFound, "NotFoundException"},
		{sns.ErrKMSAccessDenied, "AccessDeniedException"},
		{sns.ErrKMSThrottling, "LimitExceededException"},
		{sns.ErrKMSOptInRequired, "UnsupportedOperationException"},
	} {
		ts.setErr(&sns.KMSError{Kind: tc.kind, Code: tc.code, Message: "kms says no", RequestID: "kms-req"})
		_, err := svc.Publish(ctx, c, sns.PublishInput{TopicARN: topic, Message: "m"})
		wantKind(t, err, tc.kind)
		want := "kms says no (Service: AWSKMS; Status Code: 400; Error Code: " + tc.code + "; Request ID: kms-req; Proxy: null)"
		if err.Error() != want {
			t.Errorf("%v: message %q", tc.kind, err)
		}
		// Wrapped, as a sealer may return them.
		ts.setErr(fmt.Errorf("sealing: %w", &sns.KMSError{Kind: tc.kind, Code: tc.code}))
		_, err = svc.Publish(ctx, c, sns.PublishInput{TopicARN: topic, Message: "m"})
		wantKind(t, err, tc.kind)
		if !strings.HasPrefix(err.Error(), "null (Service: AWSKMS;") {
			t.Errorf("%v: message without KMS text %q", tc.kind, err)
		}
	}
	// Anything else is internal (a 500), not a client error.
	ts.setErr(errors.New("disk on fire"))
	_, err = svc.Publish(ctx, c, sns.PublishInput{TopicARN: topic, Message: "m"})
	var se *sns.Error
	if err == nil || errors.As(err, &se) {
		t.Fatalf("non-KMS failure: %v", err)
	}
	if n, _ := svc.Store().PendingDeliveries(ctx, sub.ARN); n != 0 {
		t.Fatalf("%d deliveries stored for refused publishes", n)
	}

	none, _ := newSSEService(t, nil)
	topic, err = none.CreateTopic(ctx, c, "enc", map[string]string{"KmsMasterKeyId": testKeyID}, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	_, err = none.Publish(ctx, c, sns.PublishInput{TopicARN: topic, Message: "m"})
	wantKind(t, err, sns.ErrKMSOptInRequired)
	plain, _ := none.CreateTopic(ctx, c, "plain", nil, nil, "")
	if _, err := none.Publish(ctx, c, sns.PublishInput{TopicARN: plain, Message: "m"}); err != nil {
		t.Fatal(err)
	}
}

// TestSSEScope: messages published before SSE stay clear, messages
// published under a key stay sealed under it after the key is changed or
// SSE is turned off, and new messages follow the topic's current setting.
func TestSSEScope(t *testing.T) {
	ctx := context.Background()
	svc, _ := newSSEService(t, &testSealer{})
	c := secure(sseAcct)
	topic, err := svc.CreateTopic(ctx, c, "t", nil, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	publish := func(body string) store.Message {
		t.Helper()
		out, err := svc.Publish(ctx, c, sns.PublishInput{TopicARN: topic, Message: body})
		if err != nil {
			t.Fatal(err)
		}
		m, err := svc.Store().GetMessage(ctx, out.MessageID)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	subscribeQueue(t, svc, c, topic, "q")
	keyA := "arn:aws:kms:us-east-1:000000000000:key/" + testKeyID
	keyB := "arn:aws:kms:us-east-1:000000000000:alias/other"
	before := publish("before")
	if err := svc.SetTopicAttributes(ctx, c, topic, "KmsMasterKeyId", keyA); err != nil {
		t.Fatal(err)
	}
	underA := publish("under A")
	if err := svc.SetTopicAttributes(ctx, c, topic, "KmsMasterKeyId", "alias/other"); err != nil {
		t.Fatal(err)
	}
	underB := publish("under B")
	if err := svc.SetTopicAttributes(ctx, c, topic, "KmsMasterKeyId", ""); err != nil {
		t.Fatal(err)
	}
	after := publish("after")

	for _, m := range []store.Message{before, after} {
		meta, _ := sns.DecodeMeta(m.Meta)
		if meta.Sealed || meta.KeyARN != "" || string(m.Body) != map[bool]string{true: "before", false: "after"}[m.ID == before.ID] {
			t.Fatalf("clear message: meta %+v body %q", meta, m.Body)
		}
	}
	for m, want := range map[*store.Message][2]string{&underA: {"under A", keyA}, &underB: {"under B", keyB}} {
		// Read again: stored sealed messages stay sealed after the change.
		again, err := svc.Store().GetMessage(ctx, m.ID)
		if err != nil {
			t.Fatal(err)
		}
		pt, key := openStored(t, again)
		meta, _ := sns.DecodeMeta(again.Meta)
		if pt != want[0] || key != want[1] || meta.KeyARN != want[1] {
			t.Fatalf("opened %q under %q (meta %q), want %q under %q", pt, key, meta.KeyARN, want[0], want[1])
		}
	}
}

// TestSSEBodyFilterOnPlaintext: body filter policies match the plaintext
// (in memory) before sealing.
func TestSSEBodyFilterOnPlaintext(t *testing.T) {
	ctx := context.Background()
	svc, _ := newSSEService(t, &testSealer{})
	c := secure(sseAcct)
	topic, _ := svc.CreateTopic(ctx, c, "t", map[string]string{"KmsMasterKeyId": testKeyID}, nil, "")
	match, err := svc.Subscribe(ctx, c, topic, "sqs", "arn:aws:sqs:us-east-1:000000000000:a",
		map[string]string{"FilterPolicy": `{"kind":["order"]}`, "FilterPolicyScope": "MessageBody"})
	if err != nil {
		t.Fatal(err)
	}
	miss, _ := svc.Subscribe(ctx, c, topic, "sqs", "arn:aws:sqs:us-east-1:000000000000:b",
		map[string]string{"FilterPolicy": `{"kind":["refund"]}`, "FilterPolicyScope": "MessageBody"})
	if _, err := svc.Publish(ctx, c, sns.PublishInput{TopicARN: topic, Message: `{"kind":"order"}`}); err != nil {
		t.Fatal(err)
	}
	a, _ := svc.Store().PendingDeliveries(ctx, match.ARN)
	b, _ := svc.Store().PendingDeliveries(ctx, miss.ARN)
	if a != 1 || b != 0 {
		t.Fatalf("deliveries: matching %d, other %d", a, b)
	}
}

// scanDir reports whether any file under dir holds needle.
func scanDir(t *testing.T, dir string, needle []byte) bool {
	t.Helper()
	found := false
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		found = found || bytes.Contains(b, needle)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

// TestFIFOSSEDedup: content-based deduplication on an SSE FIFO topic still
// recognises a duplicate, but stores a keyed hash (per topic) as the id:
// neither the plaintext nor its plain SHA-256 is in the data directory. The
// same scan finds both for a FIFO topic without SSE (the scan works).
func TestFIFOSSEDedup(t *testing.T) {
	ctx := context.Background()
	for _, sse := range []bool{true, false} {
		svc, dir := newSSEService(t, &testSealer{})
		c := secure(sseAcct)
		attrs := map[string]string{"FifoTopic": "true", "ContentBasedDeduplication": "true"}
		if sse {
			attrs["KmsMasterKeyId"] = testKeyID
		}
		topic, err := svc.CreateTopic(ctx, c, "t.fifo", attrs, nil, "")
		if err != nil {
			t.Fatal(err)
		}
		subscribeQueue(t, svc, c, topic, "q.fifo")
		body := "fifo body marker 9e2d " + map[bool]string{true: "sse", false: "plain"}[sse]
		sum := sha256.Sum256([]byte(body))
		digest := hex.EncodeToString(sum[:])
		first, err := svc.Publish(ctx, c, sns.PublishInput{TopicARN: topic, Message: body, MessageGroupID: "g"})
		if err != nil {
			t.Fatal(err)
		}
		dup, err := svc.Publish(ctx, c, sns.PublishInput{TopicARN: topic, Message: body, MessageGroupID: "g"})
		if err != nil || dup.MessageID != first.MessageID {
			t.Fatalf("sse=%v: duplicate got %s (first %s), %v", sse, dup.MessageID, first.MessageID, err)
		}
		other, _ := svc.Publish(ctx, c, sns.PublishInput{TopicARN: topic, Message: body + "!", MessageGroupID: "g"})
		if other.MessageID == first.MessageID {
			t.Fatalf("sse=%v: a different body was taken for a duplicate", sse)
		}
		m, _ := svc.Store().GetMessage(ctx, first.MessageID)
		meta, _ := sns.DecodeMeta(m.Meta)
		if (meta.DedupID == digest) == sse || len(meta.DedupID) != 64 {
			t.Fatalf("sse=%v: dedup id %q (plain digest %q)", sse, meta.DedupID, digest)
		}
		if got := scanDir(t, dir, []byte(digest)); got == sse {
			t.Fatalf("sse=%v: plain digest of the body in the data dir: %v", sse, got)
		}
		if got := scanDir(t, dir, []byte(body)); got == sse {
			t.Fatalf("sse=%v: plaintext in the data dir: %v", sse, got)
		}
	}
	// The keyed hash depends on the topic: the same body on two SSE topics
	// gets unrelated ids.
	svc, _ := newSSEService(t, &testSealer{})
	c := secure(sseAcct)
	var ids []string
	for _, name := range []string{"a.fifo", "b.fifo"} {
		topic, _ := svc.CreateTopic(ctx, c, name, map[string]string{"FifoTopic": "true", "ContentBasedDeduplication": "true", "KmsMasterKeyId": testKeyID}, nil, "")
		subscribeQueue(t, svc, c, topic, "q-"+name)
		out, err := svc.Publish(ctx, c, sns.PublishInput{TopicARN: topic, Message: "same", MessageGroupID: "g"})
		if err != nil {
			t.Fatal(err)
		}
		m, _ := svc.Store().GetMessage(ctx, out.MessageID)
		meta, _ := sns.DecodeMeta(m.Meta)
		ids = append(ids, meta.DedupID)
	}
	if ids[0] == ids[1] {
		t.Fatal("the same body got the same dedup id on two topics")
	}
}
