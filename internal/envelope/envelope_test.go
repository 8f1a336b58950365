package envelope

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var smallArgon = Argon2Params{Time: 1, MemoryKiB: 8 << 10, Threads: 1}

func mustInvalid(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, ErrInvalidCiphertext) {
		t.Fatalf("%s: got %v, want ErrInvalidCiphertext", what, err)
	}
}

// TestBlobSpec opens a golden blob with stdlib primitives following only the
// layout in doc.go, so the documentation and the code cannot drift apart.
func TestBlobSpec(t *testing.T) {
	b := golden(t, "blob-context.hex", mustBlob(t))
	kl := int(b[2])
	hdr := b[:51+kl]
	if b[0] != 1 || b[1] != 1 || string(b[3:3+kl]) != "1234abcd-12ab-34cd-56ef-1234567890ab" || binary.BigEndian.Uint32(b[3+kl:]) != 2 {
		t.Fatalf("header fields not where doc.go says: %x", hdr)
	}
	key, err := hkdf.Key(sha256.New, testMaterial, b[7+kl:39+kl], "sealpost/kms-blob/v1"+string(b[:7+kl]), 32)
	if err != nil {
		t.Fatal(err)
	}
	ctx := []byte{0, 2}
	for _, kv := range [][2]string{{"aws:sns:topicArn", "arn:aws:sns:us-east-1:000000000000:orders"}, {"purpose", "test"}} {
		ctx = binary.BigEndian.AppendUint16(ctx, uint16(len(kv[0])))
		ctx = append(ctx, kv[0]...)
		ctx = binary.BigEndian.AppendUint16(ctx, uint16(len(kv[1])))
		ctx = append(ctx, kv[1]...)
	}
	blk, _ := aes.NewCipher(key)
	g, _ := cipher.NewGCM(blk)
	pt, err := g.Open(nil, b[39+kl:51+kl], b[51+kl:], append(bytes.Clone(hdr), ctx...))
	if err != nil || !bytes.Equal(pt, testDataKey) {
		t.Fatalf("spec decode: %x %v", pt, err)
	}
}

// TestBodySpec does the same for a sealed body.
func TestBodySpec(t *testing.T) {
	dk, _ := NewDataKey([]byte("dk-0001"), testDataKey, WithRand(&seqReader{next: 0xe0}))
	body := []byte(`{"order":42,"note":"a sealed SNS message body"}`)
	sealed, _ := dk.SealBody(body, testBodyAAD)
	b := golden(t, "body.hex", sealed)
	l := int(binary.BigEndian.Uint16(b[2:4]))
	hdr := b[:16+l]
	a := testBodyAAD
	ad := bytes.Clone(hdr)
	ad = binary.BigEndian.AppendUint16(ad, uint16(len(a.TopicARN)))
	ad = append(ad, a.TopicARN...)
	ad = binary.BigEndian.AppendUint16(ad, uint16(len(a.MessageID)))
	ad = append(ad, a.MessageID...)
	ad = binary.BigEndian.AppendUint64(ad, uint64(a.Timestamp))
	ad = binary.BigEndian.AppendUint32(ad, uint32(len(a.Subject)))
	ad = append(ad, a.Subject...)
	ad = append(ad, a.AttributesDigest[:]...)
	ad = append(ad, 0, 0, 0, 0) // empty group id and dedup id
	blk, _ := aes.NewCipher(testDataKey)
	g, _ := cipher.NewGCM(blk)
	pt, err := g.Open(nil, b[4+l:16+l], b[16+l:], ad)
	if err != nil || !bytes.Equal(pt, body) {
		t.Fatalf("spec decode: %q %v", pt, err)
	}
}

// TestMaterialSpec does the same for sealed material.
func TestMaterialSpec(t *testing.T) {
	k, _ := NewKeyring(testRoot, WithRand(&seqReader{next: 0xc0}))
	const keyID = "1234abcd-12ab-34cd-56ef-1234567890ab"
	s, _ := k.SealMaterial(keyID, 3, testMaterial)
	b := golden(t, "sealed-material.hex", s)
	wrap, _ := hkdf.Key(sha256.New, testRoot, nil, "sealpost/cmk-wrap/v1", 32)
	ad := []byte{1}
	ad = binary.BigEndian.AppendUint16(ad, uint16(len(keyID)))
	ad = append(ad, keyID...)
	ad = binary.BigEndian.AppendUint32(ad, 3)
	blk, _ := aes.NewCipher(wrap)
	g, _ := cipher.NewGCM(blk)
	pt, err := g.Open(nil, b[1:13], b[13:], ad)
	if err != nil || !bytes.Equal(pt, testMaterial) {
		t.Fatalf("spec decode: %x %v", pt, err)
	}
}

