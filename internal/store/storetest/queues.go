package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/store"
)

// QueueHarness opens queue stores for RunQueues.
type QueueHarness interface {
	// OpenQueues returns an empty queue store.
	OpenQueues(t *testing.T) store.QueueStore
	// ReopenQueues closes qs and opens the same data again (a restart).
	ReopenQueues(t *testing.T, qs store.QueueStore) store.QueueStore
}

// QueuesOf adapts a Harness whose stores also implement store.QueueStore.
func QueuesOf(h Harness) QueueHarness { return queuesOf{part[store.QueueStore]{h}} }

type queuesOf struct{ part[store.QueueStore] }

func (q queuesOf) OpenQueues(t *testing.T) store.QueueStore { return q.open(t) }

func (q queuesOf) ReopenQueues(t *testing.T, qs store.QueueStore) store.QueueStore {
	return q.reopen(t, qs)
}

// RunQueues runs the queue store part of the suite.
func RunQueues(t *testing.T, h QueueHarness) {
	runPart(t, h, []partTest[QueueHarness]{
		{"Queues", testQueues},
		{"ListQueuesPaging", testListQueuesPaging},
		{"SendReceiveDelete", testSendReceiveDelete},
		{"VisibilityExpiry", testVisibilityExpiry},
		{"StaleHandle", testStaleHandle},
		{"ChangeVisibility", testChangeVisibility},
		{"DelayAndCounts", testDelayAndCounts},
		{"Purge", testPurge},
		{"ExpireBefore", testExpireBefore},
		{"ExpireLarge", testExpireLarge},
		{"MoveMessage", testMoveMessage},
		{"DeleteQueueDropsMessages", testDeleteQueueDropsMessages},
		{"MissingQueue", testMissingQueue},
		{"ConcurrentReceivers", testConcurrentReceivers},
		{"QueuesSurviveRestart", testQueuesSurviveRestart},
		{"QueueWakerAcrossHandles", testQueueWakerAcrossHandles},
	})
}

func qkey(name string) store.QueueKey {
	return store.QueueKey{Account: acct, Region: region, Name: name}
}

func mkQueue(t testing.TB, qs store.QueueStore, name string) store.QueueKey {
	t.Helper()
	k := qkey(name)
	if _, err := qs.CreateQueue(context.Background(), store.Queue{QueueKey: k, CreatedAt: kt, LastModified: kt,
		Attributes: map[string]string{"VisibilityTimeout": "30"}}); err != nil {
		t.Fatalf("CreateQueue %s: %v", name, err)
	}
	return k
}

// qmsg is message i of a test, sent at kt+i ms and visible then (plus delay).
func qmsg(i int, delay time.Duration) store.QueueMessage {
	sent := kt.Add(time.Duration(i) * time.Millisecond)
	return store.QueueMessage{
		ID: fmt.Sprintf("m-%04d", i), Body: []byte(fmt.Sprintf("sealed body %d \x00\xff", i)),
		Attributes: []byte{byte(i), 0, 1}, Meta: []byte("md5:" + fmt.Sprint(i)), SenderID: "AIDAEXAMPLE",
		SentAt: sent, VisibleAt: sent.Add(delay),
	}
}

func send(t *testing.T, qs store.QueueStore, k store.QueueKey, ms ...store.QueueMessage) {
	t.Helper()
	if err := qs.SendMessages(context.Background(), k, ms); err != nil {
		t.Fatalf("SendMessages: %v", err)
	}
}

func receive(t *testing.T, qs store.QueueStore, k store.QueueKey, max int, now time.Time, vis time.Duration) []store.QueueMessage {
	t.Helper()
	ms, err := qs.Receive(context.Background(), k, max, now, vis)
	if err != nil {
		t.Fatalf("Receive: %v", err)
	}
	return ms
}

func ids(ms []store.QueueMessage) string {
	var b []byte
	for i, m := range ms {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, m.ID...)
	}
	return string(b)
}

func counts(t *testing.T, qs store.QueueStore, k store.QueueKey, now time.Time) store.QueueCounts {
	t.Helper()
	c, err := qs.Counts(context.Background(), k, now)
	if err != nil {
		t.Fatalf("Counts: %v", err)
	}
	return c
}

