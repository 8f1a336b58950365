package kmsapi

import (
	"errors"
	"reflect"
	"testing"
)

// decodeSlow is decode without the fast path.
func decodeSlow(ms []member, body []byte) (args, error) {
	a, err := slowArgs(ms, body)
	if err != nil {
		return nil, err
	}
	return validate(ms, a)
}

// sameDecode fails t unless decode and the general path agree on body for
// every action: the same args, or the same error.
func sameDecode(t *testing.T, body []byte) {
	t.Helper()
	for name, h := range actions {
		got, gerr := decode(h.members(), body)
		want, werr := decodeSlow(h.members(), body)
		var ga, wa *apiError
		switch {
		case gerr != nil || werr != nil:
			if !errors.As(gerr, &ga) || !errors.As(werr, &wa) || *ga != *wa {
				t.Fatalf("%s %q: fast path error %v, general path %v", name, body, gerr, werr)
			}
		case !reflect.DeepEqual(got, want):
			t.Fatalf("%s %q: fast path %#v, general path %#v", name, body, got, want)
		}
	}
}

// TestFastDecodeSameAsGeneral: the fast path answers exactly what the
// general decoder answers, on the bodies it takes and on those it hands
// over.
func TestFastDecodeSameAsGeneral(t *testing.T) {
	for _, body := range []string{
		``, ` `, `{}`, ` { } `, `null`, `[]`, `{`, `}`, `{}x`, "{}\x00", `{"KeyId":"k"}{}`,
		`{"KeyId":"alias/aws/sns","KeySpec":"AES_256","EncryptionContext":{"aws:sns:topicArn":"arn:aws:sns:us-east-1:111122223333:orders"}}`,
		`{"CiphertextBlob":"QUJD","EncryptionContext":{"a":"b","c":"d"}}`,
		` {"KeyId" : "k" , "NumberOfBytes" : 32 , "DryRun" : false } `,
		`{"KeyId":"k","NumberOfBytes":-0}`, `{"KeyId":"k","NumberOfBytes":01}`, `{"KeyId":"k","NumberOfBytes":1.0}`,
		`{"KeyId":"k","NumberOfBytes":1e3}`, `{"KeyId":"k","NumberOfBytes":99999999999}`, `{"KeyId":"k","NumberOfBytes":"32"}`,
		`{"KeyId":"k","NumberOfBytes":-}`, `{"KeyId":"k","NumberOfBytes":32x}`, `{"KeyId":"k","DryRun":truex}`,
		`{"KeyId":"k","DryRun":nul}`, `{"KeyId":null}`, `{"KeyId":"a","KeyId":"b"}`, `{"KeyId":null,"KeyId":"b"}`,
		`{"KeyId":"a","KeyId":null}`, `{"KeyId":1}`, `{"KeyId":true}`, `{"KeyId":{}}`, `{"KeyId":["a"]}`,
		`{"KeyId":"a\"b"}`, `{"KeyId":"a\u0062"}`, "{\"KeyId\":\"a\tb\"}", "{\"KeyId\":\"\xff\"}", `{"KeyId":"€"}`,
		"{\"KeyId\":\"\xed\xa0\x80\"}", `{"KeyId":"k\u0000"}`, `{"KeyId":""}`,
		`{"Plaintext":"","KeyId":"k"}`, `{"Plaintext":"aGk=","KeyId":"k"}`, `{"Plaintext":"aGk","KeyId":"k"}`,
		`{"Plaintext":"a Gk=","KeyId":"k"}`, `{"Plaintext":"aGk=\n","KeyId":"k"}`, `{"Plaintext":"aGk=\r\n","KeyId":"k"}`,
		`{"Plaintext":1,"KeyId":"k"}`, `{"Plaintext":null,"KeyId":"k"}`,
		`{"KeyId":"k","EncryptionContext":{}}`, `{"KeyId":"k","EncryptionContext":{"a":null}}`,
		`{"KeyId":"k","EncryptionContext":{"a":"1","a":"2"}}`, `{"KeyId":"k","EncryptionContext":{"a":1}}`,
		`{"KeyId":"k","EncryptionContext":{"a":"b",}}`, `{"KeyId":"k","EncryptionContext":{"a":{"b":"c"}}}`,
		`{"KeyId":"k","EncryptionContext":[]}`, `{"KeyId":"k","EncryptionContext":"x"}`,
		`{"KeyId":"k","Unknown":"x","Other":{"a":"b"},"N":-12,"B":true,"Z":null}`, `{"KeyId":"k","Unknown":[1]}`,
		`{"KeyId":"k","Unknown":1.5}`, `{"KeyId":"k","Unknown":tru}`, `{"KeyId":"k",}`, `{,"KeyId":"k"}`, `{"KeyId""k"}`,
		`{"KeyId":"k" "X":1}`, `{"keyid":"k"}`, `{"GrantTokens":["t"],"KeyId":"k"}`, `{"KeySpec":"AES_512","KeyId":"k"}`,
		`{"NumberOfBytes":2048,"KeyId":"k"}`, `{"CiphertextBlob":"","EncryptionContext":{"a":"b"}}`,
		`{"Limit":0,"Marker":"m"}`, `{"Limit":1001}`, `{"AliasName":"alias/a b","TargetKeyId":"k"}`,
		`{"DryRun":true,"KeyId":"k","Plaintext":"aGk="}`,
	} {
		sameDecode(t, []byte(body))
	}
}

// FuzzFastDecode: the fast path never disagrees with the general decoder.
func FuzzFastDecode(f *testing.F) {
	f.Add([]byte(`{"KeyId":"alias/aws/sns","KeySpec":"AES_256","EncryptionContext":{"a":"b"}}`))
	f.Add([]byte(`{"CiphertextBlob":"QUJD","EncryptionContext":{"a":"b","c":"d"},"DryRun":false,"NumberOfBytes":7}`))
	f.Add([]byte(`{"KeyId":"k","Plaintext":"aGk=","X":{"y":"z"},"N":-1,"Z":null}`))
	f.Fuzz(func(t *testing.T, body []byte) { sameDecode(t, body) })
}

// TestFastDecodeTaken: the SDKs' data-plane bodies take the fast path.
func TestFastDecodeTaken(t *testing.T) {
	for _, c := range []struct{ action, body string }{
		{"GenerateDataKey", `{"EncryptionContext":{"purpose":"bench","tenant":"t1"},"KeyId":"alias/bench","KeySpec":"AES_256"}`},
		{"Decrypt", `{"CiphertextBlob":"QUJD","EncryptionContext":{"purpose":"bench","tenant":"t1"}}`},
		{"Encrypt", `{"KeyId":"k","Plaintext":"aGk=","EncryptionContext":{"a":"b"}}`},
		{"GenerateDataKeyWithoutPlaintext", `{"KeyId":"k","NumberOfBytes":32}`},
	} {
		if _, ok := fastArgs(actions[c.action].members(), []byte(c.body)); !ok {
			t.Errorf("%s %s: not taken", c.action, c.body)
		}
	}
}
