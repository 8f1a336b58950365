package server_test

import (
	"context"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/sealpost/sealpost/internal/testserver"
)

// BenchmarkPublishAuth compares publish throughput with SigV4 enforcement
// on and with --auth=off, in the same run (the SDK signs in both; only the
// server's verification differs):
//
//	go test -run '^$' -bench PublishAuth -benchtime 5s ./internal/server/
func BenchmarkPublishAuth(b *testing.B) {
	for _, mode := range []string{"on", "off"} {
		b.Run("auth="+mode, func(b *testing.B) {
			srv := testserver.Start(b, testserver.Options{Args: []string{"--auth=" + mode}})
			c := srv.SNSClient(b, srv.URL(), "", "", "")
			ctx := context.Background()
			out, err := c.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("bench")})
			if err != nil {
				b.Fatal(err)
			}
			msg := aws.String("a message of a typical size, a few hundred bytes would do; this one is short")
			b.SetParallelism(8)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := c.Publish(ctx, &sns.PublishInput{TopicArn: out.TopicArn, Message: msg}); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "publish/s")
		})
	}
}

// TestPublishAuthOverhead measures publish throughput with enforcement on
// and with --auth=off in alternating rounds (so that load from elsewhere on
// the machine hits both alike) and fails if "on" is more than 10% slower by
// the median round. It runs only with SEALPOST_BENCH=1:
//
//	SEALPOST_BENCH=1 go test -run PublishAuthOverhead -v ./internal/server/
func TestPublishAuthOverhead(t *testing.T) {
	if os.Getenv("SEALPOST_BENCH") == "" {
		t.Skip("set SEALPOST_BENCH=1")
	}
	ctx := context.Background()
	type target struct {
		c     *sns.Client
		topic *string
		rates []float64
	}
	targets := map[string]*target{}
	for _, mode := range []string{"on", "off"} {
		srv := testserver.Start(t, testserver.Options{Args: []string{"--auth=" + mode}})
		c := srv.SNSClient(t, srv.URL(), "", "", "")
		out, err := c.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("bench")})
		if err != nil {
			t.Fatal(err)
		}
		targets[mode] = &target{c: c, topic: out.TopicArn}
	}
	const rounds, workers, round = 8, 8, 1500 * time.Millisecond
	msg := aws.String("a message of a typical size, a few hundred bytes would do; this one is short")
	for i := 0; i < rounds; i++ {
		for _, mode := range []string{"on", "off"} {
			tg := targets[mode]
			var n atomic.Int64
			var wg sync.WaitGroup
			end := time.Now().Add(round)
			for w := 0; w < workers; w++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for time.Now().Before(end) {
						if _, err := tg.c.Publish(ctx, &sns.PublishInput{TopicArn: tg.topic, Message: msg}); err != nil {
							t.Error(err)
							return
						}
						n.Add(1)
					}
				}()
			}
			wg.Wait()
			tg.rates = append(tg.rates, float64(n.Load())/round.Seconds())
		}
	}
	median := func(v []float64) float64 {
		s := append([]float64(nil), v...)
		sort.Float64s(s)
		return (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	on, off := median(targets["on"].rates), median(targets["off"].rates)
	t.Logf("publish/s by round: auth=on %.0f, auth=off %.0f", targets["on"].rates, targets["off"].rates)
	t.Logf("median publish/s: auth=on %.0f, auth=off %.0f (on/off = %.3f)", on, off, on/off)
	if on < 0.9*off {
		t.Errorf("enforcement costs more than 10%%: %.0f vs %.0f publish/s", on, off)
	}
}
