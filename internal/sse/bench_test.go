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

// BenchmarkSealQueue and BenchmarkOpenQueue are BenchmarkSeal and
// BenchmarkOpen for the queue use (cached data keys), SSE-KMS and SSE-SQS.
func BenchmarkSealQueue(b *testing.B) { benchQueue(b, false) }

func BenchmarkOpenQueue(b *testing.B) { benchQueue(b, true) }

func benchQueue(b *testing.B, open bool) {
	for _, managed := range []bool{false, true} {
		name := "sse-kms"
		if managed {
			name = "sse-sqs"
		}
		b.Run(name, func(b *testing.B) {
			e := newEnv(b, envOpts{noAudit: true})
			keyID := e.key.KeyID
			if managed {
				keyID = ""
			}
			body := make([]byte, 1024)
			aad := queueAAD("m1")
			ctx := context.Background()
			c := rootOf(acctA)
			f, _, err := e.sealer.SealQueue(ctx, c, queueARN, keyID, 0, aad, body)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				if open {
					_, err = e.sealer.OpenQueue(ctx, c, queueARN, managed, f, aad)
				} else {
					_, _, err = e.sealer.SealQueue(ctx, c, queueARN, keyID, 0, aad, body)
				}
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
