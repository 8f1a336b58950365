package policy

import (
	"bytes"
	"encoding/json"
)

// Editing documents: AddPermission/RemovePermission-style changes to a
// stored policy. Both functions accept a Statement written as one object or
// as a list, always write a list, keep every other statement's text as it
// was (compacted), and write the members in the order Version, Id,
// Statement.

// docParts is a valid document split into its members.
type docParts struct {
	version, id       string
	hasVersion, hasID bool
	stmts             []json.RawMessage
}

func splitDoc(doc []byte, o Options) (*docParts, error) {
	if _, err := ParseWith(doc, o); err != nil {
		return nil, err
	}
	var raw struct {
		Version   *string
		Id        *string
		Statement json.RawMessage
	}
	if err := json.Unmarshal(doc, &raw); err != nil {
		return nil, docErr("the policy is not valid JSON: " + err.Error())
	}
	d := &docParts{}
	if raw.Version != nil {
		d.version, d.hasVersion = *raw.Version, true
	}
	if raw.Id != nil {
		d.id, d.hasID = *raw.Id, true
	}
	s := bytes.TrimSpace(raw.Statement)
	if len(s) > 0 && s[0] == '{' {
		d.stmts = []json.RawMessage{s}
	} else if err := json.Unmarshal(s, &d.stmts); err != nil {
		return nil, docErr("the policy is not valid JSON: " + err.Error())
	}
	return d, nil
}

func (d *docParts) encode() []byte {
	var b bytes.Buffer
	str := func(s string) {
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		_ = enc.Encode(s) // a string always encodes
		b.Truncate(b.Len() - 1)
	}
	b.WriteByte('{')
	if d.hasVersion {
		b.WriteString(`"Version":`)
		str(d.version)
		b.WriteByte(',')
	}
	if d.hasID {
		b.WriteString(`"Id":`)
		str(d.id)
		b.WriteByte(',')
	}
	b.WriteString(`"Statement":[`)
	for i, s := range d.stmts {
		if i > 0 {
			b.WriteByte(',')
		}
		_ = json.Compact(&b, s) // valid: it came from a parsed document
	}
	b.WriteString("]}")
	return b.Bytes()
}

// AddStatement returns doc with stmt, one statement object, appended. The
// result must parse with o (so a Sid already in use, or a statement the
// policy kind refuses, is an error naming the new statement); doc must
// parse with o too.
func AddStatement(doc, stmt []byte, o Options) ([]byte, error) {
	d, err := splitDoc(doc, o)
	if err != nil {
		return nil, err
	}
	s := bytes.TrimSpace(stmt)
	if len(s) == 0 || s[0] != '{' || !json.Valid(s) {
		return nil, &Error{Statement: len(d.stmts), Problem: "a statement must be a JSON object"}
	}
	d.stmts = append(d.stmts, s)
	out := d.encode()
	if _, err := ParseWith(out, o); err != nil {
		return nil, err
	}
	return out, nil
}

// RemoveStatement returns doc without the statements whose Sid is sid, how
// many it removed, and how many remain. When none remains the result has an
// empty Statement list, which Parse refuses: the caller then holds no
// policy (and may store "no policy" or a default in its place).
func RemoveStatement(doc []byte, sid string, o Options) (out []byte, removed, remaining int, err error) {
	d, err := splitDoc(doc, o)
	if err != nil {
		return nil, 0, 0, err
	}
	kept := d.stmts[:0]
	for _, s := range d.stmts {
		var hdr struct{ Sid *string }
		if err := json.Unmarshal(s, &hdr); err != nil {
			return nil, 0, 0, docErr("the policy is not valid JSON: " + err.Error())
		}
		if hdr.Sid != nil && *hdr.Sid == sid {
			removed++
			continue
		}
		kept = append(kept, s)
	}
	d.stmts = kept
	if removed == 0 {
		return doc, 0, len(kept), nil
	}
	return d.encode(), removed, len(kept), nil
}

// GrantStatement is the statement AddPermission writes in SNS and SQS:
// Sid, Effect Allow, Principal {"AWS": principals}, Action, Resource, in
// AWS's member order, a single principal or action as a string and several
// as a list, as AWS writes them.
func GrantStatement(sid string, principals, actions []string, resource string) ([]byte, error) {
	return json.Marshal(grantStatement{
		Sid: sid, Effect: "Allow", Principal: grantPrincipal{AWS: oneOrMany(principals)},
		Action: oneOrMany(actions), Resource: resource,
	})
}

type grantStatement struct {
	Sid       string         `json:"Sid"`
	Effect    string         `json:"Effect"`
	Principal grantPrincipal `json:"Principal"`
	Action    any            `json:"Action"`
	Resource  string         `json:"Resource"`
}

type grantPrincipal struct {
	AWS any `json:"AWS"`
}

func oneOrMany(v []string) any {
	if len(v) == 1 {
		return v[0]
	}
	return v
}
