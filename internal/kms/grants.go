package kms

// Grants: CreateGrant, ListGrants, RetireGrant, RevokeGrant,
// ListRetirableGrants, grant tokens and grant constraints.
//
// Grant ids are 64 lower-case hex digits: 32 random bytes, or, for a grant
// with a Name, HMAC-SHA256(Kt, "grant-id" 0 key id 0 grantee 0 retiring 0
// sorted operations 0 constraints JSON 0 name), so that a retried
// CreateGrant with the same Name and parameters finds the grant it created
// (on any node) instead of adding a duplicate, as AWS documents.
//
// Grant token (CreateGrant's GrantToken), base64url without padding of 49
// bytes:
//
//	0x01 | grant id (32 bytes) | HMAC-SHA256(Kt, 0x01 | grant id)[:16]
//
// Kt = HMAC-SHA256(K, "sealpost/kms-grant-token/v1"), K being the
// keyring's keyed-hash subkey, so nodes that share the root key accept each
// other's tokens and a token that was not issued here (any changed byte)
// is refused with InvalidGrantTokenException. Tokens are not secret (AWS:
// "unique, nonsecret"): holding one gives nothing the grant does not give
// its grantee.

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"sort"
	"strings"

	"github.com/sealpost/sealpost/internal/policy"
	"github.com/sealpost/sealpost/internal/store"
)

const (
	grantTokenVersion = 1
	grantTokenLen     = 1 + 32 + 16
	maxGrantsPerKey   = 50000 // AWS's quota
	maxGrantTokens    = 10
)

// grantOperations is the model's GrantOperation enum.
var grantOperations = map[string]bool{
	"Decrypt": true, "Encrypt": true, "GenerateDataKey": true, "GenerateDataKeyWithoutPlaintext": true,
	"ReEncryptFrom": true, "ReEncryptTo": true, "Sign": true, "Verify": true, "GetPublicKey": true,
	"CreateGrant": true, "RetireGrant": true, "DescribeKey": true, "GenerateDataKeyPair": true,
	"GenerateDataKeyPairWithoutPlaintext": true, "GenerateMac": true, "VerifyMac": true,
	"DeriveSharedSecret": true,
}

// symmetricUnsupportedOps are grant operations a symmetric encryption key
// does not support (AWS: CreateGrant fails with a ValidationException).
var symmetricUnsupportedOps = map[string]bool{
	"Sign": true, "Verify": true, "GetPublicKey": true, "GenerateMac": true, "VerifyMac": true,
	"DeriveSharedSecret": true,
}

// grantTokenKey derives Kt (see the file comment). The caller wipes it.
func (s *Service) grantTokenKey() ([]byte, error) {
	if s.kr == nil {
		return nil, errorf(ErrInternal, "no keyring for grant tokens")
	}
	k := s.kr.DedupKey()
	m := hmac.New(sha256.New, k)
	m.Write([]byte("sealpost/kms-grant-token/v1"))
	clear(k)
	return m.Sum(nil), nil
}

func grantTokenTag(kt, id []byte) []byte {
	m := hmac.New(sha256.New, kt)
	m.Write([]byte{grantTokenVersion})
	m.Write(id)
	return m.Sum(nil)[:16]
}

