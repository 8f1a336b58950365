package delivery

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"sync"

	"github.com/sealpost/sealpost/internal/deliverypolicy"
	"github.com/sealpost/sealpost/internal/netguard"
	"github.com/sealpost/sealpost/internal/sns"
	"github.com/sealpost/sealpost/internal/snssig"
	"github.com/sealpost/sealpost/internal/store"
)

// TimestampFormat is how SNS writes Timestamp (ISO 8601, UTC, milliseconds).
const TimestampFormat = "2006-01-02T15:04:05.000Z"

// UserAgent is the User-Agent of every delivery request.
const UserAgent = "Amazon Simple Notification Service Agent"

// notification is the JSON body of a Notification, fields in AWS's order.
type notification struct {
	Type              string                  `json:"Type"`
	MessageID         string                  `json:"MessageId"`
	SequenceNumber    string                  `json:"SequenceNumber,omitempty"`
	TopicArn          string                  `json:"TopicArn"`
	Subject           *string                 `json:"Subject,omitempty"`
	Message           string                  `json:"Message"`
	Timestamp         string                  `json:"Timestamp"`
	SignatureVersion  string                  `json:"SignatureVersion"`
	Signature         string                  `json:"Signature"`
	SigningCertURL    string                  `json:"SigningCertURL"`
	UnsubscribeURL    string                  `json:"UnsubscribeURL"`
	MessageAttributes map[string]envelopeAttr `json:"MessageAttributes,omitempty"`
}

type envelopeAttr struct {
	Type  string `json:"Type"`
	Value string `json:"Value"`
}

// confirmation is the JSON body of a SubscriptionConfirmation or
// UnsubscribeConfirmation.
type confirmation struct {
	Type             string `json:"Type"`
	MessageID        string `json:"MessageId"`
	Token            string `json:"Token"`
	TopicArn         string `json:"TopicArn"`
	Message          string `json:"Message"`
	SubscribeURL     string `json:"SubscribeURL"`
	Timestamp        string `json:"Timestamp"`
	SignatureVersion string `json:"SignatureVersion"`
	Signature        string `json:"Signature"`
	SigningCertURL   string `json:"SigningCertURL"`
}

// messageFor returns the message text a protocol receives: for
// MessageStructure=json the protocol's own key, else "default".
func messageFor(meta sns.Meta, body []byte, protocol string) string {
	if meta.Structure != "json" {
		return string(body)
	}
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		return string(body)
	}
	if v, ok := m[protocol].(string); ok {
		return v
	}
	d, _ := m["default"].(string)
	return d
}

// envelope builds the HTTP body of a delivery and reports whether it is raw.
func (e *Engine) envelope(topic store.Topic, sub store.Subscription, m store.Message, meta sns.Meta) ([]byte, bool, error) {
	base := e.svc.PublicURL()
	certURL := base + "/" + e.signer.CertName()
	ts := m.CreatedAt.UTC().Format(TimestampFormat)
	sigVersion := "1"
	if topic.Attributes["SignatureVersion"] == "2" {
		sigVersion = "2"
	}
	switch meta.Type {
	case sns.TypeSubscriptionConfirmation, sns.TypeUnsubscribeConfirmation:
		subURL := base + "/?Action=ConfirmSubscription&TopicArn=" + url.QueryEscape(m.TopicARN) + "&Token=" + url.QueryEscape(meta.Token)
		c := confirmation{Type: meta.Type, MessageID: m.ID, Token: meta.Token, TopicArn: m.TopicARN, Message: string(m.Body),
			SubscribeURL: subURL, Timestamp: ts, SignatureVersion: sigVersion, SigningCertURL: certURL}
		sig, err := e.sign(sigVersion, snssig.Message{Type: meta.Type, MessageID: m.ID, TopicARN: m.TopicARN, Message: c.Message,
			Timestamp: ts, Token: meta.Token, SubscribeURL: subURL})
		if err != nil {
			return nil, false, err
		}
		c.Signature = sig
		b, err := marshalNoEscape(c)
		return b, false, err
	}
	text := messageFor(meta, m.Body, sub.Protocol)
	if sub.Attributes["RawMessageDelivery"] == "true" {
		return []byte(text), true, nil
	}
	n := notification{Type: sns.TypeNotification, MessageID: m.ID, SequenceNumber: meta.Sequence, TopicArn: m.TopicARN, Message: text,
		Timestamp: ts, SignatureVersion: sigVersion, SigningCertURL: certURL,
		UnsubscribeURL: base + "/?Action=Unsubscribe&SubscriptionArn=" + url.QueryEscape(sub.ARN)}
	sm := snssig.Message{Type: sns.TypeNotification, MessageID: m.ID, TopicARN: m.TopicARN, Message: text, Timestamp: ts}
	if meta.Subject != "" {
		subj := meta.Subject
		n.Subject = &subj
		sm.Subject = subj
	}
	if len(meta.Attributes) > 0 {
		n.MessageAttributes = make(map[string]envelopeAttr, len(meta.Attributes))
		for k, a := range meta.Attributes {
			n.MessageAttributes[k] = envelopeAttr{Type: a.Type, Value: a.Value}
		}
	}
	sig, err := e.sign(sigVersion, sm)
	if err != nil {
		return nil, false, err
	}
	n.Signature = sig
	b, err := marshalNoEscape(n)
	return b, false, err
}

