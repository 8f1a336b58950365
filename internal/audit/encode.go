package audit

import (
	"slices"
	"strconv"
	"strings"

	"github.com/sealpost/sealpost/internal/jsonenc"
)

// appendRecord appends the JSON of r exactly as encoding/json's Marshal
// writes it (the bytes are hashed into the chain, so they must not differ
// by one byte), without reflection. It handles the values the kms domain
// puts into the parameter maps (strings, booleans, integers, nil, nested
// map[string]any, []any, map[string]string, []string); on any other value
// it returns false and body falls back to encoding/json.
func appendRecord(dst []byte, r *Record) ([]byte, bool) {
	dst = append(dst, `{"eventVersion":`...)
	dst = appendString(dst, r.EventVersion)
	dst = append(dst, `,"eventTime":`...)
	dst = appendString(dst, r.EventTime)
	dst = append(dst, `,"eventSource":`...)
	dst = appendString(dst, r.EventSource)
	dst = append(dst, `,"eventName":`...)
	dst = appendString(dst, r.EventName)
	dst = append(dst, `,"awsRegion":`...)
	dst = appendString(dst, r.AWSRegion)
	dst = optString(dst, `,"sourceIPAddress":`, r.SourceIPAddress)
	dst = optString(dst, `,"userAgent":`, r.UserAgent)
	u := &r.UserIdentity
	dst = append(dst, `,"userIdentity":{"type":`...)
	dst = appendString(dst, u.Type)
	dst = optString(dst, `,"principalId":`, u.PrincipalID)
	dst = optString(dst, `,"arn":`, u.ARN)
	dst = optString(dst, `,"accountId":`, u.AccountID)
	dst = optString(dst, `,"accessKeyId":`, u.AccessKeyID)
	dst = optString(dst, `,"invokedBy":`, u.InvokedBy)
	dst = append(dst, `},"requestParameters":`...)
	var ok bool
	if dst, ok = appendMap(dst, r.RequestParameters); !ok {
		return dst, false
	}
	dst = append(dst, `,"responseElements":`...)
	if dst, ok = appendMap(dst, r.ResponseElements); !ok {
		return dst, false
	}
	if len(r.AdditionalEventData) > 0 {
		dst = append(dst, `,"additionalEventData":`...)
		if dst, ok = appendMap(dst, r.AdditionalEventData); !ok {
			return dst, false
		}
	}
	dst = append(dst, `,"requestID":`...)
	dst = appendString(dst, r.RequestID)
	dst = append(dst, `,"eventID":`...)
	dst = appendString(dst, r.EventID)
	dst = append(dst, `,"readOnly":`...)
	dst = strconv.AppendBool(dst, r.ReadOnly)
	if len(r.Resources) > 0 {
		dst = append(dst, `,"resources":[`...)
		for i, res := range r.Resources {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, `{"ARN":`...)
			dst = appendString(dst, res.ARN)
			dst = append(dst, `,"accountId":`...)
			dst = appendString(dst, res.AccountID)
			dst = append(dst, `,"type":`...)
			dst = appendString(dst, res.Type)
			dst = append(dst, '}')
		}
		dst = append(dst, ']')
	}
	dst = append(dst, `,"eventType":`...)
	dst = appendString(dst, r.EventType)
	dst = append(dst, `,"eventCategory":`...)
	dst = appendString(dst, r.EventCategory)
	dst = optString(dst, `,"recipientAccountId":`, r.RecipientAccountID)
	dst = optString(dst, `,"errorCode":`, r.ErrorCode)
	dst = optString(dst, `,"errorMessage":`, r.ErrorMessage)
	if r.Seq != 0 {
		dst = append(dst, `,"seq":`...)
		dst = strconv.AppendUint(dst, r.Seq, 10)
	}
	dst = optString(dst, `,"prevHash":`, r.PrevHash)
	dst = optString(dst, `,"hash":`, r.Hash)
	return append(dst, '}'), true
}

// optString writes an omitempty string member.
func optString(dst []byte, key, v string) []byte {
	if v == "" {
		return dst
	}
	dst = append(dst, key...)
	return appendString(dst, v)
}

// appendMap writes m with sorted keys (null when nil).
func appendMap(dst []byte, m map[string]any) ([]byte, bool) {
	if m == nil {
		return append(dst, "null"...), true
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, strings.Compare)
	dst = append(dst, '{')
	var ok bool
	for i, k := range keys {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendString(dst, k)
		dst = append(dst, ':')
		if dst, ok = appendValue(dst, m[k]); !ok {
			return dst, false
		}
	}
	return append(dst, '}'), true
}

func appendValue(dst []byte, v any) ([]byte, bool) {
	switch x := v.(type) {
	case nil:
		return append(dst, "null"...), true
	case string:
		return appendString(dst, x), true
	case bool:
		return strconv.AppendBool(dst, x), true
	case int:
		return strconv.AppendInt(dst, int64(x), 10), true
	case int32:
		return strconv.AppendInt(dst, int64(x), 10), true
	case int64:
		return strconv.AppendInt(dst, x, 10), true
	case uint64:
		return strconv.AppendUint(dst, x, 10), true
	case map[string]any:
		return appendMap(dst, x)
	case map[string]string:
		if x == nil {
			return append(dst, "null"...), true
		}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.SortFunc(keys, strings.Compare)
		dst = append(dst, '{')
		for i, k := range keys {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendString(dst, k)
			dst = append(dst, ':')
			dst = appendString(dst, x[k])
		}
		return append(dst, '}'), true
	case []any:
		if x == nil {
			return append(dst, "null"...), true
		}
		dst = append(dst, '[')
		var ok bool
		for i, e := range x {
			if i > 0 {
				dst = append(dst, ',')
			}
			if dst, ok = appendValue(dst, e); !ok {
				return dst, false
			}
		}
		return append(dst, ']'), true
	case []string:
		if x == nil {
			return append(dst, "null"...), true
		}
		dst = append(dst, '[')
		for i, e := range x {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendString(dst, e)
		}
		return append(dst, ']'), true
	}
	return dst, false
}

// appendString quotes s as encoding/json does with HTML escaping on (its
// default).
func appendString(dst []byte, s string) []byte { return jsonenc.AppendString(dst, s, true) }