func testQueues(t *testing.T, h QueueHarness) {
	ctx := context.Background()
	qs := h.OpenQueues(t)
	q := store.Queue{QueueKey: qkey("orders"), CreatedAt: kt, LastModified: kt,
		Attributes: map[string]string{"VisibilityTimeout": "30", "Policy": `{"Statement":[]}`},
		Tags:       map[string]string{"team": "a"}}
	got, err := qs.CreateQueue(ctx, q)
	if err != nil || got.Revision != 1 {
		t.Fatalf("CreateQueue: %+v %v", got, err)
	}
	q2 := q
	q2.Attributes = map[string]string{"VisibilityTimeout": "60"}
	if old, err := qs.CreateQueue(ctx, q2); !errors.Is(err, store.ErrExists) || old.Attributes["VisibilityTimeout"] != "30" {
		t.Fatalf("second CreateQueue: %+v %v, want the existing queue and ErrExists", old, err)
	}
	// Same name in another account or region is another queue.
	for _, k := range []store.QueueKey{{Account: "111111111111", Region: region, Name: "orders"}, {Account: acct, Region: "eu-west-1", Name: "orders"}} {
		if _, err := qs.CreateQueue(ctx, store.Queue{QueueKey: k, CreatedAt: kt}); err != nil {
			t.Fatalf("CreateQueue %+v: %v", k, err)
		}
	}
	got, err = qs.GetQueue(ctx, q.QueueKey)
	if err != nil || got.Attributes["Policy"] != `{"Statement":[]}` || got.Tags["team"] != "a" || !got.CreatedAt.Equal(kt) ||
		!got.LastModified.Equal(kt) || got.Revision != 1 {
		t.Fatalf("GetQueue: %+v %v", got, err)
	}
	later := kt.Add(time.Hour)
	got, err = qs.UpdateQueue(ctx, q.QueueKey, func(q *store.Queue) error {
		q.Attributes["VisibilityTimeout"] = "45"
		q.Tags["env"] = "prod"
		q.LastModified = later
		q.Name, q.Revision, q.CreatedAt = "other", 99, later // ignored
		return nil
	})
	if err != nil || got.Name != "orders" || got.Revision != 2 || !got.CreatedAt.Equal(kt) || !got.LastModified.Equal(later) {
		t.Fatalf("UpdateQueue: %+v %v", got, err)
	}
	got, _ = qs.GetQueue(ctx, q.QueueKey)
	if got.Attributes["VisibilityTimeout"] != "45" || got.Tags["env"] != "prod" || got.Revision != 2 {
		t.Fatalf("after UpdateQueue: %+v", got)
	}
	boom := errors.New("boom")
	if _, err := qs.UpdateQueue(ctx, q.QueueKey, func(q *store.Queue) error {
		q.Attributes["VisibilityTimeout"] = "1"
		return boom
	}); err != boom {
		t.Fatalf("UpdateQueue with failing fn: %v", err)
	}
	if got, _ := qs.GetQueue(ctx, q.QueueKey); got.Attributes["VisibilityTimeout"] != "45" || got.Revision != 2 {
		t.Fatalf("failed update was applied: %+v", got)
	}
	if err := qs.DeleteQueue(ctx, q.QueueKey); err != nil {
		t.Fatal(err)
	}
	if _, err := qs.GetQueue(ctx, q.QueueKey); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetQueue after delete: %v", err)
	}
	if err := qs.DeleteQueue(ctx, q.QueueKey); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("second DeleteQueue: %v", err)
	}
	if _, err := qs.UpdateQueue(ctx, q.QueueKey, func(*store.Queue) error { return nil }); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("UpdateQueue of a deleted queue: %v", err)
	}
	if _, err := qs.GetQueue(ctx, store.QueueKey{Account: "111111111111", Region: region, Name: "orders"}); err != nil {
		t.Fatalf("the other account's queue went with it: %v", err)
	}
}

