package server_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/smithy-go"

	"github.com/sealpost/sealpost/internal/testserver"
)

// KMS policy tests through the real front door: aws-sdk-go-v2 clients
// signed with the credentials of two accounts from a credentials file.
// Account A owns the keys; B is another account.
const (
	kmsAcctA = "333333333333"
	kmsAcctB = "444444444444"
	kmsRootA = "arn:aws:iam::" + kmsAcctA + ":root"
	kmsRootB = "arn:aws:iam::" + kmsAcctB + ":root"
)

const kmsCredentials = `{"accounts": [
 {"id": "333333333333", "users": [
   {"name": "root", "accessKeys": [{"id": "AKIAKMSA", "secret": "secret-a"}]},
   {"name": "nodecrypt", "accessKeys": [{"id": "AKIAKMSND", "secret": "secret-nd"}],
    "policy": {"Version": "2012-10-17", "Statement": [
      {"Effect": "Allow", "Action": "kms:*", "Resource": "*"},
      {"Effect": "Deny", "Action": "kms:Decrypt", "Resource": "*"}]}}]},
 {"id": "444444444444", "users": [
   {"name": "root", "accessKeys": [{"id": "AKIAKMSB", "secret": "secret-b"}]},
   {"name": "describer", "accessKeys": [{"id": "AKIAKMSBD", "secret": "secret-bd"}],
    "policy": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "kms:DescribeKey", "Resource": "*"}]}}]}
]}`

type kmsWorld struct {
	srv *testserver.Server
	// a and b are the account roots; aNoDecrypt is A's user whose identity
	// policy denies kms:Decrypt; bDescribe is B's user allowed only
	// kms:DescribeKey.
	a, aNoDecrypt, b, bDescribe *kms.Client
}

