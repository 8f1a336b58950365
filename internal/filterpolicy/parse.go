package filterpolicy

import (
	"math"
	"net/netip"
	"strconv"
	"strings"
	"unicode/utf8"
)

// AWS limits on a filter policy.
const (
	// MaxPolicySize is the largest accepted policy text in bytes (256 KB).
	MaxPolicySize = 256 * 1024
	// MaxKeys is the most keys a policy may name. Only top-level (parent)
	// keys count; a top-level "$or" is expanded first, so each alternative
	// is counted together with the keys beside the "$or".
	MaxKeys = 5
	// MaxCombinations is the highest allowed policy complexity, see
	// Policy.Complexity.
	MaxCombinations = 150
)

// numericLimit is the magnitude limit AWS documents for numeric matching.
const numericLimit = 1e9

// reserved are the match-expression names. An object inside a "$or" array
// that uses one of them as a field name makes the "$or" an ordinary key.
var reserved = map[string]bool{
	"prefix":             true,
	"suffix":             true,
	"equals-ignore-case": true,
	"wildcard":           true,
	"anything-but":       true,
	"numeric":            true,
	"exists":             true,
	"cidr":               true,
}

// Policy is a compiled filter policy. It is immutable after Parse and safe
// for concurrent use. A nil *Policy means "no filter" and matches every
// message.
type Policy struct {
	scope Scope
	// terms is the policy in disjunctive normal form: the message matches
	// when every condition of at least one term holds. "$or" is the only
	// source of more than one term; AWS's complexity limit keeps the number
	// of terms at or below MaxCombinations.
	terms []term
	// paths are the distinct condition paths; cond.pathID indexes it.
	paths       []string
	complexity  int
	keys        int
	hasAbsentOK bool
}

type term struct {
	conds []*cond
}

// cond is one key of the policy with its patterns.
type cond struct {
	// path is the policy keys from the top down joined with ".". In
	// attribute scope it is the attribute name.
	path string
	// top is the top-level key the condition sits under.
	top    string
	pathID int
	vals   *valueList
}

// Scope returns the scope the policy was compiled for.
func (p *Policy) Scope() Scope {
	if p == nil {
		return ScopeMessageAttributes
	}
	return p.scope
}

// Complexity returns the policy's total combination count as AWS computes
// it: the product over keys of the number of values, each multiplied by the
// key's nesting depth in payload policies, with the alternatives of a "$or"
// added together. Parse rejects policies above MaxCombinations.
func (p *Policy) Complexity() int {
	if p == nil {
		return 0
	}
	return p.complexity
}

// Keys returns the number of keys counted against MaxKeys.
func (p *Policy) Keys() int {
	if p == nil {
		return 0
	}
	return p.keys
}

// Parse validates and compiles a filter policy for the given scope.
//
// An empty policy ("", blanks only, or the empty object "{}") means "no
// filter": Parse returns a nil *Policy and a nil error, so callers store no
// policy at all. A nil *Policy matches every message. Any other problem is
// returned as an *Error.
func Parse(policy string, scope Scope) (*Policy, error) {
	if scope != ScopeMessageAttributes && scope != ScopeMessageBody {
		return nil, &Error{
			Param:   "FilterPolicyScope",
			Message: "Invalid value [" + scope.String() + "]. Please use either MessageBody or MessageAttributes",
		}
	}
	if len(policy) > MaxPolicySize {
		return nil, policyError(errTooLarge)
	}
	if strings.TrimLeft(policy, " \t\r\n") == "" {
		return nil, nil
	}
	if !utf8.ValidString(policy) {
		return nil, policyError(errNotUTF8)
	}
	var jp jparser
	root, ok := jp.parse(policy)
	if !ok {
		return nil, policyError("failed to parse JSON. " + jp.errMsg + " at position " + strconv.Itoa(jp.errPos))
	}
	if jp.nodes[root].kind != jObject {
		return nil, policyError(errNotObject)
	}
	if jp.nodes[root].first < 0 {
		return nil, nil
	}

	c := compiler{nodes: jp.nodes}
	spec, err := c.object(root)
	if err != nil {
		return nil, err
	}

	combos := spec.combinations(1)
	var terms [][]*cond
	var keys int
	if combos <= MaxCombinations {
		terms = spec.expand("", "", true)
		keys = maxTopKeys(terms)
	} else {
		// Too complex to expand; an upper bound decides which error wins.
		keys = spec.keyBound()
	}
	// The order of the checks below follows AWS: the key count first, then
	// nesting in attribute scope, then the complexity.
	if keys > MaxKeys {
		return nil, policyError(errTooManyKeys)
	}
	if scope == ScopeMessageAttributes && c.nested {
		return nil, &Error{Message: errNestedInAttrs}
	}
	if combos > MaxCombinations {
		return nil, policyError(errTooComplex)
	}

	p := &Policy{scope: scope, complexity: combos, keys: keys}
	ids := map[string]int{}
	p.terms = make([]term, len(terms))
	for i, t := range terms {
		for _, cd := range t {
			if _, seen := ids[cd.path]; !seen {
				ids[cd.path] = len(p.paths)
				p.paths = append(p.paths, cd.path)
			}
			cd.pathID = ids[cd.path]
			if cd.vals.existsFalse {
				p.hasAbsentOK = true
			}
		}
		p.terms[i] = term{conds: t}
	}
	return p, nil
}

