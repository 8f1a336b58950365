package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/cockroachdb/pebble/v2"
	"github.com/jackc/pgx/v5"

	"github.com/sealpost/sealpost/internal/audit"
)

// TestKMSPlaintextScan encrypts known plaintexts (each with a unique
// SEALPOST-MARKER-<hex> token and characters JSON escapes), generates data
// keys and random bytes through aws-sdk-go-v2 over HTTPS, restarts the
// server and decrypts everything again (the keys survived), stops it, and
// then looks for every plaintext, token, data key and random value in every
// file of the data dir (store, audit log, certificates, keys), in the
// server's log and, on PostgreSQL, in the database's data directory after a
// CHECKPOINT, in each form the scanner knows (raw, base64 std/url at every
// alignment, hex, JSON-escaped); and for the ciphertext blobs in the audit
// log and the server log. None may be found. A logical scan reads every
// stored record through the store itself (pebble read-only; every table of
// the PostgreSQL database as text), which sees what a storage engine
// compressed.
//
// Positive controls prove that the scans look where the secrets would be:
// an SNS message whose body holds a control token (SNS bodies are not
// encrypted in this version; once they are, move this control to a topic
// without SSE) must be found by the file scan of the store and by the
// logical scan, and a file with a base64-encoded token in the data dir must
// be found as well.
func TestKMSPlaintextScan(t *testing.T) {
	t.Run("embedded", func(t *testing.T) { kmsScan(t, false) })
	t.Run("postgres", func(t *testing.T) { kmsScan(t, true) })
}

// token returns a fresh SEALPOST-MARKER-<32 hex> token.
func token(t *testing.T) string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "SEALPOST-MARKER-" + hex.EncodeToString(b)
}

