package policy

import (
	"strings"
	"unicode/utf8"
)

// A pattern is a compiled string match: literal text, the wildcards '*' (any
// run of characters, also none) and '?' (exactly one character), and policy
// variables ${key} whose value, taken from the request, matches literally.
// The text is split at each '*' into segments; matching anchors the first
// segment at the start and the last at the end and finds the middle ones
// leftmost-first, which is exact for this language and needs no
// backtracking beyond one scan per segment.

type unitKind uint8

const (
	uLit unitKind = iota // literal text
	uOne                 // '?': one character
	uVar                 // ${key} or ${key, 'default'}
)

type unit struct {
	kind unitKind
	lit  string // uLit: the text; uVar: the default value
	v    *variable
}

type variable struct {
	key    ckey
	def    string
	hasDef bool
}

type pattern struct {
	segs [][]unit // split at '*'; more than one means the pattern has a '*'
	fold bool     // ASCII case-insensitive literals (actions, IgnoreCase)
	all  bool     // the pattern is "*": matches everything
	// plain is set when the pattern is one literal: a fast path.
	plain   string
	isPlain bool
}

// compilePattern compiles s. wild turns on '*' and '?'; vars turns on
// ${...}. An opening "${" without a closing "}" is literal text.
func compilePattern(s string, wild, vars, fold bool) pattern {
	p := pattern{fold: fold}
	if wild && s == "*" {
		p.all = true
		return p
	}
	var seg []unit
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			seg = append(seg, unit{kind: uLit, lit: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case wild && c == '*':
			flush()
			p.segs = append(p.segs, seg)
			seg = nil
			i++
		case wild && c == '?':
			flush()
			seg = append(seg, unit{kind: uOne})
			i++
		case vars && c == '$' && strings.HasPrefix(s[i:], "${"):
			end := strings.IndexByte(s[i:], '}')
			if end < 0 {
				lit.WriteString(s[i:])
				i = len(s)
				continue
			}
			body := s[i+2 : i+end]
			i += end + 1
			switch body {
			case "*", "?", "$":
				lit.WriteString(body)
				continue
			}
			v := parseVariable(body)
			if v == nil {
				lit.WriteString("${" + body + "}")
				continue
			}
			flush()
			seg = append(seg, unit{kind: uVar, v: v})
		default:
			lit.WriteByte(c)
			i++
		}
	}
	flush()
	p.segs = append(p.segs, seg)
	if len(p.segs) == 1 && len(seg) <= 1 && (len(seg) == 0 || seg[0].kind == uLit) {
		p.isPlain = true
		if len(seg) == 1 {
			p.plain = seg[0].lit
		}
	}
	return p
}

// parseVariable reads the inside of ${...}: a key, optionally followed by
// ", 'default'". It returns nil for text that is not a variable.
func parseVariable(body string) *variable {
	key, rest, hasDef := strings.Cut(body, ",")
	key = strings.TrimSpace(key)
	if key == "" || strings.ContainsAny(key, " \t'\"${}") {
		return nil
	}
	v := &variable{key: newKey(key)}
	if hasDef {
		rest = strings.TrimSpace(rest)
		if len(rest) < 2 || rest[0] != '\'' || rest[len(rest)-1] != '\'' {
			return nil
		}
		v.def, v.hasDef = rest[1:len(rest)-1], true
	}
	return v
}

// hasVars reports whether the pattern uses policy variables.
func (p *pattern) hasVars() bool {
	for _, seg := range p.segs {
		for _, u := range seg {
			if u.kind == uVar {
				return true
			}
		}
	}
	return false
}

