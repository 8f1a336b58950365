package server_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/smithy-go"
)

// wantError checks an AWS error's code, HTTP status and exact message.
func wantError(t *testing.T, what string, err error, code string, status int, msg string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Errorf("%s: want %s, got %v", what, code, err)
		return
	}
	var re *awshttp.ResponseError
	got := 0
	if errors.As(err, &re) {
		got = re.HTTPStatusCode()
	}
	if ae.ErrorCode() != code || got != status || ae.ErrorMessage() != msg {
		t.Errorf("%s:\n got %s %d %q\nwant %s %d %q", what, ae.ErrorCode(), got, ae.ErrorMessage(), code, status, msg)
	}
}

// TestPublishBatchEntryErrors: an entry with a bad attribute is reported in
// Failed and the others are published (the protocol layer used to fail the
// whole request on an attribute it could not decode).
func TestPublishBatchEntryErrors(t *testing.T) {
	ctx := context.Background()
	srv, c := newClient(t)
	arn := mkTopic(t, c, "batch-entries")
	if _, err := c.Subscribe(ctx, &sns.SubscribeInput{TopicArn: &arn, Protocol: aws.String("sqs"), Endpoint: aws.String("arn:aws:sqs:us-east-1:000000000000:q")}); err != nil {
		t.Fatal(err)
	}
	str := func(v string) types.MessageAttributeValue {
		return types.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(v)}
	}
	out, err := c.PublishBatch(ctx, &sns.PublishBatchInput{TopicArn: &arn, PublishBatchRequestEntries: []types.PublishBatchRequestEntry{
		{Id: aws.String("ok1"), Message: aws.String("one")},
		{Id: aws.String("noname"), Message: aws.String("two"), MessageAttributes: map[string]types.MessageAttributeValue{"": str("v")}},
		{Id: aws.String("badtype"), Message: aws.String("three"), MessageAttributes: map[string]types.MessageAttributeValue{"k": {DataType: aws.String("Blob"), StringValue: aws.String("v")}}},
		{Id: aws.String("ok2"), Message: aws.String("four"), MessageAttributes: map[string]types.MessageAttributeValue{"k": str("v")}},
	}})
	if err != nil {
		t.Fatalf("one bad entry failed the whole batch: %v", err)
	}
	var ok []string
	for _, s := range out.Successful {
		ok = append(ok, aws.ToString(s.Id))
	}
	failed := map[string]types.BatchResultErrorEntry{}
	for _, f := range out.Failed {
		failed[aws.ToString(f.Id)] = f
	}
	if strings.Join(ok, ",") != "ok1,ok2" || len(failed) != 2 {
		t.Fatalf("successful %v, failed %v", ok, failed)
	}
	for _, id := range []string{"noname", "badtype"} {
		f := failed[id]
		if aws.ToString(f.Code) != "ParameterValueInvalid" || !f.SenderFault || aws.ToString(f.Message) == "" {
			t.Errorf("%s: %s %v %q", id, aws.ToString(f.Code), f.SenderFault, aws.ToString(f.Message))
		}
	}
	if n, _ := srv.SNS().Store().PendingDeliveries(ctx, ""); n != 2 {
		t.Fatalf("pending deliveries %d, want 2", n)
	}
}

