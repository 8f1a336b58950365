package kms

// Stubs of authorization and grants (owner: the kms-authz work). Each is
// replaced by its implementation in its own file; this file is deleted
// when the last one is.

import (
	"context"

	"github.com/sealpost/sealpost/internal/store"
)

// Access is what authorize needs beyond the caller, the key and the action.
type Access struct {
	// Context is the request's encryption context (kms:EncryptionContext:*,
	// kms:EncryptionContextKeys, grant constraints).
	Context map[string]string
	// GrantTokens are the request's grant tokens (a grant created moments
	// ago is usable with its token).
	GrantTokens []string
	// GrantOperations and GrantIsForAWSResource are set for CreateGrant.
	GrantOperations       []string
	GrantIsForAWSResource bool
}

// authorize decides whether c may perform action ("kms:Encrypt") on k:
// key policy (resource policy, required as in AWS), identity policy, grants.
// It returns nil or an ErrAccessDenied error with AWS's message.
func (s *Service) authorize(ctx context.Context, c Caller, k store.Key, action string, a Access) error {
	return nil
}

// defaultKeyPolicy is AWS's default key policy for a key of account:
// the account root may do kms:* (which delegates to identity policies).
func defaultKeyPolicy(account string) string {
	return `{"Version":"2012-10-17","Id":"key-default-1","Statement":[{"Sid":"Enable IAM User Permissions","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + account + `:root"},"Action":"kms:*","Resource":"*"}]}`
}

// awsManagedKeyPolicy is AWS's key policy of the AWS-managed key of
// service ("sns") in account and region.
func awsManagedKeyPolicy(service, account, region string) string {
	return defaultKeyPolicy(account)
}

// checkPolicy validates a key policy document (size, syntax) and, unless
// bypass, that c could still call kms:PutKeyPolicy under it (the lockout
// safety check). It returns ErrMalformedPolicy errors.
func (s *Service) checkPolicy(c Caller, account, doc string, bypass bool) error { return nil }

func (s *Service) CreateGrant(ctx context.Context, c Caller, in CreateGrantInput) (token, grantID string, err error) {
	return "", "", notYet()
}

// ListGrants lists a key's grants; grantID and grantee filter.
func (s *Service) ListGrants(ctx context.Context, c Caller, keyID, grantID, grantee string, p Page) ([]GrantEntry, string, error) {
	return nil, "", notYet()
}

// RetireGrant retires a grant named by its token, or by key and grant id.
func (s *Service) RetireGrant(ctx context.Context, c Caller, token, keyID, grantID string) error {
	return notYet()
}
func (s *Service) RevokeGrant(ctx context.Context, c Caller, keyID, grantID string) error {
	return notYet()
}
func (s *Service) ListRetirableGrants(ctx context.Context, c Caller, retiringPrincipal string, p Page) ([]GrantEntry, string, error) {
	return nil, "", notYet()
}
