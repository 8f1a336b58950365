package pgstore

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/sealpost/sealpost/internal/store"
)

// This file implements store.QueueStore (migration 4):
//
//	sqs_queues(account, region, name COLLATE "C", id BIGSERIAL UNIQUE, attributes,
//	    tags, created_at, last_modified, revision; PK (account, region, name))
//	sqs_messages(seq BIGSERIAL PK, queue_id, id, body, attributes, meta, sender_id,
//	    sent_at, visible_at, receive_count, first_received_at, receipt_handle)
//	    index (queue_id, visible_at, seq), index (queue_id, sent_at)
//
// Messages belong to a queue by its surrogate id, so a queue deleted and
// created again under the same name never sees the old queue's messages.
// name is byte-ordered (COLLATE "C") so ListQueues pages in the same order
// as the embedded driver whatever the database's locale.
//
// Receive is one statement: it picks visible rows by the (queue_id,
// visible_at, seq) index with FOR UPDATE SKIP LOCKED and updates them, so
// receivers on any number of nodes never lease one message twice, and a
// receiver skips rows another one is leasing instead of waiting. The
// receipt handle is "<seq:16 hex>.<receive count>.<random uuid hex>"; every
// handle-taking write matches it exactly, so only the latest one acts.
//
// Counts: sqs_queue_counts holds each queue's number of messages in up to
// countShards rows (queue_id, shard, n); every statement that inserts or
// deletes messages adds its delta to one shard, picked at random, in the
// same statement (a data-modifying WITH), so the sum is exact at every
// commit and concurrent writers rarely wait on one counter row. Counts sums
// the shards and reads only the rows not visible at now (in flight or
// delayed); it never counts a large visible backlog row by row.
//
// SendMessages (one statement) and MoveMessage read their destination
// queue's row FOR KEY SHARE as they insert, which DeleteQueue's DELETE waits for: a send
// racing a DeleteQueue either fails with ErrNotFound or is deleted with the
// queue, never left behind.

const sqsMsgCols = `seq, id, body, attributes, meta, sender_id, sent_at, visible_at, receive_count,
	first_received_at, receipt_handle`

func queueNotFound(k store.QueueKey) error {
	return fmt.Errorf("pgstore: queue %s/%s/%s: %w", k.Account, k.Region, k.Name, store.ErrNotFound)
}

func scanQueue(row pgx.Row) (store.Queue, error) {
	var q store.Queue
	var attrs, tags string
	if err := row.Scan(&q.Account, &q.Region, &q.Name, &attrs, &tags, &q.CreatedAt, &q.LastModified, &q.Revision); err != nil {
		return store.Queue{}, err
	}
	var err error
	if q.Attributes, err = fromJSON(attrs); err != nil {
		return store.Queue{}, err
	}
	if q.Tags, err = fromJSON(tags); err != nil {
		return store.Queue{}, err
	}
	q.CreatedAt, q.LastModified = utc(q.CreatedAt), utc(q.LastModified)
	return q, nil
}

const queueCols = `account, region, name, attributes, tags, created_at, last_modified, revision`

func scanQueueMessage(row pgx.Row) (store.QueueMessage, int64, error) {
	var m store.QueueMessage
	var seq int64
	var first *time.Time
	if err := row.Scan(&seq, &m.ID, &m.Body, &m.Attributes, &m.Meta, &m.SenderID, &m.SentAt, &m.VisibleAt,
		&m.ReceiveCount, &first, &m.ReceiptHandle); err != nil {
		return store.QueueMessage{}, 0, err
	}
	m.SentAt, m.VisibleAt = utc(m.SentAt), utc(m.VisibleAt)
	if first != nil {
		m.FirstReceivedAt = utc(*first)
	}
	return m, seq, nil
}

func mapJSON(m map[string]string) string {
	if m == nil {
		return "{}"
	}
	return mustJSON(m)
}

// ---- queues ----