func testListQueuesPaging(t *testing.T, h QueueHarness) {
	ctx := context.Background()
	qs := h.OpenQueues(t)
	names := []string{"a", "a-1", "a-2", "ab", "b", "b-1", "c"}
	for _, n := range names {
		mkQueue(t, qs, n)
	}
	mkQueue(t, qs, "zz")
	if _, err := qs.CreateQueue(ctx, store.Queue{QueueKey: store.QueueKey{Account: "111111111111", Region: region, Name: "a-x"}}); err != nil {
		t.Fatal(err)
	}
	list := func(prefix string, limit int) []string {
		var all []string
		after := ""
		for pages := 0; ; pages++ {
			if pages > 20 {
				t.Fatal("paging does not end")
			}
			qsl, next, err := qs.ListQueues(ctx, acct, region, prefix, store.Page{After: after, Limit: limit})
			if err != nil {
				t.Fatal(err)
			}
			if len(qsl) > limit {
				t.Fatalf("page of %d > limit %d", len(qsl), limit)
			}
			for _, q := range qsl {
				all = append(all, q.Name)
			}
			if next == "" {
				return all
			}
			after = next
		}
	}
	for _, tc := range []struct {
		prefix string
		limit  int
		want   string
	}{
		{"", 100, "[a a-1 a-2 ab b b-1 c zz]"},
		{"", 2, "[a a-1 a-2 ab b b-1 c zz]"},
		{"", 1, "[a a-1 a-2 ab b b-1 c zz]"},
		{"a", 2, "[a a-1 a-2 ab]"},
		{"a-", 1, "[a-1 a-2]"},
		{"b", 3, "[b b-1]"},
		{"x", 3, "[]"},
	} {
		if got := fmt.Sprint(list(tc.prefix, tc.limit)); got != tc.want {
			t.Errorf("ListQueues(%q, limit %d) = %s, want %s", tc.prefix, tc.limit, got, tc.want)
		}
	}
	// A full last page has no cursor.
	if _, next, err := qs.ListQueues(ctx, acct, region, "a", store.Page{Limit: 4}); err != nil || next != "" {
		t.Fatalf("full last page: cursor %q %v", next, err)
	}
}

func testSendReceiveDelete(t *testing.T, h QueueHarness) {
	ctx := context.Background()
	qs := h.OpenQueues(t)
	k := mkQueue(t, qs, "q")
	var sent []store.QueueMessage
	for i := 0; i < 5; i++ {
		sent = append(sent, qmsg(i, 0))
	}
	send(t, qs, k, sent[:3]...)
	send(t, qs, k, sent[3:]...)
	now := kt.Add(time.Second)
	got := receive(t, qs, k, 3, now, 30*time.Second)
	if ids(got) != "m-0000,m-0001,m-0002" {
		t.Fatalf("first receive: %s, want the first three in send order", ids(got))
	}
	handles := map[string]bool{}
	for i, m := range got {
		w := sent[i]
		if !bytes.Equal(m.Body, w.Body) || !bytes.Equal(m.Attributes, w.Attributes) || !bytes.Equal(m.Meta, w.Meta) ||
			m.SenderID != w.SenderID || !m.SentAt.Equal(w.SentAt) || m.ReceiveCount != 1 ||
			!m.FirstReceivedAt.Equal(now) || !m.VisibleAt.Equal(now.Add(30*time.Second)) || m.ReceiptHandle == "" {
			t.Fatalf("received %+v\nsent %+v", m, w)
		}
		if handles[m.ReceiptHandle] {
			t.Fatalf("handle %q given twice", m.ReceiptHandle)
		}
		handles[m.ReceiptHandle] = true
	}
	rest := receive(t, qs, k, 10, now, 30*time.Second)
	if ids(rest) != "m-0003,m-0004" {
		t.Fatalf("second receive: %s", ids(rest))
	}
	if more := receive(t, qs, k, 10, now, 30*time.Second); len(more) != 0 {
		t.Fatalf("leased messages received again: %s", ids(more))
	}
	if c := counts(t, qs, k, now); c != (store.QueueCounts{InFlight: 5}) {
		t.Fatalf("counts: %+v", c)
	}
	for _, m := range append(got, rest...) {
		if err := qs.DeleteMessage(ctx, k, m.ReceiptHandle); err != nil {
			t.Fatalf("DeleteMessage: %v", err)
		}
	}
	if err := qs.DeleteMessage(ctx, k, got[0].ReceiptHandle); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("second DeleteMessage: %v, want ErrNotFound", err)
	}
	for _, bad := range []string{"", "garbage", "0000000000000000.1.00", "zzzzzzzzzzzzzzzz.1.x"} {
		if err := qs.DeleteMessage(ctx, k, bad); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("DeleteMessage(%q): %v, want ErrNotFound", bad, err)
		}
	}
	if c := counts(t, qs, k, now.Add(time.Hour)); c != (store.QueueCounts{}) {
		t.Fatalf("counts after deletes: %+v", c)
	}
	if ms := receive(t, qs, k, 10, now.Add(time.Hour), time.Second); len(ms) != 0 {
		t.Fatalf("deleted messages came back: %s", ids(ms))
	}
	if ms := receive(t, qs, k, 0, now, time.Second); len(ms) != 0 {
		t.Fatalf("max 0 received %d", len(ms))
	}
}