// objSpec is a policy object before expansion into terms.
type objSpec struct {
	leaves []leafSpec
	nested []nestedSpec
	ors    [][]*objSpec
}

type leafSpec struct {
	key  string
	vals *valueList
}

type nestedSpec struct {
	key string
	obj *objSpec
}

// satMul and satAdd keep complexity arithmetic from overflowing.
const satLimit = 1 << 40

func satMul(a, b int) int {
	if a == 0 || b == 0 {
		return 0
	}
	if a > satLimit/b {
		return satLimit
	}
	return a * b
}

func satAdd(a, b int) int {
	if a+b > satLimit {
		return satLimit
	}
	return a + b
}

// combinations computes AWS's complexity for an object found at the given
// nesting depth (1 for the top level). The doc example
// {"key_a":{"key_b":{"key_c":[4 values]}},"key_d":{"key_e":[3 values]}}
// gives 3 x 4 x 2 x 3 = 72; each "$or" contributes the sum over its
// alternatives.
func (o *objSpec) combinations(depth int) int {
	total := 1
	for _, l := range o.leaves {
		total = satMul(total, satMul(l.vals.size, depth))
	}
	for _, n := range o.nested {
		total = satMul(total, n.obj.combinations(depth+1))
	}
	for _, alts := range o.ors {
		sum := 0
		for _, b := range alts {
			sum = satAdd(sum, b.combinations(depth))
		}
		total = satMul(total, sum)
	}
	return total
}

// keyBound is an upper bound of the top-level key count, used when the
// policy is too complex to expand.
func (o *objSpec) keyBound() int {
	n := len(o.leaves) + len(o.nested)
	for _, alts := range o.ors {
		best := 0
		for _, b := range alts {
			best = max(best, b.keyBound())
		}
		n += best
	}
	return n
}

// expand turns the object into terms. prefix is the path of the object
// (with a trailing "."), top the top-level key above it; root is set for the
// top-level object and its "$or" alternatives.
func (o *objSpec) expand(prefix, top string, root bool) [][]*cond {
	terms := [][]*cond{nil}
	topOf := func(key string) string {
		if root {
			return key
		}
		return top
	}
	for _, l := range o.leaves {
		c := &cond{path: prefix + l.key, top: topOf(l.key), vals: l.vals}
		terms = cross(terms, [][]*cond{{c}})
	}
	for _, n := range o.nested {
		terms = cross(terms, n.obj.expand(prefix+n.key+".", topOf(n.key), false))
	}
	for _, alts := range o.ors {
		var all [][]*cond
		for _, b := range alts {
			all = append(all, b.expand(prefix, top, root)...)
		}
		terms = cross(terms, all)
	}
	return terms
}

func cross(a, b [][]*cond) [][]*cond {
	out := make([][]*cond, 0, len(a)*len(b))
	for _, x := range a {
		for _, y := range b {
			t := make([]*cond, 0, len(x)+len(y))
			t = append(t, x...)
			t = append(t, y...)
			out = append(out, t)
		}
	}
	return out
}

func maxTopKeys(terms [][]*cond) int {
	best := 0
	for _, t := range terms {
		n := 0
		for i, c := range t {
			dup := false
			for _, d := range t[:i] {
				if d.top == c.top {
					dup = true
					break
				}
			}
			if !dup {
				n++
			}
		}
		best = max(best, n)
	}
	return best
}

// compiler turns parsed policy nodes into an objSpec, validating as it goes.
type compiler struct {
	nodes  []jnode
	nested bool // an object was used as a key's value (payload nesting)
}

