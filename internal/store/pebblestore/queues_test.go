package pebblestore

import (
	"testing"

	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/store/storetest"
)

var _ store.QueueStore = (*Store)(nil)

func TestQueueConformance(t *testing.T) {
	storetest.RunQueues(t, storetest.QueuesOf(&harness{dirs: map[store.Store]string{}}))
}

func BenchmarkSendReceiveDelete(b *testing.B) {
	b.SetParallelism(8) // 16 goroutines on 2 cores
	storetest.BenchSendReceiveDelete(b, openBench(b))
}

// benchBacklog is the queue size of the Counts and ExpireBefore benchmarks.
const benchBacklog = 1_000_000

func BenchmarkCounts(b *testing.B) { storetest.BenchCounts(b, openBench(b), benchBacklog) }

func BenchmarkExpireNone(b *testing.B) { storetest.BenchExpireNone(b, openBench(b), benchBacklog) }
