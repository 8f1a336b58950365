package sqsapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strconv"

	"github.com/sealpost/sealpost/internal/sqs"
)

// domain is what the wire layer needs of the sqs domain (*sqs.Service).
type domain interface {
	CreateQueue(ctx context.Context, c *sqs.Caller, name string, attrs, tags map[string]string) (string, error)
	GetQueueURL(ctx context.Context, c *sqs.Caller, name, ownerAccount string) (string, error)
	DeleteQueue(ctx context.Context, c *sqs.Caller, queueURL string) error
	ListQueues(ctx context.Context, c *sqs.Caller, prefix, nextToken string, max int) ([]string, string, error)
	GetQueueAttributes(ctx context.Context, c *sqs.Caller, queueURL string, names []string) (map[string]string, error)
	SetQueueAttributes(ctx context.Context, c *sqs.Caller, queueURL string, attrs map[string]string) error
	TagQueue(ctx context.Context, c *sqs.Caller, queueURL string, tags map[string]string) error
	UntagQueue(ctx context.Context, c *sqs.Caller, queueURL string, keys []string) error
	ListQueueTags(ctx context.Context, c *sqs.Caller, queueURL string) (map[string]string, error)
	AddPermission(ctx context.Context, c *sqs.Caller, queueURL, label string, accounts, actions []string) error
	RemovePermission(ctx context.Context, c *sqs.Caller, queueURL, label string) error
	ListDeadLetterSourceQueues(ctx context.Context, c *sqs.Caller, queueURL, nextToken string, max int) ([]string, string, error)
	SendMessage(ctx context.Context, c *sqs.Caller, queueURL string, in sqs.SendInput) (sqs.SendResult, error)
	SendMessageBatch(ctx context.Context, c *sqs.Caller, queueURL string, entries []sqs.SendEntry) ([]sqs.BatchResult, []sqs.BatchError, error)
	ReceiveMessage(ctx context.Context, c *sqs.Caller, queueURL string, in sqs.ReceiveInput) ([]sqs.Message, error)
	DeleteMessage(ctx context.Context, c *sqs.Caller, queueURL, receiptHandle string) error
	DeleteMessageBatch(ctx context.Context, c *sqs.Caller, queueURL string, entries []sqs.HandleEntry) ([]string, []sqs.BatchError, error)
	ChangeMessageVisibility(ctx context.Context, c *sqs.Caller, queueURL, receiptHandle string, timeout int) error
	ChangeMessageVisibilityBatch(ctx context.Context, c *sqs.Caller, queueURL string, entries []sqs.VisibilityEntry) ([]string, []sqs.BatchError, error)
	PurgeQueue(ctx context.Context, c *sqs.Caller, queueURL string) error
	StartMessageMoveTask(ctx context.Context, c *sqs.Caller, sourceARN, destinationARN string, maxPerSecond int) (string, error)
	CancelMessageMoveTask(ctx context.Context, c *sqs.Caller, taskHandle string) (int64, error)
	ListMessageMoveTasks(ctx context.Context, c *sqs.Caller, sourceARN string, max int) ([]sqs.MoveTask, error)
}

var _ domain = (*sqs.Service)(nil)

// output is an action's answer: its members in JSON, and the content of
// its <Action>Result element in XML.
type output interface {
	json(w *jw)
	xml(w *xw)
}

// empty is the answer of an action without output members.
type empty struct{}

func (empty) json(*jw) {}
func (empty) xml(*xw)  {}

// handler is one action: decoders of both protocols to one input type, the
// required-member check and the domain call.
type handler interface {
	decodeJSON(body []byte) (any, error)
	decodeQuery(q *qp) (any, error)
	run(ctx context.Context, d domain, c *sqs.Caller, in any) (output, error)
}

type op[In any] struct {
	query func(q *qp) (In, error)
	check func(in *In) error
	call  func(ctx context.Context, d domain, c *sqs.Caller, in *In) (output, error)
}

