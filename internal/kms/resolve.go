package kms

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/sealpost/sealpost/internal/arn"
	"github.com/sealpost/sealpost/internal/audit"
	"github.com/sealpost/sealpost/internal/store"
)

// KeyARN returns the ARN of a key.
func KeyARN(region, account, id string) string {
	return "arn:aws:kms:" + region + ":" + account + ":key/" + id
}

// AliasARN returns the ARN of an alias ("alias/..." name).
func AliasARN(region, account, name string) string {
	return "arn:aws:kms:" + region + ":" + account + ":" + name
}

// isKeyID reports whether s has a UUID's shape (8-4-4-4-12 hex).
func isKeyID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
				return false
			}
		}
	}
	return true
}

// ref is a parsed key identifier.
type ref struct {
	Account, Region string
	KeyID           string // set for key ids and key ARNs
	Alias           string // "alias/..." for alias names and alias ARNs
	ByARN           bool
}

// parseRef parses a key identifier given by c. aliasOK says whether the
// action accepts alias names and alias ARNs.
func parseRef(c Caller, id string, aliasOK bool) (ref, error) {
	if id == "" {
		return ref{}, errorf(ErrValidation, "1 validation error detected: Value null at 'keyId' failed to satisfy constraint: Member must not be null")
	}
	if strings.IndexByte(id, 0) >= 0 { // no stored identity holds NUL (store contract)
		return ref{}, errorf(ErrNotFound, "Invalid keyId '%s'", strings.ReplaceAll(id, "\x00", `\0`))
	}
	if len(id) > 2048 {
		return ref{}, errorf(ErrValidation, "1 validation error detected: Value at 'keyId' failed to satisfy constraint: Member must have length less than or equal to 2048")
	}
	if strings.HasPrefix(id, "arn:") {
		a, err := arn.Parse(id)
		if err != nil || a.Service != "kms" || a.Account == "" || a.Region == "" {
			return ref{}, errorf(ErrInvalidArn, "Invalid arn %s", id)
		}
		switch {
		case strings.HasPrefix(a.Resource, "key/"):
			kid := strings.TrimPrefix(a.Resource, "key/")
			if !isKeyID(kid) {
				return ref{}, errorf(ErrNotFound, "Invalid keyId '%s'", id)
			}
			return ref{Account: a.Account, Region: a.Region, KeyID: strings.ToLower(kid), ByARN: true}, nil
		case strings.HasPrefix(a.Resource, "alias/"):
			if !aliasOK {
				return ref{}, errorf(ErrNotFound, "Invalid keyId '%s'", id)
			}
			return ref{Account: a.Account, Region: a.Region, Alias: a.Resource, ByARN: true}, nil
		}
		return ref{}, errorf(ErrInvalidArn, "Invalid arn %s", id)
	}
	if strings.HasPrefix(id, "alias/") {
		if !aliasOK {
			return ref{}, errorf(ErrNotFound, "Invalid keyId '%s'", id)
		}
		return ref{Account: c.Account, Region: c.Region, Alias: id}, nil
	}
	if !isKeyID(id) {
		return ref{}, errorf(ErrNotFound, "Invalid keyId '%s'", id)
	}
	return ref{Account: c.Account, Region: c.Region, KeyID: strings.ToLower(id)}, nil
}

