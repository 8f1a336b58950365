// Command sqsbench measures an SQS-compatible endpoint (Sealpost,
// moto_server) with aws-sdk-go-v2, one scenario after another, each on
// fresh queues (and a topic) it creates:
//
//   - send: -concurrency closed-loop workers call SendMessage with a
//     -size-byte body for -duration after a -warmup; messages/s and the
//     latency of the call.
//   - recv: the queue is first filled with -prefill messages
//     (SendMessageBatch), then workers ReceiveMessage (up to 10, no wait)
//     and DeleteMessageBatch what they got; messages received and deleted
//     per second. If the queue runs dry the phase ends there, and the rate
//     is over the time until then.
//   - fanout: a topic with one sqs subscription (RawMessageDelivery) to a
//     queue whose policy allows the topic; workers Publish for -duration,
//     then the queue is watched (ApproximateNumberOfMessages) until every
//     published message landed; messages landed per second = published /
//     time from the first publish to the last landing.
//   - latency: -consumers long-poll (WaitTimeSeconds 20) and delete; one
//     producer publishes to a topic with a raw sqs subscription (-via sns)
//     or sends to the queue (-via sqs) at -rate msgs/s for -duration; the
//     time from just before the call to the receive, p50/p90/p99/max.
//
// -queue-attrs adds attributes to every queue it creates (e.g.
// SqsManagedSseEnabled=false). Every failed call is an error (the SDK does
// not retry). With -json it prints one JSON line with every figure.
//
//	go run ./cmd/sqsbench -endpoint https://127.0.0.1:9911 -ca sealpost-data/tls/ca.pem
//	go run ./cmd/sqsbench -endpoint http://127.0.0.1:5000 -scenarios send,recv -duration 5s
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"
)

type options struct {
	endpoint, ca, region, accessKey, secretKey string
	scenarios                                  []string
	queueAttrs                                 map[string]string
	concurrency, consumers, size, prefill      int
	rate                                       float64
	via                                        string
	duration, warmup, drain                    time.Duration
	json                                       bool
}

// result is one scenario's figures (zero fields are omitted).
type result struct {
	Scenario    string         `json:"scenario"`
	Calls       int64          `json:"calls,omitempty"`
	Messages    int64          `json:"messages"`
	Seconds     float64        `json:"seconds"`
	MsgsPerSec  float64        `json:"msgs_per_sec"`
	Published   int64          `json:"published,omitempty"`
	PublishRate float64        `json:"publish_per_sec,omitempty"`
	P50         float64        `json:"p50_ms"`
	P90         float64        `json:"p90_ms"`
	P99         float64        `json:"p99_ms"`
	Max         float64        `json:"max_ms"`
	Errors      int64          `json:"errors"`
	ErrorCodes  map[string]int `json:"error_codes,omitempty"`
	Lost        int64          `json:"lost,omitempty"`
	Duplicates  int64          `json:"duplicates,omitempty"`
	RanDry      bool           `json:"ran_dry,omitempty"`
	Prefill     int            `json:"prefill,omitempty"`
	LatencyOf   string         `json:"latency_of,omitempty"`
	Note        string         `json:"note,omitempty"`
}

