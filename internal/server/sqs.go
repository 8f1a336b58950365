package server

import (
	"net/http"

	"github.com/sealpost/sealpost/internal/sns"
	"github.com/sealpost/sealpost/internal/sqs"
)

// sqsCaller is the front door's caller as the SQS domain sees it.
func sqsCaller(r *http.Request, c sns.Caller) sqs.Caller {
	return sqs.Caller{
		Account: c.Account, Region: c.Region, Principal: c.Principal, Signed: c.Signed, Secure: c.Secure,
		AccessKeyID: c.AccessKeyID, UserName: c.UserName, UserID: c.UserID, Authenticated: c.Authenticated,
		IdentityPolicy: c.IdentityPolicy, SourceIP: c.SourceIP, RequestID: sns.NewRequestID(),
	}
}

// SQS returns the SQS domain service.
func (s *Server) SQS() *sqs.Service { return s.sqs }
