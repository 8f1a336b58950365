package filterpolicy

import (
	"strconv"
	"strings"
	"sync"
)

// Attribute is one message attribute as published.
type Attribute struct {
	// Type is the DataType: "String", "String.Array", "Number" or
	// "Binary", optionally with a custom suffix ("String.custom" is a
	// String). Binary attributes are ignored, as AWS does: for matching they
	// do not exist.
	Type string
	// Value is the StringValue. For String.Array it is the JSON array text,
	// e.g. `["a", 1, true, null]`.
	Value string
}

type attrKind uint8

const (
	attrIgnored attrKind = iota
	attrString
	attrNumber
	attrArray
)

func kindOf(typ string) attrKind {
	switch typ {
	case "String.Array", "Number.Array":
		// Number.Array is not an SNS data type, but the AWS numeric-matching
		// page uses it as an array in an example; it is read like
		// String.Array.
		return attrArray
	}
	base := typ
	if i := strings.IndexByte(typ, '.'); i >= 0 {
		base = typ[:i]
	}
	switch base {
	case "String":
		return attrString
	case "Number":
		return attrNumber
	}
	return attrIgnored
}

// numberScalar reads a Number attribute value. Only decimal notation counts
// as a number (strconv would also take "Inf" or hex floats).
func numberScalar(s string) scalar {
	v := scalar{kind: jNumber}
	if s == "" {
		return v
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && c != '.' && c != '-' && c != '+' && c != 'e' && c != 'E' {
			return v
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); !ok || ne.Err != strconv.ErrRange {
			return v
		}
	}
	v.q, v.numOK = quantize(f), true
	return v
}

// Match applies the policy to a message according to the policy's scope:
// the attributes for MessageAttributes, the body for MessageBody. A nil
// policy matches everything.
func (p *Policy) Match(attrs map[string]Attribute, body []byte) bool {
	if p == nil {
		return true
	}
	if p.scope == ScopeMessageBody {
		return p.MatchBody(body)
	}
	return p.MatchAttributes(attrs)
}

// MatchString is Match for a body held as a string; it avoids copying the
// body.
func (p *Policy) MatchString(attrs map[string]Attribute, body string) bool {
	if p == nil {
		return true
	}
	if p.scope == ScopeMessageBody {
		return p.MatchBodyString(body)
	}
	return p.MatchAttributes(attrs)
}

// MatchAttributes applies the policy to message attributes, whatever its
// scope. (A payload policy's nested keys would be looked up as attributes
// named with the dotted path, e.g. "a.b".)
func (p *Policy) MatchAttributes(attrs map[string]Attribute) bool {
	if p == nil {
		return true
	}
	var st *matchState
	ok := false
	for ti := range p.terms {
		all := true
		for _, c := range p.terms[ti].conds {
			if !matchAttribute(c, attrs, &st) {
				all = false
				break
			}
		}
		if all {
			ok = true
			break
		}
	}
	if st != nil {
		putState(st)
	}
	return ok
}

// matchAttribute evaluates one condition against the attributes.
//
// String.Array semantics: a value pattern (exact, prefix, numeric, ...)
// matches when any element matches. An anything-but pattern matches when the
// array has at least one element and none of the elements is ruled out; this
// follows the current AWS documentation ("For String.Array type attributes,
// it matches if none of the array elements are listed in the policy
// property"), not the 2022 wording ("because it contains a value that isn't
// rugby or tennis"). exists asks about the attribute, not its elements.
func matchAttribute(c *cond, attrs map[string]Attribute, stp **matchState) bool {
	vl := c.vals
	a, present := attrs[c.path]
	kind := attrIgnored
	if present {
		kind = kindOf(a.Type)
	}
	if kind == attrIgnored {
		return vl.existsFalse
	}
	if vl.existsTrue {
		return true
	}
	switch kind {
	case attrString:
		v := scalar{kind: jString, s: a.Value}
		return vl.matchLeaf(&v)
	case attrNumber:
		v := numberScalar(a.Value)
		return vl.matchLeaf(&v)
	}

	st := *stp
	if st == nil {
		st = getState()
		*stp = st
	}
	root, ok := st.jp.parse(a.Value)
	if !ok || st.jp.nodes[root].kind != jArray {
		return false
	}
	nodes := st.jp.nodes
	for e := nodes[root].first; e >= 0; e = nodes[e].next {
		if nodes[e].kind < jArray {
			v := st.scalarAt(e)
			if vl.matchValue(&v) {
				return true
			}
		}
	}
	for i := range vl.buts {
		seen, excluded := false, false
		for e := nodes[root].first; e >= 0; e = nodes[e].next {
			if nodes[e].kind < jArray {
				seen = true
				v := st.scalarAt(e)
				if vl.buts[i].excludes(&v) {
					excluded = true
					break
				}
			}
		}
		if seen && !excluded {
			return true
		}
	}
	return false
}

