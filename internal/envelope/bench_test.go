package envelope

import (
	"testing"
)

func BenchmarkBlobEncrypt32(b *testing.B) {
	p := BlobParams{KeyID: "1234abcd-12ab-34cd-56ef-1234567890ab", MaterialVersion: 1,
		Context: map[string]string{"aws:sns:topicArn": "arn:aws:sns:us-east-1:000000000000:orders"}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := EncryptBlob(testMaterial, p, testDataKey); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBlobDecrypt32(b *testing.B) {
	p := BlobParams{KeyID: "1234abcd-12ab-34cd-56ef-1234567890ab", MaterialVersion: 1,
		Context: map[string]string{"aws:sns:topicArn": "arn:aws:sns:us-east-1:000000000000:orders"}}
	blob, err := EncryptBlob(testMaterial, p, testDataKey)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		pb, err := ParseBlob(blob)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := pb.Decrypt(testMaterial, p.Context); err != nil {
			b.Fatal(err)
		}
	}
}

func benchBody(b *testing.B, n int, open bool) {
	dk, err := NewDataKey(make([]byte, 16), testDataKey)
	if err != nil {
		b.Fatal(err)
	}
	body := make([]byte, n)
	sealed, err := dk.SealBody(body, testBodyAAD)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(n))
	b.ReportAllocs()
	for b.Loop() {
		if open {
			_, err = dk.OpenBody(sealed, testBodyAAD)
		} else {
			_, err = dk.SealBody(body, testBodyAAD)
		}
		if err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBodySeal1K(b *testing.B)   { benchBody(b, 1<<10, false) }
func BenchmarkBodyOpen1K(b *testing.B)   { benchBody(b, 1<<10, true) }
func BenchmarkBodySeal256K(b *testing.B) { benchBody(b, 256<<10, false) }
func BenchmarkBodyOpen256K(b *testing.B) { benchBody(b, 256<<10, true) }

func BenchmarkSealMaterial(b *testing.B) {
	k, _ := NewKeyring(testRoot)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := k.SealMaterial("1234abcd-12ab-34cd-56ef-1234567890ab", 1, testMaterial); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkNewKeyring(b *testing.B) {
	for b.Loop() {
		if _, err := NewKeyring(testRoot); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkArgon2idDefault measures the passphrase derivation with the
// default parameters (t=3, m=64 MiB, p=2): the start-up cost of a passphrase.
func BenchmarkArgon2idDefault(b *testing.B) {
	p, err := DefaultArgon2Params()
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := DeriveRootKey([]byte("correct horse battery staple"), p); err != nil {
			b.Fatal(err)
		}
	}
}
