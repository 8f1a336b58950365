package policy

import (
	"net/netip"
	"time"
)

// Subject is who makes a request, as the services that keep resource
// policies (SNS topics, SQS queues) see it: their callers convert to it to
// build requests and word refusals the same way.
type Subject struct {
	Account   string
	Principal string // ARN
	UserID    string
	SourceIP  netip.Addr
	Secure    bool
	// Identity is the caller's identity policy; nil means the principal may
	// do everything in its own account.
	Identity *Policy
	// Service, when set, makes the subject an AWS service principal (such
	// as "sns.amazonaws.com") acting for the resource SourceARN of account
	// SourceAccount: Account and Principal are ignored, no identity policy
	// applies, and requests carry aws:SourceArn and aws:SourceAccount.
	Service       string
	SourceARN     string
	SourceAccount string
}

// ActingAccount is the account s acts in: "" for anonymous callers and
// service principals.
func (s *Subject) ActingAccount() string {
	if s.Service != "" {
		return ""
	}
	return s.Account
}

// Request fills req for s doing action (the IAM action name, e.g.
// "sqs:SendMessage") on resource at now; keys are extra condition keys (nil
// for none, not modified). The global keys aws:PrincipalAccount,
// aws:PrincipalArn, aws:username, aws:userid, aws:SourceIp,
// aws:SecureTransport and aws:CurrentTime come from the typed fields
// (Request derives them); aws:SourceArn and aws:SourceAccount are set only
// for service principals.
func (s *Subject) Request(action, resource string, keys map[string][]string, now time.Time, req *Request) {
	*req = Request{
		Principal:       Principal{Account: s.Account, ARN: s.Principal, UserID: s.UserID},
		Action:          action,
		Resource:        resource,
		SourceIP:        s.SourceIP,
		SecureTransport: s.Secure,
		Time:            now,
		Context:         keys,
	}
	if s.Service == "" {
		return
	}
	req.Principal = Principal{Service: s.Service}
	ctx := make(map[string][]string, len(keys)+2)
	for k, v := range keys {
		ctx[k] = v
	}
	if s.SourceARN != "" {
		ctx["aws:SourceArn"] = []string{s.SourceARN}
	}
	if s.SourceAccount != "" {
		ctx["aws:SourceAccount"] = []string{s.SourceAccount}
	}
	req.Context = ctx
}

// IdentityDecision is what s's identity policy says about req: Allow for a
// principal without one (it may do everything in its own account),
// NotApplicable for an anonymous caller or a service principal.
func (s *Subject) IdentityDecision(req *Request) Decision {
	if s.ActingAccount() == "" {
		return NotApplicable
	}
	if s.Identity == nil {
		return Allow
	}
	return s.Identity.Evaluate(req)
}

// Refusal words a refusal as AWS does:
//
//	User: <principal> is not authorized to perform: <action> on resource:
//	<resource> <reason>
//
// where the reason names the policy kind that denied or failed to allow,
// from the identity and resource decisions and whether the caller is in the
// resource's account (same), as Decide saw them. action is the IAM action
// as the service spells it in messages ("SNS:Publish", "sqs:SendMessage").
func (s *Subject) Refusal(action, resource string, id, res Decision, same bool) string {
	who := s.Principal
	if s.Service != "" {
		who = s.Service
		id = Allow // only a resource policy can let a service in
	}
	if who == "" {
		who = "anonymous"
	}
	var reason string
	switch {
	case id == Deny:
		reason = "with an explicit deny in an identity-based policy"
	case res == Deny:
		reason = "with an explicit deny in a resource-based policy"
	case id != Allow && (same || res == Allow || res == AllowAccount):
		reason = "because no identity-based policy allows the " + action + " action"
	default:
		reason = "because no resource-based policy allows the " + action + " action"
	}
	return "User: " + who + " is not authorized to perform: " + action + " on resource: " + resource + " " + reason
}
