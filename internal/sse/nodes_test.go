package sse

import (
	"context"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/kms"
	"github.com/sealpost/sealpost/internal/pgtest"
	"github.com/sealpost/sealpost/internal/store/pgstore"
)

// TestTwoNodes: two nodes (kms.Service + Sealer each) over one PostgreSQL
// database. Node B has cached data keys for sealing and opening; once node
// A's DisableKey returns (PurgeWait), B refuses both, without any purge
// call reaching B. After EnableKey on A, B works again.
func TestTwoNodes(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	ctx := context.Background()
	open := func() *pgstore.Store {
		s, err := pgstore.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	ttl := 300 * time.Millisecond
	ko := kms.Options{CacheTTL: ttl, PurgeWait: true}
	a := newEnv(t, envOpts{st: open(), kms: ko, realTime: true, noAudit: true})
	b := newEnv(t, envOpts{st: open(), kms: ko, realTime: true, noAudit: true, noKey: true})
	b.key = a.key

	f := b.seal(t, rootOf(acctA), "m1", []byte("x"))
	b.open(t, "m1", f)
	b.seal(t, rootOf(acctA), "m2", []byte("y")) // cached
	start := time.Now()
	if err := a.kms.DisableKey(ctx, rootOf(acctA), a.key.KeyID); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < ttl {
		t.Fatalf("DisableKey returned after %v, before CacheTTL %v", d, ttl)
	}
	_, err := b.sealer.Seal(ctx, rootOf(acctA), b.key.KeyID, aadOf("m3"), []byte("z"))
	wantKind(t, "node B Seal after A's DisableKey", err, kms.ErrDisabled)
	_, err = b.sealer.Open(ctx, acctA, region, f, aadOf("m1"))
	wantKind(t, "node B Open after A's DisableKey", err, kms.ErrDisabled)

	if err := a.kms.EnableKey(ctx, rootOf(acctA), a.key.KeyID); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * ttl)
	for { // EnableKey does not wait: B sees it within CacheTTL
		_, err = b.sealer.Seal(ctx, rootOf(acctA), b.key.KeyID, aadOf("m4"), []byte("z"))
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(ttl / 10)
	}
	if err != nil {
		t.Fatalf("node B after EnableKey: %v", err)
	}
	b.open(t, "m1", f)
	// A message sealed on B opens on A.
	if got := a.open(t, "m1", f); string(got) != "x" {
		t.Fatalf("node A opened %q", got)
	}
}
