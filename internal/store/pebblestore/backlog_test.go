package pebblestore

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/store/storetest"
)

// maxHeapPerPending is the bound the README states for this driver.
const maxHeapPerPending = 200

// TestBacklogHeap checks the heap a backlog of pending deliveries costs:
// 20,000 always; 100,000 and 1,000,000 with SEALPOST_BACKLOG_TEST=1 (a few
// minutes and 2 GB of disk).
func TestBacklogHeap(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("short, or the race detector (slow, and its allocations count)")
	}
	sizes := []int{20_000}
	if os.Getenv("SEALPOST_BACKLOG_TEST") == "1" {
		sizes = []int{100_000, 1_000_000}
	}
	for _, n := range sizes {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			s, err := Open(filepath.Join(t.TempDir(), "db"))
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			start := time.Now()
			b := storetest.MeasureBacklog(t, s, n, true)
			t.Logf("pebblestore: %v (%v)", b, time.Since(start).Round(time.Second))
			// At 20,000, pebble's fixed buffers (block cache and memtables,
			// on the Go heap in a build without cgo) weigh on the totals:
			// hold only the marginal cost there.
			over := b.Marginal > maxHeapPerPending
			if n >= 100_000 {
				over = over || b.Pending > maxHeapPerPending || b.Retried > maxHeapPerPending
			}
			if over {
				t.Errorf("heap per pending delivery over %d bytes: %v", maxHeapPerPending, b)
			}
		})
	}
}

// BenchmarkPublish publishes 1 KiB messages with one delivery each from 16
// goroutines, one Publish (one synced commit) per message.
func BenchmarkPublish(b *testing.B) {
	s, err := Open(filepath.Join(b.TempDir(), "db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	arn := "arn:aws:sns:us-east-1:000000000000:bench"
	if _, err := s.CreateTopic(ctx, store.Topic{ARN: arn, Name: "bench"}); err != nil {
		b.Fatal(err)
	}
	sub := arn + ":00000000-0000-0000-0000-000000000000"
	if _, err := s.CreateSubscription(ctx, store.Subscription{ARN: sub, TopicARN: arn, Protocol: "http", Endpoint: "http://x"}); err != nil {
		b.Fatal(err)
	}
	body := make([]byte, 1024)
	var n atomic.Int64
	b.SetParallelism(16 / max(1, runtimeProcs()))
	b.SetBytes(1024)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			id := fmt.Sprintf("%036d", n.Add(1))
			now := time.Now()
			err := s.Publish(ctx, []store.Publication{{
				Message:    store.Message{ID: id, TopicARN: arn, CreatedAt: now, Meta: []byte("{}"), Body: body},
				Deliveries: []store.Delivery{{SubscriptionARN: sub, MessageID: id, NextAttemptAt: now}},
			}})
			if err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func runtimeProcs() int { return runtime.GOMAXPROCS(0) }
