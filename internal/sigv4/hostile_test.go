package sigv4

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

const vanillaAuth = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"

func vanillaRequest(auth string) *http.Request {
	return &http.Request{
		Method: "GET", URL: &url.URL{Path: "/"}, Host: "example.amazonaws.com",
		Header: http.Header{"Authorization": {auth}, "X-Amz-Date": {"20150830T123600Z"}},
	}
}

func TestVanillaBaseline(t *testing.T) {
	if _, err := suiteVerifier().Verify(vanillaRequest(vanillaAuth), nil); err != nil {
		t.Fatal(err)
	}
	// Spacing variants of the same header are accepted.
	for _, a := range []string{
		strings.ReplaceAll(vanillaAuth, ", ", ","),
		strings.ReplaceAll(vanillaAuth, ", ", " ,  "),
		"AWS4-HMAC-SHA256  Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31, SignedHeaders=host;x-amz-date, Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request",
		strings.Replace(vanillaAuth, "Signature=5fa", "Signature=5FA", 1), // hex is case-insensitive once decoded
	} {
		if _, err := suiteVerifier().Verify(vanillaRequest(a), nil); err != nil {
			t.Errorf("%q: %v", a, err)
		}
	}
}

func TestMalformed(t *testing.T) {
	long := strings.Repeat("a", 1<<20)
	cases := []struct {
		name string
		r    *http.Request
		want error
	}{
		{"nil request", nil, ErrMissingAuth},
		{"nil URL", &http.Request{Header: http.Header{"Authorization": {vanillaAuth}}}, ErrMissingAuth},
		{"nil header", &http.Request{URL: &url.URL{Path: "/"}}, ErrMissingAuth},
		{"blank auth", vanillaRequest("  "), ErrMissingAuth},
		{"two auth headers", func() *http.Request {
			r := vanillaRequest(vanillaAuth)
			r.Header.Add("Authorization", vanillaAuth)
			return r
		}(), ErrIncomplete},
		{"bearer", vanillaRequest("Bearer abc"), ErrIncomplete},
		{"sigv2", vanillaRequest("AWS AKIDEXAMPLE:frJIUN8DYpKDtOLCwo//yllqDzg="), ErrIncomplete},
		{"sigv4a", vanillaRequest(strings.Replace(vanillaAuth, "AWS4-HMAC-SHA256", "AWS4-ECDSA-P256-SHA256", 1)), ErrIncomplete},
		{"algorithm only", vanillaRequest("AWS4-HMAC-SHA256"), ErrIncomplete},
		{"no equals", vanillaRequest(vanillaAuth + ", junk"), ErrIncomplete},
		{"duplicate credential", vanillaRequest(vanillaAuth + ", Credential=x/20150830/us-east-1/service/aws4_request"), ErrIncomplete},
		{"short credential", vanillaRequest(strings.Replace(vanillaAuth, "/aws4_request", "", 1)), ErrIncomplete},
		{"empty akid", vanillaRequest(strings.Replace(vanillaAuth, "AKIDEXAMPLE/", "/", 1)), ErrIncomplete},
		{"empty region", vanillaRequest(strings.Replace(vanillaAuth, "/us-east-1/", "//", 1)), ErrIncomplete},
		{"host not signed", vanillaRequest(strings.Replace(vanillaAuth, "host;x-amz-date", "x-amz-date", 1)), ErrIncomplete},
		{"empty signed header", vanillaRequest(strings.Replace(vanillaAuth, "host;x-amz-date", "host;;x-amz-date", 1)), ErrIncomplete},
		{"empty signed headers", vanillaRequest(strings.Replace(vanillaAuth, "host;x-amz-date", "", 1)), ErrIncomplete},
		{"non-hex signature", vanillaRequest(strings.Replace(vanillaAuth, "Signature=5fa0", "Signature=zzzz", 1)), ErrMismatch},
		{"long signature", vanillaRequest(vanillaAuth + "00"), ErrMismatch},
		{"empty signature", vanillaRequest(vanillaAuth[:strings.Index(vanillaAuth, "Signature=")+10]), ErrMismatch},
		{"1 MiB garbage", vanillaRequest(long), ErrIncomplete},
		{"1 MiB credential", vanillaRequest(strings.Replace(vanillaAuth, "AKIDEXAMPLE", long, 1)), ErrUnknownKey},
		{"1 MiB region", vanillaRequest(strings.Replace(vanillaAuth, "us-east-1", long, 1)), ErrMismatch},
		{"invalid utf-8", vanillaRequest(strings.Replace(vanillaAuth, "us-east-1", "\xff\xfe\xfd", 1)), ErrMismatch},
		{"presigned missing parts", &http.Request{URL: &url.URL{Path: "/", RawQuery: "X-Amz-Algorithm=AWS4-HMAC-SHA256"}}, ErrIncomplete},
		{"presigned bad algorithm", &http.Request{URL: &url.URL{Path: "/", RawQuery: "X-Amz-Algorithm=HMAC&X-Amz-Credential=a/20150830/r/s/aws4_request&X-Amz-Date=20150830T123600Z&X-Amz-Expires=1&X-Amz-SignedHeaders=host&X-Amz-Signature=00"}}, ErrIncomplete},
		{"presigned duplicate signature", &http.Request{URL: &url.URL{Path: "/", RawQuery: "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=a/20150830/r/s/aws4_request&X-Amz-Date=20150830T123600Z&X-Amz-Expires=1&X-Amz-SignedHeaders=host&X-Amz-Signature=00&X-Amz-Signature=01"}}, ErrIncomplete},
		{"presigned bad date", &http.Request{URL: &url.URL{Path: "/", RawQuery: "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=a/20150830/r/s/aws4_request&X-Amz-Date=yesterday&X-Amz-Expires=1&X-Amz-SignedHeaders=host&X-Amz-Signature=00"}}, ErrBadDate},
		{"presigned only signature", &http.Request{URL: &url.URL{Path: "/", RawQuery: "X-Amz-Signature=00"}}, ErrIncomplete},
		{"form-looking query is unsigned", &http.Request{URL: &url.URL{Path: "/", RawQuery: "Action=ListTopics&X-Amz-Date=20150830T123600Z"}}, ErrMissingAuth},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			start := time.Now()
			_, err := suiteVerifier().Verify(c.r, nil)
			checkKind(t, err, c.want)
			if n := len(Message(err)); n > 1500 {
				t.Fatalf("message is %d bytes", n)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Fatalf("took %v", d)
			}
		})
	}
}