func kmsScan(t *testing.T, postgres bool) {
	ctx := context.Background()
	dataDir := filepath.Join(t.TempDir(), "data")
	extra := []string{"--store", "pebble"}
	pgDataDir := ""
	var dsn string
	if postgres {
		dsn = databaseFor(t, dataDir) // skips without PostgreSQL
		extra = []string{"--store", dsn}
		pgDataDir = postgresDataDir(t, dsn)
	}
	addr := freePort(t)
	p := start(t, addr, dataDir, extra...)
	requireKMS(t, p)
	c := p.kmsClient(t, p.tlsURL())

	key, err := c.CreateKey(ctx, &kms.CreateKeyInput{Description: aws.String("plaintext scan")})
	if err != nil {
		t.Fatal(err)
	}
	keyID := aws.ToString(key.KeyMetadata.KeyId)
	if _, err := c.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String("alias/scan"), TargetKeyId: &keyID}); err != nil {
		t.Fatal(err)
	}

	var secrets []secret // must be nowhere
	var blobs []secret   // must not be in the audit log or the server log
	type sealed struct {
		blob  []byte
		ctx   map[string]string
		plain []byte
	}
	var sealedAll []sealed
	const n = 8
	for i := 0; i < n; i++ {
		tok := token(t)
		plain := []byte(fmt.Sprintf(`%s "order %d" <b>&amp; \ end`, tok, i))
		if i == n-1 { // one binary plaintext of the maximum size, token inside
			plain = make([]byte, 4096)
			rand.Read(plain)
			copy(plain[1000:], tok)
		}
		ec := map[string]string{"purpose": "scan", "n": strconv.Itoa(i)}
		id := keyID
		if i%2 == 1 {
			id = "alias/scan"
		}
		out, err := c.Encrypt(ctx, &kms.EncryptInput{KeyId: &id, Plaintext: plain, EncryptionContext: ec})
		if err != nil {
			t.Fatalf("Encrypt %d: %v", i, err)
		}
		secrets = append(secrets, secret{fmt.Sprintf("plaintext %d", i), plain}, secret{fmt.Sprintf("token %d", i), []byte(tok)})
		blobs = append(blobs, secret{fmt.Sprintf("ciphertext blob %d", i), out.CiphertextBlob})
		sealedAll = append(sealedAll, sealed{out.CiphertextBlob, ec, plain})

		dk, err := c.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{KeyId: &id, KeySpec: "AES_256", EncryptionContext: ec})
		if err != nil {
			t.Fatalf("GenerateDataKey %d: %v", i, err)
		}
		secrets = append(secrets, secret{fmt.Sprintf("data key %d", i), dk.Plaintext})
		blobs = append(blobs, secret{fmt.Sprintf("data key blob %d", i), dk.CiphertextBlob})
		sealedAll = append(sealedAll, sealed{dk.CiphertextBlob, ec, dk.Plaintext})
	}
	for i := 0; i < 2; i++ {
		r, err := c.GenerateRandom(ctx, &kms.GenerateRandomInput{NumberOfBytes: aws.Int32(32)})
		if err != nil {
			t.Fatal(err)
		}
		secrets = append(secrets, secret{fmt.Sprintf("random %d", i), r.Plaintext})
	}
	if _, err := c.RotateKeyOnDemand(ctx, &kms.RotateKeyOnDemandInput{KeyId: &keyID}); err != nil {
		t.Fatalf("RotateKeyOnDemand: %v", err)
	}

	// Positive controls: a message body stored by SNS, and a file.
	storeControl := token(t)
	s := p.client(t, p.tlsURL())
	topic, err := s.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("scan-control")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("sqs"),
		Endpoint: aws.String("arn:aws:sqs:us-east-1:000000000000:scan-control")}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Publish(ctx, &sns.PublishInput{TopicArn: topic.TopicArn, Message: aws.String("control " + storeControl)}); err != nil {
		t.Fatal(err)
	}
	fileControl := token(t)
	if err := os.WriteFile(filepath.Join(dataDir, "scan-control.txt"), []byte(base64.StdEncoding.EncodeToString([]byte("x"+fileControl+"y"))), 0o600); err != nil {
		t.Fatal(err)
	}

	// Restart: every blob decrypts to what it sealed (the material and the
	// rotation survived), with the decrypted plaintexts passing through the
	// new process too.
	p.stop(t)
	p = start(t, addr, dataDir, extra...)
	c = p.kmsClient(t, p.tlsURL())
	for i, sl := range sealedAll {
		out, err := c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: sl.blob, EncryptionContext: sl.ctx})
		if err != nil {
			t.Fatalf("Decrypt %d after restart: %v", i, err)
		}
		if !bytes.Equal(out.Plaintext, sl.plain) {
			t.Fatalf("Decrypt %d after restart: wrong plaintext", i)
		}
	}
	p.stop(t)

	// The audit log exists, verifies, and is scanned below.
	auditDir := audit.Dir(dataDir)
	if st, err := os.Stat(filepath.Join(auditDir, audit.FileName)); err != nil || st.Size() == 0 {
		t.Errorf("no audit log at %s (%v): the scan cannot cover it", auditDir, err)
	}
	if out, err := exec.Command(binary, "audit", "verify", "--data-dir", dataDir).CombinedOutput(); err != nil {
		t.Errorf("sealpost audit verify: %v\n%s", err, out)
	}

	all := append(append([]secret{}, secrets...), secret{"store control", []byte(storeControl)}, secret{"file control", []byte(fileControl)})
	sc, err := newScanner(all)
	if err != nil {
		t.Fatal(err)
	}
	found := map[string][]scanHit{} // by label
	scan := func(root string) {
		t.Helper()
		hits, st, err := sc.scanTree(root)
		if err != nil {
			t.Fatalf("scan %s: %v", root, err)
		}
		t.Logf("scanned %s: %d files, %d bytes, %d hits", root, st.files, st.bytes, len(hits))
		if st.files == 0 {
			t.Errorf("scan %s: no files", root)
		}
		for _, h := range hits {
			found[h.label] = append(found[h.label], h)
		}
	}
	scan(dataDir)
	scan(p.logFile)
	if pgDataDir != "" {
		scan(pgDataDir)
	}
	for _, sec := range secrets {
		for _, h := range found[sec.label] {
			t.Errorf("found %s", h)
		}
	}
	storeDir := filepath.Join(dataDir, "store")
	if pgDataDir != "" {
		storeDir = pgDataDir
	}
	if !hitUnder(found["store control"], storeDir) {
		t.Errorf("positive control: the SNS message body was not found under %s (hits: %v): the file scan does not see the store", storeDir, found["store control"])
	}
	if !hitUnder(found["file control"], dataDir) {
		t.Errorf("positive control: the base64 token in scan-control.txt was not found (hits: %v)", found["file control"])
	}

	// Ciphertext blobs stay out of the logs.
	bsc, err := newScanner(blobs)
	if err != nil {
		t.Fatal(err)
	}
	for _, root := range []string{auditDir, p.logFile} {
		hits, _, err := bsc.scanTree(root)
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range hits {
			t.Errorf("found %s", h)
		}
	}

	// The logical scan: every record as the store returns it.
	var hits []scanHit
	if postgres {
		hits = scanPostgres(t, sc, dsn)
	} else {
		hits = scanPebble(t, sc, filepath.Join(dataDir, "store"))
	}
	controlSeen := false
	for _, h := range hits {
		if h.label == "store control" {
			controlSeen = true
			continue
		}
		t.Errorf("found %s", h)
	}
	if !controlSeen {
		t.Error("positive control: the logical scan did not find the SNS message body")
	}
}

