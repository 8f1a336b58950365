// Package sse seals and opens the bodies of SNS messages published to
// topics with server-side encryption (KmsMasterKeyId), as the AWS page
// "Encryption at rest" describes: the body is encrypted as soon as it is
// received, stored encrypted, and decrypted only when it is delivered. The
// same code seals the bodies of encrypted SQS queues (SealQueue,
// OpenQueue; see "Queues" below): one frame format, one data-key cache,
// one Purge.
//
// # Envelope
//
// A body is sealed under a data key (AES-256-GCM, envelope.DataKey) from the
// built-in KMS: GenerateDataKey on the topic's key with encryption context
// {"aws:sns:topicArn": <topic ARN>}, evaluated as the publishing principal
// through SNS (kms:ViaService sns.<region>.amazonaws.com). The data key is
// kept only in memory, reused per (topic, CMK, publisher) for at most
// Options.ReusePeriod and Options.MaxMessages messages, and stored only
// wrapped by the CMK (the KMS ciphertext blob) inside every sealed body:
//
//	frame = 0x01 (frame version) || u16 big-endian len(blob) || blob || envelope body
//
// where "envelope body" is envelope.DataKey.SealBody's output, whose AAD
// (envelope.BodyAAD) binds the topic ARN, message id, timestamp, subject,
// attributes digest and FIFO fields, so a record altered or moved on disk
// fails to open. Whether a stored body is a frame is recorded in the
// message's clear metadata (sns.Meta), never guessed from the bytes.
//
// The data-key id inside the envelope body is the first 16 bytes of
// SHA-256 of the blob, so a body names the blob it needs, and a frame
// whose blob was swapped fails before any decryption. The raw data key
// from KMS is wiped as soon as it is turned into an envelope.DataKey
// (which keeps only the AES key schedule), and Sealer logs nothing.
//
// # Reuse, as AWS does
//
// AWS: "Amazon SNS reuses a data key for up to 5 minutes" and counts KMS
// requests per publishing principal (R = B / D * (2 * P), "Estimating AWS
// KMS costs"). The sealing cache is keyed by (topic ARN, KmsMasterKeyId as
// the topic gives it, publisher: account, principal, user id, identity
// policy, authenticated), so a publisher whose IAM policy changes (the
// credentials file is reloaded) gets a new GenerateDataKey, authorized
// anew. Within the reuse period the authorization of the first
// GenerateDataKey stands for the publisher's later messages, as in AWS:
// request conditions of the key policy (aws:SourceIp, dates) are evaluated
// at GenerateDataKey, and a grant revoked, or an alias moved to another
// key, takes effect with the next data key (at most ReusePeriod). Key
// state and key policy changes take effect at once (Purge below). Uses are
// counted atomically; a data key that reaches MaxMessages is replaced.
// Concurrent misses of one cache entry make one KMS call; the others wait
// for it (and share its error).
//
// # Opening: the authorization rule
//
// Open decrypts the blob as the SNS service principal (kms.Caller with
// Service "sns.amazonaws.com", Account = the topic's owner, Region = the
// topic's region; audited with userIdentity {type AWSService, invokedBy
// sns.amazonaws.com}) through kms.Service.DecryptForService, with the
// encryption context {"aws:sns:topicArn": <topic ARN>}. It is allowed when
// the key policy or a grant allows either
//
//  1. the service principal sns.amazonaws.com itself (the statement AWS
//     asks for when AWS services publish to an encrypted topic: Principal
//     {"Service": ...}, kms:GenerateDataKey* and kms:Decrypt), or
//  2. the topic owner's account acting through SNS: evaluated as that
//     account's root with kms:CallerAccount = owner and kms:ViaService =
//     sns.<region>.amazonaws.com.
//
// An explicit Deny for either wins; encryption-context conditions apply.
// Why: AWS documents that "the publisher must have the kms:GenerateDataKey
// and kms:Decrypt permissions" (SNS Developer Guide, "Key management" >
// "Configuring AWS KMS permissions") and counts one Decrypt per publisher
// and period, i.e. AWS decrypts on the publisher's behalf through SNS.
// Sealpost delivers later, possibly on another node, and does not keep the
// publisher with the message, so it acts for the account that owns the
// topic, the authority behind its publishers. Consequences: the default
// key policy (account root: kms:*), the AWS-managed aws/sns key policy
// (any principal of the account via SNS) and a key of account B whose
// policy allows account A (cross-account topic of A) all deliver without
// extra statements. A key policy that names only IAM users, not the
// account root nor sns.amazonaws.com, lets those users publish but not
// deliver: add {"Principal": {"Service": "sns.amazonaws.com"}, "Action":
// "kms:Decrypt"} (AWS would decrypt as the publisher). The opening cache
// is keyed by blob digest, topic, owner and region, with the same bounds
// (ReusePeriod from the first open, MaxMessages opens). Open requires the
// topic ARN of aad to be of the owner's account. Plaintext bodies live
// only in memory; callers wipe them after use. Every failure to parse or
// open a frame (garbage, a changed byte, metadata that differs from what
// was sealed) wraps kms.ErrInvalidCiphertext and returns no plaintext.
//
// # Purge
//
// Purge(keyID) drops every cached data key of a CMK. kms.Options.Purge calls
// it on the node that runs DisableKey, ScheduleKeyDeletion or PutKeyPolicy.
// Every cached entry also remembers the CMK's key id and store revision at
// creation, and before each use asks kms.Service.KeyRevision (the node's
// key cache, trusted for kms Options.CacheTTL): a changed revision or a key
// that is not Enabled drops the entry, and the next call goes to KMS and
// gets its real error (DisabledException, KMSInvalidStateException,
// NotFoundException, AccessDeniedException). With kms Options.PurgeWait
// (several nodes on one store), those three calls wait CacheTTL before
// returning, so no node uses a data key of the old state after they
// return: stricter than AWS, whose data keys live up to 5 minutes.
//
// # Queues
//
// SealQueue and OpenQueue are Seal and Open for SQS queues, as AWS's
// "Encryption at rest in Amazon SQS" and "Amazon SQS Key management"
// describe. Differences from topics, and only these:
//
//   - The encryption context is {"aws:sqs:arn": <queue ARN>} and
//     kms:ViaService is sqs.<region>.amazonaws.com.
//   - KmsMasterKeyId as the queue gives it: a key id or alias name is the
//     queue owner's key in the queue's region (a sender of another account
//     uses the owner's key, by ARN); ARNs are used as given.
//   - Sealing: GenerateDataKey as the sender (producers need
//     kms:GenerateDataKey, as in AWS), data keys reused per (queue ARN,
//     KmsMasterKeyId, sender) for the queue's KmsDataKeyReusePeriodSeconds
//     (given per call: a changed period applies at once) and MaxMessages.
//     A service sender (SNS delivering into the queue: kms.Caller.Service
//     "sns.amazonaws.com", SourceARN = the topic, SourceAccount = its
//     owner) calls as that service principal with no account of its own
//     (no kms:CallerAccount): the key policy must allow the service
//     principal kms:GenerateDataKey*, as AWS asks; so the AWS-managed
//     aws/sqs key, whose policy allows only principals of the account,
//     refuses SNS, as in AWS. aws:SourceArn and aws:SourceAccount are
//     visible to key policy conditions.
//   - Opening: Decrypt as the receiver through SQS (consumers need
//     kms:Decrypt, as in AWS; also a receiver of another account the queue
//     policy lets in), with the encryption context of the queue the frame
//     was sealed for (a dead-letter move keeps the frame). Opened data keys
//     are cached per (blob digest, queue, receiver) for Options.ReusePeriod
//     (OpenQueue is not told the queue's period) and MaxMessages.
//   - SSE-SQS (SqsManagedSseEnabled, keyID ""): the key is the one SQS
//     owns in the queue's region (kms.Service.ServiceKey: created on first
//     use in the reserved account kms.OwnedAccount, which no customer can
//     list or name); GenerateDataKey and Decrypt are made as the SQS
//     service principal (kms.Caller{Service: "sqs.amazonaws.com", Account:
//     kms.OwnedAccount}, audited as such); senders and receivers need no
//     key permissions, as in AWS. Data keys are shared by every sender of
//     the queue and opened keys by every receiver.
//
// Revision checks and Purge apply to queue entries exactly as to topic
// entries: DisableKey, ScheduleKeyDeletion and PutKeyPolicy of a queue's
// key take effect on the next SendMessage and ReceiveMessage.
package sse

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sealpost/sealpost/internal/arn"
	"github.com/sealpost/sealpost/internal/envelope"
	"github.com/sealpost/sealpost/internal/kms"
	"github.com/sealpost/sealpost/internal/policy"
)