// marshalNoEscape encodes like AWS: no HTML escaping of <, >, &.
func marshalNoEscape(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// sigKey identifies one signature: the same message text under the same
// version signs the same for every subscription.
type sigKey struct {
	id      string
	version string
	typ     string
	digest  [32]byte
}

// sigCache keeps recent signatures; it is cleared when it grows too big.
// Concurrent deliveries of one message wait for the first one's signature
// instead of signing again (the deliveries of a message are usually leased
// together, so without this every subscription would pay for a signature).
type sigCache struct {
	mu sync.Mutex
	m  map[sigKey]*sigEntry
}

type sigEntry struct {
	done chan struct{}
	sig  string
	err  error
}

const sigCacheMax = 65536

func (e *Engine) sign(version string, m snssig.Message) (string, error) {
	k := sigKey{id: m.MessageID, version: version, typ: m.Type, digest: sha256.Sum256(snssig.StringToSign(m))}
	e.sigs.mu.Lock()
	if ent, ok := e.sigs.m[k]; ok {
		e.sigs.mu.Unlock()
		<-ent.done
		return ent.sig, ent.err
	}
	if len(e.sigs.m) >= sigCacheMax {
		e.sigs.m = make(map[sigKey]*sigEntry)
	}
	ent := &sigEntry{done: make(chan struct{})}
	e.sigs.m[k] = ent
	e.sigs.mu.Unlock()
	ent.sig, ent.err = e.signer.Sign(version, m)
	close(ent.done)
	if ent.err != nil {
		e.sigs.mu.Lock()
		if e.sigs.m[k] == ent {
			delete(e.sigs.m, k)
		}
		e.sigs.mu.Unlock()
	}
	return ent.sig, ent.err
}

// sendHTTP makes one attempt and classifies it.
func (e *Engine) sendHTTP(ctx context.Context, topic store.Topic, sub store.Subscription, l store.Lease, meta sns.Meta, policy deliverypolicy.Policy) (outcome, string) {
	body, raw, err := e.envelope(topic, sub, l.Message, meta)
	if err != nil {
		e.log.Error("build delivery body", "subscription", sub.ARN, "message_id", l.MessageID, "err", err)
		return retryable, "InternalError"
	}
	ctx, cancel := context.WithTimeout(ctx, e.opts.AttemptTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, sub.Endpoint, bytes.NewReader(body))
	if err != nil {
		return permanent, "InvalidEndpoint"
	}
	ct := policy.HeaderContentType
	if ct == "" {
		ct = deliverypolicy.DefaultHeaderContentType
	}
	h := req.Header
	h.Set("Content-Type", ct)
	h.Set("User-Agent", UserAgent)
	h.Set("x-amz-sns-message-type", meta.Type)
	h.Set("x-amz-sns-message-id", l.MessageID)
	h.Set("x-amz-sns-topic-arn", l.Message.TopicARN)
	if meta.Type != sns.TypeSubscriptionConfirmation {
		h.Set("x-amz-sns-subscription-arn", sub.ARN)
	}
	if raw {
		h.Set("x-amz-sns-rawdelivery", "true")
	}
	resp, err := e.opts.HTTPClient.Do(req)
	if err != nil {
		if errors.Is(err, netguard.ErrDenied) {
			// Retried like a connection error: the name may resolve
			// elsewhere later; nothing was sent.
			e.log.Warn("delivery refused: endpoint address not allowed by --subscriber-allow/--subscriber-deny",
				"subscription", sub.ARN, "message_id", l.MessageID, "host", req.URL.Host)
			return retryable, "AddressNotAllowed"
		}
		var ue *url.Error
		if errors.As(err, &ue) && ue.Timeout() {
			return retryable, "Timeout"
		}
		return retryable, "ConnectionError"
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	return classify(resp.StatusCode)
}

func classify(status int) (outcome, string) {
	code := "HTTP" + strconv.Itoa(status)
	switch {
	case status >= 200 && status < 300:
		return delivered, ""
	case status == 408 || status == 429 || status >= 500:
		return retryable, code
	default:
		return permanent, code
	}
}
