package audit

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Fixed values of every record.
const (
	EventVersion  = "1.11"
	EventSource   = "kms.amazonaws.com"
	EventCategory = "Management"
	// KeyResourceType is the resources[].type of a KMS key.
	KeyResourceType = "AWS::KMS::Key"
	// Event types.
	EventTypeAPICall      = "AwsApiCall"
	EventTypeServiceEvent = "AwsServiceEvent"
	// Identity types.
	IdentityIAMUser    = "IAMUser"
	IdentityRoot       = "Root"
	IdentityAWSService = "AWSService"
	// Limits on free-text fields, in bytes (clipped at a UTF-8 boundary).
	MaxUserAgent    = 256
	MaxErrorMessage = 1024
	// GenesisHash is the prevHash of seq 1.
	GenesisHash = "0000000000000000000000000000000000000000000000000000000000000000"
)

// UserIdentity is who made the call. For SNS's own use of a key, Type is
// AWSService and InvokedBy is "sns.amazonaws.com".
type UserIdentity struct {
	Type        string `json:"type"`
	PrincipalID string `json:"principalId,omitempty"`
	ARN         string `json:"arn,omitempty"`
	AccountID   string `json:"accountId,omitempty"`
	AccessKeyID string `json:"accessKeyId,omitempty"`
	InvokedBy   string `json:"invokedBy,omitempty"`
}

// Resource is one entry of resources: the KMS key the call used.
type Resource struct {
	ARN       string `json:"ARN"`
	AccountID string `json:"accountId"`
	Type      string `json:"type"`
}

// KeyResource returns the resources entry of a KMS key.
func KeyResource(keyARN, accountID string) Resource {
	return Resource{ARN: keyARN, AccountID: accountID, Type: KeyResourceType}
}

// Event is what a caller audits: one KMS call, allowed or refused. Zero
// Time means the writer's clock; empty EventID means a random UUID; empty
// EventType means AwsApiCall.
type Event struct {
	Time                time.Time
	Name                string // eventName: the KMS action, e.g. "Decrypt"
	Region              string
	SourceIP            string
	UserAgent           string
	Identity            UserIdentity
	RequestParameters   map[string]any // without secrets: see WithoutSecrets
	ResponseElements    map[string]any // nil for data-plane calls (written as null)
	AdditionalEventData map[string]any
	Resources           []Resource
	RecipientAccountID  string
	ErrorCode           string // empty when the call succeeded
	ErrorMessage        string
	RequestID           string
	EventID             string
	ReadOnly            bool
	EventType           string
}

// Record is one line of the log. Field order is the on-disk order and part
// of the format (see the package doc); the chain fields must stay last.
type Record struct {
	EventVersion        string         `json:"eventVersion"`
	EventTime           string         `json:"eventTime"`
	EventSource         string         `json:"eventSource"`
	EventName           string         `json:"eventName"`
	AWSRegion           string         `json:"awsRegion"`
	SourceIPAddress     string         `json:"sourceIPAddress,omitempty"`
	UserAgent           string         `json:"userAgent,omitempty"`
	UserIdentity        UserIdentity   `json:"userIdentity"`
	RequestParameters   map[string]any `json:"requestParameters"`
	ResponseElements    map[string]any `json:"responseElements"`
	AdditionalEventData map[string]any `json:"additionalEventData,omitempty"`
	RequestID           string         `json:"requestID"`
	EventID             string         `json:"eventID"`
	ReadOnly            bool           `json:"readOnly"`
	Resources           []Resource     `json:"resources,omitempty"`
	EventType           string         `json:"eventType"`
	EventCategory       string         `json:"eventCategory"`
	RecipientAccountID  string         `json:"recipientAccountId,omitempty"`
	ErrorCode           string         `json:"errorCode,omitempty"`
	ErrorMessage        string         `json:"errorMessage,omitempty"`
	Seq                 uint64         `json:"seq,omitempty"`
	PrevHash            string         `json:"prevHash,omitempty"`
	Hash                string         `json:"hash,omitempty"`
}