func testVisibilityExpiry(t *testing.T, h QueueHarness) {
	ctx := context.Background()
	qs := h.OpenQueues(t)
	k := mkQueue(t, qs, "q")
	send(t, qs, k, qmsg(0, 0), qmsg(1, 0))
	t0 := kt.Add(time.Second)
	first := receive(t, qs, k, 1, t0, 10*time.Second)
	if ids(first) != "m-0000" {
		t.Fatalf("receive: %s", ids(first))
	}
	// Just before expiry only the other message is visible.
	if ms := receive(t, qs, k, 10, t0.Add(10*time.Second-time.Microsecond), 10*time.Second); ids(ms) != "m-0001" {
		t.Fatalf("before expiry: %s", ids(ms))
	}
	// At expiry m-0000 is visible again: redelivered with a new count and handle.
	t1 := t0.Add(10 * time.Second)
	again := receive(t, qs, k, 10, t1, 5*time.Second)
	if ids(again) != "m-0000" || again[0].ReceiveCount != 2 || !again[0].FirstReceivedAt.Equal(t0) ||
		again[0].ReceiptHandle == first[0].ReceiptHandle || !again[0].VisibleAt.Equal(t1.Add(5*time.Second)) {
		t.Fatalf("redelivery: %+v", again)
	}
	third := receive(t, qs, k, 10, t1.Add(time.Minute), 5*time.Second)
	if len(third) != 2 || third[0].ID != "m-0000" || third[0].ReceiveCount != 3 || third[1].ReceiveCount != 2 {
		t.Fatalf("third receive: %+v", third)
	}
	if err := qs.DeleteMessage(ctx, k, third[0].ReceiptHandle); err != nil {
		t.Fatal(err)
	}
}

func testStaleHandle(t *testing.T, h QueueHarness) {
	ctx := context.Background()
	qs := h.OpenQueues(t)
	k := mkQueue(t, qs, "q")
	send(t, qs, k, qmsg(0, 0))
	t0 := kt.Add(time.Second)
	old := receive(t, qs, k, 1, t0, time.Second)[0]
	cur := receive(t, qs, k, 1, t0.Add(2*time.Second), time.Minute)[0]
	if err := qs.DeleteMessage(ctx, k, old.ReceiptHandle); !errors.Is(err, store.ErrLeaseLost) {
		t.Fatalf("DeleteMessage with a stale handle: %v, want ErrLeaseLost", err)
	}
	if _, err := qs.ChangeVisibility(ctx, k, old.ReceiptHandle, t0.Add(2*time.Second), t0); !errors.Is(err, store.ErrLeaseLost) {
		t.Fatalf("ChangeVisibility with a stale handle: %v, want ErrLeaseLost", err)
	}
	dlq := mkQueue(t, qs, "dlq")
	if err := qs.MoveMessage(ctx, k, old.ReceiptHandle, dlq, qmsg(0, 0)); !errors.Is(err, store.ErrLeaseLost) {
		t.Fatalf("MoveMessage with a stale handle: %v, want ErrLeaseLost", err)
	}
	if c := counts(t, qs, dlq, t0.Add(time.Hour)); c != (store.QueueCounts{}) {
		t.Fatalf("failed move wrote to the DLQ: %+v", c)
	}
	if c := counts(t, qs, k, t0.Add(3*time.Second)); c != (store.QueueCounts{InFlight: 1}) {
		t.Fatalf("stale handle changed the message: %+v", c)
	}
	if err := qs.DeleteMessage(ctx, k, cur.ReceiptHandle); err != nil {
		t.Fatalf("DeleteMessage with the latest handle: %v", err)
	}
	// A handle of another queue does not delete there.
	send(t, qs, k, qmsg(1, 0))
	m := receive(t, qs, k, 1, t0.Add(time.Hour), time.Minute)[0]
	if err := qs.DeleteMessage(ctx, dlq, m.ReceiptHandle); !errors.Is(err, store.ErrNotFound) && !errors.Is(err, store.ErrLeaseLost) {
		t.Fatalf("DeleteMessage in the wrong queue: %v", err)
	}
	if c := counts(t, qs, k, t0.Add(time.Hour)); c.InFlight != 1 {
		t.Fatalf("handle deleted in the wrong queue: %+v", c)
	}
}

