// Package snsapi speaks the Amazon SNS Query protocol: it decodes form
// parameters, calls the sns domain, and writes XML responses and
// <ErrorResponse> errors with the wire codes and HTTP statuses of the
// botocore SNS model.
//
// Bad input always yields a 4xx AWS error; only unexpected failures are 500
// InternalError, and their details are logged, never sent.
package snsapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/sealpost/sealpost/internal/sns"
)

// Namespace is the SNS XML namespace.
const Namespace = "http://sns.amazonaws.com/doc/2010-03-31/"

// API serves SNS actions.
type API struct {
	svc *sns.Service
	log *slog.Logger
}

// New returns an API over svc.
func New(svc *sns.Service, log *slog.Logger) *API { return &API{svc: svc, log: log} }

type handler func(ctx context.Context, svc *sns.Service, c sns.Caller, f form, w *xmlWriter) error

// actions is the action table.
var actions = map[string]handler{
	"CreateTopic":               createTopic,
	"DeleteTopic":               deleteTopic,
	"ListTopics":                listTopics,
	"GetTopicAttributes":        getTopicAttributes,
	"SetTopicAttributes":        setTopicAttributes,
	"Subscribe":                 subscribe,
	"ConfirmSubscription":       confirmSubscription,
	"Unsubscribe":               unsubscribe,
	"ListSubscriptions":         listSubscriptions,
	"ListSubscriptionsByTopic":  listSubscriptionsByTopic,
	"GetSubscriptionAttributes": getSubscriptionAttributes,
	"SetSubscriptionAttributes": setSubscriptionAttributes,
	"Publish":                   publish,
	"PublishBatch":              publishBatch,
	"TagResource":               tagResource,
	"UntagResource":             untagResource,
	"ListTagsForResource":       listTagsForResource,
	"AddPermission":             addPermission,
	"RemovePermission":          removePermission,
	"GetDataProtectionPolicy":   getDataProtectionPolicy,
	"PutDataProtectionPolicy":   putDataProtectionPolicy,
}

// unsupported lists AWS SNS actions Sealpost deliberately does not offer.
var unsupported = map[string]string{
	"CreatePlatformApplication":          "mobile push",
	"DeletePlatformApplication":          "mobile push",
	"GetPlatformApplicationAttributes":   "mobile push",
	"SetPlatformApplicationAttributes":   "mobile push",
	"ListPlatformApplications":           "mobile push",
	"CreatePlatformEndpoint":             "mobile push",
	"DeleteEndpoint":                     "mobile push",
	"GetEndpointAttributes":              "mobile push",
	"SetEndpointAttributes":              "mobile push",
	"ListEndpointsByPlatformApplication": "mobile push",
	"CheckIfPhoneNumberIsOptedOut":       "SMS",
	"OptInPhoneNumber":                   "SMS",
	"ListPhoneNumbersOptedOut":           "SMS",
	"GetSMSAttributes":                   "SMS",
	"SetSMSAttributes":                   "SMS",
	"CreateSMSSandboxPhoneNumber":        "SMS",
	"DeleteSMSSandboxPhoneNumber":        "SMS",
	"VerifySMSSandboxPhoneNumber":        "SMS",
	"ListSMSSandboxPhoneNumbers":         "SMS",
	"GetSMSSandboxAccountStatus":         "SMS",
	"ListOriginationNumbers":             "SMS",
}

// Known reports whether action is an SNS action Sealpost serves.
func Known(action string) bool {
	_, ok := actions[action]
	return ok
}

// errorCodes maps domain error kinds to wire code and HTTP status.
var errorCodes = map[error]struct {
	code   string
	status int
}{
	sns.ErrInvalidParameter:          {"InvalidParameter", 400},
	sns.ErrInvalidParameterValue:     {"ParameterValueInvalid", 400},
	sns.ErrNotFound:                  {"NotFound", 404},
	sns.ErrResourceNotFound:          {"ResourceNotFound", 404},
	sns.ErrAuthorization:             {"AuthorizationError", 403},
	sns.ErrInvalidSecurity:           {"InvalidSecurity", 403},
	sns.ErrTagLimitExceeded:          {"TagLimitExceeded", 400},
	sns.ErrBatchEntryIdsNotDistinct:  {"BatchEntryIdsNotDistinct", 400},
	sns.ErrBatchRequestTooLong:       {"BatchRequestTooLong", 400},
	sns.ErrEmptyBatchRequest:         {"EmptyBatchRequest", 400},
	sns.ErrInvalidBatchEntryID:       {"InvalidBatchEntryId", 400},
	sns.ErrTooManyEntriesInBatch:     {"TooManyEntriesInBatchRequest", 400},
	sns.ErrFilterPolicyLimitExceeded: {"FilterPolicyLimitExceeded", 403},
	sns.ErrInternal:                  {"InternalError", 500},
	sns.ErrKMSAccessDenied:           {"KMSAccessDenied", 400},
	sns.ErrKMSDisabled:               {"KMSDisabled", 400},
	sns.ErrKMSInvalidState:           {"KMSInvalidState", 400},
	sns.ErrKMSNotFound:               {"KMSNotFound", 400},
	sns.ErrKMSOptInRequired:          {"KMSOptInRequired", 403},
	sns.ErrKMSThrottling:             {"KMSThrottling", 400},
}

