package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"time"
)

// report holds every figure of a run; it is printed for humans and as one
// JSON line. Latencies are in milliseconds, rates per second.
type report struct {
	Mode        string   `json:"mode"`
	Endpoint    string   `json:"endpoint"` // -endpoint as given
	Endpoints   []string `json:"endpoints"`
	TopicArn    string   `json:"topic_arn"`
	KMSKey      string   `json:"kms_key,omitempty"`
	Subs        int      `json:"subs"`
	SubProtocol string   `json:"sub_protocol"`
	Raw         bool     `json:"raw"`
	Size        int      `json:"size"`
	Concurrency int      `json:"concurrency"`
	RateTarget  float64  `json:"rate_target"`
	Interrupted bool     `json:"interrupted"`

	WarmupPublished int64 `json:"warmup_published"`
	WarmupErrors    int64 `json:"warmup_errors"`

	ElapsedS      float64          `json:"elapsed_s"`
	Published     int64            `json:"published"`
	Errors        int64            `json:"errors"`
	ErrorCodes    map[string]int64 `json:"error_codes"`
	PublishPerSec float64          `json:"publish_per_sec"`
	PubLatP50Ms   float64          `json:"pub_lat_p50_ms"`
	PubLatP90Ms   float64          `json:"pub_lat_p90_ms"`
	PubLatP99Ms   float64          `json:"pub_lat_p99_ms"`
	PubLatMaxMs   float64          `json:"pub_lat_max_ms"`
	PubLatMeanMs  float64          `json:"pub_lat_mean_ms"`

	// Measured-phase publishing by endpoint, in -endpoint order.
	PerEndpoint []endpointReport `json:"per_endpoint"`

	// Publish mode with http subscriptions: deliveries the sink had received
	// when the last Publish returned.
	SinkDeliveries *int64 `json:"sink_deliveries,omitempty"`

	*e2eReport

	// CPU seconds (user+system) sealbench used from its start until the
	// figures were collected (after the e2e drain), the wall time of that
	// span, and CPUs busy on average over it.
	CPUS        float64 `json:"cpu_s"`
	RunWallS    float64 `json:"run_wall_s"`
	CPUsBusyAvg float64 `json:"cpus_busy_avg"`

	errSamples map[string]string
}

// endpointReport is the measured-phase publishing through one endpoint.
type endpointReport struct {
	Endpoint      string  `json:"endpoint"`
	Workers       int64   `json:"workers"`
	Published     int64   `json:"published"`
	Errors        int64   `json:"errors"`
	PublishPerSec float64 `json:"publish_per_sec"`
}

// e2eReport holds the delivery figures of -mode e2e. A delivery is one
// message arriving at one subscription.
type e2eReport struct {
	ExpectedDeliveries int64 `json:"expected_deliveries"`
	Delivered          int64 `json:"delivered"`
	Lost               int64 `json:"lost"`
	// LostSample names up to 10 lost deliveries as "subscription/sequence".
	LostSample     []string `json:"lost_sample,omitempty"`
	Duplicates     int64    `json:"duplicates"`
	Unexpected     int64    `json:"unexpected"`
	Foreign        int64    `json:"foreign"`
	EnvelopeBodies int64    `json:"envelope_bodies"`
	RawBodies      int64    `json:"raw_bodies"`
	// Answers of the slow subscriptions (-slow-subs): 500s to first
	// arrivals, and delayed answers.
	FailedAnswers int64   `json:"failed_answers,omitempty"`
	SlowAnswers   int64   `json:"slow_answers,omitempty"`
	DrainWaitS    float64 `json:"drain_wait_s"`
	// DrainDeliveries arrived after the last publish; DrainDeliveriesPerSec
	// is their rate (delivery alone, without publish load).
	DrainDeliveries       int64   `json:"drain_deliveries,omitempty"`
	DrainDeliveriesPerSec float64 `json:"drain_deliveries_per_sec,omitempty"`
	DeliveryWindowS       float64 `json:"delivery_window_s"`
	DeliveriesPerSec      float64 `json:"deliveries_per_sec"`
	DeliveredMsgsPerSec   float64 `json:"delivered_msgs_per_sec"`
	E2ELatP50Ms           float64 `json:"e2e_lat_p50_ms"`
	E2ELatP90Ms           float64 `json:"e2e_lat_p90_ms"`
	E2ELatP99Ms           float64 `json:"e2e_lat_p99_ms"`
	E2ELatMaxMs           float64 `json:"e2e_lat_max_ms"`
	E2ELatMeanMs          float64 `json:"e2e_lat_mean_ms"`
}

