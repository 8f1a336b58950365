package kmsapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	kmssdk "github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	smithy "github.com/aws/smithy-go"

	"github.com/sealpost/sealpost/internal/kms"
)

func isA[T error](err error) bool {
	var t T
	return errors.As(err, &t)
}

// failing replaces an action's call with a fixed error; decoding stays.
type failing struct {
	handler
	err *error
}

func (f failing) run(ctx context.Context, svc domain, c kms.Caller, a args, out *jsonWriter) error {
	if _, err := f.input(a); err != nil {
		return err
	}
	if *f.err == nil {
		panic("boom")
	}
	return *f.err
}

// Every error kind reaches the SDK as its modeled type (or code), with its
// message and HTTP status.
func TestSDKErrorShapes(t *testing.T) {
	e := newEnv(t)
	var next error
	table := map[string]handler{}
	for name, h := range actions {
		table[name] = failing{h, &next}
	}
	e.api.actions = table
	ctx := context.Background()
	c := e.client
	keyID := "1234abcd-12ab-34cd-56ef-1234567890ab"
	encrypt := func() error {
		_, err := c.Encrypt(ctx, &kmssdk.EncryptInput{KeyId: aws.String(keyID), Plaintext: []byte("x")})
		return err
	}
	decrypt := func() error {
		_, err := c.Decrypt(ctx, &kmssdk.DecryptInput{CiphertextBlob: []byte("blob")})
		return err
	}
	tests := []struct {
		err    error
		call   func() error
		code   string
		status int
		is     func(error) bool
	}{
		{&kms.Error{Kind: kms.ErrNotFound, Msg: "Key 'x' does not exist"}, func() error {
			_, err := c.DescribeKey(ctx, &kmssdk.DescribeKeyInput{KeyId: aws.String(keyID)})
			return err
		}, "NotFoundException", 400, isA[*types.NotFoundException]},
		{&kms.Error{Kind: kms.ErrDisabled, Msg: "disabled"}, encrypt, "DisabledException", 400, isA[*types.DisabledException]},
		{&kms.Error{Kind: kms.ErrInvalidState, Msg: "pending deletion"}, encrypt, "KMSInvalidStateException", 400, isA[*types.KMSInvalidStateException]},
		{&kms.Error{Kind: kms.ErrInvalidCiphertext, Msg: ""}, decrypt, "InvalidCiphertextException", 400, isA[*types.InvalidCiphertextException]},
		{&kms.Error{Kind: kms.ErrIncorrectKey, Msg: "wrong key"}, decrypt, "IncorrectKeyException", 400, isA[*types.IncorrectKeyException]},
		{&kms.Error{Kind: kms.ErrAccessDenied, Msg: "User: arn is not authorized"}, encrypt, "AccessDeniedException", 400, nil},
		{&kms.Error{Kind: kms.ErrValidation, Msg: "bad"}, encrypt, "ValidationException", 400, nil},
		{&kms.Error{Kind: kms.ErrLimitExceeded, Msg: "too many"}, func() error {
			_, err := c.CreateKey(ctx, &kmssdk.CreateKeyInput{})
			return err
		}, "LimitExceededException", 400, isA[*types.LimitExceededException]},
		{&kms.Error{Kind: kms.ErrAlreadyExists, Msg: "exists"}, func() error {
			_, err := c.CreateAlias(ctx, &kmssdk.CreateAliasInput{AliasName: aws.String("alias/a"), TargetKeyId: aws.String(keyID)})
			return err
		}, "AlreadyExistsException", 400, isA[*types.AlreadyExistsException]},
		{&kms.Error{Kind: kms.ErrUnsupported, Msg: "only symmetric"}, func() error {
			_, err := c.CreateKey(ctx, &kmssdk.CreateKeyInput{KeySpec: types.KeySpecRsa2048})
			return err
		}, "UnsupportedOperationException", 400, isA[*types.UnsupportedOperationException]},
		{&kms.Error{Kind: kms.ErrInvalidAliasName, Msg: "reserved"}, func() error {
			_, err := c.CreateAlias(ctx, &kmssdk.CreateAliasInput{AliasName: aws.String("alias/aws/x"), TargetKeyId: aws.String(keyID)})
			return err
		}, "InvalidAliasNameException", 400, isA[*types.InvalidAliasNameException]},
		{&kms.Error{Kind: kms.ErrInvalidArn, Msg: "Invalid arn"}, encrypt, "InvalidArnException", 400, isA[*types.InvalidArnException]},
		{&kms.Error{Kind: kms.ErrMalformedPolicy, Msg: "lockout"}, func() error {
			_, err := c.PutKeyPolicy(ctx, &kmssdk.PutKeyPolicyInput{KeyId: aws.String(keyID), Policy: aws.String("{}")})
			return err
		}, "MalformedPolicyDocumentException", 400, isA[*types.MalformedPolicyDocumentException]},
		{&kms.Error{Kind: kms.ErrInvalidGrantToken, Msg: "token"}, encrypt, "InvalidGrantTokenException", 400, isA[*types.InvalidGrantTokenException]},
		{&kms.Error{Kind: kms.ErrInvalidGrantID, Msg: "grant"}, func() error {
			_, err := c.RevokeGrant(ctx, &kmssdk.RevokeGrantInput{KeyId: aws.String(keyID), GrantId: aws.String("g")})
			return err
		}, "InvalidGrantIdException", 400, isA[*types.InvalidGrantIdException]},
		{&kms.Error{Kind: kms.ErrInvalidMarker, Msg: "marker"}, func() error {
			_, err := c.ListKeys(ctx, &kmssdk.ListKeysInput{Marker: aws.String("m")})
			return err
		}, "InvalidMarkerException", 400, isA[*types.InvalidMarkerException]},
		{&kms.Error{Kind: kms.ErrTag, Msg: "tag"}, func() error {
			_, err := c.TagResource(ctx, &kmssdk.TagResourceInput{KeyId: aws.String(keyID), Tags: []types.Tag{{TagKey: aws.String("a"), TagValue: aws.String("b")}}})
			return err
		}, "TagException", 400, isA[*types.TagException]},
		{&kms.Error{Kind: kms.ErrInvalidKeyUsage, Msg: "usage"}, encrypt, "InvalidKeyUsageException", 400, isA[*types.InvalidKeyUsageException]},
		{&kms.Error{Kind: kms.ErrDryRun, Msg: "The request would have succeeded"}, encrypt, "DryRunOperationException", 412, isA[*types.DryRunOperationException]},
		{&kms.Error{Kind: kms.ErrInternal, Msg: "the audit log could not be written"}, encrypt, "KMSInternalException", 500, isA[*types.KMSInternalException]},
		{fmt.Errorf("store: %w", context.DeadlineExceeded), encrypt, "DependencyTimeoutException", 503, isA[*types.DependencyTimeoutException]},
		{errors.New("pebble: disk on fire at /secret/path"), encrypt, "KMSInternalException", 500, isA[*types.KMSInternalException]},
	}
	for _, tt := range tests {
		next = tt.err
		err := tt.call()
		var ae smithy.APIError
		if !errors.As(err, &ae) {
			t.Errorf("%v: %T %v is not an API error", tt.err, err, err)
			continue
		}
		if ae.ErrorCode() != tt.code {
			t.Errorf("%v: code %s, want %s", tt.err, ae.ErrorCode(), tt.code)
		}
		_, _, wantMsg := Code(tt.err)
		if tt.status < 500 && wantMsg != tt.err.Error() {
			t.Errorf("%v: message %q is not the domain's", tt.err, wantMsg)
		}
		if ae.ErrorMessage() != wantMsg {
			t.Errorf("%v: message %q, want %q", tt.err, ae.ErrorMessage(), wantMsg)
		}
		if tt.status >= 500 && strings.Contains(ae.ErrorMessage(), tt.err.Error()) {
			t.Errorf("%v: internal detail sent to the client", tt.err)
		}
		if tt.is != nil && !tt.is(err) {
			t.Errorf("%v: SDK error %T is not the modeled type", tt.err, err)
		}
		var re *awshttp.ResponseError
		if !errors.As(err, &re) || re.HTTPStatusCode() != tt.status {
			t.Errorf("%v: status %v, want %d", tt.err, re, tt.status)
		} else if re.ServiceRequestID() == "" {
			t.Errorf("%v: no request id", tt.err)
		}
	}
	if !strings.Contains(e.logs.String(), "disk on fire") {
		t.Errorf("internal error not logged: %s", e.logs.String())
	}

	// A panic in a handler is a logged internal error.
	next = nil
	err := encrypt()
	if !isA[*types.KMSInternalException](err) {
		t.Errorf("panic: %v, want KMSInternalException", err)
	}
	if !strings.Contains(e.logs.String(), "panic in Encrypt") {
		t.Errorf("panic not logged: %s", e.logs.String())
	}
	if strings.Contains(e.logs.String(), `"Plaintext"`) || strings.Contains(e.logs.String(), "eA==") {
		t.Errorf("request body logged: %s", e.logs.String())
	}
}

