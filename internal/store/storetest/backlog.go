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
	// Marginal is the growth per delivery between a tenth of the backlog and
	// all of it (due, none leased): the cost of one more pending delivery,
	// without the fixed buffers a driver fills on first use.
	Marginal float64
	// Retried is the growth after each was leased and retried an hour
	// later, as for a dead subscriber (NaN when not measured).
	Retried float64
}

func (b Backlog) String() string {
	return fmt.Sprintf("%d pending: %.0f B/delivery due (%.0f B marginal), %.0f B/delivery retried in an hour",
		b.N, b.Pending, b.Marginal, b.Retried)
}

// warmUp runs publish, lease, retry and ack once on another subscription, so
// that buffers and caches a driver keeps whatever the backlog are in place
// before the heap is measured.
func warmUp(tb testing.TB, s store.Store, tp store.Topic) {
	ctx := context.Background()
	sub := store.Subscription{ARN: tp.ARN + ":warm", TopicARN: tp.ARN, Account: acct, Region: region,
		Protocol: "http", Endpoint: "http://127.0.0.1:9/warm", Attributes: map[string]string{}, CreatedAt: time.Now().UTC()}
	if _, err := s.CreateSubscription(ctx, sub); err != nil {
		tb.Fatal(err)
	}
	now := time.Now().UTC()
	var pubs []store.Publication
	for i := 0; i < 500; i++ {
		id := fmt.Sprintf("warm-%d-%d", now.UnixNano(), i)
		pubs = append(pubs, store.Publication{
			Message:    store.Message{ID: id, TopicARN: tp.ARN, CreatedAt: now, Meta: []byte("{}"), Body: make([]byte, 1024)},
			Deliveries: []store.Delivery{{SubscriptionARN: sub.ARN, MessageID: id, NextAttemptAt: now}},
		})
	}
	if err := s.Publish(ctx, pubs); err != nil {
		tb.Fatal(err)
	}
	for _, retry := range []bool{true, false} {
		ls, err := s.LeaseDeliveries(ctx, "warm", now.Add(time.Second), time.Minute, 1000)
		if err != nil || len(ls) != len(pubs) {
			tb.Fatalf("warm-up lease: %d %v", len(ls), err)
		}
		for _, l := range ls {
			if retry {
				err = s.Retry(ctx, l, 1, now)
			} else {
				err = s.Ack(ctx, l)
			}
			if err != nil {
				tb.Fatal(err)
			}
		}
	}
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
	warmUp(tb, s, tp)
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
	tenth := n / 10 / batch * batch
	var mid float64
	for i := 0; i < n; i += batch {
		if i == tenth {
			mid = heapNow()
		}
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
	after := heapNow()
	out := Backlog{N: n, Pending: (after - before) / float64(n), Marginal: (after - mid) / float64(n-tenth)}
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