// measure runs the warm-up and the measured phase and collects the figures.
func (b *bench) measure() *report {
	o := b.o
	rep := &report{
		Mode:        o.mode,
		Endpoint:    o.endpoint,
		Endpoints:   o.endpoints,
		TopicArn:    b.topicArn,
		KMSKey:      o.kmsKey,
		Subs:        len(b.subs),
		SubProtocol: o.subProtocol,
		Raw:         o.raw,
		Size:        o.size,
		Concurrency: o.concurrency,
		RateTarget:  o.rate,
	}

	if o.warmup > 0 && !b.isInterrupted() {
		logf("warming up for %v", o.warmup)
		w := b.runPhase(phaseWarmup, o.warmup, 0)
		rep.WarmupPublished, rep.WarmupErrors = w.ok, w.errs
		logf("warm-up: %d published, %d errors (%.1f msgs/s)", w.ok, w.errs, perSec(w.ok, w.elapsed))
		if w.errs > 0 {
			b.errs.mu.Lock()
			logf("warm-up error example: %s", b.errs.first)
			b.errs.mu.Unlock()
		}
		// Let warm-up deliveries settle so they do not load the measured run.
		if o.mode == "e2e" && b.sink != nil {
			want := w.ok * int64(len(b.subs))
			deadline := time.Now().Add(min(o.drain, 10*time.Second))
			for b.sink.warmupCount() < want && time.Now().Before(deadline) && !b.isInterrupted() {
				time.Sleep(20 * time.Millisecond)
			}
		}
	}

	if o.n > 0 {
		logf("measuring: %d messages", o.n)
	} else {
		logf("measuring for %v", o.duration)
	}
	res := b.runPhase(phaseMeasured, o.duration, o.n)
	rep.ElapsedS = round3(res.elapsed.Seconds())
	rep.Published = res.ok
	rep.Errors = res.errs
	rep.PublishPerSec = round3(perSec(res.ok, res.elapsed))
	sortDurations(res.lat)
	rep.PubLatP50Ms = ms(percentile(res.lat, 0.50))
	rep.PubLatP90Ms = ms(percentile(res.lat, 0.90))
	rep.PubLatP99Ms = ms(percentile(res.lat, 0.99))
	rep.PubLatMaxMs = ms(percentile(res.lat, 1))
	rep.PubLatMeanMs = ms(mean(res.lat))
	for i, ep := range o.endpoints {
		rep.PerEndpoint = append(rep.PerEndpoint, endpointReport{
			Endpoint:      ep,
			Workers:       res.epWorkers[i],
			Published:     res.epOK[i],
			Errors:        res.epErrs[i],
			PublishPerSec: round3(perSec(res.epOK[i], res.elapsed)),
		})
	}

	if b.sink != nil && o.mode == "publish" {
		n := b.sink.uniqueCount()
		rep.SinkDeliveries = &n
	}
	if o.mode == "e2e" {
		rep.e2eReport = b.collectE2E(res)
	}
	rep.Interrupted = b.isInterrupted()
	wall := time.Since(b.base)
	rep.CPUS = round3(processCPU())
	rep.RunWallS = round3(wall.Seconds())
	if wall > 0 {
		rep.CPUsBusyAvg = round3(rep.CPUS / wall.Seconds())
	}

	b.errs.mu.Lock()
	rep.ErrorCodes = make(map[string]int64, len(b.errs.counts))
	rep.errSamples = make(map[string]string, len(b.errs.samples))
	for k, v := range b.errs.counts {
		rep.ErrorCodes[k] = v
	}
	for k, v := range b.errs.samples {
		rep.errSamples[k] = v
	}
	b.errs.mu.Unlock()
	return rep
}

