package envelope

import (
	"crypto/cipher"
	"encoding/binary"
	"fmt"
	"slices"
	"unicode/utf8"
)

const (
	blobAlgV1   = 0x01
	blobSaltLen = 32
	// blob header without the key id: version, algorithm, key id length,
	// material version, salt, nonce.
	blobFixed   = 3 + 4 + blobSaltLen + NonceSize
	minBlobSize = blobFixed + 1 + 1 + TagSize
	blobInfo    = "sealpost/kms-blob/v1"
)

// CheckContext reports whether CanonicalContext would accept ctx, without
// encoding it.
func CheckContext(ctx map[string]string) error {
	_, err := contextSize(ctx)
	return err
}

// contextSize checks ctx and returns the size of its canonical encoding.
func contextSize(ctx map[string]string) (int, error) {
	if len(ctx) > 0xffff {
		return 0, fmt.Errorf("%w: encryption context has too many pairs", ErrInvalidInput)
	}
	size := 2
	for k, v := range ctx {
		if len(k) > 0xffff || len(v) > 0xffff || !utf8.ValidString(k) || !utf8.ValidString(v) {
			return 0, fmt.Errorf("%w: encryption context keys and values must be UTF-8 and shorter than 64 KiB", ErrInvalidInput)
		}
		size += 4 + len(k) + len(v)
	}
	if size > MaxContext {
		return 0, fmt.Errorf("%w: encryption context larger than %d bytes encoded", ErrInvalidInput, MaxContext)
	}
	return size, nil
}

// CanonicalContext encodes an encryption context (format in the package doc).
// Errors wrap ErrInvalidInput.
func CanonicalContext(ctx map[string]string) ([]byte, error) {
	size, err := contextSize(ctx)
	if err != nil {
		return nil, err
	}
	keys := make([]string, 0, len(ctx))
	for k := range ctx {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b := make([]byte, 0, size)
	b = appendU16(b, len(keys))
	for _, k := range keys {
		b = appendU16(b, len(k))
		b = append(b, k...)
		b = appendU16(b, len(ctx[k]))
		b = append(b, ctx[k]...)
	}
	return b, nil
}

// BlobParams name the CMK material a blob is encrypted under.
type BlobParams struct {
	KeyID           string // 1..255 bytes, e.g. the key's UUID or ARN
	MaterialVersion uint32 // >= 1
	Context         map[string]string
}

// EncryptBlob encrypts plaintext (1..4096 bytes) under a 32-byte CMK material
// version and returns a KMS ciphertext blob.
func EncryptBlob(material []byte, p BlobParams, plaintext []byte, opts ...Option) ([]byte, error) {
	if len(material) != KeySize {
		return nil, fmt.Errorf("%w: material must be %d bytes", ErrInvalidInput, KeySize)
	}
	if len(p.KeyID) == 0 || len(p.KeyID) > MaxKeyID {
		return nil, fmt.Errorf("%w: key id must be 1..%d bytes", ErrInvalidInput, MaxKeyID)
	}
	if p.MaterialVersion == 0 {
		return nil, fmt.Errorf("%w: material version must be at least 1", ErrInvalidInput)
	}
	if len(plaintext) == 0 || len(plaintext) > MaxBlobPlaintext {
		return nil, fmt.Errorf("%w: plaintext must be 1..%d bytes", ErrInvalidInput, MaxBlobPlaintext)
	}
	cc, err := CanonicalContext(p.Context)
	if err != nil {
		return nil, err
	}
	o := buildOptions(opts)
	hdrLen := blobFixed + len(p.KeyID)
	out := make([]byte, 0, hdrLen+len(plaintext)+TagSize)
	out = append(out, formatV1, blobAlgV1, byte(len(p.KeyID)))
	out = append(out, p.KeyID...)
	out = binary.BigEndian.AppendUint32(out, p.MaterialVersion)
	out = out[:hdrLen]
	if err := readRandom(o.rand, out[hdrLen-blobSaltLen-NonceSize:]); err != nil {
		return nil, err
	}
	aead, err := blobAEAD(material, out[:hdrLen])
	if err != nil {
		return nil, err
	}
	aad := append(out[:hdrLen:hdrLen], cc...)
	return aead.Seal(out, out[hdrLen-NonceSize:hdrLen], plaintext, aad), nil
}

// blobAEAD derives the per-call key from material and the blob header.
func blobAEAD(material, hdr []byte) (cipher.AEAD, error) {
	kl := int(hdr[2])
	salt := hdr[3+kl+4 : 3+kl+4+blobSaltLen]
	key, err := deriveKey(material, salt, blobInfo+string(hdr[:3+kl+4]))
	if err != nil {
		return nil, err
	}
	defer Wipe(key)
	return newGCM(key)
}

// Blob is a parsed KMS ciphertext blob. The fields come from an
// unauthenticated header: use them only to find the material, then Decrypt.
type Blob struct {
	KeyID           string
	MaterialVersion uint32
	raw             []byte
	hdrLen          int
}

// ParseBlob checks the blob's layout and returns its key id and material
// version. Errors wrap ErrInvalidCiphertext. The Blob keeps a reference to b.
func ParseBlob(b []byte) (*Blob, error) {
	if len(b) > MaxBlob {
		return nil, invalid("ciphertext blob too long")
	}
	if len(b) < minBlobSize {
		return nil, invalid("ciphertext blob too short")
	}
	if b[0] != formatV1 {
		return nil, invalid("unknown ciphertext blob format version")
	}
	if b[1] != blobAlgV1 {
		return nil, invalid("unknown ciphertext blob algorithm")
	}
	kl := int(b[2])
	if kl == 0 {
		return nil, invalid("empty key id")
	}
	hdrLen := blobFixed + kl
	if len(b) < hdrLen+1+TagSize {
		return nil, invalid("ciphertext blob too short")
	}
	if len(b) > hdrLen+MaxBlobPlaintext+TagSize {
		return nil, invalid("ciphertext blob too long")
	}
	keyID := b[3 : 3+kl]
	if !utf8.Valid(keyID) {
		return nil, invalid("key id not UTF-8")
	}
	v := binary.BigEndian.Uint32(b[3+kl : 3+kl+4])
	if v == 0 {
		return nil, invalid("material version 0")
	}
	return &Blob{KeyID: string(keyID), MaterialVersion: v, raw: b, hdrLen: hdrLen}, nil
}

// Decrypt opens the blob with the material named by KeyID and
// MaterialVersion and the caller's encryption context. Every failure wraps
// ErrInvalidCiphertext (a context that cannot be encoded as well: it cannot
// match any blob).
func (bl *Blob) Decrypt(material []byte, ctx map[string]string) ([]byte, error) {
	if len(material) != KeySize {
		return nil, fmt.Errorf("%w: material must be %d bytes", ErrInvalidInput, KeySize)
	}
	cc, err := CanonicalContext(ctx)
	if err != nil {
		return nil, errOpen
	}
	hdr := bl.raw[:bl.hdrLen]
	aead, err := blobAEAD(material, hdr)
	if err != nil {
		return nil, err
	}
	aad := make([]byte, 0, len(hdr)+len(cc))
	aad = append(append(aad, hdr...), cc...)
	pt, err := aead.Open(nil, hdr[len(hdr)-NonceSize:], bl.raw[bl.hdrLen:], aad)
	if err != nil {
		return nil, errOpen
	}
	return pt, nil
}
