package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The AWS SDK for JavaScript v3 (npm @aws-sdk/client-sns and client-sts,
// pinned in node/package-lock.json and installed by .ci/run with npm ci) is
// the third SigV4 signer the server must accept, beside aws-sdk-go-v2 and
// botocore: node/sns_client.js drives it.

// jsStep is one line that sns_client.js prints per call.
type jsStep struct {
	Step    string          `json:"step"`
	OK      bool            `json:"ok"`
	Status  int             `json:"status"`
	Code    string          `json:"code"`
	Errno   string          `json:"errno"`
	Message string          `json:"message"`
	Result  json.RawMessage `json:"result"`
}

// jsSDK returns the node binary, or skips with the reason when node or the
// SDK packages are missing (the npm registry is optional for the rest of
// the suite, as for TestOfficialNodeValidator).
func jsSDK(t *testing.T) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skipf("node not installed: %v", err)
	}
	for _, pkg := range []string{"@aws-sdk/client-sns", "@aws-sdk/client-sqs", "@aws-sdk/client-sts"} {
		if _, err := os.Stat(filepath.Join("node", "node_modules", pkg, "package.json")); err != nil {
			t.Skipf("%s is not installed (run `npm ci --prefix e2e/node`, which .ci/run does): %v", pkg, err)
		}
	}
	return node
}

// jsEnv is clientEnv with the given credentials and CA file ("" = none).
func jsEnv(t *testing.T, key, secret, caFile string) []string {
	env := append(clientEnv(t), "AWS_ACCESS_KEY_ID="+key, "AWS_SECRET_ACCESS_KEY="+secret, "NODE_NO_WARNINGS=1")
	if caFile != "" {
		env = append(env, "NODE_EXTRA_CA_CERTS="+caFile)
	}
	var out []string
	for _, kv := range env {
		if caFile == "" && strings.HasPrefix(kv, "NODE_EXTRA_CA_CERTS=") {
			continue
		}
		out = append(out, kv)
	}
	return out
}

// runJS runs sns_client.js in mode against endpoint and returns its steps by
// name (in order) and whether the process exited 0.
func runJS(t *testing.T, p *proc, node string, env []string, mode, endpoint string) ([]jsStep, bool) {
	t.Helper()
	return runJSFile(t, p, node, env, "sns_client.js", mode, endpoint)
}

// runJSFile is runJS for another script of node/ with the same output.
func runJSFile(t *testing.T, p *proc, node string, env []string, script, mode, endpoint string) ([]jsStep, bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), scriptTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, script, mode, endpoint)
	cmd.Dir = "node"
	cmd.Env = env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 10 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var steps []jsStep
	summary := false
	sc := bufio.NewScanner(&stdout)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "js: ") {
			summary = true
			continue
		}
		var s jsStep
		if jerr := json.Unmarshal([]byte(line), &s); jerr != nil {
			t.Errorf("%s printed a line that is not JSON: %q", script, line)
			continue
		}
		steps = append(steps, s)
	}
	if !summary || ctx.Err() != nil {
		t.Logf("%s %s %s stdout:\n%s\nstderr:\n%s", script, mode, endpoint, stdout.String(), stderr.String())
		if log, rerr := os.ReadFile(p.logFile); rerr == nil {
			t.Logf("sealpost log (last lines):\n%s", tail(string(log), 40))
		}
		t.Fatalf("%s %s did not finish: %v", script, mode, err)
	}
	return steps, err == nil
}

