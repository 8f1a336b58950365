package e2e

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/smithy-go"

	"github.com/sealpost/sealpost/internal/identity"
)

// TestAuthMatrix runs scripts/auth_matrix.py over HTTP and HTTPS: botocore
// (boto3 and its own signer) tries each way past SigV4 that issue 8 names —
// no signature (also a state-changing GET), unknown key, wrong secret, one
// changed signature character, host not signed, body changed after signing,
// dated 20 minutes in the past and future (5 minutes still works), scope
// region mars-north-1 and us-east-1:evil, scope service kms, an expired
// presigned URL (a valid one works), random Authorization headers of 60 KB
// and 100 KB, a Host that names another server (DNS rebinding) — each with
// its code and status, and a correct request right after each row; refused
// state-changing requests create nothing.
func TestAuthMatrix(t *testing.T) {
	python := lookTool(t, "python3", "needed for boto3")
	env := clientEnv(t)
	if out, err := runClient(t, env, python, "-c", "import boto3, botocore"); err != nil {
		missingTool(t, "boto3 is not importable by %s: %v\n%s", python, err, out)
	}
	p := start(t, freePort(t), filepath.Join(t.TempDir(), "data"))
	t.Run("http", func(t *testing.T) {
		runScript(t, p, env, "authmatrix", python, "auth_matrix.py", p.url())
	})
	t.Run("https", func(t *testing.T) {
		runScript(t, p, env, "authmatrix", python, "auth_matrix.py", p.tlsURL(), p.caFile())
	})
	// With --auth=off wrongly signed requests act as the account, but an
	// unsigned GET, a form POST with a foreign Origin, a non-form POST and
	// a foreign Host (DNS rebinding) are still refused, and so is an
	// unknown scope region.
	off := start(t, freePort(t), filepath.Join(t.TempDir(), "data"), "--auth=off")
	t.Run("auth off", func(t *testing.T) {
		runScript(t, off, env, "authmatrix", python, "auth_matrix.py", "--auth-off", off.url())
	})
}

// twoAccounts is a credentials file with a root and a user in one account
// and a user in another.
const twoAccounts = `{"accounts": [
  {"id": "111122223333", "users": [
    {"name": "root",  "accessKeys": [{"id": "AKIAROOTA", "secret": "root-a-secret"}]},
    {"name": "alice", "accessKeys": [{"id": "AKIAALICE", "secret": "alice-secret"}]}]},
  {"id": "444455556666", "users": [
    {"name": "bob",   "accessKeys": [{"id": "AKIABOB", "secret": "bob-secret"}]}]}]}`

