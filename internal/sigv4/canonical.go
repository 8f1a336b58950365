package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/textproto"
	"sort"
	"strconv"
	"strings"
)

// isUnreserved reports whether c is an RFC 3986 unreserved character, the
// only bytes SigV4 leaves unencoded (besides '/' in paths).
func isUnreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

const upperHex = "0123456789ABCDEF"

// uriEncode percent-encodes every byte of s except unreserved characters
// (and '/' when keepSlash), with upper-case hex: the SigV4 UriEncode().
func uriEncode(s string, keepSlash bool) string {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isUnreserved(c) && !(keepSlash && c == '/') {
			n++
		}
	}
	if n == 0 {
		return s
	}
	b := make([]byte, 0, len(s)+2*n)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isUnreserved(c) || (keepSlash && c == '/') {
			b = append(b, c)
			continue
		}
		b = append(b, '%', upperHex[c>>4], upperHex[c&15])
	}
	return string(b)
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// queryUnescape decodes one query-string name or value the way form decoding
// does ('+' is a space, %XX a byte). It never fails: a '%' that does not start
// a valid escape is kept literally (and will be re-encoded as %25), so a
// hostile query cannot make verification error out differently from a plain
// mismatch.
func queryUnescape(s string) string {
	if strings.IndexByte(s, '%') < 0 && strings.IndexByte(s, '+') < 0 {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '+':
			b = append(b, ' ')
		case '%':
			if i+2 < len(s) {
				hi, ok1 := unhex(s[i+1])
				lo, ok2 := unhex(s[i+2])
				if ok1 && ok2 {
					b = append(b, hi<<4|lo)
					i += 2
					continue
				}
			}
			b = append(b, '%')
		default:
			b = append(b, c)
		}
	}
	return string(b)
}

// queryPair is one decoded name=value pair of a raw query string, in wire
// order. A segment without '=' has an empty value.
type queryPair struct {
	key, value string
}

// parseQuery splits a raw query on '&' (never ';'), decoding each name and
// value. Empty segments ("a=1&&b=2") are dropped, as Go's url.ParseQuery and
// the SDKs do.
func parseQuery(raw string) []queryPair {
	if raw == "" {
		return nil
	}
	pairs := make([]queryPair, 0, strings.Count(raw, "&")+1)
	for raw != "" {
		var seg string
		seg, raw, _ = strings.Cut(raw, "&")
		if seg == "" {
			continue
		}
		k, v, _ := strings.Cut(seg, "=")
		pairs = append(pairs, queryPair{key: queryUnescape(k), value: queryUnescape(v)})
	}
	return pairs
}

// canonicalQuery is the SigV4 CanonicalQueryString: every name and value
// UriEncode()d, pairs sorted by encoded name then encoded value (the sort
// happens after encoding, as the spec says and the suite's
// get-vanilla-query-order-encoded case checks), "name=value" joined by '&'.
// A pair whose decoded name equals skip (X-Amz-Signature for presigned
// requests) is left out.
func canonicalQuery(pairs []queryPair, skip string) string {
	if len(pairs) == 0 {
		return ""
	}
	type enc struct{ k, v string }
	list := make([]enc, 0, len(pairs))
	size := 0
	for _, p := range pairs {
		if skip != "" && p.key == skip {
			continue
		}
		e := enc{uriEncode(p.key, false), uriEncode(p.value, false)}
		size += len(e.k) + len(e.v) + 2
		list = append(list, e)
	}
	sort.Slice(list, func(i, j int) bool {
		if list[i].k != list[j].k {
			return list[i].k < list[j].k
		}
		return list[i].v < list[j].v
	})
	var b strings.Builder
	b.Grow(size)
	for i, e := range list {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(e.k)
		b.WriteByte('=')
		b.WriteString(e.v)
	}
	return b.String()
}

