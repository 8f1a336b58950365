// Package pgtest starts a real, throwaway PostgreSQL server for tests.
//
// One server is shared by all tests of a test binary: the first call to Start
// (or NewDatabase) runs initdb into a temporary directory and starts postgres
// on a free port of 127.0.0.1; Main stops it and removes the directory after
// the tests ran. Use it from the package's TestMain:
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
//
// and give each test its own database with NewDatabase.
//
// The server binaries are found with `pg_config --bindir`, else in
// /usr/lib/postgresql/<version>/bin (the newest version). PostgreSQL refuses to
// run as root: when the tests run as root, initdb and postgres run as the
// unprivileged `postgres` system user (the Debian package creates it).
//
// Instead of starting a server, the tests use an existing one when
// SEALPOST_TEST_PG holds its DSN (the role must be allowed to create
// databases; databases created by NewDatabase are dropped at cleanup).
//
// When no server can be had, the test is skipped with the reason, except when
// CI=true: then it fails, so that a CI machine without PostgreSQL is noticed.
package pgtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvDSN names the environment variable that points the tests at an existing
// server instead of a throwaway one.
const EnvDSN = "SEALPOST_TEST_PG"

// shared is the one server of this test binary. Package-level state is
// unavoidable here: the server must outlive single tests and be stopped by
// Main.
var shared struct {
	once    sync.Once
	dsn     string // maintenance DSN (database "postgres")
	err     error  // why no server is available
	srv     *server
	dbs     atomic.Int64
	mu      sync.Mutex
	stopped bool
}

// Main runs the tests of m, then the cleanups, stops the shared server (if one was started) and
// exits with the tests' status.
func Main(m *testing.M, cleanups ...func()) {
	code := m.Run()
	for _, f := range cleanups {
		f()
	}
	shared.mu.Lock()
	shared.stopped = true
	srv := shared.srv
	shared.mu.Unlock()
	if srv != nil {
		if err := srv.stop(); err != nil {
			fmt.Fprintf(os.Stderr, "pgtest: stopping postgres: %v\n", err)
		}
	}
	os.Exit(code)
}

// Start returns the DSN of the shared server's maintenance database
// ("postgres"), starting the server on first use. If no server can be had,
// it skips tb (or fails it when CI=true).
func Start(tb testing.TB) string {
	tb.Helper()
	shared.once.Do(func() {
		if dsn := os.Getenv(EnvDSN); dsn != "" {
			shared.dsn = dsn
			shared.err = ping(dsn)
			if shared.err != nil {
				shared.err = fmt.Errorf("%s is set but the server does not answer: %w", EnvDSN, shared.err)
			}
			return
		}
		shared.mu.Lock()
		stopped := shared.stopped
		shared.mu.Unlock()
		if stopped {
			shared.err = errors.New("pgtest.Main already stopped the server")
			return
		}
		srv, err := startServer()
		if err != nil {
			shared.err = err
			return
		}
		shared.mu.Lock()
		shared.srv = srv
		shared.mu.Unlock()
		shared.dsn = srv.dsn("postgres")
	})
	if shared.err != nil {
		unavailable(tb, shared.err)
	}
	return shared.dsn
}

func unavailable(tb testing.TB, err error) {
	tb.Helper()
	if os.Getenv("CI") == "true" {
		tb.Fatalf("pgtest: PostgreSQL is required when CI=true: %v", err)
	}
	tb.Skipf("pgtest: no PostgreSQL for this test (set %s=<dsn> to use an existing server): %v", EnvDSN, err)
}

// NewDatabase creates a fresh, empty database on the shared server and
// returns its DSN. On a server named by SEALPOST_TEST_PG the database is
// dropped when tb ends; a throwaway server is deleted as a whole instead.
func NewDatabase(tb testing.TB) string {
	tb.Helper()
	base := Start(tb)
	var suffix [4]byte
	if _, err := rand.Read(suffix[:]); err != nil {
		tb.Fatal(err)
	}
	name := fmt.Sprintf("test_%d_%d_%s", shared.dbs.Add(1), os.Getpid(), hex.EncodeToString(suffix[:]))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		tb.Fatalf("pgtest: connect: %v", err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		tb.Fatalf("pgtest: create database: %v", err)
	}
	dsn, err := withDatabase(base, name)
	if err != nil {
		tb.Fatal(err)
	}
	if os.Getenv(EnvDSN) != "" {
		tb.Cleanup(func() { dropDatabase(tb, base, name) })
	}
	return dsn
}

func dropDatabase(tb testing.TB, base, name string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		tb.Logf("pgtest: drop database %s: %v", name, err)
		return
	}
	defer conn.Close(context.Background())
	// WITH (FORCE) (PostgreSQL 13+) ends sessions a test left open.
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name); err != nil {
			tb.Logf("pgtest: drop database %s: %v", name, err)
		}
	}
}

