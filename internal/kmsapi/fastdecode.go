package kmsapi

import (
	"encoding/base64"
	"strconv"
	"unicode/utf8"
)

// The fast path of decode. Almost every request of the data plane
// (GenerateDataKey, Decrypt, Encrypt from the SDKs) is a flat JSON object
// whose members are plain strings, base64 strings, small integers,
// booleans and an encryption context of plain strings. fastArgs reads such
// a body in one pass, without encoding/json's reflection and without the
// intermediate map of raw members, and gives up (ok false) at the first
// thing outside that subset: escapes, control characters, invalid UTF-8,
// arrays, nested objects other than a context, numbers that are not plain
// integers, a member given twice, a member of the wrong JSON type, bad
// base64, anything malformed. decode then reads the body the general way,
// so every answer (values, errors and their wording) is the general path's:
// the fast path only ever produces what the general path would.

// fastScanner walks a body.
type fastScanner struct {
	b []byte
	i int
}

func (s *fastScanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// peek returns the next byte after white space (0 at the end).
func (s *fastScanner) peek() byte {
	s.ws()
	if s.i >= len(s.b) {
		return 0
	}
	return s.b[s.i]
}

// str reads a string without escapes and returns its contents (a slice of
// the body).
func (s *fastScanner) str() ([]byte, bool) {
	if s.peek() != '"' {
		return nil, false
	}
	start := s.i + 1
	ascii := true
	for j := start; j < len(s.b); j++ {
		c := s.b[j]
		switch {
		case c == '"':
			v := s.b[start:j]
			if !ascii && !utf8.Valid(v) {
				return nil, false
			}
			s.i = j + 1
			return v, true
		case c == '\\' || c < 0x20:
			return nil, false
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return nil, false
}

// lit consumes the literal word if it comes next.
func (s *fastScanner) lit(word string) bool {
	if s.peek() != word[0] || len(s.b)-s.i < len(word) || string(s.b[s.i:s.i+len(word)]) != word {
		return false
	}
	end := s.i + len(word)
	if end < len(s.b) && isWordByte(s.b[end]) {
		return false
	}
	s.i = end
	return true
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '+' || c == '_'
}

// integer reads -?(0|[1-9][0-9]*) not followed by a fraction or exponent.
func (s *fastScanner) integer() ([]byte, bool) {
	s.ws()
	start, j := s.i, s.i
	if j < len(s.b) && s.b[j] == '-' {
		j++
	}
	d := j
	for j < len(s.b) && s.b[j] >= '0' && s.b[j] <= '9' {
		j++
	}
	if j == d || (s.b[d] == '0' && j-d > 1) {
		return nil, false
	}
	if j < len(s.b) && isWordByte(s.b[j]) {
		return nil, false
	}
	s.i = j
	return s.b[start:j], true
}

// strMap reads an object of string values.
func (s *fastScanner) strMap() (map[string]string, bool) {
	if s.peek() != '{' {
		return nil, false
	}
	s.i++
	m := map[string]string{}
	if s.peek() == '}' {
		s.i++
		return m, true
	}
	for {
		k, ok := s.str()
		if !ok || s.peek() != ':' {
			return nil, false
		}
		s.i++
		v, ok := s.str()
		if !ok {
			return nil, false
		}
		m[string(k)] = string(v)
		switch s.peek() {
		case ',':
			s.i++
		case '}':
			s.i++
			return m, true
		default:
			return nil, false
		}
	}
}

// skip reads a value of an unknown member: a string, a plain integer,
// true, false, null or an object of strings.
func (s *fastScanner) skip() bool {
	switch c := s.peek(); {
	case c == '"':
		_, ok := s.str()
		return ok
	case c == '{':
		_, ok := s.strMap()
		return ok
	case c == '-' || c >= '0' && c <= '9':
		_, ok := s.integer()
		return ok
	}
	return s.lit("true") || s.lit("false") || s.lit("null")
}

// fastArgs is the fast path of decode's first step (see above). On false
// it has wiped what it decoded.
func fastArgs(ms []member, body []byte) (args, bool) {
	s := fastScanner{b: body}
	if s.peek() != '{' {
		return nil, false
	}
	s.i++
	a := make(args, 4)
	fail := func() (args, bool) {
		a.wipe()
		return nil, false
	}
	var seen uint64 // members of ms already met (by index)
	if s.peek() == '}' {
		s.i++
	} else {
		for {
			k, ok := s.str()
			if !ok || s.peek() != ':' {
				return fail()
			}
			s.i++
			idx := -1
			for i := range ms {
				if ms[i].name == string(k) {
					idx = i
					break
				}
			}
			switch {
			case idx < 0:
				if !s.skip() {
					return fail()
				}
			case idx >= 64 || seen&(1<<idx) != 0:
				return fail()
			default:
				seen |= 1 << idx
				if s.lit("null") {
					break
				}
				if !fastValue(&s, ms[idx], a) {
					return fail()
				}
			}
			switch s.peek() {
			case ',':
				s.i++
				continue
			case '}':
				s.i++
			default:
				return fail()
			}
			break
		}
	}
	if s.ws(); s.i != len(s.b) {
		return fail()
	}
	return a, true
}

// fastValue reads the non-null value of member m into a.
func fastValue(s *fastScanner, m member, a args) bool {
	switch m.shape.kind {
	case kString:
		v, ok := s.str()
		if !ok {
			return false
		}
		a[m.name] = string(v)
	case kBool:
		switch {
		case s.lit("true"):
			a[m.name] = true
		case s.lit("false"):
			a[m.name] = false
		default:
			return false
		}
	case kInt:
		v, ok := s.integer()
		if !ok {
			return false
		}
		n, err := strconv.ParseInt(string(v), 10, 32)
		if err != nil {
			return false
		}
		a[m.name] = int(n)
	case kBlob:
		v, ok := s.str()
		if !ok {
			return false
		}
		b := make([]byte, base64.StdEncoding.DecodedLen(len(v)))
		n, err := base64.StdEncoding.Decode(b, v)
		if err != nil {
			clear(b)
			return false
		}
		a[m.name] = b[:n]
	case kContext:
		v, ok := s.strMap()
		if !ok {
			return false
		}
		a[m.name] = v
	default:
		return false
	}
	return true
}
