package kms

// Authorization: AWS KMS's decision over the key policy, the caller's
// identity policy and the key's grants.
//
// The key policy is a resource policy that must always allow
// (policy.DecideResourceRequired): "no IAM policy by itself gives access to
// a KMS key". A statement naming the key's account root (the default key
// policy) delegates to identity policies, so the caller's identity policy
// must allow as well; a caller of another account needs the key policy to
// allow it (or its account) and its own identity policy to allow. An
// explicit Deny in either policy wins over everything, grants included.
// When the policies do not allow, a grant on the key whose grantee is the
// caller (or the caller's account root, then through the identity policy)
// and whose operations include the action allows it, subject to the
// grant's encryption-context constraints.
//
// Caching: parsed key policies are cached per policy text (bounded, see
// maxPolicyCacheBytes). A key's grants are cached for Options.CacheTTL (a
// grant retired or revoked on this node stops working at once, on other
// nodes sharing the store within CacheTTL; a grant created on another node
// is usable at once with its grant token, which is always looked up in the
// store, like AWS's eventual consistency with grant tokens).

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/sealpost/sealpost/internal/policy"
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
	// Grant is the grant being created (CreateGrant only): its grantee,
	// retiring principal and constraints feed kms:GranteePrincipal,
	// kms:RetiringPrincipal and kms:GrantConstraintType, and bound what a
	// grant that allows CreateGrant lets its grantee create.
	Grant *CreateGrantInput
}

// keyPolicyOptions are the limits of a key policy: a resource policy of at
// most 32 KiB (AWS's key policy quota).
var keyPolicyOptions = policy.Options{Kind: policy.ResourcePolicy, MaxBytes: maxKeyPolicyBytes}

const (
	maxKeyPolicyBytes    = 32768
	maxPolicyCacheBytes  = 8 << 20 // parsed policies kept per Service, by text size
	maxGrantCacheKeys    = 4096
	maxGrantsCachedOfKey = 1024 // keys with more grants are read from the store each time
)

// authzState is the Service's authorization cache. Its zero value is ready.
type authzState struct {
	mu       sync.Mutex
	policies map[string]*policy.Policy // by policy text; nil value: does not parse
	polBytes int
	grants   map[string]grantCacheEntry // by key id
}

type grantCacheEntry struct {
	grants []store.Grant
	at     time.Time
}

