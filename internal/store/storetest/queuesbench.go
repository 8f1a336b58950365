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