func main() {
	var o options
	var scen, attrs string
	flag.StringVar(&o.endpoint, "endpoint", "https://127.0.0.1:9911", "SQS/SNS endpoint URL")
	flag.StringVar(&o.ca, "ca", "", "PEM CA bundle to trust for an https endpoint (Sealpost: <data-dir>/tls/ca.pem)")
	flag.StringVar(&o.region, "region", "us-east-1", "region to sign for")
	flag.StringVar(&o.accessKey, "access-key", "test", "access key id")
	flag.StringVar(&o.secretKey, "secret-key", "test", "secret access key")
	flag.StringVar(&scen, "scenarios", "send,recv,fanout,latency", "scenarios to run, in order: send, recv, fanout, latency")
	flag.StringVar(&attrs, "queue-attrs", "", "extra attributes of every queue created, k=v,k=v (e.g. SqsManagedSseEnabled=false)")
	flag.IntVar(&o.concurrency, "concurrency", 16, "closed-loop workers (send, recv, fanout)")
	flag.IntVar(&o.consumers, "consumers", 4, "long-polling consumers (latency)")
	flag.IntVar(&o.size, "size", 1024, "message body bytes")
	flag.IntVar(&o.prefill, "prefill", 50000, "messages sent before the recv phase")
	flag.Float64Var(&o.rate, "rate", 100, "messages per second the latency producer sends")
	flag.StringVar(&o.via, "via", "sns", "latency: sns (Publish to a topic, raw delivery to the queue) or sqs (SendMessage)")
	flag.DurationVar(&o.duration, "duration", 10*time.Second, "measured time per scenario")
	flag.DurationVar(&o.warmup, "warmup", 2*time.Second, "uncounted time before the send and recv phases")
	flag.DurationVar(&o.drain, "drain", 60*time.Second, "how long fanout and latency wait for the last messages")
	flag.BoolVar(&o.json, "json", false, "also print one JSON line with every figure")
	flag.Parse()
	o.scenarios = strings.Split(scen, ",")
	o.queueAttrs = map[string]string{}
	for _, kv := range strings.Split(attrs, ",") {
		if kv == "" {
			continue
		}
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			fail("-queue-attrs: %q is not k=v", kv)
		}
		o.queueAttrs[k] = v
	}
	if o.via != "sns" && o.via != "sqs" {
		fail("-via must be sns or sqs")
	}
	b, err := newBench(o)
	if err != nil {
		fail("%v", err)
	}
	var out []result
	for _, s := range o.scenarios {
		var r result
		var err error
		switch s {
		case "send":
			r, err = b.send()
		case "recv":
			r, err = b.recv()
		case "fanout":
			r, err = b.fanout()
		case "latency":
			r, err = b.latency()
		default:
			fail("unknown scenario %q (want send, recv, fanout, latency)", s)
		}
		if err != nil {
			fail("%s: setup: %v", s, err)
		}
		r.Scenario = s
		printResult(r)
		out = append(out, r)
	}
	if o.json {
		line, _ := json.Marshal(map[string]any{"endpoint": o.endpoint, "queue_attrs": o.queueAttrs, "size": o.size,
			"concurrency": o.concurrency, "results": out})
		fmt.Println(string(line))
	}
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "sqsbench: "+format+"\n", args...)
	os.Exit(1)
}

type bench struct {
	o    options
	sqs  *sqs.Client
	sns  *sns.Client
	body string
	run  string // suffix of this run's resource names
}

func newBench(o options) (*bench, error) {
	tlsCfg := &tls.Config{}
	if o.ca != "" {
		pem, err := os.ReadFile(o.ca)
		if err != nil {
			return nil, err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s: no PEM certificate", o.ca)
		}
		tlsCfg.RootCAs = pool
	}
	n := max(o.concurrency, o.consumers) * 2
	hc := &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{
		TLSClientConfig: tlsCfg, MaxIdleConns: n, MaxIdleConnsPerHost: n,
		DialContext: (&net.Dialer{Timeout: 5 * time.Second}).DialContext}}
	cfg := aws.Config{
		Region:           o.region,
		Credentials:      credentials.NewStaticCredentialsProvider(o.accessKey, o.secretKey, ""),
		HTTPClient:       hc,
		BaseEndpoint:     aws.String(o.endpoint),
		RetryMaxAttempts: 1,
	}
	return &bench{o: o, sqs: sqs.NewFromConfig(cfg), sns: sns.NewFromConfig(cfg),
		body: strings.Repeat("x", o.size), run: strconv.FormatInt(time.Now().UnixNano()%1e9, 36)}, nil
}

