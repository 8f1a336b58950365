package sns

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/url"
	"strings"

	"github.com/sealpost/sealpost/internal/arn"
	"github.com/sealpost/sealpost/internal/deliverypolicy"
	"github.com/sealpost/sealpost/internal/filterpolicy"
	"github.com/sealpost/sealpost/internal/policy"
	"github.com/sealpost/sealpost/internal/store"
)

// Protocols Sealpost delivers to.
var supportedProtocols = map[string]bool{"http": true, "https": true, "sqs": true}

// Protocols AWS knows but Sealpost does not deliver to.
var awsOnlyProtocols = map[string]bool{"email": true, "email-json": true, "sms": true, "application": true, "lambda": true, "firehose": true}

var subAttrs = map[string]bool{
	"RawMessageDelivery":  true,
	"FilterPolicy":        true,
	"FilterPolicyScope":   true,
	"DeliveryPolicy":      true,
	"RedrivePolicy":       true,
	"SubscriptionRoleArn": true,
	"ReplayPolicy":        true,
}

// PendingConfirmation is the SubscriptionArn shown for unconfirmed subscriptions.
const PendingConfirmation = "pending confirmation"

func validateEndpoint(protocol, endpoint string) error {
	switch protocol {
	case "http", "https":
		u, err := url.Parse(endpoint)
		if err != nil || u.Scheme != protocol || u.Host == "" || len(endpoint) > 2048 {
			return invalid("Endpoint Reason: An %s URL must start with %s://", strings.ToUpper(protocol), protocol)
		}
	case "sqs":
		a, err := arn.Parse(endpoint)
		if err != nil || a.Service != "sqs" || a.Account == "" || a.Region == "" || strings.Contains(a.Resource, ":") {
			return invalid("SQS endpoint ARN")
		}
	}
	return nil
}

// validateSubAttr checks one subscription attribute. all holds the other
// attributes after the change (for FilterPolicyScope/FilterPolicy pairs);
// viaSubscribe selects the form of AWS's filter policy messages.
// regionOf is the region of a topic ARN ("" if it does not parse).
func regionOf(topicARN string) string {
	a, err := arn.Parse(topicARN)
	if err != nil {
		return ""
	}
	return a.Region
}

// validateSubAttr checks one attribute of a subscription of account in
// region (the subscriber's; a RedrivePolicy's dead-letter queue must be
// there, as AWS requires).
func validateSubAttr(protocol, name, value string, all map[string]string, viaSubscribe bool, account, region string) error {
	switch name {
	case "RawMessageDelivery":
		if value != "true" && value != "false" {
			return invalid("Attributes Reason: RawMessageDelivery: Invalid value [%s]. Must be true or false.", value)
		}
	case "FilterPolicy", "FilterPolicyScope":
		scope, err := filterpolicy.ParseScope(all["FilterPolicyScope"])
		if err != nil {
			return invalid("Attributes Reason: FilterPolicyScope: Invalid value [%s]. Please use either MessageBody or MessageAttributes", all["FilterPolicyScope"])
		}
		if fp := all["FilterPolicy"]; fp != "" {
			if _, err := filterpolicy.Parse(fp, scope); err != nil {
				var fe *filterpolicy.Error
				if errors.As(err, &fe) {
					return errf(ErrInvalidParameter, "%s", fe.APIMessage(viaSubscribe))
				}
				return invalid("FilterPolicy: %s", err.Error())
			}
		}
	case "DeliveryPolicy":
		if protocol != "http" && protocol != "https" {
			return invalid("Attributes Reason: DeliveryPolicy: Delivery policy can only be set for HTTP/S subscriptions")
		}
		if value != "" {
			if _, err := deliverypolicy.ParseSubscription(value); err != nil {
				return invalid("%sDeliveryPolicy: %s", reasonPrefix(viaSubscribe), err.Error())
			}
		}
	case "RedrivePolicy":
		if value == "" {
			return nil
		}
		var rp struct {
			DeadLetterTargetArn string `json:"deadLetterTargetArn"`
		}
		dec := json.NewDecoder(strings.NewReader(value))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&rp); err != nil {
			return invalid("RedrivePolicy: Redrive policy is not a valid JSON document")
		}
		a, err := arn.Parse(rp.DeadLetterTargetArn)
		if err != nil || a.Service != "sqs" {
			return invalid("RedrivePolicy: deadLetterTargetArn is invalid")
		}
		if account != "" && (a.Account != account || a.Region != region) {
			// AWS: "The Amazon SNS subscription and Amazon SQS queue must be
			// under the same AWS account and Region."
			return invalid("RedrivePolicy: the dead-letter queue %s must be in the subscription's account (%s) and Region (%s)",
				Clip(rp.DeadLetterTargetArn, 256), account, region)
		}
	case "SubscriptionRoleArn":
		if value != "" {
			if a, err := arn.Parse(value); err != nil || a.Service != "iam" {
				return invalid("SubscriptionRoleArn")
			}
		}
	case "ReplayPolicy":
		if value != "" && !json.Valid([]byte(value)) {
			return invalid("ReplayPolicy")
		}
	default:
		return invalid("AttributeName")
	}
	return nil
}

