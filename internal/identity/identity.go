// Package identity maps access keys to accounts and principals.
//
// The credentials file is JSON:
//
//	{"accounts": [{"id": "000000000000", "users": [
//	    {"name": "alice", "accessKeys": [{"id": "AKIA...", "secret": "..."}]}]}]}
//
// A user named "root" (or an access key without a user) acts as the account
// root principal arn:aws:iam::<account>:root; other users are
// arn:aws:iam::<account>:user/<name>. With no file, access key "test" with
// secret "test" maps to the root of the default account.
//
// A Directory is immutable and safe for concurrent use.
package identity

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
)

// DefaultAccount is the account used when nothing else is configured.
const DefaultAccount = "000000000000"

// Principal is an authenticated caller.
type Principal struct {
	Account     string
	ARN         string
	AccessKeyID string
}

type key struct {
	secret    string
	principal Principal
}

// Directory resolves access keys.
type Directory struct {
	keys           map[string]key
	defaultAccount string
}

type fileFormat struct {
	Accounts []struct {
		ID    string `json:"id"`
		Users []struct {
			Name       string `json:"name"`
			AccessKeys []struct {
				ID     string `json:"id"`
				Secret string `json:"secret"`
			} `json:"accessKeys"`
		} `json:"users"`
	} `json:"accounts"`
}

var accountRE = regexp.MustCompile(`^[0-9]{12}$`)

// Default returns the directory with the single test/test key.
func Default() *Directory {
	d := &Directory{keys: map[string]key{}, defaultAccount: DefaultAccount}
	d.keys["test"] = key{secret: "test", principal: rootOf(DefaultAccount, "test")}
	return d
}

func rootOf(account, akid string) Principal {
	return Principal{Account: account, ARN: "arn:aws:iam::" + account + ":root", AccessKeyID: akid}
}

// Load reads a credentials file; "" means Default().
func Load(path string) (*Directory, error) {
	if path == "" {
		return Default(), nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("identity: %w", err)
	}
	var f fileFormat
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("identity: %s: %w", path, err)
	}
	d := &Directory{keys: map[string]key{}}
	for _, a := range f.Accounts {
		if !accountRE.MatchString(a.ID) {
			return nil, fmt.Errorf("identity: %s: account id %q is not 12 digits", path, a.ID)
		}
		if d.defaultAccount == "" {
			d.defaultAccount = a.ID
		}
		for _, u := range a.Users {
			for _, k := range u.AccessKeys {
				if k.ID == "" || k.Secret == "" {
					return nil, fmt.Errorf("identity: %s: empty access key id or secret", path)
				}
				if _, dup := d.keys[k.ID]; dup {
					return nil, fmt.Errorf("identity: %s: duplicate access key %q", path, k.ID)
				}
				p := rootOf(a.ID, k.ID)
				if u.Name != "" && u.Name != "root" {
					p.ARN = "arn:aws:iam::" + a.ID + ":user/" + u.Name
				}
				d.keys[k.ID] = key{secret: k.Secret, principal: p}
			}
		}
	}
	if d.defaultAccount == "" {
		return nil, fmt.Errorf("identity: %s: no accounts", path)
	}
	return d, nil
}

// Lookup returns the principal and secret of an access key.
func (d *Directory) Lookup(accessKeyID string) (Principal, string, bool) {
	k, ok := d.keys[accessKeyID]
	return k.principal, k.secret, ok
}

// Anonymous is the principal of unsigned requests (SubscribeURL clicks):
// the default account's root, without an access key.
func (d *Directory) Anonymous() Principal {
	return Principal{Account: d.defaultAccount, ARN: "arn:aws:iam::" + d.defaultAccount + ":root"}
}
