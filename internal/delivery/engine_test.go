package delivery_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/delivery"
	"github.com/sealpost/sealpost/internal/sns"
	"github.com/sealpost/sealpost/internal/snssig"
	"github.com/sealpost/sealpost/internal/store"
)

// fakeClock is a settable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// rig is an engine driven by Tick with a fake clock.
type rig struct {
	logs   *lockedBuffer
	st     store.Store
	signer *snssig.Signer
	clock  *fakeClock
	svc    *sns.Service
	eng    *delivery.Engine
	c      sns.Caller
	topic  string
}

func newRig(t *testing.T) *rig {
	return newRigWith(t, nil, delivery.Options{})
}

// newRigWith builds a rig whose engine sees the store through wrap (nil =
// as is) and runs with opts (Now and AttemptTimeout are set here).
func newRigWith(t *testing.T, wrap func(store.Store) store.Store, opts delivery.Options) *rig {
	t.Helper()
	st := openStore(t)
	clock := &fakeClock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	svc := sns.New(st, sns.Options{PublicURL: "http://sealpost.invalid", Now: clock.Now, CacheTTL: time.Nanosecond})
	signer, err := snssig.LoadOrCreate(filepath.Join(t.TempDir(), "signing"))
	if err != nil {
		t.Fatal(err)
	}
	est := st
	if wrap != nil {
		est = wrap(st)
	}
	opts.Now = clock.Now
	if opts.AttemptTimeout == 0 {
		opts.AttemptTimeout = 2 * time.Second
	}
	logs := &lockedBuffer{}
	eng := delivery.New(est, svc, signer, slog.New(slog.NewTextHandler(logs, nil)), opts)
	c := sns.Caller{Account: "000000000000", Region: "us-east-1", Principal: "arn:aws:iam::000000000000:root", Signed: true}
	arn, err := svc.CreateTopic(context.Background(), c, "rig", nil, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	return &rig{logs: logs, st: st, signer: signer, clock: clock, svc: svc, eng: eng, c: c, topic: arn}
}

// lockedBuffer collects log output.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// hook is an HTTP subscriber that answers with a programmable status and
// records every request with the fake time it arrived.
type hook struct {
	mu       sync.Mutex
	clock    *fakeClock
	status   func(n int) int // n = 1-based notification count
	notes    []time.Time
	bodies   []map[string]any
	raw      [][]byte
	headers  []http.Header
	token    string
	srv      *httptest.Server
	confirms int
}

func newHook(t *testing.T, clock *fakeClock, status func(int) int) *hook {
	h := &hook{clock: clock, status: status}
	h.srv = httptest.NewServer(h)
	t.Cleanup(h.srv.Close)
	return h
}

func (h *hook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	defer h.mu.Unlock()
	if r.Header.Get("x-amz-sns-message-type") == "SubscriptionConfirmation" {
		var m map[string]any
		json.Unmarshal(b, &m)
		h.token, _ = m["Token"].(string)
		h.confirms++
		return
	}
	h.notes = append(h.notes, h.clock.Now())
	var m map[string]any
	json.Unmarshal(b, &m)
	h.bodies = append(h.bodies, m)
	h.raw = append(h.raw, b)
	h.headers = append(h.headers, r.Header.Clone())
	w.WriteHeader(h.status(len(h.notes)))
}

func (h *hook) count() int { h.mu.Lock(); defer h.mu.Unlock(); return len(h.notes) }

// subscribe subscribes the hook and confirms it with the token it received.
func (r *rig) subscribe(t *testing.T, h *hook, attrs map[string]string) string {
	t.Helper()
	ctx := context.Background()
	res, err := r.svc.Subscribe(ctx, r.c, r.topic, "http", h.srv.URL+"/hook", attrs)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.eng.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	h.mu.Lock()
	token := h.token
	h.mu.Unlock()
	if token == "" {
		t.Fatal("no SubscriptionConfirmation received")
	}
	if _, err := r.svc.ConfirmSubscription(ctx, r.c, r.topic, token, false); err != nil {
		t.Fatal(err)
	}
	return res.ARN
}

func (r *rig) publish(t *testing.T, msg string, attrs map[string]sns.MessageAttribute) string {
	t.Helper()
	out, err := r.svc.Publish(context.Background(), r.c, sns.PublishInput{TopicARN: r.topic, Message: msg, MessageAttributes: attrs})
	if err != nil {
		t.Fatal(err)
	}
	return out.MessageID
}

// TestRetryScheduleFollowsPolicy checks every attempt time against the
// schedule of a delivery policy using all four phases, then the give-up.
func TestRetryScheduleFollowsPolicy(t *testing.T) {
	for _, backoff := range []string{"linear", "arithmetic", "geometric", "exponential"} {
		t.Run(backoff, func(t *testing.T) {
			ctx := context.Background()
			r := newRig(t)
			h := newHook(t, r.clock, func(int) int { return 503 })
			policy := `{"healthyRetryPolicy":{"minDelayTarget":2,"maxDelayTarget":30,"numRetries":9,"numNoDelayRetries":2,"numMinDelayRetries":2,"numMaxDelayRetries":1,"backoffFunction":"` + backoff + `"}}`
			sub := r.subscribe(t, h, map[string]string{"DeliveryPolicy": policy})
			r.publish(t, "retry me", nil)
			start := r.clock.Now()
			// expected attempt offsets: first attempt, then each retry's delay
			p, _ := r.svc.EffectiveDeliveryPolicy(ctx, mustSub(t, r, sub))
			want := []time.Duration{0}
			at := time.Duration(0)
			for n := 1; ; n++ {
				d, ok := p.Retry.Delay(n)
				if !ok {
					break
				}
				at += d
				want = append(want, at)
			}
			if len(want) != 10 {
				t.Fatalf("schedule has %d attempts, want 10", len(want))
			}
			// Attempts due at the same instant (immediate retries) happen
			// together; before each due time none of its attempts may run.
			for i, off := range want {
				if i > 0 && off == want[i-1] {
					continue
				}
				before := 0
				through := 0
				for _, w := range want {
					if w < off {
						before++
					}
					if w <= off {
						through++
					}
				}
				r.clock.Set(start.Add(off).Add(-time.Millisecond))
				r.eng.Tick(ctx)
				if h.count() != before {
					t.Fatalf("at %v-1ms: %d attempts, want %d", off, h.count(), before)
				}
				r.clock.Set(start.Add(off))
				r.eng.Tick(ctx)
				if h.count() != through {
					t.Fatalf("at %v: %d attempts, want %d", off, h.count(), through)
				}
			}
			for i, at := range h.notes {
				if at.Sub(start) != want[i] {
					t.Fatalf("attempt %d at +%v, want +%v", i+1, at.Sub(start), want[i])
				}
			}
			r.clock.Set(start.Add(2 * time.Hour))
			r.eng.Tick(ctx)
			if h.count() != 10 {
				t.Fatalf("%d attempts after the schedule ended", h.count())
			}
			st := r.eng.Stats(sub)
			if st.Failed != 10 || st.Retried != 9 || st.DeadLettered != 1 || st.Delivered != 0 {
				t.Fatalf("counters %+v", st)
			}
			if n, _ := r.svc.Store().PendingDeliveries(ctx, sub); n != 0 {
				t.Fatalf("%d deliveries left", n)
			}
			// every retry carries the same message id
			for _, hd := range h.headers {
				if hd.Get("x-amz-sns-message-id") != h.headers[0].Get("x-amz-sns-message-id") {
					t.Fatal("message id changed across retries")
				}
			}
		})
	}
}

func mustSub(t *testing.T, r *rig, arn string) storeSub {
	s, err := r.svc.Store().GetSubscription(context.Background(), arn)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestDefaultPolicy: AWS's default is 3 retries 20 s apart.
func TestDefaultPolicy(t *testing.T) {
	ctx := context.Background()
	r := newRig(t)
	h := newHook(t, r.clock, func(int) int { return 500 })
	r.subscribe(t, h, nil)
	r.publish(t, "m", nil)
	start := r.clock.Now()
	r.eng.Tick(ctx)
	for i := 1; i <= 3; i++ {
		r.clock.Set(start.Add(time.Duration(i) * 20 * time.Second))
		r.eng.Tick(ctx)
	}
	r.clock.Set(start.Add(time.Hour))
	r.eng.Tick(ctx)
	if h.count() != 4 {
		t.Fatalf("%d attempts, want 4", h.count())
	}
	for i, at := range h.notes {
		if got := at.Sub(start); got != time.Duration(i)*20*time.Second {
			t.Fatalf("attempt %d at +%v", i+1, got)
		}
	}
}

func TestNonRetryableResponse(t *testing.T) {
	ctx := context.Background()
	r := newRig(t)
	h := newHook(t, r.clock, func(int) int { return 403 })
	sub := r.subscribe(t, h, nil)
	r.publish(t, "m", nil)
	r.eng.Tick(ctx)
	r.clock.Set(r.clock.Now().Add(time.Hour))
	r.eng.Tick(ctx)
	if h.count() != 1 {
		t.Fatalf("%d attempts for a 403, want 1", h.count())
	}
	if st := r.eng.Stats(sub); st.DeadLettered != 1 || st.Retried != 0 {
		t.Fatalf("counters %+v", st)
	}
}

func TestEndpointDownThenBack(t *testing.T) {
	ctx := context.Background()
	r := newRig(t)
	h := newHook(t, r.clock, func(n int) int {
		if n <= 3 {
			return 502
		}
		return 200
	})
	sub := r.subscribe(t, h, map[string]string{"DeliveryPolicy": `{"healthyRetryPolicy":{"minDelayTarget":1,"maxDelayTarget":1,"numRetries":5}}`})
	r.publish(t, "m", nil)
	for i := 0; i < 10; i++ {
		r.eng.Tick(ctx)
		r.clock.Set(r.clock.Now().Add(time.Second))
	}
	if h.count() != 4 {
		t.Fatalf("%d attempts, want 4", h.count())
	}
	if st := r.eng.Stats(sub); st.Delivered != 1 || st.Failed != 3 || st.Retried != 3 {
		t.Fatalf("counters %+v", st)
	}
	// a server that is not listening at all: connection errors are retried
	dead := newHook(t, r.clock, func(int) int { return 200 })
	sub2 := r.subscribe(t, dead, nil)
	dead.srv.Close()
	r.publish(t, "m2", nil)
	r.eng.Tick(ctx)
	if st := r.eng.Stats(sub2); st.Failed != 1 || st.Retried != 1 {
		t.Fatalf("connection refused counters %+v", st)
	}
}

func TestThrottle(t *testing.T) {
	ctx := context.Background()
	r := newRig(t)
	h := newHook(t, r.clock, func(int) int { return 200 })
	r.subscribe(t, h, map[string]string{"DeliveryPolicy": `{"throttlePolicy":{"maxReceivesPerSecond":2}}`})
	for i := 0; i < 6; i++ {
		r.publish(t, "m", nil)
	}
	r.eng.Tick(ctx)
	if n := h.count(); n != 1 {
		t.Fatalf("%d delivered in the first instant, want 1", n)
	}
	for step := 0; step < 10 && h.count() < 6; step++ {
		r.clock.Set(r.clock.Now().Add(500 * time.Millisecond))
		r.eng.Tick(ctx)
	}
	if h.count() != 6 {
		t.Fatalf("delivered %d of 6", h.count())
	}
	// at most 2 per second of fake time
	for i := 2; i < len(h.notes); i++ {
		if h.notes[i].Sub(h.notes[i-2]) < time.Second {
			t.Fatalf("more than 2 deliveries within a second: %v", h.notes)
		}
	}
}

func TestFilterPolicyBeforeFanOut(t *testing.T) {
	ctx := context.Background()
	r := newRig(t)
	h := newHook(t, r.clock, func(int) int { return 200 })
	sub := r.subscribe(t, h, map[string]string{"FilterPolicy": `{"store":["example_corp"],"price_usd":[{"numeric":[">=",100]}]}`})
	r.publish(t, "match", map[string]sns.MessageAttribute{
		"store": {DataType: "String", StringValue: "example_corp"}, "price_usd": {DataType: "Number", StringValue: "210.75"}})
	r.publish(t, "cheap", map[string]sns.MessageAttribute{
		"store": {DataType: "String", StringValue: "example_corp"}, "price_usd": {DataType: "Number", StringValue: "99"}})
	r.publish(t, "no attributes", nil)
	if n, _ := r.svc.Store().PendingDeliveries(ctx, sub); n != 1 {
		t.Fatalf("%d delivery rows written, want 1 (filtered messages cost nothing)", n)
	}
	r.eng.Tick(ctx)
	if h.count() != 1 || h.bodies[0]["Message"] != "match" {
		t.Fatalf("delivered %v", h.bodies)
	}
	// body scope
	if err := r.svc.SetSubscriptionAttributes(ctx, r.c, sub, "FilterPolicyScope", "MessageBody"); err != nil {
		t.Fatal(err)
	}
	if err := r.svc.SetSubscriptionAttributes(ctx, r.c, sub, "FilterPolicy", `{"order":{"kind":[{"prefix":"big"}]}}`); err != nil {
		t.Fatal(err)
	}
	r.publish(t, `{"order":{"kind":"bigbox"}}`, nil)
	r.publish(t, `{"order":{"kind":"small"}}`, nil)
	r.publish(t, `not json`, nil)
	r.eng.Tick(ctx)
	if h.count() != 2 || h.bodies[1]["Message"] != `{"order":{"kind":"bigbox"}}` {
		t.Fatalf("body-scope deliveries %d", h.count())
	}
}
