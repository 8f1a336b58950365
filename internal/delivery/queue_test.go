package delivery_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/delivery"
	"github.com/sealpost/sealpost/internal/sns"
)

// fakeQueues is a QueueSender that records what it was given (copies: the
// engine wipes its buffers after the send) and refuses sends to the queues
// in refuse.
type fakeQueues struct {
	mu     sync.Mutex
	got    []delivery.QueueMessage
	refuse map[string]*delivery.QueueError
	sends  map[string]int
}

func newFakeQueues() *fakeQueues {
	return &fakeQueues{refuse: map[string]*delivery.QueueError{}, sends: map[string]int{}}
}

func (f *fakeQueues) SendToQueue(_ context.Context, m delivery.QueueMessage) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sends[m.QueueARN]++
	if e := f.refuse[m.QueueARN]; e != nil {
		return e
	}
	c := m
	c.Body = append([]byte(nil), m.Body...)
	c.Attributes = map[string]delivery.QueueAttribute{}
	for k, v := range m.Attributes {
		v.BinaryValue = append([]byte(nil), v.BinaryValue...)
		c.Attributes[k] = v
	}
	f.got = append(f.got, c)
	return nil
}

func (f *fakeQueues) set(queue string, e *delivery.QueueError) {
	f.mu.Lock()
	f.refuse[queue] = e
	f.mu.Unlock()
}

// in returns the messages queue received.
func (f *fakeQueues) in(queue string) []delivery.QueueMessage {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []delivery.QueueMessage
	for _, m := range f.got {
		if m.QueueARN == queue {
			out = append(out, m)
		}
	}
	return out
}

func (f *fakeQueues) sendsTo(queue string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.sends[queue]
}

const (
	qMain = "arn:aws:sqs:us-east-1:000000000000:main"
	qRaw  = "arn:aws:sqs:us-east-1:000000000000:raw"
	qDLQ  = "arn:aws:sqs:us-east-1:000000000000:dlq"
)

func (r *rig) subscribeQueue(t *testing.T, queue string, attrs map[string]string) string {
	t.Helper()
	res, err := r.svc.Subscribe(context.Background(), r.c, r.topic, "sqs", queue, attrs)
	if err != nil {
		t.Fatal(err)
	}
	if res.Pending {
		t.Fatal("a same-account sqs subscription is pending")
	}
	return res.ARN
}

// TestQueueEnvelopeAndRaw: an sqs subscription gets the notification JSON
// an HTTP subscriber gets (signed); a raw one gets the message with its
// attributes as SQS attributes (types kept, Binary decoded).
func TestQueueEnvelopeAndRaw(t *testing.T) {
	ctx := context.Background()
	q := newFakeQueues()
	r := newRigWith(t, nil, delivery.Options{Queues: q})
	sub := r.subscribeQueue(t, qMain, nil)
	rawSub := r.subscribeQueue(t, qRaw, map[string]string{"RawMessageDelivery": "true"})
	attrs := map[string]sns.MessageAttribute{
		"color": {DataType: "String", StringValue: "blue"},
		"n":     {DataType: "Number", StringValue: "42"},
		"bin":   {DataType: "Binary", BinaryValue: []byte{0, 1, 2, 255}},
		"list":  {DataType: "String.Array", StringValue: `["a","b"]`},
	}
	id := r.publish(t, `hello "queue" <&>`, attrs)
	if _, err := r.eng.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	env := q.in(qMain)
	if len(env) != 1 {
		t.Fatalf("%d messages in the envelope queue", len(env))
	}
	if env[0].TopicARN != r.topic || env[0].SubscriptionARN != sub || len(env[0].Attributes) != 0 {
		t.Fatalf("envelope message %+v", env[0])
	}
	var m map[string]any
	if err := json.Unmarshal(env[0].Body, &m); err != nil {
		t.Fatalf("envelope body %q: %v", env[0].Body, err)
	}
	if m["Type"] != "Notification" || m["MessageId"] != id || m["TopicArn"] != r.topic || m["Message"] != `hello "queue" <&>` ||
		!strings.Contains(m["UnsubscribeURL"].(string), "Action=Unsubscribe") || m["SigningCertURL"] == "" {
		t.Fatalf("envelope %v", m)
	}
	if a := m["MessageAttributes"].(map[string]any); a["n"].(map[string]any)["Type"] != "Number" || a["bin"].(map[string]any)["Value"] != "AAEC/w==" {
		t.Fatalf("envelope attributes %v", a)
	}
	verifySignature(t, r.signer, m)

	raw := q.in(qRaw)
	if len(raw) != 1 || string(raw[0].Body) != `hello "queue" <&>` || raw[0].SubscriptionARN != rawSub {
		t.Fatalf("raw messages %+v", raw)
	}
	want := map[string]delivery.QueueAttribute{
		"color": {DataType: "String", StringValue: "blue"},
		"n":     {DataType: "Number", StringValue: "42"},
		"list":  {DataType: "String.Array", StringValue: `["a","b"]`},
	}
	for k, w := range want {
		if g := raw[0].Attributes[k]; g.DataType != w.DataType || g.StringValue != w.StringValue {
			t.Fatalf("raw attribute %s = %+v, want %+v", k, g, w)
		}
	}
	if b := raw[0].Attributes["bin"]; b.DataType != "Binary" || string(b.BinaryValue) != "\x00\x01\x02\xff" {
		t.Fatalf("binary attribute %+v", b)
	}
	if st := r.eng.Stats(sub); st.Delivered != 1 || st.Failed != 0 {
		t.Fatalf("counters %+v", st)
	}
}

