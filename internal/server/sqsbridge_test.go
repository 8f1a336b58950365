package server_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awskms "github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/sealpost/sealpost/internal/testserver"
)

// fanout is a server with SNS, SQS and KMS clients (HTTPS: SSE topics
// need TLS).
type fanout struct {
	srv *testserver.Server
	sns *sns.Client
	sqs *sqs.Client
	kms *awskms.Client
}

func newFanout(t *testing.T) *fanout { return newFanoutIn(t, "") }

// newFanoutIn is newFanout with the data dir dir ("" = a fresh one).
func newFanoutIn(t *testing.T, dir string) *fanout {
	t.Helper()
	srv := testserver.Start(t, testserver.Options{DataDir: dir})
	f := &fanout{srv: srv, sns: srv.SNSClient(t, srv.TLSURL(), "", "", ""),
		sqs: sqs.NewFromConfig(srv.AWSConfig(t, srv.TLSURL(), "", "", "")),
		kms: srv.KMSClient(t, srv.TLSURL(), "", "", "")}
	// Skip while internal/sqs is the issue skeleton's stub.
	ctx := context.Background()
	out, err := f.sqs.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("probe"), Attributes: map[string]string{"SqsManagedSseEnabled": "false"}})
	if err == nil {
		_, err = f.sqs.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: out.QueueUrl, MessageBody: aws.String("x")})
	}
	if isCode(err, "UnsupportedOperation") {
		t.Skip("internal/sqs or internal/sqsapi is the skeleton's stub here; this test runs once the SQS domain is merged: ", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// needQueueSSE skips while the server cannot seal queue bodies (queue SSE
// not wired yet: an encrypted queue refuses with KMS.OptInRequired).
func (f *fanout) needQueueSSE(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	out, err := f.sqs.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("probe-sse"), Attributes: map[string]string{"SqsManagedSseEnabled": "true"}})
	if err == nil {
		_, err = f.sqs.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: out.QueueUrl, MessageBody: aws.String("x")})
	}
	if isCode(err, "KMS.OptInRequired") || isCode(err, "KmsOptInRequired") {
		t.Skip("queue SSE is not wired into the server here; this test runs once it is merged: ", err)
	}
	if err != nil {
		t.Fatal(err)
	}
}

// queue creates a queue and returns its URL.
func (f *fanout) queue(t *testing.T, name string, attrs map[string]string) string {
	t.Helper()
	out, err := f.sqs.CreateQueue(context.Background(), &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: attrs})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.QueueUrl)
}

func queueARN(name string) string { return "arn:aws:sqs:us-east-1:000000000000:" + name }

// allowTopic is the queue policy AWS documents for SNS fan-out: the
// service principal may send, for this topic only.
func allowTopic(queue, topic string) string {
	return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"sns.amazonaws.com"},` +
		`"Action":"sqs:SendMessage","Resource":"` + queueARN(queue) + `","Condition":{"ArnEquals":{"aws:SourceArn":"` + topic + `"}}}]}`
}

func (f *fanout) topic(t *testing.T, name string, attrs map[string]string) string {
	t.Helper()
	out, err := f.sns.CreateTopic(context.Background(), &sns.CreateTopicInput{Name: aws.String(name), Attributes: attrs})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.TopicArn)
}

func (f *fanout) subscribe(t *testing.T, topic, queue string, attrs map[string]string) string {
	t.Helper()
	out, err := f.sns.Subscribe(context.Background(), &sns.SubscribeInput{TopicArn: aws.String(topic), Protocol: aws.String("sqs"),
		Endpoint: aws.String(queueARN(queue)), Attributes: attrs, ReturnSubscriptionArn: true})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.SubscriptionArn)
}

// receive long-polls url until it has n messages or wait passed, deleting
// what it received.
func (f *fanout) receive(t *testing.T, url string, n int, wait time.Duration) []sqstypes.Message {
	t.Helper()
	ctx := context.Background()
	var got []sqstypes.Message
	deadline := time.Now().Add(wait)
	for len(got) < n && time.Now().Before(deadline) {
		out, err := f.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 10,
			WaitTimeSeconds: 1, MessageAttributeNames: []string{"All"}})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range out.Messages {
			got = append(got, m)
			if _, err := f.sqs.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: m.ReceiptHandle}); err != nil {
				t.Fatal(err)
			}
		}
	}
	return got
}

// metric reads one sample of /metrics (0 when absent).
func (f *fanout) metric(t *testing.T, series string) float64 {
	t.Helper()
	resp, err := f.srv.HTTPClient(t).Get(f.srv.URL() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`).FindSubmatch(page)
	if m == nil {
		return 0
	}
	v, _ := strconv.ParseFloat(string(m[1]), 64)
	return v
}

