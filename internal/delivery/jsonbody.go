package delivery

import (
	"sort"

	"github.com/sealpost/sealpost/internal/jsonenc"
)

// The notification body is encoded here rather than by encoding/json:
// encoding/json copies every string it encodes into pooled buffers that
// are reused, never wiped, so a plaintext body would stay in memory after
// the delivery. These functions size the output exactly first and append
// into one buffer the engine owns and wipes. The output is byte for byte
// what encoding/json writes with SetEscapeHTML(false) (tested).

// jsonStringLen is the length of appendJSONString's output for s.
func jsonStringLen[T []byte | string](s T) int { return jsonenc.StringLen(s, false) }

// appendJSONString appends s as a JSON string, escaped as encoding/json
// escapes it without HTML escaping.
func appendJSONString[T []byte | string](dst []byte, s T) []byte {
	return jsonenc.AppendString(dst, s, false)
}

// jsonField is one member of a JSON object: a string value (str) or, when
// text is non-nil, a byte string (the message text).
type jsonField struct {
	name string
	str  string
	text []byte
	// attrs, when set, is the MessageAttributes object instead.
	attrs map[string]envelopeAttr
}

// encodeNotification encodes the fields as one JSON object into a buffer of
// exactly the right size.
func encodeNotification(fields []jsonField) []byte {
	size := 1 // '{' ... '}' with commas: counted per field
	for _, f := range fields {
		size += jsonStringLen(f.name) + 2 // ':' and ',' or '}'
		switch {
		case f.attrs != nil:
			size += attrsLen(f.attrs)
		case f.text != nil:
			size += jsonStringLen(f.text)
		default:
			size += jsonStringLen(f.str)
		}
	}
	b := make([]byte, 0, size)
	b = append(b, '{')
	for i, f := range fields {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, f.name)
		b = append(b, ':')
		switch {
		case f.attrs != nil:
			b = appendAttrs(b, f.attrs)
		case f.text != nil:
			b = appendJSONString(b, f.text)
		default:
			b = appendJSONString(b, f.str)
		}
	}
	return append(b, '}')
}

func sortedNames(m map[string]envelopeAttr) []string {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

func attrsLen(m map[string]envelopeAttr) int {
	n := 2 + max(len(m)-1, 0) // braces and commas
	for k, a := range m {
		n += jsonStringLen(k) + 1 + len(`{"Type":,"Value":}`) + jsonStringLen(a.Type) + jsonStringLen(a.Value)
	}
	return n
}

func appendAttrs(b []byte, m map[string]envelopeAttr) []byte {
	b = append(b, '{')
	for i, k := range sortedNames(m) {
		if i > 0 {
			b = append(b, ',')
		}
		a := m[k]
		b = appendJSONString(b, k)
		b = append(b, `:{"Type":`...)
		b = appendJSONString(b, a.Type)
		b = append(b, `,"Value":`...)
		b = appendJSONString(b, a.Value)
		b = append(b, '}')
	}
	return append(b, '}')
}
