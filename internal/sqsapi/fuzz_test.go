package sqsapi

import (
	"encoding/json"
	"encoding/xml"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/sqs"
)

var actionNames = func() []string {
	var l []string
	for n := range actions {
		l = append(l, n)
	}
	sort.Strings(l)
	return l
}()

func fuzzAPI() *API { return &API{svc: &fake{}, log: slog.New(slog.DiscardHandler)} }

// checkAnswer fails unless rec holds a 200 or a 4xx answer whose body
// parses in its protocol.
func checkAnswer(t *testing.T, rec *httptest.ResponseRecorder, isJSON bool, what string) {
	t.Helper()
	if rec.Code != 200 && (rec.Code < 400 || rec.Code >= 500) {
		t.Fatalf("%s: status %d: %s", what, rec.Code, rec.Body.Bytes())
	}
	if rec.Header().Get("x-amzn-RequestId") == "" {
		t.Fatalf("%s: no request id", what)
	}
	if isJSON {
		var m map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil {
			t.Fatalf("%s: answer %q is not JSON: %v", what, rec.Body.Bytes(), err)
		}
		return
	}
	var v any
	if err := xml.Unmarshal(rec.Body.Bytes(), &v); err != nil {
		t.Fatalf("%s: answer %q is not XML: %v", what, rec.Body.Bytes(), err)
	}
}

// FuzzJSON runs random bodies through ServeJSON for an action (n picks
// it) over a canned domain: never a panic, a 5xx or a hang; every answer is JSON.
func FuzzJSON(f *testing.F) {
	for _, s := range []string{
		``, `{}`, `null`, `[]`, `"x"`, `1`, `{"QueueUrl":null}`,
		`{"QueueUrl":"u","MessageBody":"b","DelaySeconds":1,"MessageAttributes":{"a":{"DataType":"String","StringValue":"v"},"b":{"DataType":"Binary","BinaryValue":"AAE="}}}`,
		`{"QueueUrl":"u","Entries":[{"Id":"a","MessageBody":"x","ReceiptHandle":"r","VisibilityTimeout":3},null,{}]}`,
		`{"QueueName":"q","Attributes":{"a":"b"},"tags":{"t":"v"},"Tags":{"x":"y"},"TagKeys":["a"]}`,
		`{"QueueUrl":"u","AttributeNames":["All"],"MessageSystemAttributeNames":["SenderId"],"MaxNumberOfMessages":-1e3,"WaitTimeSeconds":"1"}`,
		`{"SourceArn":"a","MaxResults":2147483648,"TaskHandle":"\u0000\ud800"}`,
		`{"QueueUrl":"u","Label":"l","AWSAccountIds":[null],"Actions":[1]}`,
	} {
		for i := range actionNames {
			f.Add(uint8(i), s)
		}
	}
	api := fuzzAPI()
	f.Fuzz(func(t *testing.T, n uint8, body string) {
		for _, action := range []string{actionNames[int(n)%len(actionNames)]} {
			rec := httptest.NewRecorder()
			req := httptest.NewRequest("POST", "/", nil)
			req.Header.Set("X-Amz-Target", "AmazonSQS."+action)
			done := make(chan struct{})
			go func() {
				defer close(done)
				api.ServeJSON(rec, req, sqs.Caller{RequestID: "r"}, []byte(body))
			}()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Fatalf("%s %q: hang", action, body)
			}
			checkAnswer(t, rec, true, action+" "+body)
		}
	})
}

// FuzzQuery runs random parameter sets through ServeQuery: the fuzzer's
// string is a form body (parsed as the front door parses it) posted to a
// path that may name a queue.
func FuzzQuery(f *testing.F) {
	for _, s := range []string{
		``, `Action=ListQueues`, `Action=CreateQueue&QueueName=q&Attribute.1.Name=a&Attribute.1.Value=b&Tag.1.Key=k`,
		`Action=SendMessage&MessageBody=x&MessageAttribute.1.Name=a&MessageAttribute.1.Value.DataType=Binary&MessageAttribute.1.Value.BinaryValue=AA%3D%3D`,
		`Action=SendMessageBatch&SendMessageBatchRequestEntry.1.Id=a&SendMessageBatchRequestEntry.999999.MessageBody=x&SendMessageBatchRequestEntry.01.Id=z`,
		`Action=ReceiveMessage&MaxNumberOfMessages=99999999999&AttributeName.1=All&WaitTimeSeconds=-1`,
		`Action=DeleteMessageBatch&DeleteMessageBatchRequestEntry.1.Id=a&DeleteMessageBatchRequestEntry.1.ReceiptHandle=r`,
		`Action=ChangeMessageVisibilityBatch&ChangeMessageVisibilityBatchRequestEntry.2.VisibilityTimeout=x`,
		`Action=AddPermission&Label=l&AWSAccountId.1=1&ActionName.1=%00`,
		`Action=%3Cx%3E`,
	} {
		f.Add(s, "/000000000000/q")
	}
	api := fuzzAPI()
	f.Fuzz(func(t *testing.T, form, path string) {
		params, err := url.ParseQuery(form)
		if err != nil {
			return // the front door refuses it
		}
		u, err := url.Parse("http://localhost/")
		if err != nil {
			return
		}
		u.Path = "/" + strings.TrimLeft(path, "/")
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("POST", u.String(), nil)
		done := make(chan struct{})
		go func() {
			defer close(done)
			api.ServeQuery(rec, req, sqs.Caller{RequestID: "r"}, params)
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("%q: hang", form)
		}
		checkAnswer(t, rec, false, form)
	})
}
