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
	"unsafe"

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
// MessageStructure=json the protocol's own key, else "default". Without a
// JSON structure it is body itself; with one it is a new slice, owned
// (wiped) by the caller when fresh is true.
func messageFor(meta sns.Meta, body []byte, protocol string) (text []byte, fresh bool) {
	if meta.Structure != "json" {
		return body, false
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		return body, false
	}
	defer func() {
		for _, v := range m {
			clear(v)
		}
	}()
	for _, k := range []string{protocol, "default"} {
		var s string
		if v, ok := m[k]; ok && len(v) > 0 && v[0] == '"' && json.Unmarshal(v, &s) == nil {
			return []byte(s), true
		}
	}
	return []byte{}, true
}

// envelope builds the HTTP body of a delivery from the message's plaintext
// body and reports whether it is raw. The body is a new buffer the caller
// owns and wipes after the attempt, except for a raw delivery without a
// JSON structure, whose body is plaintext itself.
func (e *Engine) envelope(topic store.Topic, sub store.Subscription, m store.Message, meta sns.Meta, plaintext []byte) ([]byte, bool, error) {
	base := e.svc.PublicURL()
	certURL := base + "/" + e.signer.CertName()
	ts := m.CreatedAt.UTC().Format(TimestampFormat)
	sigVersion := "1"
	if topic.Attributes["SignatureVersion"] == "2" {
		sigVersion = "2"
	}
	switch meta.Type {
	case sns.TypeSubscriptionConfirmation, sns.TypeUnsubscribeConfirmation:
		// Confirmations are never sealed.
		subURL := base + "/?Action=ConfirmSubscription&TopicArn=" + url.QueryEscape(m.TopicARN) + "&Token=" + url.QueryEscape(meta.Token)
		c := confirmation{Type: meta.Type, MessageID: m.ID, Token: meta.Token, TopicArn: m.TopicARN, Message: string(plaintext),
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
	text, fresh := messageFor(meta, plaintext, sub.Protocol)
	if sub.Attributes["RawMessageDelivery"] == "true" {
		return text, true, nil
	}
	if fresh {
		defer clear(text)
	}
	sm := snssig.Message{Type: sns.TypeNotification, MessageID: m.ID, TopicARN: m.TopicARN, Message: aliasString(text), Timestamp: ts, Subject: meta.Subject}
	sig, err := e.sign(sigVersion, sm)
	if err != nil {
		return nil, false, err
	}
	// Fields in AWS's order.
	f := make([]jsonField, 0, 12)
	f = append(f, jsonField{name: "Type", str: sns.TypeNotification}, jsonField{name: "MessageId", str: m.ID})
	if meta.Sequence != "" {
		f = append(f, jsonField{name: "SequenceNumber", str: meta.Sequence})
	}
	f = append(f, jsonField{name: "TopicArn", str: m.TopicARN})
	if meta.Subject != "" {
		f = append(f, jsonField{name: "Subject", str: meta.Subject})
	}
	f = append(f, jsonField{name: "Message", text: nonNil(text)},
		jsonField{name: "Timestamp", str: ts},
		jsonField{name: "SignatureVersion", str: sigVersion},
		jsonField{name: "Signature", str: sig},
		jsonField{name: "SigningCertURL", str: certURL},
		jsonField{name: "UnsubscribeURL", str: base + "/?Action=Unsubscribe&SubscriptionArn=" + url.QueryEscape(sub.ARN)})
	if len(meta.Attributes) > 0 {
		attrs := make(map[string]envelopeAttr, len(meta.Attributes))
		for k, a := range meta.Attributes {
			attrs[k] = envelopeAttr{Type: a.Type, Value: a.Value}
		}
		f = append(f, jsonField{name: "MessageAttributes", attrs: attrs})
	}
	return encodeNotification(f), false, nil
}

// aliasString views b as a string without copying it, so that wiping b
// also wipes the string. Only for strings that do not outlive b's wipe.
func aliasString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
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
	sts := snssig.StringToSign(m)
	k := sigKey{id: m.MessageID, version: version, typ: m.Type, digest: sha256.Sum256(sts)}
	clear(sts) // it holds the message text
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

// sendHTTP makes one attempt and classifies it. plaintext is the message
// body (opened, for a sealed message); the request body built from it is
// wiped when the attempt is over (owned says whether plaintext itself is
// the engine's to wipe too; the caller wipes it).
func (e *Engine) sendHTTP(ctx context.Context, topic store.Topic, sub store.Subscription, l store.Lease, meta sns.Meta, policy deliverypolicy.Policy, plaintext []byte, owned bool) (outcome, string) {
	body, raw, err := e.envelope(topic, sub, l.Message, meta, plaintext)
	if err != nil {
		e.log.Error("build delivery body", "subscription", sub.ARN, "message_id", l.MessageID, "err", err)
		return retryable, "InternalError"
	}
	// The request body: a raw body may be plaintext itself (wiped by the
	// caller when owned, never when it is the store's); any other body is
	// a buffer built here.
	wb := &wipeBuf{b: body}
	if owned || !(raw && sameBuffer(body, plaintext)) {
		defer func() {
			wb.wipe()
			e.wiped(body)
		}()
	}
	ctx, cancel := context.WithTimeout(ctx, e.opts.AttemptTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, sub.Endpoint, wb.reader())
	if err != nil {
		return permanent, "InvalidEndpoint"
	}
	req.ContentLength = int64(len(body))
	req.GetBody = func() (io.ReadCloser, error) { return wb.reader(), nil }
	if len(body) == 0 {
		req.Body, req.GetBody = http.NoBody, nil
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

// sameBuffer reports whether a and b are the same bytes in memory.
func sameBuffer(a, b []byte) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
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
