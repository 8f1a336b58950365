package pebblestore

import (
	"bytes"
	"container/heap"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/sealpost/sealpost/internal/store"
)

// Delivery records and the due index.
//
// Every pending delivery is two keys, written and deleted in one batch:
//
//	d/<sub>\x00<msg>                       attempts, next attempt, seq
//	q/<due:8><seq:8><sub>\x00<msg>         (empty): the due index
//
// due is the next attempt in unix nanoseconds with the sign bit flipped, big
// endian, so the q/ table iterates in due order (then publish order). A
// message delivered to more than one subscription also has c/<msg>, the
// number of its remaining deliveries; without it, one remains. The last ack
// deletes the message.
//
// In memory the store keeps (see queue):
//   - a window: the q/ keys of up to winCap deliveries that are due before the
//     window's end, sorted. Every q/ key below end is in the window unless it
//     is leased. Leasing takes from the front; when the window is empty and
//     its end is due, it is refilled by scanning q/ from end up to
//     now+horizon.
//   - the leases held now (one small record per delivery in flight),
//   - a count of pending deliveries per subscription.
//
// Nothing else grows with the backlog.
const (
	defaultWinCap  = 4096
	defaultHorizon = time.Minute
	defaultChunk   = 4096
)

type queue struct {
	win     []string // q/ keys, ascending
	end     string   // every unleased q/ key below end is in win
	winCap  int
	horizon time.Duration
	chunk   int // deliveries deleted per batch by purgeDeliveries

	leases map[string]*lease // by sub\x00msg
	expiry leaseHeap

	counts map[string]int // pending deliveries per subscription
}

type lease struct {
	qkey  string
	owner string
	until time.Time
	idx   int // in expiry
}

type leaseHeap []*lease

func (h leaseHeap) Len() int           { return len(h) }
func (h leaseHeap) Less(i, j int) bool { return h[i].until.Before(h[j].until) }
func (h leaseHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].idx, h[j].idx = i, j
}
func (h *leaseHeap) Push(x any) {
	l := x.(*lease)
	l.idx = len(*h)
	*h = append(*h, l)
}
func (h *leaseHeap) Pop() any {
	old := *h
	n := len(old)
	l := old[n-1]
	old[n-1] = nil
	*h = old[:n-1]
	return l
}

// ---- keys and values ----

func dueBits(t time.Time) uint64 { return uint64(t.UnixNano()) ^ (1 << 63) }

// qBound is the smallest q/ key due at t.
func qBound(t time.Time) string {
	b := make([]byte, 0, 10)
	b = append(b, 'q', '/')
	return string(binary.BigEndian.AppendUint64(b, dueBits(t)))
}

func qKey(due time.Time, seq uint64, sub, msg string) []byte {
	b := make([]byte, 0, 19+len(sub)+len(msg))
	b = append(b, 'q', '/')
	b = binary.BigEndian.AppendUint64(b, dueBits(due))
	b = binary.BigEndian.AppendUint64(b, seq)
	b = append(b, sub...)
	b = append(b, 0)
	return append(b, msg...)
}

// qID returns the sub\x00msg part of a q/ key.
func qID(q string) string { return q[18:] }

// dKeyOf returns the d/ key of a q/ key or of a sub\x00msg id.
func dKeyOf(id string) []byte {
	b := make([]byte, 0, 2+len(id))
	return append(append(b, 'd', '/'), id...)
}

func leaseID(sub, msg string) string { return sub + "\x00" + msg }

// delivery value: version 2, uvarint attempts, varint next attempt (unix
// nanoseconds), uvarint seq.
func encodeDelivery(attempts int, next time.Time, seq uint64) []byte {
	b := []byte{2}
	b = binary.AppendUvarint(b, uint64(attempts))
	b = binary.AppendVarint(b, next.UnixNano())
	return binary.AppendUvarint(b, seq)
}

func decodeDelivery(b []byte) (attempts int, next time.Time, seq uint64, err error) {
	if len(b) < 1 || b[0] != 2 {
		return 0, time.Time{}, 0, errCorrupt
	}
	b = b[1:]
	a, k := binary.Uvarint(b)
	if k <= 0 {
		return 0, time.Time{}, 0, errCorrupt
	}
	b = b[k:]
	ns, k := binary.Varint(b)
	if k <= 0 {
		return 0, time.Time{}, 0, errCorrupt
	}
	seq, k = binary.Uvarint(b[k:])
	if k <= 0 {
		return 0, time.Time{}, 0, errCorrupt
	}
	return int(a), time.Unix(0, ns).UTC(), seq, nil
}

