// Package sns is the SNS domain: topics, subscriptions, attributes, publish
// and fan-out. It knows nothing of HTTP or wire formats (see snsapi) and
// persists through store.Store.
//
// Access: every action is decided for its Caller before it changes or reveals
// anything: topic actions by the topic's policy and the caller's identity
// policy (see access.go for the rules and the condition keys), subscription
// actions by the subscription's and the topic's owners, CreateTopic and the
// List actions by the identity policy. Refusals are ErrAuthorization whose
// message names the principal, the action and the resource as AWS's does.
// Topics are reached by ARN in any account; ListTopics and ListSubscriptions
// list the caller's account and region.
//
// Errors: every error a caller should show to a client is an *Error whose
// Kind is one of the Err* sentinels below (test with errors.Is); anything
// else is an internal failure.
//
// Concurrency: a Service is safe for concurrent use. Topic and subscription
// records are cached per topic for at most Options.CacheTTL; writes through
// this Service invalidate the cache at once, writes through another node
// (a topic deleted there, say) become visible within CacheTTL. The cache
// holds only topics used within about two CacheTTLs: expired entries are
// swept once per CacheTTL, and a load that finds the topic gone drops it.
//
// Durability: Publish and PublishBatch return only after the message and its
// deliveries are durable in the store.
//
// Server-side encryption: bodies of messages published to topics with a
// KmsMasterKeyId are sealed by Options.Sealer before anything is stored,
// and requests about such topics need TLS and a verified signature; see
// sse.go for the rules. This package uses only internal/kms's Caller type
// and error kinds (kms does not import sns).
package sns

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"time"

	"github.com/sealpost/sealpost/internal/arn"
	"github.com/sealpost/sealpost/internal/deliverypolicy"
	"github.com/sealpost/sealpost/internal/filterpolicy"
	"github.com/sealpost/sealpost/internal/policy"
	"github.com/sealpost/sealpost/internal/store"
)

// Error kinds. The API layer maps each to a wire code and HTTP status.
var (
	ErrInvalidParameter          = errors.New("InvalidParameter")
	ErrInvalidParameterValue     = errors.New("InvalidParameterValue")
	ErrNotFound                  = errors.New("NotFound")
	ErrResourceNotFound          = errors.New("ResourceNotFound")
	ErrAuthorization             = errors.New("AuthorizationError")
	ErrInvalidSecurity           = errors.New("InvalidSecurity")
	ErrTagLimitExceeded          = errors.New("TagLimitExceeded")
	ErrBatchEntryIdsNotDistinct  = errors.New("BatchEntryIdsNotDistinct")
	ErrBatchRequestTooLong       = errors.New("BatchRequestTooLong")
	ErrEmptyBatchRequest         = errors.New("EmptyBatchRequest")
	ErrInvalidBatchEntryID       = errors.New("InvalidBatchEntryId")
	ErrTooManyEntriesInBatch     = errors.New("TooManyEntriesInBatchRequest")
	ErrFilterPolicyLimitExceeded = errors.New("FilterPolicyLimitExceeded")
	ErrInternal                  = errors.New("InternalError")

	// KMS failures while sealing a message of an SSE topic (see sse.go for
	// which kms kind becomes which).
	ErrKMSAccessDenied  = errors.New("KMSAccessDenied")
	ErrKMSDisabled      = errors.New("KMSDisabled")
	ErrKMSInvalidState  = errors.New("KMSInvalidState")
	ErrKMSNotFound      = errors.New("KMSNotFound")
	ErrKMSOptInRequired = errors.New("KMSOptInRequired")
	ErrKMSThrottling    = errors.New("KMSThrottling")
)

// Error is a client-visible error.
type Error struct {
	Kind    error
	Message string
}

func (e *Error) Error() string { return e.Message }
func (e *Error) Unwrap() error { return e.Kind }

func errf(kind error, format string, args ...any) error {
	return &Error{Kind: kind, Message: fmt.Sprintf(format, args...)}
}

func invalid(format string, args ...any) error {
	return errf(ErrInvalidParameter, "Invalid parameter: "+format, args...)
}

