package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// TestSQSPlaintextScan is the plaintext scan of the SSE issue
// (sse_scan_test.go) repeated with encrypted queues, and the SNS
// dead-letter flow end to end.
//
// Setup, over HTTPS: a customer key whose policy lets sns.amazonaws.com
// generate data keys and decrypt; an SSE topic under it with four
// subscriptions: an SSE-KMS queue (raw delivery), a queue with the default
// SSE-SQS (envelope), and an HTTP endpoint of this test that answers every
// notification 500, with a short DeliveryPolicy (one retry after 1 s) and a
// RedrivePolicy to an SSE-KMS dead-letter queue. Each queue's policy allows
// the topic (aws:SourceArn). A topic without SSE feeds a queue created
// with SqsManagedSseEnabled=false: the positive control.
//
// Phase 1 publishes markers (SQSBODY-<32 hex>, inside JSON bodies) to the
// SSE topic and sends markers straight to the two encrypted queues
// (SendMessage and SendMessageBatch), and control markers to the plain
// queue (directly and through the plain topic); some messages of the
// encrypted queues are received and left in flight (5 s). The server is
// SIGKILLed and restarted (same root key), phase 2 does the same again.
// Then every SNS marker must arrive in both encrypted queues and, after
// the HTTP endpoint's retries, in the dead-letter queue, which a consumer
// receives in plaintext with the message attributes SNS adds (ErrorCode,
// ErrorMessage, RequestID; a TopicArn, if any, names the topic).
//
// The server is stopped and the data dir (store, audit log, keys), the
// server's debug log and a logical scan of every stored record (pebble
// read-only, or every PostgreSQL table as text with the database's files
// after a CHECKPOINT when SEALPOST_TEST_STORE=postgres) are searched for
// every marker in every encoding the scanner knows. No marker of an
// encrypted queue may be found; every control marker must be found by the
// logical scan and at least one by the file scan.
func TestSQSPlaintextScan(t *testing.T) {
	ctx := context.Background()
	began := time.Now()
	postgres := os.Getenv("SEALPOST_TEST_STORE") == "postgres"
	dataDir := filepath.Join(t.TempDir(), "data")
	rootKey := rootKeyFile(t)
	extra := []string{"--root-key-file", rootKey}
	var dsn, pgDataDir string
	if postgres {
		dsn = databaseFor(t, dataDir)
		pgDataDir = postgresDataDir(t, dsn)
	} else {
		extra = append(extra, "--store", "pebble")
	}
	addr := freePort(t)
	p := start(t, addr, dataDir, extra...)
	logOnFailure(t, p)
	requireKMS(t, p)
	c := sseClients(p, p.tlsURL(), "test", "test")
	q := p.sqsClient(p.tlsURL())
	account := "000000000000"

	policy := fmt.Sprintf(`{"Version": "2012-10-17", "Statement": [
	  {"Sid": "owner", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::%s:root"}, "Action": "kms:*", "Resource": "*"},
	  {"Sid": "sns", "Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"}, "Action": ["kms:GenerateDataKey*", "kms:Decrypt"], "Resource": "*"}]}`, account)
	key, err := c.kms.CreateKey(ctx, &kms.CreateKeyInput{Description: aws.String("sqs plaintext scan"), Policy: aws.String(policy)})
	if err != nil {
		t.Fatal(err)
	}
	keyARN := aws.ToString(key.KeyMetadata.Arn)
	sseTopic := createTopic(t, c.sns, "sqsscan-sse", map[string]string{"KmsMasterKeyId": keyARN})
	plainTopic := createTopic(t, c.sns, "sqsscan-plain", nil)

	kmsQ := createQueue(t, q, "sqsscan-kms", map[string]string{"KmsMasterKeyId": keyARN}, sseTopic)
	sqsQ := createQueue(t, q, "sqsscan-sqs", nil, sseTopic)
	dlq := createQueue(t, q, "sqsscan-dlq", map[string]string{"KmsMasterKeyId": keyARN}, sseTopic)
	plainQ := createQueue(t, q, "sqsscan-plain", map[string]string{"SqsManagedSseEnabled": "false"}, plainTopic)
	if a := queueAttrs(t, q, sqsQ.url, "SqsManagedSseEnabled"); a["SqsManagedSseEnabled"] != "true" {
		t.Errorf("a new queue: SqsManagedSseEnabled = %q, want true (SSE-SQS by default)", a["SqsManagedSseEnabled"])
	}

	subscribe(t, c.sns, sseTopic, "sqs", kmsQ.arn, map[string]string{"RawMessageDelivery": "true"})
	subscribe(t, c.sns, sseTopic, "sqs", sqsQ.arn, nil)
	subscribe(t, c.sns, plainTopic, "sqs", plainQ.arn, map[string]string{"RawMessageDelivery": "true"})
	sink := newFailingSink(t)
	const retry = `{"healthyRetryPolicy": {"minDelayTarget": 1, "maxDelayTarget": 1, "numRetries": 1, "numNoDelayRetries": 0, "numMinDelayRetries": 0, "numMaxDelayRetries": 0, "backoffFunction": "linear"}}`
	httpSub := subscribe(t, c.sns, sseTopic, "http", sink.srv.URL+"/hook", map[string]string{
		"DeliveryPolicy": retry, "RedrivePolicy": fmt.Sprintf(`{"deadLetterTargetArn": %q}`, dlq.arn)})
	waitConfirmed(t, c.sns, &httpSub)

	var m sqsScanMarkers
	phase := func(n int) {
		t.Helper()
		cl := sseClients(p, p.tlsURL(), "test", "test")
		qc := p.sqsClient(p.tlsURL())
		for i := 0; i < sqsScanBatches; i++ {
			bodies, markers := sqsScanBodies(t, "SQSBODY", 10)
			m.sns = append(m.sns, markers...)
			m.snsBodies = append(m.snsBodies, bodies...)
			publishBatch(t, cl.sns, sseTopic, bodies)
			for _, qu := range []sqsQueue{kmsQ, sqsQ} {
				bodies, markers := sqsScanBodies(t, "SQSBODY", 10)
				m.direct = append(m.direct, markers...)
				sendBatch(t, qc, qu.url, bodies)
				body, marker := sqsScanBodies(t, "SQSBODY", 1)
				m.direct = append(m.direct, marker...)
				if _, err := qc.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(qu.url), MessageBody: aws.String(body[0])}); err != nil {
					t.Fatalf("SendMessage to %s: %v", qu.url, err)
				}
			}
			bodies, markers = sqsScanBodies(t, "PLAINBODY", 10)
			m.plain = append(m.plain, markers...)
			sendBatch(t, qc, plainQ.url, bodies)
			bodies, markers = sqsScanBodies(t, "PLAINBODY", 10)
			m.plain = append(m.plain, markers...)
			publishBatch(t, cl.sns, plainTopic, bodies)
		}
		// Some messages are in flight (received, not deleted) at the
		// SIGKILL; they come back after 5 s.
		for _, qu := range []sqsQueue{kmsQ, sqsQ} {
			out, err := qc.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(qu.url), MaxNumberOfMessages: 5, VisibilityTimeout: 5})
			if err != nil || len(out.Messages) == 0 {
				t.Fatalf("phase %d: ReceiveMessage from %s: %d messages, %v", n, qu.url, len(out.Messages), err)
			}
		}
	}
	phase(1)
	p.kill()
	p = start(t, addr, dataDir, extra...)
	logOnFailure(t, p)
	phase(2)
	t.Logf("published %d markers to the SSE topic, sent %d straight to the encrypted queues, %d control markers (%.1fs)",
		len(m.sns), len(m.direct), len(m.plain), time.Since(began).Seconds())

	// Every SNS marker reaches both encrypted queues (the kms queue raw,
	// the other in envelopes) and, after the retries, the dead-letter
	// queue; the queues also hold the direct markers (some in flight).
	qc := p.sqsClient(p.tlsURL())
	wantSNS := map[string]bool{}
	for _, b := range m.snsBodies {
		wantSNS[b] = true
	}
	drainUntil(t, qc, kmsQ.url, "the SSE-KMS queue (raw)", wantSNS, func(msg sqstypes.Message) string { return aws.ToString(msg.Body) })
	drainUntil(t, qc, sqsQ.url, "the SSE-SQS queue (envelope)", wantSNS, envelopeMessage(t, false))
	var dlqAttrs map[string]sqstypes.MessageAttributeValue
	drainUntil(t, qc, dlq.url, "the dead-letter queue", wantSNS, func(msg sqstypes.Message) string {
		dlqAttrs = msg.MessageAttributes
		return envelopeMessage(t, true)(msg)
	})
	var names []string
	for k := range dlqAttrs {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range []string{"ErrorCode", "ErrorMessage", "RequestID"} {
		if _, ok := dlqAttrs[k]; !ok {
			t.Errorf("a dead-lettered message lacks the message attribute %s (has %v)", k, names)
		}
	}
	if v := dlqAttrs["TopicArn"].StringValue; v != nil && *v != sseTopic {
		t.Errorf("dead-lettered message: TopicArn = %q, want %q", *v, sseTopic)
	}
	if n := sink.hits.Load(); n < int64(2*len(m.sns)) {
		t.Errorf("the failing endpoint was tried %d times for %d messages: want at least 2 attempts each (one retry)", n, len(m.sns))
	}
	if !sink.saw(m.snsBodies[len(m.snsBodies)-1]) {
		t.Error("the failing endpoint never saw the last message in plaintext: delivery did not open it")
	}
	t.Logf("dead-letter attributes %v; %d attempts at the failing endpoint", names, sink.hits.Load())
	p.stop(t)
	if pgDataDir != "" {
		pgCheckpoint(t, dsn)
	}

	// The scan.
	var secrets []secret
	kind := map[string]string{}
	add := func(k string, values []string) {
		for _, v := range values {
			label := k + " " + v
			kind[label] = k
			secrets = append(secrets, secret{label, []byte(v)})
		}
	}
	add("encrypted", m.sns)
	add("encrypted", m.direct)
	add("plain", m.plain)
	sc, err := newScanner(secrets)
	if err != nil {
		t.Fatal(err)
	}
	count := func(hits []scanHit, where string) (plain int) {
		t.Helper()
		seen, bad := map[string]bool{}, map[string]bool{}
		for _, h := range hits {
			switch kind[h.label] {
			case "encrypted":
				if len(bad) < 10 && !bad[h.label] {
					t.Errorf("plaintext of a message of an encrypted queue found: %s", h)
				}
				bad[h.label] = true
			case "plain":
				seen[h.label] = true
			}
		}
		t.Logf("%s: %d encrypted-queue markers (want 0), %d of %d control markers", where, len(bad), len(seen), len(m.plain))
		return len(seen)
	}
	storeFiles := 0
	logical := scanAtRest(t, sc, dataDir, p.logFile, pgDataDir, dsn, func(hits []scanHit, where string, store bool) {
		n := count(hits, where)
		if store {
			storeFiles = n
		}
	})
	if n := count(logical, "logical scan of the store"); n != len(m.plain) {
		t.Errorf("positive control: the logical scan found %d of %d markers of the queue without encryption", n, len(m.plain))
	}
	if storeFiles == 0 {
		t.Error("positive control: no marker of the queue without encryption in the store's files: the file scan does not see the store")
	}
	t.Logf("%s: %.1fs in all", map[bool]string{false: "embedded", true: "postgres"}[postgres], time.Since(began).Seconds())
}

