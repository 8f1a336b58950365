package sqs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sealpost/sealpost/internal/envelope"
	"github.com/sealpost/sealpost/internal/store"
)

// Limits of AWS that do not depend on the queue.
const (
	maxDelaySeconds      = 900
	maxVisibility        = 43200
	maxWaitSeconds       = 20
	maxBatchEntries      = 10
	maxBatchPayload      = 1048576
	maxMessageAttributes = 10
	maxAttributeName     = 256
	maxDataType          = 256
)

// snsSenderID is the SenderId AWS shows on messages SNS sends to a queue
// (the SNS service's principal id as AWS's SNS-to-SQS examples show it).
const snsSenderID = "AIDAIT2UOQQY3AUEKVGXU"

// metaVersion is the version of msgMeta's encoding.
const metaVersion = 1

// msgMeta is what the domain stores with a message (QueueMessage.Meta, as
// JSON): how the body is sealed and the message's attributes. Attributes
// are not secret (AWS does not encrypt them either); the body's MD5 is
// not stored (it would be a digest of the plaintext at rest): receive
// computes it from the opened body.
type msgMeta struct {
	V int `json:"v"`
	// Sealed: Body is a frame of the Sealer, sealed for the queue ARN
	// SealedFor (the queue it was sent to, also after a dead-letter move)
	// under KeyARN; Managed says SSE-SQS.
	Sealed    bool   `json:"sealed,omitempty"`
	Managed   bool   `json:"managed,omitempty"`
	KeyARN    string `json:"key,omitempty"`
	SealedFor string `json:"for,omitempty"`
	// DLQSource is the ARN of the queue a dead-letter redrive moved the
	// message from (DeadLetterQueueSourceArn).
	DLQSource string              `json:"dlqSource,omitempty"`
	Attrs     map[string]metaAttr `json:"attrs,omitempty"`
	SysAttrs  map[string]metaAttr `json:"sys,omitempty"`
}

type metaAttr struct {
	T string `json:"t"`
	S string `json:"s,omitempty"`
	B []byte `json:"b,omitempty"`
}

func toMeta(attrs map[string]MessageAttribute) map[string]metaAttr {
	if len(attrs) == 0 {
		return nil
	}
	m := make(map[string]metaAttr, len(attrs))
	for n, a := range attrs {
		m[n] = metaAttr{T: a.DataType, S: a.StringValue, B: a.BinaryValue}
	}
	return m
}

func fromMeta(m map[string]metaAttr) map[string]MessageAttribute {
	if len(m) == 0 {
		return nil
	}
	attrs := make(map[string]MessageAttribute, len(m))
	for n, a := range m {
		attrs[n] = MessageAttribute{DataType: a.T, StringValue: a.S, BinaryValue: a.B}
	}
	return attrs
}

func decodeMeta(b []byte) (msgMeta, error) {
	var m msgMeta
	if len(b) == 0 {
		return msgMeta{V: metaVersion}, nil
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("sqs: message meta: %w", err)
	}
	if m.V != metaVersion {
		return m, fmt.Errorf("sqs: message meta version %d unknown", m.V)
	}
	return m, nil
}

func (m *msgMeta) encode() []byte {
	m.V = metaVersion
	b, err := json.Marshal(m)
	if err != nil {
		panic(err) // only strings, bools and byte slices
	}
	return b
}

// bodyAAD is the AAD a sealed body is bound to: the queue it was sealed
// for, the message id, the send time and the digest of its attributes.
func bodyAAD(sealedFor, id string, sentAt time.Time, attrs map[string]metaAttr) envelope.BodyAAD {
	ea := make(map[string]envelope.MessageAttribute, len(attrs))
	for n, a := range attrs {
		ea[n] = envelope.MessageAttribute{DataType: a.T, StringValue: a.S, BinaryValue: a.B}
	}
	return envelope.BodyAAD{TopicARN: sealedFor, MessageID: id, Timestamp: sentAt.UnixMilli(),
		AttributesDigest: envelope.AttributesDigest(ea)}
}

