package sns

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/sealpost/sealpost/internal/filterpolicy"
	"github.com/sealpost/sealpost/internal/store"
)

// Message types, as in the x-amz-sns-message-type header.
const (
	TypeNotification             = "Notification"
	TypeSubscriptionConfirmation = "SubscriptionConfirmation"
	TypeUnsubscribeConfirmation  = "UnsubscribeConfirmation"
)

// MaxMessageBytes is the limit on body plus attributes.
const MaxMessageBytes = 262144

// maxAttributes caps message attributes per message. AWS documents no cap
// (only the size limit); Sealpost refuses more than this many.
const maxAttributes = 100

// MessageAttribute is one published message attribute. Binary values hold
// the raw bytes.
type MessageAttribute struct {
	DataType    string
	StringValue string
	BinaryValue []byte
}

// Meta is a message's unencrypted metadata, stored beside the (possibly
// sealed) body. Its JSON encoding is the stored format.
type Meta struct {
	Type            string              `json:"t"`
	Subject         string              `json:"s,omitempty"`
	Attributes      map[string]MetaAttr `json:"a,omitempty"`
	Structure       string              `json:"st,omitempty"` // "json"
	GroupID         string              `json:"g,omitempty"`
	DedupID         string              `json:"d,omitempty"`
	Sequence        string              `json:"q,omitempty"`
	Token           string              `json:"tk,omitempty"` // confirmations
	SubscriptionARN string              `json:"u,omitempty"`  // confirmations
	Protocol        string              `json:"p,omitempty"`  // UnsubscribeConfirmation of a deleted subscription
	Endpoint        string              `json:"e,omitempty"`  // UnsubscribeConfirmation of a deleted subscription
	// Sealed says the stored body is an sse frame (internal/sse), sealed
	// under the CMK KeyARN; the body AAD is BodyAAD's. KeyARN is the
	// topic's KmsMasterKeyId at publish time as an ARN (topicKeyARN): the
	// key ARN, or the alias ARN when the topic names an alias (the key the
	// alias pointed to is named in the frame's KMS blob).
	Sealed bool   `json:"x,omitempty"`
	KeyARN string `json:"k,omitempty"`
}

// MetaAttr is a stored attribute: Value is the string value, or base64 for
// Binary types.
type MetaAttr struct {
	Type  string `json:"T"`
	Value string `json:"V"`
}

// Encode returns the stored form.
func (m Meta) Encode() []byte {
	b, err := json.Marshal(m)
	if err != nil {
		panic(err) // plain struct
	}
	return b
}

// DecodeMeta parses the stored form.
func DecodeMeta(b []byte) (Meta, error) {
	var m Meta
	err := json.Unmarshal(b, &m)
	return m, err
}

// PublishInput is one message to publish.
type PublishInput struct {
	TopicARN               string
	Message                string
	Subject                string
	MessageStructure       string
	MessageAttributes      map[string]MessageAttribute
	MessageGroupID         string
	MessageDeduplicationID string
	// subjectSet distinguishes an empty Subject from none.
	SubjectSet bool
}

// PublishOutput is the result of one publish.
type PublishOutput struct {
	MessageID      string
	SequenceNumber string
}

var attrNameRE = regexp.MustCompile(`^[A-Za-z0-9_.\-]{1,256}$`)
var idRE = regexp.MustCompile("^[A-Za-z0-9!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~]{1,128}$")