// sqsScanBatches is the number of rounds per phase; each round publishes
// 10 markers to the SSE topic, sends 22 straight to the encrypted queues
// and 20 control markers.
const sqsScanBatches = 3

type sqsScanMarkers struct {
	sns, snsBodies, direct, plain []string
}

// sqsScanBodies returns n JSON bodies, each holding one new marker, and the
// markers.
func sqsScanBodies(t *testing.T, prefix string, n int) (bodies, markers []string) {
	for i := 0; i < n; i++ {
		mk := sseMarker(t, prefix)
		bodies = append(bodies, fmt.Sprintf(`{"ref": "%s", "note": "<b>fragile</b> & \"dry\""}`, mk))
		markers = append(markers, mk)
	}
	return bodies, markers
}

// sqsQueue is a queue's URL and ARN.
type sqsQueue struct{ url, arn string }

// sqsClient is an aws-sdk-go-v2 SQS client for p at endpoint (trusting p's
// CA), without retries.
func (p *proc) sqsClient(endpoint string) *sqs.Client {
	return sqs.NewFromConfig(aws.Config{
		Region:           "us-east-1",
		Credentials:      credentials.NewStaticCredentialsProvider("test", "test", ""),
		HTTPClient:       sseHTTPClient(p),
		BaseEndpoint:     aws.String(endpoint),
		RetryMaxAttempts: 1,
	})
}

