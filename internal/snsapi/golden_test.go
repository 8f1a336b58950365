package snsapi

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/sns"
	"github.com/sealpost/sealpost/internal/store/pebblestore"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

var (
	uuidRE = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
)

// TestGoldenResponses pins the exact XML of representative responses and
// errors: element names, nesting, namespace, and the error envelope.
func TestGoldenResponses(t *testing.T) {
	st, err := pebblestore.Open(filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	svc := sns.New(st, sns.Options{PublicURL: "http://127.0.0.1:9911", Now: func() time.Time { return now }})
	api := New(svc, slog.New(slog.NewTextHandler(io.Discard, nil)))
	c := sns.Caller{Account: "000000000000", Region: "us-east-1", Principal: "arn:aws:iam::000000000000:root", Signed: true}
	topic := "arn:aws:sns:us-east-1:000000000000:golden"
	steps := []struct{ name, form string }{
		{"CreateTopic", "Action=CreateTopic&Name=golden&Tags.member.1.Key=team&Tags.member.1.Value=core"},
		{"GetTopicAttributes", "Action=GetTopicAttributes&TopicArn=" + topic},
		{"Subscribe", "Action=Subscribe&TopicArn=" + topic + "&Protocol=sqs&Endpoint=arn:aws:sqs:us-east-1:000000000000:q"},
		{"ListSubscriptionsByTopic", "Action=ListSubscriptionsByTopic&TopicArn=" + topic},
		{"ListTopics", "Action=ListTopics"},
		{"ListTagsForResource", "Action=ListTagsForResource&ResourceArn=" + topic},
		{"Publish", "Action=Publish&TopicArn=" + topic + "&Message=hello"},
		{"PublishBatch", "Action=PublishBatch&TopicArn=" + topic +
			"&PublishBatchRequestEntries.member.1.Id=ok&PublishBatchRequestEntries.member.1.Message=m" +
			"&PublishBatchRequestEntries.member.2.Id=bad&PublishBatchRequestEntries.member.2.Message="},
		{"PublishBatchBadAttribute", "Action=PublishBatch&TopicArn=" + topic +
			"&PublishBatchRequestEntries.member.1.Id=ok&PublishBatchRequestEntries.member.1.Message=m" +
			"&PublishBatchRequestEntries.member.2.Id=bad&PublishBatchRequestEntries.member.2.Message=m" +
			"&PublishBatchRequestEntries.member.2.MessageAttributes.entry.1.Name=k" +
			"&PublishBatchRequestEntries.member.2.MessageAttributes.entry.1.Value.DataType=Binary" +
			"&PublishBatchRequestEntries.member.2.MessageAttributes.entry.1.Value.BinaryValue=%21%21"},
		{"ErrorTooManyEntries", "Action=PublishBatch&TopicArn=" + topic + elevenEntries()},
		{"DeleteTopicMissing", "Action=DeleteTopic&TopicArn=arn:aws:sns:us-east-1:000000000000:missing"},
		{"ErrorNotFound", "Action=GetTopicAttributes&TopicArn=arn:aws:sns:us-east-1:000000000000:missing"},
		{"ErrorInvalidParameter", "Action=CreateTopic&Name=bad%20name"},
		{"ErrorUnknownAction", "Action=Explode"},
	}
	for _, s := range steps {
		params, err := url.ParseQuery(s.form)
		if err != nil {
			t.Fatal(err)
		}
		rec := httptest.NewRecorder()
		api.Serve(rec, httptest.NewRequest("POST", "/", nil), c, params)
		got := uuidRE.ReplaceAllString(rec.Body.String(), "UUID")
		got = regexp.MustCompile(`[0-9a-f]{128}`).ReplaceAllString(got, "TOKEN")
		path := filepath.Join("testdata", s.name+".xml")
		if *update {
			if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%s: %v (run go test -update)", s.name, err)
		}
		if got != string(want) {
			t.Errorf("%s: response differs from %s\n got: %s\nwant: %s", s.name, path, got, want)
		}
	}
}

func elevenEntries() string {
	var b strings.Builder
	for i := 1; i <= 11; i++ {
		fmt.Fprintf(&b, "&PublishBatchRequestEntries.member.%d.Id=e%d&PublishBatchRequestEntries.member.%d.Message=m", i, i, i)
	}
	return b.String()
}
