package kms

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/sealpost/sealpost/internal/envelope"
	"github.com/sealpost/sealpost/internal/store"
)

// errCiphertext is the one answer for a blob that does not parse, names no
// known key or version, or does not authenticate (it never says which).
func errCiphertext() error {
	return errorf(ErrInvalidCiphertext, "The ciphertext is invalid, or the encryption context or key does not match it.")
}

func validPlaintext(p []byte) error {
	if len(p) == 0 {
		return errorf(ErrValidation, "1 validation error detected: Value at 'plaintext' failed to satisfy constraint: Member must have length greater than or equal to 1")
	}
	if len(p) > envelope.MaxBlobPlaintext {
		return errorf(ErrValidation, "1 validation error detected: Value at 'plaintext' failed to satisfy constraint: Member must have length less than or equal to %d", envelope.MaxBlobPlaintext)
	}
	return nil
}

func validContext(field string, ctx map[string]string) error {
	if err := envelope.CheckContext(ctx); err != nil {
		return errorf(ErrValidation, "Invalid %s: keys and values must be UTF-8 and at most %d bytes in all", field, envelope.MaxContext)
	}
	return nil
}

// validAlg checks an EncryptionAlgorithm: model enum (ValidationException),
// then what a symmetric key supports (InvalidKeyUsageException).
func validAlg(field, alg string) error {
	if alg == "" || alg == algSymmetric {
		return nil
	}
	if !slices.Contains(modelEncAlgs, alg) {
		return errorf(ErrValidation, "1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must satisfy enum value set: [%s]", alg, field, "SYMMETRIC_DEFAULT, RSAES_OAEP_SHA_1, RSAES_OAEP_SHA_256, SM2PKE")
	}
	return errorf(ErrInvalidKeyUsage, "%s is not supported by symmetric keys; use SYMMETRIC_DEFAULT", alg)
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

// ctxParam is the encryption context as CloudTrail logs it (keys and
// values; they are not secret).
func ctxParam(ctx map[string]string) map[string]any {
	if len(ctx) == 0 {
		return nil
	}
	m := make(map[string]any, len(ctx))
	for k, v := range ctx {
		m[k] = v
	}
	return m
}

func cryptoParams(keyID string, ctx map[string]string, alg string) map[string]any {
	p := map[string]any{"encryptionAlgorithm": orDefault(alg, algSymmetric)}
	if keyID != "" {
		p["keyId"] = keyID
	}
	if c := ctxParam(ctx); c != nil {
		p["encryptionContext"] = c
	}
	return p
}

// openMaterial returns material version v of k (the caller wipes it).
func (s *Service) openMaterial(ctx context.Context, k *store.Key, v int) ([]byte, error) {
	if v > k.CurrentVersion { // rotated on another node since k was cached
		nk, err := s.getKey(ctx, k.ID)
		if err != nil {
			return nil, s.storeErr(err, k)
		}
		s.keys.put(nk)
		*k = nk
	}
	if v < 1 || v > k.CurrentVersion {
		return nil, errCiphertext()
	}
	m, err := s.keys.material(ctx, *k, v)
	switch {
	case err == nil:
		return m, nil
	case errors.Is(err, store.ErrNotFound):
		return nil, errCiphertext()
	case errors.Is(err, envelope.ErrInvalidCiphertext):
		s.log.Error("kms: sealed key material failed its integrity check (wrong root key or tampered store)", "key", k.ARN, "version", v)
		return nil, errorf(ErrInternal, "The key material of %s could not be opened: its sealed record failed the integrity check.", k.ARN)
	}
	return nil, fmt.Errorf("kms: key material: %w", err)
}

// seal encrypts plaintext under k's current material version.
func (s *Service) seal(ctx context.Context, k *store.Key, ec map[string]string, plaintext []byte) ([]byte, error) {
	v := k.CurrentVersion
	m, err := s.openMaterial(ctx, k, v)
	if err != nil {
		return nil, err
	}
	defer envelope.Wipe(m)
	b, err := envelope.EncryptBlob(m, envelope.BlobParams{KeyID: k.ID, MaterialVersion: uint32(v), Context: ec}, plaintext, s.blobOpts...)
	if err != nil {
		return nil, fmt.Errorf("kms: encrypting: %w", err)
	}
	return b, nil
}

// blobKey parses a blob and finds its key (in any account: authorize
// decides). A blob naming no existing key is InvalidCiphertext: without
// tombstones a deleted key cannot be told from a changed key id.
//
// The keys of OwnedAccount exist only for their service (hiddenFrom).
func (s *Service) blobKey(ctx context.Context, c Caller, blob []byte) (*envelope.Blob, store.Key, error) {
	if len(blob) == 0 {
		return nil, store.Key{}, errorf(ErrValidation, "1 validation error detected: Value null at 'ciphertextBlob' failed to satisfy constraint: Member must not be null")
	}
	bl, err := envelope.ParseBlob(blob)
	if err != nil || !isKeyID(bl.KeyID) {
		return nil, store.Key{}, errCiphertext()
	}
	k, err := s.keys.get(ctx, bl.KeyID)
	if errors.Is(err, store.ErrNotFound) || err == nil && hiddenFrom(c, &k) {
		return nil, store.Key{}, errCiphertext()
	}
	if err != nil {
		return nil, store.Key{}, fmt.Errorf("kms: key store: %w", err)
	}
	return bl, k, nil
}

// open decrypts bl with k (state and access already checked).
func (s *Service) open(ctx context.Context, k *store.Key, bl *envelope.Blob, ec map[string]string) ([]byte, error) {
	m, err := s.openMaterial(ctx, k, int(bl.MaterialVersion))
	if err != nil {
		return nil, err
	}
	defer envelope.Wipe(m)
	pt, err := bl.Decrypt(m, ec)
	if err != nil {
		return nil, errCiphertext()
	}
	return pt, nil
}

// Encrypt encrypts up to 4096 bytes under a key.
func (s *Service) Encrypt(ctx context.Context, c Caller, in EncryptInput) (EncryptOutput, error) {
	var out EncryptOutput
	err := s.keyOp(ctx, c, keyCall{
		name: "Encrypt", keyID: in.KeyID, aliasOK: true, action: "kms:Encrypt",
		access: Access{Context: in.Context, GrantTokens: in.GrantTokens}, state: usable, readOnly: true,
		params: cryptoParams(in.KeyID, in.Context, in.Algorithm), dryRun: in.DryRun,
		pre: firstErr(validPlaintext(in.Plaintext), validContext("encryptionContext", in.Context), validAlg("encryptionAlgorithm", in.Algorithm)),
	}, func(k *store.Key) error {
		b, err := s.seal(ctx, k, in.Context, in.Plaintext)
		if err != nil {
			return err
		}
		out = EncryptOutput{CiphertextBlob: b, KeyARN: k.ARN, Algorithm: algSymmetric}
		return nil
	})
	return out, err
}

// Decrypt decrypts a blob; KeyID, when given, must name the blob's key.
func (s *Service) Decrypt(ctx context.Context, c Caller, in DecryptInput) (DecryptOutput, error) {
	var out DecryptOutput
	var k store.Key
	err := func() error {
		if err := validAlg("encryptionAlgorithm", in.Algorithm); err != nil {
			return err
		}
		bl, bk, err := s.blobKey(ctx, c, in.CiphertextBlob)
		if err != nil {
			return err
		}
		if in.KeyID != "" {
			want, err := s.resolveKey(ctx, c, in.KeyID, true)
			if err != nil {
				return err
			}
			if want.ID != bk.ID {
				k = want
				return errorf(ErrIncorrectKey, "The key ID in the request does not identify a KMS key that can perform this operation.")
			}
		}
		k = bk
		if err := s.authorize(ctx, c, k, "kms:Decrypt", Access{Context: in.Context, GrantTokens: in.GrantTokens}); err != nil {
			return err
		}
		if err := checkState(&k, usable); err != nil {
			return err
		}
		if in.DryRun {
			return dryRunErr()
		}
		pt, err := s.open(ctx, &k, bl, in.Context)
		if err != nil {
			return err
		}
		out = DecryptOutput{Plaintext: pt, KeyARN: k.ARN, Algorithm: algSymmetric}
		return nil
	}()
	return out, s.audit(ctx, c, "Decrypt", keyRef(&k), cryptoParams(in.KeyID, in.Context, in.Algorithm), true, err)
}

// ReEncrypt decrypts a blob and encrypts its plaintext under another key
// (or the same key's current version) without revealing it.
func (s *Service) ReEncrypt(ctx context.Context, c Caller, in ReEncryptInput) (ReEncryptOutput, error) {
	var out ReEncryptOutput
	var src, dst store.Key
	params := map[string]any{
		"destinationKeyId":               in.DestinationKeyID,
		"sourceEncryptionAlgorithm":      orDefault(in.SourceAlgorithm, algSymmetric),
		"destinationEncryptionAlgorithm": orDefault(in.DestinationAlgorithm, algSymmetric),
	}
	if in.SourceKeyID != "" {
		params["sourceKeyId"] = in.SourceKeyID
	}
	if m := ctxParam(in.SourceContext); m != nil {
		params["sourceEncryptionContext"] = m
	}
	if m := ctxParam(in.DestinationContext); m != nil {
		params["destinationEncryptionContext"] = m
	}
	err := func() error {
		if err := firstErr(validAlg("sourceEncryptionAlgorithm", in.SourceAlgorithm),
			validAlg("destinationEncryptionAlgorithm", in.DestinationAlgorithm),
			validContext("destinationEncryptionContext", in.DestinationContext)); err != nil {
			return err
		}
		bl, bk, err := s.blobKey(ctx, c, in.CiphertextBlob)
		if err != nil {
			return err
		}
		if in.SourceKeyID != "" {
			want, err := s.resolveKey(ctx, c, in.SourceKeyID, true)
			if err != nil {
				return err
			}
			if want.ID != bk.ID {
				src = want
				return errorf(ErrIncorrectKey, "The key ID in the request does not identify a KMS key that can perform this operation.")
			}
		}
		src = bk
		if dst, err = s.resolveKey(ctx, c, in.DestinationKeyID, true); err != nil {
			return err
		}
		if err := s.authorize(ctx, c, src, "kms:ReEncryptFrom", Access{Context: in.SourceContext, GrantTokens: in.GrantTokens}); err != nil {
			return err
		}
		if err := s.authorize(ctx, c, dst, "kms:ReEncryptTo", Access{Context: in.DestinationContext, GrantTokens: in.GrantTokens}); err != nil {
			return err
		}
		if err := firstErr(checkState(&src, usable), checkState(&dst, usable)); err != nil {
			return err
		}
		if in.DryRun {
			return dryRunErr()
		}
		pt, err := s.open(ctx, &src, bl, in.SourceContext)
		if err != nil {
			return err
		}
		defer envelope.Wipe(pt)
		b, err := s.seal(ctx, &dst, in.DestinationContext, pt)
		if err != nil {
			return err
		}
		out = ReEncryptOutput{CiphertextBlob: b, SourceKeyARN: src.ARN, KeyARN: dst.ARN, SourceAlgorithm: algSymmetric, DestinationAlgorithm: algSymmetric}
		return nil
	}()
	return out, s.auditEvent(ctx, c, "ReEncrypt", &src, auditExtra{also: &dst}, params, true, err)
}

// GenerateDataKey returns a data key in plaintext and encrypted under a key.
func (s *Service) GenerateDataKey(ctx context.Context, c Caller, in DataKeyInput) (DataKeyOutput, error) {
	return s.dataKey(ctx, c, in, true)
}

// GenerateDataKeyWithoutPlaintext returns only the encrypted data key.
func (s *Service) GenerateDataKeyWithoutPlaintext(ctx context.Context, c Caller, in DataKeyInput) (DataKeyOutput, error) {
	return s.dataKey(ctx, c, in, false)
}

// dataKeySize validates KeySpec and NumberOfBytes (exactly one).
func dataKeySize(in DataKeyInput) (int, error) {
	switch {
	case in.KeySpec != "" && in.NumberOfBytes != 0:
		return 0, errorf(ErrValidation, "Specify either KeySpec or NumberOfBytes, not both.")
	case in.KeySpec == "AES_256":
		return 32, nil
	case in.KeySpec == "AES_128":
		return 16, nil
	case in.KeySpec != "":
		return 0, errorf(ErrValidation, "1 validation error detected: Value '%s' at 'keySpec' failed to satisfy constraint: Member must satisfy enum value set: [AES_256, AES_128]", in.KeySpec)
	case in.NumberOfBytes == 0:
		return 0, errorf(ErrValidation, "Please specify either number of bytes or key spec.")
	case in.NumberOfBytes < 1 || in.NumberOfBytes > 1024:
		return 0, errorf(ErrValidation, "1 validation error detected: Value '%d' at 'numberOfBytes' failed to satisfy constraint: Member must have value between 1 and 1024", in.NumberOfBytes)
	}
	return in.NumberOfBytes, nil
}

func (s *Service) dataKey(ctx context.Context, c Caller, in DataKeyInput, withPlaintext bool) (DataKeyOutput, error) {
	name, action := "GenerateDataKey", "kms:GenerateDataKey"
	if !withPlaintext {
		name, action = "GenerateDataKeyWithoutPlaintext", "kms:GenerateDataKeyWithoutPlaintext"
	}
	n, sizeErr := dataKeySize(in)
	params := map[string]any{"keyId": in.KeyID}
	if in.KeySpec != "" {
		params["keySpec"] = in.KeySpec
	}
	if in.NumberOfBytes != 0 {
		params["numberOfBytes"] = in.NumberOfBytes
	}
	if m := ctxParam(in.Context); m != nil {
		params["encryptionContext"] = m
	}
	var out DataKeyOutput
	err := s.keyOp(ctx, c, keyCall{
		name: name, keyID: in.KeyID, aliasOK: true, action: action,
		access: Access{Context: in.Context, GrantTokens: in.GrantTokens}, state: usable, readOnly: true,
		params: params, dryRun: in.DryRun, pre: firstErr(sizeErr, validContext("encryptionContext", in.Context)),
	}, func(k *store.Key) error {
		dk, err := s.random(n)
		if err != nil {
			return err
		}
		b, err := s.seal(ctx, k, in.Context, dk)
		if err != nil {
			envelope.Wipe(dk)
			return err
		}
		out = DataKeyOutput{CiphertextBlob: b, KeyARN: k.ARN}
		if withPlaintext {
			out.Plaintext = dk
		} else {
			envelope.Wipe(dk)
		}
		return nil
	})
	return out, err
}
