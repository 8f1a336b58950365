// Package delivery runs Sealpost's delivery workers: they lease due delivery
// records from the store, build the SNS notification (or raw body), sign it,
// send it, and then ack, retry or dead-letter the record. Retry logic lives
// only here; transports only classify outcomes.
//
// Guarantees: at-least-once. A record is acked (deleted) only after the
// endpoint answered 2xx, or after the delivery was given up (non-retryable
// answer, retries exhausted) and dead-lettered. A crash at any point leaves
// the record leased until its lease expires, after which it is delivered
// again: a duplicate, never a loss.
//
// Classification (AWS: "a status code outside the range of 200–4xx is a
// failed attempt"): 2xx delivered; 5xx, 408, 429, timeouts and connection
// errors are retried per the effective delivery policy; any other 4xx is a
// client error, not retried, dead-lettered (or dropped without a
// RedrivePolicy).
//
// Addresses: every connection (deliveries and confirmation requests) goes
// through NewHTTPClient, whose dialer checks the resolved address against a
// netguard.Guard, so DNS rebinding cannot reach a denied address; a refused
// connection sends nothing and is retried like a connection error.
//
// Throttling (maxReceivesPerSecond): a per-subscription bucket hands out
// send slots in order. A delivery that finds no free slot reserves the next
// one and is rescheduled to exactly that time with its attempt count
// unchanged, so it is leased once more when its slot is due (about two
// leases per throttled attempt, not one per slot for the whole backlog).
// Reservations are in memory, at most 4,096 per subscription; deliveries
// beyond them wait for the end of the reserved horizon. Throttle state is
// per node.
//
// A delivery leased again while its attempt still runs on this node (its
// lease expired) is not started a second time. Counters and throttle state
// of deleted subscriptions are pruned every Options.PruneInterval (one
// store read per known subscription); Totals keeps their counts.
//
// SQS (Options.Queues, a QueueSender the server bridges to the sqs
// domain): an sqs subscription's message is sent as the SNS service
// principal for the topic (aws:SourceArn = topic ARN, aws:SourceAccount =
// its owner), so the queue policy must allow sns.amazonaws.com, and an
// encrypted queue's key policy must let it generate data keys, as in AWS.
// The body is the notification JSON an HTTP subscriber gets (or a
// confirmation's JSON, for a subscription to another account's queue), or
// with RawMessageDelivery the message itself with its attributes as SQS
// message attributes (types kept, Binary decoded; none for a JSON
// MessageStructure); a raw delivery of a message with more than 10
// attributes is a client error, not retried (AWS). Failures (queue
// missing, policy or key refusing, ...) follow AWS's policy for
// AWS-managed endpoints (awsManagedRetry: 100,015 attempts over 23 days),
// so a delivery resumes once the queue is fixed; each is counted
// (Counters.Failed, QueueFailures by code) and logged at WARN once per
// subscription and code in a row, with the queue and reason, never the
// body. Without Options.Queues, sqs deliveries are parked: looked at once
// an hour (one lease and one write each) and dropped, counted as Expired,
// 14 days after their message was published (SQS's longest retention).
//
// Dead letters: a delivery given up (retries exhausted, or a client
// error) of a subscription whose RedrivePolicy names an SQS queue is sent
// there through Options.Queues as the subscription would have received it
// (the notification JSON, or the raw message with its attributes when
// they fit in SQS's 10), with the attributes RequestID, ErrorCode and
// ErrorMessage added. A sealed body is opened for that send and wiped
// after it; the dead-letter queue stores it per its own encryption
// (sealed, SSE-SQS being on by default). A dead-letter send that fails is
// retried every 20 s (the endpoint is not tried again: the record carries
// the dead-letter phase and the error code in its attempt count) and is
// dropped, counted as Expired, 14 days after publication. DeadLettered
// counts a delivery once it landed (or when it was dropped without a
// dead-letter target).
//
// Sealed bodies (SSE topics, sns.Meta.Sealed): the body is opened through
// Options.Opener (as the SNS service, for the topic's account and region)
// just before it is sent, per attempt; the notification is built and signed
// over the plaintext, as AWS does, sent, and then the plaintext and every
// buffer built from it that the engine owns (the JSON body, which is
// encoded by hand into one exactly sized buffer because encoding/json keeps
// copies in pooled buffers; the message text of a JSON-structured message)
// are wiped. If Open fails (the key is disabled, pending deletion, gone or
// not usable by SNS, or the record was altered), nothing is sent in any
// form: the attempt counts as failed and is retried per the delivery
// policy, so the delivery resumes if the key comes back in time; after the
// policy it is given up: without a dead-letter queue it is dropped still
// encrypted (logged); an SQS dead-letter send needs the body opened, so
// it waits (retried, see Dead letters) while the key stays unusable; an
// Options.DeadLetter func gets the stored frame (Delivered.Sealed), never
// plaintext. Each failed open is
// logged at WARN with the message id, topic, key ARN and an error code
// (KMSDisabled, KMSInvalidState, KMSNotFound, KMSAccessDenied, ...), never
// the body. Confirmations are never sealed. Limits: the string to sign that
// snssig builds internally, the string a JSON-structured message's
// protocol value is decoded into, and the string the server's queue bridge
// hands to the sqs domain (sqs.SendInput.Body) are not wiped (Go strings).
//
// Signing happens here, off the publish path; a message is signed once per
// (message, body, signature version) and the signature is shared by all its
// deliveries.
//
// Concurrency: Run uses up to Options.Workers goroutines; Tick processes one
// batch synchronously (tests drive it with an injected clock).
package delivery
