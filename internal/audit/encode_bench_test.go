package audit

import (
	"testing"
	"time"
)

// BenchmarkRecordBody is the encoding of a typical GenerateDataKey record
// (what Append does before it queues the record).
func BenchmarkRecordBody(b *testing.B) {
	e := Event{
		Name: "GenerateDataKey", Region: "us-east-1", SourceIP: "127.0.0.1", UserAgent: "aws-sdk-go-v2/1.36.3 ua/2.1 os/linux lang/go#1.26 md/GOOS#linux api/kms#1.38.1",
		Identity:          UserIdentity{Type: IdentityIAMUser, PrincipalID: "AIDAEXAMPLE", ARN: "arn:aws:iam::000000000000:user/test", AccountID: "000000000000", AccessKeyID: "test"},
		RequestParameters: map[string]any{"keyId": "alias/bench", "keySpec": "AES_256", "encryptionContext": map[string]any{"purpose": "bench", "tenant": "t1"}},
		Resources:         []Resource{KeyResource("arn:aws:kms:us-east-1:000000000000:key/0f8e6c2a-5b7d-4e61-9a3c-2d1f0b9e8a77", "000000000000")},
		RequestID:         "7c1f2e0a-9d3b-4b8e-8f6a-1e2d3c4b5a69", RecipientAccountID: "000000000000",
	}
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		r := e.record(now)
		if _, err := body(&r); err != nil {
			b.Fatal(err)
		}
	}
}
