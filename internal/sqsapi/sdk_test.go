package sqsapi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/sealpost/sealpost/internal/sqs"
)

// TestSDKEveryAction drives every action through aws-sdk-go-v2's sqs
// client (JSON 1.0, MD5 checks) over a canned domain: the domain sees the
// decoded input, the SDK parses the answer.
func TestSDKEveryAction(t *testing.T) {
	ctx := context.Background()
	f := &fake{}
	c := sdkClient(fakeServer(t, f))
	u := aws.String(qurl)
	want := func(call string, args ...any) {
		t.Helper()
		if f.call != call || !reflect.DeepEqual(f.args, args) {
			t.Fatalf("domain saw %s %#v, want %s %#v", f.call, f.args, call, args)
		}
	}
	delay := 5

	cq, err := c.CreateQueue(ctx, &awssqs.CreateQueueInput{QueueName: aws.String("q1"),
		Attributes: map[string]string{"VisibilityTimeout": "40"}, Tags: map[string]string{"a": "b"}})
	if err != nil || aws.ToString(cq.QueueUrl) != qurl {
		t.Fatal(cq, err)
	}
	want("CreateQueue", "q1", map[string]string{"VisibilityTimeout": "40"}, map[string]string{"a": "b"})

	gu, err := c.GetQueueUrl(ctx, &awssqs.GetQueueUrlInput{QueueName: aws.String("q1"), QueueOwnerAWSAccountId: aws.String("111122223333")})
	if err != nil || aws.ToString(gu.QueueUrl) != qurl {
		t.Fatal(gu, err)
	}
	want("GetQueueURL", "q1", "111122223333")

	lq, err := c.ListQueues(ctx, &awssqs.ListQueuesInput{QueueNamePrefix: aws.String("q"), MaxResults: aws.Int32(2), NextToken: aws.String("n")})
	if err != nil || len(lq.QueueUrls) != 2 || aws.ToString(lq.NextToken) != "tok" {
		t.Fatal(lq, err)
	}
	want("ListQueues", "q", "n", 2)

	ga, err := c.GetQueueAttributes(ctx, &awssqs.GetQueueAttributesInput{QueueUrl: u, AttributeNames: []types.QueueAttributeName{"All"}})
	if err != nil || ga.Attributes["VisibilityTimeout"] != "30" {
		t.Fatal(ga, err)
	}
	want("GetQueueAttributes", qurl, []string{"All"})

	if _, err := c.SetQueueAttributes(ctx, &awssqs.SetQueueAttributesInput{QueueUrl: u, Attributes: map[string]string{"DelaySeconds": "3"}}); err != nil {
		t.Fatal(err)
	}
	want("SetQueueAttributes", qurl, map[string]string{"DelaySeconds": "3"})

	if _, err := c.TagQueue(ctx, &awssqs.TagQueueInput{QueueUrl: u, Tags: map[string]string{"k": "v"}}); err != nil {
		t.Fatal(err)
	}
	want("TagQueue", qurl, map[string]string{"k": "v"})
	if _, err := c.UntagQueue(ctx, &awssqs.UntagQueueInput{QueueUrl: u, TagKeys: []string{"k"}}); err != nil {
		t.Fatal(err)
	}
	want("UntagQueue", qurl, []string{"k"})
	lt, err := c.ListQueueTags(ctx, &awssqs.ListQueueTagsInput{QueueUrl: u})
	if err != nil || lt.Tags["team"] != "core" {
		t.Fatal(lt, err)
	}
	want("ListQueueTags", qurl)

	if _, err := c.AddPermission(ctx, &awssqs.AddPermissionInput{QueueUrl: u, Label: aws.String("l"), AWSAccountIds: []string{"111122223333"}, Actions: []string{"SendMessage"}}); err != nil {
		t.Fatal(err)
	}
	want("AddPermission", qurl, "l", []string{"111122223333"}, []string{"SendMessage"})
	if _, err := c.RemovePermission(ctx, &awssqs.RemovePermissionInput{QueueUrl: u, Label: aws.String("l")}); err != nil {
		t.Fatal(err)
	}
	want("RemovePermission", qurl, "l")

	dl, err := c.ListDeadLetterSourceQueues(ctx, &awssqs.ListDeadLetterSourceQueuesInput{QueueUrl: u})
	if err != nil || len(dl.QueueUrls) != 1 {
		t.Fatal(dl, err)
	}
	want("ListDeadLetterSourceQueues", qurl, "", 0)

	sm, err := c.SendMessage(ctx, &awssqs.SendMessageInput{QueueUrl: u, MessageBody: aws.String("hi"), DelaySeconds: 5,
		MessageAttributes: map[string]types.MessageAttributeValue{
			"s": {DataType: aws.String("String"), StringValue: aws.String("v")},
			"b": {DataType: aws.String("Binary.png"), BinaryValue: []byte{1, 2}},
		},
		MessageSystemAttributes: map[string]types.MessageSystemAttributeValue{
			"AWSTraceHeader": {DataType: aws.String("String"), StringValue: aws.String("Root=1")},
		}})
	if err != nil || aws.ToString(sm.MessageId) != "m-1" || aws.ToString(sm.MD5OfMessageAttributes) != "attrs-md5" {
		t.Fatal(sm, err)
	}
	want("SendMessage", qurl, sqs.SendInput{Body: "hi", DelaySeconds: &delay,
		Attributes:       map[string]sqs.MessageAttribute{"s": {DataType: "String", StringValue: "v"}, "b": {DataType: "Binary.png", BinaryValue: []byte{1, 2}}},
		SystemAttributes: map[string]sqs.MessageAttribute{"AWSTraceHeader": {DataType: "String", StringValue: "Root=1"}}})

	sb, err := c.SendMessageBatch(ctx, &awssqs.SendMessageBatchInput{QueueUrl: u, Entries: []types.SendMessageBatchRequestEntry{
		{Id: aws.String("a"), MessageBody: aws.String("x")}, {Id: aws.String("b"), MessageBody: aws.String("y")}}})
	if err != nil || len(sb.Successful) != 1 || len(sb.Failed) != 1 || aws.ToString(sb.Failed[0].Code) != "InvalidParameterValue" || !sb.Failed[0].SenderFault {
		t.Fatal(sb, err)
	}
	want("SendMessageBatch", qurl, []sqs.SendEntry{{ID: "a", SendInput: sqs.SendInput{Body: "x"}}, {ID: "b", SendInput: sqs.SendInput{Body: "y"}}})

	rm, err := c.ReceiveMessage(ctx, &awssqs.ReceiveMessageInput{QueueUrl: u, MaxNumberOfMessages: 10, WaitTimeSeconds: 2, VisibilityTimeout: 9,
		AttributeNames:              []types.QueueAttributeName{"SenderId"},
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{"ApproximateReceiveCount"},
		MessageAttributeNames:       []string{"All"}})
	if err != nil || len(rm.Messages) != 1 {
		t.Fatal(rm, err)
	}
	m := rm.Messages[0]
	if aws.ToString(m.Body) != "hello <&> \"world\"\r\n" || m.Attributes["SenderId"] != "AIDA" ||
		aws.ToString(m.MessageAttributes["s"].StringValue) != "v" || !reflect.DeepEqual(m.MessageAttributes["b"].BinaryValue, []byte{0, 1, 2}) {
		t.Fatalf("message %+v", m)
	}
	wait, vis := 2, 9
	want("ReceiveMessage", qurl, sqs.ReceiveInput{MaxNumberOfMessages: 10, VisibilityTimeout: &vis, WaitTimeSeconds: &wait,
		AttributeNames: []string{"SenderId", "ApproximateReceiveCount"}, MessageAttributeNames: []string{"All"}})

	if _, err := c.DeleteMessage(ctx, &awssqs.DeleteMessageInput{QueueUrl: u, ReceiptHandle: aws.String("rh")}); err != nil {
		t.Fatal(err)
	}
	want("DeleteMessage", qurl, "rh")
	db, err := c.DeleteMessageBatch(ctx, &awssqs.DeleteMessageBatchInput{QueueUrl: u, Entries: []types.DeleteMessageBatchRequestEntry{{Id: aws.String("1"), ReceiptHandle: aws.String("rh")}}})
	if err != nil || len(db.Successful) != 1 || len(db.Failed) != 1 {
		t.Fatal(db, err)
	}
	want("DeleteMessageBatch", qurl, []sqs.HandleEntry{{ID: "1", ReceiptHandle: "rh"}})
	if _, err := c.ChangeMessageVisibility(ctx, &awssqs.ChangeMessageVisibilityInput{QueueUrl: u, ReceiptHandle: aws.String("rh"), VisibilityTimeout: 0}); err != nil {
		t.Fatal(err)
	}
	want("ChangeMessageVisibility", qurl, "rh", 0)
	cb, err := c.ChangeMessageVisibilityBatch(ctx, &awssqs.ChangeMessageVisibilityBatchInput{QueueUrl: u, Entries: []types.ChangeMessageVisibilityBatchRequestEntry{{Id: aws.String("1"), ReceiptHandle: aws.String("rh"), VisibilityTimeout: 60}}})
	if err != nil || len(cb.Successful) != 1 || len(cb.Failed) != 0 {
		t.Fatal(cb, err)
	}
	want("ChangeMessageVisibilityBatch", qurl, []sqs.VisibilityEntry{{ID: "1", ReceiptHandle: "rh", VisibilityTimeout: 60}})
	if _, err := c.PurgeQueue(ctx, &awssqs.PurgeQueueInput{QueueUrl: u}); err != nil {
		t.Fatal(err)
	}
	want("PurgeQueue", qurl)
	if _, err := c.DeleteQueue(ctx, &awssqs.DeleteQueueInput{QueueUrl: u}); err != nil {
		t.Fatal(err)
	}
	want("DeleteQueue", qurl)

	src := "arn:aws:sqs:us-east-1:000000000000:dlq"
	st, err := c.StartMessageMoveTask(ctx, &awssqs.StartMessageMoveTaskInput{SourceArn: aws.String(src), MaxNumberOfMessagesPerSecond: aws.Int32(50)})
	if err != nil || aws.ToString(st.TaskHandle) != "th-1" {
		t.Fatal(st, err)
	}
	want("StartMessageMoveTask", src, "", 50)
	ct, err := c.CancelMessageMoveTask(ctx, &awssqs.CancelMessageMoveTaskInput{TaskHandle: aws.String("th-1")})
	if err != nil || ct.ApproximateNumberOfMessagesMoved != 7 {
		t.Fatal(ct, err)
	}
	want("CancelMessageMoveTask", "th-1")
	lm, err := c.ListMessageMoveTasks(ctx, &awssqs.ListMessageMoveTasksInput{SourceArn: aws.String(src), MaxResults: aws.Int32(3)})
	if err != nil || len(lm.Results) != 1 || aws.ToString(lm.Results[0].Status) != "RUNNING" || aws.ToInt64(lm.Results[0].ApproximateNumberOfMessagesToMove) != 5 || lm.Results[0].StartedTimestamp != 1700000000000 {
		t.Fatal(lm, err)
	}
	want("ListMessageMoveTasks", src, 3)

	// Request ids reach the SDK's metadata.
	if id, ok := awsmiddleware.GetRequestIDMetadata(cq.ResultMetadata); !ok || id != "req-1" {
		t.Fatalf("request id %q", id)
	}
}

