package sqs

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// BenchmarkSendReceiveDelete: one SendMessage, ReceiveMessage and
// DeleteMessage per op through the domain, on pebble, parallel.
func BenchmarkSendReceiveDelete(b *testing.B) {
	for _, sealed := range []bool{false, true} {
		name := "clear"
		attrs := map[string]string{}
		if sealed {
			name = "sealed-fake"
			attrs["SqsManagedSseEnabled"] = "true"
		}
		b.Run(name, func(b *testing.B) {
			e := newEnv(b, "pebble")
			u, err := e.s.CreateQueue(e.ctx, e.c, "bench", attrs, nil)
			if err != nil {
				b.Fatal(err)
			}
			body := strings.Repeat("x", 1024)
			b.SetParallelism(8)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := e.s.SendMessage(e.ctx, e.c, u, SendInput{Body: body}); err != nil {
						b.Error(err)
						return
					}
					ms, err := e.s.ReceiveMessage(e.ctx, e.c, u, ReceiveInput{WaitTimeSeconds: intp(0)})
					if err != nil {
						b.Error(err)
						return
					}
					for _, m := range ms {
						if err := e.s.DeleteMessage(e.ctx, e.c, u, m.ReceiptHandle); err != nil {
							b.Error(err)
							return
						}
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "send+recv+del/s")
		})
	}
}

// BenchmarkLongPollLatency: a long poll waiting on an empty queue, one
// SendMessage; reports the send-to-receive latency (p50, p99).
func BenchmarkLongPollLatency(b *testing.B) {
	e := newEnv(b, "pebble")
	e.s.opts.PollInterval = time.Hour // only the in-process signal wakes it
	u, err := e.s.CreateQueue(e.ctx, e.c, "lat", map[string]string{"SqsManagedSseEnabled": "false"}, nil)
	if err != nil {
		b.Fatal(err)
	}
	lat := make([]time.Duration, 0, b.N)
	for range b.N {
		got := make(chan time.Time, 1)
		go func() {
			ms, err := e.s.ReceiveMessage(e.ctx, e.c, u, ReceiveInput{WaitTimeSeconds: intp(20)})
			got <- time.Now()
			if err != nil || len(ms) != 1 {
				b.Error(err, len(ms))
				return
			}
			e.s.DeleteMessage(e.ctx, e.c, u, ms[0].ReceiptHandle)
		}()
		time.Sleep(2 * time.Millisecond)
		start := time.Now()
		e.send(u, "ping")
		lat = append(lat, (<-got).Sub(start))
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}
