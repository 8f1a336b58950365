package sqs

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/sealpost/sealpost/internal/store"
)

// Queue attribute limits and defaults (AWS's). MaximumMessageSize is up to
// 1 MiB, AWS's limit and default since August 2025 (the botocore model);
// a batch is up to 1 MiB too.
const (
	defaultMaximumMessageSize = 1048576
	maxMaximumMessageSize     = 1048576
	defaultRetentionSeconds   = 345600 // 4 days
	defaultVisibilityTimeout  = 30
	defaultDataKeyReuse       = 300
)

// internalAttrPrefix starts the names of attributes Sealpost keeps for
// itself on the queue record (move-task state): never returned, never
// settable by clients, ignored by CreateQueue's comparison.
const internalAttrPrefix = "sealpost:"

// queueConfig is a queue's settable attributes, parsed. Defaults are AWS's.
type queueConfig struct {
	DelaySeconds                  int           // 0..900, default 0
	MaximumMessageSize            int           // 1024..1048576 (1 MiB), default 1 MiB, as AWS since 2025
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

// parseConfig parses stored attributes (already validated and normalized
// when set; anything unreadable falls back to the default).
func parseConfig(attrs map[string]string) queueConfig {
	cfg := queueConfig{MaximumMessageSize: defaultMaximumMessageSize,
		MessageRetentionPeriod: defaultRetentionSeconds * time.Second, VisibilityTimeout: defaultVisibilityTimeout,
		KmsDataKeyReuse: defaultDataKeyReuse * time.Second}
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
	if raw := attrs["RedrivePolicy"]; raw != "" {
		if rp, ok := readRedrivePolicy(raw); ok {
			cfg.DeadLetterTargetARN, cfg.MaxReceiveCount = rp.arn, rp.max
		}
	}
	return cfg
}

// redrivePolicy is a parsed RedrivePolicy.
type redrivePolicy struct {
	arn string
	max int
}

// readRedrivePolicy reads a stored (normalized) RedrivePolicy; it also
// takes maxReceiveCount written as a string, as SDKs send it.
func readRedrivePolicy(raw string) (redrivePolicy, bool) {
	var v struct {
		Arn string          `json:"deadLetterTargetArn"`
		Max json.RawMessage `json:"maxReceiveCount"`
	}
	if json.Unmarshal([]byte(raw), &v) != nil || v.Arn == "" {
		return redrivePolicy{}, false
	}
	n, ok := intOf(v.Max)
	if !ok {
		return redrivePolicy{}, false
	}
	return redrivePolicy{arn: v.Arn, max: n}, true
}

// intOf reads a JSON number or a JSON string holding a decimal integer.
func intOf(raw json.RawMessage) (int, bool) {
	s := strings.TrimSpace(string(raw))
	if strings.HasPrefix(s, `"`) {
		if json.Unmarshal(raw, &s) != nil {
			return 0, false
		}
	}
	n, err := strconv.Atoi(s)
	return n, err == nil
}

// queueNameRE is a standard queue's name (AWS's rule).
var queueNameRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,80}$`)

// accountIDRE is an AWS account id.
var accountIDRE = regexp.MustCompile(`^[0-9]{12}$`)

// queueKeyOf parses a queue URL (any scheme and host; the last two path
// segments are account and name) in the caller's region. A URL that
// cannot name a queue (bad account or name) names no queue.
func queueKeyOf(c *Caller, queueURL string) (store.QueueKey, error) {
	u, err := url.Parse(queueURL)
	if err != nil || queueURL == "" {
		return store.QueueKey{}, errf(ErrQueueDoesNotExist, "The specified queue does not exist.")
	}
	parts := strings.Split(strings.Trim(u.Path, "/"), "/")
	if len(parts) < 2 {
		return store.QueueKey{}, errf(ErrQueueDoesNotExist, "The specified queue does not exist.")
	}
	account, name := parts[len(parts)-2], parts[len(parts)-1]
	if !accountIDRE.MatchString(account) || !validStoredName(name) {
		return store.QueueKey{}, errf(ErrQueueDoesNotExist, "The specified queue does not exist.")
	}
	return store.QueueKey{Account: account, Region: c.Region, Name: name}, nil
}

// validStoredName reports whether name can be a stored queue's name.
func validStoredName(name string) bool { return queueNameRE.MatchString(name) }

// queueKeyOfARN parses a queue ARN arn:<partition>:sqs:<region>:<account>:<name>.
func queueKeyOfARN(arn string) (store.QueueKey, bool) {
	p := strings.Split(arn, ":")
	if len(p) != 6 || p[0] != "arn" || p[1] == "" || p[2] != "sqs" || p[3] == "" ||
		!accountIDRE.MatchString(p[4]) || !validStoredName(p[5]) || strings.ContainsRune(p[3], 0) {
		return store.QueueKey{}, false
	}
	return store.QueueKey{Account: p[4], Region: p[3], Name: p[5]}, true
}

// queue is what an action resolved: the record and its parsed config.
type queue struct {
	store.Queue
	cfg queueConfig
	arn string
}

// queueFor resolves queueURL for an action of c (the SQS action name, e.g.
// "SendMessage"; batch actions may pass the batch name or the single one)
// and authorizes it: see access.go. A queue with SSE-KMS also needs TLS
// and a SigV4 signature (InvalidSecurity), except for service callers.
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
	qu := &queue{Queue: q, cfg: parseConfig(q.Attributes), arn: QueueARN(k)}
	if err := s.authorizeQueue(c, action, qu); err != nil {
		return nil, err
	}
	if qu.cfg.KmsMasterKeyID != "" && c.Service == "" && !(c.Secure && c.Signed) {
		return nil, errf(ErrInvalidSecurity, "All requests to queues with SSE enabled must use HTTPS and Signature Version 4.")
	}
	return qu, nil
}

// QueueARN is the ARN of the queue k.
func QueueARN(k store.QueueKey) string {
	return "arn:aws:sqs:" + k.Region + ":" + k.Account + ":" + k.Name
}

// QueueURL is the URL of the queue k.
func (s *Service) QueueURL(k store.QueueKey) string {
	return s.opts.PublicURL + "/" + k.Account + "/" + k.Name
}
