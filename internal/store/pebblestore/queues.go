package pebblestore

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/sealpost/sealpost/internal/store"
)

// This file implements store.QueueStore (SQS). Its tables:
//
//	Q/<account>\x00<region>\x00<name>                       queue record (JSON)
//	M/<account>\x00<region>\x00<name>\x00<seq:8>            message (JSON)
//	V/<account>\x00<region>\x00<name>\x00<visible:8><seq:8> visibility index; value 1 byte:
//	                                                        1 = received at least once
//	S/<account>\x00<region>\x00<name>\x00<sent:8><seq:8>    sent-time index (retention); no value
//
// <seq:8>, <visible:8> and <sent:8> (unix ns) are big-endian, so a queue's
// messages sort in send order, its V/ keys by visibility time and its S/
// keys by send time: Receive reads V/ up to now and ExpireBefore S/ up to
// its time, never the whole queue. Queue names never contain NUL, so the
// trailing NUL keeps one queue's keys apart from another's whose name it
// prefixes.
//
// Each queue has a sync.RWMutex (queueState): SendMessages holds it shared
// (concurrent sends share one WAL sync), everything that reads and rewrites
// messages holds it exclusively and commits its batch with pebble.Sync under
// it. Queue record writes also hold cpMu. The send sequence lives in memory
// (per queue, taken from the last M/ key on first use), so it keeps growing
// across restarts.
//
// Counts must be cheap on a queue of millions of messages (it answers every
// GetQueueAttributes): the queue's state keeps its number of messages (M/
// keys), counted from V/ once per process on first use and then maintained
// by every write under the queue's lock, so Counts reads only the V/ keys
// after now (messages in flight or delayed) and derives the visible ones.
// ExpireBefore deletes in batches of expireChunk messages (each batch
// atomic and synced), releasing the queue's lock between them, so a large
// expiry neither builds one huge batch nor stalls the queue.

// queueLocks holds the per-queue state; its zero value is ready. A state
// is made for an existing queue on first use and kept (also after the queue
// is deleted: a goroutine may still wait on its lock), so the map grows with
// the number of queues a process has used, not with messages.
type queueLocks struct {
	mu sync.Mutex
	m  map[store.QueueKey]*queueState
}

type queueState struct {
	mu  sync.RWMutex
	seq atomic.Uint64
	// n is the queue's number of messages while counted is true. Writers
	// change it under mu (shared for sends) just before they commit, and
	// clear counted when a commit fails (the next Counts counts again).
	n       atomic.Int64
	counted atomic.Bool
}

// add adds d to the message count, if it is being kept.
func (st *queueState) add(d int) {
	if st.counted.Load() {
		st.n.Add(int64(d))
	}
}

// reset sets the message count to n (known exactly under the exclusive lock).
func (st *queueState) reset(n int64) {
	st.n.Store(n)
	st.counted.Store(true)
}

// failed forgets the count after a failed commit: the write may or may
// not have landed.
func (st *queueState) failed(err error) error {
	if err != nil {
		st.counted.Store(false)
	}
	return err
}

// expireChunk is how many messages one ExpireBefore batch deletes.
const expireChunk = 1000

func (s *Store) queueState(k store.QueueKey) (*queueState, error) {
	s.queues.mu.Lock()
	defer s.queues.mu.Unlock()
	if st, ok := s.queues.m[k]; ok {
		return st, nil
	}
	st := &queueState{}
	p := msgPrefix(k)
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: p, UpperBound: prefixEnd(p)})
	if err != nil {
		return nil, err
	}
	if it.Last() {
		st.seq.Store(binary.BigEndian.Uint64(it.Key()[len(p):]))
	}
	if err := it.Close(); err != nil {
		return nil, err
	}
	if s.queues.m == nil {
		s.queues.m = map[store.QueueKey]*queueState{}
	}
	s.queues.m[k] = st
	return st, nil
}

