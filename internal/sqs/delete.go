package sqs

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/sealpost/sealpost/internal/store"
)

// DeleteMessage deletes the message receiptHandle was given for. A stale
// handle (the message was received again since) and the handle of a
// deleted message succeed, as in AWS.
func (s *Service) DeleteMessage(ctx context.Context, c *Caller, queueURL, receiptHandle string) error {
	q, err := s.queueFor(ctx, c, queueURL, "DeleteMessage")
	if err != nil {
		return err
	}
	return s.deleteOne(ctx, q, receiptHandle)
}

func (s *Service) deleteOne(ctx context.Context, q *queue, receiptHandle string) error {
	h, _, err := decodeHandle(receiptHandle)
	if err != nil {
		return err
	}
	err = s.st.DeleteMessage(ctx, q.QueueKey, h)
	switch {
	case err == nil, errors.Is(err, store.ErrLeaseLost):
		return nil
	case errors.Is(err, store.ErrNotFound):
		// A deleted message or a deleted queue: AWS answers the
		// latter with QueueDoesNotExist.
		if _, gerr := s.st.GetQueue(ctx, q.QueueKey); errors.Is(gerr, store.ErrNotFound) {
			return errf(ErrQueueDoesNotExist, "The specified queue does not exist.")
		}
		return nil
	}
	return err
}

// ChangeMessageVisibility makes the in-flight message of receiptHandle
// visible again timeout seconds from now.
func (s *Service) ChangeMessageVisibility(ctx context.Context, c *Caller, queueURL, receiptHandle string, timeout int) error {
	q, err := s.queueFor(ctx, c, queueURL, "ChangeMessageVisibility")
	if err != nil {
		return err
	}
	return s.changeOne(ctx, q, receiptHandle, timeout)
}

func (s *Service) changeOne(ctx context.Context, q *queue, receiptHandle string, timeout int) error {
	h, receivedAt, err := decodeHandle(receiptHandle)
	if err != nil {
		return err
	}
	if timeout < 0 || timeout > maxVisibility {
		return invalidParam("Value %d for parameter VisibilityTimeout is invalid. Reason: Must be >= 0 and <= %d, if provided.", timeout, maxVisibility)
	}
	now := s.now()
	visibleAt := now.Add(time.Duration(timeout) * time.Second)
	if visibleAt.After(receivedAt.Add(maxVisibility * time.Second)) {
		return invalidParam("Value %d for parameter VisibilityTimeout is invalid. Reason: Total VisibilityTimeout for the message is beyond the limit [%d seconds]", timeout, maxVisibility)
	}
	_, err = s.st.ChangeVisibility(ctx, q.QueueKey, h, now, visibleAt)
	switch {
	case err == nil:
		if timeout == 0 {
			s.waiters.wake(q.QueueKey)
		}
		return nil
	case errors.Is(err, store.ErrNotInFlight):
		return errf(ErrMessageNotInflight, "Message does not exist or is not available for visibility timeout change.")
	case errors.Is(err, store.ErrLeaseLost), errors.Is(err, store.ErrNotFound):
		if _, gerr := s.st.GetQueue(ctx, q.QueueKey); errors.Is(gerr, store.ErrNotFound) {
			return errf(ErrQueueDoesNotExist, "The specified queue does not exist.")
		}
		return invalidParam("Value %s for parameter ReceiptHandle is invalid. Reason: Message does not exist or is not available for visibility timeout change.", receiptHandle)
	}
	return err
}

// purges remembers the last PurgeQueue of each queue on this node (AWS
// allows one per 60 s; the limit is per node here).
type purges struct {
	mu   sync.Mutex
	last map[store.QueueKey]time.Time
}

// PurgeQueue deletes every message of the queue.
func (s *Service) PurgeQueue(ctx context.Context, c *Caller, queueURL string) error {
	q, err := s.queueFor(ctx, c, queueURL, "PurgeQueue")
	if err != nil {
		return err
	}
	now := s.now()
	s.msgs.purges.mu.Lock()
	if s.msgs.purges.last == nil {
		s.msgs.purges.last = map[store.QueueKey]time.Time{}
	}
	if t, ok := s.msgs.purges.last[q.QueueKey]; ok && now.Sub(t) < 60*time.Second {
		s.msgs.purges.mu.Unlock()
		return errf(ErrPurgeQueueInProgress, "Only one PurgeQueue operation on %s is allowed every 60 seconds.", q.Name)
	}
	s.msgs.purges.last[q.QueueKey] = now
	s.msgs.purges.mu.Unlock()
	if err := s.st.Purge(ctx, q.QueueKey); err != nil {
		s.msgs.purges.mu.Lock()
		delete(s.msgs.purges.last, q.QueueKey)
		s.msgs.purges.mu.Unlock()
		if errors.Is(err, store.ErrNotFound) {
			return errf(ErrQueueDoesNotExist, "The specified queue does not exist.")
		}
		return err
	}
	return nil
}
