package delivery

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"

	"github.com/sealpost/sealpost/internal/arn"
	"github.com/sealpost/sealpost/internal/envelope"
	"github.com/sealpost/sealpost/internal/sns"
	"github.com/sealpost/sealpost/internal/store"
)

// QueueSender puts messages into SQS queues as the SNS service principal
// (sns.amazonaws.com) acting for a topic. The server implements it over
// the sqs domain (delivery does not import sqs): the queue policy must
// allow the service for the topic (aws:SourceArn, aws:SourceAccount), and
// an encrypted queue's key policy must let the service generate data keys.
// SendToQueue returns only after the message is stored durably. m.Body may
// be plaintext the engine wipes as soon as SendToQueue returns: the sender
// must not keep it (an encrypted queue stores it sealed).
type QueueSender interface {
	SendToQueue(ctx context.Context, m QueueMessage) error
}

// QueueMessage is one message for a queue.
type QueueMessage struct {
	// QueueARN is the queue (the subscription's endpoint, or its
	// dead-letter target).
	QueueARN string
	// TopicARN is the topic the message comes from: the aws:SourceArn of
	// the send; its account is aws:SourceAccount.
	TopicARN        string
	SubscriptionARN string
	Body            []byte
	// Attributes are SQS message attributes (at most 10).
	Attributes map[string]QueueAttribute
}

// QueueAttribute is an SQS message attribute. DataType is String, Number
// or Binary, with an optional custom suffix (String.Array is a String).
type QueueAttribute struct {
	DataType    string
	StringValue string
	BinaryValue []byte
}

// QueueError is a refusal by the queue side. Code is the SQS error kind
// (QueueDoesNotExist, AccessDenied, KmsDisabled, ...). Permanent marks a
// message the queue will never accept as it is (its contents or size):
// it is not retried. Every other refusal is retried per AWS's policy for
// AWS-managed endpoints, so a delivery resumes once the queue, its policy
// or its key is fixed.
type QueueError struct {
	Code      string
	Message   string
	Permanent bool
}

func (e *QueueError) Error() string { return e.Code + ": " + e.Message }

// maxQueueAttributes is SQS's limit of message attributes per message.
// AWS: "Messages with more than 10 message attributes directed towards Raw
// Message Delivery enabled Amazon SQS subscriptions will be discarded as
// client side errors."
const maxQueueAttributes = 10

// codeTooManyAttributes is the outcome of a raw delivery of a message with
// more than maxQueueAttributes attributes.
const codeTooManyAttributes = "TooManyMessageAttributes"

// queueAttributes maps SNS message attributes to SQS ones as AWS does for
// raw delivery: the data type is kept (String.Array is a String with a
// custom type to SQS), Binary values are decoded from their stored base64.
func queueAttributes(attrs map[string]sns.MetaAttr, room int) (map[string]QueueAttribute, bool) {
	if len(attrs) > room {
		return nil, false
	}
	out := make(map[string]QueueAttribute, len(attrs))
	for name, a := range attrs {
		qa := QueueAttribute{DataType: a.Type}
		if a.Type == "Binary" || strings.HasPrefix(a.Type, "Binary.") {
			b, err := base64.StdEncoding.DecodeString(a.Value)
			if err != nil {
				b = []byte(a.Value)
			}
			qa.BinaryValue = b
		} else {
			qa.StringValue = a.Value
		}
		out[name] = qa
	}
	return out, true
}

// queueBody builds what a queue subscription receives from the plaintext
// body: the notification JSON (the document an HTTP subscriber gets), a
// confirmation's JSON, or with RawMessageDelivery the message itself with
// its attributes as SQS attributes. Like envelope, the body is a new
// buffer except for a raw delivery without a JSON structure.
func (e *Engine) queueBody(topic store.Topic, sub store.Subscription, l store.Lease, meta sns.Meta, plaintext []byte, room int) ([]byte, bool, map[string]QueueAttribute, error) {
	body, raw, err := e.envelope(topic, sub, l.Message, meta, plaintext)
	if err != nil || !raw {
		return body, raw, nil, err
	}
	if meta.Structure == "json" {
		// AWS: message attributes are sent only when the message
		// structure is String.
		return body, raw, nil, nil
	}
	attrs, ok := queueAttributes(meta.Attributes, room)
	if !ok {
		return body, raw, nil, errTooManyAttributes
	}
	return body, raw, attrs, nil
}

var errTooManyAttributes = errors.New("delivery: more than 10 message attributes for a raw queue delivery")

