package kms

// Key states and what each allows (AWS's "Key states" table):
//
//	                           Enabled  Disabled          PendingDeletion
//	Encrypt, Decrypt, ReEncrypt,
//	GenerateDataKey*            yes     DisabledException KMSInvalidState
//	Enable/DisableKeyRotation,
//	RotateKeyOnDemand           yes     DisabledException KMSInvalidState
//	EnableKey, DisableKey,
//	ScheduleKeyDeletion, Tag*,
//	UpdateKeyDescription,
//	CreateAlias/UpdateAlias to  yes     yes               KMSInvalidState
//	CancelKeyDeletion           KMSInvalidState ("is not pending deletion.")  yes -> Disabled
//	DescribeKey, Get/PutKeyPolicy, ListKeyPolicies, ListResourceTags,
//	GetKeyRotationStatus, ListKeyRotations, ListAliases, DeleteAlias: every state
//
// A key pending deletion is deleted by Sweep at its DeletionDate
// (store.DeleteKey: material versions, aliases and grants go with it; the
// key is NotFound and its blobs are InvalidCiphertext afterwards). It is
// not rotated while pending; CancelKeyDeletion makes it Disabled and, when
// automatic rotation is on, schedules the next rotation one period later.
//
// AWS-managed keys (KeyManager AWS): their key policy allows no
// management, so authorize refuses it (AccessDeniedException); behind it,
// the domain refuses DisableKey, EnableKey, ScheduleKeyDeletion,
// CancelKeyDeletion, Tag/UntagResource, UpdateKeyDescription and aliases
// to them with AccessDeniedException, and PutKeyPolicy and rotation
// changes with UnsupportedOperationException (the API reference says
// AWS-managed keys cannot do those). KMS rotates them every 365 days.

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sealpost/sealpost/internal/store"
)

// Deletion windows and rotation periods (AWS's).
const (
	minPendingDays      = 7
	maxPendingDays      = 30
	defaultPendingDays  = 30
	minRotationDays     = 90
	maxRotationDays     = 2560
	defaultRotationDays = 365
	// maxOnDemandRotations is AWS's quota of on-demand rotations per key.
	maxOnDemandRotations = 10

	rotationAutomatic = "AUTOMATIC"
	rotationOnDemand  = "ON_DEMAND"

	sweepBatch = 100
)

// EnableKey makes a Disabled key Enabled.
func (s *Service) EnableKey(ctx context.Context, c Caller, keyID string) error {
	return s.keyOp(ctx, c, keyCall{
		name: "EnableKey", keyID: keyID, action: "kms:EnableKey", state: notPending,
		params: map[string]any{"keyId": keyID}, managed: managedDenied(c, "kms:EnableKey"),
	}, func(k *store.Key) error {
		return s.updateKey(ctx, k, notPending, func(cur *store.Key) error {
			cur.KeyState = stateEnabled
			return nil
		})
	})
}

// DisableKey makes a key Disabled: cryptographic operations with it fail
// with DisabledException until EnableKey. Cached data keys of it are
// purged before it returns.
func (s *Service) DisableKey(ctx context.Context, c Caller, keyID string) error {
	return s.keyOp(ctx, c, keyCall{
		name: "DisableKey", keyID: keyID, action: "kms:DisableKey", state: notPending,
		params: map[string]any{"keyId": keyID}, managed: managedDenied(c, "kms:DisableKey"),
	}, func(k *store.Key) error {
		defer s.purge(k.ID)
		return s.updateKey(ctx, k, notPending, func(cur *store.Key) error {
			cur.KeyState = stateDisabled
			return nil
		})
	})
}

