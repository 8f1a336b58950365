package pgstore

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sealpost/sealpost/internal/store"
)

// defaultMaxConns is the pool size when the DSN does not set pool_max_conns:
// group commit needs concurrent publishes on separate connections.
const defaultMaxConns = 32

// Store is the PostgreSQL driver. Create it with Open.
type Store struct {
	pool *pgxpool.Pool

	ready chan struct{} // DeliveriesReady; capacity 1, coalescing
	kick  chan struct{} // asks the notifier to pg_notify; capacity 1
	hints hints         // queue hints and the notifier's pending work (notify.go)

	cancel context.CancelFunc // stops the listener and the notifier
	wg     sync.WaitGroup

	closeOnce sync.Once
}

// Open connects to the database named by dsn (a libpq URL or keyword/value
// string; pgxpool options such as pool_max_conns are honoured), creates or
// migrates the schema, and starts listening for wake-up notifications.
func Open(ctx context.Context, dsn string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("pgstore: %w", err)
	}
	if !strings.Contains(dsn, "pool_max_conns") && cfg.MaxConns < defaultMaxConns {
		cfg.MaxConns = defaultMaxConns
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("pgstore: %w", err)
	}
	s := &Store{
		pool:  pool,
		ready: make(chan struct{}, 1),
		kick:  make(chan struct{}, 1),
	}
	s.hints.dispatch = make(chan struct{}, 1)
	if err := s.migrate(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("pgstore: open: %w", err)
	}
	bg, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	s.wg.Add(3)
	go s.listen(bg)
	go s.notifier(bg)
	go s.dispatcher(bg)
	return s, nil
}

// Close stops the background goroutines and closes the pool. Closing twice is
// a no-op.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.cancel()
		s.wg.Wait()
		s.pool.Close()
	})
	return nil
}

// ---- helpers ----

// retryable reports whether err says the transaction was rolled back because
// of a conflict, so running it again is safe.
func retryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40001" || pe.Code == "40P01")
}

func isUniqueViolation(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

// retry runs fn until it succeeds, fails with a non-retryable error, or the
// attempts run out.
func retry(ctx context.Context, fn func() error) error {
	backoff := time.Millisecond
	for attempt := 1; ; attempt++ {
		err := fn()
		if err == nil || !retryable(err) || attempt == 10 {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(backoff):
		}
		backoff *= 2
	}
}

// inTx runs fn in a transaction, retrying conflicts.
func (s *Store) inTx(ctx context.Context, fn func(pgx.Tx) error) error {
	return retry(ctx, func() error { return pgx.BeginFunc(ctx, s.pool, fn) })
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // string maps cannot fail to marshal
	}
	return string(b)
}

func fromJSON(s string) (map[string]string, error) {
	var m map[string]string
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return nil, fmt.Errorf("pgstore: corrupt JSON column: %w", err)
	}
	return m, nil
}

// scope is the ARN up to and including its fifth ':', the prefix that the
// List methods select on ("arn:aws:sns:<region>:<account>:").
func scope(arn string) string {
	n := 0
	for i := 0; i < len(arn); i++ {
		if arn[i] == ':' {
			n++
			if n == 5 {
				return arn[:i+1]
			}
		}
	}
	return ""
}

func listScope(account, region string) string {
	return "arn:aws:sns:" + region + ":" + account + ":"
}

func endpointKey(endpoint string) []byte {
	h := sha256.Sum256([]byte(endpoint))
	return h[:]
}

// dbPrecision is the database's time precision.
const dbPrecision = time.Microsecond

func utc(t time.Time) time.Time { return t.UTC() }

func pageLimit(p store.Page) int {
	if p.Limit <= 0 {
		return 100
	}
	return p.Limit
}

// ---- topics ----

const topicCols = `arn, account, region, name, attributes, tags, created_at`

func scanTopic(row pgx.Row) (store.Topic, error) {
	var t store.Topic
	var attrs, tags string
	if err := row.Scan(&t.ARN, &t.Account, &t.Region, &t.Name, &attrs, &tags, &t.CreatedAt); err != nil {
		return store.Topic{}, err
	}
	var err error
	if t.Attributes, err = fromJSON(attrs); err != nil {
		return store.Topic{}, err
	}
	if t.Tags, err = fromJSON(tags); err != nil {
		return store.Topic{}, err
	}
	t.CreatedAt = utc(t.CreatedAt)
	return t, nil
}