func (s *Store) CreateQueue(ctx context.Context, q store.Queue) (store.Queue, error) {
	q.Revision = 1
	for attempt := 0; attempt < 3; attempt++ {
		tag, err := s.pool.Exec(ctx, `INSERT INTO sqs_queues (account, region, name, attributes, tags, created_at,
			last_modified, revision) VALUES ($1, $2, $3, $4, $5, $6, $7, 1) ON CONFLICT DO NOTHING`,
			q.Account, q.Region, q.Name, mapJSON(q.Attributes), mapJSON(q.Tags), q.CreatedAt, q.LastModified)
		if err != nil {
			return store.Queue{}, fmt.Errorf("pgstore: create queue %s: %w", q.Name, err)
		}
		if tag.RowsAffected() == 1 {
			q.CreatedAt = utc(q.CreatedAt.Truncate(dbPrecision))
			q.LastModified = utc(q.LastModified.Truncate(dbPrecision))
			if q.Attributes == nil {
				q.Attributes = map[string]string{}
			}
			if q.Tags == nil {
				q.Tags = map[string]string{}
			}
			return q, nil
		}
		old, err := s.GetQueue(ctx, q.QueueKey)
		if errors.Is(err, store.ErrNotFound) {
			continue // deleted in between: try again
		}
		if err != nil {
			return store.Queue{}, err
		}
		return old, fmt.Errorf("pgstore: queue %s: %w", q.Name, store.ErrExists)
	}
	return store.Queue{}, fmt.Errorf("pgstore: create queue %s: raced with deletes", q.Name)
}

func (s *Store) GetQueue(ctx context.Context, k store.QueueKey) (store.Queue, error) {
	q, err := scanQueue(s.pool.QueryRow(ctx, `SELECT `+queueCols+` FROM sqs_queues
		WHERE account = $1 AND region = $2 AND name = $3`, k.Account, k.Region, k.Name))
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Queue{}, queueNotFound(k)
	}
	if err != nil {
		return store.Queue{}, fmt.Errorf("pgstore: queue %s: %w", k.Name, err)
	}
	return q, nil
}

func (s *Store) UpdateQueue(ctx context.Context, k store.QueueKey, fn func(*store.Queue) error) (store.Queue, error) {
	var out store.Queue
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		old, err := scanQueue(tx.QueryRow(ctx, `SELECT `+queueCols+` FROM sqs_queues
			WHERE account = $1 AND region = $2 AND name = $3 FOR UPDATE`, k.Account, k.Region, k.Name))
		if errors.Is(err, pgx.ErrNoRows) {
			return queueNotFound(k)
		}
		if err != nil {
			return err
		}
		q := old
		q.Attributes = copyMap(old.Attributes)
		q.Tags = copyMap(old.Tags)
		if err := fn(&q); err != nil {
			return fnError{err}
		}
		q.QueueKey, q.CreatedAt, q.Revision = old.QueueKey, old.CreatedAt, old.Revision+1
		if q.Attributes == nil {
			q.Attributes = map[string]string{}
		}
		if q.Tags == nil {
			q.Tags = map[string]string{}
		}
		if _, err := tx.Exec(ctx, `UPDATE sqs_queues SET attributes = $4, tags = $5, last_modified = $6, revision = $7
			WHERE account = $1 AND region = $2 AND name = $3`,
			k.Account, k.Region, k.Name, mustJSON(q.Attributes), mustJSON(q.Tags), q.LastModified, q.Revision); err != nil {
			return err
		}
		q.LastModified = utc(q.LastModified.Truncate(dbPrecision))
		out = q
		return nil
	})
	if err != nil {
		return store.Queue{}, unwrapFn(err)
	}
	return out, nil
}

