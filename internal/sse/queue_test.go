package sse

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/envelope"
	"github.com/sealpost/sealpost/internal/kms"
	"github.com/sealpost/sealpost/internal/pgtest"
	"github.com/sealpost/sealpost/internal/policy"
	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/store/pebblestore"
	"github.com/sealpost/sealpost/internal/store/pgstore"
)

const (
	queueARN = "arn:aws:sqs:us-east-1:111122223333:jobs"
	dlqARN   = "arn:aws:sqs:us-east-1:111122223333:jobs-dlq"
)

func queueAAD(id string) envelope.BodyAAD {
	return envelope.BodyAAD{TopicARN: queueARN, MessageID: id, Timestamp: 1772366400000}
}

func (e *env) sealQ(c kms.Caller, keyID string, reuse time.Duration, id string, body []byte) ([]byte, string, error) {
	return e.sealer.SealQueue(context.Background(), c, queueARN, keyID, reuse, queueAAD(id), body)
}

func (e *env) openQ(c kms.Caller, managed bool, id string, frame []byte) ([]byte, error) {
	return e.sealer.OpenQueue(context.Background(), c, queueARN, managed, frame, queueAAD(id))
}

func (e *env) policyKey(t *testing.T, pol string) kms.KeyMetadata {
	t.Helper()
	md, err := e.kms.CreateKey(context.Background(), publisher(acctA, "admin"), kms.CreateKeyInput{Policy: pol, BypassPolicyLockoutSafetyCheck: true})
	if err != nil {
		t.Fatal(err)
	}
	return md
}

// TestQueueRoundTrip: a queue body sealed under a key by id, alias name
// (the queue owner's), ARN, alias/aws/sqs and SSE-SQS ("") opens for the
// receiver; the frame holds no plaintext; KMS was called with the queue's
// encryption context through SQS (audit), SSE-SQS as the SQS service.
func TestQueueRoundTrip(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, envOpts{})
	if err := e.kms.CreateAlias(ctx, rootOf(acctA), "alias/jobs", e.key.KeyID); err != nil {
		t.Fatal(err)
	}
	body := []byte("queue body 4711")
	// A sender of account B uses the owner's key (by alias name) when the
	// key policy lets B in.
	for _, keyID := range []string{e.key.KeyID, "alias/jobs", e.key.ARN, "alias/aws/sqs", ""} {
		f, keyARN, err := e.sealQ(publisher(acctA, ""), keyID, time.Minute, "m-"+keyID, body)
		if err != nil {
			t.Fatalf("%q: seal: %v", keyID, err)
		}
		if bytes.Contains(f, body) {
			t.Fatalf("%q: plaintext in the frame", keyID)
		}
		switch keyID {
		case "alias/aws/sqs", "":
			if keyARN == e.key.ARN || keyARN == "" {
				t.Fatalf("%q: sealed under %q", keyID, keyARN)
			}
		default:
			if keyARN != e.key.ARN {
				t.Fatalf("%q: sealed under %q, want %s", keyID, keyARN, e.key.ARN)
			}
		}
		pt, err := e.openQ(publisher(acctA, "consumer"), keyID == "", "m-"+keyID, f)
		if err != nil || !bytes.Equal(pt, body) {
			t.Fatalf("%q: open: %q %v", keyID, pt, err)
		}
		// Bound to its message id and queue.
		if _, err := e.openQ(publisher(acctA, "consumer"), keyID == "", "other", f); !errors.Is(err, kms.ErrInvalidCiphertext) {
			t.Fatalf("%q: opened with another message id: %v", keyID, err)
		}
	}
	var sqsCtx, managed, viaSNS int
	for _, r := range e.records(t) {
		if r.EventName != "GenerateDataKey" && r.EventName != "Decrypt" {
			continue
		}
		ec, _ := r.RequestParameters["encryptionContext"].(map[string]any)
		if ec[QueueContextKey] == queueARN && len(ec) == 1 {
			sqsCtx++
		}
		if r.UserIdentity.Type == "AWSService" && r.UserIdentity.InvokedBy == QueueServicePrincipal && r.RecipientAccountID == kms.OwnedAccount {
			managed++
		}
		if r.UserIdentity.InvokedBy == ServicePrincipal {
			viaSNS++
		}
	}
	// GenerateDataKey + Decrypt for: the key (its id is qualified to its
	// ARN, so id and ARN share one data key), alias/jobs, aws/sqs, SSE-SQS.
	if sqsCtx != 8 || managed != 2 || viaSNS != 0 {
		t.Fatalf("audit: %d calls with the queue context (want 8), %d as the SQS service (want 2), %d as SNS", sqsCtx, managed, viaSNS)
	}
}

