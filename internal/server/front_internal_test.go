package server

import (
	"crypto/tls"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/config"
	"github.com/sealpost/sealpost/internal/identity"
	"github.com/sealpost/sealpost/internal/sigv4"
)

func TestSourceIPAndSecureBehindTrustedProxies(t *testing.T) {
	s := &Server{cfg: &config.Config{TrustedProxies: []netip.Prefix{
		netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8"),
	}}}
	cases := []struct {
		name, remote string
		xff          []string
		proto        []string
		tls          bool
		ip           string
		secure       bool
	}{
		{"direct client", "203.0.113.5:1234", nil, nil, false, "203.0.113.5", false},
		{"direct client over TLS", "203.0.113.5:1234", nil, nil, true, "203.0.113.5", true},
		{"untrusted peer's headers ignored", "203.0.113.5:1234", []string{"1.2.3.4"}, []string{"https"}, false, "203.0.113.5", false},
		{"trusted proxy", "10.1.1.1:80", []string{"198.51.100.7"}, []string{"https"}, false, "198.51.100.7", true},
		{"right-most untrusted hop", "10.1.1.1:80", []string{"6.6.6.6, 198.51.100.7", "10.2.2.2"}, []string{"http"}, false, "198.51.100.7", false},
		{"last proto wins", "10.1.1.1:80", nil, []string{"http, https"}, false, "10.1.1.1", true},
		{"all hops trusted", "10.1.1.1:80", []string{"10.9.9.9, 10.8.8.8"}, nil, false, "10.9.9.9", false},
		{"garbled chain", "10.1.1.1:80", []string{"not-an-ip, 198.51.100.7"}, nil, false, "198.51.100.7", false},
		{"garbled last hop", "10.1.1.1:80", []string{"198.51.100.7, junk"}, nil, false, "10.1.1.1", false},
		{"ipv6 proxy", "[fd00::1]:80", []string{"2001:db8::9"}, []string{"HTTPS"}, false, "2001:db8::9", true},
		{"mapped v4 peer", "[::ffff:10.1.1.1]:80", []string{"198.51.100.7"}, nil, false, "198.51.100.7", false},
	}
	for _, tc := range cases {
		r := &http.Request{RemoteAddr: tc.remote, Header: http.Header{}}
		for _, v := range tc.xff {
			r.Header.Add("X-Forwarded-For", v)
		}
		for _, v := range tc.proto {
			r.Header.Add("X-Forwarded-Proto", v)
		}
		if tc.tls {
			r.TLS = &tls.ConnectionState{}
		}
		if got := s.sourceIP(r).String(); got != tc.ip {
			t.Errorf("%s: source ip %s, want %s", tc.name, got, tc.ip)
		}
		if got := s.secure(r); got != tc.secure {
			t.Errorf("%s: secure %v, want %v", tc.name, got, tc.secure)
		}
	}
}

func TestHostAllowed(t *testing.T) {
	s := &Server{hosts: servedHosts("0.0.0.0:9911", "https://sns.example.com/", "box1", []string{"extra.internal"})}
	for host, want := range map[string]bool{
		"":                       false,
		"localhost":              true,
		"LOCALHOST:9911":         true,
		"a.localhost":            true,
		"127.0.0.1:9911":         true,
		"[::1]:9911":             true,
		"10.0.0.7":               true,
		"sns.example.com":        true,
		"sns.example.com.:443":   true,
		"box1:9911":              true,
		"extra.internal":         true,
		"evil.example":           false,
		"localhost.evil.example": false,
		"sns.example.com.evil":   false,
	} {
		if got := s.hostAllowed(host); got != want {
			t.Errorf("hostAllowed(%q) = %v, want %v", host, got, want)
		}
	}
}

// TestPanicAnswersInTheRequestsProtocol: a panic becomes InternalError 500
// in the format of the protocol the request speaks, not SNS XML for all.
func TestPanicAnswersInTheRequestsProtocol(t *testing.T) {
	// No signing certificate: every request that gets past the Host check
	// panics (nil pointer).
	s := &Server{cfg: &config.Config{}, log: slog.New(slog.NewTextHandler(io.Discard, nil)), met: newMetrics()}
	for _, tc := range []struct {
		target, auth, want string
	}{
		{"TrentService.ListKeys", "", `{"__type":"InternalError"`},
		{"AmazonSQS.ListQueues", "", `{"__type":"com.amazonaws.sqs#InternalError"`},
		{"", "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/sts/aws4_request, SignedHeaders=host, Signature=00", `xmlns="https://sts.amazonaws.com/doc/2011-06-15/"`},
		{"", "", `xmlns="http://sns.amazonaws.com/doc/2010-03-31/"`},
	} {
		r := httptest.NewRequest("POST", "http://127.0.0.1/", strings.NewReader("Action=X"))
		if tc.target != "" {
			r.Header.Set("X-Amz-Target", tc.target)
		}
		if tc.auth != "" {
			r.Header.Set("Authorization", tc.auth)
		}
		w := httptest.NewRecorder()
		s.ServeHTTP(w, r)
		if w.Code != 500 || !strings.Contains(w.Body.String(), tc.want) || !strings.Contains(w.Body.String(), "InternalError") {
			t.Errorf("%q: %d %s", tc.target, w.Code, w.Body.String())
		}
	}
}

