package storetest

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/store"
)

// Backlog is what MeasureBacklog found: Go heap growth per pending delivery.
type Backlog struct {
	N int
	// Pending is the growth with n deliveries due and never leased.
	Pending float64
	// Retried is the growth after each was leased and retried an hour
	// later, as for a dead subscriber (NaN when not measured).
	Retried float64
}

func (b Backlog) String() string {
	return fmt.Sprintf("%d pending: %.0f B/delivery due, %.0f B/delivery retried in an hour", b.N, b.Pending, b.Retried)
}

// MeasureBacklog publishes n messages of 1 KiB to one subscription of a new
// topic in s and reports how much the Go heap (runtime.MemStats.HeapAlloc
// after a GC) grew per pending delivery: once with every delivery due and
// none leased, and (if retry) once more after every delivery was leased and
// retried an hour later, as the engine does for a subscriber that died.
func MeasureBacklog(tb testing.TB, s store.Store, n int, retry bool) Backlog {
	tb.Helper()
	ctx := context.Background()
	name := fmt.Sprintf("backlog-%d", time.Now().UnixNano())
	tp := store.Topic{ARN: topicARN(name), Account: acct, Region: region, Name: name,
		Attributes: map[string]string{}, Tags: map[string]string{}, CreatedAt: time.Now().UTC()}
	if _, err := s.CreateTopic(ctx, tp); err != nil {
		tb.Fatal(err)
	}
	sub := store.Subscription{ARN: tp.ARN + ":dead", TopicARN: tp.ARN, Account: acct, Region: region,
		Protocol: "http", Endpoint: "http://127.0.0.1:9/dead", Attributes: map[string]string{}, CreatedAt: time.Now().UTC()}
	if _, err := s.CreateSubscription(ctx, sub); err != nil {
		tb.Fatal(err)
	}
	heapNow := func() float64 {
		runtime.GC()
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return float64(ms.HeapAlloc)
	}
	before := heapNow()
	body := make([]byte, 1024)
	for i := range body {
		body[i] = 'a' + byte(i%26)
	}
	now := time.Now().UTC()
	const batch = 500
	for i := 0; i < n; i += batch {
		var pubs []store.Publication
		for j := i; j < i+batch && j < n; j++ {
			id := fmt.Sprintf("%s-%08d-0000-0000-000000000000", name[len(name)-8:], j) // UUID-sized
			pubs = append(pubs, store.Publication{
				Message:    store.Message{ID: id, TopicARN: tp.ARN, CreatedAt: now, Meta: []byte(`{"Subject":"s"}`), Body: body},
				Deliveries: []store.Delivery{{SubscriptionARN: sub.ARN, MessageID: id, NextAttemptAt: now}},
			})
		}
		if err := s.Publish(ctx, pubs); err != nil {
			tb.Fatal(err)
		}
	}
	if got, err := s.PendingDeliveries(ctx, sub.ARN); err != nil || got != n {
		tb.Fatalf("pending: %d %v, want %d", got, err, n)
	}
	tb.Logf("published %d in %v", n, time.Since(now).Round(time.Millisecond))
	out := Backlog{N: n, Pending: (heapNow() - before) / float64(n)}
	out.Retried = out.Pending * 0 / 0 // NaN unless measured
	if retry {
		leaseAt := now.Add(time.Second)
		done := 0
		for done < n {
			ls, err := s.LeaseDeliveries(ctx, "dead-worker", leaseAt, time.Minute, 1000)
			if err != nil {
				tb.Fatal(err)
			}
			if len(ls) == 0 {
				tb.Fatalf("leased %d of %d", done, n)
			}
			for _, l := range ls {
				if err := s.Retry(ctx, l, 1, now.Add(time.Hour)); err != nil {
					tb.Fatal(err)
				}
			}
			done += len(ls)
		}
		if ls, err := s.LeaseDeliveries(ctx, "dead-worker", leaseAt, time.Minute, 1000); err != nil || len(ls) != 0 {
			tb.Fatalf("leased %d retried deliveries early (%v)", len(ls), err)
		}
		tb.Logf("leased and retried %d in %v", n, time.Since(leaseAt).Round(time.Millisecond))
		out.Retried = (heapNow() - before) / float64(n)
	}
	runtime.KeepAlive(s)
	return out
}