// grantToken returns the token of a grant id (64 hex digits).
func (s *Service) grantToken(grantID string) (string, error) {
	id, err := hex.DecodeString(grantID)
	if err != nil || len(id) != 32 {
		return "", errorf(ErrInternal, "grant id of the wrong form")
	}
	kt, err := s.grantTokenKey()
	if err != nil {
		return "", err
	}
	defer clear(kt)
	b := make([]byte, 0, grantTokenLen)
	b = append(b, grantTokenVersion)
	b = append(b, id...)
	b = append(b, grantTokenTag(kt, id)...)
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// grantTokenIDs checks grant tokens and returns the grant ids they name.
func (s *Service) grantTokenIDs(tokens []string) ([]string, error) {
	if len(tokens) == 0 {
		return nil, nil
	}
	if len(tokens) > maxGrantTokens {
		return nil, errorf(ErrValidation, "1 validation error detected: Value at 'grantTokens' failed to satisfy constraint: Member must have length less than or equal to %d", maxGrantTokens)
	}
	kt, err := s.grantTokenKey()
	if err != nil {
		return nil, err
	}
	defer clear(kt)
	ids := make([]string, 0, len(tokens))
	for _, t := range tokens {
		id, ok := parseGrantToken(kt, t)
		if !ok {
			return nil, errorf(ErrInvalidGrantToken, "Invalid grant token")
		}
		ids = append(ids, id)
	}
	return ids, nil
}

func parseGrantToken(kt []byte, t string) (string, bool) {
	if len(t) != base64.RawURLEncoding.EncodedLen(grantTokenLen) {
		return "", false
	}
	b, err := base64.RawURLEncoding.DecodeString(t)
	if err != nil || len(b) != grantTokenLen || b[0] != grantTokenVersion {
		return "", false
	}
	id := b[1:33]
	if !hmac.Equal(b[33:], grantTokenTag(kt, id)) {
		return "", false
	}
	return hex.EncodeToString(id), true
}

// isGrantID reports whether s has the form of our grant ids.
func isGrantID(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// storedConstraints is the JSON form of GrantConstraints in store.Grant.
type storedConstraints struct {
	EncryptionContextSubset *map[string]string `json:",omitempty"`
	EncryptionContextEquals *map[string]string `json:",omitempty"`
}

func encodeConstraints(c *GrantConstraints) string {
	if c == nil || c.EncryptionContextSubset == nil && c.EncryptionContextEquals == nil {
		return ""
	}
	var sc storedConstraints
	if c.EncryptionContextSubset != nil {
		sc.EncryptionContextSubset = &c.EncryptionContextSubset
	}
	if c.EncryptionContextEquals != nil {
		sc.EncryptionContextEquals = &c.EncryptionContextEquals
	}
	b, _ := json.Marshal(sc) // maps of strings always encode
	return string(b)
}

// decodeConstraints reads a stored grant's constraints. ok is false for a
// record that does not parse: such a grant allows nothing.
func decodeConstraints(text string) (c *GrantConstraints, ok bool) {
	if text == "" {
		return nil, true
	}
	var sc storedConstraints
	if err := json.Unmarshal([]byte(text), &sc); err != nil {
		return nil, false
	}
	c = &GrantConstraints{}
	if sc.EncryptionContextSubset != nil {
		c.EncryptionContextSubset = *sc.EncryptionContextSubset
		if c.EncryptionContextSubset == nil {
			c.EncryptionContextSubset = map[string]string{}
		}
	}
	if sc.EncryptionContextEquals != nil {
		c.EncryptionContextEquals = *sc.EncryptionContextEquals
		if c.EncryptionContextEquals == nil {
			c.EncryptionContextEquals = map[string]string{}
		}
	}
	return c, true
}

// pairIn reports whether m holds the pair (k, v): keys compare without
// case, values exactly (AWS: "in a grant constraint, the key in each
// key-value pair is not case sensitive, but the value is case sensitive").
func pairIn(m map[string]string, k, v string) bool {
	if w, ok := m[k]; ok && w == v {
		return true
	}
	for mk, mv := range m {
		if mv == v && strings.EqualFold(mk, k) {
			return true
		}
	}
	return false
}

// subsetOf reports whether every pair of sub is in m.
func subsetOf(sub, m map[string]string) bool {
	for k, v := range sub {
		if !pairIn(m, k, v) {
			return false
		}
	}
	return true
}

func equalContext(a, b map[string]string) bool {
	return len(a) == len(b) && subsetOf(a, b) && subsetOf(b, a)
}

// grantConstraintsHold reports whether grant g's constraints allow op with
// the request a. Encryption-context constraints are ignored for
// DescribeKey and RetireGrant; for CreateGrant the new grant must have a
// subset of g's operations and constraints at least as strict as g's.
func grantConstraintsHold(g *store.Grant, op string, a *Access) bool {
	c, ok := decodeConstraints(g.Constraints)
	if !ok {
		return false
	}
	switch op {
	case "DescribeKey", "RetireGrant":
		return true
	case "CreateGrant":
		child := a.Grant
		if child == nil {
			return false
		}
		for _, o := range child.Operations {
			if !hasOp(g.Operations, o) {
				return false
			}
		}
		if c == nil {
			return true
		}
		var ce, cs map[string]string
		if child.Constraints != nil {
			ce, cs = child.Constraints.EncryptionContextEquals, child.Constraints.EncryptionContextSubset
		}
		if c.EncryptionContextEquals != nil && (ce == nil || !equalContext(ce, c.EncryptionContextEquals)) {
			return false
		}
		if c.EncryptionContextSubset != nil {
			switch {
			case ce != nil:
				return subsetOf(c.EncryptionContextSubset, ce)
			case cs != nil:
				return subsetOf(c.EncryptionContextSubset, cs)
			}
			return false
		}
		return true
	}
	if c == nil {
		return true
	}
	if c.EncryptionContextEquals != nil && !equalContext(c.EncryptionContextEquals, a.Context) {
		return false
	}
	if c.EncryptionContextSubset != nil && !subsetOf(c.EncryptionContextSubset, a.Context) {
		return false
	}
	return true
}

// validPrincipal reports whether p names a principal a grant can hold: an
// IAM account root, user or role ARN, an STS assumed-role or
// federated-user ARN, or a service principal (name.amazonaws.com).
func validPrincipal(p string) bool {
	if p == "" || len(p) > 256 {
		return false
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("_+=,.@:/-", c) >= 0) {
			return false
		}
	}
	if !strings.HasPrefix(p, "arn:") {
		return strings.HasSuffix(p, ".amazonaws.com") && len(p) > len(".amazonaws.com") && !strings.Contains(p, ":")
	}
	parts := strings.SplitN(p, ":", 6)
	if len(parts) != 6 || parts[1] == "" || parts[3] != "" || !isAccount(parts[4]) {
		return false
	}
	res := parts[5]
	switch parts[2] {
	case "iam":
		return res == "root" || len(res) > 5 && (strings.HasPrefix(res, "user/") || strings.HasPrefix(res, "role/"))
	case "sts":
		return len(res) > 13 && strings.HasPrefix(res, "assumed-role/") || len(res) > 15 && strings.HasPrefix(res, "federated-user/")
	}
	return false
}

func isAccount(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func validGrantName(n string) bool {
	if len(n) > 256 {
		return false
	}
	for i := 0; i < len(n); i++ {
		c := n[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == ':' || c == '/' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// grantStateErr is the error of a grant-creating call on a key in state
// other than Enabled (AWS's key-state table).
func grantStateErr(k store.Key) error {
	switch k.KeyState {
	case "Enabled":
		return nil
	case "Disabled":
		return errorf(ErrDisabled, "%s is disabled.", k.ARN)
	case "PendingDeletion", "PendingReplicaDeletion":
		return errorf(ErrInvalidState, "%s is pending deletion.", k.ARN)
	case "PendingImport":
		return errorf(ErrInvalidState, "%s is pending import.", k.ARN)
	}
	return errorf(ErrInvalidState, "%s is %s.", k.ARN, strings.ToLower(k.KeyState))
}

// checkGrantInput validates CreateGrant's parameters and returns the
// operations deduplicated in the order given.
func checkGrantInput(in *CreateGrantInput) ([]string, error) {
	if len(in.Operations) == 0 {
		return nil, errorf(ErrValidation, "1 validation error detected: Value null at 'operations' failed to satisfy constraint: Member must not be null")
	}
	ops := make([]string, 0, len(in.Operations))
	seen := map[string]bool{}
	for _, o := range in.Operations {
		if !grantOperations[o] {
			return nil, errorf(ErrValidation, "1 validation error detected: Value '%s' at 'operations' failed to satisfy constraint: Member must satisfy enum value set: [Decrypt, Encrypt, GenerateDataKey, GenerateDataKeyWithoutPlaintext, ReEncryptFrom, ReEncryptTo, Sign, Verify, GetPublicKey, CreateGrant, RetireGrant, DescribeKey, GenerateDataKeyPair, GenerateDataKeyPairWithoutPlaintext, GenerateMac, VerifyMac, DeriveSharedSecret]", clip(o))
		}
		if symmetricUnsupportedOps[o] {
			return nil, errorf(ErrValidation, "Grant operation %s is not supported by a symmetric encryption KMS key (SYMMETRIC_DEFAULT, the only key spec offered)", o)
		}
		if !seen[o] {
			seen[o] = true
			ops = append(ops, o)
		}
	}
	if in.GranteePrincipal == "" {
		return nil, errorf(ErrValidation, "1 validation error detected: Value null at 'granteePrincipal' failed to satisfy constraint: Member must not be null")
	}
	if !validPrincipal(in.GranteePrincipal) {
		return nil, errorf(ErrValidation, "Invalid GranteePrincipal '%s': use the ARN of an account (arn:aws:iam::111122223333:root), IAM user or role, assumed-role or federated user, or a service principal", clip(in.GranteePrincipal))
	}
	if in.RetiringPrincipal != "" && !validPrincipal(in.RetiringPrincipal) {
		return nil, errorf(ErrValidation, "Invalid RetiringPrincipal '%s': use the ARN of an account (arn:aws:iam::111122223333:root), IAM user or role, assumed-role or federated user, or a service principal", clip(in.RetiringPrincipal))
	}
	if in.Name != "" && !validGrantName(in.Name) {
		return nil, errorf(ErrValidation, "1 validation error detected: Value '%s' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9:/_-]+$ and have length at most 256", clip(in.Name))
	}
	if c := in.Constraints; c != nil && c.EncryptionContextEquals != nil && c.EncryptionContextSubset != nil {
		return nil, errorf(ErrValidation, "Constraints may hold EncryptionContextEquals or EncryptionContextSubset, not both")
	}
	return ops, nil
}

// clip shortens user text quoted in messages.
func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}

// newGrantID returns a grant id: derived from the parameters for a named
// grant (see the file comment), else random.
func (s *Service) newGrantID(keyID string, in *CreateGrantInput, ops []string, constraints string) (string, error) {
	if in.Name != "" {
		kt, err := s.grantTokenKey()
		if err != nil {
			return "", err
		}
		defer clear(kt)
		sorted := append([]string(nil), ops...)
		sort.Strings(sorted)
		m := hmac.New(sha256.New, kt)
		for _, part := range []string{"grant-id", keyID, in.GranteePrincipal, in.RetiringPrincipal, strings.Join(sorted, ","), constraints, in.Name} {
			m.Write([]byte(part))
			m.Write([]byte{0})
		}
		return hex.EncodeToString(m.Sum(nil)), nil
	}
	r := s.opt.Rand
	if r == nil {
		r = rand.Reader
	}
	var b [32]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return "", err
	}
	return hex.EncodeToString(b[:]), nil
}

func grantParams(in *CreateGrantInput) map[string]any {
	p := map[string]any{"keyId": in.KeyID, "granteePrincipal": in.GranteePrincipal, "operations": in.Operations}
	if in.RetiringPrincipal != "" {
		p["retiringPrincipal"] = in.RetiringPrincipal
	}
	if in.Name != "" {
		p["name"] = in.Name
	}
	if c := in.Constraints; c != nil {
		cp := map[string]any{}
		if c.EncryptionContextSubset != nil {
			cp["encryptionContextSubset"] = c.EncryptionContextSubset
		}
		if c.EncryptionContextEquals != nil {
			cp["encryptionContextEquals"] = c.EncryptionContextEquals
		}
		p["constraints"] = cp
	}
	if in.DryRun {
		p["dryRun"] = true
	}
	return p
}

// CreateGrant adds a grant to a key (key id or key ARN) and returns its
// token and id. A second call with the same Name and parameters returns
// the grant the first one created.
func (s *Service) CreateGrant(ctx context.Context, c Caller, in CreateGrantInput) (token, grantID string, err error) {
	var kp *store.Key
	token, grantID, kp, err = s.createGrant(ctx, c, &in)
	var x auditExtra
	if err == nil {
		x.response = map[string]any{"grantId": grantID}
	}
	if err = s.auditEvent(ctx, c, "CreateGrant", kp, x, grantParams(&in), false, err); err != nil {
		return "", "", err
	}
	return token, grantID, nil
}

func (s *Service) createGrant(ctx context.Context, c Caller, in *CreateGrantInput) (string, string, *store.Key, error) {
	k, err := s.resolveKey(ctx, c, in.KeyID, false)
	if err != nil {
		return "", "", nil, err
	}
	ops, err := checkGrantInput(in)
	if err != nil {
		return "", "", &k, err
	}
	a := Access{GrantTokens: in.GrantTokens, GrantOperations: ops, Grant: in}
	if err := s.authorize(ctx, c, k, "kms:CreateGrant", a); err != nil {
		return "", "", &k, err
	}
	if err := grantStateErr(k); err != nil {
		return "", "", &k, err
	}
	if in.DryRun {
		return "", "", &k, errorf(ErrDryRun, "The request would have succeeded, but the DryRun option is set.")
	}
	constraints := encodeConstraints(in.Constraints)
	id, err := s.newGrantID(k.ID, in, ops, constraints)
	if err != nil {
		return "", "", &k, err
	}
	if in.Name != "" {
		g, err := s.getGrant(ctx, id)
		if err == nil && g.KeyID == k.ID {
			tok, err := s.grantToken(id)
			return tok, id, &k, err // a retry: the grant exists
		}
		if errors.Is(err, ErrInternal) {
			return "", "", &k, err
		}
	}
	existing, err := s.loadGrants(ctx, k.ID, maxGrantsPerKey)
	if err != nil {
		return "", "", &k, err
	}
	if len(existing) >= maxGrantsPerKey {
		return "", "", &k, errorf(ErrLimitExceeded, "The number of grants on %s has reached the limit of %d", k.ARN, maxGrantsPerKey)
	}
	g := store.Grant{
		ID: id, KeyID: k.ID, GranteePrincipal: in.GranteePrincipal, RetiringPrincipal: in.RetiringPrincipal,
		Operations: ops, Constraints: constraints, Name: in.Name, CreatedAt: s.now(),
		IssuingAccount: "arn:aws:iam::" + c.Account + ":root",
	}
	if err := s.macGrant(&g); err != nil {
		return "", "", &k, err
	}
	_, err = s.st.CreateGrant(ctx, g)
	switch {
	case errors.Is(err, store.ErrExists) && in.Name != "":
		// a concurrent retry created it
	case errors.Is(err, store.ErrNotFound):
		return "", "", &k, errorf(ErrNotFound, "Key '%s' does not exist", k.ARN)
	case err != nil:
		return "", "", &k, err
	}
	s.forgetGrants(k.ID)
	tok, err := s.grantToken(id)
	return tok, id, &k, err
}

// grantEntry converts a stored grant for ListGrants.
func grantEntry(keyARN string, g *store.Grant) GrantEntry {
	c, _ := decodeConstraints(g.Constraints)
	return GrantEntry{
		KeyARN: keyARN, GrantID: g.ID, Name: g.Name, CreationDate: g.CreatedAt,
		GranteePrincipal: g.GranteePrincipal, RetiringPrincipal: g.RetiringPrincipal,
		IssuingAccount: g.IssuingAccount, Operations: append([]string(nil), g.Operations...), Constraints: c,
	}
}

// listLimit checks a list request's Limit (1-1000, 0 = 50).
func listLimit(p Page) (int, error) {
	switch {
	case p.Limit == 0:
		return 50, nil
	case p.Limit < 1 || p.Limit > 1000:
		return 0, errorf(ErrValidation, "1 validation error detected: Value '%d' at 'limit' failed to satisfy constraint: Member must have value between 1 and 1000", p.Limit)
	}
	return p.Limit, nil
}

func checkGrantMarker(m string) error {
	if m != "" && !isGrantID(m) {
		return errorf(ErrInvalidMarker, "Invalid marker")
	}
	return nil
}

// ListGrants lists a key's grants; grantID and grantee filter.
func (s *Service) ListGrants(ctx context.Context, c Caller, keyID, grantID, grantee string, p Page) ([]GrantEntry, string, error) {
	params := map[string]any{"keyId": keyID}
	if grantID != "" {
		params["grantId"] = grantID
	}
	if grantee != "" {
		params["granteePrincipal"] = grantee
	}
	out, next, kp, err := s.listGrants(ctx, c, keyID, grantID, grantee, p)
	if err = s.audit(ctx, c, "ListGrants", kp, params, true, err); err != nil {
		return nil, "", err
	}
	return out, next, nil
}

func (s *Service) listGrants(ctx context.Context, c Caller, keyID, grantID, grantee string, p Page) ([]GrantEntry, string, *store.Key, error) {
	k, err := s.resolveKey(ctx, c, keyID, false)
	if err != nil {
		return nil, "", nil, err
	}
	limit, err := listLimit(p)
	if err != nil {
		return nil, "", &k, err
	}
	if err := checkGrantMarker(p.Marker); err != nil {
		return nil, "", &k, err
	}
	if err := s.authorize(ctx, c, k, "kms:ListGrants", Access{}); err != nil {
		return nil, "", &k, err
	}
	if grantID != "" {
		if !isGrantID(grantID) {
			return nil, "", &k, errorf(ErrInvalidGrantID, "Invalid grant ID '%s'", clip(grantID))
		}
		g, err := s.getGrant(ctx, grantID)
		if errors.Is(err, store.ErrNotFound) || err == nil && (g.KeyID != k.ID || grantee != "" && g.GranteePrincipal != grantee) {
			return []GrantEntry{}, "", &k, nil
		}
		if err != nil {
			return nil, "", &k, err
		}
		return []GrantEntry{grantEntry(k.ARN, &g)}, "", &k, nil
	}
	out := []GrantEntry{}
	after := p.Marker
	for {
		gs, next, err := s.st.ListGrants(ctx, k.ID, store.Page{After: after, Limit: limit + 1})
		if err != nil {
			return nil, "", &k, err
		}
		if err := s.checkGrants(gs); err != nil {
			return nil, "", &k, err
		}
		for i := range gs {
			if grantee != "" && gs[i].GranteePrincipal != grantee {
				continue
			}
			if len(out) == limit {
				return out, out[len(out)-1].GrantID, &k, nil
			}
			out = append(out, grantEntry(k.ARN, &gs[i]))
		}
		if next == "" {
			return out, "", &k, nil
		}
		if len(gs) > 0 {
			after = gs[len(gs)-1].ID
		} else {
			after = next
		}
	}
}

// RetireGrant retires a grant named by its token, or by key and grant id.
func (s *Service) RetireGrant(ctx context.Context, c Caller, token, keyID, grantID string) error {
	params := map[string]any{}
	if keyID != "" {
		params["keyId"] = keyID
	}
	if grantID != "" {
		params["grantId"] = grantID
	}
	kp, err := s.retireGrant(ctx, c, token, keyID, grantID)
	return s.audit(ctx, c, "RetireGrant", kp, params, false, err)
}

func (s *Service) retireGrant(ctx context.Context, c Caller, token, keyID, grantID string) (*store.Key, error) {
	var k store.Key
	var g store.Grant
	var err error
	switch {
	case token != "":
		ids, err := s.grantTokenIDs([]string{token})
		if err != nil {
			return nil, err
		}
		if grantID != "" && grantID != ids[0] {
			return nil, errorf(ErrInvalidGrantID, "The grant ID does not match the grant token")
		}
		if g, err = s.getGrant(ctx, ids[0]); errors.Is(err, store.ErrNotFound) {
			return nil, errorf(ErrNotFound, "Grant not found")
		} else if err != nil {
			return nil, err
		}
		if keyID != "" {
			if k, err = s.resolveKey(ctx, c, keyID, false); err != nil {
				return nil, err
			}
			if k.ID != g.KeyID {
				return &k, errorf(ErrInvalidGrantID, "The grant token names a grant of another key")
			}
		} else if k, err = s.keys.get(ctx, g.KeyID); errors.Is(err, store.ErrNotFound) {
			return nil, errorf(ErrNotFound, "Grant not found")
		} else if err != nil {
			return nil, err
		}
	case keyID == "" || grantID == "":
		return nil, errorf(ErrValidation, "Specify the grant with GrantToken, or with both KeyId and GrantId")
	default:
		if k, err = s.resolveKey(ctx, c, keyID, false); err != nil {
			return nil, err
		}
		if g, err = s.keyGrant(ctx, k, grantID, true); err != nil {
			return &k, err
		}
	}
	if !s.mayRetire(c, k, &g) {
		return &k, errorf(ErrAccessDenied, "User: %s is not authorized to perform: kms:RetireGrant on resource: %s because the grant does not name it as the retiring principal or as a grantee allowed RetireGrant, and it is not of the account that created the grant", callerARN(c), k.ARN)
	}
	if err := s.st.DeleteGrant(ctx, g.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
		return &k, err
	}
	s.forgetGrants(k.ID)
	return &k, nil
}

// keyGrant returns grant grantID of key k: InvalidGrantIdException for an
// id of the wrong form, NotFoundException for a grant that is not there
// (AWS answers NotFoundException for a well-formed unknown id). With
// verify false (RevokeGrant: removing a grant never widens access) a grant
// whose record fails its integrity check is returned too, so that it can
// be revoked; its check failure is logged.
func (s *Service) keyGrant(ctx context.Context, k store.Key, grantID string, verify bool) (store.Grant, error) {
	if !isGrantID(grantID) {
		return store.Grant{}, errorf(ErrInvalidGrantID, "Invalid grant ID '%s'", clip(grantID))
	}
	g, err := s.st.GetGrant(ctx, grantID)
	if err == nil {
		if cerr := s.checkGrant(grantID, &g); cerr != nil && verify {
			return store.Grant{}, cerr
		}
	}
	if errors.Is(err, store.ErrNotFound) || err == nil && g.KeyID != k.ID {
		return store.Grant{}, errorf(ErrNotFound, "Grant ID %s not found for key %s", grantID, k.ARN)
	}
	return g, err
}

// mayRetire applies AWS's rule: the grant's retiring principal, its
// grantee when the grant allows RetireGrant, and the account that created
// the grant may retire it; an account named there delegates to its
// principals' identity policies (kms:RetireGrant), and an explicit Deny of
// kms:RetireGrant in the caller's identity policy refuses. The key policy
// does not count.
func (s *Service) mayRetire(c Caller, k store.Key, g *store.Grant) bool {
	req := s.request(c, k.ARN, "kms:RetireGrant", &Access{})
	id := identityDecision(c, &req)
	if id == policy.Deny {
		return false
	}
	ok := func(p string) bool {
		switch granteeMatch(p, c) {
		case 2:
			return true
		case 1:
			return id == policy.Allow
		}
		return false
	}
	if ok(g.RetiringPrincipal) || hasOp(g.Operations, "RetireGrant") && ok(g.GranteePrincipal) {
		return true
	}
	return ok(g.IssuingAccount)
}

// RevokeGrant deletes a grant of a key; the caller needs kms:RevokeGrant.
func (s *Service) RevokeGrant(ctx context.Context, c Caller, keyID, grantID string) error {
	params := map[string]any{"keyId": keyID, "grantId": grantID}
	kp, err := s.revokeGrant(ctx, c, keyID, grantID)
	return s.audit(ctx, c, "RevokeGrant", kp, params, false, err)
}

func (s *Service) revokeGrant(ctx context.Context, c Caller, keyID, grantID string) (*store.Key, error) {
	k, err := s.resolveKey(ctx, c, keyID, false)
	if err != nil {
		return nil, err
	}
	if grantID == "" {
		return &k, errorf(ErrValidation, "1 validation error detected: Value null at 'grantId' failed to satisfy constraint: Member must not be null")
	}
	if err := s.authorize(ctx, c, k, "kms:RevokeGrant", Access{}); err != nil {
		return &k, err
	}
	g, err := s.keyGrant(ctx, k, grantID, false)
	if err != nil {
		return &k, err
	}
	if err := s.st.DeleteGrant(ctx, g.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
		return &k, err
	}
	s.forgetGrants(k.ID)
	return &k, nil
}

// ListRetirableGrants lists the grants, on keys of any account, whose
// retiring principal is retiringPrincipal, which must be of the caller's
// account (AWS: "Enter a principal in your Amazon Web Services account").
// Only the caller's identity policy counts (kms:ListRetirableGrants).
func (s *Service) ListRetirableGrants(ctx context.Context, c Caller, retiringPrincipal string, p Page) ([]GrantEntry, string, error) {
	params := map[string]any{"retiringPrincipal": retiringPrincipal}
	out, next, err := s.listRetirableGrants(ctx, c, retiringPrincipal, p)
	if err = s.audit(ctx, c, "ListRetirableGrants", nil, params, true, err); err != nil {
		return nil, "", err
	}
	return out, next, nil
}

func (s *Service) listRetirableGrants(ctx context.Context, c Caller, principal string, p Page) ([]GrantEntry, string, error) {
	if principal == "" {
		return nil, "", errorf(ErrValidation, "1 validation error detected: Value null at 'retiringPrincipal' failed to satisfy constraint: Member must not be null")
	}
	if !validPrincipal(principal) {
		return nil, "", errorf(ErrValidation, "Invalid RetiringPrincipal '%s': use the ARN of an account, IAM user or role, assumed-role or federated user, or a service principal", clip(principal))
	}
	limit, err := listLimit(p)
	if err != nil {
		return nil, "", err
	}
	if err := checkGrantMarker(p.Marker); err != nil {
		return nil, "", err
	}
	resource := "arn:aws:kms:" + c.Region + ":" + c.Account + ":*"
	req := s.request(c, resource, "kms:ListRetirableGrants", &Access{})
	if id := identityDecision(c, &req); id != policy.Allow {
		return nil, "", errorf(ErrAccessDenied, "User: %s is not authorized to perform: kms:ListRetirableGrants on resource: * because no identity-based policy allows the kms:ListRetirableGrants action", callerARN(c))
	}
	if c.Service == "" && principalAccount(principal) != c.Account {
		return nil, "", errorf(ErrAccessDenied, "User: %s is not authorized to perform: kms:ListRetirableGrants for retiring principal %s of another account", callerARN(c), principal)
	}
	gs, next, err := s.st.ListRetirableGrants(ctx, principal, store.Page{After: p.Marker, Limit: limit})
	if err != nil {
		return nil, "", err
	}
	if err := s.checkGrants(gs); err != nil {
		return nil, "", err
	}
	out := make([]GrantEntry, 0, len(gs))
	for i := range gs {
		k, err := s.keys.get(ctx, gs[i].KeyID)
		if errors.Is(err, store.ErrNotFound) {
			continue // deleted with its key meanwhile
		}
		if err != nil {
			return nil, "", err
		}
		out = append(out, grantEntry(k.ARN, &gs[i]))
	}
	if next != "" && len(gs) > 0 {
		next = gs[len(gs)-1].ID
	}
	return out, next, nil
}

// principalAccount returns the account of a principal ARN, "" for a
// service principal.
func principalAccount(p string) string {
	parts := strings.SplitN(p, ":", 6)
	if len(parts) == 6 {
		return parts[4]
	}
	return ""
}