// TestQueueRawTooManyAttributes: more than 10 attributes with raw delivery
// is a client error (AWS): not sent, not retried; without raw delivery the
// attributes travel in the JSON and the message is sent.
func TestQueueRawTooManyAttributes(t *testing.T) {
	ctx := context.Background()
	q := newFakeQueues()
	r := newRigWith(t, nil, delivery.Options{Queues: q})
	rawSub := r.subscribeQueue(t, qRaw, map[string]string{"RawMessageDelivery": "true"})
	r.subscribeQueue(t, qMain, nil)
	attrs := map[string]sns.MessageAttribute{}
	for i := 0; i < 11; i++ {
		attrs[fmt.Sprintf("a%d", i)] = sns.MessageAttribute{DataType: "String", StringValue: "v"}
	}
	r.publish(t, "eleven", attrs)
	r.eng.Tick(ctx)
	if q.sendsTo(qRaw) != 0 || len(q.in(qMain)) != 1 {
		t.Fatalf("raw sends %d, envelope messages %d", q.sendsTo(qRaw), len(q.in(qMain)))
	}
	if st := r.eng.Stats(rawSub); st.Failed != 1 || st.DeadLettered != 1 || st.Retried != 0 {
		t.Fatalf("counters %+v", st)
	}
	if n, _ := r.svc.Store().PendingDeliveries(ctx, rawSub); n != 0 {
		t.Fatalf("%d deliveries left", n)
	}
	if !strings.Contains(r.logs.String(), "TooManyMessageAttributes") {
		t.Fatalf("not logged: %s", r.logs.String())
	}
}

// TestQueueFailureFollowsManagedRetry: a queue refusing (its policy does not
// allow the topic) gets the AWS-managed retry schedule (3 immediate
// retries, then 1 s...), every attempt counted as failed, one WARN line per
// kind of failure; the delivery resumes once the queue accepts.
func TestQueueFailureFollowsManagedRetry(t *testing.T) {
	ctx := context.Background()
	q := newFakeQueues()
	r := newRigWith(t, nil, delivery.Options{Queues: q})
	sub := r.subscribeQueue(t, qMain, nil)
	q.set(qMain, &delivery.QueueError{Code: "AccessDenied", Message: "Access to the resource is denied."})
	const secret = "body-marker-5b1e"
	r.publish(t, secret, nil)
	start := r.clock.Now()
	r.eng.Tick(ctx)
	// The first attempt and the 3 immediate retries.
	if n := q.sendsTo(qMain); n != 4 {
		t.Fatalf("%d sends at once, want 4 (1 + 3 immediate retries)", n)
	}
	// Then 2 retries at 1 s.
	r.clock.Set(start.Add(time.Second))
	r.eng.Tick(ctx)
	r.clock.Set(start.Add(2 * time.Second))
	r.eng.Tick(ctx)
	if n := q.sendsTo(qMain); n != 6 {
		t.Fatalf("%d sends after 2 s, want 6", n)
	}
	q.set(qMain, &delivery.QueueError{Code: "KmsAccessDenied", Message: "The ciphertext refers to a customer master key that does not exist."})
	r.clock.Set(start.Add(10 * time.Second))
	r.eng.Tick(ctx)
	st := r.eng.Stats(sub)
	if st.Failed != 7 || st.Retried != 7 || st.Delivered != 0 {
		t.Fatalf("counters %+v", st)
	}
	if f := r.eng.QueueFailures(); f["AccessDenied"] != 6 || f["KmsAccessDenied"] != 1 {
		t.Fatalf("queue failures %v", f)
	}
	logs := r.logs.String()
	if c := strings.Count(logs, "error_code=AccessDenied"); c != 1 {
		t.Fatalf("AccessDenied logged %d times, want once:\n%s", c, logs)
	}
	if !strings.Contains(logs, "error_code=KmsAccessDenied") || !strings.Contains(logs, "queue="+qMain) || strings.Contains(logs, secret) {
		t.Fatalf("logs:\n%s", logs)
	}
	// The queue is fixed: the next retry delivers.
	q.set(qMain, nil)
	for off := 10 * time.Second; off < 2*time.Minute && len(q.in(qMain)) == 0; off += time.Second {
		r.clock.Set(start.Add(off))
		r.eng.Tick(ctx)
	}
	if len(q.in(qMain)) != 1 || r.eng.Stats(sub).Delivered != 1 {
		t.Fatalf("not delivered after the fix: %+v", r.eng.Stats(sub))
	}
	if !strings.Contains(r.logs.String(), "delivery to SQS queue resumed") {
		t.Fatal("recovery not logged")
	}
}

