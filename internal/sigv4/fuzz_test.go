package sigv4

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	knownOnce  sync.Once
	knownCreqs map[string]bool
)

// suiteCanonicals is the set of canonical requests the suite's signer signed
// (header and query forms): the only ones a verifier may ever accept for
// AKIDEXAMPLE.
func suiteCanonicals(tb testing.TB) map[string]bool {
	knownOnce.Do(func() {
		knownCreqs = map[string]bool{}
		for _, c := range loadSuite(tb) {
			knownCreqs[string(c.file(tb, "header-canonical-request.txt"))] = true
			knownCreqs[string(c.file(tb, "query-canonical-request.txt"))] = true
		}
	})
	return knownCreqs
}

func suiteVerifier() *Verifier {
	return &Verifier{
		Secret: func(id string) (string, bool) {
			if id == "AKIDEXAMPLE" {
				return "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", true
			}
			return "", false
		},
		Now: func() time.Time { return time.Date(2015, 8, 30, 12, 36, 0, 0, time.UTC) },
	}
}

func toCRLF(b []byte) []byte {
	s := strings.ReplaceAll(string(b), "\r\n", "\n")
	head, body, _ := strings.Cut(s, "\n\n")
	return []byte(strings.ReplaceAll(head, "\n", "\r\n") + "\r\n\r\n" + body)
}

// FuzzVerify feeds raw HTTP requests (seeded with the suite's signed
// requests) to Verify. Properties: no panic; the error is nil or a documented
// kind; an accepted request canonicalizes to a canonical request the suite's
// signer actually signed (so a mutation is accepted only when it changes
// nothing that is signed).
func FuzzVerify(f *testing.F) {
	for _, c := range loadSuite(f) {
		f.Add(toCRLF(c.file(f, "header-signed-request.txt")))
		f.Add(toCRLF(c.file(f, "query-signed-request.txt")))
	}
	known := suiteCanonicals(f)
	v := suiteVerifier()
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<16 {
			return
		}
		var r *http.Request
		var body []byte
		if rr, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(data))); err == nil {
			b, err := io.ReadAll(io.LimitReader(rr.Body, 1<<16))
			if err != nil {
				return
			}
			r, body = rr, b
		} else if rr, b, err := parseRawRequest(data); err == nil {
			r, body = rr, b
		} else {
			return
		}
		ParseScope(r)
		res, err := v.Verify(r, body)
		if !documented(err) {
			t.Fatalf("undocumented error %T %v", err, err)
		}
		if err != nil {
			return
		}
		in, perr := parseRequest(r)
		if perr != nil {
			t.Fatalf("accepted but parseRequest fails: %v", perr)
		}
		payload, _, _ := payloadHash(r, body)
		if !known[in.canonical(r, payload, true)] && !known[in.canonical(r, payload, false)] {
			t.Fatalf("accepted a request nobody signed: %q (result %+v)", data, res)
		}
	})
}

