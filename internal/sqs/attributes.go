package sqs

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"unicode"

	"github.com/sealpost/sealpost/internal/policy"
	"github.com/sealpost/sealpost/internal/store"
)

// Queue attributes
//
// Settable attributes are validated with AWS's ranges and messages and
// stored normalized: numbers as decimal text, RedrivePolicy as
// {"deadLetterTargetArn":...,"maxReceiveCount":<number>} (maxReceiveCount
// may be sent as a number or a string), RedriveAllowPolicy as
// {"redrivePermission":...[,"sourceQueueArns":[...]]}, Policy as given.
// An empty Policy, RedrivePolicy, RedriveAllowPolicy or KmsMasterKeyId
// removes it. SqsManagedSseEnabled is always stored: a new queue gets
// "true" unless it has a KmsMasterKeyId or the request says "false";
// setting a KmsMasterKeyId turns SSE-SQS off and setting
// SqsManagedSseEnabled=true removes the KmsMasterKeyId (both in one
// request are refused).

// numericAttrs are the integer attributes with their ranges and defaults.
var numericAttrs = map[string]struct{ min, max, def int }{
	"DelaySeconds":                  {0, 900, 0},
	"MaximumMessageSize":            {1024, maxMaximumMessageSize, defaultMaximumMessageSize},
	"MessageRetentionPeriod":        {60, 1209600, defaultRetentionSeconds},
	"ReceiveMessageWaitTimeSeconds": {0, 20, 0},
	"VisibilityTimeout":             {0, 43200, defaultVisibilityTimeout},
	"KmsDataKeyReusePeriodSeconds":  {60, 86400, defaultDataKeyReuse},
}

// computedAttrs are the read-only attributes.
var computedAttrs = []string{"QueueArn", "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
	"ApproximateNumberOfMessagesDelayed", "CreatedTimestamp", "LastModifiedTimestamp"}

// fifoAttrs are the attributes of FIFO queues: valid names for
// GetQueueAttributes (a standard queue answers none of them), unknown to
// a standard queue's CreateQueue and SetQueueAttributes (but FifoQueue at
// creation, see CreateQueue).
var fifoAttrs = []string{"FifoQueue", "ContentBasedDeduplication", "DeduplicationScope", "FifoThroughputLimit"}

// jsonAttrs and keyAttrs are removed by an empty value.
var removableAttrs = map[string]bool{"Policy": true, "RedrivePolicy": true, "RedriveAllowPolicy": true, "KmsMasterKeyId": true}

func unknownAttr(name string) error {
	return errf(ErrInvalidAttributeName, "Unknown Attribute %s.", name)
}

func invalidAttrValue(name string) error {
	return errf(ErrInvalidAttributeValue, "Invalid value for the parameter %s.", name)
}

func fifoRefused() error {
	return errf(ErrInvalidParameterValue, "FIFO queues are not supported yet: they come with a later Sealpost release. Create a standard queue (a name without the .fifo suffix, no FifoQueue attribute).")
}

// normalizeAttrs validates attributes a client sends for the queue k
// (CreateQueue when create, else SetQueueAttributes) and returns them
// normalized, in checking order of their names.
func (s *Service) normalizeAttrs(ctx context.Context, k store.QueueKey, in map[string]string, create bool) (map[string]string, error) {
	names := make([]string, 0, len(in))
	for n := range in {
		names = append(names, n)
	}
	sort.Strings(names)
	out := make(map[string]string, len(in))
	for _, n := range names {
		v := in[n]
		if r, ok := numericAttrs[n]; ok {
			i, ok := parseDecimal(v)
			if !ok || i < r.min || i > r.max {
				return nil, invalidAttrValue(n)
			}
			out[n] = strconv.Itoa(i)
			continue
		}
		switch n {
		case "SqsManagedSseEnabled":
			switch strings.ToLower(v) {
			case "true", "false":
				out[n] = strings.ToLower(v)
			default:
				return nil, invalidAttrValue(n)
			}
		case "KmsMasterKeyId":
			if len(v) > 2048 || strings.IndexFunc(v, unicode.IsControl) >= 0 {
				return nil, invalidAttrValue(n)
			}
			out[n] = v
		case "Policy":
			if v != "" {
				if _, err := policy.ParseWith([]byte(v), queuePolicyOptions); err != nil {
					return nil, errf(ErrInvalidAttributeValue, "Invalid value for the parameter Policy. Reason: %s", err.Error())
				}
			}
			out[n] = v
		case "RedrivePolicy":
			norm, err := s.normalizeRedrive(ctx, k, v)
			if err != nil {
				return nil, err
			}
			out[n] = norm
		case "RedriveAllowPolicy":
			norm, err := normalizeRedriveAllow(v)
			if err != nil {
				return nil, err
			}
			out[n] = norm
		case "FifoQueue":
			if !create {
				return nil, unknownAttr(n)
			}
			switch strings.ToLower(v) {
			case "true":
				return nil, fifoRefused()
			case "false": // a standard queue: nothing to store
			default:
				return nil, invalidAttrValue(n)
			}
		default:
			return nil, unknownAttr(n)
		}
	}
	if out["KmsMasterKeyId"] != "" && out["SqsManagedSseEnabled"] == "true" {
		return nil, errf(ErrInvalidAttributeName, "You can use one type of server-side encryption (SSE) at one time. You can either enable KMS SSE or SQS SSE.")
	}
	return out, nil
}

