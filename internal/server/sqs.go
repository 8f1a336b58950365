package server

import (
	"net/http"

	"github.com/sealpost/sealpost/internal/sns"
	"github.com/sealpost/sealpost/internal/sqs"
)

// sqsCaller is the front door's caller as the SQS domain sees it.
func (s *Server) sqsCaller(r *http.Request, c sns.Caller) sqs.Caller {
	return sqs.Caller{
		Account: c.Account, Region: c.Region, Principal: c.Principal, Signed: c.Signed, Secure: c.Secure,
		AccessKeyID: c.AccessKeyID, UserName: c.UserName, UserID: c.UserID, Authenticated: c.Authenticated,
		IdentityPolicy: c.IdentityPolicy, SourceIP: c.SourceIP, RequestID: sns.NewRequestID(),
		BaseURL: s.queueBaseURL(r, c),
	}
}

// queueBaseURL is the base of the queue URLs answered to r: with a
// configured --public-url, that; by default the scheme and Host the client
// used (the Host passed the front door's check), so that a client that
// follows queue URLs (the JS SDK v3 does) stays on the same scheme and host,
// as queue URLs from AWS name the endpoint that was called.
func (s *Server) queueBaseURL(r *http.Request, c sns.Caller) string {
	if !s.cfg.PublicURLDefaulted || r.Host == "" {
		return ""
	}
	scheme := "http"
	if c.Secure {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// SQS returns the SQS domain service.
func (s *Server) SQS() *sqs.Service { return s.sqs }
