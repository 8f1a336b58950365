package sqs

import (
	"context"

	"github.com/sealpost/sealpost/internal/store"
)

// SKELETON stubs owned by the sqs-messages helper: replace each in its own
// file and delete this file when it is empty.

func (s *Service) SendMessage(ctx context.Context, c *Caller, queueURL string, in SendInput) (SendResult, error) {
	return SendResult{}, errTODO
}
func (s *Service) SendMessageBatch(ctx context.Context, c *Caller, queueURL string, entries []SendEntry) ([]BatchResult, []BatchError, error) {
	return nil, nil, errTODO
}

// SendFromService sends a message to the queue queueARN as the service
// caller c (SNS delivering a notification or a dead letter): the queue
// policy must allow c, and for an encrypted queue the key policy must let
// c's service generate data keys.
func (s *Service) SendFromService(ctx context.Context, c *Caller, queueARN string, in SendInput) (SendResult, error) {
	return SendResult{}, errTODO
}
func (s *Service) ReceiveMessage(ctx context.Context, c *Caller, queueURL string, in ReceiveInput) ([]Message, error) {
	return nil, errTODO
}
func (s *Service) DeleteMessage(ctx context.Context, c *Caller, queueURL, receiptHandle string) error {
	return errTODO
}

// DeleteMessageBatch returns the ids deleted and the failed entries.
func (s *Service) DeleteMessageBatch(ctx context.Context, c *Caller, queueURL string, entries []HandleEntry) ([]string, []BatchError, error) {
	return nil, nil, errTODO
}
func (s *Service) ChangeMessageVisibility(ctx context.Context, c *Caller, queueURL, receiptHandle string, timeout int) error {
	return errTODO
}
func (s *Service) ChangeMessageVisibilityBatch(ctx context.Context, c *Caller, queueURL string, entries []VisibilityEntry) ([]string, []BatchError, error) {
	return nil, nil, errTODO
}
func (s *Service) PurgeQueue(ctx context.Context, c *Caller, queueURL string) error { return errTODO }

// StartMessageMoveTask starts moving messages from the dead-letter queue
// sourceARN to destinationARN ("" = each message's source queue) and
// returns the task handle.
func (s *Service) StartMessageMoveTask(ctx context.Context, c *Caller, sourceARN, destinationARN string, maxPerSecond int) (string, error) {
	return "", errTODO
}
func (s *Service) CancelMessageMoveTask(ctx context.Context, c *Caller, taskHandle string) (int64, error) {
	return 0, errTODO
}
func (s *Service) ListMessageMoveTasks(ctx context.Context, c *Caller, sourceARN string, max int) ([]MoveTask, error) {
	return nil, errTODO
}

// Run expires messages past their queue's retention period and advances
// move tasks until ctx is done (the server runs it once per node).
func (s *Service) Run(ctx context.Context) { <-ctx.Done() }

// waiters wakes long polls (SKELETON).
type waiters struct{}

func (w *waiters) init()                 {}
func (w *waiters) wake(k store.QueueKey) {}

// Drain makes long polls in flight, and any started later, return at once
// with what they have (the server calls it when it starts shutting down).
func (s *Service) Drain() {}