// TestHugeInputs: very many signed headers / query parameters are linear.
func TestHugeInputs(t *testing.T) {
	names := make([]string, 0, 100001)
	names = append(names, "host")
	for i := 0; i < 100000; i++ {
		names = append(names, "x-h"+strings.Repeat("a", i%7))
	}
	r := vanillaRequest(strings.Replace(vanillaAuth, "host;x-amz-date", strings.Join(names, ";"), 1))
	for i := 0; i < 2000; i++ {
		r.Header["x-odd-"+strings.Repeat("b", i%5)+string(rune('a'+i%26))] = []string{"v"} // non-canonical keys
	}
	start := time.Now()
	_, err := suiteVerifier().Verify(r, nil)
	checkKind(t, err, ErrMismatch)

	var q strings.Builder
	q.WriteString("X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fus-east-1%2Fservice%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host&X-Amz-Signature=" + strings.Repeat("0", 64))
	for i := 0; i < 100000; i++ {
		q.WriteString("&p=%")
	}
	r = &http.Request{URL: &url.URL{Path: "/", RawQuery: q.String()}, Host: "h"}
	_, err = suiteVerifier().Verify(r, nil)
	checkKind(t, err, ErrMismatch)
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("took %v", d)
	}
}

// TestSecretNotCalledEarly: Secret sees only well-formed, current requests.
func TestSecretNotCalledEarly(t *testing.T) {
	calls := 0
	v := suiteVerifier()
	inner := v.Secret
	v.Secret = func(id string) (string, bool) { calls++; return inner(id) }
	for _, r := range []*http.Request{
		vanillaRequest("AWS4-HMAC-SHA256 Credential=x"),
		vanillaRequest(strings.Replace(vanillaAuth, "20150830/", "20150831/", 1)),
	} {
		if _, err := v.Verify(r, nil); err == nil {
			t.Fatal("accepted")
		}
	}
	late := *v
	late.Now = func() time.Time { return time.Date(2015, 8, 30, 13, 0, 0, 0, time.UTC) }
	if _, err := late.Verify(vanillaRequest(vanillaAuth), nil); !errors.Is(err, ErrExpired) {
		t.Fatal(err)
	}
	if calls != 0 {
		t.Fatalf("Secret called %d times", calls)
	}
	var nilSecret Verifier
	_, err := nilSecret.Verify(vanillaRequest(vanillaAuth), nil)
	checkKind(t, err, ErrExpired) // real clock: 2015 is long gone
	nilSecret.Now = suiteVerifier().Now
	_, err = nilSecret.Verify(vanillaRequest(vanillaAuth), nil)
	checkKind(t, err, ErrUnknownKey)
}

