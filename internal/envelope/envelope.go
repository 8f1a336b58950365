package envelope

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"runtime"
)

// Errors. Callers test them with errors.Is.
var (
	// ErrInvalidCiphertext: a blob, sealed material or body that does not
	// parse or does not authenticate.
	ErrInvalidCiphertext = errors.New("envelope: invalid ciphertext")
	// ErrWrongRootKey: the root key does not match the root record's check value.
	ErrWrongRootKey = errors.New("envelope: wrong root key (it does not match the check value stored beside the data)")
	// ErrInvalidRootKey: root-key text, file or record that cannot be used.
	ErrInvalidRootKey = errors.New("envelope: invalid root key")
	// ErrInvalidInput: an argument the caller should have validated.
	ErrInvalidInput = errors.New("envelope: invalid input")
)

// Sizes.
const (
	KeySize          = 32      // root key, subkeys, CMK material, data keys
	NonceSize        = 12      // GCM nonce
	TagSize          = 16      // GCM tag
	CheckSize        = 16      // root check value
	MaxKeyID         = 255     // key id in sealed material and blobs
	MaxMaterial      = 16384   // sealed material plaintext
	MaxBlobPlaintext = 4096    // KMS Encrypt plaintext
	MaxBlob          = 6144    // KMS CiphertextBlob
	MaxContext       = 8192    // canonical encryption context
	MaxDataKeyID     = 6144    // data-key id in a sealed body
	MaxBodyPlaintext = 1 << 20 // sealed body plaintext
)

const formatV1 = 0x01

// Option adjusts a call.
type Option func(*options)

type options struct {
	rand   io.Reader
	argon2 *Argon2Params
}

// WithRand sets the source of nonces, salts and generated keys (default
// crypto/rand.Reader). Tests inject a fixed reader for known-answer outputs.
func WithRand(r io.Reader) Option {
	return func(o *options) { o.rand = r }
}

// WithArgon2Params sets the Argon2id time, memory and threads used when
// PassphraseRootKey creates a root record (the salt is always drawn fresh).
func WithArgon2Params(p Argon2Params) Option {
	return func(o *options) { o.argon2 = &p }
}

func buildOptions(opts []Option) options {
	if len(opts) == 0 { // the common case, without a heap-allocated options
		return options{rand: rand.Reader}
	}
	o := options{rand: rand.Reader}
	for _, f := range opts {
		f(&o)
	}
	if o.rand == nil {
		o.rand = rand.Reader
	}
	return o
}

func readRandom(r io.Reader, b []byte) error {
	if _, err := io.ReadFull(r, b); err != nil {
		return fmt.Errorf("envelope: reading random bytes: %w", err)
	}
	return nil
}

// Wipe overwrites each slice with zeros. Best effort; see the package doc.
func Wipe(bufs ...[]byte) {
	for _, b := range bufs {
		clear(b)
		runtime.KeepAlive(b)
	}
}

func newGCM(key []byte) (cipher.AEAD, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("%w: key must be %d bytes", ErrInvalidInput, KeySize)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

func deriveKey(secret, salt []byte, info string) ([]byte, error) {
	return hkdf.Key(sha256.New, secret, salt, info, KeySize)
}

// invalid wraps ErrInvalidCiphertext with a reason that names a field, never
// a value.
func invalid(what string) error {
	return fmt.Errorf("%w: %s", ErrInvalidCiphertext, what)
}

// errOpen is the one error for every authentication failure.
var errOpen = invalid("message authentication failed")

func appendU16(b []byte, v int) []byte { return binary.BigEndian.AppendUint16(b, uint16(v)) }
func appendU32(b []byte, v int) []byte { return binary.BigEndian.AppendUint32(b, uint32(v)) }
