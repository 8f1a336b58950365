package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/sealpost/sealpost/internal/pgtest"
)

// sseNodesCacheTTL is the nodes' --cache-ttl: also the KMS key-cache TTL,
// and what DisableKey waits on PostgreSQL before it returns. Long enough
// that a node still trusting its cache after DisableKey returned would be
// caught by the publishes below.
const sseNodesCacheTTL = 2 * time.Second

// TestSSEAcrossNodes runs two nodes over one PostgreSQL database with one
// root key.
//
// Delivered by the other node: a message is published through node A to an
// SSE topic whose HTTP subscriber answers the first arrival with 500 and
// asks for a retry 3 s later; at that first arrival node A is SIGKILLed.
// The second arrival, after A is dead, can only come from node B, which
// opens the body with the data key A sealed it under (stored wrapped in the
// frame) through the shared database and root key. The subscriber must get
// the plaintext.
//
// DisableKey through node B: while a publisher keeps publishing through
// node A (whose Sealer holds a cached data key of the key), DisableKey is
// called through B; every Publish through A that starts after DisableKey
// returned must get KMSDisabled (with several nodes on PostgreSQL,
// DisableKey waits the KMS cache TTL so that every node has dropped the
// old key state). After EnableKey through B, publishing through A works
// again within the cache TTL.
func TestSSEAcrossNodes(t *testing.T) {
	t.Run("delivered by the other node", sseDeliveredByOtherNode)
	t.Run("DisableKey on one node refuses publishes on the other at once", sseDisableAcrossNodes)
}

// startSSENodes starts n nodes over one new PostgreSQL database.
func startSSENodes(t *testing.T, n int) []*proc {
	dsn := pgtest.NewDatabase(t) // skips without PostgreSQL
	rootKey := rootKeyFile(t)
	var nodes []*proc
	for i := 0; i < n; i++ {
		dir := filepath.Join(t.TempDir(), fmt.Sprintf("node%d", i))
		nodes = append(nodes, start(t, freePort(t), dir, "--store", dsn, "--root-key-file", rootKey,
			"--delivery-lease", testLease.String(), "--cache-ttl", sseNodesCacheTTL.String(), "--node-id", fmt.Sprintf("node%d", i)))
	}
	requireKMS(t, nodes[0])
	return nodes
}

// sseNodesTopic creates a key through node 0 and an SSE topic under it.
func sseNodesTopic(t *testing.T, nodes []*proc, name string) (keyID, topicARN string) {
	ctx := context.Background()
	key, err := nodes[0].kmsClient(t, nodes[0].tlsURL()).CreateKey(ctx, &kms.CreateKeyInput{Description: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	topic, err := nodes[0].client(t, nodes[0].tlsURL()).CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(name),
		Attributes: map[string]string{"KmsMasterKeyId": aws.ToString(key.KeyMetadata.KeyId)}})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(key.KeyMetadata.KeyId), aws.ToString(topic.TopicArn)
}