// parseDecimal reads a non-negative decimal integer (digits only, as AWS:
// no sign, spaces or fraction).
func parseDecimal(v string) (int, bool) {
	if v == "" || len(v) > 9 {
		return 0, false
	}
	for i := 0; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.Atoi(v)
	return n, err == nil
}

// applyAttrs writes normalized attributes into a record's attributes with
// the SSE rules.
func applyAttrs(attrs, in map[string]string) {
	for n, v := range in {
		if removableAttrs[n] && v == "" {
			delete(attrs, n)
			continue
		}
		attrs[n] = v
	}
	if in["KmsMasterKeyId"] != "" {
		attrs["SqsManagedSseEnabled"] = "false"
	}
	if in["SqsManagedSseEnabled"] == "true" {
		delete(attrs, "KmsMasterKeyId")
	}
}

// effectiveAttr is the value of the settable attribute name of a queue
// with the stored attrs (a default when not stored); ok is false when the
// queue has none (no Policy, ...).
func effectiveAttr(attrs map[string]string, name string) (string, bool) {
	if r, ok := numericAttrs[name]; ok {
		if v, ok := attrs[name]; ok {
			return v, true
		}
		return strconv.Itoa(r.def), true
	}
	if name == "SqsManagedSseEnabled" {
		if attrs[name] == "true" {
			return "true", true
		}
		return "false", true
	}
	v := attrs[name]
	return v, v != ""
}

// sameAttr reports whether a normalized requested value equals the
// queue's: policies are compared as JSON values.
func sameAttr(name, want, have string) bool {
	if want == have {
		return true
	}
	if name != "Policy" || want == "" || have == "" {
		return false
	}
	var a, b any
	if json.Unmarshal([]byte(want), &a) != nil || json.Unmarshal([]byte(have), &b) != nil {
		return false
	}
	return reflect.DeepEqual(a, b)
}

// invalidRedrive words a RedrivePolicy refusal as AWS does.
func invalidRedrive(raw, reason string) error {
	return errf(ErrInvalidParameterValue, "Value %s for parameter RedrivePolicy is invalid. Reason: %s", raw, reason)
}

