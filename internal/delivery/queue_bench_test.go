package delivery_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/delivery"
	"github.com/sealpost/sealpost/internal/sns"
	"github.com/sealpost/sealpost/internal/snssig"
	"github.com/sealpost/sealpost/internal/sqs"
	"github.com/sealpost/sealpost/internal/store"
)

// countingQueues is a QueueSender that only counts (the engine's own cost).
type countingQueues struct {
	mu   sync.Mutex
	n    int
	next delivery.QueueSender // nil = only count
}

func (c *countingQueues) SendToQueue(ctx context.Context, m delivery.QueueMessage) error {
	c.mu.Lock()
	next := c.next
	c.mu.Unlock()
	if next != nil {
		if err := next.SendToQueue(ctx, m); err != nil {
			return err
		}
	}
	c.mu.Lock()
	c.n++
	c.mu.Unlock()
	return nil
}

func (c *countingQueues) count() int { c.mu.Lock(); defer c.mu.Unlock(); return c.n }

// TestQueueDeliveryThroughput (SEALPOST_BENCH=1): N 1 KiB messages are
// stored for one raw and one envelope sqs subscription, then the engine
// (Run, 64 workers) delivers them to a QueueSender that only counts: the
// engine's SNS→SQS deliveries per second on one node, without the queue's
// own write; then raw into the real sqs domain on the same store
// (unencrypted queue: no sealer here; SendMessage synced per message).
func TestQueueDeliveryThroughput(t *testing.T) {
	if os.Getenv("SEALPOST_BENCH") == "" {
		t.Skip("set SEALPOST_BENCH=1")
	}
	ctx := context.Background()
	q := &countingQueues{}
	st := openStore(t)
	svc := sns.New(st, sns.Options{PublicURL: "http://sealpost.invalid"})
	signer, err := snssig.LoadOrCreate(filepath.Join(t.TempDir(), "signing"))
	if err != nil {
		t.Fatal(err)
	}
	eng := delivery.New(st, svc, signer, slog.New(slog.DiscardHandler), delivery.Options{Queues: q})
	c := sns.Caller{Account: "000000000000", Region: "us-east-1", Principal: "arn:aws:iam::000000000000:root", Signed: true}
	for _, round := range []struct {
		name   string
		attrs  map[string]string
		domain bool
	}{{"raw", map[string]string{"RawMessageDelivery": "true"}, false}, {"envelope", nil, false},
		{"raw into the sqs domain", map[string]string{"RawMessageDelivery": "true"}, true}} {
		topic, err := svc.CreateTopic(ctx, c, fmt.Sprintf("bench-%d", len(round.name)), nil, nil, "")
		if err != nil {
			t.Fatal(err)
		}
		queue := qMain
		if round.domain {
			sq := sqs.New(st.(store.QueueStore), sqs.Options{PublicURL: "http://sealpost.invalid"})
			sr := &sqsRig{sq: sq, owner: &sqs.Caller{Account: "000000000000", Region: "us-east-1", Principal: "arn:aws:iam::000000000000:root", Signed: true, Secure: true, Authenticated: true}}
			sr.queue(t, "bench", topic)
			if _, err := sq.SendMessage(ctx, sr.owner, sq.QueueURL(store.QueueKey{Account: "000000000000", Region: "us-east-1", Name: "bench"}), sqs.SendInput{Body: "x"}); errors.Is(err, sqs.ErrUnsupportedOperation) {
				t.Log("sqs domain is the skeleton's stub: round skipped")
				continue
			}
			queue = "arn:aws:sqs:us-east-1:000000000000:bench"
			q.mu.Lock()
			q.next = domainQueues{sq}
			q.mu.Unlock()
		}
		if _, err := svc.Subscribe(ctx, c, topic, "sqs", queue, round.attrs); err != nil {
			t.Fatal(err)
		}
		const n = 5000
		body := strings.Repeat("x", 1024)
		var wg sync.WaitGroup
		for w := range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := w; i < n; i += 16 {
					if _, err := svc.Publish(ctx, c, sns.PublishInput{TopicARN: topic, Message: body}); err != nil {
						t.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		base := q.count()
		rctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		start := time.Now()
		go func() { defer close(done); eng.Run(rctx) }()
		for q.count()-base < n {
			time.Sleep(time.Millisecond)
		}
		el := time.Since(start)
		cancel()
		<-done
		t.Logf("%s: %d deliveries in %v: %.0f SNS→SQS deliveries/s through the engine", round.name, n, el, float64(n)/el.Seconds())
	}
}
