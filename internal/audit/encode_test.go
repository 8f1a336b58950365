package audit

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// sameAsMarshal fails t unless appendRecord writes r byte for byte as
// encoding/json does (or declines).
func sameAsMarshal(t *testing.T, r Record) {
	t.Helper()
	want, err := json.Marshal(&r)
	if err != nil {
		t.Fatal(err)
	}
	got, ok := appendRecord(nil, &r)
	if !ok {
		return
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("appendRecord:\n%s\nencoding/json:\n%s", got, want)
	}
}

func TestAppendRecordSameAsMarshal(t *testing.T) {
	e := Event{
		Name: "GenerateDataKey", Region: "us-east-1", SourceIP: "127.0.0.1", UserAgent: "aws-sdk-go-v2/1.0 <&>",
		Identity:          UserIdentity{Type: IdentityIAMUser, PrincipalID: "AIDA", ARN: "arn:aws:iam::111122223333:user/u", AccountID: "111122223333", AccessKeyID: "AKIA"},
		RequestParameters: map[string]any{"keyId": "alias/x", "keySpec": "AES_256", "numberOfBytes": 32, "encryptionContext": map[string]any{"b": "2", "a": "1\u2028\x00\x7f\xff"}},
		Resources:         []Resource{KeyResource("arn:aws:kms:us-east-1:111122223333:key/k", "111122223333")},
		RequestID:         "r", EventID: "e", ReadOnly: true, RecipientAccountID: "111122223333",
	}
	sameAsMarshal(t, e.record(time.Unix(1, 0)))
	strs := []string{"", "plain", `"q" \ /`, "\b\f\n\r\t\x01\x1f", "<a href='x'>&amp;</a>", "é€😀", "\xff\xfe", "a\xc3", "\u2028\u2029", "\u00a0\ufeff", "\x7f"}
	for _, s := range strs {
		e := Event{Name: s, Region: s, SourceIP: s, UserAgent: s, Identity: UserIdentity{Type: s, PrincipalID: s, ARN: s, AccountID: s, AccessKeyID: s, InvokedBy: s},
			RequestParameters:   map[string]any{s: s, "n": -7, "b": false, "nil": nil, "l": []any{s, 1, nil, map[string]any{}}, "m": map[string]string{s: s, "z": ""}, "s": []string{s}, "ns": []string(nil), "nm": map[string]any(nil), "nl": []any(nil)},
			ResponseElements:    map[string]any{},
			AdditionalEventData: map[string]any{"x": int64(1) << 40, "u": uint64(1) << 63, "i": int32(-5)},
			Resources:           []Resource{{s, s, s}, {}}, RequestID: s, EventID: s, EventType: s, ErrorCode: s, ErrorMessage: s, RecipientAccountID: s}
		r := e.record(time.Unix(0, 0))
		sameAsMarshal(t, r)
		r.Seq, r.PrevHash, r.Hash = 9, s, s
		sameAsMarshal(t, r)
	}
	// Values outside the handled set: the fallback.
	r := (&Event{RequestParameters: map[string]any{"f": 1.5}}).record(time.Unix(0, 0))
	if _, ok := appendRecord(nil, &r); ok {
		t.Fatal("float64 value: want the encoding/json fallback")
	}
	if b, err := body(&r); err != nil || !json.Valid(b) {
		t.Fatalf("fallback: %s %v", b, err)
	}
}

func FuzzAppendRecord(f *testing.F) {
	f.Add("GenerateDataKey", "k", "v", "aws-sdk-go-v2")
	f.Add("\x00<>&\u2028", "\xff", "é", "\"\\")
	f.Fuzz(func(t *testing.T, name, k, v, ua string) {
		e := Event{Name: name, UserAgent: ua, Identity: UserIdentity{Type: k, ARN: v},
			RequestParameters: map[string]any{k: v, "keyId": name, "encryptionContext": map[string]any{v: k, k: v}, "n": len(v)},
			ErrorMessage:      v, Resources: []Resource{{k, v, name}}}
		sameAsMarshal(t, e.record(time.Unix(0, 0)))
	})
}

// TestIsSecretFieldSameAsToLower: the allocation-free lookup matches
// secretFields[strings.ToLower(k)] (Unicode folding included).
func TestIsSecretFieldSameAsToLower(t *testing.T) {
	for _, k := range []string{"Plaintext", "plaintext", "PLAINTEXT", "CiphertextBlob", "ciphertextBlob", "keyId", "",
		"data\u212Aey", "DataKey", "GrantTokens", "granttokenS", "encryptionContext", "PrivateKeyCiphertextBlob",
		"x" + strings.Repeat("a", 70), "ROOTKEY", "root\u212Aey", "messagé", "Mac", "MAC "} {
		if got, want := isSecretField(k), secretFields[strings.ToLower(k)]; got != want {
			t.Errorf("isSecretField(%q) = %v, want %v", k, got, want)
		}
	}
}
