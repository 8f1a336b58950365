// Package pebblestore is Sealpost's embedded default store, built on
// cockroachdb/pebble. It implements store.Store for a single process.
//
// Durability: control-plane writes and Publish commit with pebble.Sync;
// concurrent synced commits share one WAL fsync (group commit). Ack and Retry
// commit without sync: losing one in a crash only causes a duplicate delivery
// or an earlier retry, which at-least-once delivery allows.
//
// Key layout (all keys are prefixed by a one-letter table name and '/'):
//
//	t/<topicARN>                         topic (JSON)
//	s/<subscriptionARN>                  subscription (JSON)
//	i/<topicARN>\x00<subscriptionARN>    topic -> subscription index
//	m/<messageID>                        message (binary, see encodeMessage)
//	c/<messageID>                        remaining deliveries of a message, when more than one
//	d/<subscriptionARN>\x00<messageID>   pending delivery: attempts, next attempt, seq
//	q/<due:8><seq:8><subscriptionARN>\x00<messageID>  due index (empty value)
//	f/<dedup key>                        FIFO deduplication record (binary)
//	v/queue                              layout version of d/ and q/
//
// The key store (store.KeyStore, for KMS) uses upper-case tables K/ L/ E/ N/
// A/ G/ H/ R/; see keys.go. The queue store (store.QueueStore, for SQS) uses
// Q/ M/ V/; see queues.go.
//
// A subscription's pending deliveries are contiguous; the q/ index orders all
// of them by due time, then publish sequence. Publish, Retry and Ack write a
// delivery's d/ and q/ keys in one batch.
//
// Memory holds no per-delivery state for the backlog: only a bounded window
// of q/ keys due soon (at most defaultWinCap, refilled by scanning q/), the
// leases held now (the database is owned by one process, so leases live in
// memory and after a restart every leased delivery is due again), and one
// pending count per subscription, rebuilt by a scan of d/ on Open. See
// queue.go.
package pebblestore

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"

	"github.com/sealpost/sealpost/internal/store"
)

// Store is the pebble driver. Create it with Open.
type Store struct {
	db *pebble.DB

	cpMu sync.Mutex // serialises control-plane read-modify-write

	dedupMu [dedupStripes]sync.Mutex // see lockDedup

	queues queueLocks // SQS queue locks and sequences; see queues.go

	mu  sync.Mutex // guards q and every write to d/, q/ and c/ except Publish's
	q   queue
	seq atomic.Uint64 // last publish sequence

	ready chan struct{}

	closeOnce sync.Once
	closeErr  error
}

// Options configure OpenWith. The zero value is valid.
type Options struct {
	// Logger receives pebble's errors and warnings, and its informational
	// messages at debug level. Nil means slog.Default().
	Logger *slog.Logger
}

// Open opens (creating if needed) the store in dir, logging to slog.Default().
func Open(dir string) (*Store, error) { return OpenWith(dir, Options{}) }

