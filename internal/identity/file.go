package identity

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
)

var (
	accountRE  = regexp.MustCompile(`^[0-9]{12}$`)
	userNameRE = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)
)

// Load reads a credentials file; "" means Default().
func Load(path string) (*Directory, error) {
	return LoadWith(path, Options{})
}

// LoadWith reads a credentials file with options; "" means Default().
func LoadWith(path string, opts Options) (*Directory, error) {
	if path == "" {
		return Default(), nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("identity: %w", err)
	}
	d, err := parse(b, opts)
	if err != nil {
		return nil, fmt.Errorf("identity: %s: %w", path, err)
	}
	return d, nil
}

// Parse reads a credentials file's contents (see the package doc).
func Parse(data []byte, opts Options) (*Directory, error) {
	d, err := parse(data, opts)
	if err != nil {
		return nil, fmt.Errorf("identity: %w", err)
	}
	return d, nil
}

func parse(data []byte, opts Options) (*Directory, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")) // a UTF-8 BOM some editors write
	var top json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return nil, syntaxErr(data, err)
	}
	var accountsRaw json.RawMessage
	if err := object(top, "", map[string]*json.RawMessage{"accounts": &accountsRaw}); err != nil {
		return nil, err
	}
	accounts, err := list(accountsRaw, "accounts")
	if err != nil {
		return nil, err
	}
	if len(accounts) == 0 {
		return nil, errors.New("no accounts")
	}
	d := &Directory{keys: map[string]key{}}
	seenAccount := map[string]int{}
	for ai, araw := range accounts {
		where := fmt.Sprintf("accounts[%d]", ai)
		var idRaw, usersRaw json.RawMessage
		if err := object(araw, where, map[string]*json.RawMessage{"id": &idRaw, "users": &usersRaw}); err != nil {
			return nil, err
		}
		id, err := str(idRaw, where+".id")
		if err != nil {
			return nil, err
		}
		if !accountRE.MatchString(id) {
			return nil, fmt.Errorf("%s.id: %q is not 12 digits", where, clip(id))
		}
		if prev, dup := seenAccount[id]; dup {
			return nil, fmt.Errorf("%s.id: account %s is already accounts[%d]", where, id, prev)
		}
		seenAccount[id] = ai
		if d.defaultAccount == "" {
			d.defaultAccount = id
		}
		d.stats.Accounts++
		if err := d.addUsers(id, usersRaw, where, opts); err != nil {
			return nil, err
		}
	}
	return d, nil
}

func (d *Directory) addUsers(account string, usersRaw json.RawMessage, where string, opts Options) error {
	users, err := list(usersRaw, where+".users")
	if err != nil {
		return err
	}
	seenUser := map[string]int{} // lower-cased name → index
	for ui, uraw := range users {
		where := fmt.Sprintf("%s.users[%d]", where, ui)
		var nameRaw, keysRaw, policyRaw json.RawMessage
		if err := object(uraw, where, map[string]*json.RawMessage{
			"name": &nameRaw, "accessKeys": &keysRaw, "policy": &policyRaw}); err != nil {
			return err
		}
		name, err := str(nameRaw, where+".name")
		if err != nil {
			return err
		}
		p := rootOf(account)
		if name != "" && name != "root" {
			if !userNameRE.MatchString(name) {
				return fmt.Errorf("%s.name: %q is not an IAM user name (1 to 64 of A-Z a-z 0-9 _ + = , . @ -)", where, clip(name))
			}
			lower := strings.ToLower(name)
			if prev, dup := seenUser[lower]; dup {
				return fmt.Errorf("%s.name: user %q is already users[%d] of this account (IAM user names ignore case)", where, name, prev)
			}
			seenUser[lower] = ui
			p = userOf(account, name)
			d.stats.Users++
		}
		if policyRaw != nil {
			if p.UserName == "" {
				return fmt.Errorf("%s.policy: the account root has no identity policy (it may do everything in its account); give the policy to a named user", where)
			}
			if p.Policy, err = compilePolicy(policyRaw, where+".policy", opts); err != nil {
				return err
			}
			d.stats.Policies++
		}
		keys, err := list(keysRaw, where+".accessKeys")
		if err != nil {
			return err
		}
		for ki, kraw := range keys {
			where := fmt.Sprintf("%s.accessKeys[%d]", where, ki)
			var idRaw, secretRaw json.RawMessage
			if err := object(kraw, where, map[string]*json.RawMessage{"id": &idRaw, "secret": &secretRaw}); err != nil {
				return err
			}
			id, err := str(idRaw, where+".id")
			if err != nil {
				return err
			}
			if !validKeyID(id) {
				return fmt.Errorf("%s.id: %q is not an access key id (1 to 128 printable ASCII characters without space, '/' or ',')", where, clip(id))
			}
			secret, err := str(secretRaw, where+".secret")
			if err != nil {
				return err
			}
			if secret == "" {
				return fmt.Errorf("%s.secret: empty secret", where)
			}
			if _, dup := d.keys[id]; dup {
				return fmt.Errorf("%s.id: duplicate access key %q", where, id)
			}
			kp := p
			kp.AccessKeyID = id
			d.keys[id] = key{secret: secret, principal: kp}
			d.stats.AccessKeys++
		}
	}
	return nil
}