func (c *compiler) object(idx int32) (*objSpec, error) {
	n := &c.nodes[idx]
	if n.first < 0 {
		return nil, policyError(errEmptyObject)
	}
	spec := &objSpec{}
	for ch := n.first; ch >= 0; ch = c.nodes[ch].next {
		m := &c.nodes[ch]
		switch m.kind {
		case jArray:
			if m.key == "$or" && c.isOr(ch) {
				var alts []*objSpec
				for b := m.first; b >= 0; b = c.nodes[b].next {
					alt, err := c.object(b)
					if err != nil {
						return nil, err
					}
					alts = append(alts, alt)
				}
				spec.ors = append(spec.ors, alts)
				continue
			}
			vl, err := c.valueList(ch)
			if err != nil {
				return nil, err
			}
			spec.leaves = append(spec.leaves, leafSpec{key: m.key, vals: vl})
		case jObject:
			c.nested = true
			sub, err := c.object(ch)
			if err != nil {
				return nil, err
			}
			spec.nested = append(spec.nested, nestedSpec{key: m.key, obj: sub})
		default:
			return nil, policyError(`"` + m.key + `" must be an object or an array`)
		}
	}
	return spec, nil
}

// isOr applies AWS's rule for recognising "$or": an array of at least two
// objects, none of which uses a match-expression name as a field name.
// Otherwise "$or" is an ordinary key.
func (c *compiler) isOr(idx int32) bool {
	count := 0
	for b := c.nodes[idx].first; b >= 0; b = c.nodes[b].next {
		if c.nodes[b].kind != jObject {
			return false
		}
		for f := c.nodes[b].first; f >= 0; f = c.nodes[f].next {
			if reserved[c.nodes[f].key] {
				return false
			}
		}
		count++
	}
	return count >= 2
}

func (c *compiler) valueList(idx int32) (*valueList, error) {
	n := &c.nodes[idx]
	if n.first < 0 {
		return nil, policyError(errEmptyArray)
	}
	vl := &valueList{}
	for e := n.first; e >= 0; e = c.nodes[e].next {
		en := &c.nodes[e]
		switch en.kind {
		case jString:
			vl.strs = append(vl.strs, en.str)
		case jNumber:
			vl.nums = append(vl.nums, quantize(parseNumber(en.str)))
		case jTrue:
			vl.hasTrue = true
		case jFalse:
			vl.hasFalse = true
		case jNull:
			vl.hasNull = true
		case jArray:
			return nil, policyError(errMatchValue)
		case jObject:
			if err := c.operator(e, vl); err != nil {
				return nil, err
			}
		}
		vl.size++
	}
	if len(vl.strs) > 8 {
		vl.strSet = make(map[string]struct{}, len(vl.strs))
		for _, s := range vl.strs {
			vl.strSet[s] = struct{}{}
		}
	}
	vl.positive = len(vl.strs) > 0 || len(vl.nums) > 0 || vl.hasTrue || vl.hasFalse ||
		vl.hasNull || len(vl.prefixes) > 0 || len(vl.suffixes) > 0 || len(vl.folds) > 0 ||
		len(vl.wildcards) > 0 || len(vl.cidrs) > 0 || len(vl.ranges) > 0 || len(vl.buts) > 0 ||
		vl.existsTrue
	return vl, nil
}

// operator compiles a match expression such as {"prefix": "abc"} into vl.
func (c *compiler) operator(idx int32, vl *valueList) error {
	n := &c.nodes[idx]
	if n.first < 0 {
		return policyError(errEmptyObject)
	}
	opIdx := n.first
	op := &c.nodes[opIdx]
	name := op.key
	switch name {
	case "prefix", "suffix", "equals-ignore-case":
		if op.kind != jString {
			return policyError(name + " match pattern must be a string")
		}
		switch name {
		case "prefix":
			vl.prefixes = append(vl.prefixes, op.str)
		case "suffix":
			vl.suffixes = append(vl.suffixes, op.str)
		default:
			vl.folds = append(vl.folds, op.str)
		}
	case "wildcard":
		if op.kind != jString {
			return policyError("wildcard match pattern must be a string")
		}
		w, msg := compileWildcard(op.str)
		if msg != "" {
			return policyError(msg)
		}
		vl.wildcards = append(vl.wildcards, w)
	case "cidr":
		if op.kind != jString {
			// The AWS rule engine reports the prefix text here.
			return policyError("prefix match pattern must be a string")
		}
		p, err := compileCIDR(op.str)
		if err != nil {
			return err
		}
		vl.cidrs = append(vl.cidrs, p)
	case "exists":
		switch op.kind {
		case jTrue:
			vl.existsTrue = true
		case jFalse:
			vl.existsFalse = true
		default:
			return policyError(errExists)
		}
	case "numeric":
		r, err := c.numeric(opIdx)
		if err != nil {
			return err
		}
		vl.ranges = append(vl.ranges, r)
	case "anything-but":
		ab, err := c.anythingBut(opIdx)
		if err != nil {
			return err
		}
		vl.buts = append(vl.buts, ab)
	default:
		return policyError("Unrecognized match type " + name)
	}
	if op.next >= 0 {
		return policyError(errOneKey)
	}
	return nil
}

