package snsapi

import (
	"context"
	"encoding/xml"
	"io"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/envelope"
	"github.com/sealpost/sealpost/internal/sns"
	"github.com/sealpost/sealpost/internal/store/pebblestore"
)

// failingSealer answers every Seal with err.
type failingSealer struct{ err error }

func (f *failingSealer) Seal(context.Context, *sns.Caller, string, string, envelope.BodyAAD, []byte) ([]byte, error) {
	return nil, f.err
}

type errorResponse struct {
	XMLName xml.Name `xml:"ErrorResponse"`
	Type    string   `xml:"Error>Type"`
	Code    string   `xml:"Error>Code"`
	Message string   `xml:"Error>Message"`
	ReqID   string   `xml:"RequestId"`
}

func serveForm(t *testing.T, api *API, c sns.Caller, form string) (int, errorResponse) {
	t.Helper()
	params, err := url.ParseQuery(form)
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	api.Serve(rec, httptest.NewRequest("POST", "/", nil), c, params)
	var e errorResponse
	if rec.Code != 200 {
		if err := xml.Unmarshal(rec.Body.Bytes(), &e); err != nil {
			t.Fatalf("error body %q: %v", rec.Body.String(), err)
		}
	}
	return rec.Code, e
}

// TestKMSErrorsOnTheWire: each KMS failure while sealing a Publish or
// PublishBatch reaches the client as the SNS model's code and status, in
// an ErrorResponse whose message quotes the KMS answer as AWS does.
func TestKMSErrorsOnTheWire(t *testing.T) {
	st, err := pebblestore.Open(filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	fs := &failingSealer{}
	svc := sns.New(st, sns.Options{PublicURL: "https://x", CacheTTL: time.Hour, Sealer: fs, DedupKey: make([]byte, 32)})
	api := New(svc, slog.New(slog.NewTextHandler(io.Discard, nil)))
	c := sns.Caller{Account: "000000000000", Region: "us-east-1", Principal: "arn:aws:iam::000000000000:root", Signed: true, Secure: true, Authenticated: true}
	topic := "arn:aws:sns:us-east-1:000000000000:enc"
	if code, e := serveForm(t, api, c, "Action=CreateTopic&Name=enc&Attributes.entry.1.key=KmsMasterKeyId&Attributes.entry.1.value=alias/aws/sns"); code != 200 {
		t.Fatalf("CreateTopic: %d %+v", code, e)
	}
	keyARN := "arn:aws:kms:us-east-1:000000000000:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	for _, tc := range []struct {
		kind     error
		code     string
		status   int
		kmsCode  string
		kmsMsg   string
		wantText string
	}{
		{sns.ErrKMSDisabled, "KMSDisabled", 400, "DisabledException", keyARN + " is disabled.", keyARN + " is disabled."},
		{sns.ErrKMSInvalidState, "KMSInvalidState", 400, "KMSInvalidStateException", keyARN + " is pending deletion.", keyARN + " is pending deletion."},
		{sns.ErrKMSNotFound, "KMSNotFound", 400, "NotFoundException", "Alias arn:aws:kms:us-east-1:000000000000:alias/x is not found.", "is not found."},
		{sns.ErrKMSAccessDenied, "KMSAccessDenied", 400, "AccessDeniedException", "User: arn:aws:iam::000000000000:root is not authorized to perform: kms:GenerateDataKey", "kms:GenerateDataKey"},
		{sns.ErrKMSThrottling, "KMSThrottling", 400, "LimitExceededException", "", "null"},
		{sns.ErrKMSOptInRequired, "KMSOptInRequired", 403, "UnsupportedOperationException", "", "null"},
	} {
		fs.err = &sns.KMSError{Kind: tc.kind, Code: tc.kmsCode, Message: tc.kmsMsg, RequestID: "kms-request-1"}
		for _, form := range []string{
			"Action=Publish&TopicArn=" + topic + "&Message=secret",
			"Action=PublishBatch&TopicArn=" + topic + "&PublishBatchRequestEntries.member.1.Id=a&PublishBatchRequestEntries.member.1.Message=secret",
		} {
			status, e := serveForm(t, api, c, form)
			if status != tc.status || e.Code != tc.code || e.Type != "Sender" {
				t.Errorf("%v: %d %s %s, want %d %s Sender", tc.kind, status, e.Code, e.Type, tc.status, tc.code)
			}
			if !strings.Contains(e.Message, tc.wantText) || !strings.Contains(e.Message, "(Service: AWSKMS; Status Code: 400; Error Code: "+tc.kmsCode+"; Request ID: ") {
				t.Errorf("%v: message %q", tc.kind, e.Message)
			}
			if strings.Contains(e.Message, "secret") {
				t.Errorf("%v: the message quotes the body: %q", tc.kind, e.Message)
			}
		}
	}

	// InvalidSecurity: 403 with the model's words.
	overHTTP := c
	overHTTP.Secure = false
	status, e := serveForm(t, api, overHTTP, "Action=Publish&TopicArn="+topic+"&Message=m")
	if status != 403 || e.Code != "InvalidSecurity" || !strings.HasPrefix(e.Message, "The credential signature isn't valid. You must use an HTTPS endpoint and sign your request using Signature Version 4.") {
		t.Errorf("over HTTP: %d %+v", status, e)
	}

	// Without a Sealer: KMSOptInRequired.
	none := New(sns.New(st, sns.Options{PublicURL: "https://x"}), slog.New(slog.NewTextHandler(io.Discard, nil)))
	status, e = serveForm(t, none, c, "Action=Publish&TopicArn="+topic+"&Message=m")
	if status != 403 || e.Code != "KMSOptInRequired" {
		t.Errorf("no sealer: %d %+v", status, e)
	}
}