// Caller is who makes a request and how.
type Caller struct {
	Account   string
	Region    string
	Principal string // ARN
	Signed    bool   // the request carried a SigV4 signature that verified
	Secure    bool   // the request came over TLS (or a trusted proxy says so)

	// AccessKeyID, UserName and UserID describe the signing principal ("" for
	// the account root's UserName and for unsigned requests).
	AccessKeyID string
	UserName    string
	UserID      string
	// Authenticated is true when the signature was verified; with --auth=off
	// requests act as their (claimed or default) account and it is false.
	Authenticated bool
	// IdentityPolicy is the caller's compiled IAM identity policy; nil means
	// the principal may do everything in its own account.
	IdentityPolicy *policy.Policy
	// SourceIP is the client's address (the X-Forwarded-For client when the
	// peer is a trusted proxy).
	SourceIP netip.Addr

	// Service, when set, makes the caller an AWS service principal (such as
	// "sqs.amazonaws.com") acting for the resource SourceARN of account
	// SourceAccount: policies see Principal {"Service": ...} and the
	// condition keys aws:SourceArn and aws:SourceAccount. Account and
	// Principal are then ignored, and no identity policy applies. No API
	// request sets it; it is the hook for service-to-service calls.
	Service       string
	SourceARN     string
	SourceAccount string
}

// Options configure a Service.
type Options struct {
	// PublicURL is the base URL of this server as subscribers reach it.
	PublicURL string
	// CacheTTL bounds how long topic and subscription records are cached,
	// measured on Now.
	CacheTTL time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// ConfirmationTTL is how long a subscription token is valid (AWS: 2 days).
	ConfirmationTTL time.Duration
	// PendingTTL is how long an unconfirmed subscription lives (AWS: 3 days).
	PendingTTL time.Duration
	// CheckEndpoint, when set, judges an http/https endpoint at Subscribe
	// (e.g. its address against the subscriber allow/deny lists); an error
	// refuses the subscription with InvalidParameter and the error's text.
	CheckEndpoint func(ctx context.Context, endpoint string) error
	// Sealer seals the bodies of messages published to topics with a
	// KmsMasterKeyId (*sse.Sealer implements it). nil means server-side
	// encryption is unavailable: publishing to such a topic then fails with
	// KMSOptInRequired, and nothing is stored.
	Sealer Sealer
	// DedupKey keys the content-based deduplication ids of FIFO topics with
	// SSE (envelope.Keyring.DedupKey); see sse.go. Required with Sealer.
	DedupKey []byte
}

// Service implements the SNS domain.
type Service struct {
	st   store.Store
	opts Options

	mu    sync.Mutex
	cache map[string]*cacheEntry
	// swept is when expired cache entries were last removed.
	swept time.Time

	fifo fifoState
}

// cacheEntry is one topic's place in the cache. It exists while the topic is
// cached or a load of it is in flight, and no longer.
type cacheEntry struct {
	ts *topicState // nil while not cached
	// gen counts invalidations while the entry exists, so that a load that
	// raced with a write is not cached after that write invalidated it.
	gen    uint64
	loads  int // loads in flight
	writes int // writes in flight (writeBegin without writeEnd yet)
}

// New returns a Service over st.
func New(st store.Store, opts Options) *Service {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.CacheTTL == 0 {
		opts.CacheTTL = time.Second
	}
	if opts.ConfirmationTTL == 0 {
		opts.ConfirmationTTL = 48 * time.Hour
	}
	if opts.PendingTTL == 0 {
		opts.PendingTTL = 72 * time.Hour
	}
	return &Service{st: st, opts: opts, cache: map[string]*cacheEntry{}}
}

// Store returns the underlying store (for the delivery engine).
func (s *Service) Store() store.Store { return s.st }

// PublicURL is the base URL given to subscribers.
func (s *Service) PublicURL() string { return s.opts.PublicURL }

func (s *Service) now() time.Time { return s.opts.Now().UTC() }

// topicState is a cached topic with its subscriptions and compiled filters.
type topicState struct {
	topic store.Topic
	// policy is the topic's compiled Policy attribute (nil: none).
	policy   *policy.Policy
	subs     []subState
	loadedAt time.Time
}

