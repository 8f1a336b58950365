// Package sqs is the SQS domain: standard queues, their messages, queue
// policies, dead-letter redrive and move tasks, and server-side encryption
// of queue bodies, over a store.QueueStore. It speaks neither HTTP nor a
// wire format (internal/sqsapi does, for the JSON 1.0 and the Query
// protocol) and imports neither sns nor kms: the server bridges them
// (Sealer for the KMS; the delivery engine's SQS transport calls
// SendFromService for SNS).
//
// # Queues
//
// A queue is named by (account, region, name); its URL is
// <public-url>/<account>/<name> and its ARN arn:aws:sqs:<region>:<account>:<name>.
// A queue URL is accepted with any scheme and host (SDKs and older clients
// rewrite hosts); the last two path segments name the queue, in the
// caller's region. Settable attributes are stored as given (validated);
// computed ones (ApproximateNumberOf*, CreatedTimestamp,
// LastModifiedTimestamp, QueueArn) are computed on read. FIFO queues
// (".fifo") are refused with a clear error until the FIFO issue.
//
// # Messages
//
// SendMessage returns only after the message is synced (the store's
// contract). Delivery is at least once: a received message comes back
// after its visibility timeout unless deleted with its latest receipt
// handle. Long polling (WaitTimeSeconds up to 20) waits on an in-process
// signal from sends on this node, a store hint (store.QueueWaker:
// PostgreSQL LISTEN/NOTIFY) for sends on other nodes, and polls the store
// every Options.PollInterval as the truth.
//
// # Encryption at rest
//
// A queue with KmsMasterKeyId (SSE-KMS) or SqsManagedSseEnabled (SSE-SQS,
// on by default for new queues, as AWS) stores every body sealed by the
// Sealer (internal/sse frames, the same envelope code as SNS topics), with
// the clear metadata needed to open it in the message's Meta. A body is
// opened only for ReceiveMessage. Messages keep the sealing they were sent
// with when the queue's SSE settings change.
package sqs
