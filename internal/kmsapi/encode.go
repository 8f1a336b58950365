package kmsapi

import (
	"encoding/base64"
	"sort"
	"strconv"
	"time"
	"unicode/utf8"
)

// jsonWriter builds a response body in a buffer it owns, so that a body
// holding a plaintext or data key (base64) can be wiped after it is sent:
// when the buffer grows, the old one is cleared; wipe clears the last.
// Members are written in the order of the calls; optional members are
// omitted by the callers the way AWS omits them.
type jsonWriter struct{ b []byte }

func newJSONWriter() *jsonWriter { return &jsonWriter{b: make([]byte, 0, 1024)} }

// ensure makes room for n more bytes, clearing the buffer it replaces.
func (w *jsonWriter) ensure(n int) {
	if cap(w.b)-len(w.b) >= n {
		return
	}
	nb := make([]byte, len(w.b), 2*cap(w.b)+n)
	copy(nb, w.b)
	clear(w.b[:cap(w.b)])
	w.b = nb
}

func (w *jsonWriter) raw(s string) {
	w.ensure(len(s))
	w.b = append(w.b, s...)
}

// wipe clears the buffer.
func (w *jsonWriter) wipe() { clear(w.b[:cap(w.b)]) }

// sep writes the comma before a member or element unless it is the first.
func (w *jsonWriter) sep() {
	if n := len(w.b); n > 0 && w.b[n-1] != '{' && w.b[n-1] != '[' {
		w.raw(",")
	}
}

func (w *jsonWriter) key(name string) {
	w.sep()
	w.quote(name)
	w.raw(":")
}

// quote writes s as a JSON string; invalid UTF-8 becomes U+FFFD.
func (w *jsonWriter) quote(s string) {
	w.ensure(len(s) + 2)
	w.b = append(w.b, '"')
	const hex = "0123456789abcdef"
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				w.raw(`\` + string(c))
			case c == '\n':
				w.raw(`\n`)
			case c == '\r':
				w.raw(`\r`)
			case c == '\t':
				w.raw(`\t`)
			case c < 0x20 || c == '<' || c == '>' || c == '&':
				w.raw(`\u00` + string(hex[c>>4]) + string(hex[c&0xf]))
			default:
				w.ensure(1)
				w.b = append(w.b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			w.raw(`\ufffd`)
		case r == '\u2028' || r == '\u2029':
			w.raw(`\u202` + string(hex[r&0xf]))
		default:
			w.raw(s[i : i+size])
		}
		i += size
	}
	w.raw(`"`)
}

func (w *jsonWriter) open()  { w.raw("{") }
func (w *jsonWriter) close() { w.raw("}") }

// object starts a member whose value is an object; close ends it.
func (w *jsonWriter) object(name string) {
	w.key(name)
	w.open()
}

// array starts a member whose value is an array; endArray ends it.
func (w *jsonWriter) array(name string) {
	w.key(name)
	w.raw("[")
}

func (w *jsonWriter) endArray() { w.raw("]") }

// elem starts an object element of an array; close ends it.
func (w *jsonWriter) elem() {
	w.sep()
	w.open()
}

func (w *jsonWriter) str(name, v string) {
	w.key(name)
	w.quote(v)
}

// optStr writes a string member unless it is empty.
func (w *jsonWriter) optStr(name, v string) {
	if v != "" {
		w.str(name, v)
	}
}

func (w *jsonWriter) num(name string, n int) {
	w.key(name)
	w.raw(strconv.Itoa(n))
}

// optNum writes an integer member unless it is 0.
func (w *jsonWriter) optNum(name string, n int) {
	if n != 0 {
		w.num(name, n)
	}
}

func (w *jsonWriter) boolean(name string, v bool) {
	w.key(name)
	w.raw(strconv.FormatBool(v))
}

// blob writes b as a base64 string member, encoding straight into the
// buffer.
func (w *jsonWriter) blob(name string, b []byte) {
	w.key(name)
	n := base64.StdEncoding.EncodedLen(len(b))
	w.ensure(n + 2)
	w.b = append(w.b, '"')
	w.b = base64.StdEncoding.AppendEncode(w.b, b)
	w.b = append(w.b, '"')
}

// time writes t as epoch seconds with milliseconds (a JSON number, as AWS
// does), unless t is zero.
func (w *jsonWriter) time(name string, t time.Time) {
	if t.IsZero() {
		return
	}
	w.key(name)
	w.raw(epoch(t))
}

// epoch formats t as epoch seconds with up to three decimals.
func epoch(t time.Time) string {
	ms := t.UnixMilli()
	sec, frac := ms/1000, ms%1000
	if frac < 0 {
		sec, frac = sec-1, frac+1000
	}
	s := strconv.FormatInt(sec, 10)
	if frac == 0 {
		return s
	}
	f := strconv.FormatInt(frac+1000, 10)[1:] // three digits
	for f[len(f)-1] == '0' {
		f = f[:len(f)-1]
	}
	return s + "." + f
}

func (w *jsonWriter) strs(name string, v []string) {
	w.array(name)
	for _, s := range v {
		w.sep()
		w.quote(s)
	}
	w.endArray()
}

// strMap writes a map of strings with sorted keys.
func (w *jsonWriter) strMap(name string, m map[string]string) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	w.object(name)
	for _, k := range keys {
		w.str(k, m[k])
	}
	w.close()
}