func queueRecKey(k store.QueueKey) []byte { return key('Q', k.Account, k.Region, k.Name) }

func msgPrefix(k store.QueueKey) []byte { return append(key('M', k.Account, k.Region, k.Name), 0) }

func visPrefix(k store.QueueKey) []byte { return append(key('V', k.Account, k.Region, k.Name), 0) }

func sentPrefix(k store.QueueKey) []byte { return append(key('S', k.Account, k.Region, k.Name), 0) }

func sentKey(k store.QueueKey, sentAt time.Time, seq uint64) []byte {
	b := binary.BigEndian.AppendUint64(sentPrefix(k), unixNanos(sentAt))
	return binary.BigEndian.AppendUint64(b, seq)
}

func msgKey(k store.QueueKey, seq uint64) []byte {
	return binary.BigEndian.AppendUint64(msgPrefix(k), seq)
}

func unixNanos(t time.Time) uint64 {
	ns := t.UnixNano()
	if ns < 0 {
		ns = 0
	}
	return uint64(ns)
}

func visKey(k store.QueueKey, visibleAt time.Time, seq uint64) []byte {
	b := binary.BigEndian.AppendUint64(visPrefix(k), unixNanos(visibleAt))
	return binary.BigEndian.AppendUint64(b, seq)
}

func visFlag(m store.QueueMessage) []byte {
	if m.ReceiveCount > 0 {
		return []byte{1}
	}
	return []byte{0}
}

func (s *Store) getQueue(k store.QueueKey) (store.Queue, error) {
	var q store.Queue
	if err := s.getJSON(queueRecKey(k), &q); err != nil {
		return store.Queue{}, fmt.Errorf("pebblestore: queue %s/%s/%s: %w", k.Account, k.Region, k.Name, err)
	}
	return q, nil
}

// ---- queues ----