func writeCredentials(t *testing.T, path, content string) {
	t.Helper()
	// Write beside and rename, as an operator's tooling would, so that the
	// server never reads half a file.
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// TestSTSCallerIdentity runs `aws sts get-caller-identity` as two users of
// two accounts (and an account root) against a server with a credentials
// file, over HTTP and HTTPS, and checks the Account, Arn and UserId each
// gets; then that `aws sts` and `aws sns` with a wrong secret or an unknown
// key fail with SignatureDoesNotMatch / InvalidClientTokenId.
func TestSTSCallerIdentity(t *testing.T) {
	aws := lookTool(t, "aws", "the aws CLI")
	creds := filepath.Join(t.TempDir(), "credentials.json")
	writeCredentials(t, creds, twoAccounts)
	p := start(t, freePort(t), filepath.Join(t.TempDir(), "data"), "--credentials", creds)

	for _, ep := range []struct{ name, url, ca string }{{"http", p.url(), ""}, {"https", p.tlsURL(), p.caFile()}} {
		cli := func(t *testing.T, key, secret string, args ...string) (string, error) {
			env := append(clientEnv(t), "AWS_ACCESS_KEY_ID="+key, "AWS_SECRET_ACCESS_KEY="+secret)
			base := []string{"--endpoint-url", ep.url, "--region", "us-east-1", "--output", "json"}
			if ep.ca != "" {
				base = append(base, "--ca-bundle", ep.ca)
			}
			return runClient(t, env, aws, append(base, args...)...)
		}
		t.Run(ep.name, func(t *testing.T) {
			for _, u := range []struct{ key, secret, account, arn string }{
				{"AKIAALICE", "alice-secret", "111122223333", "arn:aws:iam::111122223333:user/alice"},
				{"AKIABOB", "bob-secret", "444455556666", "arn:aws:iam::444455556666:user/bob"},
				{"AKIAROOTA", "root-a-secret", "111122223333", "arn:aws:iam::111122223333:root"},
			} {
				out, err := cli(t, u.key, u.secret, "sts", "get-caller-identity")
				if err != nil {
					t.Errorf("%s: aws sts get-caller-identity: %v\n%s", u.key, err, out)
					continue
				}
				var got struct{ UserId, Account, Arn string }
				if err := json.Unmarshal([]byte(out), &got); err != nil {
					t.Errorf("%s: not JSON: %v\n%s", u.key, err, out)
					continue
				}
				wantID := u.account
				if strings.Contains(u.arn, ":user/") {
					wantID = identity.UserIDOf(u.arn)
				}
				if got.Account != u.account || got.Arn != u.arn || got.UserId != wantID {
					t.Errorf("%s: got %+v, want Account %s Arn %s UserId %s", u.key, got, u.account, u.arn, wantID)
				}
			}
			for _, bad := range []struct{ key, secret, code string }{
				{"AKIAALICE", "bob-secret", "SignatureDoesNotMatch"},
				{"AKIANOBODY", "alice-secret", "InvalidClientTokenId"},
			} {
				for _, args := range [][]string{{"sts", "get-caller-identity"}, {"sns", "list-topics"}, {"sns", "create-topic", "--name", "refused"}} {
					out, err := cli(t, bad.key, bad.secret, args...)
					if err == nil || !strings.Contains(out, "An error occurred ("+bad.code+")") {
						t.Errorf("aws %s as %s with secret %s: want error %s, got err=%v:\n%s", strings.Join(args, " "), bad.key, bad.secret, bad.code, err, out)
					}
				}
			}
			// The refused create-topic created nothing, in either account.
			for _, u := range [][2]string{{"AKIAALICE", "alice-secret"}, {"AKIABOB", "bob-secret"}} {
				out, err := cli(t, u[0], u[1], "sns", "list-topics")
				if err != nil || strings.Contains(out, ":refused") {
					t.Errorf("list-topics as %s: err=%v\n%s", u[0], err, out)
				}
			}
		})
	}
}

// clientWithKey is proc.client with other credentials.
func (p *proc) clientWithKey(t testing.TB, endpoint, key, secret string) *sns.Client {
	pool := x509.NewCertPool()
	if pem, err := os.ReadFile(p.caFile()); err == nil {
		pool.AppendCertsFromPEM(pem)
	}
	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	return sns.NewFromConfig(aws.Config{
		Region:           "us-east-1",
		Credentials:      credentials.NewStaticCredentialsProvider(key, secret, ""),
		HTTPClient:       hc,
		BaseEndpoint:     aws.String(endpoint),
		RetryMaxAttempts: 1,
	})
}

// refusal returns the error code and HTTP status of an SDK error ("" and 0
// for nil).
func refusal(err error) (string, int) {
	if err == nil {
		return "", 0
	}
	code, status := err.Error(), 0
	var api smithy.APIError
	if errors.As(err, &api) {
		code = api.ErrorCode()
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		status = re.HTTPStatusCode()
	}
	return code, status
}

// TestSIGHUPCredentials rotates keys without a restart: with a publisher
// signing with a kept key the whole time (none of its requests may fail),
// it removes a key from the credentials file and sends SIGHUP, after which
// the removed key is refused with InvalidClientTokenId 403 as soon as the
// signal is handled; then it writes a broken file and sends SIGHUP again:
// the old file stays in force (kept key works, removed key still refused, a
// key only in the broken file unknown) and the log says why; a valid file
// after that is taken again.
func TestSIGHUPCredentials(t *testing.T) {
	ctx := context.Background()
	creds := filepath.Join(t.TempDir(), "credentials.json")
	file := func(keys ...string) string {
		var ks []string
		for _, k := range keys {
			ks = append(ks, fmt.Sprintf(`{"id": %q, "secret": "secret-of-%s"}`, k, k))
		}
		return `{"accounts": [{"id": "111122223333", "users": [{"name": "ops", "accessKeys": [` + strings.Join(ks, ", ") + `]}]}]}`
	}
	writeCredentials(t, creds, file("AKIAKEEP", "AKIAGONE"))
	p := start(t, freePort(t), filepath.Join(t.TempDir(), "data"), "--credentials", creds)
	as := func(key string) *sns.Client { return p.clientWithKey(t, p.url(), key, "secret-of-"+key) }
	keep, gone, fresh := as("AKIAKEEP"), as("AKIAGONE"), as("AKIAFRESH")

	works := func(c *sns.Client, who string) {
		t.Helper()
		if _, err := c.ListTopics(ctx, &sns.ListTopicsInput{}); err != nil {
			t.Fatalf("%s: %v", who, err)
		}
	}
	refused := func(c *sns.Client, who string) {
		t.Helper()
		_, err := c.ListTopics(ctx, &sns.ListTopicsInput{})
		if code, status := refusal(err); code != "InvalidClientTokenId" || status != 403 {
			t.Fatalf("%s: got %q %d (%v), want InvalidClientTokenId 403", who, code, status, err)
		}
	}
	// hup sends SIGHUP and waits until a request with c answers wantCode
	// ("" = success), for at most 5 s; it returns how long that took.
	hup := func(c *sns.Client, wantCode string) time.Duration {
		t.Helper()
		begin := time.Now()
		if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		for {
			_, err := c.ListTopics(ctx, &sns.ListTopicsInput{})
			code, _ := refusal(err)
			if code == wantCode {
				return time.Since(begin)
			}
			if time.Since(begin) > 5*time.Second {
				log, _ := os.ReadFile(p.logFile)
				t.Fatalf("5 s after SIGHUP the request answers %q (%v), want %q\nlog:\n%s", code, err, wantCode, tail(string(log), 20))
			}
			time.Sleep(5 * time.Millisecond)
		}
	}

	works(keep, "AKIAKEEP before")
	works(gone, "AKIAGONE before")
	refused(fresh, "AKIAFRESH before")

	topic, err := keep.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("rotation")})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var streamErrs []error
	s := publishStream([]*sns.Client{keep}, topic.TopicArn, 4, "hup", func(w int, err error) {
		mu.Lock()
		streamErrs = append(streamErrs, err)
		mu.Unlock()
	})

	writeCredentials(t, creds, file("AKIAKEEP"))
	took := hup(gone, "InvalidClientTokenId")
	t.Logf("removed key refused %s after SIGHUP", took.Round(time.Millisecond))
	refused(gone, "AKIAGONE after removal")
	works(keep, "AKIAKEEP after removal")

	logBefore, _ := os.ReadFile(p.logFile)
	writeCredentials(t, creds, `{"accounts": [{"id": "111122223333", "users": [{"name": "ops", "accessKeys": [{"id": "AKIAFRESH", "secret": "secret-of-AKIAFRESH"}]}]}`)
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	// The broken file's refusal is logged (WARN or ERROR naming the
	// credentials file); until then the old file must be in force anyway.
	deadline := time.Now().Add(5 * time.Second)
	for {
		log, _ := os.ReadFile(p.logFile)
		added := string(log[min(len(logBefore), len(log)):])
		if line := logged(added); line != "" {
			t.Logf("broken file logged: %s", line)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no WARN/ERROR about the credentials file within 5 s of SIGHUP with a broken file; log since:\n%s", added)
		}
		time.Sleep(10 * time.Millisecond)
	}
	works(keep, "AKIAKEEP after a broken file")
	refused(gone, "AKIAGONE after a broken file")
	refused(fresh, "AKIAFRESH (only in the broken file)")

	writeCredentials(t, creds, file("AKIAKEEP", "AKIAFRESH"))
	hup(fresh, "")
	works(keep, "AKIAKEEP after the third file")
	refused(gone, "AKIAGONE after the third file")

	acked := s.Stop()
	mu.Lock()
	defer mu.Unlock()
	if len(streamErrs) > 0 {
		t.Fatalf("a publisher with a kept key failed during reloads: %v", streamErrs)
	}
	if len(acked) == 0 {
		t.Fatal("the publisher published nothing")
	}
	t.Logf("%d publishes with the kept key during three reloads, none failed", len(acked))
	if p.cmd.ProcessState != nil {
		t.Fatal("sealpost exited")
	}
}