// TestQueueViaService: kms:ViaService is sqs.<region>.amazonaws.com for
// queues (and sns.<region>.amazonaws.com for topics), and the encryption
// context key is aws:sqs:arn: a key policy conditioned on them lets a
// user seal and open for the queue, and not for a topic.
func TestQueueViaService(t *testing.T) {
	e := newEnv(t, envOpts{noAudit: true, noKey: true})
	k := e.policyKey(t, `{"Version":"2012-10-17","Statement":[
	 {"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::`+acctA+`:user/admin"},"Action":"kms:*","Resource":"*"},
	 {"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::`+acctA+`:user/app"},"Action":["kms:GenerateDataKey","kms:Decrypt"],"Resource":"*",
	  "Condition":{"StringEquals":{"kms:ViaService":"sqs.us-east-1.amazonaws.com","kms:EncryptionContext:aws:sqs:arn":"`+queueARN+`"}}}]}`)
	app := publisher(acctA, "app")
	f, _, err := e.sealQ(app, k.KeyID, 0, "m1", []byte("x"))
	if err != nil {
		t.Fatalf("queue seal through SQS: %v", err)
	}
	if _, err := e.openQ(app, false, "m1", f); err != nil {
		t.Fatalf("queue open through SQS: %v", err)
	}
	_, err = e.sealer.Seal(context.Background(), app, k.KeyID, aadOf("t1"), []byte("x"))
	wantKind(t, "topic seal with a queue-only policy", err, kms.ErrAccessDenied)
	// Another queue's context does not match.
	_, _, err = e.sealer.SealQueue(context.Background(), app, dlqARN, k.KeyID, 0, queueAAD("m2"), []byte("x"))
	wantKind(t, "seal for another queue", err, kms.ErrAccessDenied)
}

