package kms

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/envelope"
	"github.com/sealpost/sealpost/internal/pgtest"
	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/store/pgstore"
)

// stores runs fn on each store driver: embedded pebble, and PostgreSQL
// (skipped when pgtest has none, and with -short).
func stores(t *testing.T, fn func(t *testing.T, open func(t *testing.T) store.KeyStore)) {
	t.Run("pebble", func(t *testing.T) { fn(t, func(t *testing.T) store.KeyStore { return openPebble(t) }) })
	t.Run("postgres", func(t *testing.T) {
		if testing.Short() {
			t.Skip("-short")
		}
		dsn := pgtest.NewDatabase(t)
		fn(t, func(t *testing.T) store.KeyStore {
			st, err := pgstore.Open(context.Background(), dsn)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			return st
		})
	})
}

func mustGrant(t *testing.T, e *env, c Caller, in CreateGrantInput) (token, id string) {
	t.Helper()
	token, id, err := e.s.CreateGrant(context.Background(), c, in)
	if err != nil {
		t.Fatalf("CreateGrant %+v: %v", in, err)
	}
	if !isGrantID(id) || token == "" {
		t.Fatalf("CreateGrant: id %q token %q", id, token)
	}
	return token, id
}

func TestGrants(t *testing.T) {
	stores(t, func(t *testing.T, open func(t *testing.T) store.KeyStore) {
		t.Run("use", func(t *testing.T) { testGrantUse(t, newEnv(t, open(t), 0)) })
		t.Run("lifecycle", func(t *testing.T) { testGrantLifecycle(t, newEnv(t, open(t), 0)) })
		t.Run("create", func(t *testing.T) { testGrantCreate(t, newEnv(t, open(t), 0)) })
		t.Run("list", func(t *testing.T) { testGrantList(t, newEnv(t, open(t), 0)) })
		t.Run("nodes", func(t *testing.T) {
			st := open(t)
			testGrantNodes(t, newEnv(t, st, time.Minute), newEnv(t, st, time.Minute))
		})
	})
}

