package sqsapi

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/sealpost/sealpost/internal/sqs"
)

// wireError is how one error is spelled on the wire: the JSON protocol's
// __type (a shape id) and the Query protocol's code (also sent in the JSON
// protocol's x-amzn-query-error header), with the HTTP status.
type wireError struct {
	shape  string // JSON __type
	query  string // Query code
	status int
}

const ns = "com.amazonaws.sqs#"

// kinds maps the domain's error kinds to the wire (the awsQueryError traits
// of the SQS Smithy model; kinds without a modelled shape keep their Query
// code as the shape name).
var kinds = map[error]wireError{
	sqs.ErrQueueDoesNotExist:        {ns + "QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue", 400},
	sqs.ErrQueueNameExists:          {ns + "QueueNameExists", "QueueAlreadyExists", 400},
	sqs.ErrInvalidAttributeName:     {ns + "InvalidAttributeName", "InvalidAttributeName", 400},
	sqs.ErrInvalidAttributeValue:    {ns + "InvalidAttributeValue", "InvalidAttributeValue", 400},
	sqs.ErrInvalidParameterValue:    {ns + "InvalidParameterValue", "InvalidParameterValue", 400},
	sqs.ErrMissingParameter:         {ns + "MissingParameter", "MissingParameter", 400},
	sqs.ErrInvalidMessageContents:   {ns + "InvalidMessageContents", "InvalidMessageContents", 400},
	sqs.ErrReceiptHandleIsInvalid:   {ns + "ReceiptHandleIsInvalid", "ReceiptHandleIsInvalid", 404},
	sqs.ErrMessageNotInflight:       {ns + "MessageNotInflight", "AWS.SimpleQueueService.MessageNotInflight", 400},
	sqs.ErrBatchEntryIdsNotDistinct: {ns + "BatchEntryIdsNotDistinct", "AWS.SimpleQueueService.BatchEntryIdsNotDistinct", 400},
	sqs.ErrBatchRequestTooLong:      {ns + "BatchRequestTooLong", "AWS.SimpleQueueService.BatchRequestTooLong", 400},
	sqs.ErrEmptyBatchRequest:        {ns + "EmptyBatchRequest", "AWS.SimpleQueueService.EmptyBatchRequest", 400},
	sqs.ErrInvalidBatchEntryID:      {ns + "InvalidBatchEntryId", "AWS.SimpleQueueService.InvalidBatchEntryId", 400},
	sqs.ErrTooManyEntriesInBatch:    {ns + "TooManyEntriesInBatchRequest", "AWS.SimpleQueueService.TooManyEntriesInBatchRequest", 400},
	sqs.ErrPurgeQueueInProgress:     {ns + "PurgeQueueInProgress", "AWS.SimpleQueueService.PurgeQueueInProgress", 403},
	sqs.ErrOverLimit:                {ns + "OverLimit", "OverLimit", 403},
	sqs.ErrAccessDenied:             {ns + "AccessDenied", "AccessDenied", 403},
	sqs.ErrInvalidSecurity:          {ns + "InvalidSecurity", "InvalidSecurity", 403},
	sqs.ErrUnsupportedOperation:     {ns + "UnsupportedOperation", "AWS.SimpleQueueService.UnsupportedOperation", 400},
	sqs.ErrResourceNotFound:         {ns + "ResourceNotFoundException", "ResourceNotFoundException", 404},
	sqs.ErrInvalidAddress:           {ns + "InvalidAddress", "InvalidAddress", 404},
	sqs.ErrInternal:                 {ns + "InternalError", "InternalError", 500},
	sqs.ErrKMSAccessDenied:          {ns + "KmsAccessDenied", "KMS.AccessDeniedException", 400},
	sqs.ErrKMSDisabled:              {ns + "KmsDisabled", "KMS.DisabledException", 400},
	sqs.ErrKMSInvalidKeyUsage:       {ns + "KmsInvalidKeyUsage", "KMS.InvalidKeyUsageException", 400},
	sqs.ErrKMSInvalidState:          {ns + "KmsInvalidState", "KMS.InvalidStateException", 400},
	sqs.ErrKMSNotFound:              {ns + "KmsNotFound", "KMS.NotFoundException", 400},
	sqs.ErrKMSOptInRequired:         {ns + "KmsOptInRequired", "KMS.OptInRequired", 403},
	sqs.ErrKMSThrottled:             {ns + "KmsThrottled", "KMS.ThrottlingException", 400},
}

