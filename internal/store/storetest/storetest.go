// Package storetest is the conformance suite every store.Store driver runs.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/store"
)

// Harness opens stores for the suite.
type Harness interface {
	// Open returns an empty store.
	Open(t *testing.T) store.Store
	// Reopen closes s and opens the same data again (a restart).
	Reopen(t *testing.T, s store.Store) store.Store
}

// Run runs the suite.
func Run(t *testing.T, h Harness) {
	tests := []struct {
		name string
		fn   func(*testing.T, Harness)
	}{
		{"Topics", testTopics},
		{"ListTopicsPaging", testListTopicsPaging},
		{"Subscriptions", testSubscriptions},
		{"DeleteTopicCascades", testDeleteTopicCascades},
		{"PublishLeaseAck", testPublishLeaseAck},
		{"RetryAndLeaseExpiry", testRetryAndLeaseExpiry},
		{"DeleteSubscriptionDropsDeliveries", testDeleteSubscriptionDropsDeliveries},
		{"ConcurrentPublish", testConcurrentPublish},
		{"SurvivesRestart", testSurvivesRestart},
		{"LeaseExclusive", testLeaseExclusive},
		{"AckAll", testAckAll},
		{"FIFODedup", testFIFODedup},
		{"AckChecksLease", testAckChecksLease},
		{"RetryRacingAckStaysAcked", testRetryRacingAckStaysAcked},
		{"DueOrderAndRestart", testDueOrderAndRestart},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, h) })
	}
}

const (
	acct   = "000000000000"
	region = "us-east-1"
)

func topicARN(name string) string { return fmt.Sprintf("arn:aws:sns:%s:%s:%s", region, acct, name) }

func mkTopic(t *testing.T, s store.Store, name string) store.Topic {
	t.Helper()
	tp := store.Topic{ARN: topicARN(name), Account: acct, Region: region, Name: name,
		Attributes: map[string]string{"DisplayName": name}, Tags: map[string]string{}, CreatedAt: time.Now().UTC()}
	got, err := s.CreateTopic(context.Background(), tp)
	if err != nil {
		t.Fatalf("CreateTopic: %v", err)
	}
	return got
}

func mkSub(t *testing.T, s store.Store, topic store.Topic, id string) store.Subscription {
	t.Helper()
	sub := store.Subscription{ARN: topic.ARN + ":" + id, TopicARN: topic.ARN, Account: acct, Region: region,
		Protocol: "http", Endpoint: "http://127.0.0.1/" + id, Attributes: map[string]string{}, CreatedAt: time.Now().UTC()}
	got, err := s.CreateSubscription(context.Background(), sub)
	if err != nil {
		t.Fatalf("CreateSubscription: %v", err)
	}
	return got
}

func testTopics(t *testing.T, h Harness) {
	ctx := context.Background()
	s := h.Open(t)
	tp := mkTopic(t, s, "alpha")
	if _, err := s.CreateTopic(ctx, tp); !errors.Is(err, store.ErrExists) {
		t.Fatalf("second CreateTopic: got %v, want ErrExists", err)
	}
	got, err := s.GetTopic(ctx, tp.ARN)
	if err != nil || got.Attributes["DisplayName"] != "alpha" || got.Name != "alpha" {
		t.Fatalf("GetTopic: %+v %v", got, err)
	}
	if _, err := s.GetTopic(ctx, topicARN("nope")); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetTopic missing: %v", err)
	}
	up, err := s.UpdateTopic(ctx, tp.ARN, func(t *store.Topic) error { t.Attributes["DisplayName"] = "B"; t.Tags["k"] = "v"; return nil })
	if err != nil || up.Attributes["DisplayName"] != "B" {
		t.Fatalf("UpdateTopic: %+v %v", up, err)
	}
	boom := errors.New("boom")
	if _, err := s.UpdateTopic(ctx, tp.ARN, func(t *store.Topic) error { t.Attributes["DisplayName"] = "C"; return boom }); !errors.Is(err, boom) {
		t.Fatalf("UpdateTopic fn error: %v", err)
	}
	got, _ = s.GetTopic(ctx, tp.ARN)
	if got.Attributes["DisplayName"] != "B" || got.Tags["k"] != "v" {
		t.Fatalf("aborted update leaked: %+v", got)
	}
	if _, err := s.UpdateTopic(ctx, topicARN("nope"), func(*store.Topic) error { return nil }); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("UpdateTopic missing: %v", err)
	}
	if _, err := s.DeleteTopic(ctx, tp.ARN); err != nil {
		t.Fatalf("DeleteTopic: %v", err)
	}
	if _, err := s.DeleteTopic(ctx, tp.ARN); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("DeleteTopic twice: %v", err)
	}
}

