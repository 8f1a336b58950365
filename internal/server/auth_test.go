package server_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/sealpost/sealpost/internal/sigv4"
	"github.com/sealpost/sealpost/internal/testserver"
)

const listTopics = "Action=ListTopics&Version=2010-03-31"

// rawReply is a response to a hand-made request.
type rawReply struct {
	status int
	code   string
	msg    string
	body   string
}

func doRaw(t *testing.T, hc *http.Client, req *http.Request) rawReply {
	t.Helper()
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var er errorResponse
	xml.Unmarshal(b, &er)
	return rawReply{resp.StatusCode, er.Error.Code, er.Error.Message, string(b)}
}

// formRequest is a POST of body to endpoint, not signed yet.
func formRequest(endpoint, body string) *http.Request {
	req, _ := http.NewRequest("POST", endpoint+"/", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	return req
}

func signAs(t *testing.T, req *http.Request, body, key, secret, region, service string, at time.Time) {
	t.Helper()
	if err := sigv4.Sign(req, []byte(body), key, secret, "", region, service, at); err != nil {
		t.Fatal(err)
	}
}

// presign returns a presigned GET URL of query, valid for expires from at.
func presign(t *testing.T, endpoint, query string, at time.Time, expires time.Duration) string {
	t.Helper()
	req, _ := http.NewRequest("GET", endpoint+"/?"+query+"&X-Amz-Expires="+strconv.Itoa(int(expires/time.Second)), nil)
	u, _, err := v4.NewSigner().PresignHTTP(context.Background(), aws.Credentials{AccessKeyID: "test", SecretAccessKey: "test"},
		req, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "sns", "us-east-1", at)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestAuthMatrix sends each kind of bad signature through the real server:
// each gets its AWS code and status, and a correct request still works
// after it.
func TestAuthMatrix(t *testing.T) {
	srv, c := newClient(t)
	hc := srv.HTTPClient(t)
	ep := srv.URL()
	now := time.Now()
	random := func(n int) string {
		b := make([]byte, n)
		rand.Read(b)
		return base64.RawStdEncoding.EncodeToString(b)[:n]
	}
	cases := []struct {
		name   string
		req    func() *http.Request
		status int
		code   string
		msg    string // substring of the message
	}{
		{"no signature", func() *http.Request { return formRequest(ep, listTopics) }, 403, "MissingAuthenticationToken", "Request is missing Authentication Token"},
		{"unknown key", func() *http.Request {
			r := formRequest(ep, listTopics)
			signAs(t, r, listTopics, "AKIDUNKNOWN", "test", "us-east-1", "sns", now)
			return r
		}, 403, "InvalidClientTokenId", "The security token included in the request is invalid."},
		{"wrong secret", func() *http.Request {
			r := formRequest(ep, listTopics)
			signAs(t, r, listTopics, "test", "not-the-secret", "us-east-1", "sns", now)
			return r
		}, 403, "SignatureDoesNotMatch", "The request signature we calculated does not match"},
		{"one changed signature character", func() *http.Request {
			r := formRequest(ep, listTopics)
			signAs(t, r, listTopics, "test", "test", "us-east-1", "sns", now)
			a := r.Header.Get("Authorization")
			last := a[len(a)-1]
			repl := byte('0')
			if last == '0' {
				repl = '1'
			}
			r.Header.Set("Authorization", a[:len(a)-1]+string(repl))
			return r
		}, 403, "SignatureDoesNotMatch", "The request signature we calculated does not match"},
		{"host not signed", func() *http.Request {
			r := formRequest(ep, listTopics)
			signAs(t, r, listTopics, "test", "test", "us-east-1", "sns", now)
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), ";host;", ";", 1))
			return r
		}, 400, "IncompleteSignature", "'Host' must be a 'SignedHeader'"},
		{"body changed after signing", func() *http.Request {
			r := formRequest(ep, listTopics+"&NextToken=x")
			signAs(t, r, listTopics+"&NextToken=y", "test", "test", "us-east-1", "sns", now)
			return r
		}, 403, "SignatureDoesNotMatch", "The request signature we calculated does not match"},
		{"dated 20 minutes in the past", func() *http.Request {
			r := formRequest(ep, listTopics)
			signAs(t, r, listTopics, "test", "test", "us-east-1", "sns", now.Add(-20*time.Minute))
			return r
		}, 403, "SignatureDoesNotMatch", "Signature expired: "},
		{"dated 20 minutes in the future", func() *http.Request {
			r := formRequest(ep, listTopics)
			signAs(t, r, listTopics, "test", "test", "us-east-1", "sns", now.Add(20*time.Minute))
			return r
		}, 403, "SignatureDoesNotMatch", "Signature not yet current: "},
		{"dated 5 minutes in the past", func() *http.Request {
			r := formRequest(ep, listTopics)
			signAs(t, r, listTopics, "test", "test", "us-east-1", "sns", now.Add(-5*time.Minute))
			return r
		}, 200, "", ""},
		{"dated 5 minutes in the future", func() *http.Request {
			r := formRequest(ep, listTopics)
			signAs(t, r, listTopics, "test", "test", "us-east-1", "sns", now.Add(5*time.Minute))
			return r
		}, 200, "", ""},
		{"scope region mars-north-1", func() *http.Request {
			r := formRequest(ep, listTopics)
			signAs(t, r, listTopics, "test", "test", "mars-north-1", "sns", now)
			return r
		}, 403, "SignatureDoesNotMatch", "Credential should be scoped to a valid region."},
		{"scope region us-east-1:evil", func() *http.Request {
			r := formRequest(ep, "Action=CreateTopic&Name=evil")
			signAs(t, r, "Action=CreateTopic&Name=evil", "test", "test", "us-east-1:evil", "sns", now)
			return r
		}, 403, "SignatureDoesNotMatch", "Credential should be scoped to a valid region."},
		{"scope service kms on an SNS request", func() *http.Request {
			r := formRequest(ep, listTopics)
			signAs(t, r, listTopics, "test", "test", "us-east-1", "kms", now)
			return r
		}, 403, "SignatureDoesNotMatch", "Credential should be scoped to correct service: 'sns'."},
		{"expired presigned URL", func() *http.Request {
			r, _ := http.NewRequest("GET", presign(t, ep, listTopics, now.Add(-10*time.Minute), time.Minute), nil)
			return r
		}, 403, "SignatureDoesNotMatch", "Request has expired"},
		{"current presigned URL", func() *http.Request {
			r, _ := http.NewRequest("GET", presign(t, ep, listTopics, now, time.Minute), nil)
			return r
		}, 200, "", ""},
		{"48 KB of random characters in the Authorization header", func() *http.Request {
			r := formRequest(ep, listTopics)
			r.Header.Set("Authorization", random(48<<10))
			return r
		}, 400, "IncompleteSignature", ""},
		// Beyond the 64 KiB header cap net/http itself refuses the request.
		{"100 KB of random characters in the Authorization header", func() *http.Request {
			r := formRequest(ep, listTopics)
			r.Header.Set("Authorization", random(100<<10))
			return r
		}, 431, "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := doRaw(t, hc, tc.req())
			if got.status != tc.status || got.code != tc.code || !strings.Contains(got.msg, tc.msg) {
				t.Fatalf("got %d %q %q (%s), want %d %q %q", got.status, got.code, got.msg, got.body, tc.status, tc.code, tc.msg)
			}
			if _, err := c.ListTopics(context.Background(), &sns.ListTopicsInput{}); err != nil {
				t.Fatalf("a correct request after it: %v", err)
			}
		})
	}
	// No topic was created in a bogus region.
	out, err := c.ListTopics(context.Background(), &sns.ListTopicsInput{})
	if err != nil || len(out.Topics) != 0 {
		t.Fatalf("topics %v %v", out, err)
	}
}

