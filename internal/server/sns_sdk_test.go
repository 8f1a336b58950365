package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/smithy-go"

	"github.com/sealpost/sealpost/internal/testserver"
)

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("want AWS error %s, got %v", code, err)
	}
	if ae.ErrorCode() != code {
		t.Fatalf("want error code %s, got %s (%s)", code, ae.ErrorCode(), ae.ErrorMessage())
	}
}

func newClient(t *testing.T) (*testserver.Server, *sns.Client) {
	srv := testserver.Start(t, testserver.Options{})
	return srv, srv.SNSClient(t, srv.URL(), "", "", "")
}

func TestTopicLifecycle(t *testing.T) {
	ctx := context.Background()
	srv, c := newClient(t)
	out, err := c.CreateTopic(ctx, &sns.CreateTopicInput{
		Name:       aws.String("orders"),
		Attributes: map[string]string{"DisplayName": "Orders"},
		Tags:       []types.Tag{{Key: aws.String("team"), Value: aws.String("core")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(out.TopicArn)
	if arn != "arn:aws:sns:us-east-1:000000000000:orders" {
		t.Fatalf("arn %s", arn)
	}
	// idempotent with the same attributes
	again, err := c.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("orders"), Attributes: map[string]string{"DisplayName": "Orders"}})
	if err != nil || aws.ToString(again.TopicArn) != arn {
		t.Fatalf("idempotent create: %v %v", again, err)
	}
	_, err = c.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("orders"), Attributes: map[string]string{"DisplayName": "Other"}})
	wantCode(t, err, "InvalidParameter")

	attrs, err := c.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: &arn})
	if err != nil {
		t.Fatal(err)
	}
	a := attrs.Attributes
	if a["TopicArn"] != arn || a["Owner"] != "000000000000" || a["DisplayName"] != "Orders" ||
		a["SubscriptionsConfirmed"] != "0" || a["SubscriptionsPending"] != "0" || a["SubscriptionsDeleted"] != "0" {
		t.Fatalf("attributes %v", a)
	}
	var pol map[string]any
	if err := json.Unmarshal([]byte(a["Policy"]), &pol); err != nil || pol["Id"] != "__default_policy_ID" {
		t.Fatalf("default policy %q", a["Policy"])
	}
	var edp map[string]map[string]any
	if err := json.Unmarshal([]byte(a["EffectiveDeliveryPolicy"]), &edp); err != nil || edp["http"] == nil {
		t.Fatalf("EffectiveDeliveryPolicy %q", a["EffectiveDeliveryPolicy"])
	}

	for name, value := range map[string]string{
		"DisplayName":      "New name",
		"SignatureVersion": "2",
		"DeliveryPolicy":   `{"http":{"defaultHealthyRetryPolicy":{"minDelayTarget":5,"maxDelayTarget":10,"numRetries":4,"numNoDelayRetries":0,"numMinDelayRetries":0,"numMaxDelayRetries":0,"backoffFunction":"linear"}}}`,
		"TracingConfig":    "Active",
	} {
		if _, err := c.SetTopicAttributes(ctx, &sns.SetTopicAttributesInput{TopicArn: &arn, AttributeName: aws.String(name), AttributeValue: aws.String(value)}); err != nil {
			t.Fatalf("set %s: %v", name, err)
		}
	}
	// KmsMasterKeyId turns SSE on: requests to SSE topics need HTTPS.
	_, err = c.SetTopicAttributes(ctx, &sns.SetTopicAttributesInput{TopicArn: &arn, AttributeName: aws.String("KmsMasterKeyId"), AttributeValue: aws.String("alias/aws/sns")})
	wantCode(t, err, "InvalidSecurity")
	tc := srv.SNSClient(t, srv.TLSURL(), "", "", "")
	if _, err := tc.SetTopicAttributes(ctx, &sns.SetTopicAttributesInput{TopicArn: &arn, AttributeName: aws.String("KmsMasterKeyId"), AttributeValue: aws.String("alias/aws/sns")}); err != nil {
		t.Fatalf("set KmsMasterKeyId over HTTPS: %v", err)
	}
	_, err = c.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: &arn})
	wantCode(t, err, "InvalidSecurity")
	attrs, _ = tc.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: &arn})
	if attrs.Attributes["SignatureVersion"] != "2" || attrs.Attributes["KmsMasterKeyId"] != "alias/aws/sns" || attrs.Attributes["DisplayName"] != "New name" {
		t.Fatalf("after set: %v", attrs.Attributes)
	}
	_, err = tc.SetTopicAttributes(ctx, &sns.SetTopicAttributesInput{TopicArn: &arn, AttributeName: aws.String("SignatureVersion"), AttributeValue: aws.String("3")})
	wantCode(t, err, "InvalidParameter")
	_, err = tc.SetTopicAttributes(ctx, &sns.SetTopicAttributesInput{TopicArn: &arn, AttributeName: aws.String("Bogus"), AttributeValue: aws.String("x")})
	wantCode(t, err, "InvalidParameter")
	_, err = tc.SetTopicAttributes(ctx, &sns.SetTopicAttributesInput{TopicArn: &arn, AttributeName: aws.String("DeliveryPolicy"), AttributeValue: aws.String(`{"http":{"defaultHealthyRetryPolicy":{"numRetries":1000}}}`)})
	wantCode(t, err, "InvalidParameter")
	// KmsMasterKeyId "" turns SSE off
	if _, err := tc.SetTopicAttributes(ctx, &sns.SetTopicAttributesInput{TopicArn: &arn, AttributeName: aws.String("KmsMasterKeyId"), AttributeValue: aws.String("")}); err != nil {
		t.Fatal(err)
	}
	attrs, _ = c.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: &arn})
	if _, ok := attrs.Attributes["KmsMasterKeyId"]; ok {
		t.Fatalf("KmsMasterKeyId still set")
	}

	// tags
	if _, err := c.TagResource(ctx, &sns.TagResourceInput{ResourceArn: &arn, Tags: []types.Tag{{Key: aws.String("env"), Value: aws.String("dev")}}}); err != nil {
		t.Fatal(err)
	}
	tags, err := c.ListTagsForResource(ctx, &sns.ListTagsForResourceInput{ResourceArn: &arn})
	if err != nil || len(tags.Tags) != 2 || aws.ToString(tags.Tags[0].Key) != "env" {
		t.Fatalf("tags %+v %v", tags, err)
	}
	if _, err := c.UntagResource(ctx, &sns.UntagResourceInput{ResourceArn: &arn, TagKeys: []string{"env"}}); err != nil {
		t.Fatal(err)
	}
	tags, _ = c.ListTagsForResource(ctx, &sns.ListTagsForResourceInput{ResourceArn: &arn})
	if len(tags.Tags) != 1 {
		t.Fatalf("after untag %+v", tags.Tags)
	}
	var many []types.Tag
	for i := 0; i < 51; i++ {
		many = append(many, types.Tag{Key: aws.String(fmt.Sprintf("k%d", i)), Value: aws.String("v")})
	}
	_, err = c.TagResource(ctx, &sns.TagResourceInput{ResourceArn: &arn, Tags: many})
	wantCode(t, err, "TagLimitExceeded")
	missing := "arn:aws:sns:us-east-1:000000000000:missing"
	_, err = c.ListTagsForResource(ctx, &sns.ListTagsForResourceInput{ResourceArn: &missing})
	wantCode(t, err, "ResourceNotFound")

	// permissions
	if _, err := c.AddPermission(ctx, &sns.AddPermissionInput{TopicArn: &arn, Label: aws.String("allow-other"),
		AWSAccountId: []string{"111122223333"}, ActionName: []string{"Publish", "Subscribe"}}); err != nil {
		t.Fatal(err)
	}
	attrs, _ = c.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: &arn})
	if !strings.Contains(attrs.Attributes["Policy"], `"Sid":"allow-other"`) || !strings.Contains(attrs.Attributes["Policy"], "arn:aws:iam::111122223333:root") {
		t.Fatalf("policy after AddPermission: %s", attrs.Attributes["Policy"])
	}
	_, err = c.AddPermission(ctx, &sns.AddPermissionInput{TopicArn: &arn, Label: aws.String("allow-other"), AWSAccountId: []string{"111122223333"}, ActionName: []string{"Publish"}})
	wantCode(t, err, "InvalidParameter")
	if _, err := c.RemovePermission(ctx, &sns.RemovePermissionInput{TopicArn: &arn, Label: aws.String("allow-other")}); err != nil {
		t.Fatal(err)
	}
	attrs, _ = c.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: &arn})
	if strings.Contains(attrs.Attributes["Policy"], "allow-other") {
		t.Fatalf("statement not removed")
	}
	_, err = c.RemovePermission(ctx, &sns.RemovePermissionInput{TopicArn: &arn, Label: aws.String("allow-other")})
	wantCode(t, err, "InvalidParameter")

	// delete: idempotent
	if _, err := c.DeleteTopic(ctx, &sns.DeleteTopicInput{TopicArn: &arn}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteTopic(ctx, &sns.DeleteTopicInput{TopicArn: &arn}); err != nil {
		t.Fatal(err)
	}
	_, err = c.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: &arn})
	wantCode(t, err, "NotFound")
	var nf *types.NotFoundException
	if !errors.As(err, &nf) {
		t.Fatalf("want *types.NotFoundException, got %T", err)
	}
}