// newUUID returns a random (version 4) UUID.
func newUUID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// senderID is the SenderId of messages c sends.
func senderID(c *Caller) string {
	switch {
	case c.Service == "sns.amazonaws.com":
		return snsSenderID
	case c.Service != "":
		return c.Service
	case c.UserID != "":
		return c.UserID
	}
	return c.Account
}

// validChars reports the first character of s outside XML's Char
// production (AWS's allowed set), or -1.
func invalidChar(s string) rune {
	for i, r := range s {
		if r == utf8.RuneError {
			if _, n := utf8.DecodeRuneInString(s[i:]); n <= 1 {
				return r
			}
		}
		switch {
		case r == 0x9 || r == 0xA || r == 0xD:
		case r >= 0x20 && r <= 0xD7FF:
		case r >= 0xE000 && r <= 0xFFFD:
		case r >= 0x10000 && r <= 0x10FFFF:
		default:
			return r
		}
	}
	return -1
}

func invalidParam(format string, args ...any) error {
	return errf(ErrInvalidParameterValue, format, args...)
}

// checkAttributes validates message attributes and returns their size
// (names, types and values).
func checkAttributes(attrs map[string]MessageAttribute) (int, error) {
	if len(attrs) > maxMessageAttributes {
		return 0, invalidParam("Number of message attributes [%d] exceeds the allowed maximum [%d].", len(attrs), maxMessageAttributes)
	}
	size := 0
	for name, a := range attrs {
		if err := checkAttributeName(name); err != nil {
			return 0, err
		}
		if err := checkDataType(name, a.DataType); err != nil {
			return 0, err
		}
		base := baseType(a.DataType)
		if base == "Binary" {
			if len(a.BinaryValue) == 0 {
				return 0, invalidParam("Message (user) attribute '%s' must contain a non-empty value of type 'Binary'.", name)
			}
			size += len(a.BinaryValue)
		} else {
			if a.StringValue == "" {
				return 0, invalidParam("Message (user) attribute '%s' must contain a non-empty value of type '%s'.", name, base)
			}
			if r := invalidChar(a.StringValue); r >= 0 {
				return 0, errf(ErrInvalidMessageContents, "Message (user) attribute '%s' contains an invalid character #x%X.", name, r)
			}
			if base == "Number" && !validNumber(a.StringValue) {
				return 0, invalidParam("Can't cast the value of message (user) attribute '%s' to a number.", name)
			}
			size += len(a.StringValue)
		}
		size += len(name) + len(a.DataType)
	}
	return size, nil
}

func checkAttributeName(name string) error {
	bad := name == "" || len(name) > maxAttributeName || strings.HasPrefix(name, ".") || strings.HasSuffix(name, ".") ||
		strings.Contains(name, "..")
	lower := strings.ToLower(name)
	if strings.HasPrefix(lower, "aws.") || strings.HasPrefix(lower, "amazon.") {
		bad = true
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' || r == '.') {
			bad = true
		}
	}
	if bad {
		return invalidParam("Message (user) attribute name '%s' is invalid. Names may contain letters, digits, hyphens, underscores and periods, up to %d characters; they may not start with AWS. or Amazon., start or end with a period, or contain two periods in a row.", name, maxAttributeName)
	}
	return nil
}

func baseType(t string) string {
	for _, b := range []string{"String", "Number", "Binary"} {
		if t == b || strings.HasPrefix(t, b+".") {
			return b
		}
	}
	return ""
}

func checkDataType(name, t string) error {
	if t == "" {
		return invalidParam("The message attribute '%s' must contain non-empty message attribute type.", name)
	}
	if baseType(t) == "" || len(t) > maxDataType || strings.HasSuffix(t, ".") {
		return invalidParam("The type of message (user) attribute '%s' is invalid. You must use only the following supported type prefixes: Binary, Number, String.", name)
	}
	return nil
}

