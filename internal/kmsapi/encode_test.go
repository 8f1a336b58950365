package kmsapi

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/kms"
)

func TestEpoch(t *testing.T) {
	tests := []struct {
		t    time.Time
		want string
	}{
		{time.Unix(1732000000, 0), "1732000000"},
		{time.Unix(1732000000, 512_000_000), "1732000000.512"},
		{time.Unix(1732000000, 500_999_999), "1732000000.5"},
		{time.Unix(1732000000, 10_000_000), "1732000000.01"},
		{time.Unix(-1, 500_000_000), "-1.5"},
	}
	for _, tt := range tests {
		if got := epoch(tt.t); got != tt.want {
			t.Errorf("epoch(%v) = %s, want %s", tt.t, got, tt.want)
		}
	}
}

func TestQuote(t *testing.T) {
	for _, s := range []string{"", "plain", "a\"b\\c", "\n\r\t\x00\x1f", "<&>", "é€😀", "\u2028\u2029", "bad\xffutf8"} {
		w := newJSONWriter()
		w.quote(s)
		var got string
		if err := json.Unmarshal(w.b, &got); err != nil {
			t.Errorf("quote(%q) = %s: %v", s, w.b, err)
			continue
		}
		want := s
		if s == "bad\xffutf8" {
			want = "bad\ufffdutf8"
		}
		if got != want {
			t.Errorf("quote(%q) round-trips to %q", s, got)
		}
	}
}

// The writer wipes the buffers it leaves behind.
func TestJSONWriterWipes(t *testing.T) {
	w := &jsonWriter{b: make([]byte, 0, 8)}
	w.open()
	secret := []byte("0123456789abcdef0123456789abcdef")
	w.blob("Plaintext", secret)
	old := w.b[:cap(w.b)]
	w.str("KeyId", string(make([]byte, 4096))) // forces a new buffer
	for _, c := range old {
		if c != 0 {
			t.Fatal("the replaced buffer was not wiped")
		}
	}
	w.wipe()
	for _, c := range w.b[:cap(w.b)] {
		if c != 0 {
			t.Fatal("wipe left bytes")
		}
	}
}

func TestOutputShapes(t *testing.T) {
	created := time.Unix(1732000000, 250_000_000).UTC()
	tests := []struct {
		name  string
		write func(w *jsonWriter)
		want  string
	}{
		{"KeyMetadata enabled", func(w *jsonWriter) {
			writeKeyMetadata(w, kms.KeyMetadata{AWSAccountID: "111122223333", KeyID: "k", ARN: "arn:aws:kms:us-east-1:111122223333:key/k",
				CreationDate: created, Enabled: true, KeyUsage: "ENCRYPT_DECRYPT", KeyState: "Enabled", Origin: "AWS_KMS",
				KeyManager: "CUSTOMER", KeySpec: "SYMMETRIC_DEFAULT", EncryptionAlgorithms: []string{"SYMMETRIC_DEFAULT"}})
		}, `{"KeyMetadata":{"AWSAccountId":"111122223333","KeyId":"k","Arn":"arn:aws:kms:us-east-1:111122223333:key/k","CreationDate":1732000000.25,"Enabled":true,"Description":"","KeyUsage":"ENCRYPT_DECRYPT","KeyState":"Enabled","Origin":"AWS_KMS","KeyManager":"CUSTOMER","CustomerMasterKeySpec":"SYMMETRIC_DEFAULT","KeySpec":"SYMMETRIC_DEFAULT","EncryptionAlgorithms":["SYMMETRIC_DEFAULT"],"MultiRegion":false}}`},
		{"KeyMetadata pending deletion", func(w *jsonWriter) {
			writeKeyMetadata(w, kms.KeyMetadata{KeyID: "k", CreationDate: created, KeyState: "PendingDeletion",
				DeletionDate: created.Add(7 * 24 * time.Hour), PendingWindowDays: 7, CurrentKeyMaterialID: "ab"})
		}, `{"KeyMetadata":{"AWSAccountId":"","KeyId":"k","Arn":"","CreationDate":1732000000.25,"Enabled":false,"Description":"","KeyUsage":"","KeyState":"PendingDeletion","DeletionDate":1732604800.25,"PendingDeletionWindowInDays":7,"Origin":"","KeyManager":"","CustomerMasterKeySpec":"","KeySpec":"","EncryptionAlgorithms":[],"MultiRegion":false,"CurrentKeyMaterialId":"ab"}}`},
		{"Grants", func(w *jsonWriter) {
			writeGrants(w, []kms.GrantEntry{{KeyARN: "arn", GrantID: "g", CreationDate: created, GranteePrincipal: "p", IssuingAccount: "arn:aws:iam::1:root",
				Operations: []string{"Decrypt"}, Constraints: &kms.GrantConstraints{EncryptionContextSubset: map[string]string{"b": "2", "a": "1"}}}}, "next")
		}, `{"Grants":[{"KeyId":"arn","GrantId":"g","CreationDate":1732000000.25,"GranteePrincipal":"p","IssuingAccount":"arn:aws:iam::1:root","Operations":["Decrypt"],"Constraints":{"EncryptionContextSubset":{"a":"1","b":"2"}}}],"NextMarker":"next","Truncated":true}`},
		{"empty list", func(w *jsonWriter) { writeGrants(w, nil, "") }, `{"Grants":[],"Truncated":false}`},
	}
	for _, tt := range tests {
		w := newJSONWriter()
		w.open()
		tt.write(w)
		w.close()
		if string(w.b) != tt.want {
			t.Errorf("%s:\n got %s\nwant %s", tt.name, w.b, tt.want)
		}
		if !json.Valid(w.b) {
			t.Errorf("%s: invalid JSON", tt.name)
		}
	}
}
