package sns

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/store/pebblestore"
)

// pausingStore lets a test act between the moment an UpdateSubscription is
// in the store (visible to every reader) and the moment it returns.
type pausingStore struct {
	store.Store
	committed chan struct{}
	release   chan struct{}
}

func (p *pausingStore) UpdateSubscription(ctx context.Context, arn string, fn func(*store.Subscription) error) (store.Subscription, error) {
	sub, err := p.Store.UpdateSubscription(ctx, arn, fn)
	if p.committed != nil {
		p.committed <- struct{}{}
		<-p.release
	}
	return sub, err
}

// TestConfirmVisibleMeansDelivered: once the confirmation is in the store
// (GetSubscriptionAttributes, which reads the store, answers
// PendingConfirmation false), a publish on the same node must see the
// subscription confirmed, even while ConfirmSubscription has not returned
// yet (a loaded machine can stall it between its write and its cache
// invalidation; the e2e tests saw messages published right after a
// confirmation go nowhere).
func TestConfirmVisibleMeansDelivered(t *testing.T) {
	ctx := context.Background()
	st, err := pebblestore.Open(filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ps := &pausingStore{Store: st}
	s := New(ps, Options{PublicURL: "http://x", CacheTTL: time.Hour})
	arn, err := s.CreateTopic(ctx, caller, "t", nil, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	sub, err := s.Subscribe(ctx, caller, arn, "http", "http://127.0.0.1:1/", nil)
	if err != nil {
		t.Fatal(err)
	}
	stored, err := st.GetSubscription(ctx, sub.ARN)
	if err != nil {
		t.Fatal(err)
	}
	// The topic's state (subscription pending) is cached.
	if _, err := s.Publish(ctx, caller, PublishInput{TopicARN: arn, Message: "before"}); err != nil {
		t.Fatal(err)
	}

	ps.committed, ps.release = make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		_, err := s.ConfirmSubscription(ctx, Caller{Account: "000000000000", Region: "us-east-1"}, arn, stored.Token, false)
		done <- err
	}()
	<-ps.committed
	got, err := st.GetSubscription(ctx, sub.ARN)
	if err != nil || got.Pending {
		t.Fatalf("the store does not show the confirmation yet: %+v %v", got, err)
	}
	ts, err := s.topicState(ctx, arn)
	if err != nil {
		t.Fatal(err)
	}
	pending := len(ts.subs) != 1 || ts.subs[0].sub.Pending
	close(ps.release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if pending {
		t.Fatal("with the confirmation in the store, Publish still used the cached state where the subscription is pending: the message would go nowhere")
	}
}
