// Package kms is Sealpost's built-in key management service: the domain
// behind the AWS KMS API (internal/kmsapi speaks the wire protocol). It
// imports neither net/http nor internal/sns.
//
// # Keys
//
// A key (CMK) is a store.Key record plus its material versions, each 32
// random bytes sealed by envelope.Keyring.SealMaterial (AES-256-GCM under a
// key derived from the root key, AAD = key id and version) before it reaches
// the store. Material is never in the store, a file or a log in clear. Only
// SYMMETRIC_DEFAULT / ENCRYPT_DECRYPT keys with origin AWS_KMS exist; other
// specs, usages, origins and custom key stores answer ErrUnsupported (or
// ErrValidation where AWS validates) naming what is supported.
//
// Identifiers: wherever AWS accepts them, a key id (UUID), key ARN
// (arn:aws:kms:<region>:<account>:key/<id>), alias name (alias/<name>) or
// alias ARN (arn:aws:kms:<region>:<account>:alias/<name>). An id or alias
// name resolves in the caller's account and region; an ARN names the
// account, so keys of another account are usable by ARN when that key's
// policy or a grant allows the caller. Names under alias/aws/ are reserved
// for AWS-managed keys: alias/aws/sns and alias/aws/sqs are created on
// first use per account and region (KeyManager AWS, AWS's key policy for
// SNS and for SQS).
//
// Service-owned keys: ServiceKey returns the key a service owns in a
// region (SSE-SQS: the key of queues with SqsManagedSseEnabled, like AWS's
// SQS-owned key), created on first use in the reserved account
// OwnedAccount ("sealpost", no 12-digit account id) behind a reserved
// alias, with a key policy that lets only that service principal generate
// data keys and decrypt. No customer lists these keys or their aliases
// (ListKeys and ListAliases are per account); naming one by ARN answers
// NotFoundException, a blob under one is InvalidCiphertextException, and
// authorize refuses any caller but the owning service acting for
// OwnedAccount. They are audited as that service.
//
// Caching: a node trusts a key record it read for Options.CacheTTL, and an
// alias's target (per account, region and name; at most 10,000 aliases)
// for as long. The node's own writes (key updates, Create/Update/
// DeleteAlias, a deletion by Sweep, which takes the key's aliases) take
// effect on it at once; those of other nodes sharing the store within
// CacheTTL.
//
// # Ciphertext
//
// Encrypt, GenerateDataKey and ReEncrypt return envelope blobs
// (envelope.EncryptBlob): self-describing (format version, key id, material
// version), the canonical encryption context bound as AAD, so Decrypt needs
// no KeyId and every material version decrypts for ever after rotation.
//
// # Record integrity
//
// The store is untrusted for record fields too: every key record
// (store.Key) and grant record (store.Grant) the domain writes carries, in
// its MAC field, 33 bytes: version 0x01 || HMAC-SHA256(Kr, input), where
// Kr is the keyring's record-MAC subkey (envelope.Keyring.RecordMACKey,
// HKDF label "sealpost/kms-record-mac/v1"). The input is
//
//	0x01 (format version) || kind (0x01 key, 0x02 grant) || fields
//
// and every field is encoded as uint32 big-endian length || bytes:
// strings as their bytes; integers as 8-byte big-endian two's complement;
// booleans as one byte 0x00/0x01; times as nothing (length 0) for the zero
// time, else the 8-byte Unix time in microseconds (the stores keep at least
// microseconds); a string list as uint32 count || each string
// length-prefixed; tags as uint32 count || for each tag in ascending byte
// order of keys, key and value length-prefixed. Fields, in order:
//
//	key:   ID, ARN, Account, Region, Description, KeyState, KeyManager,
//	       KeySpec, KeyUsage, Origin, CreatedAt, DeletionDate,
//	       PendingWindowDays, RotationEnabled, RotationPeriodDays,
//	       NextRotation, Policy, Tags, MultiRegion, CurrentVersion
//	grant: ID, KeyID, GranteePrincipal, RetiringPrincipal, Operations (as
//	       stored), Constraints, Name, CreatedAt, IssuingAccount
//
// (everything but Revision, which the store sets, and MAC). The MAC is
// computed on every write (CreateKey, the AWS-managed key, every UpdateKey
// and AddMaterial, which first verify the record they change, so a changed
// record is never re-sealed; CreateGrant) and verified on every read
// (key cache fills, ListKeys, Sweep's due keys, every grant read). A
// record that fails, or has no MAC, is never used: the call answers
// KMSInternalException, and an ERROR log line names the key or grant id
// (never the record's data). Sweep neither deletes nor rotates such a key
// and reports it on every run. RevokeGrant still deletes a grant that
// fails (removing a grant never widens access). Not covered: replacing a
// record by an older version of itself (rollback) and deleting records,
// which need state outside the database; material versions are covered by
// their own AEAD (SealMaterial binds key id and version). The reserved
// records of internal/server and internal/snssig (account "sealpost") are
// never read by this package and carry no MAC.
//
// # Errors
//
// Every error a Service method returns for a request-level failure wraps
// one of the Err* kinds below (errors.Is); its Error() text is the message
// for the client, in AWS's words where AWS has them. internal/kmsapi maps
// kinds to wire codes and statuses in one table. Anything else is internal.
//
// # Callers and audit
//
// Every method takes the Caller: the principal from the front door, or a
// service principal (Caller.Service, e.g. "sns.amazonaws.com") when SNS uses
// a key for a topic (with SourceARN and SourceAccount, the aws:SourceArn and
// aws:SourceAccount of key policies, when SNS seals into an encrypted
// queue). Every call, allowed or refused, is written to the audit
// log (Options.Audit) before the method returns; params carry no plaintext,
// data key, ciphertext blob or key material.
//
// SNS and SQS encryption (internal/sse) use internal entry points
// (foruse.go, and ServiceKey in managed.go):
// DecryptForService, a Decrypt as a service principal acting for an
// account (its authorization rule is in internal/sse's package doc), and
// KeyRevision, a cheap check that a key is Enabled and unchanged. With
// Options.PurgeWait, DisableKey, ScheduleKeyDeletion and PutKeyPolicy
// wait CacheTTL before returning, so that every node sharing the store
// refuses the old state once they return (a cached key record is trusted
// for CacheTTL from when its read started).
//
// # Authorization and grants
//
// Every call that names a key is decided by authorize (authz.go) as AWS
// KMS does: the key policy is a resource policy that must allow
// (policy.DecideResourceRequired), directly or through the key account's
// root principal, which delegates to the caller's identity policy; a
// caller of another account needs the key policy (or its account) and its
// own identity policy to allow; an explicit Deny in either wins over
// everything; otherwise a grant on the key whose grantee is the caller (or
// its account root, then through the identity policy), whose operations
// include the action and whose encryption-context constraints hold allows
// the call. Parsed key policies are cached by text; a key's grants for
// Options.CacheTTL (a grant retired or revoked on a node stops working
// there at once, on other nodes within CacheTTL; grant tokens are always
// looked up in the store).
//
// Grant ids are 64 hex digits (random, or an HMAC of the parameters for a
// named grant, which makes a retried CreateGrant idempotent). A grant token
// is base64url (no padding) of 49 bytes: version 0x01, the 32-byte grant
// id, and the first 16 bytes of HMAC-SHA256(Kt, 0x01 | grant id), where
// Kt = HMAC-SHA256(keyring keyed-hash subkey, "sealpost/kms-grant-token/v1");
// any other token is InvalidGrantTokenException.
package kms
