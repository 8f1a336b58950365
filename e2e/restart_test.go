package e2e

import (
	"context"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/sealpost/sealpost/internal/store/pebblestore"
)

// TestRestartKeepsState creates topics and subscriptions, publishes, stops
// the server (SIGTERM), starts it again on the same data dir and checks that
// everything is still there.
func TestRestartKeepsState(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "data")
	addr := freePort(t)
	p := start(t, addr, dir)
	c := p.client(t, p.url())
	topic, err := c.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("durable"), Attributes: map[string]string{"DisplayName": "D"},
		Tags: nil})
	if err != nil {
		t.Fatal(err)
	}
	sub, err := c.Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("sqs"),
		Endpoint: aws.String("arn:aws:sqs:us-east-1:000000000000:q"), Attributes: map[string]string{"RawMessageDelivery": "true"}})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i := 0; i < 20; i++ {
		out, err := c.Publish(ctx, &sns.PublishInput{TopicArn: topic.TopicArn, Message: aws.String(fmt.Sprint("m", i))})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, aws.ToString(out.MessageId))
	}
	p.stop(t)

	p = start(t, addr, dir)
	c = p.client(t, p.url())
	attrs, err := c.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: topic.TopicArn})
	if err != nil || attrs.Attributes["DisplayName"] != "D" || attrs.Attributes["SubscriptionsConfirmed"] != "1" {
		t.Fatalf("topic after restart: %v %v", attrs, err)
	}
	sa, err := c.GetSubscriptionAttributes(ctx, &sns.GetSubscriptionAttributesInput{SubscriptionArn: sub.SubscriptionArn})
	if err != nil || sa.Attributes["RawMessageDelivery"] != "true" {
		t.Fatalf("subscription after restart: %v %v", sa, err)
	}
	p.stop(t)
	checkMessages(t, dir, ids, 1)
}

// checkMessages opens the stopped server's store and checks that every id
// has want pending deliveries.
func checkMessages(t *testing.T, dir string, ids []string, want int) {
	t.Helper()
	if os.Getenv("SEALPOST_TEST_STORE") == "postgres" {
		t.Skip("inspects the embedded store directly")
	}
	st, err := pebblestore.Open(filepath.Join(dir, "store"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	got := map[string]int{}
	for {
		ls, err := st.LeaseDeliveries(context.Background(), "check", time.Now().Add(time.Hour), time.Hour, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if len(ls) == 0 {
			break
		}
		for _, l := range ls {
			got[l.MessageID]++
		}
	}
	lost := 0
	for _, id := range ids {
		if got[id] != want {
			lost++
		}
	}
	if lost > 0 {
		t.Fatalf("%d of %d acknowledged messages lost (store holds %d)", lost, len(ids), len(got))
	}
	t.Logf("all %d acknowledged messages present with %d deliveries each", len(ids), want)
}

// TestSIGKILLLosesNoAcknowledgedMessage publishes from 16 goroutines and
// kills the server with SIGKILL at a random moment, several times; every
// message whose Publish returned 200 must be in the store afterwards.
func TestSIGKILLLosesNoAcknowledgedMessage(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "data")
	addr := freePort(t)
	var acked []string
	var topicArn *string
	rng := rand.New(rand.NewSource(time.Now().UnixNano()))
	for round := 0; round < 3; round++ {
		p := start(t, addr, dir)
		c := p.client(t, p.url())
		if topicArn == nil {
			out, err := c.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("crash")})
			if err != nil {
				t.Fatal(err)
			}
			topicArn = out.TopicArn
			for _, q := range []string{"a", "b"} {
				if _, err := c.Subscribe(ctx, &sns.SubscribeInput{TopicArn: topicArn, Protocol: aws.String("sqs"), Endpoint: aws.String("arn:aws:sqs:us-east-1:000000000000:" + q)}); err != nil {
					t.Fatal(err)
				}
			}
		}
		st := publishStream([]*sns.Client{c}, topicArn, 16, fmt.Sprint("r", round), nil)
		time.Sleep(time.Duration(200+rng.Intn(600)) * time.Millisecond)
		p.kill() // SIGKILL mid-stream
		acked = append(acked, st.Stop()...)
	}
	if len(acked) < 100 {
		t.Fatalf("only %d messages acknowledged; load too small to mean anything", len(acked))
	}
	checkMessages(t, dir, acked, 2)
}
