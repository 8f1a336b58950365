package server_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/sealpost/sealpost/internal/testserver"
)

// queryClient is a raw Query protocol client: form-encoded POSTs signed
// with aws-sdk-go-v2's SigV4 signer for service sqs, as older SDKs and the
// aws CLI v1 send them.
type queryClient struct {
	t   *testing.T
	srv *testserver.Server
}

// qresult is the parts of the Query protocol's XML the tests read.
type qresult struct {
	XMLName xml.Name
	Result  qbody `xml:",any"` // the <Action>Result element
	Error   struct {
		Type, Code, Message string
	}
	RequestId     string
	MetaRequestId string `xml:"ResponseMetadata>RequestId"`
}

type qbody struct {
	QueueUrl  []string `xml:"QueueUrl"`
	MessageId string   `xml:"MessageId"`
	MD5Body   string   `xml:"MD5OfMessageBody"`
	MD5Attrs  string   `xml:"MD5OfMessageAttributes"`
	Attribute []struct {
		Name, Value string
	} `xml:"Attribute"`
	Message []struct {
		MessageId, ReceiptHandle, MD5OfBody, Body, MD5OfMessageAttributes string
		Attribute                                                         []struct{ Name, Value string }
		MessageAttribute                                                  []struct {
			Name  string
			Value struct{ StringValue, BinaryValue, DataType string }
		}
	} `xml:"Message"`
	Successful []struct{ Id string } `xml:"SendMessageBatchResultEntry"`
	Deleted    []struct{ Id string } `xml:"DeleteMessageBatchResultEntry"`
	Failed     []struct {
		Id, Code    string
		SenderFault bool
	} `xml:"BatchResultErrorEntry"`
}

// call posts form to path ("/" or a queue URL path) and parses the answer.
func (q *queryClient) call(path string, form url.Values) (int, qresult) {
	q.t.Helper()
	form.Set("Version", "2012-11-05")
	body := form.Encode()
	req, err := http.NewRequest("POST", q.srv.URL()+path, strings.NewReader(body))
	if err != nil {
		q.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	sum := sha256.Sum256([]byte(body))
	err = v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: "test", SecretAccessKey: "test"},
		req, hex.EncodeToString(sum[:]), "sqs", "us-east-1", time.Now())
	if err != nil {
		q.t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		q.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var r qresult
	if err := xml.Unmarshal(b, &r); err != nil {
		q.t.Fatalf("%s: answer is not XML: %v: %s", form.Get("Action"), err, b)
	}
	if resp.Header.Get("x-amzn-RequestId") == "" {
		q.t.Fatalf("%s: no request id", form.Get("Action"))
	}
	return resp.StatusCode, r
}

// ok calls and fails the test on an error answer; it skips the rest of the
// test while the domain does not implement the action.
func (q *queryClient) ok(path string, form url.Values) qresult {
	q.t.Helper()
	status, r := q.call(path, form)
	if r.Error.Code == "AWS.SimpleQueueService.UnsupportedOperation" {
		q.t.Skip("the sqs domain does not implement " + form.Get("Action") + " yet")
	}
	if status != 200 || r.XMLName.Local != form.Get("Action")+"Response" || r.MetaRequestId == "" {
		q.t.Fatalf("%s: %d %+v", form.Get("Action"), status, r)
	}
	return r
}

func (q *queryClient) fails(path string, form url.Values, status int, code string) {
	q.t.Helper()
	got, r := q.call(path, form)
	if got != status || r.Error.Code != code || r.XMLName.Local != "ErrorResponse" || r.RequestId == "" {
		q.t.Fatalf("%s: want %d %s, got %d %+v", form.Get("Action"), status, code, got, r)
	}
}

func form(kv ...string) url.Values {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return v
}

