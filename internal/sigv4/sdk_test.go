package sigv4

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/sns"
)

const (
	testAKID   = "AKIASEALPOSTTEST0001"
	testSecret = "sEcReT/with+chars=0123456789abcdefghijkl"
	testToken  = "IQoJb3JpZ2luX2VjEXAMPLE//token+with/slashes=="
	testRegion = "us-east-1"
)

var t0 = time.Date(2024, 1, 1, 12, 0, 0, 0, time.UTC)

func testVerifier(now time.Time) *Verifier {
	return &Verifier{
		Secret: func(id string) (string, bool) {
			if id == testAKID {
				return testSecret, true
			}
			return "", false
		},
		Now: func() time.Time { return now },
	}
}

const (
	snsBody = "Action=Publish&Version=2010-03-31&TopicArn=arn%3Aaws%3Asns%3Aus-east-1%3A123456789012%3Aorders" +
		"&Message=h%C3%A9llo%20w%C3%B6rld%20%26%20more&MessageAttributes.entry.1.Name=k&MessageAttributes.entry.1.Value.DataType=String" +
		"&MessageAttributes.entry.1.Value.StringValue=v%2Bw"
	kmsBody = `{"KeyId":"alias/aws/sns","Plaintext":"aGVsbG8=","EncryptionContext":{"topic":"orders"}}`
)

// sdkCase is one request shape signed by aws-sdk-go-v2's v4.Signer.
type sdkCase struct {
	name, service, contentType, target, body string
	token                                    string
}

var sdkCases = []sdkCase{
	{name: "sns-form", service: "sns", contentType: "application/x-www-form-urlencoded; charset=utf-8", body: snsBody},
	{name: "sns-form-token", service: "sns", contentType: "application/x-www-form-urlencoded; charset=utf-8", body: snsBody, token: testToken},
	{name: "kms-json", service: "kms", contentType: "application/x-amz-json-1.1", target: "TrentService.Encrypt", body: kmsBody},
	{name: "kms-json-token", service: "kms", contentType: "application/x-amz-json-1.1", target: "TrentService.Encrypt", body: kmsBody, token: testToken},
}

func (c sdkCase) request(t testing.TB, base string) *http.Request {
	t.Helper()
	r, err := http.NewRequest(http.MethodPost, base+"/", bytes.NewReader([]byte(c.body)))
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Set("Content-Type", c.contentType)
	if c.target != "" {
		r.Header.Set("X-Amz-Target", c.target)
	}
	r.Header.Set("Amz-Sdk-Invocation-Id", "3b5e6e39-8d4e-4d5d-9b1c-6c1a0e0f0a11")
	r.Header.Set("Amz-Sdk-Request", "attempt=1; max=3")
	return r
}

func sdkSign(t testing.TB, r *http.Request, body []byte, token, service string, at time.Time) {
	t.Helper()
	creds := aws.Credentials{AccessKeyID: testAKID, SecretAccessKey: testSecret, SessionToken: token}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, r, hashHex(body), service, testRegion, at); err != nil {
		t.Fatal(err)
	}
}

