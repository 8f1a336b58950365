package sqs

import (
	"bytes"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/store"
)

// scanDir reports the files under dir that contain needle, as is or
// base64-encoded at any alignment (pebblestore keeps messages as JSON,
// where bytes are base64).
func scanDir(t *testing.T, dir string, needle []byte) []string {
	t.Helper()
	needles := [][]byte{needle}
	for off := range 3 {
		enc := base64.StdEncoding.EncodeToString(append(make([]byte, off), needle...))
		needles = append(needles, []byte(enc[4:len(enc)-4]))
	}
	var hits []string
	filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return nil
		}
		b, err := os.ReadFile(p)
		for _, n := range needles {
			if err == nil && bytes.Contains(b, n) {
				hits = append(hits, p)
				break
			}
		}
		return nil
	})
	return hits
}

func TestSealedBodies(t *testing.T) {
	e := newEnv(t, "pebble")
	secret := "PLAINTEXT-CANARY-" + strings.Repeat("7", 40)
	managed := e.queue("managed", map[string]string{"SqsManagedSseEnabled": "true"})
	cmk := e.queue("cmk", map[string]string{"KmsMasterKeyId": "alias/mine"})
	clearQ := e.queue("clear", map[string]string{"SqsManagedSseEnabled": "false"})
	for _, u := range []string{managed, cmk} {
		for i := range 20 {
			if _, err := e.s.SendMessage(e.ctx, e.c, u, SendInput{Body: secret + string(rune('a'+i)),
				Attributes: map[string]MessageAttribute{"k": {DataType: "String", StringValue: "v"}}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	e.send(clearQ, "CLEAR-CONTROL-CANARY")
	if e.seal.seals != 40 {
		t.Fatalf("%d seals", e.seal.seals)
	}
	// Receive some (a leased message is rewritten), then scan everything pebble wrote.
	got := e.receive(managed, ReceiveInput{MaxNumberOfMessages: 10, MessageAttributeNames: []string{"All"}})
	if len(got) != 10 || !strings.HasPrefix(got[0].Body, secret) || got[0].MD5OfBody != md5Hex(got[0].Body) {
		t.Fatalf("got %d, %+v", len(got), got[0])
	}
	got = e.receive(cmk, ReceiveInput{MaxNumberOfMessages: 10})
	if len(got) != 10 || !strings.HasPrefix(got[0].Body, secret) {
		t.Fatalf("cmk: got %d", len(got))
	}
	if err := e.st.(interface{ Close() error }).Close(); err != nil {
		t.Fatal(err)
	}
	if hits := scanDir(t, e.dir, []byte("PLAINTEXT-CANARY")); len(hits) != 0 {
		t.Fatalf("plaintext at rest in %v", hits)
	}
	if hits := scanDir(t, e.dir, []byte("CLEAR-CONTROL-CANARY")); len(hits) == 0 {
		t.Fatal("the scan does not see a clear body: it proves nothing")
	}
}

func TestSealedNoSealer(t *testing.T) {
	e := newEnv(t, "pebble")
	u := e.queue("enc", map[string]string{"SqsManagedSseEnabled": "true"})
	e.s.opts.Sealer = nil
	if _, err := e.s.SendMessage(e.ctx, e.c, u, SendInput{Body: "x"}); kindOf(err) != ErrKMSOptInRequired {
		t.Fatalf("got %v", err)
	}
	ok, failed, err := e.s.SendMessageBatch(e.ctx, e.c, u, []SendEntry{{ID: "a", SendInput: SendInput{Body: "x"}}})
	if err != nil || len(ok) != 0 || len(failed) != 1 || failed[0].Code != "KMS.OptInRequired" {
		t.Fatalf("batch %+v %+v %v", ok, failed, err)
	}
	k, _ := queueKeyOf(e.c, u)
	counts, _ := e.st.Counts(e.ctx, k, e.clk.Now())
	if counts != (store.QueueCounts{}) {
		t.Fatalf("stored %+v", counts)
	}
}

func TestSealedOpenFailure(t *testing.T) {
	drivers(t, func(t *testing.T, e *env) {
		u := e.queue("enc", map[string]string{"KmsMasterKeyId": "k1"})
		e.send(u, "good-1")
		e.clk.Add(time.Millisecond)
		e.send(u, "bad-2")
		e.clk.Add(time.Millisecond)
		e.send(u, "good-3")
		e.seal.failFor = "bad"
		_, err := e.s.ReceiveMessage(e.ctx, e.c, u, ReceiveInput{MaxNumberOfMessages: 10, WaitTimeSeconds: intp(0)})
		if kindOf(err) != ErrKMSAccessDenied {
			t.Fatalf("got %v", err)
		}
		// The others are visible again at once; the failing one after its timeout.
		ms := e.receive(u, ReceiveInput{MaxNumberOfMessages: 10})
		if len(ms) != 2 {
			t.Fatalf("got %d", len(ms))
		}
		e.seal.failFor = ""
		e.clk.Add(31 * time.Second)
		ms = e.receive(u, ReceiveInput{MaxNumberOfMessages: 10, AttributeNames: []string{"ApproximateReceiveCount"}})
		if len(ms) != 3 {
			t.Fatalf("after the timeout: %d", len(ms))
		}
	})
}
