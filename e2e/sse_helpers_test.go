package e2e

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/sealpost/sealpost/internal/snssig"
)

// Helpers of the SSE end-to-end tests (sse_*_test.go): clients of two
// accounts, and an HTTP subscriber that confirms its subscriptions and
// verifies the signature of everything it receives.

// sseAccounts is the credentials file of the SSE tests: account A
// (111122223333) with its root and three users, account B (444455556666)
// with its root. dave's identity policy allows every SNS and KMS action:
// what refuses him a data key is the key policy.
const sseAccounts = `{"accounts": [
  {"id": "111122223333", "users": [
    {"name": "root",  "accessKeys": [{"id": "AKIASSEROOTA", "secret": "sse-root-a"}]},
    {"name": "carol", "accessKeys": [{"id": "AKIASSECAROL", "secret": "sse-carol"}]},
    {"name": "dave",  "accessKeys": [{"id": "AKIASSEDAVE", "secret": "sse-dave"}],
     "policy": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["sns:*", "kms:*"], "Resource": "*"}]}}]},
  {"id": "444455556666", "users": [
    {"name": "root",  "accessKeys": [{"id": "AKIASSEROOTB", "secret": "sse-root-b"}]}]}]}`

const (
	sseAccountA = "111122223333"
	sseAccountB = "444455556666"
)

// logOnFailure logs the tail of p's log when t failed.
func logOnFailure(t *testing.T, p *proc) {
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("sealpost log (last lines):\n%s", tail(p.log(t), 30))
			if d := os.Getenv("SSE_E2E_KEEP_LOG"); d != "" {
				os.WriteFile(filepath.Join(d, strings.ReplaceAll(t.Name(), "/", "_")+".log"), []byte(p.log(t)), 0o600)
			}
		}
	})
}

// sseUser is one identity's SNS and KMS clients.
type sseUser struct {
	sns *sns.Client
	kms *kms.Client
}

// sseHTTPClient trusts p's generated CA and keeps up to 64 idle
// connections per host (keep-alive for concurrent publishers).
func sseHTTPClient(p *proc) *http.Client {
	pool := x509.NewCertPool()
	if pem, err := os.ReadFile(p.caFile()); err == nil {
		pool.AppendCertsFromPEM(pem)
	}
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool}, MaxIdleConnsPerHost: 64, MaxIdleConns: 128}}
}

// sseClients are aws-sdk-go-v2 clients for p at endpoint signing with key
// and secret, without retries.
func sseClients(p *proc, endpoint, key, secret string) sseUser {
	cfg := aws.Config{
		Region:           "us-east-1",
		Credentials:      credentials.NewStaticCredentialsProvider(key, secret, ""),
		HTTPClient:       sseHTTPClient(p),
		BaseEndpoint:     aws.String(endpoint),
		RetryMaxAttempts: 1,
	}
	return sseUser{sns: sns.NewFromConfig(cfg), kms: kms.NewFromConfig(cfg)}
}

// sseSub is an HTTP subscriber: it confirms subscriptions by visiting
// their SubscribeURL and verifies the signature of every message it gets
// (SignatureVersion 1 and 2, certificate fetched from SigningCertURL
// through p's CA and cached). While failing, it answers notifications
// 500 without recording them (they stay pending in Sealpost and are
// retried).
type sseSub struct {
	srv *httptest.Server
	hc  *http.Client

	mu      sync.Mutex
	failing bool
	hits    int            // notification requests, answered or failed
	got     map[string]int // verified notifications: Message -> count
	subject map[string]string
	bad     []string // what did not verify or parse
	certs   map[string]*x509.Certificate
}

func newSSESub(t *testing.T, p *proc) *sseSub {
	s := &sseSub{hc: sseHTTPClient(p), got: map[string]int{}, subject: map[string]string{}, certs: map[string]*x509.Certificate{}}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *sseSub) url() string { return s.srv.URL + "/sse" }

