// Package e2e runs the sealpost binary as a real process and drives it with
// the aws CLI, boto3 and aws-sdk-go-v2; it also kills it (SIGKILL) to check
// durability.
package e2e

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/sealpost/sealpost/internal/pgtest"
)

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "sealpost-e2e-")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "sealpost")
	build := exec.Command("go", "build", "-o", binary, "../cmd/sealpost")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: build failed:", err)
		os.Exit(1)
	}
	// pgtest.Main runs the tests and stops the PostgreSQL the scale-out
	// tests start; the binary's temp dir goes with the process's temp files.
	pgtest.Main(m)
}

// proc is a running sealpost process.
type proc struct {
	cmd     *exec.Cmd
	addr    string
	dataDir string
	logFile string
}

func freePort(t testing.TB) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// start runs sealpost on addr over dataDir and waits for /health.
func start(t testing.TB, addr, dataDir string, extra ...string) *proc {
	t.Helper()
	logFile := filepath.Join(dataDir, "..", filepath.Base(dataDir)+".log")
	lf, err := os.OpenFile(logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	args := append([]string{"--listen", addr, "--data-dir", dataDir}, extra...)
	cmd := exec.Command(binary, args...)
	cmd.Stdout, cmd.Stderr = lf, lf
	cmd.Env = append(os.Environ(), "SEALPOST_LOG_LEVEL=debug")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lf.Close()
	p := &proc{cmd: cmd, addr: addr, dataDir: dataDir, logFile: logFile}
	t.Cleanup(func() { p.kill() })
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get("http://" + addr + "/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return p
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	log, _ := os.ReadFile(logFile)
	t.Fatalf("sealpost did not become healthy on %s:\n%s", addr, log)
	return nil
}

func (p *proc) kill() {
	if p.cmd.ProcessState == nil {
		p.cmd.Process.Signal(syscall.SIGKILL)
		p.cmd.Wait()
	}
}

// stop sends SIGTERM and waits.
func (p *proc) stop(t testing.TB) {
	p.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("sealpost exited with %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("sealpost did not stop on SIGTERM")
	}
}

func (p *proc) url() string    { return "http://" + p.addr }
func (p *proc) tlsURL() string { return "https://" + p.addr }
func (p *proc) caFile() string { return filepath.Join(p.dataDir, "tls", "ca.pem") }

func (p *proc) client(t testing.TB, endpoint string) *sns.Client {
	pool := x509.NewCertPool()
	if pem, err := os.ReadFile(p.caFile()); err == nil {
		pool.AppendCertsFromPEM(pem)
	}
	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, MaxIdleConnsPerHost: 64}}
	return sns.NewFromConfig(aws.Config{
		Region:           "us-east-1",
		Credentials:      credentials.NewStaticCredentialsProvider("test", "test", ""),
		HTTPClient:       hc,
		BaseEndpoint:     aws.String(endpoint),
		RetryMaxAttempts: 1,
	})
}

var _ = context.Background
