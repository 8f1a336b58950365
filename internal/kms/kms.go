package kms

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"time"

	"github.com/sealpost/sealpost/internal/audit"
	"github.com/sealpost/sealpost/internal/envelope"
	"github.com/sealpost/sealpost/internal/policy"
	"github.com/sealpost/sealpost/internal/store"
)

// Error kinds (see the package doc). kmsapi maps each to a wire code.
var (
	ErrNotFound          = errors.New("NotFoundException")
	ErrDisabled          = errors.New("DisabledException")
	ErrInvalidState      = errors.New("KMSInvalidStateException")
	ErrInvalidCiphertext = errors.New("InvalidCiphertextException")
	ErrIncorrectKey      = errors.New("IncorrectKeyException")
	ErrAccessDenied      = errors.New("AccessDeniedException")
	ErrValidation        = errors.New("ValidationException")
	ErrLimitExceeded     = errors.New("LimitExceededException")
	ErrAlreadyExists     = errors.New("AlreadyExistsException")
	ErrUnsupported       = errors.New("UnsupportedOperationException")
	ErrInvalidAliasName  = errors.New("InvalidAliasNameException")
	ErrInvalidArn        = errors.New("InvalidArnException")
	ErrMalformedPolicy   = errors.New("MalformedPolicyDocumentException")
	ErrInvalidGrantToken = errors.New("InvalidGrantTokenException")
	ErrInvalidGrantID    = errors.New("InvalidGrantIdException")
	ErrInvalidMarker     = errors.New("InvalidMarkerException")
	ErrTag               = errors.New("TagException")
	ErrInvalidKeyUsage   = errors.New("InvalidKeyUsageException")
	ErrDryRun            = errors.New("DryRunOperationException")
	ErrInternal          = errors.New("KMSInternalException")
)

// Error is a request-level failure: Kind is one of the Err* values, Msg the
// client's message.
type Error struct {
	Kind error
	Msg  string
}

func (e *Error) Error() string { return e.Msg }
func (e *Error) Unwrap() error { return e.Kind }

// errorf returns an *Error of kind with a formatted message.
func errorf(kind error, format string, args ...any) error {
	return &Error{Kind: kind, Msg: fmt.Sprintf(format, args...)}
}

// Caller is who makes a call.
type Caller struct {
	// Account and Region are the request's: ids and alias names resolve
	// there, and keys are created there.
	Account string
	Region  string
	// Principal is the caller's ARN (arn:aws:iam::<acct>:root or :user/x).
	Principal   string
	UserID      string
	AccessKeyID string
	// Authenticated is false with --auth=off: the caller acts as its
	// claimed account.
	Authenticated bool
	// IdentityPolicy is the caller's IAM identity policy; nil means the
	// principal may do everything in its own account.
	IdentityPolicy *policy.Policy
	SourceIP       netip.Addr
	UserAgent      string
	RequestID      string

	// Service, when set, makes the caller an AWS service principal (e.g.
	// "sns.amazonaws.com") using a key for Principal's account: the audit
	// record's userIdentity is {type AWSService, invokedBy Service}.
	Service string
	// ViaService is the kms:ViaService value ("sns.<region>.amazonaws.com")
	// when a principal's request reaches KMS through that service (SNS
	// calling GenerateDataKey for a publisher): policies see the publisher
	// as the principal and kms:ViaService set.
	ViaService string
	// SourceARN and SourceAccount, for a service principal, are the
	// resource and account it acts for (aws:SourceArn, aws:SourceAccount in
	// key policies): SNS sealing into an encrypted queue for a topic.
	SourceARN     string
	SourceAccount string

	// Secure is whether the request came over TLS (aws:SecureTransport in
	// key and identity policies).
	Secure bool
}

// Auditor receives one event per call. *audit.Writer implements it.
type Auditor interface {
	Append(ctx context.Context, e audit.Event) (uint64, error)
}

