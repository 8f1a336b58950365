package sqsapi

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/sealpost/sealpost/internal/sqs"
)

// fake is a canned domain: it records the last call's arguments and
// answers err (if set) or canned outputs.
type fake struct {
	err  error
	call string
	args []any
}

func (f *fake) rec(name string, args ...any) { f.call, f.args = name, args }

func md5hex(s string) string { h := md5.Sum([]byte(s)); return hex.EncodeToString(h[:]) }

const qurl = "http://localhost/000000000000/q1"

func (f *fake) CreateQueue(ctx context.Context, c *sqs.Caller, name string, attrs, tags map[string]string) (string, error) {
	f.rec("CreateQueue", name, attrs, tags)
	return qurl, f.err
}
func (f *fake) GetQueueURL(ctx context.Context, c *sqs.Caller, name, owner string) (string, error) {
	f.rec("GetQueueURL", name, owner)
	return qurl, f.err
}
func (f *fake) DeleteQueue(ctx context.Context, c *sqs.Caller, u string) error {
	f.rec("DeleteQueue", u)
	return f.err
}
func (f *fake) ListQueues(ctx context.Context, c *sqs.Caller, prefix, next string, max int) ([]string, string, error) {
	f.rec("ListQueues", prefix, next, max)
	return []string{qurl, qurl + "b"}, "tok", f.err
}
func (f *fake) GetQueueAttributes(ctx context.Context, c *sqs.Caller, u string, names []string) (map[string]string, error) {
	f.rec("GetQueueAttributes", u, names)
	return map[string]string{"VisibilityTimeout": "30", "QueueArn": "arn:aws:sqs:us-east-1:000000000000:q1"}, f.err
}
func (f *fake) SetQueueAttributes(ctx context.Context, c *sqs.Caller, u string, attrs map[string]string) error {
	f.rec("SetQueueAttributes", u, attrs)
	return f.err
}
func (f *fake) TagQueue(ctx context.Context, c *sqs.Caller, u string, tags map[string]string) error {
	f.rec("TagQueue", u, tags)
	return f.err
}
func (f *fake) UntagQueue(ctx context.Context, c *sqs.Caller, u string, keys []string) error {
	f.rec("UntagQueue", u, keys)
	return f.err
}
func (f *fake) ListQueueTags(ctx context.Context, c *sqs.Caller, u string) (map[string]string, error) {
	f.rec("ListQueueTags", u)
	return map[string]string{"team": "core"}, f.err
}
func (f *fake) AddPermission(ctx context.Context, c *sqs.Caller, u, label string, accounts, actions []string) error {
	f.rec("AddPermission", u, label, accounts, actions)
	return f.err
}
func (f *fake) RemovePermission(ctx context.Context, c *sqs.Caller, u, label string) error {
	f.rec("RemovePermission", u, label)
	return f.err
}
func (f *fake) ListDeadLetterSourceQueues(ctx context.Context, c *sqs.Caller, u, next string, max int) ([]string, string, error) {
	f.rec("ListDeadLetterSourceQueues", u, next, max)
	return []string{qurl}, "", f.err
}
func (f *fake) SendMessage(ctx context.Context, c *sqs.Caller, u string, in sqs.SendInput) (sqs.SendResult, error) {
	f.rec("SendMessage", u, in)
	return sqs.SendResult{MessageID: "m-1", MD5OfMessageBody: md5hex(in.Body), MD5OfMessageAttributes: "attrs-md5"}, f.err
}
func (f *fake) SendMessageBatch(ctx context.Context, c *sqs.Caller, u string, entries []sqs.SendEntry) ([]sqs.BatchResult, []sqs.BatchError, error) {
	f.rec("SendMessageBatch", u, entries)
	var ok []sqs.BatchResult
	for i, e := range entries {
		if i == 0 {
			ok = append(ok, sqs.BatchResult{ID: e.ID, SendResult: sqs.SendResult{MessageID: "m-" + e.ID, MD5OfMessageBody: md5hex(e.Body)}})
		}
	}
	var failed []sqs.BatchError
	if len(entries) > 1 {
		failed = append(failed, sqs.BatchError{ID: entries[1].ID, Code: "InvalidParameterValue", SenderFault: true, Message: "bad"})
	}
	return ok, failed, f.err
}
func (f *fake) ReceiveMessage(ctx context.Context, c *sqs.Caller, u string, in sqs.ReceiveInput) ([]sqs.Message, error) {
	f.rec("ReceiveMessage", u, in)
	body := "hello <&> \"world\"\r\n"
	return []sqs.Message{{
		MessageID: "m-1", ReceiptHandle: "rh-1", Body: body, MD5OfBody: md5hex(body), MD5OfMessageAttributes: "am",
		Attributes: map[string]string{"SenderId": "AIDA", "ApproximateReceiveCount": "1"},
		MessageAttributes: map[string]sqs.MessageAttribute{
			"s": {DataType: "String", StringValue: "v"},
			"b": {DataType: "Binary", BinaryValue: []byte{0, 1, 2}},
		},
	}}, f.err
}
func (f *fake) DeleteMessage(ctx context.Context, c *sqs.Caller, u, rh string) error {
	f.rec("DeleteMessage", u, rh)
	return f.err
}
func (f *fake) DeleteMessageBatch(ctx context.Context, c *sqs.Caller, u string, entries []sqs.HandleEntry) ([]string, []sqs.BatchError, error) {
	f.rec("DeleteMessageBatch", u, entries)
	if len(entries) == 0 {
		return nil, nil, &sqs.Error{Kind: sqs.ErrEmptyBatchRequest, Message: "There should be at least one DeleteMessageBatchRequestEntry in the request."}
	}
	return []string{entries[0].ID}, []sqs.BatchError{{ID: "x", Code: "ReceiptHandleIsInvalid", SenderFault: true, Message: "m"}}, f.err
}
func (f *fake) ChangeMessageVisibility(ctx context.Context, c *sqs.Caller, u, rh string, timeout int) error {
	f.rec("ChangeMessageVisibility", u, rh, timeout)
	return f.err
}
func (f *fake) ChangeMessageVisibilityBatch(ctx context.Context, c *sqs.Caller, u string, entries []sqs.VisibilityEntry) ([]string, []sqs.BatchError, error) {
	f.rec("ChangeMessageVisibilityBatch", u, entries)
	if len(entries) == 0 {
		return nil, nil, &sqs.Error{Kind: sqs.ErrEmptyBatchRequest, Message: "There should be at least one ChangeMessageVisibilityBatchRequestEntry in the request."}
	}
	return []string{entries[0].ID}, nil, f.err
}
func (f *fake) PurgeQueue(ctx context.Context, c *sqs.Caller, u string) error {
	f.rec("PurgeQueue", u)
	return f.err
}
func (f *fake) StartMessageMoveTask(ctx context.Context, c *sqs.Caller, src, dst string, max int) (string, error) {
	f.rec("StartMessageMoveTask", src, dst, max)
	return "th-1", f.err
}
func (f *fake) CancelMessageMoveTask(ctx context.Context, c *sqs.Caller, th string) (int64, error) {
	f.rec("CancelMessageMoveTask", th)
	return 7, f.err
}
func (f *fake) ListMessageMoveTasks(ctx context.Context, c *sqs.Caller, src string, max int) ([]sqs.MoveTask, error) {
	f.rec("ListMessageMoveTasks", src, max)
	return []sqs.MoveTask{{TaskHandle: "th-1", Status: "RUNNING", SourceArn: src, ApproximateNumberOfMessagesMoved: 3, ApproximateNumberOfMessagesToMove: 5, StartedTimestamp: 1700000000000}}, f.err
}

// fakeServer serves both protocols over f: JSON when X-Amz-Target is set,
// else Query.
func fakeServer(t testing.TB, f *fake) *httptest.Server {
	api := &API{svc: f, log: slog.New(slog.DiscardHandler)}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		c := sqs.Caller{Account: "000000000000", Region: "us-east-1", RequestID: "req-1"}
		if strings.HasPrefix(r.Header.Get("X-Amz-Target"), "AmazonSQS.") {
			api.ServeJSON(w, r, c, body)
			return
		}
		params, _ := url.ParseQuery(r.URL.RawQuery)
		bp, _ := url.ParseQuery(string(body))
		for k, v := range bp {
			params[k] = append(params[k], v...)
		}
		api.ServeQuery(w, r, c, params)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func sdkClient(srv *httptest.Server) *awssqs.Client {
	return awssqs.NewFromConfig(aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint: aws.String(srv.URL),
	})
}
