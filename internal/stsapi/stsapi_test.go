package stsapi

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/sealpost/sealpost/internal/identity"
	"github.com/sealpost/sealpost/internal/sigv4"
)

const credsFile = `{"accounts":[
 {"id":"111122223333","users":[{"name":"root","accessKeys":[{"id":"AKIAROOT1","secret":"root-secret/1"}]},
                              {"name":"alice","accessKeys":[{"id":"AKIAALICE","secret":"alice+secret"}]}]},
 {"id":"444455556666","users":[{"name":"bob.b@x","accessKeys":[{"id":"AKIABOB","secret":"bob=secret"}]}]}]}`

// newServer is a small front door: it verifies the signature against the
// credentials file with scope service "sts", resolves the principal and
// hands the form to Serve, as internal/server does.
func newServer(t *testing.T) *httptest.Server {
	t.Helper()
	dir, err := identity.Parse([]byte(credsFile), identity.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			t.Error(err)
			return
		}
		var p identity.Principal
		v := sigv4.Verifier{Secret: func(id string) (string, bool) {
			var s string
			var ok bool
			p, s, ok = dir.Lookup(id)
			return s, ok
		}}
		if _, err := v.VerifyScope(r, body, "", Service); err != nil {
			WriteError(w, NewRequestID(), "SignatureDoesNotMatch", 403, sigv4.Message(err))
			return
		}
		params, err := url.ParseQuery(string(body))
		if err != nil {
			WriteError(w, NewRequestID(), "MalformedQueryString", 400, "bad form")
			return
		}
		for k, vs := range r.URL.Query() {
			params[k] = append(params[k], vs...)
		}
		Serve(w, r, p, params)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func client(url, akid, secret, region string) *sts.Client {
	return sts.New(sts.Options{
		Region:       region,
		BaseEndpoint: aws.String(url),
		Credentials:  credentials.NewStaticCredentialsProvider(akid, secret, ""),
	})
}

func TestGetCallerIdentitySDK(t *testing.T) {
	srv := newServer(t)
	tests := []struct {
		akid, secret, region string
		account, arn, userID string
	}{
		{"AKIAROOT1", "root-secret/1", "us-east-1", "111122223333", "arn:aws:iam::111122223333:root", "111122223333"},
		{"AKIAALICE", "alice+secret", "eu-west-1", "111122223333", "arn:aws:iam::111122223333:user/alice",
			identity.UserIDOf("arn:aws:iam::111122223333:user/alice")},
		{"AKIABOB", "bob=secret", "us-west-2", "444455556666", "arn:aws:iam::444455556666:user/bob.b@x",
			identity.UserIDOf("arn:aws:iam::444455556666:user/bob.b@x")},
	}
	for _, tc := range tests {
		t.Run(tc.akid, func(t *testing.T) {
			out, err := client(srv.URL, tc.akid, tc.secret, tc.region).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
			if err != nil {
				t.Fatal(err)
			}
			if aws.ToString(out.Account) != tc.account || aws.ToString(out.Arn) != tc.arn || aws.ToString(out.UserId) != tc.userID {
				t.Fatalf("got %s %s %s", aws.ToString(out.Account), aws.ToString(out.Arn), aws.ToString(out.UserId))
			}
		})
	}
	// A user's UserId has AWS's shape.
	if id := identity.UserIDOf("arn:aws:iam::111122223333:user/alice"); !regexp.MustCompile(`^AIDA[A-Z2-7]{17}$`).MatchString(id) {
		t.Errorf("user id %q", id)
	}
	// A wrong secret is refused before Serve (the SDK sees the code).
	_, err := client(srv.URL, "AKIAALICE", "wrong", "us-east-1").GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "SignatureDoesNotMatch" {
		t.Fatalf("wrong secret: %v", err)
	}
}

// TestOtherActionsSDK: an action Sealpost does not offer answers
// InvalidAction, which the SDK parses as an API error.
func TestOtherActionsSDK(t *testing.T) {
	srv := newServer(t)
	_, err := client(srv.URL, "AKIAALICE", "alice+secret", "us-east-1").GetSessionToken(context.Background(), &sts.GetSessionTokenInput{})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "InvalidAction" || !strings.Contains(ae.ErrorMessage(), "GetSessionToken") {
		t.Fatalf("%v", err)
	}
	var re interface{ HTTPStatusCode() int }
	if !errors.As(err, &re) || re.HTTPStatusCode() != 400 {
		t.Fatalf("status: %v", err)
	}
}

// TestWire pins the exact XML and headers.
func TestWire(t *testing.T) {
	alice := identity.Principal{Account: "111122223333", ARN: "arn:aws:iam::111122223333:user/alice",
		AccessKeyID: "AKIAALICE", UserName: "alice", UserID: "AIDAEXAMPLEEXAMPLE123"}
	tests := []struct {
		name   string
		p      identity.Principal
		params string
		status int
		body   string
	}{
		{"user", alice, "Action=GetCallerIdentity&Version=2011-06-15", 200,
			`<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>` +
				`<Arn>arn:aws:iam::111122223333:user/alice</Arn><UserId>AIDAEXAMPLEEXAMPLE123</UserId><Account>111122223333</Account>` +
				`</GetCallerIdentityResult><ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata></GetCallerIdentityResponse>` + "\n"},
		{"root without UserID", identity.Principal{Account: "000000000000", ARN: "arn:aws:iam::000000000000:root"},
			"Action=GetCallerIdentity", 200,
			`<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>` +
				`<Arn>arn:aws:iam::000000000000:root</Arn><UserId>000000000000</UserId><Account>000000000000</Account>` +
				`</GetCallerIdentityResult><ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata></GetCallerIdentityResponse>` + "\n"},
		{"unknown action", alice, "Action=Frobnicate&Version=2011-06-15", 400,
			`<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>InvalidAction</Code>` +
				`<Message>Could not find operation Frobnicate for version 2011-06-15</Message></Error><RequestId>req-1</RequestId></ErrorResponse>` + "\n"},
		{"escaped action", alice, "Action=%3Cx%3E%26", 400,
			`<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>InvalidAction</Code>` +
				`<Message>Could not find operation &lt;x&gt;&amp; for version 2011-06-15</Message></Error><RequestId>req-1</RequestId></ErrorResponse>` + "\n"},
		{"other STS action", alice, "Action=AssumeRole&Version=2011-06-15", 400,
			`<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>InvalidAction</Code>` +
				`<Message>Sealpost does not offer AssumeRole: only GetCallerIdentity is supported</Message></Error><RequestId>req-1</RequestId></ErrorResponse>` + "\n"},
		{"wrong version", alice, "Action=GetCallerIdentity&Version=2010-03-31", 400,
			`<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>InvalidAction</Code>` +
				`<Message>Could not find operation GetCallerIdentity for version 2010-03-31</Message></Error><RequestId>req-1</RequestId></ErrorResponse>` + "\n"},
		{"no action", alice, "Version=2011-06-15", 400,
			`<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>MissingAction</Code>` +
				`<Message>Missing Action</Message></Error><RequestId>req-1</RequestId></ErrorResponse>` + "\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			params, err := url.ParseQuery(tc.params)
			if err != nil {
				t.Fatal(err)
			}
			w := httptest.NewRecorder()
			w.Header().Set(RequestIDHeader, "req-1") // set by the front door
			Serve(w, httptest.NewRequest("POST", "/", nil), tc.p, params)
			if w.Code != tc.status || w.Body.String() != tc.body {
				t.Fatalf("got %d %s\nwant %d %s", w.Code, w.Body, tc.status, tc.body)
			}
			if w.Header().Get("Content-Type") != "text/xml" || w.Header().Get(RequestIDHeader) != "req-1" {
				t.Fatalf("headers %v", w.Header())
			}
		})
	}
}

