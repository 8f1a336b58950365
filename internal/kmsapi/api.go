// Package kmsapi serves the AWS KMS JSON 1.1 protocol (X-Amz-Target:
// TrentService.<Action>, application/x-amz-json-1.1, errors as
// {"__type": code, "message": text}) over the kms domain.
//
// Wire catalogues are data: the action table (actions.go) maps each action
// to its input members (shapes and constraints of the botocore model
// kms-2014-11-01.json), a decoder to the domain's input and the call that
// writes the output shape; the error table below maps the domain's error
// kinds to wire codes and HTTP statuses.
//
// Errors: a body or member of the wrong JSON type is SerializationException
// (400); a missing required member or a broken length, range, pattern or
// enum constraint is ValidationException (400) in AWS's wording; an action
// of the KMS model that Sealpost does not offer is
// UnsupportedOperationException (400); any other action is
// UnknownOperationException (400). Domain errors map through the error
// table. Anything else (and a panic in a handler) is KMSInternalException
// (500) with a generic message; the error is logged with the action and
// request id, never with the request body.
//
// Secrets: decoded plaintexts and the plaintexts and data keys of answers
// live in buffers the adapter wipes after use; they are never logged.
//
// Every answer carries x-amzn-RequestId (the caller's RequestID when the
// front door set one) and Content-Type application/x-amz-json-1.1. Serve is
// safe for concurrent use.
package kmsapi

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/sealpost/sealpost/internal/kms"
)

// API is the KMS protocol adapter.
type API struct {
	svc     domain
	log     *slog.Logger
	actions map[string]handler
}

// New returns the adapter for svc.
func New(svc *kms.Service, log *slog.Logger) *API {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &API{svc: svc, log: log, actions: actions}
}

// domain is what the adapter needs of the kms domain (*kms.Service).
type domain interface {
	CreateKey(ctx context.Context, c kms.Caller, in kms.CreateKeyInput) (kms.KeyMetadata, error)
	DescribeKey(ctx context.Context, c kms.Caller, keyID string, grantTokens []string) (kms.KeyMetadata, error)
	ListKeys(ctx context.Context, c kms.Caller, p kms.Page) ([]kms.KeyListEntry, string, error)
	CreateAlias(ctx context.Context, c kms.Caller, name, targetKeyID string) error
	UpdateAlias(ctx context.Context, c kms.Caller, name, targetKeyID string) error
	DeleteAlias(ctx context.Context, c kms.Caller, name string) error
	ListAliases(ctx context.Context, c kms.Caller, keyID string, p kms.Page) ([]kms.AliasEntry, string, error)
	Encrypt(ctx context.Context, c kms.Caller, in kms.EncryptInput) (kms.EncryptOutput, error)
	Decrypt(ctx context.Context, c kms.Caller, in kms.DecryptInput) (kms.DecryptOutput, error)
	ReEncrypt(ctx context.Context, c kms.Caller, in kms.ReEncryptInput) (kms.ReEncryptOutput, error)
	GenerateDataKey(ctx context.Context, c kms.Caller, in kms.DataKeyInput) (kms.DataKeyOutput, error)
	GenerateDataKeyWithoutPlaintext(ctx context.Context, c kms.Caller, in kms.DataKeyInput) (kms.DataKeyOutput, error)
	GenerateRandom(ctx context.Context, c kms.Caller, n int, customKeyStoreID string) ([]byte, error)
	EnableKey(ctx context.Context, c kms.Caller, keyID string) error
	DisableKey(ctx context.Context, c kms.Caller, keyID string) error
	ScheduleKeyDeletion(ctx context.Context, c kms.Caller, keyID string, days int) (kms.DeletionResult, error)
	CancelKeyDeletion(ctx context.Context, c kms.Caller, keyID string) (string, error)
	EnableKeyRotation(ctx context.Context, c kms.Caller, keyID string, periodDays int) error
	DisableKeyRotation(ctx context.Context, c kms.Caller, keyID string) error
	GetKeyRotationStatus(ctx context.Context, c kms.Caller, keyID string) (kms.RotationStatus, error)
	RotateKeyOnDemand(ctx context.Context, c kms.Caller, keyID string) (string, error)
	ListKeyRotations(ctx context.Context, c kms.Caller, keyID string, p kms.Page) ([]kms.Rotation, string, error)
	GetKeyPolicy(ctx context.Context, c kms.Caller, keyID, name string) (string, string, error)
	PutKeyPolicy(ctx context.Context, c kms.Caller, keyID, name, doc string, bypassLockoutCheck bool) error
	ListKeyPolicies(ctx context.Context, c kms.Caller, keyID string, p kms.Page) ([]string, string, error)
	TagResource(ctx context.Context, c kms.Caller, keyID string, tags []kms.Tag) error
	UntagResource(ctx context.Context, c kms.Caller, keyID string, tagKeys []string) error
	ListResourceTags(ctx context.Context, c kms.Caller, keyID string, p kms.Page) ([]kms.Tag, string, error)
	UpdateKeyDescription(ctx context.Context, c kms.Caller, keyID, description string) error
	CreateGrant(ctx context.Context, c kms.Caller, in kms.CreateGrantInput) (token, grantID string, err error)
	ListGrants(ctx context.Context, c kms.Caller, keyID, grantID, grantee string, p kms.Page) ([]kms.GrantEntry, string, error)
	RetireGrant(ctx context.Context, c kms.Caller, token, keyID, grantID string) error
	RevokeGrant(ctx context.Context, c kms.Caller, keyID, grantID string) error
	ListRetirableGrants(ctx context.Context, c kms.Caller, retiringPrincipal string, p kms.Page) ([]kms.GrantEntry, string, error)
}

