package sqsapi

import (
	"encoding/xml"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/sealpost/sealpost/internal/sqs"
)

const rm = `<ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata>`

func post(t *testing.T, u string, form url.Values) (int, http.Header, string) {
	t.Helper()
	resp, err := http.PostForm(u, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

// TestQueryGolden: Query requests decode to the domain's input and the
// answers are the old SQS XML, byte for byte.
func TestQueryGolden(t *testing.T) {
	f := &fake{}
	srv := fakeServer(t, f)
	five := 5
	tests := []struct {
		name   string
		path   string
		form   string
		call   string
		args   []any
		answer string
	}{
		{"create", "/", "Action=CreateQueue&QueueName=q1&Attribute.1.Name=DelaySeconds&Attribute.1.Value=5&Attribute.2.Name=Policy&Attribute.2.Value=%7B%7D&Tag.1.Key=team&Tag.1.Value=core",
			"CreateQueue", []any{"q1", map[string]string{"DelaySeconds": "5", "Policy": "{}"}, map[string]string{"team": "core"}},
			`<?xml version="1.0"?><CreateQueueResponse xmlns="http://queue.amazonaws.com/doc/2012-11-05/"><CreateQueueResult><QueueUrl>http://localhost/000000000000/q1</QueueUrl></CreateQueueResult>` + rm + `</CreateQueueResponse>`},
		{"list", "/", "Action=ListQueues&Version=2012-11-05&QueueNamePrefix=q&MaxResults=2",
			"ListQueues", []any{"q", "", 2},
			`<?xml version="1.0"?><ListQueuesResponse xmlns="http://queue.amazonaws.com/doc/2012-11-05/"><ListQueuesResult><QueueUrl>http://localhost/000000000000/q1</QueueUrl><QueueUrl>http://localhost/000000000000/q1b</QueueUrl><NextToken>tok</NextToken></ListQueuesResult>` + rm + `</ListQueuesResponse>`},
		{"attributes from the path", "/000000000000/q1", "Action=GetQueueAttributes&AttributeName.2=QueueArn&AttributeName.1=VisibilityTimeout",
			"GetQueueAttributes", []any{"http://HOST/000000000000/q1", []string{"VisibilityTimeout", "QueueArn"}},
			`<?xml version="1.0"?><GetQueueAttributesResponse xmlns="http://queue.amazonaws.com/doc/2012-11-05/"><GetQueueAttributesResult><Attribute><Name>QueueArn</Name><Value>arn:aws:sqs:us-east-1:000000000000:q1</Value></Attribute><Attribute><Name>VisibilityTimeout</Name><Value>30</Value></Attribute></GetQueueAttributesResult>` + rm + `</GetQueueAttributesResponse>`},
		{"send", "/", "Action=SendMessage&QueueUrl=" + url.QueryEscape(qurl) + "&MessageBody=hi&DelaySeconds=5&MessageAttribute.1.Name=s&MessageAttribute.1.Value.DataType=String&MessageAttribute.1.Value.StringValue=v&MessageAttribute.2.Name=b&MessageAttribute.2.Value.DataType=Binary&MessageAttribute.2.Value.BinaryValue=AQI%3D&MessageSystemAttribute.1.Name=AWSTraceHeader&MessageSystemAttribute.1.Value.DataType=String&MessageSystemAttribute.1.Value.StringValue=Root%3D1",
			"SendMessage", []any{qurl, sqs.SendInput{Body: "hi", DelaySeconds: &five,
				Attributes:       map[string]sqs.MessageAttribute{"s": {DataType: "String", StringValue: "v"}, "b": {DataType: "Binary", BinaryValue: []byte{1, 2}}},
				SystemAttributes: map[string]sqs.MessageAttribute{"AWSTraceHeader": {DataType: "String", StringValue: "Root=1"}}}},
			`<?xml version="1.0"?><SendMessageResponse xmlns="http://queue.amazonaws.com/doc/2012-11-05/"><SendMessageResult><MD5OfMessageBody>49f68a5c8493ec2c0bf489821c21fc3b</MD5OfMessageBody><MD5OfMessageAttributes>attrs-md5</MD5OfMessageAttributes><MessageId>m-1</MessageId></SendMessageResult>` + rm + `</SendMessageResponse>`},
		{"send batch", "/000000000000/q1", "Action=SendMessageBatch&SendMessageBatchRequestEntry.1.Id=a&SendMessageBatchRequestEntry.1.MessageBody=x&SendMessageBatchRequestEntry.2.Id=b&SendMessageBatchRequestEntry.2.MessageBody=y&SendMessageBatchRequestEntry.2.DelaySeconds=5",
			"SendMessageBatch", []any{"http://HOST/000000000000/q1", []sqs.SendEntry{{ID: "a", SendInput: sqs.SendInput{Body: "x"}}, {ID: "b", SendInput: sqs.SendInput{Body: "y", DelaySeconds: &five}}}},
			`<?xml version="1.0"?><SendMessageBatchResponse xmlns="http://queue.amazonaws.com/doc/2012-11-05/"><SendMessageBatchResult><SendMessageBatchResultEntry><Id>a</Id><MD5OfMessageBody>9dd4e461268c8034f5c8564e155c67a6</MD5OfMessageBody><MessageId>m-a</MessageId></SendMessageBatchResultEntry><BatchResultErrorEntry><Id>b</Id><SenderFault>true</SenderFault><Code>InvalidParameterValue</Code><Message>bad</Message></BatchResultErrorEntry></SendMessageBatchResult>` + rm + `</SendMessageBatchResponse>`},
		{"receive", "/", "Action=ReceiveMessage&QueueUrl=" + url.QueryEscape(qurl) + "&AttributeName.1=All&MessageAttributeName.1=All&MaxNumberOfMessages=10&WaitTimeSeconds=5",
			"ReceiveMessage", []any{qurl, sqs.ReceiveInput{MaxNumberOfMessages: 10, WaitTimeSeconds: &five, AttributeNames: []string{"All"}, MessageAttributeNames: []string{"All"}}},
			`<?xml version="1.0"?><ReceiveMessageResponse xmlns="http://queue.amazonaws.com/doc/2012-11-05/"><ReceiveMessageResult><Message><MessageId>m-1</MessageId><ReceiptHandle>rh-1</ReceiptHandle><MD5OfBody>` + md5hex("hello <&> \"world\"\r\n") + `</MD5OfBody><Body>hello &lt;&amp;&gt; &quot;world&quot;&#xD;
</Body><Attribute><Name>ApproximateReceiveCount</Name><Value>1</Value></Attribute><Attribute><Name>SenderId</Name><Value>AIDA</Value></Attribute><MD5OfMessageAttributes>am</MD5OfMessageAttributes><MessageAttribute><Name>b</Name><Value><BinaryValue>AAEC</BinaryValue><DataType>Binary</DataType></Value></MessageAttribute><MessageAttribute><Name>s</Name><Value><StringValue>v</StringValue><DataType>String</DataType></Value></MessageAttribute></Message></ReceiveMessageResult>` + rm + `</ReceiveMessageResponse>`},
		{"delete", "/000000000000/q1", "Action=DeleteMessage&ReceiptHandle=rh",
			"DeleteMessage", []any{"http://HOST/000000000000/q1", "rh"},
			`<?xml version="1.0"?><DeleteMessageResponse xmlns="http://queue.amazonaws.com/doc/2012-11-05/">` + rm + `</DeleteMessageResponse>`},
		{"delete batch", "/", "Action=DeleteMessageBatch&QueueUrl=" + url.QueryEscape(qurl) + "&DeleteMessageBatchRequestEntry.1.Id=1&DeleteMessageBatchRequestEntry.1.ReceiptHandle=rh",
			"DeleteMessageBatch", []any{qurl, []sqs.HandleEntry{{ID: "1", ReceiptHandle: "rh"}}},
			`<?xml version="1.0"?><DeleteMessageBatchResponse xmlns="http://queue.amazonaws.com/doc/2012-11-05/"><DeleteMessageBatchResult><DeleteMessageBatchResultEntry><Id>1</Id></DeleteMessageBatchResultEntry><BatchResultErrorEntry><Id>x</Id><SenderFault>true</SenderFault><Code>ReceiptHandleIsInvalid</Code><Message>m</Message></BatchResultErrorEntry></DeleteMessageBatchResult>` + rm + `</DeleteMessageBatchResponse>`},
		{"visibility batch", "/", "Action=ChangeMessageVisibilityBatch&QueueUrl=" + url.QueryEscape(qurl) + "&ChangeMessageVisibilityBatchRequestEntry.1.Id=1&ChangeMessageVisibilityBatchRequestEntry.1.ReceiptHandle=rh&ChangeMessageVisibilityBatchRequestEntry.1.VisibilityTimeout=5",
			"ChangeMessageVisibilityBatch", []any{qurl, []sqs.VisibilityEntry{{ID: "1", ReceiptHandle: "rh", VisibilityTimeout: 5}}},
			`<?xml version="1.0"?><ChangeMessageVisibilityBatchResponse xmlns="http://queue.amazonaws.com/doc/2012-11-05/"><ChangeMessageVisibilityBatchResult><ChangeMessageVisibilityBatchResultEntry><Id>1</Id></ChangeMessageVisibilityBatchResultEntry></ChangeMessageVisibilityBatchResult>` + rm + `</ChangeMessageVisibilityBatchResponse>`},
		{"tags", "/000000000000/q1", "Action=ListQueueTags",
			"ListQueueTags", []any{"http://HOST/000000000000/q1"},
			`<?xml version="1.0"?><ListQueueTagsResponse xmlns="http://queue.amazonaws.com/doc/2012-11-05/"><ListQueueTagsResult><Tag><Key>team</Key><Value>core</Value></Tag></ListQueueTagsResult>` + rm + `</ListQueueTagsResponse>`},
		{"untag", "/000000000000/q1", "Action=UntagQueue&TagKey.1=a&TagKey.2=b",
			"UntagQueue", []any{"http://HOST/000000000000/q1", []string{"a", "b"}},
			`<?xml version="1.0"?><UntagQueueResponse xmlns="http://queue.amazonaws.com/doc/2012-11-05/">` + rm + `</UntagQueueResponse>`},
		{"permission", "/000000000000/q1", "Action=AddPermission&Label=l&AWSAccountId.1=111122223333&ActionName.1=SendMessage&ActionName.2=ReceiveMessage",
			"AddPermission", []any{"http://HOST/000000000000/q1", "l", []string{"111122223333"}, []string{"SendMessage", "ReceiveMessage"}},
			`<?xml version="1.0"?><AddPermissionResponse xmlns="http://queue.amazonaws.com/doc/2012-11-05/">` + rm + `</AddPermissionResponse>`},
		{"dlq sources", "/000000000000/q1", "Action=ListDeadLetterSourceQueues",
			"ListDeadLetterSourceQueues", []any{"http://HOST/000000000000/q1", "", 0},
			`<?xml version="1.0"?><ListDeadLetterSourceQueuesResponse xmlns="http://queue.amazonaws.com/doc/2012-11-05/"><ListDeadLetterSourceQueuesResult><QueueUrl>http://localhost/000000000000/q1</QueueUrl></ListDeadLetterSourceQueuesResult>` + rm + `</ListDeadLetterSourceQueuesResponse>`},
		{"move tasks", "/", "Action=ListMessageMoveTasks&SourceArn=arn%3Aaws%3Asqs%3Aus-east-1%3A000000000000%3Adlq",
			"ListMessageMoveTasks", []any{"arn:aws:sqs:us-east-1:000000000000:dlq", 0},
			`<?xml version="1.0"?><ListMessageMoveTasksResponse xmlns="http://queue.amazonaws.com/doc/2012-11-05/"><ListMessageMoveTasksResult><ListMessageMoveTasksResultEntry><TaskHandle>th-1</TaskHandle><Status>RUNNING</Status><SourceArn>arn:aws:sqs:us-east-1:000000000000:dlq</SourceArn><ApproximateNumberOfMessagesMoved>3</ApproximateNumberOfMessagesMoved><ApproximateNumberOfMessagesToMove>5</ApproximateNumberOfMessagesToMove><StartedTimestamp>1700000000000</StartedTimestamp></ListMessageMoveTasksResultEntry></ListMessageMoveTasksResult>` + rm + `</ListMessageMoveTasksResponse>`},
		{"cancel", "/", "Action=CancelMessageMoveTask&TaskHandle=th-1",
			"CancelMessageMoveTask", []any{"th-1"},
			`<?xml version="1.0"?><CancelMessageMoveTaskResponse xmlns="http://queue.amazonaws.com/doc/2012-11-05/"><CancelMessageMoveTaskResult><ApproximateNumberOfMessagesMoved>7</ApproximateNumberOfMessagesMoved></CancelMessageMoveTaskResult>` + rm + `</CancelMessageMoveTaskResponse>`},
	}
	host := strings.TrimPrefix(srv.URL, "http://")
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			form, err := url.ParseQuery(tc.form)
			if err != nil {
				t.Fatal(err)
			}
			status, h, body := post(t, srv.URL+tc.path, form)
			if status != 200 || body != tc.answer {
				t.Fatalf("status %d\n got %s\nwant %s", status, body, tc.answer)
			}
			if h.Get("x-amzn-RequestId") != "req-1" || h.Get("Content-Type") != "text/xml" {
				t.Fatalf("headers %v", h)
			}
			for i, a := range tc.args {
				if s, ok := a.(string); ok {
					tc.args[i] = strings.Replace(s, "HOST", host, 1)
				}
			}
			if f.call != tc.call || !reflect.DeepEqual(f.args, tc.args) {
				t.Fatalf("domain saw %s %#v, want %s %#v", f.call, f.args, tc.call, tc.args)
			}
			var v any
			if err := xml.Unmarshal([]byte(body), &v); err != nil {
				t.Fatalf("not XML: %v", err)
			}
		})
	}
}

