package sqs

import (
	"context"
	"errors"
	"fmt"

	"github.com/sealpost/sealpost/internal/store"
)

// queryCodes are the Query protocol's codes of kinds whose code is not the
// kind's name (batch entries carry Query-style codes).
var queryCodes = map[error]string{
	ErrMessageNotInflight: "AWS.SimpleQueueService.MessageNotInflight",
	ErrQueueDoesNotExist:  "AWS.SimpleQueueService.NonExistentQueue",
	ErrKMSAccessDenied:    "KMS.AccessDeniedException",
	ErrKMSDisabled:        "KMS.DisabledException",
	ErrKMSInvalidKeyUsage: "KMS.InvalidKeyUsageException",
	ErrKMSInvalidState:    "KMS.InvalidStateException",
	ErrKMSNotFound:        "KMS.NotFoundException",
	ErrKMSOptInRequired:   "KMS.OptInRequired",
	ErrKMSThrottled:       "KMS.ThrottlingException",
}

// batchError turns err into a failed entry; ok false means err is not a
// client error (the whole request fails).
func batchError(id string, err error) (BatchError, bool) {
	var e *Error
	if !errors.As(err, &e) {
		return BatchError{}, false
	}
	code, ok := queryCodes[e.Kind]
	if !ok {
		code = e.Kind.Error()
	}
	sender := !errors.Is(e.Kind, ErrKMSThrottled) && !errors.Is(e.Kind, ErrInternal)
	return BatchError{ID: id, Code: code, SenderFault: sender, Message: e.Message}, true
}

// checkBatch applies AWS's rules for a batch's entry ids.
func checkBatch(ids []string, entryShape string) error {
	if len(ids) == 0 {
		return errf(ErrEmptyBatchRequest, "There should be at least one %s in the request.", entryShape)
	}
	if len(ids) > maxBatchEntries {
		return errf(ErrTooManyEntriesInBatch, "Maximum number of entries per request are %d. You have sent %d.", maxBatchEntries, len(ids))
	}
	seen := make(map[string]bool, len(ids))
	for _, id := range ids {
		if !validEntryID(id) {
			return errf(ErrInvalidBatchEntryID, "A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.")
		}
		if seen[id] {
			return errf(ErrBatchEntryIdsNotDistinct, "Id %s repeated.", id)
		}
		seen[id] = true
	}
	return nil
}

func validEntryID(id string) bool {
	if id == "" || len(id) > 80 {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

// SendMessageBatch sends up to 10 messages in one durable write. Entries
// that fail validation (or sealing) are answered as failed; the others
// are sent.
func (s *Service) SendMessageBatch(ctx context.Context, c *Caller, queueURL string, entries []SendEntry) ([]BatchResult, []BatchError, error) {
	ids := make([]string, len(entries))
	total := 0
	for i, e := range entries {
		ids[i] = e.ID
		total += len(e.Body)
		for n, a := range e.Attributes {
			total += len(n) + len(a.DataType) + len(a.StringValue) + len(a.BinaryValue)
		}
	}
	if err := checkBatch(ids, "SendMessageBatchRequestEntry"); err != nil {
		return nil, nil, err
	}
	if total > maxBatchPayload {
		return nil, nil, errf(ErrBatchRequestTooLong, "Batch requests cannot be longer than %d bytes. You have sent %d bytes.", maxBatchPayload, total)
	}
	q, err := s.queueFor(ctx, c, queueURL, "SendMessage")
	if err != nil {
		return nil, nil, err
	}
	now := s.now()
	var ok []BatchResult
	var failed []BatchError
	ps := make([]prepared, 0, len(entries))
	for _, e := range entries {
		p, err := s.prepare(ctx, c, q, e.SendInput, now)
		if err != nil {
			be, client := batchError(e.ID, err)
			if !client {
				return nil, nil, err
			}
			failed = append(failed, be)
			continue
		}
		ps = append(ps, p)
		ok = append(ok, BatchResult{ID: e.ID, SendResult: p.res})
	}
	if len(ps) > 0 {
		ms := make([]store.QueueMessage, len(ps))
		for i := range ps {
			ms[i] = ps[i].m
		}
		if err := s.store(ctx, q.QueueKey, ms...); err != nil {
			return nil, nil, err
		}
	}
	return ok, failed, nil
}

// DeleteMessageBatch returns the ids deleted and the failed entries.
func (s *Service) DeleteMessageBatch(ctx context.Context, c *Caller, queueURL string, entries []HandleEntry) ([]string, []BatchError, error) {
	ids := make([]string, len(entries))
	for i, e := range entries {
		ids[i] = e.ID
	}
	if err := checkBatch(ids, "DeleteMessageBatchRequestEntry"); err != nil {
		return nil, nil, err
	}
	q, err := s.queueFor(ctx, c, queueURL, "DeleteMessage")
	if err != nil {
		return nil, nil, err
	}
	var ok []string
	var failed []BatchError
	for _, e := range entries {
		if err := s.deleteOne(ctx, q, e.ReceiptHandle); err != nil {
			be, client := batchError(e.ID, err)
			if !client {
				return nil, nil, fmt.Errorf("sqs: delete message batch: %w", err)
			}
			failed = append(failed, be)
			continue
		}
		ok = append(ok, e.ID)
	}
	return ok, failed, nil
}

// ChangeMessageVisibilityBatch returns the ids changed and the failed
// entries.
func (s *Service) ChangeMessageVisibilityBatch(ctx context.Context, c *Caller, queueURL string, entries []VisibilityEntry) ([]string, []BatchError, error) {
	ids := make([]string, len(entries))
	for i, e := range entries {
		ids[i] = e.ID
	}
	if err := checkBatch(ids, "ChangeMessageVisibilityBatchRequestEntry"); err != nil {
		return nil, nil, err
	}
	q, err := s.queueFor(ctx, c, queueURL, "ChangeMessageVisibility")
	if err != nil {
		return nil, nil, err
	}
	var ok []string
	var failed []BatchError
	for _, e := range entries {
		if err := s.changeOne(ctx, q, e.ReceiptHandle, e.VisibilityTimeout); err != nil {
			be, client := batchError(e.ID, err)
			if !client {
				return nil, nil, fmt.Errorf("sqs: change message visibility batch: %w", err)
			}
			failed = append(failed, be)
			continue
		}
		ok = append(ok, e.ID)
	}
	return ok, failed, nil
}
