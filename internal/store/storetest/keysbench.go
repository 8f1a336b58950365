package storetest

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/sealpost/sealpost/internal/store"
)

// BenchKeyRead measures the read path of Decrypt without a cache: GetKey
// and GetMaterial of one of 100 keys, from parallel goroutines.
func BenchKeyRead(b *testing.B, ks store.KeyStore) {
	ctx := context.Background()
	var ids []string
	for i := 0; i < 100; i++ {
		k := newKey(acct, region)
		if _, err := ks.CreateKey(ctx, k, &store.Material{Version: 1, CreatedAt: kt, Sealed: make([]byte, 60)}); err != nil {
			b.Fatal(err)
		}
		ids = append(ids, k.ID)
	}
	var n atomic.Int64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			id := ids[n.Add(1)%int64(len(ids))]
			k, err := ks.GetKey(ctx, id)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := ks.GetMaterial(ctx, id, k.CurrentVersion); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchKeyUpdate measures durable UpdateKey calls on 16 keys from parallel
// goroutines (what Enable/DisableKey, tagging and policy changes cost).
func BenchKeyUpdate(b *testing.B, ks store.KeyStore) {
	ctx := context.Background()
	var ids []string
	for i := 0; i < 16; i++ {
		k := newKey(acct, region)
		if _, err := ks.CreateKey(ctx, k, nil); err != nil {
			b.Fatal(err)
		}
		ids = append(ids, k.ID)
	}
	var n atomic.Int64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			if _, err := ks.UpdateKey(ctx, ids[i%int64(len(ids))], func(k *store.Key) error {
				k.Description = fmt.Sprint(i)
				return nil
			}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