// testGrantUse: the grantee may do the granted operations only, within the
// constraints; an explicit Deny beats a grant.
func testGrantUse(t *testing.T, e *env) {
	ctx := context.Background()
	k := e.key(t, acctA, "")
	denyBob := e.key(t, acctA, keyPolicyDoc(rootStmtA,
		`{"Effect":"Deny","Principal":{"AWS":"arn:aws:iam::222222222222:user/bob"},"Action":"kms:Decrypt","Resource":"*"}`))
	onlyEncrypt := identity(t, `{"Statement":{"Effect":"Allow","Action":"kms:Encrypt","Resource":"*"}}`)
	denyDecrypt := identity(t, `{"Statement":[{"Effect":"Allow","Action":"kms:*","Resource":"*"},{"Effect":"Deny","Action":"kms:Decrypt","Resource":"*"}]}`)

	// Before any grant, B's principals are refused on A's key.
	wantErr(t, e.s.authorize(ctx, bobB, k, "kms:Decrypt", Access{}), ErrAccessDenied, "no resource-based policy")

	mustGrant(t, e, rootA, CreateGrantInput{KeyID: k.ID, GranteePrincipal: bobB.Principal, Operations: []string{"Decrypt", "Encrypt"},
		Constraints: &GrantConstraints{EncryptionContextSubset: map[string]string{"Department": "IT"}}})
	mustGrant(t, e, rootA, CreateGrantInput{KeyID: k.ID, GranteePrincipal: carolB.Principal, Operations: []string{"GenerateDataKey", "DescribeKey"},
		Constraints: &GrantConstraints{EncryptionContextEquals: map[string]string{"a": "1"}}})
	mustGrant(t, e, rootA, CreateGrantInput{KeyID: k.ID, GranteePrincipal: "arn:aws:iam::222222222222:root", Operations: []string{"ReEncryptFrom"}})
	mustGrant(t, e, rootA, CreateGrantInput{KeyID: denyBob.ID, GranteePrincipal: bobB.Principal, Operations: []string{"Decrypt"}})
	mustGrant(t, e, rootA, CreateGrantInput{KeyID: k.ARN, GranteePrincipal: "sns.amazonaws.com", Operations: []string{"Decrypt"}})

	const refused = "no resource-based policy"
	cases := []struct {
		name   string
		k      store.Key
		c      Caller
		action string
		ctx    map[string]string
		want   string
	}{
		{"granted op, subset holds", k, bobB, "kms:Decrypt", map[string]string{"Department": "IT"}, ""},
		{"subset with more pairs", k, bobB, "kms:Encrypt", map[string]string{"Department": "IT", "x": "y"}, ""},
		{"subset key ignores case", k, bobB, "kms:Encrypt", map[string]string{"department": "IT"}, ""},
		{"subset value is case-sensitive", k, bobB, "kms:Encrypt", map[string]string{"Department": "it"}, refused},
		{"subset not met", k, bobB, "kms:Decrypt", map[string]string{"Department": "HR"}, refused},
		{"subset, no context", k, bobB, "kms:Decrypt", nil, refused},
		{"op not granted", k, bobB, "kms:GenerateDataKey", map[string]string{"Department": "IT"}, refused},
		{"management op never granted", k, bobB, "kms:PutKeyPolicy", map[string]string{"Department": "IT"}, refused},
		{"identity Deny beats the grant", k, withIdentity(bobB, denyDecrypt), "kms:Decrypt", map[string]string{"Department": "IT"}, "explicit deny in an identity-based policy"},
		{"key policy Deny beats the grant", denyBob, bobB, "kms:Decrypt", nil, "explicit deny in a resource-based policy"},
		{"grantee is bob, not carol", k, carolB, "kms:Decrypt", map[string]string{"Department": "IT"}, refused},
		{"equals holds", k, carolB, "kms:GenerateDataKey", map[string]string{"a": "1"}, ""},
		{"equals key ignores case", k, carolB, "kms:GenerateDataKey", map[string]string{"A": "1"}, ""},
		{"equals with an extra pair", k, carolB, "kms:GenerateDataKey", map[string]string{"a": "1", "b": "2"}, refused},
		{"equals, no context", k, carolB, "kms:GenerateDataKey", nil, refused},
		{"constraints ignored for DescribeKey", k, carolB, "kms:DescribeKey", nil, ""},
		{"account grant, identity policy allows", k, bobB, "kms:ReEncryptFrom", nil, ""},
		{"account grant, identity policy does not allow", k, withIdentity(bobB, onlyEncrypt), "kms:ReEncryptFrom", nil, refused},
		{"account grant, account root", k, rootB, "kms:ReEncryptFrom", nil, ""},
		{"service grantee", k, Caller{Account: acctB, Region: region, Service: "sns.amazonaws.com"}, "kms:Decrypt", nil, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			wantErr(t, e.s.authorize(ctx, tc.c, tc.k, tc.action, Access{Context: tc.ctx}), deniedIf(tc.want), tc.want)
		})
	}
}

