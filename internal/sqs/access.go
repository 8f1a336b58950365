package sqs

import (
	"context"
	"encoding/json"
	"errors"
	"sync"

	"github.com/sealpost/sealpost/internal/policy"
	"github.com/sealpost/sealpost/internal/store"
)

// Access control
//
// Every queue action is decided by the queue's policy (its Policy
// attribute) together with the caller's identity policy, with
// policy.Decide, as SNS decides topic actions:
//
//   - an explicit Deny in either policy refuses, also the queue owner;
//   - a caller of the queue's own account passes when its identity policy
//     allows (a principal without one may do everything in its own
//     account) or the queue policy allows it;
//   - a caller of another account passes only when the queue policy allows
//     it (directly, or through its account when its identity policy allows
//     too) and its identity policy allows (or it has none);
//   - a service principal (Caller.Service, e.g. sns.amazonaws.com
//     delivering for a topic) passes only when the queue policy allows it
//     directly; its requests carry aws:SourceArn and aws:SourceAccount.
//
// The actions AWS keeps to the queue's owner ("cross-account permissions
// don't apply": AddPermission, RemovePermission, SetQueueAttributes,
// DeleteQueue, TagQueue, UntagQueue, ListQueueTags) are refused to other
// accounts and services whatever the queue policy says. CreateQueue and
// ListQueues have no queue policy: only the identity policy counts. Policy
// actions are "sqs:<Action>" (batch actions as their single action, as
// AWS's IAM names them); the resource is the queue ARN. A refusal is
// AccessDenied. A stored policy that no longer parses counts as no policy.

// Queue policy limits (AWS's quotas).
const (
	maxPolicyBytes      = 8192
	maxPolicyStatements = 20
	maxPolicyPrincipals = 50
)

var queuePolicyOptions = policy.Options{
	Kind:          policy.ResourcePolicy,
	MaxBytes:      maxPolicyBytes,
	MaxStatements: maxPolicyStatements,
	MaxPrincipals: maxPolicyPrincipals,
}

// policyCache holds compiled queue policies by their text, so that a
// queue's policy is parsed once, not on every request. It forgets
// everything when full (policies change rarely; a miss only costs a
// parse). The zero value is ready.
type policyCache struct {
	mu sync.Mutex
	m  map[string]*policy.Policy // nil value: the text does not parse
}

const maxCachedPolicies = 256

// compile compiles a stored Policy attribute; nil when there is none or
// it does not parse.
func (pc *policyCache) compile(doc string) *policy.Policy {
	if doc == "" {
		return nil
	}
	pc.mu.Lock()
	p, ok := pc.m[doc]
	pc.mu.Unlock()
	if ok {
		return p
	}
	p, err := policy.ParseWith([]byte(doc), queuePolicyOptions)
	if err != nil {
		p = nil
	}
	pc.mu.Lock()
	if pc.m == nil || len(pc.m) >= maxCachedPolicies {
		pc.m = make(map[string]*policy.Policy)
	}
	pc.m[doc] = p
	pc.mu.Unlock()
	return p
}

// ownerOnly are the actions whose cross-account permissions do not apply.
var ownerOnly = map[string]bool{
	"AddPermission": true, "RemovePermission": true, "SetQueueAttributes": true, "DeleteQueue": true,
	"TagQueue": true, "UntagQueue": true, "ListQueueTags": true, "CreateQueue": true, "ListQueues": true,
}

// iamActionName is the IAM action name of an SQS action: batch actions
// are authorized as their single action.
func iamActionName(action string) string {
	switch action {
	case "SendMessageBatch":
		return "SendMessage"
	case "DeleteMessageBatch":
		return "DeleteMessage"
	case "ChangeMessageVisibilityBatch":
		return "ChangeMessageVisibility"
	}
	return action
}

