package kms

import (
	"context"
	"errors"
	"fmt"

	"github.com/sealpost/sealpost/internal/store"
)

// OwnedAccount is the reserved account of the keys Sealpost's services own
// (SSE-SQS: the key SQS uses for queues with SqsManagedSseEnabled, as
// AWS's SQS-owned key). It is no account id (those are 12 digits), so no
// customer lists its keys or aliases; resolveKey refuses to find its keys
// for any caller but the owning service (ServiceKey), and authorize
// refuses every other caller.
const OwnedAccount = "sealpost"

// managedKey says how to make a key created on first use: an AWS-managed
// key (alias/aws/<service> in a customer account) or a service-owned key
// (in OwnedAccount).
type managedKey struct {
	description string
	policy      func(account, region string) string
}

// managedKeys are the predefined alias/aws/* aliases Sealpost serves, by
// alias, with the description AWS gives the key and AWS's key policy.
var managedKeys = map[string]managedKey{
	"alias/aws/sns": {"Default key that protects my SNS data when no other key is defined",
		func(account, region string) string { return awsManagedKeyPolicy("sns", account, region) }},
	"alias/aws/sqs": {"Default key that protects my SQS messages when no other key is defined",
		func(account, region string) string { return awsManagedKeyPolicy("sqs", account, region) }},
}

// ownedKeys are the service-owned keys, by service principal, with the
// alias naming each (in OwnedAccount and the key's region).
var ownedKeys = map[string]struct {
	alias string
	key   managedKey
}{
	"sqs.amazonaws.com": {"alias/sealpost/sqs-owned", managedKey{"Key owned by SQS for SSE-SQS queues",
		func(string, string) string { return ownedKeyPolicy("sqs") }}},
}

// ServiceKey returns the ARN of the key the service principal service
// ("sqs.amazonaws.com") owns in region, creating it on first use (once,
// also when nodes race). Internal callers only; the key is used through
// GenerateDataKey and DecryptForService with the caller
// {Service: service, Account: OwnedAccount, Region: region}.
func (s *Service) ServiceKey(ctx context.Context, service, region string) (string, error) {
	o, ok := ownedKeys[service]
	if !ok || region == "" {
		return "", errorf(ErrNotFound, "No key is owned by %s", service)
	}
	if id, ok := s.aliases.get(OwnedAccount, region, o.alias, s.now()); ok {
		if k, err := s.keys.get(ctx, id); err == nil {
			return k.ARN, nil
		}
		s.aliases.drop(OwnedAccount, region, o.alias)
	}
	a, err := s.st.GetAlias(ctx, OwnedAccount, region, o.alias)
	if errors.Is(err, store.ErrNotFound) {
		k, err := s.managedKeyFor(ctx, OwnedAccount, region, o.alias, o.key)
		if err != nil {
			return "", err
		}
		return k.ARN, nil
	}
	if err != nil {
		return "", fmt.Errorf("kms: reading %s: %w", o.alias, err)
	}
	k, err := s.keys.get(ctx, a.KeyID)
	if err != nil {
		return "", fmt.Errorf("kms: reading the key of %s: %w", o.alias, err)
	}
	s.aliases.put(OwnedAccount, region, o.alias, a.KeyID, s.now())
	return k.ARN, nil
}

// awsManagedKey returns the AWS-managed key behind alias (alias/aws/sns,
// alias/aws/sqs) in account and region, creating key and alias on first
// use.
func (s *Service) awsManagedKey(ctx context.Context, account, region, alias string) (store.Key, error) {
	mk, ok := managedKeys[alias]
	if !ok {
		return store.Key{}, errorf(ErrNotFound, "Alias %s is not found.", AliasARN(region, account, alias))
	}
	return s.managedKeyFor(ctx, account, region, alias, mk)
}

// managedKeyFor creates the key mk behind alias in account and region.
// Concurrent first uses (also on other nodes over one database) end with
// one key: each creates a key and then the alias; the loser of the alias
// deletes its key and uses the winner's.
func (s *Service) managedKeyFor(ctx context.Context, account, region, alias string, mk managedKey) (store.Key, error) {
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
		Policy: mk.policy(account, region), Tags: map[string]string{},
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
	s.aliases.put(account, region, alias, a.KeyID, now)
	return w, nil
}