func TestCreateTopicValidation(t *testing.T) {
	ctx := context.Background()
	_, c := newClient(t)
	for _, name := range []string{"", "has space", "dot.name", strings.Repeat("a", 257), "ünicode"} {
		_, err := c.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(name)})
		if name == "" {
			if err == nil {
				t.Fatalf("empty name accepted")
			}
			continue
		}
		wantCode(t, err, "InvalidParameter")
	}
	_, err := c.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("x"), Attributes: map[string]string{"Nope": "1"}})
	wantCode(t, err, "InvalidParameter")
	_, err = c.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("nofifo"), Attributes: map[string]string{"FifoTopic": "true"}})
	wantCode(t, err, "InvalidParameter")
	out, err := c.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("jobs.fifo"), Attributes: map[string]string{"FifoTopic": "true", "ContentBasedDeduplication": "true"}})
	if err != nil {
		t.Fatal(err)
	}
	attrs, _ := c.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: out.TopicArn})
	if attrs.Attributes["FifoTopic"] != "true" || attrs.Attributes["ContentBasedDeduplication"] != "true" || attrs.Attributes["FifoThroughputScope"] != "Topic" {
		t.Fatalf("fifo attributes %v", attrs.Attributes)
	}
	_, err = c.SetTopicAttributes(ctx, &sns.SetTopicAttributesInput{TopicArn: out.TopicArn, AttributeName: aws.String("FifoTopic"), AttributeValue: aws.String("false")})
	wantCode(t, err, "InvalidParameter")
	_, err = c.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: aws.String("not-an-arn")})
	wantCode(t, err, "InvalidParameter")
}

