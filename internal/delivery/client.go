package delivery

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"time"

	"github.com/sealpost/sealpost/internal/netguard"
)

// ClientOptions configure NewHTTPClient.
type ClientOptions struct {
	// RootCAs verifies HTTPS endpoints; nil = the system roots.
	RootCAs *x509.CertPool
	// Guard judges every address dialled, after DNS resolution; nil =
	// netguard.Default().
	Guard *netguard.Guard
	// MaxIdleConnsPerHost bounds kept-alive connections per endpoint host
	// (default 64).
	MaxIdleConnsPerHost int
}

// NewHTTPClient returns the HTTP client for deliveries and confirmation
// requests. It
//   - does not follow redirects: a 3xx answer is the attempt's outcome (SNS
//     does not follow them, and following them would let an endpoint bounce
//     deliveries to an address nobody subscribed or the guard never saw);
//   - uses no proxy from the environment;
//   - checks every address it connects to with the guard, after DNS
//     resolution, so DNS rebinding cannot reach a denied address.
func NewHTTPClient(o ClientOptions) *http.Client {
	g := o.Guard
	if g == nil {
		g = netguard.Default()
	}
	if o.MaxIdleConnsPerHost <= 0 {
		o.MaxIdleConnsPerHost = 64
	}
	d := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second, Control: g.Control}
	return &http.Client{
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Transport: &http.Transport{
			Proxy:               nil,
			DialContext:         d.DialContext,
			TLSClientConfig:     &tls.Config{RootCAs: o.RootCAs, MinVersion: tls.VersionTLS12},
			MaxIdleConnsPerHost: o.MaxIdleConnsPerHost,
			IdleConnTimeout:     90 * time.Second,
			TLSHandshakeTimeout: 10 * time.Second,
		},
	}
}
