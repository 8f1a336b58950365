package server

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/sealpost/sealpost/internal/datadir"
)

// DevTLS is the generated development PKI: a CA and a server certificate
// for localhost, 127.0.0.1 and ::1, kept in <data-dir>/tls and reused.
type DevTLS struct {
	CAFile   string
	CertFile string
	KeyFile  string
}

// EnsureDevTLS creates the development CA and server certificate in dir
// unless they exist.
func EnsureDevTLS(dir string) (DevTLS, error) {
	d := DevTLS{
		CAFile:   filepath.Join(dir, "ca.pem"),
		CertFile: filepath.Join(dir, "server.pem"),
		KeyFile:  filepath.Join(dir, "server-key.pem"),
	}
	if fileExists(d.CAFile) && fileExists(d.CertFile) && fileExists(d.KeyFile) {
		if _, err := tls.LoadX509KeyPair(d.CertFile, d.KeyFile); err == nil {
			return d, nil
		}
	}
	if err := os.MkdirAll(dir, datadir.DirMode); err != nil {
		return d, err
	}
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return d, err
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "Sealpost development CA", Organization: []string{"Sealpost"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(10, 0, 0),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
		SubjectKeyId:          keyID(&caKey.PublicKey),
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return d, err
	}
	caCert, _ := x509.ParseCertificate(caDER)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return d, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:   serial(),
		Subject:        pkix.Name{CommonName: "localhost", Organization: []string{"Sealpost"}},
		NotBefore:      now.Add(-time.Hour),
		NotAfter:       now.AddDate(2, 0, 0),
		KeyUsage:       x509.KeyUsageDigitalSignature,
		ExtKeyUsage:    []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:       []string{"localhost"},
		IPAddresses:    []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("::1")},
		SubjectKeyId:   keyID(&key.PublicKey),
		AuthorityKeyId: caCert.SubjectKeyId,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
	if err != nil {
		return d, err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return d, err
	}
	if err := datadir.WriteFile(d.KeyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), datadir.FileMode); err != nil {
		return d, err
	}
	if err := datadir.WriteFile(d.CertFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), datadir.FileMode); err != nil {
		return d, err
	}
	if err := datadir.WriteFile(d.CAFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), datadir.FileMode); err != nil {
		return d, err
	}
	// The CA key is not kept: nothing else is ever signed with it.
	return d, nil
}

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	return n
}

func keyID(pub *ecdsa.PublicKey) []byte {
	der, _ := x509.MarshalPKIXPublicKey(pub)
	sum := sha256.Sum256(der)
	return sum[:20]
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// sniffListener serves TLS and plain HTTP on one port: a connection whose
// first byte is 0x16 (a TLS handshake record) is wrapped in tls.Server.
//
// It holds at most cap(slots) connections open at a time: the accept loop
// takes a slot before it accepts, and a connection gives its slot back when
// it is closed, so connections beyond the cap wait in the kernel's listen
// backlog until one closes (as golang.org/x/net/netutil.LimitListener
// does). A connection that sends nothing within firstByte is closed.
//
// A temporary accept error (EMFILE and ENFILE when descriptors run out,
// ECONNABORTED, ENOBUFS, ENOMEM, a timeout) does not end the loop: it logs
// the error and retries after a delay that starts at 5ms and doubles up to
// 1s, as net/http does. Only the closed listener or a permanent error end
// the loop; that error is returned by Accept.
type sniffListener struct {
	net.Listener
	cfg       *tls.Config
	log       *slog.Logger
	firstByte time.Duration
	slots     chan struct{}
	conns     chan net.Conn
	errs      chan error
	done      chan struct{}
	once      sync.Once
	// acceptErrors counts temporary accept errors (retried).
	acceptErrors atomic.Int64
}

const (
	acceptRetryMin = 5 * time.Millisecond
	acceptRetryMax = time.Second
)

func newSniffListener(l net.Listener, cfg *tls.Config, maxConns int, firstByte time.Duration, log *slog.Logger) *sniffListener {
	s := &sniffListener{
		Listener:  l,
		cfg:       cfg,
		log:       log,
		firstByte: firstByte,
		slots:     make(chan struct{}, maxConns),
		conns:     make(chan net.Conn),
		errs:      make(chan error, 1),
		done:      make(chan struct{}),
	}
	go s.loop()
	return s
}

func (s *sniffListener) loop() {
	var delay time.Duration
	failures := 0
	for {
		select {
		case s.slots <- struct{}{}:
		case <-s.done:
			return
		}
		c, err := s.Listener.Accept()
		if err != nil {
			<-s.slots
			if s.closed() {
				return
			}
			if !temporaryAcceptError(err) {
				s.log.Error("accept failed; no longer accepting connections", "err", err)
				select {
				case s.errs <- err:
				case <-s.done:
				}
				return
			}
			s.acceptErrors.Add(1)
			failures++
			delay = min(max(2*delay, acceptRetryMin), acceptRetryMax)
			s.log.Error("accept failed; retrying", "err", err, "retry_in", delay, "failures", failures, "open_connections", len(s.slots))
			t := time.NewTimer(delay)
			select {
			case <-t.C:
			case <-s.done:
				t.Stop()
				return
			}
			continue
		}
		if failures > 0 {
			s.log.Warn("accepting connections again", "failures", failures)
			failures, delay = 0, 0
		}
		go s.sniff(&slotConn{Conn: c, slots: s.slots})
	}
}

// temporaryAcceptError reports whether an Accept error can go away by itself.
func temporaryAcceptError(err error) bool {
	if errors.Is(err, net.ErrClosed) {
		return false
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	for _, errno := range []syscall.Errno{syscall.EMFILE, syscall.ENFILE, syscall.ENOBUFS, syscall.ENOMEM,
		syscall.ECONNABORTED, syscall.ECONNRESET, syscall.EINTR, syscall.EAGAIN, syscall.EPROTO, syscall.EPERM} {
		if errors.Is(err, errno) {
			return true
		}
	}
	return false
}

func (s *sniffListener) closed() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// openConns is the number of connections holding a slot.
func (s *sniffListener) openConns() int { return len(s.slots) }

// slotConn gives its listener slot back when it is closed (once).
type slotConn struct {
	net.Conn
	slots chan struct{}
	once  sync.Once
}

func (c *slotConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { <-c.slots })
	return err
}

// peekConn is a conn whose first bytes were read into a bufio.Reader.
type peekConn struct {
	net.Conn
	r *bufio.Reader
}

func (p *peekConn) Read(b []byte) (int, error) { return p.r.Read(b) }

func (s *sniffListener) sniff(c net.Conn) {
	c.SetReadDeadline(time.Now().Add(s.firstByte))
	br := bufio.NewReader(c)
	first, err := br.Peek(1)
	c.SetReadDeadline(time.Time{})
	if err != nil {
		c.Close()
		return
	}
	var out net.Conn = &peekConn{Conn: c, r: br}
	if first[0] == 0x16 {
		out = tls.Server(out, s.cfg)
	}
	select {
	case s.conns <- out:
	case <-s.done:
		c.Close()
	}
}

func (s *sniffListener) Accept() (net.Conn, error) {
	select {
	case c := <-s.conns:
		return c, nil
	case err := <-s.errs:
		return nil, err
	case <-s.done:
		return nil, net.ErrClosed
	}
}

func (s *sniffListener) Close() error {
	s.once.Do(func() { close(s.done) })
	return s.Listener.Close()
}

func loadTLS(certFile, keyFile string) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("tls: %w", err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12, NextProtos: []string{"h2", "http/1.1"}}, nil
}