func (s *Store) CreateTopic(ctx context.Context, t store.Topic) (store.Topic, error) {
	for attempt := 0; attempt < 3; attempt++ {
		tag, err := s.pool.Exec(ctx, `INSERT INTO topics (arn, scope, account, region, name, attributes, tags, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING`,
			t.ARN, scope(t.ARN), t.Account, t.Region, t.Name, mustJSON(t.Attributes), mustJSON(t.Tags), t.CreatedAt)
		if err != nil {
			return store.Topic{}, fmt.Errorf("pgstore: create topic %s: %w", t.ARN, err)
		}
		if tag.RowsAffected() == 1 {
			t.CreatedAt = utc(t.CreatedAt.Truncate(dbPrecision))
			return t, nil
		}
		old, err := s.GetTopic(ctx, t.ARN)
		if err == nil {
			return old, fmt.Errorf("pgstore: topic %s: %w", t.ARN, store.ErrExists)
		}
		if !errors.Is(err, store.ErrNotFound) {
			return store.Topic{}, err
		}
		// Deleted between our insert and our read: try again.
	}
	return store.Topic{}, fmt.Errorf("pgstore: create topic %s: concurrently created and deleted", t.ARN)
}

func (s *Store) GetTopic(ctx context.Context, arn string) (store.Topic, error) {
	t, err := scanTopic(s.pool.QueryRow(ctx, `SELECT `+topicCols+` FROM topics WHERE arn = $1`, arn))
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Topic{}, fmt.Errorf("pgstore: topic %s: %w", arn, store.ErrNotFound)
	}
	if err != nil {
		return store.Topic{}, fmt.Errorf("pgstore: topic %s: %w", arn, err)
	}
	return t, nil
}

func (s *Store) UpdateTopic(ctx context.Context, arn string, fn func(*store.Topic) error) (store.Topic, error) {
	var out store.Topic
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		t, err := scanTopic(tx.QueryRow(ctx, `SELECT `+topicCols+` FROM topics WHERE arn = $1 FOR UPDATE`, arn))
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("pgstore: topic %s: %w", arn, store.ErrNotFound)
		}
		if err != nil {
			return err
		}
		if err := fn(&t); err != nil {
			return fnError{err}
		}
		t.ARN = arn
		if _, err := tx.Exec(ctx, `UPDATE topics SET account = $2, region = $3, name = $4, attributes = $5,
			tags = $6, created_at = $7 WHERE arn = $1`,
			arn, t.Account, t.Region, t.Name, mustJSON(t.Attributes), mustJSON(t.Tags), t.CreatedAt); err != nil {
			return err
		}
		t.CreatedAt = utc(t.CreatedAt.Truncate(dbPrecision))
		out = t
		return nil
	})
	if err != nil {
		return store.Topic{}, unwrapFn(err)
	}
	return out, nil
}

// fnError carries an error returned by a caller's update function through the
// transaction helper, so that it is returned as is (and never retried).
type fnError struct{ err error }

func (e fnError) Error() string { return e.err.Error() }

func unwrapFn(err error) error {
	var fe fnError
	if errors.As(err, &fe) {
		return fe.err
	}
	return err
}

func (s *Store) DeleteTopic(ctx context.Context, arn string) ([]store.Subscription, error) {
	var out []store.Subscription
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		out = nil
		tag, err := tx.Exec(ctx, `DELETE FROM topics WHERE arn = $1`, arn)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("pgstore: topic %s: %w", arn, store.ErrNotFound)
		}
		rows, err := tx.Query(ctx, `DELETE FROM subscriptions WHERE topic_arn = $1 RETURNING `+subCols, arn)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Subscription, error) { return scanSub(r) })
		if err != nil {
			return err
		}
		arns := make([]string, len(out))
		for i, sub := range out {
			arns[i] = sub.ARN
		}
		return dropDeliveries(ctx, tx, arns)
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ARN < out[j].ARN })
	return out, nil
}