// TestSDKSignerInProcess verifies v4.Signer output on the client-side
// *http.Request and checks that tampering fails with the right kind.
func TestSDKSignerInProcess(t *testing.T) {
	for _, c := range sdkCases {
		t.Run(c.name, func(t *testing.T) {
			body := []byte(c.body)
			r := c.request(t, "https://sealpost.example.com")
			sdkSign(t, r, body, c.token, c.service, t0)
			v := testVerifier(t0.Add(3 * time.Minute))
			res, err := v.VerifyScope(r, body, testRegion, c.service)
			if err != nil {
				t.Fatalf("Verify: %v\nAuthorization: %s", err, r.Header.Get("Authorization"))
			}
			if res.SecurityToken != c.token || res.Presigned || res.UnsignedPayload || !res.SigningTime.Equal(t0) {
				t.Fatalf("result %+v", res)
			}
			t.Logf("signed headers: %s", strings.Join(res.SignedHeaders, ";"))

			try := func(what string, want error, mutate func(r2 *http.Request) []byte, vv *Verifier) {
				t.Helper()
				r2 := cloneRequest(r)
				b2 := body
				if mutate != nil {
					if b := mutate(r2); b != nil {
						b2 = b
					}
				}
				if vv == nil {
					vv = v
				}
				_, err := vv.VerifyScope(r2, b2, testRegion, c.service)
				if want == nil {
					if err != nil {
						t.Fatalf("%s: %v", what, err)
					}
					return
				}
				checkKind(t, err, want)
			}
			try("body", ErrMismatch, func(*http.Request) []byte { return append(append([]byte(nil), body...), ' ') }, nil)
			try("body same length", ErrMismatch, func(*http.Request) []byte {
				b := append([]byte(nil), body...)
				b[len(b)-2] ^= 1
				return b
			}, nil)
			try("content-type", ErrMismatch, func(r2 *http.Request) []byte { r2.Header.Set("Content-Type", "text/plain"); return nil }, nil)
			try("x-amz-date +1s", ErrMismatch, func(r2 *http.Request) []byte {
				r2.Header.Set("X-Amz-Date", t0.Add(time.Second).Format(TimeFormat))
				return nil
			}, nil)
			try("x-amz-date -20min", ErrExpired, func(r2 *http.Request) []byte {
				r2.Header.Set("X-Amz-Date", t0.Add(-20*time.Minute).Format(TimeFormat))
				return nil
			}, nil)
			try("x-amz-date garbage", ErrBadDate, func(r2 *http.Request) []byte { r2.Header.Set("X-Amz-Date", "2024-01-01T00:00:00Z"); return nil }, nil)
			try("host", ErrMismatch, func(r2 *http.Request) []byte { r2.Host = "evil.example.com"; return nil }, nil)
			try("query added", ErrMismatch, func(r2 *http.Request) []byte { r2.URL.RawQuery = "Action=DeleteTopic"; return nil }, nil)
			try("unsigned header added", nil, func(r2 *http.Request) []byte {
				r2.Header.Set("User-Agent", "curl/8")
				r2.Header.Set("X-Forwarded-For", "10.0.0.1")
				return nil
			}, nil)
			if c.target != "" {
				try("x-amz-target", ErrMismatch, func(r2 *http.Request) []byte { r2.Header.Set("X-Amz-Target", "TrentService.Decrypt"); return nil }, nil)
			}
			if c.token != "" {
				try("token", ErrMismatch, func(r2 *http.Request) []byte { r2.Header.Set("X-Amz-Security-Token", c.token+"x"); return nil }, nil)
			}
			try("server clock +16min", ErrExpired, nil, testVerifier(t0.Add(16*time.Minute)))
			try("server clock -16min", ErrExpired, nil, testVerifier(t0.Add(-16*time.Minute)))
			try("unknown key", ErrUnknownKey, func(r2 *http.Request) []byte {
				r2.Header.Set("Authorization", strings.Replace(r2.Header.Get("Authorization"), testAKID, "AKIAUNKNOWN", 1))
				return nil
			}, nil)
			try("no auth", ErrMissingAuth, func(r2 *http.Request) []byte { r2.Header.Del("Authorization"); return nil }, nil)
			try("no signature", ErrIncomplete, func(r2 *http.Request) []byte {
				h := r2.Header.Get("Authorization")
				r2.Header.Set("Authorization", h[:strings.Index(h, ", Signature=")])
				return nil
			}, nil)
			if _, err := v.VerifyScope(r, body, "eu-west-1", c.service); err == nil {
				t.Fatal("wrong region accepted")
			} else {
				checkKind(t, err, ErrWrongScope)
			}
			other := map[string]string{"sns": "kms", "kms": "sns"}[c.service]
			_, err = v.VerifyScope(r, body, testRegion, other)
			checkKind(t, err, ErrWrongScope)
		})
	}
}

