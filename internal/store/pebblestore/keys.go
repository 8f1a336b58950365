package pebblestore

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/sealpost/sealpost/internal/store"
)

// This file implements store.KeyStore. Its tables use upper-case letters, so
// they never collide with the SNS tables (lower case):
//
//	K/<keyID>                                  key record (JSON)
//	L/<account>\x00<region>\x00<keyID>         list index (empty value)
//	E/<due:8><keyID>                           KeysDue index (empty value);
//	                                           due = earliest of DeletionDate, NextRotation
//	N/<keyID>\x00<version:4>                   material version (binary, see encodeMaterial)
//	A/<account>\x00<region>\x00<alias name>    alias (JSON)
//	G/<grantID>                                grant (JSON)
//	H/<keyID>\x00<grantID>                     key -> grant index
//	R/<retiringPrincipal>\x00<grantID>         retiring principal -> grant index
//
// Every write commits one batch with pebble.Sync under cpMu, which also
// makes read-modify-write atomic. <due:8> and <version:4> are big-endian, so
// the keys sort by them.

func (s *Store) getKey(id string) (store.Key, error) {
	var k store.Key
	if err := s.getJSON(key('K', id), &k); err != nil {
		return store.Key{}, fmt.Errorf("pebblestore: key %s: %w", id, err)
	}
	return k, nil
}

// keyDue is the KeysDue time of k, or zero.
func keyDue(k store.Key) time.Time {
	d := k.DeletionDate
	if !k.NextRotation.IsZero() && (d.IsZero() || k.NextRotation.Before(d)) {
		d = k.NextRotation
	}
	return d
}

func dueKey(k store.Key) []byte {
	d := keyDue(k)
	if d.IsZero() {
		return nil
	}
	ns := d.UnixNano()
	if ns < 0 {
		ns = 0
	}
	b := append([]byte(nil), 'E', '/')
	b = binary.BigEndian.AppendUint64(b, uint64(ns))
	return append(b, k.ID...)
}

// putKey writes k and its indexes, replacing those of old (nil for a new key).
func putKey(b *pebble.Batch, old *store.Key, k store.Key) {
	if old != nil {
		if d := dueKey(*old); d != nil {
			b.Delete(d, nil)
		}
	}
	if k.Tags == nil {
		k.Tags = map[string]string{}
	}
	b.Set(key('K', k.ID), mustJSON(k), nil)
	b.Set(key('L', k.Account, k.Region, k.ID), nil, nil)
	if d := dueKey(k); d != nil {
		b.Set(d, nil, nil)
	}
}

func materialKey(keyID string, version int) []byte {
	b := append(key('N', keyID), 0)
	return binary.BigEndian.AppendUint32(b, uint32(version))
}

// encodeMaterial: version byte 1, varint CreatedAt (unix ns), then
// length-prefixed RotationType, MaterialID and Sealed.
func encodeMaterial(m store.Material) []byte {
	b := make([]byte, 0, 1+10+len(m.RotationType)+len(m.MaterialID)+len(m.Sealed)+8)
	b = append(b, 1)
	b = binary.AppendVarint(b, m.CreatedAt.UnixNano())
	b = appendBytes(b, []byte(m.RotationType))
	b = appendBytes(b, []byte(m.MaterialID))
	return appendBytes(b, m.Sealed)
}

func decodeMaterial(b []byte, version int, sealed bool) (store.Material, error) {
	if len(b) < 1 || b[0] != 1 {
		return store.Material{}, errCorrupt
	}
	ns, n := binary.Varint(b[1:])
	if n <= 0 {
		return store.Material{}, errCorrupt
	}
	b = b[1+n:]
	rt, b, err := readBytes(b)
	if err != nil {
		return store.Material{}, err
	}
	id, b, err := readBytes(b)
	if err != nil {
		return store.Material{}, err
	}
	sb, _, err := readBytes(b)
	if err != nil {
		return store.Material{}, err
	}
	m := store.Material{Version: version, CreatedAt: time.Unix(0, ns).UTC(), RotationType: string(rt), MaterialID: string(id)}
	if sealed {
		m.Sealed = append([]byte{}, sb...)
	}
	return m, nil
}

// scanAfter iterates the keys under prefix whose rest (the key after prefix)
// is greater than after, calling fn with that rest and the value, until fn
// accepted limit+1 records (one more than a page, so that a full last page
// gets no cursor). It returns the cursor for the next page: the rest of the
// limit-th accepted key when another was accepted after it, else "". The
// caller keeps the first limit records of what fn collected.
func (s *Store) scanAfter(prefix []byte, after string, limit int, fn func(rest, v []byte) (bool, error)) (string, error) {
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: prefixEnd(prefix)})
	if err != nil {
		return "", err
	}
	defer it.Close()
	var ok bool
	if after != "" {
		seek := append(append(append([]byte(nil), prefix...), after...), 0)
		ok = it.SeekGE(seek)
	} else {
		ok = it.First()
	}
	n := 0
	last := ""
	for ; ok; ok = it.Next() {
		rest := it.Key()[len(prefix):]
		v, err := it.ValueAndErr()
		if err != nil {
			return "", err
		}
		accepted, err := fn(rest, v)
		if err != nil {
			return "", err
		}
		if !accepted {
			continue
		}
		n++
		if n == limit+1 {
			return last, nil
		}
		last = string(rest)
	}
	return "", it.Error()
}