// withDatabase returns dsn (URL or keyword/value form) pointing at database db.
func withDatabase(dsn, db string) (string, error) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return "", fmt.Errorf("pgtest: parse DSN: %w", err)
		}
		u.Path = "/" + db
		return u.String(), nil
	}
	// In the keyword/value form a later keyword overrides an earlier one.
	return strings.TrimSpace(dsn) + " dbname=" + db, nil
}

func ping(dsn string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	return conn.Ping(ctx)
}

// server is a running throwaway postgres.
type server struct {
	dir  string // temporary directory: data/ and the Unix socket
	port int
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd exited
	werr error         // cmd.Wait's result, valid once done is closed
	log  *os.File
}

func (s *server) dsn(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", s.port, db)
}

// binDir finds the directory with initdb and postgres.
func binDir() (string, error) {
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		dir := strings.TrimSpace(string(out))
		if isFile(filepath.Join(dir, "initdb")) && isFile(filepath.Join(dir, "postgres")) {
			return dir, nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	// Newest major version first ("9.6" < "15" numerically).
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, dir := range dirs {
		if isFile(filepath.Join(dir, "initdb")) && isFile(filepath.Join(dir, "postgres")) {
			return dir, nil
		}
	}
	return "", errors.New("PostgreSQL server binaries not found (no `pg_config --bindir` with initdb, no /usr/lib/postgresql/*/bin); install the postgresql package")
}

func version(binDir string) float64 {
	v, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(binDir)), 64)
	return v
}

func isFile(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}

// credential returns the identity to run the server as: nil (ourselves)
// unless we are root, then the `postgres` system user.
func credential() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root, and PostgreSQL refuses to: no unprivileged `postgres` user to run it as (%v)", err)
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err1 != nil || err2 != nil {
		return nil, fmt.Errorf("user postgres: bad uid/gid %q/%q", u.Uid, u.Gid)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}, nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func startServer() (*server, error) {
	bin, err := binDir()
	if err != nil {
		return nil, err
	}
	cred, err := credential()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "sealpost-pgtest-")
	if err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			os.RemoveAll(dir)
		}
	}()
	if cred != nil {
		if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			return nil, err
		}
	}
	data := filepath.Join(dir, "data")

	initdb := exec.Command(filepath.Join(bin, "initdb"), "-D", data, "-U", "postgres",
		"--auth=trust", "-E", "UTF8", "--locale=C",
		"--no-sync") // only initdb skips fsync; the server runs with fsync=on
	initdb.Dir = dir
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if out, err := initdb.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("initdb: %v\n%s", err, bytes.TrimSpace(out))
	}

	// A port found free may be taken before postgres binds it: try a few.
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		srv, err := launch(bin, dir, data, port, cred)
		if err == nil {
			ok = true
			return srv, nil
		}
		lastErr = err
	}
	return nil, lastErr
}

func launch(bin, dir, data string, port int, cred *syscall.Credential) (*server, error) {
	logf, err := os.Create(filepath.Join(dir, "postgres.log"))
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(filepath.Join(bin, "postgres"),
		"-D", data,
		"-k", dir,
		"-c", "listen_addresses=127.0.0.1",
		"-p", strconv.Itoa(port),
		"-c", "fsync=on",
		"-c", "max_connections=200",
	)
	cmd.Dir = dir
	cmd.Stdout = logf
	cmd.Stderr = logf
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Credential: cred,
		Setpgid:    true,            // a terminal's ^C reaches the tests, not postgres directly
		Pdeathsig:  syscall.SIGQUIT, // if the test binary dies, postgres follows
	}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start postgres: %w", err)
	}
	s := &server{dir: dir, port: port, cmd: cmd, done: make(chan struct{}), log: logf}
	go func() {
		s.werr = cmd.Wait()
		close(s.done)
	}()
	if err := s.waitReady(30 * time.Second); err != nil {
		s.kill()
		logf.Close()
		tail, _ := os.ReadFile(logf.Name())
		return nil, fmt.Errorf("%w\npostgres log:\n%s", err, lastLines(tail, 20))
	}
	return s, nil
}

// waitReady polls until the server accepts a connection, it exits, or the
// timeout passes.
func (s *server) waitReady(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	dsn := s.dsn("postgres")
	for {
		select {
		case <-s.done:
			return fmt.Errorf("postgres exited during startup: %v", s.werr)
		default:
		}
		err := ping(dsn)
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("postgres did not accept connections within %v: %v", timeout, err)
		}
		select {
		case <-s.done:
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// stop shuts the server down (SIGINT: fast shutdown; then SIGQUIT; then
// SIGKILL), waits for it and removes its directory.
func (s *server) stop() error {
	defer os.RemoveAll(s.dir)
	defer s.log.Close()
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGQUIT} {
		_ = s.cmd.Process.Signal(sig)
		select {
		case <-s.done:
			return nil
		case <-time.After(15 * time.Second):
		}
	}
	s.kill()
	return errors.New("postgres ignored SIGINT and SIGQUIT; killed")
}

func (s *server) kill() {
	// The postmaster's children are in its process group (Setpgid).
	_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
	<-s.done
}

func lastLines(b []byte, n int) string {
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