func mustBlob(t *testing.T) []byte {
	t.Helper()
	b, err := EncryptBlob(testMaterial, BlobParams{KeyID: "1234abcd-12ab-34cd-56ef-1234567890ab", MaterialVersion: 2,
		Context: map[string]string{"aws:sns:topicArn": "arn:aws:sns:us-east-1:000000000000:orders", "purpose": "test"}},
		testDataKey, WithRand(&seqReader{next: 0x10}))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestBlobTamper(t *testing.T) {
	ctx := map[string]string{"aws:sns:topicArn": "arn:aws:sns:us-east-1:000000000000:orders", "purpose": "test"}
	blob := mustBlob(t)
	for i := range blob {
		for _, flip := range []byte{0x01, 0x80} {
			b := bytes.Clone(blob)
			b[i] ^= flip
			p, err := ParseBlob(b)
			if err != nil {
				mustInvalid(t, "parse", err)
				continue
			}
			_, err = p.Decrypt(testMaterial, ctx)
			mustInvalid(t, "decrypt after flipping byte", err)
		}
	}
	for n := 0; n < len(blob); n++ {
		_, err := ParseBlob(blob[:n])
		if err == nil {
			p, _ := ParseBlob(blob[:n])
			_, err = p.Decrypt(testMaterial, ctx)
		}
		mustInvalid(t, "truncated", err)
	}
	_, err := ParseBlob(append(bytes.Clone(blob), 0))
	if err == nil {
		p, _ := ParseBlob(append(bytes.Clone(blob), 0))
		_, err = p.Decrypt(testMaterial, ctx)
	}
	mustInvalid(t, "extended", err)

	p, err := ParseBlob(blob)
	if err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]map[string]string{
		"nil":           nil,
		"missing pair":  {"aws:sns:topicArn": ctx["aws:sns:topicArn"]},
		"extra pair":    {"aws:sns:topicArn": ctx["aws:sns:topicArn"], "purpose": "test", "x": ""},
		"changed value": {"aws:sns:topicArn": ctx["aws:sns:topicArn"], "purpose": "tesT"},
		"moved byte":    {"aws:sns:topicArn": ctx["aws:sns:topicArn"], "purposet": "est"},
		"bad utf-8":     {"aws:sns:topicArn": ctx["aws:sns:topicArn"], "purpose": "\xff"},
	} {
		_, err := p.Decrypt(testMaterial, c)
		mustInvalid(t, "context "+name, err)
	}
	other := bytes.Clone(testMaterial)
	other[31] ^= 1
	_, err = p.Decrypt(other, ctx)
	mustInvalid(t, "wrong material", err)
	if pt, err := p.Decrypt(testMaterial, ctx); err != nil || !bytes.Equal(pt, testDataKey) {
		t.Fatalf("round trip: %v", err)
	}
}

func TestCanonicalContextIsUnambiguous(t *testing.T) {
	a, _ := CanonicalContext(map[string]string{"a": "bc"})
	b, _ := CanonicalContext(map[string]string{"ab": "c"})
	if bytes.Equal(a, b) {
		t.Fatal(`{"a":"bc"} and {"ab":"c"} encode the same`)
	}
	e1, _ := CanonicalContext(nil)
	e2, _ := CanonicalContext(map[string]string{})
	if !bytes.Equal(e1, []byte{0, 0}) || !bytes.Equal(e2, e1) {
		t.Fatalf("empty context: %x %x", e1, e2)
	}
	ctx := map[string]string{"b": "2", "a": "1", "c": "3"}
	for range 20 { // map order must not matter
		c, _ := CanonicalContext(ctx)
		if !bytes.Equal(c, []byte("\x00\x03\x00\x01a\x00\x011\x00\x01b\x00\x012\x00\x01c\x00\x013")) {
			t.Fatalf("not sorted: %q", c)
		}
	}
	if _, err := CanonicalContext(map[string]string{"k": strings.Repeat("v", MaxContext)}); !errors.Is(err, ErrInvalidInput) {
		t.Fatalf("oversized context: %v", err)
	}
}