func testListTopicsPaging(t *testing.T, h Harness) {
	ctx := context.Background()
	s := h.Open(t)
	want := map[string]bool{}
	for i := 0; i < 25; i++ {
		want[mkTopic(t, s, fmt.Sprintf("page-%02d", i)).ARN] = true
	}
	// another account and region must not show up
	other := store.Topic{ARN: "arn:aws:sns:eu-west-1:111111111111:x", Account: "111111111111", Region: "eu-west-1", Name: "x"}
	if _, err := s.CreateTopic(ctx, other); err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	cursor := ""
	pages := 0
	for {
		ts, next, err := s.ListTopics(ctx, acct, region, store.Page{After: cursor, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		pages++
		if len(ts) > 10 {
			t.Fatalf("page of %d", len(ts))
		}
		for _, tp := range ts {
			if got[tp.ARN] {
				t.Fatalf("duplicate %s", tp.ARN)
			}
			got[tp.ARN] = true
		}
		if next == "" {
			break
		}
		cursor = next
	}
	if len(got) != len(want) || pages != 3 {
		t.Fatalf("listed %d topics in %d pages, want %d in 3", len(got), pages, len(want))
	}
	for a := range want {
		if !got[a] {
			t.Fatalf("missing %s", a)
		}
	}
}

func testSubscriptions(t *testing.T, h Harness) {
	ctx := context.Background()
	s := h.Open(t)
	tp := mkTopic(t, s, "subs")
	tp2 := mkTopic(t, s, "subs2")
	a := mkSub(t, s, tp, "a")
	dup := a
	dup.ARN = tp.ARN + ":other"
	got, err := s.CreateSubscription(ctx, dup)
	if !errors.Is(err, store.ErrExists) || got.ARN != a.ARN {
		t.Fatalf("duplicate subscription: %+v %v", got, err)
	}
	orphan := store.Subscription{ARN: topicARN("none") + ":x", TopicARN: topicARN("none"), Protocol: "http", Endpoint: "http://x"}
	if _, err := s.CreateSubscription(ctx, orphan); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("subscription to missing topic: %v", err)
	}
	for i := 0; i < 12; i++ {
		mkSub(t, s, tp, fmt.Sprintf("s%02d", i))
		mkSub(t, s, tp2, fmt.Sprintf("t%02d", i))
	}
	all, err := s.TopicSubscriptions(ctx, tp.ARN)
	if err != nil || len(all) != 13 {
		t.Fatalf("TopicSubscriptions: %d %v", len(all), err)
	}
	count := func(list func(store.Page) ([]store.Subscription, string, error)) int {
		n, cursor := 0, ""
		for {
			subs, next, err := list(store.Page{After: cursor, Limit: 5})
			if err != nil {
				t.Fatal(err)
			}
			n += len(subs)
			if next == "" {
				return n
			}
			cursor = next
		}
	}
	if n := count(func(p store.Page) ([]store.Subscription, string, error) {
		return s.ListSubscriptionsByTopic(ctx, tp.ARN, p)
	}); n != 13 {
		t.Fatalf("ListSubscriptionsByTopic: %d", n)
	}
	if n := count(func(p store.Page) ([]store.Subscription, string, error) {
		return s.ListSubscriptions(ctx, acct, region, p)
	}); n != 25 {
		t.Fatalf("ListSubscriptions: %d", n)
	}
	if _, _, err := s.ListSubscriptionsByTopic(ctx, topicARN("none"), store.Page{}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("ListSubscriptionsByTopic missing topic: %v", err)
	}
	up, err := s.UpdateSubscription(ctx, a.ARN, func(s *store.Subscription) error {
		s.Attributes["RawMessageDelivery"] = "true"
		s.Pending = false
		return nil
	})
	if err != nil || up.Attributes["RawMessageDelivery"] != "true" {
		t.Fatalf("UpdateSubscription: %+v %v", up, err)
	}
	if got, _ := s.GetSubscription(ctx, a.ARN); got.Attributes["RawMessageDelivery"] != "true" {
		t.Fatalf("GetSubscription after update: %+v", got)
	}
	if err := s.DeleteSubscription(ctx, a.ARN); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetSubscription(ctx, a.ARN); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("deleted subscription: %v", err)
	}
	if err := s.DeleteSubscription(ctx, a.ARN); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("delete twice: %v", err)
	}
}

