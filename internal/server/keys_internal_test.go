package server

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/audit"
	"github.com/sealpost/sealpost/internal/config"
)

// TestAuditClosedAfterDrainAndSweepLogsQuietly: Serve closes the audit log
// on shutdown (after the handlers drained), and a failing KMS sweep is
// logged at debug level only.
func TestAuditClosedAfterDrainAndSweepLogsQuietly(t *testing.T) {
	cfg, err := config.Parse([]string{"--listen", "127.0.0.1:0", "--data-dir", t.TempDir()}, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s, err := New(ctx, cfg, slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo})))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx) }()

	if _, _, err := s.kms.Sweep(ctx); err != nil { // not implemented yet, or nothing to do
		buf.Reset()
		s.sweepKeys(ctx)
		if strings.Contains(buf.String(), "KMS sweep") {
			t.Fatalf("a failing sweep is logged above debug level:\n%s", buf.String())
		}
	}
	if _, err := s.audit.Append(ctx, audit.Event{Name: "ListKeys", Region: "us-east-1"}); err != nil {
		t.Fatalf("audit log not open while serving: %v", err)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Serve did not return")
	}
	if _, err := s.audit.Append(context.Background(), audit.Event{Name: "ListKeys"}); !errors.Is(err, audit.ErrClosed) {
		t.Fatalf("audit log after shutdown: %v, want ErrClosed", err)
	}
}
