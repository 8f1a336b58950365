package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"unicode/utf8"
)

// This file reads a policy document into a small tree. It is strict where
// encoding/json is lenient: duplicate member names are refused (two Effects
// in one statement must not mean whichever a parser keeps last), invalid
// UTF-8 is refused instead of replaced, nesting is bounded before any
// decoding happens, and nothing may follow the top-level value.

// maxDepth bounds nesting. The deepest legal policy is
// document → Statement list → statement → Condition → operator → value list
// (under a key): 6 levels.
const maxDepth = 6

type jkind uint8

const (
	jNull jkind = iota
	jBool
	jNumber
	jString
	jArray
	jObject
)

func (k jkind) String() string {
	switch k {
	case jNull:
		return "null"
	case jBool:
		return "a boolean"
	case jNumber:
		return "a number"
	case jString:
		return "a string"
	case jArray:
		return "a list"
	}
	return "an object"
}

type jmember struct {
	name string
	val  *jval
}

type jval struct {
	kind jkind
	str  string // string text, number literal, "true"/"false"
	arr  []*jval
	obj  []jmember
}

// member returns the value of the named member and whether it is present.
func (v *jval) member(name string) (*jval, bool) {
	for _, m := range v.obj {
		if m.name == name {
			return m.val, true
		}
	}
	return nil, false
}

// checkDepth scans raw JSON text and reports whether its nesting stays within
// max. It runs before decoding so that a deeply nested document costs one
// linear pass and no allocation.
func checkDepth(doc []byte, max int) bool {
	depth, inStr, esc := 0, false, false
	for _, c := range doc {
		if inStr {
			switch {
			case esc:
				esc = false
			case c == '\\':
				esc = true
			case c == '"':
				inStr = false
			}
			continue
		}
		switch c {
		case '"':
			inStr = true
		case '{', '[':
			depth++
			if depth > max {
				return false
			}
		case '}', ']':
			depth--
		}
	}
	return true
}

// decodeJSON reads doc as exactly one JSON value.
func decodeJSON(doc []byte) (*jval, string) {
	if !utf8.Valid(doc) {
		return nil, "the policy is not valid UTF-8"
	}
	if !checkDepth(doc, maxDepth) {
		return nil, "the policy is nested too deeply"
	}
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	v, msg := readValue(dec, nil)
	if msg != "" {
		return nil, msg
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, "the policy is not valid JSON: unexpected data after the top-level value"
	}
	return v, ""
}

func syntaxMsg(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return "the policy is not valid JSON: " + se.Error()
	}
	if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
		return "the policy is not valid JSON: unexpected end of input"
	}
	return "the policy is not valid JSON: " + err.Error()
}

// readValue reads one value. tok, when non-nil, is its first token, already
// read. Depth is bounded by checkDepth, so the recursion is too.
func readValue(dec *json.Decoder, tok json.Token) (*jval, string) {
	if tok == nil {
		t, err := dec.Token()
		if err != nil {
			return nil, syntaxMsg(err)
		}
		tok = t
	}
	switch t := tok.(type) {
	case nil:
		return &jval{kind: jNull}, ""
	case bool:
		if t {
			return &jval{kind: jBool, str: "true"}, ""
		}
		return &jval{kind: jBool, str: "false"}, ""
	case json.Number:
		return &jval{kind: jNumber, str: string(t)}, ""
	case string:
		return &jval{kind: jString, str: t}, ""
	case json.Delim:
		switch t {
		case '[':
			v := &jval{kind: jArray}
			for {
				t, err := dec.Token()
				if err != nil {
					return nil, syntaxMsg(err)
				}
				if d, ok := t.(json.Delim); ok && d == ']' {
					return v, ""
				}
				e, msg := readValue(dec, t)
				if msg != "" {
					return nil, msg
				}
				v.arr = append(v.arr, e)
			}
		case '{':
			v := &jval{kind: jObject}
			var seen map[string]struct{} // only for large objects
			for {
				t, err := dec.Token()
				if err != nil {
					return nil, syntaxMsg(err)
				}
				if d, ok := t.(json.Delim); ok && d == '}' {
					return v, ""
				}
				name, ok := t.(string)
				if !ok {
					return nil, "the policy is not valid JSON"
				}
				dup := false
				if seen != nil {
					_, dup = seen[name]
				} else {
					_, dup = v.member(name)
				}
				if dup {
					return nil, "duplicate member " + quote(name)
				}
				if seen == nil && len(v.obj) >= 16 {
					seen = make(map[string]struct{}, 32)
					for _, m := range v.obj {
						seen[m.name] = struct{}{}
					}
				}
				if seen != nil {
					seen[name] = struct{}{}
				}
				e, msg := readValue(dec, nil)
				if msg != "" {
					return nil, msg
				}
				v.obj = append(v.obj, jmember{name: name, val: e})
			}
		}
	}
	return nil, "the policy is not valid JSON"
}
