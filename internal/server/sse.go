package server

import (
	"context"
	"errors"

	"github.com/sealpost/sealpost/internal/envelope"
	"github.com/sealpost/sealpost/internal/kms"
	"github.com/sealpost/sealpost/internal/sns"
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

// kmsRefusals maps the kms kinds a Seal can fail with to SNS's error
// kinds, with the KMS wire code AWS quotes in SNS's message.
var kmsRefusals = []struct {
	kms, sns error
	code     string
}{
	{kms.ErrDisabled, sns.ErrKMSDisabled, "DisabledException"},
	{kms.ErrInvalidState, sns.ErrKMSInvalidState, "KMSInvalidStateException"},
	{kms.ErrInvalidKeyUsage, sns.ErrKMSInvalidState, "InvalidKeyUsageException"},
	{kms.ErrNotFound, sns.ErrKMSNotFound, "NotFoundException"},
	{kms.ErrInvalidArn, sns.ErrKMSNotFound, "InvalidArnException"},
	{kms.ErrValidation, sns.ErrKMSNotFound, "ValidationException"},
	{kms.ErrAccessDenied, sns.ErrKMSAccessDenied, "AccessDeniedException"},
	{kms.ErrInvalidGrantToken, sns.ErrKMSAccessDenied, "InvalidGrantTokenException"},
	// KMS answers request-rate limits with LimitExceeded here (Sealpost's
	// KMS does not throttle yet).
	{kms.ErrLimitExceeded, sns.ErrKMSThrottling, "LimitExceededException"},
	// The KMS cannot serve SSE at all.
	{kms.ErrUnsupported, sns.ErrKMSOptInRequired, "UnsupportedOperationException"},
}

// kmsRefusal turns a KMS refusal into the *sns.KMSError SNS words as AWS
// does; anything else is returned as is (internal).
func kmsRefusal(err error, keyARN, requestID string) error {
	for _, k := range kmsRefusals {
		if !errors.Is(err, k.kms) {
			continue
		}
		var msg string
		var ke *kms.Error
		if errors.As(err, &ke) {
			msg = ke.Msg
		} else if k.sns == sns.ErrKMSOptInRequired {
			msg = "Server-side encryption is not available on this server (key " + sns.Clip(keyARN, 256) + ")"
		}
		return &sns.KMSError{Kind: k.sns, Code: k.code, Message: msg, RequestID: requestID}
	}
	return err
}

// Open implements delivery.Opener.
func (c countingSealer) Open(ctx context.Context, owner, region string, frame []byte, aad envelope.BodyAAD) ([]byte, error) {
	b, err := c.s.Open(ctx, owner, region, frame, aad)
	if err == nil {
		c.m.sseMessage(aad.TopicARN, "opened")
	}
	return b, err
}
