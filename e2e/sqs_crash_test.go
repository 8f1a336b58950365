package e2e

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"math/rand"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// crashSQSClient is an aws-sdk-go-v2 SQS client for p (no SDK retries:
// every failure is seen).
func crashSQSClient(p *proc) *sqs.Client {
	pool := x509.NewCertPool()
	if pem, err := os.ReadFile(p.caFile()); err == nil {
		pool.AppendCertsFromPEM(pem)
	}
	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool}, MaxIdleConnsPerHost: 64}}
	return sqs.NewFromConfig(aws.Config{
		Region:           "us-east-1",
		Credentials:      credentials.NewStaticCredentialsProvider("test", "test", ""),
		HTTPClient:       hc,
		BaseEndpoint:     aws.String(p.url()),
		RetryMaxAttempts: 1,
	})
}

// sqsLedger records what producers got acknowledged and what consumers
// received, by body (every body is unique).
type sqsLedger struct {
	mu       sync.Mutex
	acked    []string
	received map[string]int
	bad      []string // received bodies nobody sent (corruption)
	sent     map[string]bool
}

func (l *sqsLedger) attempt(body string) {
	l.mu.Lock()
	l.sent[body] = true
	l.mu.Unlock()
}

func (l *sqsLedger) ack(bodies ...string) {
	l.mu.Lock()
	l.acked = append(l.acked, bodies...)
	l.mu.Unlock()
}

func (l *sqsLedger) got(body string) {
	l.mu.Lock()
	if !l.sent[body] {
		l.bad = append(l.bad, body)
	}
	l.received[body]++
	l.mu.Unlock()
}

// missing counts acknowledged bodies never received.
func (l *sqsLedger) missing() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, b := range l.acked {
		if l.received[b] == 0 {
			n++
		}
	}
	return n
}

// sqsLoad runs producers and consumers against one queue until stop.
type sqsLoad struct {
	stop chan struct{}
	wg   sync.WaitGroup
}

// startSQSLoad starts producers (even ones SendMessage, odd ones
// SendMessageBatch of 5) and consumers (ReceiveMessage with long polling,
// then DeleteMessageBatch). A producer ends at its first error (the server
// is gone); a consumer keeps trying until stop, so it also drains.
func startSQSLoad(c *sqs.Client, queueURL string, l *sqsLedger, producers, consumers int, tag string) *sqsLoad {
	ld := &sqsLoad{stop: make(chan struct{})}
	stopped := func() bool {
		select {
		case <-ld.stop:
			return true
		default:
			return false
		}
	}
	ctx := context.Background()
	for w := 0; w < producers; w++ {
		ld.wg.Add(1)
		go func(w int) {
			defer ld.wg.Done()
			for i := 0; !stopped(); i++ {
				if w%2 == 0 {
					body := fmt.Sprintf("%s-p%d-%d", tag, w, i)
					l.attempt(body)
					if _, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &queueURL, MessageBody: &body}); err != nil {
						return
					}
					l.ack(body)
					continue
				}
				var entries []sqstypes.SendMessageBatchRequestEntry
				bodies := map[string]string{}
				for j := 0; j < 5; j++ {
					id, body := fmt.Sprint("e", j), fmt.Sprintf("%s-p%d-%d-%d", tag, w, i, j)
					l.attempt(body)
					bodies[id] = body
					entries = append(entries, sqstypes.SendMessageBatchRequestEntry{Id: aws.String(id), MessageBody: aws.String(body)})
				}
				out, err := c.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: &queueURL, Entries: entries})
				if err != nil {
					return
				}
				for _, ok := range out.Successful {
					l.ack(bodies[aws.ToString(ok.Id)])
				}
				if len(out.Failed) > 0 {
					return
				}
			}
		}(w)
	}
	for w := 0; w < consumers; w++ {
		ld.wg.Add(1)
		go func() {
			defer ld.wg.Done()
			for !stopped() {
				out, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &queueURL,
					MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
				if err != nil {
					time.Sleep(20 * time.Millisecond) // the server is down: try again
					continue
				}
				var del []sqstypes.DeleteMessageBatchRequestEntry
				for i, m := range out.Messages {
					l.got(aws.ToString(m.Body))
					del = append(del, sqstypes.DeleteMessageBatchRequestEntry{Id: aws.String(fmt.Sprint(i)), ReceiptHandle: m.ReceiptHandle})
				}
				if len(del) > 0 {
					// A failed delete only means the message comes back.
					c.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: &queueURL, Entries: del})
				}
			}
		}()
	}
	return ld
}

// crashQueue creates the test's queue with the default SSE (SSE-SQS: every
// body sealed at rest) and checks that it is on. A short visibility
// timeout brings messages received but not deleted before a kill back
// within the test.
func crashQueue(t *testing.T, c *sqs.Client) string {
	ctx := context.Background()
	out, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("crashloop"),
		Attributes: map[string]string{"VisibilityTimeout": "3"}})
	if err != nil {
		t.Fatal(err)
	}
	a, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: out.QueueUrl,
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameSqsManagedSseEnabled}})
	if err != nil {
		t.Fatal(err)
	}
	if a.Attributes["SqsManagedSseEnabled"] != "true" {
		t.Fatalf("the default queue is not SSE-SQS: %v", a.Attributes)
	}
	return aws.ToString(out.QueueUrl)
}

func (ld *sqsLoad) Stop() {
	close(ld.stop)
	ld.wg.Wait()
}

// TestSQSCrashLoopLosesNoAcknowledgedMessage sends to an SQS queue (SSE-SQS,
// the default) from producers using SendMessage and SendMessageBatch while
// consumers receive with long polling and delete, SIGKILLs the server at
// random moments ten times, restarting it each time, and checks that every
// message whose send was acknowledged is received at least once, with the
// body it was sent with.
func TestSQSCrashLoopLosesNoAcknowledgedMessage(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	addr := freePort(t)
	rng := rand.New(rand.NewSource(time.Now().UnixNano()))
	l := &sqsLedger{received: map[string]int{}, sent: map[string]bool{}}
	var queueURL string
	const rounds = 10
	for round := 0; round < rounds; round++ {
		p := start(t, addr, dir)
		c := crashSQSClient(p)
		if queueURL == "" {
			queueURL = crashQueue(t, c)
		}
		ld := startSQSLoad(c, queueURL, l, 4, 2, fmt.Sprint("r", round))
		time.Sleep(time.Duration(300+rng.Intn(500)) * time.Millisecond)
		p.kill()
		ld.Stop()
	}
	// A final, clean run drains what is left (in-flight messages come back
	// after the visibility timeout).
	p := start(t, addr, dir)
	c := crashSQSClient(p)
	ld := startSQSLoad(c, queueURL, l, 0, 4, "drain")
	deadline := time.Now().Add(30 * time.Second)
	for l.missing() > 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	ld.Stop()
	p.stop(t)
	lost := l.missing()
	l.mu.Lock()
	dups := 0
	for _, n := range l.received {
		dups += n - 1
	}
	acked, bad := len(l.acked), l.bad
	l.mu.Unlock()
	t.Logf("sqs crash loop: %d SIGKILLs, %d acknowledged sends, lost %d, received more than once %d", rounds, acked, lost, dups)
	if len(bad) > 0 {
		t.Fatalf("received %d bodies that were never sent, e.g. %q", len(bad), bad[0])
	}
	if lost > 0 {
		t.Fatalf("%d acknowledged messages never received", lost)
	}
	if acked < 100 {
		t.Fatalf("only %d sends acknowledged: too little load to mean anything", acked)
	}
}
