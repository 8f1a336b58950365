package sns

import (
	"encoding/base64"
	"time"

	"github.com/sealpost/sealpost/internal/envelope"
)

// BodyAAD is the additional data a sealed body of message id (published
// at ts to topicARN) is bound to: publish and delivery build it from the
// stored record the same way, so a body moved to another record, or a
// record whose metadata was changed, fails to open.
func (m Meta) BodyAAD(topicARN, id string, ts time.Time) envelope.BodyAAD {
	attrs := make(map[string]envelope.MessageAttribute, len(m.Attributes))
	for name, a := range m.Attributes {
		ea := envelope.MessageAttribute{DataType: a.Type, StringValue: a.Value}
		if len(a.Type) >= 6 && a.Type[:6] == "Binary" {
			b, err := base64.StdEncoding.DecodeString(a.Value)
			if err == nil {
				ea = envelope.MessageAttribute{DataType: a.Type, BinaryValue: b}
			}
		}
		attrs[name] = ea
	}
	return envelope.BodyAAD{
		TopicARN:         topicARN,
		MessageID:        id,
		Timestamp:        ts.UnixMilli(),
		Subject:          m.Subject,
		AttributesDigest: envelope.AttributesDigest(attrs),
		MessageGroupID:   m.GroupID,
		DeduplicationID:  m.DedupID,
	}
}
