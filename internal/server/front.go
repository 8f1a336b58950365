package server

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"

	"github.com/sealpost/sealpost/internal/identity"
	"github.com/sealpost/sealpost/internal/kms"
	"github.com/sealpost/sealpost/internal/kmsapi"
	"github.com/sealpost/sealpost/internal/policy"
	"github.com/sealpost/sealpost/internal/sigv4"
	"github.com/sealpost/sealpost/internal/sns"
	"github.com/sealpost/sealpost/internal/snsapi"
	"github.com/sealpost/sealpost/internal/sqsapi"
	"github.com/sealpost/sealpost/internal/stsapi"
)

// The front door. Every API request takes the same path through ServeHTTP:
//
//  1. Host check: the Host header must name this server (an IP address,
//     localhost, the listen or public-url host, or --allowed-hosts), so that
//     a web page cannot reach a local instance through DNS rebinding.
//  2. Protocol: X-Amz-Target TrentService.* is KMS, AmazonSQS.* is SQS (both
//     JSON); anything else speaks the Query protocol, STS when the credential
//     scope's service is "sts" (or, unsigned, Version=2011-06-15), else SNS.
//     The protocol picks the error format of every answer, panics included.
//  3. Body: read once, under maxBodyBytes.
//  4. Scope region: must be in the configured region set, also with
//     --auth=off (a region is part of ARNs and storage keys).
//  5. SigV4: verified against the protocol's service with the secret and the
//     principal taken from one lookup in the current credentials file.
//     Unsigned GETs of ConfirmSubscription/Unsubscribe (the SubscribeURL and
//     UnsubscribeURL, whose token or ARN is the credential) pass as
//     anonymous. With --auth=off a request that fails verification acts as
//     the claimed key's (else the default) account, unauthenticated; an
//     unsigned one must still be a form POST without a foreign Origin.
//  6. Dispatch to the protocol adapter with the caller.

// proto is the protocol a request speaks.
type proto int

const (
	protoSNS proto = iota
	protoSTS
	protoSQSQuery // SQS over the Query protocol
	protoKMS
	protoSQS
	protoJSON // an unknown X-Amz-Target
)

func (p proto) service() string {
	switch p {
	case protoSTS:
		return "sts"
	case protoKMS:
		return "kms"
	case protoSQS, protoSQSQuery:
		return "sqs"
	case protoJSON:
		return "unknown"
	}
	return "sns"
}

func (p proto) isJSON() bool { return p >= protoKMS }

// stsVersion is the Version parameter of STS Query requests.
const stsVersion = "2011-06-15"

// protocolOf classifies r from its headers (the STS/SNS choice of an
// unsigned request is refined once its parameters are read).
func protocolOf(r *http.Request) proto {
	target := r.Header.Get("X-Amz-Target")
	switch {
	case strings.HasPrefix(target, "TrentService."):
		return protoKMS
	case strings.HasPrefix(target, "AmazonSQS."):
		return protoSQS
	case target != "":
		return protoJSON
	}
	if scope, ok := sigv4.ParseScope(r); ok {
		switch scope.Service {
		case "sts":
			return protoSTS
		case "sqs":
			return protoSQSQuery
		}
	}
	return protoSNS
}

// writeError answers in p's error format.
func writeError(w http.ResponseWriter, p proto, code string, status int, msg string) {
	switch p {
	case protoSTS:
		stsapi.WriteError(w, stsapi.NewRequestID(), code, status, msg)
	case protoSNS:
		snsapi.WriteError(w, sns.NewRequestID(), code, status, msg)
	case protoSQSQuery:
		sqsapi.WriteQueryError(w, "", code, status, msg)
	case protoSQS:
		sqsapi.WriteJSONError(w, "", code, status, msg)
	default:
		writeJSONError(w, status, code, msg)
	}
}

func writeJSONError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("x-amzn-RequestId", sns.NewRequestID())
	w.WriteHeader(status)
	fmt.Fprintf(w, "{\"__type\":%q,\"message\":%q}\n", code, msg)
}

// authError is the code and status of a SigV4 failure in one protocol's
// format (the table in internal/sigv4's package doc). SQS's JSON protocol
// keeps the Query codes.
func authError(p proto, err error) (string, int) {
	type row struct {
		kind       error
		query      string
		queryState int
		json       string
	}
	rows := []row{
		{sigv4.ErrMissingAuth, "MissingAuthenticationToken", 403, "MissingAuthenticationTokenException"},
		{sigv4.ErrIncomplete, "IncompleteSignature", 400, "IncompleteSignatureException"},
		{sigv4.ErrBadDate, "IncompleteSignature", 400, "IncompleteSignatureException"},
		{sigv4.ErrUnknownKey, "InvalidClientTokenId", 403, "UnrecognizedClientException"},
	}
	for _, r := range rows {
		if errors.Is(err, r.kind) {
			if p == protoKMS || p == protoJSON {
				return r.json, 400
			}
			return r.query, r.queryState
		}
	}
	// ErrMismatch, ErrWrongScope, ErrExpired, ErrPresignExpired, region.
	if p == protoKMS || p == protoJSON {
		return "InvalidSignatureException", 400
	}
	return "SignatureDoesNotMatch", 403
}