// OpenWith opens (creating if needed) the store in dir.
func OpenWith(dir string, o Options) (*Store, error) {
	opts := pebbleOptions(o)
	db, err := pebble.Open(dir, opts)
	opts.Cache.Unref() // the DB holds its own reference
	if err != nil {
		return nil, fmt.Errorf("pebblestore: open %s: %w", dir, err)
	}
	s := &Store{
		db: db,
		q: queue{
			end:     "q/",
			winCap:  defaultWinCap,
			horizon: defaultHorizon,
			chunk:   defaultChunk,
			leases:  map[string]*lease{},
			counts:  map[string]int{},
		},
		ready: make(chan struct{}, 1),
	}
	if err := s.loadIndex(); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

func pebbleOptions(o Options) *pebble.Options {
	log := o.Logger
	if log == nil {
		log = slog.Default()
	}
	log = log.With("component", "pebble")
	l := slogLogger{log}
	opts := &pebble.Options{
		Logger: l,
		EventListener: &pebble.EventListener{
			BackgroundError: func(err error) { log.Error("background error", "err", err) },
			DiskSlow: func(info pebble.DiskSlowInfo) {
				log.Warn("disk slow", "path", info.Path, "op", info.OpType.String(), "duration", info.Duration)
			},
			WriteStallBegin: func(info pebble.WriteStallBeginInfo) { log.Info("write stall", "reason", info.Reason) },
			WriteStallEnd:   func() { log.Debug("write stall ended") },
		},
	}
	// Bloom filters on every level: leasing reads a delivery and its message
	// by key, which without filters searches every L0 file and level.
	opts.Levels[0].FilterPolicy = bloom.FilterPolicy(10)
	// The block cache keeps leasing's reads off the disk. Pebble allocates it
	// outside the Go heap when built with cgo, on the Go heap without
	// (blockCacheSize is smaller then; see cache_cgo.go).
	opts.Cache = pebble.NewCache(blockCacheSize)
	return opts
}

// slogLogger routes pebble's log to slog: errors at error level, the rest
// at debug level. Fatalf logs and panics, as pebble expects it not to return.
type slogLogger struct{ l *slog.Logger }

func (s slogLogger) Infof(format string, args ...interface{}) {
	s.l.Debug(fmt.Sprintf(format, args...))
}

func (s slogLogger) Errorf(format string, args ...interface{}) {
	s.l.Error(fmt.Sprintf(format, args...))
}

func (s slogLogger) Fatalf(format string, args ...interface{}) {
	msg := fmt.Sprintf(format, args...)
	s.l.Error(msg)
	panic("pebble: " + msg)
}

// Close closes the database. Closing twice is a no-op.
func (s *Store) Close() error {
	s.closeOnce.Do(func() { s.closeErr = s.db.Close() })
	return s.closeErr
}

// DeliveriesReady implements store.Waker.
func (s *Store) DeliveriesReady() <-chan struct{} { return s.ready }

func (s *Store) wake() {
	select {
	case s.ready <- struct{}{}:
	default:
	}
}

func key(table byte, parts ...string) []byte {
	n := 2
	for _, p := range parts {
		n += len(p) + 1
	}
	b := make([]byte, 0, n)
	b = append(b, table, '/')
	for i, p := range parts {
		if i > 0 {
			b = append(b, 0)
		}
		b = append(b, p...)
	}
	return b
}

func prefixEnd(p []byte) []byte {
	end := append([]byte(nil), p...)
	for i := len(end) - 1; i >= 0; i-- {
		end[i]++
		if end[i] != 0 {
			return end[:i+1]
		}
	}
	return nil
}

func (s *Store) getJSON(k []byte, v any) error {
	b, closer, err := s.db.Get(k)
	if errors.Is(err, pebble.ErrNotFound) {
		return store.ErrNotFound
	}
	if err != nil {
		return err
	}
	defer closer.Close()
	return json.Unmarshal(b, v)
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // records are plain structs; cannot fail
	}
	return b
}

// ---- topics ----

func (s *Store) CreateTopic(ctx context.Context, t store.Topic) (store.Topic, error) {
	s.cpMu.Lock()
	defer s.cpMu.Unlock()
	var old store.Topic
	if err := s.getJSON(key('t', t.ARN), &old); err == nil {
		return old, fmt.Errorf("topic %s: %w", t.ARN, store.ErrExists)
	} else if !errors.Is(err, store.ErrNotFound) {
		return store.Topic{}, err
	}
	if err := s.db.Set(key('t', t.ARN), mustJSON(t), pebble.Sync); err != nil {
		return store.Topic{}, err
	}
	return t, nil
}

func (s *Store) GetTopic(ctx context.Context, arn string) (store.Topic, error) {
	var t store.Topic
	if err := s.getJSON(key('t', arn), &t); err != nil {
		return store.Topic{}, fmt.Errorf("topic %s: %w", arn, err)
	}
	return t, nil
}

func (s *Store) UpdateTopic(ctx context.Context, arn string, fn func(*store.Topic) error) (store.Topic, error) {
	s.cpMu.Lock()
	defer s.cpMu.Unlock()
	var t store.Topic
	if err := s.getJSON(key('t', arn), &t); err != nil {
		return store.Topic{}, fmt.Errorf("topic %s: %w", arn, err)
	}
	if err := fn(&t); err != nil {
		return store.Topic{}, err
	}
	t.ARN = arn
	if err := s.db.Set(key('t', arn), mustJSON(t), pebble.Sync); err != nil {
		return store.Topic{}, err
	}
	return t, nil
}

