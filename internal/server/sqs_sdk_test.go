package server_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/sealpost/sealpost/internal/sigv4"
	"github.com/sealpost/sealpost/internal/testserver"
)

func newSQSClient(t *testing.T) (*testserver.Server, *sqs.Client) {
	srv := testserver.Start(t, testserver.Options{})
	return srv, sqs.NewFromConfig(srv.AWSConfig(t, srv.URL(), "", "", ""))
}

// needDomain skips the rest of a test while the sqs domain answers
// UnsupportedOperation (the wire layer landed before it).
func needDomain(t *testing.T, err error) {
	t.Helper()
	var ae smithy.APIError
	if errors.As(err, &ae) && ae.ErrorCode() == "AWS.SimpleQueueService.UnsupportedOperation" {
		t.Skip("the sqs domain does not implement this action yet: " + ae.ErrorMessage())
	}
}

func wantSQSCode(t *testing.T, err error, code string, status int) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != code {
		t.Fatalf("want %s, got %v", code, err)
	}
	var re *smithyhttp.ResponseError
	if !errors.As(err, &re) || re.HTTPStatusCode() != status {
		t.Fatalf("want status %d: %v", status, err)
	}
}

func TestSQSCreateQueueJSON(t *testing.T) {
	ctx := context.Background()
	_, c := newSQSClient(t)
	out, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("orders")})
	if err != nil {
		t.Fatal(err)
	}
	if u := aws.ToString(out.QueueUrl); !strings.HasSuffix(u, "/000000000000/orders") {
		t.Fatalf("queue URL %s", u)
	}
	if _, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{}); err == nil {
		t.Fatal("CreateQueue without a name accepted")
	}
}

