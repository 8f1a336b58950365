package kms

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/store"
)

// TestKeyStates runs every operation on a key in every state and checks
// AWS's answer ("Key states" table of the KMS developer guide) and the
// state afterwards.
func TestKeyStates(t *testing.T) {
	ctx := context.Background()
	type op struct {
		name string
		call func(s *Service, keyID string, blob []byte) error
		want [3]error // Enabled, Disabled, PendingDeletion
		// after is the state a successful call leaves ("" = unchanged).
		after string
	}
	ok3 := [3]error{nil, nil, nil}
	crypto := [3]error{nil, ErrDisabled, ErrInvalidState}
	mgmt := [3]error{nil, nil, ErrInvalidState}
	ops := []op{
		{"Encrypt", func(s *Service, id string, _ []byte) error {
			_, err := s.Encrypt(ctx, alice, EncryptInput{KeyID: id, Plaintext: []byte("x")})
			return err
		}, crypto, ""},
		{"Decrypt", func(s *Service, id string, b []byte) error {
			_, err := s.Decrypt(ctx, alice, DecryptInput{CiphertextBlob: b, Context: map[string]string{"k": "v"}})
			return err
		}, crypto, ""},
		{"ReEncrypt", func(s *Service, id string, b []byte) error {
			dst := mustCreate(t, s, alice)
			_, err := s.ReEncrypt(ctx, alice, ReEncryptInput{CiphertextBlob: b, SourceContext: map[string]string{"k": "v"}, DestinationKeyID: dst.KeyID})
			return err
		}, crypto, ""},
		{"ReEncryptTo", func(s *Service, id string, _ []byte) error {
			src := mustCreate(t, s, alice)
			out, err := s.Encrypt(ctx, alice, EncryptInput{KeyID: src.KeyID, Plaintext: []byte("x")})
			if err != nil {
				return err
			}
			_, err = s.ReEncrypt(ctx, alice, ReEncryptInput{CiphertextBlob: out.CiphertextBlob, DestinationKeyID: id})
			return err
		}, crypto, ""},
		{"GenerateDataKey", func(s *Service, id string, _ []byte) error {
			_, err := s.GenerateDataKey(ctx, alice, DataKeyInput{KeyID: id, KeySpec: "AES_256"})
			return err
		}, crypto, ""},
		{"GenerateDataKeyWithoutPlaintext", func(s *Service, id string, _ []byte) error {
			_, err := s.GenerateDataKeyWithoutPlaintext(ctx, alice, DataKeyInput{KeyID: id, NumberOfBytes: 64})
			return err
		}, crypto, ""},
		{"DescribeKey", func(s *Service, id string, _ []byte) error {
			_, err := s.DescribeKey(ctx, alice, id, nil)
			return err
		}, ok3, ""},
		{"GetKeyPolicy", func(s *Service, id string, _ []byte) error {
			_, _, err := s.GetKeyPolicy(ctx, alice, id, "default")
			return err
		}, ok3, ""},
		{"PutKeyPolicy", func(s *Service, id string, _ []byte) error {
			return s.PutKeyPolicy(ctx, alice, id, "default", defaultKeyPolicy(acctOne), false)
		}, ok3, ""},
		{"ListKeyPolicies", func(s *Service, id string, _ []byte) error {
			_, _, err := s.ListKeyPolicies(ctx, alice, id, Page{})
			return err
		}, ok3, ""},
		{"ListResourceTags", func(s *Service, id string, _ []byte) error {
			_, _, err := s.ListResourceTags(ctx, alice, id, Page{})
			return err
		}, ok3, ""},
		{"GetKeyRotationStatus", func(s *Service, id string, _ []byte) error {
			_, err := s.GetKeyRotationStatus(ctx, alice, id)
			return err
		}, ok3, ""},
		{"ListKeyRotations", func(s *Service, id string, _ []byte) error {
			_, _, err := s.ListKeyRotations(ctx, alice, id, Page{})
			return err
		}, ok3, ""},
		{"ListAliases", func(s *Service, id string, _ []byte) error {
			_, _, err := s.ListAliases(ctx, alice, id, Page{})
			return err
		}, ok3, ""},
		{"EnableKey", func(s *Service, id string, _ []byte) error { return s.EnableKey(ctx, alice, id) }, mgmt, stateEnabled},
		{"DisableKey", func(s *Service, id string, _ []byte) error { return s.DisableKey(ctx, alice, id) }, mgmt, stateDisabled},
		{"ScheduleKeyDeletion", func(s *Service, id string, _ []byte) error {
			_, err := s.ScheduleKeyDeletion(ctx, alice, id, 7)
			return err
		}, mgmt, statePendingDeletion},
		{"CancelKeyDeletion", func(s *Service, id string, _ []byte) error {
			_, err := s.CancelKeyDeletion(ctx, alice, id)
			return err
		}, [3]error{ErrInvalidState, ErrInvalidState, nil}, stateDisabled},
		{"EnableKeyRotation", func(s *Service, id string, _ []byte) error { return s.EnableKeyRotation(ctx, alice, id, 0) }, crypto, ""},
		{"DisableKeyRotation", func(s *Service, id string, _ []byte) error { return s.DisableKeyRotation(ctx, alice, id) }, crypto, ""},
		{"RotateKeyOnDemand", func(s *Service, id string, _ []byte) error {
			_, err := s.RotateKeyOnDemand(ctx, alice, id)
			return err
		}, crypto, ""},
		{"TagResource", func(s *Service, id string, _ []byte) error {
			return s.TagResource(ctx, alice, id, []Tag{{"team", "a"}})
		}, mgmt, ""},
		{"UntagResource", func(s *Service, id string, _ []byte) error {
			return s.UntagResource(ctx, alice, id, []string{"team"})
		}, mgmt, ""},
		{"UpdateKeyDescription", func(s *Service, id string, _ []byte) error {
			return s.UpdateKeyDescription(ctx, alice, id, "new")
		}, mgmt, ""},
		{"CreateAlias", func(s *Service, id string, _ []byte) error {
			return s.CreateAlias(ctx, alice, "alias/create-"+id, id)
		}, mgmt, ""},
		{"UpdateAlias", func(s *Service, id string, _ []byte) error {
			other := mustCreate(t, s, alice)
			if err := s.CreateAlias(ctx, alice, "alias/update-"+id, other.KeyID); err != nil {
				return err
			}
			return s.UpdateAlias(ctx, alice, "alias/update-"+id, id)
		}, mgmt, ""},
	}
	states := []string{stateEnabled, stateDisabled, statePendingDeletion}
	eachDriver(t, func(t *testing.T, d driver) {
		st, _ := d.open(t)
		s := newService(t, st, newClock(), Options{})
		for _, o := range ops {
			for i, state := range states {
				t.Run(o.name+"/"+state, func(t *testing.T) {
					k := mustCreate(t, s, alice)
					enc, err := s.Encrypt(ctx, alice, EncryptInput{KeyID: k.KeyID, Plaintext: []byte("secret"), Context: map[string]string{"k": "v"}})
					if err != nil {
						t.Fatal(err)
					}
					switch state {
					case stateDisabled:
						err = s.DisableKey(ctx, alice, k.KeyID)
					case statePendingDeletion:
						_, err = s.ScheduleKeyDeletion(ctx, alice, k.KeyID, 0)
					}
					if err != nil {
						t.Fatal(err)
					}
					err = o.call(s, k.KeyID, enc.CiphertextBlob)
					wantKind(t, o.name, err, o.want[i])
					md, derr := s.DescribeKey(ctx, alice, k.KeyID, nil)
					if derr != nil {
						t.Fatal(derr)
					}
					want := state
					if err == nil && o.after != "" {
						want = o.after
					}
					if md.KeyState != want || md.Enabled != (want == stateEnabled) {
						t.Fatalf("after %s: state %s (enabled %v), want %s", o.name, md.KeyState, md.Enabled, want)
					}
				})
			}
		}
	})
}