// TestSDKErrorKinds: every domain kind parses in aws-sdk-go-v2 as the
// model's error type (when it has one) with the Query code as ErrorCode,
// the right fault and HTTP status.
func TestSDKErrorKinds(t *testing.T) {
	ctx := context.Background()
	f := &fake{}
	c := sdkClient(fakeServer(t, f))
	typed := map[error]func(error) bool{
		sqs.ErrQueueDoesNotExist:        func(e error) bool { var x *types.QueueDoesNotExist; return errors.As(e, &x) },
		sqs.ErrQueueNameExists:          func(e error) bool { var x *types.QueueNameExists; return errors.As(e, &x) },
		sqs.ErrInvalidAttributeName:     func(e error) bool { var x *types.InvalidAttributeName; return errors.As(e, &x) },
		sqs.ErrInvalidAttributeValue:    func(e error) bool { var x *types.InvalidAttributeValue; return errors.As(e, &x) },
		sqs.ErrInvalidMessageContents:   func(e error) bool { var x *types.InvalidMessageContents; return errors.As(e, &x) },
		sqs.ErrReceiptHandleIsInvalid:   func(e error) bool { var x *types.ReceiptHandleIsInvalid; return errors.As(e, &x) },
		sqs.ErrMessageNotInflight:       func(e error) bool { var x *types.MessageNotInflight; return errors.As(e, &x) },
		sqs.ErrBatchEntryIdsNotDistinct: func(e error) bool { var x *types.BatchEntryIdsNotDistinct; return errors.As(e, &x) },
		sqs.ErrBatchRequestTooLong:      func(e error) bool { var x *types.BatchRequestTooLong; return errors.As(e, &x) },
		sqs.ErrEmptyBatchRequest:        func(e error) bool { var x *types.EmptyBatchRequest; return errors.As(e, &x) },
		sqs.ErrInvalidBatchEntryID:      func(e error) bool { var x *types.InvalidBatchEntryId; return errors.As(e, &x) },
		sqs.ErrTooManyEntriesInBatch:    func(e error) bool { var x *types.TooManyEntriesInBatchRequest; return errors.As(e, &x) },
		sqs.ErrPurgeQueueInProgress:     func(e error) bool { var x *types.PurgeQueueInProgress; return errors.As(e, &x) },
		sqs.ErrOverLimit:                func(e error) bool { var x *types.OverLimit; return errors.As(e, &x) },
		sqs.ErrInvalidSecurity:          func(e error) bool { var x *types.InvalidSecurity; return errors.As(e, &x) },
		sqs.ErrUnsupportedOperation:     func(e error) bool { var x *types.UnsupportedOperation; return errors.As(e, &x) },
		sqs.ErrResourceNotFound:         func(e error) bool { var x *types.ResourceNotFoundException; return errors.As(e, &x) },
		sqs.ErrInvalidAddress:           func(e error) bool { var x *types.InvalidAddress; return errors.As(e, &x) },
		sqs.ErrKMSAccessDenied:          func(e error) bool { var x *types.KmsAccessDenied; return errors.As(e, &x) },
		sqs.ErrKMSDisabled:              func(e error) bool { var x *types.KmsDisabled; return errors.As(e, &x) },
		sqs.ErrKMSInvalidKeyUsage:       func(e error) bool { var x *types.KmsInvalidKeyUsage; return errors.As(e, &x) },
		sqs.ErrKMSInvalidState:          func(e error) bool { var x *types.KmsInvalidState; return errors.As(e, &x) },
		sqs.ErrKMSNotFound:              func(e error) bool { var x *types.KmsNotFound; return errors.As(e, &x) },
		sqs.ErrKMSOptInRequired:         func(e error) bool { var x *types.KmsOptInRequired; return errors.As(e, &x) },
		sqs.ErrKMSThrottled:             func(e error) bool { var x *types.KmsThrottled; return errors.As(e, &x) },
		// Unmodelled: generic API errors with the Query code.
		sqs.ErrInvalidParameterValue: nil, sqs.ErrMissingParameter: nil, sqs.ErrAccessDenied: nil, sqs.ErrInternal: nil,
	}
	if len(typed) != len(kinds) {
		t.Fatalf("%d kinds tested, %d in the table", len(typed), len(kinds))
	}
	for kind, is := range typed {
		t.Run(kind.Error(), func(t *testing.T) {
			f.err = &sqs.Error{Kind: kind, Message: "msg of " + kind.Error()}
			_, err := c.SendMessage(ctx, &awssqs.SendMessageInput{QueueUrl: aws.String(qurl), MessageBody: aws.String("x")})
			if is != nil && !is(err) {
				t.Fatalf("%v (%T) is not the model's type", err, err)
			}
			var ae smithy.APIError
			if !errors.As(err, &ae) {
				t.Fatalf("%v is not an API error", err)
			}
			w := kinds[kind]
			if ae.ErrorCode() != w.query {
				t.Fatalf("code %s, want %s", ae.ErrorCode(), w.query)
			}
			wantMsg := "msg of " + kind.Error()
			wantFault := smithy.FaultClient
			if w.status >= 500 {
				wantMsg, wantFault = internalMessage, smithy.FaultServer
			}
			if kind == sqs.ErrMessageNotInflight {
				wantMsg = "" // the model's shape has no message member
			}
			if ae.ErrorMessage() != wantMsg || ae.ErrorFault() != wantFault {
				t.Fatalf("message %q fault %v", ae.ErrorMessage(), ae.ErrorFault())
			}
			var re *smithyhttp.ResponseError
			if !errors.As(err, &re) || re.HTTPStatusCode() != w.status {
				t.Fatalf("status: %v", err)
			}
		})
	}
	f.err = nil
	// An error that is not the domain's is an internal error.
	f.err = fmt.Errorf("disk on fire")
	_, err := c.DeleteQueue(ctx, &awssqs.DeleteQueueInput{QueueUrl: aws.String(qurl)})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "InternalError" || ae.ErrorMessage() != internalMessage {
		t.Fatal(err)
	}
}