// Actions outside the table: model actions Sealpost does not offer answer
// UnsupportedOperationException naming what is supported; others
// UnknownOperationException.
func TestUnsupportedAndUnknownActions(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	_, err := e.client.Sign(ctx, &kmssdk.SignInput{KeyId: aws.String("k"), Message: []byte("m"), SigningAlgorithm: types.SigningAlgorithmSpecEcdsaSha256})
	var ue *types.UnsupportedOperationException
	if !errors.As(err, &ue) || !strings.Contains(ue.ErrorMessage(), "SYMMETRIC_DEFAULT") || !strings.Contains(ue.ErrorMessage(), "ENCRYPT_DECRYPT") {
		t.Errorf("Sign: %v", err)
	}
	_, err = e.client.GenerateDataKeyPair(ctx, &kmssdk.GenerateDataKeyPairInput{KeyId: aws.String("k"), KeyPairSpec: types.DataKeyPairSpecRsa2048})
	if !isA[*types.UnsupportedOperationException](err) {
		t.Errorf("GenerateDataKeyPair: %v", err)
	}
	for action := range unsupported {
		resp := e.post(t, action, `{}`)
		if code := errorCodeOf(t, resp); resp.StatusCode != 400 || code != "UnsupportedOperationException" {
			t.Errorf("%s: %d %s", action, resp.StatusCode, code)
		}
	}
	for _, action := range []string{"Fly", "", "encrypt", strings.Repeat("X", 500)} {
		resp := e.post(t, action, `{}`)
		if code := errorCodeOf(t, resp); resp.StatusCode != 400 || code != "UnknownOperationException" {
			t.Errorf("%q: %d %s", action, resp.StatusCode, code)
		}
	}
}