func testDeleteTopicCascades(t *testing.T, h Harness) {
	ctx := context.Background()
	s := h.Open(t)
	tp := mkTopic(t, s, "cascade")
	sub := mkSub(t, s, tp, "a")
	publish(t, s, tp, []store.Subscription{sub}, 3)
	deleted, err := s.DeleteTopic(ctx, tp.ARN)
	if err != nil || len(deleted) != 1 {
		t.Fatalf("DeleteTopic: %v %v", deleted, err)
	}
	if _, err := s.GetSubscription(ctx, sub.ARN); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("subscription survived its topic: %v", err)
	}
	if n, _ := s.PendingDeliveries(ctx, sub.ARN); n != 0 {
		t.Fatalf("%d deliveries survived", n)
	}
	ls, err := s.LeaseDeliveries(ctx, "w", time.Now().Add(time.Hour), time.Minute, 100)
	if err != nil || len(ls) != 0 {
		t.Fatalf("leased %d after topic deletion (%v)", len(ls), err)
	}
}

var msgSeq struct {
	sync.Mutex
	n int
}

func publish(t *testing.T, s store.Store, tp store.Topic, subs []store.Subscription, n int) []string {
	t.Helper()
	var ids []string
	var pubs []store.Publication
	now := time.Now().UTC()
	for i := 0; i < n; i++ {
		msgSeq.Lock()
		msgSeq.n++
		id := fmt.Sprintf("msg-%08d", msgSeq.n)
		msgSeq.Unlock()
		p := store.Publication{Message: store.Message{ID: id, TopicARN: tp.ARN, CreatedAt: now,
			Meta: []byte(`{"s":"subject"}`), Body: []byte("body-" + id)}}
		for _, sub := range subs {
			p.Deliveries = append(p.Deliveries, store.Delivery{SubscriptionARN: sub.ARN, MessageID: id, NextAttemptAt: now})
		}
		pubs = append(pubs, p)
		ids = append(ids, id)
	}
	if err := s.Publish(context.Background(), pubs); err != nil {
		t.Errorf("Publish: %v", err) // Errorf: publish runs in goroutines too
		return nil
	}
	return ids
}

func testPublishLeaseAck(t *testing.T, h Harness) {
	ctx := context.Background()
	s := h.Open(t)
	tp := mkTopic(t, s, "pla")
	a, b := mkSub(t, s, tp, "a"), mkSub(t, s, tp, "b")
	ids := publish(t, s, tp, []store.Subscription{a, b}, 5)
	m, err := s.GetMessage(ctx, ids[0])
	if err != nil || string(m.Body) != "body-"+ids[0] || string(m.Meta) != `{"s":"subject"}` || m.TopicARN != tp.ARN {
		t.Fatalf("GetMessage: %+v %v", m, err)
	}
	if n, _ := s.PendingDeliveries(ctx, a.ARN); n != 5 {
		t.Fatalf("pending for a: %d", n)
	}
	now := time.Now().Add(time.Second)
	ls, err := s.LeaseDeliveries(ctx, "w1", now, time.Minute, 100)
	if err != nil || len(ls) != 10 {
		t.Fatalf("lease: %d %v", len(ls), err)
	}
	seen := map[string]bool{}
	for _, l := range ls {
		k := l.SubscriptionARN + "|" + l.MessageID
		if seen[k] {
			t.Fatalf("leased twice: %s", k)
		}
		seen[k] = true
		if string(l.Message.Body) != "body-"+l.MessageID {
			t.Fatalf("lease message body %q", l.Message.Body)
		}
	}
	if more, _ := s.LeaseDeliveries(ctx, "w2", now, time.Minute, 100); len(more) != 0 {
		t.Fatalf("leased %d already-leased deliveries", len(more))
	}
	for _, l := range ls {
		if err := s.Ack(ctx, l); err != nil {
			t.Fatal(err)
		}
	}
	if n, _ := s.PendingDeliveries(ctx, ""); n != 0 {
		t.Fatalf("pending after ack: %d", n)
	}
	if _, err := s.GetMessage(ctx, ids[0]); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("message kept after all acks: %v", err)
	}
	if more, _ := s.LeaseDeliveries(ctx, "w2", now.Add(time.Hour), time.Minute, 100); len(more) != 0 {
		t.Fatalf("leased %d acked deliveries", len(more))
	}
}