func validateAttributes(attrs map[string]MessageAttribute) (map[string]MetaAttr, int, error) {
	if len(attrs) > maxAttributes {
		return nil, 0, errf(ErrInvalidParameterValue, "Number of message attributes [%d] exceeds the allowed maximum [%d].", len(attrs), maxAttributes)
	}
	size := 0
	out := make(map[string]MetaAttr, len(attrs))
	for name, a := range attrs {
		if !attrNameRE.MatchString(name) || strings.HasPrefix(name, ".") || strings.HasSuffix(name, ".") || strings.Contains(name, "..") {
			return nil, 0, errf(ErrInvalidParameterValue, "The message attribute name '%s' is invalid. Message attribute names can contain only letters, digits, '_', '-' and '.', at most 256 characters, and must not start or end with '.' or contain '..'.", Clip(name, 64))
		}
		lower := strings.ToLower(name)
		if strings.HasPrefix(lower, "aws.") || strings.HasPrefix(lower, "amazon.") {
			return nil, 0, errf(ErrInvalidParameterValue, "The message attribute name '%s' is reserved: names must not start with AWS. or Amazon.", name)
		}
		dt := a.DataType
		if dt == "" {
			return nil, 0, errf(ErrInvalidParameterValue, "The message attribute '%s' must contain non-empty message attribute type.", name)
		}
		if len(dt) > 256 || !utf8.ValidString(dt) {
			return nil, 0, errf(ErrInvalidParameterValue, "The message attribute '%s' has an invalid message attribute type.", name)
		}
		base := dt
		if i := strings.IndexByte(dt, '.'); i >= 0 && dt != "String.Array" {
			base = dt[:i]
		}
		switch base {
		case "String", "String.Array", "Number":
			if a.StringValue == "" {
				return nil, 0, errf(ErrInvalidParameterValue, "The message attribute '%s' must contain non-empty message attribute value for message attribute type '%s'.", name, dt)
			}
			if !utf8.ValidString(a.StringValue) {
				return nil, 0, errf(ErrInvalidParameterValue, "The message attribute '%s' contains invalid UTF-8.", name)
			}
			if base == "Number" {
				if err := checkNumber(a.StringValue); err != nil {
					return nil, 0, errf(ErrInvalidParameterValue, "The message attribute '%s' with type 'Number' has an invalid value %q: %s.", name, a.StringValue, err.Error())
				}
			}
			if base == "String.Array" {
				var arr []any
				if err := json.Unmarshal([]byte(a.StringValue), &arr); err != nil {
					return nil, 0, errf(ErrInvalidParameterValue, "The message attribute '%s' with type 'String.Array' must be a JSON array.", name)
				}
				for _, v := range arr {
					switch v.(type) {
					case string, float64, bool, nil:
					default:
						return nil, 0, errf(ErrInvalidParameterValue, "The message attribute '%s' with type 'String.Array' may hold only strings, numbers, true, false and null.", name)
					}
				}
			}
			out[name] = MetaAttr{Type: dt, Value: a.StringValue}
			size += len(name) + len(dt) + len(a.StringValue)
		case "Binary":
			if len(a.BinaryValue) == 0 {
				return nil, 0, errf(ErrInvalidParameterValue, "The message attribute '%s' must contain non-empty message attribute value for message attribute type '%s'.", name, dt)
			}
			out[name] = MetaAttr{Type: dt, Value: base64.StdEncoding.EncodeToString(a.BinaryValue)}
			size += len(name) + len(dt) + len(a.BinaryValue)
		default:
			return nil, 0, errf(ErrInvalidParameterValue, "The message attribute '%s' has an invalid message attribute type, the set of supported type prefixes is Binary, Number, and String.", name)
		}
	}
	return out, size, nil
}

// Clip makes a client-supplied value safe to echo in an error message: at
// most n bytes (cut at a rune boundary, "..." marks a cut), valid UTF-8, and
// control characters shown as '?'.
func Clip(s string, n int) string {
	suffix := ""
	if len(s) > n {
		cut := n
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s, suffix = s[:cut], "..."
	}
	s = strings.ToValidUTF8(s, "?")
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '?'
		}
		return r
	}, s)
	return s + suffix
}

func checkNumber(v string) error {
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return fmt.Errorf("not a number")
	}
	if f < -1e9 || f > 1e9 {
		return fmt.Errorf("out of range -1000000000 to 1000000000")
	}
	if i := strings.IndexByte(v, '.'); i >= 0 && !strings.ContainsAny(v, "eE") && len(v)-i-1 > 5 {
		return fmt.Errorf("more than 5 decimal places")
	}
	return nil
}