func TestBlobLimits(t *testing.T) {
	p := BlobParams{KeyID: "k", MaterialVersion: 1}
	for name, tc := range map[string]struct {
		mat, pt []byte
		p       BlobParams
	}{
		"empty plaintext":  {testMaterial, nil, p},
		"plaintext 4097":   {testMaterial, make([]byte, 4097), p},
		"short material":   {testMaterial[:16], []byte("x"), p},
		"empty key id":     {testMaterial, []byte("x"), BlobParams{MaterialVersion: 1}},
		"key id 256 bytes": {testMaterial, []byte("x"), BlobParams{KeyID: strings.Repeat("k", 256), MaterialVersion: 1}},
		"version 0":        {testMaterial, []byte("x"), BlobParams{KeyID: "k"}},
	} {
		if _, err := EncryptBlob(tc.mat, tc.p, tc.pt); !errors.Is(err, ErrInvalidInput) {
			t.Errorf("%s: %v", name, err)
		}
	}
	// The largest blob fits AWS's 6144-byte limit and round-trips.
	big := BlobParams{KeyID: strings.Repeat("k", 255), MaterialVersion: 0xffffffff}
	b, err := EncryptBlob(testMaterial, big, make([]byte, MaxBlobPlaintext))
	if err != nil || len(b) != 51+255+4096+16 || len(b) > MaxBlob {
		t.Fatalf("largest blob: %d %v", len(b), err)
	}
	pb, err := ParseBlob(b)
	if err != nil || pb.MaterialVersion != 0xffffffff {
		t.Fatal(err)
	}
	if _, err := pb.Decrypt(testMaterial, nil); err != nil {
		t.Fatal(err)
	}
	mustInvalid(t, "over 6144", func() error { _, err := ParseBlob(make([]byte, MaxBlob+1)); return err }())
}

func TestSealedMaterial(t *testing.T) {
	k, err := NewKeyring(testRoot)
	if err != nil {
		t.Fatal(err)
	}
	s, err := k.SealMaterial("key-1", 1, testMaterial)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(s, testMaterial) {
		t.Fatal("material in clear")
	}
	for i := range s {
		b := bytes.Clone(s)
		b[i] ^= 0x01
		_, err := k.OpenMaterial("key-1", 1, b)
		mustInvalid(t, "flipped byte", err)
	}
	for n := range s {
		_, err := k.OpenMaterial("key-1", 1, s[:n])
		mustInvalid(t, "truncated", err)
	}
	_, err = k.OpenMaterial("key-2", 1, s)
	mustInvalid(t, "moved to another key", err)
	_, err = k.OpenMaterial("key-1", 2, s)
	mustInvalid(t, "moved to another version", err)
	other, _ := NewKeyring(seq(0x01, 32))
	_, err = other.OpenMaterial("key-1", 1, s)
	mustInvalid(t, "other root key", err)
	if pt, err := k.OpenMaterial("key-1", 1, s); err != nil || !bytes.Equal(pt, testMaterial) {
		t.Fatal(err)
	}
	if _, err := k.SealMaterial("", 1, testMaterial); !errors.Is(err, ErrInvalidInput) {
		t.Fatal(err)
	}
	if _, err := k.SealMaterial("k", 0, testMaterial); !errors.Is(err, ErrInvalidInput) {
		t.Fatal(err)
	}
	// Subkeys differ from each other and between roots.
	if bytes.Equal(k.DedupKey(), k.AuditKey()) || bytes.Equal(k.DedupKey(), other.DedupKey()) {
		t.Fatal("subkeys not separated")
	}
	k.Wipe()
	if _, err := k.SealMaterial("k", 1, testMaterial); !errors.Is(err, ErrInvalidInput) {
		t.Fatalf("sealing with a wiped keyring: %v", err)
	}
}

