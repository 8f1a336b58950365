package server

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/sealpost/sealpost/internal/delivery"
	"github.com/sealpost/sealpost/internal/sqs"
)

// TestQueueErrorClassification: refusals of the message itself are
// permanent; refusals by the queue, its policy or its key are retried
// (the delivery resumes once they are fixed); other errors are internal.
func TestQueueErrorClassification(t *testing.T) {
	for _, c := range []struct {
		err       error
		code      string
		permanent bool
	}{
		{&sqs.Error{Kind: sqs.ErrQueueDoesNotExist, Message: "The specified queue does not exist."}, "QueueDoesNotExist", false},
		{&sqs.Error{Kind: sqs.ErrAccessDenied, Message: "denied"}, "AccessDenied", false},
		{fmt.Errorf("seal: %w", &sqs.Error{Kind: sqs.ErrKMSAccessDenied}), "KmsAccessDenied", false},
		{&sqs.Error{Kind: sqs.ErrKMSDisabled}, "KmsDisabled", false},
		{&sqs.Error{Kind: sqs.ErrInvalidMessageContents}, "InvalidMessageContents", true},
		{&sqs.Error{Kind: sqs.ErrInvalidParameterValue, Message: "Message must be shorter than 262144 bytes."}, "InvalidParameterValue", true},
		{&sqs.Error{Kind: sqs.ErrMissingParameter}, "MissingParameter", true},
		{errors.New("disk on fire"), "InternalError", false},
		{context.DeadlineExceeded, "Timeout", false},
	} {
		var qe *delivery.QueueError
		if !errors.As(queueError(c.err), &qe) || qe.Code != c.code || qe.Permanent != c.permanent {
			t.Errorf("%v: got %+v, want code %s permanent %v", c.err, qe, c.code, c.permanent)
		}
	}
}
