package server

import (
	"context"
	"errors"

	"github.com/sealpost/sealpost/internal/arn"
	"github.com/sealpost/sealpost/internal/delivery"
	"github.com/sealpost/sealpost/internal/sns"
	"github.com/sealpost/sealpost/internal/sqs"
)

// snsService is the service principal SNS acts as when it sends into a
// queue.
const snsService = "sns.amazonaws.com"

// queueBridge is the delivery engine's QueueSender over the SQS domain
// (delivery and sqs do not import each other). Every send is made as the
// service principal sns.amazonaws.com for the topic: the queue policy
// sees Principal {"Service": "sns.amazonaws.com"} with aws:SourceArn = the
// topic ARN and aws:SourceAccount = the topic's owner, so a queue receives
// only what its policy allows, in its own account or another (as in AWS,
// a queue policy is needed even when topic and queue share an account).
// For an encrypted queue the sqs domain seals the body as that caller, so
// the queue key's policy must let the service generate data keys.
type queueBridge struct{ q *sqs.Service }

// SendToQueue implements delivery.QueueSender.
func (b queueBridge) SendToQueue(ctx context.Context, m delivery.QueueMessage) error {
	t, err := arn.Parse(m.TopicARN)
	if err != nil {
		return &delivery.QueueError{Code: "InvalidParameterValue", Message: "bad topic ARN", Permanent: true}
	}
	qa, err := arn.Parse(m.QueueARN)
	if err != nil || qa.Service != "sqs" {
		return &delivery.QueueError{Code: "QueueDoesNotExist", Message: "The specified queue does not exist."}
	}
	c := &sqs.Caller{Service: snsService, SourceARN: m.TopicARN, SourceAccount: t.Account, Region: qa.Region,
		Signed: true, Secure: true, Authenticated: true, RequestID: sns.NewRequestID()}
	in := sqs.SendInput{Body: string(m.Body)}
	if len(m.Attributes) > 0 {
		in.Attributes = make(map[string]sqs.MessageAttribute, len(m.Attributes))
		for k, a := range m.Attributes {
			in.Attributes[k] = sqs.MessageAttribute{DataType: a.DataType, StringValue: a.StringValue, BinaryValue: a.BinaryValue}
		}
	}
	if _, err := b.q.SendFromService(ctx, c, m.QueueARN, in); err != nil {
		return queueError(err)
	}
	return nil
}

// permanentKinds are refusals of the message itself (contents, size,
// attributes): sending it again cannot succeed.
var permanentKinds = []error{sqs.ErrInvalidMessageContents, sqs.ErrInvalidParameterValue, sqs.ErrMissingParameter,
	sqs.ErrInvalidAttributeName, sqs.ErrInvalidAttributeValue}

// queueError turns an sqs error into a *delivery.QueueError: the kind's
// name is the code (a bounded set); anything that is not an *sqs.Error is
// InternalError (retried).
func queueError(err error) error {
	var se *sqs.Error
	if !errors.As(err, &se) || se.Kind == nil {
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
			return &delivery.QueueError{Code: "Timeout", Message: "the queue did not answer in time"}
		}
		return &delivery.QueueError{Code: "InternalError", Message: "the queue could not store the message"}
	}
	qe := &delivery.QueueError{Code: se.Kind.Error(), Message: se.Message}
	for _, k := range permanentKinds {
		if errors.Is(se.Kind, k) {
			qe.Permanent = true
		}
	}
	return qe
}
