package store

import (
	"context"
	"errors"
	"time"
)

// ErrNotInFlight means ChangeVisibility found the message visible (its
// visibility timeout already expired): SQS's MessageNotInflight.
var ErrNotInFlight = errors.New("store: message not in flight")

// QueueKey names an SQS queue: names are unique per account and region.
type QueueKey struct {
	Account string
	Region  string
	Name    string
}

// Queue is an SQS queue record. Attributes holds the settable attributes as
// the domain encodes them (the policy, redrive policy and SSE settings are
// attributes); computed attributes are not stored.
type Queue struct {
	QueueKey
	Attributes   map[string]string
	Tags         map[string]string
	CreatedAt    time.Time
	LastModified time.Time
	// Revision counts the record's writes; the store sets it (1 on create).
	Revision int64
}

// QueueMessage is one message in a queue. Body, Attributes and Meta are
// opaque to the store (the domain may seal the body; Meta carries what the
// domain computes, such as MD5 digests).
type QueueMessage struct {
	ID         string
	Body       []byte
	Attributes []byte
	Meta       []byte
	SenderID   string
	SentAt     time.Time
	// VisibleAt is when the message can next be received: the send time
	// plus its delay, then set by Receive and ChangeVisibility.
	VisibleAt time.Time
	// The store maintains the fields below; SendMessages ignores them.
	ReceiveCount    int
	FirstReceivedAt time.Time // zero until the first receive
	// ReceiptHandle is the handle of the latest receive ("" before one).
	ReceiptHandle string
}

// QueueCounts are a queue's approximate counts at a time: Visible
// (ApproximateNumberOfMessages), InFlight (not visible, received at least
// once: ...NotVisible) and Delayed (not visible, never received:
// ...Delayed).
type QueueCounts struct {
	Visible  int
	InFlight int
	Delayed  int
}

