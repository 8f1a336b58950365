package sqs

import (
	"context"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/sealpost/sealpost/internal/store"
)

// Tag limits (AWS's): 50 tags per queue, keys of 1 to 128 characters,
// values of up to 256, letters, digits, spaces and _ . : / = + - @; keys
// must not start with the reserved prefix "aws:".
const (
	maxTags        = 50
	maxTagKeyLen   = 128
	maxTagValueLen = 256
)

func tooManyTags(queueName string) error {
	return errf(ErrInvalidParameterValue, "Too many tags added for queue %s.", queueName)
}

func tagText(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if !unicode.IsLetter(r) && !unicode.IsNumber(r) && !unicode.IsSpace(r) && !strings.ContainsRune("_.:/=+-@", r) {
			return false
		}
	}
	return true
}

func checkTagKey(k string) error {
	if n := utf8.RuneCountInString(k); n < 1 || n > maxTagKeyLen || !tagText(k) {
		return errf(ErrInvalidParameterValue, "Tag keys must be between 1 and 128 characters in length and contain only letters, digits, spaces and _ . : / = + - @.")
	}
	if strings.HasPrefix(strings.ToLower(k), "aws:") {
		return errf(ErrInvalidParameterValue, "Tag keys can't start with the reserved prefix aws:.")
	}
	return nil
}

// validateTags checks keys and values (not the count).
func validateTags(tags map[string]string) error {
	for k, v := range tags {
		if err := checkTagKey(k); err != nil {
			return err
		}
		if utf8.RuneCountInString(v) > maxTagValueLen || !tagText(v) {
			return errf(ErrInvalidParameterValue, "Tag values must be between 0 and 256 characters in length and contain only letters, digits, spaces and _ . : / = + - @.")
		}
	}
	return nil
}

// TagQueue adds or replaces tags; a queue has at most 50.
func (s *Service) TagQueue(ctx context.Context, c *Caller, queueURL string, tags map[string]string) error {
	if len(tags) == 0 {
		return errf(ErrMissingParameter, "The request must contain the parameter Tags.")
	}
	if err := validateTags(tags); err != nil {
		return err
	}
	q, err := s.queueFor(ctx, c, queueURL, "TagQueue")
	if err != nil {
		return err
	}
	_, err = s.st.UpdateQueue(ctx, q.QueueKey, func(rec *store.Queue) error {
		n := len(rec.Tags)
		for k := range tags {
			if _, ok := rec.Tags[k]; !ok {
				n++
			}
		}
		if n > maxTags {
			return tooManyTags(rec.Name)
		}
		if rec.Tags == nil {
			rec.Tags = map[string]string{}
		}
		for k, v := range tags {
			rec.Tags[k] = v
		}
		return nil
	})
	return queueStoreErr(err)
}

// UntagQueue removes tags by key (missing keys are fine).
func (s *Service) UntagQueue(ctx context.Context, c *Caller, queueURL string, keys []string) error {
	if len(keys) == 0 {
		return errf(ErrMissingParameter, "The request must contain the parameter TagKeys.")
	}
	for _, k := range keys {
		if n := utf8.RuneCountInString(k); n < 1 || n > maxTagKeyLen {
			return errf(ErrInvalidParameterValue, "Tag keys must be between 1 and 128 characters in length.")
		}
	}
	q, err := s.queueFor(ctx, c, queueURL, "UntagQueue")
	if err != nil {
		return err
	}
	_, err = s.st.UpdateQueue(ctx, q.QueueKey, func(rec *store.Queue) error {
		for _, k := range keys {
			delete(rec.Tags, k)
		}
		return nil
	})
	return queueStoreErr(err)
}

// ListQueueTags returns the queue's tags (an empty map when none).
func (s *Service) ListQueueTags(ctx context.Context, c *Caller, queueURL string) (map[string]string, error) {
	q, err := s.queueFor(ctx, c, queueURL, "ListQueueTags")
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(q.Tags))
	for k, v := range q.Tags {
		out[k] = v
	}
	return out, nil
}