// MatchBody applies the policy to a message body, whatever its scope. The
// body must be a JSON object; anything else never matches. It copies the
// body once; MatchBodyString does not.
func (p *Policy) MatchBody(body []byte) bool {
	if p == nil {
		return true
	}
	return p.MatchBodyString(string(body))
}

// MatchBodyString is MatchBody for a body held as a string.
//
// Body semantics, following the AWS rule engine that payload filtering uses:
//   - A policy path (keys joined with ".") names the leaves of the body
//     found along the same path. Dots inside key names are not special on
//     either side, so the policy key "a.b" and the nested policy
//     {"a":{"b":...}} both match {"a":{"b":1}} and {"a.b":1}.
//   - Arrays are transparent: a leaf inside an array (at any depth) is found
//     at the path of the array, and a value pattern matches when any element
//     matches. Conditions of one term that lead into the same array must be
//     met by the same element (array consistency).
//   - Only leaves (strings, numbers, true, false, null) are values; an
//     object or an empty array at the path is not a value.
//   - {"exists": true} matches when a value is present; {"exists": false}
//     matches when no value is present anywhere in the body at the path.
//   - anything-but matches a present value that it does not rule out; with
//     an array, any element it does not rule out.
func (p *Policy) MatchBodyString(body string) bool {
	if p == nil {
		return true
	}
	st := getState()
	ok := st.matchBody(p, body)
	putState(st)
	return ok
}

// dfsBudget bounds the work (node visits) spent resolving ambiguous paths:
// body keys that contain dots and overlap other keys, so that a condition
// could descend into more than one member. Past it, the remaining
// alternatives are treated as not matching.
const dfsBudget = 1 << 16

// matchState is the per-call scratch space, pooled so that steady-state
// matching does not allocate.
type matchState struct {
	jp       jparser
	refs     []condRef
	cands    []cand
	counts   []int32
	chosen   []cand
	presence []int8
	// budget counts the nodes visited while resolving ambiguous paths;
	// inSearch is set while doing so.
	budget   int
	inSearch int
}

// condRef is a condition on its way down the body: rem is the part of its
// path still to be matched; leaf is set when the path has been consumed and
// the current node must itself be a value.
type condRef struct {
	c    *cond
	rem  string
	leaf bool
}

// cand is a possible step of condition refs[ref] into child node child.
type cand struct {
	ref   int32
	child int32
	rem   string
	leaf  bool
}

var statePool = sync.Pool{New: func() any { return new(matchState) }}

// maxPooledNodes keeps unusually large node slices out of the pool.
const maxPooledNodes = 1 << 16

func getState() *matchState {
	return statePool.Get().(*matchState)
}

func putState(st *matchState) {
	// Drop references to the message and to policies.
	if cap(st.jp.nodes) > maxPooledNodes {
		st.jp.nodes = nil
	} else {
		clear(st.jp.nodes[:max(st.jp.used, len(st.jp.nodes))])
		st.jp.nodes = st.jp.nodes[:0]
	}
	st.jp.used = 0
	st.jp.s = ""
	clear(st.refs[:cap(st.refs)])
	st.refs = st.refs[:0]
	clear(st.cands[:cap(st.cands)])
	st.cands = st.cands[:0]
	clear(st.chosen[:cap(st.chosen)])
	st.chosen = st.chosen[:0]
	st.counts = st.counts[:0]
	statePool.Put(st)
}

