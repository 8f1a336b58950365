// Package server is Sealpost's composition root: it opens the store, builds
// the domains and protocol handlers, and serves HTTP and HTTPS on one port.
//
// Every request passes one front door (front.go): Host check, body read
// under maxBodyBytes, SigV4 verification against the protocol's service
// (sns, sts, kms, sqs) with the secret and principal from one lookup in the
// current credentials file (reloaded by ReloadCredentials), scope region
// check, then dispatch to the protocol adapter, which answers in its own
// error format (also for panics). Unsigned: /health, /metrics, the signing
// certificate and the SubscribeURL/UnsubscribeURL GETs.
//
// Keys (rootkey.go): New obtains the root key (config.RootKeySource, or the
// generated development key <data-dir>/root.key, warned about at every
// start), checks it against the root record kept in the store (so every node
// sharing a PostgreSQL database is checked against the same value; a wrong
// key refuses to start with an error wrapping envelope.ErrWrongRootKey),
// derives the envelope.Keyring and wipes the root key. The keyring seals the
// KMS key material and the message-signing key, which is kept in the store
// as well (snssig.LoadSealed). The KMS audit log (<data-dir>/audit) is closed
// after the handlers have drained, before the store.
package server

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sealpost/sealpost/internal/audit"
	"github.com/sealpost/sealpost/internal/config"
	"github.com/sealpost/sealpost/internal/datadir"
	"github.com/sealpost/sealpost/internal/delivery"
	"github.com/sealpost/sealpost/internal/envelope"
	"github.com/sealpost/sealpost/internal/identity"
	"github.com/sealpost/sealpost/internal/kms"
	"github.com/sealpost/sealpost/internal/kmsapi"
	"github.com/sealpost/sealpost/internal/netguard"
	"github.com/sealpost/sealpost/internal/sigv4"
	"github.com/sealpost/sealpost/internal/sns"
	"github.com/sealpost/sealpost/internal/snsapi"
	"github.com/sealpost/sealpost/internal/snssig"
	"github.com/sealpost/sealpost/internal/sqs"
	"github.com/sealpost/sealpost/internal/sqsapi"
	"github.com/sealpost/sealpost/internal/sse"
	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/store/pebblestore"
)

// maxBodyBytes caps request bodies: a 256 KiB message URL-encoded can take
// three times its size, plus attributes.
const maxBodyBytes = 4 << 20