func TestListTopicsPaging(t *testing.T) {
	ctx := context.Background()
	_, c := newClient(t)
	for i := 0; i < 230; i++ {
		if _, err := c.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(fmt.Sprintf("t%03d", i))}); err != nil {
			t.Fatal(err)
		}
	}
	p := sns.NewListTopicsPaginator(c, &sns.ListTopicsInput{})
	seen := map[string]bool{}
	pages := 0
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		if len(page.Topics) > 100 {
			t.Fatalf("page of %d", len(page.Topics))
		}
		for _, tp := range page.Topics {
			seen[aws.ToString(tp.TopicArn)] = true
		}
	}
	if len(seen) != 230 || pages != 3 {
		t.Fatalf("%d topics in %d pages", len(seen), pages)
	}
	_, err := c.ListTopics(ctx, &sns.ListTopicsInput{NextToken: aws.String("garbage!")})
	wantCode(t, err, "InvalidParameter")
	// another region sees nothing
	srv2c := c
	_ = srv2c
}

func TestRegionAndAccountFromCredentials(t *testing.T) {
	ctx := context.Background()
	srv, _ := newClient(t)
	eu := srv.SNSClient(t, srv.URL(), "", "", "eu-west-1")
	out, err := eu.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("regional")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.TopicArn) != "arn:aws:sns:eu-west-1:000000000000:regional" {
		t.Fatalf("arn %s", aws.ToString(out.TopicArn))
	}
	us := srv.SNSClient(t, srv.URL(), "", "", "us-east-1")
	list, _ := us.ListTopics(ctx, &sns.ListTopicsInput{})
	if len(list.Topics) != 0 {
		t.Fatalf("us-east-1 sees %v", list.Topics)
	}
}

