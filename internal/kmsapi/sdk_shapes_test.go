package kmsapi

import (
	"bytes"
	"context"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	kmssdk "github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/sealpost/sealpost/internal/kms"
)

// canned is a domain answering fixed values, to check that every output
// shape the adapter writes parses in aws-sdk-go-v2 with the same values.
// It records the secrets it hands out, to check they are wiped.
type canned struct {
	handedOut [][]byte
}

var (
	cKeyID   = "1234abcd-12ab-34cd-56ef-1234567890ab"
	cARN     = "arn:aws:kms:us-east-1:111122223333:key/" + cKeyID
	cCreated = time.Date(2026, 11, 29, 10, 30, 15, 123_000_000, time.UTC)
	cLater   = cCreated.Add(7 * 24 * time.Hour)
	cMD      = kms.KeyMetadata{AWSAccountID: testAccount, KeyID: cKeyID, ARN: cARN, CreationDate: cCreated, Enabled: false,
		Description: "d \"quoted\" é", KeyUsage: "ENCRYPT_DECRYPT", KeyState: "PendingDeletion", DeletionDate: cLater,
		PendingWindowDays: 7, Origin: "AWS_KMS", KeyManager: "CUSTOMER", KeySpec: "SYMMETRIC_DEFAULT",
		EncryptionAlgorithms: []string{"SYMMETRIC_DEFAULT"}, CurrentKeyMaterialID: "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"}
	cGrant = kms.GrantEntry{KeyARN: cARN, GrantID: "gid", Name: "n", CreationDate: cCreated, GranteePrincipal: "arn:aws:iam::111122223333:user/bob",
		RetiringPrincipal: testRoot, IssuingAccount: testRoot, Operations: []string{"Decrypt", "Encrypt"},
		Constraints: &kms.GrantConstraints{EncryptionContextEquals: map[string]string{"a": "b"}}}
)

func (d *canned) secret(n int) []byte {
	b := bytes.Repeat([]byte{0xa5}, n)
	d.handedOut = append(d.handedOut, b)
	return b
}