type subState struct {
	sub    store.Subscription
	filter *filterpolicy.Policy
	policy deliverypolicy.Policy
}

func (s *Service) invalidate(topicARN string) {
	s.mu.Lock()
	if e := s.cache[topicARN]; e != nil {
		e.ts = nil
		e.gen++
		s.release(topicARN, e)
	}
	s.mu.Unlock()
}

// writeBegin marks a write of a topic's records as in flight: until
// writeEnd, topicState loads from the store and caches nothing. A write is
// visible in the store before the call that made it returns, so a reader
// (another request) may see it before an invalidate after the write could
// run; with the mark, nothing it does next is served the state from before
// the write.
func (s *Service) writeBegin(topicARN string) {
	s.mu.Lock()
	e := s.cache[topicARN]
	if e == nil {
		e = &cacheEntry{}
		s.cache[topicARN] = e
	}
	e.writes++
	e.ts = nil
	e.gen++
	s.mu.Unlock()
}

// writeEnd ends a write begun with writeBegin and invalidates the topic.
func (s *Service) writeEnd(topicARN string) {
	s.mu.Lock()
	if e := s.cache[topicARN]; e != nil {
		e.writes--
		e.ts = nil
		e.gen++
		s.release(topicARN, e)
	}
	s.mu.Unlock()
}

// release deletes an entry that holds nothing and protects no load or
// write. s.mu must be held.
func (s *Service) release(arn string, e *cacheEntry) {
	if e.ts == nil && e.loads == 0 && e.writes == 0 {
		delete(s.cache, arn)
	}
}

// sweep drops expired entries, at most once per CacheTTL. s.mu must be held.
func (s *Service) sweep(now time.Time) {
	if now.Sub(s.swept) < s.opts.CacheTTL {
		return
	}
	s.swept = now
	for arn, e := range s.cache {
		if e.ts != nil && now.Sub(e.ts.loadedAt) >= s.opts.CacheTTL {
			e.ts = nil
			s.release(arn, e)
		}
	}
}

// topicState returns the cached state of a topic, loading it if stale.
func (s *Service) topicState(ctx context.Context, arn string) (*topicState, error) {
	now := s.now()
	s.mu.Lock()
	s.sweep(now)
	e := s.cache[arn]
	if e != nil && e.ts != nil && now.Sub(e.ts.loadedAt) < s.opts.CacheTTL {
		ts := e.ts
		s.mu.Unlock()
		return ts, nil
	}
	if e == nil {
		e = &cacheEntry{}
		s.cache[arn] = e
	}
	e.loads++
	gen := e.gen
	s.mu.Unlock()

	ts, err := s.loadTopic(ctx, arn, now)

	s.mu.Lock()
	e.loads--
	switch {
	case err == nil && e.gen == gen && e.writes == 0:
		e.ts = ts
	case err != nil:
		// Gone (deleted through another node, say) or unreadable: forget it.
		e.ts = nil
	}
	s.release(arn, e)
	s.mu.Unlock()
	return ts, err
}

// loadTopic reads a topic and its subscriptions from the store.
func (s *Service) loadTopic(ctx context.Context, arn string, now time.Time) (*topicState, error) {
	t, err := s.st.GetTopic(ctx, arn)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errf(ErrNotFound, "Topic does not exist")
	}
	if err != nil {
		return nil, err
	}
	subs, err := s.st.TopicSubscriptions(ctx, arn)
	if err != nil {
		return nil, err
	}
	ts := &topicState{topic: t, policy: compileTopicPolicy(t.Attributes["Policy"]), loadedAt: now}
	tp := topicDeliveryPolicy(t)
	for _, sub := range subs {
		if sub.Pending && s.now().Sub(sub.CreatedAt) > s.opts.PendingTTL {
			// AWS deletes subscriptions left unconfirmed for three days.
			if err := s.st.DeleteSubscription(ctx, sub.ARN); err != nil && !errors.Is(err, store.ErrNotFound) {
				return nil, err
			}
			continue
		}
		ss := subState{sub: sub, policy: effectivePolicy(tp, sub)}
		if fp := sub.Attributes["FilterPolicy"]; fp != "" {
			scope, _ := filterpolicy.ParseScope(sub.Attributes["FilterPolicyScope"])
			ss.filter, _ = filterpolicy.Parse(fp, scope) // validated when set
		}
		ts.subs = append(ts.subs, ss)
	}
	return ts, nil
}