// ContextKey is the encryption-context key SNS uses, with the topic ARN as
// its value.
const ContextKey = "aws:sns:topicArn"

// QueueContextKey is the encryption-context key SQS uses, with the queue
// ARN as its value.
const QueueContextKey = "aws:sqs:arn"

// ServicePrincipal is the principal SNS acts as when it opens bodies.
const ServicePrincipal = "sns.amazonaws.com"

// QueueServicePrincipal is the principal SQS acts as for SSE-SQS queues.
const QueueServicePrincipal = "sqs.amazonaws.com"

// frameVersion is the first byte of every frame.
const frameVersion = 0x01

// maxCached bounds each cache (sealing and opening); past it, expired
// entries are dropped, and if that is not enough, every entry.
const maxCached = 1 << 16

// KMS is what Sealer needs of the key service; *kms.Service implements it.
type KMS interface {
	GenerateDataKey(ctx context.Context, c kms.Caller, in kms.DataKeyInput) (kms.DataKeyOutput, error)
	// Decrypt decrypts as c (a queue's receiver).
	Decrypt(ctx context.Context, c kms.Caller, in kms.DecryptInput) (kms.DecryptOutput, error)
	// DecryptForService decrypts as a service principal acting for an
	// account (the rule is in the package doc).
	DecryptForService(ctx context.Context, c kms.Caller, in kms.DecryptInput) (kms.DecryptOutput, error)
	// KeyRevision returns an Enabled key's store revision (an error for
	// any other state); cheap enough to ask before every use.
	KeyRevision(ctx context.Context, keyID string) (int64, error)
	// ServiceKey returns the ARN of the key a service owns in a region
	// (SSE-SQS), creating it on first use.
	ServiceKey(ctx context.Context, service, region string) (string, error)
}

