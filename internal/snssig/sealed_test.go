package snssig

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/sealpost/sealpost/internal/envelope"
)

// memVault is a Vault shared by "nodes" in one test.
type memVault struct {
	mu     sync.Mutex
	sealed []byte
}

func (v *memVault) Get(context.Context) ([]byte, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.sealed == nil {
		return nil, ErrNoKey
	}
	return bytes.Clone(v.sealed), nil
}

func (v *memVault) Create(_ context.Context, sealed []byte) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.sealed != nil {
		return ErrKeyExists
	}
	v.sealed = bytes.Clone(sealed)
	return nil
}

func keyring(t *testing.T, b byte) *envelope.Keyring {
	t.Helper()
	kr, err := envelope.NewKeyring(bytes.Repeat([]byte{b}, envelope.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// TestLoadSealedMigratesPlaintextKey: an older data dir's PEM key is sealed,
// stored and removed; a second node (other dir, same vault and root key)
// gets the same key; the stored bytes do not contain the key.
func TestLoadSealedMigratesPlaintextKey(t *testing.T) {
	old := signer(t) // writes sharedDir/KeyFileName
	pemData, err := os.ReadFile(filepath.Join(sharedDir, KeyFileName))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, KeyFileName), pemData, 0o600); err != nil {
		t.Fatal(err)
	}
	v := &memVault{}
	var logBuf bytes.Buffer
	s, err := LoadSealed(context.Background(), dir, v, keyring(t, 1), slog.New(slog.NewTextHandler(&logBuf, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if !s.key.Equal(old.key) {
		t.Fatal("migrated signer uses another key")
	}
	if _, err := os.Stat(filepath.Join(dir, KeyFileName)); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("plaintext key file still there: %v", err)
	}
	if !strings.Contains(logBuf.String(), "migrated") {
		t.Fatalf("no migration log line:\n%s", logBuf.String())
	}
	der, _ := x509.MarshalPKCS8PrivateKey(old.key)
	if bytes.Contains(v.sealed, der[len(der)-64:]) || bytes.Contains(v.sealed, pemData[40:100]) {
		t.Fatal("stored record contains the private key in clear")
	}

	other, err := LoadSealed(context.Background(), t.TempDir(), v, keyring(t, 1), quiet())
	if err != nil {
		t.Fatal(err)
	}
	if !other.key.Equal(old.key) {
		t.Fatal("second node got another key")
	}
	// Restart of the first node: the key comes from the vault, the
	// certificate from its dir.
	again, err := LoadSealed(context.Background(), dir, v, keyring(t, 1), quiet())
	if err != nil || again.CertName() != s.CertName() {
		t.Fatalf("restart: %v, cert %s vs %s", err, again.CertName(), s.CertName())
	}
}

// TestLoadSealedRefusesTamperedOrForeignKey: a changed record or another
// root key is an error, and the stored key is never replaced.
func TestLoadSealedRefusesTamperedOrForeignKey(t *testing.T) {
	old := signer(t)
	pemData, err := os.ReadFile(filepath.Join(sharedDir, KeyFileName))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, KeyFileName), pemData, 0o600)
	v := &memVault{}
	if _, err := LoadSealed(context.Background(), dir, v, keyring(t, 1), quiet()); err != nil {
		t.Fatal(err)
	}
	stored := bytes.Clone(v.sealed)
	if _, err := LoadSealed(context.Background(), dir, v, keyring(t, 2), quiet()); !errors.Is(err, ErrSealedKey) {
		t.Fatalf("other root key: %v", err)
	}
	for _, i := range []int{0, 5, len(stored) / 2, len(stored) - 1} {
		v.sealed = bytes.Clone(stored)
		v.sealed[i] ^= 0x01
		_, err := LoadSealed(context.Background(), dir, v, keyring(t, 1), quiet())
		if !errors.Is(err, ErrSealedKey) || !strings.Contains(err.Error(), "changed") {
			t.Fatalf("byte %d flipped: %v", i, err)
		}
	}
	v.sealed = stored
	s, err := LoadSealed(context.Background(), dir, v, keyring(t, 1), quiet())
	if err != nil || !s.key.Equal(old.key) {
		t.Fatalf("untampered: %v", err)
	}
}

// TestLoadSealedConcurrentFirstStart: nodes starting at once over one
// vault end up with one key.
func TestLoadSealedConcurrentFirstStart(t *testing.T) {
	v := &memVault{}
	signers := make([]*Signer, 3)
	errs := make([]error, 3)
	kr := keyring(t, 7)
	dirs := []string{t.TempDir(), t.TempDir(), t.TempDir()}
	var wg sync.WaitGroup
	for i := range signers {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			signers[i], errs[i] = LoadSealed(context.Background(), dirs[i], v, kr, quiet())
		}(i)
	}
	wg.Wait()
	for i := range signers {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if !signers[i].key.Equal(signers[0].key) {
			t.Fatalf("node %d has another key", i)
		}
	}
}
