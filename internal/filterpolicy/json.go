package filterpolicy

import (
	"strconv"
	"unicode/utf8"
)

// This file holds a small strict JSON (RFC 8259) reader that stores a
// document as a flat slice of nodes. Policies and message bodies both go
// through it: policies because the compiler needs member order and the exact
// text of number literals, bodies because a flat, reusable node slice lets a
// match run without allocating once the slice has grown.

// maxJSONDepth bounds nesting. Deeper documents are rejected (a body that is
// too deep never matches). Jackson, which AWS uses, has the same default.
const maxJSONDepth = 1000

type jkind uint8

const (
	jNull jkind = iota
	jFalse
	jTrue
	jNumber
	jString
	jArray
	jObject
)

// jnode is one JSON value. Children of an array or object follow their parent
// in the slice and are chained through next.
type jnode struct {
	kind jkind
	// numState caches the parsed value of a number: 0 not parsed yet,
	// 1 parsed into num.
	numState uint8
	// key is the member name when the parent is an object.
	key string
	// str is the decoded text of a string, or the literal text of a number.
	str   string
	num   float64
	first int32 // first child, -1 if none
	next  int32 // next sibling, -1 if last
}

// jparser reads one document. Its node and scratch slices are reused between
// documents.
type jparser struct {
	s     string
	i     int
	depth int
	nodes []jnode
	// used is the most nodes any parse has filled since the last reset,
	// so that a pooled parser can drop every reference it holds.
	used   int
	buf    []byte
	errMsg string
	errPos int
}

// parse reads s as a single JSON value and returns the index of the root node.
// On failure it returns false and leaves a description in errMsg/errPos.
func (p *jparser) parse(s string) (int32, bool) {
	p.used = max(p.used, len(p.nodes))
	p.s = s
	p.i = 0
	p.depth = 0
	p.nodes = p.nodes[:0]
	p.errMsg = ""
	p.errPos = 0
	root := p.value("")
	if root < 0 {
		return -1, false
	}
	p.skipSpace()
	if p.i != len(p.s) {
		p.fail("unexpected data after the top-level value")
		return -1, false
	}
	return root, true
}

func (p *jparser) fail(msg string) int32 {
	if p.errMsg == "" {
		p.errMsg = msg
		p.errPos = p.i
	}
	return -1
}

func (p *jparser) skipSpace() {
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *jparser) value(key string) int32 {
	p.skipSpace()
	if p.i >= len(p.s) {
		return p.fail("unexpected end of input")
	}
	idx := int32(len(p.nodes))
	p.nodes = append(p.nodes, jnode{key: key, first: -1, next: -1})
	switch c := p.s[p.i]; {
	case c == '{':
		p.nodes[idx].kind = jObject
		if !p.container('}', idx) {
			return -1
		}
	case c == '[':
		p.nodes[idx].kind = jArray
		if !p.container(']', idx) {
			return -1
		}
	case c == '"':
		s, ok := p.str()
		if !ok {
			return -1
		}
		p.nodes[idx].kind = jString
		p.nodes[idx].str = s
	case c == '-' || (c >= '0' && c <= '9'):
		lit, ok := p.number()
		if !ok {
			return -1
		}
		p.nodes[idx].kind = jNumber
		p.nodes[idx].str = lit
	case c == 't':
		if !p.literal("true") {
			return -1
		}
		p.nodes[idx].kind = jTrue
	case c == 'f':
		if !p.literal("false") {
			return -1
		}
		p.nodes[idx].kind = jFalse
	case c == 'n':
		if !p.literal("null") {
			return -1
		}
		p.nodes[idx].kind = jNull
	default:
		return p.fail("unexpected character " + strconv.QuoteRune(rune(c)))
	}
	return idx
}

// container reads an object or array whose opening byte is at p.i.
func (p *jparser) container(closer byte, idx int32) bool {
	p.depth++
	if p.depth > maxJSONDepth {
		p.fail("document nested too deeply")
		return false
	}
	p.i++ // opening byte
	p.skipSpace()
	if p.i < len(p.s) && p.s[p.i] == closer {
		p.i++
		p.depth--
		return true
	}
	prev := int32(-1)
	for {
		key := ""
		if closer == '}' {
			p.skipSpace()
			if p.i >= len(p.s) || p.s[p.i] != '"' {
				p.fail("expected a double-quoted member name")
				return false
			}
			k, ok := p.str()
			if !ok {
				return false
			}
			key = k
			p.skipSpace()
			if p.i >= len(p.s) || p.s[p.i] != ':' {
				p.fail("expected ':' after a member name")
				return false
			}
			p.i++
		}
		child := p.value(key)
		if child < 0 {
			return false
		}
		if prev < 0 {
			p.nodes[idx].first = child
		} else {
			p.nodes[prev].next = child
		}
		prev = child
		p.skipSpace()
		if p.i >= len(p.s) {
			p.fail("unexpected end of input")
			return false
		}
		switch p.s[p.i] {
		case ',':
			p.i++
		case closer:
			p.i++
			p.depth--
			return true
		default:
			if closer == '}' {
				p.fail("expected ',' or '}'")
			} else {
				p.fail("expected ',' or ']'")
			}
			return false
		}
	}
}

