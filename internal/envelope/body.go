package envelope

import (
	"bytes"
	"crypto/cipher"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"slices"
)

const (
	bodyAlgV1 = 0x01
	bodyFixed = 4 + NonceSize // version, algorithm, id length, nonce
)

// BodyAAD are the message fields a sealed body is bound to. Strings longer
// than the format allows (64 KiB; subject 4 GiB) are refused.
type BodyAAD struct {
	TopicARN         string
	MessageID        string
	Timestamp        int64 // publish time, Unix milliseconds
	Subject          string
	AttributesDigest [32]byte // AttributesDigest of the message attributes
	MessageGroupID   string   // FIFO only
	DeduplicationID  string   // FIFO only
}

func (a *BodyAAD) append(b []byte) ([]byte, error) {
	for _, s := range []string{a.TopicARN, a.MessageID, a.MessageGroupID, a.DeduplicationID} {
		if len(s) > 0xffff {
			return nil, fmt.Errorf("%w: body AAD field longer than 65535 bytes", ErrInvalidInput)
		}
	}
	if int64(len(a.Subject)) > 0xffffffff {
		return nil, fmt.Errorf("%w: subject too long", ErrInvalidInput)
	}
	b = appendU16(b, len(a.TopicARN))
	b = append(b, a.TopicARN...)
	b = appendU16(b, len(a.MessageID))
	b = append(b, a.MessageID...)
	b = binary.BigEndian.AppendUint64(b, uint64(a.Timestamp))
	b = appendU32(b, len(a.Subject))
	b = append(b, a.Subject...)
	b = append(b, a.AttributesDigest[:]...)
	b = appendU16(b, len(a.MessageGroupID))
	b = append(b, a.MessageGroupID...)
	b = appendU16(b, len(a.DeduplicationID))
	b = append(b, a.DeduplicationID...)
	return b, nil
}

func (a *BodyAAD) size() int {
	return 2 + len(a.TopicARN) + 2 + len(a.MessageID) + 8 + 4 + len(a.Subject) + 32 + 2 + len(a.MessageGroupID) + 2 + len(a.DeduplicationID)
}

// MessageAttribute is one SNS message attribute, as AttributesDigest reads it.
type MessageAttribute struct {
	DataType    string // String, Number, Binary, String.Array, with optional custom suffix
	StringValue string
	BinaryValue []byte // used when DataType starts with "Binary"
}

// AttributesDigest returns the SHA-256 digest of the canonical encoding of
// attrs (format in the package doc). A nil or empty map has a fixed digest.
func AttributesDigest(attrs map[string]MessageAttribute) [32]byte {
	names := make([]string, 0, len(attrs))
	for n := range attrs {
		names = append(names, n)
	}
	slices.Sort(names)
	h := sha256.New()
	var b []byte
	b = appendU16(b, len(names))
	for _, n := range names {
		a := attrs[n]
		b = appendU16(b, len(n))
		b = append(b, n...)
		b = appendU16(b, len(a.DataType))
		b = append(b, a.DataType...)
		if len(a.DataType) >= 6 && a.DataType[:6] == "Binary" {
			b = append(b, 0x02)
			b = appendU32(b, len(a.BinaryValue))
			b = append(b, a.BinaryValue...)
		} else {
			b = append(b, 0x01)
			b = appendU32(b, len(a.StringValue))
			b = append(b, a.StringValue...)
		}
		h.Write(b)
		b = b[:0]
	}
	h.Write(b)
	var d [32]byte
	h.Sum(d[:0])
	return d
}

// DataKey seals and opens message bodies under one data key. It keeps the
// AES key schedule, not the key bytes.
type DataKey struct {
	id   []byte
	aead cipher.AEAD
	o    options
}