func TestBodyTamper(t *testing.T) {
	dk, err := NewDataKey([]byte("dk-0001"), testDataKey)
	if err != nil {
		t.Fatal(err)
	}
	body := []byte("the message")
	s, err := dk.SealBody(body, testBodyAAD)
	if err != nil {
		t.Fatal(err)
	}
	for i := range s {
		b := bytes.Clone(s)
		b[i] ^= 0x01
		_, err := dk.OpenBody(b, testBodyAAD)
		mustInvalid(t, "flipped byte", err)
	}
	for n := range s {
		_, err := dk.OpenBody(s[:n], testBodyAAD)
		mustInvalid(t, "truncated", err)
	}
	changes := map[string]func(a *BodyAAD){
		"topic":     func(a *BodyAAD) { a.TopicARN += "2" },
		"message":   func(a *BodyAAD) { a.MessageID = "other" },
		"timestamp": func(a *BodyAAD) { a.Timestamp++ },
		"subject":   func(a *BodyAAD) { a.Subject = "" },
		"attrs":     func(a *BodyAAD) { a.AttributesDigest = AttributesDigest(nil) },
		"group":     func(a *BodyAAD) { a.MessageGroupID = "g" },
		"dedup":     func(a *BodyAAD) { a.DeduplicationID = "d" },
		"shift":     func(a *BodyAAD) { a.TopicARN, a.MessageID = a.TopicARN+a.MessageID[:1], a.MessageID[1:] },
	}
	for name, change := range changes {
		a := testBodyAAD
		change(&a)
		_, err := dk.OpenBody(s, a)
		mustInvalid(t, "AAD "+name, err)
	}
	other, _ := NewDataKey([]byte("dk-0001"), seq(0x81, 32))
	_, err = other.OpenBody(s, testBodyAAD)
	mustInvalid(t, "wrong data key", err)
	otherID, _ := NewDataKey([]byte("dk-0002"), testDataKey)
	_, err = otherID.OpenBody(s, testBodyAAD)
	mustInvalid(t, "other data-key id", err)
	if id, err := ParseBody(s); err != nil || string(id) != "dk-0001" {
		t.Fatalf("ParseBody: %q %v", id, err)
	}
	if pt, err := dk.OpenBody(s, testBodyAAD); err != nil || !bytes.Equal(pt, body) {
		t.Fatal(err)
	}
	// Empty and maximum bodies round-trip; larger is refused.
	for _, n := range []int{0, MaxBodyPlaintext} {
		s, err := dk.SealBody(make([]byte, n), testBodyAAD)
		if err != nil {
			t.Fatal(err)
		}
		if pt, err := dk.OpenBody(s, testBodyAAD); err != nil || len(pt) != n {
			t.Fatalf("%d bytes: %v", n, err)
		}
	}
	if _, err := dk.SealBody(make([]byte, MaxBodyPlaintext+1), testBodyAAD); !errors.Is(err, ErrInvalidInput) {
		t.Fatal(err)
	}
}

func TestAttributesDigest(t *testing.T) {
	a := AttributesDigest(map[string]MessageAttribute{"a": {DataType: "String", StringValue: "bc"}})
	b := AttributesDigest(map[string]MessageAttribute{"ab": {DataType: "String", StringValue: "c"}})
	c := AttributesDigest(map[string]MessageAttribute{"a": {DataType: "Binary", BinaryValue: []byte("bc")}})
	d := AttributesDigest(map[string]MessageAttribute{"a": {DataType: "String.Array", StringValue: "bc"}})
	if a == b || a == c || a == d || a == AttributesDigest(nil) {
		t.Fatal("attribute digests collide")
	}
}

func TestParseRootKey(t *testing.T) {
	key := seq(0x30, 32)
	for name, text := range map[string]string{
		"hex":            hex.EncodeToString(key),
		"hex upper+nl":   strings.ToUpper(hex.EncodeToString(key)) + "\n",
		"base64":         base64.StdEncoding.EncodeToString(key),
		"base64 raw url": "  " + base64.RawURLEncoding.EncodeToString(key) + "\r\n",
	} {
		got, err := ParseRootKey([]byte(text))
		if err != nil || !bytes.Equal(got, key) {
			t.Errorf("%s: %x %v", name, got, err)
		}
	}
	for name, text := range map[string]string{
		"empty":     "",
		"raw bytes": string(key),
		"short hex": hex.EncodeToString(key[:31]),
		"long b64":  base64.StdEncoding.EncodeToString(append(key, 1)),
		"bad hex":   strings.Repeat("g", 64),
	} {
		_, err := ParseRootKey([]byte(text))
		if !errors.Is(err, ErrInvalidRootKey) {
			t.Errorf("%s: %v", name, err)
		} else if name == "raw bytes" && !strings.Contains(err.Error(), "openssl rand -hex 32") {
			t.Errorf("raw bytes: unhelpful message %q", err)
		}
	}
}