// getDelivery reads the d/ record of id (sub\x00msg); found is false if none.
func (s *Store) getDelivery(id string) (attempts int, next time.Time, seq uint64, found bool, err error) {
	v, closer, err := s.db.Get(dKeyOf(id))
	if errors.Is(err, pebble.ErrNotFound) {
		return 0, time.Time{}, 0, false, nil
	}
	if err != nil {
		return 0, time.Time{}, 0, false, err
	}
	defer closer.Close()
	attempts, next, seq, err = decodeDelivery(v)
	return attempts, next, seq, err == nil, err
}

// ---- window ----

// insertWin adds a q/ key to the window if it belongs there. s.mu held.
func (s *Store) insertWin(q string) {
	if q >= s.q.end {
		return // a refill finds it
	}
	if _, leased := s.q.leases[qID(q)]; leased {
		return
	}
	i := sort.SearchStrings(s.q.win, q)
	if i < len(s.q.win) && s.q.win[i] == q {
		return
	}
	s.q.win = slices.Insert(s.q.win, i, q)
	if n := len(s.q.win); n > s.q.winCap {
		s.q.end = s.q.win[n-1]
		s.q.win[n-1] = ""
		s.q.win = s.q.win[:n-1]
	}
}

// refill loads the window from the q/ index, from its end up to
// now+horizon. s.mu held; the window is empty.
func (s *Store) refill(now time.Time) error {
	upper := qBound(now.Add(s.q.horizon))
	if s.q.end >= upper {
		return nil
	}
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: []byte(s.q.end), UpperBound: []byte(upper)})
	if err != nil {
		return err
	}
	s.q.win = s.q.win[:0:0] // drop the old backing array
	end := upper
	for ok := it.First(); ok; ok = it.Next() {
		k := it.Key()
		if len(k) < 19 {
			continue
		}
		if _, leased := s.q.leases[string(k[18:])]; leased {
			continue
		}
		if len(s.q.win) == s.q.winCap {
			end = string(k)
			break
		}
		s.q.win = append(s.q.win, string(k))
	}
	if err := it.Close(); err != nil {
		s.q.win = s.q.win[:0]
		return err
	}
	s.q.end = end
	return nil
}

// expire ends the leases that expired at now; their deliveries are due
// again. s.mu held.
func (s *Store) expire(now time.Time) {
	for len(s.q.expiry) > 0 && !s.q.expiry[0].until.After(now) {
		l := heap.Pop(&s.q.expiry).(*lease)
		delete(s.q.leases, qID(l.qkey))
		s.insertWin(l.qkey)
	}
}

// release forgets a lease. s.mu held.
func (s *Store) release(l *lease) {
	heap.Remove(&s.q.expiry, l.idx)
	delete(s.q.leases, qID(l.qkey))
}

// heldLease returns the lease on (sub, msg) if owner holds it until until. s.mu held.
func (s *Store) heldLease(sub, msg, owner string, until time.Time) *lease {
	l := s.q.leases[leaseID(sub, msg)]
	if l == nil || l.owner != owner || !l.until.Equal(until) {
		return nil
	}
	return l
}

// ---- publish ----

func (s *Store) Publish(ctx context.Context, pubs []store.Publication) error {
	unlock := s.lockDedup(pubs)
	defer unlock()
	b := s.db.NewBatch()
	defer b.Close()
	base := s.seq.Add(uint64(len(pubs))) - uint64(len(pubs))
	var qkeys [][]byte
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
		b.Set(key('m', p.Message.ID), encodeMessage(p.Message), nil)
		writes++
		seq := base + uint64(i) + 1
		n := 0
		for j, d := range p.Deliveries {
			if slices.ContainsFunc(p.Deliveries[:j], func(o store.Delivery) bool { return o.SubscriptionARN == d.SubscriptionARN }) {
				continue // one delivery per subscription
			}
			id := leaseID(d.SubscriptionARN, p.Message.ID)
			b.Set(dKeyOf(id), encodeDelivery(d.Attempts, d.NextAttemptAt, seq), nil)
			q := qKey(d.NextAttemptAt, seq, d.SubscriptionARN, p.Message.ID)
			b.Set(q, nil, nil)
			qkeys = append(qkeys, q)
			n++
		}
		if n > 1 {
			b.Set(key('c', p.Message.ID), binary.AppendUvarint(nil, uint64(n)), nil)
		}
	}
	if writes == 0 {
		return nil
	}
	if err := b.Commit(pebble.Sync); err != nil {
		return fmt.Errorf("pebblestore: publish: %w", err)
	}
	if len(qkeys) == 0 {
		return nil
	}
	s.mu.Lock()
	for _, q := range qkeys {
		id := q[18:]
		s.q.counts[string(id[:bytes.IndexByte(id, 0)])]++
		if string(q) < s.q.end {
			s.insertWin(string(q))
		}
	}
	s.mu.Unlock()
	s.wake()
	return nil
}