// TestSNSToSQSFanout: one topic, four queues: the envelope queue gets the
// notification JSON, the raw one the message with its attributes as SQS
// attributes, the filtered one only what its filter policy accepts, and
// the queue whose policy does not allow the topic receives nothing while
// the failure shows in /metrics.
func TestSNSToSQSFanout(t *testing.T) {
	f := newFanout(t)
	ctx := context.Background()
	topic := f.topic(t, "fanout", nil)
	urls := map[string]string{}
	// Unencrypted queues (SSE-SQS is on by default; the encrypted case is
	// TestSSETopicIntoEncryptedQueues).
	for _, q := range []string{"env", "raw", "filtered"} {
		urls[q] = f.queue(t, q, map[string]string{"Policy": allowTopic(q, topic), "SqsManagedSseEnabled": "false"})
	}
	// A policy for another topic only.
	urls["closed"] = f.queue(t, "closed", map[string]string{"Policy": allowTopic("closed", topic+"-other"), "SqsManagedSseEnabled": "false"})
	f.subscribe(t, topic, "env", nil)
	f.subscribe(t, topic, "raw", map[string]string{"RawMessageDelivery": "true"})
	f.subscribe(t, topic, "filtered", map[string]string{"FilterPolicy": `{"color":["blue"]}`})
	closedSub := f.subscribe(t, topic, "closed", nil)
	failed0 := f.metric(t, `sealpost_sqs_delivery_failures_total{code="AccessDenied"}`)

	for _, color := range []string{"blue", "red"} {
		if _, err := f.sns.Publish(ctx, &sns.PublishInput{TopicArn: aws.String(topic), Message: aws.String("paint it " + color),
			Subject: aws.String("colors"), MessageAttributes: map[string]snstypes.MessageAttributeValue{
				"color": {DataType: aws.String("String"), StringValue: aws.String(color)},
				"n":     {DataType: aws.String("Number"), StringValue: aws.String("7")},
				"bin":   {DataType: aws.String("Binary"), BinaryValue: []byte{0, 255}}}}); err != nil {
			t.Fatal(err)
		}
	}

	env := f.receive(t, urls["env"], 2, 10*time.Second)
	if len(env) != 2 {
		t.Fatalf("envelope queue got %d messages", len(env))
	}
	for _, m := range env {
		var n map[string]any
		if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &n); err != nil {
			t.Fatalf("envelope body %q: %v", aws.ToString(m.Body), err)
		}
		if n["Type"] != "Notification" || n["TopicArn"] != topic || n["Subject"] != "colors" ||
			!strings.HasPrefix(n["Message"].(string), "paint it ") || n["Signature"] == "" || n["SignatureVersion"] != "1" ||
			!strings.Contains(n["UnsubscribeURL"].(string), "Action=Unsubscribe") {
			t.Fatalf("notification %v", n)
		}
		if a := n["MessageAttributes"].(map[string]any); a["bin"].(map[string]any)["Type"] != "Binary" {
			t.Fatalf("notification attributes %v", a)
		}
	}
	raw := f.receive(t, urls["raw"], 2, 10*time.Second)
	if len(raw) != 2 {
		t.Fatalf("raw queue got %d messages", len(raw))
	}
	for _, m := range raw {
		a := m.MessageAttributes
		if !strings.HasPrefix(aws.ToString(m.Body), "paint it ") || aws.ToString(a["n"].DataType) != "Number" ||
			aws.ToString(a["n"].StringValue) != "7" || string(a["bin"].BinaryValue) != "\x00\xff" ||
			aws.ToString(a["color"].StringValue) == "" {
			t.Fatalf("raw message %q attributes %+v", aws.ToString(m.Body), a)
		}
	}
	filtered := f.receive(t, urls["filtered"], 2, 3*time.Second)
	if len(filtered) != 1 || !strings.Contains(aws.ToString(filtered[0].Body), "paint it blue") {
		t.Fatalf("filtered queue got %d messages", len(filtered))
	}
	// The closed queue: nothing arrives, and the refusal is counted.
	deadline := time.Now().Add(10 * time.Second)
	for f.metric(t, `sealpost_sqs_delivery_failures_total{code="AccessDenied"}`) < failed0+2 {
		if time.Now().After(deadline) {
			t.Fatal("the refused deliveries were not counted in sealpost_sqs_delivery_failures_total")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if f.metric(t, `sealpost_deliveries_total{outcome="failed"}`) < 2 {
		t.Fatal("the refused deliveries are not counted as failed")
	}
	if got := f.receive(t, urls["closed"], 1, 2*time.Second); len(got) != 0 {
		t.Fatalf("the closed queue received %d messages", len(got))
	}
	if st := f.srv.Delivery().Stats(closedSub); st.Failed < 2 || st.Delivered != 0 {
		t.Fatalf("closed subscription counters %+v", st)
	}
}

// snsKeyPolicy lets the account administer the key and SNS use it (the
// statement AWS documents for SNS to encrypted queues).
const snsKeyPolicy = `{"Version":"2012-10-17","Statement":[` +
	`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:root"},"Action":"kms:*","Resource":"*"},` +
	`{"Effect":"Allow","Principal":{"Service":"sns.amazonaws.com"},"Action":["kms:GenerateDataKey*","kms:Decrypt"],"Resource":"*"}]}`

// TestSSETopicIntoEncryptedQueues: an SSE topic delivers into an SSE-SQS
// queue and into a queue under a customer key whose policy lets SNS use
// it; both consumers read the plaintext.
func TestSSETopicIntoEncryptedQueues(t *testing.T) {
	f := newFanout(t)
	f.needQueueSSE(t)
	ctx := context.Background()
	topicKey, err := f.kms.CreateKey(ctx, &awskms.CreateKeyInput{})
	if err != nil {
		t.Fatal(err)
	}
	queueKey, err := f.kms.CreateKey(ctx, &awskms.CreateKeyInput{Policy: aws.String(snsKeyPolicy)})
	if err != nil {
		t.Fatal(err)
	}
	topic := f.topic(t, "sealed", map[string]string{"KmsMasterKeyId": aws.ToString(topicKey.KeyMetadata.Arn)})
	managed := f.queue(t, "managed", map[string]string{"Policy": allowTopic("managed", topic), "SqsManagedSseEnabled": "true"})
	custom := f.queue(t, "custom", map[string]string{"Policy": allowTopic("custom", topic), "KmsMasterKeyId": aws.ToString(queueKey.KeyMetadata.Arn)})
	f.subscribe(t, topic, "managed", map[string]string{"RawMessageDelivery": "true"})
	f.subscribe(t, topic, "custom", nil)
	const secret = "sealed-end-to-end-4c2f"
	if _, err := f.sns.Publish(ctx, &sns.PublishInput{TopicArn: aws.String(topic), Message: aws.String(secret)}); err != nil {
		t.Fatal(err)
	}
	if got := f.receive(t, managed, 1, 10*time.Second); len(got) != 1 || aws.ToString(got[0].Body) != secret {
		t.Fatalf("SSE-SQS queue got %d messages", len(got))
	}
	got := f.receive(t, custom, 1, 10*time.Second)
	if len(got) != 1 {
		t.Fatalf("customer-key queue got %d messages (sqs failures %v)", len(got), f.srv.Delivery().QueueFailures())
	}
	var n map[string]any
	if err := json.Unmarshal([]byte(aws.ToString(got[0].Body)), &n); err != nil || n["Message"] != secret {
		t.Fatalf("customer-key queue body %q (%v)", aws.ToString(got[0].Body), err)
	}
}

// TestHTTPFailureLandsInSQSDLQ: an HTTP subscription of an SSE topic whose
// endpoint always fails lands in its dead-letter queue (plain, and SSE-SQS) after
// its retry policy, with AWS's attributes; the DLQ consumer reads the
// notification in plaintext; dead_lettered counts it once it landed.
func TestHTTPFailureLandsInSQSDLQ(t *testing.T) {
	for _, sse := range []string{"false", "true"} {
		t.Run("SqsManagedSseEnabled="+sse, func(t *testing.T) { httpFailureLandsInDLQ(t, sse) })
	}
}

func httpFailureLandsInDLQ(t *testing.T, sse string) {
	dir := t.TempDir()
	f := newFanoutIn(t, dir)
	if sse == "true" {
		f.needQueueSSE(t)
	}
	ctx := context.Background()
	key, err := f.kms.CreateKey(ctx, &awskms.CreateKeyInput{})
	if err != nil {
		t.Fatal(err)
	}
	topic := f.topic(t, "doomed", map[string]string{"KmsMasterKeyId": aws.ToString(key.KeyMetadata.Arn)})
	dlq := f.queue(t, "doomed-dlq", map[string]string{"Policy": allowTopic("doomed-dlq", topic), "SqsManagedSseEnabled": sse})
	var (
		mu       sync.Mutex
		token    string
		attempts int
	)
	ep := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m map[string]any
		json.NewDecoder(r.Body).Decode(&m)
		mu.Lock()
		defer mu.Unlock()
		if m["Type"] == "SubscriptionConfirmation" {
			token, _ = m["Token"].(string)
			return
		}
		attempts++
		w.WriteHeader(500)
	}))
	defer ep.Close()
	policy := `{"healthyRetryPolicy":{"minDelayTarget":1,"maxDelayTarget":1,"numRetries":2,"numNoDelayRetries":0,"numMinDelayRetries":2,"numMaxDelayRetries":0,"backoffFunction":"linear"}}`
	if _, err := f.sns.Subscribe(ctx, &sns.SubscribeInput{TopicArn: aws.String(topic), Protocol: aws.String("http"), Endpoint: aws.String(ep.URL + "/fail"),
		Attributes: map[string]string{"DeliveryPolicy": policy, "RedrivePolicy": `{"deadLetterTargetArn":"` + queueARN("doomed-dlq") + `"}`}}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		tok := token
		mu.Unlock()
		if tok != "" {
			if _, err := f.sns.ConfirmSubscription(ctx, &sns.ConfirmSubscriptionInput{TopicArn: aws.String(topic), Token: aws.String(tok)}); err != nil {
				t.Fatal(err)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no confirmation")
		}
		time.Sleep(10 * time.Millisecond)
	}
	before := f.metric(t, `sealpost_deliveries_total{outcome="dead_lettered"}`)
	const secret = "dead-letter-plaintext-8d3"
	pub, err := f.sns.Publish(ctx, &sns.PublishInput{TopicArn: aws.String(topic), Message: aws.String(secret)})
	if err != nil {
		t.Fatal(err)
	}
	got := f.receive(t, dlq, 1, 20*time.Second)
	if len(got) != 1 {
		t.Fatalf("DLQ got %d messages (sqs failures %v)", len(got), f.srv.Delivery().QueueFailures())
	}
	mu.Lock()
	if attempts != 3 {
		t.Errorf("%d attempts at the endpoint, want 3 (1 + numRetries 2)", attempts)
	}
	mu.Unlock()
	var n map[string]any
	if err := json.Unmarshal([]byte(aws.ToString(got[0].Body)), &n); err != nil || n["Message"] != secret || n["MessageId"] != aws.ToString(pub.MessageId) {
		t.Fatalf("DLQ body %q (%v)", aws.ToString(got[0].Body), err)
	}
	a := got[0].MessageAttributes
	if aws.ToString(a["ErrorCode"].StringValue) != "HTTP500" || aws.ToString(a["ErrorMessage"].StringValue) == "" || aws.ToString(a["RequestID"].StringValue) == "" {
		t.Fatalf("DLQ attributes %+v", a)
	}
	if v := f.metric(t, `sealpost_deliveries_total{outcome="dead_lettered"}`); v != before+1 {
		t.Fatalf("dead_lettered %v, want %v", v, before+1)
	}
	if sse == "true" && testserver.StoreKind() == "pebble" {
		// Topic and dead-letter queue both encrypted: no file of the data
		// dir (store, WAL, logs) holds the plaintext, raw or base64 (the
		// store encodes bodies as JSON).
		needles := plaintextNeedles(secret)
		filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return nil
			}
			b, _ := os.ReadFile(path)
			for _, n := range needles {
				if bytes.Contains(b, n) {
					t.Errorf("%s holds the plaintext (%q)", path, n)
				}
			}
			return nil
		})
	}
}