var _ domain = (*kms.Service)(nil)

// Known reports whether action (without the TrentService. prefix) is a KMS
// action Sealpost serves.
func Known(action string) bool {
	_, ok := actions[action]
	return ok
}

// ContentType is the media type of every KMS request and answer.
const ContentType = "application/x-amz-json-1.1"

// apiError is an answer decided by the adapter itself.
type apiError struct {
	code   string
	status int
	msg    string
}

func (e *apiError) Error() string { return e.msg }

// wireCode is a wire error: __type and HTTP status.
type wireCode struct {
	code   string
	status int
}

// errorCodes maps the domain's error kinds to wire codes and statuses
// (statuses from the AWS KMS API reference: all 400 but the faults).
var errorCodes = map[error]wireCode{
	kms.ErrNotFound:          {"NotFoundException", 400},
	kms.ErrDisabled:          {"DisabledException", 400},
	kms.ErrInvalidState:      {"KMSInvalidStateException", 400},
	kms.ErrInvalidCiphertext: {"InvalidCiphertextException", 400},
	kms.ErrIncorrectKey:      {"IncorrectKeyException", 400},
	kms.ErrAccessDenied:      {"AccessDeniedException", 400},
	kms.ErrValidation:        {"ValidationException", 400},
	kms.ErrLimitExceeded:     {"LimitExceededException", 400},
	kms.ErrAlreadyExists:     {"AlreadyExistsException", 400},
	kms.ErrUnsupported:       {"UnsupportedOperationException", 400},
	kms.ErrInvalidAliasName:  {"InvalidAliasNameException", 400},
	kms.ErrInvalidArn:        {"InvalidArnException", 400},
	kms.ErrMalformedPolicy:   {"MalformedPolicyDocumentException", 400},
	kms.ErrInvalidGrantToken: {"InvalidGrantTokenException", 400},
	kms.ErrInvalidGrantID:    {"InvalidGrantIdException", 400},
	kms.ErrInvalidMarker:     {"InvalidMarkerException", 400},
	kms.ErrTag:               {"TagException", 400},
	kms.ErrInvalidKeyUsage:   {"InvalidKeyUsageException", 400},
	kms.ErrDryRun:            {"DryRunOperationException", 412},
	kms.ErrInternal:          {"KMSInternalException", 500},
}

// timeouts are errors that are not the domain's but have a wire code of
// their own: a store that did not answer in time.
var timeouts = []struct {
	err  error
	wire wireCode
}{
	{context.DeadlineExceeded, wireCode{"DependencyTimeoutException", 503}},
}