// ---- lease, ack, retry ----

func (s *Store) LeaseDeliveries(ctx context.Context, owner string, now time.Time, d time.Duration, max int) ([]store.Lease, error) {
	if max <= 0 {
		return nil, nil
	}
	var picked []store.Lease
	s.mu.Lock()
	s.expire(now)
	dueBefore := qBound(now.Add(1)) // keys below it are due at now
	until := now.Add(d)
	var err error
	for len(picked) < max {
		if len(s.q.win) == 0 {
			if s.q.end >= dueBefore {
				break
			}
			if err = s.refill(now); err != nil || len(s.q.win) == 0 {
				break
			}
		}
		q := s.q.win[0]
		if q >= dueBefore {
			break
		}
		s.q.win[0] = ""
		s.q.win = s.q.win[1:]
		id := qID(q)
		if _, leased := s.q.leases[id]; leased {
			continue // a stale copy
		}
		var attempts int
		var next time.Time
		var seq uint64
		var found bool
		attempts, next, seq, found, err = s.getDelivery(id)
		if err != nil {
			break
		}
		if !found || q != string(qKey(next, seq, "", "")[:18])+id {
			continue // acked or moved since this key was read
		}
		l := &lease{qkey: q, owner: owner, until: until}
		s.q.leases[id] = l
		heap.Push(&s.q.expiry, l)
		i := strings.IndexByte(id, 0)
		picked = append(picked, store.Lease{
			Delivery:   store.Delivery{SubscriptionARN: id[:i], MessageID: id[i+1:], Attempts: attempts, NextAttemptAt: next},
			Owner:      owner,
			LeaseUntil: until,
		})
	}
	s.mu.Unlock()
	if err != nil && len(picked) == 0 {
		return nil, fmt.Errorf("pebblestore: lease deliveries: %w", err)
	}
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

// leaseLost tells a lease that no longer holds from a delivery that is gone.
// s.mu held.
func (s *Store) leaseLost(l store.Lease) error {
	_, _, _, found, err := s.getDelivery(leaseID(l.SubscriptionARN, l.MessageID))
	if err != nil {
		return err
	}
	if !found {
		return store.ErrNotFound
	}
	return store.ErrLeaseLost
}

// Ack deletes the delivery if l still holds its lease, and the message with
// its last delivery. Acking a delivery that is gone is a no-op; one whose
// lease expired or went to another owner returns ErrLeaseLost.
func (s *Store) Ack(ctx context.Context, l store.Lease) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	held := s.heldLease(l.SubscriptionARN, l.MessageID, l.Owner, l.LeaseUntil)
	if held == nil {
		err := s.leaseLost(l)
		if errors.Is(err, store.ErrNotFound) {
			return nil // already gone
		}
		return fmt.Errorf("pebblestore: ack %s/%s: %w", l.SubscriptionARN, l.MessageID, err)
	}
	b := s.db.NewBatch()
	defer b.Close()
	if err := s.deleteDelivery(b, map[string]int{}, held.qkey); err != nil {
		return err
	}
	if err := b.Commit(pebble.NoSync); err != nil {
		return fmt.Errorf("pebblestore: ack: %w", err)
	}
	s.release(held)
	s.q.counts[l.SubscriptionARN]--
	s.dropZeroCount(l.SubscriptionARN)
	return nil
}

