package e2e

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
)

// startShell runs sealpost like start, but through sh with the shell
// commands in prelude (ulimit, umask) run first, and always on the embedded
// store (these tests are about the process, not the store).
func startShell(t *testing.T, prelude, addr, dataDir string, extra ...string) *proc {
	t.Helper()
	logFile := filepath.Join(filepath.Dir(dataDir), filepath.Base(dataDir)+".log")
	lf, err := os.OpenFile(logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	args := append([]string{"-c", prelude + ` && exec "$0" "$@"`, binary, "--listen", addr, "--data-dir", dataDir}, extra...)
	cmd := exec.Command("sh", args...)
	cmd.Stdout, cmd.Stderr = lf, lf
	cmd.Env = append(os.Environ(), "SEALPOST_LOG_LEVEL=debug", "SEALPOST_STORE=")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lf.Close()
	p := &proc{cmd: cmd, addr: addr, dataDir: dataDir, logFile: logFile}
	t.Cleanup(func() { p.kill() })
	if !healthy(addr, 30*time.Second) {
		log, _ := os.ReadFile(logFile)
		t.Fatalf("sealpost did not become healthy on %s:\n%s", addr, log)
	}
	return p
}

// healthy polls GET /health until it answers 200 or d passes.
func healthy(addr string, d time.Duration) bool {
	hc := &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		resp, err := hc.Get("http://" + addr + "/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return true
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}

func (p *proc) log(t *testing.T) string {
	b, err := os.ReadFile(p.logFile)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// openFDs counts the process's open file descriptors (Linux), or -1.
func (p *proc) openFDs() int {
	es, err := os.ReadDir("/proc/" + strconv.Itoa(p.cmd.Process.Pid) + "/fd")
	if err != nil {
		return -1
	}
	return len(es)
}

// TestFDExhaustionRecovers runs sealpost with 64 file descriptors, opens
// more connections than it can accept (so accept fails with EMFILE), closes
// them, and checks that the server serves again: the accept loop must
// survive the temporary error.
func TestFDExhaustionRecovers(t *testing.T) {
	if _, err := os.Stat("/proc/self/fd"); err != nil {
		t.Skip("needs /proc to count descriptors")
	}
	const limit = 64
	dir := filepath.Join(t.TempDir(), "data")
	addr := freePort(t)
	p := startShell(t, fmt.Sprintf("ulimit -n %d", limit), addr, dir)
	c := p.client(t, p.url())
	ctx := context.Background()
	topic, err := c.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("fd")})
	if err != nil {
		t.Fatal(err)
	}
	base := p.openFDs()

	// Silent connections: each accepted one holds a descriptor in the
	// server for up to the 10 s first-byte timeout.
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for i := 0; i < 2*limit; i++ {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(p.log(t), "too many open files") {
		if time.Now().After(deadline) {
			t.Fatalf("the server never ran out of descriptors (%d open)", p.openFDs())
		}
		time.Sleep(20 * time.Millisecond)
	}
	exhausted := p.openFDs()

	for _, c := range conns {
		c.Close()
	}
	conns = nil
	freed := time.Now()
	if !healthy(addr, 10*time.Second) {
		t.Fatalf("the server does not serve again after descriptors were freed (%d open):\n%s", p.openFDs(), p.log(t))
	}
	recovered := time.Since(freed)
	if _, err := c.Publish(ctx, &sns.PublishInput{TopicArn: topic.TopicArn, Message: aws.String("after")}); err != nil {
		t.Fatalf("publish after recovery: %v", err)
	}
	log := p.log(t)
	for _, want := range []string{`level=ERROR msg="accept failed; retrying"`, `msg="accepting connections again"`} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %s", want)
		}
	}
	t.Logf("fd limit %d: %d descriptors open at rest, %d when accept failed with EMFILE; served again %v after the clients closed, %d failed accepts logged",
		limit, base, exhausted, recovered.Round(time.Millisecond), strings.Count(log, "accept failed; retrying"))
	p.stop(t)
}
