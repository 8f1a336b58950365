package kms

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/store"
)

func TestEncryptDecrypt(t *testing.T) {
	ctx := context.Background()
	eachDriver(t, func(t *testing.T, d driver) {
		st, _ := d.open(t)
		s := newService(t, st, newClock(), Options{})
		k := mustCreate(t, s, alice)
		other := mustCreate(t, s, alice)
		if err := s.CreateAlias(ctx, alice, "alias/app", k.KeyID); err != nil {
			t.Fatal(err)
		}
		ec := map[string]string{"aws:sns:topicArn": "arn:aws:sns:us-east-1:111122223333:t", "purpose": "test"}
		// Every identifier form names the key.
		for _, id := range []string{k.KeyID, strings.ToUpper(k.KeyID), k.ARN, "alias/app", AliasARN(testRegion, acctOne, "alias/app")} {
			out, err := s.Encrypt(ctx, alice, EncryptInput{KeyID: id, Plaintext: []byte("hello"), Context: ec})
			if err != nil {
				t.Fatalf("Encrypt(%s): %v", id, err)
			}
			if out.KeyARN != k.ARN || out.Algorithm != "SYMMETRIC_DEFAULT" {
				t.Fatalf("Encrypt(%s) = %+v", id, out)
			}
			dec, err := s.Decrypt(ctx, alice, DecryptInput{CiphertextBlob: out.CiphertextBlob, Context: ec})
			if err != nil || string(dec.Plaintext) != "hello" || dec.KeyARN != k.ARN {
				t.Fatalf("Decrypt = %q, %v", dec.Plaintext, err)
			}
			dec, err = s.Decrypt(ctx, alice, DecryptInput{CiphertextBlob: out.CiphertextBlob, Context: ec, KeyID: id})
			if err != nil || string(dec.Plaintext) != "hello" {
				t.Fatalf("Decrypt with KeyId %s: %v", id, err)
			}
		}
		out, err := s.Encrypt(ctx, alice, EncryptInput{KeyID: k.KeyID, Plaintext: []byte("hello"), Context: ec})
		if err != nil {
			t.Fatal(err)
		}
		blob := out.CiphertextBlob
		_, err = s.Decrypt(ctx, alice, DecryptInput{CiphertextBlob: blob, Context: ec, KeyID: other.KeyID})
		wantKind(t, "Decrypt with another key's id", err, ErrIncorrectKey)
		_, err = s.Decrypt(ctx, alice, DecryptInput{CiphertextBlob: blob, Context: ec, KeyID: "alias/none"})
		wantKind(t, "Decrypt with a missing alias", err, ErrNotFound)

		// Any change of the context or of any byte of the blob.
		for _, bad := range []map[string]string{nil, {"purpose": "test"}, {"aws:sns:topicArn": "arn:aws:sns:us-east-1:111122223333:t", "purpose": "Test"},
			{"aws:sns:topicArn": "arn:aws:sns:us-east-1:111122223333:t", "purpose": "test", "x": ""}} {
			_, err := s.Decrypt(ctx, alice, DecryptInput{CiphertextBlob: blob, Context: bad})
			wantKind(t, "Decrypt with a wrong context", err, ErrInvalidCiphertext)
		}
		for i := range blob {
			for _, flip := range []byte{0x01, 0x80} {
				b := bytes.Clone(blob)
				b[i] ^= flip
				_, err := s.Decrypt(ctx, alice, DecryptInput{CiphertextBlob: b, Context: ec})
				wantKind(t, "Decrypt of a changed blob", err, ErrInvalidCiphertext)
			}
		}
		for _, b := range [][]byte{blob[:len(blob)-1], append(bytes.Clone(blob), 0), blob[:10], make([]byte, 7000)} {
			_, err := s.Decrypt(ctx, alice, DecryptInput{CiphertextBlob: b, Context: ec})
			wantKind(t, "Decrypt of a cut or padded blob", err, ErrInvalidCiphertext)
		}
		_, err = s.Decrypt(ctx, alice, DecryptInput{Context: ec})
		wantKind(t, "Decrypt without a blob", err, ErrValidation)

		// ReEncrypt to another key and context; the source key stays usable.
		re, err := s.ReEncrypt(ctx, alice, ReEncryptInput{CiphertextBlob: blob, SourceContext: ec, DestinationKeyID: other.ARN, DestinationContext: map[string]string{"new": "ctx"}})
		if err != nil || re.SourceKeyARN != k.ARN || re.KeyARN != other.ARN {
			t.Fatalf("ReEncrypt = %+v, %v", re, err)
		}
		dec, err := s.Decrypt(ctx, alice, DecryptInput{CiphertextBlob: re.CiphertextBlob, Context: map[string]string{"new": "ctx"}})
		if err != nil || string(dec.Plaintext) != "hello" || dec.KeyARN != other.ARN {
			t.Fatalf("Decrypt of the re-encrypted blob = %q, %v", dec.Plaintext, err)
		}
		_, err = s.ReEncrypt(ctx, alice, ReEncryptInput{CiphertextBlob: blob, SourceContext: ec, SourceKeyID: other.KeyID, DestinationKeyID: other.KeyID})
		wantKind(t, "ReEncrypt with the wrong source key", err, ErrIncorrectKey)
		_, err = s.ReEncrypt(ctx, alice, ReEncryptInput{CiphertextBlob: blob, SourceContext: nil, DestinationKeyID: other.KeyID})
		wantKind(t, "ReEncrypt with the wrong source context", err, ErrInvalidCiphertext)

		// Data keys.
		dk, err := s.GenerateDataKey(ctx, alice, DataKeyInput{KeyID: "alias/app", KeySpec: "AES_256", Context: ec})
		if err != nil || len(dk.Plaintext) != 32 || dk.KeyARN != k.ARN {
			t.Fatalf("GenerateDataKey = %d bytes, %v", len(dk.Plaintext), err)
		}
		dec, err = s.Decrypt(ctx, alice, DecryptInput{CiphertextBlob: dk.CiphertextBlob, Context: ec})
		if err != nil || !bytes.Equal(dec.Plaintext, dk.Plaintext) {
			t.Fatalf("Decrypt of the data key: %v", err)
		}
		for _, c := range []struct {
			in   DataKeyInput
			n    int
			kind error
		}{
			{DataKeyInput{KeySpec: "AES_128"}, 16, nil},
			{DataKeyInput{NumberOfBytes: 1}, 1, nil},
			{DataKeyInput{NumberOfBytes: 1024}, 1024, nil},
			{DataKeyInput{}, 0, ErrValidation},
			{DataKeyInput{NumberOfBytes: 1025}, 0, ErrValidation},
			{DataKeyInput{NumberOfBytes: -1}, 0, ErrValidation},
			{DataKeyInput{KeySpec: "AES_512"}, 0, ErrValidation},
			{DataKeyInput{KeySpec: "AES_256", NumberOfBytes: 32}, 0, ErrValidation},
		} {
			c.in.KeyID = k.KeyID
			dk, err := s.GenerateDataKey(ctx, alice, c.in)
			wantKind(t, "GenerateDataKey", err, c.kind)
			if err == nil && len(dk.Plaintext) != c.n {
				t.Fatalf("GenerateDataKey(%+v): %d bytes", c.in, len(dk.Plaintext))
			}
			wp, err := s.GenerateDataKeyWithoutPlaintext(ctx, alice, c.in)
			wantKind(t, "GenerateDataKeyWithoutPlaintext", err, c.kind)
			if err == nil {
				if wp.Plaintext != nil {
					t.Fatal("GenerateDataKeyWithoutPlaintext returned a plaintext")
				}
				dec, err := s.Decrypt(ctx, alice, DecryptInput{CiphertextBlob: wp.CiphertextBlob})
				if err != nil || len(dec.Plaintext) != c.n {
					t.Fatalf("Decrypt of a data key without plaintext: %v", err)
				}
			}
		}

		// Request validation.
		for _, c := range []struct {
			name string
			in   EncryptInput
			kind error
		}{
			{"empty plaintext", EncryptInput{KeyID: k.KeyID}, ErrValidation},
			{"4096 bytes", EncryptInput{KeyID: k.KeyID, Plaintext: make([]byte, 4096)}, nil},
			{"4097 bytes", EncryptInput{KeyID: k.KeyID, Plaintext: make([]byte, 4097)}, ErrValidation},
			{"no key", EncryptInput{Plaintext: []byte("x")}, ErrValidation},
			{"bad key id", EncryptInput{KeyID: "nope", Plaintext: []byte("x")}, ErrNotFound},
			{"missing key", EncryptInput{KeyID: "11111111-2222-3333-4444-555555555555", Plaintext: []byte("x")}, ErrNotFound},
			{"bad arn", EncryptInput{KeyID: "arn:aws:sqs:us-east-1:1:q", Plaintext: []byte("x")}, ErrInvalidArn},
			{"RSA algorithm", EncryptInput{KeyID: k.KeyID, Plaintext: []byte("x"), Algorithm: "RSAES_OAEP_SHA_256"}, ErrInvalidKeyUsage},
			{"unknown algorithm", EncryptInput{KeyID: k.KeyID, Plaintext: []byte("x"), Algorithm: "ROT13"}, ErrValidation},
			{"huge context", EncryptInput{KeyID: k.KeyID, Plaintext: []byte("x"), Context: map[string]string{"k": strings.Repeat("v", 9000)}}, ErrValidation},
			{"non-UTF-8 context", EncryptInput{KeyID: k.KeyID, Plaintext: []byte("x"), Context: map[string]string{"k": "\xff"}}, ErrValidation},
			{"dry run", EncryptInput{KeyID: k.KeyID, Plaintext: []byte("x"), DryRun: true}, ErrDryRun},
		} {
			_, err := s.Encrypt(ctx, alice, c.in)
			wantKind(t, "Encrypt "+c.name, err, c.kind)
		}
		_, err = s.Decrypt(ctx, alice, DecryptInput{CiphertextBlob: blob, Context: ec, DryRun: true})
		wantKind(t, "Decrypt dry run", err, ErrDryRun)
		_, err = s.GenerateDataKey(ctx, alice, DataKeyInput{KeyID: k.KeyID, KeySpec: "AES_256", DryRun: true})
		wantKind(t, "GenerateDataKey dry run", err, ErrDryRun)
		if err.Error() != "The request would have succeeded, but the DryRun option is set." {
			t.Fatalf("dry run message %q", err)
		}

		// GenerateRandom.
		for _, c := range []struct {
			n    int
			kind error
		}{{1, nil}, {1024, nil}, {0, ErrValidation}, {1025, ErrValidation}} {
			b, err := s.GenerateRandom(ctx, alice, c.n, "")
			wantKind(t, "GenerateRandom", err, c.kind)
			if err == nil && len(b) != c.n {
				t.Fatalf("GenerateRandom(%d) = %d bytes", c.n, len(b))
			}
		}
		_, err = s.GenerateRandom(ctx, alice, 8, "cks-1234567890abcdef0")
		wantKind(t, "GenerateRandom in a custom key store", err, ErrUnsupported)

		// Another account's key: by ARN only (access is authorize's).
		bob := callerOf(acctTwo)
		_, err = s.Encrypt(ctx, bob, EncryptInput{KeyID: k.KeyID, Plaintext: []byte("x")})
		wantKind(t, "another account's key by id", err, ErrNotFound)
		_, err = s.Encrypt(ctx, bob, EncryptInput{KeyID: "alias/app", Plaintext: []byte("x")})
		wantKind(t, "another account's key by alias name", err, ErrNotFound)
		_, err = s.Encrypt(ctx, bob, EncryptInput{KeyID: KeyARN("eu-west-1", acctOne, k.KeyID), Plaintext: []byte("x")})
		wantKind(t, "a key ARN with the wrong region", err, ErrNotFound)
	})
}

