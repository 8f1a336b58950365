// Package sigv4 verifies (and, for outbound calls and tests, produces) AWS
// Signature Version 4 request signatures (AWS4-HMAC-SHA256) for the
// non-S3 services Sealpost serves: SNS (query protocol, form-encoded POST)
// and KMS (JSON 1.1 POST). It uses the standard library only.
//
// # Contract
//
// Verifier.Verify(r, body) accepts a request iff some holder of the secret
// for the access key in its credential scope signed exactly this request:
//
//   - Forms: the Authorization header
//     ("AWS4-HMAC-SHA256 Credential=AKID/YYYYMMDD/region/service/aws4_request,
//     SignedHeaders=a;b;host, Signature=<64 hex>") or the presigned query form
//     (X-Amz-Algorithm, X-Amz-Credential, X-Amz-Date, X-Amz-Expires,
//     X-Amz-SignedHeaders, X-Amz-Signature; optional X-Amz-Security-Token).
//     Both at once is ErrIncomplete; neither is ErrMissingAuth.
//   - Canonical request: Method, CanonicalURI, CanonicalQueryString,
//     CanonicalHeaders, SignedHeaders, payload hash, "\n"-joined.
//     CanonicalURI is the path as received on the wire (URL.RawPath, else
//     URL.EscapedPath()), dot segments and empty segments removed (botocore's
//     and the test suite's rule for every service but S3), then URI-encoded
//     again (RFC 3986 unreserved and '/' kept). Because aws-sdk-go-v2 does not
//     normalize, the un-normalized form is also accepted when it differs.
//     CanonicalQueryString: the raw query split on '&', each name and value
//     decoded ('+' is a space, an invalid %-escape stays literal) and
//     re-encoded per RFC 3986 (%20 for space, upper-case hex), sorted by
//     encoded name then encoded value, X-Amz-Signature left out for presigned
//     requests. CanonicalHeaders: for each name in the client's SignedHeaders
//     list, in that order, "name:" + the values trimmed, inner runs of spaces
//     collapsed, joined by ','. "host" is r.Host (Go's server removes Host
//     from the header map); content-length falls back to r.ContentLength and
//     transfer-encoding to r.TransferEncoding when absent from the map. "host"
//     must be signed.
//   - Payload hash: the x-amz-content-sha256 header if present: either
//     UNSIGNED-PAYLOAD (accepted; Result.UnsignedPayload reports it, the body
//     is then NOT authenticated) or a hex digest that must equal SHA-256(body)
//     (else ErrMismatch); any other value (S3's STREAMING-* modes) is
//     ErrIncomplete. Without the header the server hashes body itself — also
//     for presigned requests (UNSIGNED-PAYLOAD by default is S3-only).
//   - Date: X-Amz-Date (exactly YYYYMMDD'T'HHMMSS'Z') or, if absent, the Date
//     header (RFC 1123, RFC 1123 with numeric zone as botocore writes it, RFC
//     850, ANSI C). The scope date must equal its first 8 characters and the
//     scope must end in aws4_request (ErrWrongScope).
//   - Time: a request dated more than MaxSkew (default 15 min) before Now is
//     ErrExpired ("Signature expired: <date> is now earlier than <now-skew>
//     (<now> - 15 min.)"); more than MaxSkew after Now, ErrExpired ("Signature
//     not yet current: ..."), for both forms. A presigned request is valid from
//     X-Amz-Date until X-Amz-Date + X-Amz-Expires (0..604800 s, else
//     ErrIncomplete); after that, ErrPresignExpired.
//   - Order of checks: parse → scope (date, terminator, expected region and
//     service) → time → body hash → Secret(accessKeyID) → signature. So Secret
//     is only called for well-formed, current requests.
//   - The signature is hex-decoded and compared with crypto/hmac.Equal.
//   - Verifier.Keys (a KeyCache, optional) keeps derived signing keys per
//     access key, secret, date, region and service, bounded in entries, so
//     that a verification computes one HMAC instead of five.
//   - r.Body is never read; pass the bytes you read (with a size cap). Parsing
//     is linear in the input; nothing panics on hostile input (fuzzed).
//
// VerifyScope additionally requires the scope's region and service; empty
// arguments are not checked. ParseScope reads the credential scope without
// verifying anything, to route a request to an account/region before Verify.
//
// Sign produces the header form as aws-sdk-go-v2 does (all headers except
// hop-by-hop/transport ones, host, content-length when > 0).
//
// # Errors
//
// Every error is an *Error whose Kind is a sentinel (use errors.Is) and whose
// Message is AWS-style text for the response body (Message(err) extracts it).
// Suggested mapping (from shared/reference/aws-behavior.md §8.2 and
// security-notes.md §2.8, where the codes are marked "observed; verify"; the
// KMS names for missing/incomplete auth follow the JSON convention of
// suffixing "Exception" and are unverified):
//
//	kind               SNS (query, XML)                 KMS (JSON 1.1)
//	ErrMissingAuth     403 MissingAuthenticationToken   400 MissingAuthenticationTokenException
//	ErrIncomplete      400 IncompleteSignature          400 IncompleteSignatureException
//	ErrBadDate         400 IncompleteSignature          400 IncompleteSignatureException
//	ErrUnknownKey      403 InvalidClientTokenId         400 UnrecognizedClientException
//	ErrMismatch        403 SignatureDoesNotMatch        400 InvalidSignatureException
//	ErrWrongScope      403 SignatureDoesNotMatch        400 InvalidSignatureException
//	ErrExpired         403 SignatureDoesNotMatch        400 InvalidSignatureException
//	ErrPresignExpired  403 SignatureDoesNotMatch        400 InvalidSignatureException
//
// SDKs correct their clock and retry on SignatureDoesNotMatch /
// InvalidSignatureException whose message says "Signature expired" or "not
// yet current", so keep those messages verbatim.
//
// # What the SDKs sign (observed by this package's tests)
//
// aws-sdk-go-v2 (v1.48) signs every header present at signing time except
// Authorization, User-Agent, X-Amzn-Trace-Id, Expect and Transfer-Encoding.
// Its SNS and KMS clients sign
// amz-sdk-invocation-id;amz-sdk-request;content-length;content-type;host;x-amz-date,
// plus x-amz-security-token with session credentials and x-amz-target for
// KMS. It sends no x-amz-content-sha256 for these services, does not
// normalize paths, and strips :80/:443 from the signed host.
//
// botocore 1.43 (aws CLI, boto3) signs every header except hop-by-hop ones,
// User-Agent and X-Amzn-Trace-Id. Its SNS and KMS clients sign
// content-type;host;x-amz-date (+ x-amz-security-token, + x-amz-target).
// amz-sdk-invocation-id, amz-sdk-request and Content-Length are added after
// signing and are therefore not signed. When a request already has a Date
// header, botocore signs "date" (RFC 2822, "-0000" zone) and sends no
// X-Amz-Date. It lower-cases the host it signs and normalizes the path (Go
// sends the path as given). SigV4QueryAuth (presigning) moves a form body into
// the query string, drops the default form Content-Type and hashes the then
// empty body.
//
// Behind a reverse proxy the Host header must reach the server unchanged
// (r.Host is what the client signed), and the body must be passed to Verify
// byte for byte.
//
// # Not supported
//
// SigV4a (AWS4-ECDSA-P256-SHA256), SigV2, S3 rules (no path normalization,
// single encoding, chunked STREAMING-* payloads), auth parameters carried in
// a form-encoded POST body, and validation of session tokens (the secret is
// looked up by access key ID only). A session token appended to a presigned
// URL after signing (the suite's post-sts-header-after query case, an IoT
// convention) does not verify, since the signature no longer covers the URL.
package sigv4
