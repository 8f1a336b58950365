package kms

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestCreateKey(t *testing.T) {
	ctx := context.Background()
	eachDriver(t, func(t *testing.T, d driver) {
		st, _ := d.open(t)
		clk := newClock()
		s := newService(t, st, clk, Options{})
		md, err := s.CreateKey(ctx, alice, CreateKeyInput{Description: "d", Tags: []Tag{{"team", "x"}, {"env", ""}}})
		if err != nil {
			t.Fatal(err)
		}
		if !isKeyID(md.KeyID) || md.ARN != KeyARN(testRegion, acctOne, md.KeyID) || md.AWSAccountID != acctOne || md.KeyState != "Enabled" ||
			!md.Enabled || md.KeyManager != "CUSTOMER" || md.KeySpec != "SYMMETRIC_DEFAULT" || md.KeyUsage != "ENCRYPT_DECRYPT" ||
			md.Origin != "AWS_KMS" || md.Description != "d" || !md.CreationDate.Equal(clk.Now()) || len(md.CurrentKeyMaterialID) != 64 ||
			md.MultiRegion || len(md.EncryptionAlgorithms) != 1 {
			t.Fatalf("CreateKey = %+v", md)
		}
		// Material is sealed in the store, under the key id and version.
		k, _ := st.GetKey(ctx, md.KeyID)
		if k.CurrentVersion != 1 || k.Policy != defaultKeyPolicy(acctOne) {
			t.Fatalf("record %+v", k)
		}
		m, err := st.GetMaterial(ctx, md.KeyID, 1)
		if err != nil || len(m.Sealed) != 1+12+32+16 || m.MaterialID != md.CurrentKeyMaterialID {
			t.Fatalf("material %+v, %v", m, err)
		}
		if _, err := s.kr.OpenMaterial(md.KeyID, 1, m.Sealed); err != nil {
			t.Fatalf("material does not open: %v", err)
		}
		tags, next, err := s.ListResourceTags(ctx, alice, md.KeyID, Page{})
		if err != nil || next != "" || len(tags) != 2 || tags[0] != (Tag{"env", ""}) || tags[1] != (Tag{"team", "x"}) {
			t.Fatalf("tags %v %q %v", tags, next, err)
		}

		many := make([]Tag, 51)
		for i := range many {
			many[i] = Tag{fmt.Sprintf("k%d", i), "v"}
		}
		for _, c := range []struct {
			name string
			in   CreateKeyInput
			kind error
		}{
			{"explicit defaults", CreateKeyInput{KeySpec: "SYMMETRIC_DEFAULT", KeyUsage: "ENCRYPT_DECRYPT", Origin: "AWS_KMS"}, nil},
			{"RSA", CreateKeyInput{KeySpec: "RSA_2048"}, ErrUnsupported},
			{"HMAC", CreateKeyInput{KeySpec: "HMAC_256", KeyUsage: "GENERATE_VERIFY_MAC"}, ErrUnsupported},
			{"unknown spec", CreateKeyInput{KeySpec: "AES_999"}, ErrValidation},
			{"sign usage", CreateKeyInput{KeyUsage: "SIGN_VERIFY"}, ErrUnsupported},
			{"unknown usage", CreateKeyInput{KeyUsage: "WRAP"}, ErrValidation},
			{"imported material", CreateKeyInput{Origin: "EXTERNAL"}, ErrUnsupported},
			{"unknown origin", CreateKeyInput{Origin: "HOME"}, ErrValidation},
			{"custom key store", CreateKeyInput{CustomKeyStoreID: "cks-1"}, ErrUnsupported},
			{"xks", CreateKeyInput{XksKeyID: "x"}, ErrUnsupported},
			{"multi-Region", CreateKeyInput{MultiRegion: true}, ErrUnsupported},
			{"description 8192", CreateKeyInput{Description: strings.Repeat("d", 8192)}, nil},
			{"description 8193", CreateKeyInput{Description: strings.Repeat("d", 8193)}, ErrValidation},
			{"51 tags", CreateKeyInput{Tags: many}, ErrTag},
			{"50 tags", CreateKeyInput{Tags: many[:50]}, nil},
			{"duplicate tags", CreateKeyInput{Tags: []Tag{{"a", "1"}, {"a", "2"}}}, ErrTag},
			{"aws: tag", CreateKeyInput{Tags: []Tag{{"aws:x", "1"}}}, ErrTag},
			{"empty tag key", CreateKeyInput{Tags: []Tag{{"", "1"}}}, ErrTag},
			{"long tag key", CreateKeyInput{Tags: []Tag{{strings.Repeat("k", 129), "1"}}}, ErrTag},
			{"long tag value", CreateKeyInput{Tags: []Tag{{"k", strings.Repeat("v", 257)}}}, ErrTag},
			{"own policy", CreateKeyInput{Policy: defaultKeyPolicy(acctOne)}, nil},
		} {
			md, err := s.CreateKey(ctx, alice, c.in)
			wantKind(t, "CreateKey "+c.name, err, c.kind)
			if err == nil && c.in.Policy != "" {
				doc, name, err := s.GetKeyPolicy(ctx, alice, md.KeyID, "")
				if err != nil || doc != c.in.Policy || name != "default" {
					t.Fatalf("GetKeyPolicy = %q, %q, %v", doc, name, err)
				}
			}
		}
	})
}

