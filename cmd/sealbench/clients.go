package main

import (
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// bench is one benchmark run: its clients, the resources it created and the
// sink that receives deliveries.
type bench struct {
	o     options
	runID string
	// base anchors the send timestamps carried in message bodies. Publisher
	// and sink share the process, so offsets from base use the monotonic clock.
	base time.Time

	httpClient *http.Client
	sns        *sns.Client   // control plane: the first endpoint
	pub        []*sns.Client // publishing: one per endpoint (pub[0] == sns)
	sqs        *sqs.Client   // nil when -sqs-endpoint none
	sink       *sink         // nil unless http subscriptions are used

	topicArn string
	subs     []subscription
	queues   []string // URLs of the queues this run created

	interrupted <-chan struct{}
	errs        *errorTracker
}

type subscription struct {
	index    int
	endpoint string
	arn      string
}

func newBench(o options, interrupted <-chan struct{}) (*bench, error) {
	var id [4]byte
	if _, err := rand.Read(id[:]); err != nil {
		return nil, err
	}
	b := &bench{
		o:           o,
		runID:       hex.EncodeToString(id[:]),
		base:        time.Now(),
		interrupted: interrupted,
		errs:        newErrorTracker(),
	}
	hc, err := newHTTPClient(o)
	if err != nil {
		return nil, err
	}
	b.httpClient = hc

	cfg := aws.Config{
		Region:      o.region,
		Credentials: aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider(o.accessKey, o.secretKey, "")),
		HTTPClient:  hc,
		Retryer: func() aws.Retryer {
			if o.retries == 0 {
				return aws.NopRetryer{}
			}
			// No client-side retry token bucket: it would throttle the
			// benchmark itself once errors appear.
			return retry.NewStandard(func(so *retry.StandardOptions) {
				so.MaxAttempts = o.retries + 1
				so.RateLimiter = ratelimit.None
			})
		},
	}
	for _, ep := range o.endpoints {
		b.pub = append(b.pub, sns.NewFromConfig(cfg, func(so *sns.Options) {
			so.BaseEndpoint = aws.String(ep)
		}))
	}
	b.sns = b.pub[0]
	if o.subProtocol == "sqs" && !strings.EqualFold(o.sqsEndpoint, "none") {
		b.sqs = sqs.NewFromConfig(cfg, func(so *sqs.Options) {
			so.BaseEndpoint = aws.String(o.sqsEndpoint)
		})
	}
	return b, nil
}

// newHTTPClient returns the client shared by the SDK clients of every
// endpoint and the sink's confirmation requests. It keeps enough idle
// connections per host for every worker, so the benchmark measures the server
// rather than client-side connection churn.
func newHTTPClient(o options) (*http.Client, error) {
	tlsConf := &tls.Config{MinVersion: tls.VersionTLS12}
	if o.caBundle != "" {
		pem, err := os.ReadFile(o.caBundle)
		if err != nil {
			return nil, fmt.Errorf("-ca-bundle: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("-ca-bundle %s: no PEM certificates found", o.caBundle)
		}
		tlsConf.RootCAs = pool
	}
	idle := 2*o.concurrency + 8
	tr := &http.Transport{
		// Never go through a proxy: the targets are local servers.
		Proxy: nil,
		DialContext: (&net.Dialer{
			Timeout:   10 * time.Second,
			KeepAlive: 30 * time.Second,
		}).DialContext,
		TLSClientConfig:       tlsConf,
		TLSHandshakeTimeout:   10 * time.Second,
		MaxIdleConns:          2 * idle * max(1, len(o.endpoints)),
		MaxIdleConnsPerHost:   idle,
		IdleConnTimeout:       90 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	// No client-wide timeout: every call carries its own context deadline.
	return &http.Client{Transport: tr}, nil
}

func (b *bench) close() {
	if tr, ok := b.httpClient.Transport.(*http.Transport); ok {
		tr.CloseIdleConnections()
	}
}