func mkTopic(t *testing.T, c *sns.Client, name string) string {
	t.Helper()
	out, err := c.CreateTopic(context.Background(), &sns.CreateTopicInput{Name: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.TopicArn)
}

func TestSubscriptions(t *testing.T) {
	ctx := context.Background()
	_, c := newClient(t)
	arn := mkTopic(t, c, "subs")
	q := "arn:aws:sqs:us-east-1:000000000000:queue1"
	sub, err := c.Subscribe(ctx, &sns.SubscribeInput{TopicArn: &arn, Protocol: aws.String("sqs"), Endpoint: &q,
		Attributes: map[string]string{"RawMessageDelivery": "true"}})
	if err != nil {
		t.Fatal(err)
	}
	subArn := aws.ToString(sub.SubscriptionArn)
	if !strings.HasPrefix(subArn, arn+":") {
		t.Fatalf("subscription arn %s", subArn)
	}
	// same endpoint again: same subscription
	again, err := c.Subscribe(ctx, &sns.SubscribeInput{TopicArn: &arn, Protocol: aws.String("sqs"), Endpoint: &q, Attributes: map[string]string{"RawMessageDelivery": "true"}})
	if err != nil || aws.ToString(again.SubscriptionArn) != subArn {
		t.Fatalf("resubscribe: %v %v", again, err)
	}
	httpSub, err := c.Subscribe(ctx, &sns.SubscribeInput{TopicArn: &arn, Protocol: aws.String("http"), Endpoint: aws.String("http://127.0.0.1:1/hook")})
	if err != nil || aws.ToString(httpSub.SubscriptionArn) != "pending confirmation" {
		t.Fatalf("http subscribe: %v %v", aws.ToString(httpSub.SubscriptionArn), err)
	}
	withArn, err := c.Subscribe(ctx, &sns.SubscribeInput{TopicArn: &arn, Protocol: aws.String("https"), Endpoint: aws.String("https://127.0.0.1:1/hook"), ReturnSubscriptionArn: true})
	if err != nil || !strings.HasPrefix(aws.ToString(withArn.SubscriptionArn), arn+":") {
		t.Fatalf("ReturnSubscriptionArn: %v %v", withArn, err)
	}
	pendingArn := aws.ToString(withArn.SubscriptionArn)
	ga, err := c.GetSubscriptionAttributes(ctx, &sns.GetSubscriptionAttributesInput{SubscriptionArn: &pendingArn})
	if err != nil || ga.Attributes["PendingConfirmation"] != "true" || ga.Attributes["Protocol"] != "https" || ga.Attributes["EffectiveDeliveryPolicy"] == "" {
		t.Fatalf("pending attrs %v %v", ga, err)
	}

	for _, tc := range []struct{ proto, endpoint string }{
		{"email", "a@example.com"}, {"lambda", "arn:aws:lambda:us-east-1:000000000000:function:f"}, {"carrier-pigeon", "x"},
		{"http", "ftp://x"}, {"https", "http://plain"}, {"sqs", "not-an-arn"},
	} {
		_, err := c.Subscribe(ctx, &sns.SubscribeInput{TopicArn: &arn, Protocol: aws.String(tc.proto), Endpoint: aws.String(tc.endpoint)})
		wantCode(t, err, "InvalidParameter")
	}
	_, err = c.Subscribe(ctx, &sns.SubscribeInput{TopicArn: aws.String("arn:aws:sns:us-east-1:000000000000:nope"), Protocol: aws.String("sqs"), Endpoint: &q})
	wantCode(t, err, "NotFound")

	attrs, err := c.GetSubscriptionAttributes(ctx, &sns.GetSubscriptionAttributesInput{SubscriptionArn: &subArn})
	if err != nil {
		t.Fatal(err)
	}
	if attrs.Attributes["RawMessageDelivery"] != "true" || attrs.Attributes["PendingConfirmation"] != "false" || attrs.Attributes["Endpoint"] != q || attrs.Attributes["TopicArn"] != arn {
		t.Fatalf("sub attrs %v", attrs.Attributes)
	}
	set := func(name, value string) error {
		_, err := c.SetSubscriptionAttributes(ctx, &sns.SetSubscriptionAttributesInput{SubscriptionArn: &subArn, AttributeName: aws.String(name), AttributeValue: aws.String(value)})
		return err
	}
	if err := set("FilterPolicy", `{"store":["example_corp"],"price_usd":[{"numeric":[">=",100]}]}`); err != nil {
		t.Fatal(err)
	}
	if err := set("FilterPolicyScope", "MessageBody"); err != nil {
		t.Fatal(err)
	}
	if err := set("RedrivePolicy", `{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:dlq"}`); err != nil {
		t.Fatal(err)
	}
	attrs, _ = c.GetSubscriptionAttributes(ctx, &sns.GetSubscriptionAttributesInput{SubscriptionArn: &subArn})
	if attrs.Attributes["FilterPolicyScope"] != "MessageBody" || !strings.Contains(attrs.Attributes["FilterPolicy"], "example_corp") || !strings.Contains(attrs.Attributes["RedrivePolicy"], "dlq") {
		t.Fatalf("after set %v", attrs.Attributes)
	}
	wantCode(t, set("FilterPolicy", `{"a":[{"numeric":[">"]}]}`), "InvalidParameter")
	wantCode(t, set("FilterPolicy", `not json`), "InvalidParameter")
	wantCode(t, set("FilterPolicyScope", "Nowhere"), "InvalidParameter")
	wantCode(t, set("RawMessageDelivery", "yes"), "InvalidParameter")
	wantCode(t, set("RedrivePolicy", `{"deadLetterTargetArn":"nope"}`), "InvalidParameter")
	// AWS: the subscription and its dead-letter queue must be in the same
	// account and Region.
	wantCode(t, set("RedrivePolicy", `{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:111111111111:dlq"}`), "InvalidParameter")
	wantCode(t, set("RedrivePolicy", `{"deadLetterTargetArn":"arn:aws:sqs:eu-west-1:000000000000:dlq"}`), "InvalidParameter")
	wantCode(t, set("DeliveryPolicy", `{"healthyRetryPolicy":{"numRetries":3}}`), "InvalidParameter") // sqs: no delivery policy
	wantCode(t, set("Unknown", "1"), "InvalidParameter")
	// filter policy limits: more than 5 keys, with AWS's message
	err = set("FilterPolicy", `{"a":["1"],"b":["1"],"c":["1"],"d":["1"],"e":["1"],"f":["1"]}`)
	wantCode(t, err, "InvalidParameter")
	var ae smithy.APIError
	if errors.As(err, &ae); ae.ErrorMessage() != "Invalid parameter: FilterPolicy: Filter policy can not have more than 5 keys" {
		t.Fatalf("message %q", ae.ErrorMessage())
	}
	_, err = c.Subscribe(ctx, &sns.SubscribeInput{TopicArn: &arn, Protocol: aws.String("sqs"), Endpoint: aws.String("arn:aws:sqs:us-east-1:000000000000:q9"),
		Attributes: map[string]string{"FilterPolicy": `{"a":["1"],"b":["1"],"c":["1"],"d":["1"],"e":["1"],"f":["1"]}`}})
	if errors.As(err, &ae); ae.ErrorMessage() != "Invalid parameter: Attributes Reason: FilterPolicy: Filter policy can not have more than 5 keys" {
		t.Fatalf("Subscribe message %q", ae.ErrorMessage())
	}
	if _, err := c.SetSubscriptionAttributes(ctx, &sns.SetSubscriptionAttributesInput{SubscriptionArn: &pendingArn,
		AttributeName: aws.String("DeliveryPolicy"), AttributeValue: aws.String(`{"healthyRetryPolicy":{"minDelayTarget":1,"maxDelayTarget":5,"numRetries":5,"backoffFunction":"exponential"}}`)}); err != nil {
		t.Fatal(err)
	}

	ta, _ := c.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: &arn})
	if ta.Attributes["SubscriptionsConfirmed"] != "1" || ta.Attributes["SubscriptionsPending"] != "2" {
		t.Fatalf("counts %v", ta.Attributes)
	}
	list, err := c.ListSubscriptionsByTopic(ctx, &sns.ListSubscriptionsByTopicInput{TopicArn: &arn})
	if err != nil || len(list.Subscriptions) != 3 {
		t.Fatalf("by topic %+v %v", list, err)
	}
	pending := 0
	for _, s := range list.Subscriptions {
		if aws.ToString(s.SubscriptionArn) == "PendingConfirmation" {
			pending++
		}
	}
	if pending != 2 {
		t.Fatalf("pending rows %d", pending)
	}
	all, err := c.ListSubscriptions(ctx, &sns.ListSubscriptionsInput{})
	if err != nil || len(all.Subscriptions) != 3 {
		t.Fatalf("all %+v %v", all, err)
	}
	_, err = c.ConfirmSubscription(ctx, &sns.ConfirmSubscriptionInput{TopicArn: &arn, Token: aws.String("bogus")})
	wantCode(t, err, "InvalidParameter")

	if _, err := c.Unsubscribe(ctx, &sns.UnsubscribeInput{SubscriptionArn: &subArn}); err != nil {
		t.Fatal(err)
	}
	_, err = c.GetSubscriptionAttributes(ctx, &sns.GetSubscriptionAttributesInput{SubscriptionArn: &subArn})
	wantCode(t, err, "NotFound")
	_, err = c.Unsubscribe(ctx, &sns.UnsubscribeInput{SubscriptionArn: &subArn})
	wantCode(t, err, "NotFound")
	_, err = c.Unsubscribe(ctx, &sns.UnsubscribeInput{SubscriptionArn: aws.String("garbage")})
	wantCode(t, err, "InvalidParameter")

	// deleting the topic deletes its subscriptions
	c.DeleteTopic(ctx, &sns.DeleteTopicInput{TopicArn: &arn})
	_, err = c.GetSubscriptionAttributes(ctx, &sns.GetSubscriptionAttributesInput{SubscriptionArn: &pendingArn})
	wantCode(t, err, "NotFound")
}

