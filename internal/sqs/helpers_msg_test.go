package sqs

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/envelope"
	"github.com/sealpost/sealpost/internal/pgtest"
	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/store/pebblestore"
	"github.com/sealpost/sealpost/internal/store/pgstore"
)

// TestMain stops the throwaway PostgreSQL the tests on that driver start.
func TestMain(m *testing.M) { pgtest.Main(m) }

// clock is an injected clock tests advance by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// fakeSealer "seals" by XOR with a key stream derived from the AAD (never
// leaving the plaintext in the frame) and checks on Open that the frame is
// opened for the queue and AAD it was sealed with.
type fakeSealer struct {
	mu      sync.Mutex
	seals   int
	opens   int
	failFor string // Open fails for frames whose plaintext starts with this
	sealErr error
}

func fakeStream(aad envelope.BodyAAD, n int) []byte {
	seed := sha256.Sum256([]byte(aad.TopicARN + "\x00" + aad.MessageID + "\x00" + time.UnixMilli(aad.Timestamp).String() +
		"\x00" + string(aad.AttributesDigest[:])))
	out := make([]byte, 0, n+32)
	for len(out) < n {
		out = append(out, seed[:]...)
		seed = sha256.Sum256(seed[:])
	}
	return out[:n]
}

func (f *fakeSealer) Seal(ctx context.Context, c *Caller, queueARN, keyID string, reuse time.Duration, aad envelope.BodyAAD, plaintext []byte) ([]byte, string, error) {
	f.mu.Lock()
	f.seals++
	err := f.sealErr
	f.mu.Unlock()
	if err != nil {
		return nil, "", err
	}
	if aad.TopicARN != queueARN {
		return nil, "", errors.New("fake sealer: AAD of another queue")
	}
	ks := fakeStream(aad, len(plaintext))
	frame := append([]byte("FAKE1"), plaintext...)
	for i := range ks {
		frame[5+i] ^= ks[i]
	}
	key := "arn:aws:kms:us-east-1:000000000000:key/sqs-managed"
	if keyID != "" {
		key = "arn:aws:kms:us-east-1:000000000000:key/" + keyID
	}
	return frame, key, nil
}

func (f *fakeSealer) Open(ctx context.Context, c *Caller, sealedFor string, managed bool, frame []byte, aad envelope.BodyAAD) ([]byte, error) {
	f.mu.Lock()
	f.opens++
	fail := f.failFor
	f.mu.Unlock()
	if !bytes.HasPrefix(frame, []byte("FAKE1")) || aad.TopicARN != sealedFor {
		return nil, errors.New("fake sealer: not a frame")
	}
	ks := fakeStream(aad, len(frame)-5)
	plain := bytes.Clone(frame[5:])
	for i := range ks {
		plain[i] ^= ks[i]
	}
	if fail != "" && bytes.HasPrefix(plain, []byte(fail)) {
		return nil, errf(ErrKMSAccessDenied, "The ciphertext refers to a customer master key that does not exist, does not exist in this region, or you are not allowed to access.")
	}
	return plain, nil
}

// env is a Service over a real store with an injected clock.
type env struct {
	t     testing.TB
	s     *Service
	st    store.QueueStore
	clk   *clock
	dir   string // the pebble directory ("" on PostgreSQL)
	c     *Caller
	ctx   context.Context
	seal  *fakeSealer
	kind  string
	close func()
}

func newEnv(t testing.TB, kind string) *env {
	t.Helper()
	e := &env{t: t, clk: newClock(), ctx: context.Background(), seal: &fakeSealer{}, kind: kind,
		c: &Caller{Account: "000000000000", Region: "us-east-1", Principal: "arn:aws:iam::000000000000:root", Signed: true, Secure: true, Authenticated: true}}
	switch kind {
	case "postgres":
		st, err := pgstore.Open(context.Background(), pgtest.NewDatabase(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		e.st = st
	default:
		e.dir = filepath.Join(t.TempDir(), "db")
		st, err := pebblestore.Open(e.dir)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		e.st = st
	}
	e.s = New(e.st, Options{PublicURL: "http://localhost:9911", Now: e.clk.Now, Sealer: e.seal, PollInterval: 20 * time.Millisecond})
	t.Cleanup(e.s.Drain)
	return e
}

// drivers runs f on pebble and on PostgreSQL; with
// SEALPOST_TEST_STORE=postgres (test.sh's PostgreSQL pass, which reruns the
// package for the control-plane suite) only on PostgreSQL.
func drivers(t *testing.T, f func(t *testing.T, e *env)) {
	kinds := []string{"pebble", "postgres"}
	if os.Getenv("SEALPOST_TEST_STORE") == "postgres" {
		kinds = kinds[1:]
	}
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) { f(t, newEnv(t, kind)) })
	}
}

func (e *env) queue(name string, attrs map[string]string) string {
	e.t.Helper()
	u, err := e.s.CreateQueue(e.ctx, e.c, name, attrs, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	return u
}

func (e *env) send(url, body string) SendResult {
	e.t.Helper()
	r, err := e.s.SendMessage(e.ctx, e.c, url, SendInput{Body: body})
	if err != nil {
		e.t.Fatal(err)
	}
	return r
}

func (e *env) receive(url string, in ReceiveInput) []Message {
	e.t.Helper()
	if in.WaitTimeSeconds == nil {
		in.WaitTimeSeconds = intp(0)
	}
	ms, err := e.s.ReceiveMessage(e.ctx, e.c, url, in)
	if err != nil {
		e.t.Fatal(err)
	}
	return ms
}

func intp(n int) *int { return &n }

// kindOf is the error kind of err (nil for no *Error).
func kindOf(err error) error {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return nil
}