func testRetryAndLeaseExpiry(t *testing.T, h Harness) {
	ctx := context.Background()
	s := h.Open(t)
	tp := mkTopic(t, s, "retry")
	a := mkSub(t, s, tp, "a")
	publish(t, s, tp, []store.Subscription{a}, 1)
	t0 := time.Now().Add(time.Second)
	ls, err := s.LeaseDeliveries(ctx, "w1", t0, 10*time.Second, 10)
	if err != nil || len(ls) != 1 {
		t.Fatalf("lease: %d %v", len(ls), err)
	}
	next := t0.Add(20 * time.Second)
	if err := s.Retry(ctx, ls[0], 1, next); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.LeaseDeliveries(ctx, "w1", next.Add(-time.Second), 10*time.Second, 10); len(got) != 0 {
		t.Fatalf("leased before its retry time")
	}
	got, err := s.LeaseDeliveries(ctx, "w1", next, 10*time.Second, 10)
	if err != nil || len(got) != 1 || got[0].Attempts != 1 {
		t.Fatalf("lease at retry time: %+v %v", got, err)
	}
	// The lease expires without ack or retry: another owner takes it over.
	later := next.Add(11 * time.Second)
	over, err := s.LeaseDeliveries(ctx, "w2", later, 10*time.Second, 10)
	if err != nil || len(over) != 1 || over[0].Owner != "w2" || over[0].Attempts != 1 {
		t.Fatalf("takeover: %+v %v", over, err)
	}
	if err := s.Retry(ctx, got[0], 2, later); !errors.Is(err, store.ErrLeaseLost) {
		t.Fatalf("retry with a lost lease: %v", err)
	}
	if err := s.Ack(ctx, over[0]); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.PendingDeliveries(ctx, a.ARN); n != 0 {
		t.Fatalf("pending: %d", n)
	}
}

func testDeleteSubscriptionDropsDeliveries(t *testing.T, h Harness) {
	ctx := context.Background()
	s := h.Open(t)
	tp := mkTopic(t, s, "dsdd")
	a, b := mkSub(t, s, tp, "a"), mkSub(t, s, tp, "b")
	ids := publish(t, s, tp, []store.Subscription{a, b}, 4)
	if err := s.DeleteSubscription(ctx, a.ARN); err != nil {
		t.Fatal(err)
	}
	ls, err := s.LeaseDeliveries(ctx, "w", time.Now().Add(time.Second), time.Minute, 100)
	if err != nil || len(ls) != 4 {
		t.Fatalf("lease: %d %v", len(ls), err)
	}
	for _, l := range ls {
		if l.SubscriptionARN != b.ARN {
			t.Fatalf("delivery for deleted subscription %s", l.SubscriptionARN)
		}
		if err := s.Ack(ctx, l); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.GetMessage(ctx, ids[0]); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("message kept: %v", err)
	}
}

func testConcurrentPublish(t *testing.T, h Harness) {
	ctx := context.Background()
	s := h.Open(t)
	tp := mkTopic(t, s, "conc")
	a, b := mkSub(t, s, tp, "a"), mkSub(t, s, tp, "b")
	var wg sync.WaitGroup
	var mu sync.Mutex
	var all []string
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				ids := publish(t, s, tp, []store.Subscription{a, b}, 1)
				mu.Lock()
				all = append(all, ids...)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	got := map[string]int{}
	for {
		ls, err := s.LeaseDeliveries(ctx, "w", time.Now().Add(time.Second), time.Minute, 50)
		if err != nil {
			t.Fatal(err)
		}
		if len(ls) == 0 {
			break
		}
		for _, l := range ls {
			got[l.MessageID]++
			if err := s.Ack(ctx, l); err != nil {
				t.Fatal(err)
			}
		}
	}
	if len(got) != 160 {
		t.Fatalf("delivered %d distinct messages, want 160", len(got))
	}
	for _, id := range all {
		if got[id] != 2 {
			t.Fatalf("message %s delivered %d times, want 2", id, got[id])
		}
	}
}

