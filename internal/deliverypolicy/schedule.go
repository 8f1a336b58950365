package deliverypolicy

import (
	"math"
	"time"
)

// Delay returns the delay before retry n (1-based: the first retry after
// the initial attempt is 1). ok is false when n > NumRetries (give up) or
// n < 1. The phases and backoff formulas are described in the package
// documentation. No jitter is applied.
func (r Retry) Delay(n int) (time.Duration, bool) {
	if n < 1 || n > r.NumRetries {
		return 0, false
	}
	noDelay, minDelay, maxDelay := max(r.NumNoDelayRetries, 0), max(r.NumMinDelayRetries, 0), max(r.NumMaxDelayRetries, 0)
	if n <= noDelay {
		return 0, true
	}
	n -= noDelay
	if n <= minDelay {
		return seconds(float64(r.MinDelayTarget)), true
	}
	n -= minDelay
	backoffRetries := int64(r.NumRetries) - int64(noDelay) - int64(minDelay) - int64(maxDelay)
	if int64(n) <= backoffRetries {
		return r.backoff(int64(n-1), backoffRetries), true
	}
	return seconds(float64(r.MaxDelayTarget)), true
}

// backoff returns the delay of backoff retry i (0-based) of count.
func (r Retry) backoff(i, count int64) time.Duration {
	lo, hi := float64(r.MinDelayTarget), float64(r.MaxDelayTarget)
	k := count - 1
	switch {
	case i <= 0 || k <= 0:
		return seconds(lo)
	case i >= k:
		return seconds(hi)
	}
	fi, fk := float64(i), float64(k)
	var d float64
	switch r.BackoffFunction {
	case BackoffArithmetic:
		d = lo + (hi-lo)*(fi*(fi+1))/(fk*(fk+1))
	case BackoffGeometric:
		if lo > 0 && hi > 0 {
			d = lo * math.Pow(hi/lo, fi/fk)
		} else {
			d = lo + (hi-lo)*fi/fk
		}
	case BackoffExponential:
		// (2^i - 1) / (2^k - 1), scaled by 2^-k so large k cannot overflow.
		d = lo + (hi-lo)*(math.Exp2(fi-fk)-math.Exp2(-fk))/(1-math.Exp2(-fk))
	default: // linear
		d = lo + (hi-lo)*fi/fk
	}
	// Stay within [lo, hi] despite floating-point error.
	d = math.Max(math.Min(d, math.Max(lo, hi)), math.Min(lo, hi))
	return seconds(d)
}

// seconds converts s seconds to a Duration rounded to the millisecond,
// never negative.
func seconds(s float64) time.Duration {
	ms := math.Round(s * 1000)
	switch {
	case !(ms > 0):
		return 0
	case ms >= float64(math.MaxInt64/int64(time.Millisecond)):
		return time.Duration(math.MaxInt64)
	}
	return time.Duration(ms) * time.Millisecond
}

// TotalDelay returns the sum of Delay(n) for n = 1..NumRetries: the total
// policy retry time, which AWS limits to MaxTotalRetryTime. It costs
// O(backoff-phase retries).
func (r Retry) TotalDelay() time.Duration {
	if r.NumRetries <= 0 {
		return 0
	}
	retries := int64(r.NumRetries)
	clamp := func(v int) int64 { return min(max(int64(v), 0), retries) }
	noDelay := clamp(r.NumNoDelayRetries)
	minDelay := min(clamp(r.NumMinDelayRetries), retries-noDelay)
	maxDelay := min(clamp(r.NumMaxDelayRetries), retries-noDelay-minDelay)
	backoffRetries := retries - noDelay - minDelay - maxDelay

	var total time.Duration
	add := func(d time.Duration, times int64) {
		if times <= 0 || d <= 0 {
			return
		}
		if int64(d) > (math.MaxInt64-int64(total))/times {
			total = time.Duration(math.MaxInt64)
			return
		}
		total += d * time.Duration(times)
	}
	add(seconds(float64(r.MinDelayTarget)), minDelay)
	add(seconds(float64(r.MaxDelayTarget)), maxDelay)
	for i := int64(0); i < backoffRetries && total < time.Duration(math.MaxInt64); i++ {
		add(r.backoff(i, backoffRetries), 1)
	}
	return total
}
