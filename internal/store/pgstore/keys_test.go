package pgstore

import (
	"testing"

	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/store/storetest"
)

func TestKeyConformance(t *testing.T) {
	storetest.RunKeys(t, storetest.KeysOf(&harness{dsns: map[store.Store]string{}}))
}