// Options configure a Sealer.
type Options struct {
	// ReusePeriod bounds how long one data key is used for a topic, and
	// how long an opened data key is reused (default 5 min). Queues give
	// their own period to SealQueue.
	ReusePeriod time.Duration
	// MaxMessages bounds how many bodies one data key seals (default 2^30).
	MaxMessages uint64
	// Now is the clock (nil = time.Now).
	Now func() time.Time
	// OnKMSCall, when set, is called after every KMS call the Sealer makes
	// (op "GenerateDataKey" or "Decrypt") for metrics. resourceARN is the
	// topic or queue ARN the call was for; keyARN is the key's ARN, or when
	// the call failed before KMS named it, the identifier the Sealer had
	// (the KmsMasterKeyId, the blob's key id).
	OnKMSCall func(resourceARN, keyARN, op string, err error)
}

// Sealer seals and opens SSE bodies. It is safe for concurrent use.
type Sealer struct {
	kms KMS
	opt Options

	mu        sync.Mutex
	sealing   map[sealKey]*dataKey
	opening   map[openKey]*dataKey
	lastSweep time.Time
}

// use is what a call seals or opens for: topics or queues.
type use struct {
	contextKey string // the encryption-context key; the topic or queue ARN is its value
	service    string // the service in kms:ViaService (<service>.<region>.amazonaws.com)
}

var (
	topicUse = use{contextKey: ContextKey, service: "sns"}
	queueUse = use{contextKey: QueueContextKey, service: "sqs"}
)

func (u use) context(resource string) map[string]string {
	return map[string]string{u.contextKey: resource}
}

func (u use) via(region string) string { return u.service + "." + region + ".amazonaws.com" }

// principal is whom a cache entry was authorized for: the caller's
// account, principal, user id, identity policy (a new identity policy is a
// new authorization) and authentication, or a service principal with the
// resource and account it acts for; and the region of the call.
type principal struct {
	account, princ, userID string
	identity               *policy.Policy
	authenticated          bool
	service                string
	sourceARN, sourceAcct  string
	region                 string
}