func createTopic(t *testing.T, c *sns.Client, name string, attrs map[string]string) string {
	t.Helper()
	out, err := c.CreateTopic(context.Background(), &sns.CreateTopicInput{Name: aws.String(name), Attributes: attrs})
	if err != nil {
		t.Fatalf("CreateTopic %s: %v", name, err)
	}
	return aws.ToString(out.TopicArn)
}

// createQueue creates a queue with attrs and a policy that lets topicARN
// (through SNS) send to it.
func createQueue(t *testing.T, q *sqs.Client, name string, attrs map[string]string, topicARN string) sqsQueue {
	t.Helper()
	ctx := context.Background()
	out, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: attrs})
	if err != nil {
		t.Fatalf("CreateQueue %s: %v", name, err)
	}
	qu := sqsQueue{url: aws.ToString(out.QueueUrl)}
	qu.arn = queueAttrs(t, q, qu.url, "QueueArn")["QueueArn"]
	if topicARN != "" {
		pol, _ := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": []any{map[string]any{
			"Sid": "topic", "Effect": "Allow", "Principal": map[string]string{"Service": "sns.amazonaws.com"},
			"Action": "sqs:SendMessage", "Resource": qu.arn,
			"Condition": map[string]any{"ArnEquals": map[string]string{"aws:SourceArn": topicARN}}}}})
		if _, err := q.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: out.QueueUrl,
			Attributes: map[string]string{"Policy": string(pol)}}); err != nil {
			t.Fatalf("SetQueueAttributes Policy on %s: %v", name, err)
		}
	}
	return qu
}