// TestSDKPayloadHeader covers x-amz-content-sha256 as sent by a signer that
// opts into it: a correct digest authenticates the body; UNSIGNED-PAYLOAD
// verifies but leaves the body unauthenticated (and says so).
func TestSDKPayloadHeader(t *testing.T) {
	body := []byte(kmsBody)
	v := testVerifier(t0)
	creds := aws.Credentials{AccessKeyID: testAKID, SecretAccessKey: testSecret}

	r := sdkCases[2].request(t, "http://localhost:4566")
	r.Header.Set("X-Amz-Content-Sha256", hashHex(body))
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, r, hashHex(body), "kms", testRegion, t0); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(r, body); err != nil {
		t.Fatal(err)
	}
	_, err := v.Verify(r, []byte(`{"KeyId":"other"}`))
	checkKind(t, err, ErrMismatch)

	r = sdkCases[2].request(t, "http://localhost:4566")
	r.Header.Set("X-Amz-Content-Sha256", UnsignedPayload)
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, r, UnsignedPayload, "kms", testRegion, t0); err != nil {
		t.Fatal(err)
	}
	res, err := v.Verify(r, body)
	if err != nil || !res.UnsignedPayload {
		t.Fatalf("UNSIGNED-PAYLOAD: %+v %v", res, err)
	}
	if res, err := v.Verify(r, []byte("anything")); err != nil || !res.UnsignedPayload {
		t.Fatalf("UNSIGNED-PAYLOAD with other body: %+v %v", res, err)
	}
	r.Header.Set("X-Amz-Content-Sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD")
	_, err = v.Verify(r, body)
	checkKind(t, err, ErrIncomplete)
}

// TestSignMatchesSDK: for the same request and time, Sign and v4.Signer
// produce the same Authorization header.
func TestSignMatchesSDK(t *testing.T) {
	for _, c := range sdkCases {
		for _, base := range []string{"https://sns.us-east-1.amazonaws.com", "http://127.0.0.1:4566"} {
			body := []byte(c.body)
			a := c.request(t, base)
			b := c.request(t, base)
			sdkSign(t, a, body, c.token, c.service, t0)
			if err := Sign(b, body, testAKID, testSecret, c.token, testRegion, c.service, t0); err != nil {
				t.Fatal(err)
			}
			if ga, gb := a.Header.Get("Authorization"), b.Header.Get("Authorization"); ga != gb {
				t.Fatalf("%s %s:\n sdk  %s\n ours %s", c.name, base, ga, gb)
			}
		}
	}
	// With a query string that needs encoding and sorting.
	u := "http://127.0.0.1:4566/?b=2&a=x%20y&a=x+z&c=%E1%88%B4&d=&e=%2F%2B*"
	a, _ := http.NewRequest(http.MethodGet, u, nil)
	b, _ := http.NewRequest(http.MethodGet, u, nil)
	sdkSign(t, a, nil, "", "sns", t0)
	if err := Sign(b, nil, testAKID, testSecret, "", testRegion, "sns", t0); err != nil {
		t.Fatal(err)
	}
	if ga, gb := a.Header.Get("Authorization"), b.Header.Get("Authorization"); ga != gb {
		t.Fatalf("query:\n sdk  %s\n ours %s", ga, gb)
	}
}