// FuzzParseAuthorization throws arbitrary Authorization headers at the parser,
// ParseScope and Verify.
func FuzzParseAuthorization(f *testing.F) {
	seeds := []string{
		"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
		"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request,SignedHeaders=host;x-amz-date,Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
		"AWS4-HMAC-SHA256\tSignature=00, Credential=a/b/c/d/e, SignedHeaders=host",
		"AWS4-HMAC-SHA256 Credential=/////, SignedHeaders=;;, Signature=",
		"AWS4-HMAC-SHA256 Credential==, Credential=x",
		"AWS4-ECDSA-P256-SHA256 Credential=AKID/20150830/service/aws4_request, SignedHeaders=host, Signature=00",
		"AWS AKIDEXAMPLE:frJIUN8DYpKDtOLCwo//yllqDzg=",
		"Bearer abc", "", " ", "AWS4-HMAC-SHA256", "AWS4-HMAC-SHA256 ,,,,", "AWS4-HMAC-SHA256 Credential=\xff\xfe/\u212a/ß/ﬀ/aws4_request, SignedHeaders=HOST, Signature=\x00",
	}
	for _, s := range seeds {
		f.Add(s)
	}
	v := suiteVerifier()
	f.Fuzz(func(t *testing.T, h string) {
		fields, err := splitAuthorization(h)
		if !documented(err) {
			t.Fatalf("undocumented error %v", err)
		}
		if err == nil && (!fields.haveCred || !fields.haveSH || !fields.haveSig) {
			t.Fatalf("accepted with missing parts: %+v", fields)
		}
		r := &http.Request{
			Method: "GET", URL: &url.URL{Path: "/"}, Host: "example.amazonaws.com",
			Header: http.Header{"Authorization": {h}, "X-Amz-Date": {"20150830T123600Z"}},
		}
		if in, err := parseRequest(r); err == nil {
			s := in.scope
			if s.AccessKeyID == "" || s.Date == "" || s.Region == "" || s.Service == "" || len(in.signedHeaders) == 0 {
				t.Fatalf("parsed incomplete input %+v", in)
			}
			host := false
			for _, n := range in.signedHeaders {
				host = host || asciiLower(n) == "host"
			}
			if !host {
				t.Fatal("host not signed but accepted")
			}
		} else if !documented(err) {
			t.Fatalf("undocumented error %v", err)
		}
		if s, ok := ParseScope(r); ok && (s.AccessKeyID == "" || s.Date == "" || s.Region == "" || s.Service == "") {
			t.Fatalf("ParseScope returned a partial scope %+v", s)
		}
		res, err := v.Verify(r, nil)
		if !documented(err) {
			t.Fatalf("undocumented error %v", err)
		}
		if err == nil && h != seeds[0] && h != seeds[1] {
			// Only header spellings of the get-vanilla signature can verify.
			if res.AccessKeyID != "AKIDEXAMPLE" || strings.Join(res.SignedHeaders, ";") != "host;x-amz-date" {
				t.Fatalf("accepted %q", h)
			}
		}
		if len(Message(err)) > 2000 {
			t.Fatalf("message not clipped: %d bytes", len(Message(err)))
		}
	})
}

// FuzzCanonical checks the encoders: no panic, only legal output bytes,
// canonical forms are fixed points.
func FuzzCanonical(f *testing.F) {
	f.Add("/example1/example2/../..", "Param2=value2&Param1=value1")
	f.Add("//a/./b%2F/..//", "a=%E1%88%B4&b=+x%zz&&=&c")
	f.Add("/\xff\x00 é", "%%%%=%2&%G0=%")
	f.Fuzz(func(t *testing.T, path, query string) {
		for _, norm := range []bool{true, false} {
			checkEncoded(t, canonicalURI(path, norm), true)
		}
		if strings.HasPrefix(path, "/") {
			n := normalizePath(path)
			if normalizePath(n) != n {
				t.Fatalf("normalizePath not idempotent: %q -> %q -> %q", path, n, normalizePath(n))
			}
		}
		cq := canonicalQuery(parseQuery(query), "")
		checkEncoded(t, strings.NewReplacer("=", "", "&", "").Replace(cq), false)
		if again := canonicalQuery(parseQuery(cq), ""); again != cq {
			t.Fatalf("canonical query not a fixed point: %q -> %q -> %q", query, cq, again)
		}
		if got := trimAll(trimAll(path)); got != trimAll(path) || strings.Contains(got, "  ") {
			t.Fatalf("trimAll(%q) = %q", path, got)
		}
	})
}

func checkEncoded(t *testing.T, s string, slash bool) {
	t.Helper()
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case isUnreserved(c), slash && c == '/':
		case c == '%' && i+2 < len(s) && isUpperHex(s[i+1]) && isUpperHex(s[i+2]):
			i += 2
		default:
			t.Fatalf("illegal byte %q at %d in %q", c, i, s)
		}
	}
}

func isUpperHex(c byte) bool { return '0' <= c && c <= '9' || 'A' <= c && c <= 'F' }