// errBadRegion refuses a scope region outside the configured set, with
// AWS's wording.
var errBadRegion = &sigv4.Error{Kind: sigv4.ErrWrongScope, Message: "Credential should be scoped to a valid region."}

// reqInfo is what the front door learned about a request, for the metrics
// and the request log line.
type reqInfo struct {
	proto  proto
	action string
	caller sns.Caller
}

// serveAPI is steps 3-6 of the front door.
func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request, info *reqInfo) {
	p := info.proto
	body, params, ok := s.readRequest(w, r, info)
	if !ok {
		return
	}
	p = info.proto // readRequest may have found an unsigned STS request
	c, ok := s.authenticate(w, r, body, params, info)
	if !ok {
		return
	}
	info.caller = c
	switch p {
	case protoSNS:
		s.api.Serve(w, r, c, params)
	case protoSTS:
		stsapi.Serve(w, r, principalOf(c), params)
	case protoKMS:
		s.kmsAPI.Serve(w, r, kmsCaller(r, c), body)
	case protoSQS:
		s.sqsAPI.ServeJSON(w, r, s.sqsCaller(r, c), body)
	case protoSQSQuery:
		s.sqsAPI.ServeQuery(w, r, s.sqsCaller(r, c), params)
	default:
		writeJSONError(w, 400, "UnknownOperationException", "unknown X-Amz-Target")
	}
}

// readRequest reads the body under the cap and, for the Query protocols,
// the parameters (query string plus form body).
func (s *Server) readRequest(w http.ResponseWriter, r *http.Request, info *reqInfo) ([]byte, url.Values, bool) {
	p := info.proto
	if !p.isJSON() && r.Method != http.MethodPost && r.Method != http.MethodGet {
		writeError(w, p, "InvalidAction", 405, "the Query API accepts POST (or GET with a query string)")
		return nil, nil, false
	}
	var body []byte
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		var err error
		body, err = io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				writeError(w, p, "RequestEntityTooLarge", 413, fmt.Sprintf("Request body is larger than %d bytes", maxBodyBytes))
				return nil, nil, false
			}
			writeError(w, p, "MalformedInput", 400, "could not read the request body")
			return nil, nil, false
		}
	}
	if p.isJSON() {
		switch p {
		case protoKMS:
			if a := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "TrentService."); kmsapi.Known(a) {
				info.action = a
			}
		case protoSQS:
			if a := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "AmazonSQS."); sqsapi.Known(a) {
				info.action = a
			}
		}
		return body, nil, true
	}
	params, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		writeError(w, p, "MalformedQueryString", 400, "The query string is malformed")
		return nil, nil, false
	}
	if len(body) > 0 {
		ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if ct != "" && ct != "application/x-www-form-urlencoded" {
			writeError(w, p, "InvalidParameter", 400, "Query API requests must be application/x-www-form-urlencoded")
			return nil, nil, false
		}
		bp, err := url.ParseQuery(string(body))
		if err != nil {
			writeError(w, p, "MalformedQueryString", 400, "The form body is malformed: "+err.Error())
			return nil, nil, false
		}
		for k, v := range bp {
			params[k] = append(params[k], v...)
		}
	}
	if p == protoSNS && params.Get("Version") == stsVersion {
		if _, signed := sigv4.ParseScope(r); !signed {
			info.proto = protoSTS
		}
	}
	action := params.Get("Action")
	if p == protoSNS && sqsQuery(r, action) {
		info.proto = protoSQSQuery
	}
	switch {
	case info.proto == protoSNS && snsapi.Known(action), info.proto == protoSTS && action == "GetCallerIdentity",
		info.proto == protoSQSQuery && sqsapi.Known(action):
		info.action = action
	}
	return body, params, true
}

// sqsQuery reports whether an unsigned Query request (no credential scope
// to name its service) is for SQS: an SQS-only action, or one SNS shares
// (AddPermission, RemovePermission) posted to a queue URL path
// (/<account>/<name>).
func sqsQuery(r *http.Request, action string) bool {
	if _, signed := sigv4.ParseScope(r); signed {
		return false
	}
	if sqsapi.Known(action) && !snsapi.Known(action) {
		return true
	}
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	return sqsapi.Known(action) && len(parts) == 2 && parts[0] != "" && parts[1] != ""
}

