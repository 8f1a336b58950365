package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/store"
)

// KeyHarness opens key stores for RunKeys.
type KeyHarness interface {
	// OpenKeys returns an empty key store.
	OpenKeys(t *testing.T) store.KeyStore
	// ReopenKeys closes ks and opens the same data again (a restart).
	ReopenKeys(t *testing.T, ks store.KeyStore) store.KeyStore
}

// KeysOf adapts a Harness whose stores also implement store.KeyStore.
func KeysOf(h Harness) KeyHarness { return keysOf{part[store.KeyStore]{h}} }

type keysOf struct{ part[store.KeyStore] }

func (k keysOf) OpenKeys(t *testing.T) store.KeyStore { return k.open(t) }

func (k keysOf) ReopenKeys(t *testing.T, ks store.KeyStore) store.KeyStore { return k.reopen(t, ks) }

// RunKeys runs the key store part of the suite.
func RunKeys(t *testing.T, h KeyHarness) {
	runPart(t, h, []partTest[KeyHarness]{
		{"Keys", testKeys},
		{"ListKeysPaging", testListKeysPaging},
		{"ConcurrentUpdateKey", testConcurrentUpdateKey},
		{"Rotation", testRotation},
		{"ConcurrentRotation", testConcurrentRotation},
		{"CreateRacingDeleteKey", testCreateRacingDeleteKey},
		{"Aliases", testAliases},
		{"Grants", testGrants},
		{"DeleteKeyCascades", testDeleteKeyCascades},
		{"KeysDue", testKeysDue},
		{"KeysSurviveRestart", testKeysSurviveRestart},
	})
}

// kt is a time the database can hold exactly (microseconds, UTC).
var kt = time.Date(2026, 11, 30, 12, 0, 0, 123456000, time.UTC)

var keySeq struct {
	sync.Mutex
	n int
}

func newKeyID() string {
	keySeq.Lock()
	defer keySeq.Unlock()
	keySeq.n++
	return fmt.Sprintf("00000000-0000-4000-8000-%012d", keySeq.n)
}

func newKey(account, reg string) store.Key {
	id := newKeyID()
	return store.Key{
		ID: id, ARN: fmt.Sprintf("arn:aws:kms:%s:%s:key/%s", reg, account, id), Account: account, Region: reg,
		Description: "test key", KeyState: "Enabled", KeyManager: "CUSTOMER", KeySpec: "SYMMETRIC_DEFAULT",
		KeyUsage: "ENCRYPT_DECRYPT", Origin: "AWS_KMS", CreatedAt: kt, PendingWindowDays: 30,
		Policy: `{"Version":"2012-10-17","Statement":[]}`, Tags: map[string]string{"team": "a"},
		MAC: []byte{1, 2, 3},
	}
}

func sealed(id string, v int) []byte { return []byte(fmt.Sprintf("sealed\x00%s\x00%d", id, v)) }

func mkKey(t *testing.T, ks store.KeyStore, account, reg string) store.Key {
	t.Helper()
	k := newKey(account, reg)
	got, err := ks.CreateKey(context.Background(), k, &store.Material{Version: 1, CreatedAt: kt,
		MaterialID: "m1-" + k.ID, Sealed: sealed(k.ID, 1)})
	if err != nil {
		t.Fatalf("CreateKey: %v", err)
	}
	return got
}

func sameKey(t *testing.T, what string, got, want store.Key) {
	t.Helper()
	if got.ID != want.ID || got.ARN != want.ARN || got.Account != want.Account || got.Region != want.Region ||
		got.Description != want.Description || got.KeyState != want.KeyState || got.KeyManager != want.KeyManager ||
		got.KeySpec != want.KeySpec || got.KeyUsage != want.KeyUsage || got.Origin != want.Origin ||
		!got.CreatedAt.Equal(want.CreatedAt) || !got.DeletionDate.Equal(want.DeletionDate) ||
		got.PendingWindowDays != want.PendingWindowDays || got.RotationEnabled != want.RotationEnabled ||
		got.RotationPeriodDays != want.RotationPeriodDays || !got.NextRotation.Equal(want.NextRotation) ||
		got.Policy != want.Policy || fmt.Sprint(got.Tags) != fmt.Sprint(want.Tags) || got.MultiRegion != want.MultiRegion ||
		got.CurrentVersion != want.CurrentVersion || got.Revision != want.Revision || !bytes.Equal(got.MAC, want.MAC) {
		t.Fatalf("%s:\n got %+v\nwant %+v", what, got, want)
	}
}

