package main

import (
	"bytes"
	"context"
	"errors"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
)

const (
	phaseWarmup   = 'w'
	phaseMeasured = 'm'

	payloadMagic = "SB1"
	errorPause   = 10 * time.Millisecond
	padding      = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
)

// appendPayload appends a message body of the given size (or just the header
// when size is smaller than it):
//
//	SB1 <run id> <phase> <sequence> <send time, ns since bench.base> <padding>
func appendPayload(dst []byte, runID string, phase byte, seq uint64, sent time.Duration, size int) []byte {
	start := len(dst)
	dst = append(dst, payloadMagic...)
	dst = append(dst, ' ')
	dst = append(dst, runID...)
	dst = append(dst, ' ', phase, ' ')
	dst = strconv.AppendUint(dst, seq, 10)
	dst = append(dst, ' ')
	dst = strconv.AppendInt(dst, int64(sent), 10)
	dst = append(dst, ' ')
	for len(dst)-start < size {
		n := min(size-(len(dst)-start), len(padding))
		dst = append(dst, padding[:n]...)
	}
	return dst
}

// parsePayload extracts what appendPayload encoded; ok is false for bodies
// that are not sealbench payloads of this run.
func parsePayload(p []byte, runID string) (phase byte, seq uint64, sent time.Duration, ok bool) {
	f := bytes.SplitN(p, []byte{' '}, 6)
	if len(f) < 5 || string(f[0]) != payloadMagic || string(f[1]) != runID || len(f[2]) != 1 {
		return 0, 0, 0, false
	}
	phase = f[2][0]
	if phase != phaseWarmup && phase != phaseMeasured {
		return 0, 0, 0, false
	}
	seq, err := strconv.ParseUint(string(f[3]), 10, 64)
	if err != nil {
		return 0, 0, 0, false
	}
	ns, err := strconv.ParseInt(string(f[4]), 10, 64)
	if err != nil {
		return 0, 0, 0, false
	}
	return phase, seq, time.Duration(ns), true
}

// phaseResult is what the publishers of one phase did.
type phaseResult struct {
	start   time.Time
	elapsed time.Duration
	ok      int64
	errs    int64
	lat     []time.Duration // Publish latency of every successful call
	okSeqs  []uint64        // sequence numbers of successful publishes
	// By endpoint (index into options.endpoints): workers, successful
	// publishes, errors.
	epWorkers, epOK, epErrs []int64
}

type worker struct {
	ep     int // index of the endpoint (and SDK client) this worker publishes to
	buf    []byte
	lat    []time.Duration
	okSeqs []uint64
	errs   int64
}

// runPhase publishes until the duration elapses, n messages were published
// (n > 0), or the run is interrupted. With -rate the workers take their turns
// from a dispatcher that releases messages at the fixed rate. Worker i
// publishes to endpoint i modulo the number of endpoints.
func (b *bench) runPhase(phase byte, dur time.Duration, n int64) *phaseResult {
	o := b.o
	stop := make(chan struct{})
	var stopOnce sync.Once
	stopNow := func() { stopOnce.Do(func() { close(stop) }) }
	if n == 0 {
		t := time.AfterFunc(dur, stopNow)
		defer t.Stop()
	}
	go func() {
		select {
		case <-b.interrupted:
			stopNow()
		case <-stop:
		}
	}()
	defer stopNow()

	stopped := func() bool {
		select {
		case <-stop:
			return true
		default:
			return false
		}
	}

	workers := make([]*worker, o.concurrency)
	var wg sync.WaitGroup
	res := &phaseResult{start: time.Now()}

	if o.rate > 0 {
		tokens := make(chan uint64, o.concurrency)
		go b.dispatch(tokens, stop, res.start, n)
		for i := range workers {
			w := &worker{ep: i % len(b.pub)}
			workers[i] = w
			wg.Add(1)
			go func() {
				defer wg.Done()
				for seq := range tokens {
					if stopped() {
						return
					}
					b.publishOne(w, phase, seq)
				}
			}()
		}
	} else {
		var next atomic.Uint64
		for i := range workers {
			w := &worker{ep: i % len(b.pub)}
			workers[i] = w
			wg.Add(1)
			go func() {
				defer wg.Done()
				for !stopped() {
					seq := next.Add(1) - 1
					if n > 0 && seq >= uint64(n) {
						return
					}
					b.publishOne(w, phase, seq)
				}
			}()
		}
	}
	wg.Wait()
	res.elapsed = time.Since(res.start)

	res.epWorkers = make([]int64, len(b.pub))
	res.epOK = make([]int64, len(b.pub))
	res.epErrs = make([]int64, len(b.pub))
	for _, w := range workers {
		res.epWorkers[w.ep]++
		res.epOK[w.ep] += int64(len(w.lat))
		res.epErrs[w.ep] += w.errs
		res.ok += int64(len(w.lat))
		res.errs += w.errs
		res.lat = append(res.lat, w.lat...)
		res.okSeqs = append(res.okSeqs, w.okSeqs...)
	}
	sort.Slice(res.okSeqs, func(i, j int) bool { return res.okSeqs[i] < res.okSeqs[j] })
	return res
}

