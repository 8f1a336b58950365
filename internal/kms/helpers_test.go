package kms

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/envelope"
	"github.com/sealpost/sealpost/internal/pgtest"
	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/store/pebblestore"
	"github.com/sealpost/sealpost/internal/store/pgstore"
)

// testClock is an injected clock that tests move by hand.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *testClock { return &testClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)} }

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// driver opens key stores of one kind. open returns an empty store;
// another returns a second handle on the same data (a second node), or nil
// when the driver cannot share its data between handles (embedded).
type driver struct {
	name string
	open func(t *testing.T) (st store.KeyStore, another func() store.KeyStore)
}

var drivers = []driver{
	{"pebble", func(t *testing.T) (store.KeyStore, func() store.KeyStore) {
		s, err := pebblestore.Open(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s, nil
	}},
	{"postgres", func(t *testing.T) (store.KeyStore, func() store.KeyStore) {
		dsn := pgtest.NewDatabase(t)
		open := func() store.KeyStore {
			s, err := pgstore.Open(context.Background(), dsn)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		}
		return open(), open
	}},
}

// eachDriver runs fn as a subtest per driver.
func eachDriver(t *testing.T, fn func(t *testing.T, d driver)) {
	for _, d := range drivers {
		t.Run(d.name, func(t *testing.T) { fn(t, d) })
	}
}

var coreTestRoot = []byte("0123456789abcdef0123456789abcdef")

func testKeyring(t testing.TB) *envelope.Keyring {
	kr, err := envelope.NewKeyring(coreTestRoot)
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

// newService returns a Service over st on clk.
func newService(t testing.TB, st store.KeyStore, clk *testClock, opt Options) *Service {
	opt.Now = clk.Now
	return New(st, testKeyring(t), opt)
}

const acctOne, acctTwo, testRegion = "111122223333", "444455556666", "us-east-1"

func callerOf(account string) Caller {
	return Caller{Account: account, Region: testRegion, Principal: "arn:aws:iam::" + account + ":root", Authenticated: true, RequestID: "req-1"}
}

var alice = callerOf(acctOne)

// wantKind fails unless err wraps kind (nil kind: no error).
func wantKind(t *testing.T, what string, err, kind error) {
	t.Helper()
	if kind == nil {
		if err != nil {
			t.Fatalf("%s: unexpected error %v", what, err)
		}
		return
	}
	if !errors.Is(err, kind) {
		t.Fatalf("%s: got error %v, want %v", what, err, kind)
	}
	var ke *Error
	if !errors.As(err, &ke) {
		t.Fatalf("%s: error %v is not an *Error", what, err)
	}
}

func mustCreate(t *testing.T, s *Service, c Caller) KeyMetadata {
	t.Helper()
	md, err := s.CreateKey(context.Background(), c, CreateKeyInput{Description: "test key"})
	if err != nil {
		t.Fatal(err)
	}
	return md
}
