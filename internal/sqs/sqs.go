package sqs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"time"

	"github.com/sealpost/sealpost/internal/envelope"
	"github.com/sealpost/sealpost/internal/policy"
	"github.com/sealpost/sealpost/internal/store"
)

// Error kinds. Each is the SQS error shape name (the JSON protocol's
// __type suffix); internal/sqsapi maps them to wire codes and statuses
// (the Query protocol's codes, such as
// AWS.SimpleQueueService.NonExistentQueue, differ).
var (
	ErrQueueDoesNotExist        = errors.New("QueueDoesNotExist")
	ErrQueueNameExists          = errors.New("QueueNameExists") // Query code QueueAlreadyExists
	ErrInvalidAttributeName     = errors.New("InvalidAttributeName")
	ErrInvalidAttributeValue    = errors.New("InvalidAttributeValue")
	ErrInvalidParameterValue    = errors.New("InvalidParameterValue")
	ErrMissingParameter         = errors.New("MissingParameter")
	ErrInvalidMessageContents   = errors.New("InvalidMessageContents")
	ErrReceiptHandleIsInvalid   = errors.New("ReceiptHandleIsInvalid")
	ErrMessageNotInflight       = errors.New("MessageNotInflight")
	ErrBatchEntryIdsNotDistinct = errors.New("BatchEntryIdsNotDistinct")
	ErrBatchRequestTooLong      = errors.New("BatchRequestTooLong")
	ErrEmptyBatchRequest        = errors.New("EmptyBatchRequest")
	ErrInvalidBatchEntryID      = errors.New("InvalidBatchEntryId")
	ErrTooManyEntriesInBatch    = errors.New("TooManyEntriesInBatchRequest")
	ErrPurgeQueueInProgress     = errors.New("PurgeQueueInProgress")
	ErrOverLimit                = errors.New("OverLimit")
	ErrAccessDenied             = errors.New("AccessDenied")
	ErrInvalidSecurity          = errors.New("InvalidSecurity")
	ErrUnsupportedOperation     = errors.New("UnsupportedOperation")
	ErrResourceNotFound         = errors.New("ResourceNotFoundException")
	ErrInvalidAddress           = errors.New("InvalidAddress")
	ErrInternal                 = errors.New("InternalError")
	ErrKMSAccessDenied          = errors.New("KmsAccessDenied")
	ErrKMSDisabled              = errors.New("KmsDisabled")
	ErrKMSInvalidKeyUsage       = errors.New("KmsInvalidKeyUsage")
	ErrKMSInvalidState          = errors.New("KmsInvalidState")
	ErrKMSNotFound              = errors.New("KmsNotFound")
	ErrKMSOptInRequired         = errors.New("KmsOptInRequired")
	ErrKMSThrottled             = errors.New("KmsThrottled")
)

// Error is a client-visible error: Kind is one of the Err* kinds above.
type Error struct {
	Kind    error
	Message string
}

func (e *Error) Error() string { return e.Message }
func (e *Error) Unwrap() error { return e.Kind }

func errf(kind error, format string, args ...any) error {
	return &Error{Kind: kind, Message: fmt.Sprintf(format, args...)}
}

// Caller is who makes a request and how (the server converts the front
// door's caller; the fields mean what they mean in sns.Caller).
type Caller struct {
	Account       string
	Region        string
	Principal     string // ARN
	Signed        bool
	Secure        bool
	AccessKeyID   string
	UserName      string
	UserID        string
	Authenticated bool
	// IdentityPolicy nil: the principal may do everything in its account.
	IdentityPolicy *policy.Policy
	SourceIP       netip.Addr
	RequestID      string

	// Service, when set, makes the caller an AWS service principal (e.g.
	// "sns.amazonaws.com") acting for the resource SourceARN of account
	// SourceAccount: queue policies see Principal {"Service": ...} and the
	// condition keys aws:SourceArn and aws:SourceAccount; Account and
	// Principal are ignored, no identity policy applies. No API request
	// sets it (SendFromService does).
	Service       string
	SourceARN     string
	SourceAccount string
}

// Sealer seals and opens queue message bodies: the server's bridge to
// internal/sse and the KMS (sqs does not import kms). A refusal by the KMS
// is returned as an *Error of an ErrKMS* kind (with AWS's quoted message);
// any other error is internal.
type Sealer interface {
	// Seal seals plaintext for the queue queueARN as caller c (the sender;
	// a service caller when SNS delivers). keyID is the queue's
	// KmsMasterKeyId as set (a key id or alias name means the queue
	// owner's key), or "" for SSE-SQS (the Sealpost-owned key of the
	// queue's region). Data keys are reused for reuse
	// (KmsDataKeyReusePeriodSeconds). It returns the sealed frame and the
	// ARN of the key used.
	Seal(ctx context.Context, c *Caller, queueARN, keyID string, reuse time.Duration, aad envelope.BodyAAD, plaintext []byte) (frame []byte, keyARN string, err error)
	// Open opens a frame Seal made, for caller c receiving it from the
	// queue queueARN (sealedFor is the queue ARN the frame was sealed for,
	// which differs after a dead-letter move; managed says SSE-SQS). The
	// caller wipes the plaintext after use.
	Open(ctx context.Context, c *Caller, sealedFor string, managed bool, frame []byte, aad envelope.BodyAAD) ([]byte, error)
}

