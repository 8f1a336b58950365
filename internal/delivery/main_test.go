package delivery_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/sealpost/sealpost/internal/pgtest"
	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/store/pebblestore"
	"github.com/sealpost/sealpost/internal/store/pgstore"
	"github.com/sealpost/sealpost/internal/testserver"
)

func TestMain(m *testing.M) { testserver.Main(m) }

// openStore opens the driver the suite runs on (SEALPOST_TEST_STORE).
func openStore(t *testing.T) store.Store {
	t.Helper()
	var st store.Store
	var err error
	if testserver.StoreKind() == "postgres" {
		st, err = pgstore.Open(context.Background(), pgtest.NewDatabase(t))
	} else {
		st, err = pebblestore.Open(filepath.Join(t.TempDir(), "db"))
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}
