package sns

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sealpost/sealpost/internal/arn"
	"github.com/sealpost/sealpost/internal/envelope"
	"github.com/sealpost/sealpost/internal/store"
)

// Server-side encryption (SSE)
//
// A topic whose KmsMasterKeyId attribute is not empty is an SSE topic
// (AWS's "Encryption at rest" page). Publish and PublishBatch validate a
// message, evaluate the filter policies on its plaintext (in memory only),
// and then seal the body with Options.Sealer before anything is written:
// store.Message.Body holds the sealed frame, and Meta.Sealed and
// Meta.KeyARN say so. Topic attributes and message metadata (subject,
// message id, timestamp, attributes, FIFO fields) stay in clear, as the
// page documents; the frame's AAD (Meta.BodyAAD, built from the record as
// stored) binds them. Messages published before SSE was turned on stay
// clear, messages published while it was on stay sealed after it is turned
// off or the key is changed: each stored message carries its own Meta.
//
// Keys: KmsMasterKeyId is stored and returned exactly as set (key id, key
// ARN, alias name, alias ARN; keys of other accounts by ARN). It is not
// looked up when set (AWS checks the key only when it is used, at
// publish), only its shape is checked. At publish, a key id or alias name is
// taken in the topic's account and region (topicKeyARN): the key of a topic
// is its owner's, also when another account publishes. The data key is
// requested as the publisher (the Sealer gets the Caller), so the key policy, grants
// and the publisher's identity policy decide, and alias/aws/sns is created
// on the first publish of the account in that region.
//
// Transport: every request that touches an SSE topic must come over TLS
// with a verified SigV4 signature, also with --auth=off, or it is refused
// with InvalidSecurity after authorization (requireSecure): Publish,
// PublishBatch, Subscribe, Get/SetTopicAttributes, DeleteTopic,
// ListSubscriptionsByTopic, Add/RemovePermission, the tag and data
// protection actions, Get/SetSubscriptionAttributes, and CreateTopic when
// it would create an SSE topic or names one that exists. ConfirmSubscription
// and Unsubscribe without a signature are the SubscribeURL and
// UnsubscribeURL links (their token or subscription ARN is the credential)
// and stay usable; signed, they too need TLS.
//
// FIFO: the content-based deduplication id of an SSE topic is
// hex(HMAC-SHA256(Options.DedupKey, u16 len(topic ARN) || topic ARN ||
// body)), never a plain digest of the plaintext; topics without SSE keep
// AWS's hex SHA-256 of the body. (A message re-sent across turning SSE on
// or off within the 5-minute window is therefore not recognised as a
// duplicate by content.)

// Sealer seals a message body for an SSE topic. The server's bridge to
// internal/sse implements it (sns does not import the KMS). c is the
// publisher, region the topic's, keyARN the topic's key (topicKeyARN), aad
// the body's AAD. A refusal by the KMS is returned as a *KMSError; any
// other error is internal.
type Sealer interface {
	Seal(ctx context.Context, c *Caller, region, keyARN string, aad envelope.BodyAAD, plaintext []byte) ([]byte, error)
}

// KMSError is a Sealer's report that the KMS refused to serve a key: Kind
// is the SNS error kind (ErrKMSDisabled, ErrKMSInvalidState,
// ErrKMSNotFound, ErrKMSAccessDenied, ErrKMSThrottling,
// ErrKMSOptInRequired), Code the KMS wire code and Message the KMS's
// message, which SNS quotes as AWS does; RequestID is the KMS call's.
type KMSError struct {
	Kind      error
	Code      string
	Message   string
	RequestID string
}

func (e *KMSError) Error() string { return e.Code + ": " + e.Message }
func (e *KMSError) Unwrap() error { return e.Kind }

// BodyAAD is the additional data a sealed body of message id (published
// at ts to topicARN) is bound to: publish and delivery build it from the
// stored record the same way, so a body moved to another record, or a
// record whose metadata was changed, fails to open.
func (m Meta) BodyAAD(topicARN, id string, ts time.Time) envelope.BodyAAD {
	attrs := make(map[string]envelope.MessageAttribute, len(m.Attributes))
	for name, a := range m.Attributes {
		ea := envelope.MessageAttribute{DataType: a.Type, StringValue: a.Value}
		if len(a.Type) >= 6 && a.Type[:6] == "Binary" {
			b, err := base64.StdEncoding.DecodeString(a.Value)
			if err == nil {
				ea = envelope.MessageAttribute{DataType: a.Type, BinaryValue: b}
			}
		}
		attrs[name] = ea
	}
	return envelope.BodyAAD{
		TopicARN:         topicARN,
		MessageID:        id,
		Timestamp:        ts.UnixMilli(),
		Subject:          m.Subject,
		AttributesDigest: envelope.AttributesDigest(attrs),
		MessageGroupID:   m.GroupID,
		DeduplicationID:  m.DedupID,
	}
}

// isSSE reports whether t has server-side encryption on.
func isSSE(t *store.Topic) bool { return t.Attributes["KmsMasterKeyId"] != "" }