func TestRootKeyFromFileAndEnv(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "root.key")
	text := hex.EncodeToString(testRoot) + "\n"
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	if k, err := RootKeyFromFile(path); err != nil || !bytes.Equal(k, testRoot) {
		t.Fatalf("file: %v", err)
	}
	os.Chmod(path, 0o640)
	if _, err := RootKeyFromFile(path); !errors.Is(err, ErrInvalidRootKey) || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("group-readable file accepted: %v", err)
	}
	if _, err := RootKeyFromFile(filepath.Join(dir, "missing")); !errors.Is(err, ErrInvalidRootKey) {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big.key")
	os.WriteFile(big, make([]byte, 5000), 0o600)
	if _, err := RootKeyFromFile(big); !errors.Is(err, ErrInvalidRootKey) {
		t.Fatal(err)
	}
	t.Setenv("SEALPOST_TEST_ROOT_KEY", base64.StdEncoding.EncodeToString(testRoot))
	if k, err := RootKeyFromEnv("SEALPOST_TEST_ROOT_KEY"); err != nil || !bytes.Equal(k, testRoot) {
		t.Fatalf("env: %v", err)
	}
	if _, err := RootKeyFromEnv("SEALPOST_TEST_ROOT_KEY_UNSET"); !errors.Is(err, ErrInvalidRootKey) {
		t.Fatal(err)
	}
}

func TestDevRootKey(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "dev-root.key")
	k1, created, err := DevRootKey(path)
	if err != nil || !created || len(k1) != 32 {
		t.Fatalf("create: %v %v", created, err)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v %v", st.Mode(), err)
	}
	k2, created, err := DevRootKey(path)
	if err != nil || created || !bytes.Equal(k1, k2) {
		t.Fatalf("reload: %v %v", created, err)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Fatalf("temporary files left: %v", ents)
	}
	// An existing, unusable file is reported, never replaced.
	bad := filepath.Join(dir, "bad.key")
	os.WriteFile(bad, []byte("nonsense"), 0o600)
	if _, _, err := DevRootKey(bad); !errors.Is(err, ErrInvalidRootKey) {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(bad); string(b) != "nonsense" {
		t.Fatal("bad key file replaced")
	}
}

func TestEnsureRootRecord(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "root.check")
	if err := EnsureRootRecord(path, testRoot, false); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing record without create: %v", err)
	}
	if err := EnsureRootRecord(path, testRoot, true); err != nil {
		t.Fatal(err)
	}
	if err := EnsureRootRecord(path, testRoot, false); err != nil {
		t.Fatalf("right key: %v", err)
	}
	before, _ := os.ReadFile(path)
	wrong := seq(0x01, 32)
	if err := EnsureRootRecord(path, wrong, true); !errors.Is(err, ErrWrongRootKey) {
		t.Fatalf("wrong key: %v", err)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Fatal("record changed by a wrong key")
	}
	os.WriteFile(path, before[:10], 0o600)
	if err := EnsureRootRecord(path, testRoot, true); !errors.Is(err, ErrInvalidRootKey) {
		t.Fatalf("corrupt record: %v", err)
	}
}

