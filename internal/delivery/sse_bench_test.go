package delivery_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awskms "github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/sealpost/sealpost/internal/testserver"
)

// TestDeliverySSEOverhead (SEALPOST_BENCH=1) publishes N 1 KiB messages
// with 16 publishers over HTTPS to a topic with and without SSE, each with
// one HTTP subscriber, in alternating rounds, and reports end-to-end
// messages per second (first publish to last delivery).
func TestDeliverySSEOverhead(t *testing.T) {
	if os.Getenv("SEALPOST_BENCH") == "" {
		t.Skip("set SEALPOST_BENCH=1")
	}
	skipIfSSEStub(t)
	ctx := context.Background()
	srv := testserver.Start(t, testserver.Options{})
	c := srv.SNSClient(t, srv.TLSURL(), "", "", "")
	key, err := srv.KMSClient(t, srv.TLSURL(), "", "", "").CreateKey(ctx, &awskms.CreateKeyInput{})
	if err != nil {
		t.Fatal(err)
	}
	type target struct {
		arn   *string
		count atomic.Int64
	}
	mk := func(name string, attrs map[string]string) *target {
		tg := &target{}
		out, err := c.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(name), Attributes: attrs})
		if err != nil {
			t.Fatal(err)
		}
		tg.arn = out.TopicArn
		tokens := make(chan string, 1)
		ep := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("x-amz-sns-message-type") == "SubscriptionConfirmation" {
				var m struct{ Token string }
				decodeJSON(r, &m)
				tokens <- m.Token
				return
			}
			tg.count.Add(1)
		}))
		t.Cleanup(ep.Close)
		if _, err := c.Subscribe(ctx, &sns.SubscribeInput{TopicArn: tg.arn, Protocol: aws.String("http"), Endpoint: aws.String(ep.URL)}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.ConfirmSubscription(ctx, &sns.ConfirmSubscriptionInput{TopicArn: tg.arn, Token: aws.String(<-tokens)}); err != nil {
			t.Fatal(err)
		}
		return tg
	}
	plain := mk("bench-plain", nil)
	sealed := mk("bench-sse", map[string]string{"KmsMasterKeyId": aws.ToString(key.KeyMetadata.KeyId)})
	const n, workers = 2000, 16
	body := strings.Repeat("x", 1024)
	round := func(tg *target) float64 {
		start := time.Now()
		base := tg.count.Load()
		var wg sync.WaitGroup
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := w; i < n; i += workers {
					if _, err := c.Publish(ctx, &sns.PublishInput{TopicArn: tg.arn, Message: aws.String(body)}); err != nil {
						t.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		for tg.count.Load()-base < n {
			time.Sleep(time.Millisecond)
		}
		return n / time.Since(start).Seconds()
	}
	round(plain)
	round(sealed) // warm up
	var sp, ss float64
	for r := range 3 {
		p, s := round(plain), round(sealed)
		sp, ss = sp+p, ss+s
		t.Logf("round %d: plain %.0f msgs/s, sse %.0f msgs/s (%.3f)", r+1, p, s, s/p)
	}
	t.Logf("mean: plain %.0f msgs/s, sse %.0f msgs/s, ratio %.3f", sp/3, ss/3, ss/sp)
}