// requestPath returns the path exactly as it was sent on the wire (still
// percent-encoded): URL.RawPath when Go kept it (the wire form differed from
// Go's default escaping, including invalid escapes such as raw UTF-8 bytes),
// otherwise URL.EscapedPath(), which then equals the wire form. An opaque URL
// is handled as aws-sdk-go-v2 does.
func requestPath(r *http.Request) string {
	u := r.URL
	var p string
	switch {
	case u.Opaque != "":
		o := u.Opaque
		if i := strings.IndexByte(o, '?'); i >= 0 {
			o = o[:i]
		}
		o = strings.TrimPrefix(o, "//")
		if i := strings.IndexByte(o, '/'); i >= 0 {
			p = o[i:]
		}
	case u.RawPath != "":
		p = u.RawPath
	default:
		p = u.EscapedPath()
	}
	if p == "" {
		p = "/"
	}
	return p
}

// normalizePath removes "." and ".." segments and empty segments (runs of
// '/'), keeping a leading '/' and, when anything is left, a trailing '/'.
// This is botocore's remove_dot_segments, which the suite's *-normalized
// cases follow; it works on the still-encoded wire path.
func normalizePath(p string) string {
	if p == "" {
		return "/"
	}
	segs := strings.Split(p, "/")
	out := segs[:0]
	for _, s := range segs {
		switch s {
		case "", ".":
		case "..":
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
		default:
			out = append(out, s)
		}
	}
	var b strings.Builder
	b.Grow(len(p))
	if p[0] == '/' {
		b.WriteByte('/')
	}
	for i, s := range out {
		if i > 0 {
			b.WriteByte('/')
		}
		b.WriteString(s)
	}
	if p[len(p)-1] == '/' && len(out) > 0 {
		b.WriteByte('/')
	}
	return b.String()
}

// canonicalURI is the CanonicalURI for a non-S3 service: the wire path,
// optionally normalized, UriEncode()d once more (so "%20" on the wire becomes
// "%2520"; that double encoding is what every SDK does outside S3).
func canonicalURI(wirePath string, normalize bool) string {
	if normalize {
		wirePath = normalizePath(wirePath)
	}
	if wirePath == "" {
		return "/"
	}
	return uriEncode(wirePath, true)
}

// trimAll is the SigV4 Trimall(): strip leading/trailing spaces and tabs and
// turn runs of spaces into one space.
func trimAll(s string) string {
	s = strings.Trim(s, " \t")
	if !strings.Contains(s, "  ") {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == ' ' && i > 0 && s[i-1] == ' ' {
			continue
		}
		b = append(b, s[i])
	}
	return string(b)
}

