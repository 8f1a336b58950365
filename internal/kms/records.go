package kms

// Integrity of key and grant records: the store is untrusted, so every
// record the domain writes carries a MAC over its fields (format in the
// package doc, "Record integrity") and every record it reads is checked
// before use.

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/sealpost/sealpost/internal/store"
)

const (
	recordMACVersion = 1
	recordKindKey    = 1
	recordKindGrant  = 2
	recordMACLen     = 1 + sha256.Size
)

// recEnc builds the canonical MAC input: every field is a uint32 length
// and its bytes.
type recEnc struct{ b []byte }

func (e *recEnc) bytes(v []byte) {
	e.b = binary.BigEndian.AppendUint32(e.b, uint32(len(v)))
	e.b = append(e.b, v...)
}

func (e *recEnc) str(v string) {
	e.b = binary.BigEndian.AppendUint32(e.b, uint32(len(v)))
	e.b = append(e.b, v...)
}

func (e *recEnc) int(v int64) { e.bytes(binary.BigEndian.AppendUint64(nil, uint64(v))) }

func (e *recEnc) bool(v bool) {
	if v {
		e.bytes([]byte{1})
	} else {
		e.bytes([]byte{0})
	}
}

// time: empty for the zero time, else the Unix time in microseconds (the
// stores keep at least microseconds).
func (e *recEnc) time(t time.Time) {
	if t.IsZero() {
		e.bytes(nil)
		return
	}
	e.int(t.UnixMicro())
}

func (e *recEnc) strs(v []string) {
	var in recEnc
	in.b = binary.BigEndian.AppendUint32(in.b, uint32(len(v)))
	for _, s := range v {
		in.str(s)
	}
	e.bytes(in.b)
}

func (e *recEnc) tags(m map[string]string) {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	slices.Sort(names)
	var in recEnc
	in.b = binary.BigEndian.AppendUint32(in.b, uint32(len(names)))
	for _, k := range names {
		in.str(k)
		in.str(m[k])
	}
	e.bytes(in.b)
}

// keyMACInput is the canonical encoding of k's fields (all but Revision
// and MAC).
func keyMACInput(k *store.Key) []byte {
	e := recEnc{b: make([]byte, 0, 256+len(k.Policy))}
	e.b = append(e.b, recordMACVersion, recordKindKey)
	e.str(k.ID)
	e.str(k.ARN)
	e.str(k.Account)
	e.str(k.Region)
	e.str(k.Description)
	e.str(k.KeyState)
	e.str(k.KeyManager)
	e.str(k.KeySpec)
	e.str(k.KeyUsage)
	e.str(k.Origin)
	e.time(k.CreatedAt)
	e.time(k.DeletionDate)
	e.int(int64(k.PendingWindowDays))
	e.bool(k.RotationEnabled)
	e.int(int64(k.RotationPeriodDays))
	e.time(k.NextRotation)
	e.str(k.Policy)
	e.tags(k.Tags)
	e.bool(k.MultiRegion)
	e.int(int64(k.CurrentVersion))
	return e.b
}

// grantMACInput is the canonical encoding of g's fields (all but MAC).
func grantMACInput(g *store.Grant) []byte {
	var e recEnc
	e.b = append(e.b, recordMACVersion, recordKindGrant)
	e.str(g.ID)
	e.str(g.KeyID)
	e.str(g.GranteePrincipal)
	e.str(g.RetiringPrincipal)
	e.strs(g.Operations)
	e.str(g.Constraints)
	e.str(g.Name)
	e.time(g.CreatedAt)
	e.str(g.IssuingAccount)
	return e.b
}

func (s *Service) recordMAC(input []byte) ([]byte, error) {
	if len(s.recKey) == 0 {
		return nil, errorf(ErrInternal, "no keyring for record integrity")
	}
	m := hmac.New(sha256.New, s.recKey)
	m.Write(input)
	return m.Sum([]byte{recordMACVersion}), nil
}

