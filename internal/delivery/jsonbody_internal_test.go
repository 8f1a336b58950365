package delivery

import (
	"bytes"
	"strings"
	"testing"
)

// oldNotification is the struct encoding/json used to encode; the
// hand-written encoder must produce the same bytes.
type oldNotification struct {
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

func checkSameAsEncodingJSON(t *testing.T, msg, subject, seq string, attrs map[string]envelopeAttr) {
	t.Helper()
	n := oldNotification{Type: "Notification", MessageID: "id-1", SequenceNumber: seq, TopicArn: "arn:aws:sns:us-east-1:000000000000:t",
		Message: msg, Timestamp: "2026-01-02T03:04:05.000Z", SignatureVersion: "1", Signature: "c2ln", SigningCertURL: "http://h/c.pem",
		UnsubscribeURL: "http://h/?Action=Unsubscribe&SubscriptionArn=a%3Ab", MessageAttributes: attrs}
	f := []jsonField{{name: "Type", str: n.Type}, {name: "MessageId", str: n.MessageID}}
	if seq != "" {
		f = append(f, jsonField{name: "SequenceNumber", str: seq})
	}
	f = append(f, jsonField{name: "TopicArn", str: n.TopicArn})
	if subject != "" {
		n.Subject = &subject
		f = append(f, jsonField{name: "Subject", str: subject})
	}
	f = append(f, jsonField{name: "Message", text: []byte(msg)}, jsonField{name: "Timestamp", str: n.Timestamp},
		jsonField{name: "SignatureVersion", str: n.SignatureVersion}, jsonField{name: "Signature", str: n.Signature},
		jsonField{name: "SigningCertURL", str: n.SigningCertURL}, jsonField{name: "UnsubscribeURL", str: n.UnsubscribeURL})
	if len(attrs) > 0 {
		f = append(f, jsonField{name: "MessageAttributes", attrs: attrs})
	}
	want, err := marshalNoEscape(n)
	if err != nil {
		t.Fatal(err)
	}
	got := encodeNotification(f)
	if !bytes.Equal(got, want) {
		t.Fatalf("encoding differs\n got %q\nwant %q", got, want)
	}
	if cap(got) != len(got) {
		t.Fatalf("buffer sized %d for %d bytes: it was not sized exactly (a grown buffer leaves copies)", cap(got), len(got))
	}
}

func TestNotificationEncodingMatchesEncodingJSON(t *testing.T) {
	for _, msg := range []string{"", "hello", `quote " backslash \ slash /`, "<html>&amp;</html>", "ctl \x00\x01\x08\x0c\n\r\t\x1f\x7f",
		"utf8 é ☃ 😀", "bad \xff\xfe utf8 \xe2\x82", "sep \u2028 \u2029", `{"json":"inside"}`} {
		checkSameAsEncodingJSON(t, msg, "", "", nil)
		checkSameAsEncodingJSON(t, msg, "subj <&> \"x\"", "10000000000000000001", map[string]envelopeAttr{
			"b": {Type: "String", Value: msg}, "a": {Type: "Binary", Value: "AAE="}, "é": {Type: "Number", Value: "1"}})
	}
}

func FuzzNotificationEncoding(f *testing.F) {
	f.Add("hello", "subj", "v")
	f.Add("\xff\u2028<", "", "\x00")
	f.Fuzz(func(t *testing.T, msg, subject, attr string) {
		checkSameAsEncodingJSON(t, msg, subject, "", map[string]envelopeAttr{attr: {Type: "String", Value: attr}})
	})
}

// BenchmarkNotificationBody compares the hand encoder with encoding/json
// for a 1 KiB message with two attributes.
func BenchmarkNotificationBody(b *testing.B) {
	msg := strings.Repeat("payload <x> & \"q\" é ", 50)[:1024]
	attrs := map[string]envelopeAttr{"color": {Type: "String", Value: "blue"}, "n": {Type: "Number", Value: "42"}}
	subj := "subject"
	n := oldNotification{Type: "Notification", MessageID: "6f1c2d3e-0000-4000-8000-000000000000", TopicArn: "arn:aws:sns:us-east-1:000000000000:t",
		Subject: &subj, Message: msg, Timestamp: "2026-01-02T03:04:05.000Z", SignatureVersion: "1", Signature: strings.Repeat("A", 344),
		SigningCertURL: "http://127.0.0.1:9911/SimpleNotificationService-0123456789abcdef.pem", UnsubscribeURL: "http://127.0.0.1:9911/?Action=Unsubscribe&SubscriptionArn=x", MessageAttributes: attrs}
	b.Run("encoding/json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := marshalNoEscape(n); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("hand+wipe", func(b *testing.B) {
		b.ReportAllocs()
		text := []byte(msg)
		for b.Loop() {
			out := encodeNotification([]jsonField{{name: "Type", str: n.Type}, {name: "MessageId", str: n.MessageID}, {name: "TopicArn", str: n.TopicArn},
				{name: "Subject", str: subj}, {name: "Message", text: text}, {name: "Timestamp", str: n.Timestamp}, {name: "SignatureVersion", str: "1"},
				{name: "Signature", str: n.Signature}, {name: "SigningCertURL", str: n.SigningCertURL}, {name: "UnsubscribeURL", str: n.UnsubscribeURL},
				{name: "MessageAttributes", attrs: attrs}})
			clear(out)
		}
	})
}