func TestKeyManagement(t *testing.T) {
	ctx := context.Background()
	eachDriver(t, func(t *testing.T, d driver) {
		st, _ := d.open(t)
		s := newService(t, st, newClock(), Options{})
		k := mustCreate(t, s, alice)
		// Description.
		if err := s.UpdateKeyDescription(ctx, alice, k.ARN, "new words"); err != nil {
			t.Fatal(err)
		}
		wantKind(t, "long description", s.UpdateKeyDescription(ctx, alice, k.KeyID, strings.Repeat("d", 8193)), ErrValidation)
		md, _ := s.DescribeKey(ctx, alice, k.KeyID, nil)
		if md.Description != "new words" {
			t.Fatalf("description %q", md.Description)
		}
		// Tags: add, replace, remove, limit, paging.
		if err := s.TagResource(ctx, alice, k.KeyID, []Tag{{"a", "1"}, {"b", "2"}}); err != nil {
			t.Fatal(err)
		}
		if err := s.TagResource(ctx, alice, k.KeyID, []Tag{{"a", "3"}}); err != nil {
			t.Fatal(err)
		}
		if err := s.UntagResource(ctx, alice, k.KeyID, []string{"b", "absent"}); err != nil {
			t.Fatal(err)
		}
		tags, _, _ := s.ListResourceTags(ctx, alice, k.KeyID, Page{})
		if len(tags) != 1 || tags[0] != (Tag{"a", "3"}) {
			t.Fatalf("tags %v", tags)
		}
		wantKind(t, "aws: tag", s.TagResource(ctx, alice, k.KeyID, []Tag{{"AWS:x", "1"}}), ErrTag)
		many := make([]Tag, 50)
		for i := range many {
			many[i] = Tag{fmt.Sprintf("t%02d", i), "v"}
		}
		wantKind(t, "51st tag", s.TagResource(ctx, alice, k.KeyID, many), ErrLimitExceeded)
		if err := s.TagResource(ctx, alice, k.KeyID, many[:49]); err != nil {
			t.Fatal(err)
		}
		var all []Tag
		marker := ""
		for {
			page, next, err := s.ListResourceTags(ctx, alice, k.KeyID, Page{Limit: 20, Marker: marker})
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, page...)
			if next == "" {
				break
			}
			marker = next
		}
		if len(all) != 50 || all[0].Key != "a" || all[49].Key != "t48" {
			t.Fatalf("paged tags: %d", len(all))
		}
		// Policies.
		_, _, err := s.GetKeyPolicy(ctx, alice, k.KeyID, "other")
		wantKind(t, "GetKeyPolicy other", err, ErrNotFound)
		wantKind(t, "PutKeyPolicy other", s.PutKeyPolicy(ctx, alice, k.KeyID, "other", defaultKeyPolicy(acctOne), false), ErrNotFound)
		pol := strings.Replace(defaultKeyPolicy(acctOne), "key-default-1", "mine", 1)
		var purged []string
		s.opt.Purge = func(id string) { purged = append(purged, id) }
		if err := s.PutKeyPolicy(ctx, alice, k.KeyID, "default", pol, false); err != nil {
			t.Fatal(err)
		}
		if doc, _, _ := s.GetKeyPolicy(ctx, alice, k.KeyID, "default"); doc != pol {
			t.Fatalf("policy %q", doc)
		}
		if err := s.DisableKey(ctx, alice, k.KeyID); err != nil {
			t.Fatal(err)
		}
		if len(purged) != 2 {
			t.Fatalf("purged %v", purged)
		}
		names, _, err := s.ListKeyPolicies(ctx, alice, k.KeyID, Page{})
		if err != nil || len(names) != 1 || names[0] != "default" {
			t.Fatalf("ListKeyPolicies %v %v", names, err)
		}
	})
}

