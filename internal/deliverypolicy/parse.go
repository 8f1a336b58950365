package deliverypolicy

import (
	"encoding/json"
	"errors"
	"io"
	"math"
	"mime"
	"slices"
	"strconv"
	"strings"
)

// Error is a delivery policy validation failure. Message is the AWS-style
// text that follows "Invalid parameter: DeliveryPolicy: ".
type Error struct {
	Message string
}

func (e *Error) Error() string { return e.Message }

func errorf(parts ...string) *Error { return &Error{Message: strings.Join(parts, "")} }

var errInvalidJSON = &Error{Message: "Invalid JSON"}

// ParseTopic parses and validates a topic DeliveryPolicy attribute value.
// An empty or blank value is the unset policy. Errors are *Error.
func ParseTopic(s string) (TopicPolicy, error) {
	var t TopicPolicy
	doc, err := decode(s)
	if err != nil || doc == nil {
		return t, asError(err)
	}
	if err := checkMembers(doc, "http"); err != nil {
		return t, err
	}
	http, ok, err := object(doc, "", "http")
	if err != nil || !ok {
		return t, asError(err)
	}
	t.hasHTTP = true
	if err := checkMembers(http, "defaultHealthyRetryPolicy", "defaultSicklyRetryPolicy",
		"disableSubscriptionOverrides", "defaultThrottlePolicy", "defaultRequestPolicy"); err != nil {
		return t, err
	}
	const p = "http."
	if t.HealthyRetry, t.given, err = retrySection(http, p, "defaultHealthyRetryPolicy"); err != nil {
		return TopicPolicy{}, err
	}
	if _, _, err = retrySection(http, p, "defaultSicklyRetryPolicy"); err != nil {
		return TopicPolicy{}, err
	}
	if t.DisableSubscriptionOverrides, _, err = boolean(http, p, "disableSubscriptionOverrides"); err != nil {
		return TopicPolicy{}, err
	}
	if t.MaxReceivesPerSecond, err = throttleSection(http, p, "defaultThrottlePolicy"); err != nil {
		return TopicPolicy{}, err
	}
	if t.HeaderContentType, err = requestSection(http, p, "defaultRequestPolicy"); err != nil {
		return TopicPolicy{}, err
	}
	return t, nil
}

// ParseSubscription parses and validates a subscription DeliveryPolicy
// attribute value. An empty or blank value is the unset policy. Errors are
// *Error.
func ParseSubscription(s string) (SubscriptionPolicy, error) {
	var sp SubscriptionPolicy
	doc, err := decode(s)
	if err != nil || doc == nil {
		return sp, asError(err)
	}
	if err := checkMembers(doc, "healthyRetryPolicy", "sicklyRetryPolicy", "throttlePolicy",
		"requestPolicy", "guaranteed"); err != nil {
		return sp, err
	}
	if sp.HealthyRetry, sp.given, err = retrySection(doc, "", "healthyRetryPolicy"); err != nil {
		return SubscriptionPolicy{}, err
	}
	if _, _, err = retrySection(doc, "", "sicklyRetryPolicy"); err != nil {
		return SubscriptionPolicy{}, err
	}
	if sp.MaxReceivesPerSecond, err = throttleSection(doc, "", "throttlePolicy"); err != nil {
		return SubscriptionPolicy{}, err
	}
	if sp.HeaderContentType, err = requestSection(doc, "", "requestPolicy"); err != nil {
		return SubscriptionPolicy{}, err
	}
	if _, _, err = boolean(doc, "", "guaranteed"); err != nil {
		return SubscriptionPolicy{}, err
	}
	return sp, nil
}

// asError turns a nil *Error into a nil error interface.
func asError(e *Error) error {
	if e == nil {
		return nil
	}
	return e
}

// decode parses one JSON object; a blank document yields (nil, nil).
func decode(s string) (map[string]any, *Error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, errInvalidJSON
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errInvalidJSON // trailing data
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, errInvalidJSON
	}
	return m, nil
}

