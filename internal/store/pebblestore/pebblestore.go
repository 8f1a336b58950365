// Package pebblestore is Sealpost's embedded default store, built on
// cockroachdb/pebble. It implements store.Store for a single process.
//
// Durability: control-plane writes and Publish commit with pebble.Sync;
// concurrent synced commits share one WAL fsync (group commit). Ack and Retry
// commit without sync: losing one in a crash only causes a duplicate delivery
// or an earlier retry, which at-least-once delivery allows.
//
// Leases live in memory: the database is owned by one process, so after a
// restart every pending delivery is due again. The in-memory delivery index is
// rebuilt from disk on Open.
//
// Key layout (all keys are prefixed by a one-letter table name and '/'):
//
//	t/<topicARN>                         topic (JSON)
//	s/<subscriptionARN>                  subscription (JSON)
//	i/<topicARN>\x00<subscriptionARN>    topic -> subscription index
//	m/<messageID>                        message (binary, see encodeMessage)
//	d/<subscriptionARN>\x00<seq:8><messageID>  pending delivery (binary)
//	f/<dedup key>                        FIFO deduplication record (binary)
//
// A subscription's pending deliveries are contiguous and ordered by publish
// sequence.
package pebblestore

import (
	"container/heap"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"strings"
	"sync"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/sealpost/sealpost/internal/store"
)

// Store is the pebble driver. Create it with Open.
type Store struct {
	db *pebble.DB

	cpMu sync.Mutex // serialises control-plane read-modify-write

	dedupMu [dedupStripes]sync.Mutex // see lockDedup

	mu    sync.Mutex                    // guards the delivery index below
	subs  map[string]map[string]*dstate // subscription ARN -> message ID -> state
	refs  map[string]int                // message ID -> pending deliveries
	queue dueHeap
	seq   uint64

	ready chan struct{}

	closeOnce sync.Once
	closeErr  error
}

type dstate struct {
	key        []byte
	sub, msg   string
	attempts   int
	due        time.Time
	owner      string
	leaseUntil time.Time
	gen        uint64
}