func (p *pattern) match(text string, st *state) bool {
	if p.all {
		return true
	}
	if p.isPlain {
		if p.fold {
			return len(text) == len(p.plain) && strings.EqualFold(text, p.plain)
		}
		return text == p.plain
	}
	segs := p.segs
	if len(segs) == 1 {
		end, ok := p.matchSeg(segs[0], text, 0, st)
		return ok && end == len(text)
	}
	pos, ok := p.matchSeg(segs[0], text, 0, st)
	if !ok {
		return false
	}
	for _, seg := range segs[1 : len(segs)-1] {
		found := false
		for i := pos; i <= len(text); i++ {
			if i < len(text) && !utf8.RuneStart(text[i]) {
				continue
			}
			if end, ok := p.matchSeg(seg, text, i, st); ok {
				pos, found = end, true
				break
			}
		}
		if !found {
			return false
		}
	}
	last := segs[len(segs)-1]
	if len(last) == 0 {
		return true
	}
	for i := pos; i <= len(text); i++ {
		if i < len(text) && !utf8.RuneStart(text[i]) {
			continue
		}
		if end, ok := p.matchSeg(last, text, i, st); ok && end == len(text) {
			return true
		}
	}
	return false
}

// matchSeg matches one segment at text[i:] and returns where it ends.
func (p *pattern) matchSeg(seg []unit, text string, i int, st *state) (int, bool) {
	for _, u := range seg {
		switch u.kind {
		case uOne:
			if i >= len(text) {
				return 0, false
			}
			_, size := utf8.DecodeRuneInString(text[i:])
			i += size
			continue
		case uLit:
			if !p.hasPrefixAt(text, i, u.lit) {
				return 0, false
			}
			i += len(u.lit)
		case uVar:
			val, ok := st.variable(u.v)
			if !ok || !p.hasPrefixAt(text, i, val) {
				return 0, false
			}
			i += len(val)
		}
	}
	return i, true
}

func (p *pattern) hasPrefixAt(text string, i int, lit string) bool {
	if len(text)-i < len(lit) {
		return false
	}
	if p.fold {
		return strings.EqualFold(text[i:i+len(lit)], lit)
	}
	return text[i:i+len(lit)] == lit
}

// arnPattern matches ARNs as ArnLike does: each of the six colon-separated
// parts separately, so a wildcard never spans a ':' except in the last part
// (the resource, which may itself contain colons). A pattern with fewer than
// six parts (such as "arn:aws:sns:*") is matched against the whole text.
type arnPattern struct {
	parts [6]pattern
	whole pattern
	split bool
}

func compileARNPattern(s string, vars bool) arnPattern {
	if s == "*" {
		return arnPattern{whole: compilePattern(s, true, vars, false)}
	}
	pieces := splitARN(s, vars)
	if len(pieces) < 6 {
		return arnPattern{whole: compilePattern(s, true, vars, false)}
	}
	var a arnPattern
	a.split = true
	for i, piece := range pieces {
		a.parts[i] = compilePattern(piece, true, vars, false)
	}
	return a
}

func (a *arnPattern) match(text string, st *state) bool {
	if !a.split {
		return a.whole.match(text, st)
	}
	rest := text
	for i := 0; i < 5; i++ {
		j := strings.IndexByte(rest, ':')
		if j < 0 {
			return false
		}
		if !a.parts[i].match(rest[:j], st) {
			return false
		}
		rest = rest[j+1:]
	}
	return a.parts[5].match(rest, st)
}

func (a *arnPattern) hasVars() bool {
	if !a.split {
		return a.whole.hasVars()
	}
	for i := range a.parts {
		if a.parts[i].hasVars() {
			return true
		}
	}
	return false
}

// splitARN splits s at its first five colons, skipping colons inside
// ${...} when vars is set (variable names such as aws:username contain one).
func splitARN(s string, vars bool) []string {
	var out []string
	start := 0
	for i := 0; i < len(s) && len(out) < 5; i++ {
		switch {
		case vars && s[i] == '$' && strings.HasPrefix(s[i:], "${"):
			if end := strings.IndexByte(s[i:], '}'); end >= 0 {
				i += end
			}
		case s[i] == ':':
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}