// queue creates a queue named sqsbench-<what>-<run> with the extra
// attributes and returns its URL and ARN.
func (b *bench) queue(ctx context.Context, what string, attrs map[string]string) (string, string, error) {
	all := map[string]string{}
	for k, v := range b.o.queueAttrs {
		all[k] = v
	}
	for k, v := range attrs {
		all[k] = v
	}
	out, err := b.sqs.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("sqsbench-" + what + "-" + b.run), Attributes: all})
	if err != nil {
		return "", "", fmt.Errorf("CreateQueue: %w", err)
	}
	a, err := b.sqs.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: out.QueueUrl,
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		return "", "", fmt.Errorf("GetQueueAttributes: %w", err)
	}
	return aws.ToString(out.QueueUrl), a.Attributes["QueueArn"], nil
}

// topicToQueue creates a topic and a queue (with a policy allowing the
// topic) and subscribes the queue with RawMessageDelivery.
func (b *bench) topicToQueue(ctx context.Context, what string) (topicARN, queueURL, queueARN string, err error) {
	t, err := b.sns.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("sqsbench-" + what + "-" + b.run)})
	if err != nil {
		return "", "", "", fmt.Errorf("CreateTopic: %w", err)
	}
	topicARN = aws.ToString(t.TopicArn)
	queueURL, queueARN, err = b.queue(ctx, what, nil)
	if err != nil {
		return "", "", "", err
	}
	policy, _ := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": []any{map[string]any{
		"Effect": "Allow", "Principal": map[string]string{"Service": "sns.amazonaws.com"}, "Action": "sqs:SendMessage",
		"Resource": queueARN, "Condition": map[string]any{"ArnEquals": map[string]string{"aws:SourceArn": topicARN}}}}})
	if _, err := b.sqs.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: &queueURL,
		Attributes: map[string]string{"Policy": string(policy)}}); err != nil {
		return "", "", "", fmt.Errorf("SetQueueAttributes Policy: %w", err)
	}
	if _, err := b.sns.Subscribe(ctx, &sns.SubscribeInput{TopicArn: &topicARN, Protocol: aws.String("sqs"),
		Endpoint: &queueARN, Attributes: map[string]string{"RawMessageDelivery": "true"}}); err != nil {
		return "", "", "", fmt.Errorf("Subscribe: %w", err)
	}
	return topicARN, queueURL, queueARN, nil
}

// stats collects call latencies and errors of a phase.
type stats struct {
	mu    sync.Mutex
	lat   []time.Duration
	errs  int64
	codes map[string]int
}

func (s *stats) ok(d time.Duration) {
	s.mu.Lock()
	s.lat = append(s.lat, d)
	s.mu.Unlock()
}

func (s *stats) fail(err error) {
	code := "other"
	var ae smithy.APIError
	if errors.As(err, &ae) {
		code = ae.ErrorCode()
	} else if errors.Is(err, context.DeadlineExceeded) {
		code = "timeout"
	}
	s.mu.Lock()
	s.errs++
	if s.codes == nil {
		s.codes = map[string]int{}
	}
	s.codes[code]++
	s.mu.Unlock()
}

func (s *stats) fill(r *result) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sort.Slice(s.lat, func(i, j int) bool { return s.lat[i] < s.lat[j] })
	pct := func(p float64) float64 {
		if len(s.lat) == 0 {
			return 0
		}
		i := int(p * float64(len(s.lat)-1))
		return float64(s.lat[i].Microseconds()) / 1000
	}
	r.P50, r.P90, r.P99, r.Max = pct(0.50), pct(0.90), pct(0.99), pct(1)
	r.Errors, r.ErrorCodes = s.errs, s.codes
}

