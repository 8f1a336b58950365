package pgstore

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// migrateLockKey is the pg_advisory_lock key guarding migrations ("sealpost"
// in ASCII).
const migrateLockKey int64 = 0x7365616c706f7374

// migration is one schema version. Statements are idempotent (IF NOT EXISTS)
// so that a database without advisory locks survives concurrent starts.
type migration struct {
	version int
	stmts   []string
}

// migrations are applied in order; never edit a released one, append a new
// version instead.
var migrations = []migration{
	{version: 1, stmts: []string{
		`CREATE TABLE IF NOT EXISTS topics (
			arn        TEXT PRIMARY KEY,
			scope      TEXT NOT NULL,
			account    TEXT NOT NULL,
			region     TEXT NOT NULL,
			name       TEXT NOT NULL,
			attributes TEXT NOT NULL,
			tags       TEXT NOT NULL,
			created_at TIMESTAMPTZ NOT NULL
		)`,
		`CREATE INDEX IF NOT EXISTS topics_scope ON topics (scope, arn)`,
		`CREATE TABLE IF NOT EXISTS subscriptions (
			arn              TEXT PRIMARY KEY,
			topic_arn        TEXT NOT NULL,
			scope            TEXT NOT NULL,
			account          TEXT NOT NULL,
			region           TEXT NOT NULL,
			protocol         TEXT NOT NULL,
			endpoint         TEXT NOT NULL,
			endpoint_key     BYTEA NOT NULL,
			attributes       TEXT NOT NULL,
			pending          BOOLEAN NOT NULL,
			token            TEXT NOT NULL,
			token_expires_at TIMESTAMPTZ NOT NULL,
			confirmation_authenticated BOOLEAN NOT NULL,
			created_at       TIMESTAMPTZ NOT NULL,
			CONSTRAINT subscriptions_endpoint UNIQUE (topic_arn, protocol, endpoint_key)
		)`,
		`CREATE INDEX IF NOT EXISTS subscriptions_topic ON subscriptions (topic_arn, arn)`,
		`CREATE INDEX IF NOT EXISTS subscriptions_scope ON subscriptions (scope, arn)`,
		`CREATE TABLE IF NOT EXISTS messages (
			id                 TEXT PRIMARY KEY,
			topic_arn          TEXT NOT NULL,
			created_at         TIMESTAMPTZ NOT NULL,
			meta               BYTEA NOT NULL,
			body               BYTEA NOT NULL,
			pending_deliveries INTEGER NOT NULL
		)`,
		`CREATE TABLE IF NOT EXISTS deliveries (
			subscription_arn TEXT NOT NULL,
			message_id       TEXT NOT NULL,
			attempts         INTEGER NOT NULL,
			next_attempt_at  TIMESTAMPTZ NOT NULL,
			lease_owner      TEXT,
			lease_until      TIMESTAMPTZ,
			due_at           TIMESTAMPTZ NOT NULL,
			PRIMARY KEY (subscription_arn, message_id)
		)`,
		`CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries (due_at)`,
	}},
	{version: 2, stmts: []string{
		// FIFO deduplication records, shared by every node.
		`CREATE TABLE IF NOT EXISTS fifo_dedup (
			dedup_key  TEXT PRIMARY KEY,
			message_id TEXT NOT NULL,
			sequence   TEXT NOT NULL,
			expires_at TIMESTAMPTZ NOT NULL
		)`,
		`CREATE INDEX IF NOT EXISTS fifo_dedup_expires ON fifo_dedup (expires_at)`,
	}},
	{version: 3, stmts: []string{
		// KMS: keys, material versions (sealed above the store), aliases
		// and grants; see keys.go.
		`CREATE TABLE IF NOT EXISTS kms_keys (
			id                   TEXT PRIMARY KEY,
			arn                  TEXT NOT NULL,
			account              TEXT NOT NULL,
			region               TEXT NOT NULL,
			description          TEXT NOT NULL,
			key_state            TEXT NOT NULL,
			key_manager          TEXT NOT NULL,
			key_spec             TEXT NOT NULL,
			key_usage            TEXT NOT NULL,
			origin               TEXT NOT NULL,
			created_at           TIMESTAMPTZ NOT NULL,
			deletion_date        TIMESTAMPTZ,
			pending_window_days  INTEGER NOT NULL,
			rotation_enabled     BOOLEAN NOT NULL,
			rotation_period_days INTEGER NOT NULL,
			next_rotation        TIMESTAMPTZ,
			key_policy           TEXT NOT NULL,
			tags                 TEXT NOT NULL,
			multi_region         BOOLEAN NOT NULL,
			current_version      INTEGER NOT NULL,
			revision             BIGINT NOT NULL,
			mac                  BYTEA,
			due_at               TIMESTAMPTZ
		)`,
		`CREATE INDEX IF NOT EXISTS kms_keys_scope ON kms_keys (account, region, id)`,
		`CREATE INDEX IF NOT EXISTS kms_keys_due ON kms_keys (due_at, id)`,
		`CREATE TABLE IF NOT EXISTS kms_materials (
			key_id        TEXT NOT NULL,
			version       INTEGER NOT NULL,
			created_at    TIMESTAMPTZ NOT NULL,
			rotation_type TEXT NOT NULL,
			material_id   TEXT NOT NULL,
			sealed        BYTEA NOT NULL,
			PRIMARY KEY (key_id, version)
		)`,
		`CREATE TABLE IF NOT EXISTS kms_aliases (
			account    TEXT NOT NULL,
			region     TEXT NOT NULL,
			name       TEXT NOT NULL,
			key_id     TEXT NOT NULL,
			created_at TIMESTAMPTZ NOT NULL,
			updated_at TIMESTAMPTZ NOT NULL,
			PRIMARY KEY (account, region, name)
		)`,
		`CREATE INDEX IF NOT EXISTS kms_aliases_key ON kms_aliases (key_id)`,
		`CREATE TABLE IF NOT EXISTS kms_grants (
			id                 TEXT PRIMARY KEY,
			key_id             TEXT NOT NULL,
			grantee_principal  TEXT NOT NULL,
			retiring_principal TEXT NOT NULL,
			operations         TEXT NOT NULL,
			grant_constraints  TEXT NOT NULL,
			name               TEXT NOT NULL,
			created_at         TIMESTAMPTZ NOT NULL,
			issuing_account    TEXT NOT NULL,
			mac                BYTEA
		)`,
		`CREATE INDEX IF NOT EXISTS kms_grants_key ON kms_grants (key_id, id)`,
		`CREATE INDEX IF NOT EXISTS kms_grants_retiring ON kms_grants (retiring_principal, id)`,
	}},
	{version: 4, stmts: []string{
		// SQS: queues and their messages; see queues.go.
		`CREATE TABLE IF NOT EXISTS sqs_queues (
			account       TEXT NOT NULL,
			region        TEXT NOT NULL,
			name          TEXT COLLATE "C" NOT NULL,
			id            BIGSERIAL UNIQUE,
			attributes    TEXT NOT NULL,
			tags          TEXT NOT NULL,
			created_at    TIMESTAMPTZ NOT NULL,
			last_modified TIMESTAMPTZ NOT NULL,
			revision      BIGINT NOT NULL,
			PRIMARY KEY (account, region, name)
		)`,
		`CREATE TABLE IF NOT EXISTS sqs_messages (
			seq               BIGSERIAL PRIMARY KEY,
			queue_id          BIGINT NOT NULL,
			id                TEXT NOT NULL,
			body              BYTEA NOT NULL,
			attributes        BYTEA NOT NULL,
			meta              BYTEA NOT NULL,
			sender_id         TEXT NOT NULL,
			sent_at           TIMESTAMPTZ NOT NULL,
			visible_at        TIMESTAMPTZ NOT NULL,
			receive_count     INTEGER NOT NULL,
			first_received_at TIMESTAMPTZ,
			receipt_handle    TEXT NOT NULL
		)`,
		`CREATE INDEX IF NOT EXISTS sqs_messages_visible ON sqs_messages (queue_id, visible_at, seq)`,
		`CREATE INDEX IF NOT EXISTS sqs_messages_sent ON sqs_messages (queue_id, sent_at)`,
	}},
	{version: 5, stmts: []string{
		// SQS: per-queue message counts, in countShards rows per queue that
		// every message write adjusts in its own statement (Counts).
		`CREATE TABLE IF NOT EXISTS sqs_queue_counts (
			queue_id BIGINT NOT NULL,
			shard    INTEGER NOT NULL,
			n        BIGINT NOT NULL,
			PRIMARY KEY (queue_id, shard)
		)`,
		`INSERT INTO sqs_queue_counts (queue_id, shard, n)
			SELECT queue_id, 0, count(*) FROM sqs_messages GROUP BY queue_id
			ON CONFLICT DO NOTHING`,
	}},
}

