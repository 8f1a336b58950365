package kms

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/sealpost/sealpost/internal/store"
)

const awsAliasPrefix = "alias/aws/"

// validAliasName checks an alias name for CreateAlias, UpdateAlias and
// DeleteAlias: alias/<[a-zA-Z0-9/_-]+>, at most 256 characters, and not
// under the reserved alias/aws/.
func validAliasName(name string) error {
	if name == "" {
		return errorf(ErrValidation, "1 validation error detected: Value null at 'aliasName' failed to satisfy constraint: Member must not be null")
	}
	if len(name) > 256 {
		return errorf(ErrValidation, "1 validation error detected: Value at 'aliasName' failed to satisfy constraint: Member must have length less than or equal to 256")
	}
	// AWS's answer for a missing prefix (seen from real KMS).
	rest, ok := strings.CutPrefix(name, "alias/")
	if !ok {
		return errorf(ErrValidation, "Alias must start with the prefix \"alias/\". Please see https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html")
	}
	if rest == "" {
		return errorf(ErrInvalidAliasName, "Alias name must have at least one character after \"alias/\".")
	}
	for i := 0; i < len(rest); i++ {
		c := rest[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '/' || c == '_' || c == '-') {
			return errorf(ErrValidation, "1 validation error detected: Value '%s' at 'aliasName' failed to satisfy constraint: Member must satisfy regular expression pattern: ^alias/[a-zA-Z0-9/_-]+$", name)
		}
	}
	if strings.HasPrefix(name, awsAliasPrefix) {
		return errorf(ErrInvalidAliasName, "Alias names that begin with alias/aws/ are reserved for AWS managed keys.")
	}
	return nil
}

// aliasTarget resolves the target of CreateAlias/UpdateAlias: a key id or
// key ARN (no alias) of the caller's account and region.
func (s *Service) aliasTarget(ctx context.Context, c Caller, target string) (store.Key, error) {
	k, err := s.resolveKey(ctx, c, target, false)
	if err != nil {
		return store.Key{}, err
	}
	if k.Account != c.Account || k.Region != c.Region {
		return store.Key{}, errorf(ErrNotFound, "Key '%s' does not exist in the caller's account and region; an alias and its key must be in the same account and region.", k.ARN)
	}
	return k, nil
}

func aliasParams(name, target string) map[string]any {
	p := map[string]any{"aliasName": name}
	if target != "" {
		p["targetKeyId"] = target
	}
	return p
}

// CreateAlias creates an alias of a customer managed key.
func (s *Service) CreateAlias(ctx context.Context, c Caller, name, targetKeyID string) error {
	var k store.Key
	err := func() error {
		if err := validAliasName(name); err != nil {
			return err
		}
		var err error
		if k, err = s.aliasTarget(ctx, c, targetKeyID); err != nil {
			return err
		}
		if err := s.authorize(ctx, c, k, "kms:CreateAlias", Access{}); err != nil {
			return err
		}
		if err := checkState(&k, notPending); err != nil {
			return err
		}
		if k.KeyManager == managerAWS {
			return managedDenied(c, "kms:CreateAlias")(&k)
		}
		now := s.now()
		_, err = s.st.CreateAlias(ctx, store.Alias{Account: c.Account, Region: c.Region, Name: name, KeyID: k.ID, CreatedAt: now, UpdatedAt: now})
		switch {
		case errors.Is(err, store.ErrExists):
			return errorf(ErrAlreadyExists, "An alias with the name %s already exists", AliasARN(c.Region, c.Account, name))
		case err != nil:
			return s.storeErr(err, &k)
		}
		s.aliases.put(c.Account, c.Region, name, k.ID, now)
		return nil
	}()
	return s.audit(ctx, c, "CreateAlias", keyRef(&k), aliasParams(name, targetKeyID), false, err)
}

