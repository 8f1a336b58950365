// Package sqsapi is the SQS wire layer: the JSON 1.0 protocol
// (X-Amz-Target: AmazonSQS.<Action>, with the Query-compatible error codes
// of the awsQueryCompatible trait: x-amzn-query-error) and the older Query
// protocol (Action=... form in, XML out), both over the sqs domain, with
// the shapes of the botocore model sqs-2012-11-05. The front door
// (internal/server) authenticates and hands over the caller.
package sqsapi

import (
	"log/slog"
	"net/http"
	"net/url"

	"github.com/sealpost/sealpost/internal/sqs"
)

// API serves SQS requests.
type API struct {
	svc *sqs.Service
	log *slog.Logger
}

// New returns an API over svc.
func New(svc *sqs.Service, log *slog.Logger) *API {
	return &API{svc: svc, log: log}
}

// ServeJSON serves a JSON 1.0 request whose X-Amz-Target is
// AmazonSQS.<action>; body is the request body, read by the front door.
func (a *API) ServeJSON(w http.ResponseWriter, r *http.Request, c sqs.Caller, body []byte) {
	WriteJSONError(w, "", "UnsupportedOperation", 400, "the SQS API is not available yet")
}

// ServeQuery serves a Query protocol request (params: query string and
// form body).
func (a *API) ServeQuery(w http.ResponseWriter, r *http.Request, c sqs.Caller, params url.Values) {
	WriteQueryError(w, "", "UnsupportedOperation", 400, "the SQS API is not available yet")
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

// WriteJSONError writes an error in the JSON 1.0 protocol: code is the
// Query-style code (e.g. AWS.SimpleQueueService.NonExistentQueue or
// InvalidClientTokenId), sent in x-amzn-query-error with the fault, and
// the __type. requestID "" = a new one. (SKELETON: the sqsapi helper
// completes the code table.)
func WriteJSONError(w http.ResponseWriter, requestID, code string, status int, msg string) {
	if requestID == "" {
		requestID = newRequestID()
	}
	fault := "Sender"
	if status >= 500 {
		fault = "Receiver"
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.Header().Set("x-amzn-RequestId", requestID)
	w.Header().Set("x-amzn-query-error", code+";"+fault)
	w.WriteHeader(status)
	b, _ := jsonString(code)
	m, _ := jsonString(msg)
	w.Write([]byte(`{"__type":` + b + `,"message":` + m + "}\n"))
}

// WriteQueryError writes an error in the Query protocol's XML.
func WriteQueryError(w http.ResponseWriter, requestID, code string, status int, msg string) {
	if requestID == "" {
		requestID = newRequestID()
	}
	fault := "Sender"
	if status >= 500 {
		fault = "Receiver"
	}
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("x-amzn-RequestId", requestID)
	w.WriteHeader(status)
	w.Write([]byte(`<?xml version="1.0"?><ErrorResponse xmlns="http://queue.amazonaws.com/doc/2012-11-05/"><Error><Type>` +
		fault + `</Type><Code>` + xmlEscape(code) + `</Code><Message>` + xmlEscape(msg) + `</Message><Detail/></Error><RequestId>` +
		requestID + `</RequestId></ErrorResponse>`))
}
