package server

import (
	"context"

	"github.com/sealpost/sealpost/internal/envelope"
	"github.com/sealpost/sealpost/internal/kms"
	"github.com/sealpost/sealpost/internal/sse"
)

// countingSealer is the server's *sse.Sealer as SNS (Seal, on publish) and
// the delivery engine (Open, per attempt) use it: it counts the bodies
// sealed and opened in sealpost_sse_messages_total. The KMS calls behind
// them are counted by sse.Options.OnKMSCall.
type countingSealer struct {
	s *sse.Sealer
	m *metrics
}

// Seal implements sns.Sealer.
func (c countingSealer) Seal(ctx context.Context, caller kms.Caller, keyID string, aad envelope.BodyAAD, plaintext []byte) ([]byte, error) {
	b, err := c.s.Seal(ctx, caller, keyID, aad, plaintext)
	if err == nil {
		c.m.sseMessage(aad.TopicARN, "sealed")
	}
	return b, err
}

// Open implements delivery.Opener.
func (c countingSealer) Open(ctx context.Context, owner, region string, frame []byte, aad envelope.BodyAAD) ([]byte, error) {
	b, err := c.s.Open(ctx, owner, region, frame, aad)
	if err == nil {
		c.m.sseMessage(aad.TopicARN, "opened")
	}
	return b, err
}
