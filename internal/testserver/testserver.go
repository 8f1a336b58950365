// Package testserver starts an in-process Sealpost for tests and builds
// aws-sdk-go-v2 clients pointed at it.
package testserver

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log/slog"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/sealpost/sealpost/internal/config"
	"github.com/sealpost/sealpost/internal/pgtest"
	"github.com/sealpost/sealpost/internal/server"
)

// Server is a running in-process Sealpost.
type Server struct {
	*server.Server
	cancel context.CancelFunc
	done   chan error
}

// Options tweak the test server.
type Options struct {
	DataDir string   // "" = a fresh temp dir
	Args    []string // extra flags
}

// Start starts a server on a free loopback port and stops it at test end.
func Start(t testing.TB, o Options) *Server {
	t.Helper()
	dir := o.DataDir
	if dir == "" {
		dir = t.TempDir()
	}
	args := append([]string{"--listen", "127.0.0.1:0", "--data-dir", dir}, o.Args...)
	if StoreKind() == "postgres" {
		args = append(args, "--store", pgtest.NewDatabase(t))
	}
	cfg, err := config.Parse(args, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if os.Getenv("SEALPOST_TEST_LOG") != "" {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := server.New(ctx, cfg, log)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}

	s := &Server{Server: srv, cancel: cancel, done: make(chan error, 1)}
	go func() { s.done <- srv.Serve(ctx) }()
	t.Cleanup(s.Stop)
	return s
}

// Stop shuts the server down (idempotent).
func (s *Server) Stop() {
	if s.cancel == nil {
		return
	}
	s.cancel()
	s.cancel = nil
	select {
	case <-s.done:
	case <-time.After(15 * time.Second):
	}
}

// URL returns the plain HTTP endpoint.
func (s *Server) URL() string { return "http://" + s.Addr() }

// TLSURL returns the HTTPS endpoint.
func (s *Server) TLSURL() string { return "https://" + s.Addr() }

// HTTPClient returns a client trusting the server's CA.
func (s *Server) HTTPClient(t testing.TB) *http.Client {
	pool := x509.NewCertPool()
	if s.CAFile() != "" {
		pem, err := os.ReadFile(s.CAFile())
		if err != nil {
			t.Fatal(err)
		}
		pool.AppendCertsFromPEM(pem)
	}
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		TLSClientConfig:     &tls.Config{RootCAs: pool},
		MaxIdleConnsPerHost: 64,
	}}
}

// SNS returns an SNS client for endpoint (URL or TLSURL) with the given
// credentials ("" = test/test) and region ("" = us-east-1).
func (s *Server) SNSClient(t testing.TB, endpoint, accessKey, secret, region string) *sns.Client {
	return sns.NewFromConfig(s.AWSConfig(t, endpoint, accessKey, secret, region))
}

// AWSConfig is the aws.Config the client constructors use: static
// credentials ("" = test/test), region ("" = us-east-1), endpoint, and an
// HTTP client trusting the server's CA.
func (s *Server) AWSConfig(t testing.TB, endpoint, accessKey, secret, region string) aws.Config {
	if accessKey == "" {
		accessKey, secret = "test", "test"
	}
	if region == "" {
		region = "us-east-1"
	}
	return aws.Config{
		Region:       region,
		Credentials:  credentials.NewStaticCredentialsProvider(accessKey, secret, ""),
		HTTPClient:   s.HTTPClient(t),
		BaseEndpoint: aws.String(endpoint),
	}
}

// STSClient returns an STS client (GetCallerIdentity) like SNSClient.
func (s *Server) STSClient(t testing.TB, endpoint, accessKey, secret, region string) *sts.Client {
	return sts.NewFromConfig(s.AWSConfig(t, endpoint, accessKey, secret, region))
}

// KMSClient returns a KMS client like SNSClient.
func (s *Server) KMSClient(t testing.TB, endpoint, accessKey, secret, region string) *kms.Client {
	return kms.NewFromConfig(s.AWSConfig(t, endpoint, accessKey, secret, region))
}

// StoreKind is the driver the suites run on: "pebble" (default) or
// "postgres" when SEALPOST_TEST_STORE=postgres.
func StoreKind() string {
	if os.Getenv("SEALPOST_TEST_STORE") == "postgres" {
		return "postgres"
	}
	return "pebble"
}

// Main is TestMain for packages that use Start: it stops the shared
// PostgreSQL (if one was started) after the tests.
func Main(m *testing.M) { pgtest.Main(m) }