// closedLoop runs o.concurrency workers calling op for warmup (not
// counted), then for duration or until stop is closed. op returns the
// messages it moved; a call's latency and errors are counted in the
// measured phase. It returns the messages and the measured time.
func (b *bench) closedLoop(st *stats, warmup, duration time.Duration, stop <-chan struct{}, op func(ctx context.Context) (int, error)) (int64, time.Duration) {
	var measuring atomic.Bool
	var msgs atomic.Int64
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	for w := 0; w < b.o.concurrency; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				t0 := time.Now()
				n, err := op(ctx)
				if !measuring.Load() || ctx.Err() != nil {
					continue
				}
				if err != nil {
					st.fail(err)
					continue
				}
				st.ok(time.Since(t0))
				msgs.Add(int64(n))
			}
		}()
	}
	time.Sleep(warmup)
	measuring.Store(true)
	start := time.Now()
	select {
	case <-time.After(duration):
	case <-stop:
	}
	n, el := msgs.Load(), time.Since(start)
	measuring.Store(false)
	cancel()
	wg.Wait()
	return n, el
}

func (b *bench) send() (result, error) {
	ctx := context.Background()
	url, _, err := b.queue(ctx, "send", nil)
	if err != nil {
		return result{}, err
	}
	var st stats
	n, el := b.closedLoop(&st, b.o.warmup, b.o.duration, nil, func(ctx context.Context) (int, error) {
		_, err := b.sqs.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &url, MessageBody: &b.body})
		return 1, err
	})
	r := result{Calls: n, Messages: n, Seconds: el.Seconds(), MsgsPerSec: float64(n) / el.Seconds(), LatencyOf: "SendMessage call"}
	st.fill(&r)
	return r, nil
}

func (b *bench) recv() (result, error) {
	ctx := context.Background()
	url, _, err := b.queue(ctx, "recv", nil)
	if err != nil {
		return result{}, err
	}
	// Prefill with batches of 10 from the workers.
	var next atomic.Int64
	var wg sync.WaitGroup
	var perr atomic.Value
	for w := 0; w < b.o.concurrency; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(10) - 10
				if i >= int64(b.o.prefill) {
					return
				}
				var es []sqstypes.SendMessageBatchRequestEntry
				for j := i; j < min(i+10, int64(b.o.prefill)); j++ {
					es = append(es, sqstypes.SendMessageBatchRequestEntry{Id: aws.String(fmt.Sprint("e", j-i)), MessageBody: &b.body})
				}
				if _, err := b.sqs.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: &url, Entries: es}); err != nil {
					perr.Store(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if err, ok := perr.Load().(error); ok {
		return result{}, fmt.Errorf("prefill: %w", err)
	}
	var st stats
	stop := make(chan struct{})
	var dry sync.Once
	var calls atomic.Int64
	n, el := b.closedLoop(&st, b.o.warmup, b.o.duration, stop, func(ctx context.Context) (int, error) {
		out, err := b.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &url, MaxNumberOfMessages: 10, VisibilityTimeout: 300})
		if err != nil {
			return 0, err
		}
		calls.Add(1)
		if len(out.Messages) == 0 {
			dry.Do(func() { close(stop) })
			return 0, nil
		}
		es := make([]sqstypes.DeleteMessageBatchRequestEntry, len(out.Messages))
		for i, m := range out.Messages {
			es[i] = sqstypes.DeleteMessageBatchRequestEntry{Id: aws.String(fmt.Sprint("d", i)), ReceiptHandle: m.ReceiptHandle}
		}
		d, err := b.sqs.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: &url, Entries: es})
		if err != nil {
			return 0, err
		}
		if len(d.Failed) > 0 {
			return len(d.Successful), fmt.Errorf("DeleteMessageBatch: %d entries failed (%s)", len(d.Failed), aws.ToString(d.Failed[0].Code))
		}
		return len(out.Messages), nil
	})
	r := result{Calls: calls.Load(), Messages: n, Seconds: el.Seconds(), MsgsPerSec: float64(n) / el.Seconds(),
		LatencyOf: "ReceiveMessage(10) + DeleteMessageBatch", Prefill: b.o.prefill}
	select {
	case <-stop:
		r.RanDry = true
		r.Note = "the queue ran dry: the rate is over the time until then; raise -prefill"
	default:
	}
	st.fill(&r)
	return r, nil
}