// AckAll implements store.BatchAcker with one unsynced batch.
func (s *Store) AckAll(ctx context.Context, ls []store.Lease) error {
	if len(ls) == 0 {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.db.NewBatch()
	defer b.Close()
	var done []*lease
	left := map[string]int{}
	for _, l := range ls {
		held := s.heldLease(l.SubscriptionARN, l.MessageID, l.Owner, l.LeaseUntil)
		if held == nil || slices.Contains(done, held) {
			continue
		}
		if err := s.deleteDelivery(b, left, held.qkey); err != nil {
			return err
		}
		done = append(done, held)
	}
	if len(done) == 0 {
		return nil
	}
	if err := b.Commit(pebble.NoSync); err != nil {
		return fmt.Errorf("pebblestore: ack: %w", err)
	}
	for _, held := range done {
		s.release(held)
		id := qID(held.qkey)
		sub := id[:strings.IndexByte(id, 0)]
		s.q.counts[sub]--
		s.dropZeroCount(sub)
	}
	return nil
}

func (s *Store) dropZeroCount(sub string) {
	if s.q.counts[sub] <= 0 {
		delete(s.q.counts, sub)
	}
}

// deleteDelivery adds to b the deletion of the delivery with q/ key q, and
// of its message if it was the last delivery. left holds the remaining
// counts of messages already touched by b. s.mu held.
func (s *Store) deleteDelivery(b *pebble.Batch, left map[string]int, q string) error {
	id := qID(q)
	msg := id[strings.IndexByte(id, 0)+1:]
	b.Delete(dKeyOf(id), nil)
	b.Delete([]byte(q), nil)
	n, ok := left[msg]
	if !ok {
		v, closer, err := s.db.Get(key('c', msg))
		switch {
		case errors.Is(err, pebble.ErrNotFound):
			n = 1
		case err != nil:
			return err
		default:
			u, k := binary.Uvarint(v)
			closer.Close()
			if k <= 0 {
				return errCorrupt
			}
			n = int(u)
		}
	}
	n--
	left[msg] = n
	switch {
	case n <= 0:
		b.Delete(key('m', msg), nil)
		b.Delete(key('c', msg), nil)
	case n == 1:
		b.Delete(key('c', msg), nil)
	default:
		b.Set(key('c', msg), binary.AppendUvarint(nil, uint64(n)), nil)
	}
	return nil
}

// Retry releases the lease and makes the delivery due at next, if l still
// holds it; otherwise it returns ErrLeaseLost (or ErrNotFound if the
// delivery is gone). The write happens under the lock that guards leases, so
// no other owner can lease and ack the delivery before it lands.
func (s *Store) Retry(ctx context.Context, l store.Lease, attempts int, next time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	held := s.heldLease(l.SubscriptionARN, l.MessageID, l.Owner, l.LeaseUntil)
	if held == nil {
		return fmt.Errorf("pebblestore: retry %s/%s: %w", l.SubscriptionARN, l.MessageID, s.leaseLost(l))
	}
	id := qID(held.qkey)
	seq := binary.BigEndian.Uint64([]byte(held.qkey[10:18]))
	q := qKey(next, seq, l.SubscriptionARN, l.MessageID)
	b := s.db.NewBatch()
	defer b.Close()
	b.Set(dKeyOf(id), encodeDelivery(attempts, next, seq), nil)
	b.Delete([]byte(held.qkey), nil)
	b.Set(q, nil, nil)
	if err := b.Commit(pebble.NoSync); err != nil {
		return fmt.Errorf("pebblestore: retry: %w", err)
	}
	s.release(held)
	s.insertWin(string(q))
	s.wake()
	return nil
}

func (s *Store) PendingDeliveries(ctx context.Context, subscriptionARN string) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if subscriptionARN != "" {
		return s.q.counts[subscriptionARN], nil
	}
	n := 0
	for _, c := range s.q.counts {
		n += c
	}
	return n, nil
}

// purgeDeliveries deletes the pending deliveries of a deleted subscription
// (and messages left without any), a chunk per batch so that a large
// backlog needs no large batch; the last batch is synced, which makes the
// earlier ones durable too. A crash half-way leaves deliveries of a
// subscription that does not exist, which the delivery engine acks away.
func (s *Store) purgeDeliveries(sub string) error {
	prefix := append(key('d', sub), 0)
	from := prefix
	for {
		s.mu.Lock()
		last, err := s.purgeChunk(sub, from, prefixEnd(prefix))
		s.mu.Unlock()
		if err != nil {
			return err
		}
		if last == nil {
			return nil
		}
		from = append(last, 0)
	}
}

