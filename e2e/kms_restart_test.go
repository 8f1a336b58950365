package e2e

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/smithy-go"
	"github.com/jackc/pgx/v5"

	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/store/pebblestore"
)

// kmsRestartClient is an aws-sdk-go-v2 KMS client for p (test/test) that
// does not retry, so that a 500 shows.
func kmsRestartClient(p *proc) *kms.Client {
	pool := x509.NewCertPool()
	if pem, err := os.ReadFile(p.caFile()); err == nil {
		pool.AppendCertsFromPEM(pem)
	}
	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	return kms.NewFromConfig(aws.Config{
		Region:           "us-east-1",
		Credentials:      credentials.NewStaticCredentialsProvider("test", "test", ""),
		HTTPClient:       hc,
		BaseEndpoint:     aws.String(p.url()),
		RetryMaxAttempts: 1,
	})
}

// TestKMSKeysSurviveRestartAndTamper: keys, material versions and aliases
// survive SIGKILL (ciphertexts written before decrypt after a restart with
// the same data dir and root key); `sealpost audit verify` passes on the
// audit log the server wrote and fails on copies with one record edited,
// removed, or two reordered; a sealed key-material record changed in the
// store is detected (Decrypt answers KMSInternalException, the log names
// the key) while the other keys keep working.
func TestKMSKeysSurviveRestartAndTamper(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "data")
	addr := freePort(t)
	root := rootKeyFile(t)
	ec := map[string]string{"topic": "orders"}

	p := start(t, addr, dir, "--root-key-file", root)
	c := kmsRestartClient(p)
	k1, err := c.CreateKey(ctx, &kms.CreateKeyInput{Description: aws.String("survives")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String("alias/e2e-orders"), TargetKeyId: k1.KeyMetadata.KeyId}); err != nil {
		t.Fatal(err)
	}
	encrypt := func(c *kms.Client, keyID, text string) []byte {
		t.Helper()
		out, err := c.Encrypt(ctx, &kms.EncryptInput{KeyId: aws.String(keyID), Plaintext: []byte(text), EncryptionContext: ec})
		if err != nil {
			t.Fatal(err)
		}
		return out.CiphertextBlob
	}
	old := encrypt(c, "alias/e2e-orders", "before rotation")
	if _, err := c.RotateKeyOnDemand(ctx, &kms.RotateKeyOnDemandInput{KeyId: k1.KeyMetadata.KeyId}); err != nil {
		t.Fatal(err)
	}
	rotated := encrypt(c, "alias/e2e-orders", "after rotation")
	k2, err := c.CreateKey(ctx, &kms.CreateKeyInput{Description: aws.String("to be tampered with")})
	if err != nil {
		t.Fatal(err)
	}
	other := encrypt(c, aws.ToString(k2.KeyMetadata.Arn), "other key")
	// A refused call is audited too.
	if _, err := c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: old}); !isCode(err, "InvalidCiphertextException") {
		t.Fatalf("Decrypt without the context: %v", err)
	}
	// So is one the key policy refuses.
	locked, err := c.CreateKey(ctx, &kms.CreateKeyInput{BypassPolicyLockoutSafetyCheck: true, Policy: aws.String(`{"Version": "2012-10-17",
		"Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "kms:*", "Resource": "*"}]}`)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: locked.KeyMetadata.KeyId}); !isCode(err, "AccessDeniedException") {
		t.Fatalf("DescribeKey of a key whose policy shuts us out: %v", err)
	}
	p.kill() // SIGKILL: no shutdown

	p = start(t, addr, dir, "--root-key-file", root)
	c = kmsRestartClient(p)
	decrypt := func(blob []byte, want string) {
		t.Helper()
		out, err := c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: blob, EncryptionContext: ec})
		if err != nil || string(out.Plaintext) != want {
			t.Fatalf("Decrypt after restart = %q, %v; want %q", out.Plaintext, err, want)
		}
	}
	decrypt(old, "before rotation")
	decrypt(rotated, "after rotation")
	decrypt(other, "other key")
	md, err := c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String("alias/e2e-orders")})
	if err != nil || aws.ToString(md.KeyMetadata.KeyId) != aws.ToString(k1.KeyMetadata.KeyId) || md.KeyMetadata.KeyState != types.KeyStateEnabled {
		t.Fatalf("alias after restart: %+v, %v", md, err)
	}
	decrypt(encrypt(c, "alias/e2e-orders", "after restart"), "after restart")
	rots, err := c.ListKeyRotations(ctx, &kms.ListKeyRotationsInput{KeyId: k1.KeyMetadata.KeyId})
	if err != nil || len(rots.Rotations) != 1 {
		t.Fatalf("ListKeyRotations after restart: %+v, %v", rots, err)
	}
	p.stop(t)

	checkAuditVerify(t, dir)

	// Flip one bit of k2's sealed material in the stopped server's store.
	tamperKMSMaterial(t, dir, aws.ToString(k2.KeyMetadata.KeyId))
	p = start(t, addr, dir, "--root-key-file", root)
	c = kmsRestartClient(p)
	_, err = c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: other, EncryptionContext: ec})
	var re interface{ HTTPStatusCode() int }
	if !isCode(err, "KMSInternalException") || !errors.As(err, &re) || re.HTTPStatusCode() != 500 {
		t.Fatalf("Decrypt with tampered material: %v, want KMSInternalException 500", err)
	}
	if _, err := c.Encrypt(ctx, &kms.EncryptInput{KeyId: k2.KeyMetadata.KeyId, Plaintext: []byte("x")}); !isCode(err, "KMSInternalException") {
		t.Fatalf("Encrypt with tampered material: %v, want KMSInternalException", err)
	}
	decrypt(old, "before rotation") // the untouched key still works
	p.waitLog(t, "sealed key material failed its integrity check")
	if log := p.log(t); !strings.Contains(log, aws.ToString(k2.KeyMetadata.Arn)) {
		t.Fatalf("the log does not name the tampered key %s:\n%s", aws.ToString(k2.KeyMetadata.Arn), log)
	}
	p.stop(t)
}