func TestPublish(t *testing.T) {
	ctx := context.Background()
	srv, c := newClient(t)
	arn := mkTopic(t, c, "pub")
	for _, q := range []string{"q1", "q2"} {
		if _, err := c.Subscribe(ctx, &sns.SubscribeInput{TopicArn: &arn, Protocol: aws.String("sqs"), Endpoint: aws.String("arn:aws:sqs:us-east-1:000000000000:" + q)}); err != nil {
			t.Fatal(err)
		}
	}
	out, err := c.Publish(ctx, &sns.PublishInput{
		TopicArn: &arn,
		Message:  aws.String("hello"),
		Subject:  aws.String("greeting"),
		MessageAttributes: map[string]types.MessageAttributeValue{
			"s":   {DataType: aws.String("String"), StringValue: aws.String("v")},
			"n":   {DataType: aws.String("Number"), StringValue: aws.String("12.5")},
			"b":   {DataType: aws.String("Binary"), BinaryValue: []byte{0, 1, 2}},
			"arr": {DataType: aws.String("String.Array"), StringValue: aws.String(`["a",1,true]`)},
			"c":   {DataType: aws.String("String.custom"), StringValue: aws.String("x")},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(aws.ToString(out.MessageId)) != 36 {
		t.Fatalf("message id %q", aws.ToString(out.MessageId))
	}
	if n, _ := srv.SNS().Store().PendingDeliveries(ctx, ""); n != 2 {
		t.Fatalf("pending deliveries %d, want 2", n)
	}
	// TargetArn works like TopicArn
	if _, err := c.Publish(ctx, &sns.PublishInput{TargetArn: &arn, Message: aws.String("t")}); err != nil {
		t.Fatal(err)
	}
	// MessageStructure=json
	if _, err := c.Publish(ctx, &sns.PublishInput{TopicArn: &arn, MessageStructure: aws.String("json"), Message: aws.String(`{"default":"d","sqs":"s"}`)}); err != nil {
		t.Fatal(err)
	}
	bad := []struct {
		name string
		in   sns.PublishInput
		code string
	}{
		{"no default", sns.PublishInput{TopicArn: &arn, MessageStructure: aws.String("json"), Message: aws.String(`{"sqs":"s"}`)}, "InvalidParameter"},
		{"bad json", sns.PublishInput{TopicArn: &arn, MessageStructure: aws.String("json"), Message: aws.String(`{`)}, "InvalidParameter"},
		{"bad structure", sns.PublishInput{TopicArn: &arn, MessageStructure: aws.String("xml"), Message: aws.String(`x`)}, "InvalidParameter"},
		{"too long", sns.PublishInput{TopicArn: &arn, Message: aws.String(strings.Repeat("x", 262145))}, "InvalidParameter"},
		{"too long with attrs", sns.PublishInput{TopicArn: &arn, Message: aws.String(strings.Repeat("x", 262140)),
			MessageAttributes: map[string]types.MessageAttributeValue{"k": {DataType: aws.String("String"), StringValue: aws.String("vvvvvv")}}}, "InvalidParameter"},
		{"long subject", sns.PublishInput{TopicArn: &arn, Message: aws.String("m"), Subject: aws.String(strings.Repeat("s", 100))}, "InvalidParameter"},
		{"subject newline", sns.PublishInput{TopicArn: &arn, Message: aws.String("m"), Subject: aws.String("a\nb")}, "InvalidParameter"},
		{"missing topic", sns.PublishInput{TopicArn: aws.String("arn:aws:sns:us-east-1:000000000000:none"), Message: aws.String("m")}, "NotFound"},
		{"bad attr type", sns.PublishInput{TopicArn: &arn, Message: aws.String("m"), MessageAttributes: map[string]types.MessageAttributeValue{"k": {DataType: aws.String("Blob"), StringValue: aws.String("v")}}}, "ParameterValueInvalid"},
		{"bad number", sns.PublishInput{TopicArn: &arn, Message: aws.String("m"), MessageAttributes: map[string]types.MessageAttributeValue{"k": {DataType: aws.String("Number"), StringValue: aws.String("abc")}}}, "ParameterValueInvalid"},
		{"number range", sns.PublishInput{TopicArn: &arn, Message: aws.String("m"), MessageAttributes: map[string]types.MessageAttributeValue{"k": {DataType: aws.String("Number"), StringValue: aws.String("1e10")}}}, "ParameterValueInvalid"},
		{"bad attr name", sns.PublishInput{TopicArn: &arn, Message: aws.String("m"), MessageAttributes: map[string]types.MessageAttributeValue{"a b": {DataType: aws.String("String"), StringValue: aws.String("v")}}}, "ParameterValueInvalid"},
		{"reserved attr name", sns.PublishInput{TopicArn: &arn, Message: aws.String("m"), MessageAttributes: map[string]types.MessageAttributeValue{"AWS.x": {DataType: aws.String("String"), StringValue: aws.String("v")}}}, "ParameterValueInvalid"},
		{"empty attr value", sns.PublishInput{TopicArn: &arn, Message: aws.String("m"), MessageAttributes: map[string]types.MessageAttributeValue{"k": {DataType: aws.String("String"), StringValue: aws.String("")}}}, "ParameterValueInvalid"},
		{"bad array", sns.PublishInput{TopicArn: &arn, Message: aws.String("m"), MessageAttributes: map[string]types.MessageAttributeValue{"k": {DataType: aws.String("String.Array"), StringValue: aws.String("[")}}}, "ParameterValueInvalid"},
		{"dedup on standard", sns.PublishInput{TopicArn: &arn, Message: aws.String("m"), MessageDeduplicationId: aws.String("d")}, "InvalidParameter"},
	}
	for _, tc := range bad {
		_, err := c.Publish(ctx, &tc.in)
		if err == nil {
			t.Fatalf("%s: accepted", tc.name)
		}
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != tc.code {
			t.Fatalf("%s: got %v, want %s", tc.name, err, tc.code)
		}
	}
	var ipv *types.InvalidParameterValueException
	_, err = c.Publish(ctx, &bad[8].in)
	if !errors.As(err, &ipv) {
		t.Fatalf("want *types.InvalidParameterValueException, got %T", err)
	}
	// 100 attributes are fine; 101 are not
	attrs := map[string]types.MessageAttributeValue{}
	for i := 0; i < 101; i++ {
		attrs[fmt.Sprintf("a%d", i)] = types.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String("v")}
	}
	_, err = c.Publish(ctx, &sns.PublishInput{TopicArn: &arn, Message: aws.String("m"), MessageAttributes: attrs})
	wantCode(t, err, "ParameterValueInvalid")
}

func TestPublishFIFO(t *testing.T) {
	ctx := context.Background()
	_, c := newClient(t)
	out, err := c.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("f.fifo"), Attributes: map[string]string{"FifoTopic": "true"}})
	if err != nil {
		t.Fatal(err)
	}
	arn := out.TopicArn
	_, err = c.Publish(ctx, &sns.PublishInput{TopicArn: arn, Message: aws.String("m"), MessageDeduplicationId: aws.String("d")})
	wantCode(t, err, "InvalidParameter") // no group
	_, err = c.Publish(ctx, &sns.PublishInput{TopicArn: arn, Message: aws.String("m"), MessageGroupId: aws.String("g")})
	wantCode(t, err, "InvalidParameter") // no dedup id, no content-based dedup
	p1, err := c.Publish(ctx, &sns.PublishInput{TopicArn: arn, Message: aws.String("m"), MessageGroupId: aws.String("g"), MessageDeduplicationId: aws.String("d1")})
	if err != nil || aws.ToString(p1.SequenceNumber) == "" {
		t.Fatalf("fifo publish %v %v", p1, err)
	}
	p2, err := c.Publish(ctx, &sns.PublishInput{TopicArn: arn, Message: aws.String("m"), MessageGroupId: aws.String("g"), MessageDeduplicationId: aws.String("d1")})
	if err != nil || aws.ToString(p2.MessageId) != aws.ToString(p1.MessageId) {
		t.Fatalf("dedup: %v %v", p2, err)
	}
	_, err = c.Subscribe(ctx, &sns.SubscribeInput{TopicArn: arn, Protocol: aws.String("http"), Endpoint: aws.String("http://127.0.0.1:1/")})
	wantCode(t, err, "InvalidParameter")
}

