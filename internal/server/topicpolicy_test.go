package server_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/smithy-go"

	"github.com/sealpost/sealpost/internal/testserver"
)

// Two accounts: A (111111111111) owns the topics, B (222222222222) is
// another account. Each has a root key and users with and without an
// identity policy.
const (
	acctA = "111111111111"
	acctB = "222222222222"
)

const policyCredentials = `{"accounts": [
 {"id": "111111111111", "users": [
   {"name": "root", "accessKeys": [{"id": "AKIAAROOT", "secret": "secret-a"}]},
   {"name": "dev", "accessKeys": [{"id": "AKIAADEV", "secret": "secret-dev"}]},
   {"name": "publisher", "accessKeys": [{"id": "AKIAAPUB", "secret": "secret-pub"}],
    "policy": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sns:Publish",
      "Resource": "arn:aws:sns:us-east-1:111111111111:orders"}]}}]},
 {"id": "222222222222", "users": [
   {"name": "root", "accessKeys": [{"id": "AKIABROOT", "secret": "secret-b"}]},
   {"name": "subscriber", "accessKeys": [{"id": "AKIABSUB", "secret": "secret-bs"}],
    "policy": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sns:Subscribe", "Resource": "*"}]}}]}
]}`

type policyWorld struct {
	srv                    *testserver.Server
	a, aDev, aPub, b, bSub *sns.Client
	orders, other          string // topics of account A
}

func newPolicyWorld(t *testing.T) *policyWorld {
	t.Helper()
	path := filepath.Join(t.TempDir(), "credentials.json")
	if err := os.WriteFile(path, []byte(policyCredentials), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := testserver.Start(t, testserver.Options{Args: []string{"--credentials", path}})
	w := &policyWorld{srv: srv}
	cl := func(key, secret string) *sns.Client { return srv.SNSClient(t, srv.URL(), key, secret, "") }
	w.a, w.aDev, w.aPub = cl("AKIAAROOT", "secret-a"), cl("AKIAADEV", "secret-dev"), cl("AKIAAPUB", "secret-pub")
	w.b, w.bSub = cl("AKIABROOT", "secret-b"), cl("AKIABSUB", "secret-bs")
	ctx := context.Background()
	for _, name := range []string{"orders", "other"} {
		out, err := w.a.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(name)})
		if err != nil {
			t.Fatal(err)
		}
		if name == "orders" {
			w.orders = aws.ToString(out.TopicArn)
		} else {
			w.other = aws.ToString(out.TopicArn)
		}
	}
	return w
}

func publish(c *sns.Client, topic string) error {
	_, err := c.Publish(context.Background(), &sns.PublishInput{TopicArn: aws.String(topic), Message: aws.String("hello")})
	return err
}

func subscribeSQS(c *sns.Client, topic, queue string) (string, error) {
	out, err := c.Subscribe(context.Background(), &sns.SubscribeInput{TopicArn: aws.String(topic), Protocol: aws.String("sqs"),
		Endpoint: aws.String("arn:aws:sqs:us-east-1:" + acctB + ":" + queue), ReturnSubscriptionArn: true})
	if err != nil {
		return "", err
	}
	return aws.ToString(out.SubscriptionArn), nil
}

func batch(topic string) *sns.PublishBatchInput {
	return &sns.PublishBatchInput{TopicArn: aws.String(topic), PublishBatchRequestEntries: []types.PublishBatchRequestEntry{
		{Id: aws.String("1"), Message: aws.String("one")}}}
}

// wantDenied checks an AuthorizationError 403 whose message names the
// principal, the action and the resource as AWS's does.
func wantDenied(t *testing.T, err error, principal, action, resource string) {
	t.Helper()
	wantCode(t, err, "AuthorizationError")
	var re interface{ HTTPStatusCode() int }
	if errors.As(err, &re) && re.HTTPStatusCode() != 403 {
		t.Fatalf("status %d, want 403", re.HTTPStatusCode())
	}
	var ae smithy.APIError
	errors.As(err, &ae)
	want := "User: " + principal + " is not authorized to perform: SNS:" + action + " on resource: " + resource + " "
	if !strings.HasPrefix(ae.ErrorMessage(), want) {
		t.Fatalf("message %q, want prefix %q", ae.ErrorMessage(), want)
	}
}