func testChangeVisibility(t *testing.T, h QueueHarness) {
	ctx := context.Background()
	qs := h.OpenQueues(t)
	k := mkQueue(t, qs, "q")
	send(t, qs, k, qmsg(0, 0))
	t0 := kt.Add(time.Second)
	m := receive(t, qs, k, 1, t0, 30*time.Second)[0]
	// Release it now (VisibilityTimeout=0).
	got, err := qs.ChangeVisibility(ctx, k, m.ReceiptHandle, t0.Add(time.Second), t0.Add(time.Second))
	if err != nil || !got.VisibleAt.Equal(t0.Add(time.Second)) || got.ReceiveCount != 1 {
		t.Fatalf("ChangeVisibility: %+v %v", got, err)
	}
	if c := counts(t, qs, k, t0.Add(time.Second)); c != (store.QueueCounts{Visible: 1}) {
		t.Fatalf("counts after release: %+v", c)
	}
	// Not in flight any more: ErrNotInFlight.
	if _, err := qs.ChangeVisibility(ctx, k, m.ReceiptHandle, t0.Add(2*time.Second), t0.Add(time.Hour)); !errors.Is(err, store.ErrNotInFlight) {
		t.Fatalf("ChangeVisibility of a visible message: %v, want ErrNotInFlight", err)
	}
	m = receive(t, qs, k, 1, t0.Add(2*time.Second), 30*time.Second)[0]
	// Extend the lease: still hidden after the first timeout.
	if _, err := qs.ChangeVisibility(ctx, k, m.ReceiptHandle, t0.Add(3*time.Second), t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if ms := receive(t, qs, k, 1, t0.Add(time.Minute), time.Second); len(ms) != 0 {
		t.Fatalf("extended message received: %s", ids(ms))
	}
	if ms := receive(t, qs, k, 1, t0.Add(time.Hour), time.Second); ids(ms) != "m-0000" || ms[0].ReceiveCount != 3 {
		t.Fatalf("after the extension: %+v", ms)
	}
	if _, err := qs.ChangeVisibility(ctx, k, "0000000000000063.1.00", t0, t0); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("ChangeVisibility of an unknown handle: %v", err)
	}
}

func testDelayAndCounts(t *testing.T, h QueueHarness) {
	qs := h.OpenQueues(t)
	k := mkQueue(t, qs, "q")
	send(t, qs, k, qmsg(0, 0), qmsg(1, 0), qmsg(2, 10*time.Second), qmsg(3, 20*time.Second))
	t0 := kt.Add(time.Second)
	if c := counts(t, qs, k, t0); c != (store.QueueCounts{Visible: 2, Delayed: 2}) {
		t.Fatalf("counts: %+v", c)
	}
	if ms := receive(t, qs, k, 10, t0, time.Minute); ids(ms) != "m-0000,m-0001" {
		t.Fatalf("receive before the delay: %s", ids(ms))
	}
	if c := counts(t, qs, k, t0); c != (store.QueueCounts{InFlight: 2, Delayed: 2}) {
		t.Fatalf("counts: %+v", c)
	}
	t1 := kt.Add(15 * time.Second)
	if c := counts(t, qs, k, t1); c != (store.QueueCounts{Visible: 1, InFlight: 2, Delayed: 1}) {
		t.Fatalf("counts after one delay: %+v", c)
	}
	if ms := receive(t, qs, k, 10, t1, time.Minute); ids(ms) != "m-0002" {
		t.Fatalf("receive after one delay: %s", ids(ms))
	}
	// Visible messages come by visibility time: m-0003 (due at 20 s) before
	// m-0000 and m-0001 (visible again at 61 s).
	if ms := receive(t, qs, k, 10, kt.Add(2*time.Minute), time.Minute); ids(ms) != "m-0003,m-0000,m-0001,m-0002" {
		t.Fatalf("receive order: %s", ids(ms))
	}
}

func testPurge(t *testing.T, h QueueHarness) {
	ctx := context.Background()
	qs := h.OpenQueues(t)
	k := mkQueue(t, qs, "q")
	other := mkQueue(t, qs, "q2")
	for i := 0; i < 20; i++ {
		send(t, qs, k, qmsg(i, time.Duration(i%3)*time.Second))
	}
	send(t, qs, other, qmsg(0, 0))
	leased := receive(t, qs, k, 2, kt.Add(time.Minute), time.Minute)
	if err := qs.Purge(ctx, k); err != nil {
		t.Fatal(err)
	}
	if c := counts(t, qs, k, kt.Add(time.Minute)); c != (store.QueueCounts{}) {
		t.Fatalf("counts after purge: %+v", c)
	}
	if err := qs.DeleteMessage(ctx, k, leased[0].ReceiptHandle); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("DeleteMessage of a purged message: %v", err)
	}
	if c := counts(t, qs, other, kt.Add(time.Minute)); c != (store.QueueCounts{Visible: 1}) {
		t.Fatalf("purge touched another queue: %+v", c)
	}
	// The queue works after a purge.
	send(t, qs, k, qmsg(100, 0))
	if ms := receive(t, qs, k, 10, kt.Add(time.Hour), time.Minute); ids(ms) != "m-0100" {
		t.Fatalf("after purge: %s", ids(ms))
	}
}