func (s *Store) DeleteTopic(ctx context.Context, arn string) ([]store.Subscription, error) {
	s.cpMu.Lock()
	defer s.cpMu.Unlock()
	var t store.Topic
	if err := s.getJSON(key('t', arn), &t); err != nil {
		return nil, fmt.Errorf("topic %s: %w", arn, err)
	}
	subs, err := s.topicSubs(arn)
	if err != nil {
		return nil, err
	}
	b := s.db.NewBatch()
	defer b.Close()
	b.Delete(key('t', arn), nil)
	for _, sub := range subs {
		s.deleteSubBatch(b, sub)
	}
	if err := b.Commit(pebble.Sync); err != nil {
		return nil, err
	}
	for _, sub := range subs {
		if err := s.purgeDeliveries(sub.ARN); err != nil {
			return nil, fmt.Errorf("pebblestore: delete topic %s: %w", arn, err)
		}
	}
	return subs, nil
}

func (s *Store) ListTopics(ctx context.Context, account, region string, p store.Page) ([]store.Topic, string, error) {
	prefix := key('t', "arn:aws:sns:"+region+":"+account+":")
	var out []store.Topic
	next, err := s.scan(prefix, p, func(v []byte) (string, bool, error) {
		var t store.Topic
		if err := json.Unmarshal(v, &t); err != nil {
			return "", false, err
		}
		out = append(out, t)
		return t.ARN, true, nil
	})
	return out, next, err
}

// scan iterates the keys under prefix after the cursor p.After (a record id
// appended to prefix minus its table part) and calls fn for each value until
// p.Limit records were accepted. It returns the cursor for the next page.
func (s *Store) scan(prefix []byte, p store.Page, fn func(v []byte) (id string, accepted bool, err error)) (string, error) {
	limit := p.Limit
	if limit <= 0 {
		limit = 100
	}
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: prefixEnd(prefix)})
	if err != nil {
		return "", err
	}
	defer it.Close()
	var ok bool
	if p.After != "" {
		ok = it.SeekGE(append(key(prefix[0], p.After), 0))
	} else {
		ok = it.First()
	}
	n := 0
	last := ""
	for ; ok; ok = it.Next() {
		if n == limit {
			return last, nil
		}
		v, err := it.ValueAndErr()
		if err != nil {
			return "", err
		}
		id, accepted, err := fn(v)
		if err != nil {
			return "", err
		}
		if accepted {
			n++
			last = id
		}
	}
	return "", it.Error()
}

// ---- subscriptions ----

func (s *Store) topicSubs(topicARN string) ([]store.Subscription, error) {
	prefix := append(key('i', topicARN), 0)
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: prefixEnd(prefix)})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	var out []store.Subscription
	for ok := it.First(); ok; ok = it.Next() {
		arn := string(it.Key()[len(prefix):])
		var sub store.Subscription
		if err := s.getJSON(key('s', arn), &sub); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			return nil, err
		}
		out = append(out, sub)
	}
	return out, it.Error()
}

func (s *Store) CreateSubscription(ctx context.Context, sub store.Subscription) (store.Subscription, error) {
	s.cpMu.Lock()
	defer s.cpMu.Unlock()
	var t store.Topic
	if err := s.getJSON(key('t', sub.TopicARN), &t); err != nil {
		return store.Subscription{}, fmt.Errorf("topic %s: %w", sub.TopicARN, err)
	}
	existing, err := s.topicSubs(sub.TopicARN)
	if err != nil {
		return store.Subscription{}, err
	}
	for _, e := range existing {
		if e.Protocol == sub.Protocol && e.Endpoint == sub.Endpoint {
			return e, fmt.Errorf("subscription %s: %w", e.ARN, store.ErrExists)
		}
	}
	b := s.db.NewBatch()
	defer b.Close()
	b.Set(key('s', sub.ARN), mustJSON(sub), nil)
	b.Set(key('i', sub.TopicARN, sub.ARN), nil, nil)
	if err := b.Commit(pebble.Sync); err != nil {
		return store.Subscription{}, err
	}
	return sub, nil
}