func testSurvivesRestart(t *testing.T, h Harness) {
	ctx := context.Background()
	s := h.Open(t)
	tp := mkTopic(t, s, "restart")
	a := mkSub(t, s, tp, "a")
	ids := publish(t, s, tp, []store.Subscription{a}, 3)
	// lease two and "crash" while holding them
	ls, _ := s.LeaseDeliveries(ctx, "w", time.Now().Add(time.Second), time.Hour, 2)
	if len(ls) != 2 {
		t.Fatalf("lease: %d", len(ls))
	}
	s = h.Reopen(t, s)
	if _, err := s.GetTopic(ctx, tp.ARN); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetSubscription(ctx, a.ARN); err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	deadline := time.Now().Add(2 * time.Hour) // past any lease a shared driver kept
	for {
		ls, err := s.LeaseDeliveries(ctx, "w2", deadline, time.Minute, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(ls) == 0 {
			break
		}
		for _, l := range ls {
			got[l.MessageID] = true
			if err := s.Ack(ctx, l); err != nil {
				t.Fatal(err)
			}
		}
	}
	var gotIDs []string
	for id := range got {
		gotIDs = append(gotIDs, id)
	}
	sort.Strings(gotIDs)
	if len(gotIDs) != len(ids) {
		t.Fatalf("after restart leased %v, want %v", gotIDs, ids)
	}
}

func testLeaseExclusive(t *testing.T, h Harness) {
	ctx := context.Background()
	s := h.Open(t)
	tp := mkTopic(t, s, "excl")
	a := mkSub(t, s, tp, "a")
	publish(t, s, tp, []store.Subscription{a}, 200)
	var mu sync.Mutex
	seen := map[string]int{}
	var wg sync.WaitGroup
	now := time.Now().Add(time.Second)
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for {
				ls, err := s.LeaseDeliveries(ctx, fmt.Sprintf("w%d", w), now, time.Hour, 7)
				if err != nil {
					t.Error(err)
					return
				}
				if len(ls) == 0 {
					return
				}
				mu.Lock()
				for _, l := range ls {
					seen[l.MessageID]++
				}
				mu.Unlock()
			}
		}(w)
	}
	wg.Wait()
	if len(seen) != 200 {
		t.Fatalf("leased %d distinct, want 200", len(seen))
	}
	for id, n := range seen {
		if n != 1 {
			t.Fatalf("%s leased %d times", id, n)
		}
	}
}

func testAckAll(t *testing.T, h Harness) {
	ctx := context.Background()
	s := h.Open(t)
	ba, ok := s.(store.BatchAcker)
	if !ok {
		t.Skip("driver does not implement store.BatchAcker")
	}
	tp := mkTopic(t, s, "ackall")
	a, b := mkSub(t, s, tp, "a"), mkSub(t, s, tp, "b")
	ids := publish(t, s, tp, []store.Subscription{a, b}, 5)
	now := time.Now().Add(time.Second)
	ls, err := s.LeaseDeliveries(ctx, "w1", now, time.Minute, 100)
	if err != nil || len(ls) != 10 {
		t.Fatalf("lease: %d %v", len(ls), err)
	}
	// a lease that no longer holds is skipped
	stale := ls[0]
	stale.Owner = "someone-else"
	if err := ba.AckAll(ctx, append([]store.Lease{stale}, ls[1:]...)); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.PendingDeliveries(ctx, ""); n != 1 {
		t.Fatalf("pending after AckAll: %d, want 1", n)
	}
	for _, id := range ids {
		_, err := s.GetMessage(ctx, id)
		if id == ls[0].MessageID {
			if err != nil {
				t.Fatalf("message with a pending delivery deleted: %v", err)
			}
		} else if !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("fully acked message %s kept: %v", id, err)
		}
	}
	if err := ba.AckAll(ctx, ls[:1]); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetMessage(ctx, ls[0].MessageID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("last message kept: %v", err)
	}
	if err := ba.AckAll(ctx, nil); err != nil {
		t.Fatal(err)
	}
}

