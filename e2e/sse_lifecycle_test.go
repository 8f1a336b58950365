package e2e

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
)

// keyAdmin is the key-policy statement that lets account A's root manage a
// key without any use of it (no GenerateDataKey, no Decrypt).
const keyAdmin = `{"Sid": "admin", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
   "Action": ["kms:DescribeKey", "kms:GetKeyPolicy", "kms:PutKeyPolicy", "kms:EnableKey", "kms:DisableKey",
              "kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion"], "Resource": "*"}`

// quiet waits d and fails t if the subscriber got any notification request
// meanwhile (nothing may be delivered, in any form, while the key cannot
// be used).
func (s *sseSub) quiet(t *testing.T, d time.Duration, why string) {
	t.Helper()
	h := s.hitCount()
	time.Sleep(d)
	if n := s.hitCount() - h; n != 0 {
		t.Fatalf("%s: the subscriber got %d notification requests in %s", why, n, d)
	}
}

// pend publishes msg to topic while the subscriber fails, and waits until
// Sealpost tried it once: the message is then stored and pending retry.
func (s *sseSub) pend(t *testing.T, u sseUser, topic, msg string) {
	t.Helper()
	s.setFailing(true)
	h := s.hitCount()
	u.publish(t, topic, msg)
	s.wait(t, 20*time.Second, "first attempt of "+msg, func() bool { return s.hitCount() > h })
}