func testExpireBefore(t *testing.T, h QueueHarness) {
	ctx := context.Background()
	qs := h.OpenQueues(t)
	k := mkQueue(t, qs, "q")
	for i := 0; i < 10; i++ {
		send(t, qs, k, qmsg(i, 0))
	}
	leased := receive(t, qs, k, 1, kt.Add(time.Second), time.Minute)
	// Expire those sent before kt+5ms: m-0000 .. m-0004, leased or not.
	n, err := qs.ExpireBefore(ctx, k, kt.Add(5*time.Millisecond))
	if err != nil || n != 5 {
		t.Fatalf("ExpireBefore: %d %v, want 5", n, err)
	}
	if err := qs.DeleteMessage(ctx, k, leased[0].ReceiptHandle); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("DeleteMessage of an expired message: %v", err)
	}
	if ms := receive(t, qs, k, 10, kt.Add(time.Second), time.Minute); ids(ms) != "m-0005,m-0006,m-0007,m-0008,m-0009" {
		t.Fatalf("after expiry: %s", ids(ms))
	}
	if n, err := qs.ExpireBefore(ctx, k, kt); err != nil || n != 0 {
		t.Fatalf("second ExpireBefore: %d %v", n, err)
	}
	if c := counts(t, qs, k, kt.Add(time.Second)); c != (store.QueueCounts{InFlight: 5}) {
		t.Fatalf("counts: %+v", c)
	}
}

func testMoveMessage(t *testing.T, h QueueHarness) {
	ctx := context.Background()
	qs := h.OpenQueues(t)
	src := mkQueue(t, qs, "src")
	dlq := mkQueue(t, qs, "src-dlq")
	send(t, qs, src, qmsg(0, 0), qmsg(1, 0))
	t0 := kt.Add(time.Second)
	const maxReceiveCount = 2
	var moved int
	for round := 0; round < 4; round++ {
		now := t0.Add(time.Duration(round) * time.Minute)
		for _, m := range receive(t, qs, src, 10, now, 30*time.Second) {
			if m.ID != "m-0000" || m.ReceiveCount <= maxReceiveCount {
				continue
			}
			nm := m
			nm.Body = append([]byte("resealed:"), m.Body...)
			nm.VisibleAt = now
			if err := qs.MoveMessage(ctx, src, m.ReceiptHandle, dlq, nm); err != nil {
				t.Fatalf("MoveMessage: %v", err)
			}
			moved++
		}
	}
	if moved != 1 {
		t.Fatalf("moved %d, want 1", moved)
	}
	now := t0.Add(time.Hour)
	if c := counts(t, qs, src, now); c != (store.QueueCounts{Visible: 1}) {
		t.Fatalf("source counts: %+v", c)
	}
	got := receive(t, qs, dlq, 10, now, time.Minute)
	if ids(got) != "m-0000" || got[0].ReceiveCount != 1 || !bytes.HasPrefix(got[0].Body, []byte("resealed:")) ||
		!got[0].SentAt.Equal(qmsg(0, 0).SentAt) {
		t.Fatalf("DLQ receive: %+v", got)
	}
	// Back to the source (a move task), into the same queue, and to a missing queue.
	if err := qs.MoveMessage(ctx, dlq, got[0].ReceiptHandle, qkey("missing"), got[0]); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("MoveMessage to a missing queue: %v", err)
	}
	back := got[0]
	back.VisibleAt = now
	if err := qs.MoveMessage(ctx, dlq, got[0].ReceiptHandle, src, back); err != nil {
		t.Fatalf("MoveMessage back: %v", err)
	}
	if c := counts(t, qs, dlq, now); c != (store.QueueCounts{}) {
		t.Fatalf("DLQ after the move back: %+v", c)
	}
	ms := receive(t, qs, src, 10, now, time.Minute)
	if len(ms) != 2 {
		t.Fatalf("source after the move back: %s", ids(ms))
	}
	if err := qs.MoveMessage(ctx, src, ms[0].ReceiptHandle, src, back); err != nil {
		t.Fatalf("MoveMessage within a queue: %v", err)
	}
	if c := counts(t, qs, src, now); c != (store.QueueCounts{Visible: 1, InFlight: 1}) {
		t.Fatalf("after the move within the queue: %+v", c)
	}
}

