package policy

import (
	"encoding/base64"
	"math"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"time"
)

type opKind uint8

const (
	opString     opKind = iota // StringEquals, StringNotEquals
	opStringFold               // ...IgnoreCase
	opStringLike               // StringLike, StringNotLike
	opARN                      // ArnEquals, ArnLike and negations
	opNumeric
	opDate
	opBool
	opIP
	opBinary
	opNull
)

type cmp uint8

const (
	cmpEq cmp = iota
	cmpLt
	cmpLe
	cmpGt
	cmpGe
)

type opSpec struct {
	kind opKind
	cmp  cmp
	neg  bool
}

// operators is the catalogue of condition operators, without the
// ForAnyValue:/ForAllValues: prefixes and the IfExists suffix. Names are
// case-sensitive, as in AWS.
var operators = map[string]opSpec{
	"StringEquals":              {kind: opString},
	"StringNotEquals":           {kind: opString, neg: true},
	"StringEqualsIgnoreCase":    {kind: opStringFold},
	"StringNotEqualsIgnoreCase": {kind: opStringFold, neg: true},
	"StringLike":                {kind: opStringLike},
	"StringNotLike":             {kind: opStringLike, neg: true},
	"ArnEquals":                 {kind: opARN},
	"ArnLike":                   {kind: opARN},
	"ArnNotEquals":              {kind: opARN, neg: true},
	"ArnNotLike":                {kind: opARN, neg: true},
	"NumericEquals":             {kind: opNumeric, cmp: cmpEq},
	"NumericNotEquals":          {kind: opNumeric, cmp: cmpEq, neg: true},
	"NumericLessThan":           {kind: opNumeric, cmp: cmpLt},
	"NumericLessThanEquals":     {kind: opNumeric, cmp: cmpLe},
	"NumericGreaterThan":        {kind: opNumeric, cmp: cmpGt},
	"NumericGreaterThanEquals":  {kind: opNumeric, cmp: cmpGe},
	"DateEquals":                {kind: opDate, cmp: cmpEq},
	"DateNotEquals":             {kind: opDate, cmp: cmpEq, neg: true},
	"DateLessThan":              {kind: opDate, cmp: cmpLt},
	"DateLessThanEquals":        {kind: opDate, cmp: cmpLe},
	"DateGreaterThan":           {kind: opDate, cmp: cmpGt},
	"DateGreaterThanEquals":     {kind: opDate, cmp: cmpGe},
	"Bool":                      {kind: opBool},
	"IpAddress":                 {kind: opIP},
	"NotIpAddress":              {kind: opIP, neg: true},
	"BinaryEquals":              {kind: opBinary},
	"Null":                      {kind: opNull},
}

type setQual uint8

const (
	setNone setQual = iota
	setAny          // ForAnyValue:
	setAll          // ForAllValues:
)

// cond is one (operator, key) pair of a Condition block, with its values
// compiled for the operator's type.
type cond struct {
	op       opSpec
	set      setQual
	ifExists bool
	key      ckey

	pats     []pattern      // String*, Binary
	arns     []arnPattern   // Arn*
	nums     []float64      // Numeric*
	dates    []time.Time    // Date*
	prefixes []netip.Prefix // IpAddress, NotIpAddress
	bools    [2]bool        // Bool: [false wanted, true wanted]
	null     [2]bool        // Null: [false wanted, true wanted]
}

// parseOperator splits an operator name into its parts.
func parseOperator(name string) (opSpec, setQual, bool, string) {
	base, set := name, setNone
	if rest, ok := strings.CutPrefix(base, "ForAnyValue:"); ok {
		base, set = rest, setAny
	} else if rest, ok := strings.CutPrefix(base, "ForAllValues:"); ok {
		base, set = rest, setAll
	}
	ifExists := false
	if rest, ok := strings.CutSuffix(base, "IfExists"); ok {
		if _, known := operators[rest]; known {
			base, ifExists = rest, true
		}
	}
	spec, ok := operators[base]
	if !ok {
		return opSpec{}, 0, false, "unknown condition operator " + quote(name)
	}
	if spec.kind == opNull && (ifExists || set != setNone) {
		return opSpec{}, 0, false, "condition operator " + quote(name) + " is not valid: Null takes neither IfExists nor ForAnyValue/ForAllValues"
	}
	return spec, set, ifExists, ""
}