func (s *Store) CreateQueue(ctx context.Context, q store.Queue) (store.Queue, error) {
	s.cpMu.Lock()
	defer s.cpMu.Unlock()
	if old, err := s.getQueue(q.QueueKey); err == nil {
		return old, fmt.Errorf("pebblestore: queue %s: %w", q.Name, store.ErrExists)
	} else if !errors.Is(err, store.ErrNotFound) {
		return store.Queue{}, err
	}
	q.Revision = 1
	if q.Attributes == nil {
		q.Attributes = map[string]string{}
	}
	if q.Tags == nil {
		q.Tags = map[string]string{}
	}
	// A new queue is empty: its count is kept from the start. The state's
	// lock is held across the write so that no message write (they check
	// that the queue exists under it) runs before the count is set.
	st, err := s.queueState(q.QueueKey)
	if err != nil {
		return store.Queue{}, err
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if err := s.db.Set(queueRecKey(q.QueueKey), mustJSON(q), pebble.Sync); err != nil {
		st.counted.Store(false)
		return store.Queue{}, err
	}
	st.reset(0)
	return q, nil
}

func (s *Store) GetQueue(ctx context.Context, k store.QueueKey) (store.Queue, error) {
	return s.getQueue(k)
}

func (s *Store) UpdateQueue(ctx context.Context, k store.QueueKey, fn func(*store.Queue) error) (store.Queue, error) {
	s.cpMu.Lock()
	defer s.cpMu.Unlock()
	old, err := s.getQueue(k)
	if err != nil {
		return store.Queue{}, err
	}
	q := old
	q.Attributes = copyMap(old.Attributes)
	q.Tags = copyMap(old.Tags)
	if err := fn(&q); err != nil {
		return store.Queue{}, err
	}
	q.QueueKey, q.CreatedAt, q.Revision = old.QueueKey, old.CreatedAt, old.Revision+1
	if q.Attributes == nil {
		q.Attributes = map[string]string{}
	}
	if q.Tags == nil {
		q.Tags = map[string]string{}
	}
	if err := s.db.Set(queueRecKey(k), mustJSON(q), pebble.Sync); err != nil {
		return store.Queue{}, err
	}
	return q, nil
}

func copyMap(m map[string]string) map[string]string {
	c := make(map[string]string, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

func (s *Store) DeleteQueue(ctx context.Context, k store.QueueKey) error {
	s.cpMu.Lock()
	defer s.cpMu.Unlock()
	st, unlock, err := s.lockQueue(k, false)
	if err != nil {
		return err
	}
	defer unlock()
	b := s.db.NewBatch()
	defer b.Close()
	deleteMessages(b, k)
	b.Delete(queueRecKey(k), nil)
	st.reset(0) // a queue created again under the name starts empty
	return st.failed(b.Commit(pebble.Sync))
}

func deleteMessages(b *pebble.Batch, k store.QueueKey) {
	for _, p := range [][]byte{msgPrefix(k), visPrefix(k), sentPrefix(k)} {
		b.DeleteRange(p, prefixEnd(p), nil)
	}
}

// deleteMsg adds to b the deletion of message seq (m) with its index keys.
func deleteMsg(b *pebble.Batch, k store.QueueKey, seq uint64, m store.QueueMessage) {
	b.Delete(msgKey(k, seq), nil)
	b.Delete(visKey(k, m.VisibleAt, seq), nil)
	b.Delete(sentKey(k, m.SentAt, seq), nil)
}

func (s *Store) ListQueues(ctx context.Context, account, region, prefix string, p store.Page) ([]store.Queue, string, error) {
	limit := p.Limit
	if limit <= 0 {
		limit = 1000
	}
	lower := key('Q', account, region, prefix)
	upper := prefixEnd(lower)
	if p.After != "" {
		if seek := append(key('Q', account, region, p.After), 0); bytes.Compare(seek, lower) > 0 {
			lower = seek
		}
	}
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return nil, "", err
	}
	defer it.Close()
	var out []store.Queue
	for ok := it.First(); ok; ok = it.Next() {
		if len(out) == limit {
			return out, out[limit-1].Name, nil
		}
		var q store.Queue
		if err := unmarshalJSON(it.Value(), &q); err != nil {
			return nil, "", err
		}
		out = append(out, q)
	}
	return out, "", it.Error()
}

// ---- messages ----

// lockQueue takes the queue's lock (shared or exclusive) and checks that
// the queue exists. The caller calls the returned unlock (more than once is
// fine).
func (s *Store) lockQueue(k store.QueueKey, shared bool) (*queueState, func(), error) {
	// Check first, so that requests naming missing queues leave no state.
	if _, err := s.getQueue(k); err != nil {
		return nil, nil, err
	}
	st, err := s.queueState(k)
	if err != nil {
		return nil, nil, err
	}
	release := st.mu.Unlock
	if shared {
		st.mu.RLock()
		release = st.mu.RUnlock
	} else {
		st.mu.Lock()
	}
	released := false
	unlock := func() { // idempotent: callers defer it and may call it earlier
		if !released {
			released = true
			release()
		}
	}
	if _, err := s.getQueue(k); err != nil {
		unlock()
		return nil, nil, err
	}
	return st, unlock, nil
}

// putNew appends m to queue k under a new sequence number.
// commitUnlock commits b synced, releasing the queue's lock once b is
// applied (visible) and before waiting for the WAL sync, so that the
// fsyncs of one queue's receives and deletes are shared (group commit)
// instead of taken one after another under the lock. Nothing is weakened:
// in pebble a write is visible before its sync anyway, and the caller
// returns only after the sync.
func (s *Store) commitUnlock(b *pebble.Batch, unlock func()) error {
	err := s.db.ApplyNoSyncWait(b, pebble.Sync)
	unlock()
	if err != nil {
		return err
	}
	return b.SyncWait()
}

func putNew(b *pebble.Batch, k store.QueueKey, st *queueState, m store.QueueMessage) {
	m.ReceiveCount, m.FirstReceivedAt, m.ReceiptHandle = 0, time.Time{}, ""
	seq := st.seq.Add(1)
	b.Set(msgKey(k, seq), mustJSON(m), nil)
	b.Set(visKey(k, m.VisibleAt, seq), visFlag(m), nil)
	b.Set(sentKey(k, m.SentAt, seq), nil, nil)
	st.add(1)
}

func (s *Store) SendMessages(ctx context.Context, k store.QueueKey, ms []store.QueueMessage) error {
	st, unlock, err := s.lockQueue(k, true)
	if err != nil {
		return err
	}
	defer unlock()
	b := s.db.NewBatch()
	defer b.Close()
	for _, m := range ms {
		putNew(b, k, st, m)
	}
	return st.failed(b.Commit(pebble.Sync))
}

func newHandle(seq uint64, count int) string {
	var r [8]byte
	if _, err := rand.Read(r[:]); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return fmt.Sprintf("%016x.%d.%s", seq, count, hex.EncodeToString(r[:]))
}

func handleSeq(h string) (uint64, bool) {
	i := strings.IndexByte(h, '.')
	if i != 16 {
		return 0, false
	}
	seq, err := strconv.ParseUint(h[:i], 16, 64)
	return seq, err == nil
}

func (s *Store) Receive(ctx context.Context, k store.QueueKey, max int, now time.Time, visibility time.Duration) ([]store.QueueMessage, error) {
	if max <= 0 {
		return nil, nil
	}
	_, unlock, err := s.lockQueue(k, false)
	if err != nil {
		return nil, err
	}
	defer unlock()
	vp := visPrefix(k)
	upper := binary.BigEndian.AppendUint64(append([]byte(nil), vp...), unixNanos(now)+1)
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: vp, UpperBound: upper})
	if err != nil {
		return nil, err
	}
	var vkeys [][]byte
	for ok := it.First(); ok && len(vkeys) < max; ok = it.Next() {
		vkeys = append(vkeys, append([]byte(nil), it.Key()...))
	}
	if err := it.Close(); err != nil {
		return nil, err
	}
	if len(vkeys) == 0 {
		return nil, nil
	}
	b := s.db.NewBatch()
	defer b.Close()
	until := now.Add(visibility)
	out := make([]store.QueueMessage, 0, len(vkeys))
	for _, vk := range vkeys {
		seq := binary.BigEndian.Uint64(vk[len(vp)+8:])
		var m store.QueueMessage
		if err := s.getJSON(msgKey(k, seq), &m); err != nil {
			return nil, fmt.Errorf("pebblestore: queue %s message %d: %w", k.Name, seq, err)
		}
		m.ReceiveCount++
		if m.FirstReceivedAt.IsZero() {
			m.FirstReceivedAt = now
		}
		m.VisibleAt = until
		m.ReceiptHandle = newHandle(seq, m.ReceiveCount)
		b.Delete(vk, nil)
		b.Set(visKey(k, until, seq), visFlag(m), nil)
		b.Set(msgKey(k, seq), mustJSON(m), nil)
		out = append(out, m)
	}
	if err := s.commitUnlock(b, unlock); err != nil {
		return nil, err
	}
	return out, nil
}

