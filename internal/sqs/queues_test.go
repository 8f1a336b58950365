package sqs

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/pgtest"
	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/store/pebblestore"
	"github.com/sealpost/sealpost/internal/store/pgstore"
)

// Control-plane tests (queues, attributes, access, tags) on the real
// pebble store with an injected clock. Helpers are prefixed cp so that
// they do not meet the message tests' helpers in this package.

type cpClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *cpClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *cpClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type cpEnv struct {
	svc *Service
	st  store.QueueStore
	clk *cpClock
	ctx context.Context
}

const (
	cpAccount = "111111111111"
	cpOther   = "222222222222"
	cpRegion  = "us-east-1"
)

// cpCaller is the root of account, signed over TLS.
func cpCaller(account string) *Caller {
	return &Caller{Account: account, Region: cpRegion, Principal: "arn:aws:iam::" + account + ":root",
		Signed: true, Secure: true, Authenticated: true}
}

func newCPEnv(t *testing.T) *cpEnv {
	t.Helper()
	// The control-plane suite runs on the store SEALPOST_TEST_STORE names
	// (test.sh runs it on both; the message suite runs both drivers itself).
	var st store.QueueStore
	if os.Getenv("SEALPOST_TEST_STORE") == "postgres" {
		pst, err := pgstore.Open(context.Background(), pgtest.NewDatabase(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { pst.Close() })
		st = pst
	} else {
		pst, err := pebblestore.Open(filepath.Join(t.TempDir(), "db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { pst.Close() })
		st = pst
	}
	clk := &cpClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	return &cpEnv{svc: New(st, Options{PublicURL: "http://sp.test", Now: clk.Now}), st: st, clk: clk, ctx: context.Background()}
}

func (e *cpEnv) create(t *testing.T, c *Caller, name string, attrs map[string]string) string {
	t.Helper()
	u, err := e.svc.CreateQueue(e.ctx, c, name, attrs, nil)
	if err != nil {
		t.Fatalf("CreateQueue %s: %v", name, err)
	}
	return u
}

func (e *cpEnv) attrs(t *testing.T, c *Caller, url string, names ...string) map[string]string {
	t.Helper()
	if len(names) == 0 {
		names = []string{"All"}
	}
	a, err := e.svc.GetQueueAttributes(e.ctx, c, url, names)
	if err != nil {
		t.Fatalf("GetQueueAttributes: %v", err)
	}
	return a
}

// cpWantErr checks err's kind and that its message contains msg.
func cpWantErr(t *testing.T, err, kind error, msg string) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) || !errors.Is(err, kind) {
		t.Fatalf("error %v (%T), want kind %v", err, err, kind)
	}
	if !strings.Contains(e.Message, msg) {
		t.Fatalf("message %q does not contain %q", e.Message, msg)
	}
}

func TestCreateQueueValidation(t *testing.T) {
	e := newCPEnv(t)
	c := cpCaller(cpAccount)
	e.create(t, c, "dlq", nil)
	e.create(t, c, "closed", map[string]string{"RedriveAllowPolicy": `{"redrivePermission":"denyAll"}`})
	long := strings.Repeat("a", 81)
	tags51 := map[string]string{}
	for i := 0; i < 51; i++ {
		tags51[fmt.Sprint("k", i)] = "v"
	}
	dlqARN := "arn:aws:sqs:us-east-1:111111111111:dlq"
	cases := []struct {
		name  string
		qname string
		attrs map[string]string
		tags  map[string]string
		kind  error
		msg   string
	}{
		{"empty name", "", nil, nil, ErrInvalidParameterValue, "Must specify a queue name"},
		{"long name", long, nil, nil, ErrInvalidParameterValue, "1 to 80 in length"},
		{"dot", "in.fo", nil, nil, ErrInvalidParameterValue, "alphanumeric characters, hyphens, or underscores"},
		{"unicode", "ééwwà", nil, nil, ErrInvalidParameterValue, "alphanumeric"},
		{"fifo name", "q.fifo", nil, nil, ErrInvalidParameterValue, "FIFO queues are not supported yet"},
		{"FifoQueue true", "q", map[string]string{"FifoQueue": "true"}, nil, ErrInvalidParameterValue, "later Sealpost release"},
		{"FifoQueue junk", "q", map[string]string{"FifoQueue": "yes"}, nil, ErrInvalidAttributeValue, "Invalid value for the parameter FifoQueue."},
		{"ContentBasedDeduplication", "q", map[string]string{"ContentBasedDeduplication": "false"}, nil, ErrInvalidAttributeName, "Unknown Attribute ContentBasedDeduplication."},
		{"unknown", "q", map[string]string{"Colour": "1"}, nil, ErrInvalidAttributeName, "Unknown Attribute Colour."},
		{"read-only", "q", map[string]string{"QueueArn": "x"}, nil, ErrInvalidAttributeName, "Unknown Attribute QueueArn."},
		{"internal", "q", map[string]string{"sealpost:tasks": "[]"}, nil, ErrInvalidAttributeName, "Unknown Attribute sealpost:tasks."},
		{"delay high", "q", map[string]string{"DelaySeconds": "901"}, nil, ErrInvalidAttributeValue, "Invalid value for the parameter DelaySeconds."},
		{"delay negative", "q", map[string]string{"DelaySeconds": "-1"}, nil, ErrInvalidAttributeValue, "DelaySeconds"},
		{"delay space", "q", map[string]string{"DelaySeconds": " 6"}, nil, ErrInvalidAttributeValue, "DelaySeconds"},
		{"delay float", "q", map[string]string{"DelaySeconds": "5.5"}, nil, ErrInvalidAttributeValue, "DelaySeconds"},
		{"delay empty", "q", map[string]string{"DelaySeconds": ""}, nil, ErrInvalidAttributeValue, "DelaySeconds"},
		{"size low", "q", map[string]string{"MaximumMessageSize": "1023"}, nil, ErrInvalidAttributeValue, "MaximumMessageSize"},
		{"size high", "q", map[string]string{"MaximumMessageSize": "1048577"}, nil, ErrInvalidAttributeValue, "MaximumMessageSize"},
		{"retention low", "q", map[string]string{"MessageRetentionPeriod": "59"}, nil, ErrInvalidAttributeValue, "MessageRetentionPeriod"},
		{"retention high", "q", map[string]string{"MessageRetentionPeriod": "1209601"}, nil, ErrInvalidAttributeValue, "MessageRetentionPeriod"},
		{"wait high", "q", map[string]string{"ReceiveMessageWaitTimeSeconds": "21"}, nil, ErrInvalidAttributeValue, "ReceiveMessageWaitTimeSeconds"},
		{"visibility high", "q", map[string]string{"VisibilityTimeout": "43201"}, nil, ErrInvalidAttributeValue, "VisibilityTimeout"},
		{"reuse low", "q", map[string]string{"KmsDataKeyReusePeriodSeconds": "59"}, nil, ErrInvalidAttributeValue, "KmsDataKeyReusePeriodSeconds"},
		{"reuse high", "q", map[string]string{"KmsDataKeyReusePeriodSeconds": "86401"}, nil, ErrInvalidAttributeValue, "KmsDataKeyReusePeriodSeconds"},
		{"sse junk", "q", map[string]string{"SqsManagedSseEnabled": "yes"}, nil, ErrInvalidAttributeValue, "SqsManagedSseEnabled"},
		{"sse both", "q", map[string]string{"SqsManagedSseEnabled": "true", "KmsMasterKeyId": "alias/k"}, nil, ErrInvalidAttributeName, "one type of server-side encryption"},
		{"policy junk", "q", map[string]string{"Policy": "{"}, nil, ErrInvalidAttributeValue, "Invalid value for the parameter Policy."},
		{"policy no principal", "q", map[string]string{"Policy": `{"Statement":[{"Effect":"Allow","Action":"sqs:*","Resource":"*"}]}`}, nil, ErrInvalidAttributeValue, "Policy"},
		{"redrive not json", "q", map[string]string{"RedrivePolicy": " "}, nil, ErrInvalidAttributeValue, "Redrive policy is not a valid JSON map."},
		{"redrive array", "q", map[string]string{"RedrivePolicy": "[]"}, nil, ErrInvalidAttributeValue, "not a valid JSON map"},
		{"redrive no arn", "q", map[string]string{"RedrivePolicy": `{"maxReceiveCount":5}`}, nil, ErrInvalidParameterValue, `Value {"maxReceiveCount":5} for parameter RedrivePolicy is invalid. Reason: Redrive policy does not contain mandatory attribute: deadLetterTargetArn.`},
		{"redrive no max", "q", map[string]string{"RedrivePolicy": `{"deadLetterTargetArn":"` + dlqARN + `"}`}, nil, ErrInvalidParameterValue, "mandatory attribute: maxReceiveCount."},
		{"redrive extra", "q", map[string]string{"RedrivePolicy": `{"deadLetterTargetArn":"` + dlqARN + `","maxReceiveCount":5,"x":1}`}, nil, ErrInvalidParameterValue, "Only following attributes are supported: [maxReceiveCount, deadLetterTargetArn]."},
		{"redrive max 0", "q", map[string]string{"RedrivePolicy": `{"deadLetterTargetArn":"` + dlqARN + `","maxReceiveCount":0}`}, nil, ErrInvalidParameterValue, "Invalid value for maxReceiveCount: 0, valid values are from 1 to 1000 both inclusive."},
		{"redrive max 1001", "q", map[string]string{"RedrivePolicy": `{"deadLetterTargetArn":"` + dlqARN + `","maxReceiveCount":"1001"}`}, nil, ErrInvalidParameterValue, "Invalid value for maxReceiveCount: 1001,"},
		{"redrive max text", "q", map[string]string{"RedrivePolicy": `{"deadLetterTargetArn":"` + dlqARN + `","maxReceiveCount":"five"}`}, nil, ErrInvalidParameterValue, "Invalid value for maxReceiveCount: five,"},
		{"redrive short arn", "q", map[string]string{"RedrivePolicy": `{"deadLetterTargetArn":"dlq","maxReceiveCount":5}`}, nil, ErrInvalidParameterValue, "Dead-letter target ARN should be fully qualified ARN."},
		{"redrive sns", "q", map[string]string{"RedrivePolicy": `{"deadLetterTargetArn":"arn:aws:sns:us-east-1:111111111111:t","maxReceiveCount":5}`}, nil, ErrInvalidParameterValue, "Only SQS queues are valid resources for deadLetterTargetArn."},
		{"redrive fifo", "q", map[string]string{"RedrivePolicy": `{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:111111111111:d.fifo","maxReceiveCount":5}`}, nil, ErrInvalidParameterValue, "Dead-letter queue must be same type of queue as the source."},
		{"redrive other account", "q", map[string]string{"RedrivePolicy": `{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:222222222222:dlq","maxReceiveCount":5}`}, nil, ErrInvalidParameterValue, "Dead-letter target owner should be same as the source."},
		{"redrive other region", "q", map[string]string{"RedrivePolicy": `{"deadLetterTargetArn":"arn:aws:sqs:eu-west-1:111111111111:dlq","maxReceiveCount":5}`}, nil, ErrInvalidParameterValue, "Dead letter target does not exist."},
		{"redrive missing dlq", "q", map[string]string{"RedrivePolicy": `{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:111111111111:nope","maxReceiveCount":5}`}, nil, ErrInvalidParameterValue, "Dead letter target does not exist."},
		{"redrive denied by dlq", "q", map[string]string{"RedrivePolicy": `{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:111111111111:closed","maxReceiveCount":5}`}, nil, ErrInvalidParameterValue, "RedriveAllowPolicy does not allow this queue"},
		{"allow junk", "q", map[string]string{"RedriveAllowPolicy": "badjson"}, nil, ErrInvalidAttributeValue, "unsupported format"},
		{"allow no permission", "q", map[string]string{"RedriveAllowPolicy": "{}"}, nil, ErrInvalidAttributeValue, "unsupported format"},
		{"allow bad permission", "q", map[string]string{"RedriveAllowPolicy": `{"redrivePermission":"some"}`}, nil, ErrInvalidAttributeValue, "unsupported format"},
		{"allow extra", "q", map[string]string{"RedriveAllowPolicy": `{"redrivePermission":"allowAll","x":1}`}, nil, ErrInvalidAttributeValue, "unsupported format"},
		{"allow byQueue none", "q", map[string]string{"RedriveAllowPolicy": `{"redrivePermission":"byQueue"}`}, nil, ErrInvalidParameterValue, "When you specify the byQueue permission type, you must also specify one or more sourceQueueArns values."},
		{"allow byQueue empty", "q", map[string]string{"RedriveAllowPolicy": `{"redrivePermission":"byQueue","sourceQueueArns":[]}`}, nil, ErrInvalidParameterValue, "one or more sourceQueueArns"},
		{"allow arns with allowAll", "q", map[string]string{"RedriveAllowPolicy": `{"redrivePermission":"allowAll","sourceQueueArns":["` + dlqARN + `"]}`}, nil, ErrInvalidParameterValue, "you must set redrivePermission to byQueue"},
		{"allow 11 arns", "q", map[string]string{"RedriveAllowPolicy": `{"redrivePermission":"byQueue","sourceQueueArns":[` + strings.Repeat(`"`+dlqARN+`",`, 10) + `"` + dlqARN + `"]}`}, nil, ErrInvalidParameterValue, "The maximum number of source queue ARNs you can specify is 10."},
		{"allow arn not string", "q", map[string]string{"RedriveAllowPolicy": `{"redrivePermission":"byQueue","sourceQueueArns":[1]}`}, nil, ErrInvalidAttributeValue, "unsupported format"},
		{"too many tags", "q", nil, tags51, ErrInvalidParameterValue, "Too many tags added for queue q."},
		{"tag key long", "q", nil, map[string]string{strings.Repeat("k", 129): "v"}, ErrInvalidParameterValue, "Tag keys must be between 1 and 128"},
		{"tag key empty", "q", nil, map[string]string{"": "v"}, ErrInvalidParameterValue, "Tag keys must be between 1 and 128"},
		{"tag key aws", "q", nil, map[string]string{"aws:x": "v"}, ErrInvalidParameterValue, "reserved prefix aws:"},
		{"tag value long", "q", nil, map[string]string{"k": strings.Repeat("v", 257)}, ErrInvalidParameterValue, "Tag values must be between 0 and 256"},
		{"tag value char", "q", nil, map[string]string{"k": "a\x00"}, ErrInvalidParameterValue, "Tag values"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.svc.CreateQueue(e.ctx, c, tc.qname, tc.attrs, tc.tags)
			cpWantErr(t, err, tc.kind, tc.msg)
		})
	}
	// Nothing above created a queue.
	urls, _, err := e.svc.ListQueues(e.ctx, c, "", "", 0)
	if err != nil || len(urls) != 2 {
		t.Fatalf("queues after refusals: %v %v", urls, err)
	}
	// The same checks apply to SetQueueAttributes (but FifoQueue, which
	// only CreateQueue knows).
	u := e.create(t, c, "q", nil)
	for _, tc := range cases {
		if tc.attrs == nil || tc.attrs["FifoQueue"] != "" {
			continue
		}
		t.Run("set "+tc.name, func(t *testing.T) {
			cpWantErr(t, e.svc.SetQueueAttributes(e.ctx, c, u, tc.attrs), tc.kind, tc.msg)
		})
	}
	cpWantErr(t, e.svc.SetQueueAttributes(e.ctx, c, u, map[string]string{"FifoQueue": "false"}), ErrInvalidAttributeName, "Unknown Attribute FifoQueue.")
	cpWantErr(t, e.svc.SetQueueAttributes(e.ctx, c, u, nil), ErrMissingParameter, "Attributes")
}

