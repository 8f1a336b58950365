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
// Signing happens here, off the publish path; a message is signed once per
// (message, body, signature version) and the signature is shared by all its
// deliveries.
//
// Concurrency: Run uses up to Options.Workers goroutines; Tick processes one
// batch synchronously (tests drive it with an injected clock).
package delivery
