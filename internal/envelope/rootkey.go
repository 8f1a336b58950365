package envelope

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/crypto/argon2"
)

// Source says where a root key came from; it is kept in the root record.
type Source byte

const (
	SourceKey        Source = 0x01 // key file, environment variable or dev key file
	SourcePassphrase Source = 0x02 // passphrase through Argon2id
)

// Argon2Params are the Argon2id parameters kept in the root record.
type Argon2Params struct {
	Time      uint32 // iterations
	MemoryKiB uint32
	Threads   uint8
	Salt      []byte // 16..64 bytes
}

// Argon2id bounds accepted when reading a root record.
const (
	minArgonTime   = 1
	maxArgonTime   = 16
	minArgonMemory = 8 << 10 // 8 MiB in KiB
	maxArgonMemory = 4 << 20 // 4 GiB in KiB
	maxArgonThread = 64
	minSalt        = 16
	maxSalt        = 64
	defaultSalt    = 16
	maxKeyFileSize = 1024
)

// DefaultArgon2Params returns t=3, m=64 MiB, p=2 with a fresh 16-byte salt.
func DefaultArgon2Params(opts ...Option) (Argon2Params, error) {
	o := buildOptions(opts)
	salt := make([]byte, defaultSalt)
	if err := readRandom(o.rand, salt); err != nil {
		return Argon2Params{}, err
	}
	return Argon2Params{Time: 3, MemoryKiB: 64 << 10, Threads: 2, Salt: salt}, nil
}

func (p Argon2Params) validate() error {
	switch {
	case p.Time < minArgonTime || p.Time > maxArgonTime:
		return fmt.Errorf("%w: Argon2id time %d outside %d..%d", ErrInvalidRootKey, p.Time, minArgonTime, maxArgonTime)
	case p.MemoryKiB < minArgonMemory || p.MemoryKiB > maxArgonMemory:
		return fmt.Errorf("%w: Argon2id memory %d KiB outside %d..%d", ErrInvalidRootKey, p.MemoryKiB, minArgonMemory, maxArgonMemory)
	case p.Threads < 1 || p.Threads > maxArgonThread:
		return fmt.Errorf("%w: Argon2id threads %d outside 1..%d", ErrInvalidRootKey, p.Threads, maxArgonThread)
	case len(p.Salt) < minSalt || len(p.Salt) > maxSalt:
		return fmt.Errorf("%w: Argon2id salt of %d bytes outside %d..%d", ErrInvalidRootKey, len(p.Salt), minSalt, maxSalt)
	}
	return nil
}

// DeriveRootKey runs Argon2id over the passphrase with p. Deterministic.
func DeriveRootKey(passphrase []byte, p Argon2Params) ([]byte, error) {
	if len(passphrase) == 0 {
		return nil, fmt.Errorf("%w: empty passphrase", ErrInvalidRootKey)
	}
	if err := p.validate(); err != nil {
		return nil, err
	}
	return argon2.IDKey(passphrase, p.Salt, p.Time, p.MemoryKiB, p.Threads, KeySize), nil
}

// ParseRootKey decodes root-key text: 64 hex characters or base64 (standard
// or URL alphabet, padded or not) of 32 bytes, surrounding whitespace ignored.
func ParseRootKey(text []byte) ([]byte, error) {
	t := bytes.TrimSpace(text)
	if len(t) == 2*KeySize {
		key := make([]byte, KeySize)
		if _, err := hex.Decode(key, t); err == nil {
			return key, nil
		}
		Wipe(key)
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if enc.DecodedLen(len(t)) < KeySize || enc.DecodedLen(len(t)) > KeySize+2 {
			continue
		}
		key := make([]byte, enc.DecodedLen(len(t)))
		n, err := enc.Decode(key, t)
		if err == nil && n == KeySize {
			return key[:KeySize], nil
		}
		Wipe(key)
	}
	if len(text) == KeySize {
		return nil, fmt.Errorf("%w: it looks like %d raw bytes; write the key as text, e.g. `openssl rand -hex 32`", ErrInvalidRootKey, KeySize)
	}
	return nil, fmt.Errorf("%w: want 64 hex characters or the base64 of 32 bytes (e.g. `openssl rand -hex 32`)", ErrInvalidRootKey)
}

// RootKeyFromFile reads a root-key file (text, see ParseRootKey). The file
// must not be accessible to group or others.
func RootKeyFromFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidRootKey, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidRootKey, err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%w: %s is not a regular file", ErrInvalidRootKey, path)
	}
	if perm := st.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("%w: %s has mode %04o; it must not be accessible to group or others (chmod 600)", ErrInvalidRootKey, path, perm)
	}
	buf := make([]byte, maxKeyFileSize+1)
	defer Wipe(buf)
	n, err := io.ReadFull(f, buf)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: reading %s: %v", ErrInvalidRootKey, path, err)
	}
	if n > maxKeyFileSize {
		return nil, fmt.Errorf("%w: %s is larger than %d bytes", ErrInvalidRootKey, path, maxKeyFileSize)
	}
	key, err := ParseRootKey(buf[:n])
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return key, nil
}

