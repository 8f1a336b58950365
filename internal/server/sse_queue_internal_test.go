package server

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/config"
	"github.com/sealpost/sealpost/internal/envelope"
	"github.com/sealpost/sealpost/internal/kms"
	"github.com/sealpost/sealpost/internal/policy"
	"github.com/sealpost/sealpost/internal/sqs"
)

// builtServer is a server built by New (not started) with extra flags,
// closed at test end.
func builtServer(t *testing.T, args ...string) *Server {
	t.Helper()
	cfg, err := config.Parse(append([]string{"--listen", "127.0.0.1:0", "--data-dir", t.TempDir()}, args...), func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.audit.Close(); s.st.Close() })
	return s
}

// TestQueueKMSRefusal: every KMS refusal becomes the *sqs.Error of its
// SQS kind, quoting the KMS error as AWS does; anything else is returned
// unchanged (internal).
func TestQueueKMSRefusal(t *testing.T) {
	for _, tc := range []struct {
		kms, sqs error
		code     string
	}{
		{kms.ErrDisabled, sqs.ErrKMSDisabled, "DisabledException"},
		{kms.ErrInvalidState, sqs.ErrKMSInvalidState, "KMSInvalidStateException"},
		{kms.ErrInvalidKeyUsage, sqs.ErrKMSInvalidKeyUsage, "InvalidKeyUsageException"},
		{kms.ErrNotFound, sqs.ErrKMSNotFound, "NotFoundException"},
		{kms.ErrInvalidArn, sqs.ErrKMSNotFound, "InvalidArnException"},
		{kms.ErrAccessDenied, sqs.ErrKMSAccessDenied, "AccessDeniedException"},
		{kms.ErrInvalidGrantToken, sqs.ErrKMSAccessDenied, "InvalidGrantTokenException"},
		{kms.ErrLimitExceeded, sqs.ErrKMSThrottled, "LimitExceededException"},
		{kms.ErrUnsupported, sqs.ErrKMSOptInRequired, "UnsupportedOperationException"},
	} {
		var se *sqs.Error
		got := queueKMSRefusal(&kms.Error{Kind: tc.kms, Msg: "kms says no"}, "alias/k", "req-1")
		want := "kms says no (Service: AWSKMS; Status Code: 400; Error Code: " + tc.code + "; Request ID: req-1; Proxy: null)"
		if !errors.As(got, &se) || se.Kind != tc.sqs || se.Message != want {
			t.Errorf("%v: %#v", tc.kms, got)
		}
	}
	var se *sqs.Error
	if got := queueKMSRefusal(kms.ErrUnsupported, "alias/k", "r"); !errors.As(got, &se) || !strings.Contains(se.Message, "not available") {
		t.Errorf("bare unsupported: %#v", got)
	}
	other := errors.New("disk on fire")
	if got := queueKMSRefusal(other, "", "r"); got != other {
		t.Errorf("internal error changed: %v", got)
	}
	ic := &kms.Error{Kind: kms.ErrInvalidCiphertext, Msg: "bad frame"}
	if got := queueKMSRefusal(ic, "", "r"); got != error(ic) {
		t.Errorf("invalid ciphertext changed: %v", got)
	}
}

