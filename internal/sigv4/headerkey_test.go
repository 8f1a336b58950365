package sigv4

import (
	"net/textproto"
	"testing"
)

// checkHeaderKey: the allocation-free canonicalization agrees with
// textproto.CanonicalMIMEHeaderKey wherever it answers.
func checkHeaderKey(t *testing.T, k string) {
	t.Helper()
	want := textproto.CanonicalMIMEHeaderKey(k)
	if plainCanonical(k) && want != k {
		t.Fatalf("plainCanonical(%q) = true, textproto says %q", k, want)
	}
	if got, ok := canonicalLower(nil, k); ok && string(got) != textproto.CanonicalMIMEHeaderKey(k) {
		t.Fatalf("canonicalLower(%q) = %q, textproto says %q", k, got, want)
	}
}

func TestHeaderKeySameAsTextproto(t *testing.T) {
	for _, k := range []string{"", "host", "x-amz-date", "X-Amz-Date", "x-amz-target", "content-type", "Content-Type",
		"amz-sdk-invocation-id", "1abc", "A1B", "a1b", "-x", "x--y", "X--Y", "x-", "X-", "a b", "a_b", "ÄB", "x-amz-meta-Foo",
		"X-AMZ-DATE", "x-Amz-date", "0", "-", "--", "a:b", "content-length"} {
		checkHeaderKey(t, k)
	}
}

func FuzzHeaderKey(f *testing.F) {
	f.Add("x-amz-date")
	f.Add("X-Amz-Target")
	f.Fuzz(func(t *testing.T, k string) { checkHeaderKey(t, k) })
}