// compileConditions compiles a Condition element. Conditions come out in a
// stable order (operator, then key, as sorted text) so that evaluation does
// not depend on JSON member order.
func compileConditions(v *jval, vars bool) ([]cond, string) {
	if v.kind != jObject {
		return nil, "Condition must be an object, got " + v.kind.String()
	}
	var out []cond
	for _, opm := range v.obj {
		spec, set, ifExists, msg := parseOperator(opm.name)
		if msg != "" {
			return nil, msg
		}
		if opm.val.kind != jObject {
			return nil, "condition operator " + quote(opm.name) + " must map condition keys to values, got " + opm.val.kind.String()
		}
		if len(opm.val.obj) == 0 {
			return nil, "condition operator " + quote(opm.name) + " has no condition keys"
		}
		seen := map[string]bool{}
		for _, km := range opm.val.obj {
			if km.name == "" {
				return nil, "condition operator " + quote(opm.name) + " has an empty condition key"
			}
			lk := strings.ToLower(km.name)
			if seen[lk] {
				return nil, "condition operator " + quote(opm.name) + " names the key " + quote(km.name) + " twice (keys are case-insensitive)"
			}
			seen[lk] = true
			texts, msg := conditionValues(km.val)
			if msg != "" {
				return nil, "condition " + quote(opm.name) + " key " + quote(km.name) + ": " + msg
			}
			c := cond{op: spec, set: set, ifExists: ifExists, key: newKey(km.name)}
			if msg := c.compileValues(texts, vars); msg != "" {
				return nil, "condition " + quote(opm.name) + " key " + quote(km.name) + ": " + msg
			}
			out = append(out, c)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return cheaper(&out[i], &out[j]) })
	return out, ""
}

// cheaper orders conditions so that cheap ones run first; the result does
// not depend on the order (all must hold).
func cheaper(a, b *cond) bool {
	return costOf(a) < costOf(b)
}

func costOf(c *cond) int {
	switch c.op.kind {
	case opNull, opBool:
		return 0
	case opString, opStringFold, opBinary, opIP:
		return 1
	case opStringLike, opARN, opNumeric:
		return 2
	}
	return 3
}

// conditionValues reads a condition value: a string, number or boolean, or a
// list of them.
func conditionValues(v *jval) ([]string, string) {
	scalar := func(e *jval) (string, string) {
		switch e.kind {
		case jString, jNumber, jBool:
			return e.str, ""
		}
		return "", "values must be strings, numbers or booleans, got " + e.kind.String()
	}
	if v.kind == jArray {
		out := make([]string, 0, len(v.arr))
		for _, e := range v.arr {
			s, msg := scalar(e)
			if msg != "" {
				return nil, msg
			}
			out = append(out, s)
		}
		return out, ""
	}
	s, msg := scalar(v)
	if msg != "" {
		return nil, msg
	}
	return []string{s}, ""
}