// anonymousGET reports whether r is a SubscribeURL or UnsubscribeURL click:
// an unsigned GET whose token (or subscription ARN) is the credential.
func anonymousGET(r *http.Request, p proto, params url.Values) bool {
	if p != protoSNS || r.Method != http.MethodGet {
		return false
	}
	switch params.Get("Action") {
	case "ConfirmSubscription", "Unsubscribe":
		return true
	}
	return false
}

// authenticate verifies r and returns its caller, or answers the refusal.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request, body []byte, params url.Values, info *reqInfo) (sns.Caller, bool) {
	p := info.proto
	dir := s.ids.Directory() // one file for the whole request
	scope, scoped := sigv4.ParseScope(r)
	if scoped && !s.cfg.Regions.Contains(scope.Region) {
		s.refuse(w, r, info, errBadRegion)
		return sns.Caller{}, false
	}
	var who identity.Principal
	v := sigv4.Verifier{Now: s.now, Keys: s.keys, Secret: func(id string) (string, bool) {
		pr, secret, ok := dir.Lookup(id)
		if ok {
			who = pr
		}
		return secret, ok
	}}
	_, err := v.VerifyScope(r, body, "", p.service())
	if err == nil {
		return s.callerFor(r, who, scope.Region, true), true
	}
	if errors.Is(err, sigv4.ErrMissingAuth) {
		if anonymousGET(r, p, params) {
			return s.callerFor(r, dir.Anonymous(), "", false), true
		}
		if s.cfg.AuthOff {
			if msg := unsignedRefusal(r, s); msg != "" {
				s.refuse(w, r, info, &sigv4.Error{Kind: sigv4.ErrMissingAuth, Message: msg})
				return sns.Caller{}, false
			}
			return s.callerFor(r, dir.Anonymous(), "", false), true
		}
	}
	if !s.cfg.AuthOff {
		s.refuse(w, r, info, err)
		return sns.Caller{}, false
	}
	// --auth=off: act as the claimed key's account, unauthenticated.
	claimed := dir.Anonymous()
	if scoped {
		if pr, _, ok := dir.Lookup(scope.AccessKeyID); ok {
			claimed = pr
		}
	}
	return s.callerFor(r, claimed, scope.Region, false), true
}

// unsignedRefusal says why an unsigned request is refused even with
// --auth=off ("" if it is not): browsers can send form POSTs across sites,
// but then with an Origin header.
func unsignedRefusal(r *http.Request, s *Server) string {
	if r.Method != http.MethodPost {
		return "Request is missing Authentication Token (unsigned requests must be POSTs, also with --auth=off)"
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if r.Header.Get("X-Amz-Target") != "" {
		// JSON protocols: a browser sends X-Amz-Target and this content
		// type across sites only after a CORS preflight, which we never
		// answer.
		if !strings.HasPrefix(ct, "application/x-amz-json-") {
			return "Request is missing Authentication Token (unsigned JSON requests must be application/x-amz-json-1.x POSTs, also with --auth=off)"
		}
		return ""
	}
	if ct != "application/x-www-form-urlencoded" {
		return "Request is missing Authentication Token (unsigned requests must be form POSTs, also with --auth=off)"
	}
	if o := r.Header.Get("Origin"); o != "" {
		u, err := url.Parse(o)
		if err != nil || !s.hostAllowed(u.Host) {
			return "Request is missing Authentication Token (unsigned requests from web pages are refused, also with --auth=off)"
		}
	}
	return ""
}

// refuse answers a verification failure and logs it at debug level (never
// the signature or a secret).
func (s *Server) refuse(w http.ResponseWriter, r *http.Request, info *reqInfo, err error) {
	code, status := authError(info.proto, err)
	writeError(w, info.proto, code, status, sigv4.Message(err))
	if s.log.Enabled(r.Context(), slog.LevelDebug) {
		scope, _ := sigv4.ParseScope(r)
		s.log.Debug("request refused", "service", info.proto.service(), "code", code,
			"access_key_id", clipLog(scope.AccessKeyID), "source_ip", s.sourceIP(r).String(), "reason", err.Error())
	}
}

func clipLog(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}

// callerFor builds the caller of a request acting as p.
func (s *Server) callerFor(r *http.Request, p identity.Principal, region string, authenticated bool) sns.Caller {
	if region == "" || !s.cfg.Regions.Contains(region) {
		region = s.cfg.Region
	}
	c := sns.Caller{
		Account:       p.Account,
		Region:        region,
		Principal:     p.ARN,
		Signed:        authenticated, // verified, not merely present
		Authenticated: authenticated,
		AccessKeyID:   p.AccessKeyID,
		UserName:      p.UserName,
		UserID:        p.UserID,
		Secure:        s.secure(r),
		SourceIP:      s.sourceIP(r),
	}
	if p.Policy != nil {
		c.IdentityPolicy, _ = p.Policy.Compiled.(*policy.Policy)
	}
	return c
}

// kmsCaller is the KMS domain's view of a request's caller.
func kmsCaller(r *http.Request, c sns.Caller) kms.Caller {
	return kmsCallerIn(c, c.Region, r.UserAgent())
}

// kmsCallerIn is c as the KMS sees it in region: for SNS's use of a key on
// a publisher's behalf, the topic's region.
func kmsCallerIn(c sns.Caller, region, userAgent string) kms.Caller {
	return kms.Caller{
		Account:        c.Account,
		Region:         region,
		Principal:      c.Principal,
		UserID:         c.UserID,
		AccessKeyID:    c.AccessKeyID,
		Authenticated:  c.Authenticated,
		IdentityPolicy: c.IdentityPolicy,
		SourceIP:       c.SourceIP,
		Secure:         c.Secure,
		UserAgent:      userAgent,
		RequestID:      sns.NewRequestID(),
	}
}

// principalOf turns a caller back into the principal STS answers.
func principalOf(c sns.Caller) identity.Principal {
	return identity.Principal{Account: c.Account, ARN: c.Principal, AccessKeyID: c.AccessKeyID, UserName: c.UserName, UserID: c.UserID}
}

// compileIdentityPolicy is the credentials file's policy compiler.
func compileIdentityPolicy(raw []byte) (any, error) {
	return policy.ParseWith(raw, policy.Options{Kind: policy.IdentityPolicy})
}

// peer is the address of the connection's other end.
func peer(r *http.Request) netip.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}

