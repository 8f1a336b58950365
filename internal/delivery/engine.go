package delivery

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/sealpost/sealpost/internal/deliverypolicy"
	"github.com/sealpost/sealpost/internal/envelope"
	"github.com/sealpost/sealpost/internal/netguard"
	"github.com/sealpost/sealpost/internal/sns"
	"github.com/sealpost/sealpost/internal/snssig"
	"github.com/sealpost/sealpost/internal/store"
)

// Options configure an Engine.
type Options struct {
	// Owner names this node in leases; "" = random.
	Owner string
	// Workers bounds concurrent deliveries (default 64).
	Workers int
	// LeaseFor is how long a leased delivery stays with this node (default
	// 60 s). It should exceed AttemptTimeout: a lease that expires during an
	// attempt lets another node send the same delivery at the same time
	// (config refuses such settings; on this node the engine never runs a
	// delivery twice at once).
	LeaseFor time.Duration
	// AttemptTimeout bounds one HTTP attempt (AWS: 15 s).
	AttemptTimeout time.Duration
	// PollInterval is how often the store is polled without a wake-up (default 100 ms).
	PollInterval time.Duration
	// Now is the clock (nil = time.Now).
	Now func() time.Time
	// HTTPClient sends HTTP/S deliveries; nil = NewHTTPClient with the
	// system roots and Guard.
	HTTPClient *http.Client
	// Guard judges subscriber addresses for the default HTTPClient; nil =
	// netguard.Default(). Ignored when HTTPClient is set.
	Guard *netguard.Guard
	// PruneInterval is how often Run forgets counters and throttle state of
	// deleted subscriptions (default 1 minute).
	PruneInterval time.Duration
	// Queues delivers to sqs subscriptions and to SQS dead-letter queues
	// (RedrivePolicy deadLetterTargetArn), as the SNS service; nil = sqs
	// deliveries are parked (see the package doc) and given-up deliveries
	// go to DeadLetter.
	Queues QueueSender
	// DeadLetter receives given-up deliveries of subscriptions with a
	// RedrivePolicy when Queues is nil (the stored, possibly sealed body);
	// nil too = they are dropped (logged and counted).
	DeadLetter DeadLetterFunc
	// Opener opens the bodies of messages sealed for SSE topics
	// (sns.Meta.Sealed) just before they are sent; nil = such deliveries
	// fail every attempt (nothing is sent) and are given up per their
	// retry policy.
	Opener Opener
}

// DeadLetterFunc sends a given-up delivery to the dead-letter target.
type DeadLetterFunc func(ctx context.Context, targetARN string, d Delivered) error

// Delivered is what a dead-letter target receives. The body is the stored
// one: for a message of an SSE topic (Sealed) it is the sealed frame, never
// the plaintext, with the clear metadata needed to open it later
// (sns.DecodeMeta(Meta).BodyAAD(TopicARN, MessageID, CreatedAt)).
type Delivered struct {
	MessageID string
	TopicARN  string
	Body      []byte
	ErrorCode string
	// Sealed says Body is an sse frame under the CMK KeyARN.
	Sealed    bool
	KeyARN    string
	Meta      []byte
	CreatedAt time.Time
}

// Counters are per-subscription delivery counts since start.
type Counters struct {
	Delivered int64
	Failed    int64 // failed attempts
	Retried   int64 // attempts rescheduled
	// DeadLettered counts deliveries given up: dropped without a
	// dead-letter queue, or once they landed in it.
	DeadLettered int64
	// Throttled counts deliveries that had to wait for a slot under
	// maxReceivesPerSecond (once per wait, not per re-lease).
	Throttled int64
	// Expired counts deliveries dropped parkedMaxAge after publication:
	// parked sqs deliveries (no Options.Queues) and given-up deliveries
	// whose dead-letter queue never took them.
	Expired int64
}

func (c *Counters) add(o Counters) {
	c.Delivered += o.Delivered
	c.Failed += o.Failed
	c.Retried += o.Retried
	c.DeadLettered += o.DeadLettered
	c.Throttled += o.Throttled
	c.Expired += o.Expired
}

// dkey names one delivery.
type dkey struct{ sub, msg string }