// testGrantLifecycle: retire (by token, by id) and revoke stop a grant at
// once; who may retire; token errors.
func testGrantLifecycle(t *testing.T, e *env) {
	ctx := context.Background()
	k := e.key(t, acctA, "")
	it := map[string]string{"Department": "IT"}
	use := func(c Caller) error { return e.s.authorize(ctx, c, k, "kms:Decrypt", Access{Context: it}) }
	grant := func(in CreateGrantInput) (string, string) {
		in.KeyID = k.ID
		if in.Operations == nil {
			in.Operations = []string{"Decrypt"}
		}
		return mustGrant(t, e, rootA, in)
	}

	// Retired by token by the retiring principal (another account).
	tok, _ := grant(CreateGrantInput{GranteePrincipal: bobB.Principal, RetiringPrincipal: carolB.Principal})
	wantErr(t, use(bobB), nil, "")
	wantErr(t, e.s.authorize(ctx, bobB, k, "kms:Decrypt", Access{Context: it, GrantTokens: []string{tok}}), nil, "")
	wantErr(t, e.s.RetireGrant(ctx, bobB, tok, "", ""), ErrAccessDenied, "kms:RetireGrant")
	wantErr(t, e.s.RetireGrant(ctx, carolB, tok, "", ""), nil, "")
	wantErr(t, use(bobB), ErrAccessDenied, "no resource-based policy")
	// The token of a retired grant gives nothing and is not an error.
	wantErr(t, e.s.authorize(ctx, bobB, k, "kms:Decrypt", Access{Context: it, GrantTokens: []string{tok}}), ErrAccessDenied, "no resource-based policy")
	wantErr(t, e.s.RetireGrant(ctx, carolB, tok, "", ""), ErrNotFound, "")

	// Retired by key and id by the grantee when the grant allows RetireGrant.
	_, id := grant(CreateGrantInput{GranteePrincipal: bobB.Principal, Operations: []string{"Decrypt", "RetireGrant"}})
	wantErr(t, e.s.RetireGrant(ctx, carolB, "", k.ARN, id), ErrAccessDenied, "")
	wantErr(t, e.s.RetireGrant(ctx, bobB, "", k.ARN, id), nil, "")
	wantErr(t, use(bobB), ErrAccessDenied, "")

	// The grantee without RetireGrant may not; the issuing account may.
	_, id = grant(CreateGrantInput{GranteePrincipal: bobB.Principal})
	wantErr(t, e.s.RetireGrant(ctx, bobB, "", k.ARN, id), ErrAccessDenied, "")
	wantErr(t, e.s.RetireGrant(ctx, withIdentity(aliceA, identity(t, `{"Statement":{"Effect":"Deny","Action":"kms:RetireGrant","Resource":"*"}}`)), "", k.ID, id), ErrAccessDenied, "")
	wantErr(t, e.s.RetireGrant(ctx, aliceA, "", k.ID, id), nil, "")
	wantErr(t, use(bobB), ErrAccessDenied, "")

	// Revoked: needs kms:RevokeGrant on the key.
	_, id = grant(CreateGrantInput{GranteePrincipal: bobB.Principal, RetiringPrincipal: bobB.Principal})
	wantErr(t, use(bobB), nil, "")
	wantErr(t, e.s.RevokeGrant(ctx, bobB, k.ARN, id), ErrAccessDenied, "kms:RevokeGrant")
	e.au.take()
	wantErr(t, e.s.RevokeGrant(ctx, rootA, k.ID, id), nil, "")
	wantErr(t, e.s.RetireGrant(ctx, rootA, "", k.ID, id), ErrNotFound, "")
	if ev := e.au.take(); len(ev) != 2 || ev[0].Name != "RevokeGrant" || ev[0].ErrorCode != "" ||
		ev[1].Name != "RetireGrant" || ev[1].ErrorCode != "NotFoundException" || len(ev[1].Resources) != 1 {
		t.Fatalf("audit: %+v", ev)
	}
	wantErr(t, use(bobB), ErrAccessDenied, "")
	wantErr(t, e.s.RevokeGrant(ctx, rootA, k.ID, id), ErrNotFound, "")
	wantErr(t, e.s.RevokeGrant(ctx, rootA, k.ID, "not-a-grant"), ErrInvalidGrantID, "")
	wantErr(t, e.s.RetireGrant(ctx, rootA, "", k.ID, strings.Repeat("0", 64)), ErrNotFound, "")
	wantErr(t, e.s.RetireGrant(ctx, rootA, "", k.ID, ""), ErrValidation, "")

	// Tokens that were not issued here.
	tok, _ = grant(CreateGrantInput{GranteePrincipal: bobB.Principal})
	forged := []byte(tok)
	if forged[10] == 'A' {
		forged[10] = 'B'
	} else {
		forged[10] = 'A'
	}
	for _, bad := range []string{string(forged), "abc", tok + "A", strings.Repeat("A", 66), "!!"} {
		wantErr(t, e.s.authorize(ctx, rootA, k, "kms:Decrypt", Access{GrantTokens: []string{bad}}), ErrInvalidGrantToken, "")
		wantErr(t, e.s.RetireGrant(ctx, rootA, bad, "", ""), ErrInvalidGrantToken, "")
	}
	// A token of a node with another root key is refused too.
	root2 := append([]byte(nil), testRoot...)
	root2[0] ^= 1
	kr2, err := envelope.NewKeyring(root2)
	if err != nil {
		t.Fatal(err)
	}
	other := New(e.st, kr2, Options{})
	if _, err := other.grantTokenIDs([]string{tok}); !errors.Is(err, ErrInvalidGrantToken) {
		t.Fatalf("token of another root key: %v", err)
	}
}