// NewDataKey prepares a 32-byte data key with its id (1..6144 bytes, see the
// package doc). The caller may wipe key afterwards. Options apply to every
// SealBody call.
func NewDataKey(id, key []byte, opts ...Option) (*DataKey, error) {
	if len(id) == 0 || len(id) > MaxDataKeyID {
		return nil, fmt.Errorf("%w: data-key id must be 1..%d bytes", ErrInvalidInput, MaxDataKeyID)
	}
	aead, err := newGCM(key)
	if err != nil {
		return nil, err
	}
	return &DataKey{id: bytes.Clone(id), aead: aead, o: buildOptions(opts)}, nil
}

// ID returns a copy of the data-key id.
func (k *DataKey) ID() []byte { return bytes.Clone(k.id) }

// Wipe drops the key schedule; the DataKey is unusable afterwards.
func (k *DataKey) Wipe() { k.aead = nil }

// SealBody seals plaintext (0..1 MiB) bound to aad.
func (k *DataKey) SealBody(plaintext []byte, aad BodyAAD) ([]byte, error) {
	if k.aead == nil {
		return nil, fmt.Errorf("%w: data key wiped", ErrInvalidInput)
	}
	if len(plaintext) > MaxBodyPlaintext {
		return nil, fmt.Errorf("%w: body larger than %d bytes", ErrInvalidInput, MaxBodyPlaintext)
	}
	hdrLen := bodyFixed + len(k.id)
	out := make([]byte, 0, hdrLen+len(plaintext)+TagSize)
	out = append(out, formatV1, bodyAlgV1)
	out = appendU16(out, len(k.id))
	out = append(out, k.id...)
	out = out[:hdrLen]
	nonce := out[hdrLen-NonceSize:]
	if err := readRandom(k.o.rand, nonce); err != nil {
		return nil, err
	}
	ad := make([]byte, 0, hdrLen+aad.size())
	ad = append(ad, out...)
	ad, err := aad.append(ad)
	if err != nil {
		return nil, err
	}
	return k.aead.Seal(out, nonce, plaintext, ad), nil
}

// ParseBody checks a sealed body's layout and returns its data-key id (a
// sub-slice of sealed). Errors wrap ErrInvalidCiphertext.
func ParseBody(sealed []byte) (dataKeyID []byte, err error) {
	if len(sealed) < bodyFixed+1+TagSize {
		return nil, invalid("sealed body too short")
	}
	if sealed[0] != formatV1 {
		return nil, invalid("unknown sealed body format version")
	}
	if sealed[1] != bodyAlgV1 {
		return nil, invalid("unknown sealed body algorithm")
	}
	l := int(binary.BigEndian.Uint16(sealed[2:4]))
	if l == 0 || l > MaxDataKeyID {
		return nil, invalid("bad data-key id length")
	}
	hdrLen := bodyFixed + l
	if len(sealed) < hdrLen+TagSize {
		return nil, invalid("sealed body too short")
	}
	if len(sealed) > hdrLen+MaxBodyPlaintext+TagSize {
		return nil, invalid("sealed body too long")
	}
	return sealed[4 : 4+l], nil
}

// OpenBody opens a body sealed by SealBody under this data key with the same
// aad. Every failure wraps ErrInvalidCiphertext.
func (k *DataKey) OpenBody(sealed []byte, aad BodyAAD) ([]byte, error) {
	if k.aead == nil {
		return nil, fmt.Errorf("%w: data key wiped", ErrInvalidInput)
	}
	id, err := ParseBody(sealed)
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(id, k.id) {
		return nil, invalid("sealed body names another data key")
	}
	hdrLen := bodyFixed + len(id)
	ad := make([]byte, 0, hdrLen+aad.size())
	ad = append(ad, sealed[:hdrLen]...)
	ad, err = aad.append(ad)
	if err != nil {
		return nil, errOpen
	}
	pt, err := k.aead.Open(nil, sealed[hdrLen-NonceSize:hdrLen], sealed[hdrLen:], ad)
	if err != nil {
		return nil, errOpen
	}
	return pt, nil
}