// Engine delivers messages.
type Engine struct {
	st     store.Store
	svc    *sns.Service
	signer *snssig.Signer
	log    *slog.Logger
	opts   Options

	mu       sync.Mutex
	counters map[string]*Counters
	// retired sums the counters of forgotten (deleted) subscriptions, so
	// that Totals never goes backwards.
	retired Counters
	buckets map[string]*bucket
	// inflight holds the deliveries being processed on this node, each with
	// its newest lease: a delivery leased again while in flight (its lease
	// expired during the attempt) is not started a second time; the running
	// attempt acks or reschedules it under the newest lease.
	inflight map[dkey]store.Lease

	sigs sigCache

	// queueFails counts failed queue sends by error code; queueLogged
	// holds, per subscription, the code of its last logged queue failure.
	queueFails  map[string]int64
	queueLogged map[string]string

	// acks, while Run runs over a store.BatchAcker, feeds the batching acker.
	acks chan store.Lease

	// onWipe, when set (tests), sees every buffer the engine wiped, right
	// after the wipe.
	onWipe func([]byte)
}

func (e *Engine) wiped(b []byte) {
	if e.onWipe != nil {
		e.onWipe(b)
	}
}

// New returns an engine.
func New(st store.Store, svc *sns.Service, signer *snssig.Signer, log *slog.Logger, opts Options) *Engine {
	if opts.Owner == "" {
		b := make([]byte, 8)
		rand.Read(b)
		opts.Owner = "node-" + hex.EncodeToString(b)
	}
	if opts.Workers <= 0 {
		opts.Workers = 64
	}
	if opts.LeaseFor <= 0 {
		opts.LeaseFor = 60 * time.Second
	}
	if opts.AttemptTimeout <= 0 {
		opts.AttemptTimeout = 15 * time.Second
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = 100 * time.Millisecond
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = NewHTTPClient(ClientOptions{Guard: opts.Guard, MaxIdleConnsPerHost: opts.Workers})
	}
	if opts.PruneInterval <= 0 {
		opts.PruneInterval = time.Minute
	}
	return &Engine{st: st, svc: svc, signer: signer, log: log, opts: opts,
		counters: map[string]*Counters{}, buckets: map[string]*bucket{}, inflight: map[dkey]store.Lease{},
		sigs: sigCache{m: map[sigKey]*sigEntry{}}, queueFails: map[string]int64{}, queueLogged: map[string]string{}}
}

// Stats returns a copy of a subscription's counters.
func (e *Engine) Stats(subARN string) Counters {
	e.mu.Lock()
	defer e.mu.Unlock()
	if c := e.counters[subARN]; c != nil {
		return *c
	}
	return Counters{}
}

// AllStats returns a copy of every subscription's counters.
func (e *Engine) AllStats() map[string]Counters {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make(map[string]Counters, len(e.counters))
	for k, v := range e.counters {
		out[k] = *v
	}
	return out
}

// Totals returns the counters summed over all subscriptions since start,
// including deleted ones.
func (e *Engine) Totals() Counters {
	e.mu.Lock()
	defer e.mu.Unlock()
	t := e.retired
	for _, c := range e.counters {
		t.add(*c)
	}
	return t
}

func (e *Engine) count(sub string, f func(*Counters)) {
	e.mu.Lock()
	c := e.counters[sub]
	if c == nil {
		c = &Counters{}
		e.counters[sub] = c
	}
	f(c)
	e.mu.Unlock()
}

