package sns_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/sns"
	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/store/pebblestore"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func newService(t *testing.T) (*sns.Service, *clock, sns.Caller, string) {
	st, err := pebblestore.Open(filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	clk := &clock{t: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)}
	svc := sns.New(st, sns.Options{PublicURL: "http://x", Now: clk.Now, CacheTTL: time.Nanosecond})
	c := sns.Caller{Account: "000000000000", Region: "us-east-1", Signed: true}
	arn, err := svc.CreateTopic(context.Background(), c, "t", nil, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	return svc, clk, c, arn
}

func TestTokenAndPendingExpiry(t *testing.T) {
	ctx := context.Background()
	svc, clk, c, topic := newService(t)
	res, err := svc.Subscribe(ctx, c, topic, "http", "http://127.0.0.1:1/a", nil)
	if err != nil || !res.Pending {
		t.Fatalf("%+v %v", res, err)
	}
	sub, _ := svc.Store().GetSubscription(ctx, res.ARN)
	clk.Add(49 * time.Hour)
	if _, err := svc.ConfirmSubscription(ctx, c, topic, sub.Token, false); err == nil {
		t.Fatal("a 49-hour-old token confirmed the subscription")
	}
	clk.Add(24 * time.Hour) // 73 h: AWS deletes unconfirmed subscriptions after three days
	if _, err := svc.Publish(ctx, c, sns.PublishInput{TopicARN: topic, Message: "m"}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Store().GetSubscription(ctx, res.ARN); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unconfirmed subscription still there after 73 h: %v", err)
	}
}

func TestConfirmedSubscriptionNeverExpires(t *testing.T) {
	ctx := context.Background()
	svc, clk, c, topic := newService(t)
	res, _ := svc.Subscribe(ctx, c, topic, "http", "http://127.0.0.1:1/a", nil)
	sub, _ := svc.Store().GetSubscription(ctx, res.ARN)
	if _, err := svc.ConfirmSubscription(ctx, c, topic, sub.Token, false); err != nil {
		t.Fatal(err)
	}
	clk.Add(30 * 24 * time.Hour)
	if _, err := svc.Publish(ctx, c, sns.PublishInput{TopicARN: topic, Message: "m"}); err != nil {
		t.Fatal(err)
	}
	if n, _ := svc.Store().PendingDeliveries(ctx, res.ARN); n != 2 { // the confirmation and the notification
		t.Fatalf("pending %d", n)
	}
}

// TestBodyFiltersParseBodyOnce: with 50 body-scope filters, a 200 KiB
// publish allocates about what it does with attribute-scope filters (the
// body stored once), not a copy and a parse per subscription (10 MiB).
func TestBodyFiltersParseBodyOnce(t *testing.T) {
	ctx := context.Background()
	svc, _, c, topic := newService(t)
	for i := 0; i < 50; i++ {
		attrs := map[string]string{"FilterPolicy": fmt.Sprintf(`{"kind":["k%d"]}`, i), "FilterPolicyScope": "MessageBody"}
		if _, err := svc.Subscribe(ctx, c, topic, "sqs", fmt.Sprintf("arn:aws:sqs:us-east-1:000000000000:q%d", i), attrs); err != nil {
			t.Fatal(err)
		}
	}
	body := `{"kind":"k7","pad":"` + strings.Repeat("x", 200<<10) + `"}`
	in := sns.PublishInput{TopicARN: topic, Message: body}
	if _, err := svc.Publish(ctx, c, in); err != nil {
		t.Fatal(err)
	}
	const runs = 5
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for i := 0; i < runs; i++ {
		if _, err := svc.Publish(ctx, c, in); err != nil {
			t.Fatal(err)
		}
	}
	runtime.ReadMemStats(&after)
	perPublish := (after.TotalAlloc - before.TotalAlloc) / runs
	if limit := uint64(10 * len(body)); perPublish > limit {
		t.Errorf("a publish allocates %d bytes, want at most %d (10 x the body)", perPublish, limit)
	}
	// The filters still select: only q7's subscription got the messages.
	if n, _ := svc.Store().PendingDeliveries(ctx, ""); n != runs+1 {
		t.Fatalf("pending deliveries %d, want %d", n, runs+1)
	}
}

func TestClip(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"short", 64, "short"},
		{"abcdef", 3, "abc..."},
		{"a\x00b\x7fc\n", 64, "a?b?c?"},
		{"\xff\xfeok", 64, "?ok"}, // a run of bad bytes is one ?
		{"aéé", 2, "a..."},        // never cuts a rune in half
		{"aéé", 3, "aé..."},
	} {
		if got := sns.Clip(tc.in, tc.n); got != tc.want {
			t.Errorf("Clip(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}
