package sigv4

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func signedAt(t *testing.T, at time.Time) (*http.Request, []byte) {
	t.Helper()
	body := []byte("Action=ListTopics&Version=2010-03-31")
	r, _ := http.NewRequest(http.MethodPost, "http://localhost:4566/", strings.NewReader(string(body)))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	if err := Sign(r, body, testAKID, testSecret, "", testRegion, "sns", at); err != nil {
		t.Fatal(err)
	}
	return r, body
}

func TestSkew(t *testing.T) {
	at := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	r, body := signedAt(t, at)
	for _, tc := range []struct {
		now  time.Duration
		skew time.Duration
		msg  string // "" = accepted
	}{
		{now: 0},
		{now: 15 * time.Minute},
		{now: -15 * time.Minute},
		{now: 15*time.Minute + time.Second,
			msg: "Signature expired: 20240101T000000Z is now earlier than 20240101T000001Z (20240101T001501Z - 15 min.)"},
		{now: 10 * time.Minute, skew: 5 * time.Minute,
			msg: "Signature expired: 20240101T000000Z is now earlier than 20240101T000500Z (20240101T001000Z - 5 min.)"},
		{now: -15*time.Minute - time.Second,
			msg: "Signature not yet current: 20240101T000000Z is still later than 20231231T235959Z (20231231T234459Z + 15 min.)"},
		{now: -90 * time.Second, skew: 60 * time.Second,
			msg: "Signature not yet current: 20240101T000000Z is still later than 20231231T235930Z (20231231T235830Z + 1 min.)"},
		{now: -31 * time.Second, skew: 30 * time.Second,
			msg: "Signature not yet current: 20240101T000000Z is still later than 20231231T235959Z (20231231T235929Z + 30s.)"},
	} {
		v := testVerifier(at.Add(tc.now))
		v.MaxSkew = tc.skew
		_, err := v.Verify(r, body)
		if tc.msg == "" {
			if err != nil {
				t.Errorf("now %v: %v", tc.now, err)
			}
			continue
		}
		checkKind(t, err, ErrExpired)
		if got := Message(err); got != tc.msg {
			t.Errorf("now %v skew %v:\n got %s\nwant %s", tc.now, tc.skew, got, tc.msg)
		}
	}
	// Non-UTC injected clocks are fine.
	v := testVerifier(at.In(time.FixedZone("X", 5*3600)))
	if _, err := v.Verify(r, body); err != nil {
		t.Fatal(err)
	}
}

func TestPresignExpiry(t *testing.T) {
	at := time.Date(2024, 1, 1, 12, 0, 0, 0, time.UTC)
	mk := func(expires string) *http.Request {
		r, _ := http.NewRequest(http.MethodGet, "http://localhost:4566/?Action=ListTopics", nil)
		presign(t, r, expires, at)
		return r
	}
	r := mk("60")
	for _, tc := range []struct {
		now  time.Duration
		want error
	}{
		{0, nil}, {60 * time.Second, nil}, {61 * time.Second, ErrPresignExpired},
		{-15 * time.Minute, nil}, {-15*time.Minute - time.Second, ErrExpired},
		{24 * time.Hour, ErrPresignExpired},
	} {
		_, err := testVerifier(at.Add(tc.now)).Verify(r, nil)
		if tc.want == nil {
			if err != nil {
				t.Errorf("now %v: %v", tc.now, err)
			}
			continue
		}
		checkKind(t, err, tc.want)
	}
	// A week is the limit.
	if _, err := testVerifier(at.Add(MaxPresignExpires)).Verify(mk("604800"), nil); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"604801", "-1", "abc", "", "1e3", "99999999999999999999"} {
		_, err := testVerifier(at).Verify(mk(bad), nil)
		checkKind(t, err, ErrIncomplete)
	}
	_, err := testVerifier(at).Verify(mk("0"), nil)
	if err != nil {
		t.Fatalf("X-Amz-Expires=0 at signing time: %v", err)
	}
	_, err = testVerifier(at.Add(time.Second)).Verify(mk("0"), nil)
	checkKind(t, err, ErrPresignExpired)
}

