package deliverypolicy

import (
	"fmt"
	"testing"
	"time"
)

func ms(v ...float64) []time.Duration {
	out := make([]time.Duration, len(v))
	for i, s := range v {
		out[i] = time.Duration(s*1000+0.5) * time.Millisecond
	}
	return out
}

// schedule returns Delay(1..NumRetries) and checks that Delay gives up
// right after.
func schedule(t *testing.T, r Retry) []time.Duration {
	t.Helper()
	var out []time.Duration
	for n := 1; n <= r.NumRetries; n++ {
		d, ok := r.Delay(n)
		if !ok {
			t.Fatalf("%+v: Delay(%d) gave up before numRetries", r, n)
		}
		out = append(out, d)
	}
	for _, n := range []int{r.NumRetries + 1, r.NumRetries + 100, 0, -1} {
		if d, ok := r.Delay(n); ok || d != 0 {
			t.Errorf("%+v: Delay(%d) = %v, %v; want 0, false", r, n, d, ok)
		}
	}
	return out
}

func sameDurations(a, b []time.Duration) bool {
	return fmt.Sprint(a) == fmt.Sprint(b)
}

func TestScheduleTable(t *testing.T) {
	tests := []struct {
		name string
		r    Retry
		want []time.Duration
	}{
		{"default", Default().Retry, ms(20, 20, 20)},
		{"no retries", Retry{1, 60, 0, 0, 0, 0, "linear"}, nil},
		{"doc example: 3 immediate, 2 at 1 s, 10 exponential 1..60 s, 35 at 60 s",
			Retry{1, 60, 50, 3, 2, 35, "exponential"},
			append(ms(0, 0, 0, 1, 1, 1, 1.115, 1.346, 1.808, 2.732, 4.579, 8.274, 15.663, 30.442, 60),
				ms(60, 60, 60, 60, 60, 60, 60, 60, 60, 60, 60, 60, 60, 60, 60, 60, 60, 60, 60, 60, 60, 60, 60, 60, 60, 60, 60, 60, 60, 60, 60, 60, 60, 60, 60)...)},
		// The AWS backoff graph: 10 retries from 5 s to 260 s.
		{"linear 5..260", Retry{5, 260, 10, 0, 0, 0, "linear"},
			ms(5, 33.333, 61.667, 90, 118.333, 146.667, 175, 203.333, 231.667, 260)},
		{"arithmetic 5..260", Retry{5, 260, 10, 0, 0, 0, "arithmetic"},
			ms(5, 10.667, 22, 39, 61.667, 90, 124, 163.667, 209, 260)},
		{"geometric 5..260", Retry{5, 260, 10, 0, 0, 0, "geometric"},
			ms(5, 7.756, 12.031, 18.663, 28.949, 44.906, 69.658, 108.054, 167.612, 260)},
		{"exponential 5..260", Retry{5, 260, 10, 0, 0, 0, "exponential"},
			ms(5, 5.499, 6.497, 8.493, 12.485, 20.470, 36.438, 68.376, 132.250, 260)},
		{"all phases, linear backoff of 4", Retry{5, 30, 10, 1, 2, 3, "linear"},
			ms(0, 5, 5, 5, 13.333, 21.667, 30, 30, 30, 30)},
		{"all phases, empty backoff", Retry{5, 30, 6, 1, 2, 3, "exponential"}, ms(0, 5, 5, 30, 30, 30)},
		{"one backoff retry waits the minimum", Retry{5, 30, 3, 1, 0, 1, "geometric"}, ms(0, 5, 30)},
		{"two backoff retries: min then max", Retry{5, 30, 2, 0, 0, 0, "arithmetic"}, ms(5, 30)},
		{"only immediate", Retry{1, 1, 4, 4, 0, 0, "linear"}, ms(0, 0, 0, 0)},
		{"min equals max", Retry{7, 7, 4, 0, 0, 0, "geometric"}, ms(7, 7, 7, 7)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := schedule(t, tt.r)
			if !sameDurations(got, tt.want) {
				t.Errorf("schedule\n got %v\nwant %v", got, tt.want)
			}
			var sum time.Duration
			for _, d := range got {
				sum += d
			}
			if total := tt.r.TotalDelay(); total != sum {
				t.Errorf("TotalDelay = %v, sum of delays = %v", total, sum)
			}
		})
	}
}

