package e2e

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The SQS client scripts: sqs_boto3.py (every action with boto3, over HTTP
// and over HTTPS with the dev CA), sqs_cli.sh (the same with the aws CLI,
// over HTTPS) and sqs_fanout_cli.sh (SNS -> SQS fan-out set up with the aws
// CLI). Each test starts one server for all its runs; the scripts use
// per-run prefixes. TARGET=moto runs of the same scripts check them against
// moto_server (see each script's header).

func TestSQSBoto3(t *testing.T) {
	python := lookTool(t, "python3", "needed for the boto3 client")
	env := clientEnv(t)
	if out, err := runClient(t, env, python, "-c", "import boto3; boto3.client('sqs', region_name='us-east-1').start_message_move_task"); err != nil {
		missingTool(t, "boto3 with SQS StartMessageMoveTask is not importable by %s: %v\n%s", python, err, out)
	}
	p := start(t, freePort(t), filepath.Join(t.TempDir(), "data"))
	t.Run("http", func(t *testing.T) {
		runScript(t, p, env, "sqs-boto3", python, "sqs_boto3.py", p.url())
	})
	t.Run("https", func(t *testing.T) {
		runScript(t, p, env, "sqs-boto3", python, "sqs_boto3.py", p.tlsURL(), p.caFile())
	})
}

// TestSQSAWSCLI runs sqs_cli.sh and the classic fan-out
// (sqs_fanout_cli.sh: an SSE topic, a raw filtered queue, an SSE-KMS
// queue, a queue whose policy does not allow the topic) side by side
// against one server over HTTPS (each aws CLI call is a Python start, so
// the two run in parallel). After the fan-out it checks that the refused
// deliveries to the third queue are visible:
// sealpost_deliveries_total{outcome="failed"} counts them and the server's
// log names the queue and AccessDenied.
func TestSQSAWSCLI(t *testing.T) {
	bash := lookTool(t, "bash", "runs the aws CLI scripts")
	lookTool(t, "python3", "the aws CLI scripts parse JSON with it")
	aws := lookTool(t, "aws", "the aws CLI")
	env := clientEnv(t)
	if out, err := runClient(t, env, aws, "--version"); err != nil {
		missingTool(t, "aws --version failed: %v\n%s", err, out)
	}
	p := start(t, freePort(t), filepath.Join(t.TempDir(), "data"))
	t.Run("scripts", func(t *testing.T) {
		t.Run("sqs", func(t *testing.T) {
			t.Parallel()
			runScript(t, p, env, "sqs-cli", bash, "sqs_cli.sh", p.tlsURL(), p.caFile())
		})
		t.Run("fanout", func(t *testing.T) {
			t.Parallel()
			prefix := fmt.Sprintf("fan-%d", time.Now().UnixNano()%1e6)
			runScript(t, p, env, "sqs-fanout", bash, "sqs_fanout_cli.sh", p.tlsURL(), p.caFile(), prefix)
			checkRefusedVisible(t, p, "arn:aws:sqs:us-east-1:000000000000:"+prefix+"-denied")
		})
	})
}

// checkRefusedVisible waits up to 20 s for the refused deliveries of the
// fan-out (three messages to the queue denied) to show in /metrics and in
// the log.
func checkRefusedVisible(t *testing.T, p *proc, denied string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		failed := metric(t, p, `sealpost_deliveries_total{outcome="failed"}`)
		logged := deniedLogLines(p.log(t), denied)
		if failed >= 3 && len(logged) > 0 {
			t.Logf("failed deliveries: %v; the log says: %s", failed, logged[0])
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the refused deliveries to %s are not visible: sealpost_deliveries_total{outcome=\"failed\"} = %v (want >= 3, one per message), %d log lines name the queue and AccessDenied; log:\n%s",
				denied, failed, len(logged), tail(p.log(t), 40))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// deniedLogLines returns the log lines (warnings and errors) that name
// queueARN and the AccessDenied of its queue policy.
func deniedLogLines(log, queueARN string) []string {
	var out []string
	for _, line := range strings.Split(log, "\n") {
		l := strings.ToLower(line)
		if strings.Contains(line, queueARN) && strings.Contains(line, "AccessDenied") && (strings.Contains(l, "warn") || strings.Contains(l, "error")) {
			out = append(out, line)
		}
	}
	return out
}

var metricLine = regexp.MustCompile(`^(\S+) (\S+)$`)

// metric reads one series (name with labels, as /metrics prints it) from
// p's /metrics; 0 when absent.
func metric(t *testing.T, p *proc, series string) float64 {
	t.Helper()
	resp, err := http.Get(p.url() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if m := metricLine.FindStringSubmatch(sc.Text()); m != nil && m[1] == series {
			v, err := strconv.ParseFloat(m[2], 64)
			if err != nil {
				t.Fatalf("metric %s: %v", series, err)
			}
			return v
		}
	}
	io.Copy(io.Discard, resp.Body)
	return 0
}
