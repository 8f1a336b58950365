package pgstore

import (
	"context"
	"fmt"
	"sync"
	"time"

	"testing"

	"github.com/sealpost/sealpost/internal/pgtest"
	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/store/storetest"
)

var _ store.QueueStore = (*Store)(nil)

func TestQueueConformance(t *testing.T) {
	storetest.RunQueues(t, storetest.QueuesOf(&harness{dsns: map[store.Store]string{}}))
}

func BenchmarkSendReceiveDelete(b *testing.B) {
	b.SetParallelism(8) // 16 goroutines on 2 cores
	storetest.BenchSendReceiveDelete(b, openStore(b, pgtest.NewDatabase(b)))
}

// TestQueuesTwoNodes runs receivers on two stores ("nodes") sharing one
// database: no message is leased to two receivers, and a message sent on one
// node is received, deleted and counted on the other.
func TestQueuesTwoNodes(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.NewDatabase(t)
	n1, n2 := openStore(t, dsn), openStore(t, dsn)
	k := store.QueueKey{Account: "000000000000", Region: "us-east-1", Name: "shared"}
	at := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
	if _, err := n1.CreateQueue(ctx, store.Queue{QueueKey: k, CreatedAt: at, LastModified: at}); err != nil {
		t.Fatal(err)
	}
	const n = 300
	for i := 0; i < n; i += 10 {
		var ms []store.QueueMessage
		for j := i; j < i+10; j++ {
			ms = append(ms, store.QueueMessage{ID: fmt.Sprint("m", j), Body: []byte("b"), SentAt: at, VisibleAt: at})
		}
		if err := n1.SendMessages(ctx, k, ms); err != nil {
			t.Fatal(err)
		}
	}
	now := at.Add(time.Minute)
	var mu sync.Mutex
	seen := map[string]int{}
	var wg sync.WaitGroup
	for r := 0; r < 8; r++ {
		node := []*Store{n1, n2}[r%2]
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				ms, err := node.Receive(ctx, k, 3, now, time.Hour)
				if err != nil {
					t.Error(err)
					return
				}
				if len(ms) == 0 {
					return
				}
				mu.Lock()
				for _, m := range ms {
					seen[m.ID]++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(seen) != n {
		t.Fatalf("received %d distinct messages, want %d", len(seen), n)
	}
	for id, c := range seen {
		if c != 1 {
			t.Fatalf("message %s leased %d times", id, c)
		}
	}
	if err := n1.SendMessages(ctx, k, []store.QueueMessage{{ID: "late", SentAt: now, VisibleAt: now}}); err != nil {
		t.Fatal(err)
	}
	ms, err := n2.Receive(ctx, k, 10, now, time.Hour)
	if err != nil || len(ms) != 1 || ms[0].ID != "late" {
		t.Fatalf("second node: %+v %v", ms, err)
	}
	if err := n2.DeleteMessage(ctx, k, ms[0].ReceiptHandle); err != nil {
		t.Fatal(err)
	}
	if c, err := n1.Counts(ctx, k, now); err != nil || c != (store.QueueCounts{InFlight: n}) {
		t.Fatalf("counts on the first node: %+v %v", c, err)
	}
}

func BenchmarkSend(b *testing.B) {
	b.SetParallelism(8) // 16 goroutines on 2 cores
	storetest.BenchSend(b, openStore(b, pgtest.NewDatabase(b)))
}

// pgBacklog is the queue size of the Counts and ExpireBefore benchmarks.
const pgBacklog = 200_000

func BenchmarkCounts(b *testing.B) {
	storetest.BenchCounts(b, openStore(b, pgtest.NewDatabase(b)), pgBacklog)
}

func BenchmarkExpireNone(b *testing.B) {
	storetest.BenchExpireNone(b, openStore(b, pgtest.NewDatabase(b)), pgBacklog)
}
