package delivery_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/delivery"
	"github.com/sealpost/sealpost/internal/netguard"
	"github.com/sealpost/sealpost/internal/store"
)

// leaseCounter is the engine's view of the store, counting leases handed out.
type leaseCounter struct {
	store.Store
	leases atomic.Int64
	calls  atomic.Int64
	// per delivery, how often it was leased
	mu  sync.Mutex
	per map[string]int
}

func (c *leaseCounter) LeaseDeliveries(ctx context.Context, owner string, now time.Time, d time.Duration, max int) ([]store.Lease, error) {
	ls, err := c.Store.LeaseDeliveries(ctx, owner, now, d, max)
	c.leases.Add(int64(len(ls)))
	c.mu.Lock()
	if c.per == nil {
		c.per = map[string]int{}
	}
	for _, l := range ls {
		c.per[l.SubscriptionARN+" "+l.MessageID]++
	}
	c.mu.Unlock()
	c.calls.Add(1)
	return ls, err
}

func (c *leaseCounter) leasedOf(sub, msg string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.per[sub+" "+msg]
}

func countingRig(t *testing.T, opts delivery.Options) (*rig, *leaseCounter) {
	lc := &leaseCounter{}
	r := newRigWith(t, func(st store.Store) store.Store { lc.Store = st; return lc }, opts)
	return r, lc
}

// TestThrottleLeasesEachDeliveryOnce: under maxReceivesPerSecond a waiting
// delivery is rescheduled to its own slot, so it is leased about once per
// attempt (before: the whole backlog was leased again at every slot,
// 5,050 leases for 100 messages at 1/s), and the throttled counter counts
// deliveries that waited, not re-leases.
func TestThrottleLeasesEachDeliveryOnce(t *testing.T) {
	for _, c := range []struct{ msgs, rate int }{{100, 1}, {40, 5}} {
		t.Run(fmt.Sprintf("%d_at_%d", c.msgs, c.rate), func(t *testing.T) {
			ctx := context.Background()
			r, lc := countingRig(t, delivery.Options{})
			h := newHook(t, r.clock, func(int) int { return 200 })
			sub := r.subscribe(t, h, map[string]string{"DeliveryPolicy": fmt.Sprintf(`{"throttlePolicy":{"maxReceivesPerSecond":%d}}`, c.rate)})
			for i := 0; i < c.msgs; i++ {
				r.publish(t, "m", nil)
			}
			lc.leases.Store(0)
			step := time.Second / time.Duration(c.rate)
			for i := 0; i < 3*c.msgs && h.count() < c.msgs; i++ {
				if _, err := r.eng.Tick(ctx); err != nil {
					t.Fatal(err)
				}
				r.clock.Set(r.clock.Now().Add(step))
			}
			if h.count() != c.msgs {
				t.Fatalf("delivered %d of %d", h.count(), c.msgs)
			}
			leases := lc.leases.Load()
			t.Logf("%d messages at %d/s: %d leases", c.msgs, c.rate, leases)
			if leases > int64(2*c.msgs) {
				t.Fatalf("%d leases for %d messages, want at most %d", leases, c.msgs, 2*c.msgs)
			}
			if st := r.eng.Stats(sub); st.Throttled != int64(c.msgs-1) || st.Delivered != int64(c.msgs) {
				t.Fatalf("counters %+v, want %d throttled", st, c.msgs-1)
			}
			// still at most rate per second of fake time
			for i := c.rate; i < len(h.notes); i++ {
				if h.notes[i].Sub(h.notes[i-c.rate]) < time.Second {
					t.Fatalf("more than %d deliveries within a second at %d", c.rate, i)
				}
			}
		})
	}
}

// blockingSub is an HTTP subscriber whose notifications wait on release.
type blockingSub struct {
	srv     *httptest.Server
	arrived atomic.Int64
	release chan struct{}
	once    sync.Once
	mu      sync.Mutex
	token   string
}

