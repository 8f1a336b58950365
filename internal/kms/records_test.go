package kms

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/store"
)

// syncBuf is a goroutine-safe log sink.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuf) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuf) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// TestKeyRecordIntegrity: a key record changed in the store around the
// domain (the old MAC kept) is refused with KMSInternalException by every
// call, logged by key id without its data, never re-sealed by a later
// update, and never acted on by Sweep.
func TestKeyRecordIntegrity(t *testing.T) {
	ctx := context.Background()
	const marker = "POLICY-MARKER-not-in-the-log"
	past := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	tampers := []struct {
		name string
		fn   func(k *store.Key)
	}{
		{"enable a disabled key", func(k *store.Key) { k.KeyState = stateEnabled }},
		{"replace the policy", func(k *store.Key) {
			k.Policy = `{"Version":"2012-10-17","Statement":[{"Sid":"` + marker + `","Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*"}]}`
		}},
		{"schedule deletion in the past", func(k *store.Key) {
			k.KeyState, k.DeletionDate, k.PendingWindowDays = statePendingDeletion, past, 7
		}},
		{"rotation period", func(k *store.Key) { k.RotationEnabled, k.RotationPeriodDays, k.NextRotation = true, 90, past }},
		{"description", func(k *store.Key) { k.Description = "changed" }},
		{"tags", func(k *store.Key) { k.Tags = map[string]string{"owner": "mallory"} }},
		{"key manager", func(k *store.Key) { k.KeyManager = managerAWS }},
		{"creation date", func(k *store.Key) { k.CreatedAt = k.CreatedAt.Add(time.Microsecond) }},
		{"MAC removed", func(k *store.Key) { k.MAC = nil }},
		{"MAC of another version", func(k *store.Key) { k.MAC = append([]byte{2}, k.MAC[1:]...) }},
	}
	eachDriver(t, func(t *testing.T, d driver) {
		st, _ := d.open(t)
		clk := newClock()
		var logs syncBuf
		opt := Options{Log: slog.New(slog.NewTextHandler(&logs, nil))}
		s := newService(t, st, clk, opt)
		good := mustCreate(t, s, alice)
		for i, tc := range tampers {
			md := mustCreate(t, s, alice)
			alias := fmt.Sprintf("alias/tampered-%d", i)
			if err := s.CreateAlias(ctx, alice, alias, md.KeyID); err != nil {
				t.Fatal(err)
			}
			if err := s.DisableKey(ctx, alice, md.KeyID); err != nil {
				t.Fatal(err)
			}
			if tc.name != "enable a disabled key" {
				if err := s.EnableKey(ctx, alice, md.KeyID); err != nil {
					t.Fatal(err)
				}
			}
			// The untouched record passes on a fresh node.
			if _, err := newService(t, st, clk, opt).DescribeKey(ctx, alice, md.KeyID, nil); err != nil {
				t.Fatalf("%s: untouched record: %v", tc.name, err)
			}
			if _, err := st.UpdateKey(ctx, md.KeyID, func(k *store.Key) error { tc.fn(k); return nil }); err != nil {
				t.Fatal(err)
			}
			// A fresh node (nothing cached) and the writing node after
			// CacheTTL both refuse it.
			fresh := newService(t, st, clk, opt)
			clk.Add(6 * time.Second)
			for _, n := range []*Service{fresh, s} {
				_, err := n.Encrypt(ctx, alice, EncryptInput{KeyID: md.KeyID, Plaintext: []byte("x")})
				wantKind(t, tc.name+": Encrypt", err, ErrInternal)
				_, err = n.DescribeKey(ctx, alice, md.ARN, nil)
				wantKind(t, tc.name+": DescribeKey", err, ErrInternal)
				_, err = n.GenerateDataKey(ctx, alice, DataKeyInput{KeyID: md.KeyID, KeySpec: "AES_256"})
				wantKind(t, tc.name+": GenerateDataKey", err, ErrInternal)
			}
			_, err := fresh.DescribeKey(ctx, alice, alias, nil)
			wantKind(t, tc.name+": DescribeKey by alias", err, ErrInternal)
			// Moving its alias needs kms:UpdateAlias on it: refused too.
			wantKind(t, tc.name+": UpdateAlias", fresh.UpdateAlias(ctx, alice, alias, good.KeyID), ErrInternal)
			// An update through the domain does not launder it.
			wantKind(t, tc.name+": DisableKey", s.DisableKey(ctx, alice, md.KeyID), ErrInternal)
			if _, err := fresh.rotateOnStore(ctx, md.KeyID); err == nil {
				t.Fatalf("%s: a rotation re-sealed the tampered record", tc.name)
			}
			if _, err := newService(t, st, clk, opt).DescribeKey(ctx, alice, md.KeyID, nil); err == nil {
				t.Fatalf("%s: record accepted after an attempted update", tc.name)
			}
			if !strings.Contains(logs.String(), "key="+md.KeyID) {
				t.Fatalf("%s: no log line naming the key", tc.name)
			}
		}
		// ListKeys refuses too; Sweep neither deletes nor rotates a
		// tampered key and reports it.
		_, _, err := s.ListKeys(ctx, alice, Page{})
		wantKind(t, "ListKeys", err, ErrInternal)
		del, rot, err := s.Sweep(ctx)
		if err == nil || del != 0 || rot != 0 {
			t.Fatalf("Sweep over tampered keys: deleted %d rotated %d err %v", del, rot, err)
		}
		keys, _, err := st.ListKeys(ctx, alice.Account, alice.Region, store.Page{})
		if err != nil || len(keys) != len(tampers)+1 {
			t.Fatalf("keys left: %d %v", len(keys), err)
		}
		if l := logs.String(); strings.Contains(l, marker) || !strings.Contains(l, "level=ERROR") {
			t.Fatalf("log: %s", l)
		}
	})
}