// dropDeliveries deletes the pending deliveries of the given subscriptions,
// decrements their messages' counts and deletes messages left without any.
func dropDeliveries(ctx context.Context, tx pgx.Tx, subARNs []string) error {
	if len(subARNs) == 0 {
		return nil
	}
	rows, err := tx.Query(ctx, `WITH d AS (
			DELETE FROM deliveries WHERE subscription_arn = ANY($1) RETURNING message_id
		), c AS (
			SELECT message_id, count(*) AS n FROM d GROUP BY message_id
		), u AS (
			UPDATE messages SET pending_deliveries = messages.pending_deliveries - c.n
			FROM c WHERE messages.id = c.message_id
			RETURNING messages.id, messages.pending_deliveries
		)
		SELECT id FROM u WHERE pending_deliveries <= 0`, subARNs)
	if err != nil {
		return err
	}
	done, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	if len(done) == 0 {
		return nil
	}
	_, err = tx.Exec(ctx, `DELETE FROM messages WHERE id = ANY($1) AND pending_deliveries <= 0`, done)
	return err
}

func (s *Store) ListTopics(ctx context.Context, account, region string, p store.Page) ([]store.Topic, string, error) {
	limit := pageLimit(p)
	rows, err := s.pool.Query(ctx, `SELECT `+topicCols+` FROM topics
		WHERE scope = $1 AND arn > $2 ORDER BY arn LIMIT $3`, listScope(account, region), p.After, limit+1)
	if err != nil {
		return nil, "", fmt.Errorf("pgstore: list topics: %w", err)
	}
	ts, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Topic, error) { return scanTopic(r) })
	if err != nil {
		return nil, "", fmt.Errorf("pgstore: list topics: %w", err)
	}
	if len(ts) > limit {
		return ts[:limit], ts[limit-1].ARN, nil
	}
	return ts, "", nil
}

// ---- subscriptions ----

const subCols = `arn, topic_arn, account, region, protocol, endpoint, attributes, pending, token,
	token_expires_at, confirmation_authenticated, created_at`

func scanSub(row pgx.Row) (store.Subscription, error) {
	var sub store.Subscription
	var attrs string
	if err := row.Scan(&sub.ARN, &sub.TopicARN, &sub.Account, &sub.Region, &sub.Protocol, &sub.Endpoint,
		&attrs, &sub.Pending, &sub.Token, &sub.TokenExpiresAt, &sub.ConfirmationWasAuthenticated, &sub.CreatedAt); err != nil {
		return store.Subscription{}, err
	}
	var err error
	if sub.Attributes, err = fromJSON(attrs); err != nil {
		return store.Subscription{}, err
	}
	sub.TokenExpiresAt = utc(sub.TokenExpiresAt)
	sub.CreatedAt = utc(sub.CreatedAt)
	return sub, nil
}

func (s *Store) CreateSubscription(ctx context.Context, sub store.Subscription) (store.Subscription, error) {
	var out store.Subscription
	var exists bool
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		exists = false
		// FOR SHARE keeps the topic from being deleted until we commit, so a
		// concurrent DeleteTopic cannot leave our subscription behind.
		var one int
		err := tx.QueryRow(ctx, `SELECT 1 FROM topics WHERE arn = $1 FOR SHARE`, sub.TopicARN).Scan(&one)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("pgstore: topic %s: %w", sub.TopicARN, store.ErrNotFound)
		}
		if err != nil {
			return err
		}
		key := endpointKey(sub.Endpoint)
		tag, err := tx.Exec(ctx, `INSERT INTO subscriptions (arn, topic_arn, scope, account, region, protocol,
				endpoint, endpoint_key, attributes, pending, token, token_expires_at, confirmation_authenticated, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) ON CONFLICT DO NOTHING`,
			sub.ARN, sub.TopicARN, scope(sub.ARN), sub.Account, sub.Region, sub.Protocol, sub.Endpoint, key,
			mustJSON(sub.Attributes), sub.Pending, sub.Token, sub.TokenExpiresAt, sub.ConfirmationWasAuthenticated, sub.CreatedAt)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 1 {
			out = sub
			out.TokenExpiresAt = utc(out.TokenExpiresAt.Truncate(dbPrecision))
			out.CreatedAt = utc(out.CreatedAt.Truncate(dbPrecision))
			return nil
		}
		exists = true
		// Conflict on (topic, protocol, endpoint), or on the ARN itself.
		out, err = scanSub(tx.QueryRow(ctx, `SELECT `+subCols+` FROM subscriptions
			WHERE topic_arn = $1 AND protocol = $2 AND endpoint_key = $3`, sub.TopicARN, sub.Protocol, key))
		if errors.Is(err, pgx.ErrNoRows) {
			out, err = scanSub(tx.QueryRow(ctx, `SELECT `+subCols+` FROM subscriptions WHERE arn = $1`, sub.ARN))
		}
		if errors.Is(err, pgx.ErrNoRows) {
			// The conflicting row was deleted meanwhile; a retry can insert.
			return &pgconn.PgError{Code: "40001", Message: "conflicting subscription vanished"}
		}
		return err
	})
	if err != nil {
		return store.Subscription{}, err
	}
	if exists {
		return out, fmt.Errorf("pgstore: subscription %s: %w", out.ARN, store.ErrExists)
	}
	return out, nil
}

