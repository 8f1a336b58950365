package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
)

// sink is the HTTP endpoint the http subscriptions deliver to. Subscription i
// delivers to /s/i. It confirms subscriptions and records every notification
// that carries a sealbench payload of this run.
type sink struct {
	b    *bench
	addr string
	srv  *http.Server
	done chan struct{}

	// fresh holds the connections that have not sent a request yet.
	// http.Server.Shutdown waits up to 5s for those (a client's HTTP
	// transport often dials a spare connection it then never uses), so
	// close closes them itself.
	connMu sync.Mutex
	fresh  map[net.Conn]struct{}

	mu sync.Mutex
	// Measured phase: first receipt of every (subscription, sequence) pair.
	seen      map[deliveryKey]struct{}
	unique    int64
	dups      int64
	latencies []time.Duration // receipt - send time, first receipts only
	firstRecv time.Time
	lastRecv  time.Time
	// Measured-phase notifications by body format.
	envelopeBodies int64
	rawBodies      int64
	// Everything else.
	// Slow subscriptions (-slow-subs): messages whose first arrival was
	// answered 500, and how many answers were failed or delayed.
	failed      map[failKey]struct{}
	failAnswers int64
	slowAnswers int64
	warmup      int64 // warm-up notifications (incl. duplicates)
	foreign     int64 // notifications without a payload of this run
	confirmReqs int   // SubscriptionConfirmation requests received
	confirmedBy map[int]string
}

type deliveryKey struct {
	sub int
	seq uint64
}

// failKey names one message at one subscription across both phases (the
// warm-up and the measured phase number their messages from 0 each).
type failKey struct {
	deliveryKey
	phase byte
}

// envelope is the JSON document SNS posts to http endpoints (unless raw
// delivery is on for notifications).
type envelope struct {
	Type         string `json:"Type"`
	Message      string `json:"Message"`
	Token        string `json:"Token"`
	TopicArn     string `json:"TopicArn"`
	SubscribeURL string `json:"SubscribeURL"`
}

func startSink(b *bench, listen string) (*sink, error) {
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return nil, err
	}
	s := &sink{
		b:           b,
		addr:        ln.Addr().String(),
		done:        make(chan struct{}),
		seen:        make(map[deliveryKey]struct{}),
		confirmedBy: make(map[int]string),
		failed:      make(map[failKey]struct{}),
		fresh:       make(map[net.Conn]struct{}),
	}
	s.srv = &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		ConnState: func(c net.Conn, state http.ConnState) {
			s.connMu.Lock()
			defer s.connMu.Unlock()
			if state == http.StateNew {
				s.fresh[c] = struct{}{}
			} else {
				delete(s.fresh, c)
			}
		},
	}
	go func() {
		defer close(s.done)
		if err := s.srv.Serve(ln); err != nil && err != http.ErrServerClosed {
			logf("sink: %v", err)
		}
	}()
	return s, nil
}

// close stops the sink: requests in progress may finish (up to 2s); idle
// connections and connections that never sent a request are closed at once.
func (s *sink) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	go func() {
		// Shutdown has stopped accepting by the time this runs, or does so
		// a moment later; a connection accepted in between is at worst
		// left to the 2s timeout.
		time.Sleep(10 * time.Millisecond)
		s.connMu.Lock()
		for c := range s.fresh {
			c.Close()
		}
		s.connMu.Unlock()
	}()
	if err := s.srv.Shutdown(ctx); err != nil {
		s.srv.Close()
	}
	<-s.done
}

func (s *sink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "sealbench sink: POST only", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 4<<20))
	recv := time.Now()
	if err != nil {
		http.Error(w, "read error", http.StatusBadRequest)
		return
	}
	sub := -1
	if rest, ok := strings.CutPrefix(r.URL.Path, "/s/"); ok {
		if i, err := strconv.Atoi(rest); err == nil {
			sub = i
		}
	}

	payload, wrapped := body, false
	if t := bytes.TrimLeft(body, " \t\r\n"); len(t) > 0 && t[0] == '{' {
		var env envelope
		if err := json.Unmarshal(t, &env); err == nil && env.Type != "" {
			switch env.Type {
			case "SubscriptionConfirmation":
				s.confirm(sub, env)
				w.WriteHeader(http.StatusOK)
				return
			case "Notification":
				payload, wrapped = []byte(env.Message), true
			default: // UnsubscribeConfirmation and anything else
				w.WriteHeader(http.StatusOK)
				return
			}
		}
	}
	fail, delay := s.slowAnswer(sub, payload)
	if fail {
		http.Error(w, "sealbench sink: failing this first arrival on purpose (-fail-every)", http.StatusInternalServerError)
		return
	}
	s.record(sub, payload, wrapped, recv)
	if delay > 0 {
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
		}
	}
	w.WriteHeader(http.StatusOK)
}