// TestSQSFrontDoorErrorsJSON: the front door's refusals parse in the SDK
// with the Query codes and AWS's statuses.
func TestSQSFrontDoorErrorsJSON(t *testing.T) {
	ctx := context.Background()
	srv := testserver.Start(t, testserver.Options{})
	bad := sqs.NewFromConfig(srv.AWSConfig(t, srv.URL(), "test", "wrong-secret", ""))
	_, err := bad.ListQueues(ctx, &sqs.ListQueuesInput{})
	wantSQSCode(t, err, "SignatureDoesNotMatch", 403)
	unknown := sqs.NewFromConfig(srv.AWSConfig(t, srv.URL(), "AKIDUNKNOWN", "x", ""))
	_, err = unknown.ListQueues(ctx, &sqs.ListQueuesInput{})
	wantSQSCode(t, err, "InvalidClientTokenId", 403)

	// An action SQS does not have.
	body := []byte(`{}`)
	req, _ := http.NewRequest("POST", srv.URL()+"/", bytes.NewReader(body))
	req.Header.Set("X-Amz-Target", "AmazonSQS.Frobnicate")
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	if err := sigv4.Sign(req, body, "test", "test", "", "us-east-1", "sqs", time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 400 || resp.Header.Get("x-amzn-query-error") != "InvalidAction;Sender" || !strings.Contains(string(b), "UnknownOperationException") ||
		resp.Header.Get("x-amzn-RequestId") == "" {
		t.Fatalf("%d %v %s", resp.StatusCode, resp.Header, b)
	}
}

// TestSQSFlowsJSON covers the main flows through aws-sdk-go-v2 (JSON 1.0,
// MD5 checks on): create, attributes, send with attributes, receive,
// delete, batches, visibility, tags, listing, purge and the errors.
func TestSQSFlowsJSON(t *testing.T) {
	ctx := context.Background()
	_, c := newSQSClient(t)
	cq, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("flows"),
		// SSE-SQS (on by default) needs the server's sealer; the SSE
		// suites cover it.
		Attributes: map[string]string{"VisibilityTimeout": "30", "SqsManagedSseEnabled": "false"}, Tags: map[string]string{"team": "core"}})
	if err != nil {
		t.Fatal(err)
	}
	u := cq.QueueUrl

	gu, err := c.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("flows")})
	needDomain(t, err)
	if err != nil || aws.ToString(gu.QueueUrl) != aws.ToString(u) {
		t.Fatal(gu, err)
	}
	_, err = c.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("nope")})
	var qdne *types.QueueDoesNotExist
	if !errors.As(err, &qdne) {
		t.Fatalf("GetQueueUrl of a missing queue: %v", err)
	}
	wantSQSCode(t, err, "AWS.SimpleQueueService.NonExistentQueue", 400)

	ga, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: u, AttributeNames: []types.QueueAttributeName{"All"}})
	needDomain(t, err)
	if err != nil || ga.Attributes["VisibilityTimeout"] != "30" || !strings.HasSuffix(ga.Attributes["QueueArn"], ":000000000000:flows") {
		t.Fatal(ga, err)
	}
	_, err = c.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: u, Attributes: map[string]string{"VisibilityTimeout": "45"}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: u, Attributes: map[string]string{"NoSuchAttribute": "1"}})
	wantSQSCode(t, err, "InvalidAttributeName", 400)

	tags, err := c.ListQueueTags(ctx, &sqs.ListQueueTagsInput{QueueUrl: u})
	if err != nil || tags.Tags["team"] != "core" {
		t.Fatal(tags, err)
	}
	lq, err := c.ListQueues(ctx, &sqs.ListQueuesInput{QueueNamePrefix: aws.String("fl")})
	if err != nil || len(lq.QueueUrls) != 1 {
		t.Fatal(lq, err)
	}

	sm, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: u, MessageBody: aws.String("hello <world> & \"you\""),
		MessageAttributes: map[string]types.MessageAttributeValue{
			"kind": {DataType: aws.String("String"), StringValue: aws.String("greeting")},
			"blob": {DataType: aws.String("Binary"), BinaryValue: []byte{0, 1, 2, 255}},
		}})
	needDomain(t, err)
	if err != nil || aws.ToString(sm.MessageId) == "" || aws.ToString(sm.MD5OfMessageAttributes) == "" {
		t.Fatal(sm, err)
	}
	rm, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: u, MaxNumberOfMessages: 10, WaitTimeSeconds: 1,
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{"All"}, MessageAttributeNames: []string{"All"}})
	needDomain(t, err)
	if err != nil || len(rm.Messages) != 1 {
		t.Fatal(rm, err)
	}
	m := rm.Messages[0]
	if aws.ToString(m.Body) != "hello <world> & \"you\"" || aws.ToString(m.MessageAttributes["kind"].StringValue) != "greeting" ||
		!bytes.Equal(m.MessageAttributes["blob"].BinaryValue, []byte{0, 1, 2, 255}) || m.Attributes["ApproximateReceiveCount"] != "1" ||
		aws.ToString(m.MD5OfMessageAttributes) != aws.ToString(sm.MD5OfMessageAttributes) {
		t.Fatalf("received %+v", m)
	}
	if _, err := c.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: u, ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 60}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: u, ReceiptHandle: m.ReceiptHandle}); err != nil {
		t.Fatal(err)
	}
	_, err = c.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: u, ReceiptHandle: aws.String("garbage")})
	wantSQSCode(t, err, "ReceiptHandleIsInvalid", 404)

	sb, err := c.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: u, Entries: []types.SendMessageBatchRequestEntry{
		{Id: aws.String("a"), MessageBody: aws.String("one")}, {Id: aws.String("b"), MessageBody: aws.String("two")}}})
	if err != nil || len(sb.Successful) != 2 || len(sb.Failed) != 0 {
		t.Fatal(sb, err)
	}
	_, err = c.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: u, Entries: []types.SendMessageBatchRequestEntry{
		{Id: aws.String("a"), MessageBody: aws.String("one")}, {Id: aws.String("a"), MessageBody: aws.String("two")}}})
	var dup *types.BatchEntryIdsNotDistinct
	if !errors.As(err, &dup) {
		t.Fatalf("duplicate ids: %v", err)
	}
	var got []types.Message
	for len(got) < 2 {
		rm, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: u, MaxNumberOfMessages: 10, WaitTimeSeconds: 2})
		if err != nil || len(rm.Messages) == 0 {
			t.Fatal(rm, err)
		}
		got = append(got, rm.Messages...)
	}
	bodies := []string{aws.ToString(got[0].Body), aws.ToString(got[1].Body)}
	sort.Strings(bodies)
	if bodies[0] != "one" || bodies[1] != "two" {
		t.Fatalf("bodies %v", bodies)
	}
	cb, err := c.ChangeMessageVisibilityBatch(ctx, &sqs.ChangeMessageVisibilityBatchInput{QueueUrl: u, Entries: []types.ChangeMessageVisibilityBatchRequestEntry{
		{Id: aws.String("1"), ReceiptHandle: got[0].ReceiptHandle, VisibilityTimeout: 120}}})
	if err != nil || len(cb.Successful) != 1 {
		t.Fatal(cb, err)
	}
	db, err := c.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: u, Entries: []types.DeleteMessageBatchRequestEntry{
		{Id: aws.String("1"), ReceiptHandle: got[0].ReceiptHandle}, {Id: aws.String("2"), ReceiptHandle: got[1].ReceiptHandle},
		{Id: aws.String("3"), ReceiptHandle: aws.String("garbage")}}})
	if err != nil || len(db.Successful) != 2 || len(db.Failed) != 1 || aws.ToString(db.Failed[0].Code) != "ReceiptHandleIsInvalid" {
		t.Fatal(db, err)
	}
	_, err = c.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: u, Entries: []types.DeleteMessageBatchRequestEntry{}})
	var empty *types.EmptyBatchRequest
	if !errors.As(err, &empty) {
		t.Fatalf("empty batch: %v", err)
	}

	if _, err := c.PurgeQueue(ctx, &sqs.PurgeQueueInput{QueueUrl: u}); err != nil {
		needDomain(t, err)
		t.Fatal(err)
	}
	if _, err := c.DeleteQueue(ctx, &sqs.DeleteQueueInput{QueueUrl: u}); err != nil {
		t.Fatal(err)
	}
	_, err = c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: u, MessageBody: aws.String("x")})
	if !errors.As(err, &qdne) {
		t.Fatalf("send to a deleted queue: %v", err)
	}
}