// errorCodeOf checks an error answer's headers and JSON body and returns
// its __type.
func errorCodeOf(t *testing.T, resp *http.Response) string {
	t.Helper()
	if ct := resp.Header.Get("Content-Type"); ct != ContentType {
		t.Errorf("Content-Type %q", ct)
	}
	if resp.Header.Get("x-amzn-RequestId") == "" {
		t.Error("no x-amzn-RequestId")
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var body map[string]string
	if err := json.Unmarshal(b, &body); err != nil || len(body) != 2 || body["message"] == "" {
		t.Errorf("error body %s: %v", b, err)
	}
	return body["__type"]
}

// The answer's request id is the caller's when the front door set one,
// else a fresh one; every answer is JSON 1.1.
func TestRequestIDAndHeaders(t *testing.T) {
	e := newEnv(t)
	resp := e.post(t, "GenerateRandom", `{"NumberOfBytes":0}`, "Test-Request-Id", "req-123")
	if got := resp.Header.Get("x-amzn-RequestId"); got != "req-123" {
		t.Errorf("request id %q, want the caller's", got)
	}
	if code := errorCodeOf(t, resp); code != "ValidationException" || resp.StatusCode != 400 {
		t.Errorf("%d %s", resp.StatusCode, code)
	}
	a := e.post(t, "GenerateRandom", `{"NumberOfBytes":0}`).Header.Get("x-amzn-RequestId")
	b := e.post(t, "GenerateRandom", `{"NumberOfBytes":0}`).Header.Get("x-amzn-RequestId")
	if len(a) != 36 || a == b {
		t.Errorf("generated request ids %q %q", a, b)
	}
	resp = e.post(t, "ListKeys", `{"Limit":"1"}`)
	if code := errorCodeOf(t, resp); code != "SerializationException" || resp.StatusCode != 400 {
		t.Errorf("%d %s", resp.StatusCode, code)
	}
}

// Every action sent by aws-sdk-go-v2 decodes to the expected domain input
// and reaches the domain: while the domain is a stub it answers "not
// implemented yet", which the SDK must parse as
// *types.UnsupportedOperationException; once it is implemented, any domain
// answer but a decoding or internal error will do.
func TestSDKReachesDomain(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.client
	const kid = "1234abcd-12ab-34cd-56ef-1234567890ab"
	arn := "arn:aws:kms:us-east-1:111122223333:key/" + kid
	ec := map[string]string{"purpose": "test", "empty": ""}
	blob := []byte{0, 1, 2, 250, 251, 252}
	bob := "arn:aws:iam::111122223333:user/bob"
	s := aws.String
	tests := []struct {
		action string
		call   func() error
		want   any
	}{
		{"CreateKey", func() error {
			_, err := c.CreateKey(ctx, &kmssdk.CreateKeyInput{Description: s("d"), Policy: s(`{"Version":"2012-10-17"}`),
				Tags: []types.Tag{{TagKey: s("team"), TagValue: s("x")}}, BypassPolicyLockoutSafetyCheck: true,
				KeySpec: types.KeySpecSymmetricDefault, KeyUsage: types.KeyUsageTypeEncryptDecrypt, MultiRegion: aws.Bool(false)})
			return err
		}, kms.CreateKeyInput{Description: "d", Policy: `{"Version":"2012-10-17"}`, Tags: []kms.Tag{{Key: "team", Value: "x"}},
			BypassPolicyLockoutSafetyCheck: true, KeySpec: "SYMMETRIC_DEFAULT", KeyUsage: "ENCRYPT_DECRYPT"}},
		{"DescribeKey", func() error {
			_, err := c.DescribeKey(ctx, &kmssdk.DescribeKeyInput{KeyId: s(arn), GrantTokens: []string{"gt"}})
			return err
		}, describe{arn, []string{"gt"}}},
		{"ListKeys", func() error {
			_, err := c.ListKeys(ctx, &kmssdk.ListKeysInput{Limit: aws.Int32(10), Marker: s("m1")})
			return err
		}, kms.Page{Limit: 10, Marker: "m1"}},
		{"CreateAlias", func() error {
			_, err := c.CreateAlias(ctx, &kmssdk.CreateAliasInput{AliasName: s("alias/app"), TargetKeyId: s(kid)})
			return err
		}, aliasIn{"alias/app", kid}},
		{"UpdateAlias", func() error {
			_, err := c.UpdateAlias(ctx, &kmssdk.UpdateAliasInput{AliasName: s("alias/app"), TargetKeyId: s(arn)})
			return err
		}, aliasIn{"alias/app", arn}},
		{"DeleteAlias", func() error {
			_, err := c.DeleteAlias(ctx, &kmssdk.DeleteAliasInput{AliasName: s("alias/app")})
			return err
		}, aliasIn{Name: "alias/app"}},
		{"ListAliases", func() error {
			_, err := c.ListAliases(ctx, &kmssdk.ListAliasesInput{KeyId: s(kid), Limit: aws.Int32(5)})
			return err
		}, keyPage{kid, kms.Page{Limit: 5}}},
		{"Encrypt", func() error {
			_, err := c.Encrypt(ctx, &kmssdk.EncryptInput{KeyId: s("alias/app"), Plaintext: []byte("secret"), EncryptionContext: ec,
				GrantTokens: []string{"gt"}, EncryptionAlgorithm: types.EncryptionAlgorithmSpecSymmetricDefault})
			return err
		}, kms.EncryptInput{KeyID: "alias/app", Plaintext: []byte("secret"), Context: ec, GrantTokens: []string{"gt"}, Algorithm: "SYMMETRIC_DEFAULT"}},
		{"Decrypt", func() error {
			_, err := c.Decrypt(ctx, &kmssdk.DecryptInput{CiphertextBlob: blob, EncryptionContext: ec, KeyId: s(kid)})
			return err
		}, kms.DecryptInput{CiphertextBlob: blob, Context: ec, KeyID: kid}},
		{"ReEncrypt", func() error {
			_, err := c.ReEncrypt(ctx, &kmssdk.ReEncryptInput{CiphertextBlob: blob, DestinationKeyId: s("alias/b"),
				SourceEncryptionContext: ec, DestinationEncryptionContext: map[string]string{"d": "1"}, SourceKeyId: s(kid)})
			return err
		}, kms.ReEncryptInput{CiphertextBlob: blob, DestinationKeyID: "alias/b", SourceContext: ec, DestinationContext: map[string]string{"d": "1"}, SourceKeyID: kid}},
		{"GenerateDataKey", func() error {
			_, err := c.GenerateDataKey(ctx, &kmssdk.GenerateDataKeyInput{KeyId: s(kid), KeySpec: types.DataKeySpecAes256, EncryptionContext: ec})
			return err
		}, kms.DataKeyInput{KeyID: kid, KeySpec: "AES_256", Context: ec}},
		{"GenerateDataKeyWithoutPlaintext", func() error {
			_, err := c.GenerateDataKeyWithoutPlaintext(ctx, &kmssdk.GenerateDataKeyWithoutPlaintextInput{KeyId: s(kid), NumberOfBytes: aws.Int32(64)})
			return err
		}, kms.DataKeyInput{KeyID: kid, NumberOfBytes: 64}},
		{"GenerateRandom", func() error {
			_, err := c.GenerateRandom(ctx, &kmssdk.GenerateRandomInput{NumberOfBytes: aws.Int32(32)})
			return err
		}, randomIn{N: 32}},
		{"EnableKey", func() error {
			_, err := c.EnableKey(ctx, &kmssdk.EnableKeyInput{KeyId: s(kid)})
			return err
		}, keyIn{kid}},
		{"DisableKey", func() error {
			_, err := c.DisableKey(ctx, &kmssdk.DisableKeyInput{KeyId: s(kid)})
			return err
		}, keyIn{kid}},
		{"ScheduleKeyDeletion", func() error {
			_, err := c.ScheduleKeyDeletion(ctx, &kmssdk.ScheduleKeyDeletionInput{KeyId: s(kid), PendingWindowInDays: aws.Int32(7)})
			return err
		}, deletionIn{kid, 7}},
		{"CancelKeyDeletion", func() error {
			_, err := c.CancelKeyDeletion(ctx, &kmssdk.CancelKeyDeletionInput{KeyId: s(kid)})
			return err
		}, keyIn{kid}},
		{"EnableKeyRotation", func() error {
			_, err := c.EnableKeyRotation(ctx, &kmssdk.EnableKeyRotationInput{KeyId: s(kid), RotationPeriodInDays: aws.Int32(180)})
			return err
		}, rotationIn{kid, 180}},
		{"DisableKeyRotation", func() error {
			_, err := c.DisableKeyRotation(ctx, &kmssdk.DisableKeyRotationInput{KeyId: s(kid)})
			return err
		}, keyIn{kid}},
		{"GetKeyRotationStatus", func() error {
			_, err := c.GetKeyRotationStatus(ctx, &kmssdk.GetKeyRotationStatusInput{KeyId: s(kid)})
			return err
		}, keyIn{kid}},
		{"RotateKeyOnDemand", func() error {
			_, err := c.RotateKeyOnDemand(ctx, &kmssdk.RotateKeyOnDemandInput{KeyId: s(kid)})
			return err
		}, keyIn{kid}},
		{"ListKeyRotations", func() error {
			_, err := c.ListKeyRotations(ctx, &kmssdk.ListKeyRotationsInput{KeyId: s(kid), Limit: aws.Int32(3)})
			return err
		}, keyPage{kid, kms.Page{Limit: 3}}},
		{"GetKeyPolicy", func() error {
			_, err := c.GetKeyPolicy(ctx, &kmssdk.GetKeyPolicyInput{KeyId: s(kid), PolicyName: s("default")})
			return err
		}, policyIn{KeyID: kid, Name: "default"}},
		{"PutKeyPolicy", func() error {
			_, err := c.PutKeyPolicy(ctx, &kmssdk.PutKeyPolicyInput{KeyId: s(kid), Policy: s("{\n}"), BypassPolicyLockoutSafetyCheck: true})
			return err
		}, policyIn{KeyID: kid, Policy: "{\n}", Bypass: true}},
		{"ListKeyPolicies", func() error {
			_, err := c.ListKeyPolicies(ctx, &kmssdk.ListKeyPoliciesInput{KeyId: s(kid)})
			return err
		}, keyPage{KeyID: kid}},
		{"TagResource", func() error {
			_, err := c.TagResource(ctx, &kmssdk.TagResourceInput{KeyId: s(kid), Tags: []types.Tag{{TagKey: s("a"), TagValue: s("")}}})
			return err
		}, tagsIn{kid, []kms.Tag{{Key: "a"}}}},
		{"UntagResource", func() error {
			_, err := c.UntagResource(ctx, &kmssdk.UntagResourceInput{KeyId: s(kid), TagKeys: []string{"a"}})
			return err
		}, untagIn{kid, []string{"a"}}},
		{"ListResourceTags", func() error {
			_, err := c.ListResourceTags(ctx, &kmssdk.ListResourceTagsInput{KeyId: s(kid), Marker: s("x")})
			return err
		}, keyPage{kid, kms.Page{Marker: "x"}}},
		{"UpdateKeyDescription", func() error {
			_, err := c.UpdateKeyDescription(ctx, &kmssdk.UpdateKeyDescriptionInput{KeyId: s(kid), Description: s("")})
			return err
		}, descriptionIn{kid, ""}},
		{"CreateGrant", func() error {
			_, err := c.CreateGrant(ctx, &kmssdk.CreateGrantInput{KeyId: s(kid), GranteePrincipal: s(bob), RetiringPrincipal: s(testRoot),
				Operations:  []types.GrantOperation{types.GrantOperationDecrypt, types.GrantOperationGenerateDataKey},
				Constraints: &types.GrantConstraints{EncryptionContextSubset: ec}, Name: s("g1")})
			return err
		}, kms.CreateGrantInput{KeyID: kid, GranteePrincipal: bob, RetiringPrincipal: testRoot, Operations: []string{"Decrypt", "GenerateDataKey"},
			Constraints: &kms.GrantConstraints{EncryptionContextSubset: ec}, Name: "g1"}},
		{"ListGrants", func() error {
			_, err := c.ListGrants(ctx, &kmssdk.ListGrantsInput{KeyId: s(kid), GranteePrincipal: s(bob)})
			return err
		}, listGrantsIn{KeyID: kid, Grantee: bob}},
		{"RetireGrant", func() error {
			_, err := c.RetireGrant(ctx, &kmssdk.RetireGrantInput{KeyId: s(arn), GrantId: s("gid")})
			return err
		}, retireIn{KeyID: arn, GrantID: "gid"}},
		{"RevokeGrant", func() error {
			_, err := c.RevokeGrant(ctx, &kmssdk.RevokeGrantInput{KeyId: s(kid), GrantId: s("gid")})
			return err
		}, grantIn{kid, "gid"}},
		{"ListRetirableGrants", func() error {
			_, err := c.ListRetirableGrants(ctx, &kmssdk.ListRetirableGrantsInput{RetiringPrincipal: s(testRoot), Limit: aws.Int32(7)})
			return err
		}, retirableIn{testRoot, kms.Page{Limit: 7}}},
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		seen[tt.action] = true
		err := tt.call()
		r := e.last(t)
		if r.action != tt.action {
			t.Errorf("%s: the SDK sent %s", tt.action, r.action)
			continue
		}
		got, derr := decodeInput(r.action, r.body)
		if derr != nil {
			t.Errorf("%s: decoding the SDK's body %s: %v", tt.action, r.body, derr)
		} else if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: decoded\n %#v\nwant\n %#v", tt.action, got, tt.want)
		}
		var ae smithy.APIError
		switch {
		case err == nil:
		case !errors.As(err, &ae):
			t.Errorf("%s: %T %v", tt.action, err, err)
		case ae.ErrorMessage() == "not implemented yet":
			if !isA[*types.UnsupportedOperationException](err) {
				t.Errorf("%s: the domain's stub error parsed as %T", tt.action, err)
			}
		case ae.ErrorCode() == "SerializationException" || ae.ErrorCode() == "UnknownOperationException" || ae.ErrorCode() == "KMSInternalException":
			t.Errorf("%s: %v", tt.action, err)
		}
	}
	for a := range actions {
		if !seen[a] {
			t.Errorf("%s not exercised", a)
		}
	}

	// A request the decoder refuses never reaches the domain.
	_, err := c.GenerateRandom(ctx, &kmssdk.GenerateRandomInput{NumberOfBytes: aws.Int32(0)})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "ValidationException" ||
		ae.ErrorMessage() != "1 validation error detected: Value '0' at 'numberOfBytes' failed to satisfy constraint: Member must have value greater than or equal to 1" {
		t.Errorf("GenerateRandom 0: %v", err)
	}
}
