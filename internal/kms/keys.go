package kms

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sealpost/sealpost/internal/envelope"
	"github.com/sealpost/sealpost/internal/store"
)

// Key states, managers and the only spec, usage, origin and algorithm
// offered.
const (
	stateEnabled         = "Enabled"
	stateDisabled        = "Disabled"
	statePendingDeletion = "PendingDeletion"

	managerCustomer = "CUSTOMER"
	managerAWS      = "AWS"

	specSymmetric   = "SYMMETRIC_DEFAULT"
	usageEncrypt    = "ENCRYPT_DECRYPT"
	originKMS       = "AWS_KMS"
	algSymmetric    = "SYMMETRIC_DEFAULT"
	maxDescription  = 8192
	maxTagsPerKey   = 50
	defaultPageSize = 100
)

// Enum values of the API model (kms-2014-11-01) that Sealpost does not
// offer: they answer UnsupportedOperationException; values outside the
// enums answer ValidationException.
var (
	modelKeySpecs = []string{"RSA_2048", "RSA_3072", "RSA_4096", "ECC_NIST_P256", "ECC_NIST_P384", "ECC_NIST_P521",
		"ECC_SECG_P256K1", "SYMMETRIC_DEFAULT", "HMAC_224", "HMAC_256", "HMAC_384", "HMAC_512", "SM2",
		"ML_DSA_44", "ML_DSA_65", "ML_DSA_87", "ECC_NIST_EDWARDS25519"}
	modelKeyUsages = []string{"SIGN_VERIFY", "ENCRYPT_DECRYPT", "GENERATE_VERIFY_MAC", "KEY_AGREEMENT"}
	modelOrigins   = []string{"AWS_KMS", "EXTERNAL", "AWS_CLOUDHSM", "EXTERNAL_KEY_STORE"}
	modelEncAlgs   = []string{"SYMMETRIC_DEFAULT", "RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256", "SM2PKE"}
)

// stateRule is what a key's state must allow for an operation (AWS's "Key
// states" table).
type stateRule int

const (
	anyState    stateRule = iota // DescribeKey, GetKeyPolicy, List*, PutKeyPolicy, ...
	notPending                   // management: KMSInvalidState while PendingDeletion
	usable                       // cryptography: Enabled only
	pendingOnly                  // CancelKeyDeletion
)

// checkState applies rule to k.
func checkState(k *store.Key, rule stateRule) error {
	switch rule {
	case usable:
		switch k.KeyState {
		case stateEnabled:
			return nil
		case stateDisabled:
			return errorf(ErrDisabled, "%s is disabled.", k.ARN)
		}
	case notPending:
		if k.KeyState != statePendingDeletion {
			return nil
		}
	case pendingOnly:
		if k.KeyState == statePendingDeletion {
			return nil
		}
		return errorf(ErrInvalidState, "%s is not pending deletion.", k.ARN)
	default:
		return nil
	}
	if k.KeyState == statePendingDeletion {
		return errorf(ErrInvalidState, "%s is pending deletion.", k.ARN)
	}
	return errorf(ErrInvalidState, "%s is %s.", k.ARN, k.KeyState)
}

// keyCall describes one call on an existing key for keyOp.
type keyCall struct {
	name     string // audit eventName, e.g. "DescribeKey"
	keyID    string // the identifier as given
	aliasOK  bool   // whether alias names and ARNs are accepted
	action   string // "kms:DescribeKey"
	access   Access
	state    stateRule
	readOnly bool
	params   map[string]any
	// managed, when not nil, is the error for AWS-managed keys (after
	// authorization, which normally refuses first: AWS's policy for them
	// allows no management).
	managed func(k *store.Key) error
	dryRun  bool
	// pre is an input validation error found before the key is looked up
	// (AWS validates the request first).
	pre error
}

// keyOp resolves the key, authorizes the call, checks the key's state and
// runs fn; it audits the outcome once.
func (s *Service) keyOp(ctx context.Context, c Caller, kc keyCall, fn func(k *store.Key) error) error {
	var k store.Key
	err := func() error {
		if kc.pre != nil {
			return kc.pre
		}
		var err error
		if k, err = s.resolveKey(ctx, c, kc.keyID, kc.aliasOK); err != nil {
			return err
		}
		if err := s.authorize(ctx, c, k, kc.action, kc.access); err != nil {
			return err
		}
		if err := checkState(&k, kc.state); err != nil {
			return err
		}
		if kc.managed != nil && k.KeyManager == managerAWS {
			if err := kc.managed(&k); err != nil {
				return err
			}
		}
		if kc.dryRun {
			return dryRunErr()
		}
		return fn(&k)
	}()
	return s.audit(ctx, c, kc.name, keyRef(&k), kc.params, kc.readOnly, err)
}

