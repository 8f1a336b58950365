package e2e

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/sealpost/sealpost/internal/snssig"
	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/store/pebblestore"
	"github.com/sealpost/sealpost/internal/store/pgstore"
)

// runToExit runs sealpost over dataDir (and its database on PostgreSQL
// runs) expecting it to exit, and returns its exit code and output.
func runToExit(t *testing.T, addr, dataDir string, extra ...string) (int, string) {
	t.Helper()
	args := append([]string{"--listen", addr, "--data-dir", dataDir}, extra...)
	if os.Getenv("SEALPOST_TEST_STORE") == "postgres" {
		args = append(args, "--store", databaseFor(t, dataDir))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode(), string(out)
	}
	if err != nil {
		t.Fatal(err)
	}
	return 0, string(out)
}

func rootKeyFile(t *testing.T) string {
	t.Helper()
	k := make([]byte, 32)
	rand.Read(k)
	p := filepath.Join(t.TempDir(), "root.key")
	if err := os.WriteFile(p, []byte(hex.EncodeToString(k)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestWrongRootKeyRefusesStart: data sealed under one root key; starting
// with another exits 1 with a message naming the problem; the right key
// starts again with the data intact. On PostgreSQL the check value lives in
// the database.
func TestWrongRootKeyRefusesStart(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "data")
	addr := freePort(t)
	right, wrong := rootKeyFile(t), rootKeyFile(t)
	p := start(t, addr, dir, "--root-key-file", right)
	if _, err := p.client(t, p.url()).CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("kept")}); err != nil {
		t.Fatal(err)
	}
	p.stop(t)

	code, out := runToExit(t, addr, dir, "--root-key-file", wrong)
	if code != 1 || !strings.Contains(out, "wrong root key") || !strings.Contains(out, "--root-key-file "+wrong) {
		t.Fatalf("wrong key: exit %d\n%s", code, out)
	}
	code, out = runToExit(t, addr, dir) // the dev key is another key too
	if code != 1 || !strings.Contains(out, "wrong root key") || !strings.Contains(out, "development root key") {
		t.Fatalf("dev key over sealed data: exit %d\n%s", code, out)
	}
	if code, out := runToExit(t, addr, dir, "--root-key-file", right, "--root-key-env", "HOME"); code != 2 || !strings.Contains(out, "at most one root-key source") {
		t.Fatalf("two sources: exit %d\n%s", code, out)
	}

	p = start(t, addr, dir, "--root-key-file", right)
	if _, err := p.client(t, p.url()).GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: aws.String("arn:aws:sns:us-east-1:000000000000:kept")}); err != nil {
		t.Fatalf("after restart with the right key: %v", err)
	}
	p.stop(t)
}

// TestDevRootKeyAndSealedSigningKey: the one-command start generates
// <data-dir>/root.key (0600) and warns at every start; the data dir holds no
// PEM private key (only the HTTPS key in tls/); notifications signed before
// and after a restart verify with the certificate at SigningCertURL; a
// changed sealed signing-key record refuses to start.
func TestDevRootKeyAndSealedSigningKey(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "data")
	addr := freePort(t)
	sub := newSigSubscriber(t)

	p := start(t, addr, dir)
	st, err := os.Stat(filepath.Join(dir, "root.key"))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("root.key: %v %v", st, err)
	}
	c := p.client(t, p.url())
	topic, err := c.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("signed")})
	if err != nil {
		t.Fatal(err)
	}
	sa, err := c.Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("http"), Endpoint: aws.String(sub.srv.URL), ReturnSubscriptionArn: true})
	if err != nil {
		t.Fatal(err)
	}
	sub.expect(t, "SubscriptionConfirmation")
	waitConfirmed(t, c, sa.SubscriptionArn)
	publishAndVerify := func(c *sns.Client, msg string) {
		t.Helper()
		if _, err := c.Publish(ctx, &sns.PublishInput{TopicArn: topic.TopicArn, Message: aws.String(msg)}); err != nil {
			t.Fatal(err)
		}
		if got := sub.expect(t, "Notification"); got != msg {
			t.Fatalf("notification %q, want %q", got, msg)
		}
	}
	publishAndVerify(c, "before restart")
	p.stop(t)

	p = start(t, addr, dir)
	publishAndVerify(p.client(t, p.url()), "after restart")
	p.stop(t)
	if n := strings.Count(p.log(t), "DEVELOPMENT ROOT KEY"); n != 2 {
		t.Fatalf("dev-key warning %d times in two starts:\n%s", n, p.log(t))
	}
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == "tls" {
			return filepath.SkipDir
		}
		if b, _ := os.ReadFile(path); !d.IsDir() && bytes.Contains(b, []byte("PRIVATE KEY")) {
			t.Errorf("%s holds a PEM private key", path)
		}
		return nil
	})

	tamperSigningKey(t, dir)
	code, out := runToExit(t, addr, dir)
	if code != 1 || !strings.Contains(out, "sealed message-signing key does not open") {
		t.Fatalf("tampered signing key: exit %d\n%s", code, out)
	}
}