func newBlockingSub(t *testing.T) *blockingSub {
	b := &blockingSub{release: make(chan struct{})}
	b.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.Header.Get("x-amz-sns-message-type") == "SubscriptionConfirmation" {
			var m map[string]any
			json.Unmarshal(body, &m)
			b.mu.Lock()
			b.token, _ = m["Token"].(string)
			b.mu.Unlock()
			return
		}
		b.arrived.Add(1)
		<-b.release
	}))
	t.Cleanup(b.srv.Close)
	t.Cleanup(b.free) // before Close, which waits for handlers
	return b
}

func (b *blockingSub) free() { b.once.Do(func() { close(b.release) }) }

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// TestLeaseExpiryDuringAttemptNoDuplicate: a lease shorter than the attempt
// expires while the POST is in flight; the node leases the delivery again
// but must not start a second, concurrent POST of it.
func TestLeaseExpiryDuringAttemptNoDuplicate(t *testing.T) {
	ctx := context.Background()
	r, lc := countingRig(t, delivery.Options{LeaseFor: time.Second, AttemptTimeout: time.Minute, PollInterval: 2 * time.Millisecond, Workers: 4})
	b := newBlockingSub(t)
	res, err := r.svc.Subscribe(ctx, r.c, r.topic, "http", b.srv.URL+"/slow", nil)
	if err != nil {
		t.Fatal(err)
	}
	r.eng.Tick(ctx)
	b.mu.Lock()
	token := b.token
	b.mu.Unlock()
	if _, err := r.svc.ConfirmSubscription(ctx, r.c, r.topic, token, false); err != nil {
		t.Fatal(err)
	}
	msg := r.publish(t, "once", nil)

	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- r.eng.Run(runCtx) }()
	t.Cleanup(func() { b.free(); stop(); <-done })
	waitFor(t, "the first POST", func() bool { return b.arrived.Load() == 1 })
	r.clock.Set(r.clock.Now().Add(3 * time.Second)) // the lease has expired
	waitFor(t, "the re-lease", func() bool { return lc.leasedOf(res.ARN, msg) >= 2 })
	calls := lc.calls.Load()
	waitFor(t, "two more polls", func() bool { return lc.calls.Load() >= calls+2 })
	time.Sleep(50 * time.Millisecond) // a second POST, if started, has arrived by now
	if n := b.arrived.Load(); n != 1 {
		t.Fatalf("%d concurrent POSTs of one delivery", n)
	}
	b.free()
	waitFor(t, "the ack", func() bool {
		n, _ := r.svc.Store().PendingDeliveries(ctx, res.ARN)
		return n == 0
	})
	if n := b.arrived.Load(); n != 1 {
		t.Fatalf("%d POSTs of one delivery", n)
	}
	if st := r.eng.Stats(res.ARN); st.Delivered != 1 {
		t.Fatalf("counters %+v", st)
	}
}

// TestPruneForgetsDeletedSubscriptions: counters and throttle buckets of
// deleted subscriptions are dropped; the totals keep their counts.
func TestPruneForgetsDeletedSubscriptions(t *testing.T) {
	ctx := context.Background()
	r := newRigWith(t, nil, delivery.Options{AttemptTimeout: time.Minute}) // a loaded machine is slow
	h := newHook(t, r.clock, func(int) int { return 200 })
	const n = 30
	var subs []string
	for i := 0; i < n; i++ {
		res, err := r.svc.Subscribe(ctx, r.c, r.topic, "http", fmt.Sprintf("%s/hook%d", h.srv.URL, i),
			map[string]string{"DeliveryPolicy": `{"throttlePolicy":{"maxReceivesPerSecond":1}}`})
		if err != nil {
			t.Fatal(err)
		}
		r.eng.Tick(ctx)
		h.mu.Lock()
		token := h.token
		h.mu.Unlock()
		if _, err := r.svc.ConfirmSubscription(ctx, r.c, r.topic, token, false); err != nil {
			t.Fatal(err)
		}
		subs = append(subs, res.ARN)
	}
	r.publish(t, "m", nil)
	r.eng.Tick(ctx)
	if h.count() != n {
		t.Logf("stats %+v", r.eng.AllStats())
	}
	if h.count() != n || len(r.eng.AllStats()) != n || r.eng.BucketCount() != n {
		t.Fatalf("delivered %d, %d counters, %d buckets", h.count(), len(r.eng.AllStats()), r.eng.BucketCount())
	}
	for _, s := range subs[:n-1] {
		if err := r.svc.Unsubscribe(ctx, r.c, s); err != nil {
			t.Fatal(err)
		}
	}
	r.eng.Tick(ctx) // UnsubscribeConfirmations
	if got := r.eng.Prune(ctx); got != n-1 {
		t.Fatalf("pruned %d subscriptions, want %d", got, n-1)
	}
	if st := r.eng.AllStats(); len(st) != 1 || st[subs[n-1]].Delivered != 1 {
		t.Fatalf("counters left: %v", st)
	}
	if tot := r.eng.Totals(); tot.Delivered != n {
		t.Fatalf("totals %+v, want %d delivered", tot, n)
	}
	// the live subscription's bucket is idle once its slot has passed
	r.clock.Set(r.clock.Now().Add(time.Second))
	r.eng.Prune(ctx)
	if b := r.eng.BucketCount(); b != 0 {
		t.Fatalf("%d buckets left", b)
	}
}