func (o op[In]) decodeJSON(body []byte) (any, error) {
	in := new(In)
	if len(bytes.TrimSpace(body)) > 0 {
		if err := json.Unmarshal(body, in); err != nil {
			return nil, jsonError(err)
		}
	}
	if err := o.check(in); err != nil {
		return nil, err
	}
	return in, nil
}

func (o op[In]) decodeQuery(q *qp) (any, error) {
	in, err := o.query(q)
	if err != nil {
		return nil, err
	}
	if err := o.check(&in); err != nil {
		return nil, err
	}
	return &in, nil
}

func (o op[In]) run(ctx context.Context, d domain, c *sqs.Caller, in any) (output, error) {
	return o.call(ctx, d, c, in.(*In))
}

// jsonError is AWS's answer to a body that is not JSON or holds a member
// of the wrong type.
func jsonError(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		if te.Field == "" {
			return serialization("The request body must be a JSON object.")
		}
		return serialization("Cannot deserialize member '" + clip(te.Field) + "': a JSON " + te.Value + " is not valid here.")
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return serialization("The request body is not valid JSON.")
	}
	return serialization("The request body could not be deserialized: a member has an invalid value (e.g. a blob that is not base64).")
}

// need returns MissingParameter for the first nil pointer of ps (named by
// the matching names).
func need(names []string, ps ...bool) error {
	for i, ok := range ps {
		if !ok {
			return missing(names[i])
		}
	}
	return nil
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func derefInt(p *intv) int {
	if p == nil {
		return 0
	}
	return int(*p)
}

// ptrInt is an optional integer as the domain takes it.
func ptrInt(p *intv) *int {
	if p == nil {
		return nil
	}
	i := int(*p)
	return &i
}

// notZero refuses an explicit 0 for a member whose absence the domain
// reads as 0 (AWS refuses 0 where the range starts at 1); reason is AWS's.
func notZero(p *intv, name, reason string) error {
	if p != nil && *p == 0 {
		return invalidValue("Value 0 for parameter " + name + " is invalid. Reason: " + reason)
	}
	return nil
}

// intv is a member of the model's Integer shape: a JSON number without a
// fraction or exponent, in the 32-bit range.
type intv int

var int32Type = reflect.TypeOf(int32(0))

func (v *intv) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	n, err := strconv.ParseInt(string(b), 10, 32)
	if err != nil {
		what := "number " + string(b)
		if len(b) > 0 && (b[0] < '0' || b[0] > '9') && b[0] != '-' {
			what = map[byte]string{'"': "string", '{': "object", '[': "array", 't': "bool", 'f': "bool"}[b[0]]
		}
		return &json.UnmarshalTypeError{Value: clip(what), Type: int32Type}
	}
	*v = intv(n)
	return nil
}

