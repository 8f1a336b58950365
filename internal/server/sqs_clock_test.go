package server_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// TestSQSTimeJSON drives the time-dependent queue behaviour through
// aws-sdk-go-v2 on the real server (both drivers: the server suites rerun
// on PostgreSQL), with the server's SQS clock moved ahead instead of
// waiting: a long poll woken by a send, visibility timeout expiry and
// redelivery (ApproximateReceiveCount 2), a per-message delay of 15
// minutes, and retention expiry.
func TestSQSTimeJSON(t *testing.T) {
	ctx := context.Background()
	srv, c := newSQSClient(t)
	create := func(name string, attrs map[string]string) *string {
		t.Helper()
		out, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: attrs})
		if err != nil {
			t.Fatal(err)
		}
		return out.QueueUrl
	}
	receive := func(u *string, wait int32, visibility int32) []types.Message {
		t.Helper()
		out, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: u, MaxNumberOfMessages: 10, WaitTimeSeconds: wait,
			VisibilityTimeout: visibility, MessageSystemAttributeNames: []types.MessageSystemAttributeName{"All"}})
		if err != nil {
			t.Fatal(err)
		}
		return out.Messages
	}
	send := func(u *string, body string, delay int32) {
		t.Helper()
		if _, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: u, MessageBody: aws.String(body), DelaySeconds: delay}); err != nil {
			t.Fatal(err)
		}
	}
	count := func(u *string, name types.QueueAttributeName) string {
		t.Helper()
		out, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: u, AttributeNames: []types.QueueAttributeName{name}})
		if err != nil {
			t.Fatal(err)
		}
		return out.Attributes[string(name)]
	}

	// A long poll waiting on an empty queue answers as soon as a message
	// is sent, not at the end of its 20 s.
	q := create("time-main", nil)
	got := make(chan []types.Message, 1)
	began := time.Now()
	go func() {
		out, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: q, WaitTimeSeconds: 20})
		if err != nil {
			t.Error(err)
		}
		got <- out.Messages
	}()
	time.Sleep(300 * time.Millisecond)
	send(q, "wake", 0)
	ms := <-got
	if len(ms) != 1 || aws.ToString(ms[0].Body) != "wake" || time.Since(began) > 10*time.Second {
		t.Fatalf("long poll: %d messages after %s", len(ms), time.Since(began))
	}
	if _, err := c.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: q, ReceiptHandle: ms[0].ReceiptHandle}); err != nil {
		t.Fatal(err)
	}

	// Visibility: hidden for its timeout, then received again.
	send(q, "again", 0)
	if ms := receive(q, 0, 600); len(ms) != 1 || ms[0].Attributes["ApproximateReceiveCount"] != "1" {
		t.Fatalf("first receive: %+v", ms)
	}
	if ms := receive(q, 0, 0); len(ms) != 0 {
		t.Fatalf("in flight, yet received: %+v", ms)
	}
	if n := count(q, types.QueueAttributeNameApproximateNumberOfMessagesNotVisible); n != "1" {
		t.Fatalf("NotVisible %s", n)
	}
	srv.AdvanceSQSClock(601 * time.Second)
	ms = receive(q, 0, 30)
	if len(ms) != 1 || aws.ToString(ms[0].Body) != "again" || ms[0].Attributes["ApproximateReceiveCount"] != "2" {
		t.Fatalf("after the visibility timeout: %+v", ms)
	}
	if _, err := c.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: q, ReceiptHandle: ms[0].ReceiptHandle}); err != nil {
		t.Fatal(err)
	}

	// A 15-minute delay: counted as delayed, received once it is over.
	send(q, "later", 900)
	if ms := receive(q, 0, 0); len(ms) != 0 {
		t.Fatalf("delayed, yet received: %+v", ms)
	}
	if n := count(q, types.QueueAttributeNameApproximateNumberOfMessagesDelayed); n != "1" {
		t.Fatalf("Delayed %s", n)
	}
	srv.AdvanceSQSClock(901 * time.Second)
	if ms := receive(q, 0, 30); len(ms) != 1 || aws.ToString(ms[0].Body) != "later" {
		t.Fatalf("after the delay: %+v", ms)
	}

	// Retention: a message older than MessageRetentionPeriod is never
	// received and no longer counted.
	r := create("time-retention", map[string]string{"MessageRetentionPeriod": "60"})
	send(r, "stale", 0)
	if n := count(r, types.QueueAttributeNameApproximateNumberOfMessages); n != "1" {
		t.Fatalf("before expiry: %s", n)
	}
	srv.AdvanceSQSClock(61 * time.Second)
	if ms := receive(r, 0, 30); len(ms) != 0 {
		t.Fatalf("expired, yet received: %+v", ms)
	}
	if n := count(r, types.QueueAttributeNameApproximateNumberOfMessages); n != "0" {
		t.Fatalf("after expiry: %s messages", n)
	}
}
