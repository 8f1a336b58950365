package identity

import (
	"encoding/json"
	"strings"
	"testing"
)

// FuzzLoad: the credentials file parser never panics, and a file it accepts
// gives a directory whose every key answers consistently.
func FuzzLoad(f *testing.F) {
	for _, seed := range []string{
		fileA, fileB,
		`{"accounts":[{"id":"111122223333","users":[{"name":"root","accessKeys":[{"id":"AKROOT","secret":"s1"}]},
		 {"name":"alice","policy":{"Version":"2012-10-17","Statement":[]},"accessKeys":[{"id":"AKALICE","secret":"s2"}]}]},
		 {"id":"444455556666","users":[{"name":"bob","accessKeys":[{"id":"AKBOB","secret":"s3"}]}]}]}`,
		`{"accounts":[{"id":"111122223333","users":[{"accessKeys":[{"id":"a","secret":"x"},{"id":"a","secret":"y"}]}]}]}`,
		`{"accounts":[{"id":"111122223333","users":[{"name":"A","policy":null},{"name":"a"}]}]}`,
		`{"accounts":[{"id":"111122223333","id":"1"}]}`,
		"\xef\xbb\xbf{\"accounts\":[{\"id\":\"000000000000\"}]}",
		`{"accounts":[{"id":"111122223333","users":[{"name":"x","polcy":{}}]}]}`,
		`[1,2,{"a":"b"}]`, `null`, `"x"`, `{"accounts":null}`, `{`,
	} {
		f.Add([]byte(seed))
	}
	compile := func(raw []byte) (any, error) {
		if !json.Valid(raw) || raw[0] != '{' {
			panic("CompilePolicy got something that is not a JSON object: " + string(raw))
		}
		return string(raw), nil
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := Parse(data, Options{CompilePolicy: compile})
		if err != nil {
			if d != nil {
				t.Fatal("directory and error")
			}
			if !strings.HasPrefix(err.Error(), "identity: ") {
				t.Fatalf("error without prefix: %v", err)
			}
			return
		}
		if !accountRE.MatchString(d.defaultAccount) || d.Anonymous().Account != d.defaultAccount {
			t.Fatalf("default account %q", d.defaultAccount)
		}
		st := d.Stats()
		if st.AccessKeys != len(d.keys) || st.Accounts < 1 {
			t.Fatalf("stats %+v with %d keys", st, len(d.keys))
		}
		for id := range d.keys {
			p, secret, ok := d.Lookup(id)
			if !ok || secret == "" || p.AccessKeyID != id || !validKeyID(id) || !accountRE.MatchString(p.Account) {
				t.Fatalf("key %q: %+v ok=%v", id, p, ok)
			}
			switch {
			case p.UserName == "":
				if p != (Principal{Account: p.Account, ARN: "arn:aws:iam::" + p.Account + ":root", AccessKeyID: id, UserID: p.Account}) {
					t.Fatalf("root %+v", p)
				}
			default:
				if !userNameRE.MatchString(p.UserName) || p.UserName == "root" ||
					p.ARN != "arn:aws:iam::"+p.Account+":user/"+p.UserName || p.UserID != UserIDOf(p.ARN) {
					t.Fatalf("user %+v", p)
				}
				if p.Policy != nil && (p.Policy.Compiled != string(p.Policy.JSON) || !json.Valid(p.Policy.JSON)) {
					t.Fatalf("policy %+v", p.Policy)
				}
			}
		}
		// Parsing is deterministic.
		d2, err := Parse(data, Options{})
		if err != nil || len(d2.keys) != len(d.keys) {
			t.Fatalf("second parse: %v", err)
		}
	})
}
