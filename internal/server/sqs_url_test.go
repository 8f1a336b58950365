package server_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/sealpost/sealpost/internal/testserver"
)

// TestSQSQueueURLFollowsTheEndpoint: without --public-url, queue URLs name
// the scheme and host the client called (a client that follows queue URLs,
// as the JS SDK v3 does, stays on TLS); with --public-url, that base.
func TestSQSQueueURLFollowsTheEndpoint(t *testing.T) {
	ctx := context.Background()
	srv := testserver.Start(t, testserver.Options{})
	for _, endpoint := range []string{srv.URL(), srv.TLSURL()} {
		c := sqs.NewFromConfig(srv.AWSConfig(t, endpoint, "", "", ""))
		out, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("urls")})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := aws.ToString(out.QueueUrl), endpoint+"/000000000000/urls"; got != want {
			t.Errorf("CreateQueue via %s: %s, want %s", endpoint, got, want)
		}
		l, err := c.ListQueues(ctx, &sqs.ListQueuesInput{})
		if err != nil {
			t.Fatal(err)
		}
		if len(l.QueueUrls) != 1 || l.QueueUrls[0] != endpoint+"/000000000000/urls" {
			t.Errorf("ListQueues via %s: %v", endpoint, l.QueueUrls)
		}
	}

	pub := testserver.Start(t, testserver.Options{Args: []string{"--public-url", "https://sqs.example.test/"}})
	c := sqs.NewFromConfig(pub.AWSConfig(t, pub.URL(), "", "", ""))
	out, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("urls")})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := aws.ToString(out.QueueUrl), "https://sqs.example.test/000000000000/urls"; got != want {
		t.Errorf("with --public-url: %s, want %s", got, want)
	}
}