func newKMSWorld(t *testing.T) *kmsWorld {
	t.Helper()
	path := filepath.Join(t.TempDir(), "credentials.json")
	if err := os.WriteFile(path, []byte(kmsCredentials), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := testserver.Start(t, testserver.Options{Args: []string{"--credentials", path}})
	cl := func(key, secret string) *kms.Client {
		cfg := srv.AWSConfig(t, srv.URL(), key, secret, "")
		cfg.RetryMaxAttempts = 1 // a 500 must show, not be retried away
		return kms.NewFromConfig(cfg)
	}
	return &kmsWorld{srv: srv, a: cl("AKIAKMSA", "secret-a"), aNoDecrypt: cl("AKIAKMSND", "secret-nd"),
		b: cl("AKIAKMSB", "secret-b"), bDescribe: cl("AKIAKMSBD", "secret-bd")}
}

// kmsKey creates a key with policy ("" = the default) and returns its
// metadata.
func kmsKey(t *testing.T, c *kms.Client, policy string) *types.KeyMetadata {
	t.Helper()
	in := &kms.CreateKeyInput{Description: aws.String("policy test")}
	if policy != "" {
		in.Policy = aws.String(policy)
	}
	out, err := c.CreateKey(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	return out.KeyMetadata
}

// kmsPolicy is a key policy of statements (JSON objects).
func kmsPolicy(statements ...string) string {
	return `{"Version": "2012-10-17", "Statement": [` + strings.Join(statements, ",") + `]}`
}

// rootOfA is the default key policy's statement: A's root may do
// everything, which delegates to A's identity policies.
const rootOfA = `{"Sid": "Enable IAM User Permissions", "Effect": "Allow", "Principal": {"AWS": "` + kmsRootA + `"}, "Action": "kms:*", "Resource": "*"}`

func kmsEncrypt(c *kms.Client, keyID string, ec map[string]string) ([]byte, error) {
	out, err := c.Encrypt(context.Background(), &kms.EncryptInput{KeyId: aws.String(keyID), Plaintext: []byte("policy test"), EncryptionContext: ec})
	if err != nil {
		return nil, err
	}
	return out.CiphertextBlob, nil
}

func kmsOK(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// kmsWant checks that err is the SDK's typed error T with HTTP status 400
// (every KMS client error is 400) and that its message contains msg.
func kmsWant[T error](t *testing.T, what string, err error, msg string) {
	t.Helper()
	var typed T
	if !errors.As(err, &typed) {
		t.Fatalf("%s: got %T %v, want %T", what, err, err, typed)
	}
	var re interface{ HTTPStatusCode() int }
	if !errors.As(err, &re) || re.HTTPStatusCode() != 400 {
		t.Fatalf("%s: %v: status not 400", what, err)
	}
	var ae smithy.APIError
	if errors.As(err, &ae); !strings.Contains(ae.ErrorMessage(), msg) {
		t.Fatalf("%s: message %q does not contain %q", what, ae.ErrorMessage(), msg)
	}
}

// kmsDenied checks AWS's AccessDeniedException for principal doing action
// on the key keyARN.
func kmsDenied(t *testing.T, what string, err error, principal, action, keyARN string) {
	t.Helper()
	kmsWantCode(t, what, err, "AccessDeniedException",
		"User: "+principal+" is not authorized to perform: kms:"+action+" on resource: "+keyARN+" ")
}

// kmsWantCode is kmsWant for errors the SDK has no type for
// (AccessDeniedException is not in the KMS model): the code as the SDK
// parses it, status 400, and a message containing msg.
func kmsWantCode(t *testing.T, what string, err error, code, msg string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != code {
		t.Fatalf("%s: got %T %v, want %s", what, err, err, code)
	}
	var re interface{ HTTPStatusCode() int }
	if !errors.As(err, &re) || re.HTTPStatusCode() != 400 {
		t.Fatalf("%s: %v: status not 400", what, err)
	}
	if !strings.Contains(ae.ErrorMessage(), msg) {
		t.Fatalf("%s: message %q does not contain %q", what, ae.ErrorMessage(), msg)
	}
}

// TestKMSPolicyDenyWins: an explicit Deny in the key policy refuses the
// owner's root (whose Allow is kms:*) and a grantee whose grant lists the
// operation.
func TestKMSPolicyDenyWins(t *testing.T) {
	ctx := context.Background()
	w := newKMSWorld(t)
	k := kmsKey(t, w.a, kmsPolicy(rootOfA,
		`{"Effect": "Deny", "Principal": "*", "Action": "kms:GenerateDataKey", "Resource": "*"}`))
	arn := aws.ToString(k.Arn)

	_, err := kmsEncrypt(w.a, arn, nil)
	kmsOK(t, "A Encrypt", err)
	_, err = w.a.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{KeyId: k.KeyId, KeySpec: types.DataKeySpecAes256})
	kmsDenied(t, "A GenerateDataKey under Deny", err, kmsRootA, "GenerateDataKey", arn)
	kmsWantCode(t, "reason", err, "AccessDeniedException", "with an explicit deny in a resource-based policy")

	g, err := w.a.CreateGrant(ctx, &kms.CreateGrantInput{KeyId: k.KeyId, GranteePrincipal: aws.String(kmsRootB),
		Operations: []types.GrantOperation{types.GrantOperationEncrypt, types.GrantOperationGenerateDataKey}})
	kmsOK(t, "CreateGrant", err)
	_, err = kmsEncrypt(w.b, arn, nil)
	kmsOK(t, "B Encrypt through the grant", err)
	_, err = w.b.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{KeyId: aws.String(arn), KeySpec: types.DataKeySpecAes256,
		GrantTokens: []string{aws.ToString(g.GrantToken)}})
	kmsDenied(t, "B GenerateDataKey through the grant under Deny", err, kmsRootB, "GenerateDataKey", arn)
}

// TestKMSPolicyCrossAccount: B is refused on A's key by ARN (and does not
// find it by id) until A's key policy allows B's account root; then B's
// identity policy decides (B's root: allowed; B's user allowed only
// DescribeKey: refused Encrypt).
func TestKMSPolicyCrossAccount(t *testing.T) {
	ctx := context.Background()
	w := newKMSWorld(t)
	k := kmsKey(t, w.a, "")
	arn, id := aws.ToString(k.Arn), aws.ToString(k.KeyId)
	blob, err := kmsEncrypt(w.a, id, nil)
	kmsOK(t, "A Encrypt", err)

	_, err = kmsEncrypt(w.b, arn, nil)
	kmsDenied(t, "B Encrypt by ARN", err, kmsRootB, "Encrypt", arn)
	_, err = w.b.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(arn)})
	kmsDenied(t, "B DescribeKey by ARN", err, kmsRootB, "DescribeKey", arn)
	_, err = w.b.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: blob})
	kmsDenied(t, "B Decrypt of A's blob", err, kmsRootB, "Decrypt", arn)
	_, err = kmsEncrypt(w.b, id, nil) // an id resolves in B's own account
	kmsWant[*types.NotFoundException](t, "B Encrypt by id", err, "does not exist")

	pol := kmsPolicy(rootOfA, `{"Effect": "Allow", "Principal": {"AWS": "`+kmsRootB+`"},
		"Action": ["kms:Encrypt", "kms:Decrypt", "kms:DescribeKey"], "Resource": "*"}`)
	_, err = w.a.PutKeyPolicy(ctx, &kms.PutKeyPolicyInput{KeyId: k.KeyId, PolicyName: aws.String("default"), Policy: aws.String(pol)})
	kmsOK(t, "PutKeyPolicy", err)

	_, err = kmsEncrypt(w.b, arn, nil)
	kmsOK(t, "B Encrypt after the key policy allows B", err)
	out, err := w.b.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: blob})
	kmsOK(t, "B Decrypt", err)
	if string(out.Plaintext) != "policy test" || aws.ToString(out.KeyId) != arn {
		t.Fatalf("B Decrypt = %q %s", out.Plaintext, aws.ToString(out.KeyId))
	}
	_, err = w.b.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{KeyId: aws.String(arn), KeySpec: types.DataKeySpecAes256})
	kmsDenied(t, "B GenerateDataKey (not in the key policy)", err, kmsRootB, "GenerateDataKey", arn)
	// ReEncrypt needs kms:ReEncryptFrom on the source key (Decrypt is not
	// enough) and kms:ReEncryptTo on the destination.
	bKey := kmsKey(t, w.b, "")
	_, err = w.b.ReEncrypt(ctx, &kms.ReEncryptInput{CiphertextBlob: blob, DestinationKeyId: bKey.KeyId})
	kmsDenied(t, "B ReEncrypt from A's key", err, kmsRootB, "ReEncryptFrom", arn)
	_, err = w.a.ReEncrypt(ctx, &kms.ReEncryptInput{CiphertextBlob: blob, DestinationKeyId: bKey.Arn})
	kmsDenied(t, "A ReEncrypt to B's key", err, kmsRootA, "ReEncryptTo", aws.ToString(bKey.Arn))
	// An alias ARN of A's names the key for B too; an alias name resolves
	// in B's own account.
	_, err = w.a.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String("alias/shared"), TargetKeyId: k.KeyId})
	kmsOK(t, "A CreateAlias", err)
	_, err = kmsEncrypt(w.b, "arn:aws:kms:us-east-1:"+kmsAcctA+":alias/shared", nil)
	kmsOK(t, "B Encrypt by A's alias ARN", err)
	_, err = kmsEncrypt(w.b, "alias/shared", nil)
	kmsWant[*types.NotFoundException](t, "B Encrypt by alias name", err, "alias/shared")

	// B's user: the key policy allows its account, its identity policy
	// allows only DescribeKey.
	const describer = "arn:aws:iam::" + kmsAcctB + ":user/describer"
	_, err = w.bDescribe.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(arn)})
	kmsOK(t, "B describer DescribeKey", err)
	_, err = kmsEncrypt(w.bDescribe, arn, nil)
	kmsDenied(t, "B describer Encrypt", err, describer, "Encrypt", arn)
	kmsWantCode(t, "reason", err, "AccessDeniedException", "because no identity-based policy allows the kms:Encrypt action")
}

