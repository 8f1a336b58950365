package sqs

import (
	"context"
	"time"

	"github.com/sealpost/sealpost/internal/store"
)

// SKELETON stubs owned by the sqs-queues helper: replace each in its own
// file and delete this file when it is empty.

var errTODO = errf(ErrUnsupportedOperation, "not implemented yet")

// CreateQueue creates a queue (SKELETON: no validation, no idempotency
// check) and returns its URL.
func (s *Service) CreateQueue(ctx context.Context, c *Caller, name string, attrs, tags map[string]string) (string, error) {
	now := s.now()
	if attrs == nil {
		attrs = map[string]string{}
	}
	if tags == nil {
		tags = map[string]string{}
	}
	k := store.QueueKey{Account: c.Account, Region: c.Region, Name: name}
	_, err := s.st.CreateQueue(ctx, store.Queue{QueueKey: k, Attributes: attrs, Tags: tags, CreatedAt: now, LastModified: now})
	if err != nil && err != store.ErrExists {
		return "", err
	}
	return s.QueueURL(k), nil
}

func (s *Service) GetQueueURL(ctx context.Context, c *Caller, name, ownerAccount string) (string, error) {
	return "", errTODO
}
func (s *Service) DeleteQueue(ctx context.Context, c *Caller, queueURL string) error { return errTODO }

// ListQueues returns queue URLs and the next token ("" on the last page).
func (s *Service) ListQueues(ctx context.Context, c *Caller, prefix, nextToken string, max int) ([]string, string, error) {
	return nil, "", errTODO
}
func (s *Service) GetQueueAttributes(ctx context.Context, c *Caller, queueURL string, names []string) (map[string]string, error) {
	return nil, errTODO
}
func (s *Service) SetQueueAttributes(ctx context.Context, c *Caller, queueURL string, attrs map[string]string) error {
	return errTODO
}
func (s *Service) TagQueue(ctx context.Context, c *Caller, queueURL string, tags map[string]string) error {
	return errTODO
}
func (s *Service) UntagQueue(ctx context.Context, c *Caller, queueURL string, keys []string) error {
	return errTODO
}
func (s *Service) ListQueueTags(ctx context.Context, c *Caller, queueURL string) (map[string]string, error) {
	return nil, errTODO
}
func (s *Service) AddPermission(ctx context.Context, c *Caller, queueURL, label string, accounts, actions []string) error {
	return errTODO
}
func (s *Service) RemovePermission(ctx context.Context, c *Caller, queueURL, label string) error {
	return errTODO
}

// ListDeadLetterSourceQueues returns the URLs of queues whose RedrivePolicy
// names queueURL's queue.
func (s *Service) ListDeadLetterSourceQueues(ctx context.Context, c *Caller, queueURL, nextToken string, max int) ([]string, string, error) {
	return nil, "", errTODO
}

var _ = time.Second