// keyPolicy returns the parsed policy of text, from the cache. A text that
// does not parse (a record written around the API) gives nil, which allows
// nothing.
func (s *Service) keyPolicy(text string) *policy.Policy {
	a := &s.az
	a.mu.Lock()
	p, ok := a.policies[text]
	a.mu.Unlock()
	if ok {
		return p
	}
	p, err := policy.ParseWith([]byte(text), keyPolicyOptions)
	if err != nil {
		s.log.Warn("kms: a stored key policy does not parse; it allows nothing", "err", err)
		p = nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.policies == nil {
		a.policies = map[string]*policy.Policy{}
	}
	if a.polBytes+len(text) > maxPolicyCacheBytes {
		clear(a.policies) // rare: more distinct policies than the budget
		a.polBytes = 0
	}
	if _, dup := a.policies[text]; !dup {
		a.policies[text] = p
		a.polBytes += len(text)
	}
	return p
}

// callerARN is the ARN authorization messages and grants name c by.
func callerARN(c Caller) string {
	switch {
	case c.Service != "":
		return c.Service
	case c.Principal != "":
		return c.Principal
	case c.Account != "":
		return "arn:aws:iam::" + c.Account + ":root"
	}
	return "anonymous"
}

// viaService is the kms:ViaService value of c's request: the service the
// principal's request comes through, or, for a service principal itself,
// that service's regional endpoint name (sns.amazonaws.com acting in
// us-east-1 is sns.us-east-1.amazonaws.com).
func viaService(c Caller) string {
	if c.ViaService != "" {
		return c.ViaService
	}
	if c.Service != "" && c.Region != "" {
		if name, ok := strings.CutSuffix(c.Service, ".amazonaws.com"); ok && !strings.Contains(name, ".") {
			return name + "." + c.Region + ".amazonaws.com"
		}
	}
	return ""
}

// isGrantAction reports whether action takes kms:GrantIsForAWSResource.
func isGrantAction(action string) bool {
	return action == "kms:CreateGrant" || action == "kms:ListGrants" || action == "kms:RevokeGrant"
}

// request builds the policy request of c doing action on the key with ARN
// keyARN.
func (s *Service) request(c Caller, keyARN, action string, a *Access) policy.Request {
	req := policy.Request{
		Principal:       policy.Principal{Account: c.Account, ARN: c.Principal, UserID: c.UserID},
		Action:          action,
		Resource:        keyARN,
		SourceIP:        c.SourceIP,
		SecureTransport: c.Secure,
		Time:            s.now(),
	}
	if c.Service != "" {
		req.Principal = policy.Principal{Service: c.Service}
	} else if req.Principal.ARN == "" && c.Account != "" {
		req.Principal.ARN = "arn:aws:iam::" + c.Account + ":root"
	}
	ctx := make(map[string][]string, 4+len(a.Context))
	// One backing array for the single values (and the sorted keys).
	vals := make([]string, 0, 4+2*len(a.Context))
	one := func(v string) []string {
		vals = append(vals, v)
		return vals[len(vals)-1 : len(vals) : len(vals)]
	}
	if c.Account != "" {
		ctx["kms:CallerAccount"] = one(c.Account)
	}
	if c.SourceARN != "" {
		ctx["aws:SourceArn"] = one(c.SourceARN)
	}
	if c.SourceAccount != "" {
		ctx["aws:SourceAccount"] = one(c.SourceAccount)
	}
	if v := viaService(c); v != "" {
		ctx["kms:ViaService"] = one(v)
	}
	if len(a.Context) > 0 {
		for k, v := range a.Context {
			ctx["kms:EncryptionContext:"+k] = one(v)
		}
		start := len(vals)
		for k := range a.Context {
			vals = append(vals, k)
		}
		keys := vals[start:len(vals):len(vals)]
		slices.Sort(keys)
		ctx["kms:EncryptionContextKeys"] = keys
	}
	if isGrantAction(action) {
		v := "false"
		if a.GrantIsForAWSResource || c.ViaService != "" || c.Service != "" {
			v = "true"
		}
		ctx["kms:GrantIsForAWSResource"] = []string{v}
	}
	if len(a.GrantOperations) > 0 {
		ctx["kms:GrantOperations"] = a.GrantOperations
	}
	if g := a.Grant; g != nil {
		if g.GranteePrincipal != "" {
			ctx["kms:GranteePrincipal"] = []string{g.GranteePrincipal}
		}
		if g.RetiringPrincipal != "" {
			ctx["kms:RetiringPrincipal"] = []string{g.RetiringPrincipal}
		}
		if g.Constraints != nil {
			var types []string
			if g.Constraints.EncryptionContextEquals != nil {
				types = append(types, "EncryptionContextEquals")
			}
			if g.Constraints.EncryptionContextSubset != nil {
				types = append(types, "EncryptionContextSubset")
			}
			if len(types) > 0 {
				ctx["kms:GrantConstraintType"] = types
			}
		}
	}
	req.Context = ctx
	return req
}

// identityDecision is what c's identity policy says: Allow for a principal
// without one (it may do everything in its own account), NotApplicable for
// service principals and anonymous callers.
func identityDecision(c Caller, req *policy.Request) policy.Decision {
	if c.Service != "" || c.Account == "" {
		return policy.NotApplicable
	}
	if c.IdentityPolicy == nil {
		return policy.Allow
	}
	return c.IdentityPolicy.Evaluate(req)
}

// decide evaluates the key policy pol and c's identity policy for req and
// combines them as KMS does. same is whether c acts in the key's account;
// service principals count as such (a direct grant in the key policy is
// all they need).
func decide(c Caller, keyAccount string, pol *policy.Policy, req *policy.Request) (id, res policy.Decision, ok bool) {
	id = identityDecision(c, req)
	res = pol.Evaluate(req)
	same := c.Service != "" || c.Account != "" && c.Account == keyAccount
	return id, res, policy.DecideResourceRequired(id, res, same)
}

// authorize decides whether c may perform action ("kms:Encrypt") on k:
// key policy (resource policy, required as in AWS), identity policy, grants.
// It returns nil, an ErrInvalidGrantToken error for a token that is not
// one of ours, or an ErrAccessDenied error with AWS's message.
func (s *Service) authorize(ctx context.Context, c Caller, k store.Key, action string, a Access) error {
	if hiddenFrom(c, &k) { // found some other way than resolveKey: still nobody else's
		return accessDenied(c, action, k.ARN, policy.NotApplicable, policy.NotApplicable)
	}
	tokenIDs, err := s.grantTokenIDs(a.GrantTokens)
	if err != nil {
		return err
	}
	req := s.request(c, k.ARN, action, &a)
	id, res, ok := decide(c, k.Account, s.keyPolicy(k.Policy), &req)
	if ok {
		return nil
	}
	if id != policy.Deny && res != policy.Deny {
		allowed, err := s.grantAllows(ctx, c, k, action, &a, &req, tokenIDs)
		if err != nil {
			return err
		}
		if allowed {
			return nil
		}
	}
	return accessDenied(c, action, k.ARN, id, res)
}

// accessDenied words a refusal as AWS does:
//
//	User: <principal> is not authorized to perform: kms:<Action> on
//	resource: <key arn> <reason>
func accessDenied(c Caller, action, keyARN string, id, res policy.Decision) error {
	var reason string
	switch {
	case id == policy.Deny:
		reason = "with an explicit deny in an identity-based policy"
	case res == policy.Deny:
		reason = "with an explicit deny in a resource-based policy"
	case (res == policy.Allow || res == policy.AllowAccount) && c.Service == "":
		reason = "because no identity-based policy allows the " + action + " action"
	default:
		reason = "because no resource-based policy allows the " + action + " action"
	}
	return errorf(ErrAccessDenied, "User: %s is not authorized to perform: %s on resource: %s %s", callerARN(c), action, keyARN, reason)
}

// granteeMatch says how grantee names c: 2 directly (its ARN, or its
// service), 1 through c's account root (the account's identity policy must
// allow too), 0 not at all.
func granteeMatch(grantee string, c Caller) int {
	switch {
	case grantee == "":
		return 0
	case c.Service != "":
		if strings.EqualFold(grantee, c.Service) {
			return 2
		}
		return 0
	case grantee == callerARN(c):
		return 2
	case c.Account != "" && (grantee == "arn:aws:iam::"+c.Account+":root" || grantee == c.Account):
		return 1
	}
	return 0
}

// grantAllows reports whether a grant on k lets c perform action.
// tokenIDs name grants to look up in the store regardless of the cache.
func (s *Service) grantAllows(ctx context.Context, c Caller, k store.Key, action string, a *Access, req *policy.Request, tokenIDs []string) (bool, error) {
	op := strings.TrimPrefix(action, "kms:")
	if !grantOperations[op] {
		return false, nil
	}
	check := func(g *store.Grant) bool {
		m := granteeMatch(g.GranteePrincipal, c)
		if m == 0 || g.KeyID != k.ID || !hasOp(g.Operations, op) {
			return false
		}
		if m == 1 && identityDecision(c, req) != policy.Allow {
			return false
		}
		return grantConstraintsHold(g, op, a)
	}
	for _, gid := range tokenIDs {
		g, err := s.getGrant(ctx, gid)
		if errors.Is(err, store.ErrNotFound) {
			s.forgetGrants(k.ID) // retired or revoked, maybe on another node
			continue
		}
		if err != nil {
			return false, err
		}
		if check(&g) {
			return true, nil
		}
	}
	grants, err := s.keyGrants(ctx, k.ID)
	if err != nil {
		return false, err
	}
	for i := range grants {
		if check(&grants[i]) {
			return true, nil
		}
	}
	return false, nil
}

func hasOp(ops []string, op string) bool {
	for _, o := range ops {
		if o == op {
			return true
		}
	}
	return false
}

// keyGrants returns the grants on a key, from the cache while it is fresh.
func (s *Service) keyGrants(ctx context.Context, keyID string) ([]store.Grant, error) {
	a := &s.az
	ttl := s.opt.CacheTTL
	now := s.now()
	if ttl > 0 {
		a.mu.Lock()
		e, ok := a.grants[keyID]
		a.mu.Unlock()
		if ok && now.Sub(e.at) < ttl && !now.Before(e.at) {
			return e.grants, nil
		}
	}
	grants, err := s.loadGrants(ctx, keyID, -1)
	if err != nil {
		return nil, err
	}
	if ttl > 0 && len(grants) <= maxGrantsCachedOfKey {
		a.mu.Lock()
		if a.grants == nil || len(a.grants) >= maxGrantCacheKeys {
			a.grants = map[string]grantCacheEntry{}
		}
		a.grants[keyID] = grantCacheEntry{grants: grants, at: now}
		a.mu.Unlock()
	}
	return grants, nil
}

// loadGrants reads every grant on a key from the store (at most max when
// max > 0).
func (s *Service) loadGrants(ctx context.Context, keyID string, max int) ([]store.Grant, error) {
	var all []store.Grant
	p := store.Page{Limit: 1000}
	for {
		gs, next, err := s.st.ListGrants(ctx, keyID, p)
		if err != nil {
			return nil, err
		}
		if err := s.checkGrants(gs); err != nil {
			return nil, err
		}
		all = append(all, gs...)
		if next == "" || max > 0 && len(all) >= max {
			return all, nil
		}
		p.After = next
	}
}

// forgetGrants drops the cached grants of a key (after a change on this
// node).
func (s *Service) forgetGrants(keyID string) {
	s.az.mu.Lock()
	delete(s.az.grants, keyID)
	s.az.mu.Unlock()
}
