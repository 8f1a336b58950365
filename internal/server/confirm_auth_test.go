package server_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/sealpost/sealpost/internal/testserver"
)

// garbageSigned is a request with a well-formed Authorization header whose
// signature is made up.
func garbageSigned(endpoint, body string) *http.Request {
	r := formRequest(endpoint, body)
	now := time.Now().UTC()
	r.Header.Set("X-Amz-Date", now.Format("20060102T150405Z"))
	r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=test/"+now.Format("20060102")+"/us-east-1/sns/aws4_request, SignedHeaders=host;x-amz-date, Signature="+strings.Repeat("ab", 32))
	return r
}

// TestConfirmWithGarbageSignatureIsNotAuthenticated: ConfirmSubscription
// with AuthenticateOnUnsubscribe and a made-up signature is refused, and
// with --auth=off it confirms without marking the confirmation
// authenticated (so an unsigned UnsubscribeURL click is not locked out by a
// forged one, and the reverse).
func TestConfirmWithGarbageSignatureIsNotAuthenticated(t *testing.T) {
	for _, authOff := range []bool{false, true} {
		name := "auth=on"
		var args []string
		if authOff {
			name, args = "auth=off", []string{"--auth=off"}
		}
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			tokens := make(chan string, 4)
			ep := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				var m struct{ Type, Token string }
				b, _ := io.ReadAll(r.Body)
				if json.Unmarshal(b, &m) == nil && m.Type == "SubscriptionConfirmation" {
					tokens <- m.Token
				}
			}))
			defer ep.Close()
			srv := testserver.Start(t, testserver.Options{Args: args})
			c := srv.SNSClient(t, srv.URL(), "", "", "")
			topic, err := c.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("confirm")})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("http"), Endpoint: aws.String(ep.URL + "/")}); err != nil {
				t.Fatal(err)
			}
			var token string
			select {
			case token = <-tokens:
			case <-time.After(15 * time.Second):
				t.Fatal("no SubscriptionConfirmation")
			}
			body := "Action=ConfirmSubscription&AuthenticateOnUnsubscribe=true&TopicArn=" + url.QueryEscape(*topic.TopicArn) + "&Token=" + url.QueryEscape(token)
			got := doRaw(t, srv.HTTPClient(t), garbageSigned(srv.URL(), body))
			if !authOff {
				if got.status != 403 || got.code != "SignatureDoesNotMatch" {
					t.Fatalf("garbage signature: %+v", got)
				}
				return
			}
			if got.status != 200 {
				t.Fatalf("confirm with --auth=off: %+v", got)
			}
			subs, err := c.ListSubscriptionsByTopic(ctx, &sns.ListSubscriptionsByTopicInput{TopicArn: topic.TopicArn})
			if err != nil || len(subs.Subscriptions) != 1 {
				t.Fatalf("%v %v", subs, err)
			}
			attrs, err := c.GetSubscriptionAttributes(ctx, &sns.GetSubscriptionAttributesInput{SubscriptionArn: subs.Subscriptions[0].SubscriptionArn})
			if err != nil {
				t.Fatal(err)
			}
			if attrs.Attributes["ConfirmationWasAuthenticated"] != "false" {
				t.Fatalf("a garbage signature counted as authenticated: %v", attrs.Attributes)
			}
		})
	}
}
