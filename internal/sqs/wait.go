package sqs

import (
	"sync"

	"github.com/sealpost/sealpost/internal/store"
)

// waiters wakes long polls: a send on this node, or a store hint for a
// send on another node, wakes every poll waiting on that queue. A wake-up
// is only a hint: the poll then asks the store.
type waiters struct {
	mu      sync.Mutex
	byQueue map[store.QueueKey]map[chan struct{}]struct{}
	drained chan struct{} // closed by Drain
	once    sync.Once
}

func (w *waiters) init() {
	w.byQueue = make(map[store.QueueKey]map[chan struct{}]struct{})
	w.drained = make(chan struct{})
}

// add registers a waiter on k; the channel gets a value on a wake-up.
func (w *waiters) add(k store.QueueKey) chan struct{} {
	ch := make(chan struct{}, 1)
	w.mu.Lock()
	set := w.byQueue[k]
	if set == nil {
		set = make(map[chan struct{}]struct{})
		w.byQueue[k] = set
	}
	set[ch] = struct{}{}
	w.mu.Unlock()
	return ch
}

func (w *waiters) remove(k store.QueueKey, ch chan struct{}) {
	w.mu.Lock()
	if set := w.byQueue[k]; set != nil {
		delete(set, ch)
		if len(set) == 0 {
			delete(w.byQueue, k)
		}
	}
	w.mu.Unlock()
}

// wake wakes the polls waiting on k. It never blocks (the store's hint
// goroutine calls it).
func (w *waiters) wake(k store.QueueKey) {
	w.mu.Lock()
	for ch := range w.byQueue[k] {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
	w.mu.Unlock()
}

// Drain makes long polls in flight, and any started later, return at once
// with what they have (the server calls it when it starts shutting down).
// Running move tasks stop.
func (s *Service) Drain() {
	s.waiters.once.Do(func() { close(s.waiters.drained) })
	s.tasksInit().stop(errTaskStopped)
}

func (s *Service) draining() bool {
	select {
	case <-s.waiters.drained:
		return true
	default:
		return false
	}
}