func (s *Store) GetSubscription(ctx context.Context, arn string) (store.Subscription, error) {
	var sub store.Subscription
	if err := s.getJSON(key('s', arn), &sub); err != nil {
		return store.Subscription{}, fmt.Errorf("subscription %s: %w", arn, err)
	}
	return sub, nil
}

func (s *Store) UpdateSubscription(ctx context.Context, arn string, fn func(*store.Subscription) error) (store.Subscription, error) {
	s.cpMu.Lock()
	defer s.cpMu.Unlock()
	var sub store.Subscription
	if err := s.getJSON(key('s', arn), &sub); err != nil {
		return store.Subscription{}, fmt.Errorf("subscription %s: %w", arn, err)
	}
	if err := fn(&sub); err != nil {
		return store.Subscription{}, err
	}
	sub.ARN = arn
	if err := s.db.Set(key('s', arn), mustJSON(sub), pebble.Sync); err != nil {
		return store.Subscription{}, err
	}
	return sub, nil
}

func (s *Store) deleteSubBatch(b *pebble.Batch, sub store.Subscription) {
	b.Delete(key('s', sub.ARN), nil)
	b.Delete(key('i', sub.TopicARN, sub.ARN), nil)
}

func (s *Store) DeleteSubscription(ctx context.Context, arn string) error {
	s.cpMu.Lock()
	defer s.cpMu.Unlock()
	var sub store.Subscription
	if err := s.getJSON(key('s', arn), &sub); err != nil {
		return fmt.Errorf("subscription %s: %w", arn, err)
	}
	b := s.db.NewBatch()
	defer b.Close()
	s.deleteSubBatch(b, sub)
	if err := b.Commit(pebble.Sync); err != nil {
		return err
	}
	if err := s.purgeDeliveries(arn); err != nil {
		return fmt.Errorf("pebblestore: delete subscription %s: %w", arn, err)
	}
	return nil
}

func (s *Store) ListSubscriptions(ctx context.Context, account, region string, p store.Page) ([]store.Subscription, string, error) {
	prefix := key('s', "arn:aws:sns:"+region+":"+account+":")
	var out []store.Subscription
	next, err := s.scan(prefix, p, func(v []byte) (string, bool, error) {
		var sub store.Subscription
		if err := json.Unmarshal(v, &sub); err != nil {
			return "", false, err
		}
		out = append(out, sub)
		return sub.ARN, true, nil
	})
	return out, next, err
}

func (s *Store) ListSubscriptionsByTopic(ctx context.Context, topicARN string, p store.Page) ([]store.Subscription, string, error) {
	if _, err := s.GetTopic(ctx, topicARN); err != nil {
		return nil, "", err
	}
	prefix := key('s', topicARN+":")
	var out []store.Subscription
	next, err := s.scan(prefix, p, func(v []byte) (string, bool, error) {
		var sub store.Subscription
		if err := json.Unmarshal(v, &sub); err != nil {
			return "", false, err
		}
		if sub.TopicARN != topicARN {
			return "", false, nil
		}
		out = append(out, sub)
		return sub.ARN, true, nil
	})
	return out, next, err
}

func (s *Store) TopicSubscriptions(ctx context.Context, topicARN string) ([]store.Subscription, error) {
	return s.topicSubs(topicARN)
}

// ---- messages and deliveries ----

// encodeMessage: version byte 1, then uvarint-length-prefixed ID, TopicARN,
// varint CreatedAt (unix nanoseconds), length-prefixed Meta and Body.
func encodeMessage(m store.Message) []byte {
	b := make([]byte, 0, 1+len(m.ID)+len(m.TopicARN)+len(m.Meta)+len(m.Body)+32)
	b = append(b, 1)
	b = appendBytes(b, []byte(m.ID))
	b = appendBytes(b, []byte(m.TopicARN))
	b = binary.AppendVarint(b, m.CreatedAt.UnixNano())
	b = appendBytes(b, m.Meta)
	b = appendBytes(b, m.Body)
	return b
}

func appendBytes(b, v []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(v)))
	return append(b, v...)
}

var errCorrupt = errors.New("pebblestore: corrupt record")

func readBytes(b []byte) (v, rest []byte, err error) {
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)-k) {
		return nil, nil, errCorrupt
	}
	return b[k : k+int(n)], b[k+int(n):], nil
}