// byHandle loads the message of handle h. Callers hold the queue's lock.
func (s *Store) byHandle(k store.QueueKey, h string) (store.QueueMessage, uint64, error) {
	seq, ok := handleSeq(h)
	if !ok {
		return store.QueueMessage{}, 0, fmt.Errorf("pebblestore: receipt handle: %w", store.ErrNotFound)
	}
	var m store.QueueMessage
	if err := s.getJSON(msgKey(k, seq), &m); err != nil {
		return store.QueueMessage{}, 0, fmt.Errorf("pebblestore: receipt handle: %w", err)
	}
	if m.ReceiptHandle != h {
		return store.QueueMessage{}, 0, fmt.Errorf("pebblestore: receipt handle: %w", store.ErrLeaseLost)
	}
	return m, seq, nil
}

func (s *Store) DeleteMessage(ctx context.Context, k store.QueueKey, handle string) error {
	st, unlock, err := s.lockQueue(k, false)
	if err != nil {
		return err
	}
	defer unlock()
	m, seq, err := s.byHandle(k, handle)
	if err != nil {
		return err
	}
	b := s.db.NewBatch()
	defer b.Close()
	deleteMsg(b, k, seq, m)
	st.add(-1)
	return st.failed(s.commitUnlock(b, unlock))
}

