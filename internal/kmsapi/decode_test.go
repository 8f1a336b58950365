package kmsapi

import (
	"reflect"
	"strings"
	"testing"

	"github.com/sealpost/sealpost/internal/kms"
)

// decodeInput decodes body for action into the domain input, as Serve does.
func decodeInput(action string, body []byte) (any, error) {
	h := actions[action]
	a, err := decode(h.members(), body)
	if err != nil {
		return nil, err
	}
	return h.input(a)
}

func TestDecodeInputs(t *testing.T) {
	tests := []struct {
		action, body string
		want         any
	}{
		{"Encrypt", `{"KeyId":"alias/a","Plaintext":"aGk=","EncryptionContext":{"k":"v"},"GrantTokens":["t"],"EncryptionAlgorithm":"SYMMETRIC_DEFAULT","DryRun":true,"Unknown":[1,{}]}`,
			kms.EncryptInput{KeyID: "alias/a", Plaintext: []byte("hi"), Context: map[string]string{"k": "v"}, GrantTokens: []string{"t"}, Algorithm: "SYMMETRIC_DEFAULT", DryRun: true}},
		{"Decrypt", `{"CiphertextBlob":"AAEC","KeyId":null}`, kms.DecryptInput{CiphertextBlob: []byte{0, 1, 2}}},
		{"ReEncrypt", `{"CiphertextBlob":"AAEC","DestinationKeyId":"k2","SourceEncryptionContext":{"a":""},"DestinationEncryptionContext":{}}`,
			kms.ReEncryptInput{CiphertextBlob: []byte{0, 1, 2}, DestinationKeyID: "k2", SourceContext: map[string]string{"a": ""}, DestinationContext: map[string]string{}}},
		{"GenerateDataKey", `{"KeyId":"k","KeySpec":"AES_256"}`, kms.DataKeyInput{KeyID: "k", KeySpec: "AES_256"}},
		{"GenerateDataKeyWithoutPlaintext", `{"KeyId":"k","NumberOfBytes":64}`, kms.DataKeyInput{KeyID: "k", NumberOfBytes: 64}},
		{"GenerateRandom", `{"NumberOfBytes":1024}`, randomIn{N: 1024}},
		{"GenerateRandom", ``, randomIn{}},
		{"ListKeys", `{"Limit":5,"Marker":"m"}`, kms.Page{Limit: 5, Marker: "m"}},
		{"ListKeys", `{}`, kms.Page{}},
		{"CreateKey", `{"Description":"d","Tags":[{"TagKey":"a","TagValue":""}],"CustomerMasterKeySpec":"SYMMETRIC_DEFAULT","BypassPolicyLockoutSafetyCheck":true,"MultiRegion":false}`,
			kms.CreateKeyInput{Description: "d", Tags: []kms.Tag{{Key: "a", Value: ""}}, KeySpec: "SYMMETRIC_DEFAULT", BypassPolicyLockoutSafetyCheck: true}},
		{"CreateAlias", `{"AliasName":"alias/x","TargetKeyId":"k"}`, aliasIn{"alias/x", "k"}},
		{"DeleteAlias", `{"AliasName":"alias/x"}`, aliasIn{Name: "alias/x"}},
		{"ListAliases", `{"KeyId":"k","Limit":1000}`, keyPage{"k", kms.Page{Limit: 1000}}},
		{"ScheduleKeyDeletion", `{"KeyId":"k","PendingWindowInDays":7}`, deletionIn{"k", 7}},
		{"EnableKeyRotation", `{"KeyId":"k","RotationPeriodInDays":90}`, rotationIn{"k", 90}},
		{"PutKeyPolicy", `{"KeyId":"k","PolicyName":"default","Policy":"{}\n","BypassPolicyLockoutSafetyCheck":true}`, policyIn{"k", "default", "{}\n", true}},
		{"UntagResource", `{"KeyId":"k","TagKeys":["a","b"]}`, untagIn{"k", []string{"a", "b"}}},
		{"UpdateKeyDescription", `{"KeyId":"k","Description":""}`, descriptionIn{"k", ""}},
		{"CreateGrant", `{"KeyId":"k","GranteePrincipal":"arn:aws:iam::111122223333:user/u","Operations":["Decrypt","Encrypt"],"Constraints":{"EncryptionContextEquals":{"a":"b"}},"Name":"n"}`,
			kms.CreateGrantInput{KeyID: "k", GranteePrincipal: "arn:aws:iam::111122223333:user/u", Operations: []string{"Decrypt", "Encrypt"},
				Constraints: &kms.GrantConstraints{EncryptionContextEquals: map[string]string{"a": "b"}}, Name: "n"}},
		{"ListGrants", `{"KeyId":"k","GrantId":"g","Limit":2}`, listGrantsIn{"k", "g", "", kms.Page{Limit: 2}}},
		{"RetireGrant", `{"GrantToken":"tok"}`, retireIn{Token: "tok"}},
		{"RevokeGrant", `{"KeyId":"k","GrantId":"g"}`, grantIn{"k", "g"}},
		{"ListRetirableGrants", `{"RetiringPrincipal":"arn:aws:iam::111122223333:root"}`, retirableIn{Principal: "arn:aws:iam::111122223333:root"}},
		{"ListKeyRotations", `{"KeyId":"k","IncludeKeyMaterial":"ROTATIONS_ONLY"}`, keyPage{KeyID: "k"}},
	}
	for _, tt := range tests {
		got, err := decodeInput(tt.action, []byte(tt.body))
		if err != nil {
			t.Errorf("%s %s: %v", tt.action, tt.body, err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s %s:\n got %#v\nwant %#v", tt.action, tt.body, got, tt.want)
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	long := strings.Repeat("a", 2049)
	tests := []struct {
		action, body string
		code, msg    string // msg: exact, or a prefix when it ends with "..."
	}{
		{"Encrypt", `{`, "SerializationException", "The request body is not a valid JSON object."},
		{"Encrypt", `[]`, "SerializationException", "..."},
		{"Encrypt", `"x"`, "SerializationException", "..."},
		{"Encrypt", `{"KeyId":1,"Plaintext":"aGk="}`, "SerializationException", "Cannot deserialize member 'KeyId': expected a string."},
		{"Encrypt", `{"KeyId":"k","Plaintext":"not base64!"}`, "SerializationException", "Cannot deserialize member 'Plaintext': expected a base64-encoded string."},
		{"Encrypt", `{"KeyId":"k","Plaintext":123}`, "SerializationException", "..."},
		{"Encrypt", `{"KeyId":"k","Plaintext":"aGk=","EncryptionContext":["a"]}`, "SerializationException", "..."},
		{"Encrypt", `{"KeyId":"k","Plaintext":"aGk=","EncryptionContext":{"a":1}}`, "SerializationException", "..."},
		{"Encrypt", `{"KeyId":"k","Plaintext":"aGk=","DryRun":"true"}`, "SerializationException", "..."},
		{"Encrypt", `{"KeyId":"k","Plaintext":"aGk=","GrantTokens":"t"}`, "SerializationException", "..."},
		{"Encrypt", `{"KeyId":"k","Plaintext":"aGk=","GrantTokens":[null]}`, "SerializationException", "..."},
		{"Encrypt", `{}`, "ValidationException",
			"2 validation errors detected: Value null at 'keyId' failed to satisfy constraint: Member must not be null; Value null at 'plaintext' failed to satisfy constraint: Member must not be null"},
		{"Encrypt", `{"KeyId":"","Plaintext":""}`, "ValidationException",
			"2 validation errors detected: Value '' at 'keyId' failed to satisfy constraint: Member must have length greater than or equal to 1; Value at 'plaintext' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{"Encrypt", `{"KeyId":"` + long + `","Plaintext":"aGk="}`, "ValidationException",
			"1 validation error detected: Value at 'keyId' failed to satisfy constraint: Member must have length less than or equal to 2048"},
		{"Encrypt", `{"KeyId":"k","Plaintext":"` + strings.Repeat("AAAA", 1366) + `"}`, "ValidationException",
			"1 validation error detected: Value at 'plaintext' failed to satisfy constraint: Member must have length less than or equal to 4096"},
		{"Encrypt", `{"KeyId":"k","Plaintext":"aGk=","EncryptionAlgorithm":"AES"}`, "ValidationException",
			"1 validation error detected: Value 'AES' at 'encryptionAlgorithm' failed to satisfy constraint: Member must satisfy enum value set: [SYMMETRIC_DEFAULT, RSAES_OAEP_SHA_1, RSAES_OAEP_SHA_256, SM2PKE]"},
		{"Encrypt", `{"KeyId":"k","Plaintext":"aGk=","GrantTokens":["1","2","3","4","5","6","7","8","9","10","11"]}`, "ValidationException",
			"1 validation error detected: Value at 'grantTokens' failed to satisfy constraint: Member must have length less than or equal to 10"},
		{"Encrypt", `{"KeyId":"k\u0000","Plaintext":"aGk="}`, "ValidationException",
			"1 validation error detected: Value at 'keyId' failed to satisfy constraint: Member must not contain NUL characters"},
		{"GenerateRandom", `{"NumberOfBytes":0}`, "ValidationException",
			"1 validation error detected: Value '0' at 'numberOfBytes' failed to satisfy constraint: Member must have value greater than or equal to 1"},
		{"GenerateRandom", `{"NumberOfBytes":1025}`, "ValidationException",
			"1 validation error detected: Value '1025' at 'numberOfBytes' failed to satisfy constraint: Member must have value less than or equal to 1024"},
		{"GenerateRandom", `{"NumberOfBytes":1.5}`, "SerializationException", "..."},
		{"GenerateRandom", `{"NumberOfBytes":"3"}`, "SerializationException", "..."},
		{"GenerateRandom", `{"NumberOfBytes":99999999999}`, "SerializationException", "..."},
		{"GenerateRandom", `{"NumberOfBytes":4,"Recipient":{"KeyEncryptionAlgorithm":"RSAES_OAEP_SHA_256"}}`, "UnsupportedOperationException", "Recipient is not supported..."},
		{"GenerateRandom", `{"NumberOfBytes":4,"Recipient":7}`, "SerializationException", "..."},
		{"CreateAlias", `{"AliasName":"alias/a b","TargetKeyId":"k"}`, "ValidationException",
			"1 validation error detected: Value 'alias/a b' at 'aliasName' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9:/_-]+$"},
		{"PutKeyPolicy", `{"KeyId":"k","Policy":"{\"a\":\"\u20ac\"}"}`, "ValidationException",
			"1 validation error detected: Value '{\"a\":\"\u20ac\"}' at 'policy' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\u0009\\u000A\\u000D\\u0020-\\u00FF]+"},
		{"PutKeyPolicy", `{"KeyId":"k","PolicyName":"a-b","Policy":"{}"}`, "ValidationException",
			"1 validation error detected: Value 'a-b' at 'policyName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w]+"},
		{"ScheduleKeyDeletion", `{"KeyId":"k","PendingWindowInDays":366}`, "ValidationException", "1 validation error detected: Value '366' at 'pendingWindowInDays'..."},
		{"EnableKeyRotation", `{"KeyId":"k","RotationPeriodInDays":89}`, "ValidationException",
			"1 validation error detected: Value '89' at 'rotationPeriodInDays' failed to satisfy constraint: Member must have value greater than or equal to 90"},
		{"TagResource", `{"KeyId":"k","Tags":[{"TagKey":"a"},{"TagValue":"b"},null]}`, "ValidationException",
			"4 validation errors detected: Value null at 'tags.1.member.tagValue' failed to satisfy constraint: Member must not be null; Value null at 'tags.2.member.tagKey' failed to satisfy constraint: Member must not be null; Value null at 'tags.3.member.tagKey'..."},
		{"TagResource", `{"KeyId":"k","Tags":[{"TagKey":1,"TagValue":"b"}]}`, "SerializationException", "..."},
		{"TagResource", `{"KeyId":"k","Tags":{}}`, "SerializationException", "..."},
		{"UntagResource", `{"KeyId":"k","TagKeys":[""]}`, "ValidationException",
			"1 validation error detected: Value '' at 'tagKeys.1.member' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{"CreateGrant", `{"KeyId":"k","GranteePrincipal":"p","Operations":["Decrypt","Fly"]}`, "ValidationException",
			"1 validation error detected: Value '[Decrypt, Fly]' at 'operations' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: [Decrypt, Encrypt, GenerateDataKey..."},
		{"CreateGrant", `{"KeyId":"k","Operations":["Decrypt"]}`, "ValidationException",
			"1 validation error detected: Value null at 'granteePrincipal' failed to satisfy constraint: Member must not be null"},
		{"CreateGrant", `{"KeyId":"k","GranteePrincipal":"p","Operations":["Decrypt"],"Constraints":[]}`, "SerializationException", "..."},
		{"CreateGrant", `{"KeyId":"k","GranteePrincipal":"p","Operations":["Decrypt"],"Constraints":{"SourceArn":"arn:aws:sns:us-east-1:111122223333:t"}}`, "UnsupportedOperationException", "..."},
		{"CreateGrant", `{"KeyId":"k","GranteeServicePrincipal":"sns.amazonaws.com","Operations":["Decrypt"]}`, "UnsupportedOperationException", "..."},
		{"CreateKey", `{"KeySpec":"SYMMETRIC_DEFAULT","CustomerMasterKeySpec":"SYMMETRIC_DEFAULT"}`, "ValidationException", "..."},
		{"CreateKey", `{"KeyUsage":"SIGN"}`, "ValidationException", "1 validation error detected: Value 'SIGN' at 'keyUsage' failed to satisfy constraint: Member must satisfy enum value set: [SIGN_VERIFY, ENCRYPT_DECRYPT, GENERATE_VERIFY_MAC, KEY_AGREEMENT]"},
		{"CreateKey", `{"Description":"` + strings.Repeat("d", 8193) + `"}`, "ValidationException",
			"1 validation error detected: Value at 'description' failed to satisfy constraint: Member must have length less than or equal to 8192"},
		{"Decrypt", `{}`, "ValidationException", "1 validation error detected: Value null at 'ciphertextBlob' failed to satisfy constraint: Member must not be null"},
		{"Decrypt", `{"CiphertextBlob":"AAEC","DryRun":true,"DryRunModifiers":["IGNORE_CIPHERTEXT"]}`, "UnsupportedOperationException", "..."},
		{"Decrypt", `{"CiphertextBlob":"AAEC","DryRunModifiers":["X"]}`, "ValidationException", "..."},
		{"ReEncrypt", `{"CiphertextBlob":"AAEC"}`, "ValidationException", "1 validation error detected: Value null at 'destinationKeyId' failed to satisfy constraint: Member must not be null"},
		{"ListKeys", `{"Limit":0}`, "ValidationException", "1 validation error detected: Value '0' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1"},
		{"ListKeys", `{"Marker":""}`, "ValidationException", "1 validation error detected: Value '' at 'marker' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{"ListKeys", `{"Marker":"\u0001"}`, "ValidationException", "1 validation error detected: Value '\x01' at 'marker' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\u0020-\\u00FF]*"},
		{"RevokeGrant", `{"KeyId":"k","GrantId":"g","DryRun":true}`, "UnsupportedOperationException", "..."},
		{"ListRetirableGrants", `{}`, "ValidationException", "1 validation error detected: Value null at 'retiringPrincipal' failed to satisfy constraint: Member must not be null"},
		{"ListGrants", `{"KeyId":"k","GranteeServicePrincipal":"sns.amazonaws.com"}`, "UnsupportedOperationException", "..."},
	}
	for _, tt := range tests {
		_, err := decodeInput(tt.action, []byte(tt.body))
		if err == nil {
			t.Errorf("%s %.80s: no error", tt.action, tt.body)
			continue
		}
		code, status, msg := Code(err)
		if code != tt.code || status != 400 {
			t.Errorf("%s %.80s: %s %d %q, want %s 400", tt.action, tt.body, code, status, msg, tt.code)
			continue
		}
		if p, ok := strings.CutSuffix(tt.msg, "..."); ok {
			if !strings.HasPrefix(msg, p) {
				t.Errorf("%s %.80s: message\n %q\nwant prefix\n %q", tt.action, tt.body, msg, p)
			}
		} else if msg != tt.msg {
			t.Errorf("%s %.80s: message\n %q\nwant\n %q", tt.action, tt.body, msg, tt.msg)
		}
	}
}

// Every action of issue 9 is in the table; every other action of the model
// is refused by name.
func TestActionTable(t *testing.T) {
	served := strings.Fields(`CreateKey DescribeKey ListKeys CreateAlias UpdateAlias DeleteAlias ListAliases Encrypt
		Decrypt ReEncrypt GenerateDataKey GenerateDataKeyWithoutPlaintext GenerateRandom EnableKey DisableKey
		ScheduleKeyDeletion CancelKeyDeletion EnableKeyRotation DisableKeyRotation GetKeyRotationStatus
		RotateKeyOnDemand ListKeyRotations GetKeyPolicy PutKeyPolicy ListKeyPolicies TagResource UntagResource
		ListResourceTags UpdateKeyDescription CreateGrant ListGrants RetireGrant RevokeGrant ListRetirableGrants`)
	for _, a := range served {
		if actions[a] == nil {
			t.Errorf("%s missing from the action table", a)
		}
		if unsupported[a] != "" {
			t.Errorf("%s both served and unsupported", a)
		}
	}
	if len(actions) != len(served) {
		t.Errorf("table has %d actions, want %d", len(actions), len(served))
	}
	if n := len(actions) + len(unsupported); n != 54+2 {
		t.Errorf("served + unsupported = %d, want the model's 54 operations + Encapsulate, Decapsulate", n)
	}
	// Each action's members appear once.
	for name, h := range actions {
		seen := map[string]bool{}
		for _, m := range h.members() {
			if seen[m.name] {
				t.Errorf("%s: member %s twice", name, m.name)
			}
			seen[m.name] = true
		}
	}
}