func TestPublishBatch(t *testing.T) {
	ctx := context.Background()
	srv, c := newClient(t)
	arn := mkTopic(t, c, "batch")
	c.Subscribe(ctx, &sns.SubscribeInput{TopicArn: &arn, Protocol: aws.String("sqs"), Endpoint: aws.String("arn:aws:sqs:us-east-1:000000000000:q")})
	entries := []types.PublishBatchRequestEntry{
		{Id: aws.String("ok1"), Message: aws.String("one")},
		{Id: aws.String("bad"), Message: aws.String("two"), Subject: aws.String(strings.Repeat("s", 120))},
		{Id: aws.String("ok2"), Message: aws.String("three"), MessageAttributes: map[string]types.MessageAttributeValue{"k": {DataType: aws.String("String"), StringValue: aws.String("v")}}},
	}
	out, err := c.PublishBatch(ctx, &sns.PublishBatchInput{TopicArn: &arn, PublishBatchRequestEntries: entries})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Successful) != 2 || len(out.Failed) != 1 || aws.ToString(out.Failed[0].Id) != "bad" ||
		aws.ToString(out.Failed[0].Code) != "InvalidParameter" || !out.Failed[0].SenderFault {
		t.Fatalf("batch result %+v", out)
	}
	if n, _ := srv.SNS().Store().PendingDeliveries(ctx, ""); n != 2 {
		t.Fatalf("pending %d", n)
	}
	var eleven []types.PublishBatchRequestEntry
	for i := 0; i < 11; i++ {
		eleven = append(eleven, types.PublishBatchRequestEntry{Id: aws.String(fmt.Sprint(i)), Message: aws.String("m")})
	}
	_, err = c.PublishBatch(ctx, &sns.PublishBatchInput{TopicArn: &arn, PublishBatchRequestEntries: eleven})
	wantCode(t, err, "TooManyEntriesInBatchRequest")
	_, err = c.PublishBatch(ctx, &sns.PublishBatchInput{TopicArn: &arn, PublishBatchRequestEntries: []types.PublishBatchRequestEntry{}})
	wantCode(t, err, "EmptyBatchRequest")
	_, err = c.PublishBatch(ctx, &sns.PublishBatchInput{TopicArn: &arn, PublishBatchRequestEntries: []types.PublishBatchRequestEntry{
		{Id: aws.String("a"), Message: aws.String("m")}, {Id: aws.String("a"), Message: aws.String("m")}}})
	wantCode(t, err, "BatchEntryIdsNotDistinct")
	_, err = c.PublishBatch(ctx, &sns.PublishBatchInput{TopicArn: &arn, PublishBatchRequestEntries: []types.PublishBatchRequestEntry{
		{Id: aws.String("a b"), Message: aws.String("m")}}})
	wantCode(t, err, "InvalidBatchEntryId")
	big := strings.Repeat("x", 100000)
	_, err = c.PublishBatch(ctx, &sns.PublishBatchInput{TopicArn: &arn, PublishBatchRequestEntries: []types.PublishBatchRequestEntry{
		{Id: aws.String("a"), Message: &big}, {Id: aws.String("b"), Message: &big}, {Id: aws.String("c"), Message: &big}}})
	wantCode(t, err, "BatchRequestTooLong")
}

