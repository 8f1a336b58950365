// Package kmsapi serves the AWS KMS JSON 1.1 protocol (X-Amz-Target:
// TrentService.<Action>, application/x-amz-json-1.1, errors as
// {"__type": code, "message": text}) over the kms domain.
package kmsapi

import (
	"fmt"
	"log/slog"
	"net/http"

	"github.com/sealpost/sealpost/internal/kms"
)

// API is the KMS protocol adapter.
type API struct {
	svc *kms.Service
	log *slog.Logger
}

// New returns the adapter for svc.
func New(svc *kms.Service, log *slog.Logger) *API { return &API{svc: svc, log: log} }

// Serve answers one request whose body the front door has read and whose
// signature it has verified; c is the caller.
func (a *API) Serve(w http.ResponseWriter, r *http.Request, c kms.Caller, body []byte) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.WriteHeader(400)
	fmt.Fprintf(w, "{\"__type\":%q,\"message\":%q}\n", "UnknownOperationException", "not implemented yet")
}