// SubscribeResult is what Subscribe returns.
type SubscribeResult struct {
	ARN     string
	Pending bool
}

// Subscribe creates a subscription (or returns the existing one for the same
// protocol and endpoint). HTTP/S subscriptions start pending and are sent a
// SubscriptionConfirmation; SQS subscriptions by the queue's owner are
// confirmed at once, those to another account's queue start pending and
// the confirmation is sent into the queue (as AWS does).
func (s *Service) Subscribe(ctx context.Context, c Caller, topicARN, protocol, endpoint string, attrs map[string]string) (SubscribeResult, error) {
	if err := checkTopicARN("TopicArn", topicARN); err != nil {
		return SubscribeResult{}, err
	}
	if protocol == "" {
		return SubscribeResult{}, invalid("Protocol")
	}
	if !supportedProtocols[protocol] {
		if awsOnlyProtocols[protocol] {
			return SubscribeResult{}, invalid("Protocol Reason: Sealpost delivers to http, https and sqs endpoints only; %s subscriptions are not supported", protocol)
		}
		return SubscribeResult{}, invalid("Amazon SNS does not support this protocol string: %s (Sealpost supports http, https and sqs)", Clip(protocol, 64))
	}
	if err := validateEndpoint(protocol, endpoint); err != nil {
		return SubscribeResult{}, err
	}
	if s.opts.CheckEndpoint != nil && (protocol == "http" || protocol == "https") {
		if err := s.opts.CheckEndpoint(ctx, endpoint); err != nil {
			return SubscribeResult{}, invalid("Endpoint Reason: %s", err.Error())
		}
	}
	clean := map[string]string{}
	for k, v := range attrs {
		if !subAttrs[k] {
			return SubscribeResult{}, invalid("Attributes Reason: Unknown attribute %s", k)
		}
		clean[k] = v
	}
	for k, v := range clean {
		if err := validateSubAttr(protocol, k, v, clean, true, c.Account, regionOf(topicARN)); err != nil {
			return SubscribeResult{}, err
		}
	}
	for k, v := range clean {
		if v == "" || (k == "FilterPolicy" && isEmptyPolicy(v)) {
			delete(clean, k)
		}
	}
	keys := map[string][]string{"sns:Endpoint": {endpoint}, "sns:Protocol": {protocol}}
	t, err := s.getTopic(ctx, &c, actSubscribe, topicARN, keys)
	if err != nil {
		return SubscribeResult{}, err
	}
	if t.Attributes["FifoTopic"] == "true" && protocol != "sqs" {
		return SubscribeResult{}, invalid("Invalid protocol type: %s", protocol)
	}
	now := s.now()
	sub := store.Subscription{
		ARN:        topicARN + ":" + newUUID(),
		TopicARN:   topicARN,
		Account:    c.Account,
		Region:     c.Region,
		Protocol:   protocol,
		Endpoint:   endpoint,
		Attributes: clean,
		CreatedAt:  now,
	}
	if protocol == "http" || protocol == "https" || (protocol == "sqs" && !queueOwnedBy(endpoint, c.Account)) {
		// HTTP/S endpoints, and queues of another account (AWS: only
		// the queue owner's subscriptions need no confirmation; the
		// SubscriptionConfirmation goes into the queue, whose reader
		// confirms with its token).
		sub.Pending = true
		sub.Token = newToken()
		sub.TokenExpiresAt = now.Add(s.opts.ConfirmationTTL)
	}
	s.writeBegin(topicARN)
	got, err := s.st.CreateSubscription(ctx, sub)
	s.writeEnd(topicARN)
	if errors.Is(err, store.ErrExists) {
		for k, v := range clean {
			if got.Attributes[k] != v {
				return SubscribeResult{}, invalid("Attributes Reason: Subscription already exists with different attributes")
			}
		}
		if got.Pending {
			// A repeated Subscribe resends the confirmation with a fresh token.
			got, err = s.st.UpdateSubscription(ctx, got.ARN, func(x *store.Subscription) error {
				x.Token = newToken()
				x.TokenExpiresAt = now.Add(s.opts.ConfirmationTTL)
				return nil
			})
			if err != nil {
				return SubscribeResult{}, err
			}
			if err := s.sendControl(ctx, got, TypeSubscriptionConfirmation); err != nil {
				return SubscribeResult{}, err
			}
		}
		return SubscribeResult{ARN: got.ARN, Pending: got.Pending}, nil
	}
	if err != nil {
		return SubscribeResult{}, storeErr(err, ErrNotFound, "Topic does not exist")
	}
	if sub.Pending {
		if err := s.sendControl(ctx, sub, TypeSubscriptionConfirmation); err != nil {
			return SubscribeResult{}, err
		}
	}
	return SubscribeResult{ARN: sub.ARN, Pending: sub.Pending}, nil
}

