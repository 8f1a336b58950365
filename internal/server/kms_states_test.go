package server_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
)

// TestKMSKeyStatesThroughServer runs every operation that names a key on a
// key in each state (Enabled, Disabled, PendingDeletion) through the real
// server and aws-sdk-go-v2, and checks the SDK's typed error (or success)
// and the key state after it: Enabled -> Disabled -> Enabled, Enabled or
// Disabled -> PendingDeletion -> (CancelKeyDeletion) Disabled.
func TestKMSKeyStatesThroughServer(t *testing.T) {
	ctx := context.Background()
	w := newKMSWorld(t)
	c := w.a
	s := aws.String
	ec := map[string]string{"k": "v"}
	newKey := func() string {
		t.Helper()
		return aws.ToString(kmsKey(t, c, "").KeyId)
	}

	type result int
	const (
		ok       result = iota
		disabled        // DisabledException "<arn> is disabled."
		invalid         // KMSInvalidStateException "<arn> is pending deletion."
		notPend         // KMSInvalidStateException "<arn> is not pending deletion."
	)
	type op struct {
		name  string
		call  func(id string, blob []byte) error
		want  [3]result // Enabled, Disabled, PendingDeletion
		after types.KeyState
	}
	crypto := [3]result{ok, disabled, invalid}
	mgmt := [3]result{ok, ok, invalid}
	every := [3]result{ok, ok, ok}
	ops := []op{
		{"Encrypt", func(id string, _ []byte) error {
			_, err := c.Encrypt(ctx, &kms.EncryptInput{KeyId: s(id), Plaintext: []byte("x")})
			return err
		}, crypto, ""},
		{"Decrypt", func(id string, b []byte) error {
			_, err := c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: b, EncryptionContext: ec})
			return err
		}, crypto, ""},
		{"DecryptWithKeyId", func(id string, b []byte) error {
			_, err := c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: b, EncryptionContext: ec, KeyId: s(id)})
			return err
		}, crypto, ""},
		{"ReEncryptFrom", func(id string, b []byte) error {
			_, err := c.ReEncrypt(ctx, &kms.ReEncryptInput{CiphertextBlob: b, SourceEncryptionContext: ec, DestinationKeyId: s(newKey())})
			return err
		}, crypto, ""},
		{"ReEncryptTo", func(id string, _ []byte) error {
			src := newKey()
			enc, err := c.Encrypt(ctx, &kms.EncryptInput{KeyId: s(src), Plaintext: []byte("x")})
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.ReEncrypt(ctx, &kms.ReEncryptInput{CiphertextBlob: enc.CiphertextBlob, DestinationKeyId: s(id)})
			return err
		}, crypto, ""},
		{"GenerateDataKey", func(id string, _ []byte) error {
			_, err := c.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{KeyId: s(id), KeySpec: types.DataKeySpecAes256})
			return err
		}, crypto, ""},
		{"GenerateDataKeyWithoutPlaintext", func(id string, _ []byte) error {
			_, err := c.GenerateDataKeyWithoutPlaintext(ctx, &kms.GenerateDataKeyWithoutPlaintextInput{KeyId: s(id), NumberOfBytes: aws.Int32(64)})
			return err
		}, crypto, ""},
		{"EnableKeyRotation", func(id string, _ []byte) error {
			_, err := c.EnableKeyRotation(ctx, &kms.EnableKeyRotationInput{KeyId: s(id), RotationPeriodInDays: aws.Int32(90)})
			return err
		}, crypto, ""},
		{"DisableKeyRotation", func(id string, _ []byte) error {
			_, err := c.DisableKeyRotation(ctx, &kms.DisableKeyRotationInput{KeyId: s(id)})
			return err
		}, crypto, ""},
		{"RotateKeyOnDemand", func(id string, _ []byte) error {
			_, err := c.RotateKeyOnDemand(ctx, &kms.RotateKeyOnDemandInput{KeyId: s(id)})
			return err
		}, crypto, ""},
		{"EnableKey", func(id string, _ []byte) error {
			_, err := c.EnableKey(ctx, &kms.EnableKeyInput{KeyId: s(id)})
			return err
		}, mgmt, types.KeyStateEnabled},
		{"DisableKey", func(id string, _ []byte) error {
			_, err := c.DisableKey(ctx, &kms.DisableKeyInput{KeyId: s(id)})
			return err
		}, mgmt, types.KeyStateDisabled},
		{"ScheduleKeyDeletion", func(id string, _ []byte) error {
			_, err := c.ScheduleKeyDeletion(ctx, &kms.ScheduleKeyDeletionInput{KeyId: s(id), PendingWindowInDays: aws.Int32(7)})
			return err
		}, mgmt, types.KeyStatePendingDeletion},
		{"CancelKeyDeletion", func(id string, _ []byte) error {
			_, err := c.CancelKeyDeletion(ctx, &kms.CancelKeyDeletionInput{KeyId: s(id)})
			return err
		}, [3]result{notPend, notPend, ok}, types.KeyStateDisabled},
		{"TagResource", func(id string, _ []byte) error {
			_, err := c.TagResource(ctx, &kms.TagResourceInput{KeyId: s(id), Tags: []types.Tag{{TagKey: s("team"), TagValue: s("a")}}})
			return err
		}, mgmt, ""},
		{"UntagResource", func(id string, _ []byte) error {
			_, err := c.UntagResource(ctx, &kms.UntagResourceInput{KeyId: s(id), TagKeys: []string{"team"}})
			return err
		}, mgmt, ""},
		{"UpdateKeyDescription", func(id string, _ []byte) error {
			_, err := c.UpdateKeyDescription(ctx, &kms.UpdateKeyDescriptionInput{KeyId: s(id), Description: s("new")})
			return err
		}, mgmt, ""},
		{"CreateAlias", func(id string, _ []byte) error {
			_, err := c.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: s("alias/create-" + id), TargetKeyId: s(id)})
			return err
		}, mgmt, ""},
		{"UpdateAlias", func(id string, _ []byte) error {
			name := s("alias/update-" + id)
			if _, err := c.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: name, TargetKeyId: s(newKey())}); err != nil {
				t.Fatal(err)
			}
			_, err := c.UpdateAlias(ctx, &kms.UpdateAliasInput{AliasName: name, TargetKeyId: s(id)})
			return err
		}, mgmt, ""},
		{"DescribeKey", func(id string, _ []byte) error {
			_, err := c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: s(id)})
			return err
		}, every, ""},
		{"GetKeyPolicy", func(id string, _ []byte) error {
			_, err := c.GetKeyPolicy(ctx, &kms.GetKeyPolicyInput{KeyId: s(id)})
			return err
		}, every, ""},
		{"PutKeyPolicy", func(id string, _ []byte) error {
			_, err := c.PutKeyPolicy(ctx, &kms.PutKeyPolicyInput{KeyId: s(id), Policy: s(kmsPolicy(rootOfA))})
			return err
		}, every, ""},
		{"ListKeyPolicies", func(id string, _ []byte) error {
			_, err := c.ListKeyPolicies(ctx, &kms.ListKeyPoliciesInput{KeyId: s(id)})
			return err
		}, every, ""},
		{"ListResourceTags", func(id string, _ []byte) error {
			_, err := c.ListResourceTags(ctx, &kms.ListResourceTagsInput{KeyId: s(id)})
			return err
		}, every, ""},
		{"GetKeyRotationStatus", func(id string, _ []byte) error {
			_, err := c.GetKeyRotationStatus(ctx, &kms.GetKeyRotationStatusInput{KeyId: s(id)})
			return err
		}, every, ""},
		{"ListKeyRotations", func(id string, _ []byte) error {
			_, err := c.ListKeyRotations(ctx, &kms.ListKeyRotationsInput{KeyId: s(id)})
			return err
		}, every, ""},
		{"ListAliases", func(id string, _ []byte) error {
			_, err := c.ListAliases(ctx, &kms.ListAliasesInput{KeyId: s(id)})
			return err
		}, every, ""},
		{"ListGrants", func(id string, _ []byte) error {
			_, err := c.ListGrants(ctx, &kms.ListGrantsInput{KeyId: s(id)})
			return err
		}, every, ""},
	}
	states := []types.KeyState{types.KeyStateEnabled, types.KeyStateDisabled, types.KeyStatePendingDeletion}
	for _, o := range ops {
		for i, state := range states {
			t.Run(o.name+"/"+string(state), func(t *testing.T) {
				k := kmsKey(t, c, "")
				id, arn := aws.ToString(k.KeyId), aws.ToString(k.Arn)
				enc, err := c.Encrypt(ctx, &kms.EncryptInput{KeyId: k.KeyId, Plaintext: []byte("secret"), EncryptionContext: ec})
				kmsOK(t, "Encrypt", err)
				switch state {
				case types.KeyStateDisabled:
					_, err = c.DisableKey(ctx, &kms.DisableKeyInput{KeyId: k.KeyId})
				case types.KeyStatePendingDeletion:
					_, err = c.ScheduleKeyDeletion(ctx, &kms.ScheduleKeyDeletionInput{KeyId: k.KeyId})
				}
				kmsOK(t, "into "+string(state), err)

				err = o.call(id, enc.CiphertextBlob)
				switch o.want[i] {
				case ok:
					kmsOK(t, o.name, err)
				case disabled:
					kmsWant[*types.DisabledException](t, o.name, err, arn+" is disabled.")
				case invalid:
					kmsWant[*types.KMSInvalidStateException](t, o.name, err, arn+" is pending deletion.")
				case notPend:
					kmsWant[*types.KMSInvalidStateException](t, o.name, err, arn+" is not pending deletion.")
				}
				want := state
				if err == nil && o.after != "" {
					want = o.after
				}
				md, err := c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: k.KeyId})
				kmsOK(t, "DescribeKey", err)
				m := md.KeyMetadata
				if m.KeyState != want || m.Enabled != (want == types.KeyStateEnabled) {
					t.Fatalf("after %s: %s (Enabled %v), want %s", o.name, m.KeyState, m.Enabled, want)
				}
				if pending := want == types.KeyStatePendingDeletion; pending != (m.DeletionDate != nil) || pending != (m.PendingDeletionWindowInDays != nil) {
					t.Fatalf("after %s: %s with DeletionDate %v, window %v", o.name, m.KeyState, m.DeletionDate, m.PendingDeletionWindowInDays)
				}
			})
		}
	}
}

