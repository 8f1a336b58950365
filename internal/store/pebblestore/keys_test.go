package pebblestore

import (
	"testing"

	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/store/storetest"
)

func TestKeyConformance(t *testing.T) {
	storetest.RunKeys(t, storetest.KeysOf(&harness{dirs: map[store.Store]string{}}))
}