// dispatch releases sequence numbers at -rate per second until stop is closed
// or n were released. When every worker is busy it blocks, so the achieved
// rate falls short of the target instead of building an unbounded backlog.
func (b *bench) dispatch(tokens chan<- uint64, stop <-chan struct{}, start time.Time, n int64) {
	defer close(tokens)
	rate := b.o.rate
	var sent uint64
	for {
		due := uint64(time.Since(start).Seconds() * rate)
		for sent <= due {
			if n > 0 && sent >= uint64(n) {
				return
			}
			select {
			case tokens <- sent:
				sent++
			case <-stop:
				return
			}
		}
		next := start.Add(time.Duration(float64(sent) / rate * float64(time.Second)))
		select {
		case <-stop:
			return
		case <-time.After(time.Until(next)):
		}
	}
}

func (b *bench) publishOne(w *worker, phase byte, seq uint64) {
	t0 := time.Now()
	w.buf = appendPayload(w.buf[:0], b.runID, phase, seq, t0.Sub(b.base), b.o.size)
	msg := string(w.buf)
	ctx, cancel := context.WithTimeout(context.Background(), b.o.timeout)
	_, err := b.pub[w.ep].Publish(ctx, &sns.PublishInput{
		TopicArn: aws.String(b.topicArn),
		Message:  aws.String(msg),
	})
	lat := time.Since(t0)
	cancel()
	if err != nil {
		w.errs++
		b.errs.add(phase, err)
		// A failing endpoint often fails fast; pause briefly so the workers
		// do not spin.
		time.Sleep(errorPause)
		return
	}
	w.lat = append(w.lat, lat)
	w.okSeqs = append(w.okSeqs, seq)
}

// errorTracker counts measured-phase errors by code and keeps one example
// message per code.
type errorTracker struct {
	mu      sync.Mutex
	counts  map[string]int64
	samples map[string]string
	warmup  int64
	first   string // first warm-up error, for diagnostics
}

func newErrorTracker() *errorTracker {
	return &errorTracker{counts: map[string]int64{}, samples: map[string]string{}}
}

const maxErrorCodes = 20

func (t *errorTracker) add(phase byte, err error) {
	code := errorCode(err)
	t.mu.Lock()
	defer t.mu.Unlock()
	if phase == phaseWarmup {
		t.warmup++
		if t.first == "" {
			t.first = shortErr(err)
		}
		return
	}
	if _, ok := t.counts[code]; !ok && len(t.counts) >= maxErrorCodes {
		code = "other"
	}
	t.counts[code]++
	if _, ok := t.samples[code]; !ok {
		t.samples[code] = shortErr(err)
	}
}

// errorCode classifies an error: the API error code when the server sent
// one, else a coarse transport category.
func errorCode(err error) string {
	var api interface{ ErrorCode() string }
	if errors.As(err, &api) && api.ErrorCode() != "" {
		return api.ErrorCode()
	}
	var status interface{ HTTPStatusCode() int }
	if errors.As(err, &status) && status.HTTPStatusCode() != 0 {
		return "HTTP" + strconv.Itoa(status.HTTPStatusCode())
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "Timeout"
	case errors.Is(err, context.Canceled):
		return "Canceled"
	}
	msg := err.Error()
	for _, s := range []string{"connection refused", "connection reset", "EOF", "broken pipe", "timeout"} {
		if strings.Contains(msg, s) {
			return strings.ReplaceAll(s, " ", "_")
		}
	}
	return "other"
}

// shortErr renders an error on one line, truncated.
func shortErr(err error) string {
	s := strings.Join(strings.Fields(err.Error()), " ")
	if len(s) > 240 {
		s = s[:240] + "..."
	}
	return s
}