// rotateOnStore rotates a key through the domain's store path (as Sweep
// and RotateKeyOnDemand do) without the API's checks.
func (s *Service) rotateOnStore(ctx context.Context, id string) (store.Key, error) {
	k, err := s.st.GetKey(ctx, id)
	if err != nil {
		return store.Key{}, err
	}
	err = s.rotate(ctx, &k, rotationOnDemand, false, nil)
	return k, err
}

// TestGrantRecordIntegrity: a grant record changed in the store (old MAC
// kept) allows nothing, is refused with KMSInternalException where it is
// read, and can still be revoked.
func TestGrantRecordIntegrity(t *testing.T) {
	ctx := context.Background()
	tampers := []struct {
		name string
		fn   func(g *store.Grant)
	}{
		{"add an operation", func(g *store.Grant) { g.Operations = append(g.Operations, "Encrypt") }},
		{"change the grantee", func(g *store.Grant) { g.GranteePrincipal = "arn:aws:iam::" + acctTwo + ":user/mallory" }},
		{"drop the constraints", func(g *store.Grant) { g.Constraints = "" }},
		{"change the retiring principal", func(g *store.Grant) { g.RetiringPrincipal = "arn:aws:iam::" + acctTwo + ":root" }},
		{"change the issuing account", func(g *store.Grant) { g.IssuingAccount = "arn:aws:iam::" + acctTwo + ":root" }},
		{"MAC removed", func(g *store.Grant) { g.MAC = nil }},
	}
	bob := callerOf(acctTwo)
	ec := map[string]string{"app": "one"}
	eachDriver(t, func(t *testing.T, d driver) {
		st, _ := d.open(t)
		clk := newClock()
		s := newService(t, st, clk, Options{})
		for _, tc := range tampers {
			md := mustCreate(t, s, alice)
			enc, err := s.Encrypt(ctx, alice, EncryptInput{KeyID: md.KeyID, Plaintext: []byte("x"), Context: ec})
			if err != nil {
				t.Fatal(err)
			}
			tok, gid, err := s.CreateGrant(ctx, alice, CreateGrantInput{
				KeyID: md.KeyID, GranteePrincipal: bob.Principal, Operations: []string{"Decrypt"},
				RetiringPrincipal: alice.Principal,
				Constraints:       &GrantConstraints{EncryptionContextSubset: ec},
			})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.Decrypt(ctx, bob, DecryptInput{CiphertextBlob: enc.CiphertextBlob, Context: ec}); err != nil {
				t.Fatalf("%s: grant before tampering: %v", tc.name, err)
			}
			g, err := st.GetGrant(ctx, gid)
			if err != nil {
				t.Fatal(err)
			}
			tc.fn(&g)
			if err := st.DeleteGrant(ctx, gid); err != nil {
				t.Fatal(err)
			}
			if _, err := st.CreateGrant(ctx, g); err != nil {
				t.Fatal(err)
			}
			fresh := newService(t, st, clk, Options{})
			clk.Add(6 * time.Second)
			for _, n := range []*Service{fresh, s} {
				_, err := n.Decrypt(ctx, bob, DecryptInput{CiphertextBlob: enc.CiphertextBlob, Context: ec})
				wantKind(t, tc.name+": Decrypt by the grantee", err, ErrInternal)
				_, err = n.Decrypt(ctx, bob, DecryptInput{CiphertextBlob: enc.CiphertextBlob, Context: ec, GrantTokens: []string{tok}})
				wantKind(t, tc.name+": Decrypt with the token", err, ErrInternal)
				_, _, err = n.ListGrants(ctx, alice, md.KeyID, "", "", Page{})
				wantKind(t, tc.name+": ListGrants", err, ErrInternal)
				_, _, err = n.ListGrants(ctx, alice, md.KeyID, gid, "", Page{})
				wantKind(t, tc.name+": ListGrants by id", err, ErrInternal)
				wantKind(t, tc.name+": RetireGrant", n.RetireGrant(ctx, alice, tok, "", ""), ErrInternal)
			}
			// The key owner (policy, not grants) is unaffected.
			if _, err := s.Decrypt(ctx, alice, DecryptInput{CiphertextBlob: enc.CiphertextBlob, Context: ec}); err != nil {
				t.Fatalf("%s: owner: %v", tc.name, err)
			}
			// Revoking removes it.
			if err := s.RevokeGrant(ctx, alice, md.KeyID, gid); err != nil {
				t.Fatalf("%s: RevokeGrant: %v", tc.name, err)
			}
			if gs, _, err := s.ListGrants(ctx, alice, md.KeyID, "", "", Page{}); err != nil || len(gs) != 0 {
				t.Fatalf("%s: after revoke: %v %v", tc.name, gs, err)
			}
		}
	})
}