// QueueStore is the storage interface of the SQS domain: queues and their
// messages. It is separate from Store (the store grows by domain); drivers
// that serve SQS implement it too.
//
// Contract, in addition to the package's:
//   - Errors: ErrNotFound for a missing queue (every message method checks
//     its queue) or message; ErrExists for CreateQueue of an existing name;
//     ErrLeaseLost for a receipt handle that is not the message's latest
//     (the message was received again since); ErrNotInFlight from
//     ChangeVisibility of a visible message. A malformed receipt handle is
//     ErrNotFound.
//   - Receipt handles: Receive gives every message it returns a fresh,
//     unique, opaque handle (printable ASCII, no NUL). Only the latest
//     handle of a message deletes, moves or changes it; older ones get
//     ErrLeaseLost. (AWS may accept older handles; rejecting them is the
//     simplest rule that never lets a stale consumer act on a message
//     another consumer holds.) The domain decides how to answer ErrLeaseLost
//     (DeleteMessage of a stale handle succeeds silently in AWS).
//   - Atomicity and durability: every write (queue records, SendMessages,
//     Receive, DeleteMessage, ChangeVisibility, MoveMessage, Purge,
//     ExpireBefore) is atomic and synced to stable storage before it
//     returns. SendMessages writes all of its messages or none.
//     ExpireBefore may delete in batches, each atomic: after a crash or an
//     error part of the expired messages may be left for the next call.
//   - Leasing: Receive hands a message to one caller until its VisibleAt;
//     concurrent receivers (goroutines, and nodes sharing a PostgreSQL
//     database) never get the same message while it is leased.
//   - Ordering: Receive returns visible messages by VisibleAt, then send
//     order; across nodes, send order is as far as practical (best effort,
//     as in a standard SQS queue).
//   - Time: the store never reads the clock; callers pass now. Times are
//     stored with at least microsecond precision.
//   - Memory and cost: a backlog (millions of messages) lives on disk (or
//     in the database); nothing holds a queue's messages in memory.
//     Receive reads an index ordered by (queue, VisibleAt, sequence), not
//     the queue. Counts answers every GetQueueAttributes and must not read
//     the message records (it may read the not-yet-visible part of that
//     index); ExpireBefore reads a send-time index, so its cost is the
//     messages it expires.
//   - Long polling: drivers shared by several processes implement
//     QueueWaker (a hint that another node sent to a queue); the domain
//     still polls Receive as the truth.
//   - Identities (account, region, queue name) never contain NUL.
type QueueStore interface {
	// CreateQueue stores q with Revision 1 unless a queue with its key
	// exists; then it returns the existing queue and ErrExists.
	CreateQueue(ctx context.Context, q Queue) (Queue, error)
	GetQueue(ctx context.Context, k QueueKey) (Queue, error)
	// UpdateQueue applies fn to the current record atomically
	// (read-modify-write) and adds one to its Revision. An error from fn
	// aborts the update and is returned as is. fn may run more than once;
	// its changes to the key, CreatedAt and Revision are ignored.
	UpdateQueue(ctx context.Context, k QueueKey, fn func(*Queue) error) (Queue, error)
	// DeleteQueue deletes the queue with all of its messages, atomically.
	DeleteQueue(ctx context.Context, k QueueKey) error
	// ListQueues lists an account's queues in a region whose names start
	// with prefix, ordered by name. The cursor is a queue name, "" on the
	// last page; Page.Limit <= 0 means 1000.
	ListQueues(ctx context.Context, account, region, prefix string, p Page) ([]Queue, string, error)

	// SendMessages appends ms to the queue, atomically and durably. IDs
	// must be unique in the queue (the domain makes them UUIDs).
	SendMessages(ctx context.Context, k QueueKey, ms []QueueMessage) error
	// Receive leases up to max messages visible at now (VisibleAt <= now)
	// until now+visibility: it sets their VisibleAt, adds one to
	// ReceiveCount, sets FirstReceivedAt on the first receive and a fresh
	// ReceiptHandle, and returns them as updated.
	Receive(ctx context.Context, k QueueKey, max int, now time.Time, visibility time.Duration) ([]QueueMessage, error)
	// DeleteMessage deletes the message that handle was given for.
	DeleteMessage(ctx context.Context, k QueueKey, handle string) error
	// ChangeVisibility sets the VisibleAt of an in-flight message (its
	// VisibleAt after now, else ErrNotInFlight) and returns it.
	ChangeVisibility(ctx context.Context, k QueueKey, handle string, now, visibleAt time.Time) (QueueMessage, error)
	// MoveMessage deletes the message of handle from queue k and appends m
	// to queue dst in one atomic write (dead-letter redrive and move tasks;
	// the domain builds m, resealing the body for dst when needed). dst
	// may be k itself.
	MoveMessage(ctx context.Context, k QueueKey, handle string, dst QueueKey, m QueueMessage) error
	// Purge deletes every message of the queue.
	Purge(ctx context.Context, k QueueKey) error
	// Counts counts the queue's messages at now.
	Counts(ctx context.Context, k QueueKey, now time.Time) (QueueCounts, error)
	// ExpireBefore deletes the queue's messages sent before t (retention)
	// and returns how many it deleted.
	ExpireBefore(ctx context.Context, k QueueKey, t time.Time) (int, error)
}

// QueueWaker is implemented by drivers that can hint that a queue got
// messages on another node (PostgreSQL LISTEN/NOTIFY). It is only a hint:
// the SQS domain still polls Receive. fn is called from the driver's
// goroutine and must not block.
//
// OnQueueMessages registers fn (it may be called more than once; every fn
// is called). A hint for a queue comes after the write that sent to it
// (SendMessages, or MoveMessage into it) committed, on every handle over
// the same database, the sending one included; hints may be coalesced,
// late, or lost (e.g. while a driver reconnects).
//
// The embedded driver (pebblestore) does not implement it: it is
// single-process, so every send happens in the process that waits, and the
// SQS domain's in-process signal covers it.
type QueueWaker interface {
	OnQueueMessages(fn func(QueueKey))
}
