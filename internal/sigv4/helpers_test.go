package sigv4

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// suiteDir is the aws-c-auth signing test suite copied into the shared
// reference tree (see its PROVENANCE.md).
const suiteDir = "../../../shared/reference/sigv4-test-suite"

type suiteContext struct {
	Credentials struct {
		AccessKeyID     string `json:"access_key_id"`
		SecretAccessKey string `json:"secret_access_key"`
		Token           string `json:"token"`
	} `json:"credentials"`
	ExpirationInSeconds int       `json:"expiration_in_seconds"`
	Normalize           bool      `json:"normalize"`
	Region              string    `json:"region"`
	Service             string    `json:"service"`
	SignBody            bool      `json:"sign_body"`
	Timestamp           time.Time `json:"timestamp"`
	OmitSessionToken    bool      `json:"omit_session_token"`
}

type suiteCase struct {
	name string
	dir  string
	ctx  suiteContext
}

func (c suiteCase) file(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(c.dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (c suiteCase) verifier() *Verifier {
	return &Verifier{
		Secret: func(id string) (string, bool) {
			if id == c.ctx.Credentials.AccessKeyID {
				return c.ctx.Credentials.SecretAccessKey, true
			}
			return "", false
		},
		Now: func() time.Time { return c.ctx.Timestamp },
	}
}

// loadSuite returns the v4 cases, or skips when the suite is not present.
func loadSuite(t testing.TB) []suiteCase {
	t.Helper()
	dirs, err := filepath.Glob(filepath.Join(suiteDir, "v4", "*"))
	if err != nil || len(dirs) == 0 {
		t.Skipf("SigV4 test suite not found under %s", suiteDir)
	}
	var cases []suiteCase
	for _, d := range dirs {
		b, err := os.ReadFile(filepath.Join(d, "context.json"))
		if err != nil {
			t.Fatal(err)
		}
		c := suiteCase{name: filepath.Base(d), dir: d}
		if err := json.Unmarshal(b, &c.ctx); err != nil {
			t.Fatalf("%s: %v", d, err)
		}
		cases = append(cases, c)
	}
	return cases
}

// parseRawRequest reads the suite's request text the way Go's server would
// (header names canonicalized, Host moved to r.Host, obs-fold continuation
// lines joined with one space, values trimmed), but tolerates what
// http.ReadRequest rejects: raw spaces and UTF-8 in the request target.
func parseRawRequest(data []byte) (*http.Request, []byte, error) {
	s := strings.ReplaceAll(string(data), "\r\n", "\n")
	head, body, _ := strings.Cut(s, "\n\n")
	lines := strings.Split(head, "\n")
	first := lines[0]
	i, j := strings.IndexByte(first, ' '), strings.LastIndexByte(first, ' ')
	if i < 0 || j <= i {
		return nil, nil, fmt.Errorf("bad request line %q", first)
	}
	method, target := first[:i], first[i+1:j]
	u, err := url.ParseRequestURI(target)
	if err != nil {
		return nil, nil, err
	}
	r := &http.Request{
		Method:     method,
		URL:        u,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     make(http.Header),
		RequestURI: target,
	}
	var names []string
	var values []string
	for _, l := range lines[1:] {
		if l == "" {
			continue
		}
		if (l[0] == ' ' || l[0] == '\t') && len(values) > 0 {
			values[len(values)-1] = strings.TrimSpace(values[len(values)-1]) + " " + strings.TrimSpace(l)
			continue
		}
		n, v, ok := strings.Cut(l, ":")
		if !ok {
			return nil, nil, fmt.Errorf("bad header line %q", l)
		}
		names = append(names, n)
		values = append(values, strings.TrimSpace(v))
	}
	for k, n := range names {
		if strings.EqualFold(n, "host") {
			r.Host = values[k]
			continue
		}
		r.Header.Add(n, values[k])
	}
	b := []byte(body)
	r.ContentLength = int64(len(b))
	if cl := r.Header.Get("Content-Length"); cl != "" {
		if n, err := strconv.ParseInt(cl, 10, 64); err == nil && n <= int64(len(b)) {
			b = b[:n]
			r.ContentLength = n
		}
	}
	r.Body = io.NopCloser(bytes.NewReader(b))
	return r, b, nil
}

// readWithNetHTTP parses data with http.ReadRequest (CRLF line endings), as
// a real server would, when Go accepts it.
func readWithNetHTTP(data []byte) (*http.Request, []byte, error) {
	s := strings.ReplaceAll(string(data), "\r\n", "\n")
	head, body, _ := strings.Cut(s, "\n\n")
	wire := strings.ReplaceAll(head, "\n", "\r\n") + "\r\n\r\n" + body
	r, err := http.ReadRequest(bufio.NewReader(strings.NewReader(wire)))
	if err != nil {
		return nil, nil, err
	}
	b, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, nil, err
	}
	return r, b, nil
}

// cloneRequest deep-copies what Verify looks at.
func cloneRequest(r *http.Request) *http.Request {
	c := r.Clone(r.Context())
	u := *r.URL
	c.URL = &u
	return c
}

// sentinels are all documented error kinds.
var sentinels = []error{ErrMissingAuth, ErrIncomplete, ErrUnknownKey, ErrMismatch, ErrExpired, ErrPresignExpired, ErrBadDate, ErrWrongScope}

// checkKind fails unless err is an *Error of kind want.
func checkKind(t testing.TB, err error, want error) {
	t.Helper()
	if err == nil {
		t.Fatalf("got nil error, want %v", want)
	}
	if !errors.Is(err, want) {
		t.Fatalf("got %v, want kind %v", err, want)
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v is not a *sigv4.Error", err)
	}
	for _, s := range sentinels {
		if s != want && errors.Is(err, s) {
			t.Fatalf("error %v also matches %v", err, s)
		}
	}
}

// documented reports whether err is nil or one of the sentinel kinds.
func documented(err error) bool {
	if err == nil {
		return true
	}
	var e *Error
	if !errors.As(err, &e) {
		return false
	}
	for _, s := range sentinels {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}