func TestDataProtectionPolicy(t *testing.T) {
	ctx := context.Background()
	_, c := newClient(t)
	arn := mkTopic(t, c, "dpp")
	pol := `{"Name":"p","Version":"2021-06-01","Statement":[]}`
	if _, err := c.PutDataProtectionPolicy(ctx, &sns.PutDataProtectionPolicyInput{ResourceArn: &arn, DataProtectionPolicy: &pol}); err != nil {
		t.Fatal(err)
	}
	got, err := c.GetDataProtectionPolicy(ctx, &sns.GetDataProtectionPolicyInput{ResourceArn: &arn})
	if err != nil || aws.ToString(got.DataProtectionPolicy) != pol {
		t.Fatalf("%v %v", got, err)
	}
}

func TestUnsupportedActions(t *testing.T) {
	ctx := context.Background()
	_, c := newClient(t)
	_, err := c.CreatePlatformApplication(ctx, &sns.CreatePlatformApplicationInput{Name: aws.String("a"), Platform: aws.String("GCM"), Attributes: map[string]string{}})
	wantCode(t, err, "InvalidAction")
	_, err = c.Publish(ctx, &sns.PublishInput{PhoneNumber: aws.String("+15555550100"), Message: aws.String("hi")})
	wantCode(t, err, "InvalidParameter")
	_, err = c.GetSMSAttributes(ctx, &sns.GetSMSAttributesInput{})
	wantCode(t, err, "InvalidAction")
}

