package policy

import (
	"bytes"
	"strconv"
	"strings"
)

// Kind says which kind of policy a document must be.
type Kind uint8

const (
	// AnyKind accepts statements with or without Principal/NotPrincipal. A
	// statement without one applies to every principal.
	AnyKind Kind = iota
	// ResourcePolicy (topic, queue and key policies): every statement must
	// have Principal or NotPrincipal.
	ResourcePolicy
	// IdentityPolicy (attached to a user): no statement may have Principal
	// or NotPrincipal.
	IdentityPolicy
)

// Limits that apply when Options leaves them zero.
const (
	DefaultMaxBytes = 128 << 10
)

// Options tunes Parse. The zero value is AnyKind with DefaultMaxBytes and no
// limit on statements or principals beyond the size. Services set their own
// quotas here (SNS topic policies: 30 KB, 100 statements, 200 principals).
type Options struct {
	Kind          Kind
	MaxBytes      int // document size; 0 means DefaultMaxBytes
	MaxStatements int // 0 means no limit
	MaxPrincipals int // principals per statement; 0 means no limit
}

// Versions of the policy language.
const (
	Version2012 = "2012-10-17"
	Version2008 = "2008-10-17"
)

// Policy is a parsed, compiled policy document. It is immutable and safe for
// concurrent use.
type Policy struct {
	version string
	id      string
	stmts   []statement
}

type statement struct {
	actionText   []string // as written, for Statements
	resourceText []string
	sid          string
	deny         bool
	hasPrincipal bool
	notPrincipal bool
	principals   principalSet
	notAction    bool
	actions      []pattern
	notResource  bool
	resources    []arnPattern
	conds        []cond
}

// principalSet is a compiled Principal or NotPrincipal element.
type principalSet struct {
	any      bool     // "*" or {"AWS": "*"}
	accounts []string // account ids (also from arn:...:iam::ACCOUNT:root)
	arns     []string // user, role and session ARNs, matched exactly
	services []string // service principals such as sns.amazonaws.com
}

// Version returns the document's Version, "" when it had none.
func (p *Policy) Version() string { return p.version }

// ID returns the document's Id, "" when it had none.
func (p *Policy) ID() string { return p.id }

// Len returns the number of statements.
func (p *Policy) Len() int { return len(p.stmts) }

// Sids returns the statements' Sids in document order ("" for a statement
// without one).
func (p *Policy) Sids() []string {
	out := make([]string, len(p.stmts))
	for i := range p.stmts {
		out[i] = p.stmts[i].sid
	}
	return out
}

// HasSid reports whether a statement has the given Sid.
func (p *Policy) HasSid(sid string) bool {
	for i := range p.stmts {
		if p.stmts[i].sid == sid {
			return true
		}
	}
	return false
}

// StatementInfo describes one statement, for services that check rules of
// their own on top of the language (SNS: every action in the sns: namespace,
// every resource the topic's ARN).
type StatementInfo struct {
	Sid         string
	Deny        bool
	Actions     []string // Action or NotAction entries, as written
	NotAction   bool
	Resources   []string // Resource or NotResource entries, as written
	NotResource bool
}

// Statements describes the statements in document order. The slices are
// copies: callers may keep or change them.
func (p *Policy) Statements() []StatementInfo {
	out := make([]StatementInfo, len(p.stmts))
	for i := range p.stmts {
		s := &p.stmts[i]
		out[i] = StatementInfo{
			Sid:         s.sid,
			Deny:        s.deny,
			Actions:     append([]string(nil), s.actionText...),
			NotAction:   s.notAction,
			Resources:   append([]string(nil), s.resourceText...),
			NotResource: s.notResource,
		}
	}
	return out
}

// Parse parses and compiles a policy document with the zero Options.
func Parse(doc []byte) (*Policy, error) {
	return ParseWith(doc, Options{})
}