// TestQueryErrors: the Query protocol's errors carry the Query code, the
// fault and AWS's status.
func TestQueryErrors(t *testing.T) {
	f := &fake{}
	srv := fakeServer(t, f)
	tests := []struct {
		form   string
		err    error
		status int
		code   string
		msg    string
	}{
		{"Action=DeleteQueue", nil, 400, "MissingParameter", "The request must contain the parameter QueueUrl."},
		{"Action=SendMessage&QueueUrl=u", nil, 400, "MissingParameter", "The request must contain the parameter MessageBody."},
		{"Action=CreateQueue&Attribute.1.Name=DelaySeconds&QueueName=q", nil, 400, "MissingParameter", "The request must contain the parameter Attribute.1.Value."},
		{"Action=SendMessageBatch&QueueUrl=u&SendMessageBatchRequestEntry.1.Id=a", nil, 400, "MissingParameter", "The request must contain the parameter SendMessageBatchRequestEntry.1.MessageBody."},
		{"Action=ReceiveMessage&QueueUrl=u&MaxNumberOfMessages=ten", nil, 400, "InvalidParameterValue", "Value ten for parameter MaxNumberOfMessages is invalid. Reason: must be an integer."},
		{"Action=SendMessage&QueueUrl=u&MessageBody=x&MessageAttribute.1.Name=a&MessageAttribute.1.Value.StringValue=v", nil, 400, "InvalidParameterValue", "The message attribute 'a' must contain non-empty message attribute type."},
		{"Action=SendMessage&QueueUrl=u&MessageBody=x&MessageAttribute.1.Name=a&MessageAttribute.1.Value.DataType=Binary&MessageAttribute.1.Value.BinaryValue=%25%25", nil, 400, "InvalidParameterValue", "The binary value of message attribute 'a' is not valid base64."},
		{"Action=ReceiveMessage&QueueUrl=u&MaxNumberOfMessages=0", nil, 400, "InvalidParameterValue", "Value 0 for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided."},
		{"Action=Frobnicate", nil, 400, "InvalidAction", "The action Frobnicate is not valid for this endpoint."},
		{"Action=DeleteQueue&QueueUrl=u", &sqs.Error{Kind: sqs.ErrQueueDoesNotExist, Message: "The specified queue does not exist."}, 400, "AWS.SimpleQueueService.NonExistentQueue", "The specified queue does not exist."},
		{"Action=DeleteMessage&QueueUrl=u&ReceiptHandle=r", &sqs.Error{Kind: sqs.ErrReceiptHandleIsInvalid, Message: "bad handle"}, 404, "ReceiptHandleIsInvalid", "bad handle"},
		{"Action=PurgeQueue&QueueUrl=u", &sqs.Error{Kind: sqs.ErrPurgeQueueInProgress, Message: "wait"}, 403, "AWS.SimpleQueueService.PurgeQueueInProgress", "wait"},
		{"Action=PurgeQueue&QueueUrl=u", io.ErrUnexpectedEOF, 500, "InternalError", internalMessage},
	}
	for _, tc := range tests {
		f.err = tc.err
		form, _ := url.ParseQuery(tc.form)
		status, h, body := post(t, srv.URL+"/", form)
		var e struct {
			Error     struct{ Type, Code, Message string }
			RequestId string
		}
		if err := xml.Unmarshal([]byte(body), &e); err != nil {
			t.Fatalf("%s: %v: %s", tc.form, err, body)
		}
		wantType := "Sender"
		if tc.status >= 500 {
			wantType = "Receiver"
		}
		if status != tc.status || e.Error.Code != tc.code || e.Error.Message != tc.msg || e.Error.Type != wantType ||
			e.RequestId != "req-1" || h.Get("x-amzn-RequestId") != "req-1" {
			t.Errorf("%s: %d %+v", tc.form, status, e)
		}
	}
}