// TestKMSGrantCrossAccount: B is refused on A's key until A creates a
// grant to B; a grant retired (by B, with its token) and a grant revoked
// (by A) stop working at once.
func TestKMSGrantCrossAccount(t *testing.T) {
	ctx := context.Background()
	w := newKMSWorld(t)
	k := kmsKey(t, w.a, "")
	arn := aws.ToString(k.Arn)
	blob, err := kmsEncrypt(w.a, arn, map[string]string{"topic": "orders"})
	kmsOK(t, "A Encrypt", err)
	decrypt := func(c *kms.Client, tokens ...string) error {
		_, err := c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: blob, EncryptionContext: map[string]string{"topic": "orders"}, GrantTokens: tokens})
		return err
	}
	kmsDenied(t, "B Decrypt before any grant", decrypt(w.b), kmsRootB, "Decrypt", arn)

	ops := []types.GrantOperation{types.GrantOperationEncrypt, types.GrantOperationDecrypt}
	g1, err := w.a.CreateGrant(ctx, &kms.CreateGrantInput{KeyId: k.KeyId, GranteePrincipal: aws.String(kmsRootB),
		RetiringPrincipal: aws.String(kmsRootB), Operations: ops})
	kmsOK(t, "CreateGrant 1", err)
	kmsOK(t, "B Decrypt with grant 1", decrypt(w.b, aws.ToString(g1.GrantToken)))
	kmsOK(t, "B Decrypt with grant 1, no token", decrypt(w.b))
	_, err = kmsEncrypt(w.b, arn, nil)
	kmsOK(t, "B Encrypt with grant 1", err)
	_, err = w.b.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{KeyId: aws.String(arn), KeySpec: types.DataKeySpecAes256})
	kmsDenied(t, "B GenerateDataKey (not granted)", err, kmsRootB, "GenerateDataKey", arn)
	// B's user with an identity policy allowing only DescribeKey gets
	// nothing from a grant to its account root.
	_, err = kmsEncrypt(w.bDescribe, arn, nil)
	kmsDenied(t, "B describer Encrypt", err, "arn:aws:iam::"+kmsAcctB+":user/describer", "Encrypt", arn)

	list, err := w.b.ListRetirableGrants(ctx, &kms.ListRetirableGrantsInput{RetiringPrincipal: aws.String(kmsRootB)})
	kmsOK(t, "ListRetirableGrants", err)
	if len(list.Grants) != 1 || aws.ToString(list.Grants[0].GrantId) != aws.ToString(g1.GrantId) {
		t.Fatalf("ListRetirableGrants = %+v", list.Grants)
	}
	_, err = w.b.RetireGrant(ctx, &kms.RetireGrantInput{GrantToken: g1.GrantToken})
	kmsOK(t, "B RetireGrant by token", err)
	kmsDenied(t, "B Decrypt after retire", decrypt(w.b), kmsRootB, "Decrypt", arn)
	kmsDenied(t, "B Decrypt after retire, with the token", decrypt(w.b, aws.ToString(g1.GrantToken)), kmsRootB, "Decrypt", arn)

	g2, err := w.a.CreateGrant(ctx, &kms.CreateGrantInput{KeyId: k.KeyId, GranteePrincipal: aws.String(kmsRootB), Operations: ops})
	kmsOK(t, "CreateGrant 2", err)
	kmsOK(t, "B Decrypt with grant 2", decrypt(w.b))
	// B is the grantee, not a retiring principal, and the grant does not
	// list RetireGrant: B may not retire it.
	_, err = w.b.RetireGrant(ctx, &kms.RetireGrantInput{KeyId: aws.String(arn), GrantId: g2.GrantId})
	kmsWantCode(t, "B RetireGrant of grant 2", err, "AccessDeniedException", "")
	_, err = w.b.RevokeGrant(ctx, &kms.RevokeGrantInput{KeyId: aws.String(arn), GrantId: g2.GrantId})
	kmsDenied(t, "B RevokeGrant", err, kmsRootB, "RevokeGrant", arn)
	_, err = w.a.RevokeGrant(ctx, &kms.RevokeGrantInput{KeyId: k.KeyId, GrantId: g2.GrantId})
	kmsOK(t, "A RevokeGrant", err)
	kmsDenied(t, "B Decrypt after revoke", decrypt(w.b, aws.ToString(g2.GrantToken)), kmsRootB, "Decrypt", arn)
	grants, err := w.a.ListGrants(ctx, &kms.ListGrantsInput{KeyId: k.KeyId})
	kmsOK(t, "ListGrants", err)
	if len(grants.Grants) != 0 {
		t.Fatalf("grants left: %+v", grants.Grants)
	}
}

