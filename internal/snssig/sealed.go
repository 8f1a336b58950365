package snssig

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/sealpost/sealpost/internal/datadir"
)

// SealedKeyID and SealedKeyVersion bind the sealed private key (the AAD of
// Sealer.SealMaterial): a sealed value moved to another record does not
// open. The id cannot be a KMS key id (those are UUIDs).
const (
	SealedKeyID      = "sealpost/sns-signing-key"
	SealedKeyVersion = 1
)

// Errors a Vault returns.
var (
	// ErrNoKey: the vault holds no signing key yet.
	ErrNoKey = errors.New("snssig: no signing key stored")
	// ErrKeyExists: Create lost to another node that stored a key first.
	ErrKeyExists = errors.New("snssig: a signing key is already stored")
)

// Vault keeps the sealed private key where every node sharing the database
// finds it. It only ever sees sealed bytes.
type Vault interface {
	// Get returns the sealed key, or ErrNoKey.
	Get(ctx context.Context) ([]byte, error)
	// Create stores sealed durably unless a key is stored already
	// (ErrKeyExists).
	Create(ctx context.Context, sealed []byte) error
}

// Sealer seals and opens small secrets bound to an id and version
// (*envelope.Keyring).
type Sealer interface {
	SealMaterial(keyID string, version uint32, material []byte) ([]byte, error)
	OpenMaterial(keyID string, version uint32, sealed []byte) ([]byte, error)
}

// ErrSealedKey is wrapped by LoadSealed when the stored key does not open:
// the record was changed, or it was sealed under another root key.
var ErrSealedKey = errors.New("the sealed message-signing key does not open")

// LoadSealed returns the Signer whose private key is sealed by s and kept in
// v, and whose certificate lives in dir (in clear: it is public).
//
//   - A key in v is opened and used; failure to open it is an error wrapping
//     ErrSealedKey (never replaced by a new key).
//   - Otherwise a plaintext key file from an older version in dir
//     (KeyFileName) is sealed and stored (migration), else a new key is
//     generated and stored. When another node stores its key first
//     (ErrKeyExists), that key is used.
//   - A plaintext key file left in dir is removed once the sealed key is
//     stored, with a log line; nothing else writes the private key to disk.
func LoadSealed(ctx context.Context, dir string, v Vault, s Sealer, log *slog.Logger) (*Signer, error) {
	if err := os.MkdirAll(dir, datadir.DirMode); err != nil {
		return nil, fmt.Errorf("snssig: create %s: %w", dir, err)
	}
	pemPath := filepath.Join(dir, KeyFileName)
	key, err := loadSealedKey(ctx, pemPath, v, s, log)
	if err != nil {
		return nil, err
	}
	if err := removePlainKey(pemPath, log); err != nil {
		return nil, err
	}
	return loadOrIssueCert(dir, key, time.Now())
}

func loadSealedKey(ctx context.Context, pemPath string, v Vault, s Sealer, log *slog.Logger) (*rsa.PrivateKey, error) {
	for attempt := 0; attempt < 2; attempt++ {
		sealed, err := v.Get(ctx)
		if err == nil {
			return openKey(s, sealed)
		}
		if !errors.Is(err, ErrNoKey) {
			return nil, fmt.Errorf("snssig: read the sealed signing key: %w", err)
		}
		key, migrated, err := plainOrNewKey(pemPath)
		if err != nil {
			return nil, err
		}
		der, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			return nil, fmt.Errorf("snssig: encode key: %w", err)
		}
		sealed, err = s.SealMaterial(SealedKeyID, SealedKeyVersion, der)
		clear(der)
		if err != nil {
			return nil, fmt.Errorf("snssig: seal the signing key: %w", err)
		}
		err = v.Create(ctx, sealed)
		switch {
		case err == nil:
			if migrated {
				log.Info("message-signing key migrated: sealed under the root key and stored; removing the plaintext key file", "path", pemPath)
			}
			return key, nil
		case errors.Is(err, ErrKeyExists):
			continue // another node stored its key first: use that one
		default:
			return nil, fmt.Errorf("snssig: store the sealed signing key: %w", err)
		}
	}
	return nil, errors.New("snssig: the stored signing key keeps changing")
}

// plainOrNewKey reads an older version's plaintext key file, or generates a
// key when there is none.
func plainOrNewKey(pemPath string) (key *rsa.PrivateKey, migrated bool, err error) {
	key, err = readKey(pemPath)
	if err == nil {
		return key, true, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, false, err
	}
	key, err = rsa.GenerateKey(rand.Reader, keyBits)
	if err != nil {
		return nil, false, fmt.Errorf("snssig: generate key: %w", err)
	}
	return key, false, nil
}

func openKey(s Sealer, sealed []byte) (*rsa.PrivateKey, error) {
	der, err := s.OpenMaterial(SealedKeyID, SealedKeyVersion, sealed)
	if err != nil {
		return nil, fmt.Errorf("snssig: %w: the stored record was changed or sealed under another root key (%v)", ErrSealedKey, err)
	}
	defer clear(der)
	parsed, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("snssig: %w: not a PKCS#8 key", ErrSealedKey)
	}
	key, ok := parsed.(*rsa.PrivateKey)
	if !ok || key.N.BitLen() < keyBits {
		return nil, fmt.Errorf("snssig: %w: not an RSA key of at least %d bits", ErrSealedKey, keyBits)
	}
	return key, nil
}

// removePlainKey deletes a plaintext key file once the sealed key is stored
// (after a migration, or one left over by an interrupted migration or by
// another node that stored its key first) and syncs the directory.
func removePlainKey(pemPath string, log *slog.Logger) error {
	err := os.Remove(pemPath)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("snssig: remove the plaintext signing key %s: %w", pemPath, err)
	}
	log.Info("removed the plaintext message-signing key file; the key is sealed in the store", "path", pemPath)
	d, err := os.Open(filepath.Dir(pemPath))
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