// Server is a running Sealpost.
type Server struct {
	cfg *config.Config
	log *slog.Logger
	st  store.Store
	ids *identity.Reloader
	// hosts are the host names (besides IP addresses and localhost) the
	// Host header may carry.
	hosts  map[string]struct{}
	now    func() time.Time // SigV4 clock; nil = time.Now
	keys   *sigv4.KeyCache  // derived signing keys
	sns    *sns.Service
	api    *snsapi.API
	sign   *snssig.Signer
	kr     *envelope.Keyring
	audit  *audit.Writer
	kms    *kms.Service
	kmsAPI *kmsapi.API
	sqs    *sqs.Service
	sqsAPI *sqsapi.API
	eng    *delivery.Engine
	met    *metrics
	// sealer seals and opens the bodies of SSE topics.
	sealer *sse.Sealer
	tls    DevTLS
	http   *http.Server
	ln     net.Listener
	gate   requestGate

	// kmsSkew moves the KMS clock (deletion and rotation dates) ahead of
	// the wall clock; only tests set it (kms_export_test.go).
	kmsSkew atomic.Int64
	// sqsSkew likewise moves the SQS clock (visibility, delays, retention).
	sqsSkew atomic.Int64
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
func New(ctx context.Context, cfg *config.Config, log *slog.Logger) (_ *Server, err error) {
	datadir.RestrictUmask()
	if err := prepareDataDir(cfg.DataDir, log); err != nil {
		return nil, err
	}
	ids, err := identity.NewReloader(cfg.Credentials, identity.Options{CompilePolicy: compileIdentityPolicy})
	if err != nil {
		return nil, err
	}
	// undo closes what New opened, newest first, when it fails.
	var undo []func()
	defer func() {
		if err != nil {
			for i := len(undo) - 1; i >= 0; i-- {
				undo[i]()
			}
		}
	}()
	// Bind first: with port 0 the public URL depends on the port we get.
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, err
	}
	undo = append(undo, func() { ln.Close() })
	if cfg.PublicURLDefaulted {
		cfg.PublicURL = "http://" + ln.Addr().String()
	}
	st, err := openStore(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	undo = append(undo, func() { st.Close() })
	ks, ok := st.(store.KeyStore)
	if !ok {
		return nil, fmt.Errorf("store %T does not implement the key store KMS needs", st)
	}
	where := "the embedded store in " + filepath.Join(cfg.DataDir, "store")
	if cfg.Store != "" && cfg.Store != "pebble" {
		where = "the PostgreSQL database"
	}
	root, warn, err := loadRootKey(ctx, cfg, ks, where)
	if err != nil {
		return nil, err
	}
	logRootKeyWarning(log, warn)
	kr, err := envelope.NewKeyring(root)
	envelope.Wipe(root)
	if err != nil {
		return nil, fmt.Errorf("root key: %w", err)
	}
	undo = append(undo, kr.Wipe)
	hostname, _ := os.Hostname()
	s := &Server{cfg: cfg, log: log, st: st, ids: ids, ln: ln, kr: kr,
		hosts: servedHosts(cfg.Listen, cfg.PublicURL, hostname, cfg.AllowedHosts), keys: sigv4.NewKeyCache(0)}
	guard := netguard.New(cfg.SubscriberAllow, cfg.SubscriberDeny)
	s.audit, err = audit.Open(audit.Dir(cfg.DataDir), audit.Options{Logger: log})
	if err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	undo = append(undo, func() { s.audit.Close() })
	s.met = newMetrics()
	// KMS purges the Sealer's cached data keys of a key on DisableKey,
	// ScheduleKeyDeletion and PutKeyPolicy; the Sealer needs KMS: the
	// purge hook reaches the Sealer through s.sealer, set right below,
	// before any request is served.
	// With several nodes on PostgreSQL, DisableKey, ScheduleKeyDeletion and
	// PutKeyPolicy wait the KMS cache TTL (cfg.CacheTTL) before they
	// return, so that every node has refused the old key state and dropped
	// its cached data keys of the key by then (PurgeWait).
	s.kms = kms.New(ks, kr, kms.Options{Audit: s.audit, Log: log, CacheTTL: cfg.CacheTTL, Now: s.kmsNow,
		Purge: s.purgeDataKeys, PurgeWait: cfg.Store != "" && cfg.Store != "pebble"})
	s.sealer = sse.New(s.kms, sse.Options{ReusePeriod: cfg.SSEDataKeyReuse, OnKMSCall: s.met.kmsCall})
	sealer := countingSealer{s: s.sealer, m: s.met}
	s.sns = sns.New(st, sns.Options{PublicURL: cfg.PublicURL, CacheTTL: cfg.CacheTTL, CheckEndpoint: endpointChecker(guard),
		Sealer: sealer, DedupKey: kr.DedupKey()})
	s.api = snsapi.New(s.sns, log)
	s.sign, err = snssig.LoadSealed(ctx, filepath.Join(cfg.DataDir, "signing"), signingVault{ks}, kr, log)
	if err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	s.kmsAPI = kmsapi.New(s.kms, log)
	qs, ok := st.(store.QueueStore)
	if !ok {
		return nil, fmt.Errorf("store %T does not implement the queue store SQS needs", st)
	}
	s.sqs = sqs.New(qs, sqs.Options{PublicURL: cfg.PublicURL, Log: log, Now: s.sqsNow, Sealer: queueSealer{s: s.sealer, m: s.met}})
	s.sqsAPI = sqsapi.New(s.sqs, log)
	hc, err := subscriberClient(cfg.SubscriberCAs, guard)
	if err != nil {
		return nil, err
	}
	s.eng = delivery.New(st, s.sns, s.sign, log, delivery.Options{HTTPClient: hc, LeaseFor: cfg.DeliveryLease, Owner: cfg.NodeID, Opener: sealer,
		Queues: queueBridge{s.sqs}})
	s.met.delivery(s.eng)
	if cfg.TLSCert == "" {
		s.tls, err = EnsureDevTLS(filepath.Join(cfg.DataDir, "tls"))
		if err != nil {
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
	for _, sub := range []string{"store", "tls", "signing", "audit"} {
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

// purgeDataKeys is kms.Options.Purge: it drops the Sealer's cached data
// keys of a CMK.
func (s *Server) purgeDataKeys(keyID string) {
	if s.sealer != nil {
		s.sealer.Purge(keyID)
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
	sqsDone := make(chan struct{})
	go func() {
		defer close(sqsDone)
		s.sqs.Run(dctx)
	}()
	var err error
	select {
	case err = <-errc:
		s.log.Error("listener failed; shutting down", "err", err)
	case <-ctx.Done():
	}
	// Long polls in flight answer (empty) now instead of holding shutdown.
	s.sqs.Drain()
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
	<-sqsDone
	if !drained {
		s.log.Error("requests still running after shutdown; leaving the store open", "in_flight", s.gate.inFlight())
		if err == nil {
			err = errors.New("shutdown: requests still running; store not closed")
		}
		return err
	}
	// Handlers have drained: no KMS call can append any more.
	if cerr := s.audit.Close(); cerr != nil && err == nil {
		err = fmt.Errorf("audit log: %w", cerr)
	}
	if cerr := s.st.Close(); err == nil {
		err = cerr
	}
	s.kr.Wipe()
	return err
}

// ServeHTTP is the front door (see front.go): host check, the unsigned
// endpoints (/health, /metrics, the signing certificate), then every API
// request through serveAPI. A panic answers InternalError 500 in the
// request's own protocol.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	info := &reqInfo{proto: protocolOf(r)}
	if !s.gate.enter() {
		// Only after shutdown gave up waiting: the store may be closing.
		w.Header().Set("Connection", "close")
		writeError(w, info.proto, "ServiceUnavailable", 503, "Sealpost is shutting down")
		return
	}
	defer s.gate.leave()
	rec := &statusRecorder{ResponseWriter: w}
	w = rec
	api := false // counted and logged as an API request
	defer func() {
		if v := recover(); v != nil {
			s.log.Error("panic serving request", "panic", fmt.Sprint(v), "service", info.proto.service(), "action", info.action)
			if rec.status == 0 {
				writeError(rec, info.proto, "InternalError", 500, "internal error")
			}
			api = true
		}
		if !api {
			return
		}
		action := info.action
		if action == "" {
			action = "unknown" // bound the label's values
		}
		s.met.requests.WithLabelValues(info.proto.service(), action, strconv.Itoa(rec.status)).Inc()
		s.logRequest(r, info, rec.status)
	}()
	if !s.hostAllowed(r.Host) {
		writeError(w, info.proto, "AccessDenied", 403, "Host '"+clipLog(r.Host)+"' is not a name this Sealpost serves (add it with --allowed-hosts)")
		return
	}
	switch {
	case r.URL.Path == "/health" || r.URL.Path == "/_health":
		w.Header().Set("Content-Type", "application/json")
		auth := "on"
		if s.cfg.AuthOff {
			auth = "off"
		}
		w.Write([]byte(`{"status":"ok","auth":"` + auth + `","root_key":"` + s.cfg.RootKey.Kind() + `"}` + "\n"))
		return
	case r.Method == http.MethodGet && r.URL.Path == "/metrics":
		s.met.handler.ServeHTTP(w, r)
		return
	case r.Method == http.MethodGet && r.URL.Path == "/"+s.sign.CertName():
		w.Header().Set("Content-Type", "application/x-pem-file")
		w.Write(s.sign.CertPEM())
		return
	}
	api = true
	s.serveAPI(rec, r, info)
}

// ReloadCredentials reads the credentials file again (SIGHUP). A valid file
// takes effect at once: a removed key is refused by every request that
// starts afterwards. A bad file keeps the current one; the error says why
// (never a secret).
func (s *Server) ReloadCredentials() error {
	if err := s.ids.Reload(); err != nil {
		s.log.Error("credentials file not reloaded; keeping the previous one", "path", s.ids.Path(), "err", err)
		return err
	}
	st := s.ids.Directory().Stats()
	s.log.Info("credentials reloaded", "path", s.ids.Path(), "accounts", st.Accounts, "users", st.Users, "access_keys", st.AccessKeys, "policies", st.Policies)
	return nil
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

// janitor runs the periodic chores once a minute until ctx ends: it
// deletes expired FIFO deduplication records (expired records are ignored
// when read; this only frees space) and lets KMS delete keys whose deletion
// date has passed and rotate keys that are due.
func (s *Server) janitor(ctx context.Context) {
	sw, _ := s.st.(store.DedupSweeper)
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			if sw != nil {
				if err := sw.SweepDedup(ctx, now); err != nil && ctx.Err() == nil {
					s.log.Warn("sweep FIFO deduplication records", "err", err)
				}
			}
			s.sweepKeys(ctx)
		}
	}
}

// kmsNow is the KMS clock: the wall clock plus kmsSkew (0 but in tests).
func (s *Server) kmsNow() time.Time { return time.Now().Add(time.Duration(s.kmsSkew.Load())) }

// sqsNow is the SQS clock: the wall clock plus sqsSkew (0 but in tests).
func (s *Server) sqsNow() time.Time { return time.Now().Add(time.Duration(s.sqsSkew.Load())) }

// sweepKeys runs one KMS sweep. Its failures are logged at debug level: the
// next sweep retries, and keys past their deletion date are refused anyway.
func (s *Server) sweepKeys(ctx context.Context) {
	deleted, rotated, err := s.kms.Sweep(ctx)
	switch {
	case err != nil && ctx.Err() == nil:
		s.log.Debug("KMS sweep", "err", err)
	case deleted > 0 || rotated > 0:
		s.log.Info("KMS sweep", "deleted_keys", deleted, "rotated_keys", rotated)
	}
}