// collectE2E waits up to -drain for the outstanding deliveries, then computes
// the delivery figures.
func (b *bench) collectE2E(res *phaseResult) *e2eReport {
	subs := len(b.subs)
	expected := res.ok * int64(subs)
	drainStart := time.Now()
	atDrainStart := b.sink.uniqueCount()
	deadline := drainStart.Add(b.o.drain)
	if expected > 0 {
		logf("waiting up to %v for %d deliveries", b.o.drain, expected)
	}
	lost := b.sink.missing(subs, res.okSeqs)
	lastCheck := time.Now()
	for lost > 0 && time.Now().Before(deadline) && !b.isInterrupted() {
		time.Sleep(20 * time.Millisecond)
		// Cheap test first; the exact count walks every expected delivery.
		if b.sink.uniqueCount() >= expected || time.Since(lastCheck) > time.Second {
			lost = b.sink.missing(subs, res.okSeqs)
			lastCheck = time.Now()
		}
	}
	drainWait := time.Since(drainStart)
	lost = b.sink.missing(subs, res.okSeqs)
	snap := b.sink.snapshot()

	e := &e2eReport{
		ExpectedDeliveries: expected,
		Delivered:          expected - lost,
		Lost:               lost,
		LostSample:         b.sink.lostSample(subs, res.okSeqs, 10),
		Duplicates:         snap.dups,
		Unexpected:         snap.unique - (expected - lost),
		Foreign:            snap.foreign,
		EnvelopeBodies:     snap.envelopeBodies,
		RawBodies:          snap.rawBodies,
		FailedAnswers:      snap.failAnswers,
		SlowAnswers:        snap.slowAnswers,
		DrainWaitS:         round3(drainWait.Seconds()),
	}
	if !snap.lastRecv.IsZero() {
		window := snap.lastRecv.Sub(res.start)
		e.DeliveryWindowS = round3(window.Seconds())
		e.DeliveriesPerSec = round3(perSec(e.Delivered, window))
		if subs > 0 {
			e.DeliveredMsgsPerSec = round3(e.DeliveriesPerSec / float64(subs))
		}
	}
	// Deliveries that arrived after publishing stopped measure delivery
	// alone (no publish load competing for the CPUs).
	if backlog := snap.unique - atDrainStart; backlog >= 500 && snap.lastRecv.After(drainStart) {
		e.DrainDeliveries = backlog
		e.DrainDeliveriesPerSec = round3(perSec(backlog, snap.lastRecv.Sub(drainStart)))
	}
	sortDurations(snap.latencies)
	e.E2ELatP50Ms = ms(percentile(snap.latencies, 0.50))
	e.E2ELatP90Ms = ms(percentile(snap.latencies, 0.90))
	e.E2ELatP99Ms = ms(percentile(snap.latencies, 0.99))
	e.E2ELatMaxMs = ms(percentile(snap.latencies, 1))
	e.E2ELatMeanMs = ms(mean(snap.latencies))
	return e
}

func (b *bench) isInterrupted() bool {
	select {
	case <-b.interrupted:
		return true
	default:
		return false
	}
}