// queueOwnedBy reports whether the queue ARN belongs to account.
func queueOwnedBy(queueARN, account string) bool {
	a, err := arn.Parse(queueARN)
	return err == nil && a.Account == account
}

func isEmptyPolicy(v string) bool {
	var m map[string]any
	return json.Unmarshal([]byte(v), &m) == nil && len(m) == 0
}

// sendControl durably queues a SubscriptionConfirmation or
// UnsubscribeConfirmation for one subscription.
func (s *Service) sendControl(ctx context.Context, sub store.Subscription, typ string) error {
	now := s.now()
	meta := Meta{Type: typ, Token: sub.Token, SubscriptionARN: sub.ARN}
	if typ == TypeUnsubscribeConfirmation {
		// The subscription is gone by the time this is delivered.
		meta.Protocol, meta.Endpoint = sub.Protocol, sub.Endpoint
	}
	id := newUUID()
	var text string
	if typ == TypeSubscriptionConfirmation {
		text = "You have chosen to subscribe to the topic " + sub.TopicARN + ".\nTo confirm the subscription, visit the SubscribeURL included in this message."
	} else {
		text = "You have chosen to deactivate subscription " + sub.ARN + ".\nTo cancel this operation and restore the subscription, visit the SubscribeURL included in this message."
	}
	m := store.Message{ID: id, TopicARN: sub.TopicARN, CreatedAt: now, Meta: meta.Encode(), Body: []byte(text)}
	return s.st.Publish(ctx, []store.Publication{{Message: m, Deliveries: []store.Delivery{{SubscriptionARN: sub.ARN, MessageID: id, NextAttemptAt: now}}}})
}

// ConfirmSubscription confirms with a token sent in a SubscriptionConfirmation.
func (s *Service) ConfirmSubscription(ctx context.Context, c Caller, topicARN, token string, authenticateOnUnsubscribe bool) (string, error) {
	if err := checkTopicARN("TopicArn", topicARN); err != nil {
		return "", err
	}
	if token == "" || len(token) > 2048 {
		return "", invalid("Token")
	}
	// Whoever holds the token may confirm (AWS asks no permission).
	ts, err := s.topicState(ctx, topicARN)
	if err != nil {
		return "", err
	}
	if c.Signed {
		// Unsigned, this is the SubscribeURL link, whose token is the
		// credential; a signed API call to an SSE topic needs TLS.
		if err := requireSecure(&c, &ts.topic); err != nil {
			return "", err
		}
	}
	subs, err := s.st.TopicSubscriptions(ctx, topicARN)
	if err != nil {
		return "", err
	}
	for _, sub := range subs {
		if sub.Token == "" || sub.Token != token {
			continue
		}
		if !sub.Pending {
			return sub.ARN, nil
		}
		if s.now().After(sub.TokenExpiresAt) {
			return "", invalid("Token Reason: the confirmation token has expired")
		}
		s.writeBegin(topicARN)
		_, err := s.st.UpdateSubscription(ctx, sub.ARN, func(x *store.Subscription) error {
			x.Pending = false
			if authenticateOnUnsubscribe && c.Authenticated {
				x.ConfirmationWasAuthenticated = true
			}
			return nil
		})
		s.writeEnd(topicARN)
		if err != nil {
			return "", storeErr(err, ErrNotFound, "Subscription does not exist")
		}
		return sub.ARN, nil
	}
	return "", invalid("Token")
}

func checkSubARN(s string) error {
	a, err := arn.Parse(s)
	if err != nil || a.Service != "sns" || strings.Count(a.Resource, ":") != 1 {
		return invalid("SubscriptionArn")
	}
	return nil
}