func testFIFODedup(t *testing.T, h Harness) {
	ctx := context.Background()
	s := h.Open(t)
	tp := mkTopic(t, s, "dedup")
	a := mkSub(t, s, tp, "a")
	now := time.Now().UTC().Truncate(time.Millisecond)
	pub := func(id, key string, at time.Time, deliver bool) store.Publication {
		p := store.Publication{
			Message: store.Message{ID: id, TopicARN: tp.ARN, CreatedAt: at, Meta: []byte("{}"), Body: []byte(id)},
			Dedup:   &store.Dedup{Key: key, MessageID: id, Sequence: "seq-" + id, Expires: at.Add(5 * time.Minute)},
		}
		if deliver {
			p.Deliveries = []store.Delivery{{SubscriptionARN: a.ARN, MessageID: id, NextAttemptAt: at}}
		}
		return p
	}
	first := pub("d1", "k1", now, true)
	if err := s.Publish(ctx, []store.Publication{first}); err != nil || first.Dedup.Duplicate {
		t.Fatalf("first: %v %+v", err, first.Dedup)
	}
	// same key: a duplicate, nothing written, the first id and sequence reported
	again := pub("d2", "k1", now.Add(time.Minute), true)
	if err := s.Publish(ctx, []store.Publication{again}); err != nil || !again.Dedup.Duplicate ||
		again.Dedup.MessageID != "d1" || again.Dedup.Sequence != "seq-d1" {
		t.Fatalf("duplicate: %v %+v", err, again.Dedup)
	}
	if _, err := s.GetMessage(ctx, "d2"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("duplicate was stored: %v", err)
	}
	// within one call, the second of two with one key is the duplicate
	b1, b2 := pub("d3", "k2", now, true), pub("d4", "k2", now, true)
	if err := s.Publish(ctx, []store.Publication{b1, b2}); err != nil || b1.Dedup.Duplicate || !b2.Dedup.Duplicate || b2.Dedup.MessageID != "d3" {
		t.Fatalf("same call: %v %+v %+v", err, b1.Dedup, b2.Dedup)
	}
	// a record is kept even when nobody receives the message
	n1 := pub("d5", "k3", now, false)
	n2 := pub("d6", "k3", now, false)
	if err := s.Publish(ctx, []store.Publication{n1}); err != nil || n1.Dedup.Duplicate {
		t.Fatal(err)
	}
	if err := s.Publish(ctx, []store.Publication{n2}); err != nil || !n2.Dedup.Duplicate || n2.Dedup.MessageID != "d5" {
		t.Fatalf("no-delivery dedup: %v %+v", err, n2.Dedup)
	}
	// after the window the key is free again
	late := pub("d7", "k1", now.Add(6*time.Minute), true)
	if err := s.Publish(ctx, []store.Publication{late}); err != nil || late.Dedup.Duplicate {
		t.Fatalf("after the window: %v %+v", err, late.Dedup)
	}
	// concurrent publishers of one key: exactly one wins
	var mu sync.Mutex
	winners := 0
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			p := pub(fmt.Sprintf("c%d", w), "k4", now, true)
			if err := s.Publish(ctx, []store.Publication{p}); err != nil {
				t.Error(err)
				return
			}
			if !p.Dedup.Duplicate {
				mu.Lock()
				winners++
				mu.Unlock()
			}
		}(w)
	}
	wg.Wait()
	if winners != 1 {
		t.Fatalf("%d concurrent publishers of one key won, want 1", winners)
	}
	if sw, ok := s.(store.DedupSweeper); ok {
		if err := sw.SweepDedup(ctx, now.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		fresh := pub("d8", "k4", now.Add(time.Minute), true)
		if err := s.Publish(ctx, []store.Publication{fresh}); err != nil || fresh.Dedup.Duplicate {
			t.Fatalf("after sweep: %v %+v", err, fresh.Dedup)
		}
	}
}

