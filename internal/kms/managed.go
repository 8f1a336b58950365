package kms

import (
	"context"
	"errors"
	"fmt"

	"github.com/sealpost/sealpost/internal/store"
)

// managedKeys are the predefined alias/aws/* aliases Sealpost serves, by
// alias: the service principal's short name and the description AWS gives
// the key.
var managedKeys = map[string]struct{ service, description string }{
	"alias/aws/sns": {"sns", "Default key that protects my SNS data when no other key is defined"},
}

// awsManagedKey returns the AWS-managed key behind alias (alias/aws/sns) in
// account and region, creating key and alias on first use. Concurrent first
// uses (also on other nodes over one database) end with one key: each
// creates a key and then the alias; the loser of the alias deletes its key
// and uses the winner's.
func (s *Service) awsManagedKey(ctx context.Context, account, region, alias string) (store.Key, error) {
	mk, ok := managedKeys[alias]
	if !ok {
		return store.Key{}, errorf(ErrNotFound, "Alias %s is not found.", AliasARN(region, account, alias))
	}
	id, err := s.newKeyID()
	if err != nil {
		return store.Key{}, err
	}
	m, err := s.newMaterial(id, 1, "")
	if err != nil {
		return store.Key{}, err
	}
	now := s.now()
	nk := store.Key{
		ID: id, ARN: KeyARN(region, account, id), Account: account, Region: region,
		Description: mk.description, KeyState: stateEnabled, KeyManager: managerAWS,
		KeySpec: specSymmetric, KeyUsage: usageEncrypt, Origin: originKMS, CreatedAt: now,
		// AWS rotates AWS-managed keys every year.
		RotationEnabled: true, RotationPeriodDays: defaultRotationDays, NextRotation: now.Add(dayDur(defaultRotationDays)),
		Policy: awsManagedKeyPolicy(mk.service, account, region), Tags: map[string]string{},
		CurrentVersion: m.Version,
	}
	if err := s.macKey(&nk); err != nil {
		return store.Key{}, err
	}
	k, err := s.st.CreateKey(ctx, nk, &m)
	if err != nil {
		return store.Key{}, fmt.Errorf("kms: creating the AWS managed key for %s: %w", alias, err)
	}
	_, err = s.st.CreateAlias(ctx, store.Alias{Account: account, Region: region, Name: alias, KeyID: id, CreatedAt: now, UpdatedAt: now})
	if err == nil {
		s.log.Info("kms: created the AWS managed key", "alias", alias, "key", k.ARN)
		s.keys.put(k)
		s.aliases.put(account, region, alias, id, now)
		return k, nil
	}
	// Lost the race (or failed): drop our key, use the winner's.
	if derr := s.st.DeleteKey(ctx, id); derr != nil && !errors.Is(derr, store.ErrNotFound) {
		s.log.Error("kms: could not delete a surplus AWS managed key", "key", k.ARN, "err", derr)
	}
	if !errors.Is(err, store.ErrExists) {
		return store.Key{}, fmt.Errorf("kms: creating %s: %w", alias, err)
	}
	a, err := s.st.GetAlias(ctx, account, region, alias)
	if err != nil {
		return store.Key{}, fmt.Errorf("kms: reading %s: %w", alias, err)
	}
	w, err := s.keys.get(ctx, a.KeyID)
	if err != nil {
		return store.Key{}, fmt.Errorf("kms: reading the key of %s: %w", alias, err)
	}
	return w, nil
}