// Options configure a Service.
type Options struct {
	// Now is the clock; nil means time.Now. Deletion dates, rotation dates
	// and cache expiry are measured on it.
	Now func() time.Time
	// Rand is the source of key material, data keys, ids and nonces; nil
	// means crypto/rand.
	Rand io.Reader
	// CacheTTL bounds how long a node trusts a cached key record without
	// checking its Revision in the store (so a key disabled on one node is
	// refused on every node within CacheTTL). 0 means 5 s; < 0 disables it.
	CacheTTL time.Duration
	// Audit receives every call; nil means no audit log (tests only).
	Audit Auditor
	Log   *slog.Logger
	// Purge, when set, is called by DisableKey, ScheduleKeyDeletion and
	// PutKeyPolicy before they return, so that users of cached data keys of
	// that key (SNS) drop them.
	Purge func(keyID string)
	// PurgeWait makes DisableKey, ScheduleKeyDeletion and PutKeyPolicy
	// wait CacheTTL after their change before returning (set it when
	// several nodes share the store): every node then refuses the old
	// state, and drops data keys derived from it, once they return.
	PurgeWait bool
}

// Service is the KMS domain.
type Service struct {
	st  store.KeyStore
	kr  *envelope.Keyring
	opt Options
	// recKey is the record-MAC key (records.go).
	recKey []byte
	// blobOpts are the envelope options of every EncryptBlob call.
	blobOpts []envelope.Option
	log      *slog.Logger
	keys     *keyCache
	// aliases caches alias resolution (aliascache.go).
	aliases *aliasCache
	az      authzState // parsed key policies, grants (authz.go); zero value ready
}

// New returns a Service over st whose key material is sealed by kr.
func New(st store.KeyStore, kr *envelope.Keyring, opt Options) *Service {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.CacheTTL == 0 {
		opt.CacheTTL = 5 * time.Second
	}
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	s := &Service{st: st, kr: kr, opt: opt, log: opt.Log}
	if kr != nil {
		s.recKey = kr.RecordMACKey()
	}
	s.keys = newKeyCache(s)
	s.aliases = newAliasCache(opt.CacheTTL)
	if opt.Rand != nil {
		s.blobOpts = []envelope.Option{envelope.WithRand(opt.Rand)}
	}
	return s
}

func (s *Service) now() time.Time { return s.opt.Now().UTC() }

// purge drops the node's cached state of a key and calls Options.Purge.
func (s *Service) purge(keyID string) {
	s.keys.forget(keyID)
	if s.opt.Purge != nil {
		s.opt.Purge(keyID)
	}
	s.waitForNodes()
}

// Tag is a resource tag.
type Tag struct{ Key, Value string }

// KeyMetadata is DescribeKey's answer (and CreateKey's).
type KeyMetadata struct {
	AWSAccountID         string
	KeyID                string
	ARN                  string
	CreationDate         time.Time
	Enabled              bool
	Description          string
	KeyUsage             string
	KeyState             string
	DeletionDate         time.Time // zero unless PendingDeletion
	PendingWindowDays    int       // 0 unless PendingDeletion
	Origin               string
	KeyManager           string
	KeySpec              string
	EncryptionAlgorithms []string
	MultiRegion          bool
	CurrentKeyMaterialID string
}

// CreateKeyInput is CreateKey's request.
type CreateKeyInput struct {
	Description                    string
	Policy                         string
	Tags                           []Tag
	KeySpec                        string // "" = SYMMETRIC_DEFAULT
	KeyUsage                       string // "" = ENCRYPT_DECRYPT
	Origin                         string // "" = AWS_KMS
	CustomKeyStoreID               string
	XksKeyID                       string
	BypassPolicyLockoutSafetyCheck bool
	MultiRegion                    bool
}

// KeyListEntry is one entry of ListKeys.
type KeyListEntry struct{ KeyID, KeyARN string }

// AliasEntry is one entry of ListAliases.
type AliasEntry struct {
	AliasName       string
	AliasARN        string
	TargetKeyID     string // "" for a predefined alias/aws/* alias with no key yet
	CreationDate    time.Time
	LastUpdatedDate time.Time
}