// validNumber accepts what SQS accepts for a Number: a decimal number with
// at most 38 significant digits between -10^128 and 10^126.
func validNumber(s string) bool {
	r, ok := new(big.Rat).SetString(s)
	if !ok || strings.ContainsAny(s, "/xXpP_ \t\n") {
		return false
	}
	// Leading zeros do not count.
	trimmed := strings.TrimLeft(strings.TrimLeft(s, "+-"), "0.")
	sig := 0
	for _, c := range trimmed {
		if c == 'e' || c == 'E' {
			break
		}
		if c >= '0' && c <= '9' {
			sig++
		}
	}
	if sig > 38 {
		return false
	}
	lo := new(big.Rat).SetFrac(new(big.Int).Neg(new(big.Int).Exp(big.NewInt(10), big.NewInt(128), nil)), big.NewInt(1))
	hi := new(big.Rat).SetFrac(new(big.Int).Exp(big.NewInt(10), big.NewInt(126), nil), big.NewInt(1))
	return r.Cmp(lo) >= 0 && r.Cmp(hi) <= 0
}

func checkSystemAttributes(attrs map[string]MessageAttribute) (int, error) {
	size := 0
	for name, a := range attrs {
		if name != "AWSTraceHeader" {
			return 0, invalidParam("Message system attribute name '%s' is invalid.", name)
		}
		if a.DataType != "String" {
			return 0, invalidParam("Message system attribute '%s' must be of type 'String'.", name)
		}
		if a.StringValue == "" {
			return 0, invalidParam("Message system attribute '%s' must contain a non-empty value of type 'String'.", name)
		}
		if r := invalidChar(a.StringValue); r >= 0 {
			return 0, errf(ErrInvalidMessageContents, "Message system attribute '%s' contains an invalid character #x%X.", name, r)
		}
		size += len(name) + len(a.DataType) + len(a.StringValue)
	}
	return size, nil
}

// prepared is a validated message, sealed when its queue is encrypted,
// ready for the store.
type prepared struct {
	m   store.QueueMessage
	res SendResult
	// size is what counts toward a batch's payload limit.
	size int
}

// prepare validates in for q and builds the stored message, sealing the
// body as c when q is encrypted.
func (s *Service) prepare(ctx context.Context, c *Caller, q *queue, in SendInput, now time.Time) (prepared, error) {
	if in.Body == "" {
		return prepared{}, errf(ErrMissingParameter, "The request must contain the parameter MessageBody.")
	}
	if r := invalidChar(in.Body); r >= 0 {
		return prepared{}, errf(ErrInvalidMessageContents, "Invalid binary character '#x%X' was found in the message body, the set of allowed characters is #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF", r)
	}
	if in.MessageGroupID != "" {
		return prepared{}, invalidParam("Value %s for parameter MessageGroupId is invalid. Reason: The request include parameter that is not valid for this queue type.", in.MessageGroupID)
	}
	if in.MessageDeduplicationID != "" {
		return prepared{}, invalidParam("Value %s for parameter MessageDeduplicationId is invalid. Reason: The request include parameter that is not valid for this queue type.", in.MessageDeduplicationID)
	}
	delay := q.cfg.DelaySeconds
	if in.DelaySeconds != nil {
		delay = *in.DelaySeconds
		if delay < 0 || delay > maxDelaySeconds {
			return prepared{}, invalidParam("Value %d for parameter DelaySeconds is invalid. Reason: DelaySeconds must be >= 0 and <= %d.", delay, maxDelaySeconds)
		}
	}
	asize, err := checkAttributes(in.Attributes)
	if err != nil {
		return prepared{}, err
	}
	ssize, err := checkSystemAttributes(in.SystemAttributes)
	if err != nil {
		return prepared{}, err
	}
	size := len(in.Body) + asize
	if max := q.cfg.MaximumMessageSize; size > max {
		return prepared{}, invalidParam("One or more parameters are invalid. Reason: Message must be shorter than %d bytes.", max)
	}
	id := newUUID()
	meta := msgMeta{Attrs: toMeta(in.Attributes), SysAttrs: toMeta(in.SystemAttributes)}
	sentAt := now.Truncate(time.Millisecond)
	body := []byte(in.Body)
	if q.cfg.encrypted() {
		if s.opts.Sealer == nil {
			return prepared{}, errf(ErrKMSOptInRequired, "The request was rejected because the specified key is not available: server-side encryption is not configured on this server.")
		}
		plain := body
		frame, keyARN, err := s.opts.Sealer.Seal(ctx, c, q.arn, q.cfg.KmsMasterKeyID, q.cfg.KmsDataKeyReuse,
			bodyAAD(q.arn, id, sentAt, meta.Attrs), plain)
		clear(plain)
		if err != nil {
			return prepared{}, err
		}
		body = frame
		meta.Sealed, meta.Managed, meta.KeyARN, meta.SealedFor = true, q.cfg.KmsMasterKeyID == "", keyARN, q.arn
	}
	return prepared{
		m: store.QueueMessage{ID: id, Body: body, Meta: meta.encode(), SenderID: senderID(c), SentAt: sentAt,
			VisibleAt: sentAt.Add(time.Duration(delay) * time.Second)},
		res: SendResult{MessageID: id, MD5OfMessageBody: md5Hex(in.Body),
			MD5OfMessageAttributes: md5OfAttributes(in.Attributes), MD5OfMessageSystemAttributes: md5OfAttributes(in.SystemAttributes)},
		size: size + ssize,
	}, nil
}