// testGrantCreate: validation, idempotent names, key states, grants that
// allow CreateGrant, audit.
func testGrantCreate(t *testing.T, e *env) {
	ctx := context.Background()
	k := e.key(t, acctA, "")
	base := CreateGrantInput{KeyID: k.ID, GranteePrincipal: bobB.Principal, Operations: []string{"Decrypt"}}
	with := func(f func(*CreateGrantInput)) CreateGrantInput { in := base; f(&in); return in }
	cases := []struct {
		name string
		in   CreateGrantInput
		kind error
		want string
	}{
		{"no operations", with(func(in *CreateGrantInput) { in.Operations = nil }), ErrValidation, "operations"},
		{"unknown operation", with(func(in *CreateGrantInput) { in.Operations = []string{"Foo"} }), ErrValidation, "enum value set"},
		{"operation of asymmetric keys", with(func(in *CreateGrantInput) { in.Operations = []string{"Sign"} }), ErrValidation, "symmetric"},
		{"no grantee", with(func(in *CreateGrantInput) { in.GranteePrincipal = "" }), ErrValidation, "granteePrincipal"},
		{"grantee not a principal", with(func(in *CreateGrantInput) { in.GranteePrincipal = "bob" }), ErrValidation, "GranteePrincipal"},
		{"grantee a group", with(func(in *CreateGrantInput) { in.GranteePrincipal = "arn:aws:iam::222222222222:group/g" }), ErrValidation, "GranteePrincipal"},
		{"retiring not a principal", with(func(in *CreateGrantInput) { in.RetiringPrincipal = "arn:aws:s3:::b" }), ErrValidation, "RetiringPrincipal"},
		{"bad name", with(func(in *CreateGrantInput) { in.Name = "a b" }), ErrValidation, "name"},
		{"both constraints", with(func(in *CreateGrantInput) {
			in.Constraints = &GrantConstraints{EncryptionContextEquals: map[string]string{}, EncryptionContextSubset: map[string]string{}}
		}), ErrValidation, "not both"},
		{"alias refused", with(func(in *CreateGrantInput) { in.KeyID = "alias/x" }), ErrNotFound, ""},
		{"unknown key", with(func(in *CreateGrantInput) { in.KeyID = "99999999-0000-4000-8000-000000000000" }), ErrNotFound, "does not exist"},
		{"bad token", with(func(in *CreateGrantInput) { in.GrantTokens = []string{"x"} }), ErrInvalidGrantToken, ""},
		{"dry run", with(func(in *CreateGrantInput) { in.DryRun = true }), ErrDryRun, "DryRun"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e.au.take()
			_, _, err := e.s.CreateGrant(ctx, rootA, tc.in)
			wantErr(t, err, tc.kind, tc.want)
			if ev := e.au.take(); len(ev) != 1 || ev[0].Name != "CreateGrant" || ev[0].ErrorCode != tc.kind.Error() {
				t.Fatalf("audit: %+v", ev)
			}
		})
	}
	// Another account may not create grants on A's key by default.
	_, _, err := e.s.CreateGrant(ctx, bobB, with(func(in *CreateGrantInput) { in.KeyID = k.ARN }))
	wantErr(t, err, ErrAccessDenied, "kms:CreateGrant")

	// Same name and parameters: the same grant; other parameters: another.
	named := with(func(in *CreateGrantInput) { in.Name = "retry-1" })
	_, id1 := mustGrant(t, e, rootA, named)
	_, id2 := mustGrant(t, e, rootA, named)
	_, id3 := mustGrant(t, e, rootA, with(func(in *CreateGrantInput) { in.Name = "retry-1"; in.Operations = []string{"Encrypt"} }))
	_, id4 := mustGrant(t, e, rootA, base)
	_, id5 := mustGrant(t, e, rootA, base)
	if id1 != id2 || id1 == id3 || id4 == id5 {
		t.Fatalf("named grant ids %s %s %s, unnamed %s %s", id1, id2, id3, id4, id5)
	}
	gs, _, err := e.s.ListGrants(ctx, rootA, k.ID, "", "", Page{})
	if err != nil || len(gs) != 4 {
		t.Fatalf("ListGrants: %d grants, %v", len(gs), err)
	}

	// kms:GrantOperations and kms:GrantIsForAWSResource conditions.
	ck := e.key(t, acctA, keyPolicyDoc(
		`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::222222222222:root"},"Action":"kms:CreateGrant","Resource":"*","Condition":{"ForAllValues:StringEquals":{"kms:GrantOperations":["Decrypt","Encrypt"]},"Bool":{"kms:GrantIsForAWSResource":"true"}}}`))
	in := CreateGrantInput{KeyID: ck.ARN, GranteePrincipal: bobB.Principal, Operations: []string{"Decrypt"}}
	_, _, err = e.s.CreateGrant(ctx, bobB, in)
	wantErr(t, err, ErrAccessDenied, "")
	mustGrant(t, e, via(bobB, "ebs.us-east-1.amazonaws.com"), in)
	in.Operations = []string{"Decrypt", "ReEncryptFrom"}
	_, _, err = e.s.CreateGrant(ctx, via(bobB, "ebs.us-east-1.amazonaws.com"), in)
	wantErr(t, err, ErrAccessDenied, "")

	// A grant that allows CreateGrant: sub-grants with a subset of its
	// operations and constraints at least as strict.
	pk := e.key(t, acctA, "")
	mustGrant(t, e, rootA, CreateGrantInput{KeyID: pk.ID, GranteePrincipal: bobB.Principal, Operations: []string{"Decrypt", "CreateGrant"},
		Constraints: &GrantConstraints{EncryptionContextSubset: map[string]string{"t": "1"}}})
	sub := func(ops []string, c *GrantConstraints) error {
		_, _, err := e.s.CreateGrant(ctx, bobB, CreateGrantInput{KeyID: pk.ARN, GranteePrincipal: carolB.Principal, Operations: ops, Constraints: c})
		return err
	}
	wantErr(t, sub([]string{"Decrypt"}, &GrantConstraints{EncryptionContextSubset: map[string]string{"t": "1", "u": "2"}}), nil, "")
	wantErr(t, sub([]string{"Decrypt"}, &GrantConstraints{EncryptionContextEquals: map[string]string{"t": "1"}}), nil, "")
	wantErr(t, sub([]string{"Decrypt"}, nil), ErrAccessDenied, "")
	wantErr(t, sub([]string{"Decrypt"}, &GrantConstraints{EncryptionContextSubset: map[string]string{"t": "2"}}), ErrAccessDenied, "")
	wantErr(t, sub([]string{"Encrypt"}, &GrantConstraints{EncryptionContextSubset: map[string]string{"t": "1"}}), ErrAccessDenied, "")

	// Key states.
	for state, kind := range map[string]error{"Disabled": ErrDisabled, "PendingDeletion": ErrInvalidState} {
		sk := e.key(t, acctA, "")
		if _, err := e.st.UpdateKey(ctx, sk.ID, e.s.sealedUpdate(sk.ID, 0, func(k *store.Key) error { k.KeyState = state; return nil })); err != nil {
			t.Fatal(err)
		}
		_, _, err := e.s.CreateGrant(ctx, rootA, CreateGrantInput{KeyID: sk.ID, GranteePrincipal: bobB.Principal, Operations: []string{"Decrypt"}})
		wantErr(t, err, kind, sk.ARN)
	}
}