func (d *canned) CreateKey(ctx context.Context, c kms.Caller, in kms.CreateKeyInput) (kms.KeyMetadata, error) {
	return cMD, nil
}
func (d *canned) DescribeKey(ctx context.Context, c kms.Caller, keyID string, gt []string) (kms.KeyMetadata, error) {
	return cMD, nil
}
func (d *canned) ListKeys(ctx context.Context, c kms.Caller, p kms.Page) ([]kms.KeyListEntry, string, error) {
	return []kms.KeyListEntry{{KeyID: cKeyID, KeyARN: cARN}}, "next-1", nil
}
func (d *canned) CreateAlias(ctx context.Context, c kms.Caller, name, target string) error {
	return nil
}
func (d *canned) UpdateAlias(ctx context.Context, c kms.Caller, name, target string) error {
	return nil
}
func (d *canned) DeleteAlias(ctx context.Context, c kms.Caller, name string) error { return nil }
func (d *canned) ListAliases(ctx context.Context, c kms.Caller, keyID string, p kms.Page) ([]kms.AliasEntry, string, error) {
	return []kms.AliasEntry{
		{AliasName: "alias/a", AliasARN: "arn:aws:kms:us-east-1:111122223333:alias/a", TargetKeyID: cKeyID, CreationDate: cCreated, LastUpdatedDate: cLater},
		{AliasName: "alias/aws/sns", AliasARN: "arn:aws:kms:us-east-1:111122223333:alias/aws/sns"},
	}, "", nil
}
func (d *canned) Encrypt(ctx context.Context, c kms.Caller, in kms.EncryptInput) (kms.EncryptOutput, error) {
	return kms.EncryptOutput{CiphertextBlob: []byte{1, 2, 3}, KeyARN: cARN}, nil
}
func (d *canned) Decrypt(ctx context.Context, c kms.Caller, in kms.DecryptInput) (kms.DecryptOutput, error) {
	return kms.DecryptOutput{Plaintext: d.secret(5), KeyARN: cARN, Algorithm: "SYMMETRIC_DEFAULT"}, nil
}
func (d *canned) ReEncrypt(ctx context.Context, c kms.Caller, in kms.ReEncryptInput) (kms.ReEncryptOutput, error) {
	return kms.ReEncryptOutput{CiphertextBlob: []byte{4}, SourceKeyARN: cARN, KeyARN: cARN + "2"}, nil
}
func (d *canned) GenerateDataKey(ctx context.Context, c kms.Caller, in kms.DataKeyInput) (kms.DataKeyOutput, error) {
	return kms.DataKeyOutput{CiphertextBlob: []byte{5, 6}, Plaintext: d.secret(32), KeyARN: cARN}, nil
}
func (d *canned) GenerateDataKeyWithoutPlaintext(ctx context.Context, c kms.Caller, in kms.DataKeyInput) (kms.DataKeyOutput, error) {
	return kms.DataKeyOutput{CiphertextBlob: []byte{7}, KeyARN: cARN}, nil
}
func (d *canned) GenerateRandom(ctx context.Context, c kms.Caller, n int, cks string) ([]byte, error) {
	return d.secret(n), nil
}
func (d *canned) EnableKey(ctx context.Context, c kms.Caller, keyID string) error  { return nil }
func (d *canned) DisableKey(ctx context.Context, c kms.Caller, keyID string) error { return nil }
func (d *canned) ScheduleKeyDeletion(ctx context.Context, c kms.Caller, keyID string, days int) (kms.DeletionResult, error) {
	return kms.DeletionResult{KeyARN: cARN, DeletionDate: cLater, KeyState: "PendingDeletion", PendingWindowDays: 7}, nil
}
func (d *canned) CancelKeyDeletion(ctx context.Context, c kms.Caller, keyID string) (string, error) {
	return cARN, nil
}
func (d *canned) EnableKeyRotation(ctx context.Context, c kms.Caller, keyID string, days int) error {
	return nil
}
func (d *canned) DisableKeyRotation(ctx context.Context, c kms.Caller, keyID string) error {
	return nil
}
func (d *canned) GetKeyRotationStatus(ctx context.Context, c kms.Caller, keyID string) (kms.RotationStatus, error) {
	return kms.RotationStatus{Enabled: true, KeyARN: cARN, PeriodDays: 365, NextRotationDate: cLater}, nil
}
func (d *canned) RotateKeyOnDemand(ctx context.Context, c kms.Caller, keyID string) (string, error) {
	return cARN, nil
}
func (d *canned) ListKeyRotations(ctx context.Context, c kms.Caller, keyID string, p kms.Page) ([]kms.Rotation, string, error) {
	return []kms.Rotation{{KeyARN: cARN, MaterialID: "m2", RotationDate: cLater, RotationType: "ON_DEMAND"}}, "", nil
}
func (d *canned) GetKeyPolicy(ctx context.Context, c kms.Caller, keyID, name string) (string, string, error) {
	return "{\n  \"Version\" : \"2012-10-17\"\n}", "default", nil
}
func (d *canned) PutKeyPolicy(ctx context.Context, c kms.Caller, keyID, name, doc string, bypass bool) error {
	return nil
}
func (d *canned) ListKeyPolicies(ctx context.Context, c kms.Caller, keyID string, p kms.Page) ([]string, string, error) {
	return []string{"default"}, "", nil
}
func (d *canned) TagResource(ctx context.Context, c kms.Caller, keyID string, tags []kms.Tag) error {
	return nil
}
func (d *canned) UntagResource(ctx context.Context, c kms.Caller, keyID string, keys []string) error {
	return nil
}
func (d *canned) ListResourceTags(ctx context.Context, c kms.Caller, keyID string, p kms.Page) ([]kms.Tag, string, error) {
	return []kms.Tag{{Key: "a", Value: ""}}, "m", nil
}
func (d *canned) UpdateKeyDescription(ctx context.Context, c kms.Caller, keyID, desc string) error {
	return nil
}
func (d *canned) CreateGrant(ctx context.Context, c kms.Caller, in kms.CreateGrantInput) (string, string, error) {
	return "token", "gid", nil
}
func (d *canned) ListGrants(ctx context.Context, c kms.Caller, keyID, grantID, grantee string, p kms.Page) ([]kms.GrantEntry, string, error) {
	return []kms.GrantEntry{cGrant}, "", nil
}
func (d *canned) RetireGrant(ctx context.Context, c kms.Caller, token, keyID, grantID string) error {
	return nil
}
func (d *canned) RevokeGrant(ctx context.Context, c kms.Caller, keyID, grantID string) error {
	return nil
}
func (d *canned) ListRetirableGrants(ctx context.Context, c kms.Caller, p string, pg kms.Page) ([]kms.GrantEntry, string, error) {
	return []kms.GrantEntry{cGrant}, "", nil
}

