package pgstore

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// notifyChannel is the LISTEN/NOTIFY channel of wake-up hints. NOTIFY is
// scoped to one database, so nodes sharing a database share it.
const notifyChannel = "sealpost_deliveries"

// notifyInterval bounds the rate of NOTIFYs a node sends; it is also the
// longest a hint to other nodes waits (local waiters are woken at once).
const notifyInterval = 5 * time.Millisecond

// DeliveriesReady implements store.Waker: it fires (coalesced) after a local
// Publish or Retry and on notifications from other nodes. It is only a hint.
func (s *Store) DeliveriesReady() <-chan struct{} { return s.ready }

func (s *Store) wake() {
	select {
	case s.ready <- struct{}{}:
	default:
	}
}

// signal wakes local waiters and asks the notifier to tell the other nodes.
func (s *Store) signal() {
	s.wake()
	select {
	case s.kick <- struct{}{}:
	default: // a notification is already due; it covers this one too
	}
}

// notifier sends one pg_notify per batch of signals, outside the callers'
// transactions (see the package doc for why), at most one per notifyInterval.
func (s *Store) notifier(ctx context.Context) {
	defer s.wg.Done()
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.kick:
		}
		// Errors are ignored: the notification is a hint and pollers
		// still find the deliveries.
		_, _ = s.pool.Exec(ctx, "SELECT pg_notify($1, '')", notifyChannel)
		// At most one NOTIFY per interval: under load the hints coalesce
		// instead of costing the database one transaction per publish.
		select {
		case <-ctx.Done():
			return
		case <-time.After(notifyInterval):
		}
	}
}

// listen holds a dedicated connection that LISTENs for hints from other
// nodes, reconnecting with backoff when it breaks.
func (s *Store) listen(ctx context.Context) {
	defer s.wg.Done()
	const maxBackoff = 10 * time.Second
	backoff := 100 * time.Millisecond
	for {
		connected, err := s.listenOnce(ctx)
		if ctx.Err() != nil {
			return
		}
		var pe *pgconn.PgError
		if errors.As(err, &pe) && (pe.Code == "0A000" || pe.Code == "42883") {
			return // LISTEN (or pg_notify) unsupported: polling only
		}
		if connected {
			backoff = 100 * time.Millisecond
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

// listenOnce connects, LISTENs and forwards notifications until an error.
// It reports whether LISTEN succeeded.
func (s *Store) listenOnce(ctx context.Context) (bool, error) {
	conn, err := pgx.ConnectConfig(ctx, s.pool.Config().ConnConfig.Copy())
	if err != nil {
		return false, err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "LISTEN "+notifyChannel); err != nil {
		return false, err
	}
	// Hints sent while we were not listening are lost: wake the pollers once.
	s.wake()
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return true, err
		}
		s.wake()
	}
}
