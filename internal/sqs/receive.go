package sqs

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/sealpost/sealpost/internal/store"
)

// systemNames are the system attribute names ReceiveMessage accepts;
// the FIFO ones are accepted and never returned on a standard queue.
var systemNames = map[string]bool{
	"All": true, "SenderId": true, "SentTimestamp": true, "ApproximateReceiveCount": true,
	"ApproximateFirstReceiveTimestamp": true, "AWSTraceHeader": true, "DeadLetterQueueSourceArn": true,
	"SequenceNumber": true, "MessageDeduplicationId": true, "MessageGroupId": true,
}

// selection is what a receive returns of each message's attributes.
type selection struct {
	system map[string]bool // nil: none; "All"
	names  []string        // message attribute names; "All"/".*" and "prefix.*"
}

func (sel *selection) wantSystem(name string) bool {
	return sel.system["All"] || sel.system[name]
}

func (sel *selection) wantAttr(name string) bool {
	for _, n := range sel.names {
		switch {
		case n == "All" || n == ".*":
			return true
		case strings.HasSuffix(n, ".*"):
			if strings.HasPrefix(name, n[:len(n)-1]) {
				return true
			}
		case n == name:
			return true
		}
	}
	return false
}

func parseSelection(in ReceiveInput) (selection, error) {
	sel := selection{names: in.MessageAttributeNames}
	for _, n := range in.AttributeNames {
		if !systemNames[n] {
			return sel, errf(ErrInvalidAttributeName, "Unknown Attribute %s.", n)
		}
		if sel.system == nil {
			sel.system = map[string]bool{}
		}
		sel.system[n] = true
	}
	for _, n := range in.MessageAttributeNames {
		if n == "" || len(n) > maxAttributeName {
			return sel, errf(ErrInvalidAttributeName, "Unknown Attribute %s.", n)
		}
	}
	return sel, nil
}

var errBadMeta = errors.New("sqs: unreadable message meta")

// Receipt handles: the domain wraps the store's handle with the receive
// time (for the 12-hour visibility limit), base64url without padding.
const handleVersion = 1

