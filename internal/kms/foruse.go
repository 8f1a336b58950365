package kms

// What a service using keys on behalf of accounts (SNS server-side
// encryption, internal/sse) needs beyond the API: the Decrypt it performs
// as itself, a cheap check that a key is unchanged, and the wait that
// makes a purge hold on every node.

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sealpost/sealpost/internal/policy"
	"github.com/sealpost/sealpost/internal/store"
)

// KeyRevision returns the store revision of the key keyID (a key id or key
// ARN) if the key is Enabled. It reads the node's key cache (trusted for
// Options.CacheTTL), so callers may ask before every use of something
// derived from the key: a revision that differs from the one they saw means
// the key was disabled, scheduled for deletion, re-enabled, rotated or got
// a new policy since. A key that is not Enabled gives its state's error
// (ErrDisabled, ErrInvalidState); a key that is gone gives ErrNotFound. It
// is not audited: it is not a KMS API call.
func (s *Service) KeyRevision(ctx context.Context, keyID string) (int64, error) {
	id := keyID
	if i := strings.LastIndex(keyID, ":key/"); i >= 0 && strings.HasPrefix(keyID, "arn:") {
		id = keyID[i+len(":key/"):]
	}
	id = strings.ToLower(id)
	if !isKeyID(id) {
		return 0, errorf(ErrNotFound, "Invalid keyId '%s'", keyID)
	}
	k, err := s.keys.get(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return 0, errorf(ErrNotFound, "Key '%s' does not exist", keyID)
	}
	if err != nil {
		return 0, fmt.Errorf("kms: key store: %w", err)
	}
	if err := checkState(&k, usable); err != nil {
		return 0, err
	}
	return k.Revision, nil
}

// DecryptForService decrypts a blob as the AWS service c.Service (e.g.
// "sns.amazonaws.com") acting for account c.Account in c.Region: SNS
// opening the bodies of an encrypted topic of that account for delivery.
// Internal callers only: no API reaches it. The call is audited with
// userIdentity {type AWSService, invokedBy c.Service}.
//
// Authorization (one rule, documented in internal/sse): the call is allowed
// when the key policy or a grant allows either
//
//  1. the service principal itself (a statement with Principal
//     {"Service": "sns.amazonaws.com"}, as AWS asks for AWS services that
//     publish to encrypted topics), or
//  2. the account c.Account acting through the service: the request is
//     evaluated as that account's root principal with kms:CallerAccount =
//     c.Account and kms:ViaService = <service>.<region>.amazonaws.com (the
//     default key policy, the AWS-managed aws/sns key policy, and a key of
//     another account whose policy names the account all allow it);
//
// with the encryption context in in.Context visible to conditions. An
// explicit Deny for either wins. Key state is checked as for Decrypt.
func (s *Service) DecryptForService(ctx context.Context, c Caller, in DecryptInput) (DecryptOutput, error) {
	var out DecryptOutput
	var k store.Key
	err := func() error {
		if c.Service == "" || c.Account == "" {
			return fmt.Errorf("kms: DecryptForService needs a service caller and the account it acts for")
		}
		if in.KeyID != "" || in.Algorithm != "" || len(in.GrantTokens) > 0 || in.DryRun {
			return errorf(ErrValidation, "DecryptForService takes only a ciphertext blob and an encryption context")
		}
		bl, bk, err := s.blobKey(ctx, c, in.CiphertextBlob)
		if err != nil {
			return err
		}
		k = bk
		if err := s.authorizeForService(ctx, c, k, "kms:Decrypt", Access{Context: in.Context}); err != nil {
			return err
		}
		if err := checkState(&k, usable); err != nil {
			return err
		}
		pt, err := s.open(ctx, &k, bl, in.Context)
		if err != nil {
			return err
		}
		out = DecryptOutput{Plaintext: pt, KeyARN: k.ARN, Algorithm: algSymmetric}
		return nil
	}()
	return out, s.audit(ctx, c, "Decrypt", keyRef(&k), cryptoParams("", in.Context, ""), true, err)
}

// onBehalfOf is the caller the service's request is evaluated as in the
// second branch of DecryptForService's rule.
func onBehalfOf(c Caller) Caller {
	return Caller{
		Account:       c.Account,
		Region:        c.Region,
		Principal:     "arn:aws:iam::" + c.Account + ":root",
		Authenticated: true,
		ViaService:    viaService(c),
		Secure:        true,
	}
}

// authorizeForService applies DecryptForService's rule.
func (s *Service) authorizeForService(ctx context.Context, c Caller, k store.Key, action string, a Access) error {
	pol := s.keyPolicy(k.Policy)
	acct := onBehalfOf(c)
	reqSvc := s.request(c, k.ARN, action, &a)
	_, resSvc, okSvc := decide(c, k.Account, pol, &reqSvc)
	reqAcct := s.request(acct, k.ARN, action, &a)
	idAcct, resAcct, okAcct := decide(acct, k.Account, pol, &reqAcct)
	if resSvc == policy.Deny || resAcct == policy.Deny || idAcct == policy.Deny {
		return accessDenied(c, action, k.ARN, policy.NotApplicable, policy.Deny)
	}
	if okSvc || okAcct {
		return nil
	}
	for _, who := range []struct {
		c   Caller
		req *policy.Request
	}{{c, &reqSvc}, {acct, &reqAcct}} {
		ok, err := s.grantAllows(ctx, who.c, k, action, &a, who.req, nil)
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
	}
	return errorf(ErrAccessDenied, "User: %s is not authorized to perform: %s on resource: %s because no resource-based policy allows the %s action for %s or for account %s through %s",
		c.Service, action, k.ARN, action, c.Service, c.Account, viaService(c))
}

// waitForNodes is called after a purge: with Options.PurgeWait it sleeps
// CacheTTL, after which no node sharing the store trusts a key record
// read before the change (keyCache stamps a record with the time its
// read started), so every node refuses the old state once DisableKey,
// ScheduleKeyDeletion or PutKeyPolicy returns.
func (s *Service) waitForNodes() {
	if s.opt.PurgeWait && s.opt.CacheTTL > 0 {
		time.Sleep(s.opt.CacheTTL)
	}
}
