package server

import (
	"bytes"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// flakyListener fails its first n Accepts with EMFILE, as accept4 does when
// the process is out of file descriptors, then accepts from a real listener.
type flakyListener struct {
	net.Listener
	mu sync.Mutex
	n  int
}

func (f *flakyListener) Accept() (net.Conn, error) {
	f.mu.Lock()
	fail := f.n > 0
	f.n--
	f.mu.Unlock()
	if fail {
		return nil, &net.OpError{Op: "accept", Net: "tcp", Addr: f.Addr(), Err: os.NewSyscallError("accept4", syscall.EMFILE)}
	}
	return f.Listener.Accept()
}

// syncBuffer is a log sink safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func listen(t *testing.T) net.Listener {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// acceptor calls Accept as net/http's Serve does (retrying temporary
// errors) and hands the connections over on a channel.
func acceptor(sl *sniffListener) <-chan net.Conn {
	ch := make(chan net.Conn, 16)
	go func() {
		defer close(ch)
		for {
			c, err := sl.Accept()
			if err == nil {
				ch <- c
				continue
			}
			if !temporaryAcceptError(err) {
				return
			}
		}
	}()
	return ch
}

// within returns the next accepted connection, or nil after d.
func within(ch <-chan net.Conn, d time.Duration) net.Conn {
	select {
	case c := <-ch:
		return c
	case <-time.After(d):
		return nil
	}
}

func dial(t *testing.T, addr string, first string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if first != "" {
		if _, err := io.WriteString(c, first); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

func TestAcceptLoopSurvivesTemporaryErrors(t *testing.T) {
	var logs syncBuffer
	fl := &flakyListener{Listener: listen(t), n: 5}
	sl := newSniffListener(fl, nil, 16, time.Second, slog.New(slog.NewTextHandler(&logs, nil)))
	defer sl.Close()
	ch := acceptor(sl)
	dial(t, sl.Addr().String(), "G")
	c := within(ch, 5*time.Second)
	if c == nil {
		t.Fatal("no connection accepted after temporary accept errors: the accept loop stopped")
	}
	c.Close()
	if got := sl.acceptErrors.Load(); got != 5 {
		t.Errorf("acceptErrors = %d, want 5", got)
	}
	out := logs.String()
	if !strings.Contains(out, "level=ERROR") || !strings.Contains(out, "too many open files") || !strings.Contains(out, "accepting connections again") {
		t.Errorf("accept errors not logged:\n%s", out)
	}
}

func TestAcceptLoopEndsOnClose(t *testing.T) {
	sl := newSniffListener(listen(t), nil, 16, time.Second, slog.New(slog.DiscardHandler))
	sl.Close()
	if _, err := sl.Accept(); err == nil {
		t.Fatal("Accept after Close succeeded")
	}
}

func TestMaxConnectionsHoldsExcessInBacklog(t *testing.T) {
	sl := newSniffListener(listen(t), nil, 2, time.Second, slog.New(slog.DiscardHandler))
	defer sl.Close()
	addr := sl.Addr().String()
	ch := acceptor(sl)
	var accepted []net.Conn
	for i := 0; i < 2; i++ {
		dial(t, addr, "G")
		c := within(ch, 5*time.Second)
		if c == nil {
			t.Fatalf("connection %d not accepted", i)
		}
		accepted = append(accepted, c)
	}
	dial(t, addr, "G")
	if c := within(ch, 200*time.Millisecond); c != nil {
		t.Fatalf("third connection accepted with --max-connections 2 (open: %d)", sl.openConns())
	}
	accepted[0].Close()
	if c := within(ch, 5*time.Second); c == nil {
		t.Fatal("waiting connection not accepted after a slot was freed")
	} else {
		c.Close()
	}
	accepted[1].Close()
}

func TestSilentConnectionLosesItsSlot(t *testing.T) {
	sl := newSniffListener(listen(t), nil, 1, 50*time.Millisecond, slog.New(slog.DiscardHandler))
	defer sl.Close()
	addr := sl.Addr().String()
	ch := acceptor(sl)
	silent := dial(t, addr, "")
	dial(t, addr, "G")
	c := within(ch, 5*time.Second)
	if c == nil {
		t.Fatal("a connection that sent nothing kept the only slot")
	}
	c.Close()
	silent.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := silent.Read(make([]byte, 1)); err == nil || os.IsTimeout(err) {
		t.Fatalf("silent connection not closed by the server: %v", err)
	}
}