func testKeys(t *testing.T, h KeyHarness) {
	ctx := context.Background()
	ks := h.OpenKeys(t)
	k := newKey(acct, region)
	m := &store.Material{Version: 1, CreatedAt: kt, MaterialID: "m1", Sealed: sealed(k.ID, 1)}
	created, err := ks.CreateKey(ctx, k, m)
	if err != nil {
		t.Fatal(err)
	}
	want := k
	want.CurrentVersion, want.Revision = 1, 1
	sameKey(t, "CreateKey", created, want)
	got, err := ks.GetKey(ctx, k.ID)
	if err != nil {
		t.Fatal(err)
	}
	sameKey(t, "GetKey", got, want)
	if !got.DeletionDate.IsZero() || !got.NextRotation.IsZero() {
		t.Fatalf("unset times came back set: %v %v", got.DeletionDate, got.NextRotation)
	}
	if _, err := ks.CreateKey(ctx, k, m); !errors.Is(err, store.ErrExists) {
		t.Fatalf("second CreateKey: %v, want ErrExists", err)
	}
	if _, err := ks.GetKey(ctx, newKeyID()); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetKey missing: %v", err)
	}

	// A key without material yet.
	bare := newKey(acct, region)
	if got, err := ks.CreateKey(ctx, bare, nil); err != nil || got.CurrentVersion != 0 || got.Revision != 1 {
		t.Fatalf("CreateKey without material: %+v %v", got, err)
	}

	del := kt.Add(7 * 24 * time.Hour)
	up, err := ks.UpdateKey(ctx, k.ID, func(k *store.Key) error {
		k.KeyState = "PendingDeletion"
		k.DeletionDate = del
		k.PendingWindowDays = 7
		k.Tags["env"] = "prod"
		k.Description = "changed"
		k.MAC = []byte{9}
		k.ID, k.Account, k.CurrentVersion, k.Revision = "other", "999999999999", 42, 42 // ignored
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want.KeyState, want.DeletionDate, want.PendingWindowDays = "PendingDeletion", del, 7
	want.Tags = map[string]string{"team": "a", "env": "prod"}
	want.Description, want.MAC, want.Revision = "changed", []byte{9}, 2
	sameKey(t, "UpdateKey", up, want)
	got, _ = ks.GetKey(ctx, k.ID)
	sameKey(t, "GetKey after UpdateKey", got, want)

	boom := errors.New("boom")
	if _, err := ks.UpdateKey(ctx, k.ID, func(k *store.Key) error { k.KeyState = "Disabled"; k.Tags["x"] = "y"; return boom }); !errors.Is(err, boom) {
		t.Fatalf("UpdateKey fn error: %v", err)
	}
	got, _ = ks.GetKey(ctx, k.ID)
	sameKey(t, "GetKey after aborted UpdateKey", got, want)
	if _, err := ks.UpdateKey(ctx, newKeyID(), func(*store.Key) error { return nil }); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("UpdateKey missing: %v", err)
	}

	// Clearing an optional time stores it as unset.
	up, err = ks.UpdateKey(ctx, k.ID, func(k *store.Key) error { k.DeletionDate = time.Time{}; k.KeyState = "Disabled"; return nil })
	if err != nil || !up.DeletionDate.IsZero() {
		t.Fatalf("UpdateKey clearing DeletionDate: %+v %v", up, err)
	}
	if got, _ := ks.GetKey(ctx, k.ID); !got.DeletionDate.IsZero() || got.Revision != 3 {
		t.Fatalf("GetKey after clearing DeletionDate: %+v", got)
	}
	if err := ks.DeleteKey(ctx, newKeyID()); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("DeleteKey missing: %v", err)
	}
}

