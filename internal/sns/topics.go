package sns

import (
	"context"
	"encoding/json"
	"errors"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/sealpost/sealpost/internal/arn"
	"github.com/sealpost/sealpost/internal/deliverypolicy"
	"github.com/sealpost/sealpost/internal/policy"
	"github.com/sealpost/sealpost/internal/store"
)

// Tag is a topic tag.
type Tag struct{ Key, Value string }

const maxTags = 50

var topicNameRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,256}$`)

// settable topic attributes and whether SetTopicAttributes may change them.
var topicAttrs = map[string]bool{
	"Policy":                    true,
	"DisplayName":               true,
	"DeliveryPolicy":            true,
	"KmsMasterKeyId":            true,
	"SignatureVersion":          true,
	"TracingConfig":             true,
	"FifoTopic":                 false, // CreateTopic only
	"ContentBasedDeduplication": true,
	"FifoThroughputScope":       true,
	"ArchivePolicy":             true,
	"DataProtectionPolicy":      true,
}

var feedbackAttrRE = regexp.MustCompile(`^(HTTP|Firehose|Lambda|Application|SQS)(SuccessFeedbackRoleArn|SuccessFeedbackSampleRate|FailureFeedbackRoleArn)$`)

func isTopicAttr(name string) bool {
	_, ok := topicAttrs[name]
	return ok || feedbackAttrRE.MatchString(name)
}

// topicEnums lists the values of attributes that take one of a few.
var topicEnums = map[string][]string{
	"SignatureVersion":          {"1", "2"},
	"TracingConfig":             {"PassThrough", "Active"},
	"FifoTopic":                 {"true", "false"},
	"ContentBasedDeduplication": {"true", "false"},
	"FifoThroughputScope":       {"Topic", "MessageGroup"},
}

// fifoOnly lists the attributes only FIFO topics take, with AWS's reason.
var fifoOnly = map[string]string{
	"ContentBasedDeduplication": "Content-based deduplication can only be set for FIFO topics",
	"FifoThroughputScope":       "FifoThroughputScope can only be set for FIFO topics",
	"ArchivePolicy":             "ArchivePolicy can only be set for FIFO topics",
}

// validateTopicAttr checks one attribute value; fifo tells the topic type.
// inMap is true for the Attributes map of CreateTopic, whose messages AWS
// words "Invalid parameter: Attributes Reason: ...".
func validateTopicAttr(name, value string, fifo, inMap bool) error {
	bad := func(reason string) error {
		return invalid("Attributes Reason: %s: %s", name, reason)
	}
	if allowed, ok := topicEnums[name]; ok && !slices.Contains(allowed, value) {
		return invalid("%s", name)
	}
	if reason, ok := fifoOnly[name]; ok && !fifo {
		return invalid("%s Reason: %s", name, reason)
	}
	switch name {
	case "Policy":
		if value == "" {
			return nil
		}
		return validatePolicy(value)
	case "DisplayName":
		if utf8.RuneCountInString(value) > 100 || !utf8.ValidString(value) {
			return bad("DisplayName must be at most 100 characters of UTF-8")
		}
	case "DeliveryPolicy":
		if value == "" {
			return nil
		}
		if _, err := deliverypolicy.ParseTopic(value); err != nil {
			return invalid("%sDeliveryPolicy: %s", reasonPrefix(inMap), err.Error())
		}
	case "KmsMasterKeyId":
		return validateKeyID(value)
	case "SignatureVersion", "TracingConfig", "FifoTopic", "ContentBasedDeduplication", "FifoThroughputScope":
		// checked above against topicEnums and fifoOnly
	case "ArchivePolicy":
		if value != "" && !json.Valid([]byte(value)) {
			return invalid("ArchivePolicy")
		}
	case "DataProtectionPolicy":
		if len(value) > 30720 || (value != "" && !json.Valid([]byte(value))) {
			return invalid("DataProtectionPolicy")
		}
	default:
		if strings.HasSuffix(name, "SampleRate") {
			n, err := strconv.Atoi(value)
			if err != nil || n < 0 || n > 100 {
				return bad("sample rate must be an integer from 0 to 100")
			}
		} else if value != "" {
			if a, err := arn.Parse(value); err != nil || a.Service != "iam" {
				return bad("must be an IAM role ARN")
			}
		}
	}
	return nil
}

// CreateTopic creates a topic or returns the existing one with that name.
func (s *Service) CreateTopic(ctx context.Context, c Caller, name string, attrs map[string]string, tags []Tag, dataProtectionPolicy string) (string, error) {
	if name == "" {
		return "", invalid("Name")
	}
	fifo := attrs["FifoTopic"] == "true"
	if fifo {
		base, ok := strings.CutSuffix(name, ".fifo")
		if !ok || !topicNameRE.MatchString(base) || len(name) > 256 {
			return "", errf(ErrInvalidParameter, "Fifo Topic names must end with .fifo and must be made up of only uppercase and lowercase ASCII letters, numbers, underscores, and hyphens, and must be between 1 and 256 characters long.")
		}
	} else if !topicNameRE.MatchString(name) {
		return "", invalid("Topic Name")
	}
	for k, v := range attrs {
		if !isTopicAttr(k) {
			return "", invalid("Attributes Reason: Unknown attribute %s", k)
		}
		if err := validateTopicAttr(k, v, fifo, true); err != nil {
			return "", err
		}
	}
	if dataProtectionPolicy != "" {
		if err := validateTopicAttr("DataProtectionPolicy", dataProtectionPolicy, fifo, false); err != nil {
			return "", err
		}
	}
	tagMap, err := validateTags(tags)
	if err != nil {
		return "", err
	}
	if err := s.authorizeIdentity(&c, actCreateTopic, arn.SNSTopic(c.Region, c.Account, name)); err != nil {
		return "", err
	}
	if attrs["KmsMasterKeyId"] != "" {
		// Creating an SSE topic is a request to an SSE topic.
		if err := requireSecureCaller(&c); err != nil {
			return "", err
		}
	}
	if len(tagMap) > maxTags {
		return "", errf(ErrTagLimitExceeded, "Could not complete request: tag quota of per resource exceeded")
	}
	t := store.Topic{
		ARN:        arn.SNSTopic(c.Region, c.Account, name),
		Account:    c.Account,
		Region:     c.Region,
		Name:       name,
		Attributes: map[string]string{},
		Tags:       tagMap,
		CreatedAt:  s.now(),
	}
	for k, v := range attrs {
		if v != "" || k == "DisplayName" {
			t.Attributes[k] = v
		}
	}
	if !fifo {
		delete(t.Attributes, "FifoTopic")
	}
	if dataProtectionPolicy != "" {
		t.Attributes["DataProtectionPolicy"] = dataProtectionPolicy
	}
	existing, err := s.st.CreateTopic(ctx, t)
	if errors.Is(err, store.ErrExists) {
		if err := requireSecure(&c, &existing); err != nil {
			return "", err
		}
		for k, v := range attrs {
			if k == "FifoTopic" && v == "false" {
				v = ""
			}
			if existing.Attributes[k] != v {
				return "", invalid("Attributes Reason: Topic already exists with different attributes")
			}
		}
		return existing.ARN, nil
	}
	if err != nil {
		return "", err
	}
	return t.ARN, nil
}

func validateTags(tags []Tag) (map[string]string, error) {
	m := map[string]string{}
	for _, tg := range tags {
		if tg.Key == "" || utf8.RuneCountInString(tg.Key) > 128 {
			return nil, invalid("Tags Reason: Tag keys must be between 1 and 128 characters in length")
		}
		if utf8.RuneCountInString(tg.Value) > 256 {
			return nil, invalid("Tags Reason: Tag values must be between 0 and 256 characters in length")
		}
		if strings.HasPrefix(strings.ToLower(tg.Key), "aws:") {
			return nil, invalid("Tags Reason: Tag keys must not start with aws:")
		}
		m[tg.Key] = tg.Value
	}
	return m, nil
}

// topicARN checks the shape of a TopicArn parameter.
func checkTopicARN(param, s string) error {
	a, err := arn.Parse(s)
	if err != nil || a.Service != "sns" || strings.Contains(a.Resource, ":") {
		return invalid("%s", param)
	}
	return nil
}

// DeleteTopic deletes a topic and its subscriptions. Deleting a missing topic
// succeeds (AWS is idempotent here).
func (s *Service) DeleteTopic(ctx context.Context, c Caller, topicARN string) error {
	if err := checkTopicARN("TopicArn", topicARN); err != nil {
		return err
	}
	if _, err := s.accessTopic(ctx, &c, actDeleteTopic, topicARN, nil); err != nil {
		if isNotFound(err) {
			return nil
		}
		return err
	}
	s.writeBegin(topicARN)
	_, err := s.st.DeleteTopic(ctx, topicARN)
	s.writeEnd(topicARN)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	return nil
}

// ListTopics lists the caller's topics, 100 a page.
func (s *Service) ListTopics(ctx context.Context, c Caller, next string) ([]string, string, error) {
	after, err := decodeCursor(next)
	if err != nil {
		return nil, "", err
	}
	if err := s.authorizeIdentity(&c, actListTopics, arn.SNSTopic(c.Region, c.Account, "*")); err != nil {
		return nil, "", err
	}
	ts, cursor, err := s.st.ListTopics(ctx, c.Account, c.Region, store.Page{After: after, Limit: 100})
	if err != nil {
		return nil, "", err
	}
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.ARN
	}
	return out, encodeCursor(cursor), nil
}

// getTopic reads a topic from the store after checking that c may do
// action on it.
func (s *Service) getTopic(ctx context.Context, c *Caller, action, topicARN string, keys map[string][]string) (store.Topic, error) {
	if err := checkTopicARN("TopicArn", topicARN); err != nil {
		return store.Topic{}, err
	}
	if _, err := s.accessTopic(ctx, c, action, topicARN, keys); err != nil {
		return store.Topic{}, err
	}
	t, err := s.st.GetTopic(ctx, topicARN)
	if err != nil {
		return store.Topic{}, storeErr(err, ErrNotFound, "Topic does not exist")
	}
	return t, nil
}

// DefaultPolicy is the policy AWS gives a topic without one, with its
// members in AWS's order.
func DefaultPolicy(t store.Topic) string {
	type statement struct {
		Sid       string                       `json:"Sid"`
		Effect    string                       `json:"Effect"`
		Principal map[string]string            `json:"Principal"`
		Action    []string                     `json:"Action"`
		Resource  string                       `json:"Resource"`
		Condition map[string]map[string]string `json:"Condition"`
	}
	p := struct {
		Version   string      `json:"Version"`
		ID        string      `json:"Id"`
		Statement []statement `json:"Statement"`
	}{
		Version: "2008-10-17",
		ID:      "__default_policy_ID",
		Statement: []statement{{
			Sid:       defaultSid,
			Effect:    "Allow",
			Principal: map[string]string{"AWS": "*"},
			Action: []string{"SNS:GetTopicAttributes", "SNS:SetTopicAttributes", "SNS:AddPermission",
				"SNS:RemovePermission", "SNS:DeleteTopic", "SNS:Subscribe", "SNS:ListSubscriptionsByTopic", "SNS:Publish"},
			Resource:  t.ARN,
			Condition: map[string]map[string]string{"StringEquals": {"AWS:SourceOwner": t.Account}},
		}},
	}
	b, _ := json.Marshal(p)
	return string(b)
}

// GetTopicAttributes returns stored and computed attributes.
func (s *Service) GetTopicAttributes(ctx context.Context, c Caller, topicARN string) (map[string]string, error) {
	t, err := s.getTopic(ctx, &c, actGetTopicAttributes, topicARN, nil)
	if err != nil {
		return nil, err
	}
	subs, err := s.st.TopicSubscriptions(ctx, topicARN)
	if err != nil {
		return nil, err
	}
	confirmed, pending := 0, 0
	for _, sub := range subs {
		if sub.Pending {
			pending++
		} else {
			confirmed++
		}
	}
	out := map[string]string{}
	for k, v := range t.Attributes {
		if k == "DataProtectionPolicy" {
			continue
		}
		out[k] = v
	}
	fifo := t.Attributes["FifoTopic"] == "true"
	out["TopicArn"] = t.ARN
	out["Owner"] = t.Account
	if out["Policy"] == "" {
		out["Policy"] = DefaultPolicy(t)
	}
	if _, ok := out["DisplayName"]; !ok {
		out["DisplayName"] = ""
	}
	out["SubscriptionsConfirmed"] = strconv.Itoa(confirmed)
	out["SubscriptionsPending"] = strconv.Itoa(pending)
	out["SubscriptionsDeleted"] = "0"
	out["EffectiveDeliveryPolicy"] = deliverypolicy.EffectiveTopicJSON(topicDeliveryPolicy(t))
	if fifo {
		out["FifoTopic"] = "true"
		if out["ContentBasedDeduplication"] == "" {
			out["ContentBasedDeduplication"] = "false"
		}
		if out["FifoThroughputScope"] == "" {
			out["FifoThroughputScope"] = "Topic"
		}
	} else if out["TracingConfig"] == "" {
		out["TracingConfig"] = "PassThrough"
	}
	return out, nil
}

// SetTopicAttributes sets one attribute.
func (s *Service) SetTopicAttributes(ctx context.Context, c Caller, topicARN, name, value string) error {
	if err := checkTopicARN("TopicArn", topicARN); err != nil {
		return err
	}
	if name == "" {
		return invalid("AttributeName")
	}
	settable, known := topicAttrs[name]
	if !known && !feedbackAttrRE.MatchString(name) {
		return invalid("AttributeName")
	}
	if known && !settable {
		return invalid("AttributeName Reason: %s can only be set when the topic is created", name)
	}
	if _, err := s.accessTopic(ctx, &c, actSetTopicAttributes, topicARN, nil); err != nil {
		return err
	}
	s.writeBegin(topicARN)
	_, err := s.st.UpdateTopic(ctx, topicARN, func(t *store.Topic) error {
		if err := validateTopicAttr(name, value, t.Attributes["FifoTopic"] == "true", false); err != nil {
			return err
		}
		// Checked on the stored record too (the cached one accessTopic saw
		// may be older), and for turning SSE on.
		if err := requireSecure(&c, t); err != nil {
			return err
		}
		if name == "KmsMasterKeyId" && value != "" {
			if err := requireSecureCaller(&c); err != nil {
				return err
			}
		}
		if t.Attributes == nil {
			t.Attributes = map[string]string{}
		}
		if value == "" && name != "DisplayName" {
			delete(t.Attributes, name)
		} else {
			t.Attributes[name] = value
		}
		return nil
	})
	s.writeEnd(topicARN)
	return storeErr(err, ErrNotFound, "Topic does not exist")
}

// accessTag checks a tag action: the tag actions answer ResourceNotFound
// for a missing topic.
func (s *Service) accessTag(ctx context.Context, c *Caller, action, resource string) error {
	_, err := s.accessTopic(ctx, c, action, resource, nil)
	if isNotFound(err) {
		return errNoResource()
	}
	return err
}

// errNoResource is how the tag actions answer for a topic that does not
// exist, whatever the shape of the ARN given.
func errNoResource() error { return errf(ErrResourceNotFound, "Resource does not exist") }

// TagResource adds or overwrites tags.
func (s *Service) TagResource(ctx context.Context, c Caller, resource string, tags []Tag) error {
	if checkTopicARN("ResourceArn", resource) != nil {
		return errNoResource()
	}
	m, err := validateTags(tags)
	if err != nil {
		return err
	}
	if len(tags) == 0 {
		return invalid("Tags")
	}
	if err := s.accessTag(ctx, &c, actTagResource, resource); err != nil {
		return err
	}
	_, err = s.st.UpdateTopic(ctx, resource, func(t *store.Topic) error {
		if t.Tags == nil {
			t.Tags = map[string]string{}
		}
		for k, v := range m {
			t.Tags[k] = v
		}
		if len(t.Tags) > maxTags {
			return errf(ErrTagLimitExceeded, "Could not complete request: tag quota of per resource exceeded")
		}
		return nil
	})
	return storeErr(err, ErrResourceNotFound, "Resource does not exist")
}

// UntagResource removes tags.
func (s *Service) UntagResource(ctx context.Context, c Caller, resource string, keys []string) error {
	if checkTopicARN("ResourceArn", resource) != nil {
		return errNoResource()
	}
	if len(keys) == 0 {
		return invalid("TagKeys")
	}
	if err := s.accessTag(ctx, &c, actUntagResource, resource); err != nil {
		return err
	}
	_, err := s.st.UpdateTopic(ctx, resource, func(t *store.Topic) error {
		for _, k := range keys {
			delete(t.Tags, k)
		}
		return nil
	})
	return storeErr(err, ErrResourceNotFound, "Resource does not exist")
}

// ListTagsForResource lists tags sorted by key.
func (s *Service) ListTagsForResource(ctx context.Context, c Caller, resource string) ([]Tag, error) {
	if checkTopicARN("ResourceArn", resource) != nil {
		return nil, errNoResource()
	}
	if err := s.accessTag(ctx, &c, actListTagsForResource, resource); err != nil {
		return nil, err
	}
	t, err := s.st.GetTopic(ctx, resource)
	if err != nil {
		return nil, storeErr(err, ErrResourceNotFound, "Resource does not exist")
	}
	out := make([]Tag, 0, len(t.Tags))
	for k, v := range t.Tags {
		out = append(out, Tag{k, v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

var labelRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,80}$`)
var accountRE = regexp.MustCompile(`^[0-9]{12}$`)

