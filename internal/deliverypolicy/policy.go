package deliverypolicy

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"
)

// Backoff function names.
const (
	BackoffLinear      = "linear"
	BackoffArithmetic  = "arithmetic"
	BackoffGeometric   = "geometric"
	BackoffExponential = "exponential"
)

// AWS defaults and limits for HTTP/S delivery.
const (
	DefaultMinDelayTarget    = 20
	DefaultMaxDelayTarget    = 20
	DefaultNumRetries        = 3
	DefaultBackoffFunction   = BackoffLinear
	DefaultHeaderContentType = "text/plain; charset=UTF-8"

	MaxDelayTargetLimit = 3600               // seconds
	MaxNumRetries       = 100                // numRetries upper bound
	MaxTotalRetryTime   = 3600 * time.Second // sum of all retry delays
)

// Retry is a healthy retry policy. Delays are in whole seconds.
type Retry struct {
	MinDelayTarget     int
	MaxDelayTarget     int
	NumRetries         int
	NumNoDelayRetries  int
	NumMinDelayRetries int
	NumMaxDelayRetries int
	BackoffFunction    string // linear | arithmetic | geometric | exponential
}

// Policy is the delivery policy in force for one HTTP/S subscription.
type Policy struct {
	Retry                Retry
	MaxReceivesPerSecond int // 0 = no throttle
	HeaderContentType    string
}

// Default returns the AWS default HTTP/S delivery policy: 3 retries 20 s
// apart (linear from 20 s to 20 s), no throttling, and the Content-Type
// "text/plain; charset=UTF-8".
func Default() Policy {
	return Policy{
		Retry: Retry{
			MinDelayTarget:  DefaultMinDelayTarget,
			MaxDelayTarget:  DefaultMaxDelayTarget,
			NumRetries:      DefaultNumRetries,
			BackoffFunction: DefaultBackoffFunction,
		},
		HeaderContentType: DefaultHeaderContentType,
	}
}

// optional retry members, to render "null" for the ones a document omitted.
type fieldSet uint8

const (
	setNoDelay fieldSet = 1 << iota
	setMinDelay
	setMaxDelay
	setBackoff
)

// TopicPolicy is a parsed topic DeliveryPolicy attribute. Absent sections
// are nil / zero. HealthyRetry, when present, has its omitted optional
// fields filled with their defaults (0 and "linear").
type TopicPolicy struct {
	HealthyRetry                 *Retry // http.defaultHealthyRetryPolicy
	DisableSubscriptionOverrides bool   // http.disableSubscriptionOverrides
	MaxReceivesPerSecond         int    // http.defaultThrottlePolicy.maxReceivesPerSecond; 0 = absent
	HeaderContentType            string // http.defaultRequestPolicy.headerContentType; "" = absent

	hasHTTP bool     // the document had an "http" object
	given   fieldSet // optional retry members present in the document
}

// SubscriptionPolicy is a parsed subscription DeliveryPolicy attribute.
// Absent sections are nil / zero; HealthyRetry is filled as in TopicPolicy.
type SubscriptionPolicy struct {
	HealthyRetry         *Retry // healthyRetryPolicy
	MaxReceivesPerSecond int    // throttlePolicy.maxReceivesPerSecond; 0 = absent
	HeaderContentType    string // requestPolicy.headerContentType; "" = absent

	given fieldSet
}

// Effective merges the system defaults, the topic policy and the
// subscription policy (either may be nil) into the policy a subscription's
// deliveries run under. Each section present in the subscription policy
// replaces the topic's, unless the topic disables subscription overrides;
// each section present in the topic policy replaces the default.
func Effective(topic *TopicPolicy, sub *SubscriptionPolicy) Policy {
	p := Default()
	if topic != nil {
		p.apply(topic.HealthyRetry, topic.MaxReceivesPerSecond, topic.HeaderContentType)
	}
	if sub != nil && (topic == nil || !topic.DisableSubscriptionOverrides) {
		p.apply(sub.HealthyRetry, sub.MaxReceivesPerSecond, sub.HeaderContentType)
	}
	return p
}

func (p *Policy) apply(retry *Retry, maxReceives int, contentType string) {
	if retry != nil {
		p.Retry = *retry
		if p.Retry.BackoffFunction == "" {
			p.Retry.BackoffFunction = DefaultBackoffFunction
		}
	}
	if maxReceives > 0 {
		p.MaxReceivesPerSecond = maxReceives
	}
	if contentType != "" {
		p.HeaderContentType = contentType
	}
}

// EffectiveTopicJSON renders the EffectiveDeliveryPolicy topic attribute:
// the topic policy (may be nil) merged over the defaults, every retry field
// spelled out, defaultThrottlePolicy only when a throttle is set.
func EffectiveTopicJSON(topic *TopicPolicy) string {
	p := Effective(topic, nil)
	var b strings.Builder
	b.WriteString(`{"http":{"defaultHealthyRetryPolicy":`)
	writeRetry(&b, &p.Retry, ^fieldSet(0))
	b.WriteString(`,"disableSubscriptionOverrides":`)
	b.WriteString(strconv.FormatBool(topic != nil && topic.DisableSubscriptionOverrides))
	if p.MaxReceivesPerSecond > 0 {
		b.WriteString(`,"defaultThrottlePolicy":`)
		writeThrottle(&b, p.MaxReceivesPerSecond)
	}
	b.WriteString(`,"defaultRequestPolicy":`)
	writeRequest(&b, p.HeaderContentType)
	b.WriteString(`}}`)
	return b.String()
}