func testListKeysPaging(t *testing.T, h KeyHarness) {
	ctx := context.Background()
	ks := h.OpenKeys(t)
	var want []string
	for i := 0; i < 25; i++ {
		want = append(want, mkKey(t, ks, acct, region).ID)
	}
	// Other accounts and regions must not show up.
	mkKey(t, ks, "111111111111", region)
	mkKey(t, ks, acct, "eu-west-1")
	sort.Strings(want)
	var got []string
	cursor, pages := "", 0
	for {
		keys, next, err := ks.ListKeys(ctx, acct, region, store.Page{After: cursor, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		pages++
		if len(keys) > 10 {
			t.Fatalf("page of %d", len(keys))
		}
		for _, k := range keys {
			got = append(got, k.ID)
		}
		if next == "" {
			break
		}
		cursor = next
	}
	if fmt.Sprint(got) != fmt.Sprint(want) || pages != 3 {
		t.Fatalf("listed %d keys in %d pages, want %d in 3 in ID order:\n got %v\nwant %v", len(got), pages, len(want), got, want)
	}
	other, next, err := ks.ListKeys(ctx, "111111111111", region, store.Page{})
	if err != nil || len(other) != 1 || next != "" || other[0].Account != "111111111111" {
		t.Fatalf("ListKeys other account: %+v %q %v", other, next, err)
	}
	none, next, err := ks.ListKeys(ctx, "222222222222", region, store.Page{})
	if err != nil || len(none) != 0 || next != "" {
		t.Fatalf("ListKeys empty account: %+v %q %v", none, next, err)
	}
}

func testConcurrentUpdateKey(t *testing.T, h KeyHarness) {
	ctx := context.Background()
	ks := h.OpenKeys(t)
	k := mkKey(t, ks, acct, region)
	const workers, each = 16, 8
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				if _, err := ks.UpdateKey(ctx, k.ID, func(k *store.Key) error { k.RotationPeriodDays++; return nil }); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	got, err := ks.GetKey(ctx, k.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.RotationPeriodDays != workers*each || got.Revision != 1+workers*each {
		t.Fatalf("after %d concurrent updates: counter %d, revision %d", workers*each, got.RotationPeriodDays, got.Revision)
	}
}

func testRotation(t *testing.T, h KeyHarness) {
	ctx := context.Background()
	ks := h.OpenKeys(t)
	k := mkKey(t, ks, acct, region)
	next := kt.Add(365 * 24 * time.Hour)
	for v := 2; v <= 5; v++ {
		rt := "ON_DEMAND"
		if v%2 == 1 {
			rt = "AUTOMATIC"
		}
		got, err := ks.AddMaterial(ctx, k.ID, store.Material{Version: v, CreatedAt: kt.Add(time.Duration(v) * time.Hour),
			RotationType: rt, MaterialID: fmt.Sprintf("m%d", v), Sealed: sealed(k.ID, v)},
			func(k *store.Key) error { k.NextRotation = next; return nil })
		if err != nil {
			t.Fatalf("AddMaterial %d: %v", v, err)
		}
		if got.CurrentVersion != v || !got.NextRotation.Equal(next) || got.Revision != int64(v) {
			t.Fatalf("AddMaterial %d returned %+v", v, got)
		}
	}
	// Not the next version: a concurrent rotation won.
	for _, v := range []int{5, 3, 7} {
		if _, err := ks.AddMaterial(ctx, k.ID, store.Material{Version: v, CreatedAt: kt, Sealed: []byte("x")}, nil); !errors.Is(err, store.ErrExists) {
			t.Fatalf("AddMaterial version %d at current 5: %v, want ErrExists", v, err)
		}
	}
	boom := errors.New("boom")
	if _, err := ks.AddMaterial(ctx, k.ID, store.Material{Version: 6, CreatedAt: kt, Sealed: []byte("x")},
		func(*store.Key) error { return boom }); !errors.Is(err, boom) {
		t.Fatalf("AddMaterial fn error: %v", err)
	}
	if _, err := ks.GetMaterial(ctx, k.ID, 6); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("aborted AddMaterial left version 6: %v", err)
	}
	if _, err := ks.AddMaterial(ctx, newKeyID(), store.Material{Version: 1, CreatedAt: kt, Sealed: []byte("x")}, nil); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("AddMaterial missing key: %v", err)
	}
	got, _ := ks.GetKey(ctx, k.ID)
	if got.CurrentVersion != 5 {
		t.Fatalf("CurrentVersion %d, want 5", got.CurrentVersion)
	}
	// Every version stays readable.
	for v := 1; v <= 5; v++ {
		m, err := ks.GetMaterial(ctx, k.ID, v)
		if err != nil || m.Version != v || !bytes.Equal(m.Sealed, sealed(k.ID, v)) {
			t.Fatalf("GetMaterial %d: %+v %v", v, m, err)
		}
	}
	m3, _ := ks.GetMaterial(ctx, k.ID, 3)
	if m3.RotationType != "AUTOMATIC" || m3.MaterialID != "m3" || !m3.CreatedAt.Equal(kt.Add(3*time.Hour)) {
		t.Fatalf("GetMaterial 3: %+v", m3)
	}
	if _, err := ks.GetMaterial(ctx, k.ID, 9); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetMaterial missing version: %v", err)
	}
	var vs []int
	cursor := ""
	for {
		ms, next, err := ks.ListMaterials(ctx, k.ID, store.Page{After: cursor, Limit: 2})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range ms {
			if m.Sealed != nil {
				t.Fatalf("ListMaterials returned sealed bytes of version %d", m.Version)
			}
			if m.MaterialID != fmt.Sprintf("m%d", m.Version) && m.Version != 1 {
				t.Fatalf("ListMaterials: %+v", m)
			}
			vs = append(vs, m.Version)
		}
		if next == "" {
			break
		}
		cursor = next
	}
	if fmt.Sprint(vs) != "[1 2 3 4 5]" {
		t.Fatalf("ListMaterials: %v", vs)
	}
	if _, _, err := ks.ListMaterials(ctx, newKeyID(), store.Page{}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("ListMaterials missing key: %v", err)
	}
}