func TestRequestID(t *testing.T) {
	w := httptest.NewRecorder()
	Serve(w, httptest.NewRequest("POST", "/", nil), identity.Default().Anonymous(), url.Values{"Action": {"GetCallerIdentity"}})
	id := w.Header().Get(RequestIDHeader)
	if !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(id) ||
		!strings.Contains(w.Body.String(), "<RequestId>"+id+"</RequestId>") {
		t.Fatalf("id %q body %s", id, w.Body)
	}
	if NewRequestID() == NewRequestID() {
		t.Fatal("request ids repeat")
	}
}

// TestBotocore: boto3's STS client (the aws CLI's code) signs with service
// "sts" and parses the answer. Skipped without python3 + boto3.
func TestBotocore(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not installed")
	}
	if out, err := exec.Command(py, "-c", "import boto3").CombinedOutput(); err != nil {
		t.Skipf("boto3 not importable: %v %s", err, out)
	}
	srv := newServer(t)
	const script = `
import sys, json, boto3
out = []
for ak, sk in (("AKIAALICE", "alice+secret"), ("AKIABOB", "bob=secret")):
    c = boto3.client("sts", endpoint_url=sys.argv[1], region_name="us-east-1",
                     aws_access_key_id=ak, aws_secret_access_key=sk)
    r = c.get_caller_identity()
    out.append([r["Account"], r["Arn"], r["UserId"]])
print(json.dumps(out))
`
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, py, "-c", script, srv.URL).CombinedOutput()
	if err != nil {
		t.Fatalf("python: %v\n%s", err, out)
	}
	want := `[["111122223333", "arn:aws:iam::111122223333:user/alice", "` + identity.UserIDOf("arn:aws:iam::111122223333:user/alice") + `"], ` +
		`["444455556666", "arn:aws:iam::444455556666:user/bob.b@x", "` + identity.UserIDOf("arn:aws:iam::444455556666:user/bob.b@x") + `"]]`
	if strings.TrimSpace(string(out)) != want {
		t.Fatalf("got  %s\nwant %s", out, want)
	}
}