func (s *Store) ChangeVisibility(ctx context.Context, k store.QueueKey, handle string, now, visibleAt time.Time) (store.QueueMessage, error) {
	_, unlock, err := s.lockQueue(k, false)
	if err != nil {
		return store.QueueMessage{}, err
	}
	defer unlock()
	m, seq, err := s.byHandle(k, handle)
	if err != nil {
		return store.QueueMessage{}, err
	}
	if !m.VisibleAt.After(now) {
		return store.QueueMessage{}, fmt.Errorf("pebblestore: queue %s: %w", k.Name, store.ErrNotInFlight)
	}
	b := s.db.NewBatch()
	defer b.Close()
	b.Delete(visKey(k, m.VisibleAt, seq), nil)
	m.VisibleAt = visibleAt
	b.Set(visKey(k, m.VisibleAt, seq), visFlag(m), nil)
	b.Set(msgKey(k, seq), mustJSON(m), nil)
	if err := s.commitUnlock(b, unlock); err != nil {
		return store.QueueMessage{}, err
	}
	return m, nil
}

func (s *Store) MoveMessage(ctx context.Context, k store.QueueKey, handle string, dst store.QueueKey, nm store.QueueMessage) error {
	// Lock both queues exclusively, in key order, so two moves in opposite
	// directions cannot deadlock.
	first, second := k, dst
	if queueLess(dst, k) {
		first, second = dst, k
	}
	st1, unlock1, err := s.lockQueue(first, false)
	if err != nil {
		return err
	}
	defer unlock1()
	st2 := st1
	var unlock2 func()
	if second != first {
		st2, unlock2, err = s.lockQueue(second, false)
		if err != nil {
			return err
		}
		defer unlock2()
	}
	srcState, dstState := st1, st1
	if k == second {
		srcState = st2
	}
	if dst == second {
		dstState = st2
	}
	m, seq, err := s.byHandle(k, handle)
	if err != nil {
		return err
	}
	b := s.db.NewBatch()
	defer b.Close()
	deleteMsg(b, k, seq, m)
	srcState.add(-1)
	putNew(b, dst, dstState, nm)
	// Both locks are held until the batch is applied, so that no write to
	// either queue (a Purge resetting its count) lands in between.
	err = s.commitUnlock(b, func() {
		if unlock2 != nil {
			unlock2()
		}
		unlock1()
	})
	dstState.failed(err)
	return srcState.failed(err)
}

func queueLess(a, b store.QueueKey) bool {
	if a.Account != b.Account {
		return a.Account < b.Account
	}
	if a.Region != b.Region {
		return a.Region < b.Region
	}
	return a.Name < b.Name
}

func (s *Store) Purge(ctx context.Context, k store.QueueKey) error {
	st, unlock, err := s.lockQueue(k, false)
	if err != nil {
		return err
	}
	defer unlock()
	b := s.db.NewBatch()
	defer b.Close()
	deleteMessages(b, k)
	st.reset(0)
	return st.failed(s.commitUnlock(b, unlock))
}

