package sns

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/store/pebblestore"
)

type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func (s *Service) cacheLen() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.cache)
}

// twoNodes returns two Services over one store (two Sealpost nodes) sharing
// an injected clock, with a one-second cache.
func twoNodes(t *testing.T) (a, b *Service, clk *testClock) {
	st, err := pebblestore.Open(filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	clk = &testClock{t: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)}
	opts := Options{PublicURL: "http://x", Now: clk.Now, CacheTTL: time.Second}
	return New(st, opts), New(st, opts), clk
}

var caller = Caller{Account: "000000000000", Region: "us-east-1", Signed: true}

// TestCacheForgetsTopicDeletedElsewhere: a topic deleted through node A
// stays in node B's cache at most CacheTTL; then B's publish finds it gone
// and B holds nothing for it.
func TestCacheForgetsTopicDeletedElsewhere(t *testing.T) {
	ctx := context.Background()
	a, b, clk := twoNodes(t)
	arn, err := a.CreateTopic(ctx, caller, "t", nil, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Publish(ctx, caller, PublishInput{TopicARN: arn, Message: "m"}); err != nil {
		t.Fatal(err)
	}
	if err := a.DeleteTopic(ctx, caller, arn); err != nil {
		t.Fatal(err)
	}
	if b.cacheLen() != 1 {
		t.Fatalf("node B caches %d topics, want 1 (within the TTL)", b.cacheLen())
	}
	clk.Add(time.Second)
	_, err = b.Publish(ctx, caller, PublishInput{TopicARN: arn, Message: "m"})
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("publish to a topic deleted elsewhere, after the TTL: %v", err)
	}
	if n := b.cacheLen(); n != 0 {
		t.Fatalf("node B still caches %d entries for a deleted topic", n)
	}
}

// TestCacheDoesNotGrow: with topics created, used and deleted through the
// other node, or through this one, the cache holds only recent topics.
func TestCacheDoesNotGrow(t *testing.T) {
	ctx := context.Background()
	a, b, clk := twoNodes(t)
	for i := 0; i < 100; i++ {
		arn, err := a.CreateTopic(ctx, caller, fmt.Sprint("churn", i), nil, nil, "")
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range []*Service{a, b} {
			if _, err := n.Publish(ctx, caller, PublishInput{TopicARN: arn, Message: "m"}); err != nil {
				t.Fatal(err)
			}
		}
		if err := a.DeleteTopic(ctx, caller, arn); err != nil {
			t.Fatal(err)
		}
		clk.Add(100 * time.Millisecond)
	}
	if n := a.cacheLen(); n != 0 {
		t.Errorf("node A (which deleted them) caches %d entries", n)
	}
	// Node B never touches those topics again; its sweep drops them.
	if n := b.cacheLen(); n > 20 {
		t.Errorf("node B caches %d entries of deleted topics, want only the last TTL's", n)
	}
	clk.Add(2 * time.Second)
	keep, err := a.CreateTopic(ctx, caller, "keep", nil, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Publish(ctx, caller, PublishInput{TopicARN: keep, Message: "m"}); err != nil {
		t.Fatal(err)
	}
	if n := b.cacheLen(); n != 1 {
		t.Errorf("node B caches %d entries, want 1 (the live topic)", n)
	}
}

// TestCacheInvalidationDuringLoad: a load that raced with an invalidation
// is not cached, and the entry protecting it goes away with it.
func TestCacheInvalidationDuringLoad(t *testing.T) {
	ctx := context.Background()
	a, _, _ := twoNodes(t)
	arn, err := a.CreateTopic(ctx, caller, "race", nil, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			for j := 0; j < 50; j++ {
				if i%2 == 0 {
					a.invalidate(arn)
				} else if _, err := a.topicState(ctx, arn); err != nil {
					t.Error(err)
				}
			}
		}(i)
	}
	wg.Wait()
	a.invalidate(arn)
	if n := a.cacheLen(); n != 0 {
		t.Fatalf("%d entries left after the last invalidation", n)
	}
}
