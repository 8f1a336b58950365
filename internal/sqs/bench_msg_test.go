package sqs

import (
	"strings"
	"testing"
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