func TestTopicPolicyCrossAccount(t *testing.T) {
	ctx := context.Background()
	w := newPolicyWorld(t)
	rootB := "arn:aws:iam::" + acctB + ":root"

	// Refused everywhere on A's topic by default.
	wantDenied(t, publish(w.b, w.orders), rootB, "Publish", w.orders)
	_, err := subscribeSQS(w.b, w.orders, "q1")
	wantDenied(t, err, rootB, "Subscribe", w.orders)
	_, err = w.b.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: &w.orders})
	wantDenied(t, err, rootB, "GetTopicAttributes", w.orders)
	_, err = w.b.AddPermission(ctx, &sns.AddPermissionInput{TopicArn: &w.orders, Label: aws.String("self"),
		AWSAccountId: []string{acctB}, ActionName: []string{"Publish"}})
	wantDenied(t, err, rootB, "AddPermission", w.orders)
	_, err = w.b.ListTagsForResource(ctx, &sns.ListTagsForResourceInput{ResourceArn: &w.orders})
	wantDenied(t, err, rootB, "ListTagsForResource", w.orders)
	if err := publish(w.a, w.orders); err != nil {
		t.Fatalf("owner publish: %v", err)
	}

	// AddPermission grants Publish to account B, and nothing else.
	if _, err := w.a.AddPermission(ctx, &sns.AddPermissionInput{TopicArn: &w.orders, Label: aws.String("b-publish"),
		AWSAccountId: []string{acctB}, ActionName: []string{"Publish"}}); err != nil {
		t.Fatal(err)
	}
	if err := publish(w.b, w.orders); err != nil {
		t.Fatalf("B publish after AddPermission: %v", err)
	}
	if _, err := w.b.PublishBatch(ctx, batch(w.orders)); err != nil {
		t.Fatalf("B PublishBatch (needs sns:Publish): %v", err)
	}
	_, err = subscribeSQS(w.b, w.orders, "q1")
	wantDenied(t, err, rootB, "Subscribe", w.orders)
	_, err = w.b.DeleteTopic(ctx, &sns.DeleteTopicInput{TopicArn: &w.orders})
	wantDenied(t, err, rootB, "DeleteTopic", w.orders)
	wantDenied(t, publish(w.b, w.other), rootB, "Publish", w.other)
	// A grant to the account needs B's identity policy too: B's subscriber
	// user may only subscribe.
	wantDenied(t, publish(w.bSub, w.orders), "arn:aws:iam::"+acctB+":user/subscriber", "Publish", w.orders)

	// A topic policy naming account B grants Subscribe (cross-account by ARN).
	pol := `{"Version":"2012-10-17","Statement":[{"Sid":"b-sub","Effect":"Allow","Principal":{"AWS":"222222222222"},` +
		`"Action":["sns:Subscribe","sns:Publish"],"Resource":"` + w.orders + `"}]}`
	if _, err := w.a.SetTopicAttributes(ctx, &sns.SetTopicAttributesInput{TopicArn: &w.orders,
		AttributeName: aws.String("Policy"), AttributeValue: &pol}); err != nil {
		t.Fatal(err)
	}
	subARN, err := subscribeSQS(w.bSub, w.orders, "q1")
	if err != nil {
		t.Fatalf("B subscribe with topic policy: %v", err)
	}
	ls, err := w.a.ListSubscriptionsByTopic(ctx, &sns.ListSubscriptionsByTopicInput{TopicArn: &w.orders})
	if err != nil || len(ls.Subscriptions) != 1 || aws.ToString(ls.Subscriptions[0].Owner) != acctB {
		t.Fatalf("subscriptions of A's topic: %+v %v", ls, err)
	}
	_, err = w.b.ListSubscriptionsByTopic(ctx, &sns.ListSubscriptionsByTopicInput{TopicArn: &w.orders})
	wantDenied(t, err, rootB, "ListSubscriptionsByTopic", w.orders)
	if lt, err := w.b.ListTopics(ctx, &sns.ListTopicsInput{}); err != nil || len(lt.Topics) != 0 {
		t.Fatalf("ListTopics of B lists A's topics: %+v %v", lt, err)
	}
	// The subscription's owner (B) and the topic's owner (A) may read it.
	for _, c := range []*sns.Client{w.b, w.a} {
		if _, err := c.GetSubscriptionAttributes(ctx, &sns.GetSubscriptionAttributesInput{SubscriptionArn: &subARN}); err != nil {
			t.Fatalf("GetSubscriptionAttributes: %v", err)
		}
	}
	// A's own subscription is not B's to read or delete.
	aSub, err := subscribeSQS(w.a, w.orders, "qa")
	if err != nil {
		t.Fatal(err)
	}
	_, err = w.b.GetSubscriptionAttributes(ctx, &sns.GetSubscriptionAttributesInput{SubscriptionArn: &aSub})
	wantDenied(t, err, rootB, "GetSubscriptionAttributes", aSub)
	_, err = w.b.Unsubscribe(ctx, &sns.UnsubscribeInput{SubscriptionArn: &aSub})
	wantDenied(t, err, rootB, "Unsubscribe", aSub)
	if _, err := w.b.Unsubscribe(ctx, &sns.UnsubscribeInput{SubscriptionArn: &subARN}); err != nil {
		t.Fatalf("B unsubscribes its own subscription: %v", err)
	}

	// Back to AddPermission on top of that policy, then RemovePermission
	// takes each grant back.
	if _, err := w.a.AddPermission(ctx, &sns.AddPermissionInput{TopicArn: &w.orders, Label: aws.String("b-tags"),
		AWSAccountId: []string{acctB}, ActionName: []string{"ListTagsForResource"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.b.ListTagsForResource(ctx, &sns.ListTagsForResourceInput{ResourceArn: &w.orders}); err != nil {
		t.Fatalf("B ListTagsForResource after AddPermission: %v", err)
	}
	for _, label := range []string{"b-tags", "b-sub"} {
		if _, err := w.a.RemovePermission(ctx, &sns.RemovePermissionInput{TopicArn: &w.orders, Label: aws.String(label)}); err != nil {
			t.Fatal(err)
		}
	}
	_, err = w.b.ListTagsForResource(ctx, &sns.ListTagsForResourceInput{ResourceArn: &w.orders})
	wantDenied(t, err, rootB, "ListTagsForResource", w.orders)
	wantDenied(t, publish(w.b, w.orders), rootB, "Publish", w.orders)
	_, err = w.a.RemovePermission(ctx, &sns.RemovePermissionInput{TopicArn: &w.orders, Label: aws.String("b-sub")})
	wantCode(t, err, "InvalidParameter")
	// With every statement gone, AddPermission starts a fresh policy.
	if _, err := w.a.AddPermission(ctx, &sns.AddPermissionInput{TopicArn: &w.orders, Label: aws.String("again"),
		AWSAccountId: []string{acctB}, ActionName: []string{"Publish"}}); err != nil {
		t.Fatal(err)
	}
	if err := publish(w.b, w.orders); err != nil {
		t.Fatalf("B publish after a fresh AddPermission: %v", err)
	}
	// The owner is never locked out by a policy that does not name it.
	if err := publish(w.a, w.orders); err != nil {
		t.Fatalf("owner publish: %v", err)
	}
}

func TestTopicPolicyDenyWins(t *testing.T) {
	ctx := context.Background()
	w := newPolicyWorld(t)
	set := func(pol string) {
		t.Helper()
		if _, err := w.a.SetTopicAttributes(ctx, &sns.SetTopicAttributesInput{TopicArn: &w.orders,
			AttributeName: aws.String("Policy"), AttributeValue: &pol}); err != nil {
			t.Fatal(err)
		}
	}
	// A single statement object, not a list: its Deny must hold, also for
	// the owner, and also once AddPermission has added a statement.
	set(`{"Version":"2012-10-17","Statement":{"Sid":"no-publish","Effect":"Deny","Principal":"*","Action":"sns:Publish","Resource":"` + w.orders + `"}}`)
	wantDenied(t, publish(w.a, w.orders), "arn:aws:iam::"+acctA+":root", "Publish", w.orders)
	wantDenied(t, publish(w.aDev, w.orders), "arn:aws:iam::"+acctA+":user/dev", "Publish", w.orders)
	if _, err := w.a.AddPermission(ctx, &sns.AddPermissionInput{TopicArn: &w.orders, Label: aws.String("b-publish"),
		AWSAccountId: []string{acctB}, ActionName: []string{"Publish", "GetTopicAttributes"}}); err != nil {
		t.Fatal(err)
	}
	err := publish(w.a, w.orders)
	wantDenied(t, err, "arn:aws:iam::"+acctA+":root", "Publish", w.orders)
	var ae smithy.APIError
	if errors.As(err, &ae); !strings.HasSuffix(ae.ErrorMessage(), "with an explicit deny in a resource-based policy") {
		t.Fatalf("message %q", ae.ErrorMessage())
	}
	wantDenied(t, publish(w.b, w.orders), "arn:aws:iam::"+acctB+":root", "Publish", w.orders)
	if _, err := w.b.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: &w.orders}); err != nil {
		t.Fatalf("B GetTopicAttributes granted: %v", err)
	}
	// Other actions of the owner still work; dropping the policy restores Publish.
	set("")
	if err := publish(w.a, w.orders); err != nil {
		t.Fatalf("owner publish without a policy: %v", err)
	}
	// A Deny on DeleteTopic for the owner's own users.
	set(`{"Statement":[{"Effect":"Deny","Principal":{"AWS":"arn:aws:iam::111111111111:user/dev"},"Action":"sns:DeleteTopic","Resource":"*"}]}`)
	_, err = w.aDev.DeleteTopic(ctx, &sns.DeleteTopicInput{TopicArn: &w.orders})
	wantDenied(t, err, "arn:aws:iam::"+acctA+":user/dev", "DeleteTopic", w.orders)
	if _, err := w.a.DeleteTopic(ctx, &sns.DeleteTopicInput{TopicArn: &w.orders}); err != nil {
		t.Fatalf("root DeleteTopic: %v", err)
	}
}