// tamperSigningKey flips one bit of the sealed signing key in the stopped
// server's store.
func tamperSigningKey(t *testing.T, dir string) {
	t.Helper()
	ctx := context.Background()
	var ks store.KeyStore
	if os.Getenv("SEALPOST_TEST_STORE") == "postgres" {
		st, err := pgstore.Open(ctx, databaseFor(t, dir))
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		ks = st
	} else {
		st, err := pebblestore.Open(filepath.Join(dir, "store"))
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		ks = st
	}
	k, err := ks.GetKey(ctx, snssig.SealedKeyID)
	if err != nil {
		t.Fatal(err)
	}
	m, err := ks.GetMaterial(ctx, snssig.SealedKeyID, snssig.SealedKeyVersion)
	if err != nil {
		t.Fatal(err)
	}
	m.Sealed[len(m.Sealed)-3] ^= 0x80
	if err := ks.DeleteKey(ctx, k.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := ks.CreateKey(ctx, k, &m); err != nil {
		t.Fatal(err)
	}
}

// sigSubscriber is an HTTP subscriber that confirms subscriptions and
// verifies every message's signature (SignatureVersion 1) with the
// certificate at its SigningCertURL, as AWS documents.
type sigSubscriber struct {
	srv  *httptest.Server
	msgs chan [2]string // type, message
}

func newSigSubscriber(t *testing.T) *sigSubscriber {
	s := &sigSubscriber{msgs: make(chan [2]string, 16)}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m map[string]string
		body, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(body, &m); err != nil {
			s.msgs <- [2]string{"bad", err.Error()}
			return
		}
		if err := verifySNS(m); err != nil {
			s.msgs <- [2]string{"bad", m["Type"] + ": " + err.Error()}
			return
		}
		if m["Type"] == "SubscriptionConfirmation" {
			if resp, err := http.Get(m["SubscribeURL"]); err == nil {
				resp.Body.Close()
			}
		}
		s.msgs <- [2]string{m["Type"], m["Message"]}
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *sigSubscriber) expect(t *testing.T, typ string) string {
	t.Helper()
	select {
	case m := <-s.msgs:
		if m[0] != typ {
			t.Fatalf("subscriber got %s %q, want a verified %s", m[0], m[1], typ)
		}
		return m[1]
	case <-time.After(20 * time.Second):
		t.Fatalf("no %s within 20 s", typ)
	}
	return ""
}

func verifySNS(m map[string]string) error {
	resp, err := http.Get(m["SigningCertURL"])
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	blk, _ := pem.Decode(b)
	if blk == nil {
		return errors.New("no certificate at SigningCertURL")
	}
	cert, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		return err
	}
	sig, err := base64.StdEncoding.DecodeString(m["Signature"])
	if err != nil {
		return err
	}
	h := sha1.Sum(snssig.StringToSign(snssig.Message{Type: m["Type"], MessageID: m["MessageId"], TopicARN: m["TopicArn"],
		Subject: m["Subject"], Message: m["Message"], Timestamp: m["Timestamp"], Token: m["Token"], SubscribeURL: m["SubscribeURL"]}))
	return rsa.VerifyPKCS1v15(cert.PublicKey.(*rsa.PublicKey), crypto.SHA1, h[:], sig)
}