// validateSubject checks a Subject against the SNS model's constraint,
// whose words the error gives as its reason.
func validateSubject(s string) error {
	bad := s == "" || utf8.RuneCountInString(s) >= 100 || !utf8.ValidString(s)
	for _, r := range s {
		bad = bad || unicode.IsControl(r)
	}
	if bad {
		return invalid("Subject Reason: Subjects must be UTF-8 text with no line breaks or control characters, and less than 100 characters long.")
	}
	return nil
}

// validateStructure checks MessageStructure=json bodies.
func validateStructure(msg string) error {
	var m map[string]any
	if err := json.Unmarshal([]byte(msg), &m); err != nil {
		return invalid("Message Structure - JSON message body failed to parse")
	}
	d, ok := m["default"].(string)
	if !ok || d == "" {
		return invalid("Message Structure - No default entry in JSON message body")
	}
	return nil
}

// fifoState numbers FIFO messages. Deduplication itself lives in the
// store, shared by every node (the server sweeps expired records).
type fifoState struct {
	mu  sync.Mutex
	seq uint64
}

const dedupWindow = 5 * time.Minute

// prepared is a validated message ready to store.
type prepared struct {
	out  PublishOutput
	pub  store.Publication
	meta Meta
}

// result is the outcome once the store has written (or deduplicated) p.
func (p prepared) result() PublishOutput {
	if d := p.pub.Dedup; d != nil && d.Duplicate {
		return PublishOutput{MessageID: d.MessageID, SequenceNumber: d.Sequence}
	}
	return p.out
}