// testAckChecksLease: Ack deletes a delivery only for the lease that holds it,
// as AckAll and Retry do; a stale or foreign lease gets ErrLeaseLost and the
// delivery stays.
func testAckChecksLease(t *testing.T, h Harness) {
	ctx := context.Background()
	s := h.Open(t)
	tp := mkTopic(t, s, "ackowner")
	a := mkSub(t, s, tp, "a")
	ids := publish(t, s, tp, []store.Subscription{a}, 1)
	t0 := time.Now().Add(time.Second)
	ls, err := s.LeaseDeliveries(ctx, "w1", t0, 10*time.Second, 10)
	if err != nil || len(ls) != 1 {
		t.Fatalf("lease: %d %v", len(ls), err)
	}
	foreign := ls[0]
	foreign.Owner = "someone-else"
	if err := s.Ack(ctx, foreign); !errors.Is(err, store.ErrLeaseLost) {
		t.Fatalf("Ack with another owner: %v, want ErrLeaseLost", err)
	}
	if n, _ := s.PendingDeliveries(ctx, a.ARN); n != 1 {
		t.Fatalf("pending after a foreign Ack: %d, want 1", n)
	}
	// the lease expires and w2 takes over: w1's late Ack must not delete it
	over, err := s.LeaseDeliveries(ctx, "w2", t0.Add(11*time.Second), 10*time.Second, 10)
	if err != nil || len(over) != 1 {
		t.Fatalf("takeover: %d %v", len(over), err)
	}
	if err := s.Ack(ctx, ls[0]); !errors.Is(err, store.ErrLeaseLost) {
		t.Fatalf("Ack of an expired, re-leased lease: %v, want ErrLeaseLost", err)
	}
	if _, err := s.GetMessage(ctx, ids[0]); err != nil {
		t.Fatalf("message deleted by a stale Ack: %v", err)
	}
	if err := s.Ack(ctx, over[0]); err != nil {
		t.Fatal(err)
	}
	if err := s.Ack(ctx, over[0]); err != nil {
		t.Fatalf("Ack of a delivery already gone: %v, want nil", err)
	}
	if n, _ := s.PendingDeliveries(ctx, a.ARN); n != 0 {
		t.Fatalf("pending: %d", n)
	}
}

// testRetryRacingAckStaysAcked: a Retry that makes a delivery due at once
// races with another owner that leases and acks it. Whatever the
// interleaving, once both are done the delivery is gone, also after a
// restart (a late write of the Retry must not bring it back).
func testRetryRacingAckStaysAcked(t *testing.T, h Harness) {
	ctx := context.Background()
	s := h.Open(t)
	tp := mkTopic(t, s, "retryrace")
	a := mkSub(t, s, tp, "a")
	const n = 200
	publish(t, s, tp, []store.Subscription{a}, n)
	now := time.Now().Add(time.Second)
	ls, err := s.LeaseDeliveries(ctx, "w1", now, time.Hour, n)
	if err != nil || len(ls) != n {
		t.Fatalf("lease: %d %v", len(ls), err)
	}
	var wg sync.WaitGroup
	for _, l := range ls {
		wg.Add(1)
		go func(l store.Lease) {
			defer wg.Done()
			if err := s.Retry(ctx, l, 1, now); err != nil {
				t.Errorf("Retry: %v", err)
			}
		}(l)
	}
	var mu sync.Mutex
	acked := 0
	deadline := time.Now().Add(30 * time.Second)
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for time.Now().Before(deadline) {
				mu.Lock()
				done := acked == n
				mu.Unlock()
				if done {
					return
				}
				got, err := s.LeaseDeliveries(ctx, fmt.Sprintf("w2-%d", w), now, time.Hour, 10)
				if err != nil {
					t.Error(err)
					return
				}
				for _, l := range got {
					if err := s.Ack(ctx, l); err != nil {
						t.Errorf("Ack: %v", err)
					}
				}
				mu.Lock()
				acked += len(got)
				mu.Unlock()
			}
		}(w)
	}
	wg.Wait()
	if acked != n {
		t.Fatalf("acked %d of %d", acked, n)
	}
	s = h.Reopen(t, s)
	if p, _ := s.PendingDeliveries(ctx, a.ARN); p != 0 {
		t.Fatalf("%d acked deliveries came back after a restart", p)
	}
	if got, _ := s.LeaseDeliveries(ctx, "w3", now.Add(2*time.Hour), time.Minute, n); len(got) != 0 {
		t.Fatalf("leased %d acked deliveries after a restart", len(got))
	}
}