// testConcurrentRotation races AddMaterial for one version: exactly one
// wins, the others get ErrExists.
func testConcurrentRotation(t *testing.T, h KeyHarness) {
	ctx := context.Background()
	ks := h.OpenKeys(t)
	k := mkKey(t, ks, acct, region)
	const racers = 8
	var wg sync.WaitGroup
	results := make(chan error, racers)
	for i := 0; i < racers; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			_, err := ks.AddMaterial(ctx, k.ID, store.Material{Version: 2, CreatedAt: kt, Sealed: []byte{byte(i)}}, nil)
			results <- err
		}(i)
	}
	wg.Wait()
	close(results)
	won := 0
	for err := range results {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, store.ErrExists):
			t.Fatalf("AddMaterial race: %v", err)
		}
	}
	got, _ := ks.GetKey(ctx, k.ID)
	if won != 1 || got.CurrentVersion != 2 || got.Revision != 2 {
		t.Fatalf("%d racers won; key %+v", won, got)
	}
}

// testCreateRacingDeleteKey races CreateAlias and CreateGrant with the
// deletion of their key: afterwards nothing may point to the deleted key.
func testCreateRacingDeleteKey(t *testing.T, h KeyHarness) {
	ctx := context.Background()
	ks := h.OpenKeys(t)
	for i := 0; i < 10; i++ {
		k := mkKey(t, ks, acct, region)
		name := fmt.Sprintf("alias/race%d", i)
		gid := fmt.Sprintf("race%d", i)
		var wg sync.WaitGroup
		wg.Add(3)
		go func() {
			defer wg.Done()
			ks.CreateAlias(ctx, store.Alias{Account: acct, Region: region, Name: name, KeyID: k.ID, CreatedAt: kt, UpdatedAt: kt})
		}()
		go func() {
			defer wg.Done()
			ks.CreateGrant(ctx, store.Grant{ID: gid, KeyID: k.ID, GranteePrincipal: "p", RetiringPrincipal: "r", CreatedAt: kt})
		}()
		var derr error
		go func() {
			defer wg.Done()
			derr = ks.DeleteKey(ctx, k.ID)
		}()
		wg.Wait()
		if derr != nil {
			t.Fatalf("DeleteKey: %v", derr)
		}
		if a, err := ks.GetAlias(ctx, acct, region, name); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("round %d: alias to a deleted key survived: %+v %v", i, a, err)
		}
		if g, err := ks.GetGrant(ctx, gid); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("round %d: grant on a deleted key survived: %+v %v", i, g, err)
		}
		if gs, _, err := ks.ListRetirableGrants(ctx, "r", store.Page{}); err != nil || len(gs) != 0 {
			t.Fatalf("round %d: retirable grants of a deleted key: %+v %v", i, gs, err)
		}
	}
}

