package kmsapi

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http/httptest"
	"testing"
)

// FuzzDecode feeds random bodies to the request decoder of every action:
// it never panics, and answers either a decoded input or a 400-class AWS
// error whose JSON body is valid.
func FuzzDecode(f *testing.F) {
	seeds := []string{
		``, `{}`, `null`, `[]`, `"x"`, `1`, `{"KeyId":null}`,
		`{"KeyId":"alias/a","Plaintext":"aGk=","EncryptionContext":{"k":"v"},"GrantTokens":["t"],"DryRun":true}`,
		`{"CiphertextBlob":"AAEC","KeyId":"k","DryRunModifiers":["IGNORE_CIPHERTEXT"]}`,
		`{"KeyId":"k","Tags":[{"TagKey":"a","TagValue":"b"},null,{}],"TagKeys":["a",""]}`,
		`{"KeyId":"k","GranteePrincipal":"p","Operations":["Decrypt","X"],"Constraints":{"EncryptionContextSubset":{"a":"b"},"SourceArn":"arn:aws:s3:::b"}}`,
		`{"NumberOfBytes":-1,"Limit":1e3,"PendingWindowInDays":7.0,"RotationPeriodInDays":"90"}`,
		`{"Policy":"\u0000\u20ac","AliasName":"alias/\ud800","Marker":"\u00ff"}`,
		`{"Recipient":{"AttestationDocument":"AA=="},"KeySpec":"AES_256","CustomerMasterKeySpec":"SYMMETRIC_DEFAULT"}`,
		`{"KeyId":"k","Plaintext":"=","CiphertextBlob":"A\nA=="}`,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for name, h := range actions {
			a, err := decode(h.members(), body)
			if err == nil {
				_, err = h.input(a)
			}
			if err == nil {
				continue
			}
			var ae *apiError
			if !errors.As(err, &ae) || ae.status != 400 {
				t.Fatalf("%s %q: %v is not a 400 answer", name, body, err)
			}
			switch ae.code {
			case "SerializationException", "ValidationException", "UnsupportedOperationException":
			default:
				t.Fatalf("%s %q: code %s", name, body, ae.code)
			}
			rec := httptest.NewRecorder()
			WriteError(rec, "id", ae.code, ae.status, ae.msg)
			var out map[string]string
			if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || out["__type"] != ae.code {
				t.Fatalf("%s %q: error body %s: %v", name, body, rec.Body.Bytes(), err)
			}
		}
	})
}

// FuzzServe runs random bodies through Serve for every action over a
// canned domain: every answer is 200 or 400 with a JSON body.
func FuzzServe(f *testing.F) {
	f.Add([]byte(`{"KeyId":"k","Plaintext":"aGk=","CiphertextBlob":"AA==","KeySpec":"AES_256","NumberOfBytes":8}`))
	f.Add([]byte(`{"AliasName":"alias/a","TargetKeyId":"k","GranteePrincipal":"p","Operations":["Decrypt"],"RetiringPrincipal":"r"}`))
	f.Add([]byte(`{"KeyId":"k","Tags":[{"TagKey":"a","TagValue":"b"}],"TagKeys":["a"],"Policy":"{}","Description":"d","GrantId":"g","DestinationKeyId":"k"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		a := &API{svc: &canned{}, log: slog.New(slog.DiscardHandler), actions: actions}
		for name := range actions {
			r := httptest.NewRequest("POST", "/", nil)
			r.Header.Set("X-Amz-Target", "TrentService."+name)
			w := httptest.NewRecorder()
			a.Serve(w, r, testCaller, body)
			if w.Code != 200 && w.Code != 400 {
				t.Fatalf("%s %q: status %d %s", name, body, w.Code, w.Body.Bytes())
			}
			if !json.Valid(w.Body.Bytes()) {
				t.Fatalf("%s %q: invalid JSON %s", name, body, w.Body.Bytes())
			}
		}
	})
}
