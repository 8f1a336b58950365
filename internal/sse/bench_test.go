package sse

import (
	"context"
	"testing"
)

func BenchmarkSeal(b *testing.B) {
	e := newEnv(b, envOpts{noAudit: true})
	body := make([]byte, 1024)
	aad := aadOf("m1")
	ctx := context.Background()
	c := rootOf(acctA)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.sealer.Seal(ctx, c, e.key.KeyID, aad, body); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOpen(b *testing.B) {
	e := newEnv(b, envOpts{noAudit: true})
	body := make([]byte, 1024)
	aad := aadOf("m1")
	ctx := context.Background()
	f := e.seal(b, rootOf(acctA), "m1", body)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.sealer.Open(ctx, acctA, region, f, aad); err != nil {
			b.Fatal(err)
		}
	}
}