// TestSNSToSQSThroughput (SEALPOST_BENCH=1): 16 publishers send N 1 KiB
// messages over HTTPS to a topic with one raw sqs subscription (an
// unencrypted queue, or SSE-SQS when queue SSE is wired); reported: SNS→SQS
// messages per second from the first publish to the last message stored
// in the queue.
func TestSNSToSQSThroughput(t *testing.T) {
	if testing.Short() || !benchOn() {
		t.Skip("set SEALPOST_BENCH=1")
	}
	f := newFanout(t)
	ctx := context.Background()
	for _, sse := range []string{"false", "true"} {
		if sse == "true" {
			out, err := f.sqs.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("bench-probe"), Attributes: map[string]string{"SqsManagedSseEnabled": "true"}})
			if err == nil {
				_, err = f.sqs.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: out.QueueUrl, MessageBody: aws.String("x")})
			}
			if err != nil {
				t.Log("queue SSE not wired: SSE-SQS round skipped")
				continue
			}
		}
		name := "bench-sse-" + sse
		topic := f.topic(t, name, nil)
		f.queue(t, name, map[string]string{"Policy": allowTopic(name, topic), "SqsManagedSseEnabled": sse})
		sub := f.subscribe(t, topic, name, map[string]string{"RawMessageDelivery": "true"})
		const n, workers = 3000, 16
		body := strings.Repeat("x", 1024)
		start := time.Now()
		var wg sync.WaitGroup
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := w; i < n; i += workers {
					if _, err := f.sns.Publish(ctx, &sns.PublishInput{TopicArn: aws.String(topic), Message: aws.String(body)}); err != nil {
						t.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		pub := time.Since(start)
		for f.srv.Delivery().Stats(sub).Delivered < n {
			if time.Since(start) > 5*time.Minute {
				t.Fatalf("only %d of %d delivered", f.srv.Delivery().Stats(sub).Delivered, n)
			}
			time.Sleep(time.Millisecond)
		}
		el := time.Since(start)
		t.Logf("SqsManagedSseEnabled=%s: %d raw SNS→SQS messages in %v (publishing took %v): %.0f msgs/s end to end", sse, n, el.Round(time.Millisecond), pub.Round(time.Millisecond), n/el.Seconds())
	}
}

func benchOn() bool { return os.Getenv("SEALPOST_BENCH") != "" }

// plaintextNeedles is s and the parts of its base64 encoding that do not
// depend on the bytes around it, at each of the three alignments.
func plaintextNeedles(s string) [][]byte {
	out := [][]byte{[]byte(s)}
	for k := 0; k < 3; k++ {
		enc := base64.StdEncoding.EncodeToString(append(make([]byte, k), s...))
		from, to := (k+2)/3*4, (k+len(s))/3*4
		out = append(out, []byte(enc[from:to]))
	}
	return out
}
