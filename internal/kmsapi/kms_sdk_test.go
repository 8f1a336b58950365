package kmsapi

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	kmssdk "github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	smithy "github.com/aws/smithy-go"
)

// The end-to-end suite: every action through aws-sdk-go-v2, the adapter
// and the real domain.

// notYet fails the test when err is a stub's answer (the domain was
// built in parallel with this adapter; every method is real now).
func notYet(t *testing.T, err error) {
	t.Helper()
	var ae smithy.APIError
	if errors.As(err, &ae) && ae.ErrorMessage() == "not implemented yet" {
		t.Fatalf("domain method not implemented: %v", err)
	}
}

func ok(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		notYet(t, err)
		t.Fatal(err)
	}
}

// fails checks that err is the SDK's T.
func fails[T error](t *testing.T, err error) {
	t.Helper()
	if err == nil {
		var zero T
		t.Fatalf("no error, want %T", zero)
	}
	notYet(t, err)
	if !isA[T](err) {
		var zero T
		t.Fatalf("%T %v, want %T", err, err, zero)
	}
}

func TestSDKEndToEnd(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.client
	s := aws.String
	start := time.Now()
	var key1, key2 *types.KeyMetadata
	need := func(t *testing.T) {
		if key1 == nil || key2 == nil {
			t.Skip("no keys (CreateKey not available)")
		}
	}

	t.Run("CreateKey", func(t *testing.T) {
		out, err := c.CreateKey(ctx, &kmssdk.CreateKeyInput{Description: s("first key"),
			Tags: []types.Tag{{TagKey: s("team"), TagValue: s("core")}}})
		ok(t, err)
		md := out.KeyMetadata
		if md == nil || aws.ToString(md.KeyId) == "" || md.KeyState != types.KeyStateEnabled || !md.Enabled ||
			md.KeySpec != types.KeySpecSymmetricDefault || md.KeyUsage != types.KeyUsageTypeEncryptDecrypt ||
			md.KeyManager != types.KeyManagerTypeCustomer || md.Origin != types.OriginTypeAwsKms ||
			aws.ToString(md.Description) != "first key" || aws.ToString(md.AWSAccountId) != testAccount ||
			aws.ToBool(md.MultiRegion) || md.DeletionDate != nil ||
			!slices.Equal(md.EncryptionAlgorithms, []types.EncryptionAlgorithmSpec{types.EncryptionAlgorithmSpecSymmetricDefault}) {
			t.Fatalf("metadata %+v", md)
		}
		if aws.ToString(md.Arn) != "arn:aws:kms:us-east-1:111122223333:key/"+aws.ToString(md.KeyId) {
			t.Errorf("Arn %s", aws.ToString(md.Arn))
		}
		if md.CreationDate == nil || md.CreationDate.Before(start.Add(-time.Minute)) || md.CreationDate.After(time.Now().Add(time.Minute)) {
			t.Errorf("CreationDate %v", md.CreationDate)
		}
		key1 = md
		out, err = c.CreateKey(ctx, &kmssdk.CreateKeyInput{})
		ok(t, err)
		key2 = out.KeyMetadata
		_, err = c.CreateKey(ctx, &kmssdk.CreateKeyInput{KeySpec: types.KeySpecRsa2048, KeyUsage: types.KeyUsageTypeSignVerify})
		if err == nil {
			t.Error("an RSA key was created")
		}
	})

	t.Run("DescribeKeyListKeys", func(t *testing.T) {
		need(t)
		for _, id := range []*string{key1.KeyId, key1.Arn} {
			out, err := c.DescribeKey(ctx, &kmssdk.DescribeKeyInput{KeyId: id})
			ok(t, err)
			if aws.ToString(out.KeyMetadata.KeyId) != aws.ToString(key1.KeyId) || !out.KeyMetadata.CreationDate.Equal(*key1.CreationDate) {
				t.Errorf("DescribeKey(%s) = %+v", aws.ToString(id), out.KeyMetadata)
			}
		}
		_, err := c.DescribeKey(ctx, &kmssdk.DescribeKeyInput{KeyId: s("00000000-0000-4000-8000-000000000000")})
		fails[*types.NotFoundException](t, err)
		var ids []string
		p := kmssdk.NewListKeysPaginator(c, &kmssdk.ListKeysInput{Limit: aws.Int32(1)})
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			ok(t, err)
			if len(out.Keys) > 1 {
				t.Errorf("page of %d keys with Limit 1", len(out.Keys))
			}
			for _, k := range out.Keys {
				ids = append(ids, aws.ToString(k.KeyId))
				if !strings.HasSuffix(aws.ToString(k.KeyArn), ":key/"+aws.ToString(k.KeyId)) {
					t.Errorf("KeyArn %s", aws.ToString(k.KeyArn))
				}
			}
		}
		if !slices.Contains(ids, aws.ToString(key1.KeyId)) || !slices.Contains(ids, aws.ToString(key2.KeyId)) {
			t.Errorf("ListKeys %v", ids)
		}
	})

	t.Run("Aliases", func(t *testing.T) {
		need(t)
		_, err := c.CreateAlias(ctx, &kmssdk.CreateAliasInput{AliasName: s("alias/e2e"), TargetKeyId: key1.KeyId})
		ok(t, err)
		_, err = c.CreateAlias(ctx, &kmssdk.CreateAliasInput{AliasName: s("alias/e2e"), TargetKeyId: key2.KeyId})
		fails[*types.AlreadyExistsException](t, err)
		_, err = c.CreateAlias(ctx, &kmssdk.CreateAliasInput{AliasName: s("alias/aws/mine"), TargetKeyId: key2.KeyId})
		fails[*types.InvalidAliasNameException](t, err)
		out, err := c.DescribeKey(ctx, &kmssdk.DescribeKeyInput{KeyId: s("alias/e2e")})
		ok(t, err)
		if aws.ToString(out.KeyMetadata.KeyId) != aws.ToString(key1.KeyId) {
			t.Errorf("alias resolves to %s", aws.ToString(out.KeyMetadata.KeyId))
		}
		la, err := c.ListAliases(ctx, &kmssdk.ListAliasesInput{KeyId: key1.KeyId})
		ok(t, err)
		if len(la.Aliases) != 1 || aws.ToString(la.Aliases[0].AliasName) != "alias/e2e" ||
			aws.ToString(la.Aliases[0].AliasArn) != "arn:aws:kms:us-east-1:111122223333:alias/e2e" ||
			aws.ToString(la.Aliases[0].TargetKeyId) != aws.ToString(key1.KeyId) || la.Aliases[0].CreationDate == nil {
			t.Errorf("ListAliases %+v", la.Aliases)
		}
		_, err = c.CreateAlias(ctx, &kmssdk.CreateAliasInput{AliasName: s("alias/e2e-moving"), TargetKeyId: key1.KeyId})
		ok(t, err)
		_, err = c.UpdateAlias(ctx, &kmssdk.UpdateAliasInput{AliasName: s("alias/e2e-moving"), TargetKeyId: key2.KeyId})
		ok(t, err)
		out, err = c.DescribeKey(ctx, &kmssdk.DescribeKeyInput{KeyId: s("alias/e2e-moving")})
		ok(t, err)
		if aws.ToString(out.KeyMetadata.KeyId) != aws.ToString(key2.KeyId) {
			t.Errorf("updated alias resolves to %s", aws.ToString(out.KeyMetadata.KeyId))
		}
		_, err = c.DeleteAlias(ctx, &kmssdk.DeleteAliasInput{AliasName: s("alias/e2e-moving")})
		ok(t, err)
		_, err = c.DescribeKey(ctx, &kmssdk.DescribeKeyInput{KeyId: s("alias/e2e-moving")})
		fails[*types.NotFoundException](t, err)
	})

	plaintext := []byte("the quick brown fox: known plaintext 7f3a")
	ec := map[string]string{"purpose": "e2e", "file": "a.txt"}
	var ct1 []byte
	t.Run("EncryptDecrypt", func(t *testing.T) {
		need(t)
		out, err := c.Encrypt(ctx, &kmssdk.EncryptInput{KeyId: s("alias/e2e"), Plaintext: plaintext, EncryptionContext: ec})
		ok(t, err)
		if aws.ToString(out.KeyId) != aws.ToString(key1.Arn) || out.EncryptionAlgorithm != types.EncryptionAlgorithmSpecSymmetricDefault || len(out.CiphertextBlob) == 0 {
			t.Fatalf("Encrypt %+v", out)
		}
		if bytes.Contains(out.CiphertextBlob, plaintext) {
			t.Fatal("ciphertext holds the plaintext")
		}
		ct1 = out.CiphertextBlob
		dec, err := c.Decrypt(ctx, &kmssdk.DecryptInput{CiphertextBlob: ct1, EncryptionContext: ec})
		ok(t, err)
		if !bytes.Equal(dec.Plaintext, plaintext) || aws.ToString(dec.KeyId) != aws.ToString(key1.Arn) || dec.EncryptionAlgorithm != types.EncryptionAlgorithmSpecSymmetricDefault {
			t.Errorf("Decrypt %+v", dec)
		}
		_, err = c.Decrypt(ctx, &kmssdk.DecryptInput{CiphertextBlob: ct1, EncryptionContext: map[string]string{"purpose": "other"}})
		fails[*types.InvalidCiphertextException](t, err)
		_, err = c.Decrypt(ctx, &kmssdk.DecryptInput{CiphertextBlob: ct1})
		fails[*types.InvalidCiphertextException](t, err)
		_, err = c.Decrypt(ctx, &kmssdk.DecryptInput{CiphertextBlob: ct1, EncryptionContext: ec, KeyId: key2.KeyId})
		fails[*types.IncorrectKeyException](t, err)
		bad := bytes.Clone(ct1)
		bad[len(bad)-1] ^= 1
		_, err = c.Decrypt(ctx, &kmssdk.DecryptInput{CiphertextBlob: bad, EncryptionContext: ec})
		fails[*types.InvalidCiphertextException](t, err)
	})

	t.Run("ReEncrypt", func(t *testing.T) {
		need(t)
		if ct1 == nil {
			t.Skip("no ciphertext")
		}
		ec2 := map[string]string{"stage": "2"}
		out, err := c.ReEncrypt(ctx, &kmssdk.ReEncryptInput{CiphertextBlob: ct1, SourceEncryptionContext: ec,
			DestinationKeyId: key2.KeyId, DestinationEncryptionContext: ec2})
		ok(t, err)
		if aws.ToString(out.SourceKeyId) != aws.ToString(key1.Arn) || aws.ToString(out.KeyId) != aws.ToString(key2.Arn) {
			t.Errorf("ReEncrypt %+v", out)
		}
		dec, err := c.Decrypt(ctx, &kmssdk.DecryptInput{CiphertextBlob: out.CiphertextBlob, EncryptionContext: ec2})
		ok(t, err)
		if !bytes.Equal(dec.Plaintext, plaintext) || aws.ToString(dec.KeyId) != aws.ToString(key2.Arn) {
			t.Errorf("Decrypt after ReEncrypt %+v", dec)
		}
	})

	var dataKeys [][]byte
	t.Run("DataKeys", func(t *testing.T) {
		need(t)
		out, err := c.GenerateDataKey(ctx, &kmssdk.GenerateDataKeyInput{KeyId: key1.KeyId, KeySpec: types.DataKeySpecAes256, EncryptionContext: ec})
		ok(t, err)
		if len(out.Plaintext) != 32 || aws.ToString(out.KeyId) != aws.ToString(key1.Arn) {
			t.Fatalf("GenerateDataKey %+v", out)
		}
		dataKeys = append(dataKeys, out.Plaintext)
		dec, err := c.Decrypt(ctx, &kmssdk.DecryptInput{CiphertextBlob: out.CiphertextBlob, EncryptionContext: ec})
		ok(t, err)
		if !bytes.Equal(dec.Plaintext, out.Plaintext) {
			t.Error("the data key does not decrypt to itself")
		}
		out128, err := c.GenerateDataKey(ctx, &kmssdk.GenerateDataKeyInput{KeyId: s("alias/e2e"), NumberOfBytes: aws.Int32(16)})
		ok(t, err)
		if len(out128.Plaintext) != 16 {
			t.Errorf("NumberOfBytes 16: %d bytes", len(out128.Plaintext))
		}
		dataKeys = append(dataKeys, out128.Plaintext)
		_, err = c.GenerateDataKey(ctx, &kmssdk.GenerateDataKeyInput{KeyId: key1.KeyId})
		fails[smithy.APIError](t, err) // neither KeySpec nor NumberOfBytes
		wp, err := c.GenerateDataKeyWithoutPlaintext(ctx, &kmssdk.GenerateDataKeyWithoutPlaintextInput{KeyId: key1.KeyId, KeySpec: types.DataKeySpecAes128})
		ok(t, err)
		dec, err = c.Decrypt(ctx, &kmssdk.DecryptInput{CiphertextBlob: wp.CiphertextBlob})
		ok(t, err)
		if len(dec.Plaintext) != 16 || aws.ToString(wp.KeyId) != aws.ToString(key1.Arn) {
			t.Errorf("GenerateDataKeyWithoutPlaintext: %d bytes, %s", len(dec.Plaintext), aws.ToString(wp.KeyId))
		}
		r, err := c.GenerateRandom(ctx, &kmssdk.GenerateRandomInput{NumberOfBytes: aws.Int32(32)})
		ok(t, err)
		if len(r.Plaintext) != 32 || bytes.Equal(r.Plaintext, make([]byte, 32)) {
			t.Errorf("GenerateRandom %x", r.Plaintext)
		}
	})

	t.Run("NoSecretsInLogs", func(t *testing.T) {
		logs := e.logs.String()
		for _, sec := range append([][]byte{plaintext}, dataKeys...) {
			for _, form := range []string{string(sec), base64.StdEncoding.EncodeToString(sec), strings.ToLower(strings.TrimSpace(string(bytesHex(sec))))} {
				if strings.Contains(logs, form) {
					t.Errorf("a secret is in the log")
				}
			}
		}
	})

	t.Run("Rotation", func(t *testing.T) {
		need(t)
		st, err := c.GetKeyRotationStatus(ctx, &kmssdk.GetKeyRotationStatusInput{KeyId: key1.KeyId})
		ok(t, err)
		if st.KeyRotationEnabled {
			t.Error("rotation enabled on a new key")
		}
		_, err = c.EnableKeyRotation(ctx, &kmssdk.EnableKeyRotationInput{KeyId: key1.KeyId, RotationPeriodInDays: aws.Int32(180)})
		ok(t, err)
		st, err = c.GetKeyRotationStatus(ctx, &kmssdk.GetKeyRotationStatusInput{KeyId: key1.KeyId})
		ok(t, err)
		if !st.KeyRotationEnabled || aws.ToInt32(st.RotationPeriodInDays) != 180 || st.NextRotationDate == nil ||
			st.NextRotationDate.Before(time.Now().Add(179*24*time.Hour)) || aws.ToString(st.KeyId) != aws.ToString(key1.Arn) {
			t.Errorf("status %+v", st)
		}
		rot, err := c.RotateKeyOnDemand(ctx, &kmssdk.RotateKeyOnDemandInput{KeyId: key1.KeyId})
		ok(t, err)
		if aws.ToString(rot.KeyId) != aws.ToString(key1.Arn) {
			t.Errorf("RotateKeyOnDemand %s", aws.ToString(rot.KeyId))
		}
		lr, err := c.ListKeyRotations(ctx, &kmssdk.ListKeyRotationsInput{KeyId: key1.KeyId})
		ok(t, err)
		if len(lr.Rotations) != 1 || lr.Rotations[0].RotationType != types.RotationTypeOnDemand || lr.Rotations[0].RotationDate == nil {
			t.Errorf("ListKeyRotations %+v", lr.Rotations)
		}
		if ct1 != nil {
			dec, err := c.Decrypt(ctx, &kmssdk.DecryptInput{CiphertextBlob: ct1, EncryptionContext: ec})
			ok(t, err)
			if !bytes.Equal(dec.Plaintext, plaintext) {
				t.Error("old ciphertext does not decrypt after rotation")
			}
		}
		_, err = c.DisableKeyRotation(ctx, &kmssdk.DisableKeyRotationInput{KeyId: key1.KeyId})
		ok(t, err)
		st, err = c.GetKeyRotationStatus(ctx, &kmssdk.GetKeyRotationStatusInput{KeyId: key1.KeyId})
		ok(t, err)
		if st.KeyRotationEnabled {
			t.Error("rotation still enabled")
		}
	})

	t.Run("Policies", func(t *testing.T) {
		need(t)
		lp, err := c.ListKeyPolicies(ctx, &kmssdk.ListKeyPoliciesInput{KeyId: key1.KeyId})
		ok(t, err)
		if !slices.Equal(lp.PolicyNames, []string{"default"}) || lp.Truncated {
			t.Errorf("ListKeyPolicies %+v", lp)
		}
		gp, err := c.GetKeyPolicy(ctx, &kmssdk.GetKeyPolicyInput{KeyId: key1.KeyId})
		ok(t, err)
		if !strings.Contains(aws.ToString(gp.Policy), testRoot) || aws.ToString(gp.PolicyName) != "default" {
			t.Errorf("GetKeyPolicy %+v", gp)
		}
		doc := `{"Version":"2012-10-17","Statement":[{"Sid":"root","Effect":"Allow","Principal":{"AWS":"` + testRoot + `"},"Action":"kms:*","Resource":"*"}]}`
		_, err = c.PutKeyPolicy(ctx, &kmssdk.PutKeyPolicyInput{KeyId: key1.KeyId, Policy: s(doc)})
		ok(t, err)
		gp, err = c.GetKeyPolicy(ctx, &kmssdk.GetKeyPolicyInput{KeyId: key1.KeyId, PolicyName: s("default")})
		ok(t, err)
		if !strings.Contains(aws.ToString(gp.Policy), `"Sid":"root"`) {
			t.Errorf("policy after PutKeyPolicy: %s", aws.ToString(gp.Policy))
		}
		_, err = c.PutKeyPolicy(ctx, &kmssdk.PutKeyPolicyInput{KeyId: key1.KeyId, Policy: s("not json")})
		fails[*types.MalformedPolicyDocumentException](t, err)
	})

	t.Run("Tags", func(t *testing.T) {
		need(t)
		_, err := c.TagResource(ctx, &kmssdk.TagResourceInput{KeyId: key1.KeyId, Tags: []types.Tag{{TagKey: s("env"), TagValue: s("test")}}})
		ok(t, err)
		lt, err := c.ListResourceTags(ctx, &kmssdk.ListResourceTagsInput{KeyId: key1.KeyId})
		ok(t, err)
		if got := tagMap(lt.Tags); len(got) != 2 || got["team"] != "core" || got["env"] != "test" {
			t.Errorf("tags %v", got)
		}
		_, err = c.UntagResource(ctx, &kmssdk.UntagResourceInput{KeyId: key1.KeyId, TagKeys: []string{"team"}})
		ok(t, err)
		lt, err = c.ListResourceTags(ctx, &kmssdk.ListResourceTagsInput{KeyId: key1.KeyId})
		ok(t, err)
		if got := tagMap(lt.Tags); len(got) != 1 || got["env"] != "test" {
			t.Errorf("tags after untag %v", got)
		}
	})

	t.Run("UpdateKeyDescription", func(t *testing.T) {
		need(t)
		_, err := c.UpdateKeyDescription(ctx, &kmssdk.UpdateKeyDescriptionInput{KeyId: key1.KeyId, Description: s("renamed")})
		ok(t, err)
		out, err := c.DescribeKey(ctx, &kmssdk.DescribeKeyInput{KeyId: key1.KeyId})
		ok(t, err)
		if aws.ToString(out.KeyMetadata.Description) != "renamed" {
			t.Errorf("Description %q", aws.ToString(out.KeyMetadata.Description))
		}
	})

	t.Run("Grants", func(t *testing.T) {
		need(t)
		bob := "arn:aws:iam::111122223333:user/bob"
		g1, err := c.CreateGrant(ctx, &kmssdk.CreateGrantInput{KeyId: key1.KeyId, GranteePrincipal: s(bob), RetiringPrincipal: s(testRoot),
			Operations:  []types.GrantOperation{types.GrantOperationDecrypt, types.GrantOperationEncrypt},
			Constraints: &types.GrantConstraints{EncryptionContextSubset: map[string]string{"purpose": "e2e"}}, Name: s("first")})
		ok(t, err)
		if aws.ToString(g1.GrantId) == "" || aws.ToString(g1.GrantToken) == "" {
			t.Fatalf("CreateGrant %+v", g1)
		}
		g2, err := c.CreateGrant(ctx, &kmssdk.CreateGrantInput{KeyId: key1.KeyId, GranteePrincipal: s(bob), RetiringPrincipal: s(testRoot),
			Operations: []types.GrantOperation{types.GrantOperationGenerateDataKey}})
		ok(t, err)
		lg, err := c.ListGrants(ctx, &kmssdk.ListGrantsInput{KeyId: key1.KeyId})
		ok(t, err)
		if len(lg.Grants) != 2 {
			t.Fatalf("ListGrants %+v", lg.Grants)
		}
		for _, g := range lg.Grants {
			if aws.ToString(g.GranteePrincipal) != bob || aws.ToString(g.KeyId) != aws.ToString(key1.Arn) || g.CreationDate == nil {
				t.Errorf("grant %+v", g)
			}
			if aws.ToString(g.GrantId) == aws.ToString(g1.GrantId) && (aws.ToString(g.Name) != "first" || g.Constraints == nil ||
				g.Constraints.EncryptionContextSubset["purpose"] != "e2e" || len(g.Operations) != 2) {
				t.Errorf("first grant %+v", g)
			}
		}
		lr, err := c.ListRetirableGrants(ctx, &kmssdk.ListRetirableGrantsInput{RetiringPrincipal: s(testRoot)})
		ok(t, err)
		if len(lr.Grants) != 2 {
			t.Errorf("ListRetirableGrants %+v", lr.Grants)
		}
		_, err = c.RevokeGrant(ctx, &kmssdk.RevokeGrantInput{KeyId: key1.KeyId, GrantId: g1.GrantId})
		ok(t, err)
		_, err = c.RetireGrant(ctx, &kmssdk.RetireGrantInput{GrantToken: g2.GrantToken})
		ok(t, err)
		lg, err = c.ListGrants(ctx, &kmssdk.ListGrantsInput{KeyId: key1.KeyId})
		ok(t, err)
		if len(lg.Grants) != 0 {
			t.Errorf("grants left %+v", lg.Grants)
		}
		_, err = c.RevokeGrant(ctx, &kmssdk.RevokeGrantInput{KeyId: key1.KeyId, GrantId: g1.GrantId})
		if err == nil {
			t.Error("revoking a revoked grant succeeded")
		}
	})

	t.Run("DisableEnable", func(t *testing.T) {
		need(t)
		_, err := c.DisableKey(ctx, &kmssdk.DisableKeyInput{KeyId: key2.KeyId})
		ok(t, err)
		_, err = c.Encrypt(ctx, &kmssdk.EncryptInput{KeyId: key2.KeyId, Plaintext: []byte("x")})
		fails[*types.DisabledException](t, err)
		out, err := c.DescribeKey(ctx, &kmssdk.DescribeKeyInput{KeyId: key2.KeyId})
		ok(t, err)
		if out.KeyMetadata.KeyState != types.KeyStateDisabled || out.KeyMetadata.Enabled {
			t.Errorf("after DisableKey %+v", out.KeyMetadata)
		}
		_, err = c.EnableKey(ctx, &kmssdk.EnableKeyInput{KeyId: key2.KeyId})
		ok(t, err)
		_, err = c.Encrypt(ctx, &kmssdk.EncryptInput{KeyId: key2.KeyId, Plaintext: []byte("x")})
		ok(t, err)
	})

	t.Run("ScheduleCancelDeletion", func(t *testing.T) {
		need(t)
		sd, err := c.ScheduleKeyDeletion(ctx, &kmssdk.ScheduleKeyDeletionInput{KeyId: key2.KeyId, PendingWindowInDays: aws.Int32(7)})
		ok(t, err)
		if sd.KeyState != types.KeyStatePendingDeletion || aws.ToInt32(sd.PendingWindowInDays) != 7 || sd.DeletionDate == nil ||
			sd.DeletionDate.Before(time.Now().Add(7*24*time.Hour-time.Hour)) || aws.ToString(sd.KeyId) != aws.ToString(key2.Arn) {
			t.Errorf("ScheduleKeyDeletion %+v", sd)
		}
		_, err = c.Encrypt(ctx, &kmssdk.EncryptInput{KeyId: key2.KeyId, Plaintext: []byte("x")})
		fails[*types.KMSInvalidStateException](t, err)
		out, err := c.DescribeKey(ctx, &kmssdk.DescribeKeyInput{KeyId: key2.KeyId})
		ok(t, err)
		if md := out.KeyMetadata; md.KeyState != types.KeyStatePendingDeletion || md.DeletionDate == nil || aws.ToInt32(md.PendingDeletionWindowInDays) != 7 {
			t.Errorf("DescribeKey pending deletion %+v", md)
		}
		_, err = c.ScheduleKeyDeletion(ctx, &kmssdk.ScheduleKeyDeletionInput{KeyId: key1.KeyId, PendingWindowInDays: aws.Int32(6)})
		if err == nil {
			t.Error("a 6-day window was accepted")
		}
		cd, err := c.CancelKeyDeletion(ctx, &kmssdk.CancelKeyDeletionInput{KeyId: key2.KeyId})
		ok(t, err)
		if aws.ToString(cd.KeyId) != aws.ToString(key2.Arn) {
			t.Errorf("CancelKeyDeletion %+v", cd)
		}
		out, err = c.DescribeKey(ctx, &kmssdk.DescribeKeyInput{KeyId: key2.KeyId})
		ok(t, err)
		if md := out.KeyMetadata; md.KeyState != types.KeyStateDisabled || md.DeletionDate != nil {
			t.Errorf("after CancelKeyDeletion %+v", md)
		}
	})
}

func tagMap(tags []types.Tag) map[string]string {
	m := map[string]string{}
	for _, t := range tags {
		m[aws.ToString(t.TagKey)] = aws.ToString(t.TagValue)
	}
	return m
}

func bytesHex(b []byte) []byte {
	const hex = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, hex[c>>4], hex[c&0xf])
	}
	return out
}