func TestSDKOutputShapes(t *testing.T) {
	e := newEnv(t)
	d := &canned{}
	e.api.svc = d
	ctx := context.Background()
	c := e.client
	s := aws.String
	k := s(cKeyID)
	check := func(name string, cond bool, v any) {
		t.Helper()
		if !cond {
			t.Errorf("%s: %+v", name, v)
		}
	}
	same := func(a *time.Time, b time.Time) bool { return a != nil && a.Equal(b) }

	ck, err := c.CreateKey(ctx, &kmssdk.CreateKeyInput{})
	if err != nil {
		t.Fatal(err)
	}
	md := ck.KeyMetadata
	check("KeyMetadata", aws.ToString(md.AWSAccountId) == testAccount && aws.ToString(md.KeyId) == cKeyID && aws.ToString(md.Arn) == cARN &&
		same(md.CreationDate, cCreated) && !md.Enabled && aws.ToString(md.Description) == cMD.Description &&
		md.KeyUsage == types.KeyUsageTypeEncryptDecrypt && md.KeyState == types.KeyStatePendingDeletion &&
		same(md.DeletionDate, cLater) && aws.ToInt32(md.PendingDeletionWindowInDays) == 7 && md.Origin == types.OriginTypeAwsKms &&
		md.KeyManager == types.KeyManagerTypeCustomer && md.CustomerMasterKeySpec == types.CustomerMasterKeySpecSymmetricDefault &&
		md.KeySpec == types.KeySpecSymmetricDefault && slices.Equal(md.EncryptionAlgorithms, []types.EncryptionAlgorithmSpec{"SYMMETRIC_DEFAULT"}) &&
		md.MultiRegion != nil && !*md.MultiRegion && aws.ToString(md.CurrentKeyMaterialId) == cMD.CurrentKeyMaterialID, md)
	dk, err := c.DescribeKey(ctx, &kmssdk.DescribeKeyInput{KeyId: k})
	check("DescribeKey", err == nil && aws.ToString(dk.KeyMetadata.Arn) == cARN, err)

	lk, err := c.ListKeys(ctx, &kmssdk.ListKeysInput{})
	check("ListKeys", err == nil && len(lk.Keys) == 1 && aws.ToString(lk.Keys[0].KeyArn) == cARN && lk.Truncated && aws.ToString(lk.NextMarker) == "next-1", lk)
	la, err := c.ListAliases(ctx, &kmssdk.ListAliasesInput{})
	check("ListAliases", err == nil && len(la.Aliases) == 2 && same(la.Aliases[0].LastUpdatedDate, cLater) && la.Aliases[1].TargetKeyId == nil &&
		la.Aliases[1].CreationDate == nil && !la.Truncated && la.NextMarker == nil, la)
	for _, f := range []func() error{
		func() error {
			_, err := c.CreateAlias(ctx, &kmssdk.CreateAliasInput{AliasName: s("alias/a"), TargetKeyId: k})
			return err
		},
		func() error {
			_, err := c.EnableKey(ctx, &kmssdk.EnableKeyInput{KeyId: k})
			return err
		},
		func() error {
			_, err := c.RetireGrant(ctx, &kmssdk.RetireGrantInput{GrantToken: s("t")})
			return err
		},
	} {
		if err := f(); err != nil {
			t.Errorf("empty output: %v", err)
		}
	}

	en, err := c.Encrypt(ctx, &kmssdk.EncryptInput{KeyId: k, Plaintext: []byte("p")})
	check("Encrypt", err == nil && bytes.Equal(en.CiphertextBlob, []byte{1, 2, 3}) && aws.ToString(en.KeyId) == cARN && en.EncryptionAlgorithm == "SYMMETRIC_DEFAULT", en)
	de, err := c.Decrypt(ctx, &kmssdk.DecryptInput{CiphertextBlob: []byte{1}})
	check("Decrypt", err == nil && bytes.Equal(de.Plaintext, bytes.Repeat([]byte{0xa5}, 5)) && aws.ToString(de.KeyId) == cARN, de)
	re, err := c.ReEncrypt(ctx, &kmssdk.ReEncryptInput{CiphertextBlob: []byte{1}, DestinationKeyId: k})
	check("ReEncrypt", err == nil && aws.ToString(re.SourceKeyId) == cARN && aws.ToString(re.KeyId) == cARN+"2" &&
		re.SourceEncryptionAlgorithm == "SYMMETRIC_DEFAULT" && re.DestinationEncryptionAlgorithm == "SYMMETRIC_DEFAULT", re)
	gd, err := c.GenerateDataKey(ctx, &kmssdk.GenerateDataKeyInput{KeyId: k, KeySpec: types.DataKeySpecAes256})
	check("GenerateDataKey", err == nil && len(gd.Plaintext) == 32 && bytes.Equal(gd.CiphertextBlob, []byte{5, 6}) && aws.ToString(gd.KeyId) == cARN, gd)
	gw, err := c.GenerateDataKeyWithoutPlaintext(ctx, &kmssdk.GenerateDataKeyWithoutPlaintextInput{KeyId: k, KeySpec: types.DataKeySpecAes256})
	check("GenerateDataKeyWithoutPlaintext", err == nil && gw.CiphertextBlob[0] == 7 && aws.ToString(gw.KeyId) == cARN, gw)
	gr, err := c.GenerateRandom(ctx, &kmssdk.GenerateRandomInput{NumberOfBytes: aws.Int32(9)})
	check("GenerateRandom", err == nil && len(gr.Plaintext) == 9, gr)
	for i, b := range d.handedOut {
		if !bytes.Equal(b, make([]byte, len(b))) {
			t.Errorf("secret %d handed to the adapter was not wiped", i)
		}
	}

	sd, err := c.ScheduleKeyDeletion(ctx, &kmssdk.ScheduleKeyDeletionInput{KeyId: k})
	check("ScheduleKeyDeletion", err == nil && aws.ToString(sd.KeyId) == cARN && same(sd.DeletionDate, cLater) &&
		sd.KeyState == types.KeyStatePendingDeletion && aws.ToInt32(sd.PendingWindowInDays) == 7, sd)
	cd, err := c.CancelKeyDeletion(ctx, &kmssdk.CancelKeyDeletionInput{KeyId: k})
	check("CancelKeyDeletion", err == nil && aws.ToString(cd.KeyId) == cARN, cd)
	rs, err := c.GetKeyRotationStatus(ctx, &kmssdk.GetKeyRotationStatusInput{KeyId: k})
	check("GetKeyRotationStatus", err == nil && rs.KeyRotationEnabled && aws.ToInt32(rs.RotationPeriodInDays) == 365 &&
		same(rs.NextRotationDate, cLater) && rs.OnDemandRotationStartDate == nil && aws.ToString(rs.KeyId) == cARN, rs)
	ro, err := c.RotateKeyOnDemand(ctx, &kmssdk.RotateKeyOnDemandInput{KeyId: k})
	check("RotateKeyOnDemand", err == nil && aws.ToString(ro.KeyId) == cARN, ro)
	lr, err := c.ListKeyRotations(ctx, &kmssdk.ListKeyRotationsInput{KeyId: k})
	check("ListKeyRotations", err == nil && len(lr.Rotations) == 1 && lr.Rotations[0].RotationType == types.RotationTypeOnDemand &&
		same(lr.Rotations[0].RotationDate, cLater) && aws.ToString(lr.Rotations[0].KeyMaterialId) == "m2", lr)
	gp, err := c.GetKeyPolicy(ctx, &kmssdk.GetKeyPolicyInput{KeyId: k})
	check("GetKeyPolicy", err == nil && aws.ToString(gp.Policy) == "{\n  \"Version\" : \"2012-10-17\"\n}" && aws.ToString(gp.PolicyName) == "default", gp)
	lp, err := c.ListKeyPolicies(ctx, &kmssdk.ListKeyPoliciesInput{KeyId: k})
	check("ListKeyPolicies", err == nil && slices.Equal(lp.PolicyNames, []string{"default"}) && !lp.Truncated, lp)
	lt, err := c.ListResourceTags(ctx, &kmssdk.ListResourceTagsInput{KeyId: k})
	check("ListResourceTags", err == nil && len(lt.Tags) == 1 && aws.ToString(lt.Tags[0].TagKey) == "a" && lt.Tags[0].TagValue != nil &&
		lt.Truncated && aws.ToString(lt.NextMarker) == "m", lt)
	cg, err := c.CreateGrant(ctx, &kmssdk.CreateGrantInput{KeyId: k, GranteePrincipal: s("arn:aws:iam::111122223333:user/bob"),
		Operations: []types.GrantOperation{types.GrantOperationDecrypt}})
	check("CreateGrant", err == nil && aws.ToString(cg.GrantToken) == "token" && aws.ToString(cg.GrantId) == "gid", cg)
	for name, grants := range map[string]func() ([]types.GrantListEntry, error){
		"ListGrants": func() ([]types.GrantListEntry, error) {
			out, err := c.ListGrants(ctx, &kmssdk.ListGrantsInput{KeyId: k})
			if err != nil {
				return nil, err
			}
			return out.Grants, nil
		},
		"ListRetirableGrants": func() ([]types.GrantListEntry, error) {
			out, err := c.ListRetirableGrants(ctx, &kmssdk.ListRetirableGrantsInput{RetiringPrincipal: s(testRoot)})
			if err != nil {
				return nil, err
			}
			return out.Grants, nil
		},
	} {
		gs, err := grants()
		ok := err == nil && len(gs) == 1
		if ok {
			g := gs[0]
			ok = aws.ToString(g.KeyId) == cARN && aws.ToString(g.GrantId) == "gid" && aws.ToString(g.Name) == "n" && same(g.CreationDate, cCreated) &&
				aws.ToString(g.GranteePrincipal) == cGrant.GranteePrincipal && aws.ToString(g.RetiringPrincipal) == testRoot &&
				aws.ToString(g.IssuingAccount) == testRoot && slices.Equal(g.Operations, []types.GrantOperation{"Decrypt", "Encrypt"}) &&
				g.Constraints != nil && g.Constraints.EncryptionContextEquals["a"] == "b" && g.Constraints.EncryptionContextSubset == nil
		}
		check(name, ok, gs)
	}
}