func (p *jparser) literal(word string) bool {
	if len(p.s)-p.i < len(word) || p.s[p.i:p.i+len(word)] != word {
		p.fail("invalid literal")
		return false
	}
	p.i += len(word)
	return true
}

// number checks the JSON number grammar and returns the literal text.
func (p *jparser) number() (string, bool) {
	start := p.i
	s := p.s
	i := p.i
	if s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && s[i] >= '1' && s[i] <= '9':
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	default:
		p.i = i
		p.fail("invalid number")
		return "", false
	}
	if i < len(s) && s[i] == '.' {
		i++
		d := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == d {
			p.i = i
			p.fail("invalid number")
			return "", false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		d := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == d {
			p.i = i
			p.fail("invalid number")
			return "", false
		}
	}
	p.i = i
	return s[start:i], true
}

// str reads a string whose opening quote is at p.i and returns its decoded
// text. Strings without escapes are returned as substrings of the input.
func (p *jparser) str() (string, bool) {
	p.i++ // opening quote
	start := p.i
	s := p.s
	for i := start; i < len(s); i++ {
		c := s[i]
		if c == '"' {
			p.i = i + 1
			return s[start:i], true
		}
		if c == '\\' {
			return p.strSlow(start, i)
		}
		if c < 0x20 {
			p.i = i
			p.fail("control character in string")
			return "", false
		}
	}
	p.i = len(s)
	p.fail("unterminated string")
	return "", false
}

// strSlow decodes a string that contains escapes; esc is the index of the
// first backslash.
func (p *jparser) strSlow(start, esc int) (string, bool) {
	s := p.s
	b := append(p.buf[:0], s[start:esc]...)
	i := esc
	for i < len(s) {
		c := s[i]
		switch {
		case c == '"':
			p.i = i + 1
			p.buf = b
			return string(b), true
		case c < 0x20:
			p.i = i
			p.fail("control character in string")
			return "", false
		case c != '\\':
			b = append(b, c)
			i++
			continue
		}
		// backslash
		if i+1 >= len(s) {
			break
		}
		switch s[i+1] {
		case '"', '\\', '/':
			b = append(b, s[i+1])
			i += 2
		case 'b':
			b = append(b, '\b')
			i += 2
		case 'f':
			b = append(b, '\f')
			i += 2
		case 'n':
			b = append(b, '\n')
			i += 2
		case 'r':
			b = append(b, '\r')
			i += 2
		case 't':
			b = append(b, '\t')
			i += 2
		case 'u':
			r, ok := hex4(s, i+2)
			if !ok {
				p.i = i
				p.fail("invalid \\u escape")
				return "", false
			}
			i += 6
			if r >= 0xD800 && r < 0xDC00 {
				// A high surrogate must be followed by an escaped low one.
				if lo, ok := hex4(s, i+2); ok && i+1 < len(s) && s[i] == '\\' && s[i+1] == 'u' && lo >= 0xDC00 && lo < 0xE000 {
					r = 0x10000 + (r-0xD800)<<10 + (lo - 0xDC00)
					i += 6
				} else {
					r = utf8.RuneError
				}
			} else if r >= 0xDC00 && r < 0xE000 {
				r = utf8.RuneError
			}
			b = utf8.AppendRune(b, r)
		default:
			p.i = i
			p.fail("invalid escape character")
			return "", false
		}
	}
	p.i = len(s)
	p.buf = b
	p.fail("unterminated string")
	return "", false
}

func hex4(s string, at int) (rune, bool) {
	if at < 0 || at+4 > len(s) {
		return 0, false
	}
	var r rune
	for i := at; i < at+4; i++ {
		c := s[i]
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c-'a') + 10
		case c >= 'A' && c <= 'F':
			r |= rune(c-'A') + 10
		default:
			return 0, false
		}
	}
	return r, true
}