// Inputs (the JSON member names are the field names unless tagged).
type (
	queueIn struct{ QueueUrl *string }

	createQueueIn struct {
		QueueName  *string
		Attributes map[string]string
		Tags       map[string]string `json:"tags"`
	}
	getQueueURLIn struct {
		QueueName              *string
		QueueOwnerAWSAccountId *string
	}
	listQueuesIn struct {
		QueueNamePrefix *string
		NextToken       *string
		MaxResults      *intv
	}
	getAttrsIn struct {
		QueueUrl       *string
		AttributeNames []string
	}
	setAttrsIn struct {
		QueueUrl   *string
		Attributes map[string]string
	}
	tagIn struct {
		QueueUrl *string
		Tags     map[string]string
	}
	untagIn struct {
		QueueUrl *string
		TagKeys  []string
	}
	addPermIn struct {
		QueueUrl      *string
		Label         *string
		AWSAccountIds []string
		Actions       []string
	}
	removePermIn struct {
		QueueUrl *string
		Label    *string
	}
	dlqSourcesIn struct {
		QueueUrl   *string
		NextToken  *string
		MaxResults *intv
	}
	sendIn struct {
		QueueUrl *string
		sendEntryIn
	}
	sendEntryIn struct {
		Id                      *string
		MessageBody             *string
		DelaySeconds            *intv
		MessageAttributes       map[string]attrIn
		MessageSystemAttributes map[string]attrIn
		MessageDeduplicationId  *string
		MessageGroupId          *string
	}
	sendBatchIn struct {
		QueueUrl *string
		Entries  []*sendEntryIn
	}
	receiveIn struct {
		QueueUrl                    *string
		AttributeNames              []string
		MessageSystemAttributeNames []string
		MessageAttributeNames       []string
		MaxNumberOfMessages         *intv
		VisibilityTimeout           *intv
		WaitTimeSeconds             *intv
		ReceiveRequestAttemptId     *string
	}
	handleIn struct {
		QueueUrl      *string
		ReceiptHandle *string
	}
	handleEntryIn struct {
		Id                *string
		ReceiptHandle     *string
		VisibilityTimeout *intv
	}
	batchIn struct {
		QueueUrl *string
		Entries  []*handleEntryIn
	}
	visibilityIn struct {
		QueueUrl          *string
		ReceiptHandle     *string
		VisibilityTimeout *intv
	}
	startMoveIn struct {
		SourceArn                    *string
		DestinationArn               *string
		MaxNumberOfMessagesPerSecond *intv
	}
	cancelMoveIn struct{ TaskHandle *string }
	listMovesIn  struct {
		SourceArn  *string
		MaxResults *intv
	}
)

func (e *sendEntryIn) toDomain() (sqs.SendInput, error) {
	attrs, err := attrsToDomain(e.MessageAttributes)
	if err != nil {
		return sqs.SendInput{}, err
	}
	sys, err := attrsToDomain(e.MessageSystemAttributes)
	if err != nil {
		return sqs.SendInput{}, err
	}
	return sqs.SendInput{
		Body: deref(e.MessageBody), DelaySeconds: ptrInt(e.DelaySeconds), Attributes: attrs, SystemAttributes: sys,
		MessageGroupID: deref(e.MessageGroupId), MessageDeduplicationID: deref(e.MessageDeduplicationId),
	}, nil
}

// queryEntry reads one SendMessageBatchRequestEntry.N (prefix p, ending
// with a dot) or the members of SendMessage (p = "").
func queryEntry(q *qp, p string) (sendEntryIn, error) {
	e := sendEntryIn{Id: q.ptr(p + "Id"), MessageBody: q.ptr(p + "MessageBody"),
		MessageDeduplicationId: q.ptr(p + "MessageDeduplicationId"), MessageGroupId: q.ptr(p + "MessageGroupId")}
	var err error
	if e.DelaySeconds, err = q.num(p + "DelaySeconds"); err != nil {
		return e, err
	}
	if e.MessageAttributes, err = q.msgAttrs(p + "MessageAttribute"); err != nil {
		return e, err
	}
	e.MessageSystemAttributes, err = q.msgAttrs(p + "MessageSystemAttribute")
	return e, err
}

// checkSendEntries checks the required members of batch entries (no
// entries at all is the domain's EmptyBatchRequest).
func checkSendEntries(l []*sendEntryIn) error {
	for i, e := range l {
		p := "SendMessageBatchRequestEntry." + strconv.Itoa(i+1) + "."
		if e == nil {
			return missing(p + "Id")
		}
		if err := need([]string{p + "Id", p + "MessageBody"}, e.Id != nil, e.MessageBody != nil); err != nil {
			return err
		}
	}
	return nil
}

func checkHandleEntries(prefix string, l []*handleEntryIn) error {
	for i, e := range l {
		p := prefix + "." + strconv.Itoa(i+1) + "."
		if e == nil {
			return missing(p + "Id")
		}
		if err := need([]string{p + "Id", p + "ReceiptHandle"}, e.Id != nil, e.ReceiptHandle != nil); err != nil {
			return err
		}
	}
	return nil
}