// EffectiveSubscriptionJSON renders the EffectiveDeliveryPolicy
// subscription attribute for p (normally Effective(topic, sub)):
//
//	{"healthyRetryPolicy":{...},"sicklyRetryPolicy":null,"throttlePolicy":null|{...},
//	 "requestPolicy":{"headerContentType":"..."},"guaranteed":false}
func EffectiveSubscriptionJSON(p Policy) string {
	var b strings.Builder
	b.WriteString(`{"healthyRetryPolicy":`)
	writeRetry(&b, &p.Retry, ^fieldSet(0))
	b.WriteString(`,"sicklyRetryPolicy":null,"throttlePolicy":`)
	writeThrottle(&b, p.MaxReceivesPerSecond)
	b.WriteString(`,"requestPolicy":`)
	writeRequest(&b, p.HeaderContentType)
	b.WriteString(`,"guaranteed":false}`)
	return b.String()
}

// JSON renders the topic policy in normalized form (the DeliveryPolicy
// attribute as stored): sections in AWS order, absent sections omitted,
// optional retry fields the document omitted as null, "{}" when there is no
// "http" object. ParseTopic(t.JSON()) yields t again.
func (t TopicPolicy) JSON() string {
	if !t.hasHTTP && t.HealthyRetry == nil && !t.DisableSubscriptionOverrides &&
		t.MaxReceivesPerSecond == 0 && t.HeaderContentType == "" {
		return "{}"
	}
	var b strings.Builder
	b.WriteString(`{"http":{`)
	if t.HealthyRetry != nil {
		b.WriteString(`"defaultHealthyRetryPolicy":`)
		writeRetry(&b, t.HealthyRetry, t.given)
		b.WriteByte(',')
	}
	b.WriteString(`"disableSubscriptionOverrides":`)
	b.WriteString(strconv.FormatBool(t.DisableSubscriptionOverrides))
	if t.MaxReceivesPerSecond != 0 {
		b.WriteString(`,"defaultThrottlePolicy":`)
		writeThrottle(&b, t.MaxReceivesPerSecond)
	}
	if t.HeaderContentType != "" {
		b.WriteString(`,"defaultRequestPolicy":`)
		writeRequest(&b, t.HeaderContentType)
	}
	b.WriteString(`}}`)
	return b.String()
}

// JSON renders the subscription policy in normalized form (the
// DeliveryPolicy attribute as stored), every section present, absent ones
// and omitted optional retry fields as null:
//
//	{"healthyRetryPolicy":...,"sicklyRetryPolicy":null,"throttlePolicy":...,"requestPolicy":...,"guaranteed":false}
//
// ParseSubscription(s.JSON()) yields s again.
func (s SubscriptionPolicy) JSON() string {
	var b strings.Builder
	b.WriteString(`{"healthyRetryPolicy":`)
	if s.HealthyRetry != nil {
		writeRetry(&b, s.HealthyRetry, s.given)
	} else {
		b.WriteString("null")
	}
	b.WriteString(`,"sicklyRetryPolicy":null,"throttlePolicy":`)
	writeThrottle(&b, s.MaxReceivesPerSecond)
	b.WriteString(`,"requestPolicy":`)
	writeRequest(&b, s.HeaderContentType)
	b.WriteString(`,"guaranteed":false}`)
	return b.String()
}

// writeRetry writes r in AWS member order. An optional member not in given
// is written as null when it holds its default value.
func writeRetry(b *strings.Builder, r *Retry, given fieldSet) {
	optInt := func(name string, v int, bit fieldSet) {
		b.WriteString(`,"` + name + `":`)
		if v == 0 && given&bit == 0 {
			b.WriteString("null")
			return
		}
		b.WriteString(strconv.Itoa(v))
	}
	b.WriteString(`{"minDelayTarget":`)
	b.WriteString(strconv.Itoa(r.MinDelayTarget))
	b.WriteString(`,"maxDelayTarget":`)
	b.WriteString(strconv.Itoa(r.MaxDelayTarget))
	b.WriteString(`,"numRetries":`)
	b.WriteString(strconv.Itoa(r.NumRetries))
	optInt("numMaxDelayRetries", r.NumMaxDelayRetries, setMaxDelay)
	optInt("numNoDelayRetries", r.NumNoDelayRetries, setNoDelay)
	optInt("numMinDelayRetries", r.NumMinDelayRetries, setMinDelay)
	b.WriteString(`,"backoffFunction":`)
	switch {
	case r.BackoffFunction == "":
		b.WriteString("null")
	case r.BackoffFunction == DefaultBackoffFunction && given&setBackoff == 0:
		b.WriteString("null")
	default:
		writeString(b, r.BackoffFunction)
	}
	b.WriteByte('}')
}

func writeThrottle(b *strings.Builder, maxReceives int) {
	if maxReceives == 0 {
		b.WriteString("null")
		return
	}
	b.WriteString(`{"maxReceivesPerSecond":`)
	b.WriteString(strconv.Itoa(maxReceives))
	b.WriteByte('}')
}

func writeRequest(b *strings.Builder, contentType string) {
	if contentType == "" {
		b.WriteString("null")
		return
	}
	b.WriteString(`{"headerContentType":`)
	writeString(b, contentType)
	b.WriteByte('}')
}

func writeString(b *strings.Builder, s string) {
	out, _ := json.Marshal(s) // a string always marshals
	b.Write(out)
}