func TestTopicPolicySecureTransport(t *testing.T) {
	ctx := context.Background()
	w := newPolicyWorld(t)
	pol := `{"Statement":[{"Effect":"Deny","Principal":"*","Action":"sns:*","Resource":"` + w.orders + `",` +
		`"Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`
	if _, err := w.a.SetTopicAttributes(ctx, &sns.SetTopicAttributesInput{TopicArn: &w.orders,
		AttributeName: aws.String("Policy"), AttributeValue: &pol}); err != nil {
		t.Fatal(err)
	}
	wantDenied(t, publish(w.a, w.orders), "arn:aws:iam::"+acctA+":root", "Publish", w.orders)
	tlsA := w.srv.SNSClient(t, w.srv.TLSURL(), "AKIAAROOT", "secret-a", "")
	if err := publish(tlsA, w.orders); err != nil {
		t.Fatalf("publish over HTTPS: %v", err)
	}
	if err := publish(w.a, w.other); err != nil {
		t.Fatalf("publish over HTTP to a topic without the rule: %v", err)
	}
}

func TestIdentityPolicyPublishOnly(t *testing.T) {
	ctx := context.Background()
	w := newPolicyWorld(t)
	pub := "arn:aws:iam::" + acctA + ":user/publisher"
	if err := publish(w.aPub, w.orders); err != nil {
		t.Fatalf("publish where allowed: %v", err)
	}
	wantDenied(t, publish(w.aPub, w.other), pub, "Publish", w.other)
	_, err := w.aPub.DeleteTopic(ctx, &sns.DeleteTopicInput{TopicArn: &w.orders})
	wantDenied(t, err, pub, "DeleteTopic", w.orders)
	var ae smithy.APIError
	if errors.As(err, &ae); !strings.HasSuffix(ae.ErrorMessage(), "because no identity-based policy allows the SNS:DeleteTopic action") {
		t.Fatalf("message %q", ae.ErrorMessage())
	}
	_, err = w.aPub.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: &w.orders})
	wantDenied(t, err, pub, "GetTopicAttributes", w.orders)
	_, err = w.aPub.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("mine")})
	wantDenied(t, err, pub, "CreateTopic", "arn:aws:sns:us-east-1:"+acctA+":mine")
	_, err = w.aPub.ListTopics(ctx, &sns.ListTopicsInput{})
	wantCode(t, err, "AuthorizationError")
	_, err = w.aPub.PublishBatch(ctx, batch(w.other))
	wantDenied(t, err, pub, "Publish", w.other)
	if _, err := w.aPub.PublishBatch(ctx, batch(w.orders)); err != nil {
		t.Fatalf("PublishBatch where allowed: %v", err)
	}
	// The user without a policy may do everything in its own account.
	if _, err := w.aDev.DeleteTopic(ctx, &sns.DeleteTopicInput{TopicArn: &w.other}); err != nil {
		t.Fatalf("dev DeleteTopic: %v", err)
	}
	// The topic still exists for the publisher.
	if err := publish(w.aPub, w.orders); err != nil {
		t.Fatal(err)
	}
}