func TestListKeys(t *testing.T) {
	ctx := context.Background()
	eachDriver(t, func(t *testing.T, d driver) {
		st, _ := d.open(t)
		s := newService(t, st, newClock(), Options{})
		want := map[string]bool{}
		for i := 0; i < 5; i++ {
			want[mustCreate(t, s, alice).KeyID] = true
		}
		mustCreate(t, s, callerOf(acctTwo))
		got := map[string]bool{}
		marker, pages := "", 0
		for {
			page, next, err := s.ListKeys(ctx, alice, Page{Limit: 2, Marker: marker})
			if err != nil {
				t.Fatal(err)
			}
			pages++
			for _, e := range page {
				if e.KeyARN != KeyARN(testRegion, acctOne, e.KeyID) {
					t.Fatalf("entry %+v", e)
				}
				got[e.KeyID] = true
			}
			if next == "" {
				break
			}
			marker = next
		}
		if len(got) != 5 || pages != 3 {
			t.Fatalf("ListKeys: %d keys in %d pages", len(got), pages)
		}
		for k := range want {
			if !got[k] {
				t.Fatalf("missing %s", k)
			}
		}
		for _, p := range []Page{{Limit: -1}, {Limit: 1001}} {
			_, _, err := s.ListKeys(ctx, alice, p)
			wantKind(t, "ListKeys limit", err, ErrValidation)
		}
		for _, m := range []string{"!!", "bm90LWEta2V5"} {
			_, _, err := s.ListKeys(ctx, alice, Page{Marker: m})
			wantKind(t, "ListKeys marker "+m, err, ErrInvalidMarker)
		}
	})
}