// TestKMSPolicyEncryptionContext: a key policy statement with a
// kms:EncryptionContext:topic condition allows Encrypt with that context
// and refuses another context or none.
func TestKMSPolicyEncryptionContext(t *testing.T) {
	w := newKMSWorld(t)
	k := kmsKey(t, w.a, kmsPolicy(rootOfA, `{"Effect": "Allow", "Principal": {"AWS": "`+kmsAcctB+`"},
		"Action": ["kms:Encrypt", "kms:Decrypt"], "Resource": "*",
		"Condition": {"StringEquals": {"kms:EncryptionContext:topic": "orders"}}}`))
	arn := aws.ToString(k.Arn)
	ctx := context.Background()

	blob, err := kmsEncrypt(w.b, arn, map[string]string{"topic": "orders"})
	kmsOK(t, "B Encrypt topic=orders", err)
	for _, ec := range []map[string]string{{"topic": "payments"}, {"other": "orders"}, nil} {
		_, err = kmsEncrypt(w.b, arn, ec)
		kmsDenied(t, "B Encrypt with context "+stringMap(ec), err, kmsRootB, "Encrypt", arn)
	}
	out, err := w.b.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: blob, EncryptionContext: map[string]string{"topic": "orders"}})
	kmsOK(t, "B Decrypt topic=orders", err)
	if string(out.Plaintext) != "policy test" {
		t.Fatalf("plaintext %q", out.Plaintext)
	}
	// A's own blob under another context: B's Decrypt is refused by the
	// policy before the context is checked against the blob.
	other, err := kmsEncrypt(w.a, arn, map[string]string{"topic": "payments"})
	kmsOK(t, "A Encrypt topic=payments", err)
	_, err = w.b.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: other, EncryptionContext: map[string]string{"topic": "payments"}})
	kmsDenied(t, "B Decrypt topic=payments", err, kmsRootB, "Decrypt", arn)
}