// SendMessage sends one message; it returns after the message is synced.
func (s *Service) SendMessage(ctx context.Context, c *Caller, queueURL string, in SendInput) (SendResult, error) {
	q, err := s.queueFor(ctx, c, queueURL, "SendMessage")
	if err != nil {
		return SendResult{}, err
	}
	return s.send(ctx, c, q, in)
}

func (s *Service) send(ctx context.Context, c *Caller, q *queue, in SendInput) (SendResult, error) {
	p, err := s.prepare(ctx, c, q, in, s.now())
	if err != nil {
		return SendResult{}, err
	}
	if err := s.store(ctx, q.QueueKey, p.m); err != nil {
		return SendResult{}, err
	}
	return p.res, nil
}

// store appends ms to the queue k and wakes its long polls on this node.
func (s *Service) store(ctx context.Context, k store.QueueKey, ms ...store.QueueMessage) error {
	if err := s.st.SendMessages(ctx, k, ms); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return errf(ErrQueueDoesNotExist, "The specified queue does not exist.")
		}
		return err
	}
	s.touch(k)
	s.waiters.wake(k)
	return nil
}

// SendFromService sends a message to the queue queueARN as the service
// caller c (SNS delivering a notification or a dead letter): the queue
// policy must allow c, and for an encrypted queue the key policy must let
// c's service generate data keys.
func (s *Service) SendFromService(ctx context.Context, c *Caller, queueARN string, in SendInput) (SendResult, error) {
	k, err := parseQueueARN(queueARN)
	if err != nil {
		return SendResult{}, err
	}
	q, err := s.queueByKey(ctx, c, k, "SendMessage")
	if err != nil {
		return SendResult{}, err
	}
	return s.send(ctx, c, q, in)
}

// parseQueueARN parses arn:<partition>:sqs:<region>:<account>:<name>.
func parseQueueARN(a string) (store.QueueKey, error) {
	p := strings.Split(a, ":")
	if len(p) != 6 || p[0] != "arn" || p[2] != "sqs" || p[3] == "" || p[4] == "" || p[5] == "" {
		return store.QueueKey{}, errf(ErrQueueDoesNotExist, "The specified queue does not exist.")
	}
	return store.QueueKey{Region: p[3], Account: p[4], Name: p[5]}, nil
}