// topicKeyARN is the key of an SSE topic as an ARN: KmsMasterKeyId as set
// when it is an ARN, else the key id or alias name in the topic's account
// and region. It is what the Sealer is given and what Meta.KeyARN records.
func topicKeyARN(t *store.Topic) string {
	id := t.Attributes["KmsMasterKeyId"]
	if id == "" || strings.HasPrefix(id, "arn:") {
		return id
	}
	partition := "aws"
	if a, err := arn.Parse(t.ARN); err == nil && a.Partition != "" {
		partition = a.Partition
	}
	prefix := "arn:" + partition + ":kms:" + t.Region + ":" + t.Account + ":"
	if strings.HasPrefix(id, "alias/") {
		return prefix + id
	}
	return prefix + "key/" + id
}

// validateKeyID checks the shape of a KmsMasterKeyId value ("" turns SSE
// off): at most 2048 characters (KMS's KeyId limit) of printable ASCII
// without spaces. Whether the key exists and may be used is KMS's answer
// at publish.
func validateKeyID(v string) error {
	if len(v) > 2048 {
		return invalid("KmsMasterKeyId Reason: the key identifier is longer than 2048 characters")
	}
	for i := 0; i < len(v); i++ {
		if v[i] <= ' ' || v[i] > '~' {
			return invalid("KmsMasterKeyId Reason: a key identifier is a key id, key ARN, alias name (alias/...) or alias ARN, of printable ASCII characters without spaces")
		}
	}
	return nil
}

// msgInvalidSecurity is the InvalidSecurity message (the SNS model's).
const msgInvalidSecurity = "The credential signature isn't valid. You must use an HTTPS endpoint and sign your request using Signature Version 4."

// requireSecure refuses a request about the SSE topic t that came without
// TLS or without a verified signature.
func requireSecure(c *Caller, t *store.Topic) error {
	if !isSSE(t) {
		return nil
	}
	return requireSecureCaller(c)
}

func requireSecureCaller(c *Caller) error {
	switch {
	case c.Service != "":
		return nil // an internal service-to-service call, not a request
	case !c.Secure:
		return errf(ErrInvalidSecurity, "%s (Requests to topics with server-side encryption must use HTTPS; this one came over plain HTTP.)", msgInvalidSecurity)
	case !c.Signed:
		return errf(ErrInvalidSecurity, "%s (Requests to topics with server-side encryption must be signed with Signature Version 4; this one had no valid signature.)", msgInvalidSecurity)
	}
	return nil
}

// dedupDigest is the content-based deduplication id of body on topic t.
func (s *Service) dedupDigest(t *store.Topic, body string) (string, error) {
	if !isSSE(t) {
		sum := sha256.Sum256([]byte(body))
		return hex.EncodeToString(sum[:]), nil
	}
	if len(s.opts.DedupKey) == 0 {
		return "", errf(ErrKMSOptInRequired, "Server-side encryption is not available on this server (no deduplication key is configured), so topic %s cannot take messages.", t.ARN)
	}
	m := hmac.New(sha256.New, s.opts.DedupKey)
	var n [2]byte
	binary.BigEndian.PutUint16(n[:], uint16(len(t.ARN)))
	m.Write(n[:])
	m.Write([]byte(t.ARN))
	m.Write([]byte(body))
	return hex.EncodeToString(m.Sum(nil)), nil
}

// seal replaces the body of the prepared message p of SSE topic t with its
// sealed frame; body is the plaintext, c the publisher. The plaintext copy
// made here is wiped; body itself is a string and cannot be.
func (s *Service) seal(ctx context.Context, c *Caller, t *store.Topic, p *prepared, body string) error {
	keyARN := p.meta.KeyARN
	if s.opts.Sealer == nil {
		return errf(ErrKMSOptInRequired, "Server-side encryption is not available on this server, so topic %s (KmsMasterKeyId %s) cannot take messages.", t.ARN, Clip(t.Attributes["KmsMasterKeyId"], 256))
	}
	pt := []byte(body)
	defer clear(pt)
	frame, err := s.opts.Sealer.Seal(ctx, c, t.Region, keyARN, p.meta.BodyAAD(t.ARN, p.out.MessageID, p.pub.Message.CreatedAt), pt)
	if err != nil {
		return kmsError(err, keyARN)
	}
	p.pub.Message.Body = frame
	return nil
}

// kmsError turns a Seal failure into the SNS error a publisher sees,
// worded as AWS words it: the KMS message (or "null"), then "(Service:
// AWSKMS; Status Code: 400; Error Code: <KMS code>; Request ID: <id>;
// Proxy: null)". A failure that is not a KMS answer is internal.
func kmsError(err error, keyARN string) error {
	var ke *KMSError
	if !errors.As(err, &ke) {
		return fmt.Errorf("sealing a message under %s: %w", keyARN, err)
	}
	msg := ke.Message
	if msg == "" {
		msg = "null"
	}
	return errf(ke.Kind, "%s (Service: AWSKMS; Status Code: 400; Error Code: %s; Request ID: %s; Proxy: null)", msg, ke.Code, ke.RequestID)
}
