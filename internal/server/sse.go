package server

import (
	"context"
	"errors"
	"time"

	"github.com/sealpost/sealpost/internal/envelope"
	"github.com/sealpost/sealpost/internal/kms"
	"github.com/sealpost/sealpost/internal/sns"
	"github.com/sealpost/sealpost/internal/sqs"
	"github.com/sealpost/sealpost/internal/sse"
)

// countingSealer is the server's *sse.Sealer as SNS (Seal, on publish) and
// the delivery engine (Open, per attempt) use it: it counts the bodies
// sealed and opened in sealpost_sse_messages_total. The KMS calls behind
// them are counted by sse.Options.OnKMSCall.
type countingSealer struct {
	s *sse.Sealer
	m *metrics
}

// Seal implements sns.Sealer: it is the bridge between the SNS domain and
// the KMS, which do not import each other. The publisher c becomes a KMS
// caller in the topic's region, and a KMS refusal becomes an
// *sns.KMSError (kmsRefusal).
func (c countingSealer) Seal(ctx context.Context, caller *sns.Caller, region, keyARN string, aad envelope.BodyAAD, plaintext []byte) ([]byte, error) {
	kc := kmsCallerIn(*caller, region, "")
	b, err := c.s.Seal(ctx, kc, keyARN, aad, plaintext)
	if err != nil {
		return nil, kmsRefusal(err, keyARN, kc.RequestID)
	}
	c.m.sseMessage(aad.TopicARN, "sealed")
	return b, nil
}

// kmsRefusals maps the kms kinds a Seal (or a queue's Open) can fail with
// to SNS's and SQS's error kinds, with the KMS wire code AWS quotes in
// their messages. One table for both services.
var kmsRefusals = []struct {
	kms, sns, sqs error
	code          string
}{
	{kms.ErrDisabled, sns.ErrKMSDisabled, sqs.ErrKMSDisabled, "DisabledException"},
	{kms.ErrInvalidState, sns.ErrKMSInvalidState, sqs.ErrKMSInvalidState, "KMSInvalidStateException"},
	{kms.ErrInvalidKeyUsage, sns.ErrKMSInvalidState, sqs.ErrKMSInvalidKeyUsage, "InvalidKeyUsageException"},
	{kms.ErrNotFound, sns.ErrKMSNotFound, sqs.ErrKMSNotFound, "NotFoundException"},
	{kms.ErrInvalidArn, sns.ErrKMSNotFound, sqs.ErrKMSNotFound, "InvalidArnException"},
	{kms.ErrValidation, sns.ErrKMSNotFound, sqs.ErrKMSNotFound, "ValidationException"},
	{kms.ErrAccessDenied, sns.ErrKMSAccessDenied, sqs.ErrKMSAccessDenied, "AccessDeniedException"},
	{kms.ErrInvalidGrantToken, sns.ErrKMSAccessDenied, sqs.ErrKMSAccessDenied, "InvalidGrantTokenException"},
	// KMS answers request-rate limits with LimitExceeded here (Sealpost's
	// KMS does not throttle yet).
	{kms.ErrLimitExceeded, sns.ErrKMSThrottling, sqs.ErrKMSThrottled, "LimitExceededException"},
	// The KMS cannot serve SSE at all.
	{kms.ErrUnsupported, sns.ErrKMSOptInRequired, sqs.ErrKMSOptInRequired, "UnsupportedOperationException"},
}

// refusalOf finds err's row in kmsRefusals, with the KMS's message (for a
// bare ErrUnsupported, that SSE is unavailable for keyID); ok is false for
// anything else (internal).
func refusalOf(err error, keyID string) (row int, msg string, ok bool) {
	for i, k := range kmsRefusals {
		if !errors.Is(err, k.kms) {
			continue
		}
		var ke *kms.Error
		if errors.As(err, &ke) {
			msg = ke.Msg
		} else if k.kms == kms.ErrUnsupported {
			msg = "Server-side encryption is not available on this server (key " + sns.Clip(keyID, 256) + ")"
		}
		return i, msg, true
	}
	return 0, "", false
}

