package sns_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/sns"
	"github.com/sealpost/sealpost/internal/store/pebblestore"
)

// BenchmarkPublish publishes 1 KiB messages to a topic with two SQS
// subscriptions (each publish: one message and two delivery records,
// fsynced). "plain" is a topic without SSE, the path every topic without
// KmsMasterKeyId takes; "sse-testsealer" is an SSE topic whose bodies are
// sealed by the tests' envelope-only sealer (AES-GCM, no KMS, no data-key
// cache): what SSE costs on the sns side.
func BenchmarkPublish(b *testing.B) {
	b.Run("plain", func(b *testing.B) {
		ctx := context.Background()
		st, err := pebblestore.Open(filepath.Join(b.TempDir(), "db"))
		if err != nil {
			b.Fatal(err)
		}
		defer st.Close()
		svc := sns.New(st, sns.Options{PublicURL: "http://x", CacheTTL: time.Hour})
		benchPublish(b, ctx, svc, nil)
	})
	b.Run("sse-testsealer", func(b *testing.B) {
		ctx := context.Background()
		st, err := pebblestore.Open(filepath.Join(b.TempDir(), "db"))
		if err != nil {
			b.Fatal(err)
		}
		defer st.Close()
		svc := sns.New(st, sns.Options{PublicURL: "http://x", CacheTTL: time.Hour, Sealer: &testSealer{discard: true}, DedupKey: make([]byte, 32)})
		benchPublish(b, ctx, svc, map[string]string{"KmsMasterKeyId": "alias/bench"})
	})
}

func benchPublish(b *testing.B, ctx context.Context, svc *sns.Service, attrs map[string]string) {
	c := sns.Caller{Account: "000000000000", Region: "us-east-1", Principal: "arn:aws:iam::000000000000:root", Signed: true, Secure: true, Authenticated: true}
	topic, err := svc.CreateTopic(ctx, c, "bench", attrs, nil, "")
	if err != nil {
		b.Fatal(err)
	}
	for _, q := range []string{"q1", "q2"} {
		if _, err := svc.Subscribe(ctx, c, topic, "sqs", "arn:aws:sqs:us-east-1:000000000000:"+q, nil); err != nil {
			b.Fatal(err)
		}
	}
	in := sns.PublishInput{TopicARN: topic, Message: strings.Repeat("x", 1024)}
	if _, err := svc.Publish(ctx, c, in); err != nil { // warm the cache
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(in.Message)))
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := svc.Publish(ctx, c, in); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