func limitOf(p store.Page) int {
	if p.Limit <= 0 {
		return 100
	}
	return p.Limit
}

// trim keeps the first n elements of s.
func trim[T any](s []T, n int) []T {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// ---- keys ----

func (s *Store) CreateKey(ctx context.Context, k store.Key, m *store.Material) (store.Key, error) {
	s.cpMu.Lock()
	defer s.cpMu.Unlock()
	if _, err := s.getKey(k.ID); err == nil {
		return store.Key{}, fmt.Errorf("pebblestore: key %s: %w", k.ID, store.ErrExists)
	} else if !errors.Is(err, store.ErrNotFound) {
		return store.Key{}, err
	}
	k.Revision = 1
	k.CurrentVersion = 0
	b := s.db.NewBatch()
	defer b.Close()
	if m != nil {
		if m.Version < 1 {
			return store.Key{}, fmt.Errorf("pebblestore: key %s: material version %d", k.ID, m.Version)
		}
		k.CurrentVersion = m.Version
		b.Set(materialKey(k.ID, m.Version), encodeMaterial(*m), nil)
	}
	putKey(b, nil, k)
	if err := b.Commit(pebble.Sync); err != nil {
		return store.Key{}, err
	}
	return k, nil
}

func (s *Store) GetKey(ctx context.Context, id string) (store.Key, error) {
	return s.getKey(id)
}

// updateKey runs fn on the key under cpMu and writes the result (with extra
// writes from more) in one synced batch. Callers hold cpMu.
func (s *Store) updateKey(id string, fn func(*store.Key) error, more func(*pebble.Batch, *store.Key) error) (store.Key, error) {
	old, err := s.getKey(id)
	if err != nil {
		return store.Key{}, err
	}
	k := old
	k.Tags = make(map[string]string, len(old.Tags))
	for tk, tv := range old.Tags {
		k.Tags[tk] = tv
	}
	if fn != nil {
		if err := fn(&k); err != nil {
			return store.Key{}, err
		}
	}
	k.ID, k.ARN, k.Account, k.Region = old.ID, old.ARN, old.Account, old.Region
	k.CurrentVersion, k.Revision = old.CurrentVersion, old.Revision+1
	b := s.db.NewBatch()
	defer b.Close()
	if more != nil {
		if err := more(b, &k); err != nil {
			return store.Key{}, err
		}
	}
	putKey(b, &old, k)
	if err := b.Commit(pebble.Sync); err != nil {
		return store.Key{}, err
	}
	return k, nil
}

func (s *Store) UpdateKey(ctx context.Context, id string, fn func(*store.Key) error) (store.Key, error) {
	s.cpMu.Lock()
	defer s.cpMu.Unlock()
	return s.updateKey(id, fn, nil)
}

func (s *Store) ListKeys(ctx context.Context, account, region string, p store.Page) ([]store.Key, string, error) {
	prefix := append(key('L', account, region), 0)
	var out []store.Key
	next, err := s.scanAfter(prefix, p.After, limitOf(p), func(rest, _ []byte) (bool, error) {
		k, err := s.getKey(string(rest))
		if errors.Is(err, store.ErrNotFound) {
			return false, nil // deleted between index and record read
		}
		if err != nil {
			return false, err
		}
		out = append(out, k)
		return true, nil
	})
	return trim(out, limitOf(p)), next, err
}

func (s *Store) DeleteKey(ctx context.Context, id string) error {
	s.cpMu.Lock()
	defer s.cpMu.Unlock()
	k, err := s.getKey(id)
	if err != nil {
		return err
	}
	b := s.db.NewBatch()
	defer b.Close()
	b.Delete(key('K', id), nil)
	b.Delete(key('L', k.Account, k.Region, id), nil)
	if d := dueKey(k); d != nil {
		b.Delete(d, nil)
	}
	mp := append(key('N', id), 0)
	b.DeleteRange(mp, prefixEnd(mp), nil)
	// Aliases of the key's account and region that point to it.
	ap := append(key('A', k.Account, k.Region), 0)
	if err := s.each(ap, func(kk, v []byte) error {
		var a store.Alias
		if err := json.Unmarshal(v, &a); err != nil {
			return err
		}
		if a.KeyID == id {
			b.Delete(kk, nil)
		}
		return nil
	}); err != nil {
		return err
	}
	gp := append(key('H', id), 0)
	if err := s.each(gp, func(kk, _ []byte) error {
		gid := string(kk[len(gp):])
		var g store.Grant
		if err := s.getJSON(key('G', gid), &g); err == nil {
			b.Delete(key('R', g.RetiringPrincipal, gid), nil)
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		b.Delete(key('G', gid), nil)
		b.Delete(kk, nil)
		return nil
	}); err != nil {
		return err
	}
	return b.Commit(pebble.Sync)
}

// each calls fn with a copy of every key under prefix and its value.
func (s *Store) each(prefix []byte, fn func(k, v []byte) error) error {
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: prefixEnd(prefix)})
	if err != nil {
		return err
	}
	for ok := it.First(); ok; ok = it.Next() {
		v, err := it.ValueAndErr()
		if err != nil {
			it.Close()
			return err
		}
		if err := fn(append([]byte(nil), it.Key()...), v); err != nil {
			it.Close()
			return err
		}
	}
	return it.Close()
}