// tokenText is how the AWS rule engine names a JSON token in messages.
func (c *compiler) tokenText(idx int32) string {
	n := &c.nodes[idx]
	switch n.kind {
	case jString, jNumber:
		return n.str
	case jTrue:
		return "true"
	case jFalse:
		return "false"
	case jNull:
		return "null"
	case jArray:
		return "["
	}
	return "{"
}

// numeric compiles the array of a {"numeric": [...]} expression:
// [op, n] with op one of =, <, <=, >, >=, or a range [">"|">=", a, "<"|"<=", b]
// with a < b. The messages are those AWS returns.
func (c *compiler) numeric(idx int32) (numRange, error) {
	n := &c.nodes[idx]
	if n.kind != jArray {
		return numRange{}, policyError(errNumericArray)
	}
	var items [5]int32
	count := 0
	for e := n.first; e >= 0 && count < len(items); e = c.nodes[e].next {
		items[count] = e
		count++
	}
	if count == 0 {
		return numRange{}, policyError("Invalid member in numeric match: ]")
	}
	first := &c.nodes[items[0]]
	if first.kind != jString {
		return numRange{}, policyError("Invalid member in numeric match: " + c.tokenText(items[0]))
	}
	op := first.str
	switch op {
	case "=", "<", "<=", ">", ">=":
	default:
		return numRange{}, policyError("Unrecognized numeric range operator: " + op)
	}
	v0, err := c.numericOperand(items[:count], 1, op)
	if err != nil {
		return numRange{}, err
	}
	var r numRange
	switch op {
	case "=":
		r = numRange{lo: v0, hi: v0, hasLo: true, hasHi: true, loIncl: true, hiIncl: true}
	case "<":
		r = numRange{hi: v0, hasHi: true}
	case "<=":
		r = numRange{hi: v0, hasHi: true, hiIncl: true}
	case ">":
		r = numRange{lo: v0, hasLo: true}
	case ">=":
		r = numRange{lo: v0, hasLo: true, loIncl: true}
	}
	if count == 2 {
		return r, nil
	}
	if op != ">" && op != ">=" {
		return numRange{}, policyError(errTooManyElems)
	}
	second := &c.nodes[items[2]]
	if second.kind != jString {
		return numRange{}, policyError("Bad value in numeric range: " + c.tokenText(items[2]))
	}
	op2 := second.str
	if op2 != "<" && op2 != "<=" {
		return numRange{}, policyError("Bad numeric range operator: " + op2)
	}
	v1, err := c.numericOperand(items[:count], 3, op2)
	if err != nil {
		return numRange{}, err
	}
	if v1 <= v0 {
		return numRange{}, policyError(errBottomTop)
	}
	if count > 4 {
		return numRange{}, policyError(errTooManyTerms)
	}
	r.hi, r.hasHi, r.hiIncl = v1, true, op2 == "<="
	return r, nil
}

// numericOperand reads items[at] as the number following operator op and
// returns it quantized.
func (c *compiler) numericOperand(items []int32, at int, op string) (float64, error) {
	if at >= len(items) || c.nodes[items[at]].kind != jNumber {
		name := op
		if op == "=" {
			name = "equals"
		}
		return 0, policyError("Value of " + name + " must be numeric")
	}
	lit := c.nodes[items[at]].str
	f := parseNumber(lit)
	if math.Abs(f) > numericLimit || decimalPlaces(lit) > 5 {
		return 0, policyError(errNumberRange + lit)
	}
	return quantize(f), nil
}