// backoffPhase returns the delays of the backoff phase alone.
func backoffPhase(t *testing.T, fn string, lo, hi, count int) []time.Duration {
	return schedule(t, Retry{MinDelayTarget: lo, MaxDelayTarget: hi, NumRetries: count, BackoffFunction: fn})
}

func TestBackoffFunctionProperties(t *testing.T) {
	params := []struct{ lo, hi, count int }{
		{5, 260, 10}, {1, 60, 10}, {1, 20, 10}, {10, 600, 10}, {1, 3600, 5}, {1, 3600, 40},
		{20, 20, 7}, {7, 9, 3}, {1, 2, 100}, {3599, 3600, 2}, {1, 60, 1},
	}
	for _, p := range params {
		series := map[string][]time.Duration{}
		for _, fn := range []string{BackoffLinear, BackoffArithmetic, BackoffGeometric, BackoffExponential} {
			d := backoffPhase(t, fn, p.lo, p.hi, p.count)
			series[fn] = d
			lo, hi := time.Duration(p.lo)*time.Second, time.Duration(p.hi)*time.Second
			if d[0] != lo {
				t.Errorf("%s %+v: first backoff retry %v, want the minimum %v", fn, p, d[0], lo)
			}
			if p.count > 1 && d[len(d)-1] != hi {
				t.Errorf("%s %+v: last backoff retry %v, want the maximum %v", fn, p, d[len(d)-1], hi)
			}
			for i := 1; i < len(d); i++ {
				if d[i] < d[i-1] {
					t.Errorf("%s %+v: delay %d (%v) < delay %d (%v)", fn, p, i, d[i], i-1, d[i-1])
				}
				if p.lo < p.hi && d[i] == d[i-1] && fn == BackoffLinear {
					t.Errorf("linear %+v: repeated delay %v", p, d[i])
				}
			}
		}
		if p.lo == p.hi || p.count < 3 {
			continue
		}
		for i := 1; i < p.count-1; i++ {
			lin, ari, geo, exp := series[BackoffLinear][i], series[BackoffArithmetic][i], series[BackoffGeometric][i], series[BackoffExponential][i]
			if !(lin > ari && ari >= exp && lin > geo) {
				t.Errorf("%+v retry %d: linear %v, arithmetic %v, geometric %v, exponential %v violate linear > arithmetic >= exponential, linear > geometric",
					p, i, lin, ari, geo, exp)
			}
		}
	}
}

func TestDelayOnUnvalidatedRetry(t *testing.T) {
	// Delay and TotalDelay must not panic or go negative on odd values.
	odd := []Retry{
		{},
		{MinDelayTarget: -5, MaxDelayTarget: -1, NumRetries: 5, BackoffFunction: "geometric"},
		{MinDelayTarget: 30, MaxDelayTarget: 5, NumRetries: 5, BackoffFunction: "exponential"},
		{MinDelayTarget: 1, MaxDelayTarget: 2, NumRetries: 5, NumNoDelayRetries: 9, NumMinDelayRetries: 9, NumMaxDelayRetries: 9},
		{MinDelayTarget: 1, MaxDelayTarget: 2, NumRetries: 5, NumNoDelayRetries: -3, NumMaxDelayRetries: -2, BackoffFunction: "nope"},
		{MinDelayTarget: 1 << 40, MaxDelayTarget: 1 << 41, NumRetries: 3000, NumMaxDelayRetries: 2000, BackoffFunction: "exponential"},
	}
	for _, r := range odd {
		for n := -1; n <= r.NumRetries+1; n++ {
			if d, _ := r.Delay(n); d < 0 {
				t.Errorf("%+v: Delay(%d) = %v", r, n, d)
			}
		}
		if total := r.TotalDelay(); total < 0 {
			t.Errorf("%+v: TotalDelay = %v", r, total)
		}
	}
}
