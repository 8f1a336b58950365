package kms

import (
	"context"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/store/pebblestore"
)

func TestKeyRevision(t *testing.T) {
	ctx := context.Background()
	eachDriver(t, func(t *testing.T, d driver) {
		st, _ := d.open(t)
		s := newService(t, st, newClock(), Options{})
		md := mustCreate(t, s, alice)
		r1, err := s.KeyRevision(ctx, md.KeyID)
		wantKind(t, "KeyRevision", err, nil)
		if r2, err := s.KeyRevision(ctx, md.ARN); err != nil || r2 != r1 {
			t.Fatalf("by ARN: %d %v, want %d", r2, err, r1)
		}
		wantKind(t, "UpdateKeyDescription", s.UpdateKeyDescription(ctx, alice, md.KeyID, "new"), nil)
		if r2, _ := s.KeyRevision(ctx, md.KeyID); r2 == r1 {
			t.Fatal("revision unchanged by a write")
		}
		wantKind(t, "DisableKey", s.DisableKey(ctx, alice, md.KeyID), nil)
		_, err = s.KeyRevision(ctx, md.KeyID)
		wantKind(t, "KeyRevision of a disabled key", err, ErrDisabled)
		_, err = s.ScheduleKeyDeletion(ctx, alice, md.KeyID, 7)
		wantKind(t, "ScheduleKeyDeletion", err, nil)
		_, err = s.KeyRevision(ctx, md.KeyID)
		wantKind(t, "KeyRevision pending deletion", err, ErrInvalidState)
		_, err = s.KeyRevision(ctx, "00000000-0000-0000-0000-000000000000")
		wantKind(t, "KeyRevision of no key", err, ErrNotFound)
		_, err = s.KeyRevision(ctx, "alias/x")
		wantKind(t, "KeyRevision of an alias", err, ErrNotFound)
	})
}

// slowStore makes GetKey take lat on the test clock after it read the
// record, and runs during() between the read and the return (a write on
// another node that the read did not see).
type slowStore struct {
	store.KeyStore
	clk    *testClock
	lat    time.Duration
	during func()
}

func (s *slowStore) GetKey(ctx context.Context, id string) (store.Key, error) {
	k, err := s.KeyStore.GetKey(ctx, id)
	if s.during != nil {
		f := s.during
		s.during = nil
		f()
	}
	s.clk.Add(s.lat)
	return k, err
}

// TestKeyCacheTrustsFromReadStart: a key record is trusted for CacheTTL
// from when its read started, so a change committed during a slow read is
// seen once CacheTTL has passed since the change (what PurgeWait waits).
func TestKeyCacheTrustsFromReadStart(t *testing.T) {
	ctx := context.Background()
	ps, err := pebblestore.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ps.Close() })
	clk := newClock()
	ttl := 5 * time.Second
	a := newService(t, ps, clk, Options{CacheTTL: ttl}) // node A
	md := mustCreate(t, a, alice)
	slow := &slowStore{KeyStore: ps, clk: clk, lat: 2 * time.Second}
	b := newService(t, slow, clk, Options{CacheTTL: ttl}) // node B
	slow.during = func() { wantKind(t, "DisableKey", a.DisableKey(ctx, alice, md.KeyID), nil) }
	if _, err := b.KeyRevision(ctx, md.KeyID); err != nil { // reads Enabled
		t.Fatal(err)
	}
	clk.Add(ttl - slow.lat) // CacheTTL after A's change
	_, err = b.KeyRevision(ctx, md.KeyID)
	wantKind(t, "node B, CacheTTL after the change", err, ErrDisabled)
}

func TestPurgeWait(t *testing.T) {
	ctx := context.Background()
	ps, err := pebblestore.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ps.Close() })
	ttl := 100 * time.Millisecond
	s := New(ps, testKeyring(t), Options{CacheTTL: ttl, PurgeWait: true})
	md := mustCreate(t, s, alice)
	for _, c := range []struct {
		name string
		f    func() error
	}{
		{"DisableKey", func() error { return s.DisableKey(ctx, alice, md.KeyID) }},
		{"PutKeyPolicy", func() error {
			return s.PutKeyPolicy(ctx, alice, md.KeyID, "default", defaultKeyPolicy(acctOne), false)
		}},
		{"ScheduleKeyDeletion", func() error { _, err := s.ScheduleKeyDeletion(ctx, alice, md.KeyID, 7); return err }},
	} {
		name, f := c.name, c.f
		start := time.Now()
		wantKind(t, name, f(), nil)
		if d := time.Since(start); d < ttl {
			t.Fatalf("%s returned after %v, before CacheTTL", name, d)
		}
	}
}

