package server_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/config"
	"github.com/sealpost/sealpost/internal/envelope"
	"github.com/sealpost/sealpost/internal/pgtest"
	"github.com/sealpost/sealpost/internal/server"
	"github.com/sealpost/sealpost/internal/snssig"
	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/store/pebblestore"
	"github.com/sealpost/sealpost/internal/store/pgstore"
	"github.com/sealpost/sealpost/internal/testserver"
)

// node is one start of a server over a data dir and, on PostgreSQL, a
// database shared by the nodes of a test.
type node struct {
	dir, dsn string
}

func newNode(t *testing.T, dsn string) node {
	return node{dir: t.TempDir(), dsn: dsn}
}

// sharedDSN is a fresh database on PostgreSQL runs, "" on the embedded store.
func sharedDSN(t *testing.T) string {
	if testserver.StoreKind() == "postgres" {
		return pgtest.NewDatabase(t)
	}
	return ""
}

// open builds the server (server.New) with args and the log into buf;
// on success it serves until the returned stop is called.
func (n node) open(t *testing.T, buf *bytes.Buffer, args ...string) (*server.Server, func(), error) {
	t.Helper()
	all := append([]string{"--listen", "127.0.0.1:0", "--data-dir", n.dir}, args...)
	if n.dsn != "" {
		all = append(all, "--store", n.dsn)
	}
	cfg, err := config.Parse(all, os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	var w io.Writer = io.Discard
	if buf != nil {
		w = buf
	}
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := server.New(ctx, cfg, slog.New(slog.NewTextHandler(w, nil)))
	if err != nil {
		cancel()
		return nil, nil, err
	}
	if err := srv.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	stop := func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve: %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Error("server did not stop")
		}
	}
	return srv, stop, nil
}

// mustStart opens n and stops it at once (a start that must work).
func (n node) mustStart(t *testing.T, args ...string) string {
	t.Helper()
	var buf bytes.Buffer
	_, stop, err := n.open(t, &buf, args...)
	if err != nil {
		t.Fatalf("start %v: %v", args, err)
	}
	stop()
	return buf.String()
}

func writeKeyFile(t *testing.T, mode os.FileMode) string {
	t.Helper()
	k := make([]byte, 32)
	rand.Read(k)
	p := filepath.Join(t.TempDir(), "root.key")
	if err := os.WriteFile(p, []byte(hex.EncodeToString(k)+"\n"), mode); err != nil {
		t.Fatal(err)
	}
	os.Chmod(p, mode)
	return p
}

