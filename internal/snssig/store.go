package snssig

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"time"

	"github.com/sealpost/sealpost/internal/datadir"
)

// Files and certificate parameters used by LoadOrCreate.
const (
	KeyFileName       = "signing-key.pem"
	CertFileName      = "signing-cert.pem"
	DefaultCommonName = "sns.sealpost.local"

	keyBits      = 2048
	certValidity = 10 * 365 * 24 * time.Hour
	// certRenewBefore re-issues a certificate this close to its expiry.
	certRenewBefore = 30 * 24 * time.Hour
)

// LoadOrCreate returns the Signer persisted in dir, creating dir, the key
// and the certificate as needed. See the package documentation for the
// persistence rules.
func LoadOrCreate(dir string) (*Signer, error) {
	if err := os.MkdirAll(dir, datadir.DirMode); err != nil {
		return nil, fmt.Errorf("snssig: create %s: %w", dir, err)
	}
	key, err := loadOrCreateKey(dir)
	if err != nil {
		return nil, err
	}
	return loadOrIssueCert(dir, key, time.Now())
}

func loadOrCreateKey(dir string) (*rsa.PrivateKey, error) {
	path := filepath.Join(dir, KeyFileName)
	key, err := readKey(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return key, err
	}
	key, err = rsa.GenerateKey(rand.Reader, keyBits)
	if err != nil {
		return nil, fmt.Errorf("snssig: generate key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("snssig: encode key: %w", err)
	}
	data := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	err = writeFile(dir, KeyFileName, data, false)
	if errors.Is(err, fs.ErrExist) {
		// Another process created the key first: use theirs.
		return readKey(path)
	}
	if err != nil {
		return nil, err
	}
	return key, nil
}

func readKey(path string) (*rsa.PrivateKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("snssig: %s: no PEM block", path)
	}
	var parsed any
	switch block.Type {
	case "PRIVATE KEY":
		parsed, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "RSA PRIVATE KEY":
		parsed, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	default:
		return nil, fmt.Errorf("snssig: %s: unexpected PEM block %q", path, block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("snssig: %s: %w", path, err)
	}
	key, ok := parsed.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("snssig: %s: not an RSA key", path)
	}
	if key.N.BitLen() < keyBits {
		return nil, fmt.Errorf("snssig: %s: RSA key has %d bits, want at least %d", path, key.N.BitLen(), keyBits)
	}
	return key, nil
}

func loadOrIssueCert(dir string, key *rsa.PrivateKey, now time.Time) (*Signer, error) {
	path := filepath.Join(dir, CertFileName)
	for attempt := 0; ; attempt++ {
		s, err := readCert(path, key)
		switch {
		case err == nil && now.Add(certRenewBefore).Before(s.cert.NotAfter) && !now.Before(s.cert.NotBefore):
			return s, nil
		case err != nil && !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, errKeyMismatch):
			return nil, err
		}
		// Missing, expiring, not yet valid or issued for another key.
		replace := err == nil || errors.Is(err, errKeyMismatch)
		der, err := issueCert(key, now)
		if err != nil {
			return nil, err
		}
		data := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
		err = writeFile(dir, CertFileName, data, replace)
		if errors.Is(err, fs.ErrExist) {
			if attempt == 0 {
				continue // another process wrote it first: re-read and re-check
			}
			return nil, fmt.Errorf("snssig: %s keeps changing: %w", path, err)
		}
		if err != nil {
			return nil, err
		}
		return newSigner(key, der, data)
	}
}

var errKeyMismatch = errors.New("certificate does not match the signing key")

func readCert(path string, key *rsa.PrivateKey) (*Signer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("snssig: %s: no CERTIFICATE PEM block", path)
	}
	s, err := newSigner(key, block.Bytes, pem.EncodeToMemory(block))
	if err != nil {
		return nil, fmt.Errorf("snssig: %s: %w", path, err)
	}
	return s, nil
}

func newSigner(key *rsa.PrivateKey, der, certPEM []byte) (*Signer, error) {
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	pub, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok || !pub.Equal(&key.PublicKey) {
		return nil, errKeyMismatch
	}
	return &Signer{key: key, cert: cert, certPEM: certPEM, certName: certNameFor(der)}, nil
}

func issueCert(key *rsa.PrivateKey, now time.Time) ([]byte, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("snssig: certificate serial: %w", err)
	}
	name := pkix.Name{CommonName: DefaultCommonName, Organization: []string{"Sealpost"}}
	tmpl := &x509.Certificate{
		SerialNumber:          serial.Add(serial, big.NewInt(1)),
		Subject:               name,
		Issuer:                name,
		NotBefore:             now.Add(-time.Hour).UTC(),
		NotAfter:              now.Add(certValidity).UTC(),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  false, // subscribers pin this certificate; it must not vouch for others
		DNSNames:              []string{DefaultCommonName},
		SignatureAlgorithm:    x509.SHA256WithRSA,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("snssig: issue certificate: %w", err)
	}
	return der, nil
}

// writeFile installs data as dir/name (mode 0600) through
// datadir.WriteFile (replace) or datadir.CreateFile (fails with
// fs.ErrExist when the target exists).
func writeFile(dir, name string, data []byte, replace bool) error {
	target := filepath.Join(dir, name)
	var err error
	if replace {
		err = datadir.WriteFile(target, data, datadir.FileMode)
	} else {
		err = datadir.CreateFile(target, data, datadir.FileMode)
	}
	if errors.Is(err, fs.ErrExist) {
		return fs.ErrExist
	}
	if err != nil {
		return fmt.Errorf("snssig: %w", err)
	}
	return nil
}
