package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/sealpost/sealpost/internal/config"
	"github.com/sealpost/sealpost/internal/envelope"
	"github.com/sealpost/sealpost/internal/snssig"
	"github.com/sealpost/sealpost/internal/store"
)

// Reserved key-store records. Sealpost keeps two records of its own in the
// KMS key store (store.KeyStore), so that they live wherever the data lives
// (the embedded store in the data dir, or the PostgreSQL database every node
// shares) without widening the store interface:
//
//   - RootRecordID: the root record (envelope.RootRecord: check value of the
//     root key, and for a passphrase the Argon2id parameters and salt) in the
//     record's MAC field. Every node checks its root key against it at start.
//   - snssig.SealedKeyID: the message-signing private key, sealed under the
//     key-wrapping key, as material version 1.
//
// Both have Account and Region "sealpost", which is no account id (those are
// 12 digits), so ListKeys never lists them for a real account; their ids
// contain "/", which is no KMS key id (a UUID), so no API call names them;
// they have no deletion or rotation date, so KeysDue never returns them.
const (
	RootRecordID   = "sealpost/root-record"
	reservedScope  = "sealpost"
	reservedState  = "Internal"
	reservedKeyMgr = "SEALPOST"
	// DevRootKeyFile is the generated development root key in the data dir.
	DevRootKeyFile = "root.key"
	maxSecretFile  = 4096
)

func reservedKey(id string) store.Key {
	return store.Key{ID: id, Account: reservedScope, Region: reservedScope, KeyState: reservedState,
		KeyManager: reservedKeyMgr, CreatedAt: time.Now().UTC()}
}

// getRootRecord reads the root record; ok is false when there is none.
func getRootRecord(ctx context.Context, ks store.KeyStore) (rec envelope.RootRecord, ok bool, err error) {
	k, err := ks.GetKey(ctx, RootRecordID)
	if errors.Is(err, store.ErrNotFound) {
		return envelope.RootRecord{}, false, nil
	}
	if err != nil {
		return envelope.RootRecord{}, false, fmt.Errorf("read the root record: %w", err)
	}
	rec, err = envelope.ParseRootRecord(k.MAC)
	if err != nil {
		return envelope.RootRecord{}, false, fmt.Errorf("the root record in the store is damaged: %w", err)
	}
	return rec, true, nil
}

// createRootRecord stores rec unless a record exists (then it returns
// store.ErrExists: another node was first).
func createRootRecord(ctx context.Context, ks store.KeyStore, rec envelope.RootRecord) error {
	b, err := rec.MarshalBinary()
	if err != nil {
		return err
	}
	k := reservedKey(RootRecordID)
	k.MAC = b
	_, err = ks.CreateKey(ctx, k, nil)
	return err
}

// loadRootKey obtains the root key from the configured source and checks it
// against the root record in the store, creating the record on first start.
// It returns the key (the caller wipes it) and a warning to log at every
// start, if any. Nothing here logs or returns key material.
func loadRootKey(ctx context.Context, cfg *config.Config, ks store.KeyStore, where string) ([]byte, string, error) {
	src := cfg.RootKey
	var (
		key  []byte
		what string // the source, named in errors
		warn string
		err  error
	)
	switch src.Kind() {
	case "passphrase":
		return passphraseRootKey(ctx, src, ks, where)
	case "file":
		what = "--root-key-file " + src.File
		key, err = envelope.RootKeyFromFile(src.File)
	case "env":
		what = "--root-key-env " + src.Env
		key, err = envelope.RootKeyFromEnv(src.Env)
		os.Unsetenv(src.Env) // keep it from anything this process might start
	default:
		path := filepath.Join(cfg.DataDir, DevRootKeyFile)
		what = "the development root key " + path
		key, _, err = envelope.DevRootKey(path)
		warn = "DEVELOPMENT ROOT KEY in " + path + ": it seals every KMS key and the message-signing key and lives beside the data it protects; " +
			"anyone who can read this file can decrypt them. Outside development start with --root-key-file, --root-key-env or --root-key-passphrase-env/-file"
	}
	if err != nil {
		return nil, "", fmt.Errorf("root key: %w", err)
	}
	for attempt := 0; ; attempt++ {
		rec, ok, err := getRootRecord(ctx, ks)
		if err != nil {
			envelope.Wipe(key)
			return nil, "", fmt.Errorf("root key: %w", err)
		}
		if ok {
			if rec.Source == envelope.SourcePassphrase {
				envelope.Wipe(key)
				return nil, "", fmt.Errorf("root key: %w: the data in %s was sealed under a passphrase-derived root key; start with --root-key-passphrase-env or --root-key-passphrase-file instead of %s",
					envelope.ErrWrongRootKey, where, what)
			}
			if err := rec.Verify(key); err != nil {
				envelope.Wipe(key)
				return nil, "", wrongRootKey(what, where)
			}
			return key, warn, nil
		}
		rec, err = envelope.NewRootRecord(key, envelope.SourceKey, envelope.Argon2Params{})
		if err == nil {
			err = createRootRecord(ctx, ks, rec)
		}
		if errors.Is(err, store.ErrExists) && attempt == 0 {
			continue // another node stored its record first: check against it
		}
		if err != nil {
			envelope.Wipe(key)
			return nil, "", fmt.Errorf("root key: store the root record: %w", err)
		}
		return key, warn, nil
	}
}