func TestDecryptForService(t *testing.T) {
	ctx := context.Background()
	st, _ := drivers[0].open(t)
	s := newService(t, st, newClock(), Options{})
	topic := "arn:aws:sns:us-east-1:" + acctOne + ":t"
	ec := map[string]string{"aws:sns:topicArn": topic}
	sns := Caller{Service: "sns.amazonaws.com", Account: acctOne, Region: testRegion}
	blobOf := func(keyID string, c Caller) []byte {
		t.Helper()
		out, err := s.GenerateDataKey(ctx, c, DataKeyInput{KeyID: keyID, KeySpec: "AES_256", Context: ec})
		wantKind(t, "GenerateDataKey", err, nil)
		return out.CiphertextBlob
	}
	// Default key policy: the account through SNS.
	md := mustCreate(t, s, alice)
	b := blobOf(md.KeyID, alice)
	out, err := s.DecryptForService(ctx, sns, DecryptInput{CiphertextBlob: b, Context: ec})
	wantKind(t, "default policy", err, nil)
	if len(out.Plaintext) != 32 || out.KeyARN != md.ARN {
		t.Fatalf("out %d bytes, %s", len(out.Plaintext), out.KeyARN)
	}
	// Not for another account (the key policy names only acctOne).
	other := sns
	other.Account = acctTwo
	_, err = s.DecryptForService(ctx, other, DecryptInput{CiphertextBlob: b, Context: ec})
	wantKind(t, "another account", err, ErrAccessDenied)
	// A wrong context is an invalid ciphertext.
	_, err = s.DecryptForService(ctx, sns, DecryptInput{CiphertextBlob: b, Context: map[string]string{"aws:sns:topicArn": topic + "x"}})
	wantKind(t, "wrong context", err, ErrInvalidCiphertext)
	// An explicit Deny of the service wins over the account's Allow.
	deny := `{"Version":"2012-10-17","Statement":[
	 {"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + acctOne + `:root"},"Action":"kms:*","Resource":"*"},
	 {"Effect":"Deny","Principal":{"Service":"sns.amazonaws.com"},"Action":"kms:Decrypt","Resource":"*"}]}`
	wantKind(t, "PutKeyPolicy", s.PutKeyPolicy(ctx, alice, md.KeyID, "default", deny, false), nil)
	_, err = s.DecryptForService(ctx, sns, DecryptInput{CiphertextBlob: b, Context: ec})
	wantKind(t, "explicit deny", err, ErrAccessDenied)
	// An explicit Deny through SNS for the account wins too.
	denyVia := `{"Version":"2012-10-17","Statement":[
	 {"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + acctOne + `:root"},"Action":"kms:*","Resource":"*"},
	 {"Effect":"Deny","Principal":{"AWS":"*"},"Action":"kms:Decrypt","Resource":"*","Condition":{"StringEquals":{"kms:ViaService":"sns.us-east-1.amazonaws.com"}}}]}`
	wantKind(t, "PutKeyPolicy", s.PutKeyPolicy(ctx, alice, md.KeyID, "default", denyVia, false), nil)
	_, err = s.DecryptForService(ctx, sns, DecryptInput{CiphertextBlob: b, Context: ec})
	wantKind(t, "explicit deny via SNS", err, ErrAccessDenied)
	// Only service callers.
	if _, err := s.DecryptForService(ctx, alice, DecryptInput{CiphertextBlob: b, Context: ec}); err == nil {
		t.Fatal("a principal caller was accepted")
	}
	// A grant to the service principal allows.
	md2 := mustCreate(t, s, alice)
	b2 := blobOf(md2.KeyID, alice)
	userOnly := `{"Version":"2012-10-17","Statement":[
	 {"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + acctOne + `:user/admin"},"Action":"kms:*","Resource":"*"}]}`
	admin := alice
	admin.Principal = "arn:aws:iam::" + acctOne + ":user/admin"
	wantKind(t, "PutKeyPolicy", s.PutKeyPolicy(ctx, admin, md2.KeyID, "default", userOnly, false), nil)
	_, err = s.DecryptForService(ctx, sns, DecryptInput{CiphertextBlob: b2, Context: ec})
	wantKind(t, "user-only policy", err, ErrAccessDenied)
	_, _, err = s.CreateGrant(ctx, admin, CreateGrantInput{KeyID: md2.KeyID, GranteePrincipal: "sns.amazonaws.com", Operations: []string{"Decrypt"}})
	wantKind(t, "CreateGrant", err, nil)
	_, err = s.DecryptForService(ctx, sns, DecryptInput{CiphertextBlob: b2, Context: ec})
	wantKind(t, "grant to the service", err, nil)
}