// TestRootKeyChecked: every root-key source works on restart and a wrong
// key (another file, variable, passphrase, or another source kind) refuses
// to start with ErrWrongRootKey and a message naming the source. On
// PostgreSQL the second node has its own data dir: the check value lives in
// the database.
func TestRootKeyChecked(t *testing.T) {
	keyA, keyB := writeKeyFile(t, 0o600), writeKeyFile(t, 0o600)
	envKey, _ := os.ReadFile(keyA)
	otherEnvKey, _ := os.ReadFile(keyB)
	passA := filepath.Join(t.TempDir(), "pass")
	os.WriteFile(passA, []byte("correct horse battery staple\n"), 0o600)
	passB := filepath.Join(t.TempDir(), "pass")
	os.WriteFile(passB, []byte("incorrect horse\n"), 0o600)
	for _, tc := range []struct {
		name       string
		good, bad  []string
		env        func(t *testing.T, good bool)
		badMessage string
	}{
		{name: "file", good: []string{"--root-key-file", keyA}, bad: []string{"--root-key-file", keyB}, badMessage: "--root-key-file " + keyB},
		{name: "env", good: []string{"--root-key-env", "SEALPOST_TEST_ROOT"}, bad: []string{"--root-key-env", "SEALPOST_TEST_ROOT"},
			env: func(t *testing.T, good bool) {
				if good {
					t.Setenv("SEALPOST_TEST_ROOT", string(envKey))
				} else {
					t.Setenv("SEALPOST_TEST_ROOT", string(otherEnvKey))
				}
			}, badMessage: "--root-key-env SEALPOST_TEST_ROOT"},
		{name: "passphrase file", good: []string{"--root-key-passphrase-file", passA}, bad: []string{"--root-key-passphrase-file", passB},
			badMessage: "the passphrase in --root-key-passphrase-file " + passB},
		{name: "passphrase env", good: []string{"--root-key-passphrase-env", "SEALPOST_TEST_PASS"}, bad: []string{"--root-key-passphrase-env", "SEALPOST_TEST_PASS"},
			env: func(t *testing.T, good bool) {
				if good {
					t.Setenv("SEALPOST_TEST_PASS", "correct horse battery staple")
				} else {
					t.Setenv("SEALPOST_TEST_PASS", "correct horse battery stapl")
				}
			}, badMessage: "the passphrase in --root-key-passphrase-env"},
		{name: "passphrase data, key file given", good: []string{"--root-key-passphrase-file", passA}, bad: []string{"--root-key-file", keyA},
			badMessage: "sealed under a passphrase-derived root key"},
		{name: "key data, passphrase given", good: []string{"--root-key-file", keyA}, bad: []string{"--root-key-passphrase-file", passA},
			badMessage: "not a passphrase"},
		{name: "dev data, key file given", good: nil, bad: []string{"--root-key-file", keyA}, badMessage: "--root-key-file " + keyA},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dsn := sharedDSN(t)
			first := newNode(t, dsn)
			if tc.env != nil {
				tc.env(t, true)
			}
			first.mustStart(t, tc.good...)
			if tc.env != nil {
				tc.env(t, true) // loading unsets the variable
			}
			first.mustStart(t, tc.good...) // restart with the same key
			if tc.env != nil {
				tc.env(t, false)
			}
			n := first
			if dsn != "" {
				n = newNode(t, dsn) // another node sharing the database
			}
			_, _, err := n.open(t, nil, tc.bad...)
			if !errors.Is(err, envelope.ErrWrongRootKey) || !strings.Contains(err.Error(), tc.badMessage) {
				t.Fatalf("wrong key: %v\nwant ErrWrongRootKey naming %q", err, tc.badMessage)
			}
			for _, secret := range []string{string(bytes.TrimSpace(envKey)), string(bytes.TrimSpace(otherEnvKey)), "horse"} {
				if strings.Contains(err.Error(), secret) {
					t.Fatalf("error quotes a secret: %v", err)
				}
			}
		})
	}
}

// TestRootKeyFileRefusedWhenLoose: a key file group or others can read is
// refused with a message saying so.
func TestRootKeyFileRefusedWhenLoose(t *testing.T) {
	loose := writeKeyFile(t, 0o640)
	_, _, err := newNode(t, sharedDSN(t)).open(t, nil, "--root-key-file", loose)
	if err == nil || !strings.Contains(err.Error(), "must not be accessible to group or others") {
		t.Fatalf("%v", err)
	}
}

// TestDevRootKey: without a root-key flag the server generates
// <data-dir>/root.key (0600), warns at every start and shows
// "root_key":"dev" in /health; a key file shows "file".
func TestDevRootKey(t *testing.T) {
	n := newNode(t, sharedDSN(t))
	var buf bytes.Buffer
	srv, stop, err := n.open(t, &buf)
	if err != nil {
		t.Fatal(err)
	}
	if h := healthOf(t, srv.Addr()); !strings.Contains(h, `"root_key":"dev"`) {
		t.Fatalf("health %s", h)
	}
	stop()
	st, err := os.Stat(filepath.Join(n.dir, server.DevRootKeyFile))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("root.key: %v %v", st, err)
	}
	log2 := n.mustStart(t)
	for i, l := range []string{buf.String(), log2} {
		if !strings.Contains(l, "DEVELOPMENT ROOT KEY") || !strings.Contains(l, "anyone who can read this file can decrypt") {
			t.Fatalf("start %d: no warning:\n%s", i+1, l)
		}
	}
	key := writeKeyFile(t, 0o600)
	other := newNode(t, sharedDSN(t))
	buf.Reset()
	srv, stop, err = other.open(t, &buf, "--root-key-file", key)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	if h := healthOf(t, srv.Addr()); !strings.Contains(h, `"root_key":"file"`) {
		t.Fatalf("health %s", h)
	}
	if strings.Contains(buf.String(), "DEVELOPMENT ROOT KEY") {
		t.Fatal("warned about a dev key with --root-key-file")
	}
	if _, err := os.Stat(filepath.Join(other.dir, server.DevRootKeyFile)); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("dev key created with --root-key-file: %v", err)
	}
}

