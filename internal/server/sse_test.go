package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awskms "github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/smithy-go"

	"github.com/sealpost/sealpost/internal/testserver"
)

// TestSSEKeyDeletedGivesUpPending: with aws-sdk-go-v2 over HTTPS, a message
// of an SSE topic is stored and pending retry (its endpoint failed the
// first attempt) when its key is scheduled for deletion and the deletion
// date passes (the server's KMS clock moved ahead, the sweep run): the key
// is gone, Publish answers KMSNotFound 400, the endpoint (now answering
// 200) gets no request at all, and the pending delivery is given up still
// encrypted once its retries are spent (sealpost_deliveries_total
// dead_lettered). (The e2e tests cover the other key states through the
// real binary; this one needs the KMS clock, which only an in-process
// server can move.)
func TestSSEKeyDeletedGivesUpPending(t *testing.T) {
	ctx := context.Background()
	srv := testserver.Start(t, testserver.Options{})
	kc := srv.KMSClient(t, srv.TLSURL(), "", "", "")
	c := srv.SNSClient(t, srv.TLSURL(), "", "", "")
	key, err := kc.CreateKey(ctx, &awskms.CreateKeyInput{})
	if err != nil {
		t.Fatal(err)
	}
	topic, err := c.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("sse-doomed"), Attributes: map[string]string{"KmsMasterKeyId": aws.ToString(key.KeyMetadata.Arn)}})
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu       sync.Mutex
		status   = 500
		attempts int
		token    string
	)
	ep := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m map[string]any
		json.NewDecoder(r.Body).Decode(&m)
		mu.Lock()
		defer mu.Unlock()
		if m["Type"] == "SubscriptionConfirmation" {
			token, _ = m["Token"].(string)
			return
		}
		attempts++
		w.WriteHeader(status)
	}))
	defer ep.Close()
	until := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(15 * time.Second)
		for {
			mu.Lock()
			ok := cond()
			mu.Unlock()
			if ok {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	// Four retries a second apart: the delivery is given up about four
	// seconds after the first attempt.
	policy := `{"healthyRetryPolicy":{"minDelayTarget":1,"maxDelayTarget":1,"numRetries":4,"numNoDelayRetries":0,"numMinDelayRetries":4,"numMaxDelayRetries":0,"backoffFunction":"linear"}}`
	if _, err := c.Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("http"), Endpoint: aws.String(ep.URL + "/doomed"),
		Attributes: map[string]string{"DeliveryPolicy": policy}}); err != nil {
		t.Fatal(err)
	}
	until("the confirmation", func() bool { return token != "" })
	mu.Lock()
	tok := token
	mu.Unlock()
	if _, err := c.ConfirmSubscription(ctx, &sns.ConfirmSubscriptionInput{TopicArn: topic.TopicArn, Token: aws.String(tok)}); err != nil {
		t.Fatal(err)
	}
	given := deadLettered(t, srv)
	if _, err := c.Publish(ctx, &sns.PublishInput{TopicArn: topic.TopicArn, Message: aws.String("pending-when-deleted")}); err != nil {
		t.Fatal(err)
	}
	until("the first (failing) attempt", func() bool { return attempts == 1 })

	sched, err := kc.ScheduleKeyDeletion(ctx, &awskms.ScheduleKeyDeletionInput{KeyId: key.KeyMetadata.KeyId, PendingWindowInDays: aws.Int32(7)})
	if err != nil {
		t.Fatal(err)
	}
	srv.AdvanceKMSClock(time.Until(*sched.DeletionDate) + time.Minute)
	srv.SweepKMS(ctx)
	if _, err := kc.DescribeKey(ctx, &awskms.DescribeKeyInput{KeyId: key.KeyMetadata.KeyId}); !isCode(err, "NotFoundException") {
		t.Fatalf("DescribeKey after the deletion date: %v, want NotFoundException", err)
	}
	mu.Lock()
	status = 200
	mu.Unlock()

	_, err = c.Publish(ctx, &sns.PublishInput{TopicArn: topic.TopicArn, Message: aws.String("after deletion")})
	if !isCode(err, "KMSNotFound") || !strings.Contains(err.Error(), "StatusCode: 400") {
		t.Fatalf("Publish after the deletion date: %v, want KMSNotFound 400", err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for deadLettered(t, srv) == given {
		if time.Now().After(deadline) {
			t.Fatal("the pending delivery was not given up within 20 s of its key's deletion")
		}
		time.Sleep(50 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	if attempts != 1 {
		t.Fatalf("%d requests reached the endpoint after the key was deleted, want none", attempts-1)
	}
}

func isCode(err error, code string) bool {
	var ae smithy.APIError
	return err != nil && errors.As(err, &ae) && ae.ErrorCode() == code
}

// deadLettered reads sealpost_deliveries_total{outcome="dead_lettered"}.
func deadLettered(t *testing.T, srv *testserver.Server) string {
	t.Helper()
	resp, err := srv.HTTPClient(t).Get(srv.URL() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := regexp.MustCompile(`(?m)^sealpost_deliveries_total\{outcome="dead_lettered"\} (\S+)$`).FindSubmatch(page)
	if m == nil {
		t.Fatalf("/metrics has no dead_lettered count:\n%s", page)
	}
	return string(m[1])
}