// testGrantList: ListGrants paging and filters, ListRetirableGrants.
func testGrantList(t *testing.T, e *env) {
	ctx := context.Background()
	k := e.key(t, acctA, "")
	ids := map[string]bool{}
	for _, g := range []string{bobB.Principal, carolB.Principal, bobB.Principal} {
		_, id := mustGrant(t, e, rootA, CreateGrantInput{KeyID: k.ID, GranteePrincipal: g, RetiringPrincipal: aliceA.Principal, Operations: []string{"Decrypt"},
			Constraints: &GrantConstraints{EncryptionContextEquals: map[string]string{"a": "b"}}})
		ids[id] = true
	}
	e.au.take()
	p1, next, err := e.s.ListGrants(ctx, rootA, k.ARN, "", "", Page{Limit: 2})
	if err != nil || len(p1) != 2 || next == "" {
		t.Fatalf("page 1: %d %q %v", len(p1), next, err)
	}
	p2, next2, err := e.s.ListGrants(ctx, rootA, k.ARN, "", "", Page{Limit: 2, Marker: next})
	if err != nil || len(p2) != 1 || next2 != "" {
		t.Fatalf("page 2: %d %q %v", len(p2), next2, err)
	}
	for _, g := range append(p1, p2...) {
		if !ids[g.GrantID] || g.KeyARN != k.ARN || g.IssuingAccount != "arn:aws:iam::"+acctA+":root" ||
			g.Constraints == nil || g.Constraints.EncryptionContextEquals["a"] != "b" || g.CreationDate.IsZero() {
			t.Fatalf("entry %+v", g)
		}
		delete(ids, g.GrantID)
	}
	if len(ids) != 0 {
		t.Fatalf("not listed: %v", ids)
	}
	if ev := e.au.take(); len(ev) != 2 || ev[0].Name != "ListGrants" || !ev[0].ReadOnly {
		t.Fatalf("audit: %+v", ev)
	}
	byBob, _, err := e.s.ListGrants(ctx, rootA, k.ID, "", bobB.Principal, Page{})
	if err != nil || len(byBob) != 2 {
		t.Fatalf("filter grantee: %d %v", len(byBob), err)
	}
	one, _, err := e.s.ListGrants(ctx, rootA, k.ID, byBob[0].GrantID, "", Page{})
	if err != nil || len(one) != 1 || one[0].GrantID != byBob[0].GrantID {
		t.Fatalf("filter id: %+v %v", one, err)
	}
	_, _, err = e.s.ListGrants(ctx, rootA, k.ID, "", "", Page{Marker: "zz"})
	wantErr(t, err, ErrInvalidMarker, "")
	_, _, err = e.s.ListGrants(ctx, rootA, k.ID, "", "", Page{Limit: 1001})
	wantErr(t, err, ErrValidation, "limit")
	_, _, err = e.s.ListGrants(ctx, bobB, k.ARN, "", "", Page{})
	wantErr(t, err, ErrAccessDenied, "kms:ListGrants")

	e.au.take()
	rg, next, err := e.s.ListRetirableGrants(ctx, aliceA, aliceA.Principal, Page{Limit: 2})
	if err != nil || len(rg) != 2 || next == "" {
		t.Fatalf("retirable page 1: %d %q %v", len(rg), next, err)
	}
	rg2, next, err := e.s.ListRetirableGrants(ctx, aliceA, aliceA.Principal, Page{Limit: 2, Marker: next})
	if err != nil || len(rg2) != 1 || next != "" || rg2[0].KeyARN != k.ARN {
		t.Fatalf("retirable page 2: %+v %q %v", rg2, next, err)
	}
	_, _, err = e.s.ListRetirableGrants(ctx, aliceA, "", Page{})
	wantErr(t, err, ErrValidation, "retiringPrincipal")
	_, _, err = e.s.ListRetirableGrants(ctx, bobB, aliceA.Principal, Page{})
	wantErr(t, err, ErrAccessDenied, "")
	if ev := e.au.take(); len(ev) != 4 || ev[3].Name != "ListRetirableGrants" {
		t.Fatalf("audit: %+v", ev)
	}
}

