// Package server is Sealpost's composition root: it opens the store, builds
// the domains and protocol handlers, and serves HTTP and HTTPS on one port.
package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sealpost/sealpost/internal/config"
	"github.com/sealpost/sealpost/internal/datadir"
	"github.com/sealpost/sealpost/internal/delivery"
	"github.com/sealpost/sealpost/internal/identity"
	"github.com/sealpost/sealpost/internal/netguard"
	"github.com/sealpost/sealpost/internal/policy"
	"github.com/sealpost/sealpost/internal/sigv4"
	"github.com/sealpost/sealpost/internal/sns"
	"github.com/sealpost/sealpost/internal/snsapi"
	"github.com/sealpost/sealpost/internal/snssig"
	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/store/pebblestore"
)

// maxBodyBytes caps request bodies: a 256 KiB message URL-encoded can take
// three times its size, plus attributes.
const maxBodyBytes = 4 << 20

// Server is a running Sealpost.
type Server struct {
	cfg  *config.Config
	log  *slog.Logger
	st   store.Store
	ids  *identity.Directory
	sns  *sns.Service
	api  *snsapi.API
	sign *snssig.Signer
	eng  *delivery.Engine
	met  *metrics
	tls  DevTLS
	http *http.Server
	ln   net.Listener
	gate requestGate
}

// Connection timeouts. A client gets sniffTimeout to send its first byte
// and readHeaderTimeout to send its request headers (for TLS, net/http also
// bounds the handshake by it); an idle keep-alive connection is closed after
// idleTimeout.
const (
	sniffTimeout      = 10 * time.Second
	readHeaderTimeout = 10 * time.Second
	idleTimeout       = 120 * time.Second
	// minHandlerDrain is the least shutdown waits for handlers whose
	// connections it closed (they fail at their next read or write).
	minHandlerDrain = 5 * time.Second
)

// New builds a server from cfg; it opens the store but does not listen yet.
//
// New sets the process umask to 077: everything Sealpost (and the embedded
// store) creates under the data dir is private to its user. It sets the data
// dir and the subdirectories it owns to 0700 and logs a warning for every
// entry it finds there that other users can access.
func New(ctx context.Context, cfg *config.Config, log *slog.Logger) (*Server, error) {
	datadir.RestrictUmask()
	if err := prepareDataDir(cfg.DataDir, log); err != nil {
		return nil, err
	}
	ids, err := identity.LoadWith(cfg.Credentials, identity.Options{CompilePolicy: func(raw []byte) (any, error) {
		return policy.ParseWith(raw, policy.Options{Kind: policy.IdentityPolicy})
	}})
	if err != nil {
		return nil, err
	}
	// Bind first: with port 0 the public URL depends on the port we get.
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, err
	}
	if cfg.PublicURLDefaulted {
		cfg.PublicURL = "http://" + ln.Addr().String()
	}
	st, err := openStore(ctx, cfg, log)
	if err != nil {
		ln.Close()
		return nil, err
	}
	s := &Server{cfg: cfg, log: log, st: st, ids: ids, ln: ln}
	guard := netguard.New(cfg.SubscriberAllow, cfg.SubscriberDeny)
	s.sns = sns.New(st, sns.Options{PublicURL: cfg.PublicURL, CacheTTL: cfg.CacheTTL, CheckEndpoint: endpointChecker(guard)})
	s.api = snsapi.New(s.sns, log)
	s.sign, err = snssig.LoadOrCreate(filepath.Join(cfg.DataDir, "signing"))
	if err != nil {
		st.Close()
		ln.Close()
		return nil, fmt.Errorf("signing key: %w", err)
	}
	hc, err := subscriberClient(cfg.SubscriberCAs, guard)
	if err != nil {
		st.Close()
		ln.Close()
		return nil, err
	}
	s.eng = delivery.New(st, s.sns, s.sign, log, delivery.Options{HTTPClient: hc, LeaseFor: cfg.DeliveryLease, Owner: cfg.NodeID})
	s.met = newMetrics(s.eng)
	if cfg.TLSCert == "" {
		s.tls, err = EnsureDevTLS(filepath.Join(cfg.DataDir, "tls"))
		if err != nil {
			st.Close()
			ln.Close()
			return nil, fmt.Errorf("tls: %w", err)
		}
	} else {
		s.tls = DevTLS{CertFile: cfg.TLSCert, KeyFile: cfg.TLSKey}
	}
	return s, nil
}

// prepareDataDir creates the data dir or makes it and the subdirectories
// Sealpost owns private, and warns about entries others can access.
func prepareDataDir(dir string, log *slog.Logger) error {
	loose, err := datadir.Prepare(dir)
	if err != nil {
		return err
	}
	const maxListed = 20
	for i, l := range loose {
		if i == maxListed {
			log.Warn("more data dir entries are accessible to other users", "count", len(loose)-maxListed)
			break
		}
		what := "data dir entry is accessible to other users; restrict it (chmod go-rwx)"
		if l.Path == dir {
			what = "data dir was accessible to other users; its mode is now 0700"
		}
		log.Warn(what, "path", l.Path, "mode", l.Mode.String())
	}
	for _, sub := range []string{"store", "tls", "signing"} {
		if err := os.Chmod(filepath.Join(dir, sub), datadir.DirMode); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("data dir: %w", err)
		}
	}
	return nil
}