// TestRotation: rotation keeps every old version decrypting.
func TestRotation(t *testing.T) {
	ctx := context.Background()
	eachDriver(t, func(t *testing.T, d driver) {
		st, _ := d.open(t)
		clk := newClock()
		s := newService(t, st, clk, Options{})
		k := mustCreate(t, s, alice)
		enc := func(msg string) []byte {
			t.Helper()
			out, err := s.Encrypt(ctx, alice, EncryptInput{KeyID: k.KeyID, Plaintext: []byte(msg)})
			if err != nil {
				t.Fatal(err)
			}
			return out.CiphertextBlob
		}
		check := func(blob []byte, msg string) {
			t.Helper()
			dec, err := s.Decrypt(ctx, alice, DecryptInput{CiphertextBlob: blob})
			if err != nil || string(dec.Plaintext) != msg {
				t.Fatalf("Decrypt = %q, %v; want %q", dec.Plaintext, err, msg)
			}
		}
		st0, err := s.GetKeyRotationStatus(ctx, alice, k.KeyID)
		if err != nil || st0.Enabled || st0.PeriodDays != 0 || !st0.NextRotationDate.IsZero() {
			t.Fatalf("initial rotation status %+v, %v", st0, err)
		}
		v1 := enc("one")
		md1, _ := s.DescribeKey(ctx, alice, k.KeyID, nil)
		arn, err := s.RotateKeyOnDemand(ctx, alice, k.KeyID)
		if err != nil || arn != k.ARN {
			t.Fatalf("RotateKeyOnDemand = %q, %v", arn, err)
		}
		md2, _ := s.DescribeKey(ctx, alice, k.KeyID, nil)
		if md2.CurrentKeyMaterialID == md1.CurrentKeyMaterialID || len(md2.CurrentKeyMaterialID) != 64 {
			t.Fatalf("material id %q -> %q", md1.CurrentKeyMaterialID, md2.CurrentKeyMaterialID)
		}
		v2 := enc("two")
		if bytes.Equal(v1[:60], v2[:60]) {
			t.Fatal("blobs of two versions share a header")
		}
		check(v1, "one")
		check(v2, "two")

		for _, p := range []int{-1, 89, 2561} {
			wantKind(t, "EnableKeyRotation period", s.EnableKeyRotation(ctx, alice, k.KeyID, p), ErrValidation)
		}
		if err := s.EnableKeyRotation(ctx, alice, k.KeyID, 90); err != nil {
			t.Fatal(err)
		}
		rs, _ := s.GetKeyRotationStatus(ctx, alice, k.KeyID)
		if !rs.Enabled || rs.PeriodDays != 90 || !rs.NextRotationDate.Equal(clk.Now().Add(90*24*time.Hour)) {
			t.Fatalf("rotation status %+v", rs)
		}
		clk.Add(89 * 24 * time.Hour)
		if _, rot, err := s.Sweep(ctx); err != nil || rot != 0 {
			t.Fatalf("early Sweep rotated %d, %v", rot, err)
		}
		clk.Add(24 * time.Hour)
		if _, rot, err := s.Sweep(ctx); err != nil || rot != 1 {
			t.Fatalf("Sweep rotated %d, %v", rot, err)
		}
		if _, rot, err := s.Sweep(ctx); err != nil || rot != 0 {
			t.Fatalf("second Sweep rotated %d, %v", rot, err)
		}
		rs, _ = s.GetKeyRotationStatus(ctx, alice, k.KeyID)
		if !rs.NextRotationDate.Equal(clk.Now().Add(90 * 24 * time.Hour)) {
			t.Fatalf("next rotation %v", rs.NextRotationDate)
		}
		v3 := enc("three")
		check(v1, "one")
		check(v2, "two")
		check(v3, "three")
		rots, next, err := s.ListKeyRotations(ctx, alice, k.KeyID, Page{})
		if err != nil || next != "" || len(rots) != 2 || rots[0].RotationType != "ON_DEMAND" || rots[1].RotationType != "AUTOMATIC" ||
			rots[0].MaterialID != md2.CurrentKeyMaterialID || rots[1].KeyARN != k.ARN {
			t.Fatalf("ListKeyRotations = %+v, %q, %v", rots, next, err)
		}
		// Paging.
		r1, m1, err := s.ListKeyRotations(ctx, alice, k.KeyID, Page{Limit: 1})
		if err != nil || len(r1) != 1 || m1 == "" {
			t.Fatalf("page 1: %+v %q %v", r1, m1, err)
		}
		r2, m2, err := s.ListKeyRotations(ctx, alice, k.KeyID, Page{Limit: 1, Marker: m1})
		if err != nil || len(r2) != 1 || r2[0].RotationType != "AUTOMATIC" || m2 != "" {
			t.Fatalf("page 2: %+v %q %v", r2, m2, err)
		}
		_, _, err = s.ListKeyRotations(ctx, alice, k.KeyID, Page{Marker: "%%%"})
		wantKind(t, "ListKeyRotations bad marker", err, ErrInvalidMarker)

		if err := s.DisableKeyRotation(ctx, alice, k.KeyID); err != nil {
			t.Fatal(err)
		}
		clk.Add(365 * 24 * time.Hour)
		if _, rot, err := s.Sweep(ctx); err != nil || rot != 0 {
			t.Fatalf("Sweep with rotation off rotated %d, %v", rot, err)
		}
		// On-demand quota: 10 per key (one used above).
		for i := 0; i < 9; i++ {
			if _, err := s.RotateKeyOnDemand(ctx, alice, k.KeyID); err != nil {
				t.Fatal(i, err)
			}
		}
		_, err = s.RotateKeyOnDemand(ctx, alice, k.KeyID)
		wantKind(t, "11th on-demand rotation", err, ErrLimitExceeded)
		check(v1, "one")
		check(v3, "three")
	})
}