func TestCreateQueueAcceptsAndNormalizes(t *testing.T) {
	e := newCPEnv(t)
	c := cpCaller(cpAccount)
	e.create(t, c, "dlq", map[string]string{"RedriveAllowPolicy": `{"redrivePermission":"byQueue","sourceQueueArns":["arn:aws:sqs:us-east-1:111111111111:src"]}`})
	u, err := e.svc.CreateQueue(e.ctx, c, strings.Repeat("a", 80), map[string]string{"FifoQueue": "false", "DelaySeconds": "0900"}, nil)
	if err != nil || u != "http://sp.test/111111111111/"+strings.Repeat("a", 80) {
		t.Fatalf("%q %v", u, err)
	}
	if a := e.attrs(t, c, u, "DelaySeconds"); a["DelaySeconds"] != "900" {
		t.Fatalf("DelaySeconds %q", a["DelaySeconds"])
	}
	// maxReceiveCount as a string (SDKs send both) is stored as a number.
	src := e.create(t, c, "src", map[string]string{"RedrivePolicy": ` {"maxReceiveCount":"5", "deadLetterTargetArn":"arn:aws:sqs:us-east-1:111111111111:dlq"}`})
	a := e.attrs(t, c, src, "RedrivePolicy")
	if a["RedrivePolicy"] != `{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:111111111111:dlq","maxReceiveCount":5}` {
		t.Fatalf("RedrivePolicy %q", a["RedrivePolicy"])
	}
	q, err := e.svc.queueFor(e.ctx, c, src, "ReceiveMessage")
	if err != nil || q.cfg.DeadLetterTargetARN != "arn:aws:sqs:us-east-1:111111111111:dlq" || q.cfg.MaxReceiveCount != 5 {
		t.Fatalf("config %+v %v", q, err)
	}
	// Another source is not on the dead-letter queue's list.
	_, err = e.svc.CreateQueue(e.ctx, c, "other", map[string]string{"RedrivePolicy": `{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:111111111111:dlq","maxReceiveCount":5}`}, nil)
	cpWantErr(t, err, ErrInvalidParameterValue, "does not allow this queue")
	// An empty RedrivePolicy removes it.
	if err := e.svc.SetQueueAttributes(e.ctx, c, src, map[string]string{"RedrivePolicy": ""}); err != nil {
		t.Fatal(err)
	}
	if a := e.attrs(t, c, src); a["RedrivePolicy"] != "" {
		t.Fatalf("RedrivePolicy still %q", a["RedrivePolicy"])
	}
}