func TestParseScope(t *testing.T) {
	want := Scope{AccessKeyID: "AKIDEXAMPLE", Date: "20150830", Region: "us-east-1", Service: "service"}
	for _, tc := range []struct {
		name string
		r    *http.Request
		ok   bool
	}{
		{"header", vanillaRequest(vanillaAuth), true},
		{"header missing signature", vanillaRequest(vanillaAuth[:strings.LastIndex(vanillaAuth, ",")]), true},
		{"query", &http.Request{URL: &url.URL{RawQuery: "a=b&X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fus-east-1%2Fservice%2Faws4_request"}}, true},
		{"unsigned", &http.Request{URL: &url.URL{RawQuery: "Action=ListTopics"}}, false},
		{"nil", nil, false},
		{"sigv4a", vanillaRequest("AWS4-ECDSA-P256-SHA256 Credential=AKIDEXAMPLE/20150830/service/aws4_request, SignedHeaders=host, Signature=00"), false},
		{"bad credential", vanillaRequest("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830, SignedHeaders=host, Signature=00"), false},
	} {
		got, ok := ParseScope(tc.r)
		if ok != tc.ok || (ok && got != want) {
			t.Errorf("%s: %+v %v", tc.name, got, ok)
		}
	}
	if s := want.CredentialScope(); s != "20150830/us-east-1/service/aws4_request" {
		t.Fatal(s)
	}
}

func TestErrorType(t *testing.T) {
	_, err := suiteVerifier().Verify(vanillaRequest(strings.Replace(vanillaAuth, "Signature=5", "Signature=6", 1)), nil)
	var e *Error
	if !errors.As(err, &e) || e.Kind != ErrMismatch || !strings.HasPrefix(e.Message, "The request signature we calculated") {
		t.Fatalf("%#v", err)
	}
	if err.Error() != ErrMismatch.Error()+": "+e.Message || Message(err) != e.Message {
		t.Fatal(err.Error())
	}
	if Message(nil) != "" || Message(errors.New("x")) != "x" {
		t.Fatal("Message")
	}
	if got := clip("a\x00b" + strings.Repeat("é", 100)); len(got) > maxEchoBytes+6 || strings.ContainsRune(got, 0) {
		t.Fatalf("clip: %q", got)
	}
}

func TestSignErrors(t *testing.T) {
	r, _ := http.NewRequest(http.MethodGet, "http://h/", nil)
	for _, args := range [][4]string{{"", "s", "r", "sv"}, {"a", "", "r", "sv"}, {"a", "s", "", "sv"}, {"a", "s", "r", ""}, {"a/b", "s", "r", "sv"}} {
		if err := Sign(r, nil, args[0], args[1], "", args[2], args[3], t0); err == nil {
			t.Errorf("Sign%v accepted", args)
		}
	}
	if err := Sign(nil, nil, "a", "s", "", "r", "sv", t0); err == nil {
		t.Error("nil request accepted")
	}
	// Sign replaces a stale Authorization and ignores hop-by-hop headers.
	r.Header.Set("Authorization", "old")
	r.Header.Set("Connection", "keep-alive")
	r.Header.Set("User-Agent", "x")
	if err := Sign(r, nil, testAKID, testSecret, "", testRegion, "sns", t0); err != nil {
		t.Fatal(err)
	}
	if a := r.Header.Get("Authorization"); !strings.Contains(a, "SignedHeaders=host;x-amz-date,") {
		t.Fatal(a)
	}
	if _, err := testVerifier(t0).Verify(r, nil); err != nil {
		t.Fatal(err)
	}
}
