package sse

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/envelope"
	"github.com/sealpost/sealpost/internal/kms"
)

func TestRoundTrip(t *testing.T) {
	e := newEnv(t, envOpts{})
	body := []byte("BODY-MARKER hello, encrypted world")
	f := e.seal(t, rootOf(acctA), "m1", body)
	if bytes.Contains(f, body) || bytes.Contains(f, []byte("BODY-MARKER")) {
		t.Fatal("the frame holds the plaintext")
	}
	if f[0] != frameVersion {
		t.Fatalf("frame version %#x", f[0])
	}
	if got := e.open(t, "m1", f); !bytes.Equal(got, body) {
		t.Fatalf("opened %q", got)
	}
	// An empty body seals and opens too.
	f = e.seal(t, rootOf(acctA), "m2", nil)
	if got := e.open(t, "m2", f); len(got) != 0 {
		t.Fatalf("opened %q", got)
	}
}

// TestReuse: 10,000 messages of one publisher to one topic within the
// reuse period make one GenerateDataKey; opening them all makes one
// Decrypt, by the SNS service principal (audit log and hook agree).
func TestReuse(t *testing.T) {
	e := newEnv(t, envOpts{})
	frames := make([][]byte, 10000)
	for i := range frames {
		frames[i] = e.seal(t, rootOf(acctA), fmt.Sprint("m", i), []byte(fmt.Sprint("body ", i)))
		if i%1000 == 0 {
			e.clk.Add(25 * time.Second) // 10 steps: 4m10s in all
		}
	}
	for i, f := range frames {
		if got := e.open(t, fmt.Sprint("m", i), f); string(got) != fmt.Sprint("body ", i) {
			t.Fatalf("message %d opened as %q", i, got)
		}
	}
	if g, d := e.n.gen.Load(), e.n.dec.Load(); g != 1 || d != 1 {
		t.Fatalf("hook: %d GenerateDataKey, %d Decrypt; want 1 and 1", g, d)
	}
	recs := e.records(t)
	if g, d := countEvents(recs, "GenerateDataKey"), countEvents(recs, "Decrypt"); g != 1 || d != 1 {
		t.Fatalf("audit: %d GenerateDataKey, %d Decrypt; want 1 and 1", g, d)
	}
	for _, r := range recs {
		switch r.EventName {
		case "GenerateDataKey":
			if r.UserIdentity.ARN != rootOf(acctA).Principal || r.ErrorCode != "" {
				t.Fatalf("GenerateDataKey record %+v", r)
			}
			ec, _ := r.RequestParameters["encryptionContext"].(map[string]any)
			if ec[ContextKey] != topicARN {
				t.Fatalf("GenerateDataKey context %v", r.RequestParameters)
			}
		case "Decrypt":
			if r.UserIdentity.Type != "AWSService" || r.UserIdentity.InvokedBy != ServicePrincipal || r.ErrorCode != "" {
				t.Fatalf("Decrypt record %+v", r)
			}
		}
	}
}

func TestReusePeriod(t *testing.T) {
	e := newEnv(t, envOpts{sse: Options{ReusePeriod: time.Minute}})
	f1 := e.seal(t, rootOf(acctA), "m1", []byte("a"))
	e.open(t, "m1", f1)
	e.clk.Add(59 * time.Second)
	f2 := e.seal(t, rootOf(acctA), "m2", []byte("b"))
	e.open(t, "m1", f1)
	if g, d := e.n.gen.Load(), e.n.dec.Load(); g != 1 || d != 1 {
		t.Fatalf("within the period: %d GenerateDataKey, %d Decrypt", g, d)
	}
	e.clk.Add(time.Second)
	f3 := e.seal(t, rootOf(acctA), "m3", []byte("c"))
	e.open(t, "m1", f1)
	if g, d := e.n.gen.Load(), e.n.dec.Load(); g != 2 || d != 2 {
		t.Fatalf("after the period: %d GenerateDataKey, %d Decrypt; want 2 and 2", g, d)
	}
	if bytes.Equal(f2[:3+int(f2[1])<<8|int(f2[2])], f3[:3+int(f3[1])<<8|int(f3[2])]) {
		t.Fatal("the same data key after the reuse period")
	}
	e.open(t, "m3", f3) // new blob: one more Decrypt
	if d := e.n.dec.Load(); d != 3 {
		t.Fatalf("%d Decrypt", d)
	}
}