func copyMap(m map[string]string) map[string]string {
	c := make(map[string]string, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

func (s *Store) DeleteQueue(ctx context.Context, k store.QueueKey) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		var id int64
		err := tx.QueryRow(ctx, `DELETE FROM sqs_queues WHERE account = $1 AND region = $2 AND name = $3 RETURNING id`,
			k.Account, k.Region, k.Name).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
			return queueNotFound(k)
		}
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM sqs_messages WHERE queue_id = $1`, id); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `DELETE FROM sqs_queue_counts WHERE queue_id = $1`, id)
		return err
	})
}

func (s *Store) ListQueues(ctx context.Context, account, region, prefix string, p store.Page) ([]store.Queue, string, error) {
	limit := p.Limit
	if limit <= 0 {
		limit = 1000
	}
	rows, err := s.pool.Query(ctx, `SELECT `+queueCols+` FROM sqs_queues
		WHERE account = $1 AND region = $2 AND name >= $3 AND substr(name, 1, length($3)) = $3 AND name > $4
		ORDER BY name LIMIT $5`, account, region, prefix, p.After, limit+1)
	if err != nil {
		return nil, "", fmt.Errorf("pgstore: list queues: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Queue, error) { return scanQueue(r) })
	if err != nil {
		return nil, "", fmt.Errorf("pgstore: list queues: %w", err)
	}
	if len(out) > limit {
		return out[:limit], out[limit-1].Name, nil
	}
	return out, "", nil
}

// ---- messages ----

type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// queueID returns the queue's id; lock is "" or a locking clause.
func queueID(ctx context.Context, q querier, k store.QueueKey, lock string) (int64, error) {
	var id int64
	err := q.QueryRow(ctx, `SELECT id FROM sqs_queues WHERE account = $1 AND region = $2 AND name = $3 `+lock,
		k.Account, k.Region, k.Name).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, queueNotFound(k)
	}
	return id, err
}

// insertMessages appends ms to the queue k in one statement (atomic on its
// own) that reads the queue's row FOR KEY SHARE; it reports false, writing
// nothing, when the queue does not exist.
func insertMessages(ctx context.Context, db execer, k store.QueueKey, ms []store.QueueMessage) (bool, error) {
	n := len(ms)
	ids, senders := make([]string, n), make([]string, n)
	bodies, attrs, metas := make([][]byte, n), make([][]byte, n), make([][]byte, n)
	sent, vis := make([]time.Time, n), make([]time.Time, n)
	for i, m := range ms {
		ids[i], senders[i] = m.ID, m.SenderID
		bodies[i], attrs[i], metas[i] = nonNil(m.Body), nonNil(m.Attributes), nonNil(m.Meta)
		sent[i], vis[i] = m.SentAt, m.VisibleAt
	}
	tag, err := db.Exec(ctx, `WITH q AS (
			SELECT id FROM sqs_queues WHERE account = $1 AND region = $9 AND name = $10 FOR KEY SHARE
		), c AS (
			INSERT INTO sqs_queue_counts (queue_id, shard, n) SELECT q.id, $11, $12 FROM q
			ON CONFLICT (queue_id, shard) DO UPDATE SET n = sqs_queue_counts.n + EXCLUDED.n
		)
		INSERT INTO sqs_messages (queue_id, id, body, attributes, meta, sender_id, sent_at,
		visible_at, receive_count, receipt_handle)
		SELECT q.id, u.id, u.body, u.attributes, u.meta, u.sender_id, u.sent_at, u.visible_at, 0, ''
		FROM q, unnest($2::text[], $3::bytea[], $4::bytea[], $5::bytea[], $6::text[], $7::timestamptz[], $8::timestamptz[])
			WITH ORDINALITY AS u(id, body, attributes, meta, sender_id, sent_at, visible_at, ord)
		ORDER BY u.ord`,
		k.Account, ids, bodies, attrs, metas, senders, sent, vis, k.Region, k.Name, countShard(), n)
	return tag.RowsAffected() > 0, err
}

// countShards is how many sqs_queue_counts rows a queue's count spreads over.
const countShards = 128

func countShard() int32 { return rand.Int32N(countShards) }

// countDelta is a WITH clause, named c, that adds minus the number of rows
// of the WITH clause d (which returns queue_id) to the queue's count; $shard
// is the parameter holding the shard.
func countDelta(shard string) string {
	return `c AS (
			INSERT INTO sqs_queue_counts (queue_id, shard, n)
			SELECT queue_id, ` + shard + `, -count(*) FROM d GROUP BY queue_id
			ON CONFLICT (queue_id, shard) DO UPDATE SET n = sqs_queue_counts.n + EXCLUDED.n
		)`
}

type execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

func (s *Store) SendMessages(ctx context.Context, k store.QueueKey, ms []store.QueueMessage) error {
	if len(ms) == 0 {
		_, err := queueID(ctx, s.pool, k, "")
		return err
	}
	err := retry(ctx, func() error {
		ok, err := insertMessages(ctx, s.pool, k, ms)
		if err == nil && !ok {
			return queueNotFound(k)
		}
		return err
	})
	if err == nil {
		s.signalQueue(k)
	}
	return err
}

func handleSeq(h string) (int64, bool) {
	i := strings.IndexByte(h, '.')
	if i != 16 {
		return 0, false
	}
	seq, err := strconv.ParseUint(h[:i], 16, 63)
	return int64(seq), err == nil
}

func (s *Store) Receive(ctx context.Context, k store.QueueKey, max int, now time.Time, visibility time.Duration) ([]store.QueueMessage, error) {
	if max <= 0 {
		_, err := queueID(ctx, s.pool, k, "")
		return nil, err
	}
	// One round trip: the queue's id is looked up in the statement; only an
	// empty result needs a second one to tell a missing queue.
	rows, err := s.pool.Query(ctx, `WITH picked AS (
			SELECT seq, visible_at AS was FROM sqs_messages
			WHERE queue_id = (SELECT id FROM sqs_queues WHERE account = $1 AND region = $5 AND name = $6)
				AND visible_at <= $2
			ORDER BY visible_at, seq LIMIT $3
			FOR UPDATE SKIP LOCKED
		)
		UPDATE sqs_messages m SET visible_at = $4, receive_count = m.receive_count + 1,
			first_received_at = COALESCE(m.first_received_at, $2),
			receipt_handle = lpad(to_hex(m.seq), 16, '0') || '.' || (m.receive_count + 1)::text || '.' ||
				replace(gen_random_uuid()::text, '-', '')
		FROM picked WHERE m.seq = picked.seq
		RETURNING picked.was, m.seq, m.id, m.body, m.attributes, m.meta, m.sender_id, m.sent_at, m.visible_at,
			m.receive_count, m.first_received_at, m.receipt_handle`,
		k.Account, now, max, now.Add(visibility), k.Region, k.Name)
	if err != nil {
		return nil, fmt.Errorf("pgstore: receive %s: %w", k.Name, err)
	}
	type picked struct {
		was time.Time
		seq int64
		m   store.QueueMessage
	}
	got, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (picked, error) {
		var p picked
		var first *time.Time
		err := r.Scan(&p.was, &p.seq, &p.m.ID, &p.m.Body, &p.m.Attributes, &p.m.Meta, &p.m.SenderID, &p.m.SentAt,
			&p.m.VisibleAt, &p.m.ReceiveCount, &first, &p.m.ReceiptHandle)
		p.m.SentAt, p.m.VisibleAt = utc(p.m.SentAt), utc(p.m.VisibleAt)
		if first != nil {
			p.m.FirstReceivedAt = utc(*first)
		}
		return p, err
	})
	if err != nil {
		return nil, fmt.Errorf("pgstore: receive %s: %w", k.Name, err)
	}
	sort.Slice(got, func(i, j int) bool {
		if !got[i].was.Equal(got[j].was) {
			return got[i].was.Before(got[j].was)
		}
		return got[i].seq < got[j].seq
	})
	if len(got) == 0 {
		_, err := queueID(ctx, s.pool, k, "")
		return nil, err
	}
	out := make([]store.QueueMessage, len(got))
	for i, p := range got {
		out[i] = p.m
	}
	return out, nil
}

// handleError explains why a write matching (seq, queue, handle) found no
// row: the message is gone (ErrNotFound), was received again
// (ErrLeaseLost), or, when the handle matches, is not in flight.
func handleError(ctx context.Context, q querier, qid, seq int64, handle string) error {
	var cur string
	err := q.QueryRow(ctx, `SELECT receipt_handle FROM sqs_messages WHERE seq = $1 AND queue_id = $2`, seq, qid).Scan(&cur)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return fmt.Errorf("pgstore: receipt handle: %w", store.ErrNotFound)
	case err != nil:
		return err
	case cur != handle:
		return fmt.Errorf("pgstore: receipt handle: %w", store.ErrLeaseLost)
	default:
		return fmt.Errorf("pgstore: receipt handle: %w", store.ErrNotInFlight)
	}
}

func badHandle() error { return fmt.Errorf("pgstore: receipt handle: %w", store.ErrNotFound) }

func (s *Store) DeleteMessage(ctx context.Context, k store.QueueKey, handle string) error {
	seq, ok := handleSeq(handle)
	if ok {
		// One round trip when the handle holds.
		var n int
		err := s.pool.QueryRow(ctx, `WITH d AS (
				DELETE FROM sqs_messages WHERE seq = $1 AND receipt_handle = $2
				AND queue_id = (SELECT id FROM sqs_queues WHERE account = $3 AND region = $4 AND name = $5)
				RETURNING queue_id
			), `+countDelta("$6::integer")+` SELECT count(*) FROM d`,
			seq, handle, k.Account, k.Region, k.Name, countShard()).Scan(&n)
		if err != nil {
			return fmt.Errorf("pgstore: delete message: %w", err)
		}
		if n == 1 {
			return nil
		}
	}
	qid, err := queueID(ctx, s.pool, k, "")
	if err != nil {
		return err
	}
	if !ok {
		return badHandle()
	}
	return handleError(ctx, s.pool, qid, seq, handle)
}

func (s *Store) ChangeVisibility(ctx context.Context, k store.QueueKey, handle string, now, visibleAt time.Time) (store.QueueMessage, error) {
	qid, err := queueID(ctx, s.pool, k, "")
	if err != nil {
		return store.QueueMessage{}, err
	}
	seq, ok := handleSeq(handle)
	if !ok {
		return store.QueueMessage{}, badHandle()
	}
	m, _, err := scanQueueMessage(s.pool.QueryRow(ctx, `UPDATE sqs_messages SET visible_at = $5
		WHERE seq = $1 AND queue_id = $2 AND receipt_handle = $3 AND visible_at > $4
		RETURNING `+sqsMsgCols, seq, qid, handle, now, visibleAt))
	if errors.Is(err, pgx.ErrNoRows) {
		return store.QueueMessage{}, handleError(ctx, s.pool, qid, seq, handle)
	}
	if err != nil {
		return store.QueueMessage{}, fmt.Errorf("pgstore: change visibility: %w", err)
	}
	return m, nil
}

func (s *Store) MoveMessage(ctx context.Context, k store.QueueKey, handle string, dst store.QueueKey, m store.QueueMessage) error {
	seq, ok := handleSeq(handle)
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		qid, err := queueID(ctx, tx, k, "")
		if err != nil {
			return err
		}
		if !ok {
			return badHandle()
		}
		var n int
		err = tx.QueryRow(ctx, `WITH d AS (
				DELETE FROM sqs_messages WHERE seq = $1 AND queue_id = $2 AND receipt_handle = $3 RETURNING queue_id
			), `+countDelta("$4::integer")+` SELECT count(*) FROM d`,
			seq, qid, handle, countShard()).Scan(&n)
		if err != nil {
			return err
		}
		if n == 0 {
			return handleError(ctx, tx, qid, seq, handle)
		}
		if ok, err := insertMessages(ctx, tx, dst, []store.QueueMessage{m}); err != nil || !ok {
			if err == nil {
				err = queueNotFound(dst)
			}
			return err
		}
		return nil
	})
	if err == nil {
		s.signalQueue(dst)
	}
	return err
}

func (s *Store) Purge(ctx context.Context, k store.QueueKey) error {
	qid, err := queueID(ctx, s.pool, k, "")
	if err != nil {
		return err
	}
	// The count goes down by what was deleted (not to zero): a send
	// committing during the purge keeps its message and its count.
	if _, err := s.pool.Exec(ctx, `WITH d AS (
			DELETE FROM sqs_messages WHERE queue_id = $1 RETURNING queue_id
		), `+countDelta("$2::integer")+` SELECT 1`, qid, countShard()); err != nil {
		return fmt.Errorf("pgstore: purge %s: %w", k.Name, err)
	}
	return nil
}

func (s *Store) Counts(ctx context.Context, k store.QueueKey, now time.Time) (store.QueueCounts, error) {
	qid, err := queueID(ctx, s.pool, k, "")
	if err != nil {
		return store.QueueCounts{}, err
	}
	// The total from the count shards, minus the rows not visible at now
	// (read by the (queue_id, visible_at, seq) index), in one snapshot.
	var c store.QueueCounts
	var total int64
	err = s.pool.QueryRow(ctx, `SELECT
			(SELECT COALESCE(sum(n), 0) FROM sqs_queue_counts WHERE queue_id = $1),
			count(CASE WHEN receive_count > 0 THEN 1 END),
			count(CASE WHEN receive_count = 0 THEN 1 END)
		FROM sqs_messages WHERE queue_id = $1 AND visible_at > $2`, qid, now).Scan(&total, &c.InFlight, &c.Delayed)
	c.Visible = max(0, int(total)-c.InFlight-c.Delayed)
	if err != nil {
		return store.QueueCounts{}, fmt.Errorf("pgstore: counts %s: %w", k.Name, err)
	}
	return c, nil
}

func (s *Store) ExpireBefore(ctx context.Context, k store.QueueKey, t time.Time) (int, error) {
	qid, err := queueID(ctx, s.pool, k, "")
	if err != nil {
		return 0, err
	}
	// In batches found by the (queue_id, sent_at) index: a retention sweep
	// of a large backlog is many short transactions, not one that holds
	// millions of row locks.
	total := 0
	for {
		var n int
		err := s.pool.QueryRow(ctx, `WITH d AS (
				DELETE FROM sqs_messages WHERE seq IN (
					SELECT seq FROM sqs_messages WHERE queue_id = $1 AND sent_at < $2 LIMIT $3)
				RETURNING queue_id
			), `+countDelta("$4::integer")+` SELECT count(*) FROM d`, qid, t, expireChunk, countShard()).Scan(&n)
		if err != nil {
			return total, fmt.Errorf("pgstore: expire %s: %w", k.Name, err)
		}
		total += n
		if n < expireChunk {
			return total, nil
		}
	}
}

// expireChunk is how many messages one ExpireBefore statement deletes.
const expireChunk = 5000