// record turns an event into a record without chain fields.
func (e *Event) record(now time.Time) Record {
	t := e.Time
	if t.IsZero() {
		t = now
	}
	id := e.EventID
	if id == "" {
		id = newUUID()
	}
	typ := e.EventType
	if typ == "" {
		typ = EventTypeAPICall
	}
	return Record{
		EventVersion:        EventVersion,
		EventTime:           FormatTime(t),
		EventSource:         EventSource,
		EventName:           e.Name,
		AWSRegion:           e.Region,
		SourceIPAddress:     e.SourceIP,
		UserAgent:           clip(e.UserAgent, MaxUserAgent),
		UserIdentity:        e.Identity,
		RequestParameters:   WithoutSecrets(e.RequestParameters),
		ResponseElements:    WithoutSecrets(e.ResponseElements),
		AdditionalEventData: WithoutSecrets(e.AdditionalEventData),
		RequestID:           e.RequestID,
		EventID:             id,
		ReadOnly:            e.ReadOnly,
		Resources:           e.Resources,
		EventType:           typ,
		EventCategory:       EventCategory,
		RecipientAccountID:  e.RecipientAccountID,
		ErrorCode:           e.ErrorCode,
		ErrorMessage:        clip(e.ErrorMessage, MaxErrorMessage),
	}
}

// FormatTime is the eventTime layout: RFC 3339, UTC, milliseconds.
func FormatTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

// secretFields are parameter names (lower case) whose values are secrets or
// ciphertexts and never go into the log.
var secretFields = map[string]bool{
	"plaintext":                true,
	"ciphertextblob":           true,
	"sourceciphertextblob":     true,
	"plaintextdatakey":         true,
	"datakey":                  true,
	"granttokens":              true,
	"granttoken":               true,
	"encryptedkeymaterial":     true,
	"importtoken":              true,
	"recipient":                true,
	"ciphertextforrecipient":   true,
	"message":                  true,
	"signature":                true,
	"privatekey":               true,
	"privatekeyplaintext":      true,
	"privatekeyciphertextblob": true,
	"mac":                      true,
	"rootkey":                  true,
}

// WithoutSecrets returns a copy of params without the fields known to
// carry secrets (see secretFields; matched in any letter case, in nested
// objects and arrays too, so also an encryption-context key of such a name)
// and with any []byte value replaced by null (raw bytes are blobs). It is a
// safety net, not a licence: callers build params from non-secret fields in
// the first place. It is applied to requestParameters, responseElements and
// additionalEventData of every record. Nil in, nil out; params is not
// modified.
func WithoutSecrets(params map[string]any) map[string]any {
	if params == nil {
		return nil
	}
	out := make(map[string]any, len(params))
	for k, v := range params {
		if isSecretField(k) {
			continue
		}
		out[k] = scrubValue(v)
	}
	return out
}

// isSecretField reports whether k names a secret field in any letter case
// (strings.ToLower, without allocating for ASCII names up to 64 bytes).
func isSecretField(k string) bool {
	var buf [64]byte
	if len(k) > len(buf) {
		return secretFields[strings.ToLower(k)]
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if c >= utf8.RuneSelf {
			return secretFields[strings.ToLower(k)]
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	return secretFields[string(buf[:len(k)])]
}

func scrubValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		return WithoutSecrets(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = scrubValue(e)
		}
		return out
	case []byte:
		// Raw bytes in parameters are blobs by nature; never log them.
		return nil
	default:
		return v
	}
}

// clip cuts s to at most n bytes at a UTF-8 boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// body encodes r (without chain fields) as JSON.
func body(r *Record) ([]byte, error) {
	r.Seq, r.PrevHash, r.Hash = 0, "", ""
	if b, ok := appendRecord(make([]byte, 0, 1024), r); ok {
		return b, nil
	}
	b, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("audit: encode record: %w", err)
	}
	return b, nil
}

// chainLine appends to dst the full line (with "\n") of a record whose
// body (JSON without chain fields) is b, and returns it with the new hash.
func chainLine(dst, b []byte, seq uint64, prev [32]byte) ([]byte, [32]byte) {
	start := len(dst)
	dst = append(dst, b[:len(b)-1]...) // drop '}'
	dst = append(dst, `,"seq":`...)
	dst = strconv.AppendUint(dst, seq, 10)
	dst = append(dst, `,"prevHash":"`...)
	dst = hex.AppendEncode(dst, prev[:])
	dst = append(dst, `"}`...)
	h := chainHash(prev, dst[start:])
	dst = dst[:len(dst)-1] // drop '}' again
	dst = append(dst, `,"hash":"`...)
	dst = hex.AppendEncode(dst, h[:])
	dst = append(dst, "\"}\n"...)
	return dst, h
}

// chainHash is SHA-256(prev || canonical).
func chainHash(prev [32]byte, canonical []byte) [32]byte {
	d := sha256.New()
	d.Write(prev[:])
	d.Write(canonical)
	var h [32]byte
	d.Sum(h[:0])
	return h
}
