package snssig

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
)

// Message types that SNS signs.
const (
	TypeNotification             = "Notification"
	TypeSubscriptionConfirmation = "SubscriptionConfirmation"
	TypeUnsubscribeConfirmation  = "UnsubscribeConfirmation"
)

// Message holds the values of an SNS message body that take part in the
// signature. Values are the original (unescaped) strings, as a subscriber
// obtains them after JSON-decoding the body.
type Message struct {
	Type         string // Notification | SubscriptionConfirmation | UnsubscribeConfirmation
	MessageID    string // JSON "MessageId"
	TopicARN     string // JSON "TopicArn"
	Subject      string // Notification only; omitted from the signature when empty
	Message      string
	Timestamp    string // e.g. 2012-04-26T20:45:04.751Z
	Token        string // confirmations only
	SubscribeURL string // confirmations only
}

// StringToSign returns the canonical string AWS signs for m, or nil when
// m.Type is not one of the three SNS message types.
func StringToSign(m Message) []byte {
	var b bytes.Buffer
	field := func(name, value string) {
		b.Grow(len(name) + len(value) + 2)
		b.WriteString(name)
		b.WriteByte('\n')
		b.WriteString(value)
		b.WriteByte('\n')
	}
	// The field names below are listed in byte-sort order.
	switch m.Type {
	case TypeNotification:
		field("Message", m.Message)
		field("MessageId", m.MessageID)
		if m.Subject != "" {
			field("Subject", m.Subject)
		}
		field("Timestamp", m.Timestamp)
		field("TopicArn", m.TopicARN)
		field("Type", m.Type)
	case TypeSubscriptionConfirmation, TypeUnsubscribeConfirmation:
		field("Message", m.Message)
		field("MessageId", m.MessageID)
		field("SubscribeURL", m.SubscribeURL)
		field("Timestamp", m.Timestamp)
		field("Token", m.Token)
		field("TopicArn", m.TopicARN)
		field("Type", m.Type)
	default:
		return nil
	}
	return b.Bytes()
}

// Signer signs SNS messages with an RSA-2048 key whose self-signed
// certificate is published at CertName.
type Signer struct {
	key      *rsa.PrivateKey
	cert     *x509.Certificate
	certPEM  []byte
	certName string
}

// ErrUnsupportedSignatureVersion is returned (wrapped) by Sign for a
// SignatureVersion other than "", "1" or "2".
var ErrUnsupportedSignatureVersion = errors.New("snssig: unsupported SignatureVersion")

// ErrUnknownMessageType is returned (wrapped) by Sign for a Message whose
// Type is not one of the three SNS message types.
var ErrUnknownMessageType = errors.New("snssig: unknown message Type")

// Sign returns the base64 (standard encoding) signature of m for the given
// SignatureVersion: "1" or "" => SHA1withRSA, "2" => SHA256withRSA.
func (s *Signer) Sign(signatureVersion string, m Message) (string, error) {
	data := StringToSign(m)
	if data == nil {
		return "", fmt.Errorf("%w %q", ErrUnknownMessageType, m.Type)
	}
	// The string to sign holds the message in clear (for SSE topics, the
	// opened body): wipe it once hashed.
	defer clear(data)
	var (
		hash   crypto.Hash
		digest []byte
	)
	switch signatureVersion {
	case "", "1":
		sum := sha1.Sum(data)
		hash, digest = crypto.SHA1, sum[:]
	case "2":
		sum := sha256.Sum256(data)
		hash, digest = crypto.SHA256, sum[:]
	default:
		return "", fmt.Errorf("%w %q", ErrUnsupportedSignatureVersion, signatureVersion)
	}
	sig, err := rsa.SignPKCS1v15(rand.Reader, s.key, hash, digest)
	if err != nil {
		return "", fmt.Errorf("snssig: sign: %w", err)
	}
	return base64.StdEncoding.EncodeToString(sig), nil
}

// CertPEM returns the PEM-encoded signing certificate (a fresh copy).
func (s *Signer) CertPEM() []byte {
	return bytes.Clone(s.certPEM)
}

// CertName returns the file name under which the certificate is served,
// "SimpleNotificationService-<32 hex digits>.pem", where the hex digits are
// the first 16 bytes of the SHA-256 of the DER certificate. It changes
// whenever the certificate is re-issued.
func (s *Signer) CertName() string {
	return s.certName
}

func certNameFor(der []byte) string {
	sum := sha256.Sum256(der)
	return "SimpleNotificationService-" + hex.EncodeToString(sum[:16]) + ".pem"
}
