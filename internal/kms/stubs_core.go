package kms

// Stubs of the key, crypto, alias and lifecycle methods (owner: the
// kms-core work). Each is replaced by its implementation in its own file;
// this file is deleted when the last one is.

import (
	"context"

	"github.com/sealpost/sealpost/internal/store"
)

func notYet() error { return errorf(ErrUnsupported, "not implemented yet") }

// awsManagedKey returns the AWS-managed key behind alias (alias/aws/sns) in
// account and region, creating key and alias on first use.
func (s *Service) awsManagedKey(ctx context.Context, account, region, alias string) (store.Key, error) {
	return store.Key{}, notYet()
}

func (s *Service) CreateKey(ctx context.Context, c Caller, in CreateKeyInput) (KeyMetadata, error) {
	return KeyMetadata{}, notYet()
}
func (s *Service) DescribeKey(ctx context.Context, c Caller, keyID string, grantTokens []string) (KeyMetadata, error) {
	return KeyMetadata{}, notYet()
}
func (s *Service) ListKeys(ctx context.Context, c Caller, p Page) ([]KeyListEntry, string, error) {
	return nil, "", notYet()
}
func (s *Service) CreateAlias(ctx context.Context, c Caller, name, targetKeyID string) error {
	return notYet()
}
func (s *Service) UpdateAlias(ctx context.Context, c Caller, name, targetKeyID string) error {
	return notYet()
}
func (s *Service) DeleteAlias(ctx context.Context, c Caller, name string) error { return notYet() }

// ListAliases lists the caller's aliases; keyID, when set, limits them to
// that key's.
func (s *Service) ListAliases(ctx context.Context, c Caller, keyID string, p Page) ([]AliasEntry, string, error) {
	return nil, "", notYet()
}
func (s *Service) Encrypt(ctx context.Context, c Caller, in EncryptInput) (EncryptOutput, error) {
	return EncryptOutput{}, notYet()
}
func (s *Service) Decrypt(ctx context.Context, c Caller, in DecryptInput) (DecryptOutput, error) {
	return DecryptOutput{}, notYet()
}
func (s *Service) ReEncrypt(ctx context.Context, c Caller, in ReEncryptInput) (ReEncryptOutput, error) {
	return ReEncryptOutput{}, notYet()
}
func (s *Service) GenerateDataKey(ctx context.Context, c Caller, in DataKeyInput) (DataKeyOutput, error) {
	return DataKeyOutput{}, notYet()
}
func (s *Service) GenerateDataKeyWithoutPlaintext(ctx context.Context, c Caller, in DataKeyInput) (DataKeyOutput, error) {
	return DataKeyOutput{}, notYet()
}

// GenerateRandom returns n (1-1024) random bytes.
func (s *Service) GenerateRandom(ctx context.Context, c Caller, n int, customKeyStoreID string) ([]byte, error) {
	return nil, notYet()
}
func (s *Service) EnableKey(ctx context.Context, c Caller, keyID string) error  { return notYet() }
func (s *Service) DisableKey(ctx context.Context, c Caller, keyID string) error { return notYet() }

// ScheduleKeyDeletion schedules deletion after days (0 = 30; 7-30).
func (s *Service) ScheduleKeyDeletion(ctx context.Context, c Caller, keyID string, days int) (DeletionResult, error) {
	return DeletionResult{}, notYet()
}

// CancelKeyDeletion returns the key's ARN; the key is Disabled after it.
func (s *Service) CancelKeyDeletion(ctx context.Context, c Caller, keyID string) (string, error) {
	return "", notYet()
}

// EnableKeyRotation enables automatic rotation every periodDays (0 = 365;
// 90-2560).
func (s *Service) EnableKeyRotation(ctx context.Context, c Caller, keyID string, periodDays int) error {
	return notYet()
}
func (s *Service) DisableKeyRotation(ctx context.Context, c Caller, keyID string) error {
	return notYet()
}
func (s *Service) GetKeyRotationStatus(ctx context.Context, c Caller, keyID string) (RotationStatus, error) {
	return RotationStatus{}, notYet()
}

// RotateKeyOnDemand returns the key's ARN.
func (s *Service) RotateKeyOnDemand(ctx context.Context, c Caller, keyID string) (string, error) {
	return "", notYet()
}
func (s *Service) ListKeyRotations(ctx context.Context, c Caller, keyID string, p Page) ([]Rotation, string, error) {
	return nil, "", notYet()
}

// GetKeyPolicy returns the policy document and its name ("default").
func (s *Service) GetKeyPolicy(ctx context.Context, c Caller, keyID, name string) (string, string, error) {
	return "", "", notYet()
}
func (s *Service) PutKeyPolicy(ctx context.Context, c Caller, keyID, name, doc string, bypassLockoutCheck bool) error {
	return notYet()
}
func (s *Service) ListKeyPolicies(ctx context.Context, c Caller, keyID string, p Page) ([]string, string, error) {
	return nil, "", notYet()
}
func (s *Service) TagResource(ctx context.Context, c Caller, keyID string, tags []Tag) error {
	return notYet()
}
func (s *Service) UntagResource(ctx context.Context, c Caller, keyID string, tagKeys []string) error {
	return notYet()
}
func (s *Service) ListResourceTags(ctx context.Context, c Caller, keyID string, p Page) ([]Tag, string, error) {
	return nil, "", notYet()
}
func (s *Service) UpdateKeyDescription(ctx context.Context, c Caller, keyID, description string) error {
	return notYet()
}

// Sweep deletes the keys whose deletion date has passed and rotates the
// keys whose automatic rotation is due, on Now. The server calls it
// periodically; tests call it after moving the clock.
func (s *Service) Sweep(ctx context.Context) (deleted, rotated int, err error) {
	return 0, 0, notYet()
}
