package pebblestore

import (
	"testing"

	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/store/storetest"
)

func TestKeyConformance(t *testing.T) {
	storetest.RunKeys(t, storetest.KeysOf(&harness{dirs: map[store.Store]string{}}))
}

func openBench(b *testing.B) *Store {
	s, err := Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

func BenchmarkKeyRead(b *testing.B) { storetest.BenchKeyRead(b, openBench(b)) }

func BenchmarkKeyUpdate(b *testing.B) {
	b.SetParallelism(8) // 16 goroutines on 2 cores
	storetest.BenchKeyUpdate(b, openBench(b))
}