func encodeHandle(storeHandle string, receivedAt time.Time) string {
	b := make([]byte, 0, 9+len(storeHandle))
	b = append(b, handleVersion)
	b = binary.BigEndian.AppendUint64(b, uint64(receivedAt.UnixMilli()))
	b = append(b, storeHandle...)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeHandle(h string) (string, time.Time, error) {
	b, err := base64.RawURLEncoding.DecodeString(h)
	if err != nil || len(b) < 10 || b[0] != handleVersion {
		return "", time.Time{}, errf(ErrReceiptHandleIsInvalid, "The input receipt handle \"%s\" is not a valid receipt handle.", h)
	}
	ms := int64(binary.BigEndian.Uint64(b[1:9]))
	return string(b[9:]), time.UnixMilli(ms), nil
}

// ReceiveMessage receives up to MaxNumberOfMessages messages, waiting up
// to WaitTimeSeconds for one (long polling).
func (s *Service) ReceiveMessage(ctx context.Context, c *Caller, queueURL string, in ReceiveInput) ([]Message, error) {
	q, err := s.queueFor(ctx, c, queueURL, "ReceiveMessage")
	if err != nil {
		return nil, err
	}
	n := in.MaxNumberOfMessages
	if n == 0 {
		n = 1
	}
	if n < 1 || n > maxBatchEntries {
		return nil, invalidParam("Value %d for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided.", n)
	}
	vis := q.cfg.VisibilityTimeout
	if in.VisibilityTimeout != nil {
		vis = *in.VisibilityTimeout
		if vis < 0 || vis > maxVisibility {
			return nil, invalidParam("Value %d for parameter VisibilityTimeout is invalid. Reason: Must be >= 0 and <= %d, if provided.", vis, maxVisibility)
		}
	}
	wait := q.cfg.ReceiveMessageWaitTimeSeconds
	if in.WaitTimeSeconds != nil {
		wait = *in.WaitTimeSeconds
		if wait < 0 || wait > maxWaitSeconds {
			return nil, invalidParam("Value %d for parameter WaitTimeSeconds is invalid. Reason: Must be >= 0 and <= %d.", wait, maxWaitSeconds)
		}
	}
	sel, err := parseSelection(in)
	if err != nil {
		return nil, err
	}
	s.touch(q.QueueKey)
	s.maybeExpire(ctx, q)
	var woken chan struct{}
	var deadline <-chan time.Time
	if wait > 0 && !s.draining() {
		// Registered before the first look: a send between the look and
		// the wait still wakes this poll.
		woken = s.waiters.add(q.QueueKey)
		defer s.waiters.remove(q.QueueKey, woken)
		t := time.NewTimer(time.Duration(wait) * time.Second)
		defer t.Stop()
		deadline = t.C
	}
	poll := time.NewTimer(s.opts.PollInterval)
	defer poll.Stop()
	for {
		msgs, err := s.receiveOnce(ctx, c, q, n, time.Duration(vis)*time.Second, &sel)
		if err != nil || len(msgs) > 0 || deadline == nil {
			return msgs, err
		}
		poll.Reset(s.opts.PollInterval)
		select {
		case <-woken:
		case <-poll.C:
		case <-deadline:
			return nil, nil
		case <-s.waiters.drained:
			return nil, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// receiveOnce leases up to n messages and builds the answer: expired
// messages are deleted, messages past the redrive policy's
// maxReceiveCount moved to the dead-letter queue, the rest opened. If one
// fails to open, the whole receive fails with its error: the other
// messages are made visible again at once, the failing one when its
// visibility timeout ends.
func (s *Service) receiveOnce(ctx context.Context, c *Caller, q *queue, n int, vis time.Duration, sel *selection) ([]Message, error) {
	now := s.now()
	leased, err := s.st.Receive(ctx, q.QueueKey, n, now, vis)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errf(ErrQueueDoesNotExist, "The specified queue does not exist.")
	}
	if err != nil {
		return nil, err
	}
	target, maxCount := q.cfg.DeadLetterTargetARN, q.cfg.MaxReceiveCount
	out := make([]Message, 0, len(leased))
	var kept []store.QueueMessage
	for i, m := range leased {
		if !m.SentAt.After(now.Add(-q.cfg.MessageRetentionPeriod)) {
			if err := s.st.DeleteMessage(ctx, q.QueueKey, m.ReceiptHandle); err != nil && !errors.Is(err, store.ErrNotFound) {
				s.log.Warn("sqs: deleting an expired message", "queue", q.arn, "err", err)
			}
			continue
		}
		if target != "" && m.ReceiveCount > maxCount && s.redrive(ctx, q, target, m, now) {
			continue
		}
		msg, err := s.build(ctx, c, m, now, sel)
		if errors.Is(err, errBadMeta) {
			// Not the client's fault and not fixable by retrying: skip it
			// (a redrive policy moves it away after maxReceiveCount).
			s.log.Error("sqs: unreadable message record skipped", "queue", q.arn, "id", m.ID, "err", err)
			continue
		}
		if err != nil {
			s.release(ctx, q.QueueKey, now, kept)
			s.release(ctx, q.QueueKey, now, leased[i+1:])
			return nil, err
		}
		kept = append(kept, m)
		out = append(out, msg)
	}
	return out, nil
}

// release makes leased messages visible again at now.
func (s *Service) release(ctx context.Context, k store.QueueKey, now time.Time, ms []store.QueueMessage) {
	for _, m := range ms {
		if _, err := s.st.ChangeVisibility(ctx, k, m.ReceiptHandle, now, now); err != nil &&
			!errors.Is(err, store.ErrNotInFlight) && !errors.Is(err, store.ErrNotFound) {
			s.log.Warn("sqs: releasing a message", "queue", k.Name, "err", err)
		}
	}
}

// build turns a leased message into the answer for c, opening a sealed
// body.
func (s *Service) build(ctx context.Context, c *Caller, m store.QueueMessage, now time.Time, sel *selection) (Message, error) {
	meta, err := decodeMeta(m.Meta)
	if err != nil {
		return Message{}, fmt.Errorf("%w: %v", errBadMeta, err)
	}
	var body string
	if meta.Sealed {
		if s.opts.Sealer == nil {
			return Message{}, errf(ErrKMSOptInRequired, "The message is encrypted and server-side encryption is not configured on this server.")
		}
		plain, err := s.opts.Sealer.Open(ctx, c, meta.SealedFor, meta.Managed, m.Body,
			bodyAAD(meta.SealedFor, m.ID, m.SentAt, meta.Attrs))
		if err != nil {
			return Message{}, err
		}
		body = string(plain)
		clear(plain)
	} else {
		body = string(m.Body)
	}
	msg := Message{MessageID: m.ID, ReceiptHandle: encodeHandle(m.ReceiptHandle, now), Body: body, MD5OfBody: md5Hex(body)}
	if sel.system != nil {
		a := map[string]string{}
		set := func(name, v string) {
			if v != "" && sel.wantSystem(name) {
				a[name] = v
			}
		}
		set("SenderId", m.SenderID)
		set("SentTimestamp", strconv.FormatInt(m.SentAt.UnixMilli(), 10))
		set("ApproximateReceiveCount", strconv.Itoa(m.ReceiveCount))
		if !m.FirstReceivedAt.IsZero() {
			set("ApproximateFirstReceiveTimestamp", strconv.FormatInt(m.FirstReceivedAt.UnixMilli(), 10))
		}
		if t, ok := meta.SysAttrs["AWSTraceHeader"]; ok {
			set("AWSTraceHeader", t.S)
		}
		set("DeadLetterQueueSourceArn", meta.DLQSource)
		if len(a) > 0 {
			msg.Attributes = a
		}
	}
	if len(sel.names) > 0 && len(meta.Attrs) > 0 {
		attrs := map[string]MessageAttribute{}
		for name, a := range meta.Attrs {
			if sel.wantAttr(name) {
				attrs[name] = MessageAttribute{DataType: a.T, StringValue: a.S, BinaryValue: a.B}
			}
		}
		if len(attrs) > 0 {
			msg.MessageAttributes = attrs
			msg.MD5OfMessageAttributes = md5OfAttributes(attrs)
		}
	}
	return msg, nil
}
