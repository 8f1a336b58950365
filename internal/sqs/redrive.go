package sqs

import (
	"context"
	"time"

	"github.com/sealpost/sealpost/internal/store"
)

// redrive moves the leased message m of q to its dead-letter queue target
// (the receive that would exceed maxReceiveCount). The body moves as
// stored: a sealed frame stays sealed for the queue it was sealed for.
// It reports whether the message is gone from q (moved, or to be retried
// by a later receive); false leaves it to be returned (missing DLQ).
func (s *Service) redrive(ctx context.Context, q *queue, target string, m store.QueueMessage, now time.Time) bool {
	dk, err := parseQueueARN(target)
	if err == nil {
		_, err = s.st.GetQueue(ctx, dk)
	}
	if err != nil {
		s.log.Warn("sqs: dead-letter queue of a redrive policy unavailable; message kept", "queue", q.arn, "deadLetterTargetArn", target, "err", err)
		return false
	}
	meta, err := decodeMeta(m.Meta)
	if err != nil {
		s.log.Error("sqs: redrive: message meta", "queue", q.arn, "err", err)
		return false
	}
	meta.DLQSource = q.arn
	nm := store.QueueMessage{ID: m.ID, Body: m.Body, Attributes: m.Attributes, Meta: meta.encode(),
		SenderID: m.SenderID, SentAt: m.SentAt, VisibleAt: now}
	if err := s.st.MoveMessage(ctx, q.QueueKey, m.ReceiptHandle, dk, nm); err != nil {
		s.log.Warn("sqs: redrive to the dead-letter queue failed; retried on a later receive", "queue", q.arn, "err", err)
		return true
	}
	s.touch(dk)
	s.waiters.wake(dk)
	return true
}
