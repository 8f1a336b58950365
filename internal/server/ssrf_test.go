package server_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/smithy-go"

	"github.com/sealpost/sealpost/internal/testserver"
)

// TestSubscriberAddressGuard: by default an endpoint on the cloud metadata
// address (link-local), another link-local, unspecified or multicast
// address is refused at Subscribe; loopback still works. With loopback
// denied by --subscriber-deny, a name resolving to loopback is refused too.
func TestSubscriberAddressGuard(t *testing.T) {
	ctx := context.Background()
	var hits atomic.Int64
	ep := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }))
	defer ep.Close()

	srv, c := newClient(t)
	topic, err := c.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("guarded")})
	if err != nil {
		t.Fatal(err)
	}
	for _, endpoint := range []string{
		"http://169.254.169.254/latest/meta-data/",
		"http://[fe80::1]:8080/",
		"http://[::ffff:169.254.169.254]/",
		"http://0.0.0.0:9000/",
		"http://224.0.0.1/",
	} {
		_, err := c.Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("http"), Endpoint: aws.String(endpoint)})
		wantCode(t, err, "InvalidParameter")
		var ae smithy.APIError
		errors.As(err, &ae)
		if !strings.Contains(ae.ErrorMessage(), "not allowed by --subscriber-allow/--subscriber-deny") {
			t.Fatalf("%s: message %q", endpoint, ae.ErrorMessage())
		}
	}
	if _, err := c.Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("http"), Endpoint: aws.String(ep.URL + "/ok")}); err != nil {
		t.Fatalf("loopback endpoint refused by default: %v", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for hits.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if hits.Load() != 1 {
		t.Fatalf("loopback endpoint got %d confirmation requests, want 1", hits.Load())
	}
	_ = srv

	strict := testserver.Start(t, testserver.Options{Args: []string{"--subscriber-deny", "169.254.0.0/16,fe80::/10,127.0.0.0/8,::1"}})
	sc := strict.SNSClient(t, strict.URL(), "", "", "")
	topic, err = sc.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("strict")})
	if err != nil {
		t.Fatal(err)
	}
	for _, endpoint := range []string{ep.URL + "/x", strings.Replace(ep.URL, "127.0.0.1", "localhost", 1) + "/x"} {
		_, err := sc.Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("http"), Endpoint: aws.String(endpoint)})
		wantCode(t, err, "InvalidParameter")
	}
	if hits.Load() != 1 {
		t.Fatalf("a denied endpoint was contacted")
	}
}
