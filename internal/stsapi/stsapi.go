// Package stsapi speaks the AWS STS Query protocol (service "sts", version
// 2011-06-15) for the one action Sealpost offers: GetCallerIdentity, which
// answers the Account, Arn and UserId of the verified caller, so that
// `aws sts get-caller-identity` and Terraform's AWS provider work.
//
// The front door verifies the request's SigV4 signature (scope service
// "sts"), resolves the principal and parses the parameters (form body of a
// POST, or the query string) before calling Serve; this package trusts both.
//
// Responses are XML in STS's namespace, as AWS writes them:
//
//	<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
//	  <GetCallerIdentityResult><Arn>…</Arn><UserId>…</UserId><Account>…</Account></GetCallerIdentityResult>
//	  <ResponseMetadata><RequestId>…</RequestId></ResponseMetadata>
//	</GetCallerIdentityResponse>
//
// Errors are <ErrorResponse> documents (Type Sender for 4xx, Receiver for
// 5xx) with the request id also in the x-amzn-RequestId header:
//
//	MissingAction  400  no Action parameter
//	InvalidAction  400  any other action (the other STS actions say Sealpost
//	                    does not offer them), or a Version other than 2011-06-15
//	InternalError  500  a panic in this package (logged by nobody here; the
//	                    message carries only the request id)
//
// The front door can answer its own refusals (signature errors) for STS
// requests with WriteError. Serve is safe for concurrent use; the package has
// no state.
package stsapi

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/sealpost/sealpost/internal/identity"
)

const (
	// Namespace is the STS XML namespace.
	Namespace = "https://sts.amazonaws.com/doc/2011-06-15/"
	// Version is the STS API version.
	Version = "2011-06-15"
	// Service is the SigV4 scope service of STS requests.
	Service = "sts"
)

// RequestIDHeader carries the request id. If the front door has already set
// it on the response, Serve uses that id; else Serve makes one.
const RequestIDHeader = "x-amzn-RequestId"

// notOffered lists the STS actions of the 2011-06-15 API that Sealpost does
// not implement: they get InvalidAction saying so, not "not valid".
var notOffered = map[string]bool{
	"AssumeRole":                 true,
	"AssumeRoleWithSAML":         true,
	"AssumeRoleWithWebIdentity":  true,
	"AssumeRoot":                 true,
	"DecodeAuthorizationMessage": true,
	"GetAccessKeyInfo":           true,
	"GetDelegatedAccessToken":    true,
	"GetFederationToken":         true,
	"GetSessionToken":            true,
	"GetWebIdentityToken":        true,
}

// Serve answers one STS request from principal p (already authenticated)
// whose parameters are params (form body and query string). r is not read
// today; it is there so that every protocol adapter has the same shape.
func Serve(w http.ResponseWriter, r *http.Request, p identity.Principal, params url.Values) {
	reqID := w.Header().Get(RequestIDHeader)
	if reqID == "" {
		reqID = NewRequestID()
		w.Header().Set(RequestIDHeader, reqID)
	}
	defer func() {
		if v := recover(); v != nil {
			WriteError(w, reqID, "InternalError", http.StatusInternalServerError, "An internal error occurred; request id "+reqID)
		}
	}()
	action := params.Get("Action")
	if v := params.Get("Version"); v != "" && v != Version && action != "" {
		WriteError(w, reqID, "InvalidAction", 400, "Could not find operation "+clip(action)+" for version "+clip(v))
		return
	}
	switch {
	case action == "GetCallerIdentity":
		writeCallerIdentity(w, reqID, p)
	case action == "":
		WriteError(w, reqID, "MissingAction", 400, "Missing Action")
	case notOffered[action]:
		WriteError(w, reqID, "InvalidAction", 400, "Sealpost does not offer "+action+": only GetCallerIdentity is supported")
	default:
		WriteError(w, reqID, "InvalidAction", 400, "Could not find operation "+clip(action)+" for version "+Version)
	}
}

func writeCallerIdentity(w http.ResponseWriter, reqID string, p identity.Principal) {
	var b strings.Builder
	b.WriteString(`<GetCallerIdentityResponse xmlns="` + Namespace + `"><GetCallerIdentityResult><Arn>`)
	escape(&b, p.ARN)
	b.WriteString("</Arn><UserId>")
	escape(&b, UserID(p))
	b.WriteString("</UserId><Account>")
	escape(&b, p.Account)
	b.WriteString("</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>")
	escape(&b, reqID)
	b.WriteString("</RequestId></ResponseMetadata></GetCallerIdentityResponse>\n")
	write(w, http.StatusOK, b.String())
}

// UserID is what GetCallerIdentity answers as UserId: p.UserID, or, for a
// Principal built without one, the account id for an account root and
// identity.UserIDOf(ARN) for a user.
func UserID(p identity.Principal) string {
	switch {
	case p.UserID != "":
		return p.UserID
	case p.ARN == "arn:aws:iam::"+p.Account+":root":
		return p.Account
	default:
		return identity.UserIDOf(p.ARN)
	}
}

// WriteError writes an STS <ErrorResponse>.
func WriteError(w http.ResponseWriter, reqID, code string, status int, msg string) {
	typ := "Sender"
	if status >= 500 {
		typ = "Receiver"
	}
	var b strings.Builder
	b.WriteString(`<ErrorResponse xmlns="` + Namespace + `"><Error><Type>` + typ + "</Type><Code>")
	escape(&b, code)
	b.WriteString("</Code><Message>")
	escape(&b, msg)
	b.WriteString("</Message></Error><RequestId>")
	escape(&b, reqID)
	b.WriteString("</RequestId></ErrorResponse>\n")
	w.Header().Set(RequestIDHeader, reqID)
	write(w, status, b.String())
}

func write(w http.ResponseWriter, status int, body string) {
	h := w.Header()
	h.Set("Content-Type", "text/xml")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write([]byte(body))
}

// NewRequestID returns a random UUID (version 4), the shape of AWS request ids.
func NewRequestID() string {
	var u [16]byte
	rand.Read(u[:]) // never fails (crypto/rand panics instead)
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	var s [36]byte
	hex.Encode(s[0:8], u[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], u[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], u[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], u[8:10])
	s[23] = '-'
	hex.Encode(s[24:], u[10:])
	return string(s[:])
}

// escape writes s as XML character data: the five special characters as
// entities, characters XML 1.0 cannot carry (and invalid UTF-8) as U+FFFD.
func escape(b *strings.Builder, s string) {
	for _, r := range s {
		switch {
		case r == '<':
			b.WriteString("&lt;")
		case r == '>':
			b.WriteString("&gt;")
		case r == '&':
			b.WriteString("&amp;")
		case r == '"':
			b.WriteString("&quot;")
		case r == '\'':
			b.WriteString("&apos;")
		case r == '\t' || r == '\n' || r == '\r' || (r >= 0x20 && r <= 0xD7FF) || (r >= 0xE000 && r <= 0xFFFD) || r >= 0x10000 && r <= 0x10FFFF:
			b.WriteRune(r)
		default:
			b.WriteRune('\uFFFD')
		}
	}
}

// clip bounds a caller-supplied value quoted in a message.
func clip(s string) string {
	if len(s) > 64 {
		s = s[:64] + "..."
	}
	return s
}