// purgeChunk deletes up to s.q.chunk deliveries in [from, to) and returns
// the last key deleted (nil when none were left). s.mu held.
func (s *Store) purgeChunk(sub string, from, to []byte) ([]byte, error) {
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: from, UpperBound: to})
	if err != nil {
		return nil, err
	}
	b := s.db.NewBatch()
	defer b.Close()
	left := map[string]int{}
	var last []byte
	n := 0
	for ok := it.First(); ok && n < s.q.chunk; ok = it.Next() {
		id := string(it.Key()[2:])
		_, next, seq, err := decodeDelivery(it.Value())
		if err != nil {
			it.Close()
			return nil, err
		}
		msg := id[len(sub)+1:]
		if err := s.deleteDelivery(b, left, string(qKey(next, seq, sub, msg))); err != nil {
			it.Close()
			return nil, err
		}
		if l := s.q.leases[id]; l != nil {
			s.release(l)
		}
		last = append(last[:0], it.Key()...)
		n++
	}
	if err := it.Close(); err != nil {
		return nil, err
	}
	sync := pebble.NoSync
	if n < s.q.chunk {
		sync = pebble.Sync
		last = nil
	}
	if err := b.Commit(sync); err != nil {
		return nil, err
	}
	s.q.counts[sub] -= n
	s.dropZeroCount(sub)
	return last, nil
}

// loadIndex counts the pending deliveries per subscription and finds the
// highest publish sequence. A store written before the q/ index existed
// (no v/queue key) is converted first.
func (s *Store) loadIndex() error {
	if _, closer, err := s.db.Get([]byte(formatKey)); err == nil {
		closer.Close()
	} else if errors.Is(err, pebble.ErrNotFound) {
		if err := s.convertV1(); err != nil {
			return fmt.Errorf("pebblestore: convert delivery records: %w", err)
		}
	} else {
		return err
	}
	prefix := []byte("d/")
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: prefixEnd(prefix)})
	if err != nil {
		return err
	}
	defer it.Close()
	var maxSeq uint64
	for ok := it.First(); ok; ok = it.Next() {
		id := it.Key()[2:]
		i := bytes.IndexByte(id, 0)
		if i < 0 {
			return errCorrupt
		}
		_, _, seq, err := decodeDelivery(it.Value())
		if err != nil {
			return err
		}
		maxSeq = max(maxSeq, seq)
		s.q.counts[string(id[:i])]++
	}
	s.seq.Store(maxSeq)
	return it.Error()
}

const formatKey = "v/queue"

// convertV1 rewrites delivery records of the first layout
// (d/<sub>\x00<seq:8><msg> -> attempts, next) into the current one, with
// their q/ keys and message counts.
func (s *Store) convertV1() error {
	prefix := []byte("d/")
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: prefixEnd(prefix)})
	if err != nil {
		return err
	}
	defer it.Close()
	b := s.db.NewBatch()
	defer b.Close()
	refs := map[string]int{}
	for ok := it.First(); ok; ok = it.Next() {
		k := it.Key()
		rest := k[2:]
		i := bytes.IndexByte(rest, 0)
		if i < 0 || len(rest) < i+1+8 {
			continue
		}
		sub := string(rest[:i])
		seq := binary.BigEndian.Uint64(rest[i+1 : i+9])
		msg := string(rest[i+9:])
		v := it.Value()
		a, n := binary.Uvarint(v)
		if n <= 0 {
			return errCorrupt
		}
		ns, n2 := binary.Varint(v[n:])
		if n2 <= 0 {
			return errCorrupt
		}
		next := time.Unix(0, ns)
		b.Delete(append([]byte(nil), k...), nil)
		b.Set(dKeyOf(leaseID(sub, msg)), encodeDelivery(int(a), next, seq), nil)
		b.Set(qKey(next, seq, sub, msg), nil, nil)
		refs[msg]++
	}
	if err := it.Error(); err != nil {
		return err
	}
	for msg, n := range refs {
		if n > 1 {
			b.Set(key('c', msg), binary.AppendUvarint(nil, uint64(n)), nil)
		}
	}
	b.Set([]byte(formatKey), []byte("2"), nil)
	return b.Commit(pebble.Sync)
}

var (
	_ store.Store      = (*Store)(nil)
	_ store.Waker      = (*Store)(nil)
	_ store.BatchAcker = (*Store)(nil)
)