// Unsubscribe deletes a subscription. An unsigned request (UnsubscribeURL)
// may not delete a subscription confirmed with AuthenticateOnUnsubscribe;
// it sends the endpoint a final UnsubscribeConfirmation.
func (s *Service) Unsubscribe(ctx context.Context, c Caller, subARN string) error {
	if err := checkSubARN(subARN); err != nil {
		return err
	}
	sub, err := s.st.GetSubscription(ctx, subARN)
	if err != nil {
		return storeErr(err, ErrNotFound, "Subscription does not exist")
	}
	if sub.ConfirmationWasAuthenticated && !c.Authenticated {
		return errf(ErrAuthorization, "Unsubscribe requires authentication for this subscription")
	}
	if c.Signed {
		// A signed request acts as its principal: the subscription's or the
		// topic's owner (an unsigned UnsubscribeURL click is let in by the
		// subscription ARN it knows, as in AWS).
		if err := s.authorizeSubscription(ctx, &c, actUnsubscribe, sub); err != nil {
			return err
		}
	}
	s.writeBegin(sub.TopicARN)
	err = s.st.DeleteSubscription(ctx, subARN)
	s.writeEnd(sub.TopicARN)
	if err != nil {
		return storeErr(err, ErrNotFound, "Subscription does not exist")
	}
	if !c.Signed && !sub.Pending && (sub.Protocol == "http" || sub.Protocol == "https") {
		if sub.Token == "" {
			sub.Token = newToken()
		}
		return s.sendControl(ctx, sub, TypeUnsubscribeConfirmation)
	}
	return nil
}

// SubscriptionSummary is one row of ListSubscriptions.
type SubscriptionSummary struct {
	SubscriptionArn, Owner, Protocol, Endpoint, TopicArn string
}

func summary(sub store.Subscription) SubscriptionSummary {
	a := sub.ARN
	if sub.Pending {
		a = "PendingConfirmation"
	}
	return SubscriptionSummary{SubscriptionArn: a, Owner: sub.Account, Protocol: sub.Protocol, Endpoint: sub.Endpoint, TopicArn: sub.TopicARN}
}