func principalOf(c *kms.Caller) principal {
	return principal{account: c.Account, princ: c.Principal, userID: c.UserID, identity: c.IdentityPolicy,
		authenticated: c.Authenticated, service: c.Service, sourceARN: c.SourceARN, sourceAcct: c.SourceAccount,
		region: c.Region}
}

// sealKey names a data key used for sealing: one per topic or queue, CMK
// (as the topic or queue names it) and sender.
type sealKey struct {
	resource, keyID string
	who             principal
}

// openKey names an opened data key: its blob's digest, the topic or queue
// it was sealed for, and whom KMS decrypted it for.
type openKey struct {
	digest   [32]byte
	resource string
	who      principal
}

// dataKey is a cache entry. done is closed once the KMS call that fills it
// returned; then err or the other fields are set and do not change.
type dataKey struct {
	done    chan struct{}
	err     error
	dk      *envelope.DataKey
	blob    []byte
	hint    string // the CMK's key id if known before the KMS call, or ""
	cmkID   string // the CMK's key id (UUID)
	cmkARN  string
	rev     int64 // the CMK's store revision when the data key was made
	created time.Time
	period  time.Duration // the reuse period it was made for (sweeping)
	uses    atomic.Uint64
}

// New returns a Sealer over k.
func New(k KMS, opt Options) *Sealer {
	if opt.ReusePeriod <= 0 {
		opt.ReusePeriod = 5 * time.Minute
	}
	if opt.MaxMessages == 0 {
		opt.MaxMessages = 1 << 30
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	return &Sealer{kms: k, opt: opt, sealing: map[sealKey]*dataKey{}, opening: map[openKey]*dataKey{}}
}

// invalid is the error for a frame that does not parse or open.
func invalid(msg string) error {
	return &kms.Error{Kind: kms.ErrInvalidCiphertext, Msg: "The sealed message body is invalid: " + msg + "."}
}

// Seal seals plaintext for topic aad.TopicARN under the CMK keyID (any
// identifier KMS accepts), as publisher c (whose ViaService Seal sets).
// KMS errors are returned wrapped, so errors.Is finds the kms.Err* kind.
func (s *Sealer) Seal(ctx context.Context, c kms.Caller, keyID string, aad envelope.BodyAAD, plaintext []byte) ([]byte, error) {
	if keyID == "" || aad.TopicARN == "" || c.Region == "" {
		return nil, &kms.Error{Kind: kms.ErrValidation, Msg: "sse: Seal needs a key id, a topic ARN and the topic's region"}
	}
	c.ViaService = topicUse.via(c.Region)
	c.Service = ""
	frame, _, err := s.seal(ctx, topicUse, c, aad.TopicARN, keyID, s.opt.ReusePeriod, aad, plaintext)
	return frame, err
}

// SealQueue seals plaintext for the queue queueARN under its
// KmsMasterKeyId keyID ("" = SSE-SQS), as sender c (a service caller when
// SNS delivers), reusing data keys for reuse (<= 0: Options.ReusePeriod).
// aad binds the message; its TopicARN field should be queueARN. It
// returns the frame and the ARN of the CMK used. KMS errors are returned
// wrapped, so errors.Is finds the kms.Err* kind.
func (s *Sealer) SealQueue(ctx context.Context, c kms.Caller, queueARN, keyID string, reuse time.Duration, aad envelope.BodyAAD, plaintext []byte) ([]byte, string, error) {
	q, err := queueOf(queueARN)
	if err != nil {
		return nil, "", err
	}
	if reuse <= 0 {
		reuse = s.opt.ReusePeriod
	}
	switch {
	case keyID == "":
		if keyID, err = s.kms.ServiceKey(ctx, QueueServicePrincipal, q.Region); err != nil {
			return nil, "", err
		}
		c = ownedCaller(q.Region, c.RequestID)
	case c.Service != "":
		// A service principal has no account of its own here (no
		// kms:CallerAccount): the key policy must name the service.
		c.Account, c.Principal, c.UserID, c.IdentityPolicy = "", "", "", nil
		fallthrough
	default:
		keyID = ownersKey(keyID, q)
		c.Region = q.Region
		c.ViaService = queueUse.via(q.Region)
	}
	return s.seal(ctx, queueUse, c, queueARN, keyID, reuse, aad, plaintext)
}

// ownedCaller is the SQS service principal using its own key.
func ownedCaller(region, requestID string) kms.Caller {
	return kms.Caller{Service: QueueServicePrincipal, Account: kms.OwnedAccount, Region: region, RequestID: requestID}
}

// queueOf parses a queue ARN.
func queueOf(queueARN string) (arn.ARN, error) {
	q, err := arn.Parse(queueARN)
	if err != nil || q.Service != "sqs" || q.Region == "" || q.Account == "" || q.Resource == "" {
		return arn.ARN{}, &kms.Error{Kind: kms.ErrValidation, Msg: "sse: not a queue ARN"}
	}
	return q, nil
}

// ownersKey is a queue's KmsMasterKeyId as a KMS ARN: a key id or alias
// name is the key of the queue's owner in the queue's region.
func ownersKey(keyID string, q arn.ARN) string {
	if strings.HasPrefix(keyID, "arn:") {
		return keyID
	}
	res := keyID
	if !strings.HasPrefix(keyID, "alias/") {
		res = "key/" + keyID
	}
	return arn.ARN{Partition: q.Partition, Service: "kms", Region: q.Region, Account: q.Account, Resource: res}.String()
}

// seal is Seal and SealQueue: plaintext sealed for resource (a topic or
// queue ARN) under keyID as c, with a data key reused for period.
func (s *Sealer) seal(ctx context.Context, u use, c kms.Caller, resource, keyID string, period time.Duration, aad envelope.BodyAAD, plaintext []byte) ([]byte, string, error) {
	k := sealKey{resource: resource, keyID: keyID, who: principalOf(&c)}
	e, err := acquire(ctx, s, s.sealing, k, keyHint(keyID), period, func(e *dataKey) error {
		out, err := s.kms.GenerateDataKey(ctx, c, kms.DataKeyInput{
			KeyID: keyID, KeySpec: "AES_256", Context: u.context(resource),
		})
		s.called(resource, orElse(out.KeyARN, keyID), "GenerateDataKey", err)
		defer envelope.Wipe(out.Plaintext)
		if err != nil {
			return err
		}
		return s.fill(ctx, e, out.CiphertextBlob, out.Plaintext, out.KeyARN)
	})
	if err != nil {
		return nil, "", err
	}
	if len(e.blob) > 0xffff {
		return nil, "", &kms.Error{Kind: kms.ErrInternal, Msg: "sse: data-key blob too long for the frame"}
	}
	body, err := e.dk.SealBody(plaintext, aad)
	if err != nil {
		return nil, "", &kms.Error{Kind: kms.ErrValidation, Msg: "sse: the message body cannot be sealed: " + err.Error()}
	}
	frame := make([]byte, 0, 3+len(e.blob)+len(body))
	frame = append(frame, frameVersion)
	frame = binary.BigEndian.AppendUint16(frame, uint16(len(e.blob)))
	frame = append(frame, e.blob...)
	frame = append(frame, body...)
	return frame, e.cmkARN, nil
}

// parseFrame checks a frame's layout and splits it into the data key's
// blob and the envelope body. Errors wrap kms.ErrInvalidCiphertext.
func parseFrame(frame []byte) (blob []byte, bl *envelope.Blob, body []byte, err error) {
	if len(frame) < 3 {
		return nil, nil, nil, invalid("frame too short")
	}
	if frame[0] != frameVersion {
		return nil, nil, nil, invalid("unknown frame version")
	}
	n := int(binary.BigEndian.Uint16(frame[1:3]))
	if n == 0 || len(frame) < 3+n {
		return nil, nil, nil, invalid("bad data-key length")
	}
	blob, body = frame[3:3+n], frame[3+n:]
	bl, err = envelope.ParseBlob(blob)
	if err != nil {
		return nil, nil, nil, invalid("bad data key")
	}
	if _, err := envelope.ParseBody(body); err != nil {
		return nil, nil, nil, invalid("bad body")
	}
	return blob, bl, body, nil
}

// Open opens a frame sealed by Seal, as the SNS service for the topic's
// account (owner) and region. The caller wipes the plaintext after use.
func (s *Sealer) Open(ctx context.Context, owner, region string, frame []byte, aad envelope.BodyAAD) ([]byte, error) {
	blob, bl, body, err := parseFrame(frame)
	if err != nil {
		return nil, err
	}
	if a, perr := arn.Parse(aad.TopicARN); perr != nil || owner == "" || region == "" || a.Account != owner {
		return nil, &kms.Error{Kind: kms.ErrAccessDenied, Msg: "sse: SNS opens bodies only for topics of the account it acts for"}
	}
	c := kms.Caller{Service: ServicePrincipal, Account: owner, Region: region}
	return s.open(ctx, topicUse, c, true, aad.TopicARN, blob, bl, body, aad)
}

// OpenQueue opens a frame SealQueue made for the queue sealedFor, for the
// receiver c: with managed (SSE-SQS) as the SQS service, else by a Decrypt
// as c through SQS. The caller wipes the plaintext after use.
func (s *Sealer) OpenQueue(ctx context.Context, c kms.Caller, sealedFor string, managed bool, frame []byte, aad envelope.BodyAAD) ([]byte, error) {
	blob, bl, body, err := parseFrame(frame)
	if err != nil {
		return nil, err
	}
	q, err := queueOf(sealedFor)
	if err != nil {
		return nil, err
	}
	if managed {
		return s.open(ctx, queueUse, ownedCaller(q.Region, c.RequestID), true, sealedFor, blob, bl, body, aad)
	}
	c.Region = q.Region
	c.ViaService = queueUse.via(q.Region)
	return s.open(ctx, queueUse, c, false, sealedFor, blob, bl, body, aad)
}

// open is Open and OpenQueue: the data key of blob, decrypted by KMS as c
// (DecryptForService when forService) with resource's encryption context
// or from the cache, opens body.
func (s *Sealer) open(ctx context.Context, u use, c kms.Caller, forService bool, resource string, blob []byte, bl *envelope.Blob, body []byte, aad envelope.BodyAAD) ([]byte, error) {
	k := openKey{digest: sha256.Sum256(blob), resource: resource, who: principalOf(&c)}
	e, err := acquire(ctx, s, s.opening, k, strings.ToLower(bl.KeyID), s.opt.ReusePeriod, func(e *dataKey) error {
		in := kms.DecryptInput{CiphertextBlob: blob, Context: u.context(resource)}
		decrypt := s.kms.Decrypt
		if forService {
			decrypt = s.kms.DecryptForService
		}
		out, err := decrypt(ctx, c, in)
		s.called(resource, orElse(out.KeyARN, bl.KeyID), "Decrypt", err)
		defer envelope.Wipe(out.Plaintext)
		if err != nil {
			return err
		}
		return s.fill(ctx, e, blob, out.Plaintext, out.KeyARN)
	})
	if err != nil {
		return nil, err
	}
	pt, err := e.dk.OpenBody(body, aad)
	if err != nil {
		return nil, invalid("it does not open with its data key and metadata")
	}
	return pt, nil
}

// fill completes a new cache entry from a KMS answer: the data key (id =
// first 16 bytes of SHA-256 of its blob) and the CMK's current revision.
// The caller wipes key.
func (s *Sealer) fill(ctx context.Context, e *dataKey, blob, key []byte, keyARN string) error {
	sum := sha256.Sum256(blob)
	dk, err := envelope.NewDataKey(sum[:16], key)
	if err != nil {
		return &kms.Error{Kind: kms.ErrInternal, Msg: "sse: the data key from KMS is unusable"}
	}
	id := cmkID(keyARN)
	rev, err := s.kms.KeyRevision(ctx, id)
	if err != nil {
		// Disabled, deleted or re-policied while we asked: refuse, as a
		// call started now would.
		return err
	}
	e.dk, e.blob, e.cmkID, e.cmkARN, e.rev = dk, append([]byte(nil), blob...), id, keyARN, rev
	e.created = s.opt.Now()
	e.uses.Store(1)
	return nil
}

// acquire returns a usable data key of m[k], calling fetch (once, however
// many callers miss at the same time) when there is none. An entry is
// usable while it is younger than period, has been used fewer than
// MaxMessages times, and its CMK still has the revision it had (and is
// Enabled); otherwise it is dropped and replaced.
//
// hint is the CMK's key id when known before the KMS call ("" for an
// alias): Purge uses it for entries still being fetched.
func acquire[K comparable](ctx context.Context, s *Sealer, m map[K]*dataKey, k K, hint string, period time.Duration, fetch func(e *dataKey) error) (*dataKey, error) {
	for {
		s.mu.Lock()
		e := m[k]
		if e == nil {
			e = &dataKey{done: make(chan struct{}), hint: hint, period: period}
			s.sweepLocked()
			m[k] = e
			s.mu.Unlock()
			if err := fetch(e); err != nil {
				e.err = err
				s.mu.Lock()
				if m[k] == e {
					delete(m, k)
				}
				s.mu.Unlock()
				close(e.done)
				return nil, err
			}
			close(e.done)
			return e, nil
		}
		s.mu.Unlock()
		select {
		case <-e.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if e.err != nil {
			if ctx.Err() == nil && (errors.Is(e.err, context.Canceled) || errors.Is(e.err, context.DeadlineExceeded)) {
				continue // the other caller gave up; this one has not
			}
			return nil, e.err // the concurrent call's outcome, for the same caller
		}
		if s.fresh(ctx, e, period) && e.uses.Add(1) <= s.opt.MaxMessages {
			return e, nil
		}
		s.mu.Lock()
		if m[k] == e {
			delete(m, k)
		}
		s.mu.Unlock()
	}
}

// fresh reports whether a filled entry is within the reuse period and its
// CMK is unchanged.
func (s *Sealer) fresh(ctx context.Context, e *dataKey, period time.Duration) bool {
	if age := s.opt.Now().Sub(e.created); age >= period || age < -time.Minute {
		return false
	}
	rev, err := s.kms.KeyRevision(ctx, e.cmkID)
	return err == nil && rev == e.rev
}

// sweepLocked drops expired entries once per Options.ReusePeriod, and
// everything when a cache is over maxCached.
func (s *Sealer) sweepLocked() {
	now := s.opt.Now()
	full := len(s.sealing) >= maxCached || len(s.opening) >= maxCached
	if !full && now.Sub(s.lastSweep) < s.opt.ReusePeriod {
		return
	}
	s.lastSweep = now
	sweepMap(s.sealing, now, len(s.sealing) >= maxCached)
	sweepMap(s.opening, now, len(s.opening) >= maxCached)
}

func sweepMap[K comparable](m map[K]*dataKey, now time.Time, all bool) {
	for k, e := range m {
		select {
		case <-e.done:
			if all || now.Sub(e.created) >= e.period {
				delete(m, k)
			}
		default: // in flight
		}
	}
}

// Purge drops every cached data key of the CMK keyID (key id or ARN),
// also those still being fetched for it or for an alias (their callers
// use them once; they are not reused).
func (s *Sealer) Purge(keyID string) {
	id := cmkID(keyID)
	s.mu.Lock()
	defer s.mu.Unlock()
	purgeMap(s.sealing, id)
	purgeMap(s.opening, id)
}

func purgeMap[K comparable](m map[K]*dataKey, id string) {
	for k, e := range m {
		select {
		case <-e.done:
			if e.cmkID == id {
				delete(m, k)
			}
		default: // in flight
			if e.hint == "" || e.hint == id {
				delete(m, k)
			}
		}
	}
}

// keyHint is the key id named by a key id or key ARN, "" for an alias.
func keyHint(keyID string) string {
	if strings.HasPrefix(keyID, "alias/") || strings.Contains(keyID, ":alias/") {
		return ""
	}
	return cmkID(keyID)
}

// cmkID is the key id of a key id or key ARN, lower case.
func cmkID(keyID string) string {
	if i := strings.LastIndex(keyID, ":key/"); i >= 0 {
		keyID = keyID[i+len(":key/"):]
	}
	return strings.ToLower(keyID)
}

func (s *Sealer) called(resourceARN, keyARN, op string, err error) {
	if s.opt.OnKMSCall != nil {
		s.opt.OnKMSCall(resourceARN, keyARN, op, err)
	}
}

func orElse(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