func (s *Server) trusted(a netip.Addr) bool {
	for _, p := range s.cfg.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// sourceIP is the client's address: the peer, or, when the peer is a
// trusted proxy, the right-most X-Forwarded-For address that is not a
// trusted proxy (the left-most one when all are).
func (s *Server) sourceIP(r *http.Request) netip.Addr {
	a := peer(r)
	if !a.IsValid() || !s.trusted(a) {
		return a
	}
	var hops []string
	for _, v := range r.Header.Values("X-Forwarded-For") {
		hops = append(hops, strings.Split(v, ",")...)
	}
	for i := len(hops) - 1; i >= 0; i-- {
		h, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			return a // a garbled chain: believe only the proxy itself
		}
		a = h.Unmap()
		if !s.trusted(a) {
			return a
		}
	}
	return a
}

// secure reports whether the client used TLS: to us, or to a trusted proxy
// that says so in its last X-Forwarded-Proto.
func (s *Server) secure(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	if a := peer(r); !a.IsValid() || !s.trusted(a) {
		return false
	}
	vs := r.Header.Values("X-Forwarded-Proto")
	if len(vs) == 0 {
		return false
	}
	parts := strings.Split(vs[len(vs)-1], ",")
	return strings.EqualFold(strings.TrimSpace(parts[len(parts)-1]), "https")
}

// hostAllowed reports whether host (a Host header, port optional) names
// this server: an IP address (DNS rebinding needs a name), localhost and
// *.localhost, the listen and public-url hosts, this machine's host name, or
// an --allowed-hosts entry.
func (s *Server) hostAllowed(host string) bool {
	if host == "" {
		return false
	}
	h := host
	if hh, _, err := net.SplitHostPort(host); err == nil {
		h = hh
	}
	h = strings.TrimSuffix(strings.ToLower(strings.Trim(h, "[]")), ".")
	if _, err := netip.ParseAddr(h); err == nil {
		return true
	}
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return true
	}
	_, ok := s.hosts[h]
	return ok
}

// servedHosts collects the names hostAllowed accepts besides IP addresses
// and localhost.
func servedHosts(listen, publicURL, hostname string, extra []string) map[string]struct{} {
	m := map[string]struct{}{}
	add := func(h string) {
		h = strings.TrimSuffix(strings.ToLower(strings.Trim(h, "[]")), ".")
		if h != "" {
			m[h] = struct{}{}
		}
	}
	if h, _, err := net.SplitHostPort(listen); err == nil {
		add(h)
	}
	if u, err := url.Parse(publicURL); err == nil {
		add(u.Hostname())
	}
	add(hostname)
	for _, h := range extra {
		add(h)
	}
	return m
}

// logRequest writes the request log line (debug level): who did what, never
// a signature or secret.
func (s *Server) logRequest(r *http.Request, info *reqInfo, status int) {
	if !s.log.Enabled(r.Context(), slog.LevelDebug) {
		return
	}
	c := info.caller
	s.log.Debug("request", "service", info.proto.service(), "action", info.action, "status", strconv.Itoa(status),
		"account", c.Account, "principal", c.Principal, "access_key_id", clipLog(c.AccessKeyID),
		"authenticated", c.Authenticated, "source_ip", s.sourceIP(r).String())
}
