package jsonenc

import (
	"bytes"
	"encoding/json"
	"testing"
)

func marshal(t testing.TB, s string, html bool) []byte {
	var b bytes.Buffer
	e := json.NewEncoder(&b)
	e.SetEscapeHTML(html)
	if err := e.Encode(s); err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

func check(t testing.TB, s string) {
	for _, html := range []bool{false, true} {
		want := marshal(t, s, html)
		if got := AppendString(nil, s, html); !bytes.Equal(got, want) {
			t.Fatalf("AppendString(%q, html=%v) = %s, want %s", s, html, got, want)
		}
		if got := AppendString(nil, []byte(s), html); !bytes.Equal(got, want) {
			t.Fatalf("AppendString([]byte %q, html=%v) = %s, want %s", s, html, got, want)
		}
		if n := StringLen(s, html); n != len(want) {
			t.Fatalf("StringLen(%q, html=%v) = %d, want %d", s, html, n, len(want))
		}
	}
}

func TestSameAsEncodingJSON(t *testing.T) {
	for _, s := range []string{"", "plain", `q"b\`, "<a>&amp;", "\b\f\n\r\t\x00\x1f\x7f", "\u2028\u2029", "é€𝄞",
		"\xff\xfe", "a\xc3", "\xed\xa0\x80", "mixed <\x01é\xff\u2028>"} {
		check(t, s)
	}
}

func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "<&>", "\x00\xff\u2028", "é"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { check(t, s) })
}