func (s *Store) KeysDue(ctx context.Context, now time.Time, max int) ([]store.Key, error) {
	ns := now.UnixNano()
	if ns < 0 {
		ns = 0
	}
	upper := binary.BigEndian.AppendUint64([]byte{'E', '/'}, uint64(ns)+1)
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: []byte("E/"), UpperBound: upper})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	if max <= 0 {
		max = 100
	}
	var out []store.Key
	for ok := it.First(); ok && len(out) < max; ok = it.Next() {
		id := string(it.Key()[2+8:])
		k, err := s.getKey(id)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, it.Error()
}

// ---- material ----

func (s *Store) AddMaterial(ctx context.Context, keyID string, m store.Material, fn func(*store.Key) error) (store.Key, error) {
	s.cpMu.Lock()
	defer s.cpMu.Unlock()
	return s.updateKey(keyID, fn, func(b *pebble.Batch, k *store.Key) error {
		if m.Version != k.CurrentVersion+1 {
			return fmt.Errorf("pebblestore: key %s: material version %d, current %d: %w",
				keyID, m.Version, k.CurrentVersion, store.ErrExists)
		}
		k.CurrentVersion = m.Version
		b.Set(materialKey(keyID, m.Version), encodeMaterial(m), nil)
		return nil
	})
}

func (s *Store) GetMaterial(ctx context.Context, keyID string, version int) (store.Material, error) {
	v, closer, err := s.db.Get(materialKey(keyID, version))
	if errors.Is(err, pebble.ErrNotFound) {
		return store.Material{}, fmt.Errorf("pebblestore: key %s material %d: %w", keyID, version, store.ErrNotFound)
	}
	if err != nil {
		return store.Material{}, err
	}
	defer closer.Close()
	return decodeMaterial(v, version, true)
}

func (s *Store) ListMaterials(ctx context.Context, keyID string, p store.Page) ([]store.Material, string, error) {
	prefix := append(key('N', keyID), 0)
	after := ""
	if p.After != "" {
		v, err := strconv.ParseUint(p.After, 10, 32)
		if err != nil {
			return nil, "", fmt.Errorf("pebblestore: bad cursor %q", p.After)
		}
		after = string(binary.BigEndian.AppendUint32(nil, uint32(v)))
	}
	var out []store.Material
	next, err := s.scanAfter(prefix, after, limitOf(p), func(rest, v []byte) (bool, error) {
		if len(rest) != 4 {
			return false, errCorrupt
		}
		m, err := decodeMaterial(v, int(binary.BigEndian.Uint32(rest)), false)
		if err != nil {
			return false, err
		}
		out = append(out, m)
		return true, nil
	})
	if err != nil {
		return nil, "", err
	}
	out = trim(out, limitOf(p))
	if next != "" {
		next = strconv.Itoa(out[len(out)-1].Version)
	}
	if len(out) == 0 {
		if _, err := s.getKey(keyID); err != nil {
			return nil, "", err
		}
	}
	return out, next, nil
}

// ---- aliases ----

func (s *Store) CreateAlias(ctx context.Context, a store.Alias) (store.Alias, error) {
	s.cpMu.Lock()
	defer s.cpMu.Unlock()
	var old store.Alias
	if err := s.getJSON(key('A', a.Account, a.Region, a.Name), &old); err == nil {
		return store.Alias{}, fmt.Errorf("pebblestore: alias %s: %w", a.Name, store.ErrExists)
	} else if !errors.Is(err, store.ErrNotFound) {
		return store.Alias{}, err
	}
	if _, err := s.getKey(a.KeyID); err != nil {
		return store.Alias{}, err
	}
	if err := s.db.Set(key('A', a.Account, a.Region, a.Name), mustJSON(a), pebble.Sync); err != nil {
		return store.Alias{}, err
	}
	return a, nil
}