// TestTamperedMaterial: sealed material moved to another key (or changed)
// does not open: the call fails as internal, never with wrong material.
func TestTamperedMaterial(t *testing.T) {
	ctx := context.Background()
	eachDriver(t, func(t *testing.T, d driver) {
		st, _ := d.open(t)
		s := newService(t, st, newClock(), Options{})
		src := mustCreate(t, s, alice)
		m, err := st.GetMaterial(ctx, src.KeyID, 1)
		if err != nil {
			t.Fatal(err)
		}
		flipped := bytes.Clone(m.Sealed)
		flipped[20] ^= 1
		for name, sealed := range map[string][]byte{"moved": m.Sealed, "flipped": flipped} {
			id, _ := s.newKeyID()
			k := store.Key{ID: id, ARN: KeyARN(testRegion, acctOne, id), Account: acctOne, Region: testRegion, KeyState: stateEnabled,
				KeyManager: managerCustomer, KeySpec: specSymmetric, KeyUsage: usageEncrypt, Origin: originKMS,
				CreatedAt: time.Now(), Policy: defaultKeyPolicy(acctOne)}
			k.CurrentVersion = 1
			if err := s.macKey(&k); err != nil {
				t.Fatal(err)
			}
			if _, err := st.CreateKey(ctx, k, &store.Material{Version: 1, CreatedAt: time.Now(), MaterialID: "x", Sealed: sealed}); err != nil {
				t.Fatal(err)
			}
			_, err := s.Encrypt(ctx, alice, EncryptInput{KeyID: id, Plaintext: []byte("x")})
			wantKind(t, "Encrypt with "+name+" material", err, ErrInternal)
		}
	})
}