var internalError = wireCode{"KMSInternalException", 500}

// Code returns the wire code, status and client message of err. The message
// of a 5xx is generic (the caller logs err).
func Code(err error) (code string, status int, msg string) {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae.code, ae.status, ae.msg
	}
	wc, msg := internalError, ""
	var ke *kms.Error
	if errors.As(err, &ke) {
		if c, ok := errorCodes[ke.Kind]; ok {
			wc, msg = c, ke.Msg
		}
	} else {
		for _, t := range timeouts {
			if errors.Is(err, t.err) {
				wc = t.wire
			}
		}
	}
	if wc.status >= 500 {
		msg = "An internal error occurred. Try the request again."
		if wc.code == "DependencyTimeoutException" {
			msg = "The service could not be reached in time. Try the request again."
		}
	}
	return wc.code, wc.status, msg
}

// Serve answers one request whose body the front door has read and whose
// signature it has verified; c is the caller.
func (a *API) Serve(w http.ResponseWriter, r *http.Request, c kms.Caller, body []byte) {
	if c.RequestID == "" {
		c.RequestID = NewRequestID()
	}
	action := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "TrentService.")
	out := newJSONWriter()
	defer out.wipe()
	err := a.dispatch(r.Context(), action, c, body, out)
	if err != nil {
		code, status, msg := Code(err)
		if status >= 500 {
			a.log.Error("kms action failed", "action", action, "request_id", c.RequestID, "err", err)
		}
		WriteError(w, c.RequestID, code, status, msg)
		return
	}
	h := w.Header()
	// Canonical keys, as Set would write them, without canonicalizing.
	h["Content-Type"] = []string{ContentType}
	h["X-Amzn-Requestid"] = []string{c.RequestID}
	h["Content-Length"] = []string{strconv.Itoa(len(out.b))}
	w.WriteHeader(http.StatusOK)
	w.Write(out.b)
}

// dispatch finds, decodes and runs an action, turning a panic into an
// internal error.
func (a *API) dispatch(ctx context.Context, action string, c kms.Caller, body []byte, out *jsonWriter) (err error) {
	h, ok := a.actions[action]
	if !ok {
		if what, ok := unsupported[action]; ok {
			return &apiError{"UnsupportedOperationException", 400,
				action + " is not supported: " + what + ". Sealpost supports symmetric encryption keys (KeySpec SYMMETRIC_DEFAULT, KeyUsage ENCRYPT_DECRYPT) with key material generated by KMS."}
		}
		name := action
		if len(name) > 64 {
			name = name[:64] + "..."
		}
		return &apiError{"UnknownOperationException", 400, fmt.Sprintf("The operation %q is not supported by AWS KMS.", name)}
	}
	defer func() {
		if p := recover(); p != nil {
			out.wipe()
			out.b = out.b[:0]
			err = fmt.Errorf("panic in %s: %v\n%s", action, p, debug.Stack())
		}
	}()
	args, err := decode(h.members(), body)
	if err != nil {
		return err
	}
	defer args.wipe()
	out.open()
	if err := h.run(ctx, a.svc, c, args, out); err != nil {
		return err
	}
	out.close()
	return nil
}

// WriteError writes a KMS JSON error.
func WriteError(w http.ResponseWriter, reqID, code string, status int, msg string) {
	out := newJSONWriter()
	out.open()
	out.str("__type", code)
	out.str("message", msg)
	out.close()
	h := w.Header()
	h.Set("Content-Type", ContentType)
	h.Set("x-amzn-RequestId", reqID)
	h.Set("Content-Length", strconv.Itoa(len(out.b)))
	w.WriteHeader(status)
	w.Write(out.b)
}

// NewRequestID returns a random request id in UUID form.
func NewRequestID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	const hex = "0123456789abcdef"
	out := make([]byte, 0, 36)
	for i, c := range b {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			out = append(out, '-')
		}
		out = append(out, hex[c>>4], hex[c&0xf])
	}
	return string(out)
}