// queued returns the queue's visible + in-flight + delayed counts.
func (b *bench) queued(ctx context.Context, url string) (int64, error) {
	a, err := b.sqs.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: &url, AttributeNames: []sqstypes.QueueAttributeName{
		sqstypes.QueueAttributeNameApproximateNumberOfMessages, sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible,
		sqstypes.QueueAttributeNameApproximateNumberOfMessagesDelayed}})
	if err != nil {
		return 0, err
	}
	var n int64
	for _, v := range a.Attributes {
		i, _ := strconv.ParseInt(v, 10, 64)
		n += i
	}
	return n, nil
}

func (b *bench) fanout() (result, error) {
	ctx := context.Background()
	topic, url, _, err := b.topicToQueue(ctx, "fanout")
	if err != nil {
		return result{}, err
	}
	var st stats
	start := time.Now()
	n, el := b.closedLoop(&st, 0, b.o.duration, nil, func(ctx context.Context) (int, error) {
		_, err := b.sns.Publish(ctx, &sns.PublishInput{TopicArn: &topic, Message: &b.body})
		return 1, err
	})
	r := result{Published: n, PublishRate: float64(n) / el.Seconds(), LatencyOf: "Publish call"}
	// Publishes cut off by the end of the phase may have landed too, so the
	// queue may hold a few more than n.
	deadline := time.Now().Add(b.o.drain)
	var landed int64
	for {
		landed, err = b.queued(ctx, url)
		if err != nil {
			return result{}, fmt.Errorf("GetQueueAttributes: %w", err)
		}
		if landed >= n || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	total := time.Since(start)
	r.Messages, r.Seconds = min(landed, n), total.Seconds()
	r.MsgsPerSec = float64(r.Messages) / total.Seconds()
	if landed < n {
		r.Lost = n - landed
		r.Note = fmt.Sprintf("%d published messages had not landed after the %s drain", n-landed, b.o.drain)
	}
	st.fill(&r)
	return r, nil
}

func (b *bench) latency() (result, error) {
	ctx := context.Background()
	var topic, url string
	var err error
	if b.o.via == "sns" {
		topic, url, _, err = b.topicToQueue(ctx, "latency")
	} else {
		url, _, err = b.queue(ctx, "latency", nil)
	}
	if err != nil {
		return result{}, err
	}
	origin := time.Now()
	var mu sync.Mutex
	got := map[int64]int{}
	var lats []time.Duration
	var st stats // consumer errors only
	cctx, cancel := context.WithCancel(ctx)
	var cwg sync.WaitGroup
	for c := 0; c < b.o.consumers; c++ {
		cwg.Add(1)
		go func() {
			defer cwg.Done()
			for cctx.Err() == nil {
				out, err := b.sqs.ReceiveMessage(cctx, &sqs.ReceiveMessageInput{QueueUrl: &url, MaxNumberOfMessages: 10, WaitTimeSeconds: 20})
				if err != nil {
					if cctx.Err() == nil {
						st.fail(err)
						time.Sleep(10 * time.Millisecond)
					}
					continue
				}
				now := time.Since(origin)
				var es []sqstypes.DeleteMessageBatchRequestEntry
				for i, m := range out.Messages {
					seq, sent, ok := parseStamp(aws.ToString(m.Body))
					if ok {
						mu.Lock()
						if got[seq]++; got[seq] == 1 {
							lats = append(lats, now-sent)
						}
						mu.Unlock()
					}
					es = append(es, sqstypes.DeleteMessageBatchRequestEntry{Id: aws.String(fmt.Sprint("d", i)), ReceiptHandle: m.ReceiptHandle})
				}
				if len(es) > 0 {
					if _, err := b.sqs.DeleteMessageBatch(cctx, &sqs.DeleteMessageBatchInput{QueueUrl: &url, Entries: es}); err != nil && cctx.Err() == nil {
						st.fail(err)
					}
				}
			}
		}()
	}
	time.Sleep(500 * time.Millisecond) // the consumers are waiting
	var sent, perrs int64
	var pst stats
	interval := time.Duration(float64(time.Second) / b.o.rate)
	var pwg sync.WaitGroup
	next := time.Now()
	end := next.Add(b.o.duration)
	for i := int64(0); next.Before(end); i++ {
		pwg.Add(1)
		go func(i int64) { // open loop: a slow call does not delay the next
			defer pwg.Done()
			body := stamp(i, time.Since(origin), b.o.size)
			var err error
			if b.o.via == "sns" {
				_, err = b.sns.Publish(ctx, &sns.PublishInput{TopicArn: &topic, Message: &body})
			} else {
				_, err = b.sqs.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &url, MessageBody: &body})
			}
			if err != nil {
				pst.fail(err)
				atomic.AddInt64(&perrs, 1)
				return
			}
			atomic.AddInt64(&sent, 1)
		}(i)
		next = next.Add(interval)
		time.Sleep(time.Until(next))
	}
	pwg.Wait()
	deadline := time.Now().Add(b.o.drain)
	for {
		mu.Lock()
		n := int64(len(got))
		mu.Unlock()
		if n >= atomic.LoadInt64(&sent) || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	cwg.Wait()
	mu.Lock()
	defer mu.Unlock()
	r := result{Published: sent, Messages: int64(len(got)), Seconds: b.o.duration.Seconds(), MsgsPerSec: float64(len(got)) / b.o.duration.Seconds(),
		LatencyOf: fmt.Sprintf("%s to ReceiveMessage (WaitTimeSeconds 20), %d consumers, %.0f msgs/s",
			map[string]string{"sns": "Publish (raw sqs subscription)", "sqs": "SendMessage"}[b.o.via], b.o.consumers, b.o.rate)}
	for _, c := range got {
		r.Duplicates += int64(c - 1)
	}
	if r.Lost = sent - int64(len(got)); r.Lost < 0 {
		r.Lost = 0
	}
	lst := stats{lat: lats}
	lst.fill(&r)
	pst.mu.Lock()
	st.mu.Lock()
	r.Errors = pst.errs + st.errs
	for k, v := range st.codes {
		pst.codes = addCode(pst.codes, "receive:"+k, v)
	}
	r.ErrorCodes = pst.codes
	st.mu.Unlock()
	pst.mu.Unlock()
	return r, nil
}