func TestAliases(t *testing.T) {
	ctx := context.Background()
	eachDriver(t, func(t *testing.T, d driver) {
		st, _ := d.open(t)
		clk := newClock()
		s := newService(t, st, clk, Options{})
		k1, k2 := mustCreate(t, s, alice), mustCreate(t, s, alice)
		bobKey := mustCreate(t, s, callerOf(acctTwo))
		if err := s.CreateAlias(ctx, alice, "alias/a_b-c/d", k1.KeyID); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			name, alias, target string
			kind                error
		}{
			{"duplicate", "alias/a_b-c/d", k2.KeyID, ErrAlreadyExists},
			{"no prefix", "mine", k1.KeyID, ErrValidation},
			{"bare prefix", "alias/", k1.KeyID, ErrInvalidAliasName},
			{"reserved", "alias/aws/sns", k1.KeyID, ErrInvalidAliasName},
			{"bad character", "alias/a b", k1.KeyID, ErrValidation},
			{"too long", "alias/" + strings.Repeat("a", 251), k1.KeyID, ErrValidation},
			{"longest", "alias/" + strings.Repeat("a", 250), k1.KeyID, nil},
			{"alias target", "alias/x1", "alias/a_b-c/d", ErrNotFound},
			{"missing target", "alias/x2", "11111111-2222-3333-4444-555555555555", ErrNotFound},
			{"other account's key", "alias/x3", bobKey.ARN, ErrNotFound},
			{"by ARN", "alias/x4", k2.ARN, nil},
		} {
			wantKind(t, "CreateAlias "+c.name, s.CreateAlias(ctx, alice, c.alias, c.target), c.kind)
		}
		// The same name in another account is another alias.
		if err := s.CreateAlias(ctx, callerOf(acctTwo), "alias/a_b-c/d", bobKey.KeyID); err != nil {
			t.Fatal(err)
		}
		clk.Add(time.Minute)
		if err := s.UpdateAlias(ctx, alice, "alias/a_b-c/d", k2.KeyID); err != nil {
			t.Fatal(err)
		}
		wantKind(t, "UpdateAlias missing", s.UpdateAlias(ctx, alice, "alias/none", k2.KeyID), ErrNotFound)
		wantKind(t, "UpdateAlias reserved", s.UpdateAlias(ctx, alice, "alias/aws/sns", k2.KeyID), ErrInvalidAliasName)
		wantKind(t, "UpdateAlias to another account", s.UpdateAlias(ctx, alice, "alias/a_b-c/d", bobKey.ARN), ErrNotFound)
		out, err := s.Encrypt(ctx, alice, EncryptInput{KeyID: "alias/a_b-c/d", Plaintext: []byte("x")})
		if err != nil || out.KeyARN != k2.ARN {
			t.Fatalf("alias after update: %v %v", out.KeyARN, err)
		}
		as, next, err := s.ListAliases(ctx, alice, "", Page{})
		if err != nil || next != "" || len(as) != 3 {
			t.Fatalf("ListAliases = %+v %q %v", as, next, err)
		}
		a := as[0]
		if a.AliasName != "alias/a_b-c/d" || a.AliasARN != AliasARN(testRegion, acctOne, a.AliasName) || a.TargetKeyID != k2.KeyID ||
			!a.LastUpdatedDate.Equal(a.CreationDate.Add(time.Minute)) {
			t.Fatalf("alias entry %+v", a)
		}
		as, _, _ = s.ListAliases(ctx, alice, k2.ARN, Page{})
		if len(as) != 2 {
			t.Fatalf("aliases of k2: %+v", as)
		}
		p1, m1, err := s.ListAliases(ctx, alice, "", Page{Limit: 2})
		if err != nil || len(p1) != 2 || m1 == "" {
			t.Fatalf("page 1 %v %q %v", p1, m1, err)
		}
		p2, m2, err := s.ListAliases(ctx, alice, "", Page{Limit: 2, Marker: m1})
		if err != nil || len(p2) != 1 || m2 != "" {
			t.Fatalf("page 2 %v %q %v", p2, m2, err)
		}
		_, _, err = s.ListAliases(ctx, alice, "", Page{Marker: "Zm9v"})
		wantKind(t, "ListAliases bad marker", err, ErrInvalidMarker)
		if err := s.DeleteAlias(ctx, alice, "alias/a_b-c/d"); err != nil {
			t.Fatal(err)
		}
		wantKind(t, "DeleteAlias twice", s.DeleteAlias(ctx, alice, "alias/a_b-c/d"), ErrNotFound)
		wantKind(t, "DeleteAlias reserved", s.DeleteAlias(ctx, alice, "alias/aws/sns"), ErrInvalidAliasName)
		_, err = s.Encrypt(ctx, alice, EncryptInput{KeyID: "alias/a_b-c/d", Plaintext: []byte("x")})
		wantKind(t, "deleted alias", err, ErrNotFound)
		// Bob's alias of the same name is untouched.
		if _, err := s.Encrypt(ctx, callerOf(acctTwo), EncryptInput{KeyID: "alias/a_b-c/d", Plaintext: []byte("x")}); err != nil {
			t.Fatal(err)
		}
	})
}