func TestAccountsFromCredentialsFile(t *testing.T) {
	ctx := context.Background()
	path := t.TempDir() + "/creds.json"
	if err := os.WriteFile(path, []byte(`{"accounts":[
		{"id":"111122223333","users":[{"name":"alice","accessKeys":[{"id":"AKALICE","secret":"s1"}]}]},
		{"id":"444455556666","users":[{"name":"bob","accessKeys":[{"id":"AKBOB","secret":"s2"}]}]}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := testserver.Start(t, testserver.Options{Args: []string{"--credentials", path}})
	alice := srv.SNSClient(t, srv.URL(), "AKALICE", "s1", "")
	bob := srv.SNSClient(t, srv.URL(), "AKBOB", "s2", "")
	a, err := alice.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("mine")})
	if err != nil || aws.ToString(a.TopicArn) != "arn:aws:sns:us-east-1:111122223333:mine" {
		t.Fatalf("alice: %v %v", aws.ToString(a.TopicArn), err)
	}
	b, err := bob.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("mine")})
	if err != nil || aws.ToString(b.TopicArn) != "arn:aws:sns:us-east-1:444455556666:mine" {
		t.Fatalf("bob: %v %v", aws.ToString(b.TopicArn), err)
	}
	list, _ := bob.ListTopics(ctx, &sns.ListTopicsInput{})
	if len(list.Topics) != 1 || aws.ToString(list.Topics[0].TopicArn) != aws.ToString(b.TopicArn) {
		t.Fatalf("bob lists %v", list.Topics)
	}
	attrs, _ := alice.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: a.TopicArn})
	if attrs.Attributes["Owner"] != "111122223333" {
		t.Fatalf("owner %v", attrs.Attributes["Owner"])
	}
}