// migrate brings the schema up to the newest version. It holds a session
// advisory lock on one pooled connection while it works, so concurrent Opens
// wait for each other instead of racing on DDL.
func (s *Store) migrate(ctx context.Context) (err error) {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	locked := false
	defer func() {
		if locked {
			if _, uerr := conn.Exec(context.Background(), "SELECT pg_advisory_unlock($1)", migrateLockKey); uerr != nil {
				// Never hand a connection that may still hold the lock back
				// to the pool.
				conn.Conn().Close(context.Background())
			}
		}
		conn.Release()
	}()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", migrateLockKey); err != nil {
		conn.Conn().Close(context.Background()) // the lock may have been granted
		return fmt.Errorf("migration lock: %w", err)
	}
	locked = true
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		applied_at TIMESTAMPTZ NOT NULL
	)`); err != nil {
		return err
	}
	rows, err := conn.Query(ctx, "SELECT version FROM schema_migrations")
	if err != nil {
		return err
	}
	applied, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil {
		return err
	}
	done := map[int]bool{}
	for _, v := range applied {
		done[v] = true
	}
	for _, m := range migrations {
		if done[m.version] {
			continue
		}
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			for _, q := range m.stmts {
				if _, err := tx.Exec(ctx, q); err != nil {
					return err
				}
			}
			_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES ($1, now())
				ON CONFLICT DO NOTHING`, m.version)
			return err
		})
		if err != nil {
			return fmt.Errorf("migration %d: %w", m.version, err)
		}
	}
	return nil
}