func testDeleteQueueDropsMessages(t *testing.T, h QueueHarness) {
	ctx := context.Background()
	qs := h.OpenQueues(t)
	k := mkQueue(t, qs, "q")
	kk := mkQueue(t, qs, "q-longer") // its keys follow q's
	send(t, qs, k, qmsg(0, 0), qmsg(1, 0))
	send(t, qs, kk, qmsg(2, 0))
	if err := qs.DeleteQueue(ctx, k); err != nil {
		t.Fatal(err)
	}
	mkQueue(t, qs, "q")
	if c := counts(t, qs, k, kt.Add(time.Hour)); c != (store.QueueCounts{}) {
		t.Fatalf("a recreated queue has the old messages: %+v", c)
	}
	if ms := receive(t, qs, kk, 10, kt.Add(time.Hour), time.Minute); ids(ms) != "m-0002" {
		t.Fatalf("the other queue: %s", ids(ms))
	}
}

func testMissingQueue(t *testing.T, h QueueHarness) {
	ctx := context.Background()
	qs := h.OpenQueues(t)
	k := qkey("missing")
	nf := func(what string, err error) {
		t.Helper()
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s: %v, want ErrNotFound", what, err)
		}
	}
	_, err := qs.GetQueue(ctx, k)
	nf("GetQueue", err)
	nf("SendMessages", qs.SendMessages(ctx, k, []store.QueueMessage{qmsg(0, 0)}))
	_, err = qs.Receive(ctx, k, 1, kt, time.Second)
	nf("Receive", err)
	nf("DeleteMessage", qs.DeleteMessage(ctx, k, "0000000000000001.1.00"))
	_, err = qs.ChangeVisibility(ctx, k, "0000000000000001.1.00", kt, kt)
	nf("ChangeVisibility", err)
	nf("Purge", qs.Purge(ctx, k))
	_, err = qs.Counts(ctx, k, kt)
	nf("Counts", err)
	_, err = qs.ExpireBefore(ctx, k, kt)
	nf("ExpireBefore", err)
	nf("MoveMessage", qs.MoveMessage(ctx, k, "0000000000000001.1.00", k, qmsg(0, 0)))
	qsl, next, err := qs.ListQueues(ctx, acct, region, "", store.Page{})
	if err != nil || len(qsl) != 0 || next != "" {
		t.Errorf("ListQueues of nothing: %v %q %v", qsl, next, err)
	}
}

// testConcurrentReceivers sends while 8 receivers receive and delete: no
// message is handed to two receivers while leased, and every message is
// received.
func testConcurrentReceivers(t *testing.T, h QueueHarness) {
	ctx := context.Background()
	qs := h.OpenQueues(t)
	k := mkQueue(t, qs, "q")
	const n, senders, receivers = 400, 4, 8
	now := kt.Add(time.Hour) // every message visible; leases last past the test
	var (
		mu   sync.Mutex
		seen = map[string]int{}
		wg   sync.WaitGroup
	)
	for s := 0; s < senders; s++ {
		wg.Add(1)
		go func(s int) {
			defer wg.Done()
			for i := s; i < n; i += senders * 2 {
				if err := qs.SendMessages(ctx, k, []store.QueueMessage{qmsg(i, 0), qmsg(i+senders, 0)}); err != nil {
					t.Error(err)
					return
				}
			}
		}(s)
	}
	done := make(chan struct{})
	var rwg sync.WaitGroup
	for r := 0; r < receivers; r++ {
		rwg.Add(1)
		go func(r int) {
			defer rwg.Done()
			for {
				ms, err := qs.Receive(ctx, k, 1+r%3, now, time.Hour)
				if err != nil {
					t.Error(err)
					return
				}
				if len(ms) == 0 {
					select {
					case <-done:
						return
					default:
						continue
					}
				}
				mu.Lock()
				for _, m := range ms {
					seen[m.ID]++
				}
				mu.Unlock()
				// Delete half of them, leave the rest leased.
				for _, m := range ms {
					if m.ID[len(m.ID)-1]%2 == 0 {
						if err := qs.DeleteMessage(ctx, k, m.ReceiptHandle); err != nil {
							t.Error(err)
						}
					}
				}
			}
		}(r)
	}
	wg.Wait()
	close(done)
	rwg.Wait()
	if ms := receive(t, qs, k, 10, now, time.Hour); len(ms) != 0 {
		t.Fatalf("left over after the receivers stopped: %s", ids(ms))
	}
	if len(seen) != n {
		t.Fatalf("received %d distinct messages, want %d", len(seen), n)
	}
	for id, c := range seen {
		if c != 1 {
			t.Fatalf("message %s received %d times while leased", id, c)
		}
	}
	if c := counts(t, qs, k, now); c != (store.QueueCounts{InFlight: n / 2}) {
		t.Fatalf("counts: %+v", c)
	}
}

