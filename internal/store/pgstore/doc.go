// Package pgstore is Sealpost's scale-out store: a store.Store (with
// store.Waker, store.KeyStore, store.QueueStore and store.QueueWaker) on PostgreSQL through jackc/pgx v5. Any
// number of Sealpost processes ("nodes") may share one database.
//
// # Contract
//
// Errors: missing records give errors wrapping store.ErrNotFound, duplicate
// creations store.ErrExists, and Ack/Retry of a delivery whose lease another
// owner holds now store.ErrLeaseLost. Acking a delivery that no longer exists
// returns nil; retrying one returns ErrNotFound. Publish fails as a whole
// (and writes nothing) if a message ID already exists or a publication lists
// one subscription twice. Other errors come from pgx.
//
// Durability: every method that writes returns nil only after its
// transaction committed with synchronous_commit as configured on the server
// (keep it on; the driver never turns it off). Publish writes all messages
// and delivery rows of one call in ONE transaction (a single INSERT statement
// with a data-modifying WITH, fed by arrays): after a crash either all of
// them exist or none. Concurrent publishes share WAL flushes
// (PostgreSQL's group commit), so the pool needs enough connections: unless
// the DSN sets pool_max_conns, Open allows 32.
//
// Concurrency: every method is safe for concurrent use by many goroutines and
// many processes. Read-modify-write methods (UpdateTopic, UpdateSubscription)
// lock the row (SELECT ... FOR UPDATE) for the duration of fn; transactions
// that fail with a serialization failure or a deadlock (SQLSTATE 40001,
// 40P01) are retried, so fn may run more than once and must only change the
// record it is given.
//
// Multi-node behaviour: leases are rows in the database, not process memory.
// LeaseDeliveries picks due rows with FOR UPDATE SKIP LOCKED, so concurrent
// leasers on any node never hand out one delivery twice while its lease holds.
// A delivery is due when next_attempt_at <= now and it has no unexpired lease
// (lease_until < now): when a node dies, the survivors take its deliveries
// over once the leases expire. Ack and Retry succeed only while the row still
// carries the caller's owner and lease_until (they also succeed after expiry
// if nobody took the delivery over); otherwise they return ErrLeaseLost. All
// times are the callers' (now, next), never the database clock; they are
// stored with microsecond precision (Lease.LeaseUntil is returned truncated).
//
// A message row counts its remaining deliveries (pending_deliveries). Ack,
// DeleteSubscription and DeleteTopic decrement it under the message's row lock
// in the same transaction that deletes delivery rows, and delete the message
// when it reaches zero, so concurrent acks of one message's deliveries cannot
// leak it. The row lock serialises the acks of one message (not of different
// messages).
//
// Wake-ups: after Publish and Retry commit, the store signals its own
// DeliveriesReady channel and asks a background goroutine to run
// pg_notify; a dedicated connection LISTENs and signals DeliveriesReady on
// notifications from other nodes, reconnecting with backoff. The NOTIFY is
// sent outside the publish transaction on purpose: a transaction that
// notifies holds a cluster-wide lock from pre-commit until after its commit
// record is flushed, which would serialise publishes and defeat group commit.
// Notifications are coalesced (at most one per 5 ms per node) and only a
// hint: the delivery engine must still poll LeaseDeliveries.
//
// Queue hints (store.QueueWaker) share that machinery: after SendMessages
// or a MoveMessage into a queue commits, the queue is added to the
// notifier's next round, which sends pg_notify on a second channel
// (sealpost_queues) with the queues' [account, region, name] triples as a
// JSON payload. The same LISTEN connection receives them (also from this
// node) and hands the queues to a dispatcher goroutine that calls the
// OnQueueMessages functions, so a slow function never stalls the listener.
// A hint therefore always follows the commit of the write it names.
//
// # Schema
//
// Open creates and migrates the schema itself. Migrations are numbered and
// recorded in schema_migrations; Open applies the missing ones under
// pg_advisory_lock, so several nodes starting at once migrate once.
//
//	topics(arn PK, scope, account, region, name, attributes, tags, created_at)
//	    index (scope, arn)
//	subscriptions(arn PK, topic_arn, scope, account, region, protocol, endpoint,
//	    endpoint_key, attributes, pending, token, token_expires_at,
//	    confirmation_authenticated, created_at)
//	    unique (topic_arn, protocol, endpoint_key), index (topic_arn, arn),
//	    index (scope, arn)
//	messages(id PK, topic_arn, created_at, meta, body, pending_deliveries)
//	deliveries(subscription_arn, message_id, attempts, next_attempt_at,
//	    lease_owner, lease_until, due_at; PK (subscription_arn, message_id))
//	    index (due_at)
//
// Migration 3 adds the key store (store.KeyStore, for KMS): kms_keys,
// kms_materials, kms_aliases and kms_grants; see keys.go. Migration 4 adds
// the queue store (store.QueueStore, for SQS): sqs_queues and sqs_messages;
// see queues.go. Migration 5 adds sqs_queue_counts (each queue's message
// count spread over up to 128 rows, adjusted by every message write in its
// own statement, so Counts does not count a backlog row by row).
//
// due_at is next_attempt_at while a delivery is not leased and lease_until
// while it is, so that finding due deliveries never scans the ones in flight.
//
// attributes and tags are JSON objects in TEXT columns. scope is the ARN up to
// and including its fifth ':' ("arn:aws:sns:<region>:<account>:"); ListTopics
// and ListSubscriptions select by it, so they list exactly what the embedded
// driver lists by ARN prefix. endpoint_key is SHA-256(endpoint): the
// uniqueness of (topic, protocol, endpoint) is enforced on it because btree
// index entries cannot hold arbitrarily long endpoints. There are no foreign
// keys: Publish may write a delivery for a subscription deleted concurrently,
// as the store contract allows.
//
// # Portability
//
// The SQL is kept to what CockroachDB and YugabyteDB also accept (ON CONFLICT
// DO NOTHING, UPDATE ... FROM, data-modifying WITH, FOR UPDATE SKIP LOCKED,
// unnest of several arrays, = ANY(array)), with these exceptions:
//   - pg_advisory_lock serialises migrations. Where it is missing, start one
//     node first; the migrations themselves are idempotent (IF NOT EXISTS).
//   - LISTEN/NOTIFY (pg_notify) carries wake-up hints only. Where LISTEN is
//     unsupported the listener stops and DeliveriesReady only fires for local
//     publishes; correctness never depends on it.
package pgstore