// TestSDKPresign: v4.Signer.PresignHTTP URLs verify until they expire.
func TestSDKPresign(t *testing.T) {
	for _, token := range []string{"", testToken} {
		r, _ := http.NewRequest(http.MethodGet, "https://sns.us-east-1.amazonaws.com/?Action=ListTopics&Version=2010-03-31&X-Amz-Expires=300", nil)
		creds := aws.Credentials{AccessKeyID: testAKID, SecretAccessKey: testSecret, SessionToken: token}
		signed, hdr, err := v4.NewSigner().PresignHTTP(context.Background(), creds, r, hashHex(nil), "sns", testRegion, t0)
		if err != nil {
			t.Fatal(err)
		}
		p, _ := http.NewRequest(http.MethodGet, signed, nil)
		for k, vs := range hdr {
			if !strings.EqualFold(k, "host") {
				p.Header[k] = vs
			}
		}
		if sc, ok := ParseScope(p); !ok || sc.AccessKeyID != testAKID || sc.Service != "sns" {
			t.Fatalf("ParseScope %+v %v", sc, ok)
		}
		for _, tc := range []struct {
			at   time.Duration
			want error
		}{
			{0, nil}, {300 * time.Second, nil}, {301 * time.Second, ErrPresignExpired}, {-16 * time.Minute, ErrExpired},
		} {
			res, err := testVerifier(t0.Add(tc.at)).VerifyScope(p, nil, testRegion, "sns")
			if tc.want == nil {
				if err != nil || !res.Presigned || res.SecurityToken != token {
					t.Fatalf("token=%q at %v: %+v %v (url %s)", token, tc.at, res, err, signed)
				}
				continue
			}
			checkKind(t, err, tc.want)
		}
		q, _ := url.ParseQuery(p.URL.RawQuery)
		q.Set("Action", "DeleteTopic")
		p2 := cloneRequest(p)
		p2.URL.RawQuery = q.Encode()
		_, err = testVerifier(t0).Verify(p2, nil)
		checkKind(t, err, ErrMismatch)
	}
}

// recorder is an httptest handler that verifies every request the way a
// Sealpost endpoint will (body read with a cap, Go's server having moved Host
// out of the header map) and answers like SNS or KMS.
type recorder struct {
	v    *Verifier
	mu   sync.Mutex
	seen []recorded
}

type recorded struct {
	method, target, tag, uri string
	res                      Result
	err                      error
}

func (h *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, err.Error(), 500)
		return
	}
	res, verr := h.v.Verify(r, body)
	target := r.Header.Get("X-Amz-Target")
	h.mu.Lock()
	h.seen = append(h.seen, recorded{r.Method, target, r.Header.Get("X-Test-Case"), r.RequestURI, res, verr})
	h.mu.Unlock()
	w.Header().Set("X-Sigv4-Result", "ok")
	if verr != nil {
		w.Header().Set("X-Sigv4-Result", verr.Error())
	}
	if target != "" { // KMS JSON 1.1
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		if verr != nil {
			w.WriteHeader(400)
			io.WriteString(w, `{"__type":"InvalidSignatureException","message":"`+Message(verr)+`"}`)
			return
		}
		switch target {
		case "TrentService.ListKeys":
			io.WriteString(w, `{"Keys":[],"Truncated":false}`)
		default:
			io.WriteString(w, `{"CiphertextBlob":"AAAA","KeyId":"arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"}`)
		}
		return
	}
	w.Header().Set("Content-Type", "text/xml")
	if verr != nil {
		w.WriteHeader(403)
		io.WriteString(w, `<ErrorResponse><Error><Type>Sender</Type><Code>SignatureDoesNotMatch</Code><Message>x</Message></Error><RequestId>r</RequestId></ErrorResponse>`)
		return
	}
	form, _ := url.ParseQuery(string(body))
	if r.Method == http.MethodGet {
		form = r.URL.Query()
	}
	const ns = `xmlns="http://sns.amazonaws.com/doc/2010-03-31/"`
	switch form.Get("Action") {
	case "Publish":
		io.WriteString(w, `<PublishResponse `+ns+`><PublishResult><MessageId>m-1</MessageId></PublishResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></PublishResponse>`)
	default:
		io.WriteString(w, `<ListTopicsResponse `+ns+`><ListTopicsResult><Topics/></ListTopicsResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></ListTopicsResponse>`)
	}
}

