package e2e

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/smithy-go"
)

const credsAB = `{"accounts": [{"id": "111111111111", "users": [
  {"name": "alice", "accessKeys": [{"id": "AKIAALICE", "secret": "secret-alice"}]},
  {"name": "bob", "accessKeys": [{"id": "AKIABOB", "secret": "secret-bob"}]}]}]}`

func (p *proc) clientAs(endpoint, key, secret string) *sns.Client {
	return sns.NewFromConfig(aws.Config{
		Region:           "us-east-1",
		Credentials:      credentials.NewStaticCredentialsProvider(key, secret, ""),
		HTTPClient:       &http.Client{Timeout: 30 * time.Second},
		BaseEndpoint:     aws.String(endpoint),
		RetryMaxAttempts: 1,
	})
}

func errCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	if err != nil {
		return err.Error()
	}
	return ""
}

// waitLog waits until the process log contains s.
func (p *proc) waitLog(t *testing.T, s string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if b, _ := os.ReadFile(p.logFile); strings.Contains(string(b), s) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	b, _ := os.ReadFile(p.logFile)
	t.Fatalf("log lacks %q:\n%s", s, b)
}

// TestSIGHUPRevokesRemovedKey: a real process reloads its credentials file on
// SIGHUP; a removed key is refused from then on while a publishing client
// keeps working; a bad file keeps the previous one.
func TestSIGHUPRevokesRemovedKey(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	creds := filepath.Join(dir, "credentials.json")
	if err := os.WriteFile(creds, []byte(credsAB), 0o600); err != nil {
		t.Fatal(err)
	}
	p := start(t, freePort(t), filepath.Join(dir, "data"), "--credentials", creds)
	alice := p.clientAs(p.url(), "AKIAALICE", "secret-alice")
	bob := p.clientAs(p.url(), "AKIABOB", "secret-bob")
	topic, err := bob.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("t")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := alice.ListTopics(ctx, &sns.ListTopicsInput{}); err != nil {
		t.Fatal(err)
	}
	// bob publishes all along: the reload drops no request.
	s := publishStream([]*sns.Client{bob}, topic.TopicArn, 4, "hup", func(_ int, err error) { t.Errorf("publish during the reloads: %v", err) })

	removed := strings.Replace(credsAB, `{"name": "alice", "accessKeys": [{"id": "AKIAALICE", "secret": "secret-alice"}]},`, "", 1)
	if err := os.WriteFile(creds, []byte(removed), 0o600); err != nil {
		t.Fatal(err)
	}
	p.cmd.Process.Signal(syscall.SIGHUP)
	p.waitLog(t, "credentials reloaded")
	if _, err := alice.ListTopics(ctx, &sns.ListTopicsInput{}); errCode(err) != "InvalidClientTokenId" {
		t.Fatalf("removed key after SIGHUP: %v", err)
	}

	if err := os.WriteFile(creds, []byte(`{"accounts": [{"id": "1"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	p.cmd.Process.Signal(syscall.SIGHUP)
	p.waitLog(t, "credentials file not reloaded")
	if _, err := bob.ListTopics(ctx, &sns.ListTopicsInput{}); err != nil {
		t.Fatalf("a bad file must keep the previous one: %v", err)
	}
	acked := s.Stop()
	if len(acked) == 0 {
		t.Fatal("no publish acknowledged during the reloads")
	}
	p.stop(t)
}

// TestAuthOffIsLoud: --auth=off warns at start-up and /health says so; the
// default says "auth":"on".
func TestAuthOffIsLoud(t *testing.T) {
	for _, mode := range []string{"on", "off"} {
		dir := t.TempDir()
		p := start(t, freePort(t), filepath.Join(dir, "data"), "--auth="+mode)
		resp, err := http.Get(p.url() + "/health")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(b), `"auth":"`+mode+`"`) {
			t.Fatalf("health %s", b)
		}
		if mode == "off" {
			p.waitLog(t, "AUTHENTICATION IS OFF")
		}
		p.stop(t)
	}
}