func wrongRootKey(what, where string) error {
	return fmt.Errorf("root key: %w: %s is not the root key the data in %s was sealed under; "+
		"start with that key (or passphrase)", envelope.ErrWrongRootKey, what, where)
}

// passphraseRootKey derives the root key with Argon2id from the passphrase,
// with the parameters and salt of the root record in the store (every node
// sharing the database derives the same key), drawing a salt on first start.
func passphraseRootKey(ctx context.Context, src config.RootKeySource, ks store.KeyStore, where string) ([]byte, string, error) {
	var (
		pass []byte
		what string
		err  error
	)
	if src.PassphraseEnv != "" {
		what = "the passphrase in --root-key-passphrase-env " + src.PassphraseEnv
		pass = []byte(os.Getenv(src.PassphraseEnv))
		os.Unsetenv(src.PassphraseEnv)
	} else {
		what = "the passphrase in --root-key-passphrase-file " + src.PassphraseFile
		pass, err = readSecretFile(src.PassphraseFile)
		if err != nil {
			return nil, "", fmt.Errorf("root key: --root-key-passphrase-file: %w", err)
		}
	}
	defer envelope.Wipe(pass)
	if len(pass) == 0 {
		return nil, "", fmt.Errorf("root key: %s is empty", what)
	}
	for attempt := 0; ; attempt++ {
		rec, ok, err := getRootRecord(ctx, ks)
		if err != nil {
			return nil, "", fmt.Errorf("root key: %w", err)
		}
		if ok {
			if rec.Source != envelope.SourcePassphrase {
				return nil, "", fmt.Errorf("root key: %w: the data in %s was sealed under a root key from a file or the environment, not a passphrase; start with --root-key-file or --root-key-env",
					envelope.ErrWrongRootKey, where)
			}
			key, err := envelope.DeriveRootKey(pass, rec.Argon2)
			if err != nil {
				return nil, "", fmt.Errorf("root key: %w", err)
			}
			if err := rec.Verify(key); err != nil {
				envelope.Wipe(key)
				return nil, "", wrongRootKey(what, where)
			}
			return key, "", nil
		}
		p, err := envelope.DefaultArgon2Params()
		if err != nil {
			return nil, "", fmt.Errorf("root key: %w", err)
		}
		key, err := envelope.DeriveRootKey(pass, p)
		if err != nil {
			return nil, "", fmt.Errorf("root key: %w", err)
		}
		rec, err = envelope.NewRootRecord(key, envelope.SourcePassphrase, p)
		if err == nil {
			err = createRootRecord(ctx, ks, rec)
		}
		if err == nil {
			return key, "", nil
		}
		envelope.Wipe(key)
		if !errors.Is(err, store.ErrExists) || attempt > 0 {
			return nil, "", fmt.Errorf("root key: store the root record: %w", err)
		}
	}
}

// readSecretFile reads a small secret file that group and others cannot
// access, without its trailing line break.
func readSecretFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	if perm := st.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("%s has mode %04o; it must not be accessible to group or others (chmod 600)", path, perm)
	}
	buf := make([]byte, maxSecretFile+1)
	n, err := io.ReadFull(f, buf)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		envelope.Wipe(buf)
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	if n > maxSecretFile {
		envelope.Wipe(buf)
		return nil, fmt.Errorf("%s is larger than %d bytes", path, maxSecretFile)
	}
	out := bytes.TrimRight(buf[:n], "\r\n")
	return out, nil
}

// signingVault keeps the sealed message-signing key in the key store as the
// reserved record snssig.SealedKeyID (material version 1).
type signingVault struct{ ks store.KeyStore }

func (v signingVault) Get(ctx context.Context) ([]byte, error) {
	m, err := v.ks.GetMaterial(ctx, snssig.SealedKeyID, snssig.SealedKeyVersion)
	if errors.Is(err, store.ErrNotFound) {
		return nil, snssig.ErrNoKey
	}
	return m.Sealed, err
}

func (v signingVault) Create(ctx context.Context, sealed []byte) error {
	now := time.Now().UTC()
	_, err := v.ks.CreateKey(ctx, reservedKey(snssig.SealedKeyID),
		&store.Material{Version: snssig.SealedKeyVersion, CreatedAt: now, Sealed: sealed})
	if errors.Is(err, store.ErrExists) {
		return snssig.ErrKeyExists
	}
	return err
}

// logRootKeyWarning logs the development-key warning (every start).
func logRootKeyWarning(log *slog.Logger, warn string) {
	if warn != "" {
		log.Warn(warn)
	}
}
