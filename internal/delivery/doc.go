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
// Deliveries without a transport yet (sqs) are parked: looked at once an
// hour (one lease and one write each) and dropped, counted as Expired and
// logged by message id, 14 days after their message was published (SQS's
// longest retention).
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
// policy it is given up still encrypted: the dead-letter target gets the
// stored frame (Delivered.Sealed), never plaintext. Each failed open is
// logged at WARN with the message id, topic, key ARN and an error code
// (KMSDisabled, KMSInvalidState, KMSNotFound, KMSAccessDenied, ...), never
// the body. Confirmations are never sealed. Limits: the string to sign that
// snssig builds internally, and the string a JSON-structured message's
// protocol value is decoded into, are not wiped (Go strings).
//
// Signing happens here, off the publish path; a message is signed once per
// (message, body, signature version) and the signature is shared by all its
// deliveries.
//
// Concurrency: Run uses up to Options.Workers goroutines; Tick processes one
// batch synchronously (tests drive it with an injected clock).
package delivery