// Open opens (creating if needed) the store in dir.
func Open(dir string) (*Store, error) {
	opts := &pebble.Options{Logger: quietLogger{}}
	db, err := pebble.Open(dir, opts)
	if err != nil {
		return nil, fmt.Errorf("pebblestore: open %s: %w", dir, err)
	}
	s := &Store{
		db:    db,
		subs:  map[string]map[string]*dstate{},
		refs:  map[string]int{},
		ready: make(chan struct{}, 1),
	}
	if err := s.loadDeliveries(); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

type quietLogger struct{}

func (quietLogger) Infof(string, ...interface{})  {}
func (quietLogger) Errorf(string, ...interface{}) {}
func (quietLogger) Fatalf(format string, args ...interface{}) {
	panic(fmt.Sprintf("pebble: "+format, args...))
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
		s.dropSubDeliveries(sub.ARN)
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
	dp := append(key('d', sub.ARN), 0)
	b.DeleteRange(dp, prefixEnd(dp), nil)
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
	s.dropSubDeliveries(arn)
	return nil
}

// dropSubDeliveries forgets the in-memory deliveries of a deleted
// subscription and deletes messages nobody else waits for.
func (s *Store) dropSubDeliveries(subARN string) {
	s.mu.Lock()
	ds := s.subs[subARN]
	delete(s.subs, subARN)
	var orphans []string
	for msg := range ds {
		if s.unref(msg) {
			orphans = append(orphans, msg)
		}
	}
	s.mu.Unlock()
	if len(orphans) > 0 {
		b := s.db.NewBatch()
		for _, m := range orphans {
			b.Delete(key('m', m), nil)
		}
		_ = b.Commit(pebble.NoSync) // a leftover message is only garbage
		b.Close()
	}
}

// unref drops one reference to msg; it reports whether none remain. s.mu held.
func (s *Store) unref(msg string) bool {
	n := s.refs[msg] - 1
	if n > 0 {
		s.refs[msg] = n
		return false
	}
	delete(s.refs, msg)
	return true
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

// delivery value: uvarint attempts, varint next-attempt unix nanoseconds.
func encodeDelivery(attempts int, next time.Time) []byte {
	b := binary.AppendUvarint(nil, uint64(attempts))
	return binary.AppendVarint(b, next.UnixNano())
}

func decodeDelivery(b []byte) (int, time.Time, error) {
	a, k := binary.Uvarint(b)
	if k <= 0 {
		return 0, time.Time{}, errCorrupt
	}
	ns, k2 := binary.Varint(b[k:])
	if k2 <= 0 {
		return 0, time.Time{}, errCorrupt
	}
	return int(a), time.Unix(0, ns), nil
}

func deliveryKey(sub string, seq uint64, msg string) []byte {
	k := append(key('d', sub), 0)
	k = binary.BigEndian.AppendUint64(k, seq)
	return append(k, msg...)
}

func (s *Store) Publish(ctx context.Context, pubs []store.Publication) error {
	unlock := s.lockDedup(pubs)
	defer unlock()
	b := s.db.NewBatch()
	defer b.Close()
	var states []*dstate
	s.mu.Lock()
	base := s.seq
	s.seq += uint64(len(pubs))
	s.mu.Unlock()
	writes := 0
	seen := map[string]*store.Dedup{} // dedup records written by this call
	for i, p := range pubs {
		if d := p.Dedup; d != nil {
			if prev, err := s.liveDedup(d.Key, p.Message.CreatedAt, seen); err != nil {
				return err
			} else if prev != nil {
				d.Duplicate, d.MessageID, d.Sequence = true, prev.MessageID, prev.Sequence
				continue
			}
			b.Set(key('f', d.Key), encodeDedup(d), nil)
			seen[d.Key] = d
			writes++
		}
		if len(p.Deliveries) == 0 {
			continue // a message nobody receives is not kept
		}
		if err := b.Set(key('m', p.Message.ID), encodeMessage(p.Message), nil); err != nil {
			return err
		}
		writes++
		for _, d := range p.Deliveries {
			k := deliveryKey(d.SubscriptionARN, base+uint64(i)+1, p.Message.ID)
			if err := b.Set(k, encodeDelivery(d.Attempts, d.NextAttemptAt), nil); err != nil {
				return err
			}
			states = append(states, &dstate{key: k, sub: d.SubscriptionARN, msg: p.Message.ID, attempts: d.Attempts, due: d.NextAttemptAt})
		}
	}
	if writes == 0 {
		return nil
	}
	if err := b.Commit(pebble.Sync); err != nil {
		return fmt.Errorf("pebblestore: publish: %w", err)
	}
	if len(states) == 0 {
		return nil
	}
	s.mu.Lock()
	for _, st := range states {
		s.track(st)
	}
	s.mu.Unlock()
	s.wake()
	return nil
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

// track adds a delivery to the in-memory index. s.mu held.
func (s *Store) track(st *dstate) {
	m := s.subs[st.sub]
	if m == nil {
		m = map[string]*dstate{}
		s.subs[st.sub] = m
	}
	if _, dup := m[st.msg]; dup {
		return
	}
	m[st.msg] = st
	s.refs[st.msg]++
	heap.Push(&s.queue, dueItem{st: st, due: st.due, gen: st.gen})
}

func (s *Store) loadDeliveries() error {
	prefix := []byte("d/")
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: prefixEnd(prefix)})
	if err != nil {
		return err
	}
	defer it.Close()
	for ok := it.First(); ok; ok = it.Next() {
		k := append([]byte(nil), it.Key()...)
		rest := k[2:]
		i := strings.IndexByte(string(rest), 0)
		if i < 0 || len(rest) < i+1+8 {
			continue
		}
		sub := string(rest[:i])
		seq := binary.BigEndian.Uint64(rest[i+1 : i+9])
		msg := string(rest[i+9:])
		attempts, due, err := decodeDelivery(it.Value())
		if err != nil {
			return err
		}
		if seq > s.seq {
			s.seq = seq
		}
		s.track(&dstate{key: k, sub: sub, msg: msg, attempts: attempts, due: due})
	}
	return it.Error()
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

func (s *Store) LeaseDeliveries(ctx context.Context, owner string, now time.Time, d time.Duration, max int) ([]store.Lease, error) {
	var picked []store.Lease
	s.mu.Lock()
	for len(picked) < max && s.queue.Len() > 0 {
		top := s.queue[0]
		if top.due.After(now) {
			break
		}
		heap.Pop(&s.queue)
		st := top.st
		if cur := s.subs[st.sub][st.msg]; cur != st || st.gen != top.gen {
			continue // stale heap entry
		}
		st.gen++
		st.owner = owner
		st.leaseUntil = now.Add(d)
		heap.Push(&s.queue, dueItem{st: st, due: st.leaseUntil, gen: st.gen})
		picked = append(picked, store.Lease{
			Delivery:   store.Delivery{SubscriptionARN: st.sub, MessageID: st.msg, Attempts: st.attempts, NextAttemptAt: st.due},
			Owner:      owner,
			LeaseUntil: st.leaseUntil,
		})
	}
	s.mu.Unlock()
	out := picked[:0]
	for _, l := range picked {
		m, err := s.GetMessage(ctx, l.MessageID)
		if errors.Is(err, store.ErrNotFound) {
			_ = s.Ack(ctx, l) // message gone: nothing to deliver
			continue
		}
		if err != nil {
			return nil, err
		}
		l.Message = m
		out = append(out, l)
	}
	return out, nil
}

// lookup returns the state of a leased delivery if the lease still holds. s.mu held.
func (s *Store) lookup(l store.Lease) (*dstate, error) {
	st := s.subs[l.SubscriptionARN][l.MessageID]
	if st == nil {
		return nil, store.ErrNotFound
	}
	if st.owner != l.Owner || !st.leaseUntil.Equal(l.LeaseUntil) {
		return nil, store.ErrLeaseLost
	}
	return st, nil
}

func (s *Store) Ack(ctx context.Context, l store.Lease) error {
	s.mu.Lock()
	st := s.subs[l.SubscriptionARN][l.MessageID]
	if st == nil {
		s.mu.Unlock()
		return nil // already gone
	}
	delete(s.subs[l.SubscriptionARN], l.MessageID)
	if len(s.subs[l.SubscriptionARN]) == 0 {
		delete(s.subs, l.SubscriptionARN)
	}
	last := s.unref(l.MessageID)
	s.mu.Unlock()
	b := s.db.NewBatch()
	defer b.Close()
	b.Delete(st.key, nil)
	if last {
		b.Delete(key('m', l.MessageID), nil)
	}
	return b.Commit(pebble.NoSync)
}

func (s *Store) Retry(ctx context.Context, l store.Lease, attempts int, next time.Time) error {
	s.mu.Lock()
	st, err := s.lookup(l)
	if err != nil {
		s.mu.Unlock()
		return fmt.Errorf("delivery %s/%s: %w", l.SubscriptionARN, l.MessageID, err)
	}
	st.gen++
	st.attempts = attempts
	st.due = next
	st.owner = ""
	st.leaseUntil = time.Time{}
	heap.Push(&s.queue, dueItem{st: st, due: next, gen: st.gen})
	k := st.key
	s.mu.Unlock()
	s.wake()
	return s.db.Set(k, encodeDelivery(attempts, next), pebble.NoSync)
}

func (s *Store) PendingDeliveries(ctx context.Context, subscriptionARN string) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if subscriptionARN != "" {
		return len(s.subs[subscriptionARN]), nil
	}
	n := 0
	for _, m := range s.subs {
		n += len(m)
	}
	return n, nil
}

// ---- due heap ----

type dueItem struct {
	st  *dstate
	due time.Time
	gen uint64
}

type dueHeap []dueItem

func (h dueHeap) Len() int           { return len(h) }
func (h dueHeap) Less(i, j int) bool { return h[i].due.Before(h[j].due) }
func (h dueHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *dueHeap) Push(x any)        { *h = append(*h, x.(dueItem)) }
func (h *dueHeap) Pop() any {
	old := *h
	n := len(old)
	it := old[n-1]
	old[n-1] = dueItem{}
	*h = old[:n-1]
	return it
}

var _ store.Store = (*Store)(nil)
var _ store.Waker = (*Store)(nil)

// AckAll implements store.BatchAcker with one unsynced batch.
func (s *Store) AckAll(ctx context.Context, ls []store.Lease) error {
	b := s.db.NewBatch()
	defer b.Close()
	s.mu.Lock()
	for _, l := range ls {
		st := s.subs[l.SubscriptionARN][l.MessageID]
		if st == nil || st.owner != l.Owner || !st.leaseUntil.Equal(l.LeaseUntil) {
			continue
		}
		delete(s.subs[l.SubscriptionARN], l.MessageID)
		if len(s.subs[l.SubscriptionARN]) == 0 {
			delete(s.subs, l.SubscriptionARN)
		}
		b.Delete(st.key, nil)
		if s.unref(l.MessageID) {
			b.Delete(key('m', l.MessageID), nil)
		}
	}
	s.mu.Unlock()
	return b.Commit(pebble.NoSync)
}

var _ store.BatchAcker = (*Store)(nil)