func sseDeliveredByOtherNode(t *testing.T) {
	ctx := context.Background()
	nodes := startSSENodes(t, 2)
	a, b := nodes[0], nodes[1]
	_, topicARN := sseNodesTopic(t, nodes, "across-nodes")
	ca := a.client(t, a.tlsURL())

	type arrival struct {
		message string
		aDead   bool
	}
	var aDead atomic.Bool
	var mu sync.Mutex
	var arrivals []arrival
	first := make(chan struct{}, 1)
	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var m struct{ Message, SubscribeURL string }
		json.Unmarshal(body, &m)
		switch r.Header.Get("x-amz-sns-message-type") {
		case "SubscriptionConfirmation":
			go func() {
				if resp, err := http.Get(m.SubscribeURL); err == nil {
					resp.Body.Close()
				}
			}()
		case "Notification":
			mu.Lock()
			arrivals = append(arrivals, arrival{m.Message, aDead.Load()})
			n := len(arrivals)
			mu.Unlock()
			if n == 1 {
				first <- struct{}{}
				http.Error(w, "try again later", http.StatusInternalServerError)
			}
		}
	}))
	t.Cleanup(sink.Close)
	sub, err := ca.Subscribe(ctx, &sns.SubscribeInput{TopicArn: aws.String(topicARN), Protocol: aws.String("http"),
		Endpoint: aws.String(sink.URL), ReturnSubscriptionArn: true,
		Attributes: map[string]string{"DeliveryPolicy": `{"healthyRetryPolicy": {"minDelayTarget": 3, "maxDelayTarget": 3, "numRetries": 3}}`}})
	if err != nil {
		t.Fatal(err)
	}
	waitConfirmed(t, ca, sub.SubscriptionArn)
	time.Sleep(sseNodesCacheTTL + 200*time.Millisecond) // node B sees the subscription

	body := sseMarker(t, "ACROSS-NODES") + ` "sealed on A, opened on B" <&>`
	if _, err := ca.Publish(ctx, &sns.PublishInput{TopicArn: aws.String(topicARN), Message: aws.String(body)}); err != nil {
		t.Fatalf("Publish through node A: %v", err)
	}
	select {
	case <-first:
	case <-time.After(30 * time.Second):
		t.Fatal("no delivery attempt within 30 s")
	}
	a.kill()
	aDead.Store(true)
	killed := time.Now()

	deadline := killed.Add(testLease + 20*time.Second)
	for {
		mu.Lock()
		got := append([]arrival(nil), arrivals...)
		mu.Unlock()
		if len(got) >= 2 {
			last := got[len(got)-1]
			if !last.aDead {
				t.Fatalf("second arrival before node A was killed: %+v", got)
			}
			if last.message != body {
				t.Fatalf("node B delivered %q, want the plaintext %q", last.message, body)
			}
			if got[0].message != body {
				t.Fatalf("first attempt delivered %q, want the plaintext %q", got[0].message, body)
			}
			t.Logf("published on node A, first attempt answered 500, node A SIGKILLed, delivered by node B %.1fs later (%d arrivals)",
				time.Since(killed).Seconds(), len(got))
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("node B did not deliver the message within %v of node A's SIGKILL (arrivals %+v); node B log:\n%s",
				time.Since(killed).Round(time.Second), got, tail(b.log(t), 30))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func sseDisableAcrossNodes(t *testing.T) {
	ctx := context.Background()
	nodes := startSSENodes(t, 2)
	a, b := nodes[0], nodes[1]
	keyID, topicARN := sseNodesTopic(t, nodes, "disable-across")
	ca := a.client(t, a.tlsURL())
	kb := b.kmsClient(t, b.tlsURL())
	publish := func() error {
		_, err := ca.Publish(ctx, &sns.PublishInput{TopicArn: aws.String(topicARN), Message: aws.String("x")})
		return err
	}
	// Node A's Sealer now holds a data key of the key.
	if err := publish(); err != nil {
		t.Fatalf("Publish through A: %v", err)
	}

	// Publishers through A, each call stamped with when it started.
	type result struct {
		start time.Time
		err   error
	}
	var mu sync.Mutex
	var results []result
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				s := time.Now()
				err := publish()
				mu.Lock()
				results = append(results, result{s, err})
				mu.Unlock()
			}
		}()
	}
	time.Sleep(300 * time.Millisecond)
	t0 := time.Now()
	if _, err := kb.DisableKey(ctx, &kms.DisableKeyInput{KeyId: aws.String(keyID)}); err != nil {
		t.Fatalf("DisableKey through B: %v", err)
	}
	returned := time.Now()
	time.Sleep(time.Second)
	close(stop)
	wg.Wait()
	if err := publish(); !isCode(err, "KMSDisabled") {
		t.Fatalf("Publish through A after DisableKey through B: %v, want KMSDisabled", err)
	}

	before, after, okBefore := 0, 0, 0
	for _, r := range results {
		if r.start.Before(returned) {
			before++
			if r.err == nil {
				okBefore++
			}
			continue
		}
		after++
		if !isCode(r.err, "KMSDisabled") {
			t.Errorf("Publish through A started %v after DisableKey through B returned: %v, want KMSDisabled",
				r.start.Sub(returned).Round(time.Microsecond), r.err)
		}
	}
	t.Logf("DisableKey through B took %v (cache TTL %v); publishes through A: %d started before it returned (%d succeeded), %d after (all KMSDisabled)",
		returned.Sub(t0).Round(time.Millisecond), sseNodesCacheTTL, before, okBefore, after)
	if after == 0 || okBefore == 0 {
		t.Fatalf("the publishers did not overlap DisableKey: %d succeeded before, %d after", okBefore, after)
	}

	// Enabled again through B: A publishes again within its cache TTL.
	if _, err := kb.EnableKey(ctx, &kms.EnableKeyInput{KeyId: aws.String(keyID)}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(sseNodesCacheTTL + 3*time.Second)
	for {
		err := publish()
		if err == nil {
			break
		}
		if !isCode(err, "KMSDisabled") || time.Now().After(deadline) {
			t.Fatalf("Publish through A after EnableKey through B: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
