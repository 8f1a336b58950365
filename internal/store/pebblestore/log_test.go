package pebblestore

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"
)

// TestPebbleLogReachesSlog: pebble's errors (its logger and background
// errors such as a failed compaction or WAL write) reach the given slog
// logger at error level; its chatter stays at debug.
func TestPebbleLogReachesSlog(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}))
	opts := pebbleOptions(Options{Logger: log})
	defer opts.Cache.Unref()
	opts.Logger.Errorf("WAL write failed: %s", "disk full")
	opts.EventListener.BackgroundError(errors.New("compaction failed"))
	opts.Logger.Infof("flushed %d memtables", 1)
	out := buf.String()
	for _, want := range []string{
		`level=ERROR msg="WAL write failed: disk full" component=pebble`,
		`level=ERROR msg="background error" component=pebble err="compaction failed"`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "flushed") {
		t.Errorf("info chatter logged above debug:\n%s", out)
	}
	defer func() {
		if recover() == nil {
			t.Error("Fatalf returned")
		}
	}()
	opts.Logger.Fatalf("corrupt %s", "MANIFEST")
}