// asciiLower lower-cases ASCII letters only (header names are ASCII tokens;
// Unicode case folding such as K (U+212A) -> k must not apply).
func asciiLower(s string) string {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if 'A' <= b[j] && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// canonicalLower appends to dst the canonical form
// (textproto.CanonicalMIMEHeaderKey) of lname when lname is made of lower
// case letters, digits and '-' only (every header name a signer sends);
// ok is false for any other name, which the caller canonicalizes the
// general way.
func canonicalLower(dst []byte, lname string) ([]byte, bool) {
	upper := true
	for i := 0; i < len(lname); i++ {
		c := lname[i]
		switch {
		case 'a' <= c && c <= 'z':
			if upper {
				c -= 'a' - 'A'
			}
		case '0' <= c && c <= '9', c == '-':
		default:
			return nil, false
		}
		dst = append(dst, c)
		upper = c == '-'
	}
	return dst, true
}

// plainCanonical reports whether k is made of letters, digits and '-' and
// is already in canonical form (upper case at the start and after '-',
// lower case elsewhere). false says nothing: the caller then asks
// textproto.
func plainCanonical(k string) bool {
	upper := true
	for i := 0; i < len(k); i++ {
		c := k[i]
		switch {
		case 'A' <= c && c <= 'Z':
			if !upper {
				return false
			}
		case 'a' <= c && c <= 'z':
			if upper {
				return false
			}
		case '0' <= c && c <= '9', c == '-':
		default:
			return false
		}
		upper = c == '-'
	}
	return true
}

// headerLookup finds the values of a header by lower-case name. Go's server
// stores canonical keys ("X-Amz-Date"); maps built by hand may hold other
// spellings, which are indexed once, lazily, in sorted key order.
type headerLookup struct {
	r     *http.Request
	other map[string][]string
	built bool
}

func (h *headerLookup) values(lname string) []string {
	r := h.r
	switch lname {
	case "host":
		host := r.Host
		if host == "" && r.URL != nil {
			host = r.URL.Host
		}
		return []string{host}
	}
	var vs []string
	var buf [64]byte
	if ck, ok := canonicalLower(buf[:0], lname); ok {
		vs = r.Header[string(ck)] // no allocation for the lookup
	} else {
		vs = r.Header[textproto.CanonicalMIMEHeaderKey(lname)]
	}
	if !h.built {
		h.built = true
		var odd []string
		for k := range r.Header {
			if !plainCanonical(k) && textproto.CanonicalMIMEHeaderKey(k) != k {
				odd = append(odd, k)
			}
		}
		if len(odd) > 0 {
			sort.Strings(odd)
			h.other = make(map[string][]string, len(odd))
			for _, k := range odd {
				lk := asciiLower(k)
				h.other[lk] = append(h.other[lk], r.Header[k]...)
			}
		}
	}
	if extra := h.other[lname]; len(extra) > 0 {
		vs = append(vs[:len(vs):len(vs)], extra...)
	}
	if len(vs) == 0 {
		// Go moves these out of the header map on requests built by
		// http.NewRequest (content-length) or parsed by the server
		// (transfer-encoding).
		switch lname {
		case "content-length":
			if r.ContentLength > 0 {
				return []string{strconv.FormatInt(r.ContentLength, 10)}
			}
		case "transfer-encoding":
			if len(r.TransferEncoding) > 0 {
				return []string{strings.Join(r.TransferEncoding, ",")}
			}
		}
	}
	return vs
}

// canonicalRequest assembles the SigV4 canonical request.
//
//	Method \n CanonicalURI \n CanonicalQuery \n CanonicalHeaders \n SignedHeaders \n PayloadHash
//
// signedHeaders are used in the order given (an honest signer sends them
// sorted and lower-case); each contributes "name:value\n" where value is the
// Trimall()ed values joined by ','.
func canonicalRequest(r *http.Request, uri, query string, signedHeaders []string, payloadHash string) string {
	method := r.Method
	if method == "" {
		method = http.MethodGet
	}
	var b strings.Builder
	b.Grow(len(method) + len(uri) + len(query) + 64*len(signedHeaders) + len(payloadHash) + 8)
	b.WriteString(method)
	b.WriteByte('\n')
	b.WriteString(uri)
	b.WriteByte('\n')
	b.WriteString(query)
	b.WriteByte('\n')
	look := headerLookup{r: r}
	for _, name := range signedHeaders {
		b.WriteString(name)
		b.WriteByte(':')
		for i, v := range look.values(asciiLower(name)) {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(trimAll(v))
		}
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	for i, name := range signedHeaders {
		if i > 0 {
			b.WriteByte(';')
		}
		b.WriteString(name)
	}
	b.WriteByte('\n')
	b.WriteString(payloadHash)
	return b.String()
}

// stringToSign builds "AWS4-HMAC-SHA256\n<amzDate>\n<scope>\n<hex sha256(creq)>".
func stringToSign(amzDate string, s Scope, creq string) string {
	sum := sha256.Sum256([]byte(creq))
	return Algorithm + "\n" + amzDate + "\n" + s.CredentialScope() + "\n" + hex.EncodeToString(sum[:])
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

// signingKey derives kSigning = HMAC(HMAC(HMAC(HMAC("AWS4"+secret, date), region), service), "aws4_request").
func signingKey(secret string, s Scope) []byte {
	k := hmacSHA256([]byte("AWS4"+secret), s.Date)
	k = hmacSHA256(k, s.Region)
	k = hmacSHA256(k, s.Service)
	return hmacSHA256(k, terminator)
}

// signature returns the raw (not hex) HMAC-SHA256 of sts under key.
func signature(key []byte, sts string) []byte {
	return hmacSHA256(key, sts)
}

// hashHex is hex(SHA-256(b)).
func hashHex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
