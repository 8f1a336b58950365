package filterpolicy

import (
	"math"
	"net/netip"
	"strconv"
	"strings"
)

// scalar is one value taken from a message: a body leaf, an element of a
// String.Array attribute, or a String or Number attribute.
type scalar struct {
	kind jkind // jString, jNumber, jTrue, jFalse or jNull
	s    string
	// q is the number scaled to five decimal places (see quantize); valid
	// when kind is jNumber and numOK is set.
	q     float64
	numOK bool
}

// quantize maps a number to an integral count of 1e-5 units. AWS compares
// numbers with five digits of accuracy after the decimal point, so 301.5,
// 3.015e2 and 301.500001 are all the same number. Numbers far outside the
// documented ±1e9 range keep their order, which is all range checks need.
func quantize(f float64) float64 {
	return math.Round(f * 1e5)
}

// numRange is one {"numeric": [...]} pattern. Equality is a range whose two
// ends are the same inclusive bound.
type numRange struct {
	lo, hi         float64 // quantized
	hasLo, hasHi   bool
	loIncl, hiIncl bool
}

func (r *numRange) contains(q float64) bool {
	if r.hasLo {
		if r.loIncl {
			if q < r.lo {
				return false
			}
		} else if q <= r.lo {
			return false
		}
	}
	if r.hasHi {
		if r.hiIncl {
			if q > r.hi {
				return false
			}
		} else if q >= r.hi {
			return false
		}
	}
	return true
}

// wildcard is a compiled {"wildcard": "..."} pattern: the literal pieces
// between the '*' characters. One piece means no '*' at all.
type wildcard struct {
	segs []string
}

// compileWildcard reads a wildcard pattern. '*' matches any run of
// characters (also none); "\*" is a literal star and "\\" a literal
// backslash. Any other escape, a trailing backslash, or two '*' in a row is an
// error, as in the AWS rule engine. The returned string is the error text.
func compileWildcard(pat string) (wildcard, string) {
	var segs []string
	var cur []byte
	escaped := false
	prevStar := false
	for i := 0; i < len(pat); i++ {
		c := pat[i]
		if escaped {
			if c != '*' && c != '\\' {
				return wildcard{}, "Invalid escape character at pos " + strconv.Itoa(i-1)
			}
			cur = append(cur, c)
			escaped = false
			prevStar = false
			continue
		}
		switch c {
		case '\\':
			escaped = true
		case '*':
			if prevStar {
				return wildcard{}, "Consecutive wildcard characters at pos " + strconv.Itoa(i)
			}
			segs = append(segs, string(cur))
			cur = cur[:0]
			prevStar = true
			continue
		default:
			cur = append(cur, c)
		}
		prevStar = false
	}
	if escaped {
		return wildcard{}, "Invalid escape character at pos " + strconv.Itoa(len(pat)-1)
	}
	segs = append(segs, string(cur))
	return wildcard{segs: segs}, ""
}

func (w *wildcard) match(s string) bool {
	n := len(w.segs)
	if n == 1 {
		return s == w.segs[0]
	}
	first, last := w.segs[0], w.segs[n-1]
	if len(s) < len(first)+len(last) || !strings.HasPrefix(s, first) || !strings.HasSuffix(s, last) {
		return false
	}
	mid := s[len(first) : len(s)-len(last)]
	// With '*' as the only wildcard, taking the leftmost occurrence of each
	// piece is always safe.
	for _, seg := range w.segs[1 : n-1] {
		i := strings.Index(mid, seg)
		if i < 0 {
			return false
		}
		mid = mid[i+len(seg):]
	}
	return true
}

// anythingBut is one {"anything-but": ...} pattern. Exactly one of its lists
// is filled. It matches a value that is not excluded.
type anythingBut struct {
	strs      []string
	strSet    map[string]struct{} // strs as a set when the list is long
	nums      []float64           // quantized
	numSet    map[float64]struct{}
	prefixes  []string
	suffixes  []string
	folds     []string // equals-ignore-case
	wildcards []wildcard
}