func stringMap(m map[string]string) string {
	if m == nil {
		return "none"
	}
	var b strings.Builder
	for k, v := range m {
		b.WriteString(k + "=" + v + " ")
	}
	return b.String()
}

// TestKMSPolicyLockout: CreateKey and PutKeyPolicy with a policy that
// would lock the caller out are refused (MalformedPolicyDocumentException)
// unless BypassPolicyLockoutSafetyCheck is set; after the bypass the
// caller is locked out indeed.
func TestKMSPolicyLockout(t *testing.T) {
	ctx := context.Background()
	w := newKMSWorld(t)
	onlyB := kmsPolicy(`{"Effect": "Allow", "Principal": {"AWS": "` + kmsRootB + `"}, "Action": "kms:*", "Resource": "*"}`)
	const lockoutMsg = "The new key policy will not allow you to update the key policy in the future."

	_, err := w.a.CreateKey(ctx, &kms.CreateKeyInput{Policy: aws.String(onlyB)})
	kmsWant[*types.MalformedPolicyDocumentException](t, "CreateKey locking A out", err, lockoutMsg)
	created, err := w.a.CreateKey(ctx, &kms.CreateKeyInput{Policy: aws.String(onlyB), BypassPolicyLockoutSafetyCheck: true})
	kmsOK(t, "CreateKey with bypass", err)
	_, err = w.a.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: created.KeyMetadata.KeyId})
	kmsDenied(t, "A DescribeKey of its locked key", err, kmsRootA, "DescribeKey", aws.ToString(created.KeyMetadata.Arn))

	k := kmsKey(t, w.a, "")
	arn := aws.ToString(k.Arn)
	put := func(doc string, bypass bool) error {
		_, err := w.a.PutKeyPolicy(ctx, &kms.PutKeyPolicyInput{KeyId: k.KeyId, PolicyName: aws.String("default"),
			Policy: aws.String(doc), BypassPolicyLockoutSafetyCheck: bypass})
		return err
	}
	// A user whose identity policy allows kms:* may still lock out.
	noPut := kmsPolicy(rootOfA, `{"Effect": "Deny", "Principal": {"AWS": "`+kmsRootA+`"}, "Action": "kms:PutKeyPolicy", "Resource": "*"}`)
	kmsWant[*types.MalformedPolicyDocumentException](t, "PutKeyPolicy only B", put(onlyB, false), lockoutMsg)
	kmsWant[*types.MalformedPolicyDocumentException](t, "PutKeyPolicy denying PutKeyPolicy", put(noPut, false), lockoutMsg)
	got, err := w.a.GetKeyPolicy(ctx, &kms.GetKeyPolicyInput{KeyId: k.KeyId})
	kmsOK(t, "GetKeyPolicy", err)
	if strings.Contains(aws.ToString(got.Policy), kmsRootB) || strings.Contains(aws.ToString(got.Policy), "Deny") {
		t.Fatalf("a refused policy was stored: %s", aws.ToString(got.Policy))
	}
	kmsOK(t, "PutKeyPolicy with bypass", put(noPut, true))
	_, err = kmsEncrypt(w.a, arn, nil)
	kmsOK(t, "A Encrypt after the bypass", err)
	kmsDenied(t, "A PutKeyPolicy after locking itself out", put(rootOfA, true), kmsRootA, "PutKeyPolicy", arn)
}