func (s *Service) prepare(ctx context.Context, c Caller, ts *topicState, in PublishInput) (prepared, error) {
	t := ts.topic
	if in.Message == "" {
		return prepared{}, invalid("Empty message")
	}
	if !utf8.ValidString(in.Message) {
		return prepared{}, invalid("Message Reason: Message must be valid UTF-8")
	}
	if in.SubjectSet || in.Subject != "" {
		if err := validateSubject(in.Subject); err != nil {
			return prepared{}, err
		}
	}
	attrs, attrSize, err := validateAttributes(in.MessageAttributes)
	if err != nil {
		return prepared{}, err
	}
	if len(in.Message)+attrSize > MaxMessageBytes {
		return prepared{}, invalid("Message too long")
	}
	switch in.MessageStructure {
	case "":
	case "json":
		if err := validateStructure(in.Message); err != nil {
			return prepared{}, err
		}
	default:
		return prepared{}, invalid("MessageStructure")
	}
	fifo := t.Attributes["FifoTopic"] == "true"
	if in.MessageGroupID != "" && !idRE.MatchString(in.MessageGroupID) {
		return prepared{}, invalid("MessageGroupId Reason: MessageGroupId can be up to 128 alphanumeric or punctuation characters")
	}
	if in.MessageDeduplicationID != "" && !idRE.MatchString(in.MessageDeduplicationID) {
		return prepared{}, invalid("MessageDeduplicationId Reason: MessageDeduplicationId can be up to 128 alphanumeric or punctuation characters")
	}
	now := s.now()
	meta := Meta{Type: TypeNotification, Attributes: attrs, Structure: in.MessageStructure, GroupID: in.MessageGroupID}
	if in.SubjectSet || in.Subject != "" {
		meta.Subject = in.Subject
	}
	p := prepared{out: PublishOutput{MessageID: newUUID()}}
	if fifo {
		if in.MessageGroupID == "" {
			return prepared{}, invalid(msgGroupRequired)
		}
		dedup := in.MessageDeduplicationID
		if dedup == "" {
			if t.Attributes["ContentBasedDeduplication"] != "true" {
				return prepared{}, invalid(msgDedupRequired)
			}
			var err error
			if dedup, err = s.dedupDigest(&t, in.Message); err != nil {
				return prepared{}, err
			}
		}
		meta.DedupID = dedup
		scope := ""
		if t.Attributes["FifoThroughputScope"] == "MessageGroup" {
			scope = in.MessageGroupID
		}
		s.fifo.mu.Lock()
		s.fifo.seq++
		seq := fmt.Sprintf("%020d", uint64(now.UnixNano())/1000*1000+s.fifo.seq%1000)
		s.fifo.mu.Unlock()
		meta.Sequence = seq
		p.out.SequenceNumber = seq
		// Ids cannot hold a newline, so the key is unambiguous.
		p.pub.Dedup = &store.Dedup{Key: t.ARN + "\n" + scope + "\n" + dedup, MessageID: p.out.MessageID, Sequence: seq, Expires: now.Add(dedupWindow)}
	} else if in.MessageDeduplicationID != "" {
		return prepared{}, invalid("MessageDeduplicationId Reason: The request includes MessageDeduplicationId parameter that is not valid for this topic type")
	}
	sse := isSSE(&t)
	if sse {
		// The body is sealed by seal once the message is prepared; until
		// then the record holds no body.
		meta.Sealed, meta.KeyARN = true, topicKeyARN(&t)
	}
	p.meta = meta
	p.pub.Message = store.Message{ID: p.out.MessageID, TopicARN: t.ARN, CreatedAt: now, Meta: meta.Encode()}
	if !sse {
		p.pub.Message.Body = []byte(in.Message)
	}
	// One filterpolicy.Message serves every subscription: the body is
	// parsed once, and only if some filter has the MessageBody scope.
	var fm *filterpolicy.Message
	defer func() {
		if fm != nil {
			fm.Release()
		}
	}()
	for _, ss := range ts.subs {
		if ss.sub.Pending {
			continue
		}
		if ss.filter != nil {
			if fm == nil {
				fm = &filterpolicy.Message{Attributes: make(map[string]filterpolicy.Attribute, len(attrs)), Body: in.Message}
				for k, v := range attrs {
					fm.Attributes[k] = filterpolicy.Attribute{Type: v.Type, Value: v.Value}
				}
			}
			if !ss.filter.MatchMessage(fm) {
				continue
			}
		}
		p.pub.Deliveries = append(p.pub.Deliveries, store.Delivery{SubscriptionARN: ss.sub.ARN, MessageID: p.out.MessageID, NextAttemptAt: now})
	}
	return p, nil
}

// Publish validates, fans out and durably stores one message.
func (s *Service) Publish(ctx context.Context, c Caller, in PublishInput) (PublishOutput, error) {
	if err := checkTopicARN("TopicArn", in.TopicARN); err != nil {
		return PublishOutput{}, err
	}
	ts, err := s.accessTopic(ctx, &c, actPublish, in.TopicARN, nil)
	if err != nil {
		return PublishOutput{}, err
	}
	p, err := s.prepare(ctx, c, ts, in)
	if err != nil {
		return PublishOutput{}, err
	}
	if p.meta.Sealed {
		if err := s.seal(ctx, &c, &ts.topic, &p, in.Message); err != nil {
			return PublishOutput{}, err
		}
	}
	if err := s.st.Publish(ctx, []store.Publication{p.pub}); err != nil {
		return PublishOutput{}, err
	}
	return p.result(), nil
}

// BatchEntry is one PublishBatch entry.
type BatchEntry struct {
	ID string
	PublishInput
	// Err is an error the protocol layer met decoding this entry (a bad
	// attribute, say). Once the batch as a whole is valid, the entry is
	// reported failed with it and the other entries are published.
	Err error
}

// BatchResult is one entry's outcome: Err nil means success.
type BatchResult struct {
	ID  string
	Out PublishOutput
	Err error
}

var batchIDRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,80}$`)

// Whole-request PublishBatch errors, in AWS's words (the SNS model's
// documentation of each error shape).
const (
	msgEmptyBatch     = "The batch request doesn't contain any entries."
	msgTooManyEntries = "The batch request contains more entries than permissible."
	msgBadBatchID     = "The Id of a batch entry in a batch request doesn't abide by the specification."
	msgDuplicateIDs   = "Two or more batch entries in the request have the same Id."
	msgBatchTooLong   = "The length of all the batch messages put together is more than the limit."
)

// FIFO requirements, as Publish words them.
const (
	msgGroupRequired = "The MessageGroupId parameter is required for FIFO topics"
	msgDedupRequired = "The topic should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly"
)

// PublishBatch publishes up to 10 messages with one durable write.
//
// Errors of the batch as a whole fail the request: no entries, more than 10,
// a bad or repeated Id, more than 256 KiB in all, an unknown topic, and (as
// AWS does) a FIFO batch with an entry that lacks a MessageGroupId, or a
// MessageDeduplicationId when the topic has no content-based deduplication.
// Any other invalid entry is reported in its BatchResult and the others are
// published.
func (s *Service) PublishBatch(ctx context.Context, c Caller, topicARN string, entries []BatchEntry) ([]BatchResult, error) {
	if err := checkTopicARN("TopicArn", topicARN); err != nil {
		return nil, err
	}
	if len(entries) == 0 {
		return nil, errf(ErrEmptyBatchRequest, msgEmptyBatch)
	}
	if len(entries) > 10 {
		return nil, errf(ErrTooManyEntriesInBatch, msgTooManyEntries)
	}
	ids := map[string]bool{}
	total := 0
	for _, e := range entries {
		if !batchIDRE.MatchString(e.ID) {
			return nil, errf(ErrInvalidBatchEntryID, msgBadBatchID)
		}
		if ids[e.ID] {
			return nil, errf(ErrBatchEntryIdsNotDistinct, msgDuplicateIDs)
		}
		ids[e.ID] = true
		total += len(e.Message)
		for k, a := range e.MessageAttributes {
			total += len(k) + len(a.DataType) + len(a.StringValue) + len(a.BinaryValue)
		}
	}
	if total > MaxMessageBytes {
		return nil, errf(ErrBatchRequestTooLong, msgBatchTooLong)
	}
	ts, err := s.accessTopic(ctx, &c, actPublish, topicARN, nil) // PublishBatch needs sns:Publish
	if err != nil {
		return nil, err
	}
	if ts.topic.Attributes["FifoTopic"] == "true" {
		for _, e := range entries {
			if e.MessageGroupID == "" {
				return nil, invalid(msgGroupRequired)
			}
		}
		if ts.topic.Attributes["ContentBasedDeduplication"] != "true" {
			for _, e := range entries {
				if e.MessageDeduplicationID == "" {
					return nil, invalid(msgDedupRequired)
				}
			}
		}
	}
	results := make([]BatchResult, len(entries))
	preps := make([]*prepared, len(entries))
	var pubs []store.Publication
	for i, e := range entries {
		e.TopicARN = topicARN
		results[i].ID = e.ID
		if e.Err != nil {
			results[i].Err = e.Err
			continue
		}
		p, err := s.prepare(ctx, c, ts, e.PublishInput)
		if err != nil {
			results[i].Err = err
			continue
		}
		preps[i] = &p
	}
	// Sealing comes after validation, so that an invalid entry costs no
	// key use; a KMS failure fails the whole batch (the key is the topic's,
	// so it would fail every entry).
	for i, p := range preps {
		if p == nil {
			continue
		}
		if p.meta.Sealed {
			if err := s.seal(ctx, &c, &ts.topic, p, entries[i].Message); err != nil {
				return nil, err
			}
		}
		pubs = append(pubs, p.pub)
	}
	if len(pubs) > 0 {
		if err := s.st.Publish(ctx, pubs); err != nil {
			return nil, err
		}
	}
	for i, p := range preps {
		if p != nil {
			results[i].Out = p.result()
		}
	}
	return results, nil
}