// ParseWith parses and compiles a policy document. Every error is an *Error
// and matches ErrInvalid.
func ParseWith(doc []byte, o Options) (*Policy, error) {
	maxBytes := o.MaxBytes
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBytes
	}
	if len(doc) > maxBytes {
		return nil, docErr("the policy is larger than " + strconv.Itoa(maxBytes) + " bytes")
	}
	if len(bytes.TrimSpace(doc)) == 0 {
		return nil, docErr("the policy is empty")
	}
	root, msg := decodeJSON(doc)
	if msg != "" {
		return nil, docErr(msg)
	}
	if root.kind != jObject {
		return nil, docErr("the policy must be a JSON object, got " + root.kind.String())
	}
	p := &Policy{}
	for _, m := range root.obj {
		switch m.name {
		case "Version":
			if m.val.kind != jString {
				return nil, docErr("Version must be a string, got " + m.val.kind.String())
			}
			if m.val.str != Version2012 && m.val.str != Version2008 {
				return nil, docErr("unsupported Version " + quote(m.val.str) + " (use " + Version2012 + " or " + Version2008 + ")")
			}
			p.version = m.val.str
		case "Id":
			if m.val.kind != jString {
				return nil, docErr("Id must be a string, got " + m.val.kind.String())
			}
			p.id = m.val.str
		case "Statement":
		default:
			return nil, docErr("unknown policy element " + quote(m.name) + " (elements are Version, Id and Statement; names are case-sensitive)")
		}
	}
	sv, ok := root.member("Statement")
	if !ok {
		return nil, docErr("missing Statement")
	}
	var list []*jval
	switch sv.kind {
	case jObject:
		list = []*jval{sv}
	case jArray:
		list = sv.arr
	case jNull:
		return nil, docErr("Statement must not be null")
	default:
		return nil, docErr("Statement must be an object or a list of objects, got " + sv.kind.String())
	}
	if len(list) == 0 {
		return nil, docErr("Statement must not be empty")
	}
	if o.MaxStatements > 0 && len(list) > o.MaxStatements {
		return nil, docErr("the policy has " + strconv.Itoa(len(list)) + " statements, more than the limit of " + strconv.Itoa(o.MaxStatements))
	}
	vars := p.version == Version2012
	sids := map[string]int{}
	p.stmts = make([]statement, len(list))
	for i, sv := range list {
		s := &p.stmts[i]
		if msg := s.compile(sv, vars, o); msg != "" {
			return nil, &Error{Statement: i, Sid: s.sid, Problem: msg}
		}
		if s.sid != "" {
			if j, dup := sids[s.sid]; dup {
				return nil, &Error{Statement: i, Sid: s.sid, Problem: "duplicate Sid (also used by Statement[" + strconv.Itoa(j) + "])"}
			}
			sids[s.sid] = i
		}
	}
	return p, nil
}

func docErr(msg string) *Error { return &Error{Statement: -1, Problem: msg} }

var statementElements = map[string]bool{
	"Sid": true, "Effect": true, "Principal": true, "NotPrincipal": true,
	"Action": true, "NotAction": true, "Resource": true, "NotResource": true,
	"Condition": true,
}

func (s *statement) compile(v *jval, vars bool, o Options) string {
	if v.kind != jObject {
		return "a statement must be an object, got " + v.kind.String()
	}
	if sid, ok := v.member("Sid"); ok {
		if sid.kind != jString {
			return "Sid must be a string, got " + sid.kind.String()
		}
		s.sid = sid.str
	}
	for _, m := range v.obj {
		if !statementElements[m.name] {
			return "unknown statement element " + quote(m.name) + " (names are case-sensitive)"
		}
	}

	effect, ok := v.member("Effect")
	switch {
	case !ok:
		return "missing Effect"
	case effect.kind != jString:
		return "Effect must be a string, got " + effect.kind.String()
	case effect.str == "Allow":
	case effect.str == "Deny":
		s.deny = true
	default:
		return "invalid Effect " + quote(effect.str) + ": must be \"Allow\" or \"Deny\""
	}

	pv, hasP := v.member("Principal")
	npv, hasNP := v.member("NotPrincipal")
	switch {
	case hasP && hasNP:
		return "Principal and NotPrincipal cannot both be present"
	case (hasP || hasNP) && o.Kind == IdentityPolicy:
		return "an identity policy cannot have Principal or NotPrincipal"
	case !hasP && !hasNP && o.Kind == ResourcePolicy:
		return "missing Principal or NotPrincipal"
	case hasP:
		s.hasPrincipal = true
		if msg := s.principals.compile("Principal", pv, o.MaxPrincipals); msg != "" {
			return msg
		}
	case hasNP:
		s.hasPrincipal, s.notPrincipal = true, true
		if msg := s.principals.compile("NotPrincipal", npv, o.MaxPrincipals); msg != "" {
			return msg
		}
	}

	name, av, msg := oneOf(v, "Action", "NotAction")
	if msg != "" {
		return msg
	}
	s.notAction = name == "NotAction"
	actions, msg := stringList(name, av)
	if msg != "" {
		return msg
	}
	s.actionText = actions
	for _, a := range actions {
		if msg := checkAction(a); msg != "" {
			return name + ": " + msg
		}
		s.actions = append(s.actions, compilePattern(a, true, false, true))
	}

	name, rv, msg := oneOf(v, "Resource", "NotResource")
	if msg != "" {
		return msg
	}
	s.notResource = name == "NotResource"
	resources, msg := stringList(name, rv)
	if msg != "" {
		return msg
	}
	s.resourceText = resources
	for _, r := range resources {
		if r != "*" && !strings.HasPrefix(r, "arn:") {
			return name + ": invalid resource " + quote(r) + ": must be \"*\" or an ARN"
		}
		s.resources = append(s.resources, compileARNPattern(r, vars))
	}

	if cv, ok := v.member("Condition"); ok {
		conds, msg := compileConditions(cv, vars)
		if msg != "" {
			return msg
		}
		s.conds = conds
	}
	return ""
}

