package sse

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/sealpost/sealpost/internal/kms"
)

// FuzzOpen: Open of any bytes never panics; it fails with
// InvalidCiphertext (or a KMS refusal), and succeeds only with the sealed
// plaintext.
func FuzzOpen(f *testing.F) {
	e := newEnv(f, envOpts{noAudit: true})
	body := []byte("fuzz body")
	good := e.seal(f, rootOf(acctA), "m1", body)
	f.Add(good)
	f.Add([]byte{})
	f.Add([]byte{1, 0, 0})
	f.Add([]byte{1, 0xff, 0xff, 1, 1})
	f.Add(good[:len(good)-1])
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, frame []byte) {
		pt, err := e.sealer.Open(ctx, acctA, region, frame, aadOf("m1"))
		if err == nil {
			if !bytes.Equal(pt, body) {
				t.Fatalf("opened to %q", pt)
			}
			return
		}
		if pt != nil {
			t.Fatal("plaintext with an error")
		}
		var ke *kms.Error
		if !errors.As(err, &ke) {
			t.Fatalf("error %v is not a *kms.Error", err)
		}
	})
}

// FuzzOpenQueue: OpenQueue of any frame, for any sealed-for queue ARN,
// managed or not, never panics; it fails with a *kms.Error and succeeds
// only with the sealed plaintext.
func FuzzOpenQueue(f *testing.F) {
	e := newEnv(f, envOpts{noAudit: true})
	body := []byte("fuzz queue body")
	c := rootOf(acctA)
	good, _, err := e.sealQ(c, e.key.KeyID, 0, "m1", body)
	if err != nil {
		f.Fatal(err)
	}
	managed, _, err := e.sealQ(c, "", 0, "m1", body)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good, queueARN, false)
	f.Add(managed, queueARN, true)
	f.Add(good, "arn:aws:sqs:us-east-1:111122223333", false)
	f.Add([]byte{1, 0, 1, 0}, "", true)
	f.Add(managed[:len(managed)-2], queueARN, true)
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, frame []byte, sealedFor string, isManaged bool) {
		pt, err := e.sealer.OpenQueue(ctx, c, sealedFor, isManaged, frame, queueAAD("m1"))
		if err == nil {
			if !bytes.Equal(pt, body) || sealedFor != queueARN {
				t.Fatalf("opened to %q for %q", pt, sealedFor)
			}
			return
		}
		if pt != nil {
			t.Fatal("plaintext with an error")
		}
		var ke *kms.Error
		if !errors.As(err, &ke) {
			t.Fatalf("error %v is not a *kms.Error", err)
		}
	})
}