// logged returns the first WARN or ERROR line of log text about the
// credentials file, or "".
func logged(text string) string {
	for _, l := range strings.Split(text, "\n") {
		if (strings.Contains(l, "level=WARN") || strings.Contains(l, "level=ERROR")) && strings.Contains(strings.ToLower(l), "credential") {
			return l
		}
	}
	return ""
}

// TestRegionsFlag runs the aws CLI in a region added with --regions: it is
// accepted, its topics are its own (not listed in us-east-1, ARNs name the
// region), and a region neither AWS nor --regions knows (mars-north-1, whose
// name --regions would not even take) is refused with SignatureDoesNotMatch.
func TestRegionsFlag(t *testing.T) {
	aws := lookTool(t, "aws", "the aws CLI")
	p := start(t, freePort(t), filepath.Join(t.TempDir(), "data"), "--regions", "zz-lab-1,qq-dev-2")
	cli := func(region string, args ...string) (string, error) {
		return runClient(t, clientEnv(t), aws, append([]string{"--endpoint-url", p.url(), "--region", region, "--output", "json", "sns"}, args...)...)
	}
	out, err := cli("zz-lab-1", "create-topic", "--name", "red")
	if err != nil || !strings.Contains(out, `"arn:aws:sns:zz-lab-1:000000000000:red"`) {
		t.Fatalf("create-topic in zz-lab-1: %v\n%s", err, out)
	}
	out, err = cli("us-east-1", "list-topics")
	if err != nil || strings.Contains(out, ":red") {
		t.Fatalf("list-topics in us-east-1 (must not list zz-lab-1's topic): %v\n%s", err, out)
	}
	out, err = cli("zz-lab-1", "list-topics")
	if err != nil || !strings.Contains(out, "arn:aws:sns:zz-lab-1:000000000000:red") {
		t.Fatalf("list-topics in zz-lab-1: %v\n%s", err, out)
	}
	out, err = cli("mars-north-1", "list-topics")
	if err == nil || !strings.Contains(out, "An error occurred (SignatureDoesNotMatch)") {
		t.Fatalf("list-topics in mars-north-1: want SignatureDoesNotMatch, got %v\n%s", err, out)
	}
}
