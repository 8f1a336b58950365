package sqs

import (
	"context"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/sealpost/sealpost/internal/store"
)

// SKELETON (owned by the sqs-queues helper, who replaces the bodies here:
// validation, AWS defaults, authorization. Keep the names and types, the
// messages helper builds on them.)

// queueConfig is a queue's settable attributes, parsed. Defaults are AWS's.
type queueConfig struct {
	DelaySeconds                  int           // 0..900, default 0
	MaximumMessageSize            int           // 1024..262144, default 262144
	MessageRetentionPeriod        time.Duration // 60 s..14 days, default 4 days
	ReceiveMessageWaitTimeSeconds int           // 0..20, default 0
	VisibilityTimeout             int           // 0..43200, default 30
	// Redrive: DeadLetterTargetARN "" = no dead-letter queue.
	DeadLetterTargetARN string
	MaxReceiveCount     int
	// SSE: KmsMasterKeyID as set ("" = none); ManagedSSE = SqsManagedSseEnabled.
	KmsMasterKeyID   string
	KmsDataKeyReuse  time.Duration // default 300 s
	ManagedSSE       bool
	Policy           string
	RedriveAllowJSON string
}

// encrypted reports whether bodies sent now are sealed.
func (c *queueConfig) encrypted() bool { return c.KmsMasterKeyID != "" || c.ManagedSSE }

// parseConfig parses stored attributes (already validated when set).
func parseConfig(attrs map[string]string) queueConfig {
	cfg := queueConfig{MaximumMessageSize: 262144, MessageRetentionPeriod: 4 * 24 * time.Hour, VisibilityTimeout: 30,
		KmsDataKeyReuse: 300 * time.Second}
	num := func(name string, dst *int) {
		if v, ok := attrs[name]; ok {
			if n, err := strconv.Atoi(v); err == nil {
				*dst = n
			}
		}
	}
	num("DelaySeconds", &cfg.DelaySeconds)
	num("MaximumMessageSize", &cfg.MaximumMessageSize)
	num("ReceiveMessageWaitTimeSeconds", &cfg.ReceiveMessageWaitTimeSeconds)
	num("VisibilityTimeout", &cfg.VisibilityTimeout)
	var secs int
	num("MessageRetentionPeriod", &secs)
	if secs > 0 {
		cfg.MessageRetentionPeriod = time.Duration(secs) * time.Second
	}
	secs = 0
	num("KmsDataKeyReusePeriodSeconds", &secs)
	if secs > 0 {
		cfg.KmsDataKeyReuse = time.Duration(secs) * time.Second
	}
	cfg.KmsMasterKeyID = attrs["KmsMasterKeyId"]
	cfg.ManagedSSE = attrs["SqsManagedSseEnabled"] == "true"
	cfg.Policy = attrs["Policy"]
	cfg.RedriveAllowJSON = attrs["RedriveAllowPolicy"]
	return cfg
}

// queueKeyOf parses a queue URL (any scheme and host; the last two path
// segments are account and name) in the caller's region.
func queueKeyOf(c *Caller, queueURL string) (store.QueueKey, error) {
	u, err := url.Parse(queueURL)
	if err != nil || queueURL == "" {
		return store.QueueKey{}, errf(ErrQueueDoesNotExist, "The specified queue does not exist.")
	}
	parts := strings.Split(strings.Trim(u.Path, "/"), "/")
	if len(parts) < 2 {
		return store.QueueKey{}, errf(ErrQueueDoesNotExist, "The specified queue does not exist.")
	}
	return store.QueueKey{Account: parts[len(parts)-2], Region: c.Region, Name: parts[len(parts)-1]}, nil
}

// queue is what an action resolved: the record and its parsed config.
type queue struct {
	store.Queue
	cfg queueConfig
	arn string
}

// queueFor resolves queueURL for an action of c (the SQS action name, e.g.
// "SendMessage") and authorizes it (SKELETON: no authorization yet).
func (s *Service) queueFor(ctx context.Context, c *Caller, queueURL, action string) (*queue, error) {
	k, err := queueKeyOf(c, queueURL)
	if err != nil {
		return nil, err
	}
	return s.queueByKey(ctx, c, k, action)
}

// queueByKey is queueFor for a key (SendFromService, redrive, move tasks).
func (s *Service) queueByKey(ctx context.Context, c *Caller, k store.QueueKey, action string) (*queue, error) {
	q, err := s.st.GetQueue(ctx, k)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errf(ErrQueueDoesNotExist, "The specified queue does not exist.")
	}
	if err != nil {
		return nil, err
	}
	return &queue{Queue: q, cfg: parseConfig(q.Attributes), arn: QueueARN(k)}, nil
}

// QueueARN is the ARN of the queue k.
func QueueARN(k store.QueueKey) string {
	return "arn:aws:sqs:" + k.Region + ":" + k.Account + ":" + k.Name
}

// QueueURL is the URL of the queue k.
func (s *Service) QueueURL(k store.QueueKey) string {
	return s.opts.PublicURL + "/" + k.Account + "/" + k.Name
}