// accessTopic returns the cached state of a topic after checking that c may
// do action on it (see access.go); keys are extra condition keys (nil for
// none).
func (s *Service) accessTopic(ctx context.Context, c *Caller, action, topicARN string, keys map[string][]string) (*topicState, error) {
	ts, err := s.topicState(ctx, topicARN)
	if isNotFound(err) {
		// Authorization comes first, as in AWS: a missing topic has no
		// policy, so only a caller that could act on it in its own account
		// learns that it does not exist (no existence oracle for others).
		owner := ""
		if a, perr := arn.Parse(topicARN); perr == nil {
			owner = a.Account
		}
		if aerr := s.authorizeTopic(c, action, topicARN, owner, nil, keys); aerr != nil {
			return nil, aerr
		}
		return nil, err
	}
	if err != nil {
		return nil, err
	}
	if err := s.authorizeTopic(c, action, topicARN, ts.topic.Account, ts.policy, keys); err != nil {
		return nil, err
	}
	// After authorization, so that only who may act on the topic learns
	// that it has SSE.
	if err := requireSecure(c, &ts.topic); err != nil {
		return nil, err
	}
	return ts, nil
}

func isNotFound(err error) bool {
	var e *Error
	return errors.As(err, &e) && errors.Is(e.Kind, ErrNotFound)
}

func newUUID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var out [36]byte
	hex.Encode(out[0:8], b[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], b[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], b[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], b[8:10])
	out[23] = '-'
	hex.Encode(out[24:], b[10:])
	return string(out[:])
}

// NewRequestID returns a fresh request id.
func NewRequestID() string { return newUUID() }

func newToken() string {
	b := make([]byte, 64)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

func storeErr(err error, kind error, msg string) error {
	if errors.Is(err, store.ErrNotFound) {
		return errf(kind, "%s", msg)
	}
	return err
}

// topicDeliveryPolicy parses a topic's DeliveryPolicy attribute; nil when it
// has none (the value was validated when set).
func topicDeliveryPolicy(t store.Topic) *deliverypolicy.TopicPolicy {
	dp := t.Attributes["DeliveryPolicy"]
	if dp == "" {
		return nil
	}
	p, err := deliverypolicy.ParseTopic(dp)
	if err != nil {
		return nil
	}
	return &p
}

func effectivePolicy(tp *deliverypolicy.TopicPolicy, sub store.Subscription) deliverypolicy.Policy {
	var sp *deliverypolicy.SubscriptionPolicy
	if dp := sub.Attributes["DeliveryPolicy"]; dp != "" {
		if p, err := deliverypolicy.ParseSubscription(dp); err == nil {
			sp = &p
		}
	}
	return deliverypolicy.Effective(tp, sp)
}

// Target is what the delivery engine needs to deliver to one subscription.
type Target struct {
	Topic        store.Topic
	Subscription store.Subscription
	// Policy is the effective HTTP/S delivery policy.
	Policy deliverypolicy.Policy
}

// Target returns a subscription of a topic from the cache, reloading once
// when the cache does not know it. A deleted topic or subscription yields an
// error wrapping store.ErrNotFound.
func (s *Service) Target(ctx context.Context, topicARN, subARN string) (Target, error) {
	for attempt := 0; attempt < 2; attempt++ {
		ts, err := s.topicState(ctx, topicARN)
		if err != nil {
			var e *Error
			if errors.As(err, &e) && errors.Is(e.Kind, ErrNotFound) {
				return Target{}, fmt.Errorf("topic %s: %w", topicARN, store.ErrNotFound)
			}
			return Target{}, err
		}
		for _, ss := range ts.subs {
			if ss.sub.ARN == subARN {
				return Target{Topic: ts.topic, Subscription: ss.sub, Policy: ss.policy}, nil
			}
		}
		s.invalidate(topicARN)
	}
	return Target{}, fmt.Errorf("subscription %s: %w", subARN, store.ErrNotFound)
}
