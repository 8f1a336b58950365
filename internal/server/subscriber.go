package server

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
	"time"
)

// subscriberClient is the HTTP client for deliveries: it verifies HTTPS
// endpoints against the system roots plus the PEM file caFile (if any).
func subscriberClient(caFile string) (*http.Client, error) {
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("subscriber CA: %w", err)
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("subscriber CA: no certificates in %s", caFile)
		}
	}
	return &http.Client{CheckRedirect: noRedirects, Transport: &http.Transport{
		TLSClientConfig:     &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
		MaxIdleConnsPerHost: 64,
		IdleConnTimeout:     90 * time.Second,
		TLSHandshakeTimeout: 10 * time.Second,
	}}, nil
}

// noRedirects makes a 3xx answer the delivery's outcome: SNS does not follow
// redirects, and following them would let an endpoint bounce deliveries to
// an address nobody subscribed.
func noRedirects(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
