package policy

import (
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Decision is what one policy says about one request.
type Decision uint8

const (
	// NotApplicable: no statement matched the request (AWS's "default
	// deny" for this policy; another policy may still allow).
	NotApplicable Decision = iota
	// Allow: an Allow statement matched and no Deny statement did.
	Allow
	// Deny: a Deny statement matched (explicit deny; nothing overrides it).
	Deny
	// AllowAccount: an Allow statement matched the caller only through an
	// account principal (a 12-digit account id or
	// arn:aws:iam::ACCOUNT:root) and no Deny statement matched. AWS reads
	// such a grant as a delegation to the account: the caller's identity
	// policy must allow as well (Decide applies this). Only statements with
	// a Principal element produce it.
	AllowAccount
)

func (d Decision) String() string {
	switch d {
	case NotApplicable:
		return "NotApplicable"
	case Allow:
		return "Allow"
	case Deny:
		return "Deny"
	case AllowAccount:
		return "AllowAccount"
	}
	return "Decision(" + strconv.Itoa(int(d)) + ")"
}

// Principal is the caller of a request, as the server authenticated it.
//
//   - An IAM user or role session: Account and ARN set (ARN such as
//     arn:aws:iam::111122223333:user/alice); UserID optional.
//   - An account's root identity: Account set, ARN
//     arn:aws:iam::ACCOUNT:root.
//   - An AWS service acting on its own behalf (SNS delivering to a queue,
//     SNS calling KMS for a topic): Service set (e.g. "sns.amazonaws.com"),
//     Account and ARN empty.
//   - Anonymous (no credentials): the zero Principal.
type Principal struct {
	Account string
	ARN     string
	UserID  string
	Service string
}

// Anonymous reports whether p is the zero Principal.
func (p *Principal) Anonymous() bool {
	return p.Account == "" && p.ARN == "" && p.Service == "" && p.UserID == ""
}

// Request is what is being asked: who does what to which resource, and the
// request context that Condition elements and policy variables read.
//
// Context maps condition keys to their values; key names match
// case-insensitively (found fastest when spelled as in the policy, in lower
// case, or with a lower-case prefix such as aws:SourceArn), a key with no
// values counts as absent, and a key with several values is a multi-valued
// key (ForAnyValue/ForAllValues). Context entries take precedence over the
// keys Request derives from its other fields:
//
//	aws:PrincipalAccount      Principal.Account (when set)
//	aws:PrincipalArn          Principal.ARN (when set)
//	aws:PrincipalType         Account, User, AssumedRole, FederatedUser or
//	                          Anonymous, read from Principal
//	aws:username              the user name of an IAM user ARN
//	aws:userid                Principal.UserID (when set)
//	aws:PrincipalServiceName  Principal.Service (when set)
//	aws:SourceIp              SourceIP (when valid)
//	aws:SecureTransport       SecureTransport ("true"/"false"; always present)
//	aws:CurrentTime           Time (when not zero)
//	aws:EpochTime             Time (when not zero)
type Request struct {
	Principal       Principal
	Action          string // e.g. "sns:Publish"; matched case-insensitively
	Resource        string // the resource ARN; matched case-sensitively
	SourceIP        netip.Addr
	SecureTransport bool
	Time            time.Time
	Context         map[string][]string
}

// Evaluate applies the policy to req: Deny if a Deny statement applies,
// else Allow if an Allow statement applies directly, else AllowAccount if an
// Allow statement applies through an account principal only, else
// NotApplicable. A nil *Policy (or req) is NotApplicable. Evaluate does not
// modify req and may run concurrently with any number of other evaluations
// of the same Policy.
func (p *Policy) Evaluate(req *Request) Decision {
	if p == nil || req == nil {
		return NotApplicable
	}
	st := state{req: req}
	d := NotApplicable
	for i := range p.stmts {
		s := &p.stmts[i]
		if d == Allow && !s.deny {
			continue // already allowed: only a Deny can change the answer
		}
		switch s.applies(&st) {
		case matchNone:
		case matchAccount:
			if s.deny {
				return Deny
			}
			if d == NotApplicable {
				d = AllowAccount
			}
		default:
			if s.deny {
				return Deny
			}
			d = Allow
		}
	}
	return d
}

// Decide combines the decisions of a principal's identity policy and a
// resource's policy as AWS does:
//
//   - an explicit Deny in either wins;
//   - a resource policy's AllowAccount counts only if the identity policy
//     allows too (in any account);
//   - in the resource owner's account (sameAccount), identity Allow or
//     resource Allow suffices;
//   - across accounts, both must allow.
//
// A principal without an identity policy (the development default: "may do
// everything in its own account", like an account's root user) is passed as
// identity = Allow. A resource without a policy is passed as
// resource = NotApplicable. Service principals have no identity policy:
// pass identity = NotApplicable, so that only the resource policy can let
// them in.
func Decide(identity, resource Decision, sameAccount bool) bool {
	if identity == Deny || resource == Deny {
		return false
	}
	switch resource {
	case Allow:
		return sameAccount || identity == Allow
	case AllowAccount:
		return identity == Allow
	}
	return sameAccount && identity == Allow
}

// DecideResourceRequired is Decide for resources whose own policy must
// always allow, even in their own account: KMS key policies ("no IAM policy
// by itself gives access to a KMS key"; the default key policy's statement
// for the account root makes identity policies count) and IAM role trust
// policies.
func DecideResourceRequired(identity, resource Decision, sameAccount bool) bool {
	if resource != Allow && resource != AllowAccount {
		return false
	}
	return Decide(identity, resource, sameAccount)
}

// Match levels of a statement against a request.
const (
	matchNone    = 0
	matchAccount = 1 // only through an account principal
	matchDirect  = 2
)

func (s *statement) applies(st *state) int {
	req := st.req
	level := matchDirect
	if s.hasPrincipal {
		m := s.principals.match(&req.Principal)
		switch {
		case s.notPrincipal && m != matchNone, !s.notPrincipal && m == matchNone:
			return matchNone
		case !s.notPrincipal:
			level = m
		}
	}
	matched := false
	for i := range s.actions {
		if s.actions[i].match(req.Action, st) {
			matched = true
			break
		}
	}
	if matched == s.notAction {
		return matchNone
	}
	matched = false
	for i := range s.resources {
		if s.resources[i].match(req.Resource, st) {
			matched = true
			break
		}
	}
	if matched == s.notResource {
		return matchNone
	}
	for i := range s.conds {
		if !s.conds[i].eval(st) {
			return matchNone
		}
	}
	return level
}

// match reports how the set matches p: matchDirect through "*", a service
// or the caller's own ARN; matchAccount through the caller's account only.
func (ps *principalSet) match(p *Principal) int {
	if ps.any {
		return matchDirect
	}
	if p.Service != "" {
		for _, s := range ps.services {
			if strings.EqualFold(s, p.Service) {
				return matchDirect
			}
		}
		return matchNone
	}
	if p.ARN != "" {
		for _, a := range ps.arns {
			if a == p.ARN {
				return matchDirect
			}
		}
	}
	if p.Account != "" {
		for _, a := range ps.accounts {
			if a == p.Account {
				return matchAccount
			}
		}
	}
	return matchNone
}

// state is one evaluation. It lives on the stack.
type state struct {
	req *Request
}

// builtin names the keys Request derives from its fields.
type builtin uint8

const (
	bNone builtin = iota
	bPrincipalAccount
	bPrincipalArn
	bPrincipalType
	bUsername
	bUserID
	bPrincipalServiceName
	bSourceIP
	bSecureTransport
	bCurrentTime
	bEpochTime
)

var builtins = map[string]builtin{
	"aws:principalaccount":     bPrincipalAccount,
	"aws:principalarn":         bPrincipalArn,
	"aws:principaltype":        bPrincipalType,
	"aws:username":             bUsername,
	"aws:userid":               bUserID,
	"aws:principalservicename": bPrincipalServiceName,
	"aws:sourceip":             bSourceIP,
	"aws:securetransport":      bSecureTransport,
	"aws:currenttime":          bCurrentTime,
	"aws:epochtime":            bEpochTime,
}

// ckey is a compiled condition key or variable name.
type ckey struct {
	name    string // as written in the policy
	lower   string
	canon   string // service prefix in lower case: AWS:SourceOwner → aws:SourceOwner
	builtin builtin
}

func newKey(name string) ckey {
	lower := strings.ToLower(name)
	canon := name
	if prefix, rest, ok := strings.Cut(name, ":"); ok {
		canon = strings.ToLower(prefix) + ":" + rest
	}
	return ckey{name: name, lower: lower, canon: canon, builtin: builtins[lower]}
}

type vkind uint8

const (
	vNone vkind = iota
	vList
	vOne
	vTime
	vEpoch
	vIP
)

// values is the value set of one key in one request.
type values struct {
	kind vkind
	list []string
	one  string
	t    time.Time
	ip   netip.Addr
}

func (v *values) n() int {
	switch v.kind {
	case vNone:
		return 0
	case vList:
		return len(v.list)
	}
	return 1
}

func (v *values) str(i int) string {
	switch v.kind {
	case vList:
		return v.list[i]
	case vTime:
		return v.t.UTC().Format(time.RFC3339)
	case vEpoch:
		return strconv.FormatInt(v.t.Unix(), 10)
	case vIP:
		return v.ip.String()
	}
	return v.one
}

func (v *values) number(i int) (float64, bool) {
	if v.kind == vTime || v.kind == vEpoch {
		return float64(v.t.Unix()), true
	}
	return parseNumber(v.str(i))
}

func (v *values) date(i int) (time.Time, bool) {
	if v.kind == vTime || v.kind == vEpoch {
		return v.t, true
	}
	return parseDate(v.str(i))
}

func (v *values) addr(i int) (netip.Addr, bool) {
	if v.kind == vIP {
		return v.ip.Unmap(), true
	}
	a, err := netip.ParseAddr(v.str(i))
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}

func (st *state) lookup(k *ckey) values {
	if ctx := st.req.Context; len(ctx) > 0 {
		vs, ok := ctx[k.name]
		if !ok && k.canon != k.name {
			vs, ok = ctx[k.canon]
		}
		if !ok && k.lower != k.name && k.lower != k.canon {
			vs, ok = ctx[k.lower]
		}
		if !ok {
			for name, v := range ctx {
				if len(name) == len(k.name) && strings.EqualFold(name, k.name) {
					vs, ok = v, true
					break
				}
			}
		}
		if ok {
			if len(vs) == 0 {
				return values{}
			}
			return values{kind: vList, list: vs}
		}
	}
	return st.derived(k.builtin)
}

func one(s string) values {
	if s == "" {
		return values{}
	}
	return values{kind: vOne, one: s}
}

func (st *state) derived(b builtin) values {
	req := st.req
	p := &req.Principal
	switch b {
	case bPrincipalAccount:
		return one(p.Account)
	case bPrincipalArn:
		return one(p.ARN)
	case bPrincipalType:
		return one(principalType(p))
	case bUsername:
		return one(userName(p.ARN))
	case bUserID:
		return one(p.UserID)
	case bPrincipalServiceName:
		return one(p.Service)
	case bSourceIP:
		if req.SourceIP.IsValid() {
			return values{kind: vIP, ip: req.SourceIP}
		}
	case bSecureTransport:
		if req.SecureTransport {
			return one("true")
		}
		return one("false")
	case bCurrentTime:
		if !req.Time.IsZero() {
			return values{kind: vTime, t: req.Time}
		}
	case bEpochTime:
		if !req.Time.IsZero() {
			return values{kind: vEpoch, t: req.Time}
		}
	}
	return values{}
}

// variable resolves a policy variable: a key with exactly one value, or the
// variable's default.
func (st *state) variable(v *variable) (string, bool) {
	vals := st.lookup(&v.key)
	if vals.n() == 1 {
		return vals.str(0), true
	}
	if v.hasDef {
		return v.def, true
	}
	return "", false
}

// principalType derives aws:PrincipalType.
func principalType(p *Principal) string {
	if p.Service != "" {
		return ""
	}
	if p.ARN == "" {
		if p.Account == "" {
			return "Anonymous"
		}
		return "Account"
	}
	_, res, ok := arnResource(p.ARN)
	switch {
	case !ok:
		return ""
	case res == "root":
		return "Account"
	case strings.HasPrefix(res, "user/"):
		return "User"
	case strings.HasPrefix(res, "assumed-role/"):
		return "AssumedRole"
	case strings.HasPrefix(res, "federated-user/"):
		return "FederatedUser"
	}
	return ""
}

// userName returns the name of an IAM user ARN (the last path element of
// arn:aws:iam::ACCOUNT:user/path/NAME), or "".
func userName(arn string) string {
	svc, res, ok := arnResource(arn)
	if !ok || svc != "iam" || !strings.HasPrefix(res, "user/") {
		return ""
	}
	return res[strings.LastIndexByte(res, '/')+1:]
}

// arnResource returns the service and resource parts of an ARN.
func arnResource(arn string) (service, resource string, ok bool) {
	if !strings.HasPrefix(arn, "arn:") {
		return "", "", false
	}
	rest := arn[4:]
	var parts [4]string
	for i := 0; i < 4; i++ {
		j := strings.IndexByte(rest, ':')
		if j < 0 {
			return "", "", false
		}
		parts[i] = rest[:j]
		rest = rest[j+1:]
	}
	return parts[1], rest, true
}