func (s *Store) GetSubscription(ctx context.Context, arn string) (store.Subscription, error) {
	sub, err := scanSub(s.pool.QueryRow(ctx, `SELECT `+subCols+` FROM subscriptions WHERE arn = $1`, arn))
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Subscription{}, fmt.Errorf("pgstore: subscription %s: %w", arn, store.ErrNotFound)
	}
	if err != nil {
		return store.Subscription{}, fmt.Errorf("pgstore: subscription %s: %w", arn, err)
	}
	return sub, nil
}

// UpdateSubscription applies fn atomically. ARN and TopicARN cannot change;
// changing Protocol/Endpoint to those of another subscription of the topic
// fails with ErrExists.
func (s *Store) UpdateSubscription(ctx context.Context, arn string, fn func(*store.Subscription) error) (store.Subscription, error) {
	var out store.Subscription
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		sub, err := scanSub(tx.QueryRow(ctx, `SELECT `+subCols+` FROM subscriptions WHERE arn = $1 FOR UPDATE`, arn))
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("pgstore: subscription %s: %w", arn, store.ErrNotFound)
		}
		if err != nil {
			return err
		}
		topic := sub.TopicARN
		if err := fn(&sub); err != nil {
			return fnError{err}
		}
		sub.ARN, sub.TopicARN = arn, topic
		_, err = tx.Exec(ctx, `UPDATE subscriptions SET account = $2, region = $3, protocol = $4, endpoint = $5,
				endpoint_key = $6, attributes = $7, pending = $8, token = $9, token_expires_at = $10,
				confirmation_authenticated = $11, created_at = $12
			WHERE arn = $1`,
			arn, sub.Account, sub.Region, sub.Protocol, sub.Endpoint, endpointKey(sub.Endpoint), mustJSON(sub.Attributes),
			sub.Pending, sub.Token, sub.TokenExpiresAt, sub.ConfirmationWasAuthenticated, sub.CreatedAt)
		if isUniqueViolation(err) {
			return fmt.Errorf("pgstore: subscription %s: endpoint taken: %w", arn, store.ErrExists)
		}
		if err != nil {
			return err
		}
		sub.TokenExpiresAt = utc(sub.TokenExpiresAt.Truncate(dbPrecision))
		sub.CreatedAt = utc(sub.CreatedAt.Truncate(dbPrecision))
		out = sub
		return nil
	})
	if err != nil {
		return store.Subscription{}, unwrapFn(err)
	}
	return out, nil
}

