package snssig

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// One RSA key generation is slow on a shared machine, so tests share one
// signer persisted in sharedDir.
var (
	sharedDir    string
	sharedOnce   sync.Once
	sharedSig    *Signer
	sharedSigErr error
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "snssig-test-")
	if err != nil {
		panic(err)
	}
	sharedDir = filepath.Join(dir, "keys")
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func signer(tb testing.TB) *Signer {
	tb.Helper()
	sharedOnce.Do(func() { sharedSig, sharedSigErr = LoadOrCreate(sharedDir) })
	if sharedSigErr != nil {
		tb.Fatal(sharedSigErr)
	}
	return sharedSig
}

// certServer serves certificates over HTTPS as an SNS endpoint would, and
// returns a subscriber that trusts only that server.
func certServer(t *testing.T, certs map[string][]byte) (*httptest.Server, *subscriber) {
	t.Helper()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		pemBytes, ok := certs[strings.TrimPrefix(r.URL.Path, "/")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/x-pem-file")
		w.Write(pemBytes)
	}))
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	return srv, &subscriber{client: srv.Client(), trustedHost: u.Host, commonName: DefaultCommonName}
}

// body renders the JSON an SNS HTTP/S endpoint receives, in AWS field order.
func body(t *testing.T, m Message, version, signature, certURL string) []byte {
	t.Helper()
	type notification struct {
		Type              string
		MessageID         string `json:"MessageId"`
		TopicARN          string `json:"TopicArn"`
		Subject           string `json:",omitempty"`
		Message           string
		Timestamp         string
		SignatureVersion  string
		Signature         string
		SigningCertURL    string
		UnsubscribeURL    string
		MessageAttributes map[string]map[string]string
	}
	type confirmation struct {
		Type             string
		MessageID        string `json:"MessageId"`
		Token            string
		TopicARN         string `json:"TopicArn"`
		Message          string
		SubscribeURL     string
		Timestamp        string
		SignatureVersion string
		Signature        string
		SigningCertURL   string
	}
	var v any
	if m.Type == TypeNotification {
		v = notification{m.Type, m.MessageID, m.TopicARN, m.Subject, m.Message, m.Timestamp, version, signature, certURL,
			"https://sns.example/?Action=Unsubscribe&SubscriptionArn=" + m.TopicARN + ":sub",
			map[string]map[string]string{"color": {"Type": "String", "Value": "blue"}}}
	} else {
		v = confirmation{m.Type, m.MessageID, m.Token, m.TopicARN, m.Message, m.SubscribeURL, m.Timestamp, version, signature, certURL}
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var (
	testTopic        = "arn:aws:sns:us-east-2:123456789012:MyTopic"
	testNotification = Message{
		Type:      TypeNotification,
		MessageID: "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",
		TopicARN:  testTopic,
		Subject:   "Subject with \"quotes\", <html> & \\ backslash",
		Message:   "line one\nline two\ttab \u00e9\u4e16 \U0001F600 \x01 </script>",
		Timestamp: "2012-05-02T00:54:06.655Z",
	}
	testConfirmation = Message{
		Type:         TypeSubscriptionConfirmation,
		MessageID:    "165545c9-2a5c-472c-8df2-7ff2be2b3b1b",
		TopicARN:     testTopic,
		Message:      "You have chosen to subscribe to the topic " + testTopic + ".\nTo confirm the subscription, visit the SubscribeURL included in this message.",
		Timestamp:    "2012-04-26T20:45:04.751Z",
		Token:        "2336412f37fb687f5d51e6e241d09c805a5a57b30d712f794cc5f6a988666d92768dd60a747ba6f3beb71854e285d6ad02428b09ceece29417f1f02d609c582afbacc99c583a916b9981dd2728f4ae6fdb82efd087cc3b7849e05798d2d2785c03b0879594eeac82c01f235d0e717736",
		SubscribeURL: "https://sns.us-east-2.amazonaws.com/?Action=ConfirmSubscription&TopicArn=" + testTopic + "&Token=2336412f37",
	}
)

func TestStringToSignGolden(t *testing.T) {
	// The two examples of the AWS verification procedure, byte for byte.
	notification := Message{
		Type:      TypeNotification,
		MessageID: "4d4dc071-ddbf-465d-bba8-08f81c89da64",
		TopicARN:  "arn:aws:sns:us-east-2:123456789012:s4-MySNSTopic-1G1WEFCOXTC0P",
		Subject:   "My subject",
		Message:   "My Test Message",
		Timestamp: "2019-01-31T04:37:04.321Z",
	}
	const wantNotification = "Message\nMy Test Message\n" +
		"MessageId\n4d4dc071-ddbf-465d-bba8-08f81c89da64\n" +
		"Subject\nMy subject\n" +
		"Timestamp\n2019-01-31T04:37:04.321Z\n" +
		"TopicArn\narn:aws:sns:us-east-2:123456789012:s4-MySNSTopic-1G1WEFCOXTC0P\n" +
		"Type\nNotification\n"
	if got := string(StringToSign(notification)); got != wantNotification {
		t.Errorf("Notification:\n got %q\nwant %q", got, wantNotification)
	}

	confirmation := Message{
		Type:         TypeSubscriptionConfirmation,
		MessageID:    "3d891288-136d-417f-bc05-901c108273ee",
		TopicARN:     "arn:aws:sns:us-east-2:123456789012:s4-MySNSTopic-1G1WEFCOXTC0P",
		Message:      "My Test Message",
		Timestamp:    "2019-01-31T19:25:13.719Z",
		Token:        "233...",
		SubscribeURL: "https://sns.us-east-2.amazonaws.com/?Action=ConfirmSubscription&TopicArn=arn:aws:sns:us-east-2:123456789012:s4-MySNSTopic-1G1WEFCOXTC0P&Token=233...",
	}
	const wantConfirmation = "Message\nMy Test Message\n" +
		"MessageId\n3d891288-136d-417f-bc05-901c108273ee\n" +
		"SubscribeURL\nhttps://sns.us-east-2.amazonaws.com/?Action=ConfirmSubscription&TopicArn=arn:aws:sns:us-east-2:123456789012:s4-MySNSTopic-1G1WEFCOXTC0P&Token=233...\n" +
		"Timestamp\n2019-01-31T19:25:13.719Z\n" +
		"Token\n233...\n" +
		"TopicArn\narn:aws:sns:us-east-2:123456789012:s4-MySNSTopic-1G1WEFCOXTC0P\n" +
		"Type\nSubscriptionConfirmation\n"
	if got := string(StringToSign(confirmation)); got != wantConfirmation {
		t.Errorf("SubscriptionConfirmation:\n got %q\nwant %q", got, wantConfirmation)
	}

	unsub := confirmation
	unsub.Type = TypeUnsubscribeConfirmation
	wantUnsub := strings.Replace(wantConfirmation, "Type\nSubscriptionConfirmation\n", "Type\nUnsubscribeConfirmation\n", 1)
	if got := string(StringToSign(unsub)); got != wantUnsub {
		t.Errorf("UnsubscribeConfirmation:\n got %q\nwant %q", got, wantUnsub)
	}
}

func TestStringToSignFieldSelection(t *testing.T) {
	// No Subject: the pair is left out entirely.
	m := testNotification
	m.Subject = ""
	m.Token, m.SubscribeURL = "tok", "https://x" // not signed for notifications
	got := string(StringToSign(m))
	if strings.Contains(got, "Subject\n") || strings.Contains(got, "Token\n") || strings.Contains(got, "SubscribeURL\n") {
		t.Errorf("notification string to sign has unsigned fields: %q", got)
	}
	// Confirmations never sign a Subject.
	c := testConfirmation
	c.Subject = "ignored"
	if got := string(StringToSign(c)); strings.Contains(got, "Subject\n") {
		t.Errorf("confirmation string to sign has Subject: %q", got)
	}
	for _, typ := range []string{"", "notification", "Unknown"} {
		if got := StringToSign(Message{Type: typ, Message: "m"}); got != nil {
			t.Errorf("StringToSign(Type %q) = %q, want nil", typ, got)
		}
	}
}

func TestSignVerifiesIndependently(t *testing.T) {
	s := signer(t)
	srv, sub := certServer(t, map[string][]byte{s.CertName(): s.CertPEM()})
	certURL := srv.URL + "/" + s.CertName()

	noSubject := testNotification
	noSubject.Subject = ""
	unsub := testConfirmation
	unsub.Type = TypeUnsubscribeConfirmation
	for _, m := range []Message{testNotification, noSubject, testConfirmation, unsub} {
		for _, version := range []string{"", "1", "2"} {
			sig, err := s.Sign(version, m)
			if err != nil {
				t.Fatalf("Sign(%q, %s): %v", version, m.Type, err)
			}
			wire := version
			if wire == "" {
				wire = "1" // the SignatureVersion SNS puts in the body for the default
			}
			if err := sub.verify(body(t, m, wire, sig, certURL)); err != nil {
				t.Errorf("verify %s (subject %q) version %q: %v", m.Type, m.Subject, version, err)
			}
		}
	}
}

func TestTamperingFails(t *testing.T) {
	s := signer(t)
	other := otherCertPEM(t)
	srv, sub := certServer(t, map[string][]byte{s.CertName(): s.CertPEM(), "other.pem": other})
	certURL := srv.URL + "/" + s.CertName()

	edit := func(b []byte, field, value string) []byte {
		var doc map[string]any
		if err := json.Unmarshal(b, &doc); err != nil {
			t.Fatal(err)
		}
		if value == "<delete>" {
			delete(doc, field)
		} else {
			doc[field] = value
		}
		out, err := json.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}

	for _, version := range []string{"1", "2"} {
		nsig, err := s.Sign(version, testNotification)
		if err != nil {
			t.Fatal(err)
		}
		good := body(t, testNotification, version, nsig, certURL)
		if err := sub.verify(good); err != nil {
			t.Fatalf("untampered notification v%s: %v", version, err)
		}
		flipped := []byte(nsig)
		if flipped[0] == 'A' {
			flipped[0] = 'B'
		} else {
			flipped[0] = 'A'
		}
		otherVersion := map[string]string{"1": "2", "2": "1"}[version]
		tests := map[string][]byte{
			"Message":            edit(good, "Message", testNotification.Message+" "),
			"Message newline":    edit(good, "Message", strings.Replace(testNotification.Message, "\n", "\r\n", 1)),
			"MessageId":          edit(good, "MessageId", "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf325"),
			"Subject":            edit(good, "Subject", "Subject"),
			"Subject removed":    edit(good, "Subject", "<delete>"),
			"Timestamp":          edit(good, "Timestamp", "2012-05-02T00:54:06.656Z"),
			"TopicArn":           edit(good, "TopicArn", testTopic+"2"),
			"Type":               edit(good, "Type", TypeSubscriptionConfirmation),
			"SignatureVersion":   edit(good, "SignatureVersion", otherVersion),
			"Signature":          edit(good, "Signature", string(flipped)),
			"other certificate":  edit(good, "SigningCertURL", srv.URL+"/other.pem"),
			"untrusted cert URL": edit(good, "SigningCertURL", strings.Replace(certURL, "https://", "http://", 1)),
		}
		for name, b := range tests {
			if err := sub.verify(b); err == nil {
				t.Errorf("v%s: tampered %s verified", version, name)
			}
		}
		// Unsigned fields may change freely.
		for _, field := range []string{"UnsubscribeURL", "MessageAttributes"} {
			if err := sub.verify(edit(good, field, "changed")); err != nil {
				t.Errorf("v%s: changing unsigned %s broke verification: %v", version, field, err)
			}
		}

		noSubject := testNotification
		noSubject.Subject = ""
		sig, err := s.Sign(version, noSubject)
		if err != nil {
			t.Fatal(err)
		}
		if err := sub.verify(edit(body(t, noSubject, version, sig, certURL), "Subject", "added")); err == nil {
			t.Errorf("v%s: adding a Subject verified", version)
		}

		csig, err := s.Sign(version, testConfirmation)
		if err != nil {
			t.Fatal(err)
		}
		cgood := body(t, testConfirmation, version, csig, certURL)
		for _, field := range []string{"Token", "SubscribeURL", "Message"} {
			if err := sub.verify(edit(cgood, field, "x")); err == nil {
				t.Errorf("v%s: tampered confirmation %s verified", version, field)
			}
		}
		if err := sub.verify(edit(cgood, "Type", TypeUnsubscribeConfirmation)); err == nil {
			t.Errorf("v%s: confirmation with changed Type verified", version)
		}
	}
}

// otherCertPEM returns a self-signed certificate with the expected CN but a
// different key: a forger's certificate.
func otherCertPEM(t *testing.T) []byte {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificate(rand.Reader, &x509.Certificate{
		SerialNumber: big.NewInt(7),
		Subject:      pkix.Name{CommonName: DefaultCommonName},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}, &x509.Certificate{Subject: pkix.Name{CommonName: DefaultCommonName}}, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func TestSignErrors(t *testing.T) {
	s := signer(t)
	for _, v := range []string{"3", "0", " 1", "v1", "2 "} {
		if _, err := s.Sign(v, testNotification); !errors.Is(err, ErrUnsupportedSignatureVersion) {
			t.Errorf("Sign(%q) error = %v, want ErrUnsupportedSignatureVersion", v, err)
		}
	}
	if _, err := s.Sign("1", Message{Type: "Bogus"}); !errors.Is(err, ErrUnknownMessageType) {
		t.Errorf("Sign(Type Bogus) error = %v, want ErrUnknownMessageType", err)
	}
	a, err := s.Sign("", testNotification)
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.Sign("1", testNotification)
	if err != nil {
		t.Fatal(err)
	}
	if a != b {
		t.Error(`Sign("") differs from Sign("1"); PKCS#1 v1.5 is deterministic so they must match`)
	}
}

func TestCertificate(t *testing.T) {
	s := signer(t)
	block, rest := pem.Decode(s.CertPEM())
	if block == nil || block.Type != "CERTIFICATE" || len(bytes.TrimSpace(rest)) != 0 {
		t.Fatalf("CertPEM is not a single certificate: %q", s.CertPEM())
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if cert.Subject.CommonName != DefaultCommonName || cert.Issuer.CommonName != DefaultCommonName {
		t.Errorf("subject %q issuer %q, want %q self-signed", cert.Subject, cert.Issuer, DefaultCommonName)
	}
	if pub, ok := cert.PublicKey.(*rsa.PublicKey); !ok || pub.N.BitLen() != 2048 {
		t.Errorf("public key %T is not RSA-2048", cert.PublicKey)
	}
	if now := time.Now(); now.Before(cert.NotBefore) || now.After(cert.NotAfter) {
		t.Errorf("certificate not valid now: %v..%v", cert.NotBefore, cert.NotAfter)
	}
	sum := sha256.Sum256(block.Bytes)
	want := "SimpleNotificationService-" + hex.EncodeToString(sum[:16]) + ".pem"
	if s.CertName() != want {
		t.Errorf("CertName = %q, want %q", s.CertName(), want)
	}
	if len(want) != len("SimpleNotificationService-f3ecfb7224c7233fe7bb5f59f96de52f.pem") {
		t.Errorf("CertName %q does not have the AWS shape", want)
	}
	// CertPEM hands out copies.
	p := s.CertPEM()
	p[0] = 'X'
	if s.CertPEM()[0] == 'X' {
		t.Error("CertPEM exposes internal state")
	}
}

func TestRestartReusesKey(t *testing.T) {
	s1 := signer(t)
	s2, err := LoadOrCreate(sharedDir)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(s1.CertPEM(), s2.CertPEM()) || s1.CertName() != s2.CertName() {
		t.Fatal("restart produced a different certificate")
	}
	if !s1.key.Equal(s2.key) {
		t.Fatal("restart produced a different key")
	}
	// A signature made before the restart verifies with the certificate after it.
	sig, err := s1.Sign("2", testNotification)
	if err != nil {
		t.Fatal(err)
	}
	srv, sub := certServer(t, map[string][]byte{s2.CertName(): s2.CertPEM()})
	if err := sub.verify(body(t, testNotification, "2", sig, srv.URL+"/"+s2.CertName())); err != nil {
		t.Error(err)
	}

	keyInfo, err := os.Stat(filepath.Join(sharedDir, KeyFileName))
	if err != nil {
		t.Fatal(err)
	}
	if mode := keyInfo.Mode().Perm(); mode != 0o600 {
		t.Errorf("key file mode %o, want 600", mode)
	}
	certInfo, err := os.Stat(filepath.Join(sharedDir, CertFileName))
	if err != nil {
		t.Fatal(err)
	}
	if mode := certInfo.Mode().Perm(); mode != 0o600 {
		t.Errorf("cert file mode %o, want 600 (everything in the data dir is private)", mode)
	}
	entries, err := os.ReadDir(sharedDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() != KeyFileName && e.Name() != CertFileName {
			t.Errorf("stray file %q left in the key directory", e.Name())
		}
	}
}

// copyKey starts a fresh directory holding only the shared key.
func copyKey(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	data, err := os.ReadFile(filepath.Join(sharedDir, KeyFileName))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, KeyFileName), data, 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestMissingCertIsReissuedForSameKey(t *testing.T) {
	s := signer(t)
	dir := copyKey(t)
	s2, err := LoadOrCreate(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !s2.key.Equal(s.key) {
		t.Fatal("a new key was generated although one existed")
	}
	if _, err := os.Stat(filepath.Join(dir, CertFileName)); err != nil {
		t.Fatalf("certificate not written: %v", err)
	}
	// The reissued certificate verifies signatures of the existing key.
	sig, err := s.Sign("1", testConfirmation)
	if err != nil {
		t.Fatal(err)
	}
	srv, sub := certServer(t, map[string][]byte{s2.CertName(): s2.CertPEM()})
	if err := sub.verify(body(t, testConfirmation, "1", sig, srv.URL+"/"+s2.CertName())); err != nil {
		t.Error(err)
	}
	// And it is kept on the next start.
	s3, err := LoadOrCreate(dir)
	if err != nil {
		t.Fatal(err)
	}
	if s3.CertName() != s2.CertName() {
		t.Error("certificate changed between restarts")
	}
}

func TestMismatchedOrExpiredCertIsReissued(t *testing.T) {
	s := signer(t)
	tests := map[string][]byte{
		"other key": otherCertPEM(t),
		"expired":   certFor(t, s.key, time.Now().Add(-48*time.Hour), time.Now().Add(-24*time.Hour)),
		"expiring":  certFor(t, s.key, time.Now().Add(-48*time.Hour), time.Now().Add(24*time.Hour)),
	}
	for name, old := range tests {
		t.Run(name, func(t *testing.T) {
			dir := copyKey(t)
			if err := os.WriteFile(filepath.Join(dir, CertFileName), old, 0o644); err != nil {
				t.Fatal(err)
			}
			s2, err := LoadOrCreate(dir)
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Equal(s2.CertPEM(), old) {
				t.Fatal("unusable certificate was kept")
			}
			onDisk, _ := os.ReadFile(filepath.Join(dir, CertFileName))
			if !bytes.Equal(onDisk, s2.CertPEM()) {
				t.Error("reissued certificate not persisted")
			}
			if !s2.key.Equal(s.key) {
				t.Error("key changed")
			}
		})
	}
}

func certFor(t *testing.T, key *rsa.PrivateKey, notBefore, notAfter time.Time) []byte {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(9),
		Subject:      pkix.Name{CommonName: DefaultCommonName},
		NotBefore:    notBefore,
		NotAfter:     notAfter,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func TestCorruptFilesAreErrors(t *testing.T) {
	dir := t.TempDir()
	keyPath := filepath.Join(dir, KeyFileName)
	if err := os.WriteFile(keyPath, []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreate(dir); err == nil {
		t.Error("corrupt key accepted")
	}
	if data, _ := os.ReadFile(keyPath); string(data) != "not a key" {
		t.Error("corrupt key file was overwritten")
	}

	dir = copyKey(t)
	if err := os.WriteFile(filepath.Join(dir, CertFileName), []byte("garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreate(dir); err == nil {
		t.Error("corrupt certificate accepted")
	}
}

func TestConcurrentFirstStartAgrees(t *testing.T) {
	if testing.Short() {
		t.Skip("generates two RSA keys")
	}
	dir := filepath.Join(t.TempDir(), "k")
	var wg sync.WaitGroup
	signers := make([]*Signer, 2)
	errs := make([]error, 2)
	for i := range signers {
		wg.Go(func() { signers[i], errs[i] = LoadOrCreate(dir) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if !signers[0].key.Equal(signers[1].key) || signers[0].CertName() != signers[1].CertName() {
		t.Error("concurrent first starts ended with different identities")
	}
	final, err := LoadOrCreate(dir)
	if err != nil {
		t.Fatal(err)
	}
	if final.CertName() != signers[0].CertName() {
		t.Error("persisted identity differs from the one handed out")
	}
}

var benchMessage = Message{
	Type:      TypeNotification,
	MessageID: "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",
	TopicARN:  testTopic,
	Subject:   "benchmark",
	Message:   strings.Repeat("x", 1024),
	Timestamp: "2012-05-02T00:54:06.655Z",
}

func BenchmarkSignV1(b *testing.B) {
	s := signer(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Sign("1", benchMessage); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSignV2(b *testing.B) {
	s := signer(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Sign("2", benchMessage); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRSA2048SignRaw measures the bare rsa.SignPKCS1v15 rate of this
// machine (SHA-256 digest precomputed), the floor for Sign.
func BenchmarkRSA2048SignRaw(b *testing.B) {
	s := signer(b)
	digest := sha256.Sum256([]byte("benchmark"))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := rsa.SignPKCS1v15(nil, s.key, crypto.SHA256, digest[:]); err != nil {
			b.Fatal(err)
		}
	}
}