func testQueuesSurviveRestart(t *testing.T, h QueueHarness) {
	ctx := context.Background()
	qs := h.OpenQueues(t)
	k := mkQueue(t, qs, "q")
	for i := 0; i < 5; i++ {
		send(t, qs, k, qmsg(i, 0))
	}
	t0 := kt.Add(time.Second)
	leased := receive(t, qs, k, 2, t0, time.Minute)
	if err := qs.DeleteMessage(ctx, k, leased[0].ReceiptHandle); err != nil {
		t.Fatal(err)
	}
	qs = h.ReopenQueues(t, qs)
	if q, err := qs.GetQueue(ctx, k); err != nil || q.Attributes["VisibilityTimeout"] != "30" {
		t.Fatalf("queue after restart: %+v %v", q, err)
	}
	if c := counts(t, qs, k, t0); c != (store.QueueCounts{Visible: 3, InFlight: 1}) {
		t.Fatalf("counts after restart: %+v", c)
	}
	// The lease survives: its handle still deletes; new sends come after the old ones.
	send(t, qs, k, qmsg(5, 0))
	if ms := receive(t, qs, k, 10, t0, time.Minute); ids(ms) != "m-0002,m-0003,m-0004,m-0005" {
		t.Fatalf("receive after restart: %s", ids(ms))
	}
	if err := qs.DeleteMessage(ctx, k, leased[1].ReceiptHandle); err != nil {
		t.Fatalf("DeleteMessage with a handle from before the restart: %v", err)
	}
}

// testExpireLarge expires more messages than one batch of a driver is
// likely to take, by send time and not by send order: a message moved
// into the queue keeps its (older) send time and expires with its peers.
func testExpireLarge(t *testing.T, h QueueHarness) {
	ctx := context.Background()
	qs := h.OpenQueues(t)
	src, k := mkQueue(t, qs, "src"), mkQueue(t, qs, "q")
	const n = 2500
	for i := 0; i < n; i += 500 {
		ms := make([]store.QueueMessage, 0, 500)
		for j := i; j < i+500; j++ {
			m := qmsg(j, 0)
			m.SentAt = kt.Add(time.Hour + time.Duration(j)*time.Millisecond)
			m.VisibleAt = m.SentAt
			ms = append(ms, m)
		}
		send(t, qs, k, ms...)
	}
	// An old message arrives last (a dead-letter move keeps the send time).
	send(t, qs, src, qmsg(9000, 0))
	leased := receive(t, qs, src, 1, kt.Add(time.Minute), time.Minute)
	if len(leased) != 1 {
		t.Fatalf("receive from src: %s", ids(leased))
	}
	if err := qs.MoveMessage(ctx, src, leased[0].ReceiptHandle, k, qmsg(9000, 0)); err != nil {
		t.Fatal(err)
	}
	now := kt.Add(2 * time.Hour)
	if c := counts(t, qs, k, now); c != (store.QueueCounts{Visible: n + 1}) {
		t.Fatalf("counts before expiry: %+v", c)
	}
	// Everything sent before kt+1h+2000ms: the moved message and 2000 others.
	got, err := qs.ExpireBefore(ctx, k, kt.Add(time.Hour+2000*time.Millisecond))
	if err != nil || got != 2001 {
		t.Fatalf("ExpireBefore: %d %v, want 2001", got, err)
	}
	if c := counts(t, qs, k, now); c != (store.QueueCounts{Visible: n - 2000}) {
		t.Fatalf("counts after expiry: %+v", c)
	}
	ms := receive(t, qs, k, 10, now, time.Minute)
	if len(ms) != 10 || ms[0].ID != "m-2000" {
		t.Fatalf("first messages left: %s", ids(ms))
	}
	if c := counts(t, qs, k, now); c != (store.QueueCounts{Visible: n - 2010, InFlight: 10}) {
		t.Fatalf("counts after a receive: %+v", c)
	}
	qs = h.ReopenQueues(t, qs)
	if c := counts(t, qs, k, now); c != (store.QueueCounts{Visible: n - 2010, InFlight: 10}) {
		t.Fatalf("counts after a restart: %+v", c)
	}
}