// testDueOrderAndRestart: deliveries are leased in due order (retries
// interleave with new ones by their due time), a retry scheduled far ahead
// is not leased early, and the schedule survives a restart.
func testDueOrderAndRestart(t *testing.T, h Harness) {
	ctx := context.Background()
	s := h.Open(t)
	tp := mkTopic(t, s, "dueorder")
	a, b := mkSub(t, s, tp, "a"), mkSub(t, s, tp, "b")
	base := time.Now().UTC().Truncate(time.Millisecond).Add(time.Second)
	var pubs []store.Publication
	for i := 0; i < 6; i++ {
		id := fmt.Sprintf("due-%d", i)
		// due times out of publish order: 5,4,...,0 seconds after base
		at := base.Add(time.Duration(5-i) * time.Second)
		pubs = append(pubs, store.Publication{
			Message: store.Message{ID: id, TopicARN: tp.ARN, CreatedAt: base, Meta: []byte("{}"), Body: []byte(id)},
			Deliveries: []store.Delivery{{SubscriptionARN: a.ARN, MessageID: id, NextAttemptAt: at},
				{SubscriptionARN: b.ARN, MessageID: id, NextAttemptAt: at}},
		})
	}
	if err := s.Publish(ctx, pubs); err != nil {
		t.Fatal(err)
	}
	// at base+2s: due-5, due-4, due-3 (each for a and b), earliest first
	ls, err := s.LeaseDeliveries(ctx, "w", base.Add(2*time.Second), time.Minute, 100)
	if err != nil || len(ls) != 6 {
		t.Fatalf("lease at +2s: %d %v", len(ls), err)
	}
	for i, l := range ls {
		if want := fmt.Sprintf("due-%d", 5-i/2); l.MessageID != want {
			t.Fatalf("lease %d: %s, want %s (due order)", i, l.MessageID, want)
		}
	}
	// retry a's due-5 in an hour, ack the rest
	for _, l := range ls {
		var err error
		if l.MessageID == "due-5" && l.SubscriptionARN == a.ARN {
			err = s.Retry(ctx, l, 1, base.Add(time.Hour))
		} else {
			err = s.Ack(ctx, l)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if n, _ := s.PendingDeliveries(ctx, ""); n != 7 {
		t.Fatalf("pending: %d, want 7", n)
	}
	if n, _ := s.PendingDeliveries(ctx, a.ARN); n != 4 {
		t.Fatalf("pending for a: %d, want 4", n)
	}
	s = h.Reopen(t, s)
	if n, _ := s.PendingDeliveries(ctx, a.ARN); n != 4 {
		t.Fatalf("pending for a after restart: %d, want 4", n)
	}
	ls, err = s.LeaseDeliveries(ctx, "w", base.Add(10*time.Minute), time.Minute, 100)
	if err != nil || len(ls) != 6 {
		t.Fatalf("lease at +10m: %d %v", len(ls), err)
	}
	for _, l := range ls {
		if l.MessageID == "due-5" {
			t.Fatalf("retry due in an hour leased after 10 minutes")
		}
		if err := s.Ack(ctx, l); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.GetMessage(ctx, "due-5"); err != nil {
		t.Fatalf("message with a pending retry deleted: %v", err)
	}
	ls, err = s.LeaseDeliveries(ctx, "w", base.Add(time.Hour), time.Minute, 100)
	if err != nil || len(ls) != 1 || ls[0].MessageID != "due-5" || ls[0].Attempts != 1 {
		t.Fatalf("lease of the retry: %+v %v", ls, err)
	}
	if err := s.Ack(ctx, ls[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetMessage(ctx, "due-5"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("message kept after its last ack: %v", err)
	}
	if n, _ := s.PendingDeliveries(ctx, ""); n != 0 {
		t.Fatalf("pending at the end: %d", n)
	}
}