func apiCode(t *testing.T, err error) (string, string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("want an AWS error, got %v", err)
	}
	return ae.ErrorCode(), ae.ErrorMessage()
}

const twoAccounts = `{"accounts": [
 {"id": "111111111111", "users": [
   {"name": "root", "accessKeys": [{"id": "AKIAROOTA", "secret": "secret-root-a"}]},
   {"name": "alice", "accessKeys": [{"id": "AKIAALICE", "secret": "secret-alice"}]}]},
 {"id": "222222222222", "users": [
   {"name": "bob", "accessKeys": [{"id": "AKIABOB", "secret": "secret-bob"}],
    "policy": {"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "sns:*", "Resource": "*"}}}]}]}`

func writeCreds(t *testing.T, path, doc string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestSDKClientsAuth: real SDK clients with good and bad credentials, for
// SNS, STS and KMS (which answers "not available", but only after
// verifying).
func TestSDKClientsAuth(t *testing.T) {
	ctx := context.Background()
	creds := filepath.Join(t.TempDir(), "credentials.json")
	writeCreds(t, creds, twoAccounts)
	srv := testserver.Start(t, testserver.Options{Args: []string{"--credentials", creds}})

	// GetCallerIdentity for two users of two accounts, over HTTP and HTTPS.
	for _, tc := range []struct{ key, secret, account, arn string }{
		{"AKIAALICE", "secret-alice", "111111111111", "arn:aws:iam::111111111111:user/alice"},
		{"AKIABOB", "secret-bob", "222222222222", "arn:aws:iam::222222222222:user/bob"},
		{"AKIAROOTA", "secret-root-a", "111111111111", "arn:aws:iam::111111111111:root"},
	} {
		for _, ep := range []string{srv.URL(), srv.TLSURL()} {
			out, err := srv.STSClient(t, ep, tc.key, tc.secret, "eu-west-1").GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
			if err != nil {
				t.Fatalf("%s: %v", tc.key, err)
			}
			if aws.ToString(out.Account) != tc.account || aws.ToString(out.Arn) != tc.arn || aws.ToString(out.UserId) == "" {
				t.Fatalf("%s: %s %s %s", tc.key, aws.ToString(out.Account), aws.ToString(out.Arn), aws.ToString(out.UserId))
			}
		}
	}
	_, err := srv.STSClient(t, srv.URL(), "AKIAALICE", "wrong", "").GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if code, _ := apiCode(t, err); code != "SignatureDoesNotMatch" {
		t.Fatalf("sts wrong secret: %s", code)
	}
	_, err = srv.STSClient(t, srv.URL(), "test", "test", "").GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if code, _ := apiCode(t, err); code != "InvalidClientTokenId" {
		t.Fatalf("sts: test/test is not in the file: %s", code)
	}

	// SNS: each account sees its own topics.
	bob := srv.SNSClient(t, srv.URL(), "AKIABOB", "secret-bob", "")
	out, err := bob.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("b")})
	if err != nil || aws.ToString(out.TopicArn) != "arn:aws:sns:us-east-1:222222222222:b" {
		t.Fatalf("bob: %v %v", out, err)
	}
	for _, tc := range []struct{ key, secret, region, code string }{
		{"AKIABOB", "secret-alice", "", "SignatureDoesNotMatch"},
		{"AKIANOBODY", "x", "", "InvalidClientTokenId"},
		{"AKIABOB", "secret-bob", "mars-north-1", "SignatureDoesNotMatch"},
	} {
		_, err := srv.SNSClient(t, srv.URL(), tc.key, tc.secret, tc.region).ListTopics(ctx, &sns.ListTopicsInput{})
		if code, msg := apiCode(t, err); code != tc.code {
			t.Fatalf("%+v: %s %s", tc, code, msg)
		}
	}

	// KMS: JSON errors from the front door; a verified request reaches KMS.
	_, err = srv.KMSClient(t, srv.URL(), "AKIANOBODY", "x", "").ListKeys(ctx, &kms.ListKeysInput{})
	if code, _ := apiCode(t, err); code != "UnrecognizedClientException" {
		t.Fatalf("kms unknown key: %s", code)
	}
	_, err = srv.KMSClient(t, srv.URL(), "AKIABOB", "wrong", "").ListKeys(ctx, &kms.ListKeysInput{})
	if code, _ := apiCode(t, err); code != "InvalidSignatureException" {
		t.Fatalf("kms wrong secret: %s", code)
	}
	if _, err = srv.KMSClient(t, srv.URL(), "AKIABOB", "secret-bob", "").ListKeys(ctx, &kms.ListKeysInput{}); err != nil {
		t.Fatalf("kms signed: %v", err)
	}
}

