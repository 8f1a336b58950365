package server

import (
	"context"

	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/store/pgstore"
)

func openPostgres(ctx context.Context, dsn string) (store.Store, error) {
	return pgstore.Open(ctx, dsn)
}