// macKey sets k.MAC over k as it will be stored.
func (s *Service) macKey(k *store.Key) error {
	mac, err := s.recordMAC(keyMACInput(k))
	if err != nil {
		return err
	}
	k.MAC = mac
	return nil
}

// macGrant sets g.MAC.
func (s *Service) macGrant(g *store.Grant) error {
	mac, err := s.recordMAC(grantMACInput(g))
	if err != nil {
		return err
	}
	g.MAC = mac
	return nil
}

func (s *Service) macOK(input, mac []byte) bool {
	if len(mac) != recordMACLen || mac[0] != recordMACVersion {
		return false
	}
	want, err := s.recordMAC(input)
	return err == nil && hmac.Equal(want, mac)
}

// errTampered is the kind-less cause of a record that fails its check
// (wrapped in an ErrInternal *Error for the client).
var errTampered = errors.New("kms: record failed its integrity check")

// checkKey verifies a key record read from the store under id. A record
// that fails is logged (the id only) and answered ErrInternal.
func (s *Service) checkKey(id string, k *store.Key) error {
	if k.ID == id && s.macOK(keyMACInput(k), k.MAC) {
		return nil
	}
	s.log.Error("kms: a key record failed its integrity check (changed outside Sealpost, or a wrong root key); refusing to use it", "key", id)
	return &Error{Kind: ErrInternal, Msg: fmt.Sprintf("The record of key %s failed its integrity check.", id)}
}

// checkGrant verifies a grant record read from the store under id.
func (s *Service) checkGrant(id string, g *store.Grant) error {
	if g.ID == id && s.macOK(grantMACInput(g), g.MAC) {
		return nil
	}
	s.log.Error("kms: a grant record failed its integrity check (changed outside Sealpost, or a wrong root key); refusing to use it", "grant", id, "key", g.KeyID)
	return &Error{Kind: ErrInternal, Msg: fmt.Sprintf("The record of grant %s failed its integrity check.", id)}
}

// getKey reads and verifies a key record (no cache).
func (s *Service) getKey(ctx context.Context, id string) (store.Key, error) {
	k, err := s.st.GetKey(ctx, id)
	if err != nil {
		return store.Key{}, err
	}
	if err := s.checkKey(id, &k); err != nil {
		return store.Key{}, err
	}
	return k, nil
}

// getGrant reads and verifies a grant record.
func (s *Service) getGrant(ctx context.Context, id string) (store.Grant, error) {
	g, err := s.st.GetGrant(ctx, id)
	if err != nil {
		return store.Grant{}, err
	}
	if err := s.checkGrant(id, &g); err != nil {
		return store.Grant{}, err
	}
	return g, nil
}

// checkGrants verifies grant records from a list.
func (s *Service) checkGrants(gs []store.Grant) error {
	for i := range gs {
		if err := s.checkGrant(gs[i].ID, &gs[i]); err != nil {
			return err
		}
	}
	return nil
}

// sealedUpdate wraps an UpdateKey/AddMaterial fn: the current record is
// verified before fn may change it (a tampered record is never re-sealed),
// and the result is MACed as the store will write it (version, when not 0,
// is the CurrentVersion AddMaterial sets).
func (s *Service) sealedUpdate(id string, version int, fn func(*store.Key) error) func(*store.Key) error {
	return func(cur *store.Key) error {
		if err := s.checkKey(id, cur); err != nil {
			return err
		}
		arn, account, region, current := cur.ARN, cur.Account, cur.Region, cur.CurrentVersion
		if fn != nil {
			if err := fn(cur); err != nil {
				return err
			}
		}
		// The store ignores fn's changes to these.
		out := *cur
		out.ID, out.ARN, out.Account, out.Region, out.CurrentVersion = id, arn, account, region, current
		if version != 0 {
			out.CurrentVersion = version
		}
		mac, err := s.recordMAC(keyMACInput(&out))
		if err != nil {
			return err
		}
		cur.MAC = mac
		return nil
	}
}
