package pgstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sealpost/sealpost/internal/pgtest"
	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/store/storetest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// harness gives every Open a fresh database; Reopen closes the pool and opens
// the same database again.
type harness struct {
	mu   sync.Mutex
	dsns map[store.Store]string
}

func openStore(tb testing.TB, dsn string) *Store {
	tb.Helper()
	s, err := Open(context.Background(), dsn)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

func (h *harness) Open(t *testing.T) store.Store {
	dsn := pgtest.NewDatabase(t)
	s := openStore(t, dsn)
	h.mu.Lock()
	h.dsns[s] = dsn
	h.mu.Unlock()
	return s
}

func (h *harness) Reopen(t *testing.T, s store.Store) store.Store {
	h.mu.Lock()
	dsn := h.dsns[s]
	h.mu.Unlock()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	n := openStore(t, dsn)
	h.mu.Lock()
	h.dsns[n] = dsn
	h.mu.Unlock()
	return n
}

func TestConformance(t *testing.T) {
	storetest.Run(t, &harness{dsns: map[store.Store]string{}})
}

// fixture makes a topic with n subscriptions.
func fixture(t testing.TB, s store.Store, name string, n int) (store.Topic, []store.Subscription) {
	t.Helper()
	ctx := context.Background()
	arn := "arn:aws:sns:us-east-1:000000000000:" + name
	tp, err := s.CreateTopic(ctx, store.Topic{ARN: arn, Account: "000000000000", Region: "us-east-1", Name: name,
		Attributes: map[string]string{}, Tags: map[string]string{}, CreatedAt: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	var subs []store.Subscription
	for i := 0; i < n; i++ {
		sub, err := s.CreateSubscription(ctx, store.Subscription{ARN: fmt.Sprintf("%s:sub%d", arn, i), TopicARN: arn,
			Account: "000000000000", Region: "us-east-1", Protocol: "http",
			Endpoint: fmt.Sprintf("http://127.0.0.1/%d", i), Attributes: map[string]string{}, CreatedAt: time.Now()})
		if err != nil {
			t.Fatal(err)
		}
		subs = append(subs, sub)
	}
	return tp, subs
}

func pubs(tp store.Topic, subs []store.Subscription, prefix string, n, size int, at time.Time) []store.Publication {
	body := bytes.Repeat([]byte("x"), size)
	out := make([]store.Publication, 0, n)
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("%s-%06d", prefix, i)
		p := store.Publication{Message: store.Message{ID: id, TopicARN: tp.ARN, CreatedAt: at, Meta: []byte("{}"), Body: body}}
		for _, sub := range subs {
			p.Deliveries = append(p.Deliveries, store.Delivery{SubscriptionARN: sub.ARN, MessageID: id, NextAttemptAt: at})
		}
		out = append(out, p)
	}
	return out
}

func countRows(t *testing.T, dsn, table string) int {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM "+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestTwoNodes runs two stores ("nodes") on one database: each delivery is
// leased exactly once while leases hold, and a lease one node lets expire is
// taken over by the other.
func TestTwoNodes(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.NewDatabase(t)
	n1, n2 := openStore(t, dsn), openStore(t, dsn)
	tp, subs := fixture(t, n1, "nodes", 2)
	t0 := time.Now().UTC()
	const msgs = 150
	if err := n1.Publish(ctx, pubs(tp, subs, "m", msgs, 64, t0)); err != nil {
		t.Fatal(err)
	}

	// Both nodes lease concurrently, four workers each, until nothing is due.
	var mu sync.Mutex
	seen := map[string]int{}
	perNode := map[string]int{}
	var wg sync.WaitGroup
	for i, node := range []*Store{n1, n2} {
		for w := 0; w < 4; w++ {
			wg.Add(1)
			go func(node *Store, owner string) {
				defer wg.Done()
				for {
					ls, err := node.LeaseDeliveries(ctx, owner, t0.Add(time.Second), time.Hour, 9)
					if err != nil {
						t.Error(err)
						return
					}
					if len(ls) == 0 {
						return
					}
					mu.Lock()
					for _, l := range ls {
						seen[l.SubscriptionARN+"|"+l.MessageID]++
						perNode[owner[:2]]++
					}
					mu.Unlock()
				}
			}(node, fmt.Sprintf("n%d-w%d", i+1, w))
		}
	}
	wg.Wait()
	if len(seen) != 2*msgs {
		t.Fatalf("leased %d distinct deliveries, want %d", len(seen), 2*msgs)
	}
	for k, n := range seen {
		if n != 1 {
			t.Fatalf("%s leased %d times while its lease held", k, n)
		}
	}
	t.Logf("leases per node: %v", perNode)

	// Node 1 leases for 10s and "dies"; node 2 takes over once they expire.
	t1 := t0.Add(2 * time.Hour) // past the leases above
	dead, err := n1.LeaseDeliveries(ctx, "n1", t1, 10*time.Second, 1000)
	if err != nil || len(dead) != 2*msgs {
		t.Fatalf("n1 lease: %d %v", len(dead), err)
	}
	if early, _ := n2.LeaseDeliveries(ctx, "n2", t1.Add(9*time.Second), time.Minute, 1000); len(early) != 0 {
		t.Fatalf("n2 leased %d deliveries whose lease still holds", len(early))
	}
	over, err := n2.LeaseDeliveries(ctx, "n2", t1.Add(11*time.Second), time.Minute, 1000)
	if err != nil || len(over) != 2*msgs {
		t.Fatalf("n2 takeover: %d %v", len(over), err)
	}
	if err := n1.Retry(ctx, dead[0], 1, t1); !errors.Is(err, store.ErrLeaseLost) {
		t.Fatalf("retry by the dead node: %v", err)
	}
	if err := n1.Ack(ctx, dead[0]); !errors.Is(err, store.ErrLeaseLost) {
		t.Fatalf("ack by the dead node: %v", err)
	}
	// Node 2 acks everything concurrently: each message's two acks race on
	// the message row, and no message may be left behind.
	var acks sync.WaitGroup
	for w := 0; w < 8; w++ {
		acks.Add(1)
		go func(w int) {
			defer acks.Done()
			for i := w; i < len(over); i += 8 {
				if err := n2.Ack(ctx, over[i]); err != nil {
					t.Error(err)
				}
			}
		}(w)
	}
	acks.Wait()
	if n := countRows(t, dsn, "deliveries"); n != 0 {
		t.Fatalf("%d deliveries left", n)
	}
	if n := countRows(t, dsn, "messages"); n != 0 {
		t.Fatalf("%d messages leaked", n)
	}
}

// TestWakeAcrossNodes: a publish on one node wakes the other through NOTIFY.
func TestWakeAcrossNodes(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.NewDatabase(t)
	n1, n2 := openStore(t, dsn), openStore(t, dsn)
	tp, subs := fixture(t, n1, "wake", 1)
	// Drain the wake-up each listener sends once it is connected, then
	// publish until n2 hears of it (the first publish may precede LISTEN).
	timeout := time.After(20 * time.Second)
	for i := 0; ; i++ {
		select {
		case <-n2.DeliveriesReady():
		default:
		}
		if err := n1.Publish(ctx, pubs(tp, subs, fmt.Sprintf("w%d", i), 1, 8, time.Now())); err != nil {
			t.Fatal(err)
		}
		select {
		case <-n2.DeliveriesReady():
			return
		case <-time.After(time.Second):
		case <-timeout:
			t.Fatal("node 2 was never woken")
		}
	}
}

// TestConcurrentOpen: nodes starting at once migrate the schema once.
func TestConcurrentOpen(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	var wg sync.WaitGroup
	errs := make(chan error, 6)
	for i := 0; i < 6; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := Open(context.Background(), dsn)
			if err != nil {
				errs <- err
				return
			}
			s.Close()
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if n := countRows(t, dsn, "schema_migrations"); n != len(migrations) {
		t.Fatalf("%d migrations recorded, want %d", n, len(migrations))
	}
}

// TestDeleteRacesAck: deleting subscriptions while their deliveries are acked
// leaves neither deliveries nor messages behind.
func TestDeleteRacesAck(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.NewDatabase(t)
	s := openStore(t, dsn)
	tp, subs := fixture(t, s, "race", 3)
	now := time.Now()
	if err := s.Publish(ctx, pubs(tp, subs, "r", 60, 16, now)); err != nil {
		t.Fatal(err)
	}
	ls, err := s.LeaseDeliveries(ctx, "w", now.Add(time.Second), time.Hour, 1000)
	if err != nil || len(ls) != 180 {
		t.Fatalf("lease: %d %v", len(ls), err)
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		for _, l := range ls {
			if l.SubscriptionARN != subs[0].ARN {
				if err := s.Ack(ctx, l); err != nil {
					t.Error(err)
				}
			}
		}
	}()
	go func() {
		defer wg.Done()
		if err := s.DeleteSubscription(ctx, subs[0].ARN); err != nil {
			t.Error(err)
		}
	}()
	wg.Wait()
	if n := countRows(t, dsn, "deliveries"); n != 0 {
		t.Fatalf("%d deliveries left", n)
	}
	if n := countRows(t, dsn, "messages"); n != 0 {
		t.Fatalf("%d messages leaked", n)
	}
}

// TestLongEndpointAndTimes: endpoints longer than a btree entry allows are
// deduplicated, and times round-trip at microsecond precision.
func TestLongEndpointAndTimes(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, pgtest.NewDatabase(t))
	tp, _ := fixture(t, s, "long", 0)
	long := "https://example.com/" + string(bytes.Repeat([]byte("a"), 10000))
	exp := time.Date(2030, 1, 2, 3, 4, 5, 6789, time.UTC)
	sub := store.Subscription{ARN: tp.ARN + ":long", TopicARN: tp.ARN, Protocol: "https", Endpoint: long,
		Token: "tok", TokenExpiresAt: exp, Pending: true}
	if _, err := s.CreateSubscription(ctx, sub); err != nil {
		t.Fatal(err)
	}
	dup := sub
	dup.ARN += "2"
	if got, err := s.CreateSubscription(ctx, dup); !errors.Is(err, store.ErrExists) || got.ARN != sub.ARN {
		t.Fatalf("duplicate long endpoint: %v %v", got.ARN, err)
	}
	got, err := s.GetSubscription(ctx, sub.ARN)
	if err != nil || got.Endpoint != long || !got.TokenExpiresAt.Equal(exp.Truncate(time.Microsecond)) ||
		!got.CreatedAt.IsZero() || got.Attributes != nil || !got.Pending || got.Token != "tok" {
		t.Fatalf("round trip: %+v %v", got.TokenExpiresAt, err)
	}
}

// BenchmarkPublish: 16 concurrent publishers, 1 KiB messages, 2 deliveries
// each, one message per Publish call, every call durable.
func BenchmarkPublish(b *testing.B) {
	ctx := context.Background()
	s := openStore(b, pgtest.NewDatabase(b))
	tp, subs := fixture(b, s, "bench", 2)
	body := bytes.Repeat([]byte("b"), 1024)
	var seq atomic.Int64
	const publishers = 16
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < publishers; w++ {
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
					Deliveries: []store.Delivery{
						{SubscriptionARN: subs[0].ARN, MessageID: id, NextAttemptAt: now},
						{SubscriptionARN: subs[1].ARN, MessageID: id, NextAttemptAt: now},
					}}
				if err := s.Publish(ctx, []store.Publication{p}); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
}

// TestPublishAtomic: a Publish that fails part-way leaves nothing behind, and
// messages without deliveries are not stored.
func TestPublishAtomic(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.NewDatabase(t)
	s := openStore(t, dsn)
	tp, subs := fixture(t, s, "atomic", 2)
	now := time.Now()
	batch := pubs(tp, subs, "ok", 3, 8, now)
	bad := pubs(tp, subs, "bad", 1, 8, now)[0]
	bad.Deliveries = append(bad.Deliveries, bad.Deliveries[0]) // the same delivery twice
	if err := s.Publish(ctx, append(batch, bad)); err == nil {
		t.Fatal("Publish with a duplicate delivery succeeded")
	}
	if n := countRows(t, dsn, "messages"); n != 0 {
		t.Fatalf("failed Publish left %d messages", n)
	}
	if n := countRows(t, dsn, "deliveries"); n != 0 {
		t.Fatalf("failed Publish left %d deliveries", n)
	}
	lonely := store.Publication{Message: store.Message{ID: "lonely", TopicARN: tp.ARN, CreatedAt: now}}
	if err := s.Publish(ctx, append(batch, lonely)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetMessage(ctx, "lonely"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("message without deliveries stored: %v", err)
	}
	if n, err := s.PendingDeliveries(ctx, ""); n != 6 || err != nil {
		t.Fatalf("pending: %d %v", n, err)
	}
	m, err := s.GetMessage(ctx, "ok-000001")
	if err != nil || len(m.Body) != 8 || string(m.Meta) != "{}" || !m.CreatedAt.Equal(now.Truncate(time.Microsecond)) {
		t.Fatalf("GetMessage: %+v %v", m, err)
	}
}

// TestBacklogHeap: the PostgreSQL driver keeps nothing per pending delivery
// in memory. 20,000 due deliveries always; 100,000 also leased and retried
// with SEALPOST_BACKLOG_TEST=1 (minutes: one UPDATE per retry).
func TestBacklogHeap(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("short, or the race detector (its allocations count)")
	}
	n, retry := 20_000, false
	if os.Getenv("SEALPOST_BACKLOG_TEST") == "1" {
		n, retry = 100_000, true
	}
	s := openStore(t, pgtest.NewDatabase(t))
	start := time.Now()
	b := storetest.MeasureBacklog(t, s, n, retry)
	t.Logf("pgstore: %v (%v)", b, time.Since(start).Round(time.Second))
	// Nothing per delivery (the fixed buffers of the pool's connections
	// show in b.Pending, not in b.Marginal); allow for noise.
	if b.Marginal > 25 {
		t.Errorf("heap grows with the backlog: %v", b)
	}
}

// Share opens another store (a second node) on the database of s.
func (h *harness) Share(t *testing.T, s store.Store) store.Store {
	h.mu.Lock()
	dsn := h.dsns[s]
	h.mu.Unlock()
	return openStore(t, dsn)
}