func testAliases(t *testing.T, h KeyHarness) {
	ctx := context.Background()
	ks := h.OpenKeys(t)
	k1, k2 := mkKey(t, ks, acct, region), mkKey(t, ks, acct, region)
	a := store.Alias{Account: acct, Region: region, Name: "alias/app", KeyID: k1.ID, CreatedAt: kt, UpdatedAt: kt}
	if got, err := ks.CreateAlias(ctx, a); err != nil || got.KeyID != k1.ID {
		t.Fatalf("CreateAlias: %+v %v", got, err)
	}
	dup := a
	dup.KeyID = k2.ID
	if _, err := ks.CreateAlias(ctx, dup); !errors.Is(err, store.ErrExists) {
		t.Fatalf("duplicate alias: %v, want ErrExists", err)
	}
	// The same name in another account or region is another alias.
	other := mkKey(t, ks, "111111111111", region)
	if _, err := ks.CreateAlias(ctx, store.Alias{Account: "111111111111", Region: region, Name: "alias/app", KeyID: other.ID, CreatedAt: kt, UpdatedAt: kt}); err != nil {
		t.Fatalf("same alias name in another account: %v", err)
	}
	eu := mkKey(t, ks, acct, "eu-west-1")
	if _, err := ks.CreateAlias(ctx, store.Alias{Account: acct, Region: "eu-west-1", Name: "alias/app", KeyID: eu.ID, CreatedAt: kt, UpdatedAt: kt}); err != nil {
		t.Fatalf("same alias name in another region: %v", err)
	}
	if _, err := ks.CreateAlias(ctx, store.Alias{Account: acct, Region: region, Name: "alias/orphan", KeyID: newKeyID(), CreatedAt: kt}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("alias to a missing key: %v, want ErrNotFound", err)
	}
	got, err := ks.GetAlias(ctx, acct, region, "alias/app")
	if err != nil || got.KeyID != k1.ID || got.Name != "alias/app" || !got.CreatedAt.Equal(kt) || !got.UpdatedAt.Equal(kt) {
		t.Fatalf("GetAlias: %+v %v", got, err)
	}
	if _, err := ks.GetAlias(ctx, acct, region, "alias/none"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetAlias missing: %v", err)
	}
	later := kt.Add(time.Hour)
	up, err := ks.UpdateAlias(ctx, acct, region, "alias/app", k2.ID, later)
	if err != nil || up.KeyID != k2.ID || !up.UpdatedAt.Equal(later) || !up.CreatedAt.Equal(kt) {
		t.Fatalf("UpdateAlias: %+v %v", up, err)
	}
	if got, _ := ks.GetAlias(ctx, acct, region, "alias/app"); got.KeyID != k2.ID {
		t.Fatalf("GetAlias after update: %+v", got)
	}
	if _, err := ks.UpdateAlias(ctx, acct, region, "alias/none", k2.ID, later); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("UpdateAlias missing: %v", err)
	}
	if _, err := ks.UpdateAlias(ctx, acct, region, "alias/app", newKeyID(), later); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("UpdateAlias to a missing key: %v", err)
	}
	if got, _ := ks.GetAlias(ctx, acct, region, "alias/app"); got.KeyID != k2.ID {
		t.Fatalf("failed UpdateAlias changed the alias: %+v", got)
	}

	// Paging, the key filter and isolation.
	var want1 []string
	for i := 0; i < 12; i++ {
		target := k1
		if i%3 == 0 {
			target = k2
		}
		n := fmt.Sprintf("alias/p%02d", i)
		if _, err := ks.CreateAlias(ctx, store.Alias{Account: acct, Region: region, Name: n, KeyID: target.ID, CreatedAt: kt, UpdatedAt: kt}); err != nil {
			t.Fatal(err)
		}
		if target.ID == k1.ID {
			want1 = append(want1, n)
		}
	}
	list := func(keyID string) []string {
		var names []string
		cursor := ""
		for {
			as, next, err := ks.ListAliases(ctx, acct, region, keyID, store.Page{After: cursor, Limit: 5})
			if err != nil {
				t.Fatal(err)
			}
			if len(as) > 5 {
				t.Fatalf("page of %d", len(as))
			}
			for _, a := range as {
				if a.Account != acct || a.Region != region {
					t.Fatalf("alias of another scope listed: %+v", a)
				}
				names = append(names, a.Name)
			}
			if next == "" {
				return names
			}
			cursor = next
		}
	}
	all := list("")
	if len(all) != 13 || !sort.StringsAreSorted(all) {
		t.Fatalf("ListAliases: %v", all)
	}
	if got := list(k1.ID); fmt.Sprint(got) != fmt.Sprint(want1) {
		t.Fatalf("ListAliases for k1: %v, want %v", got, want1)
	}
	// k2 has exactly 5 aliases (app, p00, p03, p06, p09) and k1's follow
	// them: one full page and no cursor.
	if as, next, err := ks.ListAliases(ctx, acct, region, k2.ID, store.Page{Limit: 5}); err != nil || len(as) != 5 || next != "" {
		t.Fatalf("ListAliases filling its last page: %d aliases, cursor %q, %v", len(as), next, err)
	}
	if err := ks.DeleteAlias(ctx, acct, region, "alias/app"); err != nil {
		t.Fatal(err)
	}
	if err := ks.DeleteAlias(ctx, acct, region, "alias/app"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("DeleteAlias twice: %v", err)
	}
	if _, err := ks.GetAlias(ctx, "111111111111", region, "alias/app"); err != nil {
		t.Fatalf("deleting one account's alias touched another's: %v", err)
	}
}