func TestMaxMessages(t *testing.T) {
	e := newEnv(t, envOpts{sse: Options{MaxMessages: 3}})
	var frames [][]byte
	for i := 0; i < 7; i++ {
		frames = append(frames, e.seal(t, rootOf(acctA), fmt.Sprint("m", i), []byte("x")))
	}
	if g := e.n.gen.Load(); g != 3 {
		t.Fatalf("7 messages with MaxMessages 3: %d GenerateDataKey, want 3", g)
	}
	for i := 0; i < 3; i++ { // three opens of the first data key, then a fourth
		e.open(t, "m0", frames[0])
	}
	if d := e.n.dec.Load(); d != 1 {
		t.Fatalf("%d Decrypt", d)
	}
	e.open(t, "m0", frames[0])
	if d := e.n.dec.Load(); d != 2 {
		t.Fatalf("open past MaxMessages: %d Decrypt, want 2", d)
	}
}

func TestPublishersAndTopics(t *testing.T) {
	e := newEnv(t, envOpts{})
	ctx := context.Background()
	e.seal(t, rootOf(acctA), "m1", []byte("a"))
	e.seal(t, publisher(acctA, "alice"), "m2", []byte("b"))
	e.seal(t, publisher(acctA, "alice"), "m3", []byte("c"))
	if g := e.n.gen.Load(); g != 2 {
		t.Fatalf("two publishers: %d GenerateDataKey, want 2", g)
	}
	other := aadOf("m4")
	other.TopicARN = "arn:aws:sns:us-east-1:111122223333:other"
	f, err := e.sealer.Seal(ctx, rootOf(acctA), e.key.KeyID, other, []byte("d"))
	if err != nil {
		t.Fatal(err)
	}
	if g := e.n.gen.Load(); g != 3 {
		t.Fatalf("another topic: %d GenerateDataKey, want 3", g)
	}
	// The same key named by ARN is another cache entry (the topic's
	// KmsMasterKeyId as given).
	e.sealer.Seal(ctx, rootOf(acctA), e.key.ARN, aadOf("m5"), []byte("e"))
	if g := e.n.gen.Load(); g != 4 {
		t.Fatalf("key by ARN: %d GenerateDataKey, want 4", g)
	}
	// A frame of topic "other" opens only as "other".
	if _, err := e.sealer.Open(ctx, acctA, region, f, aadOf("m4")); !errors.Is(err, kms.ErrInvalidCiphertext) {
		t.Fatalf("opened as another topic: %v", err)
	}
	if pt, err := e.sealer.Open(ctx, acctA, region, f, other); err != nil || string(pt) != "d" {
		t.Fatalf("Open: %q %v", pt, err)
	}
	// SNS opens only for the topic's own account.
	if _, err := e.sealer.Open(ctx, acctB, region, f, other); !errors.Is(err, kms.ErrAccessDenied) {
		t.Fatalf("opened for another account: %v", err)
	}
}

// TestTamper: any changed byte of the frame, and any changed metadata
// field, fails with InvalidCiphertext and no plaintext.
func TestTamper(t *testing.T) {
	e := newEnv(t, envOpts{noAudit: true})
	ctx := context.Background()
	body := []byte("tamper test body")
	f := e.seal(t, rootOf(acctA), "m1", body)
	e.open(t, "m1", f)
	for i := range f {
		g := bytes.Clone(f)
		g[i] ^= 0x01
		pt, err := e.sealer.Open(ctx, acctA, region, g, aadOf("m1"))
		if err == nil || pt != nil {
			t.Fatalf("byte %d changed: opened %q", i, pt)
		}
		// A changed key id inside the blob names no key: still an
		// invalid ciphertext, never another kind of success.
		if !errors.Is(err, kms.ErrInvalidCiphertext) {
			t.Fatalf("byte %d changed: %v", i, err)
		}
	}
	for _, n := range []int{0, 1, 2, 3, 50, len(f) - 1} {
		if _, err := e.sealer.Open(ctx, acctA, region, f[:n], aadOf("m1")); !errors.Is(err, kms.ErrInvalidCiphertext) {
			t.Fatalf("truncated to %d: %v", n, err)
		}
	}
	if _, err := e.sealer.Open(ctx, acctA, region, append(bytes.Clone(f), 0), aadOf("m1")); !errors.Is(err, kms.ErrInvalidCiphertext) {
		t.Fatalf("extended: %v", err)
	}
	changes := map[string]func(a *envelope.BodyAAD){
		"topic":      func(a *envelope.BodyAAD) { a.TopicARN = "arn:aws:sns:us-east-1:111122223333:orders2" },
		"message id": func(a *envelope.BodyAAD) { a.MessageID = "m2" },
		"timestamp":  func(a *envelope.BodyAAD) { a.Timestamp++ },
		"subject":    func(a *envelope.BodyAAD) { a.Subject = "other" },
		"attributes": func(a *envelope.BodyAAD) {
			a.AttributesDigest = envelope.AttributesDigest(map[string]envelope.MessageAttribute{"k": {DataType: "String", StringValue: "w"}})
		},
		"group": func(a *envelope.BodyAAD) { a.MessageGroupID = "g" },
		"dedup": func(a *envelope.BodyAAD) { a.DeduplicationID = "d" },
	}
	for name, change := range changes {
		a := aadOf("m1")
		change(&a)
		pt, err := e.sealer.Open(ctx, acctA, region, f, a)
		if !errors.Is(err, kms.ErrInvalidCiphertext) || pt != nil {
			t.Fatalf("%s changed: %q %v", name, pt, err)
		}
	}
	if got := e.open(t, "m1", f); !bytes.Equal(got, body) {
		t.Fatal("the original no longer opens")
	}
}

