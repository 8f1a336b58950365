package sqsapi

import (
	"strconv"

	"github.com/sealpost/sealpost/internal/sqs"
)

// Output shapes of the SQS model, in JSON (member names of the model) and
// in the Query protocol's XML (the flattened element names of the older
// Query model: Attribute, Tag, QueueUrl, Message, ...Entry).

type queueURLOut string

func (o queueURLOut) json(w *jw) { w.optStr("QueueUrl", string(o)) }
func (o queueURLOut) xml(w *xw)  { w.optElem("QueueUrl", string(o)) }

type taskHandleOut string

func (o taskHandleOut) json(w *jw) { w.optStr("TaskHandle", string(o)) }
func (o taskHandleOut) xml(w *xw)  { w.optElem("TaskHandle", string(o)) }

type movedOut int64

func (o movedOut) json(w *jw) { w.int("ApproximateNumberOfMessagesMoved", int64(o)) }
func (o movedOut) xml(w *xw) {
	w.elem("ApproximateNumberOfMessagesMoved", strconv.FormatInt(int64(o), 10))
}

type attrsOut map[string]string

func (o attrsOut) json(w *jw) {
	if len(o) > 0 {
		w.strMap("Attributes", o)
	}
}
func (o attrsOut) xml(w *xw) { w.nameValues("Attribute", "Name", "Value", o) }

type tagsOut map[string]string

func (o tagsOut) json(w *jw) {
	if len(o) > 0 {
		w.strMap("Tags", o)
	}
}
func (o tagsOut) xml(w *xw) { w.nameValues("Tag", "Key", "Value", o) }

// urlsOut is ListQueues' and ListDeadLetterSourceQueues' answer (the
// latter's list is required and spelled queueUrls in JSON).
type urlsOut struct {
	urls []string
	next string
	dlq  bool
}

func (o *urlsOut) json(w *jw) {
	switch {
	case o.dlq:
		if o.urls == nil {
			o.urls = []string{}
		}
		w.strs("queueUrls", o.urls)
	case len(o.urls) > 0:
		w.strs("QueueUrls", o.urls)
	}
	w.optStr("NextToken", o.next)
}

func (o *urlsOut) xml(w *xw) {
	for _, u := range o.urls {
		w.elem("QueueUrl", u)
	}
	w.optElem("NextToken", o.next)
}

type sendOut sqs.SendResult

func (o *sendOut) json(w *jw) {
	w.optStr("MD5OfMessageBody", o.MD5OfMessageBody)
	w.optStr("MD5OfMessageAttributes", o.MD5OfMessageAttributes)
	w.optStr("MD5OfMessageSystemAttributes", o.MD5OfMessageSystemAttributes)
	w.optStr("MessageId", o.MessageID)
	w.optStr("SequenceNumber", o.SequenceNumber)
}

func (o *sendOut) xml(w *xw) {
	w.optElem("MD5OfMessageBody", o.MD5OfMessageBody)
	w.optElem("MD5OfMessageAttributes", o.MD5OfMessageAttributes)
	w.optElem("MD5OfMessageSystemAttributes", o.MD5OfMessageSystemAttributes)
	w.optElem("MessageId", o.MessageID)
	w.optElem("SequenceNumber", o.SequenceNumber)
}

func jsonFailed(w *jw, failed []sqs.BatchError) {
	w.openList("Failed")
	for _, f := range failed {
		w.open()
		w.str("Id", f.ID)
		w.bool("SenderFault", f.SenderFault)
		w.str("Code", f.Code)
		w.optStr("Message", f.Message)
		w.close()
	}
	w.closeList()
}

func xmlFailed(w *xw, failed []sqs.BatchError) {
	for _, f := range failed {
		w.open("BatchResultErrorEntry")
		w.elem("Id", f.ID)
		w.elem("SenderFault", strconv.FormatBool(f.SenderFault))
		w.elem("Code", f.Code)
		w.optElem("Message", f.Message)
		w.close("BatchResultErrorEntry")
	}
}

type sendBatchOut struct {
	ok     []sqs.BatchResult
	failed []sqs.BatchError
}

func (o *sendBatchOut) json(w *jw) {
	w.openList("Successful")
	for i := range o.ok {
		r := &o.ok[i]
		w.open()
		w.str("Id", r.ID)
		(*sendOut)(&r.SendResult).json(w)
		w.close()
	}
	w.closeList()
	jsonFailed(w, o.failed)
}

func (o *sendBatchOut) xml(w *xw) {
	for i := range o.ok {
		r := &o.ok[i]
		w.open("SendMessageBatchResultEntry")
		w.elem("Id", r.ID)
		(*sendOut)(&r.SendResult).xml(w)
		w.close("SendMessageBatchResultEntry")
	}
	xmlFailed(w, o.failed)
}

// idsOut is the answer of DeleteMessageBatch and
// ChangeMessageVisibilityBatch.
type idsOut struct {
	entry  string // XML element of a successful entry
	ok     []string
	failed []sqs.BatchError
}

