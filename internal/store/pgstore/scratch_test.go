package pgstore

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/store/pebblestore"
)

func BenchmarkScratchPebblePublish(b *testing.B) {
	ctx := context.Background()
	ps, err := pebblestore.Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer ps.Close()
	var s store.Store = ps
	tp, subs := fixture(b, s, "bench", 2)
	body := bytes.Repeat([]byte("b"), 1024)
	var seq atomic.Int64
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := seq.Add(1)
				if i > int64(b.N) {
					return
				}
				id := fmt.Sprintf("bench-%d-%d", b.N, i)
				now := time.Now()
				p := store.Publication{Message: store.Message{ID: id, TopicARN: tp.ARN, CreatedAt: now, Meta: []byte("{}"), Body: body},
					Deliveries: []store.Delivery{{SubscriptionARN: subs[0].ARN, MessageID: id, NextAttemptAt: now}, {SubscriptionARN: subs[1].ARN, MessageID: id, NextAttemptAt: now}}}
				if err := s.Publish(ctx, []store.Publication{p}); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
}