// oneOf returns the element present of a pair that must have exactly one.
func oneOf(v *jval, a, b string) (string, *jval, string) {
	av, hasA := v.member(a)
	bv, hasB := v.member(b)
	switch {
	case hasA && hasB:
		return "", nil, a + " and " + b + " cannot both be present"
	case hasA:
		return a, av, ""
	case hasB:
		return b, bv, ""
	}
	return "", nil, "missing " + a + " or " + b
}

// stringList reads a string or a non-empty list of strings.
func stringList(name string, v *jval) ([]string, string) {
	switch v.kind {
	case jString:
		return []string{v.str}, ""
	case jArray:
		if len(v.arr) == 0 {
			return nil, name + " must not be an empty list"
		}
		out := make([]string, 0, len(v.arr))
		for _, e := range v.arr {
			if e.kind != jString {
				return nil, name + " must be a string or a list of strings, found " + e.kind.String() + " in the list"
			}
			out = append(out, e.str)
		}
		return out, ""
	}
	return nil, name + " must be a string or a list of strings, got " + v.kind.String()
}

// checkAction accepts "*" and service:pattern, such as sns:Publish, SNS:*,
// kms:GenerateDataKey*.
func checkAction(a string) string {
	if a == "*" {
		return ""
	}
	prefix, rest, ok := strings.Cut(a, ":")
	if !ok || prefix == "" || rest == "" {
		return "invalid action " + quote(a) + ": must be \"*\" or service:action, such as sns:Publish"
	}
	for i := 0; i < len(prefix); i++ {
		c := prefix[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return "invalid action " + quote(a) + ": bad service prefix"
		}
	}
	for i := 0; i < len(rest); i++ {
		c := rest[i]
		if c <= ' ' || c >= 0x7f || c == ':' {
			return "invalid action " + quote(a) + ": bad action name"
		}
	}
	return ""
}

func (ps *principalSet) compile(elem string, v *jval, maxPrincipals int) string {
	if v.kind == jString {
		if v.str == "*" {
			ps.any = true
			return ""
		}
		return elem + " must be \"*\" or an object such as {\"AWS\": \"123456789012\"}, got " + quote(v.str)
	}
	if v.kind != jObject {
		return elem + " must be \"*\" or an object, got " + v.kind.String()
	}
	if len(v.obj) == 0 {
		return elem + " must not be empty"
	}
	count := 0
	for _, m := range v.obj {
		vals, msg := stringList(elem+" "+m.name, m.val)
		if msg != "" {
			return msg
		}
		count += len(vals)
		if maxPrincipals > 0 && count > maxPrincipals {
			return elem + " names more than " + strconv.Itoa(maxPrincipals) + " principals"
		}
		switch m.name {
		case "AWS":
			for _, p := range vals {
				if msg := ps.addAWS(p); msg != "" {
					return elem + ": " + msg
				}
			}
		case "Service":
			for _, s := range vals {
				if s == "" || strings.ContainsAny(s, " \t\r\n*?") {
					return elem + ": invalid service principal " + quote(s)
				}
				ps.services = append(ps.services, strings.ToLower(s))
			}
		case "Federated", "CanonicalUser":
			return elem + ": " + m.name + " principals are not supported"
		default:
			return elem + ": unknown principal type " + quote(m.name) + " (use AWS or Service)"
		}
	}
	return ""
}

func (ps *principalSet) addAWS(p string) string {
	if p == "*" {
		ps.any = true
		return ""
	}
	if isAccountID(p) {
		ps.accounts = append(ps.accounts, p)
		return ""
	}
	bad := "invalid principal " + quote(p) + ": use \"*\", an account id, arn:aws:iam::ACCOUNT:root or a user or role ARN"
	pieces := strings.SplitN(p, ":", 6)
	if len(pieces) != 6 || pieces[0] != "arn" || pieces[1] == "" || pieces[3] != "" || !isAccountID(pieces[4]) {
		return bad
	}
	if strings.ContainsAny(p, "*?") {
		return "invalid principal " + quote(p) + ": wildcards are only allowed as \"*\" alone"
	}
	res := pieces[5]
	switch pieces[2] {
	case "iam":
		switch {
		case res == "root":
			ps.accounts = append(ps.accounts, pieces[4])
			return ""
		case len(res) > len("user/") && strings.HasPrefix(res, "user/"),
			len(res) > len("role/") && strings.HasPrefix(res, "role/"):
			ps.arns = append(ps.arns, p)
			return ""
		}
	case "sts":
		if len(res) > len("assumed-role/") && strings.HasPrefix(res, "assumed-role/") ||
			len(res) > len("federated-user/") && strings.HasPrefix(res, "federated-user/") {
			ps.arns = append(ps.arns, p)
			return ""
		}
	}
	return bad
}

func isAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