// checkMembers rejects the alphabetically first member not in allowed.
func checkMembers(m map[string]any, allowed ...string) *Error {
	var unknown []string
	for k := range m {
		if !slices.Contains(allowed, k) {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	slices.Sort(unknown)
	return errorf("Unexpected JSON member: ", unknown[0])
}

// object returns member name of m as an object; null or absent is !ok.
func object(m map[string]any, path, name string) (map[string]any, bool, *Error) {
	switch v := m[name].(type) {
	case nil:
		return nil, false, nil
	case map[string]any:
		return v, true, nil
	default:
		return nil, false, errorf(path, name, " must be a JSON object")
	}
}

// integer returns member name of m as an int. JSON numbers with an integral
// value and decimal integer strings are accepted; values outside the Java
// int range are reported as range errors.
func integer(m map[string]any, path, name string) (int, bool, *Error) {
	var (
		n    int64
		kind intKind
	)
	switch v := m[name].(type) {
	case nil:
		return 0, false, nil
	case json.Number:
		n, kind = parseInt(string(v), true)
	case string:
		n, kind = parseInt(v, false)
	default:
		kind = notInteger
	}
	switch kind {
	case tooBig:
		return 0, false, errorf(path, name, " must be less than or equal to ", strconv.Itoa(math.MaxInt32))
	case tooSmall:
		return 0, false, errorf(path, name, " must be greater than or equal to ", strconv.Itoa(math.MinInt32))
	case notInteger:
		return 0, false, errorf(path, name, " must be an integer")
	}
	return int(n), true, nil
}

type intKind int

const (
	isInt intKind = iota
	notInteger
	tooBig
	tooSmall
)

// parseInt parses a decimal integer, or with allowFloat any JSON number
// with an integral value, into the int32 range.
func parseInt(text string, allowFloat bool) (int64, intKind) {
	negative := strings.HasPrefix(text, "-")
	i, err := strconv.ParseInt(text, 10, 64)
	switch {
	case err == nil:
	case errors.Is(err, strconv.ErrRange):
		i = math.MaxInt64
		if negative {
			i = math.MinInt64
		}
	case !allowFloat:
		return 0, notInteger
	default:
		f, ferr := strconv.ParseFloat(text, 64)
		switch {
		case ferr != nil && !errors.Is(ferr, strconv.ErrRange), math.IsNaN(f):
			return 0, notInteger
		case f > math.MaxInt32:
			return 0, tooBig
		case f < math.MinInt32:
			return 0, tooSmall
		case f != math.Trunc(f):
			return 0, notInteger
		}
		i = int64(f)
	}
	switch {
	case i > math.MaxInt32:
		return 0, tooBig
	case i < math.MinInt32:
		return 0, tooSmall
	}
	return i, isInt
}

// boolean returns member name of m as a bool ("true"/"false" strings too).
func boolean(m map[string]any, path, name string) (bool, bool, *Error) {
	switch v := m[name].(type) {
	case nil:
		return false, false, nil
	case bool:
		return v, true, nil
	case string:
		switch v {
		case "true":
			return true, true, nil
		case "false":
			return false, true, nil
		}
	}
	return false, false, errorf(path, name, " must be a boolean")
}

// str returns member name of m as a string.
func str(m map[string]any, path, name string) (string, bool, *Error) {
	switch v := m[name].(type) {
	case nil:
		return "", false, nil
	case string:
		return v, true, nil
	default:
		return "", false, errorf(path, name, " must be a string")
	}
}

var retryMembers = []string{"minDelayTarget", "maxDelayTarget", "numRetries",
	"numNoDelayRetries", "numMinDelayRetries", "numMaxDelayRetries", "backoffFunction"}

// retrySection parses and validates the retry policy member name of m.
func retrySection(m map[string]any, path, name string) (*Retry, fieldSet, *Error) {
	obj, ok, err := object(m, path, name)
	if err != nil || !ok {
		return nil, 0, err
	}
	if err := checkMembers(obj, retryMembers...); err != nil {
		return nil, 0, err
	}
	p := path + name + "."
	var (
		r       Retry
		given   fieldSet
		present [3]bool
	)
	required := []*int{&r.MinDelayTarget, &r.MaxDelayTarget, &r.NumRetries}
	for i, field := range required {
		if *field, present[i], err = integer(obj, p, retryMembers[i]); err != nil {
			return nil, 0, err
		}
	}
	optional := []struct {
		dst *int
		bit fieldSet
	}{{&r.NumNoDelayRetries, setNoDelay}, {&r.NumMinDelayRetries, setMinDelay}, {&r.NumMaxDelayRetries, setMaxDelay}}
	for i, o := range optional {
		v, ok, err := integer(obj, p, retryMembers[3+i])
		if err != nil {
			return nil, 0, err
		}
		if ok {
			*o.dst, given = v, given|o.bit
		}
	}
	backoff, ok, err := str(obj, p, "backoffFunction")
	if err != nil {
		return nil, 0, err
	}
	r.BackoffFunction = DefaultBackoffFunction
	if ok {
		r.BackoffFunction, given = backoff, given|setBackoff
	}
	for i, ok := range present {
		if !ok {
			return nil, 0, errorf(p, retryMembers[i], " must be specified")
		}
	}
	if err := r.validate(path + name); err != nil {
		return nil, 0, err
	}
	return &r, given, nil
}

// validate checks r against the AWS constraints; path prefixes messages.
func (r Retry) validate(path string) *Error {
	p := path + "."
	switch {
	case r.MinDelayTarget < 1:
		return errorf(p, "minDelayTarget must be greater than or equal to 1")
	case r.MaxDelayTarget > MaxDelayTargetLimit:
		return errorf(p, "maxDelayTarget must be less than or equal to ", strconv.Itoa(MaxDelayTargetLimit))
	case r.MaxDelayTarget < r.MinDelayTarget:
		return errorf(p, "maxDelayTarget must be greater than or equal to minDelayTarget")
	case r.NumRetries < 0:
		return errorf(p, "numRetries must be greater than or equal to 0")
	case r.NumRetries > MaxNumRetries:
		return errorf(p, "numRetries must be less than or equal to ", strconv.Itoa(MaxNumRetries))
	case r.NumNoDelayRetries < 0:
		return errorf(p, "numNoDelayRetries must be greater than or equal to 0")
	case r.NumMinDelayRetries < 0:
		return errorf(p, "numMinDelayRetries must be greater than or equal to 0")
	case r.NumMaxDelayRetries < 0:
		return errorf(p, "numMaxDelayRetries must be greater than or equal to 0")
	case int64(r.NumNoDelayRetries)+int64(r.NumMinDelayRetries)+int64(r.NumMaxDelayRetries) > int64(r.NumRetries):
		return errorf(p, "numRetries must be greater than or equal to total of numMinDelayRetries, numNoDelayRetries and numMaxDelayRetries")
	case !validBackoff(r.BackoffFunction):
		return errorf(p, "backoffFunction must be one of linear, arithmetic, geometric, exponential")
	case r.TotalDelay() > MaxTotalRetryTime:
		return errorf(path, " total retry time must be less than or equal to ", strconv.Itoa(int(MaxTotalRetryTime.Seconds())), " seconds")
	}
	return nil
}

func validBackoff(name string) bool {
	switch name {
	case BackoffLinear, BackoffArithmetic, BackoffGeometric, BackoffExponential:
		return true
	}
	return false
}

// throttleSection returns throttle member name's maxReceivesPerSecond, or 0.
func throttleSection(m map[string]any, path, name string) (int, *Error) {
	obj, ok, err := object(m, path, name)
	if err != nil || !ok {
		return 0, err
	}
	if err := checkMembers(obj, "maxReceivesPerSecond"); err != nil {
		return 0, err
	}
	p := path + name + "."
	n, ok, err := integer(obj, p, "maxReceivesPerSecond")
	if err != nil || !ok {
		return 0, err
	}
	if n < 1 {
		return 0, errorf(p, "maxReceivesPerSecond must be greater than or equal to 1")
	}
	return n, nil
}

// requestSection returns request member name's headerContentType, or "".
func requestSection(m map[string]any, path, name string) (string, *Error) {
	obj, ok, err := object(m, path, name)
	if err != nil || !ok {
		return "", err
	}
	if err := checkMembers(obj, "headerContentType"); err != nil {
		return "", err
	}
	p := path + name + "."
	ct, ok, err := str(obj, p, "headerContentType")
	if err != nil || !ok {
		return "", err
	}
	if !supportedContentType(ct) {
		return "", errorf(p, "headerContentType must be a supported content type")
	}
	return ct, nil
}

var contentTypes = []string{
	"text/css", "text/csv", "text/html", "text/plain", "text/xml",
	"application/atom+xml", "application/json", "application/octet-stream",
	"application/soap+xml", "application/x-www-form-urlencoded",
	"application/xhtml+xml", "application/xml",
}

// supportedContentType accepts one of contentTypes, optionally with the
// single parameter charset=UTF-8.
func supportedContentType(ct string) bool {
	mediaType, params, err := mime.ParseMediaType(ct)
	if err != nil || !slices.Contains(contentTypes, mediaType) {
		return false
	}
	for name, value := range params {
		if name != "charset" || !strings.EqualFold(value, "utf-8") {
			return false
		}
	}
	return true
}
