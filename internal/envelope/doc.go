// Package envelope is Sealpost's sealing mechanism: root-key providers, keys
// derived from the root key, sealed CMK material, the KMS ciphertext blob and
// the sealed SNS message body. It imports only the standard library and
// golang.org/x/crypto/argon2. It knows nothing of key states, policies or
// storage: callers (internal/kms, internal/sns) decide which key to use and
// where the bytes live.
//
// Every format below starts with a format-version byte, every header field is
// inside the AEAD's additional data, every length is checked before slicing,
// and every integer is big-endian. Cipher: AES-256-GCM with a 96-bit nonce and
// a 128-bit tag everywhere. Nonces and salts come from crypto/rand unless a
// test injects a reader with WithRand.
//
// # Root key
//
// The root key is 32 bytes. It is never written anywhere by this package except
// for the generated development key file.
//
//   - Key file (RootKeyFromFile) and environment variable (RootKeyFromEnv) hold
//     the key as TEXT: 64 hex characters, or the standard/URL base64 of the 32
//     bytes (44 characters with padding, 43 without). Surrounding ASCII
//     whitespace is ignored. Raw binary files are refused with a message
//     showing how to write one (`openssl rand -hex 32 > root.key`), so that a
//     key file is always printable and its length visible. A key file must not
//     be readable or writable by group or others (mode & 0o077 == 0), as ssh
//     requires for private keys. An environment variable cannot be wiped from
//     the process; a file can be kept out of `docker inspect`: both are
//     offered, the trade-off is the operator's.
//   - Passphrase (PassphraseRootKey): root = Argon2id(passphrase, salt, t, m, p,
//     32 bytes) with the parameters and the 16-byte random salt kept in the
//     root record (below). Defaults (DefaultArgon2Params): t=3, m=64 MiB, p=2
//     (RFC 9106's second recommendation, with p lowered to the 2 cores Sealpost
//     is sized for). Accepted on read: t 1..16, m 8 MiB..4 GiB (in KiB),
//     p 1..64, salt 16..64 bytes.
//   - Development key (DevRootKey): 32 random bytes written as 64 hex
//     characters and a newline to a file created with mode 0600 atomically
//     (temporary file in the same directory, fsync, hard link to the final name
//     so an existing key is never replaced, fsync of the directory). The caller
//     prints the warning that the key lives beside the data.
//
// # Root record (not secret; stored beside the data)
//
// The root record lets the server refuse a wrong root key at start, and keeps
// the Argon2id salt. Check value: HMAC-SHA256(key = root,
// msg = "sealpost root check v1"), first 16 bytes, compared with hmac.Equal;
// a mismatch is ErrWrongRootKey.
//
//	offset size  field
//	0      1     format version 0x01
//	1      1     source: 0x01 key (file, env, dev), 0x02 passphrase (Argon2id)
//	2      16    check value
//	18     -     end, when source is 0x01
//	18     4     Argon2id time (iterations)          } only when source is 0x02
//	22     4     Argon2id memory in KiB               }
//	26     1     Argon2id threads                     }
//	27     1     salt length S (16..64)               }
//	28     S     salt                                 }
//
// The record must be exactly as long as its fields; trailing bytes are refused.
//
// # Subkeys
//
// Keys derived from the root key (NewKeyring), each 32 bytes:
//
//	HKDF-SHA256(secret = root, salt = empty, info = label)
//	"sealpost/cmk-wrap/v1"    key-wrapping key: seals CMK material versions and
//	                          the message-signing key
//	"sealpost/dedup-mac/v1"   keyed-hash key for FIFO deduplication ids
//	"sealpost/audit-mac/v1"   keyed-hash key for audit-log checkpoints
//	"sealpost/kms-record-mac/v1"
//	                          keyed-hash key for the integrity tags (MAC) of
//	                          KMS key and grant records (format: internal/kms)
//
// The root key is uniformly random (or an Argon2id output), so HKDF-Extract
// needs no salt; the labels separate the keys.
//
// # Sealed material (SealMaterial, OpenMaterial)
//
// A CMK material version (32 bytes), or any other small secret such as the
// message-signing private key, sealed under the key-wrapping key. The key id
// and version are not stored in the sealed bytes; the caller keeps them in the
// record that holds the sealed bytes, and they are bound through the AAD, so a
// sealed value moved to another key or version does not open.
//
//	offset size  field
//	0      1     format version 0x01
//	1      12    GCM nonce
//	13     n     ciphertext, 1 <= n <= 16384 (MaxMaterial)
//	13+n   16    GCM tag
//
//	AAD = byte 0x01 (format version) || uint16 len(keyID) || keyID || uint32 version
//
// keyID is 1..255 bytes, version >= 1. Overhead: 29 bytes. CMK material
// uses the key's id; other secrets use ids that cannot be CMK ids, e.g.
// "sealpost/sns-signing-key" with version = generation for the message-signing
// private key, so every node sharing the root key and the database opens it.
//
// # KMS ciphertext blob (EncryptBlob, ParseBlob, Blob.Decrypt)
//
// Returned by Encrypt, GenerateDataKey and ReEncrypt; self-describing, so
// Decrypt needs no KeyId: ParseBlob returns the key id and material version
// for the caller to look up the material, check state and policy, and then
// Blob.Decrypt opens it.
//
//	offset  size  field
//	0       1     format version 0x01
//	1       1     algorithm 0x01: per-call key from HKDF-SHA256, AES-256-GCM
//	2       1     key id length L (1..255)
//	3       L     key id (the caller's identifier: UUID or key ARN)
//	3+L     4     material version (>= 1)
//	7+L     32    HKDF salt (random)
//	39+L    12    GCM nonce (random)
//	51+L    n     ciphertext, 1 <= n <= 4096 (MaxBlobPlaintext, AWS's limit)
//	51+L+n  16    GCM tag
//
//	per-call key K = HKDF-SHA256(secret = material, salt = salt,
//	                             info = "sealpost/kms-blob/v1" || bytes[0:7+L], 32 bytes)
//	AAD = bytes[0:51+L] || canonical(encryption context)
//
// A fresh salt per call means every K seals one message, so GCM's 2^32
// random-nonce limit never applies to CMK material. A blob is at most
// 51+255+4096+16 = 4418 bytes; ParseBlob refuses anything over 6144 bytes
// (AWS's CiphertextBlob limit) or under 69 bytes before reading a field.
//
// Canonical encryption context:
//
//	uint16 number of pairs, then for each pair in ascending byte order of keys:
//	uint16 len(key) || key || uint16 len(value) || value
//
// so {"a":"bc"} and {"ab":"c"} encode differently. Keys and values must be
// valid UTF-8; the encoding may be at most 8192 bytes (MaxContext). An empty
// or nil context encodes as 0x00 0x00.
//
// # Sealed SNS message body (DataKey.SealBody, ParseBody, DataKey.OpenBody)
//
// Sealed under a data key (32 bytes from GenerateDataKey). The data-key id is
// opaque to this package: a short reference into a data-key table (16 random
// bytes, as security-notes §2.5 proposes) or the data key's KMS blob itself,
// which makes every body self-contained at ~150 extra bytes; the caller chooses.
//
//	offset  size  field
//	0       1     format version 0x01
//	1       1     algorithm 0x01: AES-256-GCM
//	2       2     data-key id length L (1..6144)
//	4       L     data-key id
//	4+L     12    GCM nonce (random)
//	16+L    n     ciphertext, 0 <= n <= 1 MiB (MaxBodyPlaintext)
//	16+L+n  16    GCM tag
//
//	AAD = bytes[0:16+L] || uint16 len(topicARN) || topicARN
//	      || uint16 len(messageID) || messageID || int64 timestamp (Unix ms)
//	      || uint32 len(subject) || subject || 32-byte attributes digest
//	      || uint16 len(messageGroupID) || messageGroupID
//	      || uint16 len(deduplicationID) || deduplicationID
//
// Overhead: 30+L bytes. A body cannot be moved to another topic or message, and
// the metadata stored in clear beside it cannot be changed without the open
// failing. AttributesDigest computes the digest from the message attributes:
// SHA-256 over, for each attribute in ascending byte order of names,
// uint16 len(name) || name || uint16 len(type) || type || byte kind
// (0x01 string, 0x02 binary) || uint32 len(value) || value, preceded by a
// uint16 count.
//
// # Errors
//
// Every failure to parse or open a blob, sealed material or body wraps
// ErrInvalidCiphertext, with one message for every authentication failure
// (it never says whether the tag, the context or the key was wrong). A
// root key that does not match the root record is ErrWrongRootKey. Inputs the
// caller should have validated (sizes, key ids, context) give ErrInvalidInput.
// Root-key text or file problems give ErrInvalidRootKey. No error message
// contains key material or plaintext.
//
// # Concurrency
//
// A Keyring and a DataKey are safe for concurrent use; they are immutable
// after construction until Wipe, which must not race with other calls.
// Package functions keep no state.
//
// # Wiping
//
// Wipe clears byte slices (the clear builtin). It is best effort: the garbage
// collector may have copied a slice before, strings cannot be wiped, and the
// expanded AES key schedules inside cipher.AEAD values cannot be reached, so
// a Keyring or DataKey should be dropped (and its Wipe called) when no longer
// needed. Functions here wipe the intermediate keys they derive.
package envelope