// EncryptInput is Encrypt's request.
type EncryptInput struct {
	KeyID       string
	Plaintext   []byte
	Context     map[string]string
	GrantTokens []string
	Algorithm   string // "" = SYMMETRIC_DEFAULT
	DryRun      bool
}

// EncryptOutput is Encrypt's answer.
type EncryptOutput struct {
	CiphertextBlob []byte
	KeyARN         string
	Algorithm      string
}

// DecryptInput is Decrypt's request.
type DecryptInput struct {
	CiphertextBlob []byte
	Context        map[string]string
	GrantTokens    []string
	KeyID          string // optional; must name the blob's key when set
	Algorithm      string
	DryRun         bool
}

// DecryptOutput is Decrypt's answer. The caller wipes Plaintext after use.
type DecryptOutput struct {
	Plaintext []byte
	KeyARN    string
	Algorithm string
}

// ReEncryptInput is ReEncrypt's request.
type ReEncryptInput struct {
	CiphertextBlob       []byte
	SourceContext        map[string]string
	SourceKeyID          string
	DestinationKeyID     string
	DestinationContext   map[string]string
	SourceAlgorithm      string
	DestinationAlgorithm string
	GrantTokens          []string
	DryRun               bool
}

// ReEncryptOutput is ReEncrypt's answer.
type ReEncryptOutput struct {
	CiphertextBlob       []byte
	SourceKeyARN         string
	KeyARN               string
	SourceAlgorithm      string
	DestinationAlgorithm string
}

// DataKeyInput is GenerateDataKey's (and ...WithoutPlaintext's) request:
// exactly one of KeySpec (AES_256, AES_128) and NumberOfBytes (1-1024).
type DataKeyInput struct {
	KeyID         string
	Context       map[string]string
	NumberOfBytes int
	KeySpec       string
	GrantTokens   []string
	DryRun        bool
}

// DataKeyOutput is GenerateDataKey's answer; Plaintext is nil for
// GenerateDataKeyWithoutPlaintext. The caller wipes Plaintext after use.
type DataKeyOutput struct {
	CiphertextBlob []byte
	Plaintext      []byte
	KeyARN         string
}

// DeletionResult is ScheduleKeyDeletion's answer.
type DeletionResult struct {
	KeyARN            string
	DeletionDate      time.Time
	KeyState          string
	PendingWindowDays int
}

// RotationStatus is GetKeyRotationStatus's answer.
type RotationStatus struct {
	Enabled           bool
	KeyARN            string
	PeriodDays        int       // 0 when rotation is disabled
	NextRotationDate  time.Time // zero when rotation is disabled
	OnDemandStartDate time.Time // zero unless an on-demand rotation runs
}

// Rotation is one entry of ListKeyRotations.
type Rotation struct {
	KeyARN       string
	MaterialID   string
	RotationDate time.Time
	RotationType string // AUTOMATIC or ON_DEMAND
}

// GrantConstraints are a grant's encryption-context constraints (at most
// one of the two is set).
type GrantConstraints struct {
	EncryptionContextSubset map[string]string
	EncryptionContextEquals map[string]string
}

// CreateGrantInput is CreateGrant's request.
type CreateGrantInput struct {
	KeyID             string
	GranteePrincipal  string
	RetiringPrincipal string
	Operations        []string
	Constraints       *GrantConstraints
	GrantTokens       []string
	Name              string
	DryRun            bool
}

// GrantEntry is one entry of ListGrants and ListRetirableGrants.
type GrantEntry struct {
	KeyARN            string
	GrantID           string
	Name              string
	CreationDate      time.Time
	GranteePrincipal  string
	RetiringPrincipal string
	IssuingAccount    string
	Operations        []string
	Constraints       *GrantConstraints
}

// Page is a list request's paging: Limit 0 means the action's default;
// Marker is the previous answer's NextMarker.
type Page struct {
	Limit  int
	Marker string
}
