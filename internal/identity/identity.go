// Package identity maps access keys to accounts and principals.
//
// # Credentials file
//
// The credentials file is JSON:
//
//	{"accounts": [{"id": "111122223333", "users": [
//	    {"name": "root",  "accessKeys": [{"id": "AKIAROOT", "secret": "..."}]},
//	    {"name": "alice", "accessKeys": [{"id": "AKIAALICE", "secret": "..."}],
//	     "policy": {"Version": "2012-10-17", "Statement": [...]}}]}]}
//
// Rules, each checked by Parse with an error that names the place
// (for example `accounts[1].users[0]: unknown field "polcy"`):
//
//   - The top level has only "accounts" (a non-empty list); an account has
//     only "id" and "users"; a user only "name", "accessKeys" and "policy";
//     an access key only "id" and "secret". Field names are case-sensitive
//     and may appear once per object; anything else is refused.
//   - Account ids are 12 digits and unique in the file.
//   - A user named "root", or one without a name, is the account root
//     (arn:aws:iam::<account>:root). Other names follow IAM's rule
//     [\w+=,.@-]{1,64} and are unique in their account, ignoring case as IAM
//     does; such a user is arn:aws:iam::<account>:user/<name>.
//   - Access key ids are 1 to 128 printable ASCII characters without space,
//     '/' or ',' (those could not be written in a SigV4 Credential= scope)
//     and unique across the whole file; secrets are non-empty.
//   - "policy" is optional and only for named users: an IAM identity policy
//     document as a JSON object. Without one, a user may do everything in its
//     own account (the development default); with one, only what the policy
//     allows. The root never has one. Parse keeps the document as raw JSON
//     (UserPolicy.JSON) and, when Options.CompilePolicy is set, compiles it
//     once per load; a compile error makes the whole file invalid.
//
// The first account is the default: unsigned requests (SubscribeURL clicks)
// act as its root. With no file, access key "test" with secret "test" maps to
// the root of account 000000000000.
//
// Error messages never contain a secret.
//
// # Concurrency
//
// A Directory is immutable after Parse and safe for concurrent use; lookups
// take no lock. A Reloader holds the current Directory in an atomic pointer
// and swaps in a new one on Reload (SIGHUP); a file that does not parse
// leaves the current Directory in place. Callers that need the secret and
// the principal of a key take both from one Lookup (or one Directory), so
// that a request is never verified against one file and attributed by
// another.
package identity

import (
	"crypto/sha256"
	"encoding/base32"
	"encoding/json"
)

// DefaultAccount is the account used when nothing else is configured.
const DefaultAccount = "000000000000"

// Principal is an authenticated caller. It is a small value, copied per
// request.
type Principal struct {
	Account     string
	ARN         string
	AccessKeyID string // "" for the anonymous principal
	// UserName is the IAM user name (the value of ${aws:username}); "" for
	// an account root.
	UserName string
	// UserID is the stable unique id STS GetCallerIdentity answers (and
	// aws:userid): the account id for a root, else "AIDA" followed by 17
	// base32 characters derived from the user ARN (see UserIDOf).
	UserID string
	// Policy is the user's identity policy, nil if it has none (the user may
	// then do everything in its own account). Roots never have one.
	Policy *UserPolicy
}

// UserPolicy is a user's identity policy from the credentials file. It is
// shared by all of the user's access keys and must not be modified.
type UserPolicy struct {
	// JSON is the policy document as written in the file (a JSON object).
	JSON json.RawMessage
	// Compiled is what Options.CompilePolicy returned for JSON; nil when no
	// CompilePolicy was given.
	Compiled any
}

// Options configure Parse, Load and Reloader.
type Options struct {
	// CompilePolicy, if set, compiles each user policy when the file is
	// loaded (the server passes the IAM policy parser), so that requests
	// evaluate a compiled policy and a file with a bad policy is refused as a
	// whole. raw is a JSON object; the function must not keep raw beyond the
	// call unless it copies it. Its result is stored in UserPolicy.Compiled.
	CompilePolicy func(raw []byte) (any, error)
}

type key struct {
	secret    string
	principal Principal
}

// Directory resolves access keys. It is immutable.
type Directory struct {
	keys           map[string]key
	defaultAccount string
	stats          Stats
}

// Stats counts what a Directory holds, for log lines after a (re)load.
// Users counts named users (not roots); Policies, users with a policy.
type Stats struct {
	Accounts, Users, AccessKeys, Policies int
}

// Default returns the directory with the single test/test key.
func Default() *Directory {
	d := &Directory{keys: map[string]key{}, defaultAccount: DefaultAccount}
	p := rootOf(DefaultAccount)
	p.AccessKeyID = "test"
	d.keys["test"] = key{secret: "test", principal: p}
	d.stats = Stats{Accounts: 1, AccessKeys: 1}
	return d
}

func rootOf(account string) Principal {
	return Principal{Account: account, ARN: "arn:aws:iam::" + account + ":root", UserID: account}
}

func userOf(account, name string) Principal {
	arn := "arn:aws:iam::" + account + ":user/" + name
	return Principal{Account: account, ARN: arn, UserName: name, UserID: UserIDOf(arn)}
}

// UserIDOf derives the stable unique id of an IAM user from its ARN: "AIDA"
// and the first 17 characters of the base32 (RFC 4648, upper case) SHA-256 of
// the ARN, 21 characters in all like AWS's user ids. The same ARN always
// gives the same id, also across restarts and nodes.
func UserIDOf(userARN string) string {
	sum := sha256.Sum256([]byte(userARN))
	return "AIDA" + base32.StdEncoding.EncodeToString(sum[:])[:17]
}

// Lookup returns the principal and secret of an access key.
func (d *Directory) Lookup(accessKeyID string) (Principal, string, bool) {
	k, ok := d.keys[accessKeyID]
	return k.principal, k.secret, ok
}

// Anonymous is the principal of unsigned requests (SubscribeURL clicks):
// the default account's root, without an access key.
func (d *Directory) Anonymous() Principal {
	return rootOf(d.defaultAccount)
}

// DefaultAccount is the first account of the file (DefaultAccount without
// one).
func (d *Directory) DefaultAccount() string { return d.defaultAccount }

// Stats counts the accounts, users, access keys and policies of d.
func (d *Directory) Stats() Stats { return d.stats }