// TestRecordMACInput: the canonical encoding separates fields (moving
// bytes between neighbours changes it) and covers every field but
// Revision and MAC.
func TestRecordMACInput(t *testing.T) {
	base := store.Key{ID: "a", ARN: "b", Description: "cd", Tags: map[string]string{"k": "v"}}
	moved := base
	moved.ARN, moved.Description = "bc", "d"
	if bytes.Equal(keyMACInput(&base), keyMACInput(&moved)) {
		t.Fatal("fields are not separated")
	}
	same := base
	same.Revision, same.MAC = 7, []byte{1}
	if !bytes.Equal(keyMACInput(&base), keyMACInput(&same)) {
		t.Fatal("Revision or MAC is in the input")
	}
	t1 := base
	t1.Tags = map[string]string{"kv": ""}
	if bytes.Equal(keyMACInput(&base), keyMACInput(&t1)) {
		t.Fatal("tags are not separated")
	}
	g1 := store.Grant{Operations: []string{"Decrypt", "Encrypt"}}
	g2 := store.Grant{Operations: []string{"DecryptEncrypt"}}
	if bytes.Equal(grantMACInput(&g1), grantMACInput(&g2)) {
		t.Fatal("operations are not separated")
	}
	if slices.Equal(keyMACInput(&store.Key{})[:2], grantMACInput(&store.Grant{})[:2]) {
		t.Fatal("key and grant inputs share a prefix")
	}
}
