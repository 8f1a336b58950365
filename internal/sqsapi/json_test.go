package sqsapi

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"
)

func postJSON(t testing.TB, u, action, body string) (int, http.Header, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("POST", u, bytes.NewBufferString(body))
	req.Header.Set("X-Amz-Target", "AmazonSQS."+action)
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("answer is not a JSON object: %q", b)
	}
	return resp.StatusCode, resp.Header, m
}

// TestJSONDecodeErrors: bodies of the wrong shape and missing members get
// AWS's errors, with __type, x-amzn-query-error and the request id.
func TestJSONDecodeErrors(t *testing.T) {
	f := &fake{}
	srv := fakeServer(t, f)
	tests := []struct {
		action, body string
		typ, query   string
		msg          string
	}{
		{"DeleteQueue", `{}`, "com.amazonaws.sqs#MissingParameter", "MissingParameter;Sender", "The request must contain the parameter QueueUrl."},
		{"DeleteQueue", ``, "com.amazonaws.sqs#MissingParameter", "MissingParameter;Sender", "The request must contain the parameter QueueUrl."},
		{"DeleteQueue", `{"QueueUrl":null}`, "com.amazonaws.sqs#MissingParameter", "MissingParameter;Sender", "The request must contain the parameter QueueUrl."},
		{"CreateQueue", `{"Attributes":{}}`, "com.amazonaws.sqs#MissingParameter", "MissingParameter;Sender", "The request must contain the parameter QueueName."},
		{"ChangeMessageVisibility", `{"QueueUrl":"u","ReceiptHandle":"r"}`, "com.amazonaws.sqs#MissingParameter", "MissingParameter;Sender", "The request must contain the parameter VisibilityTimeout."},
		{"SendMessageBatch", `{"QueueUrl":"u","Entries":[{"Id":"a","MessageBody":"x"},{"Id":"b"}]}`, "com.amazonaws.sqs#MissingParameter", "MissingParameter;Sender", "The request must contain the parameter SendMessageBatchRequestEntry.2.MessageBody."},
		{"DeleteMessageBatch", `{"QueueUrl":"u","Entries":[null]}`, "com.amazonaws.sqs#MissingParameter", "MissingParameter;Sender", "The request must contain the parameter DeleteMessageBatchRequestEntry.1.Id."},
		{"SendMessage", `{"QueueUrl":"u","MessageBody":"x","MessageAttributes":{"a":{"StringValue":"v"}}}`, "com.amazonaws.sqs#InvalidParameterValue", "InvalidParameterValue;Sender", "The message attribute 'a' must contain non-empty message attribute type."},
		{"DeleteQueue", `[]`, "com.amazon.coral.service#SerializationException", "SerializationException;Sender", "The request body must be a JSON object."},
		{"DeleteQueue", `{"QueueUrl":`, "com.amazon.coral.service#SerializationException", "SerializationException;Sender", "The request body is not valid JSON."},
		{"DeleteQueue", `{"QueueUrl":1}`, "com.amazon.coral.service#SerializationException", "SerializationException;Sender", "Cannot deserialize member 'QueueUrl': a JSON number is not valid here."},
		{"ReceiveMessage", `{"QueueUrl":"u","MaxNumberOfMessages":"10"}`, "com.amazon.coral.service#SerializationException", "SerializationException;Sender", "Cannot deserialize member 'MaxNumberOfMessages': a JSON string is not valid here."},
		{"ReceiveMessage", `{"QueueUrl":"u","WaitTimeSeconds":1.5}`, "com.amazon.coral.service#SerializationException", "SerializationException;Sender", "Cannot deserialize member 'WaitTimeSeconds': a JSON number 1.5 is not valid here."},
		{"ReceiveMessage", `{"QueueUrl":"u","WaitTimeSeconds":99999999999}`, "com.amazon.coral.service#SerializationException", "SerializationException;Sender", "Cannot deserialize member 'WaitTimeSeconds': a JSON number 99999999999 is not valid here."},
		{"SendMessage", `{"QueueUrl":"u","MessageBody":"x","MessageAttributes":{"a":{"DataType":"Binary","BinaryValue":"%%"}}}`, "com.amazon.coral.service#SerializationException", "SerializationException;Sender", "The request body could not be deserialized: a member has an invalid value (e.g. a blob that is not base64)."},
		{"GetQueueAttributes", `{"QueueUrl":"u","AttributeNames":"All"}`, "com.amazon.coral.service#SerializationException", "SerializationException;Sender", "Cannot deserialize member 'AttributeNames': a JSON string is not valid here."},
		{"ReceiveMessage", `{"QueueUrl":"u","MaxNumberOfMessages":0}`, "com.amazonaws.sqs#InvalidParameterValue", "InvalidParameterValue;Sender", "Value 0 for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided."},
		{"ListQueues", `{"MaxResults":0}`, "com.amazonaws.sqs#InvalidParameterValue", "InvalidParameterValue;Sender", "Value 0 for parameter MaxResults is invalid. Reason: MaxResults must be an integer between 1 and 1000."},
		{"ListDeadLetterSourceQueues", `{"QueueUrl":"u","MaxResults":0}`, "com.amazonaws.sqs#InvalidParameterValue", "InvalidParameterValue;Sender", "Value 0 for parameter MaxResults is invalid. Reason: MaxResults must be an integer between 1 and 1000."},
		{"StartMessageMoveTask", `{"SourceArn":"s","MaxNumberOfMessagesPerSecond":0}`, "com.amazonaws.sqs#InvalidParameterValue", "InvalidParameterValue;Sender", "Value 0 for parameter MaxNumberOfMessagesPerSecond is invalid. Reason: Must be between 1 and 500."},
		{"ListMessageMoveTasks", `{"SourceArn":"s","MaxResults":0}`, "com.amazonaws.sqs#InvalidParameterValue", "InvalidParameterValue;Sender", "Value 0 for parameter MaxResults is invalid. Reason: Must be between 1 and 10."},
		{"Frobnicate", `{}`, "com.amazon.coral.service#UnknownOperationException", "InvalidAction;Sender", "The action Frobnicate is not valid for this endpoint."},
	}
	for _, tc := range tests {
		status, h, m := postJSON(t, srv.URL, tc.action, tc.body)
		if status != 400 || m["__type"] != tc.typ || m["message"] != tc.msg || h.Get("x-amzn-query-error") != tc.query ||
			h.Get("x-amzn-RequestId") != "req-1" || h.Get("Content-Type") != "application/x-amz-json-1.0" {
			t.Errorf("%s %s: %d %v %q", tc.action, tc.body, status, m, h.Get("x-amzn-query-error"))
		}
	}
}