// kmsRefusal turns a KMS refusal into the *sns.KMSError SNS words as AWS
// does; anything else is returned as is (internal).
func kmsRefusal(err error, keyARN, requestID string) error {
	i, msg, ok := refusalOf(err, keyARN)
	if !ok {
		return err
	}
	return &sns.KMSError{Kind: kmsRefusals[i].sns, Code: kmsRefusals[i].code, Message: msg, RequestID: requestID}
}

// queueKMSRefusal turns a KMS refusal into the *sqs.Error SQS answers,
// quoting the KMS error as AWS does ("<message> (Service: AWSKMS; Status
// Code: 400; Error Code: <code>; Request ID: <id>; Proxy: null)");
// anything else is returned as is (internal).
func queueKMSRefusal(err error, keyID, requestID string) error {
	i, msg, ok := refusalOf(err, keyID)
	if !ok {
		return err
	}
	return &sqs.Error{Kind: kmsRefusals[i].sqs, Message: msg + " (Service: AWSKMS; Status Code: 400; Error Code: " +
		kmsRefusals[i].code + "; Request ID: " + requestID + "; Proxy: null)"}
}

// Open implements delivery.Opener.
func (c countingSealer) Open(ctx context.Context, owner, region string, frame []byte, aad envelope.BodyAAD) ([]byte, error) {
	b, err := c.s.Open(ctx, owner, region, frame, aad)
	if err == nil {
		c.m.sseMessage(aad.TopicARN, "opened")
	}
	return b, err
}

// queueSealer is the server's *sse.Sealer as the SQS domain uses it
// (sqs.Sealer): the bridge between SQS and the KMS, which do not import
// each other. It counts the bodies sealed and opened in
// sealpost_sse_messages_total (queue label).
type queueSealer struct {
	s *sse.Sealer
	m *metrics
}

var _ sqs.Sealer = queueSealer{}

// kmsCallerOfQueue is the SQS caller as the KMS sees it. Its region is set
// by sse (the queue's); a service caller (SNS delivering) keeps its
// service, source ARN and source account.
func kmsCallerOfQueue(c *sqs.Caller) kms.Caller {
	return kms.Caller{
		Account:        c.Account,
		Region:         c.Region,
		Principal:      c.Principal,
		UserID:         c.UserID,
		AccessKeyID:    c.AccessKeyID,
		Authenticated:  c.Authenticated,
		IdentityPolicy: c.IdentityPolicy,
		SourceIP:       c.SourceIP,
		Secure:         c.Secure,
		RequestID:      orNewRequestID(c.RequestID),
		Service:        c.Service,
		SourceARN:      c.SourceARN,
		SourceAccount:  c.SourceAccount,
	}
}

func orNewRequestID(id string) string {
	if id != "" {
		return id
	}
	return sns.NewRequestID()
}

// Seal implements sqs.Sealer (sse.Sealer.SealQueue): keyID "" is SSE-SQS.
func (q queueSealer) Seal(ctx context.Context, c *sqs.Caller, queueARN, keyID string, reuse time.Duration, aad envelope.BodyAAD, plaintext []byte) ([]byte, string, error) {
	kc := kmsCallerOfQueue(c)
	frame, keyARN, err := q.s.SealQueue(ctx, kc, queueARN, keyID, reuse, aad, plaintext)
	if err != nil {
		return nil, "", queueKMSRefusal(err, keyID, kc.RequestID)
	}
	q.m.sseMessage(queueARN, "sealed")
	return frame, keyARN, nil
}

// Open implements sqs.Sealer (sse.Sealer.OpenQueue).
func (q queueSealer) Open(ctx context.Context, c *sqs.Caller, sealedFor string, managed bool, frame []byte, aad envelope.BodyAAD) ([]byte, error) {
	kc := kmsCallerOfQueue(c)
	pt, err := q.s.OpenQueue(ctx, kc, sealedFor, managed, frame, aad)
	if err != nil {
		return nil, queueKMSRefusal(err, "", kc.RequestID)
	}
	q.m.sseMessage(sealedFor, "opened")
	return pt, nil
}
