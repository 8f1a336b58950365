package sqsapi

import (
	"encoding/base64"
	"sort"
	"strconv"
	"sync"
	"unicode/utf8"
)

const (
	jsonContentType = "application/x-amz-json-1.0"
	xmlns           = "http://queue.amazonaws.com/doc/2012-11-05/"
)

// jw builds a JSON answer. Members are written in the order of the calls;
// the callers omit empty optional members the way AWS does.
type jw struct{ b []byte }

// xw builds a Query (XML) answer.
type xw struct{ b []byte }

var (
	jwPool = sync.Pool{New: func() any { return &jw{b: make([]byte, 0, 2048)} }}
	xwPool = sync.Pool{New: func() any { return &xw{b: make([]byte, 0, 2048)} }}
)

func getJW() *jw { w := jwPool.Get().(*jw); w.b = w.b[:0]; return w }
func getXW() *xw { w := xwPool.Get().(*xw); w.b = w.b[:0]; return w }

// putJW and putXW clear the buffer (it may hold message bodies) and keep
// it unless it grew large.
func putJW(w *jw) {
	if cap(w.b) <= 64<<10 {
		clear(w.b)
		jwPool.Put(w)
	}
}

func putXW(w *xw) {
	if cap(w.b) <= 64<<10 {
		clear(w.b)
		xwPool.Put(w)
	}
}

func (w *jw) open()  { w.sep(); w.b = append(w.b, '{') }
func (w *jw) close() { w.b = append(w.b, '}') }

func (w *jw) sep() {
	if n := len(w.b); n > 0 {
		if c := w.b[n-1]; c != '{' && c != '[' && c != ':' {
			w.b = append(w.b, ',')
		}
	}
}

func (w *jw) key(k string) {
	w.sep()
	w.quote(k)
	w.b = append(w.b, ':')
}

func (w *jw) str(k, v string) { w.key(k); w.quote(v) }

// optStr writes a member unless v is empty.
func (w *jw) optStr(k, v string) {
	if v != "" {
		w.str(k, v)
	}
}

func (w *jw) int(k string, v int64) { w.key(k); w.b = strconv.AppendInt(w.b, v, 10) }
func (w *jw) bool(k string, v bool) { w.key(k); w.b = strconv.AppendBool(w.b, v) }

func (w *jw) blob(k string, v []byte) {
	w.key(k)
	w.b = append(w.b, '"')
	w.b = base64.StdEncoding.AppendEncode(w.b, v)
	w.b = append(w.b, '"')
}

func (w *jw) openList(k string) { w.key(k); w.b = append(w.b, '[') }
func (w *jw) closeList()        { w.b = append(w.b, ']') }
func (w *jw) openObj(k string)  { w.key(k); w.b = append(w.b, '{') }

func (w *jw) strs(k string, l []string) {
	w.openList(k)
	for _, s := range l {
		w.sep()
		w.quote(s)
	}
	w.closeList()
}

// strMap writes a map of strings with sorted keys.
func (w *jw) strMap(k string, m map[string]string) {
	w.openObj(k)
	for _, name := range sortedKeys(m) {
		w.str(name, m[name])
	}
	w.close()
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// quote writes s as a JSON string; invalid UTF-8 becomes U+FFFD.
func (w *jw) quote(s string) {
	const hex = "0123456789abcdef"
	w.b = append(w.b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			w.b = append(w.b, s[start:i]...)
			switch c {
			case '"', '\\':
				w.b = append(w.b, '\\', c)
			case '\n':
				w.b = append(w.b, '\\', 'n')
			case '\r':
				w.b = append(w.b, '\\', 'r')
			case '\t':
				w.b = append(w.b, '\\', 't')
			default:
				w.b = append(w.b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			w.b = append(w.b, s[start:i]...)
			w.b = append(w.b, `\ufffd`...)
			i++
			start = i
			continue
		}
		i += size
	}
	w.b = append(w.b, s[start:]...)
	w.b = append(w.b, '"')
}

func (w *xw) raw(s string) { w.b = append(w.b, s...) }

// elem writes <name>text</name>.
func (w *xw) elem(name, text string) {
	w.b = append(w.b, '<')
	w.b = append(w.b, name...)
	w.b = append(w.b, '>')
	w.text(text)
	w.b = append(w.b, '<', '/')
	w.b = append(w.b, name...)
	w.b = append(w.b, '>')
}

func (w *xw) optElem(name, text string) {
	if text != "" {
		w.elem(name, text)
	}
}

func (w *xw) open(name string) {
	w.b = append(w.b, '<')
	w.b = append(w.b, name...)
	w.b = append(w.b, '>')
}

func (w *xw) close(name string) {
	w.b = append(w.b, '<', '/')
	w.b = append(w.b, name...)
	w.b = append(w.b, '>')
}

// text writes s as XML character data: markup characters and CR are
// escaped (an XML parser would turn a raw CR into LF); characters XML 1.0
// cannot carry, and invalid UTF-8, become U+FFFD.
func (w *xw) text(s string) {
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			var esc string
			switch {
			case c == '&':
				esc = "&amp;"
			case c == '<':
				esc = "&lt;"
			case c == '>':
				esc = "&gt;"
			case c == '"':
				esc = "&quot;"
			case c == '\'':
				esc = "&apos;"
			case c == '\r':
				esc = "&#xD;"
			case c < 0x20 && c != '\n' && c != '\t':
				esc = "\uFFFD"
			default:
				i++
				continue
			}
			w.b = append(w.b, s[start:i]...)
			w.b = append(w.b, esc...)
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && size == 1) || r == 0xFFFE || r == 0xFFFF {
			w.b = append(w.b, s[start:i]...)
			w.b = append(w.b, "\uFFFD"...)
			i += size
			start = i
			continue
		}
		i += size
	}
	w.b = append(w.b, s[start:]...)
}

func (w *xw) blob(name string, v []byte) {
	w.open(name)
	w.b = base64.StdEncoding.AppendEncode(w.b, v)
	w.close(name)
}

// nameValues writes a flattened map as <el><Name>k</Name><Value>v</Value></el>
// entries (keyTag/valueTag name the parts).
func (w *xw) nameValues(el, keyTag, valueTag string, m map[string]string) {
	for _, k := range sortedKeys(m) {
		w.open(el)
		w.elem(keyTag, k)
		w.elem(valueTag, m[k])
		w.close(el)
	}
}