// TestReloadRevokesKey: after a reload with a file without a key, the key is
// refused at once; a bad file keeps the previous one.
func TestReloadRevokesKey(t *testing.T) {
	ctx := context.Background()
	creds := filepath.Join(t.TempDir(), "credentials.json")
	writeCreds(t, creds, twoAccounts)
	srv := testserver.Start(t, testserver.Options{Args: []string{"--credentials", creds}})
	alice := srv.SNSClient(t, srv.URL(), "AKIAALICE", "secret-alice", "")
	bob := srv.SNSClient(t, srv.URL(), "AKIABOB", "secret-bob", "")
	if _, err := alice.ListTopics(ctx, &sns.ListTopicsInput{}); err != nil {
		t.Fatal(err)
	}
	writeCreds(t, creds, strings.Replace(twoAccounts, `{"name": "alice", "accessKeys": [{"id": "AKIAALICE", "secret": "secret-alice"}]}`, `{"name": "alice", "accessKeys": []}`, 1))
	if err := srv.ReloadCredentials(); err != nil {
		t.Fatal(err)
	}
	_, err := alice.ListTopics(ctx, &sns.ListTopicsInput{})
	if code, _ := apiCode(t, err); code != "InvalidClientTokenId" {
		t.Fatalf("removed key: %s", code)
	}
	if _, err := bob.ListTopics(ctx, &sns.ListTopicsInput{}); err != nil {
		t.Fatal(err)
	}
	writeCreds(t, creds, `{"accounts": [`)
	if err := srv.ReloadCredentials(); err == nil {
		t.Fatal("bad file reloaded")
	}
	if _, err := bob.ListTopics(ctx, &sns.ListTopicsInput{}); err != nil {
		t.Fatalf("after a bad file the previous one stays: %v", err)
	}
}