// anythingBut compiles the value of an {"anything-but": ...} expression: a
// string, a number, a non-empty list of strings or of numbers, or an object
// with one of prefix, suffix, equals-ignore-case or wildcard whose value is a
// string or a non-empty list of strings.
func (c *compiler) anythingBut(idx int32) (anythingBut, error) {
	n := &c.nodes[idx]
	var ab anythingBut
	switch n.kind {
	case jString:
		ab.strs = []string{n.str}
	case jNumber:
		ab.nums = []float64{quantize(parseNumber(n.str))}
	case jArray:
		if n.first < 0 {
			return ab, policyError(errEmptyArray)
		}
		for e := n.first; e >= 0; e = c.nodes[e].next {
			en := &c.nodes[e]
			switch en.kind {
			case jString:
				ab.strs = append(ab.strs, en.str)
			case jNumber:
				ab.nums = append(ab.nums, quantize(parseNumber(en.str)))
			default:
				return ab, policyError(errButListType)
			}
		}
		if len(ab.strs) > 0 && len(ab.nums) > 0 {
			return ab, policyError(errButListMixed)
		}
		if len(ab.strs) > 8 {
			ab.strSet = make(map[string]struct{}, len(ab.strs))
			for _, s := range ab.strs {
				ab.strSet[s] = struct{}{}
			}
		}
		if len(ab.nums) > 8 {
			ab.numSet = make(map[float64]struct{}, len(ab.nums))
			for _, n := range ab.nums {
				ab.numSet[n] = struct{}{}
			}
		}
	case jObject:
		if n.first < 0 {
			return ab, policyError(errEmptyObject)
		}
		inner := &c.nodes[n.first]
		name := inner.key
		switch name {
		case "prefix", "suffix", "equals-ignore-case", "wildcard":
		default:
			return ab, policyError("Unsupported anything-but pattern: " + name)
		}
		var vals []string
		switch inner.kind {
		case jString:
			vals = []string{inner.str}
		case jArray:
			if inner.first < 0 {
				return ab, policyError(name + " match pattern must be a string")
			}
			for e := inner.first; e >= 0; e = c.nodes[e].next {
				if c.nodes[e].kind != jString {
					return ab, policyError(name + " match pattern must be a string")
				}
				vals = append(vals, c.nodes[e].str)
			}
		default:
			return ab, policyError(name + " match pattern must be a string")
		}
		switch name {
		case "prefix":
			ab.prefixes = vals
		case "suffix":
			ab.suffixes = vals
		case "equals-ignore-case":
			ab.folds = vals
		case "wildcard":
			for _, v := range vals {
				w, msg := compileWildcard(v)
				if msg != "" {
					return ab, policyError(msg)
				}
				ab.wildcards = append(ab.wildcards, w)
			}
		}
		if inner.next >= 0 {
			return ab, policyError(errOneKey)
		}
	default:
		return ab, policyError(errAnythingBut)
	}
	return ab, nil
}

// compileCIDR reads "address/bits" for IPv4 or IPv6.
func compileCIDR(s string) (netip.Prefix, error) {
	slash := strings.IndexByte(s, '/')
	if slash < 0 || strings.IndexByte(s[slash+1:], '/') >= 0 {
		return netip.Prefix{}, policyError(errCIDRSlash)
	}
	ipText, bitsText := s[:slash], s[slash+1:]
	bits, err := strconv.Atoi(bitsText)
	if err != nil || bitsText == "" || bitsText[0] == '+' || bitsText[0] == '-' {
		return netip.Prefix{}, policyError(errCIDRBits)
	}
	addr, err := netip.ParseAddr(ipText)
	if err != nil || addr.Zone() != "" {
		return netip.Prefix{}, policyError("Nonstandard IP address: " + ipText)
	}
	if bits > addr.BitLen() {
		return netip.Prefix{}, policyError(errCIDRBitsRange + strconv.Itoa(addr.BitLen()))
	}
	return netip.PrefixFrom(addr, bits).Masked(), nil
}

// parseNumber converts a JSON number literal; literals beyond the float64
// range become ±Inf.
func parseNumber(lit string) float64 {
	f, _ := strconv.ParseFloat(lit, 64)
	return f
}

// decimalPlaces counts the significant digits after the decimal point of a
// JSON number literal once its exponent is applied: "3.015e2" has 1, "1e-6"
// has 6, "2.50" has 1 and "100e-2" has 0.
func decimalPlaces(lit string) int {
	mant, exp := strings.TrimPrefix(lit, "-"), 0
	if i := strings.IndexAny(mant, "eE"); i >= 0 {
		e, err := strconv.Atoi(strings.TrimPrefix(mant[i+1:], "+"))
		if err != nil {
			// An exponent beyond int: either far too small or far too large
			// (the magnitude check rejects the latter).
			if strings.HasPrefix(mant[i+1:], "-") {
				return math.MaxInt32
			}
			return 0
		}
		mant, exp = mant[:i], min(max(e, -100000), 100000)
	}
	intPart, fracPart := mant, ""
	if i := strings.IndexByte(mant, '.'); i >= 0 {
		intPart, fracPart = mant[:i], mant[i+1:]
	}
	digits := intPart + fracPart
	last := strings.LastIndexFunc(digits, func(r rune) bool { return r != '0' })
	if last < 0 {
		return 0 // the number is zero
	}
	d := last + 1 - (len(intPart) + exp)
	if d < 0 {
		return 0
	}
	return d
}