func queueAttrs(t *testing.T, q *sqs.Client, url string, names ...string) map[string]string {
	t.Helper()
	var an []sqstypes.QueueAttributeName
	for _, n := range names {
		an = append(an, sqstypes.QueueAttributeName(n))
	}
	out, err := q.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url), AttributeNames: an})
	if err != nil {
		t.Fatalf("GetQueueAttributes %s: %v", url, err)
	}
	return out.Attributes
}

func subscribe(t *testing.T, c *sns.Client, topic, protocol, endpoint string, attrs map[string]string) string {
	t.Helper()
	out, err := c.Subscribe(context.Background(), &sns.SubscribeInput{TopicArn: aws.String(topic), Protocol: aws.String(protocol),
		Endpoint: aws.String(endpoint), Attributes: attrs, ReturnSubscriptionArn: true})
	if err != nil {
		t.Fatalf("Subscribe %s %s: %v", protocol, endpoint, err)
	}
	return aws.ToString(out.SubscriptionArn)
}

func publishBatch(t *testing.T, c *sns.Client, topic string, bodies []string) {
	t.Helper()
	var entries []snstypes.PublishBatchRequestEntry
	for i, b := range bodies {
		entries = append(entries, snstypes.PublishBatchRequestEntry{Id: aws.String(fmt.Sprint(i)), Message: aws.String(b)})
	}
	out, err := c.PublishBatch(context.Background(), &sns.PublishBatchInput{TopicArn: aws.String(topic), PublishBatchRequestEntries: entries})
	if err == nil && len(out.Failed) > 0 {
		err = fmt.Errorf("entry %s: %s", aws.ToString(out.Failed[0].Id), aws.ToString(out.Failed[0].Message))
	}
	if err != nil {
		t.Fatalf("PublishBatch to %s: %v", topic, err)
	}
}