// TestAWSErrorTexts pins the codes, statuses and messages AWS answers (the
// SNS model's error shapes and documentation, and AWS's observed wording).
func TestAWSErrorTexts(t *testing.T) {
	ctx := context.Background()
	_, c := newClient(t)
	arn := mkTopic(t, c, "texts")
	fifo, err := c.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("texts.fifo"), Attributes: map[string]string{"FifoTopic": "true", "ContentBasedDeduplication": "true"}})
	if err != nil {
		t.Fatal(err)
	}
	fifoNoCBD, err := c.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("texts2.fifo"), Attributes: map[string]string{"FifoTopic": "true"}})
	if err != nil {
		t.Fatal(err)
	}
	entries := func(n int) []types.PublishBatchRequestEntry {
		var es []types.PublishBatchRequestEntry
		for i := 0; i < n; i++ {
			es = append(es, types.PublishBatchRequestEntry{Id: aws.String(fmt.Sprint("e", i)), Message: aws.String("m")})
		}
		return es
	}
	big := strings.Repeat("x", 100000)
	const fifoName = "Fifo Topic names must end with .fifo and must be made up of only uppercase and lowercase ASCII letters, numbers, underscores, and hyphens, and must be between 1 and 256 characters long."
	const subject = "Invalid parameter: Subject Reason: Subjects must be UTF-8 text with no line breaks or control characters, and less than 100 characters long."
	if _, err := c.AddPermission(ctx, &sns.AddPermissionInput{TopicArn: &arn, Label: aws.String("l"), AWSAccountId: []string{"111122223333"}, ActionName: []string{"Publish"}}); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		call   func() error
		code   string
		status int
		msg    string
	}{
		{"GetSubscriptionAttributes of a topic ARN", func() error {
			_, err := c.GetSubscriptionAttributes(ctx, &sns.GetSubscriptionAttributesInput{SubscriptionArn: &arn})
			return err
		}, "NotFound", 404, "Subscription does not exist"},
		{"GetSubscriptionAttributes of a made-up ARN", func() error {
			_, err := c.GetSubscriptionAttributes(ctx, &sns.GetSubscriptionAttributesInput{SubscriptionArn: aws.String(arn + ":1234:extra")})
			return err
		}, "NotFound", 404, "Subscription does not exist"},
		{"GetSubscriptionAttributes of an unknown one", func() error {
			_, err := c.GetSubscriptionAttributes(ctx, &sns.GetSubscriptionAttributesInput{SubscriptionArn: aws.String(arn + ":6f4b9b3a-1111-2222-3333-444455556666")})
			return err
		}, "NotFound", 404, "Subscription does not exist"},
		{"TagResource unknown", func() error {
			_, err := c.TagResource(ctx, &sns.TagResourceInput{ResourceArn: aws.String("not-existing-topic"), Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
			return err
		}, "ResourceNotFound", 404, "Resource does not exist"},
		{"UntagResource unknown", func() error {
			_, err := c.UntagResource(ctx, &sns.UntagResourceInput{ResourceArn: aws.String("not-existing-topic"), TagKeys: []string{"k"}})
			return err
		}, "ResourceNotFound", 404, "Resource does not exist"},
		{"ListTagsForResource unknown", func() error {
			_, err := c.ListTagsForResource(ctx, &sns.ListTagsForResourceInput{ResourceArn: aws.String("not-existing-topic")})
			return err
		}, "ResourceNotFound", 404, "Resource does not exist"},
		{"ListTagsForResource deleted", func() error {
			_, err := c.ListTagsForResource(ctx, &sns.ListTagsForResourceInput{ResourceArn: aws.String(arn + "-gone")})
			return err
		}, "ResourceNotFound", 404, "Resource does not exist"},
		{"AddPermission label exists", func() error {
			_, err := c.AddPermission(ctx, &sns.AddPermissionInput{TopicArn: &arn, Label: aws.String("l"), AWSAccountId: []string{"111122223333"}, ActionName: []string{"Publish"}})
			return err
		}, "InvalidParameter", 400, "Statement already exists"},
		{"FIFO batch entry without MessageGroupId", func() error {
			_, err := c.PublishBatch(ctx, &sns.PublishBatchInput{TopicArn: fifo.TopicArn, PublishBatchRequestEntries: []types.PublishBatchRequestEntry{
				{Id: aws.String("a"), Message: aws.String("m"), MessageGroupId: aws.String("g")}, {Id: aws.String("b"), Message: aws.String("m")}}})
			return err
		}, "InvalidParameter", 400, "Invalid parameter: The MessageGroupId parameter is required for FIFO topics"},
		{"FIFO publish without MessageGroupId", func() error {
			_, err := c.Publish(ctx, &sns.PublishInput{TopicArn: fifo.TopicArn, Message: aws.String("m")})
			return err
		}, "InvalidParameter", 400, "Invalid parameter: The MessageGroupId parameter is required for FIFO topics"},
		{"FIFO batch entry without dedup id", func() error {
			_, err := c.PublishBatch(ctx, &sns.PublishBatchInput{TopicArn: fifoNoCBD.TopicArn, PublishBatchRequestEntries: []types.PublishBatchRequestEntry{
				{Id: aws.String("a"), Message: aws.String("m"), MessageGroupId: aws.String("g")}}})
			return err
		}, "InvalidParameter", 400, "Invalid parameter: The topic should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly"},
		{"FIFO name without suffix", func() error {
			_, err := c.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("plain"), Attributes: map[string]string{"FifoTopic": "true"}})
			return err
		}, "InvalidParameter", 400, fifoName},
		{"FIFO name with a dot", func() error {
			_, err := c.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("a.b.fifo"), Attributes: map[string]string{"FifoTopic": "true"}})
			return err
		}, "InvalidParameter", 400, fifoName},
		{"Subject too long", func() error {
			_, err := c.Publish(ctx, &sns.PublishInput{TopicArn: &arn, Message: aws.String("m"), Subject: aws.String(strings.Repeat("s", 100))})
			return err
		}, "InvalidParameter", 400, subject},
		{"empty batch", func() error {
			_, err := c.PublishBatch(ctx, &sns.PublishBatchInput{TopicArn: &arn, PublishBatchRequestEntries: []types.PublishBatchRequestEntry{}})
			return err
		}, "EmptyBatchRequest", 400, "The batch request doesn't contain any entries."},
		{"eleven entries", func() error {
			_, err := c.PublishBatch(ctx, &sns.PublishBatchInput{TopicArn: &arn, PublishBatchRequestEntries: entries(11)})
			return err
		}, "TooManyEntriesInBatchRequest", 400, "The batch request contains more entries than permissible."},
		{"duplicate ids", func() error {
			es := entries(2)
			es[1].Id = es[0].Id
			_, err := c.PublishBatch(ctx, &sns.PublishBatchInput{TopicArn: &arn, PublishBatchRequestEntries: es})
			return err
		}, "BatchEntryIdsNotDistinct", 400, "Two or more batch entries in the request have the same Id."},
		{"bad id", func() error {
			es := entries(1)
			es[0].Id = aws.String("a b")
			_, err := c.PublishBatch(ctx, &sns.PublishBatchInput{TopicArn: &arn, PublishBatchRequestEntries: es})
			return err
		}, "InvalidBatchEntryId", 400, "The Id of a batch entry in a batch request doesn't abide by the specification."},
		{"batch too long", func() error {
			es := entries(3)
			for i := range es {
				es[i].Message = &big
			}
			_, err := c.PublishBatch(ctx, &sns.PublishBatchInput{TopicArn: &arn, PublishBatchRequestEntries: es})
			return err
		}, "BatchRequestTooLong", 400, "The length of all the batch messages put together is more than the limit."},
	}
	for _, tc := range cases {
		wantError(t, tc.name, tc.call(), tc.code, tc.status, tc.msg)
	}
}
