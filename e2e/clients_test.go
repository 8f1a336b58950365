package e2e

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The scripts in scripts/ drive a running server with real clients: boto3
// (sns_boto3.py) and the aws CLI (sns_cli.sh). Each test starts one sealpost
// process and runs its script twice, over plain HTTP and over HTTPS with the
// generated CA; the scripts use per-run topic prefixes, so the two runs can
// share the server.

const scriptTimeout = 8 * time.Minute

// missingTool skips the test, or fails it in CI, where every client must be
// installed.
func missingTool(t *testing.T, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf(format, args...)
	}
	t.Skipf(format, args...)
}

// lookTool returns the path of an executable on PATH, or skips (fails in CI).
func lookTool(t *testing.T, name, why string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		missingTool(t, "%s not found on PATH (%s): %v", name, why, err)
	}
	return path
}

// clientEnv is the environment for a client script: the test's own
// environment without any AWS_* setting of the developer's, plus static test
// credentials, empty config and credentials files and no retries.
func clientEnv(t *testing.T) []string {
	t.Helper()
	dir := t.TempDir()
	config := filepath.Join(dir, "config")
	creds := filepath.Join(dir, "credentials")
	for _, f := range []string{config, creds} {
		if err := os.WriteFile(f, nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "AWS_") || strings.HasPrefix(kv, "BOTO_") || strings.HasPrefix(kv, "TARGET=") || strings.HasPrefix(kv, "KMS_TARGET=") {
			continue
		}
		env = append(env, kv)
	}
	return append(env,
		"AWS_ACCESS_KEY_ID=test",
		"AWS_SECRET_ACCESS_KEY=test",
		"AWS_DEFAULT_REGION=us-east-1",
		"AWS_REGION=us-east-1",
		"AWS_CONFIG_FILE="+config,
		"AWS_SHARED_CREDENTIALS_FILE="+creds,
		"AWS_MAX_ATTEMPTS=1",
		"AWS_RETRY_MODE=standard",
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_PAGER=",
		"PYTHONDONTWRITEBYTECODE=1",
		"PYTHONUNBUFFERED=1",
	)
}

// runClient runs one client command with a timeout, killing its whole
// process group when the time is up. It returns the combined output.
func runClient(t *testing.T, env []string, name string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), scriptTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 10 * time.Second
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if ctx.Err() != nil {
		err = errors.Join(err, errors.New("timed out after "+scriptTimeout.String()))
	}
	return out.String(), err
}

// runScript runs a client script against endpoint (and CA file, if any) and
// checks that it exits 0 and ends with "<tool>: N passed, 0 failed".
func runScript(t *testing.T, p *proc, env []string, tool, interp, script string, args ...string) {
	t.Helper()
	abs, err := filepath.Abs(filepath.Join("scripts", script))
	if err != nil {
		t.Fatal(err)
	}
	begin := time.Now()
	out, err := runClient(t, env, interp, append([]string{abs}, args...)...)
	elapsed := time.Since(begin).Round(time.Millisecond)
	summary := regexp.MustCompile(`(?m)^` + tool + `: (\d+) passed, (\d+) failed$`).FindStringSubmatch(out)
	ok := err == nil && summary != nil && summary[2] == "0"
	if ok {
		if n, _ := strconv.Atoi(summary[1]); n == 0 {
			ok = false
		}
	}
	if !ok {
		t.Logf("%s %s output:\n%s", script, strings.Join(args, " "), out)
		if log, rerr := os.ReadFile(p.logFile); rerr == nil {
			t.Logf("sealpost log (last lines):\n%s", tail(string(log), 40))
		}
		t.Fatalf("%s against %s failed after %s: %v", script, args[0], elapsed, err)
	}
	t.Logf("%s (%s)", summary[0], elapsed)
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func TestBoto3(t *testing.T) {
	python := lookTool(t, "python3", "needed for the boto3 client")
	env := clientEnv(t)
	if out, err := runClient(t, env, python, "-c", "import boto3, botocore; print(boto3.__version__, botocore.__version__)"); err != nil {
		missingTool(t, "boto3 is not importable by %s: %v\n%s", python, err, out)
	}
	p := start(t, freePort(t), filepath.Join(t.TempDir(), "data"))
	t.Run("http", func(t *testing.T) {
		runScript(t, p, env, "boto3", python, "sns_boto3.py", p.url())
	})
	t.Run("https", func(t *testing.T) {
		runScript(t, p, env, "boto3", python, "sns_boto3.py", p.tlsURL(), p.caFile())
	})
}

func TestAWSCLI(t *testing.T) {
	bash := lookTool(t, "bash", "runs the aws CLI script")
	lookTool(t, "python3", "the aws CLI script parses JSON with it")
	aws := lookTool(t, "aws", "the aws CLI")
	env := clientEnv(t)
	if out, err := runClient(t, env, aws, "--version"); err != nil {
		missingTool(t, "aws --version failed: %v\n%s", err, out)
	}
	p := start(t, freePort(t), filepath.Join(t.TempDir(), "data"))
	t.Run("http", func(t *testing.T) {
		runScript(t, p, env, "cli", bash, "sns_cli.sh", p.url())
	})
	t.Run("https", func(t *testing.T) {
		runScript(t, p, env, "cli", bash, "sns_cli.sh", p.tlsURL(), p.caFile())
	})
}
