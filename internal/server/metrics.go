package server

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/sealpost/sealpost/internal/delivery"
)

// metrics are the server's Prometheus metrics, served at /metrics. The
// registry is per server (no package-level state).
type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	handler  http.Handler
}

func newMetrics(eng *delivery.Engine) *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "sealpost_requests_total",
		Help: "API requests by service (sns, sts, kms, sqs, unknown), action (unknown for unrecognized or refused-before-parsing ones) and HTTP status.",
	}, []string{"service", "action", "status"})
	m.reg.MustRegister(m.requests, deliveryCollector{eng},
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.handler = promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
	return m
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
	"Notification delivery outcomes since start: delivered, failed (attempts), retried, dead_lettered (given up), throttled (deliveries that waited for maxReceivesPerSecond), expired (parked sqs deliveries dropped after 14 days).",
	[]string{"outcome"}, nil)

func (c deliveryCollector) Describe(ch chan<- *prometheus.Desc) { ch <- deliveryDesc }

func (c deliveryCollector) Collect(ch chan<- prometheus.Metric) {
	sum := c.eng.Totals() // includes deleted subscriptions: never goes backwards
	for _, o := range []struct {
		name string
		v    int64
	}{{"delivered", sum.Delivered}, {"failed", sum.Failed}, {"retried", sum.Retried},
		{"dead_lettered", sum.DeadLettered}, {"throttled", sum.Throttled}, {"expired", sum.Expired}} {
		ch <- prometheus.MustNewConstMetric(deliveryDesc, prometheus.CounterValue, float64(o.v), o.name)
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
