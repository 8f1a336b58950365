package server

import (
	"context"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"time"

	"github.com/sealpost/sealpost/internal/delivery"
	"github.com/sealpost/sealpost/internal/netguard"
)

// subscriberClient is the HTTP client for deliveries and confirmation
// requests (delivery.NewHTTPClient): it verifies HTTPS endpoints against the
// system roots plus the PEM file caFile (if any) and connects only to
// addresses the guard allows.
func subscriberClient(caFile string, g *netguard.Guard) (*http.Client, error) {
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
	return delivery.NewHTTPClient(delivery.ClientOptions{RootCAs: pool, Guard: g}), nil
}

// endpointChecker refuses, at Subscribe, an endpoint whose host is an
// address the guard denies, or a name that resolves to one now. A name that
// does not resolve now is accepted: the dialer checks every connection
// anyway, after resolution, which is the check that counts.
func endpointChecker(g *netguard.Guard) func(ctx context.Context, endpoint string) error {
	return func(ctx context.Context, endpoint string) error {
		u, err := url.Parse(endpoint)
		if err != nil {
			return nil // validated before; nothing to judge
		}
		host := u.Hostname()
		if ip, err := netip.ParseAddr(host); err == nil {
			if !g.Allowed(ip) {
				return fmt.Errorf("address %s is not allowed by --subscriber-allow/--subscriber-deny", ip.Unmap())
			}
			return nil
		}
		ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		if err != nil {
			return nil
		}
		for _, ip := range ips {
			if !g.Allowed(ip) {
				return fmt.Errorf("%s resolves to %s, an address not allowed by --subscriber-allow/--subscriber-deny", host, ip.Unmap())
			}
		}
		return nil
	}
}