// normalizeRedrive validates a RedrivePolicy for the source queue k: the
// dead-letter queue must exist in k's account and region and its
// RedriveAllowPolicy must allow k.
func (s *Service) normalizeRedrive(ctx context.Context, k store.QueueKey, raw string) (string, error) {
	if raw == "" {
		return "", nil
	}
	var m map[string]json.RawMessage
	dec := json.NewDecoder(strings.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil || m == nil || dec.More() {
		return "", errf(ErrInvalidAttributeValue, "Invalid value for the parameter RedrivePolicy. Reason: Redrive policy is not a valid JSON map.")
	}
	rawArn, ok := m["deadLetterTargetArn"]
	if !ok {
		return "", invalidRedrive(raw, "Redrive policy does not contain mandatory attribute: deadLetterTargetArn.")
	}
	rawMax, ok := m["maxReceiveCount"]
	if !ok {
		return "", invalidRedrive(raw, "Redrive policy does not contain mandatory attribute: maxReceiveCount.")
	}
	if len(m) > 2 {
		return "", invalidRedrive(raw, "Only following attributes are supported: [maxReceiveCount, deadLetterTargetArn].")
	}
	max, ok := intOf(rawMax)
	if !ok || max < 1 || max > 1000 {
		shown := strings.Trim(string(bytes.TrimSpace(rawMax)), `"`)
		return "", invalidRedrive(raw, "Invalid value for maxReceiveCount: "+shown+", valid values are from 1 to 1000 both inclusive.")
	}
	var arn string
	if json.Unmarshal(rawArn, &arn) != nil {
		return "", invalidRedrive(raw, "Dead-letter target ARN should be fully qualified ARN.")
	}
	p := strings.Split(arn, ":")
	if len(p) != 6 || p[0] != "arn" {
		return "", invalidRedrive(raw, "Dead-letter target ARN should be fully qualified ARN.")
	}
	if p[2] != "sqs" {
		return "", invalidRedrive(raw, "Only SQS queues are valid resources for deadLetterTargetArn.")
	}
	if strings.HasSuffix(p[5], ".fifo") {
		return "", invalidRedrive(raw, "Dead-letter queue must be same type of queue as the source.")
	}
	if p[4] != k.Account {
		return "", invalidRedrive(raw, "Dead-letter target owner should be same as the source.")
	}
	dk, ok := queueKeyOfARN(arn)
	if !ok || dk.Region != k.Region {
		return "", invalidRedrive(raw, "Dead letter target does not exist.")
	}
	dlq, err := s.st.GetQueue(ctx, dk)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return "", invalidRedrive(raw, "Dead letter target does not exist.")
		}
		return "", err
	}
	if !redriveAllows(dlq.Attributes["RedriveAllowPolicy"], QueueARN(k)) {
		return "", invalidRedrive(raw, "The dead-letter queue's RedriveAllowPolicy does not allow this queue as a source queue.")
	}
	out, _ := json.Marshal(struct {
		Arn string `json:"deadLetterTargetArn"`
		Max int    `json:"maxReceiveCount"`
	}{arn, max})
	return string(out), nil
}

// redriveAllow is a RedriveAllowPolicy.
type redriveAllow struct {
	Permission string   `json:"redrivePermission"`
	Sources    []string `json:"sourceQueueArns,omitempty"`
}

// redriveAllows reports whether the (stored) RedriveAllowPolicy raw lets
// the queue sourceARN use its queue as dead-letter queue. No policy is
// allowAll.
func redriveAllows(raw, sourceARN string) bool {
	if raw == "" {
		return true
	}
	var p redriveAllow
	if json.Unmarshal([]byte(raw), &p) != nil {
		return true // unreadable: as without a policy (never stored so)
	}
	switch p.Permission {
	case "denyAll":
		return false
	case "byQueue":
		for _, a := range p.Sources {
			if a == sourceARN {
				return true
			}
		}
		return false
	}
	return true
}

const maxRedriveSources = 10

// normalizeRedriveAllow validates a RedriveAllowPolicy.
func normalizeRedriveAllow(raw string) (string, error) {
	if raw == "" {
		return "", nil
	}
	unsupported := errf(ErrInvalidAttributeValue, "Invalid value for the parameter RedriveAllowPolicy. Reason: Amazon SQS can't create the redrive allow policy, as it's in an unsupported format.")
	reason := func(r string) error {
		return errf(ErrInvalidParameterValue, "Value %s for parameter RedriveAllowPolicy is invalid. Reason: Amazon SQS can't create the redrive allow policy. %s", raw, r)
	}
	var m map[string]json.RawMessage
	dec := json.NewDecoder(strings.NewReader(raw))
	if err := dec.Decode(&m); err != nil || m == nil || dec.More() {
		return "", unsupported
	}
	var p redriveAllow
	for k, v := range m {
		switch k {
		case "redrivePermission":
			if json.Unmarshal(v, &p.Permission) != nil {
				return "", unsupported
			}
		case "sourceQueueArns":
			if json.Unmarshal(v, &p.Sources) != nil || p.Sources == nil {
				return "", unsupported
			}
		default:
			return "", unsupported
		}
	}
	switch p.Permission {
	case "allowAll", "denyAll":
		if _, ok := m["sourceQueueArns"]; ok {
			return "", reason("To specify one or more source queue ARNs, you must set redrivePermission to byQueue.")
		}
	case "byQueue":
		if len(p.Sources) == 0 {
			return "", reason("When you specify the byQueue permission type, you must also specify one or more sourceQueueArns values.")
		}
		if len(p.Sources) > maxRedriveSources {
			return "", reason("The maximum number of source queue ARNs you can specify is 10.")
		}
		for _, a := range p.Sources {
			if _, ok := queueKeyOfARN(a); !ok {
				return "", unsupported
			}
		}
	default:
		return "", unsupported
	}
	out, _ := json.Marshal(p)
	return string(out), nil
}

