package sqs

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/sealpost/sealpost/internal/store"
)

// expireEvery is how often a queue's expired messages are deleted (at most,
// per queue, on one node).
const expireEvery = time.Minute

// msgState is the message path's node-local state.
type msgState struct {
	mu      sync.Mutex
	touched map[store.QueueKey]bool      // queues this node read or wrote
	expired map[store.QueueKey]time.Time // last ExpireBefore per queue
	purges  purges
	tasks   tasks
}

// touch notes that this node uses the queue k: Run sweeps it.
func (s *Service) touch(k store.QueueKey) {
	s.msgs.mu.Lock()
	if s.msgs.touched == nil {
		s.msgs.touched = map[store.QueueKey]bool{}
	}
	s.msgs.touched[k] = true
	s.msgs.mu.Unlock()
}

// maybeExpire deletes the queue's messages past its retention period if
// that was not done in the last minute on this node. Receive skips (and
// deletes) expired messages it leases anyway: this bounds what they cost.
func (s *Service) maybeExpire(ctx context.Context, q *queue) {
	now := s.now()
	s.msgs.mu.Lock()
	if s.msgs.expired == nil {
		s.msgs.expired = map[store.QueueKey]time.Time{}
	}
	last, ok := s.msgs.expired[q.QueueKey]
	if ok && now.Sub(last) < expireEvery && !now.Before(last) {
		s.msgs.mu.Unlock()
		return
	}
	s.msgs.expired[q.QueueKey] = now
	s.msgs.mu.Unlock()
	n, err := s.st.ExpireBefore(ctx, q.QueueKey, now.Add(-q.cfg.MessageRetentionPeriod))
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		s.log.Warn("sqs: expiring messages", "queue", q.arn, "err", err)
	} else if n > 0 {
		s.log.Debug("sqs: expired messages", "queue", q.arn, "count", n)
	}
}

// Run expires messages past their queue's retention period on the queues
// this node used, and fails move tasks whose node stopped, until ctx is
// done (the server runs it once per node).
func (s *Service) Run(ctx context.Context) {
	every := s.opts.JanitorInterval
	if every <= 0 {
		every = 5 * time.Second
	}
	t := time.NewTicker(every)
	defer t.Stop()
	go func() {
		select {
		case <-ctx.Done():
		case <-s.waiters.drained:
		}
		s.stopTasks()
	}()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.sweep(ctx)
		}
	}
}

// sweep is one pass of Run.
func (s *Service) sweep(ctx context.Context) {
	s.msgs.mu.Lock()
	keys := make([]store.QueueKey, 0, len(s.msgs.touched))
	for k := range s.msgs.touched {
		keys = append(keys, k)
	}
	s.msgs.mu.Unlock()
	for _, k := range keys {
		if ctx.Err() != nil {
			return
		}
		rec, err := s.st.GetQueue(ctx, k)
		if errors.Is(err, store.ErrNotFound) {
			s.msgs.mu.Lock()
			delete(s.msgs.touched, k)
			delete(s.msgs.expired, k)
			s.msgs.mu.Unlock()
			continue
		}
		if err != nil {
			s.log.Warn("sqs: sweep", "queue", k.Name, "err", err)
			continue
		}
		q := &queue{Queue: rec, cfg: parseConfig(rec.Attributes), arn: QueueARN(k)}
		s.maybeExpire(ctx, q)
		s.failOrphanTasks(ctx, q)
	}
}