// Options configure a Service.
type Options struct {
	// PublicURL is the base of queue URLs (no trailing slash).
	PublicURL string
	// Now is the clock (nil = time.Now).
	Now func() time.Time
	// Log receives operational messages (nil = discard).
	Log *slog.Logger
	// Sealer seals bodies of encrypted queues; nil = SSE unavailable:
	// sending to an encrypted queue fails with KmsOptInRequired and
	// nothing is stored.
	Sealer Sealer
	// PollInterval is how often a long poll looks at the store without a
	// signal (default 200 ms).
	PollInterval time.Duration
	// JanitorInterval is how often Run expires messages past their
	// retention period and advances move tasks (default 1 s... 1 min).
	JanitorInterval time.Duration
}

// Service implements the SQS domain. It is safe for concurrent use.
type Service struct {
	st   store.QueueStore
	opts Options
	log  *slog.Logger
	pols policyCache // compiled queue policies (access.go)

	waiters waiters
	msgs    msgState // the message path's node-local state (retention.go)
}

// New returns a Service over st. If st implements store.QueueWaker, long
// polls also wake on its hints.
func New(st store.QueueStore, opts Options) *Service {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = 200 * time.Millisecond
	}
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Service{st: st, opts: opts, log: log}
	s.waiters.init()
	if w, ok := st.(store.QueueWaker); ok {
		w.OnQueueMessages(s.waiters.wake)
	}
	return s
}

func (s *Service) now() time.Time { return s.opts.Now() }

// MessageAttribute is a message attribute (or a message system attribute
// such as AWSTraceHeader). DataType is String, Number or Binary, with an
// optional ".custom" suffix.
type MessageAttribute struct {
	DataType    string
	StringValue string
	BinaryValue []byte
}

// SendInput is one message to send.
type SendInput struct {
	Body string
	// DelaySeconds nil = the queue's DelaySeconds.
	DelaySeconds     *int
	Attributes       map[string]MessageAttribute
	SystemAttributes map[string]MessageAttribute
	// FIFO fields: refused on standard queues (InvalidParameterValue).
	MessageGroupID         string
	MessageDeduplicationID string
}

// SendResult is what SendMessage answers.
type SendResult struct {
	MessageID                    string
	MD5OfMessageBody             string
	MD5OfMessageAttributes       string // "" without attributes
	MD5OfMessageSystemAttributes string // "" without system attributes
	SequenceNumber               string // FIFO only
}

// SendEntry is one entry of SendMessageBatch.
type SendEntry struct {
	ID string
	SendInput
}

// BatchResult is one successful batch entry.
type BatchResult struct {
	ID string
	SendResult
}

// BatchError is one failed batch entry.
type BatchError struct {
	ID          string
	Code        string // the Query-style code, e.g. ReceiptHandleIsInvalid
	SenderFault bool
	Message     string
}

// ReceiveInput is ReceiveMessage's input.
type ReceiveInput struct {
	// MaxNumberOfMessages: 0 = 1; 1..10.
	MaxNumberOfMessages int
	// VisibilityTimeout nil = the queue's.
	VisibilityTimeout *int
	// WaitTimeSeconds nil = the queue's ReceiveMessageWaitTimeSeconds; 0..20.
	WaitTimeSeconds *int
	// AttributeNames are the system attribute names asked for (the older
	// AttributeNames and the newer MessageSystemAttributeNames, merged):
	// All, SenderId, SentTimestamp, ApproximateReceiveCount,
	// ApproximateFirstReceiveTimestamp, AWSTraceHeader, ...
	AttributeNames []string
	// MessageAttributeNames: names, "All", ".*" or "prefix.*".
	MessageAttributeNames   []string
	ReceiveRequestAttemptID string
}

// Message is a received message.
type Message struct {
	MessageID              string
	ReceiptHandle          string
	Body                   string
	MD5OfBody              string
	MD5OfMessageAttributes string
	Attributes             map[string]string
	MessageAttributes      map[string]MessageAttribute
}

// HandleEntry is one entry of DeleteMessageBatch.
type HandleEntry struct {
	ID            string
	ReceiptHandle string
}

// VisibilityEntry is one entry of ChangeMessageVisibilityBatch.
type VisibilityEntry struct {
	ID                string
	ReceiptHandle     string
	VisibilityTimeout int
}

// MoveTask is a message move task (StartMessageMoveTask).
type MoveTask struct {
	TaskHandle                        string // "" unless RUNNING
	Status                            string // RUNNING, COMPLETED, CANCELLING, CANCELLED, FAILED
	SourceArn                         string
	DestinationArn                    string // "" = back to each message's source queue
	MaxNumberOfMessagesPerSecond      int    // 0 = unset
	ApproximateNumberOfMessagesMoved  int64
	ApproximateNumberOfMessagesToMove int64
	FailureReason                     string
	StartedTimestamp                  int64 // Unix milliseconds
}
