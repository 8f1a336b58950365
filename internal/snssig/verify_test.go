package snssig

// An independent subscriber-side verifier, written from the AWS procedure
// "Verifying the signatures of Amazon SNS messages". It deliberately does not
// call StringToSign or any other code of this package: it works from the JSON
// body alone, as a subscriber would.

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// subscriber verifies SNS message bodies. trustedHost is the only host a
// SigningCertURL may point at ("verify the certificate was received from
// Amazon SNS"); client fetches it over HTTPS.
type subscriber struct {
	client      *http.Client
	trustedHost string
	commonName  string
}

func (v *subscriber) verify(body []byte) error {
	// Step 1: extract the name-value pairs, unescaping JSON string values.
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(body, &doc); err != nil {
		return fmt.Errorf("body: %w", err)
	}
	str := func(name string) (string, bool, error) {
		raw, ok := doc[name]
		if !ok {
			return "", false, nil
		}
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", true, fmt.Errorf("%s is not a string", name)
		}
		return s, true, nil
	}
	must := func(name string) (string, error) {
		s, ok, err := str(name)
		if err == nil && !ok {
			err = fmt.Errorf("%s missing", name)
		}
		return s, err
	}

	// Step 2-3: fetch the certificate over HTTPS from a trusted host and take its public key.
	certURL, err := must("SigningCertURL")
	if err != nil {
		return err
	}
	pub, err := v.fetchKey(certURL)
	if err != nil {
		return err
	}

	// Step 4-5: build the string to sign for the message type.
	typ, err := must("Type")
	if err != nil {
		return err
	}
	var names []string
	switch typ {
	case "Notification":
		names = []string{"Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"}
	case "SubscriptionConfirmation", "UnsubscribeConfirmation":
		names = []string{"Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"}
	default:
		return fmt.Errorf("unknown Type %q", typ)
	}
	var canonical strings.Builder
	for _, name := range names {
		value, ok, err := str(name)
		if err != nil {
			return err
		}
		if !ok {
			if name == "Subject" {
				continue // "Subject (if included in the message)"
			}
			return fmt.Errorf("%s missing", name)
		}
		canonical.WriteString(name + "\n" + value + "\n")
	}

	// Step 6: decode the signature.
	sigB64, err := must("Signature")
	if err != nil {
		return err
	}
	sig, err := base64.StdEncoding.DecodeString(sigB64)
	if err != nil {
		return fmt.Errorf("Signature: %w", err)
	}

	// Step 7-9: hash per SignatureVersion and compare with the asserted hash.
	version, err := must("SignatureVersion")
	if err != nil {
		return err
	}
	var (
		hash   crypto.Hash
		digest []byte
	)
	switch version {
	case "1":
		d := sha1.Sum([]byte(canonical.String()))
		hash, digest = crypto.SHA1, d[:]
	case "2":
		d := sha256.Sum256([]byte(canonical.String()))
		hash, digest = crypto.SHA256, d[:]
	default:
		return fmt.Errorf("unsupported SignatureVersion %q", version)
	}
	return rsa.VerifyPKCS1v15(pub, hash, digest, sig)
}

func (v *subscriber) fetchKey(certURL string) (*rsa.PublicKey, error) {
	u, err := url.Parse(certURL)
	if err != nil {
		return nil, err
	}
	if u.Scheme != "https" {
		return nil, errors.New("SigningCertURL is not https")
	}
	if u.Host != v.trustedHost {
		return nil, fmt.Errorf("SigningCertURL host %q is not trusted", u.Host)
	}
	if !strings.HasSuffix(u.Path, ".pem") {
		return nil, errors.New("SigningCertURL does not name a .pem file")
	}
	resp, err := v.client.Get(certURL)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", certURL, resp.Status)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, errors.New("no certificate at SigningCertURL")
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, err
	}
	// Validate the certificate: self-signed by the expected subject, and in date.
	if cert.Subject.CommonName != v.commonName {
		return nil, fmt.Errorf("certificate CN %q, want %q", cert.Subject.CommonName, v.commonName)
	}
	if err := cert.CheckSignature(cert.SignatureAlgorithm, cert.RawTBSCertificate, cert.Signature); err != nil {
		return nil, fmt.Errorf("certificate self-signature: %w", err)
	}
	if now := time.Now(); now.Before(cert.NotBefore) || now.After(cert.NotAfter) {
		return nil, errors.New("certificate is not valid now")
	}
	pub, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok {
		return nil, errors.New("certificate key is not RSA")
	}
	return pub, nil
}
