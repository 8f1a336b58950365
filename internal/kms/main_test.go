package kms

import (
	"testing"

	"github.com/sealpost/sealpost/internal/pgtest"
)

// TestMain stops the throwaway PostgreSQL that the grant tests on
// PostgreSQL start (pgtest).
func TestMain(m *testing.M) { pgtest.Main(m) }