// TestSQSQueryProtocol covers the main flows through the Query protocol:
// create, attributes, send with attributes, receive, delete, batches and
// errors, with QueueUrl as a parameter or as the request path.
func TestSQSQueryProtocol(t *testing.T) {
	srv := testserver.Start(t, testserver.Options{})
	q := &queryClient{t: t, srv: srv}

	r := q.ok("/", form("Action", "CreateQueue", "QueueName", "legacy", "Attribute.1.Name", "VisibilityTimeout", "Attribute.1.Value", "30",
		"Attribute.2.Name", "SqsManagedSseEnabled", "Attribute.2.Value", "false",
		"Tag.1.Key", "team", "Tag.1.Value", "core"))
	if len(r.Result.QueueUrl) != 1 || !strings.HasSuffix(r.Result.QueueUrl[0], "/000000000000/legacy") {
		t.Fatalf("CreateQueue %+v", r)
	}
	qu := r.Result.QueueUrl[0]
	path := "/000000000000/legacy"
	q.fails("/", form("Action", "CreateQueue"), 400, "MissingParameter")
	q.fails("/", form("Action", "Frobnicate"), 400, "InvalidAction")
	q.fails("/", form("Action", "ReceiveMessage", "QueueUrl", qu, "MaxNumberOfMessages", "many"), 400, "InvalidParameterValue")

	r = q.ok("/", form("Action", "GetQueueUrl", "QueueName", "legacy"))
	if len(r.Result.QueueUrl) != 1 || r.Result.QueueUrl[0] != qu {
		t.Fatalf("GetQueueUrl %+v", r)
	}
	q.fails("/", form("Action", "GetQueueUrl", "QueueName", "nope"), 400, "AWS.SimpleQueueService.NonExistentQueue")

	r = q.ok(path, form("Action", "GetQueueAttributes", "AttributeName.1", "All"))
	attrs := map[string]string{}
	for _, a := range r.Result.Attribute {
		attrs[a.Name] = a.Value
	}
	if attrs["VisibilityTimeout"] != "30" || !strings.HasSuffix(attrs["QueueArn"], ":000000000000:legacy") {
		t.Fatalf("attributes %v", attrs)
	}
	q.ok(path, form("Action", "SetQueueAttributes", "Attribute.1.Name", "DelaySeconds", "Attribute.1.Value", "0"))
	q.fails(path, form("Action", "SetQueueAttributes", "Attribute.1.Name", "Bogus", "Attribute.1.Value", "0"), 400, "InvalidAttributeName")

	body := "line one\r\nline <two> & 'three'"
	r = q.ok("/", form("Action", "SendMessage", "QueueUrl", qu, "MessageBody", body,
		"MessageAttribute.1.Name", "kind", "MessageAttribute.1.Value.DataType", "String", "MessageAttribute.1.Value.StringValue", "greeting",
		"MessageAttribute.2.Name", "blob", "MessageAttribute.2.Value.DataType", "Binary", "MessageAttribute.2.Value.BinaryValue", "AAEC/w=="))
	if r.Result.MessageId == "" || r.Result.MD5Body == "" || r.Result.MD5Attrs == "" {
		t.Fatalf("SendMessage %+v", r)
	}
	sendAttrsMD5 := r.Result.MD5Attrs
	r = q.ok(path, form("Action", "ReceiveMessage", "MaxNumberOfMessages", "10", "WaitTimeSeconds", "1",
		"AttributeName.1", "All", "MessageAttributeName.1", "All"))
	if len(r.Result.Message) != 1 {
		t.Fatalf("ReceiveMessage %+v", r)
	}
	m := r.Result.Message[0]
	mattrs := map[string]string{}
	for _, a := range m.MessageAttribute {
		mattrs[a.Name] = a.Value.DataType + ":" + a.Value.StringValue + a.Value.BinaryValue
	}
	if m.Body != body || m.MD5OfMessageAttributes != sendAttrsMD5 || mattrs["kind"] != "String:greeting" || mattrs["blob"] != "Binary:AAEC/w==" {
		t.Fatalf("message %+v", m)
	}
	q.ok(path, form("Action", "ChangeMessageVisibility", "ReceiptHandle", m.ReceiptHandle, "VisibilityTimeout", "60"))
	q.ok(path, form("Action", "DeleteMessage", "ReceiptHandle", m.ReceiptHandle))
	q.fails(path, form("Action", "DeleteMessage", "ReceiptHandle", "garbage"), 404, "ReceiptHandleIsInvalid")

	r = q.ok(path, form("Action", "SendMessageBatch",
		"SendMessageBatchRequestEntry.1.Id", "a", "SendMessageBatchRequestEntry.1.MessageBody", "one",
		"SendMessageBatchRequestEntry.2.Id", "b", "SendMessageBatchRequestEntry.2.MessageBody", "two"))
	if len(r.Result.Successful) != 2 || len(r.Result.Failed) != 0 {
		t.Fatalf("SendMessageBatch %+v", r)
	}
	q.fails(path, form("Action", "SendMessageBatch",
		"SendMessageBatchRequestEntry.1.Id", "a", "SendMessageBatchRequestEntry.1.MessageBody", "one",
		"SendMessageBatchRequestEntry.2.Id", "a", "SendMessageBatchRequestEntry.2.MessageBody", "two"), 400, "AWS.SimpleQueueService.BatchEntryIdsNotDistinct")
	var handles []string
	for len(handles) < 2 {
		r = q.ok(path, form("Action", "ReceiveMessage", "MaxNumberOfMessages", "10", "WaitTimeSeconds", "2"))
		if len(r.Result.Message) == 0 {
			t.Fatal("batch messages not received")
		}
		for _, m := range r.Result.Message {
			handles = append(handles, m.ReceiptHandle)
		}
	}
	r = q.ok(path, form("Action", "DeleteMessageBatch",
		"DeleteMessageBatchRequestEntry.1.Id", "1", "DeleteMessageBatchRequestEntry.1.ReceiptHandle", handles[0],
		"DeleteMessageBatchRequestEntry.2.Id", "2", "DeleteMessageBatchRequestEntry.2.ReceiptHandle", handles[1],
		"DeleteMessageBatchRequestEntry.3.Id", "3", "DeleteMessageBatchRequestEntry.3.ReceiptHandle", "garbage"))
	if len(r.Result.Deleted) != 2 || len(r.Result.Failed) != 1 || r.Result.Failed[0].Code != "ReceiptHandleIsInvalid" || !r.Result.Failed[0].SenderFault {
		t.Fatalf("DeleteMessageBatch %+v", r)
	}

	r = q.ok("/", form("Action", "ListQueues", "QueueNamePrefix", "leg"))
	if len(r.Result.QueueUrl) != 1 || r.Result.QueueUrl[0] != qu {
		t.Fatalf("ListQueues %+v", r)
	}
	q.ok(path, form("Action", "DeleteQueue"))
	q.fails(path, form("Action", "SendMessage", "MessageBody", "x"), 400, "AWS.SimpleQueueService.NonExistentQueue")
}