func sendBatch(t *testing.T, q *sqs.Client, url string, bodies []string) {
	t.Helper()
	var entries []sqstypes.SendMessageBatchRequestEntry
	for i, b := range bodies {
		entries = append(entries, sqstypes.SendMessageBatchRequestEntry{Id: aws.String(fmt.Sprint(i)), MessageBody: aws.String(b)})
	}
	out, err := q.SendMessageBatch(context.Background(), &sqs.SendMessageBatchInput{QueueUrl: aws.String(url), Entries: entries})
	if err == nil && len(out.Failed) > 0 {
		err = fmt.Errorf("entry %s: %s %s", aws.ToString(out.Failed[0].Id), aws.ToString(out.Failed[0].Code), aws.ToString(out.Failed[0].Message))
	}
	if err != nil {
		t.Fatalf("SendMessageBatch to %s: %v", url, err)
	}
}

// envelopeMessage returns the Message of an SNS envelope body; a body that
// is not one is returned as is (a message sent straight to the queue), or
// fails the test when only envelopes may arrive.
func envelopeMessage(t *testing.T, only bool) func(sqstypes.Message) string {
	return func(msg sqstypes.Message) string {
		var env struct{ Type, Message, TopicArn string }
		if err := json.Unmarshal([]byte(aws.ToString(msg.Body)), &env); err != nil || env.Type != "Notification" {
			if only {
				t.Errorf("not an SNS envelope (%v): %.200s", err, aws.ToString(msg.Body))
			}
			return aws.ToString(msg.Body)
		}
		return env.Message
	}
}

// drainUntil receives (long polling) and deletes messages of url until
// every body in want was seen, through text (what a message carries);
// messages not in want are deleted too. It fails after 60 s.
func drainUntil(t *testing.T, q *sqs.Client, url, what string, want map[string]bool, text func(sqstypes.Message) string) {
	t.Helper()
	ctx := context.Background()
	missing := map[string]bool{}
	for b := range want {
		missing[b] = true
	}
	deadline := time.Now().Add(60 * time.Second)
	for len(missing) > 0 {
		if time.Now().After(deadline) {
			var one string
			for b := range missing {
				one = b
				break
			}
			t.Fatalf("%s: %d of %d messages never arrived (one: %s)", what, len(missing), len(want), one)
		}
		out, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 10, WaitTimeSeconds: 1,
			MessageAttributeNames: []string{"All"}})
		if err != nil {
			t.Fatalf("%s: ReceiveMessage: %v", what, err)
		}
		var del []sqstypes.DeleteMessageBatchRequestEntry
		for i, msg := range out.Messages {
			delete(missing, text(msg))
			del = append(del, sqstypes.DeleteMessageBatchRequestEntry{Id: aws.String(fmt.Sprint(i)), ReceiptHandle: msg.ReceiptHandle})
		}
		if len(del) > 0 {
			if _, err := q.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(url), Entries: del}); err != nil {
				t.Fatalf("%s: DeleteMessageBatch: %v", what, err)
			}
		}
	}
}