// resolveKey finds the key id names (see parseRef), through the cache.
// A key of another account is found only by ARN; the caller's access is
// checked by authorize, not here. Keys whose record is gone are ErrNotFound.
func (s *Service) resolveKey(ctx context.Context, c Caller, id string, aliasOK bool) (store.Key, error) {
	r, err := parseRef(c, id, aliasOK)
	if err != nil {
		return store.Key{}, err
	}
	if r.Account == OwnedAccount && !ownedBy(c) {
		if r.Alias != "" {
			return store.Key{}, errorf(ErrNotFound, "Alias %s is not found.", AliasARN(r.Region, r.Account, r.Alias))
		}
		return store.Key{}, errorf(ErrNotFound, "Key '%s' does not exist", KeyARN(r.Region, r.Account, r.KeyID))
	}
	keyID := r.KeyID
	if r.Alias != "" {
		if id, ok := s.aliases.get(r.Account, r.Region, r.Alias, s.now()); ok {
			k, err := s.keys.get(ctx, id)
			if err == nil && k.Account == r.Account && k.Region == r.Region {
				return k, nil
			}
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return store.Key{}, err
			}
			// The key went (with its aliases) on another node: ask the
			// store.
			s.aliases.drop(r.Account, r.Region, r.Alias)
		}
		a, err := s.st.GetAlias(ctx, r.Account, r.Region, r.Alias)
		switch {
		case errors.Is(err, store.ErrNotFound) && strings.HasPrefix(r.Alias, "alias/aws/") && r.Account == c.Account && r.Region == c.Region:
			// Only the account's own first use creates its AWS-managed key:
			// naming another account's (or region's) would let any caller
			// create key records for arbitrary accounts.
			k, err := s.awsManagedKey(ctx, r.Account, r.Region, r.Alias)
			if err != nil {
				return store.Key{}, err
			}
			return k, nil
		case errors.Is(err, store.ErrNotFound):
			return store.Key{}, errorf(ErrNotFound, "Alias %s is not found.", AliasARN(r.Region, r.Account, r.Alias))
		case err != nil:
			return store.Key{}, err
		}
		keyID = a.KeyID
		s.aliases.put(r.Account, r.Region, r.Alias, keyID, s.now())
	}
	k, err := s.keys.get(ctx, keyID)
	if errors.Is(err, store.ErrNotFound) || err == nil && (k.Account != r.Account || k.Region != r.Region) {
		return store.Key{}, errorf(ErrNotFound, "Key '%s' does not exist", KeyARN(r.Region, r.Account, keyID))
	}
	return k, err
}

// ownedBy reports whether c is a service acting for OwnedAccount (the
// only caller the service-owned keys exist for).
func ownedBy(c Caller) bool {
	_, ok := ownedKeys[c.Service]
	return ok && c.Account == OwnedAccount
}

// hiddenFrom reports whether k is a service-owned key that c must not see.
func hiddenFrom(c Caller, k *store.Key) bool {
	return k.Account == OwnedAccount && !ownedBy(c)
}

// keyCache holds key records for up to CacheTTL and opened material
// versions for as long as their key is cached.
type keyCache struct {
	s  *Service
	mu sync.Mutex
	m  map[string]*cachedKey
}

type cachedKey struct {
	key     store.Key
	checked time.Time
	mat     map[int][]byte // opened material by version
}

func newKeyCache(s *Service) *keyCache { return &keyCache{s: s, m: map[string]*cachedKey{}} }

// get returns the key record, from the cache while it is fresh.
func (kc *keyCache) get(ctx context.Context, id string) (store.Key, error) {
	now := kc.s.now()
	kc.mu.Lock()
	if e, ok := kc.m[id]; ok && kc.s.opt.CacheTTL > 0 && now.Sub(e.checked) < kc.s.opt.CacheTTL {
		k := e.key
		kc.mu.Unlock()
		return k, nil
	}
	kc.mu.Unlock()
	k, err := kc.s.getKey(ctx, id)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) || errors.Is(err, ErrInternal) {
			kc.forget(id) // gone, or its record fails its check: never used again
		}
		return store.Key{}, err
	}
	kc.putAt(k, now) // trusted from when the read started
	return k, nil
}

// put caches k (a record just read or written), keeping opened material
// when the revision is unchanged or newer.
func (kc *keyCache) put(k store.Key) { kc.putAt(k, kc.s.now()) }

func (kc *keyCache) putAt(k store.Key, now time.Time) {
	if kc.s.opt.CacheTTL < 0 {
		return
	}
	kc.mu.Lock()
	defer kc.mu.Unlock()
	e, ok := kc.m[k.ID]
	if ok && e.key.Revision > k.Revision {
		return
	}
	if !ok {
		e = &cachedKey{}
		kc.m[k.ID] = e
	}
	e.key, e.checked = k, now
}

