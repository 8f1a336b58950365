package delivery

import (
	"sort"
	"unicode/utf8"
)

// The notification body is encoded here rather than by encoding/json:
// encoding/json copies every string it encodes into pooled buffers that
// are reused, never wiped, so a plaintext body would stay in memory after
// the delivery. These functions size the output exactly first and append
// into one buffer the engine owns and wipes. The output is byte for byte
// what encoding/json writes with SetEscapeHTML(false) (tested).

const hexDigits = "0123456789abcdef"

// jsonStringLen is the length of appendJSONString's output for s.
func jsonStringLen[T []byte | string](s T) int {
	n := 2
	for i := 0; i < len(s); {
		b := s[i]
		if b < utf8.RuneSelf {
			switch {
			case b >= 0x20 && b != '"' && b != '\\':
				n++
			case b == '"', b == '\\', b == '\b', b == '\f', b == '\n', b == '\r', b == '\t':
				n += 2
			default:
				n += 6
			}
			i++
			continue
		}
		c, size := decodeRune(s[i:])
		switch {
		case c == utf8.RuneError && size == 1:
			n += 6
		case c == '\u2028' || c == '\u2029':
			n += 6
		default:
			n += size
		}
		i += size
	}
	return n
}

func decodeRune[T []byte | string](s T) (rune, int) {
	var buf [utf8.UTFMax]byte
	k := copy(buf[:], s[:min(len(s), utf8.UTFMax)])
	return utf8.DecodeRune(buf[:k])
}

// appendJSONString appends s as a JSON string, escaped as encoding/json
// escapes it without HTML escaping.
func appendJSONString[T []byte | string](dst []byte, s T) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		b := s[i]
		if b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '\\', '"':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xF])
			}
			i++
			start = i
			continue
		}
		c, size := decodeRune(s[i:])
		if c == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if c == '\u2028' || c == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[c&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
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