func (s *sseSub) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	var m map[string]string
	if err == nil {
		err = json.Unmarshal(body, &m)
	}
	if err != nil {
		s.mu.Lock()
		s.bad = append(s.bad, "unparsable body: "+err.Error())
		s.mu.Unlock()
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	if m["Type"] == "Notification" {
		s.mu.Lock()
		s.hits++
		failing := s.failing
		s.mu.Unlock()
		if failing {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
	}
	if err := s.verify(m); err != nil {
		s.mu.Lock()
		s.bad = append(s.bad, fmt.Sprintf("%s %s: %v", m["Type"], m["MessageId"], err))
		s.mu.Unlock()
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	switch m["Type"] {
	case "SubscriptionConfirmation":
		resp, err := s.hc.Get(m["SubscribeURL"])
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				err = fmt.Errorf("status %d", resp.StatusCode)
			}
		}
		if err != nil {
			s.mu.Lock()
			s.bad = append(s.bad, "visiting SubscribeURL: "+err.Error())
			s.mu.Unlock()
		}
	case "Notification":
		s.mu.Lock()
		s.got[m["Message"]]++
		s.subject[m["Message"]] = m["Subject"]
		s.mu.Unlock()
	}
}

// verify checks m's signature with the certificate at its SigningCertURL,
// as AWS documents for subscribers.
func (s *sseSub) verify(m map[string]string) error {
	certURL := m["SigningCertURL"]
	s.mu.Lock()
	cert := s.certs[certURL]
	s.mu.Unlock()
	if cert == nil {
		resp, err := s.hc.Get(certURL)
		if err != nil {
			return err
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		blk, _ := pem.Decode(b)
		if blk == nil {
			return errors.New("no certificate at SigningCertURL")
		}
		if cert, err = x509.ParseCertificate(blk.Bytes); err != nil {
			return err
		}
		s.mu.Lock()
		s.certs[certURL] = cert
		s.mu.Unlock()
	}
	sig, err := base64.StdEncoding.DecodeString(m["Signature"])
	if err != nil {
		return err
	}
	pub, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok {
		return errors.New("signing certificate has no RSA key")
	}
	sts := snssig.StringToSign(snssig.Message{Type: m["Type"], MessageID: m["MessageId"], TopicARN: m["TopicArn"],
		Subject: m["Subject"], Message: m["Message"], Timestamp: m["Timestamp"], Token: m["Token"], SubscribeURL: m["SubscribeURL"]})
	if sts == nil {
		return fmt.Errorf("unknown message type %q", m["Type"])
	}
	switch m["SignatureVersion"] {
	case "1":
		h := sha1.Sum(sts)
		return rsa.VerifyPKCS1v15(pub, crypto.SHA1, h[:], sig)
	case "2":
		h := sha256.Sum256(sts)
		return rsa.VerifyPKCS1v15(pub, crypto.SHA256, h[:], sig)
	}
	return fmt.Errorf("SignatureVersion %q", m["SignatureVersion"])
}

// setFailing makes the subscriber answer notifications 500 (true) or
// take them (false).
func (s *sseSub) setFailing(f bool) {
	s.mu.Lock()
	s.failing = f
	s.mu.Unlock()
}

func (s *sseSub) hitCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits
}

func (s *sseSub) count(msg string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.got[msg]
}

// distinct is the number of distinct verified notifications received.
func (s *sseSub) distinct() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.got)
}

// checkGood fails t if anything the subscriber got did not verify.
func (s *sseSub) checkGood(t *testing.T) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.bad) > 0 {
		t.Fatalf("subscriber got %d messages that did not verify or parse, first: %s", len(s.bad), s.bad[0])
	}
}

// wait waits until cond holds (checked every 10 ms) or fails t after
// timeout, saying what.
func (s *sseSub) wait(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			s.mu.Lock()
			bad := strings.Join(s.bad, "; ")
			s.mu.Unlock()
			t.Fatalf("%s: not within %s (subscriber: %d hits, %d distinct, bad: [%s])", what, timeout, s.hitCount(), s.distinct(), bad)
		}
		time.Sleep(10 * time.Millisecond)
	}
	s.checkGood(t)
}

// waitMsg waits until the verified notification msg arrived.
func (s *sseSub) waitMsg(t *testing.T, msg string) {
	t.Helper()
	s.wait(t, 20*time.Second, fmt.Sprintf("notification %q", msg), func() bool { return s.count(msg) > 0 })
}

// fastRetry is a subscription DeliveryPolicy that retries every second,
// 100 times, so pending messages are retried quickly and not given up
// during a test.
const fastRetry = `{"healthyRetryPolicy": {"minDelayTarget": 1, "maxDelayTarget": 1, "numRetries": 100, "numNoDelayRetries": 0, "numMinDelayRetries": 0, "numMaxDelayRetries": 0, "backoffFunction": "linear"}}`