func addCode(m map[string]int, k string, v int) map[string]int {
	if m == nil {
		m = map[string]int{}
	}
	m[k] += v
	return m
}

// stamp is a body "<seq> <ns since origin> " padded with x to size bytes.
func stamp(seq int64, at time.Duration, size int) string {
	s := fmt.Sprintf("%d %d ", seq, int64(at))
	if len(s) < size {
		s += strings.Repeat("x", size-len(s))
	}
	return s
}

func parseStamp(body string) (int64, time.Duration, bool) {
	f := strings.SplitN(body, " ", 3)
	if len(f) < 3 {
		return 0, 0, false
	}
	seq, err1 := strconv.ParseInt(f[0], 10, 64)
	ns, err2 := strconv.ParseInt(f[1], 10, 64)
	return seq, time.Duration(ns), err1 == nil && err2 == nil
}

func printResult(r result) {
	fmt.Printf("%s: %d messages in %.1fs = %.1f msgs/s", r.Scenario, r.Messages, r.Seconds, r.MsgsPerSec)
	if r.Published > 0 {
		fmt.Printf(" (published %d, %.1f/s)", r.Published, r.PublishRate)
	}
	fmt.Printf("\n  latency of %s: p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms\n", r.LatencyOf, r.P50, r.P90, r.P99, r.Max)
	fmt.Printf("  errors %d %v, lost %d, duplicates %d\n", r.Errors, r.ErrorCodes, r.Lost, r.Duplicates)
	if r.Note != "" {
		fmt.Println("  note:", r.Note)
	}
}