// testGrantNodes: two nodes over one store. A grant created on one node is
// usable on the other at once with its token, and without it once the
// other node's grant cache expires; a revoked grant stops working on the
// node that revoked it at once and on the other within CacheTTL.
func testGrantNodes(t *testing.T, n1, n2 *env) {
	ctx := context.Background()
	k := n1.key(t, acctA, "")
	use := func(n *env, tokens ...string) error {
		return n.s.authorize(ctx, bobB, k, "kms:Decrypt", Access{GrantTokens: tokens})
	}
	wantErr(t, use(n2), ErrAccessDenied, "") // n2 caches "no grants"
	tok, id := mustGrant(t, n1, rootA, CreateGrantInput{KeyID: k.ID, GranteePrincipal: bobB.Principal, Operations: []string{"Decrypt"}})
	wantErr(t, use(n1), nil, "")
	wantErr(t, use(n2, tok), nil, "")
	wantErr(t, use(n2), ErrAccessDenied, "") // not seen without the token until the cache expires
	n2.clk.add(time.Minute)
	wantErr(t, use(n2), nil, "")
	wantErr(t, n1.s.RevokeGrant(ctx, rootA, k.ID, id), nil, "")
	wantErr(t, use(n1), ErrAccessDenied, "")
	wantErr(t, use(n2), nil, "") // n2's cache still holds it (AWS: eventual consistency)
	n2.clk.add(time.Minute)
	wantErr(t, use(n2), ErrAccessDenied, "")

	// A token naming a grant that is gone drops the node's cached grants.
	tok, id = mustGrant(t, n1, rootA, CreateGrantInput{KeyID: k.ID, GranteePrincipal: bobB.Principal, Operations: []string{"Decrypt"}})
	n2.clk.add(time.Minute)
	wantErr(t, use(n2), nil, "")
	wantErr(t, n1.s.RetireGrant(ctx, rootA, "", k.ID, id), nil, "")
	wantErr(t, use(n2, tok), ErrAccessDenied, "")
	wantErr(t, use(n2), ErrAccessDenied, "")
}

