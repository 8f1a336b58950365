package kms

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/store"
)

// countingStore counts alias reads.
type countingStore struct {
	store.KeyStore
	getAlias atomic.Int64
}

func (c *countingStore) GetAlias(ctx context.Context, account, region, name string) (store.Alias, error) {
	c.getAlias.Add(1)
	return c.KeyStore.GetAlias(ctx, account, region, name)
}

// TestAliasCache: alias resolution is cached per node for CacheTTL; the
// node's own alias writes (and the deletion of the key) take effect there
// at once; another node's are seen within CacheTTL. Two nodes over one
// PostgreSQL, each with its own clock.
func TestAliasCache(t *testing.T) {
	ctx := context.Background()
	_, another := drivers[1].open(t)
	stA := another()
	stB := &countingStore{KeyStore: another()}
	clkA, clkB := newClock(), newClock()
	a := newService(t, stA, clkA, Options{})
	b := newService(t, stB, clkB, Options{})
	const ttl = 5 * time.Second

	k1, k2 := mustCreate(t, a, alice), mustCreate(t, a, alice)
	if err := a.CreateAlias(ctx, alice, "alias/app", k1.KeyID); err != nil {
		t.Fatal(err)
	}
	describe := func(s *Service, name string) (string, error) {
		md, err := s.DescribeKey(ctx, alice, name, nil)
		return md.KeyID, err
	}
	want := func(s *Service, node, name, keyID string) {
		t.Helper()
		got, err := describe(s, name)
		if keyID == "" {
			wantKind(t, node+" "+name, err, ErrNotFound)
			return
		}
		if err != nil || got != keyID {
			t.Fatalf("%s: %s is %s (%v), want %s", node, name, got, err, keyID)
		}
	}
	want(b, "B", "alias/app", k1.KeyID)
	n := stB.getAlias.Load()
	for i := 0; i < 10; i++ {
		if _, err := b.GenerateDataKey(ctx, alice, DataKeyInput{KeyID: "alias/app", KeySpec: "AES_256"}); err != nil {
			t.Fatal(err)
		}
	}
	if got := stB.getAlias.Load() - n; got != 0 {
		t.Fatalf("%d alias reads from the store for 10 calls by a cached alias", got)
	}

	// A moves the alias: A sees it at once, B within CacheTTL.
	if err := a.UpdateAlias(ctx, alice, "alias/app", k2.KeyID); err != nil {
		t.Fatal(err)
	}
	want(a, "A", "alias/app", k2.KeyID)
	want(b, "B (cached)", "alias/app", k1.KeyID)
	clkB.Add(ttl)
	want(b, "B after CacheTTL", "alias/app", k2.KeyID)

	// A deletes it: NotFound at once on A, within CacheTTL on B.
	if err := a.DeleteAlias(ctx, alice, "alias/app"); err != nil {
		t.Fatal(err)
	}
	want(a, "A", "alias/app", "")
	clkB.Add(ttl)
	want(b, "B after CacheTTL", "alias/app", "")

	// B creates one; B's own writes take effect at once.
	if err := b.CreateAlias(ctx, alice, "alias/b", k1.KeyID); err != nil {
		t.Fatal(err)
	}
	want(b, "B", "alias/b", k1.KeyID)
	if err := b.UpdateAlias(ctx, alice, "alias/b", k2.KeyID); err != nil {
		t.Fatal(err)
	}
	want(b, "B", "alias/b", k2.KeyID)
	want(a, "A", "alias/b", k2.KeyID)

	// The key is deleted by A's sweep: its aliases go with it on A at
	// once; B, whose cache still names the key, asks the store again
	// when the key is gone.
	if _, err := a.ScheduleKeyDeletion(ctx, alice, k2.KeyID, 7); err != nil {
		t.Fatal(err)
	}
	want(b, "B", "alias/b", k2.KeyID)
	clkA.Add(8 * 24 * time.Hour)
	if del, _, err := a.Sweep(ctx); err != nil || del != 1 {
		t.Fatalf("Sweep: %d %v", del, err)
	}
	want(a, "A", "alias/b", "")
	clkB.Add(ttl) // the key record's cache expires; the alias entry too
	want(b, "B", "alias/b", "")
}

// TestAliasCacheBound: the cache never holds more than maxCachedAliases,
// and concurrent use is safe (run with -race).
func TestAliasCacheBound(t *testing.T) {
	ac := newAliasCache(time.Minute)
	now := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < maxCachedAliases; i++ {
				name := fmt.Sprintf("alias/%d-%d", w, i)
				ac.put("111122223333", "us-east-1", name, "k", now)
				ac.get("111122223333", "us-east-1", name, now)
				if i%1000 == 0 {
					ac.dropKey("none")
				}
			}
		}(w)
	}
	wg.Wait()
	if n := len(ac.m); n > maxCachedAliases || n < maxCachedAliases*9/10 {
		t.Fatalf("%d entries", n)
	}
	if _, ok := ac.get("111122223333", "us-east-1", fmt.Sprintf("alias/3-%d", maxCachedAliases-1), now.Add(time.Minute)); ok {
		t.Fatal("an entry older than the TTL is fresh")
	}
}