// TestSSEKeyLifecycle walks the key of an SSE topic through its life with
// aws-sdk-go-v2 over HTTPS, with a subscriber that retries every second:
// DisableKey → Publish answers KMSDisabled and a message stored before is
// not delivered in any form (the subscriber gets no request) → EnableKey →
// it arrives, publishing works again; RotateKeyOnDemand → a message stored
// before the rotation is delivered, new ones too; ScheduleKeyDeletion →
// KMSInvalidState, delivery holds; CancelKeyDeletion + EnableKey → the held
// message arrives. A key whose policy gives kms:GenerateDataKey only to
// carol refuses dave (whose identity policy allows kms:*) with
// KMSAccessDenied, and delivers carol's message (the policy allows
// sns.amazonaws.com kms:Decrypt, the README's recipe). A key policy with
// kms:EncryptionContext:aws:sns:topicArn naming topic A: topic A works and
// delivers, topic B under the same key gets KMSAccessDenied. A topic under
// an alias that does not exist gets KMSNotFound. (The deletion date
// passing is internal/server TestSSEKeyDeletedGivesUpPending: it needs the
// server's KMS clock.)
func TestSSEKeyLifecycle(t *testing.T) {
	ctx := context.Background()
	creds := filepath.Join(t.TempDir(), "credentials.json")
	writeCredentials(t, creds, sseAccounts)
	// --cache-ttl 1s: on PostgreSQL, DisableKey, ScheduleKeyDeletion and
	// PutKeyPolicy wait one cache TTL (every node drops the key's data keys).
	p := start(t, freePort(t), filepath.Join(t.TempDir(), "data"), "--credentials", creds, "--cache-ttl", "1s")
	logOnFailure(t, p)
	a := sseClients(p, p.tlsURL(), "AKIASSEROOTA", "sse-root-a")
	carol := sseClients(p, p.tlsURL(), "AKIASSECAROL", "sse-carol")
	dave := sseClients(p, p.tlsURL(), "AKIASSEDAVE", "sse-dave")
	sub := newSSESub(t, p)
	retry := map[string]string{"DeliveryPolicy": fastRetry}

	t.Run("disable enable rotate delete", func(t *testing.T) {
		k, err := a.kms.CreateKey(ctx, &kms.CreateKeyInput{Description: aws.String("lifecycle")})
		if err != nil {
			t.Fatal(err)
		}
		id := k.KeyMetadata.KeyId
		topic := sseTopic(t, a, sub, "sse-lifecycle", aws.ToString(k.KeyMetadata.Arn), retry)
		a.publish(t, topic, "m0 enabled")
		sub.waitMsg(t, "m0 enabled")

		sub.pend(t, a, topic, "m1 stored before DisableKey")
		if _, err := a.kms.DisableKey(ctx, &kms.DisableKeyInput{KeyId: id}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(300 * time.Millisecond) // an attempt already past Open may still land
		h := sub.hitCount()
		sub.setFailing(false)
		wantRefused(t, "Publish with the key disabled", a.publishErr(topic, "m2 refused"), "KMSDisabled", 400)
		sub.quiet(t, 3*time.Second, "key disabled")
		if sub.hitCount() != h || sub.count("m1 stored before DisableKey") != 0 {
			t.Fatal("delivered while the key was disabled")
		}
		if _, err := a.kms.EnableKey(ctx, &kms.EnableKeyInput{KeyId: id}); err != nil {
			t.Fatal(err)
		}
		sub.waitMsg(t, "m1 stored before DisableKey")
		a.publish(t, topic, "m3 enabled again")
		sub.waitMsg(t, "m3 enabled again")

		sub.pend(t, a, topic, "m4 stored before rotation")
		if _, err := a.kms.RotateKeyOnDemand(ctx, &kms.RotateKeyOnDemandInput{KeyId: id}); err != nil {
			t.Fatal(err)
		}
		sub.setFailing(false)
		sub.waitMsg(t, "m4 stored before rotation")
		a.publish(t, topic, "m5 after rotation")
		sub.waitMsg(t, "m5 after rotation")

		sub.pend(t, a, topic, "m6 stored before ScheduleKeyDeletion")
		if _, err := a.kms.ScheduleKeyDeletion(ctx, &kms.ScheduleKeyDeletionInput{KeyId: id, PendingWindowInDays: aws.Int32(7)}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(300 * time.Millisecond)
		sub.setFailing(false)
		wantRefused(t, "Publish with the key pending deletion", a.publishErr(topic, "m7 refused"), "KMSInvalidState", 400)
		sub.quiet(t, 2500*time.Millisecond, "key pending deletion")
		if _, err := a.kms.CancelKeyDeletion(ctx, &kms.CancelKeyDeletionInput{KeyId: id}); err != nil {
			t.Fatal(err)
		}
		if _, err := a.kms.EnableKey(ctx, &kms.EnableKeyInput{KeyId: id}); err != nil {
			t.Fatal(err)
		}
		sub.waitMsg(t, "m6 stored before ScheduleKeyDeletion")
		for _, m := range []string{"m2 refused", "m7 refused"} {
			if sub.count(m) != 0 {
				t.Fatalf("%q, refused at Publish, was delivered", m)
			}
		}
	})

	t.Run("key policy without GenerateDataKey for the publisher", func(t *testing.T) {
		pol := `{"Version": "2012-10-17", "Statement": [` + keyAdmin + `,
  {"Sid": "carol publishes", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:user/carol"},
   "Action": ["kms:GenerateDataKey", "kms:Decrypt"], "Resource": "*"},
  {"Sid": "SNS delivers", "Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"}, "Action": "kms:Decrypt", "Resource": "*"}]}`
		k, err := a.kms.CreateKey(ctx, &kms.CreateKeyInput{Policy: aws.String(pol)})
		if err != nil {
			t.Fatal(err)
		}
		topic := sseTopic(t, a, sub, "sse-carol-only", aws.ToString(k.KeyMetadata.Arn), retry)
		wantRefused(t, "Publish by dave (identity policy kms:*, key policy silent)", dave.publishErr(topic, "dave's"), "KMSAccessDenied", 400)
		wantRefused(t, "Publish by A's root (key policy: admin only)", a.publishErr(topic, "root's"), "KMSAccessDenied", 400)
		carol.publish(t, topic, "carol's")
		sub.waitMsg(t, "carol's")
	})

	t.Run("encryption-context condition", func(t *testing.T) {
		topicA := "arn:aws:sns:us-east-1:" + sseAccountA + ":sse-ctx-a"
		pol := `{"Version": "2012-10-17", "Statement": [` + keyAdmin + `,
  {"Sid": "topic A only", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
   "Action": ["kms:GenerateDataKey", "kms:Decrypt"], "Resource": "*",
   "Condition": {"StringEquals": {"kms:EncryptionContext:aws:sns:topicArn": "` + topicA + `"}}}]}`
		k, err := a.kms.CreateKey(ctx, &kms.CreateKeyInput{Policy: aws.String(pol)})
		if err != nil {
			t.Fatal(err)
		}
		if got := sseTopic(t, a, sub, "sse-ctx-a", aws.ToString(k.KeyMetadata.KeyId), retry); got != topicA {
			t.Fatalf("topic ARN %s, want %s", got, topicA)
		}
		topicB := sseTopic(t, a, sub, "sse-ctx-b", aws.ToString(k.KeyMetadata.KeyId), retry)
		a.publish(t, topicA, "to topic A")
		sub.waitMsg(t, "to topic A")
		wantRefused(t, "Publish to topic B under a key whose context condition names topic A", a.publishErr(topicB, "to topic B"), "KMSAccessDenied", 400)
	})

	t.Run("key not found", func(t *testing.T) {
		topic := sseTopic(t, a, nil, "sse-no-such-key", "alias/sse-no-such-key", nil)
		wantRefused(t, "Publish under an alias that does not exist", a.publishErr(topic, "nowhere"), "KMSNotFound", 400)
		topic = sseTopic(t, a, nil, "sse-no-such-key-id", fmt.Sprintf("%08d-0000-4000-8000-000000000000", 1), nil)
		wantRefused(t, "Publish under a key id that does not exist", a.publishErr(topic, "nowhere"), "KMSNotFound", 400)
	})
	sub.checkGood(t)
}