// TestKMSIdentityPolicyDeny: a user whose identity policy allows kms:* but
// denies kms:Decrypt may encrypt and is refused Decrypt, even with a key
// policy that names the user.
func TestKMSIdentityPolicyDeny(t *testing.T) {
	ctx := context.Background()
	w := newKMSWorld(t)
	const user = "arn:aws:iam::" + kmsAcctA + ":user/nodecrypt"
	for _, pol := range []string{"", kmsPolicy(rootOfA, `{"Effect": "Allow", "Principal": {"AWS": "`+user+`"}, "Action": "kms:*", "Resource": "*"}`)} {
		k := kmsKey(t, w.a, pol)
		blob, err := kmsEncrypt(w.aNoDecrypt, aws.ToString(k.KeyId), nil)
		kmsOK(t, "nodecrypt Encrypt", err)
		_, err = w.aNoDecrypt.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: blob})
		kmsDenied(t, "nodecrypt Decrypt", err, user, "Decrypt", aws.ToString(k.Arn))
		kmsWantCode(t, "reason", err, "AccessDeniedException", "with an explicit deny in an identity-based policy")
		_, err = w.a.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: blob})
		kmsOK(t, "root Decrypt", err)
	}
}

// TestKMSPolicyConditionKeys: condition keys the front door feeds into key
// policies, through real clients: kms:CallerAccount, aws:PrincipalArn,
// kms:EncryptionContextKeys, aws:SecureTransport (HTTP refused, HTTPS
// allowed), and a grant's EncryptionContextSubset constraint.
func TestKMSPolicyConditionKeys(t *testing.T) {
	ctx := context.Background()
	w := newKMSWorld(t)
	const describer = "arn:aws:iam::" + kmsAcctB + ":user/describer"

	// kms:CallerAccount: anyone of account B may Encrypt.
	k := kmsKey(t, w.a, kmsPolicy(rootOfA, `{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "kms:Encrypt", "Resource": "*",
		"Condition": {"StringEquals": {"kms:CallerAccount": "`+kmsAcctB+`"}}}`))
	_, err := kmsEncrypt(w.b, aws.ToString(k.Arn), nil)
	kmsOK(t, "B Encrypt under kms:CallerAccount", err)

	// aws:PrincipalArn: a Deny for B's describer user only.
	k = kmsKey(t, w.a, kmsPolicy(rootOfA,
		`{"Effect": "Allow", "Principal": {"AWS": "`+kmsAcctB+`"}, "Action": "kms:DescribeKey", "Resource": "*"}`,
		`{"Effect": "Deny", "Principal": "*", "Action": "kms:DescribeKey", "Resource": "*",
		  "Condition": {"ArnEquals": {"aws:PrincipalArn": "`+describer+`"}}}`))
	arn := aws.ToString(k.Arn)
	_, err = w.b.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(arn)})
	kmsOK(t, "B root DescribeKey", err)
	_, err = w.bDescribe.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(arn)})
	kmsDenied(t, "describer DescribeKey under aws:PrincipalArn Deny", err, describer, "DescribeKey", arn)

	// kms:EncryptionContextKeys: B may Encrypt only with context keys
	// among topic and tenant (and at least one).
	k = kmsKey(t, w.a, kmsPolicy(rootOfA, `{"Effect": "Allow", "Principal": {"AWS": "`+kmsRootB+`"}, "Action": "kms:Encrypt", "Resource": "*",
		"Condition": {"ForAllValues:StringEquals": {"kms:EncryptionContextKeys": ["topic", "tenant"]}, "Null": {"kms:EncryptionContextKeys": "false"}}}`))
	arn = aws.ToString(k.Arn)
	for _, tc := range []struct {
		ec map[string]string
		ok bool
	}{
		{map[string]string{"topic": "a"}, true},
		{map[string]string{"topic": "a", "tenant": "b"}, true},
		{map[string]string{"topic": "a", "other": "b"}, false},
		{nil, false},
	} {
		_, err := kmsEncrypt(w.b, arn, tc.ec)
		if tc.ok {
			kmsOK(t, "B Encrypt with context keys of "+stringMap(tc.ec), err)
		} else {
			kmsDenied(t, "B Encrypt with context keys of "+stringMap(tc.ec), err, kmsRootB, "Encrypt", arn)
		}
	}

	// aws:SecureTransport: a Deny over plain HTTP.
	k = kmsKey(t, w.a, kmsPolicy(rootOfA, `{"Effect": "Deny", "Principal": "*", "Action": "kms:Encrypt", "Resource": "*",
		"Condition": {"Bool": {"aws:SecureTransport": "false"}}}`))
	arn = aws.ToString(k.Arn)
	_, err = kmsEncrypt(w.a, arn, nil)
	kmsDenied(t, "A Encrypt over HTTP", err, kmsRootA, "Encrypt", arn)
	cfg := w.srv.AWSConfig(t, w.srv.TLSURL(), "AKIAKMSA", "secret-a", "")
	cfg.RetryMaxAttempts = 1
	_, err = kmsEncrypt(kms.NewFromConfig(cfg), arn, nil)
	kmsOK(t, "A Encrypt over HTTPS", err)

	// A grant to B constrained to a context subset.
	k = kmsKey(t, w.a, "")
	arn = aws.ToString(k.Arn)
	_, err = w.a.CreateGrant(ctx, &kms.CreateGrantInput{KeyId: k.KeyId, GranteePrincipal: aws.String(kmsRootB),
		Operations:  []types.GrantOperation{types.GrantOperationEncrypt},
		Constraints: &types.GrantConstraints{EncryptionContextSubset: map[string]string{"topic": "orders"}}})
	kmsOK(t, "CreateGrant with constraints", err)
	_, err = kmsEncrypt(w.b, arn, map[string]string{"topic": "orders", "extra": "x"})
	kmsOK(t, "B Encrypt within the grant's context subset", err)
	for _, ec := range []map[string]string{{"topic": "payments"}, nil} {
		_, err = kmsEncrypt(w.b, arn, ec)
		kmsDenied(t, "B Encrypt outside the grant's context subset "+stringMap(ec), err, kmsRootB, "Encrypt", arn)
	}
}

