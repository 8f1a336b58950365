package sqsapi

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/sealpost/sealpost/internal/sqs"
)

// nullWriter is a ResponseWriter that keeps nothing.
type nullWriter struct{ h http.Header }

func (w *nullWriter) Header() http.Header         { return w.h }
func (w *nullWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *nullWriter) WriteHeader(int)             {}

// benchJSON measures decode + domain call (canned) + encode of one action.
func benchJSON(b *testing.B, action, body string) {
	api := &API{svc: &fake{}, log: slog.New(slog.DiscardHandler)}
	req := httptest.NewRequest("POST", "/", nil)
	req.Header.Set("X-Amz-Target", "AmazonSQS."+action)
	w := &nullWriter{h: http.Header{}}
	bb := []byte(body)
	b.ReportAllocs()
	for b.Loop() {
		api.ServeJSON(w, req, sqs.Caller{RequestID: "r"}, bb)
	}
}

func benchQuery(b *testing.B, form string) {
	api := &API{svc: &fake{}, log: slog.New(slog.DiscardHandler)}
	req := httptest.NewRequest("POST", "/000000000000/q1", nil)
	params, _ := url.ParseQuery(form)
	w := &nullWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		api.ServeQuery(w, req, sqs.Caller{RequestID: "r"}, params)
	}
}

const benchSend = `{"QueueUrl":"http://localhost:9911/000000000000/q1","MessageBody":"{\"order\":12345,\"status\":\"shipped\",\"items\":[1,2,3]}","MessageAttributes":{"type":{"DataType":"String","StringValue":"order"}}}`

func BenchmarkSendJSON(b *testing.B) { benchJSON(b, "SendMessage", benchSend) }
func BenchmarkReceiveJSON(b *testing.B) {
	benchJSON(b, "ReceiveMessage", `{"QueueUrl":"http://localhost:9911/000000000000/q1","MaxNumberOfMessages":10,"WaitTimeSeconds":0,"MessageSystemAttributeNames":["All"],"MessageAttributeNames":["All"]}`)
}
func BenchmarkDeleteJSON(b *testing.B) {
	benchJSON(b, "DeleteMessage", `{"QueueUrl":"http://localhost:9911/000000000000/q1","ReceiptHandle":"AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a"}`)
}
func BenchmarkSendQuery(b *testing.B) {
	benchQuery(b, "Action=SendMessage&MessageBody=%7B%22order%22%3A12345%7D&MessageAttribute.1.Name=type&MessageAttribute.1.Value.DataType=String&MessageAttribute.1.Value.StringValue=order")
}
func BenchmarkReceiveQuery(b *testing.B) {
	benchQuery(b, "Action=ReceiveMessage&MaxNumberOfMessages=10&AttributeName.1=All&MessageAttributeName.1=All")
}