func (s *Store) Counts(ctx context.Context, k store.QueueKey, now time.Time) (store.QueueCounts, error) {
	if _, err := s.getQueue(k); err != nil {
		return store.QueueCounts{}, err
	}
	st, err := s.queueState(k)
	if err != nil {
		return store.QueueCounts{}, err
	}
	if !st.counted.Load() {
		if err := s.countMessages(k); err != nil {
			return store.QueueCounts{}, err
		}
	}
	// Only the messages not visible at now are read: in flight or delayed.
	vp := visPrefix(k)
	from := binary.BigEndian.AppendUint64(append([]byte(nil), vp...), unixNanos(now)+1)
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: from, UpperBound: prefixEnd(vp)})
	if err != nil {
		return store.QueueCounts{}, err
	}
	defer it.Close()
	var c store.QueueCounts
	for ok := it.First(); ok; ok = it.Next() {
		if v := it.Value(); len(v) > 0 && v[0] == 1 {
			c.InFlight++
		} else {
			c.Delayed++
		}
	}
	// Writers change the count just before their commit, so without the
	// lock the two reads may disagree for a moment: the counts are
	// approximate (as in SQS), never negative.
	c.Visible = max(0, int(st.n.Load())-c.InFlight-c.Delayed)
	return c, it.Error()
}

// countMessages counts the queue's V/ keys (one per message) under the
// queue's exclusive lock and starts keeping the count.
func (s *Store) countMessages(k store.QueueKey) error {
	st, unlock, err := s.lockQueue(k, false)
	if err != nil {
		return err
	}
	defer unlock()
	if st.counted.Load() {
		return nil
	}
	vp := visPrefix(k)
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: vp, UpperBound: prefixEnd(vp)})
	if err != nil {
		return err
	}
	var n int64
	for ok := it.First(); ok; ok = it.Next() {
		n++
	}
	if err := it.Close(); err != nil {
		return err
	}
	st.reset(n)
	return nil
}

func (s *Store) ExpireBefore(ctx context.Context, k store.QueueKey, t time.Time) (int, error) {
	total := 0
	for {
		n, err := s.expireChunk(k, t)
		total += n
		if err != nil || n < expireChunk {
			return total, err
		}
		if err := ctx.Err(); err != nil {
			return total, err
		}
	}
}

// expireChunk deletes up to expireChunk messages of k sent before t, in
// one synced batch, and returns how many it deleted.
func (s *Store) expireChunk(k store.QueueKey, t time.Time) (int, error) {
	st, unlock, err := s.lockQueue(k, false)
	if err != nil {
		return 0, err
	}
	defer unlock()
	sp := sentPrefix(k)
	upper := binary.BigEndian.AppendUint64(append([]byte(nil), sp...), unixNanos(t))
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: sp, UpperBound: upper})
	if err != nil {
		return 0, err
	}
	var seqs []uint64
	for ok := it.First(); ok && len(seqs) < expireChunk; ok = it.Next() {
		seqs = append(seqs, binary.BigEndian.Uint64(it.Key()[len(sp)+8:]))
	}
	if err := it.Close(); err != nil {
		return 0, err
	}
	if len(seqs) == 0 {
		return 0, nil
	}
	b := s.db.NewBatch()
	defer b.Close()
	for _, seq := range seqs {
		// Only the times are needed (for the index keys); the body is not
		// decoded into memory.
		var m struct{ SentAt, VisibleAt time.Time }
		if err := s.getJSON(msgKey(k, seq), &m); err != nil {
			return 0, fmt.Errorf("pebblestore: queue %s message %d: %w", k.Name, seq, err)
		}
		deleteMsg(b, k, seq, store.QueueMessage{SentAt: m.SentAt, VisibleAt: m.VisibleAt})
	}
	st.add(-len(seqs))
	if err := st.failed(s.commitUnlock(b, unlock)); err != nil {
		return 0, err
	}
	return len(seqs), nil
}

func unmarshalJSON(b []byte, v any) error {
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("pebblestore: %w: %v", errCorrupt, err)
	}
	return nil
}