// TestAWSManagedKey: alias/aws/sns is created on first use, once, also when
// two nodes race; AWS-managed keys refuse management.
func TestAWSManagedKey(t *testing.T) {
	ctx := context.Background()
	eachDriver(t, func(t *testing.T, d driver) {
		st, another := d.open(t)
		st2 := st
		if another != nil {
			st2 = another()
		}
		clk := newClock()
		nodes := []*Service{newService(t, st, clk, Options{}), newService(t, st2, clk, Options{})}
		const racers = 8
		ids := make([]string, racers)
		errs := make([]error, racers)
		var wg sync.WaitGroup
		for i := 0; i < racers; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				md, err := nodes[i%2].DescribeKey(ctx, alice, "alias/aws/sns", nil)
				ids[i], errs[i] = md.KeyID, err
			}()
		}
		wg.Wait()
		for i := range ids {
			if errs[i] != nil || ids[i] != ids[0] {
				t.Fatalf("racer %d: %q %v (racer 0: %q)", i, ids[i], errs[i], ids[0])
			}
		}
		keys, _, err := nodes[0].ListKeys(ctx, alice, Page{})
		if err != nil || len(keys) != 1 || keys[0].KeyID != ids[0] {
			t.Fatalf("keys after the race: %+v %v", keys, err)
		}
		s := nodes[0]
		md, _ := s.DescribeKey(ctx, alice, "alias/aws/sns", nil)
		if md.KeyManager != "AWS" || md.Description != "Default key that protects my SNS data when no other key is defined" || md.KeyState != "Enabled" {
			t.Fatalf("managed key %+v", md)
		}
		rs, _ := s.GetKeyRotationStatus(ctx, alice, md.KeyID)
		if !rs.Enabled || rs.PeriodDays != 365 {
			t.Fatalf("managed key rotation %+v", rs)
		}
		k, _ := st.GetKey(ctx, md.KeyID)
		if k.Policy != awsManagedKeyPolicy("sns", acctOne, testRegion) {
			t.Fatalf("managed key policy %s", k.Policy)
		}
		// Usable for cryptography; another account gets its own key.
		viaSNS := alice
		viaSNS.ViaService = "sns." + testRegion + ".amazonaws.com"
		dk, err := s.GenerateDataKey(ctx, viaSNS, DataKeyInput{KeyID: "alias/aws/sns", KeySpec: "AES_256"})
		if err != nil || dk.KeyARN != md.ARN {
			t.Fatalf("GenerateDataKey with alias/aws/sns: %v %v", dk.KeyARN, err)
		}
		bobs, err := s.DescribeKey(ctx, callerOf(acctTwo), "alias/aws/sns", nil)
		if err != nil || bobs.KeyID == md.KeyID || bobs.AWSAccountID != acctTwo {
			t.Fatalf("bob's managed key %+v %v", bobs, err)
		}
		_, err = s.DescribeKey(ctx, alice, "alias/aws/s3", nil)
		wantKind(t, "alias/aws/s3", err, ErrNotFound)
		// Management is refused: AWS's key policy for the key refuses it
		// (AccessDenied) once authorize enforces it; where the API documents
		// that AWS-managed keys cannot do something, the domain answers
		// UnsupportedOperation even if a policy allowed it.
		for _, c := range []struct {
			name string
			err  error
			kind error
		}{
			{"DisableKey", s.DisableKey(ctx, alice, md.KeyID), ErrAccessDenied},
			{"EnableKey", s.EnableKey(ctx, alice, md.KeyID), ErrAccessDenied},
			{"ScheduleKeyDeletion", func() error { _, err := s.ScheduleKeyDeletion(ctx, alice, md.KeyID, 7); return err }(), ErrAccessDenied},
			{"TagResource", s.TagResource(ctx, alice, md.KeyID, []Tag{{"a", "b"}}), ErrAccessDenied},
			{"UntagResource", s.UntagResource(ctx, alice, md.KeyID, []string{"a"}), ErrAccessDenied},
			{"UpdateKeyDescription", s.UpdateKeyDescription(ctx, alice, md.KeyID, "x"), ErrAccessDenied},
			{"CreateAlias", s.CreateAlias(ctx, alice, "alias/mine", md.KeyID), ErrAccessDenied},
			{"PutKeyPolicy", s.PutKeyPolicy(ctx, alice, md.KeyID, "default", defaultKeyPolicy(acctOne), false), ErrUnsupported},
			{"EnableKeyRotation", s.EnableKeyRotation(ctx, alice, md.KeyID, 90), ErrUnsupported},
			{"DisableKeyRotation", s.DisableKeyRotation(ctx, alice, md.KeyID), ErrUnsupported},
			{"RotateKeyOnDemand", func() error { _, err := s.RotateKeyOnDemand(ctx, alice, md.KeyID); return err }(), ErrUnsupported},
		} {
			if c.kind == ErrUnsupported && errors.Is(c.err, ErrAccessDenied) {
				continue
			}
			wantKind(t, c.name, c.err, c.kind)
		}
		as, _, _ := s.ListAliases(ctx, alice, "", Page{})
		if len(as) != 1 || as[0].AliasName != "alias/aws/sns" || as[0].TargetKeyID != md.KeyID {
			t.Fatalf("ListAliases %+v", as)
		}
		// Sweep rotates it yearly.
		clk.Add(366 * 24 * time.Hour)
		if _, rot, err := s.Sweep(ctx); err != nil || rot != 2 {
			t.Fatalf("Sweep rotated %d, %v", rot, err)
		}
	})
}

