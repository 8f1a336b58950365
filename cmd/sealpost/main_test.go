package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sealpost/sealpost/internal/audit"
)

// TestMain lets the tests run this binary's main: with SEALPOST_TEST_RUN_MAIN
// set, the test binary is sealpost.
func TestMain(m *testing.M) {
	if os.Getenv("SEALPOST_TEST_RUN_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func runSealpost(t *testing.T, args ...string) (int, string) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, args...)
	cmd.Env = append(os.Environ(), "SEALPOST_TEST_RUN_MAIN=1")
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode(), string(out)
	}
	if err != nil {
		t.Fatal(err)
	}
	return 0, string(out)
}

func TestAuditVerifySubcommand(t *testing.T) {
	dataDir := t.TempDir()
	w, err := audit.Open(audit.Dir(dataDir), audit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"CreateKey", "Encrypt", "Decrypt"} {
		if _, err := w.Append(context.Background(), audit.Event{Name: name, Region: "us-east-1",
			Identity: audit.UserIdentity{Type: audit.IdentityRoot, AccountID: "000000000000"}}); err != nil {
			t.Fatal(err)
		}
	}
	w.Close()
	if code, out := runSealpost(t, "audit", "verify", "--data-dir", dataDir); code != 0 || !strings.Contains(out, "OK: 3 records") {
		t.Fatalf("verify: exit %d\n%s", code, out)
	}
	if code, out := runSealpost(t, "audit", "tail", "-n", "2", "--data-dir", dataDir); code != 0 ||
		strings.Contains(out, "CreateKey") || !strings.Contains(out, "Decrypt") {
		t.Fatalf("tail: exit %d\n%s", code, out)
	}
	p := filepath.Join(audit.Dir(dataDir), audit.FileName)
	b, _ := os.ReadFile(p)
	os.WriteFile(p, bytes.Replace(b, []byte(`"Encrypt"`), []byte(`"Encrypy"`), 1), 0o600)
	if code, out := runSealpost(t, "audit", "verify", "--file", p); code != 1 || !strings.Contains(out, "line 2 (seq 2): edited") {
		t.Fatalf("verify edited: exit %d\n%s", code, out)
	}
	if code, out := runSealpost(t, "audit"); code != 2 || !strings.Contains(out, "usage") {
		t.Fatalf("usage: exit %d\n%s", code, out)
	}
}
