package envelope

import (
	"bytes"
	"errors"
	"testing"
)

// Parsers and openers must never panic and must fail only with
// ErrInvalidCiphertext; whatever parses must report fields that are really in
// the input.

func FuzzParseBlob(f *testing.F) {
	f.Add(mustBlobF(f))
	big, _ := EncryptBlob(testMaterial, BlobParams{KeyID: "arn:aws:kms:us-east-1:000000000000:key/x", MaterialVersion: 7}, []byte("p"))
	f.Add(big)
	f.Add([]byte{})
	f.Add([]byte{1, 1, 0})
	ctx := map[string]string{"aws:sns:topicArn": "arn:aws:sns:us-east-1:000000000000:orders", "purpose": "test"}
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParseBlob(b)
		if err != nil {
			if !errors.Is(err, ErrInvalidCiphertext) {
				t.Fatalf("parse error does not wrap ErrInvalidCiphertext: %v", err)
			}
			return
		}
		if len(p.KeyID) == 0 || len(p.KeyID) > MaxKeyID || p.MaterialVersion == 0 || !bytes.Contains(b, []byte(p.KeyID)) {
			t.Fatalf("parsed fields not from the input: %+v", p)
		}
		pt, err := p.Decrypt(testMaterial, ctx)
		if err != nil {
			if !errors.Is(err, ErrInvalidCiphertext) {
				t.Fatalf("decrypt error does not wrap ErrInvalidCiphertext: %v", err)
			}
			return
		}
		// Only the seed blob itself can authenticate.
		if !bytes.Equal(pt, testDataKey) {
			t.Fatalf("forged blob decrypted to %x", pt)
		}
	})
}

func mustBlobF(f *testing.F) []byte {
	b, err := EncryptBlob(testMaterial, BlobParams{KeyID: "1234abcd-12ab-34cd-56ef-1234567890ab", MaterialVersion: 2,
		Context: map[string]string{"aws:sns:topicArn": "arn:aws:sns:us-east-1:000000000000:orders", "purpose": "test"}},
		testDataKey, WithRand(&seqReader{next: 0x10}))
	if err != nil {
		f.Fatal(err)
	}
	return b
}

func FuzzOpenSealedMaterial(f *testing.F) {
	// Fixed nonces: the fuzzing workers are separate processes that rerun
	// this setup and must produce the same seed.
	k, err := NewKeyring(testRoot, WithRand(&seqReader{}))
	if err != nil {
		f.Fatal(err)
	}
	s, _ := k.SealMaterial("key-1", 1, testMaterial)
	f.Add(bytes.Clone(s), "key-1", uint32(1))
	f.Add([]byte{1}, "key-1", uint32(1))
	f.Add([]byte{}, "", uint32(0))
	f.Fuzz(func(t *testing.T, b []byte, keyID string, v uint32) {
		pt, err := k.OpenMaterial(keyID, v, b)
		if err != nil {
			if !errors.Is(err, ErrInvalidCiphertext) && !errors.Is(err, ErrInvalidInput) {
				t.Fatalf("unexpected error: %v", err)
			}
			return
		}
		if !bytes.Equal(b, s) || keyID != "key-1" || v != 1 || !bytes.Equal(pt, testMaterial) {
			t.Fatalf("forged sealed material opened: %x", pt)
		}
	})
}

func FuzzOpenBody(f *testing.F) {
	dk, err := NewDataKey([]byte("dk-0001"), testDataKey, WithRand(&seqReader{}))
	if err != nil {
		f.Fatal(err)
	}
	s, _ := dk.SealBody([]byte("the message"), testBodyAAD)
	f.Add(bytes.Clone(s), testBodyAAD.TopicARN, testBodyAAD.MessageID, testBodyAAD.Timestamp)
	f.Add([]byte{1, 1, 0, 0}, "", "", int64(0))
	f.Add([]byte{1, 1, 0xff, 0xff}, "t", "m", int64(-1))
	f.Fuzz(func(t *testing.T, b []byte, topic, msgID string, ts int64) {
		if id, err := ParseBody(b); err != nil {
			if !errors.Is(err, ErrInvalidCiphertext) {
				t.Fatalf("parse error does not wrap ErrInvalidCiphertext: %v", err)
			}
		} else if len(id) == 0 || !bytes.Contains(b, id) {
			t.Fatalf("data-key id not from the input: %x", id)
		}
		a := testBodyAAD
		a.TopicARN, a.MessageID, a.Timestamp = topic, msgID, ts
		pt, err := dk.OpenBody(b, a)
		if err != nil {
			if !errors.Is(err, ErrInvalidCiphertext) {
				t.Fatalf("open error does not wrap ErrInvalidCiphertext: %v", err)
			}
			return
		}
		if !bytes.Equal(b, s) || a != testBodyAAD || string(pt) != "the message" {
			t.Fatalf("forged body opened: %q", pt)
		}
	})
}

func FuzzParseRootRecord(f *testing.F) {
	p := smallArgon
	p.Salt = seq(0, 16)
	r, _ := NewRootRecord(testRoot, SourcePassphrase, p)
	b, _ := r.MarshalBinary()
	f.Add(b)
	r, _ = NewRootRecord(testRoot, SourceKey, Argon2Params{})
	b, _ = r.MarshalBinary()
	f.Add(b)
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParseRootRecord(b)
		if err != nil {
			if !errors.Is(err, ErrInvalidRootKey) {
				t.Fatalf("unexpected error: %v", err)
			}
			return
		}
		again, err := r.MarshalBinary()
		if err != nil || !bytes.Equal(again, b) {
			t.Fatalf("record does not round-trip: %x → %x %v", b, again, err)
		}
	})
}

func FuzzParseRootKey(f *testing.F) {
	f.Add([]byte("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"))
	f.Add([]byte("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="))
	f.Fuzz(func(t *testing.T, b []byte) {
		k, err := ParseRootKey(b)
		if err != nil {
			if !errors.Is(err, ErrInvalidRootKey) {
				t.Fatalf("unexpected error: %v", err)
			}
			return
		}
		if len(k) != KeySize {
			t.Fatalf("key of %d bytes", len(k))
		}
	})
}