// subject is c as the policy package sees it.
func (c *Caller) subject() policy.Subject {
	return policy.Subject{Account: c.Account, Principal: c.Principal, UserID: c.UserID, SourceIP: c.SourceIP,
		Secure: c.Secure, Identity: c.IdentityPolicy, Service: c.Service, SourceARN: c.SourceARN, SourceAccount: c.SourceAccount}
}

// request builds the policy request of c doing action on resource
// (policy.Subject.Request).
func (s *Service) request(c *Caller, action, resource string, req *policy.Request) {
	sub := c.subject()
	sub.Request("sqs:"+action, resource, nil, s.now(), req)
}

// account is the account c acts in: "" for anonymous callers and service
// principals.
func (c *Caller) account() string {
	sub := c.subject()
	return sub.ActingAccount()
}

// identityDecision is what c's identity policy says about req.
func identityDecision(c *Caller, req *policy.Request) policy.Decision {
	sub := c.subject()
	return sub.IdentityDecision(req)
}

// authorizeQueue decides c doing action on q.
func (s *Service) authorizeQueue(c *Caller, action string, q *queue) error {
	action = iamActionName(action)
	owner := q.Account
	same := c.account() != "" && c.account() == owner
	if q.cfg.Policy == "" && c.IdentityPolicy == nil && same {
		return nil // the development default: no policy anywhere, own account
	}
	var req policy.Request
	s.request(c, action, q.arn, &req)
	id := identityDecision(c, &req)
	pol := s.pols.compile(q.cfg.Policy)
	res := pol.Evaluate(&req)
	if !same && ownerOnly[action] {
		// Cross-account permissions do not apply: only an explicit Deny
		// changes the wording of the refusal.
		if res != policy.Deny {
			res = policy.NotApplicable
		}
		return denied(c, action, q.arn, id, res, false)
	}
	if c.Service != "" {
		same = true // only a direct grant in the queue policy lets a service in
	}
	if policy.Decide(id, res, same) {
		return nil
	}
	return denied(c, action, q.arn, id, res, same)
}

// authorizeIdentity decides an action whose resource has no policy
// (CreateQueue, ListQueues): only c's identity policy counts, and only in
// c's own account.
func (s *Service) authorizeIdentity(c *Caller, action, resource string) error {
	if c.IdentityPolicy == nil && c.account() != "" {
		return nil
	}
	var req policy.Request
	s.request(c, action, resource, &req)
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
	return &Error{Kind: ErrAccessDenied, Message: sub.Refusal("sqs:"+action, resource, id, res, same)}
}

// permissionActions are the actions AddPermission may grant (AWS's list).
var permissionActions = map[string]bool{
	"*": true, "SendMessage": true, "ReceiveMessage": true, "DeleteMessage": true, "ChangeMessageVisibility": true,
	"GetQueueAttributes": true, "GetQueueUrl": true, "ListDeadLetterSourceQueues": true, "PurgeQueue": true,
}

// maxPermissionActions is how many actions one AddPermission may grant.
const maxPermissionActions = 7

func invalidLabel(label, reason string) error {
	return errf(ErrInvalidParameterValue, "Value %s for parameter Label is invalid. Reason: %s", label, reason)
}