// sendQueue makes one attempt to an sqs subscription: open the body, build
// the message, send it through Options.Queues, wipe.
func (e *Engine) sendQueue(ctx context.Context, topic store.Topic, sub store.Subscription, l store.Lease, meta sns.Meta) (outcome, string) {
	body, owned, err := e.openBody(ctx, l, meta)
	if err != nil {
		code := openErrorCode(err)
		e.log.Warn("delivery held: message body could not be opened; nothing sent",
			"subscription", sub.ARN, "message_id", l.MessageID, "topic", l.Message.TopicARN,
			"key", meta.KeyARN, "error_code", code, "attempt", l.Attempts+1)
		return retryable, code
	}
	if owned {
		defer func() {
			envelope.Wipe(body)
			e.wiped(body)
		}()
	}
	msg, raw, attrs, err := e.queueBody(topic, sub, l, meta, body, maxQueueAttributes)
	if errors.Is(err, errTooManyAttributes) {
		e.queueFailure(sub, sub.Endpoint, &QueueError{Code: codeTooManyAttributes,
			Message: "more than 10 message attributes cannot be sent with raw message delivery", Permanent: true})
		return permanent, codeTooManyAttributes
	}
	if err != nil {
		e.log.Error("build delivery body", "subscription", sub.ARN, "message_id", l.MessageID, "err", err)
		return retryable, "InternalError"
	}
	if owned || !(raw && sameBuffer(msg, body)) {
		defer func() {
			envelope.Wipe(msg)
			e.wiped(msg)
		}()
	}
	ctx, cancel := context.WithTimeout(ctx, e.opts.AttemptTimeout)
	defer cancel()
	err = e.opts.Queues.SendToQueue(ctx, QueueMessage{QueueARN: sub.Endpoint, TopicARN: l.Message.TopicARN,
		SubscriptionARN: sub.ARN, Body: msg, Attributes: attrs})
	if err != nil {
		qe := asQueueError(err)
		e.queueFailure(sub, sub.Endpoint, qe)
		if qe.Permanent {
			return permanent, qe.Code
		}
		return retryable, qe.Code
	}
	e.queueRecovered(sub)
	return delivered, ""
}

// asQueueError classifies a QueueSender error: a *QueueError as is, a
// timeout as Timeout, anything else as InternalError (retried).
func asQueueError(err error) *QueueError {
	var qe *QueueError
	switch {
	case errors.As(err, &qe):
		return qe
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return &QueueError{Code: "Timeout", Message: "the queue did not answer in time"}
	}
	return &QueueError{Code: "InternalError", Message: "the queue could not store the message"}
}

// queueFailure counts a failed send to a queue by code and logs it at WARN
// once per (subscription, code) in a row: a subscription failing the same
// way for days logs once, a new kind of failure logs again.
func (e *Engine) queueFailure(sub store.Subscription, queueARN string, qe *QueueError) {
	if e.noteQueueFailure(sub.ARN, qe.Code) {
		e.log.Warn("delivery to SQS queue failed; retried per the AWS-managed retry policy unless permanent (logged once per subscription and error code)",
			"subscription", sub.ARN, "queue", queueARN, "error_code", qe.Code, "reason", clipReason(qe.Message), "permanent", qe.Permanent)
	}
}

// noteQueueFailure counts a failure of code and reports whether it is new
// for key (a subscription, or a subscription's dead-letter queue).
func (e *Engine) noteQueueFailure(key, code string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.queueFails[code]++
	if e.queueLogged[key] == code {
		return false
	}
	e.queueLogged[key] = code
	return true
}

// queueRecovered notes a successful send after logged failures.
func (e *Engine) queueRecovered(sub store.Subscription) {
	e.mu.Lock()
	code, had := e.queueLogged[sub.ARN]
	delete(e.queueLogged, sub.ARN)
	e.mu.Unlock()
	if had {
		e.log.Info("delivery to SQS queue resumed", "subscription", sub.ARN, "queue", sub.Endpoint, "previous_error_code", code)
	}
}

func clipReason(s string) string {
	if len(s) > 256 {
		return s[:256] + "..."
	}
	return s
}

// QueueFailures returns the failed sends to queues since start, by error
// code (a bounded set: the SQS error kinds, Timeout, InternalError,
// TooManyMessageAttributes), for the metrics.
func (e *Engine) QueueFailures() map[string]int64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make(map[string]int64, len(e.queueFails))
	for k, v := range e.queueFails {
		out[k] = v
	}
	return out
}

// isQueueARN reports whether target names an SQS queue.
func isQueueARN(target string) bool {
	a, err := arn.Parse(target)
	return err == nil && a.Service == "sqs" && a.Account != "" && a.Region != "" && a.Resource != ""
}

// Dead-letter phase. A delivery that was given up while its dead-letter
// queue could not take it is rescheduled with Attempts =
// deadLetterPhase + the failure's code number (see codeNumber), so that
// later attempts only retry the dead-letter send (the endpoint is not
// tried again) and still know the original error code.
const deadLetterPhase = 1 << 30

