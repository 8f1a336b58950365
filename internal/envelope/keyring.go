package envelope

import (
	"bytes"
	"crypto/cipher"
	"fmt"
)

// HKDF labels of the subkeys (package doc, "Subkeys").
const (
	labelWrap   = "sealpost/cmk-wrap/v1"
	labelDedup  = "sealpost/dedup-mac/v1"
	labelAudit  = "sealpost/audit-mac/v1"
	labelRecord = "sealpost/kms-record-mac/v1"
)

// Keyring holds the keys derived from the root key. It does not keep the root
// key itself.
type Keyring struct {
	wrap  cipher.AEAD
	dedup []byte
	audit []byte
	rec   []byte
	o     options
}

// NewKeyring derives the subkeys from a 32-byte root key. Options apply to
// every SealMaterial call.
func NewKeyring(root []byte, opts ...Option) (*Keyring, error) {
	if len(root) != KeySize {
		return nil, fmt.Errorf("%w: root key must be %d bytes", ErrInvalidRootKey, KeySize)
	}
	wrapKey, err := deriveKey(root, nil, labelWrap)
	if err != nil {
		return nil, err
	}
	defer Wipe(wrapKey)
	aead, err := newGCM(wrapKey)
	if err != nil {
		return nil, err
	}
	dedup, err := deriveKey(root, nil, labelDedup)
	if err != nil {
		return nil, err
	}
	audit, err := deriveKey(root, nil, labelAudit)
	if err != nil {
		Wipe(dedup)
		return nil, err
	}
	rec, err := deriveKey(root, nil, labelRecord)
	if err != nil {
		Wipe(dedup, audit)
		return nil, err
	}
	return &Keyring{wrap: aead, dedup: dedup, audit: audit, rec: rec, o: buildOptions(opts)}, nil
}

// DedupKey returns a copy of the keyed-hash key for FIFO deduplication ids.
func (k *Keyring) DedupKey() []byte { return bytes.Clone(k.dedup) }

// AuditKey returns a copy of the keyed-hash key for audit-log checkpoints.
func (k *Keyring) AuditKey() []byte { return bytes.Clone(k.audit) }

// RecordMACKey returns a copy of the keyed-hash key for the integrity tags of
// KMS key and grant records (internal/kms defines what it covers).
func (k *Keyring) RecordMACKey() []byte { return bytes.Clone(k.rec) }

// Wipe clears the subkeys the Keyring can reach and makes it unusable.
func (k *Keyring) Wipe() {
	Wipe(k.dedup, k.audit, k.rec)
	k.wrap = nil
}

func materialAAD(keyID string, version uint32) ([]byte, error) {
	if len(keyID) == 0 || len(keyID) > MaxKeyID {
		return nil, fmt.Errorf("%w: key id must be 1..%d bytes", ErrInvalidInput, MaxKeyID)
	}
	if version == 0 {
		return nil, fmt.Errorf("%w: material version must be at least 1", ErrInvalidInput)
	}
	aad := make([]byte, 0, 1+2+len(keyID)+4)
	aad = append(aad, formatV1)
	aad = appendU16(aad, len(keyID))
	aad = append(aad, keyID...)
	aad = appendU32(aad, int(version))
	return aad, nil
}

const materialHeader = 1 + NonceSize

// SealMaterial seals a secret (CMK material version, signing key) under the
// key-wrapping key, bound to keyID and version.
func (k *Keyring) SealMaterial(keyID string, version uint32, material []byte) ([]byte, error) {
	if k.wrap == nil {
		return nil, fmt.Errorf("%w: keyring wiped", ErrInvalidInput)
	}
	if len(material) == 0 || len(material) > MaxMaterial {
		return nil, fmt.Errorf("%w: material must be 1..%d bytes", ErrInvalidInput, MaxMaterial)
	}
	aad, err := materialAAD(keyID, version)
	if err != nil {
		return nil, err
	}
	out := make([]byte, materialHeader, materialHeader+len(material)+TagSize)
	out[0] = formatV1
	if err := readRandom(k.o.rand, out[1:materialHeader]); err != nil {
		return nil, err
	}
	return k.wrap.Seal(out, out[1:materialHeader], material, aad), nil
}

// OpenMaterial opens sealed bytes from SealMaterial with the same keyID and
// version. Any failure wraps ErrInvalidCiphertext.
func (k *Keyring) OpenMaterial(keyID string, version uint32, sealed []byte) ([]byte, error) {
	if k.wrap == nil {
		return nil, fmt.Errorf("%w: keyring wiped", ErrInvalidInput)
	}
	aad, err := materialAAD(keyID, version)
	if err != nil {
		return nil, err
	}
	if len(sealed) < materialHeader+1+TagSize {
		return nil, invalid("sealed material too short")
	}
	if len(sealed) > materialHeader+MaxMaterial+TagSize {
		return nil, invalid("sealed material too long")
	}
	if sealed[0] != formatV1 {
		return nil, invalid("unknown sealed-material format version")
	}
	pt, err := k.wrap.Open(nil, sealed[1:materialHeader], sealed[materialHeader:], aad)
	if err != nil {
		return nil, errOpen
	}
	return pt, nil
}