func testGrants(t *testing.T, h KeyHarness) {
	ctx := context.Background()
	ks := h.OpenKeys(t)
	k1, k2 := mkKey(t, ks, acct, region), mkKey(t, ks, "111111111111", region)
	retiree := "arn:aws:iam::222222222222:role/retiree"
	mk := func(id string, k store.Key, retiring string) store.Grant {
		return store.Grant{ID: id, KeyID: k.ID, GranteePrincipal: "arn:aws:iam::222222222222:role/app",
			RetiringPrincipal: retiring, Operations: []string{"Encrypt", "Decrypt"},
			Constraints: `{"EncryptionContextSubset":{"dept":"a"}}`, Name: "n-" + id, CreatedAt: kt,
			IssuingAccount: k.Account, MAC: []byte("mac-" + id)}
	}
	g := mk(fmt.Sprintf("%064x", 1), k1, retiree)
	if got, err := ks.CreateGrant(ctx, g); err != nil || got.ID != g.ID {
		t.Fatalf("CreateGrant: %+v %v", got, err)
	}
	if _, err := ks.CreateGrant(ctx, g); !errors.Is(err, store.ErrExists) {
		t.Fatalf("second CreateGrant: %v, want ErrExists", err)
	}
	orphan := mk(fmt.Sprintf("%064x", 2), k1, "")
	orphan.KeyID = newKeyID()
	if _, err := ks.CreateGrant(ctx, orphan); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("grant on a missing key: %v, want ErrNotFound", err)
	}
	got, err := ks.GetGrant(ctx, g.ID)
	if err != nil || got.KeyID != k1.ID || got.GranteePrincipal != g.GranteePrincipal || got.RetiringPrincipal != retiree ||
		fmt.Sprint(got.Operations) != "[Encrypt Decrypt]" || got.Constraints != g.Constraints || got.Name != g.Name ||
		!got.CreatedAt.Equal(kt) || got.IssuingAccount != acct || !bytes.Equal(got.MAC, g.MAC) {
		t.Fatalf("GetGrant: %+v %v", got, err)
	}
	if _, err := ks.GetGrant(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetGrant missing: %v", err)
	}
	for i := 10; i < 21; i++ {
		if _, err := ks.CreateGrant(ctx, mk(fmt.Sprintf("%064x", i), k1, "")); err != nil {
			t.Fatal(err)
		}
	}
	// Grants on a key of another account, one retirable by the same principal.
	if _, err := ks.CreateGrant(ctx, mk(fmt.Sprintf("%064x", 3), k2, retiree)); err != nil {
		t.Fatal(err)
	}
	if _, err := ks.CreateGrant(ctx, mk(fmt.Sprintf("%064x", 4), k2, "arn:aws:iam::333333333333:root")); err != nil {
		t.Fatal(err)
	}
	list := func(fn func(store.Page) ([]store.Grant, string, error)) []string {
		var ids []string
		cursor := ""
		for {
			gs, next, err := fn(store.Page{After: cursor, Limit: 5})
			if err != nil {
				t.Fatal(err)
			}
			if len(gs) > 5 {
				t.Fatalf("page of %d", len(gs))
			}
			for _, g := range gs {
				ids = append(ids, g.ID)
			}
			if next == "" {
				return ids
			}
			cursor = next
		}
	}
	byKey := list(func(p store.Page) ([]store.Grant, string, error) { return ks.ListGrants(ctx, k1.ID, p) })
	if len(byKey) != 12 || !sort.StringsAreSorted(byKey) {
		t.Fatalf("ListGrants k1: %v", byKey)
	}
	if ids := list(func(p store.Page) ([]store.Grant, string, error) { return ks.ListGrants(ctx, k2.ID, p) }); len(ids) != 2 {
		t.Fatalf("ListGrants k2: %v", ids)
	}
	ret := list(func(p store.Page) ([]store.Grant, string, error) { return ks.ListRetirableGrants(ctx, retiree, p) })
	if fmt.Sprint(ret) != fmt.Sprint([]string{fmt.Sprintf("%064x", 1), fmt.Sprintf("%064x", 3)}) {
		t.Fatalf("ListRetirableGrants: %v", ret)
	}
	if err := ks.DeleteGrant(ctx, g.ID); err != nil {
		t.Fatal(err)
	}
	if err := ks.DeleteGrant(ctx, g.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("DeleteGrant twice: %v", err)
	}
	if _, err := ks.GetGrant(ctx, g.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetGrant after delete: %v", err)
	}
	ret = list(func(p store.Page) ([]store.Grant, string, error) { return ks.ListRetirableGrants(ctx, retiree, p) })
	if fmt.Sprint(ret) != fmt.Sprint([]string{fmt.Sprintf("%064x", 3)}) {
		t.Fatalf("ListRetirableGrants after delete: %v", ret)
	}
	if ids := list(func(p store.Page) ([]store.Grant, string, error) { return ks.ListGrants(ctx, k1.ID, p) }); len(ids) != 11 {
		t.Fatalf("ListGrants k1 after delete: %d", len(ids))
	}
}