func (h *recorder) take() []recorded {
	h.mu.Lock()
	defer h.mu.Unlock()
	s := h.seen
	h.seen = nil
	return s
}

// TestSDKOverHTTP sends v4.Signer- and Sign-signed requests through a real
// net/http server.
func TestSDKOverHTTP(t *testing.T) {
	rec := &recorder{v: &Verifier{Secret: testVerifier(t0).Secret}}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	for _, c := range sdkCases {
		for _, ours := range []bool{false, true} {
			body := []byte(c.body)
			r := c.request(t, srv.URL)
			if ours {
				if err := Sign(r, body, testAKID, testSecret, c.token, testRegion, c.service, time.Now()); err != nil {
					t.Fatal(err)
				}
			} else {
				sdkSign(t, r, body, c.token, c.service, time.Now())
			}
			resp, err := srv.Client().Do(r)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if got := resp.Header.Get("X-Sigv4-Result"); got != "ok" {
				t.Fatalf("%s (ours=%v): server says %s", c.name, ours, got)
			}
		}
	}
}

// TestSDKClients drives the real SNS and KMS clients of aws-sdk-go-v2 against
// a verifying server: whatever the SDK signs must verify.
func TestSDKClients(t *testing.T) {
	rec := &recorder{v: &Verifier{Secret: testVerifier(t0).Secret}}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	ctx := context.Background()
	for _, token := range []string{"", testToken} {
		prov := credentials.NewStaticCredentialsProvider(testAKID, testSecret, token)
		sc := sns.New(sns.Options{Region: testRegion, Credentials: prov, BaseEndpoint: aws.String(srv.URL),
			HTTPClient: srv.Client(), RetryMaxAttempts: 1})
		kc := kms.New(kms.Options{Region: testRegion, Credentials: prov, BaseEndpoint: aws.String(srv.URL),
			HTTPClient: srv.Client(), RetryMaxAttempts: 1})
		if _, err := sc.ListTopics(ctx, &sns.ListTopicsInput{}); err != nil {
			t.Fatalf("sns ListTopics: %v", err)
		}
		if _, err := sc.Publish(ctx, &sns.PublishInput{
			TopicArn: aws.String("arn:aws:sns:us-east-1:123456789012:orders"),
			Message:  aws.String("héllo wörld & more +/= ~!*'()"),
			Subject:  aws.String("s p a c e s"),
		}); err != nil {
			t.Fatalf("sns Publish: %v", err)
		}
		if _, err := kc.ListKeys(ctx, &kms.ListKeysInput{}); err != nil {
			t.Fatalf("kms ListKeys: %v", err)
		}
		if _, err := kc.Encrypt(ctx, &kms.EncryptInput{KeyId: aws.String("alias/aws/sns"), Plaintext: []byte("hello"),
			EncryptionContext: map[string]string{"k": "v"}}); err != nil {
			t.Fatalf("kms Encrypt: %v", err)
		}
		seen := rec.take()
		if len(seen) != 4 {
			t.Fatalf("server saw %d requests, want 4", len(seen))
		}
		for _, s := range seen {
			if s.err != nil {
				t.Fatalf("%s %s: %v", s.method, s.target, s.err)
			}
			must := []string{"host", "x-amz-date", "content-type", "content-length", "amz-sdk-invocation-id", "amz-sdk-request"}
			if token != "" {
				must = append(must, "x-amz-security-token")
			}
			if s.target != "" {
				must = append(must, "x-amz-target")
			}
			for _, m := range must {
				if !slices.Contains(s.res.SignedHeaders, m) {
					t.Errorf("%s: %q not signed (%v)", s.target, m, s.res.SignedHeaders)
				}
			}
			t.Logf("aws-sdk-go-v2 %s %s token=%v signs %s", s.res.Service, s.target, token != "", strings.Join(s.res.SignedHeaders, ";"))
		}
	}
}
