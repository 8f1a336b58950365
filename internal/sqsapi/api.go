// Package sqsapi is the SQS wire layer: the JSON 1.0 protocol
// (X-Amz-Target: AmazonSQS.<Action>, with the Query-compatible error codes
// of the awsQueryCompatible trait: x-amzn-query-error) and the older Query
// protocol (Action=... form in, XML out), both over the sqs domain, with
// the shapes of the botocore model sqs-2012-11-05. The front door
// (internal/server) authenticates and hands over the caller.
//
// Both protocols decode into the same input of an action (actions.go: one
// table entry per action, a JSON and a Query decoder, the check of
// required members and the domain call) and encode the same output
// (outputs.go) as JSON members or as the <Action>Result element.
//
// Errors: a JSON body that is not a JSON object or holds a member of the
// wrong JSON type is SerializationException (400); a missing required
// member is MissingParameter (400, "The request must contain the parameter
// X."); a malformed Query integer or base64 value is InvalidParameterValue
// (400), and so is an explicit 0 where the domain reads 0 as absent
// (MaxNumberOfMessages, MaxResults, MaxNumberOfMessagesPerSecond); an
// unknown action is InvalidAction (400). Domain errors map
// through the kind table (errors.go): the JSON __type is the model's error
// shape (com.amazonaws.sqs#QueueDoesNotExist) and x-amzn-query-error
// carries the Query code and fault (AWS.SimpleQueueService.NonExistentQueue;
// Sender), which the Query protocol sends as <Code>. Anything else, a panic
// included, is InternalError (500) with a generic message, logged with the
// action and request id (never a message body).
//
// Every answer carries x-amzn-RequestId (the caller's RequestID). The
// layer's own checks are only those of the wire (types and presence);
// values and ranges are the domain's. JSON member names match as
// encoding/json matches them (case-insensitively); unknown members are
// ignored, null means absent.
package sqsapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/sealpost/sealpost/internal/sqs"
)

// API serves SQS requests.
type API struct {
	svc domain
	log *slog.Logger
}

// New returns an API over svc.
func New(svc *sqs.Service, log *slog.Logger) *API {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &API{svc: svc, log: log}
}

// ServeJSON serves a JSON 1.0 request whose X-Amz-Target is
// AmazonSQS.<action>; body is the request body, read by the front door.
func (a *API) ServeJSON(w http.ResponseWriter, r *http.Request, c sqs.Caller, body []byte) {
	if c.RequestID == "" {
		c.RequestID = newRequestID()
	}
	action := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "AmazonSQS.")
	out, err := a.dispatch(r.Context(), action, &c, func(h handler) (any, error) { return h.decodeJSON(body) })
	if err != nil {
		we, msg := a.fail(r.Context(), action, c.RequestID, err)
		writeJSONError(w, c.RequestID, we, msg)
		return
	}
	jw := getJW()
	defer putJW(jw)
	jw.open()
	out.json(jw)
	jw.close()
	h := w.Header()
	h["Content-Type"] = []string{jsonContentType}
	h["X-Amzn-Requestid"] = []string{c.RequestID}
	h["Content-Length"] = []string{strconv.Itoa(len(jw.b))}
	w.WriteHeader(http.StatusOK)
	w.Write(jw.b)
}

// ServeQuery serves a Query protocol request (params: query string and
// form body). A request posted to a queue URL (/<account>/<name>) names
// that queue when it has no QueueUrl parameter.
func (a *API) ServeQuery(w http.ResponseWriter, r *http.Request, c sqs.Caller, params url.Values) {
	if c.RequestID == "" {
		c.RequestID = newRequestID()
	}
	action := params.Get("Action")
	q := &qp{v: params, path: pathQueueURL(r)}
	out, err := a.dispatch(r.Context(), action, &c, func(h handler) (any, error) { return h.decodeQuery(q) })
	if err != nil {
		we, msg := a.fail(r.Context(), action, c.RequestID, err)
		WriteQueryError(w, c.RequestID, we.query, we.status, msg)
		return
	}
	xw := getXW()
	defer putXW(xw)
	xw.raw(`<?xml version="1.0"?><`)
	xw.raw(action)
	xw.raw(`Response xmlns="` + xmlns + `">`)
	if _, none := out.(empty); !none {
		xw.open(action + "Result")
		out.xml(xw)
		xw.close(action + "Result")
	}
	xw.raw("<ResponseMetadata>")
	xw.elem("RequestId", c.RequestID)
	xw.raw("</ResponseMetadata>")
	xw.close(action + "Response")
	h := w.Header()
	h["Content-Type"] = []string{"text/xml"}
	h["X-Amzn-Requestid"] = []string{c.RequestID}
	h["Content-Length"] = []string{strconv.Itoa(len(xw.b))}
	w.WriteHeader(http.StatusOK)
	w.Write(xw.b)
}

// pathQueueURL is the queue URL a request was posted to, or "" when its
// path is not /<account>/<name>.
func pathQueueURL(r *http.Request) string {
	p := strings.Trim(r.URL.Path, "/")
	i := strings.IndexByte(p, '/')
	if i <= 0 || i == len(p)-1 || strings.IndexByte(p[i+1:], '/') >= 0 {
		return ""
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + "/" + p
}

// dispatch finds the action, decodes its input and calls the domain; a
// panic becomes an internal error.
func (a *API) dispatch(ctx context.Context, action string, c *sqs.Caller, decode func(handler) (any, error)) (out output, err error) {
	h, ok := actions[action]
	if !ok {
		return nil, invalidAction(action)
	}
	defer func() {
		if p := recover(); p != nil {
			out, err = nil, fmt.Errorf("panic in %s: %v\n%s", action, p, debug.Stack())
		}
	}()
	in, err := decode(h)
	if err != nil {
		return nil, err
	}
	out, err = h.run(ctx, a.svc, c, in)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// fail returns the wire spelling of err and logs internal errors (at
// debug level when the client went away, as during an abandoned long
// poll: nobody reads that answer).
func (a *API) fail(ctx context.Context, action, requestID string, err error) (wireError, string) {
	we, msg := errorOf(err)
	if we.status >= 500 {
		if len(action) > 64 {
			action = action[:64]
		}
		level := slog.LevelError
		if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
			level = slog.LevelDebug
		}
		a.log.Log(ctx, level, "sqs action failed", "action", action, "request_id", requestID, "err", err)
	}
	return we, msg
}

// Known reports whether action is an SQS action (for metrics labels and
// the front door's routing of unsigned Query requests).
func Known(action string) bool {
	switch action {
	case "AddPermission", "CancelMessageMoveTask", "ChangeMessageVisibility", "ChangeMessageVisibilityBatch",
		"CreateQueue", "DeleteMessage", "DeleteMessageBatch", "DeleteQueue", "GetQueueAttributes", "GetQueueUrl",
		"ListDeadLetterSourceQueues", "ListMessageMoveTasks", "ListQueueTags", "ListQueues", "PurgeQueue",
		"ReceiveMessage", "RemovePermission", "SendMessage", "SendMessageBatch", "SetQueueAttributes",
		"StartMessageMoveTask", "TagQueue", "UntagQueue":
		return true
	}
	return false
}