// RootKeyFromEnv reads root-key text (see ParseRootKey) from the environment
// variable name. The caller may unset the variable afterwards.
func RootKeyFromEnv(name string) ([]byte, error) {
	v, ok := os.LookupEnv(name)
	if !ok || v == "" {
		return nil, fmt.Errorf("%w: environment variable %s is not set", ErrInvalidRootKey, name)
	}
	key, err := ParseRootKey([]byte(v))
	if err != nil {
		return nil, fmt.Errorf("$%s: %w", name, err)
	}
	return key, nil
}

// DevRootKey loads the development root key at path, or generates one there
// (mode 0600, written atomically, never replacing an existing file). created
// reports a new key; the caller must warn loudly either way that the key
// lives beside the data.
func DevRootKey(path string, opts ...Option) (key []byte, created bool, err error) {
	key, err = RootKeyFromFile(path)
	if err == nil {
		return key, false, nil
	}
	if _, statErr := os.Lstat(path); !errors.Is(statErr, fs.ErrNotExist) {
		return nil, false, err
	}
	o := buildOptions(opts)
	key = make([]byte, KeySize)
	if err := readRandom(o.rand, key); err != nil {
		return nil, false, err
	}
	text := make([]byte, 2*KeySize+1)
	defer Wipe(text)
	hex.Encode(text, key)
	text[2*KeySize] = '\n'
	if err := writeFileAtomic(path, text); err != nil {
		Wipe(key)
		if errors.Is(err, fs.ErrExist) { // another process won the race: use its key
			key, err = RootKeyFromFile(path)
			return key, false, err
		}
		return nil, false, err
	}
	return key, true, nil
}

// writeFileAtomic writes data to a new 0600 file at path: temporary file in
// the same directory, fsync, hard link to path (fails with fs.ErrExist if path
// exists), remove the temporary name, fsync the directory.
func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmpName := tmp.Name()
	defer os.Remove(tmpName)
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Link(tmpName, path); err != nil {
		return err
	}
	if err := os.Remove(tmpName); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// CheckValue returns HMAC-SHA256(root, "sealpost root check v1")[:16].
func CheckValue(root []byte) [CheckSize]byte {
	m := hmac.New(sha256.New, root)
	m.Write([]byte("sealpost root check v1"))
	var c [CheckSize]byte
	copy(c[:], m.Sum(nil))
	return c
}

// RootRecord is the non-secret record kept beside the data (format in the
// package doc).
type RootRecord struct {
	Source Source
	Argon2 Argon2Params // set only when Source is SourcePassphrase
	Check  [CheckSize]byte
}

// NewRootRecord builds the record for root.
func NewRootRecord(root []byte, src Source, p Argon2Params) (RootRecord, error) {
	if len(root) != KeySize {
		return RootRecord{}, fmt.Errorf("%w: root key must be %d bytes", ErrInvalidRootKey, KeySize)
	}
	r := RootRecord{Source: src, Check: CheckValue(root)}
	switch src {
	case SourceKey:
	case SourcePassphrase:
		if err := p.validate(); err != nil {
			return RootRecord{}, err
		}
		r.Argon2 = p
		r.Argon2.Salt = bytes.Clone(p.Salt)
	default:
		return RootRecord{}, fmt.Errorf("%w: unknown root-key source %d", ErrInvalidRootKey, src)
	}
	return r, nil
}

// Verify compares the check value of root with the record in constant time.
func (r RootRecord) Verify(root []byte) error {
	c := CheckValue(root)
	if !hmac.Equal(c[:], r.Check[:]) {
		return ErrWrongRootKey
	}
	return nil
}

// MarshalBinary encodes the record.
func (r RootRecord) MarshalBinary() ([]byte, error) {
	b := make([]byte, 0, 28+len(r.Argon2.Salt))
	b = append(b, formatV1, byte(r.Source))
	b = append(b, r.Check[:]...)
	switch r.Source {
	case SourceKey:
	case SourcePassphrase:
		if err := r.Argon2.validate(); err != nil {
			return nil, err
		}
		b = binary.BigEndian.AppendUint32(b, r.Argon2.Time)
		b = binary.BigEndian.AppendUint32(b, r.Argon2.MemoryKiB)
		b = append(b, r.Argon2.Threads, byte(len(r.Argon2.Salt)))
		b = append(b, r.Argon2.Salt...)
	default:
		return nil, fmt.Errorf("%w: unknown root-key source %d", ErrInvalidRootKey, r.Source)
	}
	return b, nil
}

