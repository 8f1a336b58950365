// Package store defines Sealpost's storage contract: the record types that the
// SNS domain persists and the interface every driver implements.
//
// Drivers treat message bodies and metadata as opaque bytes: they store them
// exactly as given and index only the fields they need. Server-side
// encryption (SSE) seals bodies above the store (internal/sse): a driver
// never sees the plaintext of an encrypted topic's or queue's message, and
// the contract does not depend on it.
//
// Contract for every driver:
//   - Errors: lookups of missing records return an error wrapping ErrNotFound;
//     creating a record whose key exists returns one wrapping ErrExists.
//   - Concurrency: every method is safe for concurrent use by many goroutines
//     (and, for shared drivers such as PostgreSQL, by many processes).
//   - Durability: a method that returns nil has made its writes durable (synced
//     to stable storage), except Ack, AckAll and Retry, which a driver may
//     leave unsynced: losing one in a crash only repeats a delivery or an
//     attempt, which at-least-once delivery allows. Publish writes a message
//     and all of its delivery records atomically: after a crash either all of
//     them exist or none do.
//   - Deliveries are leased: LeaseDeliveries hands a due delivery to one owner
//     until its lease expires; Ack deletes it, Retry reschedules it. Both act
//     only for the lease that holds the delivery (same owner and lease end):
//     otherwise they return ErrLeaseLost, or (Ack) nil if the delivery is
//     gone. A lease that expires (owner crashed) makes the delivery due
//     again, so delivery is at-least-once.
//   - Memory: a driver holds no per-delivery state for its backlog beyond a
//     bounded window; a backlog of millions of pending deliveries lives on
//     disk (or in the database).
package store

import (
	"context"
	"errors"
	"time"
)

// Sentinel errors; drivers wrap them, callers test with errors.Is.
var (
	ErrNotFound = errors.New("store: not found")
	ErrExists   = errors.New("store: already exists")
	// ErrLeaseLost means the delivery's lease expired or was taken by another owner.
	ErrLeaseLost = errors.New("store: lease lost")
)

// Topic is an SNS topic. Attributes holds the settable attributes as strings,
// exactly as the SNS API carries them; computed attributes are not stored.
type Topic struct {
	ARN        string
	Account    string
	Region     string
	Name       string
	Attributes map[string]string
	Tags       map[string]string
	CreatedAt  time.Time
}

// Subscription is an SNS subscription. ARN is final from creation on, even
// while the subscription is pending confirmation.
type Subscription struct {
	ARN      string
	TopicARN string
	Account  string // owner account
	Region   string
	Protocol string
	Endpoint string
	// Attributes holds settable attributes (RawMessageDelivery, FilterPolicy,
	// FilterPolicyScope, DeliveryPolicy, RedrivePolicy) as strings.
	Attributes map[string]string
	Pending    bool
	// Token is the confirmation token; valid until TokenExpiresAt.
	Token          string
	TokenExpiresAt time.Time
	// ConfirmationWasAuthenticated records AuthenticateOnUnsubscribe=true.
	ConfirmationWasAuthenticated bool
	CreatedAt                    time.Time
}

// Message is one accepted message. Meta is metadata encoded by the SNS domain
// (subject, attributes, structure, FIFO fields); Body is the message body as
// published (not encrypted: SSE is not implemented yet). The store never
// interprets either.
type Message struct {
	ID        string
	TopicARN  string
	CreatedAt time.Time
	Meta      []byte
	Body      []byte
}

// Delivery is one pending delivery of a message to a subscription.
type Delivery struct {
	SubscriptionARN string
	MessageID       string
	// Attempts counts attempts already made.
	Attempts      int
	NextAttemptAt time.Time
}

// Lease is a delivery handed to one owner, with its message.
type Lease struct {
	Delivery
	Message    Message
	Owner      string
	LeaseUntil time.Time
}

// Publication is one message with its deliveries, written atomically.
type Publication struct {
	Message    Message
	Deliveries []Delivery
	// Dedup, when set, makes the publication conditional on a FIFO
	// deduplication key; see Dedup.
	Dedup *Dedup
}

