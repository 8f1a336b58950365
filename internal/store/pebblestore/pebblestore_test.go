package pebblestore

import (
	"path/filepath"
	"testing"

	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/store/storetest"
)

type harness struct{ dirs map[store.Store]string }

func (h *harness) Open(t *testing.T) store.Store {
	dir := filepath.Join(t.TempDir(), "db")
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	h.dirs[s] = dir
	t.Cleanup(func() { s.Close() })
	return s
}

func (h *harness) Reopen(t *testing.T, s store.Store) store.Store {
	dir := h.dirs[s]
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	n, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	h.dirs[n] = dir
	t.Cleanup(func() { n.Close() })
	return n
}

func TestConformance(t *testing.T) {
	storetest.Run(t, &harness{dirs: map[store.Store]string{}})
}
