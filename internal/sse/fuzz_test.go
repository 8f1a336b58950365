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