// TestQueueReuse: data keys are reused per (queue, key, sender) for the
// period given per call (KmsDataKeyReusePeriodSeconds), not the Sealer's
// default: 2 senders make 2 GenerateDataKey calls; a 10-minute period
// outlives the 5-minute default; a shorter period given later applies at
// once; opened keys are reused per receiver.
func TestQueueReuse(t *testing.T) {
	e := newEnv(t, envOpts{noAudit: true})
	alice, bob := publisher(acctA, "alice"), publisher(acctA, "bob")
	seal := func(c kms.Caller, reuse time.Duration, id string) []byte {
		t.Helper()
		f, _, err := e.sealQ(c, e.key.KeyID, reuse, id, []byte("b-"+id))
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	f1 := seal(alice, 10*time.Minute, "1")
	seal(alice, 10*time.Minute, "2")
	seal(bob, 10*time.Minute, "3")
	if g := e.n.gen.Load(); g != 2 {
		t.Fatalf("%d GenerateDataKey for 2 senders, want 2", g)
	}
	e.clk.Add(6 * time.Minute) // past the Sealer's 5-minute default
	seal(alice, 10*time.Minute, "4")
	if g := e.n.gen.Load(); g != 2 {
		t.Fatalf("the queue's 10-minute period was not used: %d calls", g)
	}
	seal(alice, time.Minute, "5") // the queue's period changed to 60 s
	if g := e.n.gen.Load(); g != 3 {
		t.Fatalf("a shorter period did not apply at once: %d calls", g)
	}
	e.clk.Add(5 * time.Minute) // 11 minutes: alice's and bob's first keys expired
	seal(bob, 10*time.Minute, "6")
	if g := e.n.gen.Load(); g != 4 {
		t.Fatalf("after the period: %d calls, want 4", g)
	}
	// Opening: one Decrypt per receiver, reused.
	for _, c := range []kms.Caller{alice, alice, bob, bob} {
		if _, err := e.openQ(c, false, "1", f1); err != nil {
			t.Fatal(err)
		}
	}
	if d := e.n.dec.Load(); d != 2 {
		t.Fatalf("%d Decrypt for 2 receivers, want 2", d)
	}
}

// TestQueueReceiverAuthorization: the consumer needs kms:Decrypt (as in
// AWS): a receiver the key policy does not allow is refused, also after
// another receiver's open is cached; the producer needs only
// kms:GenerateDataKey.
func TestQueueReceiverAuthorization(t *testing.T) {
	e := newEnv(t, envOpts{noAudit: true, noKey: true})
	k := e.policyKey(t, `{"Version":"2012-10-17","Statement":[
	 {"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::`+acctA+`:user/admin"},"Action":"kms:*","Resource":"*"},
	 {"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::`+acctA+`:user/producer"},"Action":"kms:GenerateDataKey","Resource":"*"},
	 {"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::`+acctA+`:user/consumer"},"Action":"kms:Decrypt","Resource":"*"}]}`)
	f, _, err := e.sealQ(publisher(acctA, "producer"), k.KeyID, 0, "m1", []byte("x"))
	if err != nil {
		t.Fatalf("producer with GenerateDataKey only: %v", err)
	}
	_, _, err = e.sealQ(publisher(acctA, "consumer"), k.KeyID, 0, "m2", []byte("x"))
	wantKind(t, "consumer sending", err, kms.ErrAccessDenied)
	if _, err := e.openQ(publisher(acctA, "consumer"), false, "m1", f); err != nil {
		t.Fatalf("consumer: %v", err)
	}
	for _, who := range []string{"producer", "stranger"} {
		_, err := e.openQ(publisher(acctA, who), false, "m1", f)
		wantKind(t, who+" receiving", err, kms.ErrAccessDenied)
	}
	// Receiving as "SSE-SQS" does not bypass the key: the blob is not the
	// SQS-owned key's, and the key policy does not name the SQS service.
	_, err = e.openQ(publisher(acctA, "stranger"), true, "m1", f)
	wantKind(t, "managed open of a customer-key frame", err, kms.ErrAccessDenied)
}

// TestQueuePurge: DisableKey purges queue data keys at once (seal and
// open refuse with DisabledException); EnableKey restores; PutKeyPolicy
// takes effect on the next call; without Purge wired, the revision check
// does the same.
func TestQueuePurge(t *testing.T) {
	for _, noPurge := range []bool{false, true} {
		ctx := context.Background()
		e := newEnv(t, envOpts{noAudit: true, noPurge: noPurge})
		c := publisher(acctA, "")
		f, _, err := e.sealQ(c, e.key.KeyID, time.Hour, "m1", []byte("x"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.openQ(c, false, "m1", f); err != nil {
			t.Fatal(err)
		}
		if err := e.kms.DisableKey(ctx, c, e.key.KeyID); err != nil {
			t.Fatal(err)
		}
		_, _, err = e.sealQ(c, e.key.KeyID, time.Hour, "m2", []byte("x"))
		wantKind(t, "seal after DisableKey", err, kms.ErrDisabled)
		_, err = e.openQ(c, false, "m1", f)
		wantKind(t, "open after DisableKey", err, kms.ErrDisabled)
		if err := e.kms.EnableKey(ctx, c, e.key.KeyID); err != nil {
			t.Fatal(err)
		}
		if _, err := e.openQ(c, false, "m1", f); err != nil {
			t.Fatalf("after EnableKey: %v", err)
		}
		deny := `{"Version":"2012-10-17","Statement":[
		 {"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + acctA + `:root"},"Action":"kms:*","Resource":"*"},
		 {"Effect":"Deny","Principal":{"AWS":"*"},"Action":"kms:Decrypt","Resource":"*","Condition":{"StringEquals":{"kms:ViaService":"sqs.us-east-1.amazonaws.com"}}}]}`
		if err := e.kms.PutKeyPolicy(ctx, c, e.key.KeyID, "default", deny, false); err != nil {
			t.Fatal(err)
		}
		_, err = e.openQ(c, false, "m1", f)
		wantKind(t, "open after PutKeyPolicy", err, kms.ErrAccessDenied)
	}
}

// TestQueueServiceSender: SNS delivering into an encrypted queue seals as
// the service principal sns.amazonaws.com: a key policy naming it (with
// aws:SourceArn = the topic) allows; another topic, a policy naming only
// the account, and the AWS-managed aws/sqs key refuse, as in AWS.
func TestQueueServiceSender(t *testing.T) {
	e := newEnv(t, envOpts{noAudit: true})
	snsCaller := func(topic string) kms.Caller {
		return kms.Caller{Service: ServicePrincipal, Account: acctA, Region: region, SourceARN: topic, SourceAccount: acctA}
	}
	// The default key policy (account root) does not name SNS.
	_, _, err := e.sealQ(snsCaller(topicARN), e.key.KeyID, 0, "m1", []byte("x"))
	wantKind(t, "SNS with the default key policy", err, kms.ErrAccessDenied)
	// aws/sqs: its policy allows principals of the account only.
	if _, _, err := e.sealQ(publisher(acctA, ""), "alias/aws/sqs", 0, "m0", []byte("x")); err != nil {
		t.Fatal(err)
	}
	_, _, err = e.sealQ(snsCaller(topicARN), "alias/aws/sqs", 0, "m1", []byte("x"))
	wantKind(t, "SNS with aws/sqs", err, kms.ErrAccessDenied)

	k := e.policyKey(t, `{"Version":"2012-10-17","Statement":[
	 {"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::`+acctA+`:user/admin"},"Action":"kms:*","Resource":"*"},
	 {"Effect":"Allow","Principal":{"Service":"sns.amazonaws.com"},"Action":["kms:GenerateDataKey*","kms:Decrypt"],"Resource":"*",
	  "Condition":{"ArnEquals":{"aws:SourceArn":"`+topicARN+`"},"StringEquals":{"aws:SourceAccount":"`+acctA+`"}}},
	 {"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::`+acctA+`:user/consumer"},"Action":"kms:Decrypt","Resource":"*"}]}`)
	f, keyARN, err := e.sealQ(snsCaller(topicARN), k.KeyID, 0, "m2", []byte("from sns"))
	if err != nil || keyARN != k.ARN {
		t.Fatalf("SNS with a key policy naming it: %q %v", keyARN, err)
	}
	if pt, err := e.openQ(publisher(acctA, "consumer"), false, "m2", f); err != nil || string(pt) != "from sns" {
		t.Fatalf("consumer: %q %v", pt, err)
	}
	_, _, err = e.sealQ(snsCaller("arn:aws:sns:us-east-1:111122223333:other"), k.KeyID, 0, "m3", []byte("x"))
	wantKind(t, "SNS for another topic", err, kms.ErrAccessDenied)
}

// TestQueueDeadLetter: a frame moved to a dead-letter queue opens with the
// context of the queue it was sealed for, and not with the DLQ's.
func TestQueueDeadLetter(t *testing.T) {
	e := newEnv(t, envOpts{noAudit: true})
	c := publisher(acctA, "")
	f, _, err := e.sealQ(c, e.key.KeyID, 0, "m1", []byte("dead"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if pt, err := e.sealer.OpenQueue(ctx, c, queueARN, false, f, queueAAD("m1")); err != nil || string(pt) != "dead" {
		t.Fatalf("%q %v", pt, err)
	}
	_, err = e.sealer.OpenQueue(ctx, c, dlqARN, false, f, queueAAD("m1"))
	wantKind(t, "open with the DLQ's context", err, kms.ErrInvalidCiphertext)
}

// TestManagedKeyHidden: the SQS-owned key of SSE-SQS exists once per
// region, in the reserved account; no customer lists it, names it
// (DescribeKey, GenerateDataKey by ARN), or decrypts its blobs; senders
// and receivers need no key permissions.
func TestManagedKeyHidden(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, envOpts{noAudit: true, noKey: true})
	// A user whose identity policy allows nothing of KMS.
	nobody := publisher(acctA, "nobody")
	nobody.IdentityPolicy = denyAllKMS(t)
	f, keyARN, err := e.sealQ(nobody, "", 0, "m1", []byte("managed"))
	if err != nil {
		t.Fatalf("SSE-SQS sender without key permissions: %v", err)
	}
	if pt, err := e.openQ(nobody, true, "m1", f); err != nil || string(pt) != "managed" {
		t.Fatalf("SSE-SQS receiver without key permissions: %q %v", pt, err)
	}
	// One key per region.
	arn2, err := e.kms.ServiceKey(ctx, QueueServicePrincipal, region)
	if err != nil || arn2 != keyARN {
		t.Fatalf("ServiceKey: %q %v, want %q", arn2, err, keyARN)
	}
	west, err := e.kms.ServiceKey(ctx, QueueServicePrincipal, "eu-west-1")
	if err != nil || west == keyARN {
		t.Fatalf("eu-west-1: %q %v", west, err)
	}
	for _, acct := range []string{acctA, acctB} {
		root := rootOf(acct)
		keys, _, err := e.kms.ListKeys(ctx, root, kms.Page{})
		if err != nil || len(keys) != 0 {
			t.Fatalf("%s ListKeys: %v %v", acct, keys, err)
		}
		aliases, _, err := e.kms.ListAliases(ctx, root, "", kms.Page{})
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range aliases {
			if a.TargetKeyID != "" {
				t.Fatalf("%s ListAliases shows %+v", acct, a)
			}
		}
		_, err = e.kms.DescribeKey(ctx, root, keyARN, nil)
		wantKind(t, acct+" DescribeKey of the owned key", err, kms.ErrNotFound)
		_, err = e.kms.GenerateDataKey(ctx, root, kms.DataKeyInput{KeyID: keyARN, KeySpec: "AES_256"})
		wantKind(t, acct+" GenerateDataKey under the owned key", err, kms.ErrNotFound)
		_, err = e.kms.DescribeKey(ctx, root, "arn:aws:kms:us-east-1:"+kms.OwnedAccount+":alias/sealpost/sqs-owned", nil)
		wantKind(t, acct+" DescribeKey of the owned alias", err, kms.ErrNotFound)
		blob, _, _, perr := parseFrame(f)
		if perr != nil {
			t.Fatal(perr)
		}
		_, err = e.kms.Decrypt(ctx, root, kms.DecryptInput{CiphertextBlob: blob, Context: map[string]string{QueueContextKey: queueARN}})
		wantKind(t, acct+" Decrypt of an owned-key blob", err, kms.ErrInvalidCiphertext)
		// SNS's DecryptForService acting for the account does not reach it either.
		_, err = e.kms.DecryptForService(ctx, kms.Caller{Service: ServicePrincipal, Account: acct, Region: region},
			kms.DecryptInput{CiphertextBlob: blob, Context: map[string]string{QueueContextKey: queueARN}})
		wantKind(t, acct+" SNS Decrypt of an owned-key blob", err, kms.ErrInvalidCiphertext)
	}
}

// TestQueueManagedPurge: DisableKey of a customer key leaves SSE-SQS
// queues alone, and the owned key's data keys are shared by all senders.
func TestQueueManagedShared(t *testing.T) {
	e := newEnv(t, envOpts{noAudit: true})
	for _, who := range []string{"a", "b", "c"} {
		if _, _, err := e.sealQ(publisher(acctA, who), "", 0, "m-"+who, []byte("x")); err != nil {
			t.Fatal(err)
		}
	}
	if g := e.n.gen.Load(); g != 1 {
		t.Fatalf("%d GenerateDataKey for 3 SSE-SQS senders, want 1", g)
	}
	if err := e.kms.DisableKey(context.Background(), rootOf(acctA), e.key.KeyID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.sealQ(publisher(acctA, "a"), "", 0, "m-d", []byte("x")); err != nil {
		t.Fatalf("SSE-SQS after a customer key was disabled: %v", err)
	}
}

// TestAWSManagedSQSKeyOnce: concurrent first uses of alias/aws/sqs and of
// the SQS-owned key, on two nodes over one store, create one key each, on
// both drivers.
func TestAWSManagedSQSKeyOnce(t *testing.T) {
	for _, driver := range []string{"pebble", "postgres"} {
		t.Run(driver, func(t *testing.T) {
			ctx := context.Background()
			var stores [2]store.KeyStore
			if driver == "pebble" {
				ps, err := pebblestore.Open(t.TempDir())
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { ps.Close() })
				stores = [2]store.KeyStore{ps, ps}
			} else {
				dsn := pgtest.NewDatabase(t)
				for i := range stores {
					s, err := pgstore.Open(ctx, dsn)
					if err != nil {
						t.Fatal(err)
					}
					t.Cleanup(func() { s.Close() })
					stores[i] = s
				}
			}
			var nodes [2]*env
			for i := range nodes {
				nodes[i] = newEnv(t, envOpts{st: stores[i], noAudit: true, noKey: true, realTime: true})
			}
			const n = 16
			var wg sync.WaitGroup
			errs := make(chan error, 2*n)
			arns := make(chan string, 2*n)
			for i := range n {
				wg.Add(2)
				e := nodes[i%2]
				go func() {
					defer wg.Done()
					_, k, err := e.sealQ(publisher(acctA, ""), "alias/aws/sqs", 0, "m", []byte("x"))
					errs <- err
					arns <- "managed " + k
				}()
				go func() {
					defer wg.Done()
					_, k, err := e.sealQ(publisher(acctA, ""), "", 0, "m", []byte("x"))
					errs <- err
					arns <- "owned " + k
				}()
			}
			wg.Wait()
			close(errs)
			close(arns)
			for err := range errs {
				if err != nil {
					t.Fatal(err)
				}
			}
			seen := map[string]bool{}
			for a := range arns {
				seen[a] = true
			}
			if len(seen) != 2 {
				t.Fatalf("keys used: %v (want one aws/sqs key and one owned key)", seen)
			}
			keys, _, err := nodes[0].kms.ListKeys(ctx, rootOf(acctA), kms.Page{})
			if err != nil || len(keys) != 1 {
				t.Fatalf("account keys after the race: %v %v (want 1: aws/sqs)", keys, err)
			}
		})
	}
}

// denyAllKMS is an identity policy that allows SQS only (no kms:*).
func denyAllKMS(t *testing.T) *policy.Policy {
	t.Helper()
	p, err := policy.ParseWith([]byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sqs:*","Resource":"*"}]}`),
		policy.Options{Kind: policy.IdentityPolicy})
	if err != nil {
		t.Fatal(err)
	}
	return p
}