// TestDeadLetterToQueue: an HTTP subscription whose endpoint always fails
// lands in its SQS dead-letter queue after its retry policy, as the
// notification it would have received, with RequestID, ErrorCode and
// ErrorMessage; counted as dead-lettered once it landed. A sealed message
// goes there opened (the queue seals it per its own settings), and every
// buffer is wiped.
func TestDeadLetterToQueue(t *testing.T) {
	for _, sealed := range []bool{false, true} {
		t.Run(fmt.Sprint("sealed=", sealed), func(t *testing.T) {
			ctx := context.Background()
			q := newFakeQueues()
			o := newTestOpener(t)
			r := newRigWith(t, nil, delivery.Options{Queues: q, Opener: o})
			ww := &wipeWatch{}
			r.eng.SetWipeHook(ww.hook)
			h := newHook(t, r.clock, func(int) int { return 503 })
			policy := `{"healthyRetryPolicy":{"minDelayTarget":1,"maxDelayTarget":1,"numRetries":2,"numNoDelayRetries":0,"numMinDelayRetries":2,"numMaxDelayRetries":0,"backoffFunction":"linear"}}`
			sub := r.subscribe(t, h, map[string]string{"DeliveryPolicy": policy,
				"RedrivePolicy": `{"deadLetterTargetArn":"` + qDLQ + `"}`})
			const body = "dlq-marker-9a"
			var id string
			if sealed {
				id, _ = r.publishSealed(t, o, body, "", nil, sub)
			} else {
				id = r.publish(t, body, nil)
			}
			// The DLQ refuses at first: retried 20 s later, the endpoint
			// is not tried again, nothing counted as dead-lettered.
			q.set(qDLQ, &delivery.QueueError{Code: "AccessDenied", Message: "denied"})
			start := r.clock.Now()
			for off := time.Duration(0); off <= 3*time.Second; off += time.Second {
				r.clock.Set(start.Add(off))
				r.eng.Tick(ctx)
			}
			if h.count() != 3 || q.sendsTo(qDLQ) != 1 {
				t.Fatalf("%d endpoint attempts, %d DLQ sends; want 3 and 1", h.count(), q.sendsTo(qDLQ))
			}
			if st := r.eng.Stats(sub); st.DeadLettered != 0 || st.Failed != 3 {
				t.Fatalf("counters before the DLQ took it %+v", st)
			}
			// Still refused twice more: retried every 20 s, logged once.
			for i := 1; i <= 2; i++ {
				r.clock.Set(start.Add(2*time.Second + time.Duration(i)*20*time.Second))
				r.eng.Tick(ctx)
			}
			if n := q.sendsTo(qDLQ); n != 3 {
				t.Fatalf("%d DLQ sends, want 3", n)
			}
			if c := strings.Count(r.logs.String(), "dead-letter send failed"); c != 1 {
				t.Fatalf("the DLQ failure was logged %d times, want once", c)
			}
			q.set(qDLQ, nil)
			r.clock.Set(start.Add(2*time.Second + 60*time.Second))
			r.eng.Tick(ctx)
			if h.count() != 3 {
				t.Fatalf("the endpoint was tried again during the dead-letter retry (%d attempts)", h.count())
			}
			got := q.in(qDLQ)
			if len(got) != 1 {
				t.Fatalf("%d messages in the DLQ", len(got))
			}
			var m map[string]any
			if err := json.Unmarshal(got[0].Body, &m); err != nil || m["Message"] != body || m["MessageId"] != id || m["Type"] != "Notification" {
				t.Fatalf("DLQ body %q (%v)", got[0].Body, err)
			}
			a := got[0].Attributes
			if a["ErrorCode"].StringValue != "HTTP503" || !strings.Contains(a["ErrorMessage"].StringValue, "503") || len(a["RequestID"].StringValue) != 36 || got[0].TopicARN != r.topic {
				t.Fatalf("DLQ attributes %+v", a)
			}
			if st := r.eng.Stats(sub); st.DeadLettered != 1 {
				t.Fatalf("counters %+v", st)
			}
			if n, _ := r.svc.Store().PendingDeliveries(ctx, sub); n != 0 {
				t.Fatalf("%d deliveries left", n)
			}
			if sealed {
				ww.check(t, 2)
			}
		})
	}
}