// AddPermission adds a statement with Sid=label to the topic policy.
func (s *Service) AddPermission(ctx context.Context, c Caller, topicARN, label string, accounts, actions []string) error {
	if err := checkTopicARN("TopicArn", topicARN); err != nil {
		return err
	}
	if !labelRE.MatchString(label) {
		return invalid("Label")
	}
	if len(accounts) == 0 {
		return invalid("AWSAccountId")
	}
	if len(actions) == 0 {
		return invalid("ActionName")
	}
	principals := make([]string, 0, len(accounts))
	for _, a := range accounts {
		if !accountRE.MatchString(a) {
			return invalid("AWSAccountId")
		}
		principals = append(principals, "arn:aws:iam::"+a+":root")
	}
	acts := make([]string, 0, len(actions))
	for _, a := range actions {
		if !snsActionRE.MatchString(a) {
			return invalid("Policy statement action out of service scope!")
		}
		acts = append(acts, "SNS:"+a)
	}
	if _, err := s.accessTopic(ctx, &c, actAddPermission, topicARN, nil); err != nil {
		return err
	}
	stmt, err := policy.GrantStatement(label, principals, acts, topicARN)
	if err != nil {
		return err
	}
	s.writeBegin(topicARN)
	_, err = s.st.UpdateTopic(ctx, topicARN, func(t *store.Topic) error {
		doc := policyDoc(*t)
		if p, err := policy.ParseWith([]byte(doc), topicPolicyOptions); err == nil && p.HasSid(label) {
			return errf(ErrInvalidParameter, "Statement already exists")
		}
		if emptyPolicy(doc) {
			// Every statement was removed: start a fresh document.
			doc = `{"Version":"2008-10-17","Id":"__default_policy_ID","Statement":[]}`
			doc = doc[:len(doc)-2] + string(stmt) + "]}"
		} else {
			out, err := policy.AddStatement([]byte(doc), stmt, topicPolicyOptions)
			if err != nil {
				return errf(ErrInvalidParameter, "Invalid parameter: Policy Error: %s", err.Error())
			}
			doc = string(out)
		}
		if err := validatePolicy(doc); err != nil {
			return err
		}
		if t.Attributes == nil {
			t.Attributes = map[string]string{}
		}
		t.Attributes["Policy"] = doc
		return nil
	})
	s.writeEnd(topicARN)
	return storeErr(err, ErrNotFound, "Topic does not exist")
}