// byQuery maps a Query code to its JSON __type, for the answers written
// from a Query code alone (WriteJSONError: the front door's refusals).
var byQuery = func() map[string]string {
	m := map[string]string{
		// The front door's SigV4 refusals, as the service framework
		// spells them in JSON.
		"MissingAuthenticationToken": "com.amazon.coral.service#MissingAuthenticationTokenException",
		"IncompleteSignature":        "com.amazon.coral.service#IncompleteSignatureException",
		"InvalidClientTokenId":       "com.amazon.coral.service#UnrecognizedClientException",
		"SignatureDoesNotMatch":      "com.amazon.coral.service#InvalidSignatureException",
		"SerializationException":     "com.amazon.coral.service#SerializationException",
		"InvalidAction":              "com.amazon.coral.service#UnknownOperationException",
	}
	for _, w := range kinds {
		m[w.query] = w.shape
	}
	return m
}()

var internalWire = wireError{ns + "InternalError", "InternalError", 500}

const internalMessage = "We encountered an internal error. Please try again."

// apiError is an answer decided by the wire layer itself (decoding).
type apiError struct {
	wire wireError
	msg  string
}

func (e *apiError) Error() string { return e.msg }

func missing(name string) error {
	return &apiError{kinds[sqs.ErrMissingParameter], "The request must contain the parameter " + name + "."}
}

func invalidValue(msg string) error {
	return &apiError{kinds[sqs.ErrInvalidParameterValue], msg}
}

func serialization(msg string) error {
	return &apiError{wireError{"com.amazon.coral.service#SerializationException", "SerializationException", 400}, msg}
}

func invalidAction(action string) error {
	if len(action) > 64 {
		action = action[:64] + "..."
	}
	return &apiError{wireError{"com.amazon.coral.service#UnknownOperationException", "InvalidAction", 400},
		"The action " + action + " is not valid for this endpoint."}
}

// errorOf returns the wire spelling and the client message of err; a 5xx
// gets a generic message (the caller logs err).
func errorOf(err error) (wireError, string) {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae.wire, ae.msg
	}
	w, msg := internalWire, ""
	var se *sqs.Error
	if errors.As(err, &se) {
		if k, ok := kinds[se.Kind]; ok {
			w, msg = k, se.Message
		}
	}
	if w.status >= 500 {
		msg = internalMessage
	}
	return w, msg
}

func fault(status int) string {
	if status >= 500 {
		return "Receiver"
	}
	return "Sender"
}

// writeJSONError writes an error of the JSON protocol.
func writeJSONError(w http.ResponseWriter, requestID string, we wireError, msg string) {
	jw := getJW()
	defer putJW(jw)
	jw.open()
	jw.str("__type", we.shape)
	jw.str("message", msg)
	jw.close()
	h := w.Header()
	h["Content-Type"] = []string{jsonContentType}
	h["X-Amzn-Requestid"] = []string{requestID}
	h["X-Amzn-Query-Error"] = []string{we.query + ";" + fault(we.status)}
	h["Content-Length"] = []string{strconv.Itoa(len(jw.b))}
	w.WriteHeader(we.status)
	w.Write(jw.b)
}

// WriteJSONError writes an error in the JSON 1.0 protocol: code is the
// Query-style code (e.g. AWS.SimpleQueueService.NonExistentQueue or
// InvalidClientTokenId), sent in x-amzn-query-error with the fault
// (Sender, or Receiver for a 5xx); the __type is the code's shape in the
// SQS model (com.amazonaws.sqs#QueueDoesNotExist), else the service
// framework's name for it. requestID "" = a new one.
func WriteJSONError(w http.ResponseWriter, requestID, code string, status int, msg string) {
	if requestID == "" {
		requestID = newRequestID()
	}
	shape, ok := byQuery[code]
	if !ok {
		shape = ns + code
	}
	writeJSONError(w, requestID, wireError{shape, code, status}, msg)
}

// WriteQueryError writes an error in the Query protocol's XML.
// requestID "" = a new one.
func WriteQueryError(w http.ResponseWriter, requestID, code string, status int, msg string) {
	if requestID == "" {
		requestID = newRequestID()
	}
	xw := getXW()
	defer putXW(xw)
	xw.raw(`<?xml version="1.0"?><ErrorResponse xmlns="` + xmlns + `"><Error><Type>` + fault(status) + `</Type>`)
	xw.elem("Code", code)
	xw.elem("Message", msg)
	xw.raw(`<Detail/></Error>`)
	xw.elem("RequestId", requestID)
	xw.raw(`</ErrorResponse>`)
	h := w.Header()
	h["Content-Type"] = []string{"text/xml"}
	h["X-Amzn-Requestid"] = []string{requestID}
	h["Content-Length"] = []string{strconv.Itoa(len(xw.b))}
	w.WriteHeader(status)
	w.Write(xw.b)
}