// TestSQSControlPlaneJSON covers the remaining actions through the SDK:
// tags, permissions, dead-letter sources and message move tasks.
func TestSQSControlPlaneJSON(t *testing.T) {
	ctx := context.Background()
	_, c := newSQSClient(t)
	mk := func(name string, attrs map[string]string) *string {
		t.Helper()
		if attrs == nil {
			attrs = map[string]string{}
		}
		attrs["SqsManagedSseEnabled"] = "false"
		out, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: attrs})
		if err != nil {
			t.Fatal(err)
		}
		return out.QueueUrl
	}
	dlq := mk("cp-dlq", nil)
	ga, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: dlq, AttributeNames: []types.QueueAttributeName{"QueueArn"}})
	needDomain(t, err)
	if err != nil {
		t.Fatal(err)
	}
	dlqARN := ga.Attributes["QueueArn"]
	src := mk("cp-src", map[string]string{"RedrivePolicy": `{"deadLetterTargetArn":"` + dlqARN + `","maxReceiveCount":"1"}`, "VisibilityTimeout": "0"})

	if _, err := c.TagQueue(ctx, &sqs.TagQueueInput{QueueUrl: src, Tags: map[string]string{"a": "1", "b": "2"}}); err != nil {
		needDomain(t, err)
		t.Fatal(err)
	}
	if _, err := c.UntagQueue(ctx, &sqs.UntagQueueInput{QueueUrl: src, TagKeys: []string{"a"}}); err != nil {
		t.Fatal(err)
	}
	lt, err := c.ListQueueTags(ctx, &sqs.ListQueueTagsInput{QueueUrl: src})
	if err != nil || len(lt.Tags) != 1 || lt.Tags["b"] != "2" {
		t.Fatal(lt, err)
	}

	if _, err := c.AddPermission(ctx, &sqs.AddPermissionInput{QueueUrl: src, Label: aws.String("p1"),
		AWSAccountIds: []string{"111122223333"}, Actions: []string{"SendMessage"}}); err != nil {
		needDomain(t, err)
		t.Fatal(err)
	}
	pa, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: src, AttributeNames: []types.QueueAttributeName{"Policy"}})
	if err != nil || !strings.Contains(pa.Attributes["Policy"], "p1") {
		t.Fatal(pa, err)
	}
	if _, err := c.RemovePermission(ctx, &sqs.RemovePermissionInput{QueueUrl: src, Label: aws.String("p1")}); err != nil {
		t.Fatal(err)
	}

	ds, err := c.ListDeadLetterSourceQueues(ctx, &sqs.ListDeadLetterSourceQueuesInput{QueueUrl: dlq})
	needDomain(t, err)
	if err != nil || len(ds.QueueUrls) != 1 || ds.QueueUrls[0] != aws.ToString(src) {
		t.Fatal(ds, err)
	}

	// A message received maxReceiveCount times moves to the DLQ on the
	// next receive; a move task takes it back.
	if _, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: src, MessageBody: aws.String("dead letter")}); err != nil {
		needDomain(t, err)
		t.Fatal(err)
	}
	var moved bool
	for i := 0; i < 5 && !moved; i++ {
		if _, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: src}); err != nil {
			t.Fatal(err)
		}
		rm, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: dlq, VisibilityTimeout: 0})
		if err != nil {
			t.Fatal(err)
		}
		moved = len(rm.Messages) == 1
	}
	if !moved {
		t.Fatal("message not moved to the DLQ")
	}
	st, err := c.StartMessageMoveTask(ctx, &sqs.StartMessageMoveTaskInput{SourceArn: aws.String(dlqARN)})
	needDomain(t, err)
	if err != nil || aws.ToString(st.TaskHandle) == "" {
		t.Fatal(st, err)
	}
	lm, err := c.ListMessageMoveTasks(ctx, &sqs.ListMessageMoveTasksInput{SourceArn: aws.String(dlqARN)})
	if err != nil || len(lm.Results) != 1 || aws.ToString(lm.Results[0].SourceArn) != dlqARN || lm.Results[0].StartedTimestamp == 0 {
		t.Fatal(lm, err)
	}
	if s := aws.ToString(lm.Results[0].Status); s == "RUNNING" {
		if _, err := c.CancelMessageMoveTask(ctx, &sqs.CancelMessageMoveTaskInput{TaskHandle: st.TaskHandle}); err != nil {
			var rnf *types.ResourceNotFoundException
			if !errors.As(err, &rnf) { // it may have finished meanwhile
				t.Fatal(err)
			}
		}
	}
	_, err = c.CancelMessageMoveTask(ctx, &sqs.CancelMessageMoveTaskInput{TaskHandle: aws.String("no-such-task")})
	var rnf *types.ResourceNotFoundException
	if !errors.As(err, &rnf) {
		t.Fatalf("cancel of an unknown task: %v", err)
	}
	wantSQSCode(t, err, "ResourceNotFoundException", 404)
}