// ScheduleKeyDeletion schedules deletion after days (0 = 30; 7-30).
func (s *Service) ScheduleKeyDeletion(ctx context.Context, c Caller, keyID string, days int) (DeletionResult, error) {
	var pre error
	if days == 0 {
		days = defaultPendingDays
	} else if days < minPendingDays || days > maxPendingDays {
		pre = errorf(ErrValidation, "PendingWindowInDays must be between %d and %d (got %d)", minPendingDays, maxPendingDays, days)
	}
	var res DeletionResult
	err := s.keyOp(ctx, c, keyCall{
		name: "ScheduleKeyDeletion", keyID: keyID, action: "kms:ScheduleKeyDeletion", state: notPending,
		params: map[string]any{"keyId": keyID, "pendingWindowInDays": days}, pre: pre,
		managed: managedDenied(c, "kms:ScheduleKeyDeletion"),
	}, func(k *store.Key) error {
		defer s.purge(k.ID)
		at := s.now().Add(dayDur(days))
		err := s.updateKey(ctx, k, notPending, func(cur *store.Key) error {
			cur.KeyState = statePendingDeletion
			cur.DeletionDate = at
			cur.PendingWindowDays = days
			// No rotation while pending deletion; CancelKeyDeletion
			// schedules the next one again.
			cur.NextRotation = time.Time{}
			return nil
		})
		if err != nil {
			return err
		}
		res = DeletionResult{KeyARN: k.ARN, DeletionDate: k.DeletionDate, KeyState: statePendingDeletion, PendingWindowDays: days}
		return nil
	})
	return res, err
}

// CancelKeyDeletion returns the key's ARN; the key is Disabled after it.
func (s *Service) CancelKeyDeletion(ctx context.Context, c Caller, keyID string) (string, error) {
	var arn string
	err := s.keyOp(ctx, c, keyCall{
		name: "CancelKeyDeletion", keyID: keyID, action: "kms:CancelKeyDeletion", state: pendingOnly,
		params: map[string]any{"keyId": keyID}, managed: managedDenied(c, "kms:CancelKeyDeletion"),
	}, func(k *store.Key) error {
		now := s.now()
		err := s.updateKey(ctx, k, pendingOnly, func(cur *store.Key) error {
			cur.KeyState = stateDisabled
			cur.DeletionDate = time.Time{}
			cur.PendingWindowDays = 0
			if cur.RotationEnabled && cur.RotationPeriodDays > 0 {
				cur.NextRotation = now.Add(dayDur(cur.RotationPeriodDays))
			}
			return nil
		})
		arn = k.ARN
		return err
	})
	return arn, err
}

// EnableKeyRotation enables automatic rotation every periodDays (0 = 365;
// 90-2560); the next rotation is due periodDays from now.
func (s *Service) EnableKeyRotation(ctx context.Context, c Caller, keyID string, periodDays int) error {
	var pre error
	if periodDays == 0 {
		periodDays = defaultRotationDays
	} else if periodDays < minRotationDays || periodDays > maxRotationDays {
		pre = errorf(ErrValidation, "1 validation error detected: Value '%d' at 'rotationPeriodInDays' failed to satisfy constraint: Member must have value between %d and %d", periodDays, minRotationDays, maxRotationDays)
	}
	return s.keyOp(ctx, c, keyCall{
		name: "EnableKeyRotation", keyID: keyID, action: "kms:EnableKeyRotation", state: usable,
		params: map[string]any{"keyId": keyID, "rotationPeriodInDays": periodDays}, pre: pre,
		managed: managedUnsupported("changing automatic rotation"),
	}, func(k *store.Key) error {
		next := s.now().Add(dayDur(periodDays))
		return s.updateKey(ctx, k, usable, func(cur *store.Key) error {
			cur.RotationEnabled = true
			cur.RotationPeriodDays = periodDays
			cur.NextRotation = next
			return nil
		})
	})
}

// DisableKeyRotation turns automatic rotation off.
func (s *Service) DisableKeyRotation(ctx context.Context, c Caller, keyID string) error {
	return s.keyOp(ctx, c, keyCall{
		name: "DisableKeyRotation", keyID: keyID, action: "kms:DisableKeyRotation", state: usable,
		params: map[string]any{"keyId": keyID}, managed: managedUnsupported("changing automatic rotation"),
	}, func(k *store.Key) error {
		return s.updateKey(ctx, k, usable, func(cur *store.Key) error {
			cur.RotationEnabled = false
			cur.RotationPeriodDays = 0
			cur.NextRotation = time.Time{}
			return nil
		})
	})
}

// GetKeyRotationStatus works in every key state.
func (s *Service) GetKeyRotationStatus(ctx context.Context, c Caller, keyID string) (RotationStatus, error) {
	var st RotationStatus
	err := s.keyOp(ctx, c, keyCall{
		name: "GetKeyRotationStatus", keyID: keyID, action: "kms:GetKeyRotationStatus", state: anyState, readOnly: true,
		params: map[string]any{"keyId": keyID},
	}, func(k *store.Key) error {
		st = RotationStatus{Enabled: k.RotationEnabled, KeyARN: k.ARN}
		if k.RotationEnabled {
			st.PeriodDays = k.RotationPeriodDays
			st.NextRotationDate = k.NextRotation
		}
		return nil
	})
	return st, err
}