// AddPermission adds to the queue policy a statement with Sid label that
// allows accounts the actions on the queue, as AWS writes it (Principal
// AWS arn:aws:iam::<account>:root, Action SQS:<action>, Resource the queue
// ARN). A queue without a policy gets one with Id <queue ARN>/SQSDefaultPolicy.
func (s *Service) AddPermission(ctx context.Context, c *Caller, queueURL, label string, accounts, actions []string) error {
	if label == "" {
		return errf(ErrMissingParameter, "The request must contain the parameter Label.")
	}
	if !queueNameRE.MatchString(label) {
		return invalidLabel(label, "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length.")
	}
	if len(accounts) == 0 {
		return errf(ErrMissingParameter, "The request must contain the parameter AWSAccountIds.")
	}
	if len(actions) == 0 {
		return errf(ErrMissingParameter, "The request must contain the parameter Actions.")
	}
	if len(actions) > maxPermissionActions {
		return errf(ErrOverLimit, "%d Actions were found, maximum allowed is %d.", len(actions), maxPermissionActions)
	}
	principals := make([]string, 0, len(accounts))
	for _, a := range accounts {
		if !accountIDRE.MatchString(a) {
			return errf(ErrInvalidParameterValue, "Value %s for parameter PrincipalId is invalid. Reason: Unable to verify.", a)
		}
		principals = append(principals, "arn:aws:iam::"+a+":root")
	}
	acts := make([]string, 0, len(actions))
	for _, a := range actions {
		if !permissionActions[a] {
			return errf(ErrInvalidParameterValue, "Value SQS:%s for parameter ActionName is invalid. Reason: Only the queue owner is allowed to invoke this action.", a)
		}
		acts = append(acts, "SQS:"+a)
	}
	q, err := s.queueFor(ctx, c, queueURL, "AddPermission")
	if err != nil {
		return err
	}
	stmt, err := policy.GrantStatement(label, principals, acts, q.arn)
	if err != nil {
		return err
	}
	now := s.now()
	_, err = s.st.UpdateQueue(ctx, q.QueueKey, func(rec *store.Queue) error {
		doc := rec.Attributes["Policy"]
		if doc == "" {
			head, _ := json.Marshal(struct {
				Version string `json:"Version"`
				ID      string `json:"Id"`
			}{policy.Version2012, q.arn + "/SQSDefaultPolicy"})
			doc = string(head[:len(head)-1]) + `,"Statement":[` + string(stmt) + "]}"
			if _, err := policy.ParseWith([]byte(doc), queuePolicyOptions); err != nil {
				return errf(ErrInvalidParameterValue, "Invalid value for the parameter Policy. Reason: %s", err.Error())
			}
		} else {
			if p, err := policy.ParseWith([]byte(doc), queuePolicyOptions); err == nil && p.HasSid(label) {
				return invalidLabel(label, "Already exists.")
			}
			out, err := policy.AddStatement([]byte(doc), stmt, queuePolicyOptions)
			if err != nil {
				return errf(ErrOverLimit, "The queue policy cannot take the statement: %s", err.Error())
			}
			doc = string(out)
		}
		if rec.Attributes == nil {
			rec.Attributes = map[string]string{}
		}
		rec.Attributes["Policy"] = doc
		rec.LastModified = now
		return nil
	})
	return queueStoreErr(err)
}

// RemovePermission removes the statements with Sid label from the queue
// policy; the policy goes away with its last statement.
func (s *Service) RemovePermission(ctx context.Context, c *Caller, queueURL, label string) error {
	if label == "" {
		return errf(ErrMissingParameter, "The request must contain the parameter Label.")
	}
	q, err := s.queueFor(ctx, c, queueURL, "RemovePermission")
	if err != nil {
		return err
	}
	now := s.now()
	_, err = s.st.UpdateQueue(ctx, q.QueueKey, func(rec *store.Queue) error {
		doc := rec.Attributes["Policy"]
		if doc == "" {
			return invalidLabel(label, "can't find label on existing policy.")
		}
		out, removed, remaining, err := policy.RemoveStatement([]byte(doc), label, queuePolicyOptions)
		if err != nil || removed == 0 {
			return invalidLabel(label, "can't find label on existing policy.")
		}
		if remaining == 0 {
			delete(rec.Attributes, "Policy")
		} else {
			rec.Attributes["Policy"] = string(out)
		}
		rec.LastModified = now
		return nil
	})
	return queueStoreErr(err)
}

// queueStoreErr turns the store's ErrNotFound into QueueDoesNotExist.
func queueStoreErr(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, store.ErrNotFound) {
		return errf(ErrQueueDoesNotExist, "The specified queue does not exist.")
	}
	return err
}