// TestKeyLifecycle: a disabled, re-policied or deleted key stops sealing
// and opening at once although data keys were cached: through the Purge
// hook, and through the revision check alone.
func TestKeyLifecycle(t *testing.T) {
	for _, noPurge := range []bool{false, true} {
		t.Run(fmt.Sprint("revisionOnly=", noPurge), func(t *testing.T) {
			e := newEnv(t, envOpts{noPurge: noPurge, noAudit: true})
			ctx := context.Background()
			f := e.seal(t, rootOf(acctA), "m1", []byte("x"))
			e.open(t, "m1", f)
			if err := e.kms.DisableKey(ctx, rootOf(acctA), e.key.KeyID); err != nil {
				t.Fatal(err)
			}
			_, err := e.sealer.Seal(ctx, rootOf(acctA), e.key.KeyID, aadOf("m2"), []byte("y"))
			wantKind(t, "Seal after DisableKey", err, kms.ErrDisabled)
			pt, err := e.sealer.Open(ctx, acctA, region, f, aadOf("m1"))
			wantKind(t, "Open after DisableKey", err, kms.ErrDisabled)
			if pt != nil {
				t.Fatal("plaintext with a disabled key")
			}
			if err := e.kms.EnableKey(ctx, rootOf(acctA), e.key.KeyID); err != nil {
				t.Fatal(err)
			}
			e.seal(t, rootOf(acctA), "m2", []byte("y"))
			e.open(t, "m1", f)

			// A key policy that no longer allows the publisher.
			deny := `{"Version":"2012-10-17","Statement":[
			 {"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + acctA + `:root"},"Action":"kms:*","Resource":"*"},
			 {"Effect":"Deny","Principal":{"AWS":"*"},"Action":"kms:GenerateDataKey","Resource":"*"},
			 {"Effect":"Deny","Principal":{"Service":"sns.amazonaws.com"},"Action":"kms:Decrypt","Resource":"*"}]}`
			if err := e.kms.PutKeyPolicy(ctx, rootOf(acctA), e.key.KeyID, "default", deny, false); err != nil {
				t.Fatal(err)
			}
			_, err = e.sealer.Seal(ctx, rootOf(acctA), e.key.KeyID, aadOf("m3"), []byte("z"))
			wantKind(t, "Seal after PutKeyPolicy", err, kms.ErrAccessDenied)
			_, err = e.sealer.Open(ctx, acctA, region, f, aadOf("m1"))
			wantKind(t, "Open after PutKeyPolicy", err, kms.ErrAccessDenied)

			open := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + acctA + `:root"},"Action":"kms:*","Resource":"*"}]}`
			if err := e.kms.PutKeyPolicy(ctx, rootOf(acctA), e.key.KeyID, "default", open, false); err != nil {
				t.Fatal(err)
			}
			e.seal(t, rootOf(acctA), "m3", []byte("z"))
			e.open(t, "m1", f)
			if _, err := e.kms.ScheduleKeyDeletion(ctx, rootOf(acctA), e.key.KeyID, 7); err != nil {
				t.Fatal(err)
			}
			_, err = e.sealer.Seal(ctx, rootOf(acctA), e.key.KeyID, aadOf("m4"), []byte("z"))
			wantKind(t, "Seal pending deletion", err, kms.ErrInvalidState)
			e.clk.Add(8 * 24 * time.Hour)
			if _, _, err := e.kms.Sweep(ctx); err != nil {
				t.Fatal(err)
			}
			_, err = e.sealer.Seal(ctx, rootOf(acctA), e.key.KeyID, aadOf("m5"), []byte("z"))
			wantKind(t, "Seal after deletion", err, kms.ErrNotFound)
			_, err = e.sealer.Open(ctx, acctA, region, f, aadOf("m1"))
			wantKind(t, "Open after deletion", err, kms.ErrInvalidCiphertext)
		})
	}
}