func (r *report) print(w io.Writer, jsonLine bool) {
	rate := "closed loop"
	if r.RateTarget > 0 {
		rate = fmt.Sprintf("%g msgs/s target", r.RateTarget)
	}
	fmt.Fprintf(w, "sealbench %s: endpoint %s, %d %s subscription(s), raw=%t, %d-byte messages, concurrency %d, %s\n",
		r.Mode, r.Endpoint, r.Subs, r.SubProtocol, r.Raw, r.Size, r.Concurrency, rate)
	if r.Interrupted {
		fmt.Fprintf(w, "  (interrupted: partial results)\n")
	}
	fmt.Fprintf(w, "publish:   %d ok, %d errors in %.2fs = %.1f msgs/s\n", r.Published, r.Errors, r.ElapsedS, r.PublishPerSec)
	if r.RateTarget > 0 && r.PublishPerSec < 0.95*r.RateTarget {
		fmt.Fprintf(w, "           (target rate %g msgs/s not sustained)\n", r.RateTarget)
	}
	fmt.Fprintf(w, "  publish latency: p50 %.3fms  p90 %.3fms  p99 %.3fms  max %.3fms  mean %.3fms\n",
		r.PubLatP50Ms, r.PubLatP90Ms, r.PubLatP99Ms, r.PubLatMaxMs, r.PubLatMeanMs)
	if len(r.PerEndpoint) > 1 {
		for _, e := range r.PerEndpoint {
			fmt.Fprintf(w, "  via %s: %d workers, %d ok, %d errors = %.1f msgs/s\n",
				e.Endpoint, e.Workers, e.Published, e.Errors, e.PublishPerSec)
		}
	}
	if r.SinkDeliveries != nil {
		fmt.Fprintf(w, "  sink: %d of %d deliveries received when the last Publish returned\n",
			*r.SinkDeliveries, r.Published*int64(r.Subs))
	}
	if e := r.e2eReport; e != nil {
		fmt.Fprintf(w, "delivery:  %d of %d delivered (%d subs), %d lost, %d duplicates, drain wait %.2fs\n",
			e.Delivered, e.ExpectedDeliveries, r.Subs, e.Lost, e.Duplicates, e.DrainWaitS)
		if e.Unexpected > 0 || e.Foreign > 0 {
			fmt.Fprintf(w, "           %d deliveries of failed publishes, %d unrecognised notifications\n", e.Unexpected, e.Foreign)
		}
		fmt.Fprintf(w, "  bodies: %d raw, %d in an SNS JSON envelope", e.RawBodies, e.EnvelopeBodies)
		if r.Raw && e.EnvelopeBodies > 0 {
			fmt.Fprintf(w, " (RawMessageDelivery was requested)")
		} else if !r.Raw && e.RawBodies > 0 {
			fmt.Fprintf(w, " (RawMessageDelivery was not requested)")
		}
		fmt.Fprintf(w, "\n")
		if len(e.LostSample) > 0 {
			fmt.Fprintf(w, "  lost (subscription/sequence): %s\n", strings.Join(e.LostSample, " "))
		}
		if e.FailedAnswers > 0 || e.SlowAnswers > 0 {
			fmt.Fprintf(w, "  slow subscriber(s): %d first arrivals answered 500, %d answers delayed\n", e.FailedAnswers, e.SlowAnswers)
		}
		fmt.Fprintf(w, "  delivered throughput: %.1f deliveries/s = %.1f msgs/s per subscription (first publish to last receipt: %.2fs)\n",
			e.DeliveriesPerSec, e.DeliveredMsgsPerSec, e.DeliveryWindowS)
		if e.DrainDeliveries > 0 {
			fmt.Fprintf(w, "  after the last publish: %d deliveries in the drain at %.1f deliveries/s = %.1f msgs/s per subscription (delivery alone)\n",
				e.DrainDeliveries, e.DrainDeliveriesPerSec, e.DrainDeliveriesPerSec/float64(max(r.Subs, 1)))
		}
		fmt.Fprintf(w, "  end-to-end latency: p50 %.3fms  p90 %.3fms  p99 %.3fms  max %.3fms  mean %.3fms\n",
			e.E2ELatP50Ms, e.E2ELatP90Ms, e.E2ELatP99Ms, e.E2ELatMaxMs, e.E2ELatMeanMs)
	}
	fmt.Fprintf(w, "  sealbench cpu: %.2fs in %.2fs (%.2f CPUs busy on average)\n", r.CPUS, r.RunWallS, r.CPUsBusyAvg)
	if len(r.ErrorCodes) > 0 {
		codes := make([]string, 0, len(r.ErrorCodes))
		for c := range r.ErrorCodes {
			codes = append(codes, c)
		}
		sort.Slice(codes, func(i, j int) bool { return r.ErrorCodes[codes[i]] > r.ErrorCodes[codes[j]] })
		for _, c := range codes {
			fmt.Fprintf(w, "  errors %s: %d (e.g. %s)\n", c, r.ErrorCodes[c], r.errSamples[c])
		}
	}
	if jsonLine {
		line, err := json.Marshal(r)
		if err != nil {
			logf("json: %v", err)
			return
		}
		fmt.Fprintf(w, "%s\n", line)
	}
}

func sortDurations(d []time.Duration) {
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
}

// percentile returns the nearest-rank percentile of sorted samples.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	i = max(0, min(i, len(sorted)-1))
	return sorted[i]
}

func mean(d []time.Duration) time.Duration {
	if len(d) == 0 {
		return 0
	}
	var sum float64
	for _, x := range d {
		sum += float64(x)
	}
	return time.Duration(sum / float64(len(d)))
}

func perSec(n int64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

func ms(d time.Duration) float64 { return round3(float64(d) / float64(time.Millisecond)) }

func round3(x float64) float64 { return math.Round(x*1000) / 1000 }
