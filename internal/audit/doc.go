// Package audit writes and verifies Sealpost's KMS audit log: one
// CloudTrail-shaped JSON record per line, hash-chained, durable before
// Append returns.
//
// # File
//
// The log is the file FileName ("audit.log", mode 0600) in a directory
// (Dir(dataDir) = <data-dir>/audit, mode 0700). It is only ever appended to.
// Each record is one line: a JSON object followed by "\n". Bytes are UTF-8;
// the JSON is what encoding/json writes for the Record struct, so the field
// order is the struct's order and fixed.
//
// With Options.MaxFileBytes set, the active file is rotated once it reaches
// that size: it is renamed to audit-<seq of its first record, 20 digits>.log
// (so names sort in chain order) and a new audit.log continues the same
// chain (its first record's prevHash is the last hash of the segment before).
// VerifyDir checks the segments and the active file as one chain from seq 1;
// Open rereads only the last non-empty segment and the active file, so its
// cost is bounded by MaxFileBytes.
//
// # Record
//
// The fields follow AWS CloudTrail's record for KMS (eventVersion,
// eventTime as RFC 3339 UTC with milliseconds, eventSource
// "kms.amazonaws.com", eventName, awsRegion, sourceIPAddress, userAgent
// (clipped to MaxUserAgent bytes), userIdentity, requestParameters,
// responseElements (null for data-plane calls), additionalEventData,
// requestID, eventID, readOnly, resources, eventType, eventCategory
// "Management", recipientAccountId, errorCode, errorMessage), then three
// chain fields, always last and in this order:
//
//	"seq":      decimal uint64; 1 for the first record of a log, then +1 per record
//	"prevHash": 64 lowercase hex digits; the previous record's "hash", or 64 "0"s
//	            (the genesis value) for seq 1
//	"hash":     64 lowercase hex digits, see below
//
// # Canonical bytes and the hash
//
// The canonical bytes of a record are the exact bytes of its line as
// written, without the trailing "\n" and without the final member
// `,"hash":"<64 hex>"`, that is: the line up to (not including) the last
// `,"hash":"` followed by the closing `}`. They end with
// `,"seq":N,"prevHash":"<64 hex>"}`.
//
//	hash = hex(SHA-256(prevHashBytes || canonicalBytes))
//
// where prevHashBytes are the 32 bytes the prevHash field encodes. The
// verifier works on the bytes as stored and never re-encodes JSON, so any
// change of any byte of a line (content, seq, prevHash, even whitespace)
// changes its hash; removing, reordering or duplicating lines breaks the seq
// run or the prevHash link. What the chain alone cannot show: records cut
// from the end of the log, or a log rewritten whole by someone who
// recomputes every hash. Both need an anchor outside the file (the planned
// HMAC checkpoint line keyed from the root key, security-notes §2.11, or
// the last hash printed by `sealpost audit verify` and kept elsewhere).
//
// # Verifying
//
// Verify (and `sealpost audit verify`) reads a log from its first line and
// stops at the first break, naming its line, its seq and a kind: edited (a
// line's hash does not match its bytes, its prevHash does not match the
// record before it, or it is not a record at all), removed (a gap in seq;
// also a log not starting at seq 1), reordered (a missing seq turns up later,
// or seq goes backwards), duplicated (a line repeats the one before it) or
// truncated (the final line has no "\n"). A log that is being written may end
// in a line that is still being written; verify a log at rest, or read a
// truncated final line as "in flight". `sealpost audit verify` exits 0 for
// an intact log (printing the record count and the last hash), 1 for a
// broken one, 2 for bad usage or an unreadable file.
//
// # What callers put in a record
//
// Never a secret: no plaintext, no data key, no ciphertext blob, no root
// key, no grant token, no message body. The caller builds
// requestParameters and responseElements from the request's non-secret
// fields (key id, algorithm, key spec, encryption context, ...); pass them
// through WithoutSecrets, which drops the fields known to carry secrets
// (Plaintext, CiphertextBlob, SourceCiphertextBlob, GrantTokens, ... in any
// letter case, at any depth) as a second line of defence.
//
// # Durability and concurrency
//
// A Writer is safe for concurrent use. Append queues the record to one
// writer goroutine, which takes every record queued at that moment (group
// commit), assigns seq and prevHash, writes the batch with one write and one
// fsync, and only then answers each Append. The queue is bounded
// (Options.MaxQueue); when it is full Append waits (back-pressure) until
// there is room or its context ends. If a write or fsync fails, that batch
// and every later Append fail with the error (fail closed): the caller must
// fail the operation it was auditing. A record whose Append returned an
// error may still be in the file (it was an attempt).
//
// On Open the existing log is read and verified whole. A final line without
// its "\n" is a write torn by a crash (never acknowledged): it is cut off
// and a warning is logged. Any other fault refuses Open with a *VerifyError;
// the log is never silently continued after a broken record.
package audit