// TestGrantsConcurrent authorizes a grantee while grants are created and
// revoked and policies change (run with -race).
func TestGrantsConcurrent(t *testing.T) {
	e := newEnv(t, openPebble(t), time.Minute)
	ctx := context.Background()
	k := e.key(t, acctA, "")
	_, keep := mustGrant(t, e, rootA, CreateGrantInput{KeyID: k.ID, GranteePrincipal: bobB.Principal, Operations: []string{"Decrypt"}})
	done := make(chan struct{})
	errs := make(chan error, 4)
	for w := 0; w < 3; w++ {
		go func(w int) {
			kk := k
			for i := 0; ; i++ {
				select {
				case <-done:
					errs <- nil
					return
				default:
				}
				if w == 2 {
					kk.Policy = keyPolicyDoc(rootStmtA, fmt.Sprintf(`{"Sid":"s%d","Effect":"Allow","Principal":{"AWS":"%s"},"Action":"kms:Encrypt","Resource":"*"}`, i%50, acctB))
				}
				if err := e.s.authorize(ctx, bobB, kk, "kms:Decrypt", Access{}); err != nil {
					errs <- err
					return
				}
			}
		}(w)
	}
	for i := 0; i < 30; i++ {
		_, id := mustGrant(t, e, rootA, CreateGrantInput{KeyID: k.ID, GranteePrincipal: carolB.Principal, Operations: []string{"Encrypt"}})
		if err := e.s.RevokeGrant(ctx, rootA, k.ID, id); err != nil {
			t.Fatal(err)
		}
	}
	close(done)
	for w := 0; w < 3; w++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if err := e.s.RevokeGrant(ctx, rootA, k.ID, keep); err != nil {
		t.Fatal(err)
	}
	wantErr(t, e.s.authorize(ctx, bobB, k, "kms:Decrypt", Access{}), ErrAccessDenied, "")
}
