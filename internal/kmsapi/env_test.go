package kmsapi

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	kmssdk "github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/sealpost/sealpost/internal/envelope"
	"github.com/sealpost/sealpost/internal/kms"
	"github.com/sealpost/sealpost/internal/store/pebblestore"
)

const (
	testAccount = "111122223333"
	testRegion  = "us-east-1"
	testRoot    = "arn:aws:iam::111122223333:root"
)

// testCaller is the caller the test front door passes to Serve.
var testCaller = kms.Caller{
	Account: testAccount, Region: testRegion, Principal: testRoot, UserID: testAccount,
	AccessKeyID: "test", Authenticated: true,
}

// recorded is one request seen by the test front door.
type recorded struct {
	action string
	body   []byte
}

// env is an adapter over a real kms.Service (embedded store in a temp dir,
// fixed root key) behind an httptest server that plays the front door, and
// an aws-sdk-go-v2 KMS client pointed at it.
type env struct {
	svc    *kms.Service
	api    *API
	srv    *httptest.Server
	client *kmssdk.Client
	logs   *syncBuffer

	mu   sync.Mutex
	reqs []recorded
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newEnv(t testing.TB) *env {
	t.Helper()
	st, err := pebblestore.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	kr, err := envelope.NewKeyring(bytes.Repeat([]byte{0x5a}, 32))
	if err != nil {
		t.Fatal(err)
	}
	e := &env{logs: &syncBuffer{}}
	log := slog.New(slog.NewTextHandler(e.logs, nil))
	e.svc = kms.New(st, kr, kms.Options{Log: log})
	e.api = New(e.svc, log)
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			t.Error(err)
			return
		}
		target := r.Header.Get("X-Amz-Target")
		e.mu.Lock()
		e.reqs = append(e.reqs, recorded{strings.TrimPrefix(target, "TrentService."), body})
		e.mu.Unlock()
		c := testCaller
		c.RequestID = r.Header.Get("Test-Request-Id")
		e.api.Serve(w, r, c, body)
	}))
	t.Cleanup(e.srv.Close)
	e.client = kmssdk.NewFromConfig(aws.Config{
		Region:           testRegion,
		Credentials:      credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint:     aws.String(e.srv.URL),
		RetryMaxAttempts: 1,
	})
	return e
}

// last returns the last request the front door saw.
func (e *env) last(t testing.TB) recorded {
	t.Helper()
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.reqs) == 0 {
		t.Fatal("no request recorded")
	}
	return e.reqs[len(e.reqs)-1]
}

// post sends a raw request with X-Amz-Target TrentService.<action>.
func (e *env) post(t testing.TB, action, body string, hdr ...string) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), "POST", e.srv.URL, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", ContentType)
	req.Header.Set("X-Amz-Target", "TrentService."+action)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}