func encodeCursor(after string) string {
	if after == "" {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString([]byte(after))
}

func decodeCursor(next string) (string, error) {
	if next == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(next)
	if err != nil || !strings.HasPrefix(string(b), "arn:") {
		return "", invalid("NextToken")
	}
	return string(b), nil
}

// ListSubscriptions lists the caller's subscriptions, 100 a page.
func (s *Service) ListSubscriptions(ctx context.Context, c Caller, next string) ([]SubscriptionSummary, string, error) {
	after, err := decodeCursor(next)
	if err != nil {
		return nil, "", err
	}
	if err := s.authorizeIdentity(&c, actListSubscriptions, arn.SNSTopic(c.Region, c.Account, "*")); err != nil {
		return nil, "", err
	}
	subs, cursor, err := s.st.ListSubscriptions(ctx, c.Account, c.Region, store.Page{After: after, Limit: 100})
	if err != nil {
		return nil, "", err
	}
	out := make([]SubscriptionSummary, len(subs))
	for i, sub := range subs {
		out[i] = summary(sub)
	}
	return out, encodeCursor(cursor), nil
}

// ListSubscriptionsByTopic lists a topic's subscriptions, 100 a page.
func (s *Service) ListSubscriptionsByTopic(ctx context.Context, c Caller, topicARN, next string) ([]SubscriptionSummary, string, error) {
	if err := checkTopicARN("TopicArn", topicARN); err != nil {
		return nil, "", err
	}
	after, err := decodeCursor(next)
	if err != nil {
		return nil, "", err
	}
	if _, err := s.accessTopic(ctx, &c, actListSubscriptionsByTopic, topicARN, nil); err != nil {
		return nil, "", err
	}
	subs, cursor, err := s.st.ListSubscriptionsByTopic(ctx, topicARN, store.Page{After: after, Limit: 100})
	if err != nil {
		return nil, "", storeErr(err, ErrNotFound, "Topic does not exist")
	}
	out := make([]SubscriptionSummary, len(subs))
	for i, sub := range subs {
		out[i] = summary(sub)
	}
	return out, encodeCursor(cursor), nil
}

// GetSubscriptionAttributes returns stored and computed attributes.
func (s *Service) GetSubscriptionAttributes(ctx context.Context, c Caller, subARN string) (map[string]string, error) {
	if checkSubARN(subARN) != nil {
		// AWS answers NotFound for any subscription it does not know.
		return nil, errf(ErrNotFound, "Subscription does not exist")
	}
	sub, err := s.st.GetSubscription(ctx, subARN)
	if err != nil {
		return nil, storeErr(err, ErrNotFound, "Subscription does not exist")
	}
	if err := s.authorizeSubscription(ctx, &c, actGetSubscriptionAttrs, sub); err != nil {
		return nil, err
	}
	out := map[string]string{}
	for k, v := range sub.Attributes {
		out[k] = v
	}
	out["SubscriptionArn"] = sub.ARN
	out["TopicArn"] = sub.TopicARN
	out["Owner"] = sub.Account
	out["Protocol"] = sub.Protocol
	out["Endpoint"] = sub.Endpoint
	out["PendingConfirmation"] = boolStr(sub.Pending)
	out["ConfirmationWasAuthenticated"] = boolStr(sub.ConfirmationWasAuthenticated)
	out["SubscriptionPrincipal"] = "arn:aws:iam::" + sub.Account + ":root"
	if out["RawMessageDelivery"] == "" {
		out["RawMessageDelivery"] = "false"
	}
	if out["FilterPolicy"] != "" && out["FilterPolicyScope"] == "" {
		out["FilterPolicyScope"] = "MessageAttributes"
	}
	if sub.Protocol == "http" || sub.Protocol == "https" {
		p, err := s.EffectiveDeliveryPolicy(ctx, sub)
		if err == nil {
			out["EffectiveDeliveryPolicy"] = deliverypolicy.EffectiveSubscriptionJSON(p)
		}
	}
	return out, nil
}

// EffectiveDeliveryPolicy merges the subscription's, its topic's and the
// default HTTP/S delivery policy.
func (s *Service) EffectiveDeliveryPolicy(ctx context.Context, sub store.Subscription) (deliverypolicy.Policy, error) {
	var tp *deliverypolicy.TopicPolicy
	if t, err := s.st.GetTopic(ctx, sub.TopicARN); err == nil {
		tp = topicDeliveryPolicy(t)
	}
	return effectivePolicy(tp, sub), nil
}

func boolStr(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// SetSubscriptionAttributes sets one attribute.
func (s *Service) SetSubscriptionAttributes(ctx context.Context, c Caller, subARN, name, value string) error {
	if err := checkSubARN(subARN); err != nil {
		return err
	}
	if !subAttrs[name] {
		return invalid("AttributeName")
	}
	cur, err := s.st.GetSubscription(ctx, subARN)
	if err != nil {
		return storeErr(err, ErrNotFound, "Subscription does not exist")
	}
	if err := s.authorizeSubscription(ctx, &c, actSetSubscriptionAttrs, cur); err != nil {
		return err
	}
	s.writeBegin(cur.TopicARN)
	defer s.writeEnd(cur.TopicARN)
	_, err = s.st.UpdateSubscription(ctx, subARN, func(x *store.Subscription) error {
		all := map[string]string{}
		for k, v := range x.Attributes {
			all[k] = v
		}
		all[name] = value
		if err := validateSubAttr(x.Protocol, name, value, all, false, x.Account, regionOf(x.TopicARN)); err != nil {
			return err
		}
		if x.Attributes == nil {
			x.Attributes = map[string]string{}
		}
		if value == "" || (name == "FilterPolicy" && isEmptyPolicy(value)) {
			delete(x.Attributes, name)
		} else {
			x.Attributes[name] = value
		}
		return nil
	})
	if err != nil {
		return storeErr(err, ErrNotFound, "Subscription does not exist")
	}
	return nil
}

// authorizeSubscription decides a subscription action (Unsubscribe,
// Get/SetSubscriptionAttributes). Subscriptions have no policy of their
// own: as in AWS, the subscription's owner (the account that subscribed)
// and the topic's owner may act on it, each as far as its identity policy
// allows the action on the topic; a topic policy statement that denies the
// action to the caller refuses too. Others are refused.
func (s *Service) authorizeSubscription(ctx context.Context, c *Caller, action string, sub store.Subscription) error {
	owner := sub.Account
	var pol *policy.Policy
	ts, err := s.topicState(ctx, sub.TopicARN)
	if err == nil {
		pol = ts.policy
		if c.Account != sub.Account {
			owner = ts.topic.Account
		}
	} else if !isNotFound(err) {
		return err
	}
	var req policy.Request
	s.request(c, action, sub.TopicARN, nil, &req)
	id := identityDecision(c, &req)
	res := pol.Evaluate(&req)
	if res != policy.Deny && c.account() != "" && c.account() == owner && id == policy.Allow {
		if ts != nil {
			// A subscription of an SSE topic is part of it.
			return requireSecure(c, &ts.topic)
		}
		return nil
	}
	if res == policy.Allow || res == policy.AllowAccount {
		res = policy.NotApplicable // the topic policy cannot grant subscription actions
	}
	return denied(c, action, sub.ARN, id, res, c.account() != "" && c.account() == owner)
}