// TestNULInIdentifiers: identifiers with NUL (which the store's keys
// cannot hold) are NotFound, on both drivers.
func TestNULInIdentifiers(t *testing.T) {
	ctx := context.Background()
	eachDriver(t, func(t *testing.T, d driver) {
		st, _ := d.open(t)
		s := newService(t, st, newClock(), Options{})
		for _, id := range []string{"alias/a\x00b", "arn:aws:kms:us-east-1:111\x00:alias/x", "arn:aws:kms:us-east-1:" + acctOne + ":alias/aws/sns\x00"} {
			_, err := s.Encrypt(ctx, alice, EncryptInput{KeyID: id, Plaintext: []byte("x")})
			wantKind(t, "Encrypt with a NUL", err, ErrNotFound)
		}
		k := mustCreate(t, s, alice)
		wantKind(t, "CreateAlias with a NUL", s.CreateAlias(ctx, alice, "alias/a\x00", k.KeyID), ErrValidation)
		for _, bad := range []string{"a\x00b", "\xff"} {
			_, err := s.CreateKey(ctx, alice, CreateKeyInput{Description: bad})
			wantKind(t, "CreateKey description", err, ErrValidation)
			wantKind(t, "UpdateKeyDescription", s.UpdateKeyDescription(ctx, alice, k.KeyID, bad), ErrValidation)
			wantKind(t, "tag key", s.TagResource(ctx, alice, k.KeyID, []Tag{{bad, "v"}}), ErrTag)
			wantKind(t, "tag value", s.TagResource(ctx, alice, k.KeyID, []Tag{{"k", bad}}), ErrTag)
		}
	})
}
