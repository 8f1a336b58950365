package identity

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDefault(t *testing.T) {
	d := Default()
	p, secret, ok := d.Lookup("test")
	want := Principal{Account: DefaultAccount, ARN: "arn:aws:iam::000000000000:root", AccessKeyID: "test", UserID: DefaultAccount}
	if !ok || secret != "test" || p != want {
		t.Fatalf("%+v %q %v", p, secret, ok)
	}
	if _, _, ok := d.Lookup("nobody"); ok {
		t.Fatal("unknown key found")
	}
	if d.Anonymous() != (Principal{Account: DefaultAccount, ARN: "arn:aws:iam::000000000000:root", UserID: DefaultAccount}) {
		t.Fatalf("anonymous %+v", d.Anonymous())
	}
}

func writeFile(t testing.TB, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestLoad(t *testing.T) {
	path := filepath.Join(t.TempDir(), "creds.json")
	writeFile(t, path, `{"accounts":[{"id":"111122223333","users":[
		{"name":"root","accessKeys":[{"id":"AKROOT","secret":"s1"}]},
		{"name":"alice","accessKeys":[{"id":"AKALICE","secret":"s2"}]}]},
		{"id":"444455556666","users":[{"name":"bob","accessKeys":[{"id":"AKBOB","secret":"s3"}]}]}]}`)
	d, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if p, s, ok := d.Lookup("AKALICE"); !ok || s != "s2" || p.ARN != "arn:aws:iam::111122223333:user/alice" ||
		p.UserName != "alice" || p.Policy != nil {
		t.Fatalf("alice %+v", p)
	}
	if p, _, _ := d.Lookup("AKROOT"); p.ARN != "arn:aws:iam::111122223333:root" || p.UserName != "" || p.UserID != "111122223333" {
		t.Fatalf("root %+v", p)
	}
	if p, _, _ := d.Lookup("AKBOB"); p.Account != "444455556666" {
		t.Fatalf("bob %+v", p)
	}
	if d.Anonymous().Account != "111122223333" || d.DefaultAccount() != "111122223333" {
		t.Fatal("default account is the first one")
	}
	if got := d.Stats(); got != (Stats{Accounts: 2, Users: 2, AccessKeys: 3}) {
		t.Fatalf("stats %+v", got)
	}
	_, err = Load(filepath.Join(t.TempDir(), "missing.json"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

// TestParseValid: files that load, with what each key resolves to.
func TestParseValid(t *testing.T) {
	const pol = `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"sns:Publish","Resource":"*"}}`
	tests := []struct {
		name, file string
		key        string
		want       Principal // Policy compared separately
		policy     string    // compacted JSON, "" for none
	}{
		{"old format unchanged", `{"accounts":[{"id":"111122223333","users":[{"name":"alice","accessKeys":[{"id":"AK1","secret":"x"}]}]}]}`,
			"AK1", Principal{Account: "111122223333", ARN: "arn:aws:iam::111122223333:user/alice", AccessKeyID: "AK1",
				UserName: "alice", UserID: UserIDOf("arn:aws:iam::111122223333:user/alice")}, ""},
		{"user without name is root", `{"accounts":[{"id":"111122223333","users":[{"accessKeys":[{"id":"AK1","secret":"x"}]}]}]}`,
			"AK1", Principal{Account: "111122223333", ARN: "arn:aws:iam::111122223333:root", AccessKeyID: "AK1", UserID: "111122223333"}, ""},
		{"policy kept compact", `{"accounts":[{"id":"111122223333","users":[{"name":"pub","policy":` + "\n  " +
			strings.ReplaceAll(pol, ",", ",\n   ") + `,"accessKeys":[{"id":"AK1","secret":"x"}]}]}]}`,
			"AK1", Principal{Account: "111122223333", ARN: "arn:aws:iam::111122223333:user/pub", AccessKeyID: "AK1",
				UserName: "pub", UserID: UserIDOf("arn:aws:iam::111122223333:user/pub")}, pol},
		{"IAM name characters", `{"accounts":[{"id":"111122223333","users":[{"name":"a_b+c=d,e.f@g-h","accessKeys":[{"id":"AK1","secret":"x"}]}]}]}`,
			"AK1", Principal{Account: "111122223333", ARN: "arn:aws:iam::111122223333:user/a_b+c=d,e.f@g-h", AccessKeyID: "AK1",
				UserName: "a_b+c=d,e.f@g-h", UserID: UserIDOf("arn:aws:iam::111122223333:user/a_b+c=d,e.f@g-h")}, ""},
		{"nulls are absent", `{"accounts":[{"id":"111122223333","users":null},{"id":"444455556666","users":[{"name":null,"accessKeys":[{"id":"AK1","secret":"x"}]}]}]}`,
			"AK1", Principal{Account: "444455556666", ARN: "arn:aws:iam::444455556666:root", AccessKeyID: "AK1", UserID: "444455556666"}, ""},
		{"two root entries", `{"accounts":[{"id":"111122223333","users":[{"name":"root","accessKeys":[{"id":"AK0","secret":"x"}]},{"accessKeys":[{"id":"AK1","secret":"y"}]}]}]}`,
			"AK1", Principal{Account: "111122223333", ARN: "arn:aws:iam::111122223333:root", AccessKeyID: "AK1", UserID: "111122223333"}, ""},
		{"byte order mark", "\xef\xbb\xbf" + `{"accounts":[{"id":"111122223333","users":[{"accessKeys":[{"id":"AK1","secret":"x"}]}]}]}`,
			"AK1", Principal{Account: "111122223333", ARN: "arn:aws:iam::111122223333:root", AccessKeyID: "AK1", UserID: "111122223333"}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var compiled []string
			d, err := Parse([]byte(tc.file), Options{CompilePolicy: func(raw []byte) (any, error) {
				compiled = append(compiled, string(raw))
				return "compiled:" + string(raw), nil
			}})
			if err != nil {
				t.Fatal(err)
			}
			p, _, ok := d.Lookup(tc.key)
			if !ok {
				t.Fatal("key not found")
			}
			pp := p.Policy
			p.Policy = nil
			if p != tc.want {
				t.Fatalf("got  %+v\nwant %+v", p, tc.want)
			}
			switch {
			case tc.policy == "" && pp != nil:
				t.Fatalf("unexpected policy %s", pp.JSON)
			case tc.policy != "" && (pp == nil || string(pp.JSON) != tc.policy || pp.Compiled != "compiled:"+tc.policy):
				t.Fatalf("policy %+v", pp)
			case tc.policy != "" && (len(compiled) != 1 || compiled[0] != tc.policy):
				t.Fatalf("compile calls %q", compiled)
			}
		})
	}
}

// TestParseInvalid: each bad file is refused with a message naming the place.
func TestParseInvalid(t *testing.T) {
	acct := func(users string) string { return `{"accounts":[{"id":"111122223333","users":[` + users + `]}]}` }
	tests := []struct{ name, file, want string }{
		{"empty", ``, "not valid JSON"},
		{"syntax", "{\"accounts\":\n [}", "line 2, column 3"},
		{"trailing data", `{"accounts":[]} {}`, "not valid JSON"},
		{"not an object", `[]`, "top level: must be a JSON object"},
		{"no accounts", `{"accounts":[]}`, "no accounts"},
		{"accounts absent", `{}`, "no accounts"},
		{"accounts not a list", `{"accounts":{}}`, "accounts: must be a JSON list"},
		{"unknown top field", `{"accounts":[],"acounts":[]}`, `top level: unknown field "acounts"`},
		{"account not object", `{"accounts":["111122223333"]}`, "accounts[0]: must be a JSON object"},
		{"short account id", `{"accounts":[{"id":"12"}]}`, `accounts[0].id: "12" is not 12 digits`},
		{"account id number", `{"accounts":[{"id":111122223333}]}`, `accounts[0].id: must be a JSON string`},
		{"account id letters", `{"accounts":[{"id":"11112222333a"}]}`, `not 12 digits`},
		{"account id missing", `{"accounts":[{"users":[]}]}`, `accounts[0].id: "" is not 12 digits`},
		{"duplicate account", `{"accounts":[{"id":"111122223333"},{"id":"111122223333"}]}`, "accounts[1].id: account 111122223333 is already accounts[0]"},
		{"unknown account field", `{"accounts":[{"id":"111122223333","user":[]}]}`, `accounts[0]: unknown field "user"`},
		{"case-sensitive field", `{"accounts":[{"ID":"111122223333"}]}`, `accounts[0]: unknown field "ID"`},
		{"repeated field", `{"accounts":[{"id":"111122223333","id":"444455556666"}]}`, `accounts[0]: field "id" appears twice`},
		{"unknown user field", acct(`{"name":"a"},{"name":"b","polcy":{}}`), `accounts[0].users[1]: unknown field "polcy"`},
		{"bad user name", acct(`{"name":"a b","accessKeys":[]}`), `accounts[0].users[0].name: "a b" is not an IAM user name`},
		{"long user name", acct(`{"name":"` + strings.Repeat("a", 65) + `"}`), `accounts[0].users[0].name`},
		{"slash in user name", acct(`{"name":"a/b"}`), `is not an IAM user name`},
		{"duplicate user ignoring case", acct(`{"name":"Alice"},{"name":"alice"}`), `accounts[0].users[1].name: user "alice" is already users[0]`},
		{"policy on root", acct(`{"name":"root","policy":{}}`), `accounts[0].users[0].policy: the account root has no identity policy`},
		{"policy on nameless", acct(`{"policy":{}}`), `accounts[0].users[0].policy: the account root`},
		{"policy a string", acct(`{"name":"a","policy":"{}"}`), `accounts[0].users[0].policy: must be a JSON object`},
		{"policy null", acct(`{"name":"a","policy":null}`), ``}, // null = absent: valid, checked below
		{"policy rejected by compiler", acct(`{"name":"a","policy":{"Statement":null}}`), `accounts[0].users[0].policy: bad policy`},
		{"keys not list", acct(`{"name":"a","accessKeys":{}}`), `accounts[0].users[0].accessKeys: must be a JSON list`},
		{"unknown key field", acct(`{"name":"a","accessKeys":[{"id":"A","secret":"s","Secret":"t"}]}`), `accounts[0].users[0].accessKeys[0]: unknown field "Secret"`},
		{"empty secret", acct(`{"accessKeys":[{"id":"a","secret":""}]}`), `accounts[0].users[0].accessKeys[0].secret: empty secret`},
		{"missing secret", acct(`{"accessKeys":[{"id":"a"}]}`), `accounts[0].users[0].accessKeys[0].secret: empty secret`},
		{"empty key id", acct(`{"accessKeys":[{"id":"","secret":"x"}]}`), `accounts[0].users[0].accessKeys[0].id: "" is not an access key id`},
		{"slash in key id", acct(`{"accessKeys":[{"id":"AK/1","secret":"x"}]}`), `is not an access key id`},
		{"space in key id", acct(`{"accessKeys":[{"id":"AK 1","secret":"x"}]}`), `is not an access key id`},
		{"long key id", acct(`{"accessKeys":[{"id":"` + strings.Repeat("A", 129) + `","secret":"x"}]}`), `is not an access key id`},
		{"duplicate key same user", acct(`{"accessKeys":[{"id":"a","secret":"x"},{"id":"a","secret":"y"}]}`), `accounts[0].users[0].accessKeys[1].id: duplicate access key "a"`},
		{"duplicate key across accounts", `{"accounts":[{"id":"111122223333","users":[{"accessKeys":[{"id":"a","secret":"x"}]}]},
			{"id":"444455556666","users":[{"name":"b","accessKeys":[{"id":"a","secret":"y"}]}]}]}`, `accounts[1].users[0].accessKeys[0].id: duplicate access key "a"`},
	}
	compile := func(raw []byte) (any, error) {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(raw, &m); err != nil {
			return nil, err
		}
		if string(m["Statement"]) == "null" {
			return nil, errors.New("bad policy: Statement is null")
		}
		return m, nil
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := Parse([]byte(tc.file), Options{CompilePolicy: compile})
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil {
				t.Fatalf("accepted; stats %+v", d.Stats())
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q\nwant it to contain %q", err, tc.want)
			}
			if !strings.HasPrefix(err.Error(), "identity: ") {
				t.Fatalf("error %q lacks the package prefix", err)
			}
		})
	}
}

// TestErrorsHideSecrets: no error quotes any part of a secret, also for
// syntax errors inside the secret string.
func TestErrorsHideSecrets(t *testing.T) {
	for _, file := range []string{
		`{"accounts":[{"id":"111122223333","users":[{"accessKeys":[{"id":"a","secret":"Qz\Wsecret"}]}]}]}`,
		"{\"accounts\":[{\"id\":\"111122223333\",\"users\":[{\"accessKeys\":[{\"id\":\"a\",\"secret\":\"Qz\x01Wsecret\"}]}]}]}",
		`{"accounts":[{"id":"111122223333","users":[{"accessKeys":[{"id":"a","secret":"QzWsecret"},{"id":"a","secret":"QzWsecret"}]}]}]}`,
		`{"accounts":[{"id":"111122223333","users":[{"accessKeys":[{"id":"a","secret":"QzWsecret","x":1}]}]}]}`,
	} {
		_, err := Parse([]byte(file), Options{})
		if err == nil {
			t.Fatalf("accepted %s", file)
		}
		if strings.Contains(err.Error(), "W") || strings.Contains(err.Error(), "Qz") {
			t.Errorf("error quotes the secret: %v", err)
		}
	}
}

// TestLoadPath: errors from Load name the file.
func TestLoadPath(t *testing.T) {
	path := filepath.Join(t.TempDir(), "creds.json")
	writeFile(t, path, `{"accounts":[{"id":"1"}]}`)
	_, err := Load(path)
	if err == nil || !strings.Contains(err.Error(), path+": accounts[0].id") {
		t.Fatalf("%v", err)
	}
}

func TestUserIDOf(t *testing.T) {
	a := UserIDOf("arn:aws:iam::111122223333:user/alice")
	if len(a) != 21 || !strings.HasPrefix(a, "AIDA") || strings.Trim(a, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") != "" {
		t.Fatalf("%q", a)
	}
	if a != UserIDOf("arn:aws:iam::111122223333:user/alice") || a == UserIDOf("arn:aws:iam::111122223333:user/bob") ||
		a == UserIDOf("arn:aws:iam::444455556666:user/alice") {
		t.Fatal("not a stable per-ARN id")
	}
}
