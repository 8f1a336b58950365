package server_test

import (
	"testing"

	"github.com/sealpost/sealpost/internal/testserver"
)

func TestMain(m *testing.M) { testserver.Main(m) }
