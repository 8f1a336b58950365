package sigv4

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Sentinel error kinds. Every error returned by Verify is an *Error whose Kind
// is one of these, so callers test with errors.Is and map the kind to the
// service's error code (see the package documentation for the table).
var (
	// ErrMissingAuth: the request carries no signature at all (no
	// Authorization header, no X-Amz-Algorithm/X-Amz-Credential/X-Amz-Signature
	// query parameter).
	ErrMissingAuth = errors.New("sigv4: missing authentication token")
	// ErrIncomplete: a signature is present but malformed or missing parts
	// (unknown algorithm, missing Credential/SignedHeaders/Signature, missing
	// date, host not signed, bad X-Amz-Expires, both auth forms at once...).
	ErrIncomplete = errors.New("sigv4: incomplete signature")
	// ErrUnknownKey: Verifier.Secret does not know the access key ID.
	ErrUnknownKey = errors.New("sigv4: unknown access key")
	// ErrMismatch: the recomputed signature differs from the one supplied
	// (or the body does not match a signed x-amz-content-sha256).
	ErrMismatch = errors.New("sigv4: signature does not match")
	// ErrExpired: the request date is further than MaxSkew from the server
	// clock (in the past for header signatures; in the future for both forms).
	ErrExpired = errors.New("sigv4: signature expired")
	// ErrPresignExpired: a presigned request is used after
	// X-Amz-Date + X-Amz-Expires.
	ErrPresignExpired = errors.New("sigv4: presigned request expired")
	// ErrBadDate: X-Amz-Date (or Date) is present but unparseable or repeated.
	ErrBadDate = errors.New("sigv4: bad request date")
	// ErrWrongScope: the credential scope is well formed but wrong: its date
	// differs from the request date, its terminator is not aws4_request, or
	// its region/service differs from what the caller expects (VerifyScope).
	ErrWrongScope = errors.New("sigv4: wrong credential scope")
)

// Error is the concrete error returned by this package. Kind is one of the
// Err* sentinels (errors.Is(err, ErrMismatch) works through Unwrap); Message
// is an AWS-style, client-facing explanation that is safe to put in an error
// response (echoed request values are clipped to a few dozen bytes and made
// valid UTF-8; escape it for XML/JSON as usual).
type Error struct {
	Kind    error
	Message string
}

func (e *Error) Error() string { return e.Kind.Error() + ": " + e.Message }

// Unwrap returns Kind.
func (e *Error) Unwrap() error { return e.Kind }

// Message returns the client-facing message of err: Error.Message when err
// is (or wraps) an *Error, otherwise err.Error(). Empty for nil.
func Message(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return err.Error()
}

func newErr(kind error, format string, args ...any) error {
	return &Error{Kind: kind, Message: fmt.Sprintf(format, args...)}
}

// Fixed AWS wording for the common cases.
const (
	msgMissing   = "Request is missing Authentication Token"
	msgMismatch  = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
	msgUnknown   = "The security token included in the request is invalid."
	maxEchoBytes = 64
)

// clip makes an attacker-supplied value safe to echo in a message: at most
// maxEchoBytes bytes (cut at a rune boundary, "..." marks a cut), valid
// UTF-8, control characters shown as '?'. sns.Clip has the same shape; this
// package keeps its own copy because it imports only the standard library.
func clip(s string) string {
	suffix := ""
	if len(s) > maxEchoBytes {
		cut := maxEchoBytes
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s, suffix = s[:cut], "..."
	}
	s = strings.ToValidUTF8(s, "?")
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '?'
		}
		return r
	}, s)
	return s + suffix
}