// slowAnswer decides how a slow subscription (one of the last -slow-subs)
// answers a notification: with a 500 (fail) to the first arrival of every
// -fail-every'th message, after delay for every -slow-every'th message. Other
// subscriptions and foreign payloads get neither.
func (s *sink) slowAnswer(sub int, payload []byte) (fail bool, delay time.Duration) {
	o := s.b.o
	if o.slowSubs == 0 || sub < o.subs-o.slowSubs || sub >= o.subs {
		return false, 0
	}
	phase, seq, _, ok := parsePayload(payload, s.b.runID)
	if !ok {
		return false, 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if o.failEvery > 0 && (seq+1)%uint64(o.failEvery) == 0 {
		k := failKey{deliveryKey{sub: sub, seq: seq}, phase}
		if _, done := s.failed[k]; !done {
			s.failed[k] = struct{}{}
			s.failAnswers++
			return true, 0
		}
	}
	if o.slowDelay > 0 && seq%uint64(o.slowEvery) == 0 {
		s.slowAnswers++
		return false, o.slowDelay
	}
	return false, 0
}

// record accounts for one notification; wrapped tells whether it came in an
// SNS JSON envelope rather than as a raw body.
func (s *sink) record(sub int, payload []byte, wrapped bool, recv time.Time) {
	phase, seq, sent, ok := parsePayload(payload, s.b.runID)
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case !ok:
		s.foreign++
	case phase == phaseWarmup:
		s.warmup++
	default:
		if wrapped {
			s.envelopeBodies++
		} else {
			s.rawBodies++
		}
		k := deliveryKey{sub: sub, seq: seq}
		if _, dup := s.seen[k]; dup {
			s.dups++
			return
		}
		s.seen[k] = struct{}{}
		s.unique++
		s.latencies = append(s.latencies, recv.Sub(s.b.base)-sent)
		if s.firstRecv.IsZero() {
			s.firstRecv = recv
		}
		if recv.After(s.lastRecv) {
			s.lastRecv = recv
		}
	}
}

// confirm confirms a subscription in the background: GET SubscribeURL, and if
// that fails, ConfirmSubscription with the token.
func (s *sink) confirm(sub int, env envelope) {
	s.mu.Lock()
	s.confirmReqs++
	s.mu.Unlock()
	go func() {
		method := ""
		var getErr, apiErr error
		if env.SubscribeURL != "" {
			getErr = s.getURL(env.SubscribeURL)
			if getErr == nil {
				method = "SubscribeURL"
			}
		}
		if method == "" && env.Token != "" {
			topic := env.TopicArn
			if topic == "" {
				topic = s.b.topicArn
			}
			apiErr = s.b.call(context.Background(), func(ctx context.Context) error {
				_, err := s.b.sns.ConfirmSubscription(ctx, &sns.ConfirmSubscriptionInput{
					TopicArn: aws.String(topic),
					Token:    aws.String(env.Token),
				})
				return err
			})
			if apiErr == nil {
				method = "ConfirmSubscription"
			}
		}
		if method == "" {
			logf("sink: could not confirm subscription %d (SubscribeURL: %v; ConfirmSubscription: %v)", sub, getErr, apiErr)
			return
		}
		if getErr != nil {
			logf("sink: GET SubscribeURL failed (%v); confirmed subscription %d with ConfirmSubscription", getErr, sub)
		}
		s.mu.Lock()
		s.confirmedBy[sub] = method
		s.mu.Unlock()
	}()
}

func (s *sink) getURL(url string) error {
	ctx, cancel := context.WithTimeout(context.Background(), s.b.o.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := s.b.httpClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode/100 != 2 {
		return &statusError{code: resp.StatusCode}
	}
	return nil
}

type statusError struct{ code int }

func (e *statusError) Error() string { return "HTTP status " + strconv.Itoa(e.code) }

func (s *sink) confirmed(sub int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.confirmedBy[sub]
	return ok
}

// confirmations reports how many SubscriptionConfirmation requests arrived.
func (s *sink) confirmations() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.confirmReqs
}

func (s *sink) uniqueCount() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.unique
}

func (s *sink) warmupCount() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.warmup
}

// missing counts the (subscription, sequence) pairs of the given successful
// publishes that have not been received yet.
func (s *sink) missing(subs int, okSeqs []uint64) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	var n int64
	for _, seq := range okSeqs {
		for sub := 0; sub < subs; sub++ {
			if _, ok := s.seen[deliveryKey{sub: sub, seq: seq}]; !ok {
				n++
			}
		}
	}
	return n
}

// lostSample names up to max (subscription, sequence) pairs of the given
// successful publishes that have not been received, as "sub/seq".
func (s *sink) lostSample(subs int, okSeqs []uint64, max int) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, seq := range okSeqs {
		for sub := 0; sub < subs && len(out) < max; sub++ {
			if _, ok := s.seen[deliveryKey{sub: sub, seq: seq}]; !ok {
				out = append(out, strconv.Itoa(sub)+"/"+strconv.FormatUint(seq, 10))
			}
		}
	}
	return out
}

// sinkSnapshot is a consistent copy of the sink's counters.
type sinkSnapshot struct {
	unique, dups, warmup, foreign int64
	envelopeBodies, rawBodies     int64
	failAnswers, slowAnswers      int64
	latencies                     []time.Duration
	firstRecv, lastRecv           time.Time
}

func (s *sink) snapshot() sinkSnapshot {
	s.mu.Lock()
	defer s.mu.Unlock()
	return sinkSnapshot{
		unique:         s.unique,
		dups:           s.dups,
		warmup:         s.warmup,
		foreign:        s.foreign,
		envelopeBodies: s.envelopeBodies,
		rawBodies:      s.rawBodies,
		failAnswers:    s.failAnswers,
		slowAnswers:    s.slowAnswers,
		latencies:      append([]time.Duration(nil), s.latencies...),
		firstRecv:      s.firstRecv,
		lastRecv:       s.lastRecv,
	}
}