func keyRef(k *store.Key) *store.Key {
	if k == nil || k.ID == "" {
		return nil
	}
	return k
}

func dryRunErr() error {
	return errorf(ErrDryRun, "The request would have succeeded, but the DryRun option is set.")
}

// managedDenied is the answer for management of an AWS-managed key that
// AWS refuses through the key policy (AccessDeniedException).
func managedDenied(c Caller, action string) func(k *store.Key) error {
	return func(k *store.Key) error {
		return errorf(ErrAccessDenied, "User: %s is not authorized to perform: %s on resource: %s because %s is an AWS managed key", principalOf(c), action, k.ARN, k.ARN)
	}
}

// managedUnsupported is the answer where the API documents that AWS-managed
// keys cannot do something (rotation changes, key policy).
func managedUnsupported(what string) func(k *store.Key) error {
	return func(k *store.Key) error {
		return errorf(ErrUnsupported, "%s is an AWS managed key: %s is not supported for AWS managed keys.", k.ARN, what)
	}
}

func principalOf(c Caller) string {
	if c.Service != "" {
		return c.Service
	}
	if c.Principal != "" {
		return c.Principal
	}
	return "arn:aws:iam::" + c.Account + ":root"
}

// updateKey writes a change of k through the store, re-checking rule on the
// current record, and caches the result.
func (s *Service) updateKey(ctx context.Context, k *store.Key, rule stateRule, fn func(*store.Key) error) error {
	nk, err := s.st.UpdateKey(ctx, k.ID, s.sealedUpdate(k.ID, 0, func(cur *store.Key) error {
		if err := checkState(cur, rule); err != nil {
			return err
		}
		return fn(cur)
	}))
	if err != nil {
		return s.storeErr(err, k)
	}
	s.keys.put(nk)
	*k = nk
	return nil
}

// storeErr turns a store error about k into the API's kinds.
func (s *Service) storeErr(err error, k *store.Key) error {
	var ke *Error
	switch {
	case errors.As(err, &ke):
		return err
	case errors.Is(err, store.ErrNotFound):
		s.keys.forget(k.ID)
		return errorf(ErrNotFound, "Key '%s' does not exist", k.ARN)
	}
	return fmt.Errorf("kms: key store: %w", err)
}

// random returns n bytes from Options.Rand.
func (s *Service) random(n int) ([]byte, error) {
	r := s.opt.Rand
	if r == nil {
		r = rand.Reader
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, fmt.Errorf("kms: reading random bytes: %w", err)
	}
	return b, nil
}

// newKeyID returns a random (version 4) UUID.
func (s *Service) newKeyID() (string, error) {
	b, err := s.random(16)
	if err != nil {
		return "", err
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32], nil
}

// newMaterial returns version v of key id's material: the store record
// (sealed) and its id. The plaintext is wiped before returning.
func (s *Service) newMaterial(id string, v int, rotation string) (store.Material, error) {
	m, err := s.random(envelope.KeySize)
	if err != nil {
		return store.Material{}, err
	}
	defer envelope.Wipe(m)
	sealed, err := s.kr.SealMaterial(id, uint32(v), m)
	if err != nil {
		return store.Material{}, fmt.Errorf("kms: sealing material: %w", err)
	}
	mid, err := s.random(32)
	if err != nil {
		return store.Material{}, err
	}
	return store.Material{Version: v, CreatedAt: s.now(), RotationType: rotation, MaterialID: hex.EncodeToString(mid), Sealed: sealed}, nil
}

// enumCheck validates v against the model's enum (ValidationException) and
// the value Sealpost offers (UnsupportedOperationException).
func enumCheck(field, v string, model []string, offered string) error {
	if v == "" || v == offered {
		return nil
	}
	if !slices.Contains(model, v) {
		return errorf(ErrValidation, "1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must satisfy enum value set: [%s]", v, field, strings.Join(model, ", "))
	}
	return errorf(ErrUnsupported, "%s %s is not supported; Sealpost offers only %s", field, v, offered)
}

