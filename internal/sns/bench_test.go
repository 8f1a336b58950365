package sns_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/sns"
	"github.com/sealpost/sealpost/internal/store/pebblestore"
)

// BenchmarkPublishFilters publishes a 200 KiB JSON body to a topic with 50
// filtered SQS subscriptions, none of which match (so the store writes only
// the message), with the filters in each scope. B/op shows what matching
// costs: the body must be parsed once per message, not once per
// subscription.
func BenchmarkPublishFilters(b *testing.B) {
	for _, scope := range []string{"MessageAttributes", "MessageBody"} {
		b.Run(scope, func(b *testing.B) {
			ctx := context.Background()
			st, err := pebblestore.Open(filepath.Join(b.TempDir(), "db"))
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			svc := sns.New(st, sns.Options{PublicURL: "http://x", CacheTTL: time.Hour})
			c := sns.Caller{Account: "000000000000", Region: "us-east-1", Signed: true}
			topic, err := svc.CreateTopic(ctx, c, "bench", nil, nil, "")
			if err != nil {
				b.Fatal(err)
			}
			for i := 0; i < 50; i++ {
				attrs := map[string]string{"FilterPolicy": fmt.Sprintf(`{"kind":["k%d"]}`, i), "FilterPolicyScope": scope}
				if _, err := svc.Subscribe(ctx, c, topic, "sqs", fmt.Sprintf("arn:aws:sqs:us-east-1:000000000000:q%d", i), attrs); err != nil {
					b.Fatal(err)
				}
			}
			body := `{"kind":"none","pad":"` + strings.Repeat("x", 200<<10) + `"}`
			in := sns.PublishInput{TopicARN: topic, Message: body, MessageAttributes: map[string]sns.MessageAttribute{
				"kind": {DataType: "String", StringValue: "none"}}}
			if _, err := svc.Publish(ctx, c, in); err != nil { // warm the cache
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				if _, err := svc.Publish(ctx, c, in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