func TestCreateQueueIdempotency(t *testing.T) {
	e := newCPEnv(t)
	c := cpCaller(cpAccount)
	pol := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"222222222222"},"Action":"sqs:SendMessage","Resource":"arn:aws:sqs:us-east-1:111111111111:q"}]}`
	u := e.create(t, c, "q", map[string]string{"VisibilityTimeout": "60", "Policy": pol})
	// Internal attributes (move tasks) neither show nor count.
	if _, err := e.st.UpdateQueue(e.ctx, store.QueueKey{Account: cpAccount, Region: cpRegion, Name: "q"}, func(q *store.Queue) error {
		q.Attributes["sealpost:tasks"] = `[{"x":1}]`
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	same := []map[string]string{
		nil,
		{"VisibilityTimeout": "60"},
		{"VisibilityTimeout": "060", "DelaySeconds": "0", "MaximumMessageSize": "1048576", "SqsManagedSseEnabled": "true"},
		{"Policy": " " + strings.ReplaceAll(pol, ",", " , ")},
		{"FifoQueue": "false"},
	}
	for i, attrs := range same {
		got, err := e.svc.CreateQueue(e.ctx, c, "q", attrs, map[string]string{"ignored": "tag"})
		if err != nil || got != u {
			t.Fatalf("case %d: %q %v", i, got, err)
		}
	}
	differ := []struct {
		attrs map[string]string
		name  string
	}{
		{map[string]string{"VisibilityTimeout": "30"}, "VisibilityTimeout"},
		{map[string]string{"DelaySeconds": "5", "VisibilityTimeout": "61"}, "DelaySeconds"},
		{map[string]string{"SqsManagedSseEnabled": "false"}, "SqsManagedSseEnabled"},
		{map[string]string{"KmsMasterKeyId": "alias/k"}, "KmsMasterKeyId"},
		{map[string]string{"Policy": ""}, "Policy"},
	}
	for _, d := range differ {
		_, err := e.svc.CreateQueue(e.ctx, c, "q", d.attrs, nil)
		cpWantErr(t, err, ErrQueueNameExists, "A queue already exists with the same name and a different value for attribute "+d.name)
	}
	a := e.attrs(t, c, u)
	for n := range a {
		if strings.HasPrefix(n, "sealpost:") {
			t.Fatalf("internal attribute %s returned", n)
		}
	}
	if _, err := e.svc.GetQueueAttributes(e.ctx, c, u, []string{"sealpost:tasks"}); !errors.Is(err, ErrInvalidAttributeName) {
		t.Fatalf("asking for an internal attribute: %v", err)
	}
	// SetQueueAttributes keeps the internal attributes.
	if err := e.svc.SetQueueAttributes(e.ctx, c, u, map[string]string{"DelaySeconds": "3"}); err != nil {
		t.Fatal(err)
	}
	rec, _ := e.st.GetQueue(e.ctx, store.QueueKey{Account: cpAccount, Region: cpRegion, Name: "q"})
	if rec.Attributes["sealpost:tasks"] != `[{"x":1}]` {
		t.Fatalf("internal attribute lost: %v", rec.Attributes)
	}
}

func TestQueueSSESettings(t *testing.T) {
	e := newCPEnv(t)
	c := cpCaller(cpAccount)
	def := e.create(t, c, "def", nil)
	a := e.attrs(t, c, def)
	if a["SqsManagedSseEnabled"] != "true" || a["KmsMasterKeyId"] != "" || a["KmsDataKeyReusePeriodSeconds"] != "" {
		t.Fatalf("default queue: %v", a)
	}
	off := e.create(t, c, "off", map[string]string{"SqsManagedSseEnabled": "False"})
	if a := e.attrs(t, c, off); a["SqsManagedSseEnabled"] != "false" {
		t.Fatalf("SSE-SQS off: %v", a)
	}
	kms := e.create(t, c, "kms", map[string]string{"KmsMasterKeyId": "alias/app"})
	a = e.attrs(t, c, kms)
	if a["SqsManagedSseEnabled"] != "false" || a["KmsMasterKeyId"] != "alias/app" || a["KmsDataKeyReusePeriodSeconds"] != "300" {
		t.Fatalf("SSE-KMS queue: %v", a)
	}
	kmsFalse := e.create(t, c, "kms2", map[string]string{"KmsMasterKeyId": "alias/app", "SqsManagedSseEnabled": "false", "KmsDataKeyReusePeriodSeconds": "600"})
	if a := e.attrs(t, c, kmsFalse); a["KmsDataKeyReusePeriodSeconds"] != "600" || a["SqsManagedSseEnabled"] != "false" {
		t.Fatalf("%v", a)
	}
	// Turning SSE-SQS on removes the key; setting a key turns SSE-SQS off.
	if err := e.svc.SetQueueAttributes(e.ctx, c, kms, map[string]string{"SqsManagedSseEnabled": "true"}); err != nil {
		t.Fatal(err)
	}
	if a := e.attrs(t, c, kms); a["SqsManagedSseEnabled"] != "true" || a["KmsMasterKeyId"] != "" {
		t.Fatalf("after SqsManagedSseEnabled=true: %v", a)
	}
	if err := e.svc.SetQueueAttributes(e.ctx, c, def, map[string]string{"KmsMasterKeyId": "1234abcd-12ab-34cd-56ef-1234567890ab"}); err != nil {
		t.Fatal(err)
	}
	q, err := e.svc.queueFor(e.ctx, c, def, "SendMessage")
	if err != nil || q.cfg.ManagedSSE || q.cfg.KmsMasterKeyID != "1234abcd-12ab-34cd-56ef-1234567890ab" || !q.cfg.encrypted() {
		t.Fatalf("after KmsMasterKeyId: %+v %v", q.cfg, err)
	}
	// An empty key turns SSE-KMS off.
	if err := e.svc.SetQueueAttributes(e.ctx, c, def, map[string]string{"KmsMasterKeyId": ""}); err != nil {
		t.Fatal(err)
	}
	q, _ = e.svc.queueFor(e.ctx, c, def, "SendMessage")
	if q.cfg.encrypted() {
		t.Fatalf("still encrypted: %+v", q.cfg)
	}
}

func TestGetQueueAttributes(t *testing.T) {
	e := newCPEnv(t)
	c := cpCaller(cpAccount)
	created := e.clk.Now()
	u := e.create(t, c, "q", map[string]string{"VisibilityTimeout": "45"})
	k := store.QueueKey{Account: cpAccount, Region: cpRegion, Name: "q"}
	now := e.clk.Now()
	var ms []store.QueueMessage
	for i := 0; i < 6; i++ {
		m := store.QueueMessage{ID: fmt.Sprint("m", i), Body: []byte("x"), SentAt: now, VisibleAt: now}
		if i >= 4 {
			m.VisibleAt = now.Add(time.Minute) // delayed
		}
		ms = append(ms, m)
	}
	if err := e.st.SendMessages(e.ctx, k, ms); err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.Receive(e.ctx, k, 1, now, time.Minute); err != nil {
		t.Fatal(err)
	}
	e.clk.Add(90 * time.Second)
	if err := e.svc.SetQueueAttributes(e.ctx, c, u, map[string]string{"DelaySeconds": "2"}); err != nil {
		t.Fatal(err)
	}
	e.clk.Add(-80 * time.Second) // at created+10s: one in flight, two delayed
	a := e.attrs(t, c, u)
	want := map[string]string{
		"QueueArn":                              "arn:aws:sqs:us-east-1:111111111111:q",
		"ApproximateNumberOfMessages":           "3",
		"ApproximateNumberOfMessagesNotVisible": "1",
		"ApproximateNumberOfMessagesDelayed":    "2",
		"CreatedTimestamp":                      fmt.Sprint(created.Unix()),
		"LastModifiedTimestamp":                 fmt.Sprint(created.Add(90 * time.Second).Unix()),
		"VisibilityTimeout":                     "45",
		"MaximumMessageSize":                    "1048576",
		"MessageRetentionPeriod":                "345600",
		"DelaySeconds":                          "2",
		"ReceiveMessageWaitTimeSeconds":         "0",
		"SqsManagedSseEnabled":                  "true",
	}
	if fmt.Sprint(a) != fmt.Sprint(want) {
		t.Fatalf("All:\n got %v\nwant %v", a, want)
	}
	a = e.attrs(t, c, u, "QueueArn", "ApproximateNumberOfMessagesDelayed", "FifoQueue", "Policy")
	if len(a) != 2 || a["ApproximateNumberOfMessagesDelayed"] != "2" || a["QueueArn"] == "" {
		t.Fatalf("named: %v", a)
	}
	if a, err := e.svc.GetQueueAttributes(e.ctx, c, u, nil); err != nil || len(a) != 0 {
		t.Fatalf("no names: %v %v", a, err)
	}
	_, err := e.svc.GetQueueAttributes(e.ctx, c, u, []string{"VisibilityTimeout", "Bogus"})
	cpWantErr(t, err, ErrInvalidAttributeName, "Unknown Attribute Bogus.")
	_, err = e.svc.GetQueueAttributes(e.ctx, c, "http://sp.test/111111111111/nope", []string{"All"})
	cpWantErr(t, err, ErrQueueDoesNotExist, "The specified queue does not exist.")
	for _, bad := range []string{"", "::", "http://x/q", "http://x/abc/q", "http://x/111111111111/q%00", "http://x/111111111111/a.b"} {
		if _, err := e.svc.GetQueueAttributes(e.ctx, c, bad, []string{"All"}); !errors.Is(err, ErrQueueDoesNotExist) {
			t.Fatalf("%q: %v", bad, err)
		}
	}
	// Any host and scheme name the queue.
	if a := e.attrs(t, c, "https://sqs.us-east-1.amazonaws.com/111111111111/q", "VisibilityTimeout"); a["VisibilityTimeout"] != "45" {
		t.Fatalf("%v", a)
	}
}

func TestDeleteQueueAndGetQueueURL(t *testing.T) {
	e := newCPEnv(t)
	c := cpCaller(cpAccount)
	u := e.create(t, c, "q", nil)
	got, err := e.svc.GetQueueURL(e.ctx, c, "q", "")
	if err != nil || got != u {
		t.Fatalf("%q %v", got, err)
	}
	if got, err := e.svc.GetQueueURL(e.ctx, c, "q", cpAccount); err != nil || got != u {
		t.Fatalf("own account id: %q %v", got, err)
	}
	_, err = e.svc.GetQueueURL(e.ctx, c, "", "")
	cpWantErr(t, err, ErrInvalidParameterValue, "Must specify a queue name")
	_, err = e.svc.GetQueueURL(e.ctx, c, "q", "12")
	cpWantErr(t, err, ErrInvalidParameterValue, "QueueOwnerAWSAccountId")
	_, err = e.svc.GetQueueURL(e.ctx, c, "nope", "")
	cpWantErr(t, err, ErrQueueDoesNotExist, "does not exist")
	_, err = e.svc.GetQueueURL(e.ctx, c, "q", cpOther)
	cpWantErr(t, err, ErrQueueDoesNotExist, "does not exist")

	k := store.QueueKey{Account: cpAccount, Region: cpRegion, Name: "q"}
	now := e.clk.Now()
	if err := e.st.SendMessages(e.ctx, k, []store.QueueMessage{{ID: "m", Body: []byte("x"), SentAt: now, VisibleAt: now}}); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.DeleteQueue(e.ctx, c, u); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.GetQueueURL(e.ctx, c, "q", ""); !errors.Is(err, ErrQueueDoesNotExist) {
		t.Fatalf("after delete: %v", err)
	}
	cpWantErr(t, e.svc.DeleteQueue(e.ctx, c, u), ErrQueueDoesNotExist, "does not exist")
	// A new queue of the same name starts empty.
	e.create(t, c, "q", nil)
	if n, err := e.st.Counts(e.ctx, k, now); err != nil || n != (store.QueueCounts{}) {
		t.Fatalf("recreated queue: %+v %v", n, err)
	}
}

func TestListQueuesPaging(t *testing.T) {
	e := newCPEnv(t)
	c := cpCaller(cpAccount)
	var want []string
	for i := 0; i < 7; i++ {
		want = append(want, e.create(t, c, fmt.Sprint("a", i), nil))
	}
	e.create(t, c, "b0", nil)
	e.create(t, cpCaller(cpOther), "a9", nil)
	west := cpCaller(cpAccount)
	west.Region = "eu-west-1"
	e.create(t, west, "a8", nil)

	var got []string
	tok := ""
	pages := 0
	for {
		urls, next, err := e.svc.ListQueues(e.ctx, c, "a", tok, 3)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, urls...)
		pages++
		if next == "" {
			break
		}
		if len(urls) != 3 {
			t.Fatalf("page of %d with a token", len(urls))
		}
		tok = next
	}
	if pages != 3 || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("%d pages: %v", pages, got)
	}
	all, next, err := e.svc.ListQueues(e.ctx, c, "", "", 0)
	if err != nil || next != "" || len(all) != 8 || !sort.StringsAreSorted(all) {
		t.Fatalf("without MaxResults: %v %q %v", all, next, err)
	}
	if urls, next, err := e.svc.ListQueues(e.ctx, c, "a", "", 7); err != nil || next != "" || len(urls) != 7 {
		t.Fatalf("exact page: %v %q %v", urls, next, err)
	}
	if urls, _, err := e.svc.ListQueues(e.ctx, c, "a.", "", 0); err != nil || len(urls) != 0 {
		t.Fatalf("impossible prefix: %v %v", urls, err)
	}
	_, tok, _ = e.svc.ListQueues(e.ctx, c, "a", "", 3)
	for _, bad := range []struct {
		prefix, tok string
		max         int
		msg         string
	}{
		{"a", "", 1001, "MaxResults"},
		{"a", "", -1, "MaxResults"},
		{"b", tok, 3, "Invalid NextToken value."},
		{"a", "garbage!", 3, "Invalid NextToken value."},
		{"a", makeToken("ListDeadLetterSourceQueues", "a", "a1"), 3, "Invalid NextToken value."},
		{"a", makeToken("ListQueues", "a", "../x"), 3, "Invalid NextToken value."},
		{"a", makeToken("ListQueues", "a", "b0"), 3, "Invalid NextToken value."},
	} {
		_, _, err := e.svc.ListQueues(e.ctx, c, bad.prefix, bad.tok, bad.max)
		cpWantErr(t, err, ErrInvalidParameterValue, bad.msg)
	}
}

func TestListDeadLetterSourceQueues(t *testing.T) {
	e := newCPEnv(t)
	c := cpCaller(cpAccount)
	dlq := e.create(t, c, "dlq", nil)
	other := e.create(t, c, "zdlq", nil)
	rp := func(dlq string) map[string]string {
		return map[string]string{"RedrivePolicy": `{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:111111111111:` + dlq + `","maxReceiveCount":3}`}
	}
	var want []string
	for _, n := range []string{"s1", "s2", "s3", "s4", "s5"} {
		want = append(want, e.create(t, c, n, rp("dlq")))
	}
	e.create(t, c, "s6", rp("zdlq"))
	e.create(t, c, "plain", nil)
	got, next, err := e.svc.ListDeadLetterSourceQueues(e.ctx, c, dlq, "", 0)
	if err != nil || next != "" || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("%v %q %v", got, next, err)
	}
	var paged []string
	tok := ""
	for i := 0; ; i++ {
		urls, next, err := e.svc.ListDeadLetterSourceQueues(e.ctx, c, dlq, tok, 2)
		if err != nil || i > 3 {
			t.Fatal(err, i)
		}
		paged = append(paged, urls...)
		if next == "" {
			break
		}
		tok = next
	}
	if fmt.Sprint(paged) != fmt.Sprint(want) {
		t.Fatalf("paged %v", paged)
	}
	if got, _, err := e.svc.ListDeadLetterSourceQueues(e.ctx, c, other, "", 0); err != nil || len(got) != 1 {
		t.Fatalf("zdlq: %v %v", got, err)
	}
	_, tok, _ = e.svc.ListDeadLetterSourceQueues(e.ctx, c, dlq, "", 2)
	_, _, err = e.svc.ListDeadLetterSourceQueues(e.ctx, c, other, tok, 2)
	cpWantErr(t, err, ErrInvalidParameterValue, "NextToken")
	_, _, err = e.svc.ListDeadLetterSourceQueues(e.ctx, c, dlq, "", 1001)
	cpWantErr(t, err, ErrInvalidParameterValue, "MaxResults")
}