func isCode(err error, code string) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorCode() == code
}

// checkAuditVerify runs `sealpost audit verify` on the stopped server's
// audit log (exit 0), then on copies with one record edited, one removed
// and two reordered (exit 1, naming the first broken record).
func checkAuditVerify(t *testing.T, dir string) {
	t.Helper()
	run := func(args ...string) (int, string) {
		t.Helper()
		out, err := exec.Command(binary, append([]string{"audit", "verify"}, args...)...).CombinedOutput()
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return exit.ExitCode(), string(out)
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0, string(out)
	}
	code, out := run("--data-dir", dir)
	if code != 0 || !strings.Contains(out, "OK: ") || !strings.Contains(out, "chain intact") {
		t.Fatalf("audit verify of the real log: exit %d\n%s", code, out)
	}
	t.Logf("real log: %s", out)
	log, err := os.ReadFile(filepath.Join(dir, "audit", "audit.log"))
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.SplitAfter(log, []byte("\n"))
	if len(lines) > 0 && len(lines[len(lines)-1]) == 0 {
		lines = lines[:len(lines)-1]
	}
	// CreateKey, CreateAlias, Encrypt, RotateKeyOnDemand, Encrypt, CreateKey,
	// Encrypt, Decrypt (refused), CreateKey, DescribeKey (refused), then
	// after the restart 3 Decrypt, DescribeKey, Encrypt, Decrypt,
	// ListKeyRotations.
	// Every call answered before the SIGKILL was audited durably first.
	if len(lines) != 17 || !strings.Contains(out, "OK: 17 records") {
		t.Fatalf("audit log has %d records, want 17:\n%s", len(lines), log)
	}
	for _, name := range []string{"CreateKey", "CreateAlias", "RotateKeyOnDemand", "ListKeyRotations",
		`"errorCode":"InvalidCiphertextException"`, `"errorCode":"AccessDeniedException"`} {
		if !bytes.Contains(log, []byte(name)) {
			t.Fatalf("audit log has no %s record", name)
		}
	}
	for _, secret := range []string{"before rotation", "after rotation", "other key", "after restart"} {
		if bytes.Contains(log, []byte(secret)) {
			t.Fatalf("audit log holds the plaintext %q", secret)
		}
	}
	const i = 4 // 0-based: line 5, seq 5
	edited := bytes.Clone(lines[i])
	j := bytes.Index(edited, []byte(`"awsRegion":"us-east-1"`))
	if j < 0 {
		t.Fatalf("line %d has no awsRegion: %s", i+1, edited)
	}
	copy(edited[j:], `"awsRegion":"us-west-2"`)
	join := func(ls ...[]byte) []byte { return bytes.Join(ls, nil) }
	rest := join(lines[i+2:]...)
	for _, tc := range []struct {
		name string
		log  []byte
		want string
	}{
		{"edited", join(join(lines[:i]...), edited, lines[i+1], rest), "line 5 (seq 5): edited"},
		{"removed", join(join(lines[:i]...), lines[i+1], rest), "line 5 (seq 6): removed"},
		{"reordered", join(join(lines[:i]...), lines[i+1], lines[i], rest), "line 5 (seq 6): reordered"},
	} {
		f := filepath.Join(t.TempDir(), "audit.log")
		if err := os.WriteFile(f, tc.log, 0o600); err != nil {
			t.Fatal(err)
		}
		code, out := run("--file", f)
		t.Logf("record %s: exit %d: %s", tc.name, code, out)
		if code != 1 || !strings.Contains(out, "BROKEN") || !strings.Contains(out, tc.want) {
			t.Fatalf("audit verify of a log with a record %s: exit %d, want 1 and %q\n%s", tc.name, code, tc.want, out)
		}
	}
}

// tamperKMSMaterial flips one bit of material version 1 of key id in the
// stopped server's store, keeping everything else: on PostgreSQL with an
// UPDATE of the kms_materials row (as someone with database access would),
// on the embedded store by rewriting the key through the store API.
func tamperKMSMaterial(t *testing.T, dir, id string) {
	t.Helper()
	ctx := context.Background()
	if os.Getenv("SEALPOST_TEST_STORE") == "postgres" {
		conn, err := pgx.Connect(ctx, databaseFor(t, dir))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		tag, err := conn.Exec(ctx, `UPDATE kms_materials SET sealed = set_byte(sealed, length(sealed)/2, get_byte(sealed, length(sealed)/2) # 1)
			WHERE key_id = $1 AND version = 1`, id)
		if err != nil || tag.RowsAffected() != 1 {
			t.Fatalf("UPDATE kms_materials: %v, %v", tag, err)
		}
		return
	}
	st, err := pebblestore.Open(filepath.Join(dir, "store"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var ks store.KeyStore = st
	k, err := ks.GetKey(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if k.CurrentVersion != 1 {
		t.Fatalf("key %s has %d material versions, want 1", id, k.CurrentVersion)
	}
	m, err := ks.GetMaterial(ctx, id, 1)
	if err != nil {
		t.Fatal(err)
	}
	m.Sealed[len(m.Sealed)/2] ^= 0x01
	if err := ks.DeleteKey(ctx, id); err != nil {
		t.Fatal(err)
	}
	if _, err := ks.CreateKey(ctx, k, &m); err != nil {
		t.Fatal(err)
	}
}