func queryHandleEntries(q *qp, prefix string) ([]*handleEntryIn, error) {
	var out []*handleEntryIn
	for _, n := range q.indices(prefix) {
		p := idx(prefix, n) + "."
		e := &handleEntryIn{Id: q.ptr(p + "Id"), ReceiptHandle: q.ptr(p + "ReceiptHandle")}
		var err error
		if e.VisibilityTimeout, err = q.num(p + "VisibilityTimeout"); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

var queueURLName = []string{"QueueUrl"}

func checkQueue(u *string) error { return need(queueURLName, u != nil) }

// actions is the action table.
var actions = map[string]handler{
	"CreateQueue": op[createQueueIn]{
		query: func(q *qp) (createQueueIn, error) {
			in := createQueueIn{QueueName: q.ptr("QueueName")}
			var err error
			if in.Attributes, err = q.pairs("Attribute", "Name", "Value", true); err != nil {
				return in, err
			}
			in.Tags, err = q.pairs("Tag", "Key", "Value", false)
			return in, err
		},
		check: func(in *createQueueIn) error { return need([]string{"QueueName"}, in.QueueName != nil) },
		call: func(ctx context.Context, d domain, c *sqs.Caller, in *createQueueIn) (output, error) {
			u, err := d.CreateQueue(ctx, c, *in.QueueName, in.Attributes, in.Tags)
			return queueURLOut(u), err
		},
	},
	"GetQueueUrl": op[getQueueURLIn]{
		query: func(q *qp) (getQueueURLIn, error) {
			return getQueueURLIn{QueueName: q.ptr("QueueName"), QueueOwnerAWSAccountId: q.ptr("QueueOwnerAWSAccountId")}, nil
		},
		check: func(in *getQueueURLIn) error { return need([]string{"QueueName"}, in.QueueName != nil) },
		call: func(ctx context.Context, d domain, c *sqs.Caller, in *getQueueURLIn) (output, error) {
			u, err := d.GetQueueURL(ctx, c, *in.QueueName, deref(in.QueueOwnerAWSAccountId))
			return queueURLOut(u), err
		},
	},
	"DeleteQueue": queueOnly(func(ctx context.Context, d domain, c *sqs.Caller, u string) (output, error) {
		return empty{}, d.DeleteQueue(ctx, c, u)
	}),
	"PurgeQueue": queueOnly(func(ctx context.Context, d domain, c *sqs.Caller, u string) (output, error) {
		return empty{}, d.PurgeQueue(ctx, c, u)
	}),
	"ListQueueTags": queueOnly(func(ctx context.Context, d domain, c *sqs.Caller, u string) (output, error) {
		tags, err := d.ListQueueTags(ctx, c, u)
		return tagsOut(tags), err
	}),
	"ListQueues": op[listQueuesIn]{
		query: func(q *qp) (listQueuesIn, error) {
			in := listQueuesIn{QueueNamePrefix: q.ptr("QueueNamePrefix"), NextToken: q.ptr("NextToken")}
			var err error
			in.MaxResults, err = q.num("MaxResults")
			return in, err
		},
		check: func(in *listQueuesIn) error {
			return notZero(in.MaxResults, "MaxResults", "MaxResults must be an integer between 1 and 1000.")
		},
		call: func(ctx context.Context, d domain, c *sqs.Caller, in *listQueuesIn) (output, error) {
			urls, next, err := d.ListQueues(ctx, c, deref(in.QueueNamePrefix), deref(in.NextToken), derefInt(in.MaxResults))
			return &urlsOut{urls: urls, next: next}, err
		},
	},
	"ListDeadLetterSourceQueues": op[dlqSourcesIn]{
		query: func(q *qp) (dlqSourcesIn, error) {
			in := dlqSourcesIn{QueueUrl: q.queueURL(), NextToken: q.ptr("NextToken")}
			var err error
			in.MaxResults, err = q.num("MaxResults")
			return in, err
		},
		check: func(in *dlqSourcesIn) error {
			if err := checkQueue(in.QueueUrl); err != nil {
				return err
			}
			return notZero(in.MaxResults, "MaxResults", "MaxResults must be an integer between 1 and 1000.")
		},
		call: func(ctx context.Context, d domain, c *sqs.Caller, in *dlqSourcesIn) (output, error) {
			urls, next, err := d.ListDeadLetterSourceQueues(ctx, c, *in.QueueUrl, deref(in.NextToken), derefInt(in.MaxResults))
			return &urlsOut{urls: urls, next: next, dlq: true}, err
		},
	},
	"GetQueueAttributes": op[getAttrsIn]{
		query: func(q *qp) (getAttrsIn, error) {
			return getAttrsIn{QueueUrl: q.queueURL(), AttributeNames: q.list("AttributeName")}, nil
		},
		check: func(in *getAttrsIn) error { return checkQueue(in.QueueUrl) },
		call: func(ctx context.Context, d domain, c *sqs.Caller, in *getAttrsIn) (output, error) {
			attrs, err := d.GetQueueAttributes(ctx, c, *in.QueueUrl, in.AttributeNames)
			return attrsOut(attrs), err
		},
	},
	"SetQueueAttributes": op[setAttrsIn]{
		query: func(q *qp) (setAttrsIn, error) {
			in := setAttrsIn{QueueUrl: q.queueURL()}
			var err error
			in.Attributes, err = q.pairs("Attribute", "Name", "Value", true)
			return in, err
		},
		check: func(in *setAttrsIn) error {
			return need([]string{"QueueUrl", "Attribute.1.Name"}, in.QueueUrl != nil, in.Attributes != nil)
		},
		call: func(ctx context.Context, d domain, c *sqs.Caller, in *setAttrsIn) (output, error) {
			return empty{}, d.SetQueueAttributes(ctx, c, *in.QueueUrl, in.Attributes)
		},
	},
	"TagQueue": op[tagIn]{
		query: func(q *qp) (tagIn, error) {
			in := tagIn{QueueUrl: q.queueURL()}
			var err error
			in.Tags, err = q.pairs("Tag", "Key", "Value", false)
			return in, err
		},
		check: func(in *tagIn) error {
			return need([]string{"QueueUrl", "Tags"}, in.QueueUrl != nil, in.Tags != nil)
		},
		call: func(ctx context.Context, d domain, c *sqs.Caller, in *tagIn) (output, error) {
			return empty{}, d.TagQueue(ctx, c, *in.QueueUrl, in.Tags)
		},
	},
	"UntagQueue": op[untagIn]{
		query: func(q *qp) (untagIn, error) {
			return untagIn{QueueUrl: q.queueURL(), TagKeys: q.list("TagKey")}, nil
		},
		check: func(in *untagIn) error {
			return need([]string{"QueueUrl", "TagKeys"}, in.QueueUrl != nil, in.TagKeys != nil)
		},
		call: func(ctx context.Context, d domain, c *sqs.Caller, in *untagIn) (output, error) {
			return empty{}, d.UntagQueue(ctx, c, *in.QueueUrl, in.TagKeys)
		},
	},
	"AddPermission": op[addPermIn]{
		query: func(q *qp) (addPermIn, error) {
			return addPermIn{QueueUrl: q.queueURL(), Label: q.ptr("Label"), AWSAccountIds: q.list("AWSAccountId"), Actions: q.list("ActionName")}, nil
		},
		check: func(in *addPermIn) error {
			return need([]string{"QueueUrl", "Label", "AWSAccountId", "ActionName"},
				in.QueueUrl != nil, in.Label != nil, in.AWSAccountIds != nil, in.Actions != nil)
		},
		call: func(ctx context.Context, d domain, c *sqs.Caller, in *addPermIn) (output, error) {
			return empty{}, d.AddPermission(ctx, c, *in.QueueUrl, *in.Label, in.AWSAccountIds, in.Actions)
		},
	},
	"RemovePermission": op[removePermIn]{
		query: func(q *qp) (removePermIn, error) {
			return removePermIn{QueueUrl: q.queueURL(), Label: q.ptr("Label")}, nil
		},
		check: func(in *removePermIn) error {
			return need([]string{"QueueUrl", "Label"}, in.QueueUrl != nil, in.Label != nil)
		},
		call: func(ctx context.Context, d domain, c *sqs.Caller, in *removePermIn) (output, error) {
			return empty{}, d.RemovePermission(ctx, c, *in.QueueUrl, *in.Label)
		},
	},
	"SendMessage": op[sendIn]{
		query: func(q *qp) (sendIn, error) {
			e, err := queryEntry(q, "")
			return sendIn{QueueUrl: q.queueURL(), sendEntryIn: e}, err
		},
		check: func(in *sendIn) error {
			return need([]string{"QueueUrl", "MessageBody"}, in.QueueUrl != nil, in.MessageBody != nil)
		},
		call: func(ctx context.Context, d domain, c *sqs.Caller, in *sendIn) (output, error) {
			s, err := in.toDomain()
			if err != nil {
				return nil, err
			}
			res, err := d.SendMessage(ctx, c, *in.QueueUrl, s)
			return (*sendOut)(&res), err
		},
	},
	"SendMessageBatch": op[sendBatchIn]{
		query: func(q *qp) (sendBatchIn, error) {
			in := sendBatchIn{QueueUrl: q.queueURL()}
			for _, n := range q.indices("SendMessageBatchRequestEntry") {
				e, err := queryEntry(q, idx("SendMessageBatchRequestEntry", n)+".")
				if err != nil {
					return in, err
				}
				in.Entries = append(in.Entries, &e)
			}
			return in, nil
		},
		check: func(in *sendBatchIn) error {
			if err := checkQueue(in.QueueUrl); err != nil {
				return err
			}
			return checkSendEntries(in.Entries)
		},
		call: func(ctx context.Context, d domain, c *sqs.Caller, in *sendBatchIn) (output, error) {
			entries := make([]sqs.SendEntry, len(in.Entries))
			for i, e := range in.Entries {
				s, err := e.toDomain()
				if err != nil {
					return nil, err
				}
				entries[i] = sqs.SendEntry{ID: *e.Id, SendInput: s}
			}
			ok, failed, err := d.SendMessageBatch(ctx, c, *in.QueueUrl, entries)
			return &sendBatchOut{ok: ok, failed: failed}, err
		},
	},
	"ReceiveMessage": op[receiveIn]{
		query: func(q *qp) (receiveIn, error) {
			in := receiveIn{QueueUrl: q.queueURL(), AttributeNames: q.list("AttributeName"),
				MessageSystemAttributeNames: q.list("MessageSystemAttributeName"),
				MessageAttributeNames:       q.list("MessageAttributeName"),
				ReceiveRequestAttemptId:     q.ptr("ReceiveRequestAttemptId")}
			var err error
			if in.MaxNumberOfMessages, err = q.num("MaxNumberOfMessages"); err != nil {
				return in, err
			}
			if in.VisibilityTimeout, err = q.num("VisibilityTimeout"); err != nil {
				return in, err
			}
			in.WaitTimeSeconds, err = q.num("WaitTimeSeconds")
			return in, err
		},
		check: func(in *receiveIn) error {
			if err := checkQueue(in.QueueUrl); err != nil {
				return err
			}
			return notZero(in.MaxNumberOfMessages, "MaxNumberOfMessages", "Must be between 1 and 10, if provided.")
		},
		call: func(ctx context.Context, d domain, c *sqs.Caller, in *receiveIn) (output, error) {
			names := in.AttributeNames
			if len(in.MessageSystemAttributeNames) > 0 {
				names = append(append([]string(nil), names...), in.MessageSystemAttributeNames...)
			}
			msgs, err := d.ReceiveMessage(ctx, c, *in.QueueUrl, sqs.ReceiveInput{
				MaxNumberOfMessages: derefInt(in.MaxNumberOfMessages), VisibilityTimeout: ptrInt(in.VisibilityTimeout),
				WaitTimeSeconds: ptrInt(in.WaitTimeSeconds), AttributeNames: names, MessageAttributeNames: in.MessageAttributeNames,
				ReceiveRequestAttemptID: deref(in.ReceiveRequestAttemptId),
			})
			return receiveOut(msgs), err
		},
	},
	"DeleteMessage": op[handleIn]{
		query: func(q *qp) (handleIn, error) {
			return handleIn{QueueUrl: q.queueURL(), ReceiptHandle: q.ptr("ReceiptHandle")}, nil
		},
		check: func(in *handleIn) error {
			return need([]string{"QueueUrl", "ReceiptHandle"}, in.QueueUrl != nil, in.ReceiptHandle != nil)
		},
		call: func(ctx context.Context, d domain, c *sqs.Caller, in *handleIn) (output, error) {
			return empty{}, d.DeleteMessage(ctx, c, *in.QueueUrl, *in.ReceiptHandle)
		},
	},
	"DeleteMessageBatch": op[batchIn]{
		query: func(q *qp) (batchIn, error) {
			es, err := queryHandleEntries(q, "DeleteMessageBatchRequestEntry")
			return batchIn{QueueUrl: q.queueURL(), Entries: es}, err
		},
		check: func(in *batchIn) error {
			if err := checkQueue(in.QueueUrl); err != nil {
				return err
			}
			return checkHandleEntries("DeleteMessageBatchRequestEntry", in.Entries)
		},
		call: func(ctx context.Context, d domain, c *sqs.Caller, in *batchIn) (output, error) {
			entries := make([]sqs.HandleEntry, len(in.Entries))
			for i, e := range in.Entries {
				entries[i] = sqs.HandleEntry{ID: *e.Id, ReceiptHandle: *e.ReceiptHandle}
			}
			ok, failed, err := d.DeleteMessageBatch(ctx, c, *in.QueueUrl, entries)
			return &idsOut{entry: "DeleteMessageBatchResultEntry", ok: ok, failed: failed}, err
		},
	},
	"ChangeMessageVisibility": op[visibilityIn]{
		query: func(q *qp) (visibilityIn, error) {
			in := visibilityIn{QueueUrl: q.queueURL(), ReceiptHandle: q.ptr("ReceiptHandle")}
			var err error
			in.VisibilityTimeout, err = q.num("VisibilityTimeout")
			return in, err
		},
		check: func(in *visibilityIn) error {
			return need([]string{"QueueUrl", "ReceiptHandle", "VisibilityTimeout"},
				in.QueueUrl != nil, in.ReceiptHandle != nil, in.VisibilityTimeout != nil)
		},
		call: func(ctx context.Context, d domain, c *sqs.Caller, in *visibilityIn) (output, error) {
			return empty{}, d.ChangeMessageVisibility(ctx, c, *in.QueueUrl, *in.ReceiptHandle, int(*in.VisibilityTimeout))
		},
	},
	"ChangeMessageVisibilityBatch": op[batchIn]{
		query: func(q *qp) (batchIn, error) {
			es, err := queryHandleEntries(q, "ChangeMessageVisibilityBatchRequestEntry")
			return batchIn{QueueUrl: q.queueURL(), Entries: es}, err
		},
		check: func(in *batchIn) error {
			if err := checkQueue(in.QueueUrl); err != nil {
				return err
			}
			return checkHandleEntries("ChangeMessageVisibilityBatchRequestEntry", in.Entries)
		},
		call: func(ctx context.Context, d domain, c *sqs.Caller, in *batchIn) (output, error) {
			entries := make([]sqs.VisibilityEntry, len(in.Entries))
			for i, e := range in.Entries {
				entries[i] = sqs.VisibilityEntry{ID: *e.Id, ReceiptHandle: *e.ReceiptHandle, VisibilityTimeout: derefInt(e.VisibilityTimeout)}
			}
			ok, failed, err := d.ChangeMessageVisibilityBatch(ctx, c, *in.QueueUrl, entries)
			return &idsOut{entry: "ChangeMessageVisibilityBatchResultEntry", ok: ok, failed: failed}, err
		},
	},
	"StartMessageMoveTask": op[startMoveIn]{
		query: func(q *qp) (startMoveIn, error) {
			in := startMoveIn{SourceArn: q.ptr("SourceArn"), DestinationArn: q.ptr("DestinationArn")}
			var err error
			in.MaxNumberOfMessagesPerSecond, err = q.num("MaxNumberOfMessagesPerSecond")
			return in, err
		},
		check: func(in *startMoveIn) error {
			if err := need([]string{"SourceArn"}, in.SourceArn != nil); err != nil {
				return err
			}
			return notZero(in.MaxNumberOfMessagesPerSecond, "MaxNumberOfMessagesPerSecond", "Must be between 1 and 500.")
		},
		call: func(ctx context.Context, d domain, c *sqs.Caller, in *startMoveIn) (output, error) {
			h, err := d.StartMessageMoveTask(ctx, c, *in.SourceArn, deref(in.DestinationArn), derefInt(in.MaxNumberOfMessagesPerSecond))
			return taskHandleOut(h), err
		},
	},
	"CancelMessageMoveTask": op[cancelMoveIn]{
		query: func(q *qp) (cancelMoveIn, error) { return cancelMoveIn{TaskHandle: q.ptr("TaskHandle")}, nil },
		check: func(in *cancelMoveIn) error { return need([]string{"TaskHandle"}, in.TaskHandle != nil) },
		call: func(ctx context.Context, d domain, c *sqs.Caller, in *cancelMoveIn) (output, error) {
			n, err := d.CancelMessageMoveTask(ctx, c, *in.TaskHandle)
			return movedOut(n), err
		},
	},
	"ListMessageMoveTasks": op[listMovesIn]{
		query: func(q *qp) (listMovesIn, error) {
			in := listMovesIn{SourceArn: q.ptr("SourceArn")}
			var err error
			in.MaxResults, err = q.num("MaxResults")
			return in, err
		},
		check: func(in *listMovesIn) error {
			if err := need([]string{"SourceArn"}, in.SourceArn != nil); err != nil {
				return err
			}
			return notZero(in.MaxResults, "MaxResults", "Must be between 1 and 10.")
		},
		call: func(ctx context.Context, d domain, c *sqs.Caller, in *listMovesIn) (output, error) {
			tasks, err := d.ListMessageMoveTasks(ctx, c, *in.SourceArn, derefInt(in.MaxResults))
			return movesOut(tasks), err
		},
	},
}

// queueOnly is the entry of an action whose only input is QueueUrl.
func queueOnly(call func(ctx context.Context, d domain, c *sqs.Caller, queueURL string) (output, error)) handler {
	return op[queueIn]{
		query: func(q *qp) (queueIn, error) { return queueIn{QueueUrl: q.queueURL()}, nil },
		check: func(in *queueIn) error { return checkQueue(in.QueueUrl) },
		call: func(ctx context.Context, d domain, c *sqs.Caller, in *queueIn) (output, error) {
			return call(ctx, d, c, *in.QueueUrl)
		},
	}
}