func (c *cond) compileValues(texts []string, vars bool) string {
	for _, t := range texts {
		switch c.op.kind {
		case opString:
			c.pats = append(c.pats, compilePattern(t, false, vars, false))
		case opStringFold:
			c.pats = append(c.pats, compilePattern(t, false, vars, true))
		case opStringLike:
			c.pats = append(c.pats, compilePattern(t, true, vars, false))
		case opBinary:
			if _, err := base64.StdEncoding.DecodeString(t); err != nil {
				return "invalid base64 value " + quote(t)
			}
			c.pats = append(c.pats, compilePattern(t, false, false, false))
		case opARN:
			c.arns = append(c.arns, compileARNPattern(t, vars))
		case opNumeric:
			n, ok := parseNumber(t)
			if !ok {
				return "invalid number " + quote(t)
			}
			c.nums = append(c.nums, n)
		case opDate:
			d, ok := parseDate(t)
			if !ok {
				return "invalid date " + quote(t) + " (use ISO 8601, such as 2026-01-31T12:00:00Z, or epoch seconds)"
			}
			c.dates = append(c.dates, d)
		case opIP:
			p, ok := parsePrefix(t)
			if !ok {
				return "invalid IP address or CIDR block " + quote(t)
			}
			c.prefixes = append(c.prefixes, p)
		case opBool, opNull:
			var b bool
			switch strings.ToLower(t) {
			case "true":
				b = true
			case "false":
			default:
				return "invalid boolean " + quote(t) + " (use true or false)"
			}
			if c.op.kind == opBool {
				c.bools[b2i(b)] = true
			} else {
				c.null[b2i(b)] = true
			}
		}
	}
	return ""
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// eval decides the condition for one request. See doc.go for the rules.
func (c *cond) eval(st *state) bool {
	vals := st.lookup(&c.key)
	n := vals.n()
	if c.op.kind == opNull {
		// "Null": "true" holds when the key is absent, "false" when present.
		return c.null[b2i(n == 0)]
	}
	if n == 0 {
		if c.ifExists {
			return true
		}
		switch c.set {
		case setAll:
			return true
		case setAny:
			return false
		}
		return c.op.neg
	}
	neg := c.op.neg
	switch c.set {
	case setNone:
		// The negation applies to the whole set: a negated operator holds
		// when no value matches any policy value.
		for i := 0; i < n; i++ {
			m, ok := c.matchOne(st, &vals, i)
			if !ok {
				return false
			}
			if m {
				return !neg
			}
		}
		return neg
	case setAny:
		for i := 0; i < n; i++ {
			m, ok := c.matchOne(st, &vals, i)
			if !ok {
				return false
			}
			if m != neg {
				return true
			}
		}
		return false
	default: // setAll
		for i := 0; i < n; i++ {
			m, ok := c.matchOne(st, &vals, i)
			if !ok || m == neg {
				return false
			}
		}
		return true
	}
}

// matchOne reports whether request value i matches any of the policy's
// values (before negation). ok is false when the request value cannot be
// read as the operator's type; the whole condition is then false.
func (c *cond) matchOne(st *state, vals *values, i int) (matched, ok bool) {
	switch c.op.kind {
	case opString, opStringFold, opStringLike, opBinary:
		s := vals.str(i)
		for j := range c.pats {
			if c.pats[j].match(s, st) {
				return true, true
			}
		}
		return false, true
	case opARN:
		s := vals.str(i)
		for j := range c.arns {
			if c.arns[j].match(s, st) {
				return true, true
			}
		}
		return false, true
	case opNumeric:
		x, ok := vals.number(i)
		if !ok {
			return false, false
		}
		for _, y := range c.nums {
			if compare(c.op.cmp, cmpFloat(x, y)) {
				return true, true
			}
		}
		return false, true
	case opDate:
		t, ok := vals.date(i)
		if !ok {
			return false, false
		}
		for _, y := range c.dates {
			if compare(c.op.cmp, t.Compare(y)) {
				return true, true
			}
		}
		return false, true
	case opBool:
		s := vals.str(i)
		switch {
		case strings.EqualFold(s, "true"):
			return c.bools[1], true
		case strings.EqualFold(s, "false"):
			return c.bools[0], true
		}
		return false, false
	case opIP:
		a, ok := vals.addr(i)
		if !ok {
			return false, false
		}
		for _, p := range c.prefixes {
			if p.Contains(a) {
				return true, true
			}
		}
		return false, true
	}
	return false, false
}

func cmpFloat(x, y float64) int {
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

func compare(op cmp, c int) bool {
	switch op {
	case cmpEq:
		return c == 0
	case cmpLt:
		return c < 0
	case cmpLe:
		return c <= 0
	case cmpGt:
		return c > 0
	}
	return c >= 0
}

func parseNumber(s string) (float64, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, false
	}
	for i := 0; i < len(s); i++ { // no hex, inf, nan, underscores
		c := s[i]
		if !(c >= '0' && c <= '9' || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E') {
			return 0, false
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, false
	}
	return f, true
}

var dateLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05Z0700",
	"2006-01-02T15:04:05.999999999Z0700",
	"2006-01-02T15:04Z07:00",
	"2006-01-02T15:04:05",
	"2006-01-02",
}

// parseDate reads an ISO 8601 date (with or without time and zone; UTC when
// no zone is given) or a count of epoch seconds.
func parseDate(s string) (time.Time, bool) {
	if s == "" {
		return time.Time{}, false
	}
	digits := true
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			if !(i == 0 && s[i] == '-' && len(s) > 1) {
				digits = false
				break
			}
		}
	}
	if digits {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n > 1<<40 || n < -(1<<40) {
			return time.Time{}, false
		}
		return time.Unix(n, 0).UTC(), true
	}
	for _, layout := range dateLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// parsePrefix reads a CIDR block or a single address (a /32 or /128).
func parsePrefix(s string) (netip.Prefix, bool) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, false
		}
		if p.Addr().Is4In6() {
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
			if !p.IsValid() {
				return netip.Prefix{}, false
			}
		}
		return p.Masked(), true
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Prefix{}, false
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), true
}
