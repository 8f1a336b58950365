package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/envelope"
	"github.com/sealpost/sealpost/internal/kms"
	"github.com/sealpost/sealpost/internal/sns"
	"github.com/sealpost/sealpost/internal/sse"
	"github.com/sealpost/sealpost/internal/store/pebblestore"
)

// The bridge is what sns seals through.
var _ sns.Sealer = countingSealer{}

// TestSSEWithRealKMS publishes through the bridge, the real KMS and
// sse.Sealer: a customer key by id, alias, ARN and alias/aws/sns (created
// on first publish); the stored frame opens with sse.Open and the record's
// AAD; a disabled key refuses with KMSDisabled, a key pending deletion with
// KMSInvalidState, a missing alias with KMSNotFound.
func TestSSEWithRealKMS(t *testing.T) {
	ctx := context.Background()
	st, err := pebblestore.Open(filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	clk := func() time.Time { return now }
	kr, err := envelope.NewKeyring(bytes.Repeat([]byte{9}, 32))
	if err != nil {
		t.Fatal(err)
	}
	var sealer *sse.Sealer
	keys := kms.New(st, kr, kms.Options{Now: clk, Purge: func(id string) { sealer.Purge(id) }})
	sealer = sse.New(keys, sse.Options{Now: clk})
	svc := sns.New(st, sns.Options{PublicURL: "https://x", Now: clk, CacheTTL: time.Hour,
		Sealer: countingSealer{s: sealer, m: newMetrics()}, DedupKey: kr.DedupKey()})

	const acct = "000000000000"
	c := sns.Caller{Account: acct, Region: "us-east-1", Principal: "arn:aws:iam::" + acct + ":root", Signed: true, Authenticated: true, Secure: true}
	kc := kmsCallerIn(c, "us-east-1", "")
	key, err := keys.CreateKey(ctx, kc, kms.CreateKeyInput{Description: "sns"})
	if err != nil {
		t.Fatal(err)
	}
	if err := keys.CreateAlias(ctx, kc, "alias/orders", key.KeyID); err != nil {
		t.Fatal(err)
	}
	topicWith := func(name, keyID string) string {
		t.Helper()
		topic, err := svc.CreateTopic(ctx, c, name, map[string]string{"KmsMasterKeyId": keyID}, nil, "")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Subscribe(ctx, c, topic, "sqs", "arn:aws:sqs:us-east-1:"+acct+":q", nil); err != nil {
			t.Fatal(err)
		}
		return topic
	}
	for i, keyID := range []string{key.KeyID, "alias/orders", key.ARN, "alias/aws/sns"} {
		topic := topicWith(fmt.Sprintf("t%d", i), keyID)
		out, err := svc.Publish(ctx, c, sns.PublishInput{TopicARN: topic, Message: "real body", Subject: "s"})
		if err != nil {
			t.Fatalf("%s: %v", keyID, err)
		}
		m, err := svc.Store().GetMessage(ctx, out.MessageID)
		if err != nil {
			t.Fatal(err)
		}
		meta, _ := sns.DecodeMeta(m.Meta)
		if !meta.Sealed || bytes.Contains(m.Body, []byte("real body")) {
			t.Fatalf("%s: not sealed: %+v", keyID, meta)
		}
		pt, err := sealer.Open(ctx, acct, "us-east-1", m.Body, meta.BodyAAD(m.TopicARN, m.ID, m.CreatedAt))
		if err != nil || string(pt) != "real body" {
			t.Fatalf("%s: open %q %v", keyID, pt, err)
		}
	}
	wantKind := func(err, kind error) {
		t.Helper()
		if !errors.Is(err, kind) {
			t.Fatalf("want %v, got %v", kind, err)
		}
	}
	topic := topicWith("lifecycle", key.ARN)
	if err := keys.DisableKey(ctx, kc, key.KeyID); err != nil {
		t.Fatal(err)
	}
	_, err = svc.Publish(ctx, c, sns.PublishInput{TopicARN: topic, Message: "m"})
	wantKind(err, sns.ErrKMSDisabled)
	if !strings.Contains(err.Error(), "is disabled. (Service: AWSKMS; Status Code: 400; Error Code: DisabledException; Request ID: ") {
		t.Fatalf("message %q", err)
	}
	if err := keys.EnableKey(ctx, kc, key.KeyID); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Publish(ctx, c, sns.PublishInput{TopicARN: topic, Message: "m"}); err != nil {
		t.Fatal(err)
	}
	if _, err := keys.ScheduleKeyDeletion(ctx, kc, key.KeyID, 7); err != nil {
		t.Fatal(err)
	}
	_, err = svc.Publish(ctx, c, sns.PublishInput{TopicARN: topic, Message: "m"})
	wantKind(err, sns.ErrKMSInvalidState)
	_, err = svc.Publish(ctx, c, sns.PublishInput{TopicARN: topicWith("missing", "alias/nope"), Message: "m"})
	wantKind(err, sns.ErrKMSNotFound)
}

// TestKMSRefusal: each kms kind becomes its SNS kind with the KMS code AWS
// quotes, wrapped or not; anything else stays internal.
func TestKMSRefusal(t *testing.T) {
	for _, tc := range []struct {
		kms, sns error
		code     string
	}{
		{kms.ErrDisabled, sns.ErrKMSDisabled, "DisabledException"},
		{kms.ErrInvalidState, sns.ErrKMSInvalidState, "KMSInvalidStateException"},
		{kms.ErrNotFound, sns.ErrKMSNotFound, "NotFoundException"},
		{kms.ErrInvalidArn, sns.ErrKMSNotFound, "InvalidArnException"},
		{kms.ErrAccessDenied, sns.ErrKMSAccessDenied, "AccessDeniedException"},
		{kms.ErrLimitExceeded, sns.ErrKMSThrottling, "LimitExceededException"},
		{kms.ErrUnsupported, sns.ErrKMSOptInRequired, "UnsupportedOperationException"},
	} {
		for _, err := range []error{
			&kms.Error{Kind: tc.kms, Msg: "kms says no"},
			errors.Join(errors.New("sse: generating a data key"), &kms.Error{Kind: tc.kms, Msg: "kms says no"}),
		} {
			var ke *sns.KMSError
			if got := kmsRefusal(err, "arn:k", "req-1"); !errors.As(got, &ke) || ke.Kind != tc.sns || ke.Code != tc.code ||
				ke.Message != "kms says no" || ke.RequestID != "req-1" {
				t.Errorf("%v: %#v", tc.kms, got)
			}
		}
	}
	// A bare kind (the sse stub's answer) has no KMS text.
	var ke *sns.KMSError
	if got := kmsRefusal(kms.ErrUnsupported, "arn:k", "r"); !errors.As(got, &ke) || ke.Kind != sns.ErrKMSOptInRequired || !strings.Contains(ke.Message, "not available") {
		t.Errorf("bare unsupported: %#v", got)
	}
	other := errors.New("disk on fire")
	if got := kmsRefusal(other, "arn:k", "r"); got != other {
		t.Errorf("internal error changed: %v", got)
	}
}