// material returns an opened material version of k (a copy the caller may
// wipe), from the cache or the store.
func (kc *keyCache) material(ctx context.Context, k store.Key, version int) ([]byte, error) {
	kc.mu.Lock()
	if e, ok := kc.m[k.ID]; ok && e.mat[version] != nil {
		b := append([]byte(nil), e.mat[version]...)
		kc.mu.Unlock()
		return b, nil
	}
	kc.mu.Unlock()
	m, err := kc.s.st.GetMaterial(ctx, k.ID, version)
	if err != nil {
		return nil, err
	}
	plain, err := kc.s.kr.OpenMaterial(k.ID, uint32(version), m.Sealed)
	if err != nil {
		return nil, err
	}
	if kc.s.opt.CacheTTL >= 0 {
		kc.mu.Lock()
		if e, ok := kc.m[k.ID]; ok {
			if e.mat == nil {
				e.mat = map[int][]byte{}
			}
			e.mat[version] = append([]byte(nil), plain...)
		}
		kc.mu.Unlock()
	}
	return plain, nil
}

// forget drops a key (and wipes its opened material).
func (kc *keyCache) forget(id string) {
	kc.mu.Lock()
	defer kc.mu.Unlock()
	if e, ok := kc.m[id]; ok {
		for _, b := range e.mat {
			clear(b)
		}
		delete(kc.m, id)
	}
}

// identityOf is the audit userIdentity of c.
func identityOf(c Caller) audit.UserIdentity {
	if c.Service != "" {
		return audit.UserIdentity{Type: "AWSService", InvokedBy: c.Service}
	}
	t := "IAMUser"
	if strings.HasSuffix(c.Principal, ":root") {
		t = "Root"
	}
	if c.Principal == "" {
		t = "AWSAccount"
	}
	return audit.UserIdentity{Type: t, PrincipalID: c.UserID, ARN: c.Principal, AccountID: c.Account, AccessKeyID: c.AccessKeyID}
}

// audit writes one record for a call. k may be nil (calls that name no
// key, or failed before one was found); callErr is the call's outcome.
// params must hold no plaintext, data key, blob or material. An audit
// failure fails the call (no key use without its record): the returned
// error is then ErrInternal, else callErr unchanged.
func (s *Service) audit(ctx context.Context, c Caller, name string, k *store.Key, params map[string]any, readOnly bool, callErr error) error {
	return s.auditEvent(ctx, c, name, k, auditExtra{}, params, readOnly, callErr)
}

// auditExtra is what some records add: a second key (ReEncrypt's
// destination), responseElements (CreateGrant's grantId).
type auditExtra struct {
	also     *store.Key // nil or without id: none
	response map[string]any
}

// auditEvent is audit with the extras.
func (s *Service) auditEvent(ctx context.Context, c Caller, name string, k *store.Key, x auditExtra, params map[string]any, readOnly bool, callErr error) error {
	if s.opt.Audit == nil {
		return callErr
	}
	e := audit.Event{
		Name:               name,
		Region:             c.Region,
		UserAgent:          c.UserAgent,
		Identity:           identityOf(c),
		RequestParameters:  params,
		RequestID:          c.RequestID,
		ReadOnly:           readOnly,
		RecipientAccountID: c.Account,
	}
	if c.SourceIP.IsValid() {
		e.SourceIP = c.SourceIP.String()
	} else if c.Service != "" {
		e.SourceIP = c.Service
	}
	for _, k := range [2]*store.Key{k, x.also} {
		if k == nil || k.ID == "" || slices.ContainsFunc(e.Resources, func(r audit.Resource) bool { return r.ARN == k.ARN }) {
			continue
		}
		if e.Resources == nil {
			e.RecipientAccountID = k.Account
		}
		e.Resources = append(e.Resources, audit.KeyResource(k.ARN, k.Account))
	}
	e.ResponseElements = x.response
	if callErr != nil {
		var ke *Error
		if errors.As(callErr, &ke) {
			e.ErrorCode = ke.Kind.Error()
			e.ErrorMessage = ke.Msg
		} else {
			e.ErrorCode = ErrInternal.Error()
		}
	}
	if _, err := s.opt.Audit.Append(ctx, e); err != nil {
		s.log.Error("kms: audit log write failed; refusing the call", "action", name, "err", err)
		return errorf(ErrInternal, "the audit log could not be written")
	}
	return callErr
}