// Code returns the wire code and status for err.
func Code(err error) (string, int) {
	var e *sns.Error
	if errors.As(err, &e) {
		if c, ok := errorCodes[e.Kind]; ok {
			return c.code, c.status
		}
	}
	return "InternalError", 500
}

// Serve handles one SNS request whose parameters are params.
func (a *API) Serve(w http.ResponseWriter, r *http.Request, c sns.Caller, params url.Values) {
	reqID := sns.NewRequestID()
	w.Header().Set("x-amzn-RequestId", reqID)
	action := params.Get("Action")
	h, ok := actions[action]
	if !ok {
		switch {
		case action == "":
			WriteError(w, reqID, "MissingAction", 400, "Missing Action")
		case unsupported[action] != "":
			WriteError(w, reqID, "InvalidAction", 400, "Sealpost does not offer "+action+": "+unsupported[action]+" is not supported")
		default:
			WriteError(w, reqID, "InvalidAction", 400, "The action "+sns.Clip(action, 64)+" is not valid for this web service.")
		}
		return
	}
	xw := newXMLWriter(action)
	err := checkText(params)
	if err == nil {
		err = h(r.Context(), a.svc, c, form{params}, xw)
	}
	if err != nil {
		code, status := Code(err)
		msg := err.Error()
		if status >= 500 {
			a.log.Error("sns action failed", "action", action, "request_id", reqID, "err", err)
			msg = "An internal error occurred; request id " + reqID
		}
		WriteError(w, reqID, code, status, msg)
		return
	}
	body := xw.finish(reqID)
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	w.Write(body)
}

// checkText rejects parameters that are not valid UTF-8 or hold a NUL: no
// SNS value may (binary values travel base64-encoded), XML cannot carry them
// back, and PostgreSQL text cannot store NUL.
func checkText(params url.Values) error {
	for k, vs := range params {
		bad := !utf8.ValidString(k) || strings.IndexByte(k, 0) >= 0
		for _, v := range vs {
			if !utf8.ValidString(v) || strings.IndexByte(v, 0) >= 0 {
				bad = true
			}
		}
		if bad {
			return paramErr(sns.Clip(k, 128) + " Reason: the value must be valid UTF-8 without NUL characters")
		}
	}
	return nil
}

// WriteError writes an SNS <ErrorResponse>.
func WriteError(w http.ResponseWriter, reqID, code string, status int, msg string) {
	typ := "Sender"
	if status >= 500 {
		typ = "Receiver"
	}
	var b strings.Builder
	b.WriteString(`<?xml version="1.0"?>` + "\n" + `<ErrorResponse xmlns="` + Namespace + `"><Error><Type>`)
	b.WriteString(typ)
	b.WriteString("</Type><Code>")
	escape(&b, code)
	b.WriteString("</Code><Message>")
	escape(&b, msg)
	b.WriteString("</Message></Error><RequestId>")
	b.WriteString(reqID)
	b.WriteString("</RequestId></ErrorResponse>\n")
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("x-amzn-RequestId", reqID)
	w.WriteHeader(status)
	w.Write([]byte(b.String()))
}

// ---- XML writer ----

type xmlWriter struct {
	action string
	b      strings.Builder
}

func newXMLWriter(action string) *xmlWriter {
	w := &xmlWriter{action: action}
	w.b.WriteString(`<?xml version="1.0"?>` + "\n<" + action + `Response xmlns="` + Namespace + `"><` + action + "Result>")
	return w
}

func (w *xmlWriter) open(name string)  { w.b.WriteString("<" + name + ">") }
func (w *xmlWriter) close(name string) { w.b.WriteString("</" + name + ">") }

func (w *xmlWriter) elem(name, value string) {
	w.open(name)
	escape(&w.b, value)
	w.close(name)
}

func (w *xmlWriter) attributes(m map[string]string) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	w.open("Attributes")
	for _, k := range keys {
		w.open("entry")
		w.elem("key", k)
		w.elem("value", m[k])
		w.close("entry")
	}
	w.close("Attributes")
}

func (w *xmlWriter) finish(reqID string) []byte {
	w.b.WriteString("</" + w.action + "Result><ResponseMetadata><RequestId>" + reqID + "</RequestId></ResponseMetadata></" + w.action + "Response>\n")
	return []byte(w.b.String())
}

// escape writes s as XML character data. Characters XML 1.0 cannot carry
// are written as U+FFFD.
func escape(b *strings.Builder, s string) {
	for _, r := range s {
		switch r {
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '&':
			b.WriteString("&amp;")
		case '"':
			b.WriteString("&quot;")
		case '\'':
			b.WriteString("&apos;")
		case '\r':
			b.WriteString("&#xD;")
		case '\n', '\t':
			b.WriteRune(r)
		default:
			if r < 0x20 || r == 0xFFFE || r == 0xFFFF || (r >= 0xD800 && r <= 0xDFFF) {
				b.WriteRune(0xFFFD)
			} else {
				b.WriteRune(r)
			}
		}
	}
}
