package sse

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/audit"
	"github.com/sealpost/sealpost/internal/envelope"
	"github.com/sealpost/sealpost/internal/kms"
	"github.com/sealpost/sealpost/internal/pgtest"
	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/store/pebblestore"
)

// TestMain stops the throwaway PostgreSQL of the multi-node test.
func TestMain(m *testing.M) { pgtest.Main(m) }

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

const (
	acctA, acctB = "111122223333", "444455556666"
	region       = "us-east-1"
	topicARN     = "arn:aws:sns:us-east-1:111122223333:orders"
)

var testRoot = []byte("0123456789abcdef0123456789abcdef")

func keyring(t testing.TB) *envelope.Keyring {
	kr, err := envelope.NewKeyring(testRoot)
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

func publisher(account, name string) kms.Caller {
	p := "arn:aws:iam::" + account + ":root"
	if name != "" {
		p = "arn:aws:iam::" + account + ":user/" + name
	}
	return kms.Caller{Account: account, Region: region, Principal: p, Authenticated: true, Secure: true, RequestID: "req"}
}

func rootOf(account string) kms.Caller { return publisher(account, "") }

// counts counts the Sealer's KMS calls through Options.OnKMSCall.
type counts struct {
	gen, dec atomic.Int64
	mu       sync.Mutex
	errs     []error
}

func (c *counts) hook(topic, keyARN, op string, err error) {
	switch op {
	case "GenerateDataKey":
		c.gen.Add(1)
	case "Decrypt":
		c.dec.Add(1)
	}
	if err != nil {
		c.mu.Lock()
		c.errs = append(c.errs, err)
		c.mu.Unlock()
	}
}

// env is a real kms.Service over a real store and audit log, and a Sealer
// whose Purge is wired to it.
type env struct {
	kms    *kms.Service
	sealer *Sealer
	clk    *testClock
	audit  *audit.Writer
	n      *counts
	key    kms.KeyMetadata
}

type envOpts struct {
	sse      Options
	kms      kms.Options
	noPurge  bool // do not wire kms.Options.Purge (revision check only)
	st       store.KeyStore
	noAudit  bool
	noKey    bool
	realTime bool
}

func newEnv(t testing.TB, o envOpts) *env {
	t.Helper()
	e := &env{clk: newClock(), n: &counts{}}
	st := o.st
	if st == nil {
		ps, err := pebblestore.Open(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ps.Close() })
		st = ps
	}
	ko := o.kms
	if !o.realTime {
		ko.Now = e.clk.Now
	}
	if !o.noAudit {
		w, err := audit.Open(t.TempDir(), audit.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { w.Close() })
		e.audit = w
		ko.Audit = w
	}
	if !o.noPurge {
		ko.Purge = func(id string) { e.sealer.Purge(id) }
	}
	e.kms = kms.New(st, keyring(t), ko)
	so := o.sse
	if !o.realTime {
		so.Now = e.clk.Now
	}
	so.OnKMSCall = e.n.hook
	e.sealer = New(e.kms, so)
	if !o.noKey {
		md, err := e.kms.CreateKey(context.Background(), rootOf(acctA), kms.CreateKeyInput{Description: "sse test"})
		if err != nil {
			t.Fatal(err)
		}
		e.key = md
	}
	return e
}

func aadOf(id string) envelope.BodyAAD {
	return envelope.BodyAAD{
		TopicARN: topicARN, MessageID: id, Timestamp: 1772366400000, Subject: "subject " + id,
		AttributesDigest: envelope.AttributesDigest(map[string]envelope.MessageAttribute{"k": {DataType: "String", StringValue: "v"}}),
	}
}

func (e *env) seal(t testing.TB, c kms.Caller, id string, body []byte) []byte {
	t.Helper()
	f, err := e.sealer.Seal(context.Background(), c, e.key.KeyID, aadOf(id), body)
	if err != nil {
		t.Fatalf("Seal %s: %v", id, err)
	}
	return f
}

func (e *env) open(t testing.TB, id string, frame []byte) []byte {
	t.Helper()
	pt, err := e.sealer.Open(context.Background(), acctA, region, frame, aadOf(id))
	if err != nil {
		t.Fatalf("Open %s: %v", id, err)
	}
	return pt
}

// records reads the audit log (after closing the writer).
func (e *env) records(t *testing.T) []audit.Record {
	t.Helper()
	if err := e.audit.Close(); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(e.audit.Path())
	if err != nil {
		t.Fatal(err)
	}
	var recs []audit.Record
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var r audit.Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		recs = append(recs, r)
	}
	return recs
}

func countEvents(recs []audit.Record, name string) int {
	n := 0
	for _, r := range recs {
		if r.EventName == name {
			n++
		}
	}
	return n
}

func wantKind(t *testing.T, what string, err, kind error) {
	t.Helper()
	if !errors.Is(err, kind) {
		t.Fatalf("%s: got %v, want %v", what, err, kind)
	}
}
