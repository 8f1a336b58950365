package e2e

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/sealpost/sealpost/internal/pgtest"
)

const (
	testLease    = 20 * time.Second // the shortest lease config accepts (config.MinDeliveryLease)
	testCacheTTL = 200 * time.Millisecond
)

// startNodes starts n sealpost processes over one PostgreSQL database. They
// share one root key (each node's own development key would not match the
// check value the first node stored in the database).
func startNodes(t *testing.T, n int) []*proc {
	dsn := pgtest.NewDatabase(t)
	rootKey := rootKeyFile(t)
	var nodes []*proc
	for i := 0; i < n; i++ {
		dir := filepath.Join(t.TempDir(), fmt.Sprintf("node%d", i))
		nodes = append(nodes, start(t, freePort(t), dir, "--store", dsn, "--root-key-file", rootKey, "--delivery-lease", testLease.String(),
			"--cache-ttl", testCacheTTL.String(), "--node-id", fmt.Sprintf("node%d", i)))
	}
	return nodes
}

func waitConfirmed(t *testing.T, c *sns.Client, subArn *string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		a, err := c.GetSubscriptionAttributes(context.Background(), &sns.GetSubscriptionAttributesInput{SubscriptionArn: subArn})
		if err == nil && a.Attributes["PendingConfirmation"] == "false" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("subscription %s not confirmed: %v %v", aws.ToString(subArn), a, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestChangesSeenAcrossNodes: a topic created or changed through one node is
// seen through the others; a subscription deleted through one node stops
// receiving messages published through another.
func TestChangesSeenAcrossNodes(t *testing.T) {
	ctx := context.Background()
	nodes := startNodes(t, 3)
	c0, c1, c2 := nodes[0].client(t, nodes[0].url()), nodes[1].client(t, nodes[1].url()), nodes[2].client(t, nodes[2].url())
	topic, err := c0.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("shared")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c1.SetTopicAttributes(ctx, &sns.SetTopicAttributesInput{TopicArn: topic.TopicArn, AttributeName: aws.String("DisplayName"), AttributeValue: aws.String("via node1")}); err != nil {
		t.Fatal(err)
	}
	a, err := c2.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: topic.TopicArn})
	if err != nil || a.Attributes["DisplayName"] != "via node1" {
		t.Fatalf("node2 sees %v %v", a, err)
	}
	list, _ := c2.ListTopics(ctx, &sns.ListTopicsInput{})
	if len(list.Topics) != 1 {
		t.Fatalf("node2 lists %v", list.Topics)
	}
	sk := newSink(t)
	sub, err := c1.Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("http"), Endpoint: aws.String(sk.srv.URL), ReturnSubscriptionArn: true})
	if err != nil {
		t.Fatal(err)
	}
	waitConfirmed(t, c2, sub.SubscriptionArn)
	time.Sleep(2 * testCacheTTL) // the documented staleness bound
	out, err := c2.Publish(ctx, &sns.PublishInput{TopicArn: topic.TopicArn, Message: aws.String("before")})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for sk.missing([]string{aws.ToString(out.MessageId)}) > 0 {
		if time.Now().After(deadline) {
			t.Fatal("message published through node2 to a subscription made through node1 not delivered")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := c0.Unsubscribe(ctx, &sns.UnsubscribeInput{SubscriptionArn: sub.SubscriptionArn}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * testCacheTTL)
	out, err = c2.Publish(ctx, &sns.PublishInput{TopicArn: topic.TopicArn, Message: aws.String("after")})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	if sk.missing([]string{aws.ToString(out.MessageId)}) == 0 {
		t.Fatal("a subscription deleted through node0 still received a message published through node2")
	}
	if _, err := c2.GetSubscriptionAttributes(ctx, &sns.GetSubscriptionAttributesInput{SubscriptionArn: sub.SubscriptionArn}); err == nil {
		t.Fatal("deleted subscription still visible through node2")
	}

	// FIFO deduplication is shared: the same deduplication id published
	// through two nodes is one message.
	fifo, err := c0.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("shared.fifo"), Attributes: map[string]string{"FifoTopic": "true"}})
	if err != nil {
		t.Fatal(err)
	}
	p1, err := c1.Publish(ctx, &sns.PublishInput{TopicArn: fifo.TopicArn, Message: aws.String("once"), MessageGroupId: aws.String("g"), MessageDeduplicationId: aws.String("d-1")})
	if err != nil {
		t.Fatal(err)
	}
	p2, err := c2.Publish(ctx, &sns.PublishInput{TopicArn: fifo.TopicArn, Message: aws.String("once"), MessageGroupId: aws.String("g"), MessageDeduplicationId: aws.String("d-1")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(p1.MessageId) != aws.ToString(p2.MessageId) || aws.ToString(p1.SequenceNumber) != aws.ToString(p2.SequenceNumber) {
		t.Fatalf("a duplicate published through another node got a new message: %s/%s vs %s/%s",
			aws.ToString(p1.MessageId), aws.ToString(p1.SequenceNumber), aws.ToString(p2.MessageId), aws.ToString(p2.SequenceNumber))
	}
}

// TestThreeNodesSurviveSIGKILL publishes through three nodes, SIGKILLs one
// mid-stream, and checks that every acknowledged message reaches the HTTP
// subscriber (the dead node's leased deliveries are taken over once its
// leases expire).
func TestThreeNodesSurviveSIGKILL(t *testing.T) {
	ctx := context.Background()
	nodes := startNodes(t, 3)
	clients := make([]*sns.Client, len(nodes))
	for i, n := range nodes {
		clients[i] = n.client(t, n.url())
	}
	sk := newSink(t)
	topic, err := clients[0].CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("three")})
	if err != nil {
		t.Fatal(err)
	}
	sub, err := clients[0].Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("http"), Endpoint: aws.String(sk.srv.URL), ReturnSubscriptionArn: true})
	if err != nil {
		t.Fatal(err)
	}
	waitConfirmed(t, clients[0], sub.SubscriptionArn)
	time.Sleep(2 * testCacheTTL)

	st := publishStream(clients, topic.TopicArn, 12, "three", func(w int, err error) {
		if w%3 != 2 { // workers 2, 5, 8, 11 publish through node2, which is killed
			t.Errorf("publish through a live node failed: %v", err)
		}
	})
	time.Sleep(1500 * time.Millisecond)
	nodes[2].kill()
	killedAt := time.Now()
	time.Sleep(1500 * time.Millisecond)
	acked := st.Stop()

	deadline := killedAt.Add(testLease + 15*time.Second)
	for sk.missing(acked) > 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	lost := sk.missing(acked)
	sk.mu.Lock()
	dups := sk.hits - len(sk.got)
	sk.mu.Unlock()
	t.Logf("three nodes, one SIGKILLed: %d acknowledged, lost %d, duplicate deliveries %d, all delivered %.1fs after the kill (lease %v)",
		len(acked), lost, dups, time.Since(killedAt).Seconds(), testLease)
	if lost > 0 {
		t.Fatalf("%d acknowledged messages lost", lost)
	}
	if len(acked) < 100 {
		t.Fatalf("only %d acknowledged messages", len(acked))
	}
}