func getHealth(t *testing.T, srv *testserver.Server) string {
	t.Helper()
	resp, err := srv.HTTPClient(t).Get(srv.URL() + "/health")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// TestAuthOff: unsigned and wrongly signed requests act as the claimed (or
// default) account; unsigned GETs of actions and cross-site form posts are
// still refused; the Host check stays.
func TestAuthOff(t *testing.T) {
	ctx := context.Background()
	creds := filepath.Join(t.TempDir(), "credentials.json")
	writeCreds(t, creds, twoAccounts)
	srv := testserver.Start(t, testserver.Options{Args: []string{"--credentials", creds, "--auth=off"}})
	hc := srv.HTTPClient(t)
	if h := getHealth(t, srv); !strings.Contains(h, `"auth":"off"`) {
		t.Fatalf("health %s", h)
	}
	// wrong secret: acts as the claimed key's account
	out, err := srv.SNSClient(t, srv.URL(), "AKIABOB", "wrong", "").CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("claimed")})
	if err != nil || aws.ToString(out.TopicArn) != "arn:aws:sns:us-east-1:222222222222:claimed" {
		t.Fatalf("%v %v", out, err)
	}
	// unsigned form POST: the default account
	got := doRaw(t, hc, formRequest(srv.URL(), "Action=CreateTopic&Name=unsigned"))
	if got.status != 200 || !strings.Contains(got.body, "arn:aws:sns:us-east-1:111111111111:unsigned") {
		t.Fatalf("unsigned post: %+v", got)
	}
	// unsigned STS (routed by Version)
	got = doRaw(t, hc, formRequest(srv.URL(), "Action=GetCallerIdentity&Version=2011-06-15"))
	if got.status != 200 || !strings.Contains(got.body, "<Account>111111111111</Account>") {
		t.Fatalf("unsigned sts: %+v", got)
	}
	// the region is still checked
	r := formRequest(srv.URL(), "Action=CreateTopic&Name=evil")
	signAs(t, r, "Action=CreateTopic&Name=evil", "test", "test", "us-east-1:evil", "sns", time.Now())
	if got := doRaw(t, hc, r); got.status != 403 || got.code != "SignatureDoesNotMatch" {
		t.Fatalf("evil region: %+v", got)
	}
	// A text/plain POST (which a page can send cross-site) is refused too.
	r = formRequest(srv.URL(), "Action=CreateTopic&Name=csrf")
	r.Header.Set("Content-Type", "text/plain")
	if got := doRaw(t, hc, r); got.status != 400 {
		t.Errorf("unsigned text/plain POST: %+v", got)
	}
	for name, req := range map[string]*http.Request{
		"unsigned GET": func() *http.Request {
			r, _ := http.NewRequest("GET", srv.URL()+"/?Action=CreateTopic&Name=csrf", nil)
			return r
		}(),
		"unsigned cross-site form POST": func() *http.Request {
			r := formRequest(srv.URL(), "Action=CreateTopic&Name=csrf")
			r.Header.Set("Origin", "https://evil.example")
			return r
		}(),
	} {
		if got := doRaw(t, hc, req); got.status != 403 || got.code != "MissingAuthenticationToken" {
			t.Errorf("%s: %+v", name, got)
		}
	}
	// JSON: unsigned KMS with its own content type passes the front door
	// (and reaches KMS as the default account); a text/plain one does not.
	for ct, want := range map[string]string{"application/x-amz-json-1.1": `"Keys":[]`, "text/plain": `"__type":"MissingAuthenticationTokenException"`} {
		r, _ := http.NewRequest("POST", srv.URL()+"/", strings.NewReader("{}"))
		r.Header.Set("X-Amz-Target", "TrentService.ListKeys")
		r.Header.Set("Content-Type", ct)
		if got := doRaw(t, hc, r); !strings.Contains(got.body, want) {
			t.Errorf("unsigned kms %s: %+v", ct, got)
		}
	}
	// DNS rebinding: a foreign Host is refused, signed or not.
	r = formRequest(srv.URL(), "Action=CreateTopic&Name=rebind")
	r.Host = "evil.example:9911"
	if got := doRaw(t, hc, r); got.status != 403 || got.code != "AccessDenied" {
		t.Fatalf("foreign host: %+v", got)
	}
	topics, err := srv.SNSClient(t, srv.URL(), "AKIAROOTA", "secret-root-a", "").ListTopics(ctx, &sns.ListTopicsInput{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tp := range topics.Topics {
		if strings.Contains(aws.ToString(tp.TopicArn), "csrf") || strings.Contains(aws.ToString(tp.TopicArn), "rebind") {
			t.Fatalf("refused request created %s", aws.ToString(tp.TopicArn))
		}
	}
}

// TestHostCheck: the Host header must name this server, also for signed
// requests (the default key is public) and for /health.
func TestHostCheck(t *testing.T) {
	srv := testserver.Start(t, testserver.Options{Args: []string{"--allowed-hosts", "sealpost.internal"}})
	hc := srv.HTTPClient(t)
	if h := getHealth(t, srv); !strings.Contains(h, `"auth":"on"`) {
		t.Fatalf("health %s", h)
	}
	_, port, _ := strings.Cut(srv.Addr(), ":")
	for host, want := range map[string]int{
		"localhost:" + port:         200,
		"127.0.0.1:" + port:         200,
		"[::1]:" + port:             200,
		"sealpost.internal:" + port: 200,
		"SEALPOST.INTERNAL":         200,
		"app.localhost:" + port:     200,
		"evil.example:" + port:      403,
		"127.0.0.1.nip.io:" + port:  403,
	} {
		r := formRequest(srv.URL(), listTopics)
		r.Host = host
		signAs(t, r, listTopics, "test", "test", "us-east-1", "sns", time.Now())
		got := doRaw(t, hc, r)
		if got.status != want || (want == 403 && got.code != "AccessDenied") {
			t.Errorf("Host %s: %+v", host, got)
		}
	}
	r, _ := http.NewRequest("GET", srv.URL()+"/health", nil)
	r.Host = "evil.example"
	if got := doRaw(t, hc, r); got.status != 403 {
		t.Fatalf("/health with a foreign host: %+v", got)
	}
	// The unsigned endpoints stay unsigned.
	for _, path := range []string{"/health", "/metrics"} {
		resp, err := hc.Get(srv.URL() + path)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("%s: %v %v", path, resp, err)
		}
		resp.Body.Close()
	}
}

// TestReloadDuringRequests: reloads while requests run drop none of them
// (run with -race).
func TestReloadDuringRequests(t *testing.T) {
	ctx := context.Background()
	creds := filepath.Join(t.TempDir(), "credentials.json")
	writeCreds(t, creds, twoAccounts)
	srv := testserver.Start(t, testserver.Options{Args: []string{"--credentials", creds}})
	bob := srv.SNSClient(t, srv.URL(), "AKIABOB", "secret-bob", "")
	done := make(chan struct{})
	errs := make(chan error, 4)
	for w := 0; w < 4; w++ {
		go func() {
			for {
				select {
				case <-done:
					errs <- nil
					return
				default:
				}
				if _, err := bob.ListTopics(ctx, &sns.ListTopicsInput{}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	for i := 0; i < 30; i++ {
		if err := srv.ReloadCredentials(); err != nil {
			t.Fatal(err)
		}
	}
	close(done)
	for w := 0; w < 4; w++ {
		if err := <-errs; err != nil {
			t.Fatalf("request during reload: %v", err)
		}
	}
}