// TestDeletion: the deletion date, cancel, and Sweep destroying the key.
func TestDeletion(t *testing.T) {
	ctx := context.Background()
	eachDriver(t, func(t *testing.T, d driver) {
		st, _ := d.open(t)
		clk := newClock()
		var purged []string
		s := newService(t, st, clk, Options{Purge: func(id string) { purged = append(purged, id) }})
		k := mustCreate(t, s, alice)
		if err := s.CreateAlias(ctx, alice, "alias/doomed", k.KeyID); err != nil {
			t.Fatal(err)
		}
		enc, err := s.Encrypt(ctx, alice, EncryptInput{KeyID: "alias/doomed", Plaintext: []byte("bye")})
		if err != nil {
			t.Fatal(err)
		}
		for _, days := range []int{-1, 1, 6, 31, 365} {
			_, err := s.ScheduleKeyDeletion(ctx, alice, k.KeyID, days)
			wantKind(t, "ScheduleKeyDeletion days", err, ErrValidation)
		}
		res, err := s.ScheduleKeyDeletion(ctx, alice, k.KeyID, 0)
		if err != nil {
			t.Fatal(err)
		}
		if res.PendingWindowDays != 30 || !res.DeletionDate.Equal(clk.Now().Add(30*24*time.Hour)) || res.KeyState != statePendingDeletion {
			t.Fatalf("ScheduleKeyDeletion = %+v", res)
		}
		arn, err := s.CancelKeyDeletion(ctx, alice, k.KeyID)
		if err != nil || arn != k.ARN {
			t.Fatalf("CancelKeyDeletion = %q, %v", arn, err)
		}
		md, _ := s.DescribeKey(ctx, alice, k.KeyID, nil)
		if md.KeyState != stateDisabled || !md.DeletionDate.IsZero() || md.PendingWindowDays != 0 {
			t.Fatalf("after cancel: %+v", md)
		}
		res, err = s.ScheduleKeyDeletion(ctx, alice, k.KeyID, 7)
		if err != nil {
			t.Fatal(err)
		}
		md, _ = s.DescribeKey(ctx, alice, k.ARN, nil)
		if md.KeyState != statePendingDeletion || !md.DeletionDate.Equal(res.DeletionDate) || md.PendingWindowDays != 7 {
			t.Fatalf("pending: %+v", md)
		}
		if len(purged) != 2 || purged[0] != k.KeyID {
			t.Fatalf("purged %v, want the key twice", purged)
		}
		// One second before the date nothing happens.
		clk.Add(7*24*time.Hour - time.Second)
		if del, _, err := s.Sweep(ctx); err != nil || del != 0 {
			t.Fatalf("early Sweep = %d, %v", del, err)
		}
		clk.Add(time.Second)
		if del, _, err := s.Sweep(ctx); err != nil || del != 1 {
			t.Fatalf("Sweep = %d, %v", del, err)
		}
		_, err = s.DescribeKey(ctx, alice, k.KeyID, nil)
		wantKind(t, "DescribeKey after deletion", err, ErrNotFound)
		_, err = s.DescribeKey(ctx, alice, "alias/doomed", nil)
		wantKind(t, "alias after deletion", err, ErrNotFound)
		if _, err := st.GetMaterial(ctx, k.KeyID, 1); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("material after deletion: %v", err)
		}
		_, err = s.Decrypt(ctx, alice, DecryptInput{CiphertextBlob: enc.CiphertextBlob})
		wantKind(t, "Decrypt after deletion", err, ErrInvalidCiphertext)
		_, err = s.CancelKeyDeletion(ctx, alice, k.KeyID)
		wantKind(t, "CancelKeyDeletion after deletion", err, ErrNotFound)
		if del, _, err := s.Sweep(ctx); err != nil || del != 0 {
			t.Fatalf("second Sweep = %d, %v", del, err)
		}
	})
}