func TestPassphraseRootKey(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "root.check")
	pass := []byte("correct horse battery staple")
	if _, err := PassphraseRootKey(pass, path, false); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing record: %v", err)
	}
	k1, err := PassphraseRootKey(pass, path, true, WithArgon2Params(smallArgon))
	if err != nil {
		t.Fatal(err)
	}
	r, err := ReadRootRecord(path)
	if err != nil || r.Source != SourcePassphrase || len(r.Argon2.Salt) != 16 || r.Argon2.MemoryKiB != 8<<10 {
		t.Fatalf("record: %+v %v", r, err)
	}
	k2, err := PassphraseRootKey(pass, path, false)
	if err != nil || !bytes.Equal(k1, k2) {
		t.Fatalf("second derivation with the stored salt differs: %v", err)
	}
	if _, err := PassphraseRootKey([]byte("wrong"), path, true); !errors.Is(err, ErrWrongRootKey) {
		t.Fatalf("wrong passphrase: %v", err)
	}
	if err := EnsureRootRecord(path, seq(0x05, 32), false); !errors.Is(err, ErrWrongRootKey) || !strings.Contains(err.Error(), "passphrase") {
		t.Fatalf("key file against a passphrase record: %v", err)
	}
	keyPath := filepath.Join(dir, "key.check")
	EnsureRootRecord(keyPath, testRoot, true)
	if _, err := PassphraseRootKey(pass, keyPath, false); !errors.Is(err, ErrWrongRootKey) {
		t.Fatalf("passphrase against a key record: %v", err)
	}
	// A second record with a fresh salt gives another key.
	k3, err := PassphraseRootKey(pass, filepath.Join(dir, "other.check"), true, WithArgon2Params(smallArgon))
	if err != nil || bytes.Equal(k1, k3) {
		t.Fatalf("salt not random: %v", err)
	}
}

func TestRootRecordParse(t *testing.T) {
	p := smallArgon
	p.Salt = seq(0, 16)
	r, _ := NewRootRecord(testRoot, SourcePassphrase, p)
	b, _ := r.MarshalBinary()
	for n := range b {
		if _, err := ParseRootRecord(b[:n]); !errors.Is(err, ErrInvalidRootKey) {
			t.Fatalf("truncated to %d: %v", n, err)
		}
	}
	if _, err := ParseRootRecord(append(bytes.Clone(b), 0)); !errors.Is(err, ErrInvalidRootKey) {
		t.Fatal("trailing byte accepted")
	}
	bad := bytes.Clone(b)
	binary.BigEndian.PutUint32(bad[22:], 1<<30) // memory far above the cap
	if _, err := ParseRootRecord(bad); !errors.Is(err, ErrInvalidRootKey) {
		t.Fatal("huge Argon2 memory accepted")
	}
}

func TestWipe(t *testing.T) {
	a, b := []byte{1, 2, 3}, []byte{4}
	Wipe(a, b, nil)
	if !bytes.Equal(a, []byte{0, 0, 0}) || b[0] != 0 {
		t.Fatal("not wiped")
	}
}

// TestConcurrentUse runs a Keyring and a DataKey from several goroutines
// (meaningful under -race).
func TestConcurrentUse(t *testing.T) {
	k, _ := NewKeyring(testRoot)
	dk, _ := NewDataKey([]byte("dk"), testDataKey)
	errs := make(chan error, 8)
	for g := range 8 {
		go func() {
			var err error
			for i := 0; i < 50 && err == nil; i++ {
				var s, pt []byte
				if s, err = k.SealMaterial("key", uint32(g+1), testMaterial); err == nil {
					pt, err = k.OpenMaterial("key", uint32(g+1), s)
				}
				if err == nil {
					s, err = dk.SealBody(testMaterial, testBodyAAD)
				}
				if err == nil {
					pt, err = dk.OpenBody(s, testBodyAAD)
				}
				if err == nil && !bytes.Equal(pt, testMaterial) {
					err = errors.New("round trip mismatch")
				}
			}
			errs <- err
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

// TestCheckContext: CheckContext accepts exactly what CanonicalContext
// encodes.
func TestCheckContext(t *testing.T) {
	big := strings.Repeat("v", MaxContext)
	for _, ctx := range []map[string]string{
		nil, {}, {"a": "b"}, {"k": strings.Repeat("v", MaxContext-7)}, {"k": strings.Repeat("v", MaxContext-6)},
		{"bad\xff": "x"}, {"x": "bad\xff"}, {"k": big},
	} {
		_, cerr := CanonicalContext(ctx)
		if err := CheckContext(ctx); (err == nil) != (cerr == nil) || err != nil && !errors.Is(err, ErrInvalidInput) {
			t.Fatalf("%d pairs: CheckContext %v, CanonicalContext %v", len(ctx), err, cerr)
		}
	}
	if n := testing.AllocsPerRun(100, func() { CheckContext(map[string]string{"aws:sns:topicArn": "arn"}) }); n > 1 {
		t.Fatalf("CheckContext allocates %v times", n)
	}
}
