package sqsapi

import (
	"encoding/base64"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/sealpost/sealpost/internal/sqs"
)

// qp reads the parameters of a Query request (the query string and the
// form body, merged by the front door). The first value of a repeated
// parameter counts.
type qp struct {
	v url.Values
	// path is the queue URL the request was posted to ("" if the path
	// does not name a queue).
	path string
}

// maxIndex bounds the N of Name.N parameters (larger ones are ignored).
const maxIndex = 1 << 16

func (q *qp) str(name string) (string, bool) {
	vs, ok := q.v[name]
	if !ok || len(vs) == 0 {
		return "", false
	}
	return vs[0], true
}

// ptr is the parameter as an optional string.
func (q *qp) ptr(name string) *string {
	s, ok := q.str(name)
	if !ok {
		return nil
	}
	return &s
}

// num is an optional integer parameter.
func (q *qp) num(name string) (*intv, error) {
	s, ok := q.str(name)
	if !ok {
		return nil, nil
	}
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 32)
	if err != nil {
		return nil, invalidValue("Value " + clip(s) + " for parameter " + name + " is invalid. Reason: must be an integer.")
	}
	i := intv(n)
	return &i, nil
}

// queueURL is QueueUrl, else the queue URL the request was posted to.
func (q *qp) queueURL() *string {
	if s := q.ptr("QueueUrl"); s != nil {
		return s
	}
	if q.path != "" {
		return &q.path
	}
	return nil
}

// indices returns, sorted, the N of the parameters prefix.N and
// prefix.N.<anything>.
func (q *qp) indices(prefix string) []int {
	seen := map[int]bool{}
	p := prefix + "."
	for k := range q.v {
		if !strings.HasPrefix(k, p) {
			continue
		}
		rest := k[len(p):]
		if i := strings.IndexByte(rest, '.'); i >= 0 {
			rest = rest[:i]
		}
		if len(rest) == 0 || len(rest) > 6 || rest[0] == '0' {
			continue
		}
		n, err := strconv.Atoi(rest)
		if err != nil || n < 1 || n > maxIndex {
			continue
		}
		seen[n] = true
	}
	out := make([]int, 0, len(seen))
	for n := range seen {
		out = append(out, n)
	}
	sort.Ints(out)
	return out
}

func idx(prefix string, n int) string { return prefix + "." + strconv.Itoa(n) }

// list is the flattened list prefix.1, prefix.2, ... (nil if absent).
func (q *qp) list(prefix string) []string {
	var out []string
	for _, n := range q.indices(prefix) {
		if s, ok := q.str(idx(prefix, n)); ok {
			out = append(out, s)
		}
	}
	return out
}

// pairs is the flattened map prefix.N.<key>/prefix.N.<value> (nil if
// absent); a missing key or value is MissingParameter.
func (q *qp) pairs(prefix, key, value string, valueRequired bool) (map[string]string, error) {
	ns := q.indices(prefix)
	if len(ns) == 0 {
		return nil, nil
	}
	m := make(map[string]string, len(ns))
	for _, n := range ns {
		p := idx(prefix, n)
		k, ok := q.str(p + "." + key)
		if !ok {
			return nil, missing(p + "." + key)
		}
		v, ok := q.str(p + "." + value)
		if !ok && valueRequired {
			return nil, missing(p + "." + value)
		}
		m[k] = v
	}
	return m, nil
}

// msgAttrs reads prefix.N.Name and prefix.N.Value.{DataType,StringValue,
// BinaryValue} (MessageAttribute or MessageSystemAttribute).
func (q *qp) msgAttrs(prefix string) (map[string]attrIn, error) {
	ns := q.indices(prefix)
	if len(ns) == 0 {
		return nil, nil
	}
	m := make(map[string]attrIn, len(ns))
	for _, n := range ns {
		p := idx(prefix, n)
		name, ok := q.str(p + ".Name")
		if !ok {
			return nil, missing(p + ".Name")
		}
		a := attrIn{DataType: q.ptr(p + ".Value.DataType"), StringValue: q.ptr(p + ".Value.StringValue")}
		if b, ok := q.str(p + ".Value.BinaryValue"); ok {
			v, err := base64.StdEncoding.DecodeString(b)
			if err != nil {
				return nil, invalidValue("The binary value of message attribute '" + clip(name) + "' is not valid base64.")
			}
			a.BinaryValue = v
		}
		if l := q.list(p + ".Value.StringListValue"); l != nil {
			a.StringListValues = l
		}
		m[name] = a
	}
	return m, nil
}

// attrIn is a MessageAttributeValue as decoded (JSON or Query).
type attrIn struct {
	DataType         *string
	StringValue      *string
	BinaryValue      []byte
	StringListValues []string
	BinaryListValues [][]byte
}

// toDomain converts decoded message attributes; a missing DataType is
// AWS's InvalidParameterValue.
func attrsToDomain(m map[string]attrIn) (map[string]sqs.MessageAttribute, error) {
	if m == nil {
		return nil, nil
	}
	out := make(map[string]sqs.MessageAttribute, len(m))
	for k, a := range m {
		if a.DataType == nil || *a.DataType == "" {
			return nil, invalidValue("The message attribute '" + clip(k) + "' must contain non-empty message attribute type.")
		}
		d := sqs.MessageAttribute{DataType: *a.DataType, BinaryValue: a.BinaryValue}
		if a.StringValue != nil {
			d.StringValue = *a.StringValue
		}
		out[k] = d
	}
	return out, nil
}

// clip shortens a value echoed in a message.
func clip(s string) string {
	if len(s) <= 256 {
		return s
	}
	return strings.ToValidUTF8(s[:256], "") + "..."
}