func (st *matchState) scalarAt(ni int32) scalar {
	n := &st.jp.nodes[ni]
	switch n.kind {
	case jString:
		return scalar{kind: jString, s: n.str}
	case jNumber:
		if n.numState == 0 {
			n.num = quantize(parseNumber(n.str))
			n.numState = 1
		}
		return scalar{kind: jNumber, q: n.num, numOK: true}
	}
	return scalar{kind: n.kind}
}

func (st *matchState) matchBody(p *Policy, body string) bool {
	root, ok := st.jp.parse(body)
	if !ok || st.jp.nodes[root].kind != jObject {
		return false
	}
	return st.matchParsed(p, root)
}

// matchParsed applies p to the body already parsed into st.jp, whose root
// object is node root. It leaves st ready for the next policy.
func (st *matchState) matchParsed(p *Policy, root int32) bool {
	st.presence = st.presence[:0]
	if p.hasAbsentOK {
		for range p.paths {
			st.presence = append(st.presence, 0)
		}
	}
	st.budget = dfsBudget
	st.inSearch = 0
	for ti := range p.terms {
		if st.matchTerm(&p.terms[ti], root) {
			return true
		}
	}
	return false
}

func (st *matchState) matchTerm(t *term, root int32) bool {
	base := len(st.refs)
	for _, c := range t.conds {
		if c.vals.existsFalse {
			if !st.present(c, root) {
				continue // satisfied by absence
			}
			if !c.vals.positive {
				st.refs = st.refs[:base]
				return false
			}
		}
		st.refs = append(st.refs, condRef{c: c, rem: c.path})
	}
	ok := st.matchAll(st.refs[base:], root)
	st.refs = st.refs[:base]
	return ok
}

// present reports whether the body has a value at the condition's path.
func (st *matchState) present(c *cond, root int32) bool {
	switch st.presence[c.pathID] {
	case 1:
		return true
	case 2:
		return false
	}
	if st.has(c.path, false, root) {
		st.presence[c.pathID] = 1
		return true
	}
	st.presence[c.pathID] = 2
	return false
}

func (st *matchState) has(rem string, leaf bool, ni int32) bool {
	nodes := st.jp.nodes
	switch nodes[ni].kind {
	case jArray:
		for ch := nodes[ni].first; ch >= 0; ch = nodes[ch].next {
			if st.has(rem, leaf, ch) {
				return true
			}
		}
		return false
	case jObject:
		if leaf {
			return false
		}
		for ch := nodes[ni].first; ch >= 0; ch = nodes[ch].next {
			k := nodes[ch].key
			if rem == k {
				if st.has("", true, ch) {
					return true
				}
			} else if len(rem) > len(k) && rem[len(k)] == '.' && rem[:len(k)] == k {
				if st.has(rem[len(k)+1:], false, ch) {
					return true
				}
			}
		}
		return false
	}
	return leaf
}

// matchAll reports whether every condition in refs is met within node ni,
// consistently: where the node or its descendants are arrays, all the
// conditions entering an array are met by one element of it.
func (st *matchState) matchAll(refs []condRef, ni int32) bool {
	if len(refs) == 0 {
		return true
	}
	if st.inSearch > 0 {
		st.budget--
		if st.budget < 0 {
			return false
		}
	}
	nodes := st.jp.nodes
	switch nodes[ni].kind {
	case jArray:
		allLeaves := true
		for i := range refs {
			if !refs[i].leaf {
				allLeaves = false
				break
			}
		}
		if allLeaves && len(refs) > 1 {
			// Conditions that end at this array each need some element;
			// consistency only concerns fields of the same element.
			for i := range refs {
				if !st.matchAll(refs[i:i+1], ni) {
					return false
				}
			}
			return true
		}
		for ch := nodes[ni].first; ch >= 0; ch = nodes[ch].next {
			if st.matchAll(refs, ch) {
				return true
			}
		}
		return false
	case jObject:
		for i := range refs {
			if refs[i].leaf {
				return false // an object is not a value
			}
		}
		return st.matchObject(refs, ni)
	}
	v := st.scalarAt(ni)
	for i := range refs {
		if !refs[i].leaf || !refs[i].c.vals.matchLeaf(&v) {
			return false
		}
	}
	return true
}