// TestNodes: two Services over one PostgreSQL database: a key disabled on
// node A is refused on node B within CacheTTL.
func TestNodes(t *testing.T) {
	ctx := context.Background()
	st, another := drivers[1].open(t)
	clkA, clkB := newClock(), newClock()
	a := newService(t, st, clkA, Options{CacheTTL: 5 * time.Second})
	b := newService(t, another(), clkB, Options{CacheTTL: 5 * time.Second})
	k := mustCreate(t, a, alice)
	enc := func(s *Service) error {
		_, err := s.Encrypt(ctx, alice, EncryptInput{KeyID: k.KeyID, Plaintext: []byte("x")})
		return err
	}
	if err := enc(b); err != nil { // B caches the key
		t.Fatal(err)
	}
	if err := a.DisableKey(ctx, alice, k.KeyID); err != nil {
		t.Fatal(err)
	}
	wantKind(t, "node A after its own DisableKey", enc(a), ErrDisabled)
	clkB.Add(4 * time.Second)
	if err := enc(b); err != nil {
		t.Fatalf("node B within the TTL uses its cache: %v", err)
	}
	clkB.Add(time.Second)
	wantKind(t, "node B after CacheTTL", enc(b), ErrDisabled)
	if err := b.EnableKey(ctx, alice, k.KeyID); err != nil {
		t.Fatal(err)
	}
	// A rotation on B: A decrypts the new version at once.
	if _, err := b.RotateKeyOnDemand(ctx, alice, k.KeyID); err != nil {
		t.Fatal(err)
	}
	out, err := b.Encrypt(ctx, alice, EncryptInput{KeyID: k.KeyID, Plaintext: []byte("v2")})
	if err != nil {
		t.Fatal(err)
	}
	clkA.Add(5 * time.Second)
	dec, err := a.Decrypt(ctx, alice, DecryptInput{CiphertextBlob: out.CiphertextBlob})
	if err != nil || string(dec.Plaintext) != "v2" {
		t.Fatalf("node A decrypting node B's new version: %v", err)
	}
	// Deletion by Sweep on A: B answers NotFound after the TTL.
	if _, err := a.ScheduleKeyDeletion(ctx, alice, k.KeyID, 7); err != nil {
		t.Fatal(err)
	}
	clkA.Add(8 * 24 * time.Hour)
	if del, _, err := a.Sweep(ctx); err != nil || del != 1 {
		t.Fatalf("Sweep %d %v", del, err)
	}
	clkB.Add(time.Minute)
	_, err = b.DescribeKey(ctx, alice, k.KeyID, nil)
	wantKind(t, "node B after deletion", err, ErrNotFound)
}

// TestAWSManagedKeyOtherAccount: naming another account's alias/aws/sns by
// ARN creates nothing.
func TestAWSManagedKeyOtherAccount(t *testing.T) {
	ctx := context.Background()
	st, _ := drivers[0].open(t)
	s := newService(t, st, newClock(), Options{})
	for _, arn := range []string{AliasARN(testRegion, acctTwo, "alias/aws/sns"), AliasARN("eu-west-1", acctOne, "alias/aws/sns")} {
		_, err := s.DescribeKey(ctx, alice, arn, nil)
		wantKind(t, "DescribeKey "+arn, err, ErrNotFound)
	}
	for _, c := range []Caller{callerOf(acctTwo), {Account: acctOne, Region: "eu-west-1"}} {
		if keys, _, err := s.ListKeys(ctx, c, Page{}); err != nil || len(keys) != 0 {
			t.Fatalf("keys of %s/%s: %v %v", c.Account, c.Region, keys, err)
		}
	}
}

// TestSweepTwoNodes: nodes sweeping at the same time rotate a due key once
// and delete a due key once.
func TestSweepTwoNodes(t *testing.T) {
	ctx := context.Background()
	st, another := drivers[1].open(t)
	clk := newClock()
	a := newService(t, st, clk, Options{})
	b := newService(t, another(), clk, Options{})
	rot, del := mustCreate(t, a, alice), mustCreate(t, a, alice)
	if err := a.EnableKeyRotation(ctx, alice, rot.KeyID, 90); err != nil {
		t.Fatal(err)
	}
	if _, err := a.ScheduleKeyDeletion(ctx, alice, del.KeyID, 7); err != nil {
		t.Fatal(err)
	}
	clk.Add(91 * 24 * time.Hour)
	var wg sync.WaitGroup
	res := make([][2]int, 2)
	for i, s := range []*Service{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d, r, err := s.Sweep(ctx)
			if err != nil {
				t.Error(err)
			}
			res[i] = [2]int{d, r}
		}()
	}
	wg.Wait()
	if res[0][0]+res[1][0] != 1 || res[0][1]+res[1][1] != 1 {
		t.Fatalf("sweeps (deleted, rotated): %v", res)
	}
	rots, _, err := b.ListKeyRotations(ctx, alice, rot.KeyID, Page{})
	if err != nil || len(rots) != 1 {
		t.Fatalf("rotations %+v %v", rots, err)
	}
}