// GetQueueAttributes returns the named attributes ("All" for every one);
// no names answer none. Unknown names are InvalidAttributeName.
func (s *Service) GetQueueAttributes(ctx context.Context, c *Caller, queueURL string, names []string) (map[string]string, error) {
	all := false
	for _, n := range names {
		if n == "All" {
			all = true
			continue
		}
		if !gettableAttr(n) {
			return nil, unknownAttr(n)
		}
	}
	q, err := s.queueFor(ctx, c, queueURL, "GetQueueAttributes")
	if err != nil {
		return nil, err
	}
	want := func(n string) bool {
		if all {
			return true
		}
		for _, m := range names {
			if m == n {
				return true
			}
		}
		return false
	}
	out := map[string]string{}
	if want("ApproximateNumberOfMessages") || want("ApproximateNumberOfMessagesNotVisible") || want("ApproximateNumberOfMessagesDelayed") {
		n, err := s.st.Counts(ctx, q.QueueKey, s.now())
		if err != nil {
			return nil, queueStoreErr(err)
		}
		out["ApproximateNumberOfMessages"] = strconv.Itoa(n.Visible)
		out["ApproximateNumberOfMessagesNotVisible"] = strconv.Itoa(n.InFlight)
		out["ApproximateNumberOfMessagesDelayed"] = strconv.Itoa(n.Delayed)
	}
	out["QueueArn"] = q.arn
	out["CreatedTimestamp"] = strconv.FormatInt(q.CreatedAt.Unix(), 10)
	out["LastModifiedTimestamp"] = strconv.FormatInt(q.LastModified.Unix(), 10)
	for n := range numericAttrs {
		out[n], _ = effectiveAttr(q.Attributes, n)
	}
	if q.Attributes["KmsMasterKeyId"] == "" && all {
		delete(out, "KmsDataKeyReusePeriodSeconds") // shown for SSE-KMS queues (or when asked for)
	}
	for _, n := range []string{"SqsManagedSseEnabled", "KmsMasterKeyId", "Policy", "RedrivePolicy", "RedriveAllowPolicy"} {
		if v, ok := effectiveAttr(q.Attributes, n); ok {
			out[n] = v
		}
	}
	for n := range out {
		if !want(n) {
			delete(out, n)
		}
	}
	return out, nil
}

// gettableAttr reports whether GetQueueAttributes knows name.
func gettableAttr(n string) bool {
	if _, ok := numericAttrs[n]; ok {
		return true
	}
	switch n {
	case "SqsManagedSseEnabled", "KmsMasterKeyId", "Policy", "RedrivePolicy", "RedriveAllowPolicy":
		return true
	}
	for _, m := range computedAttrs {
		if m == n {
			return true
		}
	}
	for _, m := range fifoAttrs {
		if m == n {
			return true
		}
	}
	return false
}

// SetQueueAttributes validates and sets attributes (see CreateQueue for
// the rules); LastModifiedTimestamp becomes now.
func (s *Service) SetQueueAttributes(ctx context.Context, c *Caller, queueURL string, attrs map[string]string) error {
	if len(attrs) == 0 {
		return errf(ErrMissingParameter, "The request must contain the parameter Attributes.")
	}
	q, err := s.queueFor(ctx, c, queueURL, "SetQueueAttributes")
	if err != nil {
		return err
	}
	norm, err := s.normalizeAttrs(ctx, q.QueueKey, attrs, false)
	if err != nil {
		return err
	}
	now := s.now()
	_, err = s.st.UpdateQueue(ctx, q.QueueKey, func(rec *store.Queue) error {
		if rec.Attributes == nil {
			rec.Attributes = map[string]string{}
		}
		applyAttrs(rec.Attributes, norm)
		rec.LastModified = now
		return nil
	})
	return queueStoreErr(err)
}