func (s *Store) GetAlias(ctx context.Context, account, region, name string) (store.Alias, error) {
	var a store.Alias
	if err := s.getJSON(key('A', account, region, name), &a); err != nil {
		return store.Alias{}, fmt.Errorf("pebblestore: alias %s: %w", name, err)
	}
	return a, nil
}

func (s *Store) UpdateAlias(ctx context.Context, account, region, name, keyID string, at time.Time) (store.Alias, error) {
	s.cpMu.Lock()
	defer s.cpMu.Unlock()
	a, err := s.GetAlias(ctx, account, region, name)
	if err != nil {
		return store.Alias{}, err
	}
	if _, err := s.getKey(keyID); err != nil {
		return store.Alias{}, err
	}
	a.KeyID, a.UpdatedAt = keyID, at
	if err := s.db.Set(key('A', account, region, name), mustJSON(a), pebble.Sync); err != nil {
		return store.Alias{}, err
	}
	return a, nil
}

func (s *Store) DeleteAlias(ctx context.Context, account, region, name string) error {
	s.cpMu.Lock()
	defer s.cpMu.Unlock()
	if _, err := s.GetAlias(ctx, account, region, name); err != nil {
		return err
	}
	return s.db.Delete(key('A', account, region, name), pebble.Sync)
}

func (s *Store) ListAliases(ctx context.Context, account, region, keyID string, p store.Page) ([]store.Alias, string, error) {
	prefix := append(key('A', account, region), 0)
	var out []store.Alias
	next, err := s.scanAfter(prefix, p.After, limitOf(p), func(_, v []byte) (bool, error) {
		var a store.Alias
		if err := json.Unmarshal(v, &a); err != nil {
			return false, err
		}
		if keyID != "" && a.KeyID != keyID {
			return false, nil
		}
		out = append(out, a)
		return true, nil
	})
	return trim(out, limitOf(p)), next, err
}

// ---- grants ----

func (s *Store) CreateGrant(ctx context.Context, g store.Grant) (store.Grant, error) {
	s.cpMu.Lock()
	defer s.cpMu.Unlock()
	var old store.Grant
	if err := s.getJSON(key('G', g.ID), &old); err == nil {
		return store.Grant{}, fmt.Errorf("pebblestore: grant %s: %w", g.ID, store.ErrExists)
	} else if !errors.Is(err, store.ErrNotFound) {
		return store.Grant{}, err
	}
	if _, err := s.getKey(g.KeyID); err != nil {
		return store.Grant{}, err
	}
	b := s.db.NewBatch()
	defer b.Close()
	b.Set(key('G', g.ID), mustJSON(g), nil)
	b.Set(key('H', g.KeyID, g.ID), nil, nil)
	if g.RetiringPrincipal != "" {
		b.Set(key('R', g.RetiringPrincipal, g.ID), nil, nil)
	}
	if err := b.Commit(pebble.Sync); err != nil {
		return store.Grant{}, err
	}
	return g, nil
}

func (s *Store) GetGrant(ctx context.Context, id string) (store.Grant, error) {
	var g store.Grant
	if err := s.getJSON(key('G', id), &g); err != nil {
		return store.Grant{}, fmt.Errorf("pebblestore: grant %s: %w", id, err)
	}
	return g, nil
}

func (s *Store) listGrantIndex(prefix []byte, p store.Page) ([]store.Grant, string, error) {
	var out []store.Grant
	next, err := s.scanAfter(prefix, p.After, limitOf(p), func(rest, _ []byte) (bool, error) {
		g, err := s.GetGrant(context.Background(), string(rest))
		if errors.Is(err, store.ErrNotFound) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		out = append(out, g)
		return true, nil
	})
	return trim(out, limitOf(p)), next, err
}

func (s *Store) ListGrants(ctx context.Context, keyID string, p store.Page) ([]store.Grant, string, error) {
	return s.listGrantIndex(append(key('H', keyID), 0), p)
}

func (s *Store) ListRetirableGrants(ctx context.Context, principal string, p store.Page) ([]store.Grant, string, error) {
	if principal == "" {
		return nil, "", nil
	}
	return s.listGrantIndex(append(key('R', principal), 0), p)
}

func (s *Store) DeleteGrant(ctx context.Context, id string) error {
	s.cpMu.Lock()
	defer s.cpMu.Unlock()
	g, err := s.GetGrant(ctx, id)
	if err != nil {
		return err
	}
	b := s.db.NewBatch()
	defer b.Close()
	b.Delete(key('G', id), nil)
	b.Delete(key('H', g.KeyID, id), nil)
	b.Delete(key('R', g.RetiringPrincipal, id), nil)
	return b.Commit(pebble.Sync)
}

var _ store.KeyStore = (*Store)(nil)