// TestRotation: frames sealed before a rotation still open; new data keys
// come from the new material.
func TestRotation(t *testing.T) {
	e := newEnv(t, envOpts{noAudit: true})
	ctx := context.Background()
	f := e.seal(t, rootOf(acctA), "m1", []byte("before"))
	if _, err := e.kms.RotateKeyOnDemand(ctx, rootOf(acctA), e.key.KeyID); err != nil {
		t.Fatal(err)
	}
	g := e.seal(t, rootOf(acctA), "m2", []byte("after"))
	if string(e.open(t, "m1", f)) != "before" || string(e.open(t, "m2", g)) != "after" {
		t.Fatal("round trip across rotation")
	}
	if n := e.n.gen.Load(); n != 2 {
		t.Fatalf("%d GenerateDataKey: a rotation changes the key's revision", n)
	}
}

// TestAuthorization: the Open rule (package doc) for the default key
// policy, a key of another account, a policy naming only an IAM user, and
// one naming sns.amazonaws.com.
func TestAuthorization(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, envOpts{noAudit: true, noKey: true})
	create := func(c kms.Caller, pol string) kms.KeyMetadata {
		t.Helper()
		md, err := e.kms.CreateKey(ctx, c, kms.CreateKeyInput{Policy: pol})
		if err != nil {
			t.Fatal(err)
		}
		return md
	}
	try := func(keyID string, c kms.Caller) (sealErr, openErr error) {
		f, err := e.sealer.Seal(ctx, c, keyID, aadOf("m"), []byte("x"))
		if err != nil {
			return err, nil
		}
		_, err = e.sealer.Open(ctx, acctA, region, f, aadOf("m"))
		return nil, err
	}
	rootB := `{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + acctB + `:root"},"Action":"kms:*","Resource":"*"}`
	// Key of account B; topic of A.
	kb := create(rootOf(acctB), `{"Version":"2012-10-17","Statement":[`+rootB+`]}`)
	if s, _ := try(kb.ARN, rootOf(acctA)); !errors.Is(s, kms.ErrAccessDenied) {
		t.Fatalf("cross-account key without B's consent: %v", s)
	}
	allowA := `{"Version":"2012-10-17","Statement":[` + rootB + `,
	 {"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + acctA + `:root"},"Action":["kms:GenerateDataKey","kms:Decrypt"],"Resource":"*"}]}`
	if err := e.kms.PutKeyPolicy(ctx, rootOf(acctB), kb.KeyID, "default", allowA, false); err != nil {
		t.Fatal(err)
	}
	if s, o := try(kb.ARN, rootOf(acctA)); s != nil || o != nil {
		t.Fatalf("cross-account key with B's consent: %v %v", s, o)
	}
	// A policy naming only user alice: she publishes, SNS cannot open.
	aliceOnly := `{"Version":"2012-10-17","Statement":[
	 {"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + acctA + `:user/admin"},"Action":"kms:*","Resource":"*"},
	 {"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + acctA + `:user/alice"},"Action":["kms:GenerateDataKey","kms:Decrypt"],"Resource":"*"}`
	ka := create(publisher(acctA, "admin"), aliceOnly+`]}`)
	if s, o := try(ka.KeyID, publisher(acctA, "alice")); s != nil || !errors.Is(o, kms.ErrAccessDenied) {
		t.Fatalf("user-only policy: seal %v, open %v (want AccessDenied)", s, o)
	}
	// ... and with the service principal added, it delivers.
	withSNS := aliceOnly + `,{"Effect":"Allow","Principal":{"Service":"sns.amazonaws.com"},"Action":"kms:Decrypt","Resource":"*",
	 "Condition":{"StringEquals":{"kms:EncryptionContext:aws:sns:topicArn":"` + topicARN + `"}}}]}`
	if err := e.kms.PutKeyPolicy(ctx, publisher(acctA, "admin"), ka.KeyID, "default", withSNS, false); err != nil {
		t.Fatal(err)
	}
	if s, o := try(ka.KeyID, publisher(acctA, "alice")); s != nil || o != nil {
		t.Fatalf("policy naming sns.amazonaws.com: %v %v", s, o)
	}
	// The AWS-managed key (alias/aws/sns, created on first use) delivers.
	if s, o := try("alias/aws/sns", publisher(acctA, "bob")); s != nil || o != nil {
		t.Fatalf("alias/aws/sns: %v %v", s, o)
	}
}

// TestConcurrency: many goroutines sealing and opening at once share one
// data key each way (no stampede), under -race.
func TestConcurrency(t *testing.T) {
	e := newEnv(t, envOpts{noAudit: true})
	ctx := context.Background()
	const workers, per = 8, 300
	var wg sync.WaitGroup
	errc := make(chan error, workers)
	frames := make([][][]byte, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < per; i++ {
				id := fmt.Sprint("m", w, "-", i)
				f, err := e.sealer.Seal(ctx, rootOf(acctA), e.key.KeyID, aadOf(id), []byte(id))
				if err != nil {
					errc <- err
					return
				}
				frames[w] = append(frames[w], f)
			}
		}()
	}
	wg.Wait()
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i, f := range frames[w] {
				id := fmt.Sprint("m", w, "-", i)
				pt, err := e.sealer.Open(ctx, acctA, region, f, aadOf(id))
				if err != nil || string(pt) != id {
					errc <- fmt.Errorf("open %s: %q %v", id, pt, err)
					return
				}
			}
		}()
	}
	wg.Add(1)
	go func() { // purges racing with use
		defer wg.Done()
		for i := 0; i < 20; i++ {
			e.sealer.Purge("00000000-0000-0000-0000-000000000000")
		}
	}()
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
	if g, d := e.n.gen.Load(), e.n.dec.Load(); g != 1 || d != 1 {
		t.Fatalf("%d GenerateDataKey, %d Decrypt; want 1 and 1", g, d)
	}
}

// gatedKMS holds GenerateDataKey until gate is closed, and then fails it
// for a caller whose context is done (as a cancelled request would).
type gatedKMS struct {
	*kms.Service
	gate    chan struct{}
	entered chan struct{}
}

func (g *gatedKMS) GenerateDataKey(ctx context.Context, c kms.Caller, in kms.DataKeyInput) (kms.DataKeyOutput, error) {
	g.entered <- struct{}{}
	<-g.gate
	if err := ctx.Err(); err != nil {
		return kms.DataKeyOutput{}, err
	}
	return g.Service.GenerateDataKey(ctx, c, in)
}

// TestWaiterOutlivesCancelledCall: a caller waiting for another's
// GenerateDataKey does not inherit that caller's cancellation.
func TestWaiterOutlivesCancelledCall(t *testing.T) {
	e := newEnv(t, envOpts{noAudit: true})
	g := &gatedKMS{Service: e.kms, gate: make(chan struct{}), entered: make(chan struct{}, 4)}
	s := New(g, Options{Now: e.clk.Now})
	ctx1, cancel := context.WithCancel(context.Background())
	err1 := make(chan error, 1)
	go func() {
		_, err := s.Seal(ctx1, rootOf(acctA), e.key.KeyID, aadOf("m1"), []byte("a"))
		err1 <- err
	}()
	<-g.entered // caller 1 is in GenerateDataKey
	err2 := make(chan error, 1)
	go func() {
		_, err := s.Seal(context.Background(), rootOf(acctA), e.key.KeyID, aadOf("m2"), []byte("b"))
		err2 <- err
	}()
	time.Sleep(50 * time.Millisecond) // let caller 2 wait on caller 1's entry
	cancel()
	close(g.gate)
	if err := <-err1; !errors.Is(err, context.Canceled) {
		t.Fatalf("caller 1: %v", err)
	}
	if err := <-err2; err != nil {
		t.Fatalf("caller 2 inherited caller 1's cancellation: %v", err)
	}
}
