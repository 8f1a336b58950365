package e2e

import (
	"path/filepath"
	"testing"
	"time"
)

// The SSE client scripts (scripts/sse_boto3.py, scripts/sse_cli.sh) turn on
// SSE as a user would, against the binary over HTTPS with the dev CA: a key
// and an alias, an SSE topic, a subscription of this test's HTTP
// subscriber, publishes, and the same publish over plain HTTP refused with
// InvalidSecurity. The subscriber (here) confirms the subscription and
// checks that each published marker arrived in plaintext with a signature
// that verifies, and that the refused one never did.

// runSSEScript runs one SSE script with a fresh subscriber and checks what
// arrived: every marker in want, and never marker + "-http".
func runSSEScript(t *testing.T, p *proc, tool, interp, script string, suffixes ...string) {
	sub := newSSESub(t, p)
	marker := "sse-" + tool + "-" + time.Now().UTC().Format("150405.000000")
	runScript(t, p, clientEnv(t), tool, interp, script, p.tlsURL(), p.caFile(), p.url(), sub.url(), marker)
	for _, s := range suffixes {
		sub.waitMsg(t, marker+s)
	}
	if n := sub.count(marker + "-http"); n != 0 {
		t.Fatalf("the publish refused over HTTP was delivered %d times", n)
	}
	sub.checkGood(t)
}

func TestSSEBoto3(t *testing.T) {
	python := lookTool(t, "python3", "needed for the boto3 client")
	if out, err := runClient(t, clientEnv(t), python, "-c", "import boto3; boto3.client('sns', region_name='us-east-1').publish_batch"); err != nil {
		missingTool(t, "boto3 with SNS PublishBatch is not importable by %s: %v\n%s", python, err, out)
	}
	p := start(t, freePort(t), filepath.Join(t.TempDir(), "data"))
	logOnFailure(t, p)
	runSSEScript(t, p, "sse-boto3", python, "sse_boto3.py", "", "-batch-1", "-batch-2", "-arn")
}

func TestSSEAWSCLI(t *testing.T) {
	bash := lookTool(t, "bash", "runs the aws CLI script")
	lookTool(t, "python3", "the aws CLI script parses JSON with it")
	aws := lookTool(t, "aws", "the aws CLI")
	if out, err := runClient(t, clientEnv(t), aws, "--version"); err != nil {
		missingTool(t, "aws --version failed: %v\n%s", err, out)
	}
	p := start(t, freePort(t), filepath.Join(t.TempDir(), "data"))
	logOnFailure(t, p)
	runSSEScript(t, p, "sse-cli", bash, "sse_cli.sh", "")
}
