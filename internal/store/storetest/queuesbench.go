package storetest

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/store"
)

// BenchSendReceiveDelete measures one queue's durable round trip from
// parallel goroutines: each operation sends a 1 KiB message, receives one
// message and deletes it (three synced writes). It reports msgs/s.
func BenchSendReceiveDelete(b *testing.B, qs store.QueueStore) {
	ctx := context.Background()
	k := mkQueue(b, qs, "bench")
	body := make([]byte, 1024)
	now := kt.Add(time.Hour)
	var n atomic.Int64
	start := time.Now()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			m := store.QueueMessage{ID: fmt.Sprint("bench-", i), Body: body, SentAt: kt, VisibleAt: kt}
			if err := qs.SendMessages(ctx, k, []store.QueueMessage{m}); err != nil {
				b.Fatal(err)
			}
			ms, err := qs.Receive(ctx, k, 1, now, time.Hour)
			if err != nil {
				b.Fatal(err)
			}
			for _, m := range ms {
				if err := qs.DeleteMessage(ctx, k, m.ReceiptHandle); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
}

// BenchSend measures durable SendMessages of one 1 KiB message from
// parallel goroutines into one queue. It reports msgs/s.
func BenchSend(b *testing.B, qs store.QueueStore) {
	ctx := context.Background()
	k := mkQueue(b, qs, "bench-send")
	body := make([]byte, 1024)
	var n atomic.Int64
	start := time.Now()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			m := store.QueueMessage{ID: fmt.Sprint("bench-", n.Add(1)), Body: body, SentAt: kt, VisibleAt: kt}
			if err := qs.SendMessages(ctx, k, []store.QueueMessage{m}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
}

// fillQueue sends n small messages to k in batches (sent at kt + i µs,
// visible at once), then receives 1000 of them (in flight at now).
func fillQueue(b *testing.B, qs store.QueueStore, k store.QueueKey, n int, now time.Time) {
	ctx := context.Background()
	body := make([]byte, 100)
	const batch = 1000
	for i := 0; i < n; i += batch {
		ms := make([]store.QueueMessage, 0, batch)
		for j := i; j < min(i+batch, n); j++ {
			at := kt.Add(time.Duration(j) * time.Microsecond)
			ms = append(ms, store.QueueMessage{ID: fmt.Sprint("fill-", j), Body: body, SentAt: at, VisibleAt: at})
		}
		if err := qs.SendMessages(ctx, k, ms); err != nil {
			b.Fatal(err)
		}
	}
	for got := 0; got < min(1000, n); {
		ms, err := qs.Receive(ctx, k, 10, now, time.Hour)
		if err != nil {
			b.Fatal(err)
		}
		got += len(ms)
	}
}

// BenchCounts measures Counts of a queue holding n messages (1000 of them
// in flight).
func BenchCounts(b *testing.B, qs store.QueueStore, n int) {
	ctx := context.Background()
	k := mkQueue(b, qs, "bench-counts")
	now := kt.Add(time.Hour)
	fillQueue(b, qs, k, n, now)
	want := store.QueueCounts{Visible: n - min(1000, n), InFlight: min(1000, n)}
	// A first call outside the timer: a driver may count once per process.
	if _, err := qs.Counts(ctx, k, now); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N*benchReps; i++ {
		c, err := qs.Counts(ctx, k, now)
		if err != nil {
			b.Fatal(err)
		}
		if c != want {
			b.Fatalf("counts %+v, want %+v", c, want)
		}
	}
	b.ReportMetric(float64(time.Since(start).Microseconds())/float64(b.N*benchReps), "µs/call")
}

// benchReps is how many calls one operation of BenchCounts and
// BenchExpireNone makes: their setup (filling the queue) is long, so they
// are run with -benchtime 1x and still average several calls.
const benchReps = 10

// BenchExpireNone measures ExpireBefore of a queue holding n messages
// when none has expired yet (what a retention janitor mostly finds).
func BenchExpireNone(b *testing.B, qs store.QueueStore, n int) {
	ctx := context.Background()
	k := mkQueue(b, qs, "bench-expire")
	fillQueue(b, qs, k, n, kt.Add(time.Hour))
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N*benchReps; i++ {
		if got, err := qs.ExpireBefore(ctx, k, kt); err != nil || got != 0 {
			b.Fatal(got, err)
		}
	}
	b.ReportMetric(float64(time.Since(start).Microseconds())/float64(b.N*benchReps), "µs/call")
}
