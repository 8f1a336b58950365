package kmsapi

import (
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
)

// BenchmarkServe measures the adapter alone (decode, canned domain,
// encode, write) for the two hot actions.
func BenchmarkServe(b *testing.B) {
	for _, bc := range []struct{ action, body string }{
		{"GenerateDataKey", `{"KeyId":"alias/aws/sns","KeySpec":"AES_256","EncryptionContext":{"aws:sns:topicArn":"arn:aws:sns:us-east-1:111122223333:orders"}}`},
		{"Decrypt", `{"CiphertextBlob":"` + strings.Repeat("QUJD", 60) + `","EncryptionContext":{"aws:sns:topicArn":"arn:aws:sns:us-east-1:111122223333:orders"}}`},
	} {
		b.Run(bc.action, func(b *testing.B) {
			a := &API{svc: &canned{}, log: slog.New(slog.DiscardHandler), actions: actions}
			body := []byte(bc.body)
			r := httptest.NewRequest("POST", "/", nil)
			r.Header.Set("X-Amz-Target", "TrentService."+bc.action)
			b.ReportAllocs()
			for b.Loop() {
				w := httptest.NewRecorder()
				a.Serve(w, r, testCaller, body)
				if w.Code != 200 {
					b.Fatal(w.Code, w.Body.String())
				}
			}
		})
	}
}
