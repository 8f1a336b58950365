package sigv4

import (
	"encoding/hex"
	"errors"
	"net/http"
	"sort"
	"strings"
	"time"
)

// unsignableHeaders are never signed by Sign: hop-by-hop headers and headers
// that proxies or the transport add or rewrite (the union of aws-sdk-go-v2's
// and botocore's exclusion lists).
var unsignableHeaders = map[string]bool{
	"authorization":       true,
	"connection":          true,
	"expect":              true,
	"keep-alive":          true,
	"proxy-authenticate":  true,
	"proxy-authorization": true,
	"te":                  true,
	"trailer":             true,
	"transfer-encoding":   true,
	"upgrade":             true,
	"user-agent":          true,
	"x-amzn-trace-id":     true,
}

// Sign signs r in the Authorization-header form, for outbound calls and
// tests. body must be the exact bytes that will be sent.
//
// It sets X-Amz-Date (from now, in UTC) and, when sessionToken is non-empty,
// X-Amz-Security-Token, replaces any Authorization header, and signs "host"
// (r.Host, else r.URL.Host, exactly as the transport will send it),
// "content-length" when r.ContentLength > 0, and every other header present
// in r.Header except the hop-by-hop/transport ones listed in
// unsignableHeaders. Headers added afterwards (for instance User-Agent or
// Accept-Encoding by net/http) are not signed, which is fine. The payload
// hash is hex(SHA-256(body)) unless r already has x-amz-content-sha256, whose
// value is then used. The path is normalized as for any non-S3 service.
func Sign(r *http.Request, body []byte, accessKeyID, secret, sessionToken, region, service string, now time.Time) error {
	if r == nil || r.URL == nil {
		return errors.New("sigv4: Sign: nil request or URL")
	}
	if accessKeyID == "" || secret == "" || region == "" || service == "" {
		return errors.New("sigv4: Sign: access key ID, secret, region and service are required")
	}
	if strings.Contains(accessKeyID, "/") {
		return errors.New("sigv4: Sign: access key ID must not contain '/'")
	}
	if r.Header == nil {
		r.Header = make(http.Header)
	}
	r.Header.Del("Authorization")
	amzDate := now.UTC().Format(TimeFormat)
	r.Header.Set("X-Amz-Date", amzDate)
	if sessionToken != "" {
		r.Header.Set(paramSecurityToken, sessionToken)
	}

	seen := map[string]bool{"host": true}
	names := []string{"host"}
	for k := range r.Header {
		lk := asciiLower(k)
		if unsignableHeaders[lk] || seen[lk] {
			continue
		}
		seen[lk] = true
		names = append(names, lk)
	}
	if r.ContentLength > 0 && !seen["content-length"] {
		names = append(names, "content-length")
	}
	sort.Strings(names)

	payload := hashHex(body)
	if v := r.Header.Get(headerContentSHA256); v != "" {
		payload = strings.Trim(v, " \t")
	}
	scope := Scope{AccessKeyID: accessKeyID, Date: amzDate[:8], Region: region, Service: service}
	in := &sigInput{signedHeaders: names, query: parseQuery(r.URL.RawQuery)}
	creq := in.canonical(r, payload, true)
	sig := signature(signingKey(secret, scope), stringToSign(amzDate, scope, creq))

	var b strings.Builder
	b.WriteString(Algorithm)
	b.WriteString(" Credential=")
	b.WriteString(accessKeyID)
	b.WriteByte('/')
	b.WriteString(scope.CredentialScope())
	b.WriteString(", SignedHeaders=")
	b.WriteString(strings.Join(names, ";"))
	b.WriteString(", Signature=")
	b.WriteString(hex.EncodeToString(sig))
	r.Header.Set("Authorization", b.String())
	return nil
}
