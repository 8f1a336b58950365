// Package sse seals and opens the bodies of SNS messages published to
// topics with server-side encryption (KmsMasterKeyId), as the AWS page
// "Encryption at rest" describes: the body is encrypted as soon as it is
// received, stored encrypted, and decrypted only when it is delivered.
//
// # Envelope
//
// A body is sealed under a data key (AES-256-GCM, envelope.DataKey) from the
// built-in KMS: GenerateDataKey on the topic's key with encryption context
// {"aws:sns:topicArn": <topic ARN>}, evaluated as the publishing principal
// through SNS (kms:ViaService sns.<region>.amazonaws.com). The data key is
// kept only in memory, reused per (topic, CMK, publisher) for at most
// Options.ReusePeriod and Options.MaxMessages messages, and stored only
// wrapped by the CMK (the KMS ciphertext blob) inside every sealed body:
//
//	frame = 0x01 (frame version) || u16 big-endian len(blob) || blob || envelope body
//
// where "envelope body" is envelope.DataKey.SealBody's output, whose AAD
// (envelope.BodyAAD) binds the topic ARN, message id, timestamp, subject,
// attributes digest and FIFO fields, so a record altered or moved on disk
// fails to open. Whether a stored body is a frame is recorded in the
// message's clear metadata (sns.Meta), never guessed from the bytes.
//
// Open decrypts the blob as the SNS service principal (Caller.Service
// "sns.amazonaws.com", audited with invokedBy) and caches the opened data
// key by blob digest with the same bounds. Plaintext bodies live only in
// memory; callers wipe them after use.
//
// # Purge
//
// Purge(keyID) drops every cached data key of a CMK. kms.Options.Purge calls
// it on the node that runs DisableKey, ScheduleKeyDeletion or PutKeyPolicy;
// cached entries also remember the CMK's revision and are dropped on use
// when kms reports another revision (other nodes, within the KMS cache TTL).
package sse

import (
	"context"
	"time"

	"github.com/sealpost/sealpost/internal/envelope"
	"github.com/sealpost/sealpost/internal/kms"
)

// ContextKey is the encryption-context key SNS uses, with the topic ARN as
// its value.
const ContextKey = "aws:sns:topicArn"

// ServicePrincipal is the principal SNS acts as when it opens bodies.
const ServicePrincipal = "sns.amazonaws.com"

// KMS is what Sealer needs of the key service; *kms.Service implements it.
type KMS interface {
	GenerateDataKey(ctx context.Context, c kms.Caller, in kms.DataKeyInput) (kms.DataKeyOutput, error)
	Decrypt(ctx context.Context, c kms.Caller, in kms.DecryptInput) (kms.DecryptOutput, error)
}

// Options configure a Sealer.
type Options struct {
	// ReusePeriod bounds how long one data key is used (default 5 min).
	ReusePeriod time.Duration
	// MaxMessages bounds how many bodies one data key seals (default 2^30).
	MaxMessages uint64
	// Now is the clock (nil = time.Now).
	Now func() time.Time
	// OnKMSCall, when set, is called after every KMS call the Sealer makes
	// (op "GenerateDataKey" or "Decrypt") for metrics.
	OnKMSCall func(topicARN, keyARN, op string, err error)
}

// Sealer seals and opens SSE bodies.
type Sealer struct {
	kms KMS
	opt Options
}

// New returns a Sealer over k.
func New(k KMS, opt Options) *Sealer {
	if opt.ReusePeriod <= 0 {
		opt.ReusePeriod = 5 * time.Minute
	}
	if opt.MaxMessages == 0 {
		opt.MaxMessages = 1 << 30
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	return &Sealer{kms: k, opt: opt}
}

// Seal seals plaintext for topic aad.TopicARN under the CMK keyID (any
// identifier KMS accepts), as publisher c (whose ViaService Seal sets).
// KMS errors are returned wrapped, so errors.Is finds the kms.Err* kind.
func (s *Sealer) Seal(ctx context.Context, c kms.Caller, keyID string, aad envelope.BodyAAD, plaintext []byte) ([]byte, error) {
	return nil, kms.ErrUnsupported
}

// Open opens a frame sealed by Seal, as the SNS service for the topic's
// account (owner) and region. The caller wipes the plaintext after use.
func (s *Sealer) Open(ctx context.Context, owner, region string, frame []byte, aad envelope.BodyAAD) ([]byte, error) {
	return nil, kms.ErrUnsupported
}

// Purge drops every cached data key of the CMK keyID (key id or ARN).
func (s *Sealer) Purge(keyID string) {}