// validTags checks tags as AWS does (TagException).
func validTags(tags []Tag) error {
	seen := map[string]bool{}
	for _, t := range tags {
		if err := validTagKey(t.Key); err != nil {
			return err
		}
		if !storable(t.Value) {
			return errorf(ErrTag, "Tag values must be UTF-8 without NUL characters")
		}
		if len(t.Value) > 256 {
			return errorf(ErrTag, "Tag value for key '%s' must be at most 256 characters", t.Key)
		}
		if seen[t.Key] {
			return errorf(ErrTag, "Duplicate tag keys: %s", t.Key)
		}
		seen[t.Key] = true
	}
	return nil
}

func validTagKey(key string) error {
	if key == "" || len(key) > 128 {
		return errorf(ErrTag, "Tag keys must be 1 to 128 characters")
	}
	if !storable(key) {
		return errorf(ErrTag, "Tag keys must be UTF-8 without NUL characters")
	}
	if strings.HasPrefix(strings.ToLower(key), "aws:") {
		return errorf(ErrTag, "Tag keys beginning with 'aws:' are reserved for AWS use: %s", key)
	}
	return nil
}

// pageLimit validates a page limit (1-1000; 0 = def) and caps it at max.
func pageLimit(p Page, def, max int) (int, error) {
	switch {
	case p.Limit == 0:
		return def, nil
	case p.Limit < 1 || p.Limit > 1000:
		return 0, errorf(ErrValidation, "1 validation error detected: Value '%d' at 'limit' failed to satisfy constraint: Member must have value between 1 and 1000", p.Limit)
	case p.Limit > max:
		return max, nil
	}
	return p.Limit, nil
}

