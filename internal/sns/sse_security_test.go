package sns_test

import (
	"context"
	"errors"
	"testing"

	"github.com/sealpost/sealpost/internal/sns"
)

// TestInvalidSecurity: every request that touches an SSE topic is refused
// with InvalidSecurity when it comes over plain HTTP or without a verified
// signature (--auth=off lets such requests in as their account), after
// authorization; the same requests to a topic without SSE work. The
// SubscribeURL/UnsubscribeURL links (unsigned ConfirmSubscription and
// Unsubscribe) stay usable.
func TestInvalidSecurity(t *testing.T) {
	ctx := context.Background()
	svc, _ := newSSEService(t, &testSealer{})
	good := secure(sseAcct)
	overHTTP := root(sseAcct) // signed, Secure false
	unsigned := secure(sseAcct)
	unsigned.Signed, unsigned.Authenticated = false, false
	bad := map[string]sns.Caller{"http": overHTTP, "unsigned": unsigned}

	type fixture struct {
		topic, sqsSub, httpSub, token string
	}
	setup := func(name string, sse bool) fixture {
		t.Helper()
		attrs := map[string]string{}
		if sse {
			attrs["KmsMasterKeyId"] = "alias/aws/sns"
		}
		topic, err := svc.CreateTopic(ctx, good, name, attrs, nil, "")
		if err != nil {
			t.Fatal(err)
		}
		if err := svc.AddPermission(ctx, good, topic, "existing", []string{otherAcct}, []string{"Publish"}); err != nil {
			t.Fatal(err)
		}
		q := subscribeQueue(t, svc, good, topic, name)
		h, err := svc.Subscribe(ctx, good, topic, "https", "https://127.0.0.1:1/"+name, nil)
		if err != nil {
			t.Fatal(err)
		}
		st, err := svc.Store().GetSubscription(ctx, h.ARN)
		if err != nil {
			t.Fatal(err)
		}
		return fixture{topic, q.ARN, h.ARN, st.Token}
	}
	actions := []struct {
		name string
		do   func(c sns.Caller, f fixture) error
	}{
		{"Publish", func(c sns.Caller, f fixture) error {
			_, err := svc.Publish(ctx, c, sns.PublishInput{TopicARN: f.topic, Message: "m"})
			return err
		}},
		{"PublishBatch", func(c sns.Caller, f fixture) error {
			_, err := svc.PublishBatch(ctx, c, f.topic, []sns.BatchEntry{{ID: "a", PublishInput: sns.PublishInput{Message: "m"}}})
			return err
		}},
		{"Subscribe", func(c sns.Caller, f fixture) error {
			_, err := svc.Subscribe(ctx, c, f.topic, "sqs", "arn:aws:sqs:us-east-1:000000000000:other", nil)
			return err
		}},
		{"GetTopicAttributes", func(c sns.Caller, f fixture) error {
			_, err := svc.GetTopicAttributes(ctx, c, f.topic)
			return err
		}},
		{"SetTopicAttributes", func(c sns.Caller, f fixture) error {
			return svc.SetTopicAttributes(ctx, c, f.topic, "DisplayName", "x")
		}},
		{"SetTopicAttributes KmsMasterKeyId", func(c sns.Caller, f fixture) error {
			return svc.SetTopicAttributes(ctx, c, f.topic, "KmsMasterKeyId", "alias/aws/sns")
		}},
		{"ListSubscriptionsByTopic", func(c sns.Caller, f fixture) error {
			_, _, err := svc.ListSubscriptionsByTopic(ctx, c, f.topic, "")
			return err
		}},
		{"AddPermission", func(c sns.Caller, f fixture) error {
			return svc.AddPermission(ctx, c, f.topic, "l-"+c.Region+boolName(c.Secure), []string{otherAcct}, []string{"Publish"})
		}},
		{"RemovePermission", func(c sns.Caller, f fixture) error {
			return svc.RemovePermission(ctx, c, f.topic, "existing")
		}},
		{"TagResource", func(c sns.Caller, f fixture) error {
			return svc.TagResource(ctx, c, f.topic, []sns.Tag{{Key: "k", Value: "v"}})
		}},
		{"UntagResource", func(c sns.Caller, f fixture) error {
			return svc.UntagResource(ctx, c, f.topic, []string{"k"})
		}},
		{"ListTagsForResource", func(c sns.Caller, f fixture) error {
			_, err := svc.ListTagsForResource(ctx, c, f.topic)
			return err
		}},
		{"GetDataProtectionPolicy", func(c sns.Caller, f fixture) error {
			_, err := svc.GetDataProtectionPolicy(ctx, c, f.topic)
			return err
		}},
		{"PutDataProtectionPolicy", func(c sns.Caller, f fixture) error {
			return svc.PutDataProtectionPolicy(ctx, c, f.topic, `{}`)
		}},
		{"GetSubscriptionAttributes", func(c sns.Caller, f fixture) error {
			_, err := svc.GetSubscriptionAttributes(ctx, c, f.sqsSub)
			return err
		}},
		{"SetSubscriptionAttributes", func(c sns.Caller, f fixture) error {
			return svc.SetSubscriptionAttributes(ctx, c, f.sqsSub, "RawMessageDelivery", "true")
		}},
		{"CreateTopic existing", func(c sns.Caller, f fixture) error {
			_, err := svc.CreateTopic(ctx, c, f.topic[len("arn:aws:sns:us-east-1:000000000000:"):], nil, nil, "")
			return err
		}},
		{"DeleteTopic", func(c sns.Caller, f fixture) error {
			return svc.DeleteTopic(ctx, c, f.topic)
		}},
	}
	enc, plain := setup("enc", true), setup("plain", false)
	for _, a := range actions {
		for how, c := range bad {
			err := a.do(c, enc)
			if !errors.Is(err, sns.ErrInvalidSecurity) {
				t.Errorf("%s %s on an SSE topic: got %v, want InvalidSecurity", how, a.name, err)
			}
			if a.name == "SetTopicAttributes KmsMasterKeyId" {
				// Turning SSE on is a request to an SSE topic too.
				err = a.do(c, plain)
				if !errors.Is(err, sns.ErrInvalidSecurity) {
					t.Errorf("%s: turning SSE on: got %v, want InvalidSecurity", how, err)
				}
				continue
			}
			if a.name == "DeleteTopic" {
				continue
			}
			if err := a.do(c, plain); errors.Is(err, sns.ErrInvalidSecurity) {
				t.Errorf("%s %s on a topic without SSE: %v", how, a.name, err)
			}
		}
	}
	// Creating an SSE topic over HTTP or unsigned.
	for how, c := range bad {
		_, err := svc.CreateTopic(ctx, c, "new-"+how, map[string]string{"KmsMasterKeyId": "alias/aws/sns"}, nil, "")
		if !errors.Is(err, sns.ErrInvalidSecurity) {
			t.Errorf("%s CreateTopic with KmsMasterKeyId: %v", how, err)
		}
		if _, err := svc.GetTopicAttributes(ctx, good, "arn:aws:sns:us-east-1:000000000000:new-"+how); !errors.Is(err, sns.ErrNotFound) {
			t.Errorf("%s: refused CreateTopic created the topic: %v", how, err)
		}
	}
	// Authorization first: a caller that may not act on the topic learns
	// nothing about its encryption.
	stranger := root(otherAcct)
	if _, err := svc.GetTopicAttributes(ctx, stranger, enc.topic); !errors.Is(err, sns.ErrAuthorization) {
		t.Errorf("stranger over HTTP: %v, want AuthorizationError", err)
	}
	// Signed ConfirmSubscription and Unsubscribe over HTTP are refused...
	if _, err := svc.ConfirmSubscription(ctx, overHTTP, enc.topic, enc.token, false); !errors.Is(err, sns.ErrInvalidSecurity) {
		t.Errorf("signed ConfirmSubscription over HTTP: %v", err)
	}
	if err := svc.Unsubscribe(ctx, overHTTP, enc.sqsSub); !errors.Is(err, sns.ErrInvalidSecurity) {
		t.Errorf("signed Unsubscribe over HTTP: %v", err)
	}
	// ...the links (unsigned GETs, over HTTP too) work.
	link := root("")
	link.Signed, link.Authenticated, link.Principal = false, false, ""
	if _, err := svc.ConfirmSubscription(ctx, link, enc.topic, enc.token, false); err != nil {
		t.Errorf("SubscribeURL link: %v", err)
	}
	if err := svc.Unsubscribe(ctx, link, enc.httpSub); err != nil {
		t.Errorf("UnsubscribeURL link: %v", err)
	}
	// And over HTTPS with a signature everything works.
	if _, err := svc.Publish(ctx, good, sns.PublishInput{TopicARN: enc.topic, Message: "m"}); err != nil {
		t.Fatal(err)
	}
	if err := svc.DeleteTopic(ctx, good, enc.topic); err != nil {
		t.Fatal(err)
	}
}

func boolName(b bool) string {
	if b {
		return "s"
	}
	return "p"
}
