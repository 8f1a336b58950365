package server_test

import (
	"context"
	"testing"

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
