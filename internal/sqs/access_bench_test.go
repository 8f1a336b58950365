package sqs

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/store/pebblestore"
)

// BenchmarkQueueForPolicy measures resolving and authorizing a queue
// whose policy lets SNS in (the SNS-to-SQS delivery path).
func BenchmarkQueueForPolicy(b *testing.B) {
	st, err := pebblestore.Open(filepath.Join(b.TempDir(), "db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	svc := New(st, Options{PublicURL: "http://sp.test"})
	ctx := context.Background()
	owner := cpCaller(cpAccount)
	pol := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"sns.amazonaws.com"},"Action":"sqs:SendMessage",
		"Resource":"arn:aws:sqs:us-east-1:111111111111:q","Condition":{"ArnEquals":{"aws:SourceArn":"arn:aws:sns:us-east-1:111111111111:t"}}}]}`
	if _, err := svc.CreateQueue(ctx, owner, "q", map[string]string{"Policy": pol}, nil); err != nil {
		b.Fatal(err)
	}
	sns := &Caller{Service: "sns.amazonaws.com", SourceARN: "arn:aws:sns:us-east-1:111111111111:t", SourceAccount: cpAccount, Region: cpRegion}
	k := store.QueueKey{Account: cpAccount, Region: cpRegion, Name: "q"}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := svc.queueByKey(ctx, sns, k, "SendMessage"); err != nil {
			b.Fatal(err)
		}
	}
}
