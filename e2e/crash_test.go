package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
)

// sink is an HTTP subscriber that confirms subscriptions by visiting the
// SubscribeURL and counts deliveries per message id.
type sink struct {
	mu   sync.Mutex
	got  map[string]int
	srv  *httptest.Server
	hits int
}

func newSink(t *testing.T) *sink {
	s := &sink{got: map[string]int{}}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		switch r.Header.Get("x-amz-sns-message-type") {
		case "SubscriptionConfirmation":
			var m struct{ SubscribeURL string }
			json.Unmarshal(b, &m)
			go func() {
				if resp, err := http.Get(m.SubscribeURL); err == nil {
					resp.Body.Close()
				}
			}()
		case "Notification":
			s.mu.Lock()
			s.got[r.Header.Get("x-amz-sns-message-id")]++
			s.hits++
			s.mu.Unlock()
		}
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *sink) missing(ids []string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, id := range ids {
		if s.got[id] == 0 {
			n++
		}
	}
	return n
}

// TestCrashLoopDeliversEveryAcknowledgedMessage publishes a stream to a topic
// with an HTTP subscriber, SIGKILLs the server at random moments ten times,
// restarts it each time, and checks that every message whose Publish
// returned 200 reaches the subscriber at least once.
func TestCrashLoopDeliversEveryAcknowledgedMessage(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "data")
	addr := freePort(t)
	sk := newSink(t)
	rng := rand.New(rand.NewSource(time.Now().UnixNano()))
	var acked []string
	var topicArn *string
	const rounds = 10
	for round := 0; round < rounds; round++ {
		p := start(t, addr, dir)
		c := p.client(t, p.url())
		if topicArn == nil {
			out, err := c.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("crashloop")})
			if err != nil {
				t.Fatal(err)
			}
			topicArn = out.TopicArn
			sub, err := c.Subscribe(ctx, &sns.SubscribeInput{TopicArn: topicArn, Protocol: aws.String("http"), Endpoint: aws.String(sk.srv.URL + "/hook"), ReturnSubscriptionArn: true})
			if err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(10 * time.Second)
			for {
				a, err := c.GetSubscriptionAttributes(ctx, &sns.GetSubscriptionAttributesInput{SubscriptionArn: sub.SubscriptionArn})
				if err == nil && a.Attributes["PendingConfirmation"] == "false" {
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("subscription not confirmed")
				}
				time.Sleep(20 * time.Millisecond)
			}
		}
		st := publishStream([]*sns.Client{c}, topicArn, 8, fmt.Sprint("r", round), nil)
		time.Sleep(time.Duration(100+rng.Intn(400)) * time.Millisecond)
		p.kill()
		acked = append(acked, st.Stop()...)
	}
	// a final, clean run drains whatever is left
	p := start(t, addr, dir)
	deadline := time.Now().Add(60 * time.Second)
	for sk.missing(acked) > 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	p.stop(t)
	lost := sk.missing(acked)
	sk.mu.Lock()
	dups := sk.hits - len(sk.got)
	sk.mu.Unlock()
	t.Logf("crash loop: %d SIGKILLs, %d acknowledged messages, lost %d, duplicate deliveries %d", rounds, len(acked), lost, dups)
	if lost > 0 {
		t.Fatalf("%d acknowledged messages never delivered", lost)
	}
	if len(acked) < 100 {
		t.Fatalf("only %d messages acknowledged: too little load to mean anything", len(acked))
	}
}
