package snsapi

import (
	"encoding/base64"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/sealpost/sealpost/internal/sns"
)

// maxMembers caps list and map indexes so a hostile form cannot make us
// allocate huge tables.
const maxMembers = 1000

// form wraps the decoded parameters of one request.
type form struct{ v url.Values }

func (f form) get(name string) string { return f.v.Get(name) }

func (f form) has(name string) bool { _, ok := f.v[name]; return ok }

// indexes returns the sorted distinct N of keys "<prefix>N" or
// "<prefix>N.<rest>". It fails with an InvalidParameter naming the prefix if
// an index is not a positive integer or exceeds maxMembers.
func (f form) indexes(prefix string) ([]int, error) {
	seen := map[int]bool{}
	for k := range f.v {
		if !strings.HasPrefix(k, prefix) {
			continue
		}
		rest := k[len(prefix):]
		if i := strings.IndexByte(rest, '.'); i >= 0 {
			rest = rest[:i]
		}
		n, err := strconv.Atoi(rest)
		if err != nil || n < 1 || n > maxMembers {
			return nil, paramErr(strings.TrimSuffix(prefix, "."))
		}
		seen[n] = true
	}
	out := make([]int, 0, len(seen))
	for n := range seen {
		out = append(out, n)
	}
	sort.Ints(out)
	return out, nil
}

// list decodes "<name>.member.N".
func (f form) list(name string) ([]string, error) {
	prefix := name + ".member."
	idx, err := f.indexes(prefix)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(idx))
	for _, n := range idx {
		out = append(out, f.get(prefix+strconv.Itoa(n)))
	}
	return out, nil
}

// stringMap decodes "<name>.entry.N.key/value".
func (f form) stringMap(name string) (map[string]string, error) {
	prefix := name + ".entry."
	idx, err := f.indexes(prefix)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(idx))
	for _, n := range idx {
		p := prefix + strconv.Itoa(n) + "."
		k := f.get(p + "key")
		if k == "" {
			return nil, paramErr(name)
		}
		out[k] = f.get(p + "value")
	}
	return out, nil
}

// tags decodes "Tags.member.N.Key/Value".
func (f form) tags(name string) ([]sns.Tag, error) {
	prefix := name + ".member."
	idx, err := f.indexes(prefix)
	if err != nil {
		return nil, err
	}
	out := make([]sns.Tag, 0, len(idx))
	for _, n := range idx {
		p := prefix + strconv.Itoa(n) + "."
		out = append(out, sns.Tag{Key: f.get(p + "Key"), Value: f.get(p + "Value")})
	}
	return out, nil
}

// messageAttributes decodes "<prefix>MessageAttributes.entry.N.Name/Value.*".
func (f form) messageAttributes(prefix string) (map[string]sns.MessageAttribute, error) {
	name := prefix + "MessageAttributes"
	ep := name + ".entry."
	idx, err := f.indexes(ep)
	if err != nil {
		return nil, err
	}
	if len(idx) == 0 {
		return nil, nil
	}
	out := make(map[string]sns.MessageAttribute, len(idx))
	for _, n := range idx {
		p := ep + strconv.Itoa(n) + "."
		k := f.get(p + "Name")
		if k == "" {
			return nil, valueErr("The message attribute name must not be empty.")
		}
		if _, dup := out[k]; dup {
			return nil, valueErr("Message attribute name '" + sns.Clip(k, 64) + "' is duplicated.")
		}
		a := sns.MessageAttribute{DataType: f.get(p + "Value.DataType"), StringValue: f.get(p + "Value.StringValue")}
		if b := f.get(p + "Value.BinaryValue"); b != "" {
			raw, err := base64.StdEncoding.DecodeString(b)
			if err != nil {
				return nil, valueErr("The message attribute '" + sns.Clip(k, 64) + "' has an invalid base64 BinaryValue.")
			}
			a.BinaryValue = raw
		}
		out[k] = a
	}
	return out, nil
}

func (f form) boolean(name string) (bool, error) {
	switch strings.ToLower(f.get(name)) {
	case "", "false":
		return false, nil
	case "true":
		return true, nil
	}
	return false, paramErr(name)
}

func paramErr(name string) error {
	return &sns.Error{Kind: sns.ErrInvalidParameter, Message: "Invalid parameter: " + name}
}

func valueErr(msg string) error {
	return &sns.Error{Kind: sns.ErrInvalidParameterValue, Message: msg}
}
