package pgstore

import (
	"context"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/pgtest"
)

func TestScratchInflight(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, pgtest.NewDatabase(t))
	tp, subs := fixture(t, s, "inflight", 1)
	t0 := time.Now()
	for i := 0; i < 20; i++ {
		if err := s.Publish(ctx, pubs(tp, subs, "a"+string(rune('a'+i)), 1000, 16, t0)); err != nil {
			t.Fatal(err)
		}
	}
	ls, err := s.LeaseDeliveries(ctx, "w", t0.Add(time.Second), time.Hour, 20000)
	if err != nil || len(ls) != 20000 {
		t.Fatal(len(ls), err)
	}
	s.pool.Exec(ctx, "VACUUM ANALYZE deliveries")
	if err := s.Publish(ctx, pubs(tp, subs, "late", 1000, 16, t0.Add(time.Minute))); err != nil {
		t.Fatal(err)
	}
	rows, _ := s.pool.Query(ctx, "EXPLAIN (ANALYZE, BUFFERS) "+leaseQuery, "w", t0.Add(time.Hour), t0.Add(2*time.Minute), 10)
	for rows.Next() {
		var line string
		rows.Scan(&line)
		t.Log(line)
	}
	rows.Close()
	start := time.Now()
	n := 0
	for i := 0; i < 50; i++ {
		ls, err := s.LeaseDeliveries(ctx, "w", t0.Add(2*time.Minute), time.Hour, 10)
		if err != nil {
			t.Fatal(err)
		}
		n += len(ls)
	}
	t.Logf("50 lease calls with 20k in flight: %v per call (%d leased)", time.Since(start)/50, n)
	start = time.Now()
	for i := 0; i < 50; i++ {
		s.LeaseDeliveries(ctx, "w", t0.Add(2*time.Minute), time.Hour, 10)
	}
	t.Logf("empty polls with 20k+ in flight: %v per call", time.Since(start)/50)
}
