package server

import (
	"context"
	"errors"

	"github.com/sealpost/sealpost/internal/store"
)

func openPostgres(ctx context.Context, dsn string) (store.Store, error) {
	return nil, errors.New("the PostgreSQL store is not built yet")
}