// RotateKeyOnDemand adds a material version now (at most 10 per key, as
// AWS). The automatic schedule is unchanged. It returns the key's ARN.
func (s *Service) RotateKeyOnDemand(ctx context.Context, c Caller, keyID string) (string, error) {
	var arn string
	err := s.keyOp(ctx, c, keyCall{
		name: "RotateKeyOnDemand", keyID: keyID, action: "kms:RotateKeyOnDemand", state: usable,
		params: map[string]any{"keyId": keyID}, managed: managedUnsupported("on-demand rotation"),
	}, func(k *store.Key) error {
		n, err := s.countOnDemand(ctx, k)
		if err != nil {
			return err
		}
		if n >= maxOnDemandRotations {
			return errorf(ErrLimitExceeded, "%s has reached the limit of %d on-demand rotations.", k.ARN, maxOnDemandRotations)
		}
		arn = k.ARN
		return s.rotate(ctx, k, rotationOnDemand, true, nil)
	})
	return arn, err
}

// countOnDemand counts k's ON_DEMAND material versions.
func (s *Service) countOnDemand(ctx context.Context, k *store.Key) (int, error) {
	n, after := 0, ""
	for {
		ms, cur, err := s.st.ListMaterials(ctx, k.ID, store.Page{After: after, Limit: 1000})
		if err != nil {
			return 0, s.storeErr(err, k)
		}
		for _, m := range ms {
			if m.RotationType == rotationOnDemand {
				n++
			}
		}
		if cur == "" {
			return n, nil
		}
		after = cur
	}
}

// rotate adds material version CurrentVersion+1 of k with rotation type
// typ; fn, when set, updates the record in the same write. With retry, a
// concurrent rotation (ErrExists) is retried on the new version; without,
// it is reported as errRotated.
func (s *Service) rotate(ctx context.Context, k *store.Key, typ string, retry bool, fn func(*store.Key) error) error {
	for attempt := 0; ; attempt++ {
		m, err := s.newMaterial(k.ID, k.CurrentVersion+1, typ)
		if err != nil {
			return err
		}
		nk, err := s.st.AddMaterial(ctx, k.ID, m, s.sealedUpdate(k.ID, m.Version, func(cur *store.Key) error {
			if cur.KeyState == statePendingDeletion {
				return checkState(cur, notPending)
			}
			if fn != nil {
				return fn(cur)
			}
			return nil
		}))
		clear(m.Sealed)
		if errors.Is(err, store.ErrExists) {
			if !retry || attempt >= 4 {
				return errRotated
			}
			fresh, err := s.getKey(ctx, k.ID)
			if err != nil {
				return s.storeErr(err, k)
			}
			*k = fresh
			continue
		}
		if err != nil {
			return s.storeErr(err, k)
		}
		s.keys.put(nk)
		*k = nk
		return nil
	}
}

// kmsItself is the caller of Sweep's audit records: KMS acting on a key
// of the key's account (CloudTrail's DeleteKey and RotateKey events).
func kmsItself(k store.Key) Caller {
	return Caller{Account: k.Account, Region: k.Region, Service: "kms.amazonaws.com"}
}

// errRotated: another rotation of the key won (not an API error kind: the
// callers handle it).
var errRotated = errors.New("kms: concurrent rotation")

// errNotDue aborts an automatic rotation another node already made.
var errNotDue = errors.New("kms: rotation no longer due")