func decodeMessage(b []byte) (store.Message, error) {
	if len(b) < 1 || b[0] != 1 {
		return store.Message{}, errCorrupt
	}
	b = b[1:]
	var m store.Message
	id, b, err := readBytes(b)
	if err != nil {
		return m, err
	}
	topic, b, err := readBytes(b)
	if err != nil {
		return m, err
	}
	ns, k := binary.Varint(b)
	if k <= 0 {
		return m, errCorrupt
	}
	b = b[k:]
	meta, b, err := readBytes(b)
	if err != nil {
		return m, err
	}
	body, _, err := readBytes(b)
	if err != nil {
		return m, err
	}
	m.ID, m.TopicARN = string(id), string(topic)
	m.CreatedAt = time.Unix(0, ns).UTC()
	m.Meta = append([]byte(nil), meta...)
	m.Body = append([]byte(nil), body...)
	return m, nil
}

// dedupStripes serialise publications that share deduplication keys (by
// hash), so that check-then-write is atomic without a global lock.
const dedupStripes = 64

// lockDedup locks the stripes of every dedup key in pubs, in order, and
// returns the unlock function.
func (s *Store) lockDedup(pubs []store.Publication) func() {
	var need [dedupStripes]bool
	found := false
	for _, p := range pubs {
		if p.Dedup != nil {
			h := fnv.New32a()
			h.Write([]byte(p.Dedup.Key))
			need[h.Sum32()%dedupStripes] = true
			found = true
		}
	}
	if !found {
		return func() {}
	}
	for i := range need {
		if need[i] {
			s.dedupMu[i].Lock()
		}
	}
	return func() {
		for i := range need {
			if need[i] {
				s.dedupMu[i].Unlock()
			}
		}
	}
}

// liveDedup returns the live record for k at now: one written earlier in
// this call, or one in the database. Expired records are simply overwritten.
func (s *Store) liveDedup(k string, now time.Time, seen map[string]*store.Dedup) (*store.Dedup, error) {
	if d := seen[k]; d != nil {
		return d, nil
	}
	v, closer, err := s.db.Get(key('f', k))
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer closer.Close()
	d, err := decodeDedup(v)
	if err != nil {
		return nil, err
	}
	if !d.Expires.After(now) {
		return nil, nil
	}
	return &d, nil
}

// dedup record: length-prefixed message id and sequence, varint expiry (unix ns).
func encodeDedup(d *store.Dedup) []byte {
	b := appendBytes(nil, []byte(d.MessageID))
	b = appendBytes(b, []byte(d.Sequence))
	return binary.AppendVarint(b, d.Expires.UnixNano())
}

func decodeDedup(b []byte) (store.Dedup, error) {
	id, b, err := readBytes(b)
	if err != nil {
		return store.Dedup{}, err
	}
	seq, b, err := readBytes(b)
	if err != nil {
		return store.Dedup{}, err
	}
	ns, k := binary.Varint(b)
	if k <= 0 {
		return store.Dedup{}, errCorrupt
	}
	return store.Dedup{MessageID: string(id), Sequence: string(seq), Expires: time.Unix(0, ns)}, nil
}

// SweepDedup deletes deduplication records that expired before now. The
// server calls it now and then; expired records are also ignored when read.
func (s *Store) SweepDedup(ctx context.Context, now time.Time) error {
	prefix := []byte("f/")
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: prefixEnd(prefix)})
	if err != nil {
		return err
	}
	b := s.db.NewBatch()
	defer b.Close()
	for ok := it.First(); ok; ok = it.Next() {
		if d, err := decodeDedup(it.Value()); err == nil && !d.Expires.After(now) {
			b.Delete(append([]byte(nil), it.Key()...), nil)
		}
	}
	if err := it.Close(); err != nil {
		return err
	}
	return b.Commit(pebble.NoSync)
}

func (s *Store) GetMessage(ctx context.Context, id string) (store.Message, error) {
	b, closer, err := s.db.Get(key('m', id))
	if errors.Is(err, pebble.ErrNotFound) {
		return store.Message{}, fmt.Errorf("message %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return store.Message{}, err
	}
	defer closer.Close()
	return decodeMessage(b)
}