// TestKMSKeyLifecycleThroughServer walks one key through every transition
// and checks DescribeKey's answer at each step, then lets the deletion
// date pass on the server's KMS clock: the key, its alias and its
// ciphertexts are gone.
func TestKMSKeyLifecycleThroughServer(t *testing.T) {
	ctx := context.Background()
	w := newKMSWorld(t)
	c := w.a
	k := kmsKey(t, c, "")
	id, arn := k.KeyId, aws.ToString(k.Arn)
	_, err := c.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String("alias/doomed"), TargetKeyId: id})
	kmsOK(t, "CreateAlias", err)
	enc, err := c.Encrypt(ctx, &kms.EncryptInput{KeyId: aws.String("alias/doomed"), Plaintext: []byte("bye")})
	kmsOK(t, "Encrypt", err)
	describe := func(want types.KeyState) *types.KeyMetadata {
		t.Helper()
		out, err := c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String("alias/doomed")})
		kmsOK(t, "DescribeKey", err)
		if m := out.KeyMetadata; m.KeyState != want || m.Enabled != (want == types.KeyStateEnabled) {
			t.Fatalf("state %s (Enabled %v), want %s", m.KeyState, m.Enabled, want)
		}
		return out.KeyMetadata
	}
	describe(types.KeyStateEnabled)
	_, err = c.DisableKey(ctx, &kms.DisableKeyInput{KeyId: id})
	kmsOK(t, "DisableKey", err)
	describe(types.KeyStateDisabled)
	_, err = c.EnableKey(ctx, &kms.EnableKeyInput{KeyId: id})
	kmsOK(t, "EnableKey", err)
	describe(types.KeyStateEnabled)

	for _, days := range []int32{1, 6, 31} {
		_, err := c.ScheduleKeyDeletion(ctx, &kms.ScheduleKeyDeletionInput{KeyId: id, PendingWindowInDays: aws.Int32(days)})
		kmsWantCode(t, "ScheduleKeyDeletion days", err, "ValidationException", "PendingWindowInDays")
	}
	before := time.Now()
	sched, err := c.ScheduleKeyDeletion(ctx, &kms.ScheduleKeyDeletionInput{KeyId: id})
	kmsOK(t, "ScheduleKeyDeletion", err)
	if aws.ToInt32(sched.PendingWindowInDays) != 30 || sched.KeyState != types.KeyStatePendingDeletion || aws.ToString(sched.KeyId) != arn ||
		sched.DeletionDate.Before(before.Add(30*24*time.Hour-time.Second)) || sched.DeletionDate.After(time.Now().Add(30*24*time.Hour+time.Second)) {
		t.Fatalf("ScheduleKeyDeletion = %s %s %d %v", aws.ToString(sched.KeyId), sched.KeyState, aws.ToInt32(sched.PendingWindowInDays), sched.DeletionDate)
	}
	describe(types.KeyStatePendingDeletion)
	cancel, err := c.CancelKeyDeletion(ctx, &kms.CancelKeyDeletionInput{KeyId: id})
	kmsOK(t, "CancelKeyDeletion", err)
	if aws.ToString(cancel.KeyId) != arn {
		t.Fatalf("CancelKeyDeletion KeyId %s", aws.ToString(cancel.KeyId))
	}
	if m := describe(types.KeyStateDisabled); m.DeletionDate != nil || m.PendingDeletionWindowInDays != nil {
		t.Fatalf("after cancel: DeletionDate %v, window %v", m.DeletionDate, m.PendingDeletionWindowInDays)
	}
	sched, err = c.ScheduleKeyDeletion(ctx, &kms.ScheduleKeyDeletionInput{KeyId: id, PendingWindowInDays: aws.Int32(7)})
	kmsOK(t, "ScheduleKeyDeletion 7 from Disabled", err)
	if m := describe(types.KeyStatePendingDeletion); !m.DeletionDate.Equal(*sched.DeletionDate) || aws.ToInt32(m.PendingDeletionWindowInDays) != 7 {
		t.Fatalf("pending: DeletionDate %v (scheduled %v), window %v", m.DeletionDate, sched.DeletionDate, m.PendingDeletionWindowInDays)
	}

	// A minute before the date the sweep leaves the key alone; after it,
	// the key is deleted.
	w.srv.AdvanceKMSClock(time.Until(*sched.DeletionDate) - time.Minute)
	w.srv.SweepKMS(ctx)
	describe(types.KeyStatePendingDeletion)
	w.srv.AdvanceKMSClock(2 * time.Minute)
	w.srv.SweepKMS(ctx)

	_, err = c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: id})
	kmsWant[*types.NotFoundException](t, "DescribeKey after deletion", err, "does not exist")
	_, err = c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String("alias/doomed")})
	kmsWant[*types.NotFoundException](t, "alias after deletion", err, "alias/doomed")
	_, err = c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob})
	kmsWant[*types.InvalidCiphertextException](t, "Decrypt after deletion", err, "")
	_, err = c.CancelKeyDeletion(ctx, &kms.CancelKeyDeletionInput{KeyId: id})
	kmsWant[*types.NotFoundException](t, "CancelKeyDeletion after deletion", err, "does not exist")
	keys, err := c.ListKeys(ctx, &kms.ListKeysInput{})
	kmsOK(t, "ListKeys", err)
	if slices.ContainsFunc(keys.Keys, func(e types.KeyListEntry) bool { return aws.ToString(e.KeyId) == aws.ToString(id) }) {
		t.Fatal("ListKeys still lists the deleted key")
	}
}