// ListKeyRotations lists the rotations (material versions after the first)
// of a key, oldest first.
func (s *Service) ListKeyRotations(ctx context.Context, c Caller, keyID string, p Page) ([]Rotation, string, error) {
	var out []Rotation
	var next string
	err := s.keyOp(ctx, c, keyCall{
		name: "ListKeyRotations", keyID: keyID, action: "kms:ListKeyRotations", state: anyState, readOnly: true,
		params: map[string]any{"keyId": keyID},
	}, func(k *store.Key) error {
		limit, err := pageLimit(p, defaultPageSize, 1000)
		if err != nil {
			return err
		}
		after, err := decodeMarker(p.Marker, isDigits)
		if err != nil {
			return err
		}
		if after == "" {
			after = "1" // version 1 is the original material, not a rotation
		}
		ms, cur, err := s.st.ListMaterials(ctx, k.ID, store.Page{After: after, Limit: limit})
		if err != nil {
			return s.storeErr(err, k)
		}
		out = make([]Rotation, 0, len(ms))
		for _, m := range ms {
			out = append(out, Rotation{KeyARN: k.ARN, MaterialID: m.MaterialID, RotationDate: m.CreatedAt, RotationType: m.RotationType})
		}
		next = encodeMarker(cur)
		return nil
	})
	return out, next, err
}

// Sweep deletes the keys whose deletion date has passed and rotates the
// keys whose automatic rotation is due, on Now. The server calls it
// periodically (on every node: the store arbitrates); tests call it after
// moving the clock. Disabled keys are rotated too (AWS waits until they
// are enabled again); keys pending deletion are not.
func (s *Service) Sweep(ctx context.Context) (deleted, rotated int, err error) {
	now := s.now()
	var firstErr error
	note := func(e error) {
		if e != nil && firstErr == nil {
			firstErr = e
		}
	}
	for round := 0; round < 1000; round++ {
		keys, err := s.st.KeysDue(ctx, now, sweepBatch)
		if err != nil {
			return deleted, rotated, fmt.Errorf("kms: sweep: %w", err)
		}
		for _, k := range keys {
			if err := s.checkKey(k.ID, &k); err != nil {
				// Never acted on; reported on every sweep until repaired.
				note(err)
				s.keys.forget(k.ID)
				continue
			}
			switch {
			case !k.DeletionDate.IsZero() && !k.DeletionDate.After(now) && k.KeyState == statePendingDeletion:
				err := s.st.DeleteKey(ctx, k.ID)
				if errors.Is(err, store.ErrNotFound) { // another node did
					s.purge(k.ID)
					s.aliases.dropKey(k.ID)
					continue
				}
				if err == nil {
					deleted++
					s.log.Info("kms: key deleted at its deletion date", "key", k.ARN)
					s.purge(k.ID)
					s.aliases.dropKey(k.ID) // the store deleted its aliases
				}
				note(s.audit(ctx, kmsItself(k), "DeleteKey", &k, map[string]any{"keyId": k.ID}, false, err))
			case !k.NextRotation.IsZero() && !k.NextRotation.After(now) && k.RotationEnabled && k.KeyState != statePendingDeletion:
				kk := k
				err := s.rotate(ctx, &kk, rotationAutomatic, false, func(cur *store.Key) error {
					if !cur.RotationEnabled || cur.NextRotation.IsZero() || cur.NextRotation.After(now) {
						return errNotDue
					}
					cur.NextRotation = now.Add(dayDur(max(cur.RotationPeriodDays, 1)))
					return nil
				})
				switch {
				case errors.Is(err, errNotDue), errors.Is(err, errRotated), errors.Is(err, ErrNotFound), errors.Is(err, ErrInvalidState):
					// Another node rotated, or the key changed meanwhile.
				default:
					if err == nil {
						rotated++
					}
					note(s.audit(ctx, kmsItself(k), "RotateKey", &kk, map[string]any{"keyId": k.ID, "rotationType": rotationAutomatic}, false, err))
				}
			default:
				// A date that is due but means nothing in the key's state:
				// clear it so that the key is not returned again.
				_, err := s.st.UpdateKey(ctx, k.ID, s.sealedUpdate(k.ID, 0, func(cur *store.Key) error {
					if cur.KeyState != statePendingDeletion && !cur.DeletionDate.IsZero() && !cur.DeletionDate.After(now) {
						cur.DeletionDate = time.Time{}
					}
					if (!cur.RotationEnabled || cur.KeyState == statePendingDeletion) && !cur.NextRotation.IsZero() && !cur.NextRotation.After(now) {
						cur.NextRotation = time.Time{}
					}
					return nil
				}))
				if err != nil && !errors.Is(err, store.ErrNotFound) {
					note(fmt.Errorf("kms: sweep: %s: %w", k.ID, err))
				}
				s.keys.forget(k.ID)
			}
		}
		if len(keys) < sweepBatch || firstErr != nil {
			break
		}
	}
	return deleted, rotated, firstErr
}