// namedCodes are the non-HTTP error codes the engine produces, numbered
// from 1000 for the dead-letter phase (HTTP codes use their status).
var namedCodes = []string{"Timeout", "ConnectionError", "AddressNotAllowed", "InvalidEndpoint", "InternalError",
	"KMSDisabled", "KMSInvalidState", "KMSNotFound", "KMSAccessDenied", "KMSInvalidCiphertext", "KMSIncorrectKey",
	"KMSInternal", "InvalidCiphertext", "NoOpener", "OpenFailed", codeTooManyAttributes,
	"QueueDoesNotExist", "AccessDenied", "KmsAccessDenied", "KmsDisabled", "KmsInvalidKeyUsage", "KmsInvalidState",
	"KmsNotFound", "KmsOptInRequired", "KmsThrottled", "InvalidMessageContents", "InvalidParameterValue",
	"InvalidAttributeName", "InvalidAttributeValue", "InvalidSecurity", "OverLimit", "UnsupportedOperation"}

func codeNumber(code string) int {
	if s, ok := strings.CutPrefix(code, "HTTP"); ok {
		if n, err := strconv.Atoi(s); err == nil && n >= 100 && n < 1000 {
			return n
		}
	}
	for i, c := range namedCodes {
		if c == code {
			return 1000 + i
		}
	}
	return 0
}

func codeOfNumber(n int) string {
	switch {
	case n >= 100 && n < 1000:
		return "HTTP" + strconv.Itoa(n)
	case n >= 1000 && n-1000 < len(namedCodes):
		return namedCodes[n-1000]
	}
	return "DeliveryFailed"
}

// errorMessage describes a give-up code for the ErrorMessage attribute of
// a dead-lettered message.
func errorMessage(code string) string {
	switch {
	case strings.HasPrefix(code, "HTTP"):
		return "The endpoint answered HTTP status " + strings.TrimPrefix(code, "HTTP")
	case code == "Timeout":
		return "The endpoint did not answer in time"
	case code == "ConnectionError":
		return "The endpoint could not be reached"
	case code == "AddressNotAllowed":
		return "The endpoint's address is not allowed by the server's subscriber address rules"
	case strings.HasPrefix(code, "KMS"), code == "InvalidCiphertext", code == "NoOpener", code == "OpenFailed":
		return "The message could not be decrypted for delivery (" + code + ")"
	case code == codeTooManyAttributes:
		return "More than 10 message attributes cannot be sent with raw message delivery to Amazon SQS"
	case code == "QueueDoesNotExist":
		return "The subscribed queue does not exist"
	case code == "AccessDenied":
		return "The queue policy does not allow Amazon SNS to send messages from this topic"
	case strings.HasPrefix(code, "Kms"):
		return "The queue's KMS key refused Amazon SNS (" + code + ")"
	}
	return "Delivery failed (" + code + ")"
}

func newRequestID() string {
	var b [16]byte
	rand.Read(b[:])
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// deadLetterToQueue sends a given-up delivery to its SQS dead-letter queue
// as the subscription would have received it (notification JSON, or the
// raw message, with its attributes when they fit), plus the attributes AWS
// adds: RequestID, ErrorCode, ErrorMessage. A sealed body is opened here
// and wiped after the send; the dead-letter queue stores it per its own
// encryption.
func (e *Engine) deadLetterToQueue(ctx context.Context, topic store.Topic, sub store.Subscription, l store.Lease, meta sns.Meta, target, code string) error {
	body, owned, err := e.openBody(ctx, l, meta)
	if err != nil {
		return &QueueError{Code: openErrorCode(err), Message: "the message body could not be opened for its dead-letter queue"}
	}
	if owned {
		defer func() {
			envelope.Wipe(body)
			e.wiped(body)
		}()
	}
	const dlqAttrs = 3
	msg, raw, attrs, err := e.queueBody(topic, sub, l, meta, body, maxQueueAttributes-dlqAttrs)
	if errors.Is(err, errTooManyAttributes) {
		err = nil // the message's own attributes do not fit: only AWS's are sent
	}
	if err != nil {
		return &QueueError{Code: "InternalError", Message: "the dead-letter message could not be built"}
	}
	if owned || !(raw && sameBuffer(msg, body)) {
		defer func() {
			envelope.Wipe(msg)
			e.wiped(msg)
		}()
	}
	if attrs == nil {
		attrs = make(map[string]QueueAttribute, dlqAttrs)
	}
	attrs["RequestID"] = QueueAttribute{DataType: "String", StringValue: newRequestID()}
	attrs["ErrorCode"] = QueueAttribute{DataType: "String", StringValue: code}
	attrs["ErrorMessage"] = QueueAttribute{DataType: "String", StringValue: errorMessage(code)}
	ctx, cancel := context.WithTimeout(ctx, e.opts.AttemptTimeout)
	defer cancel()
	return e.opts.Queues.SendToQueue(ctx, QueueMessage{QueueARN: target, TopicARN: l.Message.TopicARN,
		SubscriptionARN: sub.ARN, Body: msg, Attributes: attrs})
}