// BenchmarkAuthenticate is the front door's SigV4 cost per request (a
// signed Publish as aws-sdk-go-v2 sends it), to compare with a publish.
func BenchmarkAuthenticate(b *testing.B) {
	ids, err := identity.NewReloader("", identity.Options{})
	if err != nil {
		b.Fatal(err)
	}
	s := &Server{cfg: &config.Config{Region: "us-east-1"}, ids: ids, keys: sigv4.NewKeyCache(0), log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	body := "Action=Publish&Version=2010-03-31&TopicArn=arn%3Aaws%3Asns%3Aus-east-1%3A000000000000%3Abench&Message=a+message+of+a+typical+size"
	r := httptest.NewRequest("POST", "http://127.0.0.1:9911/", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("Amz-Sdk-Invocation-Id", "5f1e2f3a-0000-4000-8000-000000000000")
	r.Header.Set("Amz-Sdk-Request", "attempt=1; max=3")
	r.ContentLength = int64(len(body))
	if err := sigv4.Sign(r, []byte(body), "test", "test", "", "us-east-1", "sns", time.Now()); err != nil {
		b.Fatal(err)
	}
	info := &reqInfo{proto: protoSNS}
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := s.authenticate(nil, r, []byte(body), nil, info); !ok {
			b.Fatal("refused")
		}
	}
}

// TestCallerCarriesThePrincipal: a verified request's caller names the
// principal from the same file lookup as the secret, with its compiled
// identity policy and source address.
func TestCallerCarriesThePrincipal(t *testing.T) {
	path := filepath.Join(t.TempDir(), "credentials.json")
	doc := `{"accounts": [{"id": "111111111111", "users": [{"name": "carol", "accessKeys": [{"id": "AKIACAROL", "secret": "sc"}],
	  "policy": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sns:Publish", "Resource": "*"}]}}]}]}`
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	ids, err := identity.NewReloader(path, identity.Options{CompilePolicy: compileIdentityPolicy})
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{cfg: &config.Config{Region: "us-east-1"}, ids: ids, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	body := "Action=ListTopics"
	r := httptest.NewRequest("POST", "http://127.0.0.1:9911/", strings.NewReader(body))
	r.RemoteAddr = "192.0.2.9:5555"
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if err := sigv4.Sign(r, []byte(body), "AKIACAROL", "sc", "", "eu-west-1", "sns", time.Now()); err != nil {
		t.Fatal(err)
	}
	c, ok := s.authenticate(httptest.NewRecorder(), r, []byte(body), nil, &reqInfo{proto: protoSNS})
	if !ok {
		t.Fatal("refused")
	}
	if c.Account != "111111111111" || c.Principal != "arn:aws:iam::111111111111:user/carol" || c.AccessKeyID != "AKIACAROL" ||
		c.UserName != "carol" || c.UserID == "" || !c.Authenticated || !c.Signed || c.IdentityPolicy == nil ||
		c.Region != "eu-west-1" || c.SourceIP.String() != "192.0.2.9" || c.Secure {
		t.Fatalf("caller %+v", c)
	}
}

// TestRequestLogNamesThePrincipalNotTheSignature: the request log line
// (debug) carries account, principal and access key id; neither it nor a
// refusal's line carries the signature or the secret.
func TestRequestLogNamesThePrincipalNotTheSignature(t *testing.T) {
	var buf strings.Builder
	ids, err := identity.NewReloader("", identity.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{cfg: &config.Config{Region: "us-east-1"}, ids: ids, log: slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	body := "Action=ListTopics"
	sign := func(secret string) *http.Request {
		r := httptest.NewRequest("POST", "http://127.0.0.1:9911/", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if err := sigv4.Sign(r, []byte(body), "test", secret, "", "us-east-1", "sns", time.Now()); err != nil {
			t.Fatal(err)
		}
		return r
	}
	good, bad := sign("test"), sign("wrong-secret")
	info := &reqInfo{proto: protoSNS, action: "ListTopics"}
	c, ok := s.authenticate(httptest.NewRecorder(), good, []byte(body), nil, info)
	if !ok {
		t.Fatal("refused")
	}
	info.caller = c
	s.logRequest(good, info, 200)
	if _, ok := s.authenticate(httptest.NewRecorder(), bad, []byte(body), nil, &reqInfo{proto: protoSNS}); ok {
		t.Fatal("wrong secret accepted")
	}
	out := buf.String()
	for _, want := range []string{"account=000000000000", "principal=arn:aws:iam::000000000000:root", "access_key_id=test", "authenticated=true", "code=SignatureDoesNotMatch"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %s:\n%s", want, out)
		}
	}
	for _, secret := range []string{"Signature=", "wrong-secret", signatureOf(good), signatureOf(bad)} {
		if strings.Contains(out, secret) {
			t.Errorf("log contains %q:\n%s", secret, out)
		}
	}
}

func signatureOf(r *http.Request) string {
	_, sig, _ := strings.Cut(r.Header.Get("Authorization"), "Signature=")
	return sig
}