// TestParkedSQSDeliveryBounded: a delivery to sqs (no transport yet) is
// looked at once an hour, not every 5 minutes, and dropped 14 days after
// publication.
func TestParkedSQSDeliveryBounded(t *testing.T) {
	ctx := context.Background()
	r, lc := countingRig(t, delivery.Options{})
	res, err := r.svc.Subscribe(ctx, r.c, r.topic, "sqs", "arn:aws:sqs:us-east-1:000000000000:q", nil)
	if err != nil {
		t.Fatal(err)
	}
	r.publish(t, "parked", nil)
	start := r.clock.Now()
	for r.clock.Now().Before(start.Add(48 * time.Hour)) {
		r.eng.Tick(ctx)
		r.clock.Set(r.clock.Now().Add(5 * time.Minute))
	}
	if n := lc.leases.Load(); n > 49 {
		t.Fatalf("%d leases of one parked delivery in 2 days, want at most 49", n)
	}
	for r.clock.Now().Before(start.Add(14*24*time.Hour + time.Hour)) {
		r.eng.Tick(ctx)
		r.clock.Set(r.clock.Now().Add(time.Hour))
	}
	if n, _ := r.svc.Store().PendingDeliveries(ctx, res.ARN); n != 0 {
		t.Fatalf("%d parked deliveries left after 14 days", n)
	}
	if st := r.eng.Stats(res.ARN); st.Expired != 1 {
		t.Fatalf("counters %+v", st)
	}
	t.Logf("one parked delivery over 14 days: %d leases", lc.leases.Load())
}

// TestGuardRefusesAtDial: a host name that resolves to a denied address is
// refused when the connection is made; no request reaches the listener and
// the delivery stays for a retry.
func TestGuardRefusesAtDial(t *testing.T) {
	ctx := context.Background()
	deny, err := netguard.ParseList(netguard.DefaultDeny + ",127.0.0.0/8,::1")
	if err != nil {
		t.Fatal(err)
	}
	r := newRigWith(t, nil, delivery.Options{Guard: netguard.New(nil, deny)})
	h := newHook(t, r.clock, func(int) int { return 200 })
	endpoint := strings.Replace(h.srv.URL, "127.0.0.1", "localhost", 1) + "/hook"
	res, err := r.svc.Subscribe(ctx, r.c, r.topic, "http", endpoint, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 4; i++ {
		r.eng.Tick(ctx)
		if i == 0 {
			if n, _ := r.svc.Store().PendingDeliveries(ctx, res.ARN); n != 1 {
				t.Fatalf("%d pending confirmations after a refused connection, want 1 (retried)", n)
			}
		}
		r.clock.Set(r.clock.Now().Add(20 * time.Second))
	}
	h.mu.Lock()
	confirms := h.confirms
	h.mu.Unlock()
	if confirms != 0 || h.count() != 0 {
		t.Fatalf("%d confirmations and %d notifications reached a denied address", confirms, h.count())
	}
}