func TestQueueTags(t *testing.T) {
	e := newCPEnv(t)
	c := cpCaller(cpAccount)
	u, err := e.svc.CreateQueue(e.ctx, c, "q", nil, map[string]string{"team": "a", "env": ""})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.svc.TagQueue(e.ctx, c, u, map[string]string{"team": "b", "cost center": "x:y/z=1+2-3@4_5."}); err != nil {
		t.Fatal(err)
	}
	tags, err := e.svc.ListQueueTags(e.ctx, c, u)
	if err != nil || fmt.Sprint(tags) != "map[cost center:x:y/z=1+2-3@4_5. env: team:b]" {
		t.Fatalf("%v %v", tags, err)
	}
	if err := e.svc.UntagQueue(e.ctx, c, u, []string{"team", "absent"}); err != nil {
		t.Fatal(err)
	}
	if tags, _ := e.svc.ListQueueTags(e.ctx, c, u); len(tags) != 2 || tags["team"] != "" {
		t.Fatalf("after untag: %v", tags)
	}
	many := map[string]string{}
	for i := 0; i < 48; i++ {
		many[fmt.Sprint("k", i)] = "v"
	}
	if err := e.svc.TagQueue(e.ctx, c, u, many); err != nil {
		t.Fatal(err) // 50 in all
	}
	cpWantErr(t, e.svc.TagQueue(e.ctx, c, u, map[string]string{"one": "more"}), ErrInvalidParameterValue, "Too many tags added for queue q.")
	if err := e.svc.TagQueue(e.ctx, c, u, map[string]string{"k1": "replaced"}); err != nil {
		t.Fatalf("replacing at 50: %v", err)
	}
	cpWantErr(t, e.svc.TagQueue(e.ctx, c, u, nil), ErrMissingParameter, "Tags")
	cpWantErr(t, e.svc.TagQueue(e.ctx, c, u, map[string]string{"bad\tkey\x01": "v"}), ErrInvalidParameterValue, "Tag keys")
	cpWantErr(t, e.svc.UntagQueue(e.ctx, c, u, nil), ErrMissingParameter, "TagKeys")
	cpWantErr(t, e.svc.UntagQueue(e.ctx, c, u, []string{""}), ErrInvalidParameterValue, "Tag keys")
	cpWantErr(t, e.svc.TagQueue(e.ctx, c, "http://sp.test/111111111111/nope", map[string]string{"a": "b"}), ErrQueueDoesNotExist, "does not exist")
	// Tags do not change LastModifiedTimestamp; a tag at an existing
	// queue's CreateQueue is not applied.
	if _, err := e.svc.CreateQueue(e.ctx, c, "q", nil, map[string]string{"new": "x"}); err != nil {
		t.Fatal(err)
	}
	if tags, _ := e.svc.ListQueueTags(e.ctx, c, u); tags["new"] != "" {
		t.Fatalf("CreateQueue of an existing queue tagged it: %v", tags)
	}
}
