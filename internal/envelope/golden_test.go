package envelope

import (
	"bytes"
	"testing"
)

// Known-answer tests: fixed keys and nonces give fixed bytes, and the golden
// bytes (written by earlier versions) still open.

var testBodyAAD = BodyAAD{
	TopicARN:  "arn:aws:sns:us-east-1:000000000000:orders",
	MessageID: "4f1c2a9e-0000-4000-8000-000000000001",
	Timestamp: 1764460800123,
	Subject:   "hello",
	AttributesDigest: AttributesDigest(map[string]MessageAttribute{
		"color": {DataType: "String", StringValue: "blue"},
		"blob":  {DataType: "Binary", BinaryValue: []byte{1, 2, 3}},
	}),
}

func TestGoldenSubkeys(t *testing.T) {
	k, err := NewKeyring(testRoot)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "dedup-key.hex", k.DedupKey())
	golden(t, "audit-key.hex", k.AuditKey())
	golden(t, "record-mac-key.hex", k.RecordMACKey())
	c := CheckValue(testRoot)
	golden(t, "check-value.hex", c[:])
}

func TestGoldenRootRecord(t *testing.T) {
	r, err := NewRootRecord(testRoot, SourceKey, Argon2Params{})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := r.MarshalBinary()
	want := golden(t, "root-record-key.hex", b)
	if r2, err := ParseRootRecord(want); err != nil || r2.Verify(testRoot) != nil {
		t.Fatalf("golden record does not parse or verify: %v", err)
	}

	p := Argon2Params{Time: 1, MemoryKiB: 8 << 10, Threads: 1, Salt: seq(0xa0, 16)}
	key, err := DeriveRootKey([]byte("correct horse battery staple"), p)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "argon2id-root.hex", key)
	r, err = NewRootRecord(key, SourcePassphrase, p)
	if err != nil {
		t.Fatal(err)
	}
	b, _ = r.MarshalBinary()
	want = golden(t, "root-record-passphrase.hex", b)
	r2, err := ParseRootRecord(want)
	if err != nil || r2.Verify(key) != nil || r2.Argon2.Time != 1 || !bytes.Equal(r2.Argon2.Salt, p.Salt) {
		t.Fatalf("golden passphrase record: %+v %v", r2, err)
	}
}

func TestGoldenSealedMaterial(t *testing.T) {
	k, err := NewKeyring(testRoot, WithRand(&seqReader{next: 0xc0}))
	if err != nil {
		t.Fatal(err)
	}
	const keyID = "1234abcd-12ab-34cd-56ef-1234567890ab"
	got, err := k.SealMaterial(keyID, 3, testMaterial)
	if err != nil {
		t.Fatal(err)
	}
	want := golden(t, "sealed-material.hex", got)
	pt, err := k.OpenMaterial(keyID, 3, want)
	if err != nil || !bytes.Equal(pt, testMaterial) {
		t.Fatalf("golden sealed material: %x %v", pt, err)
	}
}

func TestGoldenBlob(t *testing.T) {
	for _, tc := range []struct {
		file string
		p    BlobParams
	}{
		{"blob-context.hex", BlobParams{KeyID: "1234abcd-12ab-34cd-56ef-1234567890ab", MaterialVersion: 2,
			Context: map[string]string{"aws:sns:topicArn": "arn:aws:sns:us-east-1:000000000000:orders", "purpose": "test"}}},
		{"blob-no-context.hex", BlobParams{KeyID: "arn:aws:kms:us-east-1:000000000000:key/1234abcd-12ab-34cd-56ef-1234567890ab", MaterialVersion: 1}},
	} {
		got, err := EncryptBlob(testMaterial, tc.p, testDataKey, WithRand(&seqReader{next: 0x10}))
		if err != nil {
			t.Fatal(err)
		}
		want := golden(t, tc.file, got)
		b, err := ParseBlob(want)
		if err != nil || b.KeyID != tc.p.KeyID || b.MaterialVersion != tc.p.MaterialVersion {
			t.Fatalf("%s: parse %+v %v", tc.file, b, err)
		}
		pt, err := b.Decrypt(testMaterial, tc.p.Context)
		if err != nil || !bytes.Equal(pt, testDataKey) {
			t.Fatalf("%s: decrypt %x %v", tc.file, pt, err)
		}
	}
}

func TestGoldenBody(t *testing.T) {
	dk, err := NewDataKey([]byte("dk-0001"), testDataKey, WithRand(&seqReader{next: 0xe0}))
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"order":42,"note":"a sealed SNS message body"}`)
	got, err := dk.SealBody(body, testBodyAAD)
	if err != nil {
		t.Fatal(err)
	}
	want := golden(t, "body.hex", got)
	pt, err := dk.OpenBody(want, testBodyAAD)
	if err != nil || !bytes.Equal(pt, body) {
		t.Fatalf("golden body: %q %v", pt, err)
	}
	golden(t, "attributes-digest.hex", testBodyAAD.AttributesDigest[:])
	empty := AttributesDigest(nil)
	golden(t, "attributes-digest-empty.hex", empty[:])
}