// TestJSSDK runs every step of sns_client.js's sequence (STS
// GetCallerIdentity, CreateTopic with attributes and tags, Set/Get topic
// attributes, Subscribe, GetSubscriptionAttributes, ListSubscriptionsByTopic,
// Publish with message attributes, PublishBatch with one failing entry,
// ListTopics paginated, Tag/Untag/ListTags, Unsubscribe, DeleteTopic, NotFound
// afterwards) over HTTP and over HTTPS with the dev CA, all signed by the JS
// SDK; then checks the refusals the SDK reports for a wrong secret and an
// unknown access key, on SNS and STS, and that a correct call works after
// each; and that a client whose clock is 20 minutes behind or ahead is
// refused once per client with the verbatim "Signature expired" / "not yet
// current" message, after which the SDK has corrected its clock and works.
func TestJSSDK(t *testing.T) {
	node := jsSDK(t)
	p := start(t, freePort(t), filepath.Join(t.TempDir(), "data"))
	wantSteps := []string{"GetCallerIdentity", "CreateTopic", "SetTopicAttributes", "GetTopicAttributes", "Subscribe",
		"GetSubscriptionAttributes", "ListSubscriptionsByTopic", "Publish", "PublishBatch", "ListTopics",
		"TagResource", "UntagResource", "ListTagsForResource", "Unsubscribe", "DeleteTopic",
		"GetTopicAttributes after delete is NotFound"}

	for _, tc := range []struct{ name, endpoint, ca string }{
		{"http", p.url(), ""},
		{"https", p.tlsURL(), p.caFile()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			steps, exited0 := runJS(t, p, node, jsEnv(t, "test", "test", tc.ca), "sequence", tc.endpoint)
			var names []string
			for _, s := range steps {
				names = append(names, s.Step)
				if !s.OK {
					t.Errorf("%s: status %d %s: %s", s.Step, s.Status, s.Code, s.Message)
				}
			}
			if strings.Join(names, ",") != strings.Join(wantSteps, ",") {
				t.Errorf("steps run:\n%v\nwant:\n%v", names, wantSteps)
			}
			if !exited0 && !t.Failed() {
				t.Error("sns_client.js exited non-zero")
			}
		})
	}

	t.Run("https without the CA is refused by the client", func(t *testing.T) {
		steps, _ := runJS(t, p, node, jsEnv(t, "test", "test", ""), "probe", p.tlsURL())
		for _, s := range steps {
			if s.OK || !strings.Contains(s.Errno+s.Message, "CERT") && !strings.Contains(s.Errno+s.Message, "certificate") {
				t.Errorf("%s: want a certificate error, got ok=%v %s %s: %s", s.Step, s.OK, s.Code, s.Errno, s.Message)
			}
		}
	})

	probeSteps := []string{"ListTopics", "CreateTopic", "Publish", "GetCallerIdentity"}
	for _, tc := range []struct {
		name, key, secret string
		endpoint, ca      string
		code              string
	}{
		{"wrong secret http", "test", "not-the-secret", p.url(), "", "SignatureDoesNotMatch"},
		{"wrong secret https", "test", "not-the-secret", p.tlsURL(), p.caFile(), "SignatureDoesNotMatch"},
		{"unknown key http", "AKIAUNKNOWNKEY000000", "test", p.url(), "", "InvalidClientTokenId"},
		{"unknown key https", "AKIAUNKNOWNKEY000000", "test", p.tlsURL(), p.caFile(), "InvalidClientTokenId"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			steps, _ := runJS(t, p, node, jsEnv(t, tc.key, tc.secret, tc.ca), "probe", tc.endpoint)
			if len(steps) != len(probeSteps) {
				t.Fatalf("probe ran %d steps, want %d: %+v", len(steps), len(probeSteps), steps)
			}
			for _, s := range steps {
				if s.OK || s.Code != tc.code || s.Status != 403 || s.Message == "" {
					t.Errorf("%s: got ok=%v status %d code %q message %q, want 403 %s with a message", s.Step, s.OK, s.Status, s.Code, s.Message, tc.code)
				}
			}
			// A correct request right after still works.
			steps, _ = runJS(t, p, node, jsEnv(t, "test", "test", tc.ca), "probe", tc.endpoint)
			for _, s := range steps {
				if !s.OK {
					t.Errorf("correct %s after the refusal: status %d %s: %s", s.Step, s.Status, s.Code, s.Message)
				}
			}
		})
	}

	// A client whose clock is 20 minutes off: its first call on each client
	// (SNS, STS) is refused with the verbatim message, and the SDK corrects
	// its clock from the refusal's Date header, so its next calls work.
	for _, tc := range []struct {
		name, offsetMS, message string
	}{
		{"clock 20 minutes behind", "-1200000", "Signature expired: "},
		{"clock 20 minutes ahead", "1200000", "Signature not yet current: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := append(jsEnv(t, "test", "test", ""), "SEALPOST_JS_CLOCK_OFFSET_MS="+tc.offsetMS)
			steps, _ := runJS(t, p, node, env, "probe", p.url())
			if len(steps) != len(probeSteps) {
				t.Fatalf("probe ran %d steps, want %d: %+v", len(steps), len(probeSteps), steps)
			}
			for _, s := range steps {
				first := s.Step == "ListTopics" || s.Step == "GetCallerIdentity"
				switch {
				case first && (s.OK || s.Code != "SignatureDoesNotMatch" || s.Status != 403 || !strings.HasPrefix(s.Message, tc.message)):
					t.Errorf("%s (first call of its client): got ok=%v %d %s %q, want 403 SignatureDoesNotMatch %q...", s.Step, s.OK, s.Status, s.Code, s.Message, tc.message)
				case !first && !s.OK:
					t.Errorf("%s after the SDK corrected its clock: %d %s %s", s.Step, s.Status, s.Code, s.Message)
				}
			}
		})
	}
}

// TestJSSDKSQS runs node/sqs_client.js (the JS SDK v3's SQS client: JSON
// 1.0, MD5 checks on, queue URLs followed as endpoints) over HTTP and over
// HTTPS with the dev CA: create, URL, attributes, send with String, Number
// and Binary attributes, batch, long-poll receive with system attributes,
// visibility, delete and delete batch, list, tags, delete queue, and
// QueueDoesNotExist as the SDK's modelled error class.
func TestJSSDKSQS(t *testing.T) {
	node := jsSDK(t)
	p := start(t, freePort(t), filepath.Join(t.TempDir(), "data"))
	want := "CreateQueue,GetQueueUrl,SetQueueAttributes,SendMessage,SendMessageBatch,GetQueueAttributes,ReceiveMessage," +
		"ChangeMessageVisibility,DeleteMessage,DeleteMessageBatch,ListQueues,ListQueueTags,DeleteQueue," +
		"GetQueueUrl after delete is QueueDoesNotExist"
	for _, tc := range []struct{ name, endpoint, ca string }{
		{"http", p.url(), ""},
		{"https", p.tlsURL(), p.caFile()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			steps, exited0 := runJSFile(t, p, node, jsEnv(t, "test", "test", tc.ca), "sqs_client.js", "sequence", tc.endpoint)
			var names []string
			for _, s := range steps {
				names = append(names, s.Step)
				if !s.OK {
					t.Errorf("%s: status %d %s: %s", s.Step, s.Status, s.Code, s.Message)
				}
			}
			if got := strings.Join(names, ","); got != want {
				t.Errorf("steps run:\n%v\nwant:\n%v", got, want)
			}
			if !exited0 && !t.Failed() {
				t.Error("sqs_client.js exited non-zero")
			}
		})
	}
}