// presign builds a presigned URL by hand (the path aws-sdk-go-v2 takes is
// tested in TestSDKPresign); expires is put verbatim into the URL.
func presign(t *testing.T, r *http.Request, expires string, at time.Time) {
	t.Helper()
	amz := at.UTC().Format(TimeFormat)
	s := Scope{AccessKeyID: testAKID, Date: amz[:8], Region: testRegion, Service: "sns"}
	q := r.URL.Query()
	q.Set(paramAlgorithm, Algorithm)
	q.Set(paramCredential, testAKID+"/"+s.CredentialScope())
	q.Set(paramDate, amz)
	q.Set(paramExpires, expires)
	q.Set(paramSignedHeaders, "host")
	r.URL.RawQuery = q.Encode()
	in := &sigInput{presigned: true, signedHeaders: []string{"host"}, query: parseQuery(r.URL.RawQuery)}
	sig := signature(signingKey(testSecret, s), stringToSign(amz, s, in.canonical(r, hashHex(nil), true)))
	r.URL.RawQuery += "&" + paramSignature + "=" + hexString(sig)
}

func hexString(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return string(out)
}

func TestDates(t *testing.T) {
	at := time.Date(2024, 2, 29, 23, 59, 59, 0, time.UTC)
	v := testVerifier(at)
	r, body := signedAt(t, at)
	for _, bad := range []string{"2024-02-29T23:59:59Z", "20240229T235959", "20240230T000000Z", "20241301T000000Z",
		"20240229T246000Z", "2024022XT235959Z", "20240229t235959z", "", "20240229T235959Z\x00", "２０２４0229T235959Z"} {
		r2 := cloneRequest(r)
		r2.Header.Set("X-Amz-Date", bad)
		_, err := v.Verify(r2, body)
		checkKind(t, err, ErrBadDate)
	}
	r2 := cloneRequest(r)
	r2.Header.Add("X-Amz-Date", r.Header.Get("X-Amz-Date"))
	_, err := v.Verify(r2, body)
	checkKind(t, err, ErrBadDate)

	// No X-Amz-Date and no Date.
	r2 = cloneRequest(r)
	r2.Header.Del("X-Amz-Date")
	_, err = v.Verify(r2, body)
	checkKind(t, err, ErrIncomplete)
	if !strings.Contains(Message(err), "'X-Amz-Date' or a 'Date' header") {
		t.Fatalf("message %q", Message(err))
	}

	// Credential scope date differing from X-Amz-Date.
	r2 = cloneRequest(r)
	r2.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "/20240229/", "/20240228/", 1))
	_, err = v.Verify(r2, body)
	checkKind(t, err, ErrWrongScope)
	r2.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "/aws4_request", "/aws5_request", 1))
	_, err = v.Verify(r2, body)
	checkKind(t, err, ErrWrongScope)

	// The Date header, in every format botocore and HTTP clients write,
	// replaces X-Amz-Date when that is absent.
	for _, layout := range []string{http.TimeFormat, time.RFC1123Z, time.RFC850, time.ANSIC} {
		d := at.Format(layout)
		if layout == time.RFC1123Z {
			d = strings.Replace(d, "+0000", "-0000", 1) // email.utils.formatdate
		}
		r, _ := http.NewRequest(http.MethodPost, "http://localhost:4566/", strings.NewReader(string(body)))
		r.Header.Set("Date", d)
		signWithDateHeader(t, r, body, at)
		res, err := v.Verify(r, body)
		if err != nil {
			t.Fatalf("Date %q: %v", d, err)
		}
		if !res.SigningTime.Equal(at) {
			t.Fatalf("SigningTime %v", res.SigningTime)
		}
	}
}

// signWithDateHeader signs like botocore does when a Date header is present:
// the Date header is signed and the string to sign carries its basic form.
func signWithDateHeader(t *testing.T, r *http.Request, body []byte, at time.Time) {
	t.Helper()
	amz := at.UTC().Format(TimeFormat)
	s := Scope{AccessKeyID: testAKID, Date: amz[:8], Region: testRegion, Service: "sns"}
	in := &sigInput{signedHeaders: []string{"date", "host"}}
	sig := signature(signingKey(testSecret, s), stringToSign(amz, s, in.canonical(r, hashHex(body), true)))
	r.Header.Set("Authorization", Algorithm+" Credential="+testAKID+"/"+s.CredentialScope()+", SignedHeaders=date;host, Signature="+hexString(sig))
}