func compilePolicy(raw json.RawMessage, where string, opts Options) (*UserPolicy, error) {
	if len(raw) == 0 || raw[0] != '{' {
		return nil, fmt.Errorf("%s: must be a JSON object (a policy document)", where)
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil { // raw is valid JSON already
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	up := &UserPolicy{JSON: json.RawMessage(buf.Bytes())}
	if opts.CompilePolicy != nil {
		c, err := opts.CompilePolicy(bytes.Clone(up.JSON))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		up.Compiled = c
	}
	return up, nil
}

func validKeyID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if c <= ' ' || c > '~' || c == '/' || c == ',' {
			return false
		}
	}
	return true
}

// object decodes the JSON object raw (already known to be valid JSON) into
// fields, refusing anything but an object, unknown names and repeated
// names. A field that is absent (or null) leaves its RawMessage nil.
func object(raw json.RawMessage, where string, fields map[string]*json.RawMessage) error {
	at := where
	if at == "" {
		at = "top level"
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	tok, err := dec.Token()
	if err != nil {
		return fmt.Errorf("%s: %w", at, err)
	}
	if tok != json.Delim('{') {
		return fmt.Errorf("%s: must be a JSON object", at)
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return fmt.Errorf("%s: %w", at, err)
		}
		name, _ := tok.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return fmt.Errorf("%s: %w", at, err)
		}
		dst, known := fields[name]
		if !known {
			return fmt.Errorf("%s: unknown field %q (expected %s)", at, clip(name), fieldNames(fields))
		}
		if seen[name] {
			return fmt.Errorf("%s: field %q appears twice", at, name)
		}
		seen[name] = true
		if !bytes.Equal(v, []byte("null")) {
			*dst = v
		}
	}
	return nil
}

func fieldNames(fields map[string]*json.RawMessage) string {
	// Fixed, readable order: the tables are tiny.
	order := []string{"accounts", "id", "name", "users", "accessKeys", "secret", "policy"}
	var names []string
	for _, n := range order {
		if _, ok := fields[n]; ok {
			names = append(names, `"`+n+`"`)
		}
	}
	return strings.Join(names, ", ")
}

// list decodes a JSON array; absent or null is an empty list.
func list(raw json.RawMessage, where string) ([]json.RawMessage, error) {
	if raw == nil {
		return nil, nil
	}
	if raw[0] != '[' {
		return nil, fmt.Errorf("%s: must be a JSON list", where)
	}
	var l []json.RawMessage
	if err := json.Unmarshal(raw, &l); err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	return l, nil
}

// str decodes a JSON string; absent or null is "".
func str(raw json.RawMessage, where string) (string, error) {
	if raw == nil {
		return "", nil
	}
	if raw[0] != '"' {
		return "", fmt.Errorf("%s: must be a JSON string", where)
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", fmt.Errorf("%s: %w", where, err)
	}
	return s, nil
}

// syntaxErr reports where the JSON stops being valid as line:column.
func syntaxErr(data []byte, err error) error {
	var se *json.SyntaxError
	if !errors.As(err, &se) {
		return fmt.Errorf("not valid JSON: %w", err)
	}
	off := int(se.Offset) - 1 // Offset counts the bytes read, the bad one included
	off = max(0, min(off, len(data)))
	line := 1 + bytes.Count(data[:off], []byte("\n"))
	col := off - bytes.LastIndexByte(data[:off], '\n')
	return fmt.Errorf("not valid JSON at line %d, column %d: %s", line, col, unquoteChar(se.Error()))
}

// unquoteChar drops the character encoding/json quotes in "invalid
// character 'x' ...": it may be part of a secret.
func unquoteChar(msg string) string {
	const p = "invalid character '"
	if !strings.HasPrefix(msg, p) {
		return msg
	}
	rest := msg[len(p):]
	if i := strings.Index(rest, "' "); i >= 0 {
		return "invalid character " + rest[i+2:]
	}
	return "invalid character"
}

// clip bounds a user-supplied value quoted in an error.
func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}
