// Package e2e runs the sealpost binary as a real process and drives it with
// the aws CLI, boto3, aws-sdk-go-v2 and the AWS SDK for JavaScript v3 (three
// independent SigV4 signers); it also kills it (SIGKILL) to check
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
	"strings"
	"sync"
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
	// pgtest.Main runs the tests, removes the binary's temp dir and stops
	// the PostgreSQL the scale-out tests start.
	pgtest.Main(m, func() { os.RemoveAll(dir) })
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
	if os.Getenv("SEALPOST_TEST_STORE") == "postgres" && !hasFlag(extra, "--store") {
		args = append(args, "--store", databaseFor(t, dataDir))
	}
	cmd := exec.Command(binary, args...)
	cmd.Stdout, cmd.Stderr = lf, lf
	cmd.Env = append(os.Environ(), "SEALPOST_LOG_LEVEL=debug")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lf.Close()
	p := &proc{cmd: cmd, addr: addr, dataDir: dataDir, logFile: logFile}
	t.Cleanup(func() { p.kill() })
	if healthy(addr, 30*time.Second) {
		return p
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

// stream publishes continuously from several goroutines until Stop.
type stream struct {
	mu    sync.Mutex
	acked []string
	wg    sync.WaitGroup
	stop  chan struct{}
}

// publishStream starts workers publishing to topic through clients
// (round-robin by worker). A worker ends at its first error; onErr (may be
// nil) decides whether that error matters. Messages whose Publish returned
// 200 are recorded as acknowledged.
func publishStream(clients []*sns.Client, topic *string, workers int, tag string, onErr func(worker int, err error)) *stream {
	s := &stream{stop: make(chan struct{})}
	for w := 0; w < workers; w++ {
		s.wg.Add(1)
		go func(w int) {
			defer s.wg.Done()
			c := clients[w%len(clients)]
			for i := 0; ; i++ {
				select {
				case <-s.stop:
					return
				default:
				}
				out, err := c.Publish(context.Background(), &sns.PublishInput{TopicArn: topic, Message: aws.String(fmt.Sprintf("%s-w%d-%d", tag, w, i))})
				if err != nil {
					if onErr != nil {
						onErr(w, err)
					}
					return
				}
				s.mu.Lock()
				s.acked = append(s.acked, aws.ToString(out.MessageId))
				s.mu.Unlock()
			}
		}(w)
	}
	return s
}

// Stop ends the stream and returns the acknowledged message ids.
func (s *stream) Stop() []string {
	close(s.stop)
	s.wg.Wait()
	return s.acked
}

// databases maps a data dir to its PostgreSQL database, so that a restart on
// the same data dir finds the same state.
var databases struct {
	sync.Mutex
	m map[string]string
}

func databaseFor(t testing.TB, dataDir string) string {
	databases.Lock()
	defer databases.Unlock()
	if databases.m == nil {
		databases.m = map[string]string{}
	}
	if dsn, ok := databases.m[dataDir]; ok {
		return dsn
	}
	dsn := pgtest.NewDatabase(t)
	databases.m[dataDir] = dsn
	return dsn
}

func hasFlag(args []string, name string) bool {
	for _, a := range args {
		if a == name || strings.HasPrefix(a, name+"=") {
			return true
		}
	}
	return false
}