func openStore(ctx context.Context, cfg *config.Config, log *slog.Logger) (store.Store, error) {
	switch {
	case cfg.Store == "" || cfg.Store == "pebble":
		return pebblestore.OpenWith(filepath.Join(cfg.DataDir, "store"), pebblestore.Options{Logger: log})
	default:
		return openPostgres(ctx, cfg.Store)
	}
}

// CAFile is the PEM file clients pass as --ca-bundle ("" with a custom cert).
func (s *Server) CAFile() string { return s.tls.CAFile }

// Addr is the address the server listens on (after Start).
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Delivery returns the delivery engine.
func (s *Server) Delivery() *delivery.Engine { return s.eng }

// SNS returns the SNS domain service.
func (s *Server) SNS() *sns.Service { return s.sns }

// Start listens; Serve must be called to accept requests.
func (s *Server) Start() error {
	tcfg, err := loadTLS(s.tls.CertFile, s.tls.KeyFile)
	if err != nil {
		return err
	}
	sl := newSniffListener(s.ln, tcfg, s.cfg.MaxConnections, sniffTimeout, s.log)
	s.ln = sl
	s.met.listener(sl, s.gate.inFlight)
	s.http = &http.Server{
		Handler:           s,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	return nil
}

// Serve serves until ctx is cancelled (or the listener fails), then shuts
// down in this order: stop accepting and wait up to ShutdownTimeout for
// in-flight requests; close the connections of those still running and wait
// (up to ShutdownTimeout again, at least minHandlerDrain) for their handlers
// to return; stop the delivery engine (in-flight attempts finish); close the
// store. A handler never sees a closed store: requests that arrive after the
// wait began get 503, and if handlers are still running after the second
// wait, the store is left open (every acknowledged write is already durable)
// and Serve returns an error.
func (s *Server) Serve(ctx context.Context) error {
	errc := make(chan error, 1)
	go func() { errc <- s.http.Serve(s.ln) }()
	dctx, stopDelivery := context.WithCancel(context.Background())
	deliveryDone := make(chan struct{})
	go func() {
		defer close(deliveryDone)
		s.eng.Run(dctx)
	}()
	janitorDone := make(chan struct{})
	go func() {
		defer close(janitorDone)
		s.janitor(dctx)
	}()
	var err error
	select {
	case err = <-errc:
		s.log.Error("listener failed; shutting down", "err", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	if serr := s.http.Shutdown(sctx); serr != nil {
		s.log.Warn("shutdown timeout: closing connections with requests in flight", "in_flight", s.gate.inFlight(), "timeout", s.cfg.ShutdownTimeout)
		s.http.Close()
	}
	cancel()
	// A closed connection does not stop its handler: wait for the handlers.
	drained := true
	t := time.NewTimer(max(s.cfg.ShutdownTimeout, minHandlerDrain))
	select {
	case <-s.gate.close():
	case <-t.C:
		drained = false
	}
	t.Stop()
	stopDelivery()
	<-deliveryDone
	<-janitorDone
	if !drained {
		s.log.Error("requests still running after shutdown; leaving the store open", "in_flight", s.gate.inFlight())
		if err == nil {
			err = errors.New("shutdown: requests still running; store not closed")
		}
		return err
	}
	if cerr := s.st.Close(); err == nil {
		err = cerr
	}
	return err
}

// ServeHTTP routes a request to the protocol it speaks.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !s.gate.enter() {
		// Only after shutdown gave up waiting: the store may be closing.
		w.Header().Set("Connection", "close")
		snsapi.WriteError(w, sns.NewRequestID(), "ServiceUnavailable", 503, "Sealpost is shutting down")
		return
	}
	defer s.gate.leave()
	defer func() {
		if v := recover(); v != nil {
			s.log.Error("panic serving request", "panic", fmt.Sprint(v), "path", r.URL.Path)
			snsapi.WriteError(w, sns.NewRequestID(), "InternalError", 500, "internal error")
		}
	}()
	if r.URL.Path == "/health" || r.URL.Path == "/_health" {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"status":"ok"}` + "\n"))
		return
	}
	if r.Method == http.MethodGet && r.URL.Path == "/metrics" {
		s.met.handler.ServeHTTP(w, r)
		return
	}
	if r.Method == http.MethodGet && r.URL.Path == "/"+s.sign.CertName() {
		w.Header().Set("Content-Type", "application/x-pem-file")
		w.Write(s.sign.CertPEM())
		return
	}
	target := r.Header.Get("X-Amz-Target")
	switch {
	case strings.HasPrefix(target, "TrentService."):
		writeJSONError(w, 400, "UnknownOperationException", "the KMS API is not available in this version of Sealpost")
		return
	case strings.HasPrefix(target, "AmazonSQS."):
		writeJSONError(w, 400, "UnknownOperationException", "the SQS API is not available in this version of Sealpost")
		return
	case target != "":
		writeJSONError(w, 400, "UnknownOperationException", "unknown X-Amz-Target")
		return
	}
	s.serveSNS(w, r)
}

func writeJSONError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("x-amzn-RequestId", sns.NewRequestID())
	w.WriteHeader(status)
	fmt.Fprintf(w, "{\"__type\":%q,\"message\":%q}\n", code, msg)
}

func (s *Server) serveSNS(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost && r.Method != http.MethodGet {
		snsapi.WriteError(w, sns.NewRequestID(), "InvalidAction", 405, "SNS accepts POST (or GET with a query string)")
		return
	}
	params, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		snsapi.WriteError(w, sns.NewRequestID(), "MalformedQueryString", 400, "The query string is malformed")
		return
	}
	var body []byte
	if r.Method == http.MethodPost {
		body, err = io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				snsapi.WriteError(w, sns.NewRequestID(), "RequestEntityTooLarge", 413, fmt.Sprintf("Request body is larger than %d bytes", maxBodyBytes))
				return
			}
			snsapi.WriteError(w, sns.NewRequestID(), "MalformedInput", 400, "could not read the request body")
			return
		}
		ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if len(body) > 0 && (ct == "" || ct == "application/x-www-form-urlencoded") {
			bp, err := url.ParseQuery(string(body))
			if err != nil {
				snsapi.WriteError(w, sns.NewRequestID(), "MalformedQueryString", 400, "The form body is malformed: "+err.Error())
				return
			}
			for k, v := range bp {
				params[k] = append(params[k], v...)
			}
		} else if len(body) > 0 {
			snsapi.WriteError(w, sns.NewRequestID(), "InvalidParameter", 400, "SNS requests must be application/x-www-form-urlencoded")
			return
		}
	}
	rec := &statusRecorder{ResponseWriter: w}
	s.api.Serve(rec, r, s.caller(r), params)
	action := params.Get("Action")
	if !snsapi.Known(action) {
		action = "unknown" // bound the label's values
	}
	s.met.requests.WithLabelValues(action, strconv.Itoa(rec.status)).Inc()
}

// caller identifies the requester. Signatures are not verified yet: the
// credential scope picks account (via the access key) and region; unknown
// keys and unsigned requests act as the default account.
func (s *Server) caller(r *http.Request) sns.Caller {
	c := sns.Caller{Region: s.cfg.Region, Secure: r.TLS != nil}
	p := s.ids.Anonymous()
	if scope, ok := sigv4.ParseScope(r); ok {
		c.Signed = true
		if scope.Region != "" {
			c.Region = scope.Region
		}
		if kp, _, found := s.ids.Lookup(scope.AccessKeyID); found {
			p = kp
		}
	}
	c.Account, c.Principal = p.Account, p.ARN
	// Until the front door verifies signatures, a signed request counts as
	// authenticated (as before) and acts as its access key's user.
	c.Authenticated = c.Signed
	c.AccessKeyID, c.UserName, c.UserID = p.AccessKeyID, p.UserName, p.UserID
	if p.Policy != nil {
		c.IdentityPolicy, _ = p.Policy.Compiled.(*policy.Policy)
	}
	if ap, err := netip.ParseAddrPort(r.RemoteAddr); err == nil {
		c.SourceIP = ap.Addr().Unmap()
	}
	return c
}

// requestGate counts the requests in flight so that shutdown can wait for
// their handlers before it closes the store. After close, enter refuses.
type requestGate struct {
	mu     sync.Mutex
	n      int
	closed bool
	idle   chan struct{} // closed once closed and n == 0
}

func (g *requestGate) enter() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return false
	}
	g.n++
	return true
}

func (g *requestGate) leave() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.n--
	if g.closed && g.n == 0 {
		close(g.idle)
	}
}

func (g *requestGate) inFlight() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.n
}

// close refuses new requests; the returned channel is closed when none is
// in flight.
func (g *requestGate) close() <-chan struct{} {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.closed {
		g.closed = true
		g.idle = make(chan struct{})
		if g.n == 0 {
			close(g.idle)
		}
	}
	return g.idle
}

// janitor deletes expired FIFO deduplication records once a minute until
// ctx ends (expired records are ignored when read; this only frees space).
func (s *Server) janitor(ctx context.Context) {
	sw, ok := s.st.(store.DedupSweeper)
	if !ok {
		return
	}
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			if err := sw.SweepDedup(ctx, now); err != nil && ctx.Err() == nil {
				s.log.Warn("sweep FIFO deduplication records", "err", err)
			}
		}
	}
}
