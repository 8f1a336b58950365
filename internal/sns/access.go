package sns

import (
	"github.com/sealpost/sealpost/internal/policy"
)

// Access control
//
// Every topic action is decided by the topic's policy (its Policy attribute,
// compiled once when the topic is loaded into the cache) together with the
// caller's identity policy, with policy.Decide:
//
//   - an explicit Deny in either policy refuses, also the topic owner;
//   - a caller of the topic's own account passes when its identity policy
//     allows (a principal without one may do everything in its own account)
//     or the topic policy allows it;
//   - a caller of another account passes only when the topic policy allows
//     it (directly, or through its account when its identity policy allows
//     too) and its identity policy allows (or it has none).
//
// The default topic policy AWS shows (Principal AWS "*" on condition
// StringEquals AWS:SourceOwner = the owner's account) is not stored: a
// topic without a Policy attribute has no policy. Sealpost does not set
// aws:SourceOwner (nor aws:SourceAccount, aws:SourceArn) for direct callers:
// those keys describe the resource on whose behalf an AWS service acts. So
// the default statement grants nothing to a direct caller, and a user of the
// owner's account is let in by its identity policy alone: a user whose
// identity policy allows only sns:Publish on one topic cannot delete it.
// Service principals are not callers of this API yet; Caller.Service,
// SourceARN and SourceAccount are the hook for them (request sets the
// aws:SourceArn and aws:SourceAccount keys).
//
// Topic policies are cached with the topic: a policy changed through this
// Service applies to the next request; one changed through another node
// applies within Options.CacheTTL. A stored policy that no longer parses
// (written before policies were validated) counts as no policy.

// Topic policy limits (AWS's quotas).
const (
	maxPolicyBytes      = 30 << 10
	maxPolicyStatements = 100
	maxPolicyPrincipals = 200
)

// topicPolicyOptions parse a topic's Policy attribute.
var topicPolicyOptions = policy.Options{
	Kind:          policy.ResourcePolicy,
	MaxBytes:      maxPolicyBytes,
	MaxStatements: maxPolicyStatements,
	MaxPrincipals: maxPolicyPrincipals,
}

// compileTopicPolicy compiles a stored Policy attribute; nil when there is
// none or it does not parse.
func compileTopicPolicy(doc string) *policy.Policy {
	if doc == "" {
		return nil
	}
	p, err := policy.ParseWith([]byte(doc), topicPolicyOptions)
	if err != nil {
		return nil
	}
	return p
}

// validatePolicy checks a Policy attribute value as AWS does, answering
// InvalidParameter "Invalid parameter: Policy Error: <problem>".
func validatePolicy(doc string) error {
	if _, err := policy.ParseWith([]byte(doc), topicPolicyOptions); err != nil {
		return errf(ErrInvalidParameter, "Invalid parameter: Policy Error: %s", err.Error())
	}
	return nil
}

// Actions as the IAM policy language names them. The refusal message
// writes them with the "SNS:" prefix, as AWS does.
const (
	actAddPermission            = "AddPermission"
	actCreateTopic              = "CreateTopic"
	actDeleteTopic              = "DeleteTopic"
	actGetDataProtectionPolicy  = "GetDataProtectionPolicy"
	actGetSubscriptionAttrs     = "GetSubscriptionAttributes"
	actGetTopicAttributes       = "GetTopicAttributes"
	actListSubscriptions        = "ListSubscriptions"
	actListSubscriptionsByTopic = "ListSubscriptionsByTopic"
	actListTagsForResource      = "ListTagsForResource"
	actListTopics               = "ListTopics"
	actPublish                  = "Publish"
	actPutDataProtectionPolicy  = "PutDataProtectionPolicy"
	actRemovePermission         = "RemovePermission"
	actSetSubscriptionAttrs     = "SetSubscriptionAttributes"
	actSetTopicAttributes       = "SetTopicAttributes"
	actSubscribe                = "Subscribe"
	actTagResource              = "TagResource"
	actUnsubscribe              = "Unsubscribe"
	actUntagResource            = "UntagResource"
)

// iamAction is "sns:" + name without allocating for the known actions.
var iamAction = map[string]string{}

func init() {
	for _, a := range []string{actAddPermission, actCreateTopic, actDeleteTopic, actGetDataProtectionPolicy,
		actGetSubscriptionAttrs, actGetTopicAttributes, actListSubscriptions, actListSubscriptionsByTopic,
		actListTagsForResource, actListTopics, actPublish, actPutDataProtectionPolicy, actRemovePermission,
		actSetSubscriptionAttrs, actSetTopicAttributes, actSubscribe, actTagResource, actUnsubscribe, actUntagResource} {
		iamAction[a] = "sns:" + a
	}
}

// subject is c as the policy package sees it.
func (c *Caller) subject() policy.Subject {
	return policy.Subject{Account: c.Account, Principal: c.Principal, UserID: c.UserID, SourceIP: c.SourceIP,
		Secure: c.Secure, Identity: c.IdentityPolicy, Service: c.Service, SourceARN: c.SourceARN, SourceAccount: c.SourceAccount}
}

// request builds the policy request of c doing action on resource; keys
// are extra condition keys (nil for none): policy.Subject.Request.
func (s *Service) request(c *Caller, action, resource string, keys map[string][]string, req *policy.Request) {
	sub := c.subject()
	sub.Request(iamAction[action], resource, keys, s.now(), req)
}

// account is the account c acts in: "" for anonymous callers and service
// principals.
func (c *Caller) account() string {
	sub := c.subject()
	return sub.ActingAccount()
}

// identityDecision is what c's identity policy says about req
// (policy.Subject.IdentityDecision).
func identityDecision(c *Caller, req *policy.Request) policy.Decision {
	sub := c.subject()
	return sub.IdentityDecision(req)
}

// authorizeTopic decides c doing action on the topic owned by owner with
// policy pol; keys adds service-specific condition keys (sns:Endpoint,
// sns:Protocol) and may be nil.
func (s *Service) authorizeTopic(c *Caller, action, topicARN, owner string, pol *policy.Policy, keys map[string][]string) error {
	if pol == nil && c.IdentityPolicy == nil && c.Service == "" && c.Account != "" && c.Account == owner {
		return nil // the development default: no policy anywhere, own account
	}
	var req policy.Request
	s.request(c, action, topicARN, keys, &req)
	id := identityDecision(c, &req)
	res := pol.Evaluate(&req)
	same := c.account() != "" && c.account() == owner
	if c.Service != "" {
		// A service principal has no identity policy: a direct grant in the
		// topic policy is all it needs (policy.Decide's "own account" rule).
		same = true
	}
	if policy.Decide(id, res, same) {
		return nil
	}
	return denied(c, action, topicARN, id, res, same)
}

// authorizeIdentity decides an action whose resource has no policy (creating
// and listing topics, subscription actions): only c's identity policy counts,
// and only in c's own account.
func (s *Service) authorizeIdentity(c *Caller, action, resource string) error {
	if c.IdentityPolicy == nil && c.account() != "" {
		return nil
	}
	var req policy.Request
	s.request(c, action, resource, nil, &req)
	id := identityDecision(c, &req)
	if policy.Decide(id, policy.NotApplicable, true) {
		return nil
	}
	return denied(c, action, resource, id, policy.NotApplicable, true)
}

// denied is the refusal of c doing action on resource, worded as AWS does
// (policy.Subject.Refusal).
func denied(c *Caller, action, resource string, id, res policy.Decision, same bool) error {
	sub := c.subject()
	return &Error{Kind: ErrAuthorization, Message: sub.Refusal("SNS:"+action, resource, id, res, same)}
}