var snsActionRE = regexp.MustCompile(`^(\*|[A-Z][A-Za-z]{2,40})$`)

// defaultSid is the Sid of the default policy's statement.
const defaultSid = "__default_statement_ID"

// policyDoc is a topic's policy document: its Policy attribute or the
// default policy.
func policyDoc(t store.Topic) string {
	if raw := t.Attributes["Policy"]; raw != "" {
		return raw
	}
	return DefaultPolicy(t)
}

// emptyPolicy reports whether doc is a document whose Statement list is
// empty (what RemovePermission leaves after removing the last statement).
func emptyPolicy(doc string) bool {
	var d struct{ Statement []json.RawMessage }
	return json.Unmarshal([]byte(doc), &d) == nil && d.Statement != nil && len(d.Statement) == 0
}

// RemovePermission removes the statement with Sid=label.
func (s *Service) RemovePermission(ctx context.Context, c Caller, topicARN, label string) error {
	if err := checkTopicARN("TopicArn", topicARN); err != nil {
		return err
	}
	if label == "" {
		return invalid("Label")
	}
	if _, err := s.accessTopic(ctx, &c, actRemovePermission, topicARN, nil); err != nil {
		return err
	}
	s.writeBegin(topicARN)
	_, err := s.st.UpdateTopic(ctx, topicARN, func(t *store.Topic) error {
		doc := policyDoc(*t)
		if emptyPolicy(doc) {
			return invalid("Statement with this label does not exist")
		}
		out, removed, _, err := policy.RemoveStatement([]byte(doc), label, topicPolicyOptions)
		if err != nil {
			return errf(ErrInvalidParameter, "Invalid parameter: Policy Error: %s", err.Error())
		}
		if removed == 0 {
			return invalid("Statement with this label does not exist")
		}
		if t.Attributes == nil {
			t.Attributes = map[string]string{}
		}
		// With no statement left the document keeps an empty list, as in
		// AWS; it grants nothing (compileTopicPolicy reads it as no policy).
		t.Attributes["Policy"] = string(out)
		return nil
	})
	s.writeEnd(topicARN)
	return storeErr(err, ErrNotFound, "Topic does not exist")
}