func testDeleteKeyCascades(t *testing.T, h KeyHarness) {
	ctx := context.Background()
	ks := h.OpenKeys(t)
	doomed, kept := mkKey(t, ks, acct, region), mkKey(t, ks, acct, region)
	if _, err := ks.AddMaterial(ctx, doomed.ID, store.Material{Version: 2, CreatedAt: kt, Sealed: sealed(doomed.ID, 2)}, func(k *store.Key) error {
		k.DeletionDate = kt
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for i, target := range []store.Key{doomed, doomed, kept} {
		if _, err := ks.CreateAlias(ctx, store.Alias{Account: acct, Region: region, Name: fmt.Sprintf("alias/d%d", i),
			KeyID: target.ID, CreatedAt: kt, UpdatedAt: kt}); err != nil {
			t.Fatal(err)
		}
	}
	retiree := "arn:aws:iam::222222222222:role/r"
	for i, target := range []store.Key{doomed, doomed, kept} {
		if _, err := ks.CreateGrant(ctx, store.Grant{ID: fmt.Sprintf("g%d", i), KeyID: target.ID, GranteePrincipal: retiree,
			RetiringPrincipal: retiree, Operations: []string{"Decrypt"}, CreatedAt: kt, IssuingAccount: acct}); err != nil {
			t.Fatal(err)
		}
	}
	if err := ks.DeleteKey(ctx, doomed.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := ks.GetKey(ctx, doomed.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetKey after DeleteKey: %v", err)
	}
	for v := 1; v <= 2; v++ {
		if _, err := ks.GetMaterial(ctx, doomed.ID, v); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("material %d survived DeleteKey: %v", v, err)
		}
	}
	if _, _, err := ks.ListMaterials(ctx, doomed.ID, store.Page{}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("ListMaterials after DeleteKey: %v", err)
	}
	as, _, err := ks.ListAliases(ctx, acct, region, "", store.Page{})
	if err != nil || len(as) != 1 || as[0].KeyID != kept.ID {
		t.Fatalf("aliases after DeleteKey: %+v %v", as, err)
	}
	if gs, _, err := ks.ListGrants(ctx, doomed.ID, store.Page{}); err != nil || len(gs) != 0 {
		t.Fatalf("grants after DeleteKey: %+v %v", gs, err)
	}
	if _, err := ks.GetGrant(ctx, "g0"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetGrant after DeleteKey: %v", err)
	}
	gs, _, err := ks.ListRetirableGrants(ctx, retiree, store.Page{})
	if err != nil || len(gs) != 1 || gs[0].ID != "g2" {
		t.Fatalf("retirable grants after DeleteKey: %+v %v", gs, err)
	}
	keys, _, err := ks.ListKeys(ctx, acct, region, store.Page{})
	if err != nil || len(keys) != 1 || keys[0].ID != kept.ID {
		t.Fatalf("ListKeys after DeleteKey: %+v %v", keys, err)
	}
	if due, err := ks.KeysDue(ctx, kt.Add(time.Hour), 10); err != nil || len(due) != 0 {
		t.Fatalf("KeysDue after DeleteKey: %+v %v", due, err)
	}
	if err := ks.DeleteKey(ctx, doomed.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("DeleteKey twice: %v", err)
	}
	// The id is free again (a tombstone, if any, is the domain's).
	if _, err := ks.CreateAlias(ctx, store.Alias{Account: acct, Region: region, Name: "alias/d0", KeyID: kept.ID, CreatedAt: kt}); err != nil {
		t.Fatalf("alias name of a deleted key's alias: %v", err)
	}
}

func testKeysDue(t *testing.T, h KeyHarness) {
	ctx := context.Background()
	ks := h.OpenKeys(t)
	set := func(k store.Key, del, rot time.Time) {
		t.Helper()
		if _, err := ks.UpdateKey(ctx, k.ID, func(k *store.Key) error { k.DeletionDate, k.NextRotation = del, rot; return nil }); err != nil {
			t.Fatal(err)
		}
	}
	a, b, c, d := mkKey(t, ks, acct, region), mkKey(t, ks, "111111111111", "eu-west-1"), mkKey(t, ks, acct, region), mkKey(t, ks, acct, region)
	h1, h2, h3 := kt.Add(time.Hour), kt.Add(2*time.Hour), kt.Add(3*time.Hour)
	set(a, h3, time.Time{}) // deletion at 3h
	set(b, time.Time{}, h1) // rotation at 1h
	set(c, h3, h2)          // rotation at 2h comes first
	_ = d                   // nothing due
	ids := func(now time.Time, max int) []string {
		t.Helper()
		keys, err := ks.KeysDue(ctx, now, max)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, k := range keys {
			out = append(out, k.ID)
		}
		return out
	}
	if got := ids(kt, 10); len(got) != 0 {
		t.Fatalf("KeysDue before anything is due: %v", got)
	}
	if got := ids(h1, 10); fmt.Sprint(got) != fmt.Sprint([]string{b.ID}) {
		t.Fatalf("KeysDue at 1h (inclusive): %v", got)
	}
	if got := ids(h3, 10); fmt.Sprint(got) != fmt.Sprint([]string{b.ID, c.ID, a.ID}) {
		t.Fatalf("KeysDue at 3h: %v, want %v", got, []string{b.ID, c.ID, a.ID})
	}
	if got := ids(h3, 2); fmt.Sprint(got) != fmt.Sprint([]string{b.ID, c.ID}) {
		t.Fatalf("KeysDue at 3h max 2: %v", got)
	}
	// Moving and clearing dates moves the keys.
	set(b, time.Time{}, time.Time{})
	set(c, h3, time.Time{})
	got := ids(h3, 10)
	sort.Strings(got)
	want := []string{a.ID, c.ID}
	sort.Strings(want)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("KeysDue after moving dates: %v, want %v", got, want)
	}
	if got := ids(h2, 10); len(got) != 0 {
		t.Fatalf("KeysDue at 2h after moving dates: %v", got)
	}
}

func testKeysSurviveRestart(t *testing.T, h KeyHarness) {
	ctx := context.Background()
	ks := h.OpenKeys(t)
	k := mkKey(t, ks, acct, region)
	if _, err := ks.AddMaterial(ctx, k.ID, store.Material{Version: 2, CreatedAt: kt, RotationType: "ON_DEMAND", Sealed: sealed(k.ID, 2)}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := ks.UpdateKey(ctx, k.ID, func(k *store.Key) error { k.KeyState = "Disabled"; return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := ks.CreateAlias(ctx, store.Alias{Account: acct, Region: region, Name: "alias/keep", KeyID: k.ID, CreatedAt: kt, UpdatedAt: kt}); err != nil {
		t.Fatal(err)
	}
	if _, err := ks.CreateGrant(ctx, store.Grant{ID: "keep", KeyID: k.ID, GranteePrincipal: "p", RetiringPrincipal: "r",
		Operations: []string{"Decrypt"}, CreatedAt: kt, IssuingAccount: acct}); err != nil {
		t.Fatal(err)
	}
	ks = h.ReopenKeys(t, ks)
	got, err := ks.GetKey(ctx, k.ID)
	if err != nil || got.KeyState != "Disabled" || got.CurrentVersion != 2 || got.Revision != 3 {
		t.Fatalf("key after restart: %+v %v", got, err)
	}
	for v := 1; v <= 2; v++ {
		if m, err := ks.GetMaterial(ctx, k.ID, v); err != nil || !bytes.Equal(m.Sealed, sealed(k.ID, v)) {
			t.Fatalf("material %d after restart: %+v %v", v, m, err)
		}
	}
	if a, err := ks.GetAlias(ctx, acct, region, "alias/keep"); err != nil || a.KeyID != k.ID {
		t.Fatalf("alias after restart: %+v %v", a, err)
	}
	if gs, _, err := ks.ListRetirableGrants(ctx, "r", store.Page{}); err != nil || len(gs) != 1 || gs[0].ID != "keep" {
		t.Fatalf("grant after restart: %+v %v", gs, err)
	}
	// The store still takes writes after the restart.
	if _, err := ks.AddMaterial(ctx, k.ID, store.Material{Version: 3, CreatedAt: kt, Sealed: sealed(k.ID, 3)}, nil); err != nil {
		t.Fatalf("AddMaterial after restart: %v", err)
	}
}