func (o *idsOut) json(w *jw) {
	w.openList("Successful")
	for _, id := range o.ok {
		w.open()
		w.str("Id", id)
		w.close()
	}
	w.closeList()
	jsonFailed(w, o.failed)
}

func (o *idsOut) xml(w *xw) {
	for _, id := range o.ok {
		w.open(o.entry)
		w.elem("Id", id)
		w.close(o.entry)
	}
	xmlFailed(w, o.failed)
}

type receiveOut []sqs.Message

func (o receiveOut) json(w *jw) {
	if len(o) == 0 {
		return
	}
	w.openList("Messages")
	for i := range o {
		m := &o[i]
		w.open()
		w.optStr("MessageId", m.MessageID)
		w.optStr("ReceiptHandle", m.ReceiptHandle)
		w.optStr("MD5OfBody", m.MD5OfBody)
		w.str("Body", m.Body)
		if len(m.Attributes) > 0 {
			w.strMap("Attributes", m.Attributes)
		}
		w.optStr("MD5OfMessageAttributes", m.MD5OfMessageAttributes)
		if len(m.MessageAttributes) > 0 {
			w.openObj("MessageAttributes")
			for _, k := range sortedKeys(m.MessageAttributes) {
				a := m.MessageAttributes[k]
				w.openObj(k)
				if isBinary(a.DataType) {
					w.blob("BinaryValue", a.BinaryValue)
				} else {
					w.str("StringValue", a.StringValue)
				}
				w.str("DataType", a.DataType)
				w.close()
			}
			w.close()
		}
		w.close()
	}
	w.closeList()
}

func (o receiveOut) xml(w *xw) {
	for i := range o {
		m := &o[i]
		w.open("Message")
		w.optElem("MessageId", m.MessageID)
		w.optElem("ReceiptHandle", m.ReceiptHandle)
		w.optElem("MD5OfBody", m.MD5OfBody)
		w.elem("Body", m.Body)
		w.nameValues("Attribute", "Name", "Value", m.Attributes)
		w.optElem("MD5OfMessageAttributes", m.MD5OfMessageAttributes)
		for _, k := range sortedKeys(m.MessageAttributes) {
			a := m.MessageAttributes[k]
			w.open("MessageAttribute")
			w.elem("Name", k)
			w.open("Value")
			if isBinary(a.DataType) {
				w.blob("BinaryValue", a.BinaryValue)
			} else {
				w.elem("StringValue", a.StringValue)
			}
			w.elem("DataType", a.DataType)
			w.close("Value")
			w.close("MessageAttribute")
		}
		w.close("Message")
	}
}

// isBinary reports whether an attribute's data type is Binary (with an
// optional custom suffix).
func isBinary(dataType string) bool {
	return dataType == "Binary" || len(dataType) > 7 && dataType[:7] == "Binary."
}

type movesOut []sqs.MoveTask

func (o movesOut) json(w *jw) {
	if len(o) == 0 {
		return
	}
	w.openList("Results")
	for i := range o {
		t := &o[i]
		w.open()
		w.optStr("TaskHandle", t.TaskHandle)
		w.optStr("Status", t.Status)
		w.optStr("SourceArn", t.SourceArn)
		w.optStr("DestinationArn", t.DestinationArn)
		if t.MaxNumberOfMessagesPerSecond > 0 {
			w.int("MaxNumberOfMessagesPerSecond", int64(t.MaxNumberOfMessagesPerSecond))
		}
		w.int("ApproximateNumberOfMessagesMoved", t.ApproximateNumberOfMessagesMoved)
		if t.Status == "RUNNING" || t.ApproximateNumberOfMessagesToMove > 0 {
			w.int("ApproximateNumberOfMessagesToMove", t.ApproximateNumberOfMessagesToMove)
		}
		w.optStr("FailureReason", t.FailureReason)
		w.int("StartedTimestamp", t.StartedTimestamp)
		w.close()
	}
	w.closeList()
}

func (o movesOut) xml(w *xw) {
	for i := range o {
		t := &o[i]
		w.open("ListMessageMoveTasksResultEntry")
		w.optElem("TaskHandle", t.TaskHandle)
		w.optElem("Status", t.Status)
		w.optElem("SourceArn", t.SourceArn)
		w.optElem("DestinationArn", t.DestinationArn)
		if t.MaxNumberOfMessagesPerSecond > 0 {
			w.elem("MaxNumberOfMessagesPerSecond", strconv.Itoa(t.MaxNumberOfMessagesPerSecond))
		}
		w.elem("ApproximateNumberOfMessagesMoved", strconv.FormatInt(t.ApproximateNumberOfMessagesMoved, 10))
		if t.Status == "RUNNING" || t.ApproximateNumberOfMessagesToMove > 0 {
			w.elem("ApproximateNumberOfMessagesToMove", strconv.FormatInt(t.ApproximateNumberOfMessagesToMove, 10))
		}
		w.optElem("FailureReason", t.FailureReason)
		w.elem("StartedTimestamp", strconv.FormatInt(t.StartedTimestamp, 10))
		w.close("ListMessageMoveTasksResultEntry")
	}
}