// TestGoneClientNotAnError: a domain call ended by the client going away
// (an abandoned long poll) is logged at debug level, not as an error;
// other internal errors are errors.
func TestGoneClientNotAnError(t *testing.T) {
	var logged bytes.Buffer
	f := &fake{}
	api := &API{svc: f, log: slog.New(slog.NewTextHandler(&logged, &slog.HandlerOptions{Level: slog.LevelInfo}))}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	f.err = ctx.Err()
	req := httptest.NewRequest("POST", "/", strings.NewReader("")).WithContext(ctx)
	req.Header.Set("X-Amz-Target", "AmazonSQS.ReceiveMessage")
	api.ServeJSON(httptest.NewRecorder(), req, sqs.Caller{RequestID: "r"}, []byte(`{"QueueUrl":"u"}`))
	if logged.Len() != 0 {
		t.Fatalf("logged %s", logged.String())
	}
	f.err = errors.New("disk on fire")
	api.ServeJSON(httptest.NewRecorder(), req.WithContext(context.Background()), sqs.Caller{RequestID: "r"}, []byte(`{"QueueUrl":"u"}`))
	if !strings.Contains(logged.String(), "level=ERROR") || !strings.Contains(logged.String(), "request_id=r") {
		t.Fatalf("logged %q", logged.String())
	}
}