func healthOf(t *testing.T, addr string) string {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/health")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// keyStore opens the stopped node's store directly.
func (n node) keyStore(t *testing.T) (store.KeyStore, func()) {
	t.Helper()
	if n.dsn != "" {
		st, err := pgstore.Open(context.Background(), n.dsn)
		if err != nil {
			t.Fatal(err)
		}
		return st, func() { st.Close() }
	}
	st, err := pebblestore.Open(filepath.Join(n.dir, "store"))
	if err != nil {
		t.Fatal(err)
	}
	return st, func() { st.Close() }
}

// TestSigningKeySealed: the message-signing key is sealed in the store (no
// private key on disk), shared by a second node over the same database,
// migrated from an older version's PEM file, and a changed record refuses
// to start.
func TestSigningKeySealed(t *testing.T) {
	ctx := context.Background()
	key := writeKeyFile(t, 0o600)
	dsn := sharedDSN(t)
	n := newNode(t, dsn)
	// An older version's plaintext key in the data dir.
	old, err := snssig.LoadOrCreate(filepath.Join(n.dir, "signing"))
	if err != nil {
		t.Fatal(err)
	}
	_ = old
	// LoadOrCreate wrote the PEM key this version must migrate.
	pemKey, err := os.ReadFile(filepath.Join(n.dir, "signing", snssig.KeyFileName))
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(pemKey)
	oldKey, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	log := n.mustStart(t, "--root-key-file", key)
	if !strings.Contains(log, "migrated") {
		t.Fatalf("no migration line:\n%s", log)
	}
	if _, err := os.Stat(filepath.Join(n.dir, "signing", snssig.KeyFileName)); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("plaintext key left: %v", err)
	}
	certKey := func(dir string) crypto.PublicKey {
		b, err := os.ReadFile(filepath.Join(dir, "signing", snssig.CertFileName))
		if err != nil {
			t.Fatal(err)
		}
		blk, _ := pem.Decode(b)
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		return c.PublicKey
	}
	type pub interface{ Equal(x crypto.PublicKey) bool }
	if !oldKey.(*rsa.PrivateKey).PublicKey.Equal(certKey(n.dir)) {
		t.Fatal("migrated server signs with another key")
	}
	noPrivateKeyOnDisk(t, n.dir)
	if dsn != "" {
		second := newNode(t, dsn)
		second.mustStart(t, "--root-key-file", key)
		if !certKey(second.dir).(pub).Equal(certKey(n.dir)) {
			t.Fatal("second node signs with another key")
		}
	}

	ks, closeStore := n.keyStore(t)
	// The reserved records are invisible to KMS: no account lists them and
	// the sweep never sees them.
	if due, err := ks.KeysDue(ctx, time.Now().Add(100*365*24*time.Hour), 100); err != nil || len(due) != 0 {
		t.Fatalf("KeysDue: %v %v", due, err)
	}
	for _, scope := range [][2]string{{"000000000000", "us-east-1"}, {"", ""}} {
		if keys, _, err := ks.ListKeys(ctx, scope[0], scope[1], store.Page{}); err != nil || len(keys) != 0 {
			t.Fatalf("ListKeys %v: %v %v", scope, keys, err)
		}
	}
	// Tamper with the sealed record: one bit of the sealed bytes.
	k, err := ks.GetKey(ctx, snssig.SealedKeyID)
	if err != nil {
		t.Fatal(err)
	}
	m, err := ks.GetMaterial(ctx, snssig.SealedKeyID, snssig.SealedKeyVersion)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(m.Sealed, block.Bytes[len(block.Bytes)-48:]) {
		t.Fatal("sealed record holds the key in clear")
	}
	m.Sealed[len(m.Sealed)/2] ^= 0x04
	if err := ks.DeleteKey(ctx, k.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := ks.CreateKey(ctx, k, &m); err != nil {
		t.Fatal(err)
	}
	closeStore()
	_, _, err = n.open(t, nil, "--root-key-file", key)
	if !errors.Is(err, snssig.ErrSealedKey) || !strings.Contains(err.Error(), "signing key") {
		t.Fatalf("tampered record: %v", err)
	}
}

// noPrivateKeyOnDisk fails if a file in the data dir outside tls/ (the
// HTTPS key, which the TLS stack needs) holds a PEM private key.
func noPrivateKeyOnDisk(t *testing.T, dir string) {
	t.Helper()
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == "tls" {
			return filepath.SkipDir
		}
		if !d.IsDir() {
			b, _ := os.ReadFile(p)
			if bytes.Contains(b, []byte("PRIVATE KEY")) {
				t.Errorf("%s holds a PEM private key", p)
			}
		}
		return nil
	})
}