// TestJSONOmitsEmpty: optional members are left out when empty, required
// lists are always written.
func TestJSONOmitsEmpty(t *testing.T) {
	cases := []struct {
		out  output
		want string
	}{
		{receiveOut(nil), `{}`},
		{attrsOut(nil), `{}`},
		{tagsOut(nil), `{}`},
		{&urlsOut{}, `{}`},
		{&urlsOut{dlq: true}, `{"queueUrls":[]}`},
		{&sendBatchOut{}, `{"Successful":[],"Failed":[]}`},
		{&idsOut{}, `{"Successful":[],"Failed":[]}`},
		{queueURLOut(""), `{}`},
		{empty{}, `{}`},
		{movesOut(nil), `{}`},
	}
	for _, c := range cases {
		w := &jw{}
		w.open()
		c.out.json(w)
		w.close()
		if string(w.b) != c.want {
			t.Errorf("%T: %s, want %s", c.out, w.b, c.want)
		}
	}
}

// TestWriteJSONError: the front door's refusals in the JSON protocol.
func TestWriteJSONError(t *testing.T) {
	for code, typ := range map[string]string{
		"InvalidClientTokenId":                    "com.amazon.coral.service#UnrecognizedClientException",
		"SignatureDoesNotMatch":                   "com.amazon.coral.service#InvalidSignatureException",
		"AWS.SimpleQueueService.NonExistentQueue": "com.amazonaws.sqs#QueueDoesNotExist",
		"RequestEntityTooLarge":                   "com.amazonaws.sqs#RequestEntityTooLarge",
	} {
		rec := &recorder{h: http.Header{}}
		WriteJSONError(rec, "", code, 403, "no \"way\"")
		var m map[string]string
		if err := json.Unmarshal(rec.b.Bytes(), &m); err != nil || m["__type"] != typ || m["message"] != `no "way"` ||
			rec.h.Get("x-amzn-query-error") != code+";Sender" || rec.h.Get("x-amzn-RequestId") == "" || rec.status != 403 {
			t.Errorf("%s: %v %v %v", code, m, rec.h, err)
		}
	}
}

type recorder struct {
	h      http.Header
	b      bytes.Buffer
	status int
}

func (r *recorder) Header() http.Header         { return r.h }
func (r *recorder) Write(b []byte) (int, error) { return r.b.Write(b) }
func (r *recorder) WriteHeader(s int)           { r.status = s }

// TestJSONGolden pins the member names and order of the larger answers.
func TestJSONGolden(t *testing.T) {
	f := &fake{}
	srv := fakeServer(t, f)
	read := func(action, body string) string {
		req, _ := http.NewRequest("POST", srv.URL, bytes.NewBufferString(body))
		req.Header.Set("X-Amz-Target", "AmazonSQS."+action)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	for _, tc := range []struct{ action, body, want string }{
		{"ReceiveMessage", `{"QueueUrl":"u"}`, `{"Messages":[{"MessageId":"m-1","ReceiptHandle":"rh-1","MD5OfBody":"` + md5hex("hello <&> \"world\"\r\n") +
			`","Body":"hello <&> \"world\"\r\n","Attributes":{"ApproximateReceiveCount":"1","SenderId":"AIDA"},"MD5OfMessageAttributes":"am",` +
			`"MessageAttributes":{"b":{"BinaryValue":"AAEC","DataType":"Binary"},"s":{"StringValue":"v","DataType":"String"}}}]}`},
		{"SendMessageBatch", `{"QueueUrl":"u","Entries":[{"Id":"a","MessageBody":"x"},{"Id":"b","MessageBody":"y"}]}`,
			`{"Successful":[{"Id":"a","MD5OfMessageBody":"9dd4e461268c8034f5c8564e155c67a6","MessageId":"m-a"}],"Failed":[{"Id":"b","SenderFault":true,"Code":"InvalidParameterValue","Message":"bad"}]}`},
		{"ListDeadLetterSourceQueues", `{"QueueUrl":"u"}`, `{"queueUrls":["http://localhost/000000000000/q1"]}`},
		{"ListMessageMoveTasks", `{"SourceArn":"s"}`, `{"Results":[{"TaskHandle":"th-1","Status":"RUNNING","SourceArn":"s","ApproximateNumberOfMessagesMoved":3,"ApproximateNumberOfMessagesToMove":5,"StartedTimestamp":1700000000000}]}`},
		{"DeleteQueue", `{"QueueUrl":"u"}`, `{}`},
	} {
		if got := read(tc.action, tc.body); got != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.action, got, tc.want)
		}
	}
}