// TestKMSAutomaticRotationThroughServer: a key with automatic rotation
// every 90 days is rotated by the server's sweep when its date passes on
// the KMS clock (ListKeyRotations shows an AUTOMATIC rotation, the next
// date moves a period on); ciphertexts of both material versions decrypt.
func TestKMSAutomaticRotationThroughServer(t *testing.T) {
	ctx := context.Background()
	w := newKMSWorld(t)
	c := w.a
	k := kmsKey(t, c, "")
	_, err := c.EnableKeyRotation(ctx, &kms.EnableKeyRotationInput{KeyId: k.KeyId, RotationPeriodInDays: aws.Int32(90)})
	kmsOK(t, "EnableKeyRotation", err)
	st, err := c.GetKeyRotationStatus(ctx, &kms.GetKeyRotationStatusInput{KeyId: k.KeyId})
	kmsOK(t, "GetKeyRotationStatus", err)
	if !st.KeyRotationEnabled || aws.ToInt32(st.RotationPeriodInDays) != 90 || st.NextRotationDate == nil {
		t.Fatalf("rotation status %v %v %v", st.KeyRotationEnabled, st.RotationPeriodInDays, st.NextRotationDate)
	}
	first := *st.NextRotationDate
	v1, err := kmsEncrypt(c, aws.ToString(k.KeyId), nil)
	kmsOK(t, "Encrypt v1", err)

	w.srv.AdvanceKMSClock(time.Until(first) - time.Minute)
	w.srv.SweepKMS(ctx)
	rots, err := c.ListKeyRotations(ctx, &kms.ListKeyRotationsInput{KeyId: k.KeyId})
	kmsOK(t, "ListKeyRotations", err)
	if len(rots.Rotations) != 0 {
		t.Fatalf("rotated before its date: %+v", rots.Rotations)
	}
	w.srv.AdvanceKMSClock(2 * time.Minute)
	w.srv.SweepKMS(ctx)
	rots, err = c.ListKeyRotations(ctx, &kms.ListKeyRotationsInput{KeyId: k.KeyId})
	kmsOK(t, "ListKeyRotations", err)
	if len(rots.Rotations) != 1 || rots.Rotations[0].RotationType != types.RotationTypeAutomatic {
		t.Fatalf("rotations after the date: %+v", rots.Rotations)
	}
	st, err = c.GetKeyRotationStatus(ctx, &kms.GetKeyRotationStatusInput{KeyId: k.KeyId})
	kmsOK(t, "GetKeyRotationStatus", err)
	if st.NextRotationDate == nil || st.NextRotationDate.Sub(first) < 89*24*time.Hour {
		t.Fatalf("next rotation %v, want about 90 days after %v", st.NextRotationDate, first)
	}
	v2, err := kmsEncrypt(c, aws.ToString(k.KeyId), nil)
	kmsOK(t, "Encrypt v2", err)
	for i, blob := range [][]byte{v1, v2} {
		out, err := c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: blob})
		kmsOK(t, "Decrypt", err)
		if string(out.Plaintext) != "policy test" {
			t.Fatalf("blob %d: %q", i+1, out.Plaintext)
		}
	}
	md, err := c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: k.KeyId})
	kmsOK(t, "DescribeKey", err)
	if aws.ToString(md.KeyMetadata.CurrentKeyMaterialId) != aws.ToString(rots.Rotations[0].KeyMaterialId) {
		t.Fatalf("current material %s, rotation made %s", aws.ToString(md.KeyMetadata.CurrentKeyMaterialId), aws.ToString(rots.Rotations[0].KeyMaterialId))
	}
}