// TestSQSQueryUnsigned: with --auth=off an unsigned form POST reaches SQS
// by its action (CreateQueue), or, for an action SNS shares
// (AddPermission), by a queue URL path; an unsigned GET is refused in the
// Query protocol's XML.
func TestSQSQueryUnsigned(t *testing.T) {
	srv := testserver.Start(t, testserver.Options{Args: []string{"--auth", "off"}})
	post := func(path string, f url.Values) (int, string) {
		t.Helper()
		resp, err := http.PostForm(srv.URL()+path, f)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	status, body := post("/", form("Action", "CreateQueue", "QueueName", "unsigned"))
	if status != 200 || !strings.Contains(body, "<CreateQueueResponse") || !strings.Contains(body, "/000000000000/unsigned</QueueUrl>") {
		t.Fatalf("%d %s", status, body)
	}
	status, body = post("/000000000000/unsigned", form("Action", "AddPermission", "Label", "l", "AWSAccountId.1", "111122223333", "ActionName.1", "SendMessage"))
	if status != 200 || !strings.Contains(body, "<AddPermissionResponse") {
		t.Fatalf("AddPermission to a queue path: %d %s", status, body)
	}
	resp, err := http.Get(srv.URL() + "/000000000000/unsigned?Action=GetQueueAttributes&AttributeName.1=QueueArn")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	// Unsigned GETs are refused even with --auth=off (only form POSTs pass),
	// in the Query protocol's XML.
	if resp.StatusCode != 403 || !strings.Contains(string(b), "<ErrorResponse") || !strings.Contains(string(b), "MissingAuthenticationToken") {
		t.Fatalf("unsigned GET: %d %s", resp.StatusCode, b)
	}
}
