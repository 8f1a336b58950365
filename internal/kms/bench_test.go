package kms

import (
	"context"
	"testing"

	"github.com/sealpost/sealpost/internal/store/pebblestore"
)

// benchService is a Service over the embedded store with one key and an
// alias of it, no audit log.
func benchService(b *testing.B) (*Service, KeyMetadata) {
	st, err := pebblestore.Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	s := New(st, testKeyring(b), Options{})
	md, err := s.CreateKey(context.Background(), alice, CreateKeyInput{})
	if err != nil {
		b.Fatal(err)
	}
	if err := s.CreateAlias(context.Background(), alice, "alias/bench", md.KeyID); err != nil {
		b.Fatal(err)
	}
	return s, md
}

func BenchmarkGenerateDataKey(b *testing.B) {
	for _, id := range []string{"keyID", "alias"} {
		b.Run(id, func(b *testing.B) {
			s, md := benchService(b)
			key := md.KeyID
			if id == "alias" {
				key = "alias/bench"
			}
			in := DataKeyInput{KeyID: key, KeySpec: "AES_256", Context: map[string]string{"aws:sns:topicArn": "arn:aws:sns:us-east-1:111122223333:t"}}
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := s.GenerateDataKey(context.Background(), alice, in); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

func BenchmarkDecrypt(b *testing.B) {
	s, md := benchService(b)
	ec := map[string]string{"aws:sns:topicArn": "arn:aws:sns:us-east-1:111122223333:t"}
	dk, err := s.GenerateDataKey(context.Background(), alice, DataKeyInput{KeyID: md.KeyID, KeySpec: "AES_256", Context: ec})
	if err != nil {
		b.Fatal(err)
	}
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.Decrypt(context.Background(), alice, DecryptInput{CiphertextBlob: dk.CiphertextBlob, Context: ec}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