// TestKMSCrossAccountCreateGrant: A's key policy lets B create grants
// whose operations are only Decrypt (kms:GrantOperations); B creates one
// for itself and decrypts A's ciphertext with it; a grant asking for more
// is refused.
func TestKMSCrossAccountCreateGrant(t *testing.T) {
	ctx := context.Background()
	w := newKMSWorld(t)
	k := kmsKey(t, w.a, kmsPolicy(rootOfA, `{"Effect": "Allow", "Principal": {"AWS": "`+kmsRootB+`"}, "Action": "kms:CreateGrant", "Resource": "*",
		"Condition": {"ForAllValues:StringEquals": {"kms:GrantOperations": ["Decrypt"]}}}`))
	arn := aws.ToString(k.Arn)
	blob, err := kmsEncrypt(w.a, arn, nil)
	kmsOK(t, "A Encrypt", err)
	_, err = w.b.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: blob})
	kmsDenied(t, "B Decrypt before its grant", err, kmsRootB, "Decrypt", arn)

	_, err = w.b.CreateGrant(ctx, &kms.CreateGrantInput{KeyId: aws.String(arn), GranteePrincipal: aws.String(kmsRootB),
		Operations: []types.GrantOperation{types.GrantOperationDecrypt, types.GrantOperationEncrypt}})
	kmsDenied(t, "B CreateGrant for Decrypt and Encrypt", err, kmsRootB, "CreateGrant", arn)
	g, err := w.b.CreateGrant(ctx, &kms.CreateGrantInput{KeyId: aws.String(arn), GranteePrincipal: aws.String(kmsRootB),
		Operations: []types.GrantOperation{types.GrantOperationDecrypt}})
	kmsOK(t, "B CreateGrant for Decrypt", err)
	out, err := w.b.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: blob, GrantTokens: []string{aws.ToString(g.GrantToken)}})
	kmsOK(t, "B Decrypt with its grant", err)
	if string(out.Plaintext) != "policy test" {
		t.Fatalf("plaintext %q", out.Plaintext)
	}
	_, err = kmsEncrypt(w.b, arn, nil)
	kmsDenied(t, "B Encrypt (not granted)", err, kmsRootB, "Encrypt", arn)
	grants, err := w.a.ListGrants(ctx, &kms.ListGrantsInput{KeyId: k.KeyId})
	kmsOK(t, "A ListGrants", err)
	if len(grants.Grants) != 1 || aws.ToString(grants.Grants[0].IssuingAccount) != kmsRootB {
		t.Fatalf("ListGrants = %+v", grants.Grants)
	}
	// The issuing account may retire the grant it created.
	_, err = w.b.RetireGrant(ctx, &kms.RetireGrantInput{KeyId: aws.String(arn), GrantId: g.GrantId})
	kmsOK(t, "B RetireGrant of the grant it issued", err)
	_, err = w.b.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: blob})
	kmsDenied(t, "B Decrypt after retiring", err, kmsRootB, "Decrypt", arn)
}