func (s *Store) DeleteSubscription(ctx context.Context, arn string) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM subscriptions WHERE arn = $1`, arn)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("pgstore: subscription %s: %w", arn, store.ErrNotFound)
		}
		return dropDeliveries(ctx, tx, []string{arn})
	})
}

func (s *Store) listSubs(ctx context.Context, where string, arg any, p store.Page) ([]store.Subscription, string, error) {
	limit := pageLimit(p)
	rows, err := s.pool.Query(ctx, `SELECT `+subCols+` FROM subscriptions
		WHERE `+where+` = $1 AND arn > $2 ORDER BY arn LIMIT $3`, arg, p.After, limit+1)
	if err != nil {
		return nil, "", fmt.Errorf("pgstore: list subscriptions: %w", err)
	}
	subs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Subscription, error) { return scanSub(r) })
	if err != nil {
		return nil, "", fmt.Errorf("pgstore: list subscriptions: %w", err)
	}
	if len(subs) > limit {
		return subs[:limit], subs[limit-1].ARN, nil
	}
	return subs, "", nil
}

func (s *Store) ListSubscriptions(ctx context.Context, account, region string, p store.Page) ([]store.Subscription, string, error) {
	return s.listSubs(ctx, "scope", listScope(account, region), p)
}

func (s *Store) ListSubscriptionsByTopic(ctx context.Context, topicARN string, p store.Page) ([]store.Subscription, string, error) {
	var one int
	err := s.pool.QueryRow(ctx, `SELECT 1 FROM topics WHERE arn = $1`, topicARN).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, "", fmt.Errorf("pgstore: topic %s: %w", topicARN, store.ErrNotFound)
	}
	if err != nil {
		return nil, "", fmt.Errorf("pgstore: topic %s: %w", topicARN, err)
	}
	return s.listSubs(ctx, "topic_arn", topicARN, p)
}

func (s *Store) TopicSubscriptions(ctx context.Context, topicARN string) ([]store.Subscription, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+subCols+` FROM subscriptions WHERE topic_arn = $1 ORDER BY arn`, topicARN)
	if err != nil {
		return nil, fmt.Errorf("pgstore: topic subscriptions: %w", err)
	}
	subs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Subscription, error) { return scanSub(r) })
	if err != nil {
		return nil, fmt.Errorf("pgstore: topic subscriptions: %w", err)
	}
	return subs, nil
}

// ---- messages and deliveries ----

// publishSQL inserts messages ($1-$6) and deliveries ($7-$10) from arrays:
// one statement, one round trip and one commit for any number of rows.
const publishSQL = `WITH m AS (
		INSERT INTO messages (id, topic_arn, created_at, meta, body, pending_deliveries)
		SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::bytea[], $5::bytea[], $6::integer[])
	)
	INSERT INTO deliveries (subscription_arn, message_id, attempts, next_attempt_at, due_at)
	SELECT s, m, a, n, n FROM unnest($7::text[], $8::text[], $9::integer[], $10::timestamptz[]) AS d (s, m, a, n)`

// Publish writes the messages and their deliveries with one statement (a
// data-modifying WITH), hence in one transaction, committed before Publish
// returns. A message without deliveries is not stored.
func (s *Store) Publish(ctx context.Context, pubs []store.Publication) error {
	for _, p := range pubs {
		if p.Dedup != nil {
			return s.publishDedup(ctx, pubs)
		}
	}
	args, ok := publishArgs(pubs)
	if !ok {
		return nil
	}
	err := retry(ctx, func() error {
		_, err := s.pool.Exec(ctx, publishSQL, args...)
		return err
	})
	if err != nil {
		return fmt.Errorf("pgstore: publish: %w", err)
	}
	s.signal()
	return nil
}

// publishDedup is Publish for calls with FIFO deduplication records: one
// transaction claims each record (INSERT ... ON CONFLICT DO UPDATE only when
// the old record expired; a concurrent claim of the same key waits on the
// unique index), then writes the publications that are not duplicates.
func (s *Store) publishDedup(ctx context.Context, pubs []store.Publication) error {
	type dup struct {
		d       *store.Dedup
		id, seq string
		isDup   bool
	}
	var results []dup
	wrote := false
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		results = results[:0]
		var keep []store.Publication
		for _, p := range pubs {
			d := p.Dedup
			if d == nil {
				keep = append(keep, p)
				continue
			}
			var claimed string
			err := tx.QueryRow(ctx, `INSERT INTO fifo_dedup (dedup_key, message_id, sequence, expires_at) VALUES ($1, $2, $3, $4)
				ON CONFLICT (dedup_key) DO UPDATE SET message_id = EXCLUDED.message_id, sequence = EXCLUDED.sequence, expires_at = EXCLUDED.expires_at
				WHERE fifo_dedup.expires_at <= $5
				RETURNING message_id`, d.Key, d.MessageID, d.Sequence, utc(d.Expires), utc(p.Message.CreatedAt)).Scan(&claimed)
			if errors.Is(err, pgx.ErrNoRows) {
				var r dup
				r.d, r.isDup = d, true
				if err := tx.QueryRow(ctx, `SELECT message_id, sequence FROM fifo_dedup WHERE dedup_key = $1`, d.Key).Scan(&r.id, &r.seq); err != nil {
					return err
				}
				results = append(results, r)
				continue
			}
			if err != nil {
				return err
			}
			results = append(results, dup{d: d})
			keep = append(keep, p)
		}
		args, ok := publishArgs(keep)
		wrote = ok
		if !ok {
			return nil
		}
		_, err := tx.Exec(ctx, publishSQL, args...)
		return err
	})
	if err != nil {
		return fmt.Errorf("pgstore: publish: %w", err)
	}
	for _, r := range results {
		if r.isDup {
			r.d.Duplicate, r.d.MessageID, r.d.Sequence = true, r.id, r.seq
		}
	}
	if wrote {
		s.signal()
	}
	return nil
}

// SweepDedup deletes deduplication records that expired before now.
func (s *Store) SweepDedup(ctx context.Context, now time.Time) error {
	_, err := s.pool.Exec(ctx, `DELETE FROM fifo_dedup WHERE expires_at <= $1`, utc(now))
	return err
}

// publishArgs builds the arguments of publishSQL; ok is false when no
// publication has deliveries (nothing to write).
func publishArgs(pubs []store.Publication) ([]any, bool) {
	var (
		ids, topics   []string
		created       []time.Time
		metas, bodies [][]byte
		counts        []int32
		dSubs, dMsgs  []string
		dAttempts     []int32
		dNext         []time.Time
	)
	for _, p := range pubs {
		if len(p.Deliveries) == 0 {
			continue // a message nobody receives is not kept
		}
		m := p.Message
		ids = append(ids, m.ID)
		topics = append(topics, m.TopicARN)
		created = append(created, m.CreatedAt)
		metas = append(metas, nonNil(m.Meta))
		bodies = append(bodies, nonNil(m.Body))
		counts = append(counts, int32(len(p.Deliveries)))
		for _, d := range p.Deliveries {
			dSubs = append(dSubs, d.SubscriptionARN)
			dMsgs = append(dMsgs, m.ID)
			dAttempts = append(dAttempts, int32(d.Attempts))
			dNext = append(dNext, d.NextAttemptAt)
		}
	}
	if len(ids) == 0 {
		return nil, false
	}
	return []any{ids, topics, created, metas, bodies, counts, dSubs, dMsgs, dAttempts, dNext}, true
}

func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

func (s *Store) GetMessage(ctx context.Context, id string) (store.Message, error) {
	var m store.Message
	err := s.pool.QueryRow(ctx, `SELECT id, topic_arn, created_at, meta, body FROM messages WHERE id = $1`, id).
		Scan(&m.ID, &m.TopicARN, &m.CreatedAt, &m.Meta, &m.Body)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Message{}, fmt.Errorf("pgstore: message %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return store.Message{}, fmt.Errorf("pgstore: message %s: %w", id, err)
	}
	m.CreatedAt = utc(m.CreatedAt)
	return m, nil
}

// leaseQuery locks up to $4 due deliveries, skipping rows other leasers hold
// locked, stamps them with the new lease and returns them with their
// messages. A delivery is due when next_attempt_at <= now and its lease, if
// any, expired (lease_until < now).
//
// due_at is next_attempt_at while a delivery is not leased and lease_until
// while it is (so due_at <= now is implied by being due): the scan of the
// due_at index stops after the rows it returns instead of stepping over
// every delivery in flight, as an index on next_attempt_at alone would.
const leaseQuery = `WITH due AS (
		SELECT subscription_arn, message_id FROM deliveries
		WHERE due_at <= $3 AND next_attempt_at <= $3 AND (lease_until IS NULL OR lease_until < $3)
		ORDER BY due_at
		LIMIT $4
		FOR UPDATE SKIP LOCKED
	), leased AS (
		UPDATE deliveries SET lease_owner = $1, lease_until = $2, due_at = $2
		FROM due
		WHERE deliveries.subscription_arn = due.subscription_arn AND deliveries.message_id = due.message_id
		RETURNING deliveries.subscription_arn, deliveries.message_id, deliveries.attempts, deliveries.next_attempt_at
	)
	SELECT l.subscription_arn, l.message_id, l.attempts, l.next_attempt_at,
		m.id, m.topic_arn, m.created_at, m.meta, m.body
	FROM leased l LEFT JOIN messages m ON m.id = l.message_id
	ORDER BY l.next_attempt_at`

func (s *Store) LeaseDeliveries(ctx context.Context, owner string, now time.Time, d time.Duration, max int) ([]store.Lease, error) {
	if max <= 0 {
		return nil, nil
	}
	now = now.Truncate(dbPrecision)
	until := utc(now.Add(d).Truncate(dbPrecision))
	var out, orphans []store.Lease
	err := retry(ctx, func() error {
		out, orphans = out[:0], orphans[:0]
		rows, err := s.pool.Query(ctx, leaseQuery, owner, until, now, max)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			l := store.Lease{Owner: owner, LeaseUntil: until}
			var mid, mtopic *string
			var mcreated *time.Time
			if err := rows.Scan(&l.SubscriptionARN, &l.MessageID, &l.Attempts, &l.NextAttemptAt,
				&mid, &mtopic, &mcreated, &l.Message.Meta, &l.Message.Body); err != nil {
				return err
			}
			l.NextAttemptAt = utc(l.NextAttemptAt)
			if mid == nil {
				orphans = append(orphans, l)
				continue
			}
			l.Message.ID, l.Message.TopicARN, l.Message.CreatedAt = *mid, *mtopic, utc(*mcreated)
			out = append(out, l)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("pgstore: lease deliveries: %w", err)
	}
	// A delivery whose message is gone has nothing to deliver. Not expected
	// (messages count their deliveries), but never lease it forever.
	for _, l := range orphans {
		if _, err := s.pool.Exec(ctx, `DELETE FROM deliveries WHERE subscription_arn = $1 AND message_id = $2
			AND lease_owner = $3 AND lease_until = $4`, l.SubscriptionARN, l.MessageID, l.Owner, l.LeaseUntil); err != nil {
			return nil, fmt.Errorf("pgstore: lease deliveries: %w", err)
		}
	}
	return out, nil
}

// leaseState tells why a delivery no longer matches a lease: gone
// (ErrNotFound) or leased by someone else (ErrLeaseLost).
func leaseState(ctx context.Context, q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}, l store.Lease) error {
	var one int
	err := q.QueryRow(ctx, `SELECT 1 FROM deliveries WHERE subscription_arn = $1 AND message_id = $2`,
		l.SubscriptionARN, l.MessageID).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.ErrNotFound
	}
	if err != nil {
		return err
	}
	return store.ErrLeaseLost
}

// Ack deletes the delivery if the lease still holds (the row carries l.Owner
// and l.LeaseUntil, even if expired) and deletes its message once no delivery
// references it. Acking a delivery that is already gone is a no-op; one that
// another owner leased since returns ErrLeaseLost.
func (s *Store) Ack(ctx context.Context, l store.Lease) error {
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var deleted int
		var left *int32
		err := tx.QueryRow(ctx, `WITH d AS (
				DELETE FROM deliveries
				WHERE subscription_arn = $1 AND message_id = $2 AND lease_owner = $3 AND lease_until = $4
				RETURNING message_id
			), u AS (
				UPDATE messages SET pending_deliveries = pending_deliveries - 1
				WHERE id IN (SELECT message_id FROM d)
				RETURNING pending_deliveries
			)
			SELECT (SELECT count(*) FROM d), (SELECT min(pending_deliveries) FROM u)`,
			l.SubscriptionARN, l.MessageID, l.Owner, l.LeaseUntil).Scan(&deleted, &left)
		if err != nil {
			return err
		}
		if deleted == 0 {
			return leaseState(ctx, tx, l)
		}
		if left != nil && *left <= 0 {
			_, err = tx.Exec(ctx, `DELETE FROM messages WHERE id = $1 AND pending_deliveries <= 0`, l.MessageID)
		}
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil // already gone
	}
	if err != nil {
		return fmt.Errorf("pgstore: ack %s/%s: %w", l.SubscriptionARN, l.MessageID, err)
	}
	return nil
}

// Retry releases the lease and makes the delivery due at next, if the lease
// still holds; otherwise it returns ErrLeaseLost (or ErrNotFound if the
// delivery is gone).
func (s *Store) Retry(ctx context.Context, l store.Lease, attempts int, next time.Time) error {
	tag, err := s.pool.Exec(ctx, `UPDATE deliveries
		SET attempts = $5, next_attempt_at = $6, due_at = $6, lease_owner = NULL, lease_until = NULL
		WHERE subscription_arn = $1 AND message_id = $2 AND lease_owner = $3 AND lease_until = $4`,
		l.SubscriptionARN, l.MessageID, l.Owner, l.LeaseUntil, attempts, next)
	if err == nil && tag.RowsAffected() == 0 {
		err = leaseState(ctx, s.pool, l)
	}
	if err != nil {
		return fmt.Errorf("pgstore: retry %s/%s: %w", l.SubscriptionARN, l.MessageID, err)
	}
	s.signal()
	return nil
}

func (s *Store) PendingDeliveries(ctx context.Context, subscriptionARN string) (int, error) {
	var n int
	var err error
	if subscriptionARN == "" {
		err = s.pool.QueryRow(ctx, `SELECT count(*) FROM deliveries`).Scan(&n)
	} else {
		err = s.pool.QueryRow(ctx, `SELECT count(*) FROM deliveries WHERE subscription_arn = $1`, subscriptionARN).Scan(&n)
	}
	if err != nil {
		return 0, fmt.Errorf("pgstore: pending deliveries: %w", err)
	}
	return n, nil
}

var (
	_ store.Store = (*Store)(nil)
	_ store.Waker = (*Store)(nil)
)

// AckAll implements store.BatchAcker: one transaction deletes every delivery
// still leased as given, decrements the messages' pending counts, and deletes
// the messages that reach zero. Messages are updated in id order so that
// concurrent batches from several nodes do not deadlock (and if they do,
// the transaction is retried).
func (s *Store) AckAll(ctx context.Context, ls []store.Lease) error {
	if len(ls) == 0 {
		return nil
	}
	subs := make([]string, len(ls))
	msgs := make([]string, len(ls))
	owners := make([]string, len(ls))
	until := make([]time.Time, len(ls))
	for i, l := range ls {
		subs[i], msgs[i], owners[i], until[i] = l.SubscriptionARN, l.MessageID, l.Owner, utc(l.LeaseUntil)
	}
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `WITH input AS (
				SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[]) AS t(sub, msg, owner, lu)
			), d AS (
				DELETE FROM deliveries USING input
				WHERE deliveries.subscription_arn = input.sub AND deliveries.message_id = input.msg
				  AND deliveries.lease_owner = input.owner AND deliveries.lease_until = input.lu
				RETURNING deliveries.message_id
			), c AS (
				SELECT message_id, count(*) AS n FROM d GROUP BY message_id
			), ordered AS (
				SELECT messages.id FROM messages, c WHERE messages.id = c.message_id ORDER BY messages.id FOR UPDATE
			)
			UPDATE messages SET pending_deliveries = messages.pending_deliveries - c.n
			FROM c WHERE messages.id = c.message_id AND messages.id IN (SELECT id FROM ordered)
			RETURNING messages.id, messages.pending_deliveries`, subs, msgs, owners, until)
		if err != nil {
			return err
		}
		var done []string
		for rows.Next() {
			var id string
			var left int32
			if err := rows.Scan(&id, &left); err != nil {
				rows.Close()
				return err
			}
			if left <= 0 {
				done = append(done, id)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if len(done) > 0 {
			_, err = tx.Exec(ctx, `DELETE FROM messages WHERE id = ANY($1) AND pending_deliveries <= 0`, done)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("pgstore: ack %d deliveries: %w", len(ls), err)
	}
	return nil
}

var _ store.BatchAcker = (*Store)(nil)