// Run delivers until ctx is cancelled; in-flight deliveries finish (bounded
// by AttemptTimeout) before it returns.
func (e *Engine) Run(ctx context.Context) error {
	var wake <-chan struct{}
	if w, ok := e.st.(store.Waker); ok {
		wake = w.DeliveriesReady()
	}
	slots := make(chan struct{}, e.opts.Workers)
	freed := make(chan struct{}, 1)
	var wg sync.WaitGroup
	if ba, ok := e.st.(store.BatchAcker); ok {
		e.acks = make(chan store.Lease, 4*e.opts.Workers)
		ackerDone := make(chan struct{})
		go func() {
			defer close(ackerDone)
			e.batchAcks(ba)
		}()
		defer func() {
			wg.Wait() // no more acks after this
			close(e.acks)
			<-ackerDone
			e.acks = nil
		}()
	} else {
		defer wg.Wait()
	}
	ticker := time.NewTicker(e.opts.PollInterval)
	defer ticker.Stop()
	pruner := time.NewTicker(e.opts.PruneInterval)
	defer pruner.Stop()
	for {
		free := e.opts.Workers - len(slots)
		if free > 0 {
			leases, err := e.st.LeaseDeliveries(ctx, e.opts.Owner, e.opts.Now(), e.opts.LeaseFor, free)
			if err != nil && ctx.Err() == nil {
				e.log.Warn("lease deliveries", "err", err)
			}
			for _, l := range leases {
				if !e.begin(l) {
					continue // already being delivered here
				}
				slots <- struct{}{}
				wg.Add(1)
				go func(l store.Lease) {
					defer wg.Done()
					// Deliveries use their own context so shutdown lets them finish.
					e.process(context.WithoutCancel(ctx), l)
					e.end(l)
					<-slots
					select {
					case freed <- struct{}{}:
					default:
					}
				}(l)
			}
			if len(leases) == free {
				continue // there may be more due right now
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-wake:
		case <-ticker.C:
		case <-freed:
		case <-pruner.C:
			e.Prune(ctx)
		}
	}
}

// begin marks l in flight; false if it already is (l is then recorded as
// the newest lease of the running attempt).
func (e *Engine) begin(l store.Lease) bool {
	k := dkey{l.SubscriptionARN, l.MessageID}
	e.mu.Lock()
	defer e.mu.Unlock()
	_, busy := e.inflight[k]
	e.inflight[k] = l
	return !busy
}

func (e *Engine) end(l store.Lease) {
	e.mu.Lock()
	delete(e.inflight, dkey{l.SubscriptionARN, l.MessageID})
	e.mu.Unlock()
}

// latest returns the newest lease of an in-flight delivery (l itself when
// it was not leased again).
func (e *Engine) latest(l store.Lease) store.Lease {
	e.mu.Lock()
	defer e.mu.Unlock()
	if n, ok := e.inflight[dkey{l.SubscriptionARN, l.MessageID}]; ok {
		return n
	}
	return l
}

// Prune forgets the counters and throttle state of subscriptions that no
// longer exist (their counts move into Totals), reservations nobody
// claimed, and idle throttle buckets. Run calls it every PruneInterval. It
// returns how many subscriptions it forgot.
func (e *Engine) Prune(ctx context.Context) int {
	now := e.opts.Now()
	e.mu.Lock()
	subs := make([]string, 0, len(e.counters)+len(e.buckets))
	for s := range e.counters {
		subs = append(subs, s)
	}
	for s := range e.buckets {
		if e.counters[s] == nil {
			subs = append(subs, s)
		}
	}
	e.mu.Unlock()
	n := 0
	for _, s := range subs {
		if ctx.Err() != nil {
			return n
		}
		if _, err := e.st.GetSubscription(ctx, s); errors.Is(err, store.ErrNotFound) {
			e.forget(s)
			n++
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for s, b := range e.buckets {
		for m, at := range b.res {
			if now.Sub(at) > e.opts.LeaseFor+time.Minute {
				delete(b.res, m) // its delivery went elsewhere
			}
		}
		if len(b.res) == 0 && !b.next.After(now) {
			delete(e.buckets, s) // idle: a fresh bucket behaves the same
		}
	}
	return n
}

// forget drops a deleted subscription's counters and throttle state.
func (e *Engine) forget(sub string) {
	e.mu.Lock()
	if c := e.counters[sub]; c != nil {
		e.retired.add(*c)
		delete(e.counters, sub)
	}
	delete(e.buckets, sub)
	delete(e.queueLogged, sub)
	delete(e.queueLogged, sub+deadLetterKey)
	e.mu.Unlock()
}

// Tick leases every delivery due now and processes them synchronously. It
// returns how many it processed. Tests use it with an injected clock; it
// must not run at the same time as Run.
func (e *Engine) Tick(ctx context.Context) (int, error) {
	n := 0
	for {
		leases, err := e.st.LeaseDeliveries(ctx, e.opts.Owner, e.opts.Now(), e.opts.LeaseFor, e.opts.Workers)
		if err != nil {
			return n, err
		}
		if len(leases) == 0 {
			return n, nil
		}
		var wg sync.WaitGroup
		for _, l := range leases {
			if !e.begin(l) {
				continue
			}
			wg.Add(1)
			go func(l store.Lease) { defer wg.Done(); e.process(ctx, l); e.end(l) }(l)
		}
		wg.Wait()
		n += len(leases)
	}
}

// outcome of one attempt.
type outcome int

const (
	delivered outcome = iota
	retryable
	permanent
)

// An sqs delivery on an engine without Options.Queues is parked:
// rescheduled every parkFor (one lease and one store write per hour per
// parked delivery) and dropped parkedMaxAge after its message was
// published, AWS SQS's longest retention: such a message could not be in
// any queue any more. The same age bounds the retries of a dead-letter
// send.
const (
	parkFor      = time.Hour
	parkedMaxAge = 14 * 24 * time.Hour
)

// awsManagedRetry is AWS's fixed policy for AWS-managed endpoints (SQS):
// 3 immediate, 2 at 1 s, 10 exponential 1→20 s, 100,000 at 20 s.
var awsManagedRetry = deliverypolicy.Retry{MinDelayTarget: 1, MaxDelayTarget: 20, NumRetries: 100015,
	NumNoDelayRetries: 3, NumMinDelayRetries: 2, NumMaxDelayRetries: 100000, BackoffFunction: "exponential"}

func (e *Engine) process(ctx context.Context, l store.Lease) {
	meta, err := sns.DecodeMeta(l.Message.Meta)
	if err != nil {
		e.log.Error("undecodable message metadata; dropping delivery", "message_id", l.MessageID, "err", err)
		e.ack(ctx, l)
		return
	}
	var sub store.Subscription
	var topic store.Topic
	var policy deliverypolicy.Policy
	tg, err := e.svc.Target(ctx, l.Message.TopicARN, l.SubscriptionARN)
	switch {
	case errors.Is(err, store.ErrNotFound):
		if meta.Type != sns.TypeUnsubscribeConfirmation || meta.Endpoint == "" {
			e.forget(l.SubscriptionARN) // the subscription is gone
			e.ack(ctx, l)               // unsubscribed: nothing to deliver
			return
		}
		sub = store.Subscription{ARN: l.SubscriptionARN, TopicARN: l.Message.TopicARN, Protocol: meta.Protocol, Endpoint: meta.Endpoint}
		policy = deliverypolicy.Default()
	case err != nil:
		e.retryLater(ctx, l, l.Attempts, e.opts.Now().Add(time.Second))
		return
	default:
		sub, topic, policy = tg.Subscription, tg.Topic, tg.Policy
	}
	if sub.Pending && meta.Type == sns.TypeNotification {
		e.ack(ctx, l)
		return
	}
	if l.Attempts >= deadLetterPhase {
		// Given up earlier; only its dead-letter send is left.
		e.giveUp(ctx, topic, sub, l, meta, codeOfNumber(l.Attempts-deadLetterPhase))
		return
	}
	if sub.Protocol != "http" && sub.Protocol != "https" {
		policy = deliverypolicy.Policy{Retry: awsManagedRetry}
	}
	now := e.opts.Now()
	// Counters and throttling concern notifications, not confirmations.
	notify := meta.Type == sns.TypeNotification
	count := func(f func(*Counters)) {
		if notify {
			e.count(sub.ARN, f)
		}
	}
	if !notify {
		policy.MaxReceivesPerSecond = 0
	}
	if slot, waits := e.throttle(sub.ARN, l.MessageID, policy.MaxReceivesPerSecond, now); slot.After(now) {
		if waits {
			e.count(sub.ARN, func(c *Counters) { c.Throttled++ })
		}
		// Same attempt count: waiting for a slot is not an attempt.
		e.retryLater(ctx, l, l.Attempts, slot)
		return
	}
	var res outcome
	var code string
	switch sub.Protocol {
	case "http", "https":
		// Open just before sending: the plaintext lives only for this
		// attempt and is wiped after it.
		body, owned, err := e.openBody(ctx, l, meta)
		if err != nil {
			res, code = retryable, openErrorCode(err)
			e.log.Warn("delivery held: message body could not be opened; nothing sent",
				"subscription", sub.ARN, "message_id", l.MessageID, "topic", l.Message.TopicARN,
				"key", meta.KeyARN, "error_code", code, "attempt", l.Attempts+1)
			break
		}
		res, code = e.sendHTTP(ctx, topic, sub, l, meta, policy, body, owned)
		if owned {
			envelope.Wipe(body)
			e.wiped(body)
		}
	case "sqs":
		if e.opts.Queues != nil {
			res, code = e.sendQueue(ctx, topic, sub, l, meta)
			break
		}
		// No queue transport configured: park the delivery (kept, not
		// counted as an attempt) and look again later, until it is too
		// old.
		expires := l.Message.CreatedAt.Add(parkedMaxAge)
		if !now.Before(expires) {
			e.count(sub.ARN, func(c *Counters) { c.Expired++ })
			e.log.Info("parked delivery expired", "message_id", l.MessageID)
			e.ack(ctx, l)
			return
		}
		next := now.Add(parkFor)
		if next.After(expires) {
			next = expires
		}
		e.retryLater(ctx, l, l.Attempts, next)
		return
	default:
		// Protocols Sealpost does not deliver to (sns refuses them at
		// Subscribe): nothing to send.
		e.log.Warn("no transport for protocol; delivery dropped", "subscription", sub.ARN, "protocol", sub.Protocol, "message_id", l.MessageID)
		e.ack(ctx, l)
		return
	}
	switch res {
	case delivered:
		count(func(c *Counters) { c.Delivered++ })
		e.ack(ctx, l)
	case retryable:
		attempts := l.Attempts + 1
		count(func(c *Counters) { c.Failed++ })
		if d, ok := policy.Retry.Delay(attempts); ok {
			count(func(c *Counters) { c.Retried++ })
			e.retryLater(ctx, l, attempts, e.opts.Now().Add(d))
			return
		}
		e.giveUp(ctx, topic, sub, l, meta, code)
	case permanent:
		count(func(c *Counters) { c.Failed++ })
		e.giveUp(ctx, topic, sub, l, meta, code)
	}
}

// batchAcks acks leases from e.acks in batches: whatever has queued up
// while the previous batch was written goes into the next one, so batching
// adds no waiting. It returns when e.acks is closed and drained.
func (e *Engine) batchAcks(ba store.BatchAcker) {
	const maxBatch = 256
	batch := make([]store.Lease, 0, maxBatch)
	for l := range e.acks {
		batch = append(batch[:0], l)
	more:
		for len(batch) < maxBatch {
			select {
			case l, ok := <-e.acks:
				if !ok {
					break more
				}
				batch = append(batch, l)
			default:
				break more
			}
		}
		if err := ba.AckAll(context.Background(), batch); err != nil {
			// The deliveries stay leased and are delivered again after
			// their leases expire: a duplicate, never a loss.
			e.log.Warn("ack deliveries", "count", len(batch), "err", err)
		}
	}
}

func (e *Engine) ack(ctx context.Context, l store.Lease) {
	l = e.latest(l)
	if e.acks != nil {
		e.acks <- l
		return
	}
	if err := e.st.Ack(ctx, l); err != nil {
		e.log.Warn("ack delivery", "subscription", l.SubscriptionARN, "message_id", l.MessageID, "err", err)
	}
}

func (e *Engine) retryLater(ctx context.Context, l store.Lease, attempts int, next time.Time) {
	l = e.latest(l)
	if err := e.st.Retry(ctx, l, attempts, next); err != nil && !errors.Is(err, store.ErrNotFound) {
		e.log.Warn("reschedule delivery", "subscription", l.SubscriptionARN, "message_id", l.MessageID, "err", err)
	}
}

// giveUp dead-letters (or drops) a delivery; notifications only (a
// confirmation that cannot be delivered is dropped). With Options.Queues
// and an SQS deadLetterTargetArn, the message goes to that queue as the
// subscription would have received it, opened for the send (the queue
// stores it per its own encryption), with AWS's RequestID, ErrorCode and
// ErrorMessage attributes; a send that fails is retried every
// deadLetterRetry (the endpoint is not tried again) until parkedMaxAge
// after publication, then dropped and counted as Expired. Without Queues,
// Options.DeadLetter gets the stored body (sealed, for SSE topics).
// DeadLettered counts a delivery once it landed, or when it is dropped
// without a dead-letter target.
func (e *Engine) giveUp(ctx context.Context, topic store.Topic, sub store.Subscription, l store.Lease, meta sns.Meta, code string) {
	notify := meta.Type == sns.TypeNotification
	target := deadLetterTarget(sub)
	switch {
	case !notify:
		e.log.Info("confirmation given up", "subscription", sub.ARN, "message_id", l.MessageID, "type", meta.Type, "reason", code)
	case target != "" && e.opts.Queues != nil && isQueueARN(target):
		if err := e.deadLetterToQueue(ctx, topic, sub, l, meta, target, code); err != nil {
			qe := asQueueError(err)
			fresh := e.noteQueueFailure(sub.ARN+deadLetterKey, qe.Code)
			if !e.opts.Now().Before(l.Message.CreatedAt.Add(parkedMaxAge)) {
				e.count(sub.ARN, func(c *Counters) { c.Expired++ })
				e.log.Warn("dead-letter queue never took the message; dropped", "subscription", sub.ARN, "message_id", l.MessageID,
					"dead_letter_target", target, "error_code", qe.Code, "reason", code)
				break
			}
			if fresh {
				e.log.Warn("dead-letter send failed; retried every 20 s (logged once per subscription and error code)",
					"subscription", sub.ARN, "message_id", l.MessageID, "dead_letter_target", target, "error_code", qe.Code,
					"reason", clipReason(qe.Message))
			}
			e.retryLater(ctx, l, deadLetterPhase+codeNumber(code), e.opts.Now().Add(deadLetterRetry))
			return
		}
		e.mu.Lock()
		delete(e.queueLogged, sub.ARN+deadLetterKey)
		e.mu.Unlock()
		e.count(sub.ARN, func(c *Counters) { c.DeadLettered++ })
		e.log.Info("delivery given up; sent to its dead-letter queue", "subscription", sub.ARN, "message_id", l.MessageID,
			"dead_letter_target", target, "reason", code)
	case target != "" && e.opts.DeadLetter != nil:
		d := Delivered{MessageID: l.MessageID, TopicARN: l.Message.TopicARN, Body: l.Message.Body, ErrorCode: code,
			Sealed: meta.Sealed, KeyARN: meta.KeyARN, Meta: l.Message.Meta, CreatedAt: l.Message.CreatedAt}
		if err := e.opts.DeadLetter(ctx, target, d); err != nil {
			e.log.Warn("dead-letter failed; will retry", "subscription", sub.ARN, "message_id", l.MessageID, "err", err)
			e.retryLater(ctx, l, deadLetterPhase+codeNumber(code), e.opts.Now().Add(deadLetterRetry))
			return
		}
		e.count(sub.ARN, func(c *Counters) { c.DeadLettered++ })
	case meta.Sealed:
		e.count(sub.ARN, func(c *Counters) { c.DeadLettered++ })
		e.log.Warn("delivery given up, still encrypted", "subscription", sub.ARN, "message_id", l.MessageID,
			"topic", l.Message.TopicARN, "key", meta.KeyARN, "reason", code, "dead_letter_target", target)
	default:
		e.count(sub.ARN, func(c *Counters) { c.DeadLettered++ })
		e.log.Info("delivery given up", "subscription", sub.ARN, "message_id", l.MessageID, "reason", code, "dead_letter_target", target)
	}
	e.ack(ctx, l)
}

// deadLetterRetry is how long a failed dead-letter send waits.
const deadLetterRetry = 20 * time.Second

// deadLetterKey suffixes a subscription ARN in queueLogged for its
// dead-letter queue.
const deadLetterKey = "\x00dlq"

// bucket spaces one subscription's sends under maxReceivesPerSecond. It
// hands out send slots in order, one per 1/rate: a delivery that finds no
// free slot now reserves the next free one and is rescheduled to exactly
// that time, so every waiting delivery is leased once more, when its slot is
// due, instead of the whole backlog being leased again at every slot.
type bucket struct {
	next time.Time            // first slot not handed out
	res  map[string]time.Time // message id → reserved slot
}

// maxReservations bounds the reserved slots of one subscription (memory per
// waiting delivery). Deliveries beyond it are rescheduled to the end of the
// reserved horizon without a slot and reserve one when they come back.
const maxReservations = 4096

// throttle returns when the delivery of msg to sub may be sent (now = at
// once) and whether it starts waiting now (for the throttled count).
func (e *Engine) throttle(sub, msg string, perSecond int, now time.Time) (time.Time, bool) {
	if perSecond <= 0 {
		return now, false
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	b := e.buckets[sub]
	if b == nil {
		b = &bucket{res: map[string]time.Time{}}
		e.buckets[sub] = b
	}
	if at, ok := b.res[msg]; ok {
		if at.After(now) {
			return at, false // back early (another node's lease expired, say)
		}
		delete(b.res, msg)
		return now, false
	}
	slot := b.next
	if slot.Before(now) {
		slot = now
	}
	if slot.After(now) && len(b.res) >= maxReservations {
		return slot, true
	}
	b.next = slot.Add(time.Second / time.Duration(perSecond))
	if slot.After(now) {
		b.res[msg] = slot
		return slot, true
	}
	return now, false
}

// deadLetterTarget returns the RedrivePolicy's deadLetterTargetArn, or "".
func deadLetterTarget(sub store.Subscription) string {
	rp := sub.Attributes["RedrivePolicy"]
	if rp == "" {
		return ""
	}
	var p struct {
		DeadLetterTargetArn string `json:"deadLetterTargetArn"`
	}
	if json.Unmarshal([]byte(rp), &p) != nil {
		return ""
	}
	return p.DeadLetterTargetArn
}