// excludes reports whether v is one of the values the pattern rules out.
// Only strings can be ruled out by string forms and only numbers by numbers,
// so for example {"anything-but": ["a"]} matches the number 5, true and null.
func (a *anythingBut) excludes(v *scalar) bool {
	switch v.kind {
	case jString:
		if a.strSet != nil {
			if _, ok := a.strSet[v.s]; ok {
				return true
			}
		} else {
			for _, s := range a.strs {
				if v.s == s {
					return true
				}
			}
		}
		for _, p := range a.prefixes {
			if strings.HasPrefix(v.s, p) {
				return true
			}
		}
		for _, p := range a.suffixes {
			if strings.HasSuffix(v.s, p) {
				return true
			}
		}
		for _, p := range a.folds {
			if strings.EqualFold(v.s, p) {
				return true
			}
		}
		for i := range a.wildcards {
			if a.wildcards[i].match(v.s) {
				return true
			}
		}
	case jNumber:
		if !v.numOK {
			return false
		}
		if a.numSet != nil {
			_, ok := a.numSet[v.q]
			return ok
		}
		for _, n := range a.nums {
			if v.q == n {
				return true
			}
		}
	}
	return false
}

// valueList is the compiled array of patterns given for one key; a value
// matches when any pattern matches it.
type valueList struct {
	strs      []string
	strSet    map[string]struct{} // strs as a set when the list is long
	nums      []float64           // quantized
	hasTrue   bool
	hasFalse  bool
	hasNull   bool
	prefixes  []string
	suffixes  []string
	folds     []string // equals-ignore-case
	wildcards []wildcard
	cidrs     []netip.Prefix
	ranges    []numRange
	buts      []anythingBut

	existsTrue  bool
	existsFalse bool

	// size is the number of patterns, the key's factor in the complexity.
	size int
	// positive is set when some pattern other than {"exists": false} is
	// present, i.e. when the list can be satisfied by a present value.
	positive bool
}

// matchValue reports whether v matches one of the value patterns: every
// pattern except exists and anything-but, which depend on where v came from.
func (l *valueList) matchValue(v *scalar) bool {
	switch v.kind {
	case jString:
		s := v.s
		if l.strSet != nil {
			if _, ok := l.strSet[s]; ok {
				return true
			}
		} else {
			for _, x := range l.strs {
				if s == x {
					return true
				}
			}
		}
		for _, p := range l.prefixes {
			if strings.HasPrefix(s, p) {
				return true
			}
		}
		for _, p := range l.suffixes {
			if strings.HasSuffix(s, p) {
				return true
			}
		}
		for _, p := range l.folds {
			if strings.EqualFold(s, p) {
				return true
			}
		}
		for i := range l.wildcards {
			if l.wildcards[i].match(s) {
				return true
			}
		}
		if len(l.cidrs) > 0 {
			if addr, err := netip.ParseAddr(s); err == nil {
				for _, p := range l.cidrs {
					if p.Contains(addr) {
						return true
					}
				}
			}
		}
	case jNumber:
		if !v.numOK {
			return false
		}
		for _, n := range l.nums {
			if v.q == n {
				return true
			}
		}
		for i := range l.ranges {
			if l.ranges[i].contains(v.q) {
				return true
			}
		}
	case jTrue:
		return l.hasTrue
	case jFalse:
		return l.hasFalse
	case jNull:
		return l.hasNull
	}
	return false
}

// matchLeaf reports whether a single present value satisfies the list:
// a value pattern matches it, it is not ruled out by one of the anything-but
// patterns, or the list has {"exists": true}.
func (l *valueList) matchLeaf(v *scalar) bool {
	if l.existsTrue || l.matchValue(v) {
		return true
	}
	for i := range l.buts {
		if !l.buts[i].excludes(v) {
			return true
		}
	}
	return false
}
