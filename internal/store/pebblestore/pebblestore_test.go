package pebblestore

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/store/storetest"
)

type harness struct {
	dirs  map[store.Store]string
	tweak func(*Store) // applied after every Open
}

func (h *harness) open(t *testing.T, dir string) *Store {
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if h.tweak != nil {
		h.tweak(s)
	}
	h.dirs[s] = dir
	t.Cleanup(func() { s.Close() })
	return s
}

func (h *harness) Open(t *testing.T) store.Store {
	return h.open(t, filepath.Join(t.TempDir(), "db"))
}

func (h *harness) Reopen(t *testing.T, s store.Store) store.Store {
	dir := h.dirs[s]
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return h.open(t, dir)
}

func TestConformance(t *testing.T) {
	storetest.Run(t, &harness{dirs: map[store.Store]string{}})
}

// TestConformanceSmallWindow runs the suite with a window of two deliveries
// and a one-second horizon, so that leasing refills and trims the window all
// the time, and deletes subscriptions two deliveries per batch.
func TestConformanceSmallWindow(t *testing.T) {
	storetest.Run(t, &harness{dirs: map[store.Store]string{}, tweak: func(s *Store) {
		s.q.winCap, s.q.horizon, s.q.chunk = 2, time.Second, 2
	}})
}
