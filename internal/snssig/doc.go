// Package snssig signs Amazon SNS-compatible HTTP/S message bodies.
//
// # Contract
//
// A subscriber that follows the AWS procedure "Verifying the signatures of
// Amazon SNS messages" must be able to verify every signature produced here:
//
//   - StringToSign builds the canonical string exactly as AWS defines it: for
//     each signed field, the field name, "\n", the (unescaped) value, "\n", with
//     the fields in byte-sort order of their names.
//     Notification:                        Message, MessageId, Subject (only when
//     non-empty), Timestamp, TopicArn, Type.
//     SubscriptionConfirmation and
//     UnsubscribeConfirmation:             Message, MessageId, SubscribeURL,
//     Timestamp, Token, TopicArn, Type.
//     Any other Type yields nil. MessageAttributes, UnsubscribeURL,
//     SigningCertURL, SignatureVersion and Signature are never signed.
//   - Sign returns base64 (standard alphabet, padded) of an RSASSA-PKCS1-v1_5
//     signature of that string: SignatureVersion "1" (and "") uses SHA-1
//     (SHA1withRSA), "2" uses SHA-256 (SHA256withRSA). Any other version, or an
//     unknown message Type, is an error.
//   - The signing key is RSA-2048. The certificate is a self-signed X.509
//     certificate (CN DefaultCommonName) whose public key verifies the
//     signatures; serve CertPEM at the SigningCertURL path CertName.
//
// # Persistence
//
// LoadOrCreate keeps the key (PKCS#8 PEM) and the certificate (PEM), both mode
// 0600 like everything in the data dir, in a directory (KeyFileName, CertFileName) and reuses them on
// restart, so previously issued SigningCertURLs stay valid. New files are
// written to a temporary file in the same directory, fsynced, then linked into
// place without overwriting (so concurrent first starts agree on one key) and
// the directory is fsynced. The certificate is valid for ten years, is not a
// CA certificate, and is re-issued for the existing key (it is public, derived
// data) when it is missing, not yet valid, expires within 30 days, or belongs
// to another key; re-issuing changes CertName. An unreadable key or
// certificate file is an error, never silently replaced. An operator-supplied
// key may be PKCS#8 or PKCS#1 PEM and must be RSA with at least 2048 bits.
//
// LoadSealed (the server's path) keeps the private key sealed instead: PKCS#8
// DER sealed by a Sealer (envelope.Keyring.SealMaterial under a key derived
// from the root key, id SealedKeyID, version SealedKeyVersion bound as AAD)
// and stored in a Vault (the server's store), so every node sharing the root
// key and the database signs with the same key; the first node to store one
// wins, the others read it. A plaintext KeyFileName left by an older version
// is sealed, stored and removed on first start (logged). A stored key that
// does not open (changed record, other root key) is an error wrapping
// ErrSealedKey and is never replaced. The certificate stays a file in the
// data dir, in clear (it is public), managed as above.
//
// A Signer is safe for concurrent use.
package snssig