// ParseRootRecord decodes a record written by MarshalBinary.
func ParseRootRecord(b []byte) (RootRecord, error) {
	bad := func(why string) (RootRecord, error) {
		return RootRecord{}, fmt.Errorf("%w: root record: %s", ErrInvalidRootKey, why)
	}
	if len(b) < 2+CheckSize {
		return bad("too short")
	}
	if b[0] != formatV1 {
		return bad(fmt.Sprintf("unknown format version %d", b[0]))
	}
	var r RootRecord
	r.Source = Source(b[1])
	copy(r.Check[:], b[2:2+CheckSize])
	rest := b[2+CheckSize:]
	switch r.Source {
	case SourceKey:
		if len(rest) != 0 {
			return bad("trailing bytes")
		}
	case SourcePassphrase:
		if len(rest) < 10 {
			return bad("Argon2id parameters truncated")
		}
		r.Argon2.Time = binary.BigEndian.Uint32(rest[0:4])
		r.Argon2.MemoryKiB = binary.BigEndian.Uint32(rest[4:8])
		r.Argon2.Threads = rest[8]
		n := int(rest[9])
		if len(rest) != 10+n {
			return bad("salt length does not match the record length")
		}
		r.Argon2.Salt = bytes.Clone(rest[10:])
		if err := r.Argon2.validate(); err != nil {
			return RootRecord{}, err
		}
	default:
		return bad(fmt.Sprintf("unknown root-key source %d", r.Source))
	}
	return r, nil
}

// ReadRootRecord reads the record at path. A missing file gives an error
// wrapping fs.ErrNotExist.
func ReadRootRecord(path string) (RootRecord, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return RootRecord{}, err
	}
	r, err := ParseRootRecord(b)
	if err != nil {
		return RootRecord{}, fmt.Errorf("%s: %w", path, err)
	}
	return r, nil
}

// WriteRootRecord writes r to a new file at path atomically (0600); it fails
// with fs.ErrExist if the file exists.
func WriteRootRecord(path string, r RootRecord) error {
	b, err := r.MarshalBinary()
	if err != nil {
		return err
	}
	return writeFileAtomic(path, b)
}

// EnsureRootRecord checks a key from a file, the environment or DevRootKey
// against the root record at path: ErrWrongRootKey on mismatch. When there is
// no record and create is true (a new data directory), it writes one; when
// create is false a missing record is an error wrapping fs.ErrNotExist.
func EnsureRootRecord(path string, root []byte, create bool) error {
	r, err := ReadRootRecord(path)
	switch {
	case err == nil:
		if err := r.Verify(root); err != nil && r.Source == SourcePassphrase {
			return fmt.Errorf("%w; the data was sealed under a passphrase-derived root key", ErrWrongRootKey)
		} else if err != nil {
			return err
		}
		return nil
	case errors.Is(err, fs.ErrNotExist) && create:
		r, err := NewRootRecord(root, SourceKey, Argon2Params{})
		if err != nil {
			return err
		}
		return WriteRootRecord(path, r)
	default:
		return err
	}
}

// PassphraseRootKey derives the root key from passphrase with the Argon2id
// parameters and salt of the root record at path, and verifies it
// (ErrWrongRootKey for a wrong passphrase). When there is no record and create
// is true, it draws a salt, uses DefaultArgon2Params and writes the record.
func PassphraseRootKey(passphrase []byte, path string, create bool, opts ...Option) ([]byte, error) {
	r, err := ReadRootRecord(path)
	switch {
	case err == nil:
		if r.Source != SourcePassphrase {
			return nil, fmt.Errorf("%w: the root record at %s is for a key from a file or the environment, not a passphrase", ErrWrongRootKey, path)
		}
		key, err := DeriveRootKey(passphrase, r.Argon2)
		if err != nil {
			return nil, err
		}
		if err := r.Verify(key); err != nil {
			Wipe(key)
			return nil, err
		}
		return key, nil
	case errors.Is(err, fs.ErrNotExist) && create:
		p, err := DefaultArgon2Params(opts...)
		if err != nil {
			return nil, err
		}
		if o := buildOptions(opts); o.argon2 != nil {
			p.Time, p.MemoryKiB, p.Threads = o.argon2.Time, o.argon2.MemoryKiB, o.argon2.Threads
		}
		return createPassphraseRecord(passphrase, path, p)
	default:
		return nil, err
	}
}

func createPassphraseRecord(passphrase []byte, path string, p Argon2Params) ([]byte, error) {
	key, err := DeriveRootKey(passphrase, p)
	if err != nil {
		return nil, err
	}
	r, err := NewRootRecord(key, SourcePassphrase, p)
	if err == nil {
		err = WriteRootRecord(path, r)
	}
	if err != nil {
		Wipe(key)
		return nil, err
	}
	return key, nil
}