// Markers are the store's cursors in URL-safe base64, checked on the way
// back in (InvalidMarkerException).
func encodeMarker(cursor string) string {
	if cursor == "" {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString([]byte(cursor))
}

func decodeMarker(m string, valid func(string) bool) (string, error) {
	if m == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(m)
	if err != nil || len(b) == 0 || !valid(string(b)) {
		return "", errorf(ErrInvalidMarker, "Invalid marker: %s", m)
	}
	return string(b), nil
}

func isDigits(s string) bool {
	if s == "" || len(s) > 9 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// metadata is DescribeKey's view of k; materialID is the current version's
// KeyMaterialId.
func metadata(k store.Key, materialID string) KeyMetadata {
	md := KeyMetadata{
		AWSAccountID:         k.Account,
		KeyID:                k.ID,
		ARN:                  k.ARN,
		CreationDate:         k.CreatedAt,
		Enabled:              k.KeyState == stateEnabled,
		Description:          k.Description,
		KeyUsage:             k.KeyUsage,
		KeyState:             k.KeyState,
		Origin:               k.Origin,
		KeyManager:           k.KeyManager,
		KeySpec:              k.KeySpec,
		EncryptionAlgorithms: []string{algSymmetric},
		MultiRegion:          k.MultiRegion,
		CurrentKeyMaterialID: materialID,
	}
	if k.KeyState == statePendingDeletion {
		md.DeletionDate = k.DeletionDate
		md.PendingWindowDays = k.PendingWindowDays
	}
	return md
}

// currentMaterialID returns the KeyMaterialId of k's current version.
func (s *Service) currentMaterialID(ctx context.Context, k store.Key) (string, error) {
	if k.CurrentVersion == 0 {
		return "", nil
	}
	m, err := s.st.GetMaterial(ctx, k.ID, k.CurrentVersion)
	if err != nil {
		return "", s.storeErr(err, &k)
	}
	return m.MaterialID, nil
}

// CreateKey creates a customer managed symmetric key in the caller's
// account and region.
func (s *Service) CreateKey(ctx context.Context, c Caller, in CreateKeyInput) (KeyMetadata, error) {
	params := map[string]any{
		"keySpec": orDefault(in.KeySpec, specSymmetric), "keyUsage": orDefault(in.KeyUsage, usageEncrypt),
		"origin": orDefault(in.Origin, originKMS), "description": in.Description,
		"bypassPolicyLockoutSafetyCheck": in.BypassPolicyLockoutSafetyCheck, "multiRegion": in.MultiRegion,
	}
	if len(in.Tags) > 0 {
		tags := make([]any, len(in.Tags))
		for i, t := range in.Tags {
			tags[i] = map[string]any{"tagKey": t.Key, "tagValue": t.Value}
		}
		params["tags"] = tags
	}
	var k store.Key
	md, err := func() (KeyMetadata, error) {
		if err := s.validateCreate(c, in); err != nil {
			return KeyMetadata{}, err
		}
		id, err := s.newKeyID()
		if err != nil {
			return KeyMetadata{}, err
		}
		pol := in.Policy
		if pol == "" {
			pol = defaultKeyPolicy(c.Account)
		} else if err := s.checkKeyPolicy(c, c.Account, KeyARN(c.Region, c.Account, id), pol, in.BypassPolicyLockoutSafetyCheck); err != nil {
			return KeyMetadata{}, err
		}
		m, err := s.newMaterial(id, 1, "")
		if err != nil {
			return KeyMetadata{}, err
		}
		nk := store.Key{
			ID: id, ARN: KeyARN(c.Region, c.Account, id), Account: c.Account, Region: c.Region,
			Description: in.Description, KeyState: stateEnabled, KeyManager: managerCustomer,
			KeySpec: specSymmetric, KeyUsage: usageEncrypt, Origin: originKMS, CreatedAt: s.now(),
			Policy: pol, Tags: map[string]string{},
		}
		for _, t := range in.Tags {
			nk.Tags[t.Key] = t.Value
		}
		nk.CurrentVersion = m.Version // as the store sets it
		if err := s.macKey(&nk); err != nil {
			return KeyMetadata{}, err
		}
		if k, err = s.st.CreateKey(ctx, nk, &m); err != nil {
			return KeyMetadata{}, fmt.Errorf("kms: key store: %w", err)
		}
		s.keys.put(k)
		return metadata(k, m.MaterialID), nil
	}()
	return md, s.audit(ctx, c, "CreateKey", keyRef(&k), params, false, err)
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func (s *Service) validateCreate(c Caller, in CreateKeyInput) error {
	if err := validDescription(in.Description); err != nil {
		return err
	}
	if err := enumCheck("keySpec", in.KeySpec, modelKeySpecs, specSymmetric); err != nil {
		return err
	}
	if err := enumCheck("keyUsage", in.KeyUsage, modelKeyUsages, usageEncrypt); err != nil {
		return err
	}
	if err := enumCheck("origin", in.Origin, modelOrigins, originKMS); err != nil {
		return err
	}
	if in.CustomKeyStoreID != "" || in.XksKeyID != "" {
		return errorf(ErrUnsupported, "Custom key stores are not supported; Sealpost offers only keys with origin AWS_KMS")
	}
	if in.MultiRegion {
		return errorf(ErrUnsupported, "Multi-Region keys are not supported; set MultiRegion to false")
	}
	if len(in.Tags) > maxTagsPerKey {
		return errorf(ErrTag, "A key can have at most %d tags", maxTagsPerKey)
	}
	return validTags(in.Tags)
}

// DescribeKey returns a key's metadata in any state. A predefined alias
// (alias/aws/sns) creates its AWS-managed key on first use.
func (s *Service) DescribeKey(ctx context.Context, c Caller, keyID string, grantTokens []string) (KeyMetadata, error) {
	var md KeyMetadata
	err := s.keyOp(ctx, c, keyCall{
		name: "DescribeKey", keyID: keyID, aliasOK: true, action: "kms:DescribeKey",
		access: Access{GrantTokens: grantTokens}, state: anyState, readOnly: true,
		params: map[string]any{"keyId": keyID},
	}, func(k *store.Key) error {
		mid, err := s.currentMaterialID(ctx, *k)
		if err != nil {
			return err
		}
		md = metadata(*k, mid)
		return nil
	})
	return md, err
}

// ListKeys lists the keys of the caller's account and region.
func (s *Service) ListKeys(ctx context.Context, c Caller, p Page) ([]KeyListEntry, string, error) {
	var out []KeyListEntry
	var next string
	err := func() error {
		limit, err := pageLimit(p, defaultPageSize, 1000)
		if err != nil {
			return err
		}
		after, err := decodeMarker(p.Marker, isKeyID)
		if err != nil {
			return err
		}
		keys, cur, err := s.st.ListKeys(ctx, c.Account, c.Region, store.Page{After: after, Limit: limit})
		if err != nil {
			return fmt.Errorf("kms: key store: %w", err)
		}
		out = make([]KeyListEntry, len(keys))
		for i, k := range keys {
			if err := s.checkKey(k.ID, &k); err != nil {
				out = nil
				return err
			}
			out[i] = KeyListEntry{KeyID: k.ID, KeyARN: k.ARN}
		}
		next = encodeMarker(cur)
		return nil
	}()
	params := map[string]any{}
	if p.Limit != 0 {
		params["limit"] = p.Limit
	}
	return out, next, s.audit(ctx, c, "ListKeys", nil, params, true, err)
}

// GenerateRandom returns n (1-1024) random bytes.
func (s *Service) GenerateRandom(ctx context.Context, c Caller, n int, customKeyStoreID string) ([]byte, error) {
	var b []byte
	err := func() error {
		if customKeyStoreID != "" {
			return errorf(ErrUnsupported, "Custom key stores are not supported")
		}
		if n < 1 || n > 1024 {
			return errorf(ErrValidation, "1 validation error detected: Value '%d' at 'numberOfBytes' failed to satisfy constraint: Member must have value between 1 and 1024", n)
		}
		var err error
		b, err = s.random(n)
		return err
	}()
	return b, s.audit(ctx, c, "GenerateRandom", nil, map[string]any{"numberOfBytes": n}, true, err)
}

// GetKeyPolicy returns the policy document and its name ("default").
func (s *Service) GetKeyPolicy(ctx context.Context, c Caller, keyID, name string) (string, string, error) {
	var doc string
	name = orDefault(name, "default")
	err := s.keyOp(ctx, c, keyCall{
		name: "GetKeyPolicy", keyID: keyID, action: "kms:GetKeyPolicy", state: anyState, readOnly: true,
		params: map[string]any{"keyId": keyID, "policyName": name},
	}, func(k *store.Key) error {
		if name != "default" {
			return errorf(ErrNotFound, "No such policy exists: %s", name)
		}
		doc = k.Policy
		return nil
	})
	if err != nil {
		return "", "", err
	}
	return doc, name, nil
}

// PutKeyPolicy replaces a key's policy ("default", the only name).
func (s *Service) PutKeyPolicy(ctx context.Context, c Caller, keyID, name, doc string, bypassLockoutCheck bool) error {
	name = orDefault(name, "default")
	return s.keyOp(ctx, c, keyCall{
		name: "PutKeyPolicy", keyID: keyID, action: "kms:PutKeyPolicy", state: anyState,
		params:  map[string]any{"keyId": keyID, "policyName": name, "bypassPolicyLockoutSafetyCheck": bypassLockoutCheck},
		managed: managedUnsupported("changing the key policy"),
	}, func(k *store.Key) error {
		if name != "default" {
			return errorf(ErrNotFound, "No such policy exists: %s", name)
		}
		if err := s.checkKeyPolicy(c, k.Account, k.ARN, doc, bypassLockoutCheck); err != nil {
			return err
		}
		defer s.purge(k.ID)
		return s.updateKey(ctx, k, anyState, func(cur *store.Key) error {
			cur.Policy = doc
			return nil
		})
	})
}

// ListKeyPolicies answers ["default"].
func (s *Service) ListKeyPolicies(ctx context.Context, c Caller, keyID string, p Page) ([]string, string, error) {
	var out []string
	err := s.keyOp(ctx, c, keyCall{
		name: "ListKeyPolicies", keyID: keyID, action: "kms:ListKeyPolicies", state: anyState, readOnly: true,
		params: map[string]any{"keyId": keyID},
	}, func(k *store.Key) error {
		if _, err := pageLimit(p, defaultPageSize, 1000); err != nil {
			return err
		}
		if p.Marker != "" { // never handed out: there is one page
			return errorf(ErrInvalidMarker, "Invalid marker: %s", p.Marker)
		}
		out = []string{"default"}
		return nil
	})
	return out, "", err
}

// TagResource adds or replaces tags of a customer managed key.
func (s *Service) TagResource(ctx context.Context, c Caller, keyID string, tags []Tag) error {
	keys := make([]any, len(tags))
	for i, t := range tags {
		keys[i] = map[string]any{"tagKey": t.Key, "tagValue": t.Value}
	}
	return s.keyOp(ctx, c, keyCall{
		name: "TagResource", keyID: keyID, action: "kms:TagResource", state: notPending,
		params: map[string]any{"keyId": keyID, "tags": keys}, managed: managedDenied(c, "kms:TagResource"),
		pre: validTags(tags),
	}, func(k *store.Key) error {
		return s.updateKey(ctx, k, notPending, func(cur *store.Key) error {
			if cur.Tags == nil {
				cur.Tags = map[string]string{}
			}
			for _, t := range tags {
				cur.Tags[t.Key] = t.Value
			}
			if len(cur.Tags) > maxTagsPerKey {
				return errorf(ErrLimitExceeded, "A key can have at most %d tags", maxTagsPerKey)
			}
			return nil
		})
	})
}

// UntagResource removes tags (missing keys are ignored, as AWS does).
func (s *Service) UntagResource(ctx context.Context, c Caller, keyID string, tagKeys []string) error {
	keys := make([]any, len(tagKeys))
	for i, t := range tagKeys {
		keys[i] = t
	}
	return s.keyOp(ctx, c, keyCall{
		name: "UntagResource", keyID: keyID, action: "kms:UntagResource", state: notPending,
		params: map[string]any{"keyId": keyID, "tagKeys": keys}, managed: managedDenied(c, "kms:UntagResource"),
		pre: validUntagKeys(tagKeys),
	}, func(k *store.Key) error {
		return s.updateKey(ctx, k, notPending, func(cur *store.Key) error {
			for _, t := range tagKeys {
				delete(cur.Tags, t)
			}
			return nil
		})
	})
}

// ListResourceTags lists a key's tags by key (at most 50 per page).
func (s *Service) ListResourceTags(ctx context.Context, c Caller, keyID string, p Page) ([]Tag, string, error) {
	var out []Tag
	var next string
	err := s.keyOp(ctx, c, keyCall{
		name: "ListResourceTags", keyID: keyID, action: "kms:ListResourceTags", state: anyState, readOnly: true,
		params: map[string]any{"keyId": keyID},
	}, func(k *store.Key) error {
		limit, err := pageLimit(p, maxTagsPerKey, maxTagsPerKey)
		if err != nil {
			return err
		}
		after, err := decodeMarker(p.Marker, func(s string) bool { return len(s) <= 128 })
		if err != nil {
			return err
		}
		names := make([]string, 0, len(k.Tags))
		for n := range k.Tags {
			if n > after {
				names = append(names, n)
			}
		}
		slices.Sort(names)
		if len(names) > limit {
			names = names[:limit]
			next = encodeMarker(names[limit-1])
		}
		out = make([]Tag, len(names))
		for i, n := range names {
			out[i] = Tag{Key: n, Value: k.Tags[n]}
		}
		return nil
	})
	return out, next, err
}

// UpdateKeyDescription replaces a customer managed key's description.
func (s *Service) UpdateKeyDescription(ctx context.Context, c Caller, keyID, description string) error {
	return s.keyOp(ctx, c, keyCall{
		name: "UpdateKeyDescription", keyID: keyID, action: "kms:UpdateKeyDescription", state: notPending,
		params:  map[string]any{"keyId": keyID, "description": description},
		managed: managedDenied(c, "kms:UpdateKeyDescription"), pre: validDescription(description),
	}, func(k *store.Key) error {
		return s.updateKey(ctx, k, notPending, func(cur *store.Key) error {
			cur.Description = description
			return nil
		})
	})
}

// days is n days as a duration.
func dayDur(n int) time.Duration { return time.Duration(n) * 24 * time.Hour }

func validDescription(d string) error {
	if len(d) > maxDescription {
		return errorf(ErrValidation, "1 validation error detected: Value at 'description' failed to satisfy constraint: Member must have length less than or equal to %d", maxDescription)
	}
	if !storable(d) {
		return errorf(ErrValidation, "The description must be UTF-8 without NUL characters")
	}
	return nil
}

// storable reports whether s can be stored as text by every driver
// (PostgreSQL refuses NUL and invalid UTF-8 in text and JSON).
func storable(s string) bool { return utf8.ValidString(s) && strings.IndexByte(s, 0) < 0 }

func validUntagKeys(keys []string) error {
	for _, t := range keys {
		if t == "" || len(t) > 128 {
			return errorf(ErrTag, "Tag keys must be 1 to 128 characters")
		}
	}
	return nil
}
