package pgstore

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/sealpost/sealpost/internal/store"
)

// The LISTEN/NOTIFY channels of wake-up hints. NOTIFY is scoped to one
// database, so nodes sharing a database share them.
const (
	// notifyChannel carries delivery hints (store.Waker); no payload.
	notifyChannel = "sealpost_deliveries"
	// queueChannel carries queue hints (store.QueueWaker); the payload is a
	// JSON array of [account, region, name] triples.
	queueChannel = "sealpost_queues"
)

// notifyInterval bounds the rate of NOTIFYs a node sends; it is also the
// longest a hint to other nodes waits (local waiters are woken at once).
const notifyInterval = 5 * time.Millisecond

// maxPayload keeps a queue NOTIFY's payload under PostgreSQL's limit (8000
// bytes); more queues go into further NOTIFYs.
const maxPayload = 7000

// hints is the state the notifier, the listener and the queue dispatcher
// share. Its zero value is not ready: Open makes the channels.
type hints struct {
	mu sync.Mutex
	// deliveries: a delivery hint is due (set by signal, cleared by the
	// notifier).
	deliveries bool
	// queues to name in the next queue NOTIFY.
	queues map[store.QueueKey]struct{}
	// heard: queues named by notifications, waiting for the dispatcher.
	heard map[store.QueueKey]struct{}
	fns   []func(store.QueueKey)

	dispatch chan struct{} // wakes the dispatcher; capacity 1, coalescing
}

// DeliveriesReady implements store.Waker: it fires (coalesced) after a local
// Publish or Retry and on notifications from other nodes. It is only a hint.
func (s *Store) DeliveriesReady() <-chan struct{} { return s.ready }

// OnQueueMessages implements store.QueueWaker: fn is called with a queue's
// key after messages were sent to it (SendMessages, or MoveMessage into it)
// on any node sharing the database, this one included. Calls come from one
// dispatcher goroutine, never from the listener itself, so a slow fn delays
// other hints but never the LISTEN connection; hints for one queue that
// arrive while fn runs are coalesced. Hints sent while the listener is
// reconnecting are lost: it is only a hint, and the SQS domain polls.
func (s *Store) OnQueueMessages(fn func(store.QueueKey)) {
	s.hints.mu.Lock()
	s.hints.fns = append(s.hints.fns, fn)
	s.hints.mu.Unlock()
}

func (s *Store) wake() {
	select {
	case s.ready <- struct{}{}:
	default:
	}
}

func (s *Store) kickNotifier() {
	select {
	case s.kick <- struct{}{}:
	default: // a notification is already due; it covers this one too
	}
}

// signal wakes local waiters and asks the notifier to tell the other nodes.
func (s *Store) signal() {
	s.wake()
	s.hints.mu.Lock()
	s.hints.deliveries = true
	s.hints.mu.Unlock()
	s.kickNotifier()
}

// signalQueue asks the notifier to tell every node (this one included)
// that queue k got messages. Callers call it after their write committed.
func (s *Store) signalQueue(k store.QueueKey) {
	s.hints.mu.Lock()
	if s.hints.queues == nil {
		s.hints.queues = map[store.QueueKey]struct{}{}
	}
	s.hints.queues[k] = struct{}{}
	s.hints.mu.Unlock()
	s.kickNotifier()
}

// notifier sends the hints signalled since its last round, outside the
// callers' transactions (see the package doc for why), one round per
// notifyInterval at most: a pg_notify for deliveries if any were
// signalled, and pg_notify calls naming the queues that got messages.
func (s *Store) notifier(ctx context.Context) {
	defer s.wg.Done()
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.kick:
		}
		s.hints.mu.Lock()
		deliveries, queues := s.hints.deliveries, s.hints.queues
		s.hints.deliveries, s.hints.queues = false, nil
		s.hints.mu.Unlock()
		// Errors are ignored: the notification is a hint and pollers
		// still find the deliveries and messages.
		if deliveries {
			_, _ = s.pool.Exec(ctx, "SELECT pg_notify($1, '')", notifyChannel)
		}
		for _, p := range queuePayloads(queues) {
			_, _ = s.pool.Exec(ctx, "SELECT pg_notify($1, $2)", queueChannel, p)
		}
		// At most one round per interval: under load the hints coalesce
		// instead of costing the database one transaction per write.
		select {
		case <-ctx.Done():
			return
		case <-time.After(notifyInterval):
		}
	}
}

// queuePayloads encodes the keys as JSON arrays of [account, region, name]
// triples, each under maxPayload bytes.
func queuePayloads(keys map[store.QueueKey]struct{}) []string {
	var out []string
	var cur []byte
	for k := range keys {
		b, err := json.Marshal([3]string{k.Account, k.Region, k.Name})
		if err != nil {
			continue // strings always marshal
		}
		if len(cur) > 0 && len(cur)+len(b)+2 > maxPayload {
			out = append(out, string(append(cur, ']')))
			cur = nil
		}
		if len(cur) == 0 {
			cur = append(cur, '[')
		} else {
			cur = append(cur, ',')
		}
		cur = append(cur, b...)
	}
	if len(cur) > 0 {
		out = append(out, string(append(cur, ']')))
	}
	return out
}

// parseQueuePayload decodes a queue NOTIFY payload; a malformed one (not
// sent by Sealpost) yields nothing.
func parseQueuePayload(p string) []store.QueueKey {
	var triples [][3]string
	if err := json.Unmarshal([]byte(p), &triples); err != nil {
		return nil
	}
	out := make([]store.QueueKey, len(triples))
	for i, t := range triples {
		out[i] = store.QueueKey{Account: t[0], Region: t[1], Name: t[2]}
	}
	return out
}

// heard records queue hints from a notification and wakes the dispatcher;
// it never blocks the listener.
func (s *Store) heard(keys []store.QueueKey) {
	if len(keys) == 0 {
		return
	}
	s.hints.mu.Lock()
	if s.hints.heard == nil {
		s.hints.heard = map[store.QueueKey]struct{}{}
	}
	for _, k := range keys {
		s.hints.heard[k] = struct{}{}
	}
	s.hints.mu.Unlock()
	select {
	case s.hints.dispatch <- struct{}{}:
	default:
	}
}

// dispatcher calls the OnQueueMessages functions for the queues heard of.
func (s *Store) dispatcher(ctx context.Context) {
	defer s.wg.Done()
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.hints.dispatch:
		}
		s.hints.mu.Lock()
		keys, fns := s.hints.heard, s.hints.fns
		s.hints.heard = nil
		s.hints.mu.Unlock()
		for k := range keys {
			for _, fn := range fns {
				fn(k)
			}
		}
	}
}

// listen holds one dedicated connection per store that LISTENs on both
// channels, reconnecting with backoff when it breaks.
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
	for _, ch := range []string{notifyChannel, queueChannel} {
		if _, err := conn.Exec(ctx, "LISTEN "+ch); err != nil {
			return false, err
		}
	}
	// Hints sent while we were not listening are lost: wake the delivery
	// pollers once (queue long polls poll on their own).
	s.wake()
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return true, err
		}
		if n.Channel == queueChannel {
			s.heard(parseQueuePayload(n.Payload))
			continue
		}
		s.wake()
	}
}