func TestTopicPolicyValidation(t *testing.T) {
	ctx := context.Background()
	w := newPolicyWorld(t)
	for _, tc := range []struct{ name, policy, want string }{
		{"null statement", `{"Statement":null}`, "Invalid parameter: Policy Error: "},
		{"not json", `{"Statement":[`, "Invalid parameter: Policy Error: "},
		{"no principal", `{"Statement":[{"Effect":"Allow","Action":"sns:Publish","Resource":"*"}]}`, "Invalid parameter: Policy Error: Statement[0]"},
		{"bad effect", `{"Statement":{"Effect":"Maybe","Principal":"*","Action":"sns:Publish","Resource":"*"}}`, "Invalid parameter: Policy Error: Statement[0]"},
		{"too big", `{"Id":"` + strings.Repeat("x", 31<<10) + `","Statement":[{"Effect":"Allow","Principal":"*","Action":"sns:Publish","Resource":"*"}]}`, "Invalid parameter: Policy Error: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := w.a.SetTopicAttributes(ctx, &sns.SetTopicAttributesInput{TopicArn: &w.orders,
				AttributeName: aws.String("Policy"), AttributeValue: aws.String(tc.policy)})
			wantCode(t, err, "InvalidParameter")
			var ae smithy.APIError
			if errors.As(err, &ae); !strings.HasPrefix(ae.ErrorMessage(), tc.want) {
				t.Fatalf("message %q, want prefix %q", ae.ErrorMessage(), tc.want)
			}
			_, err = w.a.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("p"), Attributes: map[string]string{"Policy": tc.policy}})
			wantCode(t, err, "InvalidParameter")
		})
	}
}