// GetDataProtectionPolicy returns the topic's data protection policy ("" if none).
func (s *Service) GetDataProtectionPolicy(ctx context.Context, c Caller, resource string) (string, error) {
	if err := checkTopicARN("ResourceArn", resource); err != nil {
		return "", err
	}
	if _, err := s.accessTopic(ctx, &c, actGetDataProtectionPolicy, resource, nil); err != nil {
		return "", err
	}
	t, err := s.st.GetTopic(ctx, resource)
	if err != nil {
		return "", storeErr(err, ErrNotFound, "Topic does not exist")
	}
	return t.Attributes["DataProtectionPolicy"], nil
}

// PutDataProtectionPolicy stores a data protection policy. Sealpost keeps it
// but does not apply it (see README).
func (s *Service) PutDataProtectionPolicy(ctx context.Context, c Caller, resource, policy string) error {
	if err := checkTopicARN("ResourceArn", resource); err != nil {
		return err
	}
	if _, err := s.accessTopic(ctx, &c, actPutDataProtectionPolicy, resource, nil); err != nil {
		return err
	}
	_, err := s.st.UpdateTopic(ctx, resource, func(t *store.Topic) error {
		if err := validateTopicAttr("DataProtectionPolicy", policy, false, false); err != nil {
			return err
		}
		if t.Attributes == nil {
			t.Attributes = map[string]string{}
		}
		t.Attributes["DataProtectionPolicy"] = policy
		return nil
	})
	return storeErr(err, ErrNotFound, "Topic does not exist")
}

func reasonPrefix(inMap bool) string {
	if inMap {
		return "Attributes Reason: "
	}
	return ""
}
