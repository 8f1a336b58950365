package server

import (
	"errors"
	"net/http"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/sealpost/sealpost/internal/arn"
	"github.com/sealpost/sealpost/internal/delivery"
	"github.com/sealpost/sealpost/internal/kms"
)

// metrics are the server's Prometheus metrics, served at /metrics. The
// registry is per server (no package-level state).
type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	handler  http.Handler

	// kmsCalls counts the KMS calls SNS and SQS make for SSE
	// (GenerateDataKey when sealing, Decrypt when opening), sseMessages the
	// bodies sealed and opened. Their key and topic or queue labels are
	// capped (labelCap).
	kmsCalls    *prometheus.CounterVec
	sseMessages *prometheus.CounterVec
	kmsPairs    labelCap // "key\x00topic or queue" pairs of kmsCalls
	sseTopics   labelCap // topics and queues of sseMessages
}

// maxSSESeries bounds the distinct (key, topic or queue) pairs of
// sealpost_kms_calls_total and the distinct topics and queues of
// sealpost_sse_messages_total: topics, queues and keys are created by users, and
// every label value is a series kept until restart. Values beyond the cap
// are counted under OtherLabel.
const maxSSESeries = 1000

// OtherLabel is the key and topic label of calls and messages beyond
// maxSSESeries distinct values.
const OtherLabel = "_other"

func newMetrics() *metrics {
	m := &metrics{reg: prometheus.NewRegistry(), kmsPairs: labelCap{max: maxSSESeries}, sseTopics: labelCap{max: maxSSESeries}}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "sealpost_requests_total",
		Help: "API requests by service (sns, sts, kms, sqs, unknown), action (unknown for unrecognized or refused-before-parsing ones) and HTTP status.",
	}, []string{"service", "action", "status"})
	m.kmsCalls = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "sealpost_kms_calls_total",
		Help: "KMS calls SNS and SQS made for server-side encryption, by key ARN, topic ARN (SNS) or queue ARN (SQS; the other label is empty), op (GenerateDataKey when sealing, Decrypt when opening) and outcome (ok or the KMS error code). At most 1000 key/topic-or-queue pairs; later ones are counted as key and topic (or queue) _other.",
	}, []string{"key", "topic", "queue", "op", "outcome"})
	m.sseMessages = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "sealpost_sse_messages_total",
		Help: "Message bodies of SSE topics sealed on publish and opened for delivery (one per delivery attempt that opened it), and of encrypted queues sealed on send and opened on receive, by topic ARN or queue ARN (the other label is empty) and direction. At most 1000 topics and queues; later ones are counted as topic (or queue) _other.",
	}, []string{"topic", "queue", "direction"})
	m.reg.MustRegister(m.requests, m.kmsCalls, m.sseMessages,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.handler = promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
	return m
}

// delivery exports the delivery engine's counters.
func (m *metrics) delivery(eng *delivery.Engine) {
	m.reg.MustRegister(deliveryCollector{eng})
}

// kmsCall counts one KMS call of the Sealer (sse.Options.OnKMSCall) for
// a topic or a queue.
func (m *metrics) kmsCall(resourceARN, keyARN, op string, err error) {
	outcome := "ok"
	if err != nil {
		outcome = kmsErrorCode(err)
	}
	key, res := keyARN, resourceARN
	if !m.kmsPairs.admit(keyARN + "\x00" + resourceARN) {
		key, res = OtherLabel, OtherLabel
	}
	topic, queue := topicOrQueue(resourceARN, res)
	m.kmsCalls.WithLabelValues(key, topic, queue, op, outcome).Inc()
}

// sseMessage counts one body of a topic or queue sealed or opened.
func (m *metrics) sseMessage(resourceARN, direction string) {
	res := resourceARN
	if !m.sseTopics.admit(resourceARN) {
		res = OtherLabel
	}
	topic, queue := topicOrQueue(resourceARN, res)
	m.sseMessages.WithLabelValues(topic, queue, direction).Inc()
}

