package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/store"
)

// SharedHarness is implemented by harnesses whose driver lets several
// handles ("nodes") share one database: Share opens another handle on the
// data of s, closed with the test.
type SharedHarness interface {
	Share(t *testing.T, s store.Store) store.Store
}

// shareQueues opens a second handle on qs's data, or skips the test.
func shareQueues(t *testing.T, h QueueHarness, qs store.QueueStore) store.QueueStore {
	t.Helper()
	q, ok := h.(queuesOf)
	if !ok {
		t.Skip("the harness cannot open a second handle")
	}
	sh, ok := q.h.(SharedHarness)
	if !ok {
		t.Skip("the driver is single-process: no second handle on its data")
	}
	return as[store.QueueStore](t, sh.Share(t, storeOf(t, qs)))
}

// testQueueWakerAcrossHandles checks store.QueueWaker where a driver
// implements it: a send through one handle, and a MoveMessage into a queue,
// hint the queue on another handle over the same database, and the hint
// comes only once the message can be received there.
func testQueueWakerAcrossHandles(t *testing.T, h QueueHarness) {
	ctx := context.Background()
	a := h.OpenQueues(t)
	if _, ok := a.(store.QueueWaker); !ok {
		t.Skipf("%T does not implement store.QueueWaker", a)
	}
	b := shareQueues(t, h, a)
	w, ok := b.(store.QueueWaker)
	if !ok {
		t.Fatalf("second handle %T does not implement store.QueueWaker", b)
	}
	k := mkQueue(t, a, "q")
	dlq := mkQueue(t, a, "q-dlq")
	type hint struct {
		k  store.QueueKey
		ms []store.QueueMessage
		c  store.QueueCounts
	}
	hints := make(chan hint, 64)
	now := kt.Add(time.Hour)
	w.OnQueueMessages(func(qk store.QueueKey) {
		// Count on the hinted handle from the callback: the write the hint
		// names must already be visible there.
		c, _ := b.Counts(ctx, qk, now)
		select {
		case hints <- hint{k: qk, c: c}:
		default:
		}
	})
	wait := func(what string, want store.QueueKey) hint {
		t.Helper()
		deadline := time.After(10 * time.Second)
		for {
			select {
			case h := <-hints:
				if h.k == want {
					return h
				}
			case <-deadline:
				t.Fatalf("%s: no hint for %s on the other handle within 10s", what, want.Name)
			}
		}
	}
	send(t, a, k, qmsg(0, 0))
	if h := wait("SendMessages", k); h.c.Visible != 1 {
		t.Fatalf("hint before the message was visible on the other handle: counts %+v", h.c)
	}
	ms := receive(t, b, k, 1, now, time.Minute)
	if len(ms) != 1 {
		t.Fatalf("receive on the other handle: %s", ids(ms))
	}
	if err := a.MoveMessage(ctx, k, ms[0].ReceiptHandle, dlq, qmsg(1, 0)); err != nil {
		t.Fatal(err)
	}
	if h := wait("MoveMessage", dlq); h.c.Visible != 1 {
		t.Fatalf("hint for the move before the message was visible: counts %+v", h.c)
	}
}