// UpdateAlias points an alias to another customer managed key of the same
// account and region.
func (s *Service) UpdateAlias(ctx context.Context, c Caller, name, targetKeyID string) error {
	var k store.Key
	err := func() error {
		if err := validAliasName(name); err != nil {
			return err
		}
		a, err := s.st.GetAlias(ctx, c.Account, c.Region, name)
		if errors.Is(err, store.ErrNotFound) {
			return errorf(ErrNotFound, "Alias %s is not found.", AliasARN(c.Region, c.Account, name))
		} else if err != nil {
			return fmt.Errorf("kms: key store: %w", err)
		}
		if k, err = s.aliasTarget(ctx, c, targetKeyID); err != nil {
			return err
		}
		// kms:UpdateAlias is needed on the key the alias leaves and on the
		// one it joins.
		if old, err := s.keys.get(ctx, a.KeyID); err == nil {
			if err := s.authorize(ctx, c, old, "kms:UpdateAlias", Access{}); err != nil {
				return err
			}
		} else if !errors.Is(err, store.ErrNotFound) {
			return err // e.g. its record fails its integrity check
		}
		if err := s.authorize(ctx, c, k, "kms:UpdateAlias", Access{}); err != nil {
			return err
		}
		if err := checkState(&k, notPending); err != nil {
			return err
		}
		if k.KeyManager == managerAWS {
			return managedDenied(c, "kms:UpdateAlias")(&k)
		}
		now := s.now()
		_, err = s.st.UpdateAlias(ctx, c.Account, c.Region, name, k.ID, now)
		if errors.Is(err, store.ErrNotFound) {
			s.aliases.drop(c.Account, c.Region, name)
			return errorf(ErrNotFound, "Alias %s is not found.", AliasARN(c.Region, c.Account, name))
		}
		if err != nil {
			s.aliases.drop(c.Account, c.Region, name)
			return fmt.Errorf("kms: key store: %w", err)
		}
		s.aliases.put(c.Account, c.Region, name, k.ID, now)
		return nil
	}()
	return s.audit(ctx, c, "UpdateAlias", keyRef(&k), aliasParams(name, targetKeyID), false, err)
}

// DeleteAlias deletes an alias (its key is unaffected).
func (s *Service) DeleteAlias(ctx context.Context, c Caller, name string) error {
	var k store.Key
	err := func() error {
		if err := validAliasName(name); err != nil {
			return err
		}
		a, err := s.st.GetAlias(ctx, c.Account, c.Region, name)
		if errors.Is(err, store.ErrNotFound) {
			return errorf(ErrNotFound, "Alias %s is not found.", AliasARN(c.Region, c.Account, name))
		} else if err != nil {
			return fmt.Errorf("kms: key store: %w", err)
		}
		if k, err = s.keys.get(ctx, a.KeyID); err != nil {
			k = store.Key{}
			if !errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("kms: key store: %w", err)
			}
		} else if err := s.authorize(ctx, c, k, "kms:DeleteAlias", Access{}); err != nil {
			return err
		}
		err = s.st.DeleteAlias(ctx, c.Account, c.Region, name)
		s.aliases.drop(c.Account, c.Region, name)
		if errors.Is(err, store.ErrNotFound) {
			return errorf(ErrNotFound, "Alias %s is not found.", AliasARN(c.Region, c.Account, name))
		}
		if err != nil {
			return fmt.Errorf("kms: key store: %w", err)
		}
		return nil
	}()
	return s.audit(ctx, c, "DeleteAlias", keyRef(&k), aliasParams(name, ""), false, err)
}

// ListAliases lists the caller's aliases (those of AWS-managed keys that
// exist included); keyID, when set, limits them to that key's.
func (s *Service) ListAliases(ctx context.Context, c Caller, keyID string, p Page) ([]AliasEntry, string, error) {
	var out []AliasEntry
	var next string
	var k store.Key
	err := func() error {
		limit, err := pageLimit(p, defaultPageSize, 1000)
		if err != nil {
			return err
		}
		after, err := decodeMarker(p.Marker, func(m string) bool { return strings.HasPrefix(m, "alias/") && len(m) <= 256 })
		if err != nil {
			return err
		}
		// Only the caller's aliases: a key of another account named by ARN
		// lists none of its owner's aliases.
		target := ""
		if keyID != "" {
			if k, err = s.resolveKey(ctx, c, keyID, false); err != nil {
				return err
			}
			target = k.ID
		}
		as, cur, err := s.st.ListAliases(ctx, c.Account, c.Region, target, store.Page{After: after, Limit: limit})
		if err != nil {
			return fmt.Errorf("kms: key store: %w", err)
		}
		out = make([]AliasEntry, len(as))
		for i, a := range as {
			out[i] = AliasEntry{AliasName: a.Name, AliasARN: AliasARN(a.Region, a.Account, a.Name), TargetKeyID: a.KeyID, CreationDate: a.CreatedAt, LastUpdatedDate: a.UpdatedAt}
		}
		next = encodeMarker(cur)
		return nil
	}()
	params := map[string]any{}
	if keyID != "" {
		params["keyId"] = keyID
	}
	return out, next, s.audit(ctx, c, "ListAliases", keyRef(&k), params, true, err)
}