// TestQueueSealerWiring: the server's queue bridge seals and opens through
// the real KMS and Sealer, as the sender and the receiver: SSE-KMS and
// SSE-SQS round trips (SSE-SQS for a user without any KMS permission),
// metrics with the queue label, a receiver without kms:Decrypt refused
// with KmsAccessDenied, DisableKey answered KmsDisabled on the next send.
func TestQueueSealerWiring(t *testing.T) {
	ctx := context.Background()
	s := builtServer(t)
	const acct = "000000000000"
	root := kms.Caller{Account: acct, Region: "us-east-1", Principal: "arn:aws:iam::" + acct + ":root", Authenticated: true, Secure: true}
	key, err := s.kms.CreateKey(ctx, root, kms.CreateKeyInput{Policy: `{"Version":"2012-10-17","Statement":[
	 {"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + acct + `:root"},"Action":"kms:*","Resource":"*"},
	 {"Effect":"Deny","Principal":{"AWS":"arn:aws:iam::` + acct + `:user/nodecrypt"},"Action":"kms:Decrypt","Resource":"*"}]}`})
	if err != nil {
		t.Fatal(err)
	}
	q := queueSealer{s: s.sealer, m: s.met}
	queue := "arn:aws:sqs:us-east-1:" + acct + ":wired"
	aad := envelope.BodyAAD{TopicARN: queue, MessageID: "m1", Timestamp: time.Now().UnixMilli()}
	user := func(name string, pol *policy.Policy) *sqs.Caller {
		return &sqs.Caller{Account: acct, Region: "us-east-1", Principal: "arn:aws:iam::" + acct + ":user/" + name,
			Authenticated: true, Signed: true, Secure: true, IdentityPolicy: pol, RequestID: "req-" + name}
	}
	owner := &sqs.Caller{Account: acct, Region: "us-east-1", Principal: root.Principal, Authenticated: true, Signed: true, Secure: true}
	frame, keyARN, err := q.Seal(ctx, owner, queue, key.KeyID, time.Minute, aad, []byte("wired-queue-body"))
	if err != nil || keyARN != key.ARN {
		t.Fatalf("seal: %q %v", keyARN, err)
	}
	if pt, err := q.Open(ctx, owner, queue, false, frame, aad); err != nil || string(pt) != "wired-queue-body" {
		t.Fatalf("open: %q %v", pt, err)
	}
	var se *sqs.Error
	_, err = q.Open(ctx, user("nodecrypt", nil), queue, false, frame, aad)
	if !errors.As(err, &se) || se.Kind != sqs.ErrKMSAccessDenied || !strings.Contains(se.Message, "Error Code: AccessDeniedException; Request ID: req-nodecrypt") {
		t.Fatalf("receiver without Decrypt: %#v", err)
	}
	sqsOnly, err := policy.ParseWith([]byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sqs:*","Resource":"*"}]}`), policy.Options{Kind: policy.IdentityPolicy})
	if err != nil {
		t.Fatal(err)
	}
	mframe, mkey, err := q.Seal(ctx, user("app", sqsOnly), queue, "", 0, aad, []byte("managed body"))
	if err != nil || !strings.Contains(mkey, ":"+kms.OwnedAccount+":key/") {
		t.Fatalf("SSE-SQS seal: %q %v", mkey, err)
	}
	if pt, err := q.Open(ctx, user("app", sqsOnly), queue, true, mframe, aad); err != nil || string(pt) != "managed body" {
		t.Fatalf("SSE-SQS open: %q %v", pt, err)
	}
	page := scrape(t, s.met)
	for _, want := range []string{
		`sealpost_kms_calls_total{key="` + key.ARN + `",op="GenerateDataKey",outcome="ok",queue="` + queue + `",topic=""} 1`,
		`sealpost_kms_calls_total{key="` + key.KeyID + `",op="Decrypt",outcome="AccessDeniedException",queue="` + queue + `",topic=""} 1`,
		`sealpost_kms_calls_total{key="` + mkey + `",op="GenerateDataKey",outcome="ok",queue="` + queue + `",topic=""} 1`,
		`sealpost_sse_messages_total{direction="sealed",queue="` + queue + `",topic=""} 2`,
		`sealpost_sse_messages_total{direction="opened",queue="` + queue + `",topic=""} 2`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("missing %s in\n%s", want, page)
		}
	}
	if err := s.kms.DisableKey(ctx, root, key.KeyID); err != nil {
		t.Fatal(err)
	}
	_, _, err = q.Seal(ctx, owner, queue, key.KeyID, time.Minute, aad, []byte("x"))
	if !errors.As(err, &se) || se.Kind != sqs.ErrKMSDisabled || !strings.Contains(se.Message, "Error Code: DisabledException") {
		t.Fatalf("seal after DisableKey: %#v", err)
	}
	_, err = q.Open(ctx, owner, queue, false, frame, aad)
	if !errors.As(err, &se) || se.Kind != sqs.ErrKMSDisabled {
		t.Fatalf("open after DisableKey: %#v", err)
	}
	// The owned key stays invisible to the account.
	keys, _, err := s.kms.ListKeys(ctx, root, kms.Page{})
	if err != nil || len(keys) != 1 || keys[0].KeyARN != key.ARN {
		t.Fatalf("ListKeys: %+v %v", keys, err)
	}
}