// topicOrQueue puts label in the topic or the queue label, by the service
// of resourceARN (an SQS queue or else an SNS topic).
func topicOrQueue(resourceARN, label string) (topic, queue string) {
	if a, err := arn.Parse(resourceARN); err == nil && a.Service == "sqs" {
		return "", label
	}
	return label, ""
}

// kmsErrorCode is the KMS error code of err (a bounded set: the kms.Err*
// kinds), or "error".
func kmsErrorCode(err error) string {
	var ke *kms.Error
	if errors.As(err, &ke) && ke.Kind != nil {
		return ke.Kind.Error()
	}
	for _, k := range []error{kms.ErrDisabled, kms.ErrInvalidState, kms.ErrNotFound, kms.ErrAccessDenied,
		kms.ErrInvalidCiphertext, kms.ErrIncorrectKey, kms.ErrInternal, kms.ErrValidation, kms.ErrUnsupported} {
		if errors.Is(err, k) {
			return k.Error()
		}
	}
	return "error"
}

// labelCap admits the first max distinct values of a label; later values
// are refused (and counted under OtherLabel by the caller).
type labelCap struct {
	mu   sync.Mutex
	max  int
	seen map[string]struct{}
}

func (c *labelCap) admit(v string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.seen[v]; ok {
		return true
	}
	if len(c.seen) >= c.max {
		return false
	}
	if c.seen == nil {
		c.seen = map[string]struct{}{}
	}
	c.seen[v] = struct{}{}
	return true
}

// listener exports the connection count and the retried accept errors of
// the server's listener, and the requests in flight.
func (m *metrics) listener(sl *sniffListener, inFlight func() int) {
	m.reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "sealpost_http_requests_in_flight",
			Help: "HTTP requests being served (shutdown waits for them before closing the store).",
		}, func() float64 { return float64(inFlight()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "sealpost_open_connections",
			Help: "Client connections open (at most --max-connections).",
		}, func() float64 { return float64(sl.openConns()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "sealpost_accept_errors_total",
			Help: "Temporary accept errors (such as too many open files), each retried after a backoff.",
		}, func() float64 { return float64(sl.acceptErrors.Load()) }),
	)
}

// deliveryCollector exports the delivery engine's counters, summed over
// subscriptions (per-subscription series would grow without bound).
type deliveryCollector struct{ eng *delivery.Engine }

var deliveryDesc = prometheus.NewDesc("sealpost_deliveries_total",
	"Notification delivery outcomes since start: delivered, failed (attempts), retried, dead_lettered (given up: dropped without a dead-letter queue, or landed in it), throttled (deliveries that waited for maxReceivesPerSecond), expired (dropped 14 days after publication: parked sqs deliveries without a queue transport, dead letters their queue never took).",
	[]string{"outcome"}, nil)

var queueFailureDesc = prometheus.NewDesc("sealpost_sqs_delivery_failures_total",
	"Failed sends of SNS deliveries and dead letters into SQS queues since start, by error code (QueueDoesNotExist, AccessDenied when the queue policy does not allow the topic, Kms* when the queue's key refuses SNS, TooManyMessageAttributes, ...).",
	[]string{"code"}, nil)

func (c deliveryCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- deliveryDesc
	ch <- queueFailureDesc
}

func (c deliveryCollector) Collect(ch chan<- prometheus.Metric) {
	sum := c.eng.Totals() // includes deleted subscriptions: never goes backwards
	for _, o := range []struct {
		name string
		v    int64
	}{{"delivered", sum.Delivered}, {"failed", sum.Failed}, {"retried", sum.Retried},
		{"dead_lettered", sum.DeadLettered}, {"throttled", sum.Throttled}, {"expired", sum.Expired}} {
		ch <- prometheus.MustNewConstMetric(deliveryDesc, prometheus.CounterValue, float64(o.v), o.name)
	}
	for code, n := range c.eng.QueueFailures() {
		ch <- prometheus.MustNewConstMetric(queueFailureDesc, prometheus.CounterValue, float64(n), code)
	}
}

// statusRecorder captures the status a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}