// Dedup is a FIFO deduplication record. Publish checks it and writes it in
// the same atomic write as the publication: if a record with Key is live
// (its Expires is after the message's CreatedAt), nothing of the publication
// is written, Duplicate is set and MessageID and Sequence are replaced by
// the first publication's; otherwise the record is written (also when the
// publication has no deliveries). Publications of one call are checked in
// order, so a later one can be a duplicate of an earlier one.
type Dedup struct {
	Key       string
	MessageID string
	Sequence  string
	Expires   time.Time
	Duplicate bool
}

// Page asks for up to Limit records after the opaque cursor After ("" = start).
type Page struct {
	After string
	Limit int
}

// Store is the interface every driver implements. See the package doc for the
// contract.
type Store interface {
	// CreateTopic stores t unless a topic with t.ARN exists; then it returns the
	// existing topic and an error wrapping ErrExists.
	CreateTopic(ctx context.Context, t Topic) (Topic, error)
	GetTopic(ctx context.Context, arn string) (Topic, error)
	// UpdateTopic applies fn to the current topic atomically (read-modify-write).
	// An error from fn aborts the update and is returned as is.
	UpdateTopic(ctx context.Context, arn string, fn func(*Topic) error) (Topic, error)
	// DeleteTopic deletes the topic, its subscriptions and their pending
	// deliveries. It returns the deleted subscriptions.
	DeleteTopic(ctx context.Context, arn string) ([]Subscription, error)
	// ListTopics lists an account's topics in a region, ordered by ARN. The
	// returned cursor is "" on the last page.
	ListTopics(ctx context.Context, account, region string, p Page) ([]Topic, string, error)

	// CreateSubscription stores s unless a subscription with the same topic,
	// protocol and endpoint exists; then it returns that one and ErrExists.
	// It fails with ErrNotFound if the topic does not exist.
	CreateSubscription(ctx context.Context, s Subscription) (Subscription, error)
	GetSubscription(ctx context.Context, arn string) (Subscription, error)
	UpdateSubscription(ctx context.Context, arn string, fn func(*Subscription) error) (Subscription, error)
	// DeleteSubscription deletes the subscription and its pending deliveries.
	DeleteSubscription(ctx context.Context, arn string) error
	ListSubscriptions(ctx context.Context, account, region string, p Page) ([]Subscription, string, error)
	ListSubscriptionsByTopic(ctx context.Context, topicARN string, p Page) ([]Subscription, string, error)
	// TopicSubscriptions returns every subscription of a topic (the fan-out set).
	TopicSubscriptions(ctx context.Context, topicARN string) ([]Subscription, error)

	// Publish writes each publication's message and deliveries atomically and
	// durably. A delivery to a subscription deleted concurrently may still be
	// written; the delivery engine acks such deliveries away.
	Publish(ctx context.Context, pubs []Publication) error
	GetMessage(ctx context.Context, id string) (Message, error)

	// LeaseDeliveries leases up to max deliveries due at now to owner until
	// now+d. A delivery whose lease expired is due again.
	LeaseDeliveries(ctx context.Context, owner string, now time.Time, d time.Duration, max int) ([]Lease, error)
	// Ack deletes a leased delivery (delivered, or given up on) if l still
	// holds its lease: ErrLeaseLost if not, nil if the delivery is gone. A
	// message with no remaining deliveries is deleted.
	Ack(ctx context.Context, l Lease) error
	// Retry releases a lease and makes the delivery due at next with the given
	// attempt count.
	Retry(ctx context.Context, l Lease, attempts int, next time.Time) error
	// PendingDeliveries counts the pending deliveries of a subscription ("" = all).
	PendingDeliveries(ctx context.Context, subscriptionARN string) (int, error)

	Close() error
}

// Waker is implemented by drivers that can hint that deliveries became due
// (in-process signal, PostgreSQL LISTEN/NOTIFY). It is only a hint: callers
// still poll LeaseDeliveries.
type Waker interface {
	DeliveriesReady() <-chan struct{}
}

// BatchAcker is implemented by drivers that can ack many leases in one
// write (one transaction). Each lease is acked as Ack would; a lease that no
// longer holds is skipped, not an error. The delivery engine batches its acks
// when the driver offers this.
type BatchAcker interface {
	AckAll(ctx context.Context, ls []Lease) error
}

// DedupSweeper is implemented by drivers that keep FIFO deduplication
// records: SweepDedup deletes those that expired before now.
type DedupSweeper interface {
	SweepDedup(ctx context.Context, now time.Time) error
}