func (st *matchState) matchObject(refs []condRef, ni int32) bool {
	nodes := st.jp.nodes
	cbase := len(st.cands)
	for ch := nodes[ni].first; ch >= 0; ch = nodes[ch].next {
		k := nodes[ch].key
		for i := range refs {
			rem := refs[i].rem
			if rem == k {
				st.cands = append(st.cands, cand{ref: int32(i), child: ch, leaf: true})
			} else if len(rem) > len(k) && rem[len(k)] == '.' && rem[:len(k)] == k {
				st.cands = append(st.cands, cand{ref: int32(i), child: ch, rem: rem[len(k)+1:]})
			}
		}
	}
	cands := st.cands[cbase:]
	kbase := len(st.counts)
	for range refs {
		st.counts = append(st.counts, 0)
	}
	counts := st.counts[kbase:]
	for i := range cands {
		counts[cands[i].ref]++
	}
	ok, ambiguous := true, false
	for _, n := range counts {
		if n == 0 {
			ok = false
			break
		}
		if n > 1 {
			ambiguous = true
		}
	}
	if ok {
		if !ambiguous {
			// One candidate per condition, already in child order.
			ok = st.evalGroups(refs, cands)
		} else {
			chbase := len(st.chosen)
			for range refs {
				st.chosen = append(st.chosen, cand{})
			}
			st.inSearch++
			ok = st.search(refs, cands, 0, st.chosen[chbase:])
			st.inSearch--
			st.chosen = st.chosen[:chbase]
		}
	}
	st.counts = st.counts[:kbase]
	st.cands = st.cands[:cbase]
	return ok
}

// search tries every way of sending each condition into one of its candidate
// children (only needed when body keys contain dots).
func (st *matchState) search(refs []condRef, cands []cand, i int, chosen []cand) bool {
	if st.budget < 0 {
		return false
	}
	if i == len(refs) {
		// Order the choice by child, keeping it stable, then evaluate.
		tbase := len(st.chosen)
		st.chosen = append(st.chosen, chosen...)
		sorted := st.chosen[tbase:]
		for a := 1; a < len(sorted); a++ {
			for b := a; b > 0 && sorted[b].child < sorted[b-1].child; b-- {
				sorted[b], sorted[b-1] = sorted[b-1], sorted[b]
			}
		}
		ok := st.evalGroups(refs, sorted)
		st.chosen = st.chosen[:tbase]
		return ok
	}
	for _, cd := range cands {
		if int(cd.ref) != i {
			continue
		}
		chosen[i] = cd
		if st.search(refs, cands, i+1, chosen) {
			return true
		}
		if st.budget < 0 {
			return false
		}
	}
	return false
}

// evalGroups checks a choice of one candidate per condition, ordered by
// child: the conditions sent into the same child are matched there together.
func (st *matchState) evalGroups(refs []condRef, chosen []cand) bool {
	for i := 0; i < len(chosen); {
		child := chosen[i].child
		rbase := len(st.refs)
		j := i
		for ; j < len(chosen) && chosen[j].child == child; j++ {
			cd := chosen[j]
			st.refs = append(st.refs, condRef{c: refs[cd.ref].c, rem: cd.rem, leaf: cd.leaf})
		}
		ok := st.matchAll(st.refs[rbase:], child)
		st.refs = st.refs[:rbase]
		if !ok {
			return false
		}
		i = j
	}
	return true
}