func hitUnder(hits []scanHit, dir string) bool {
	for _, h := range hits {
		if strings.HasPrefix(h.where, dir+string(filepath.Separator)) {
			return true
		}
	}
	return false
}

// postgresDataDir returns the data directory of the server behind dsn, or
// "" (logged) when it cannot be read from here (an existing server named by
// SEALPOST_TEST_PG, elsewhere or unreadable).
func postgresDataDir(t *testing.T, dsn string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var dir string
	if err := conn.QueryRow(ctx, "SHOW data_directory").Scan(&dir); err != nil {
		t.Logf("PostgreSQL data directory not available (%v): only the logical scan covers PostgreSQL", err)
		return ""
	}
	if _, err := os.ReadDir(dir); err != nil {
		t.Logf("PostgreSQL data directory %s not readable (%v): only the logical scan covers PostgreSQL", dir, err)
		return ""
	}
	return dir
}

// scanPostgres checkpoints the server (so the heap files hold what the WAL
// holds) and scans every row of every table of dsn's database, as text.
func scanPostgres(t *testing.T, sc *scanner, dsn string) []scanHit {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT format('%I.%I', table_schema, table_name) FROM information_schema.tables
		WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')`)
	if err != nil {
		t.Fatal(err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	if len(tables) == 0 {
		t.Fatal("logical scan: no tables in the database")
	}
	var hits []scanHit
	for _, table := range tables {
		rows, err := conn.Query(ctx, "SELECT t::text FROM "+table+" t")
		if err != nil {
			t.Fatal(err)
		}
		texts, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		for i, text := range texts {
			hits = append(hits, sc.scanBytes(fmt.Sprintf("table %s row %d", table, i), 0, []byte(text))...)
		}
	}
	return hits
}

// scanPebble opens the stopped server's pebble store read-only and scans
// every key and value.
func scanPebble(t *testing.T, sc *scanner, dir string) []scanHit {
	db, err := pebble.Open(dir, &pebble.Options{ReadOnly: true, Logger: quietPebble{t}})
	if err != nil {
		t.Fatalf("open %s read-only: %v", dir, err)
	}
	defer db.Close()
	it, err := db.NewIter(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	var hits []scanHit
	records := 0
	for it.First(); it.Valid(); it.Next() {
		records++
		where := fmt.Sprintf("pebble key %q", it.Key())
		hits = append(hits, sc.scanBytes(where+" (key)", 0, it.Key())...)
		v, err := it.ValueAndErr()
		if err != nil {
			t.Fatal(err)
		}
		hits = append(hits, sc.scanBytes(where, 0, v)...)
	}
	if err := it.Error(); err != nil {
		t.Fatal(err)
	}
	t.Logf("logical scan: %d pebble records", records)
	return hits
}

// quietPebble keeps pebble's informational messages out of the test output.
type quietPebble struct{ t *testing.T }

func (quietPebble) Infof(string, ...any)           {}
func (l quietPebble) Errorf(f string, args ...any) { l.t.Logf("pebble: "+f, args...) }
func (quietPebble) Fatalf(f string, args ...any)   { panic(fmt.Sprintf("pebble: "+f, args...)) }