// TestDeadLetterRawWithAttributes: a raw queue subscription's dead letter
// is the raw message with its attributes plus AWS's three.
func TestDeadLetterRawWithAttributes(t *testing.T) {
	ctx := context.Background()
	q := newFakeQueues()
	r := newRigWith(t, nil, delivery.Options{Queues: q})
	sub := r.subscribeQueue(t, qRaw, map[string]string{"RawMessageDelivery": "true",
		"RedrivePolicy": `{"deadLetterTargetArn":"` + qDLQ + `"}`})
	q.set(qRaw, &delivery.QueueError{Code: "InvalidMessageContents", Message: "invalid characters", Permanent: true})
	r.publish(t, "raw-dlq", map[string]sns.MessageAttribute{"k": {DataType: "String", StringValue: "v"}})
	r.eng.Tick(ctx)
	got := q.in(qDLQ)
	if len(got) != 1 || string(got[0].Body) != "raw-dlq" {
		t.Fatalf("DLQ %+v", got)
	}
	a := got[0].Attributes
	if len(a) != 4 || a["k"].StringValue != "v" || a["ErrorCode"].StringValue != "InvalidMessageContents" {
		t.Fatalf("DLQ attributes %+v", a)
	}
	if st := r.eng.Stats(sub); st.Failed != 1 || st.DeadLettered != 1 || st.Retried != 0 {
		t.Fatalf("counters %+v", st)
	}
}

// TestCrossAccountQueueConfirmation: a subscription to another account's
// queue starts pending; the SubscriptionConfirmation goes into the queue;
// notifications flow once its reader confirmed with the token.
func TestCrossAccountQueueConfirmation(t *testing.T) {
	ctx := context.Background()
	q := newFakeQueues()
	r := newRigWith(t, nil, delivery.Options{Queues: q})
	const other = "arn:aws:sqs:us-east-1:111111111111:theirs"
	res, err := r.svc.Subscribe(ctx, r.c, r.topic, "sqs", other, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Pending {
		t.Fatal("a subscription to another account's queue is confirmed at once")
	}
	r.publish(t, "before-confirmation", nil)
	r.eng.Tick(ctx)
	got := q.in(other)
	if len(got) != 1 {
		t.Fatalf("%d messages in the queue, want the confirmation only", len(got))
	}
	var c map[string]string
	if err := json.Unmarshal(got[0].Body, &c); err != nil || c["Type"] != "SubscriptionConfirmation" || c["Token"] == "" ||
		!strings.Contains(c["SubscribeURL"], "Action=ConfirmSubscription") || c["TopicArn"] != r.topic {
		t.Fatalf("confirmation %q (%v)", got[0].Body, err)
	}
	reader := sns.Caller{Account: "111111111111", Region: "us-east-1", Principal: "arn:aws:iam::111111111111:root"}
	if _, err := r.svc.ConfirmSubscription(ctx, reader, r.topic, c["Token"], false); err != nil {
		t.Fatal(err)
	}
	r.publish(t, "after-confirmation", nil)
	r.eng.Tick(ctx)
	got = q.in(other)
	if len(got) != 2 || !strings.Contains(string(got[1].Body), "after-confirmation") {
		t.Fatalf("queue holds %d messages", len(got))
	}
}
