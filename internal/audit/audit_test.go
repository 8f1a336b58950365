package audit

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

var fixedNow = func() time.Time { return time.Date(2026, 11, 30, 0, 7, 1, 123456789, time.UTC) }

func testEvent(i int) Event {
	key := "arn:aws:kms:us-east-1:000000000000:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	return Event{
		Name:      "Decrypt",
		Region:    "us-east-1",
		SourceIP:  "192.0.2.10",
		UserAgent: "aws-sdk-go-v2/1.0",
		Identity: UserIdentity{Type: IdentityIAMUser, PrincipalID: "AIDAEXAMPLE", ARN: "arn:aws:iam::000000000000:user/alice",
			AccountID: "000000000000", AccessKeyID: "AKIAEXAMPLE"},
		RequestParameters: map[string]any{
			"keyId":               key,
			"encryptionAlgorithm": "SYMMETRIC_DEFAULT",
			"encryptionContext":   map[string]any{"aws:sns:topicArn": fmt.Sprintf("arn:aws:sns:us-east-1:000000000000:t%d", i)},
		},
		Resources: []Resource{KeyResource(key, "000000000000")},
		RequestID: fmt.Sprintf("req-%d", i),
		ReadOnly:  true,
	}
}

func openTest(t testing.TB, dir string) *Writer {
	t.Helper()
	w, err := Open(dir, Options{Now: fixedNow, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// writeLog appends n records to a fresh log and returns its lines (each
// with its "\n").
func writeLog(t *testing.T, n int) (dir string, lines [][]byte) {
	t.Helper()
	dir = t.TempDir()
	w := openTest(t, dir)
	for i := range n {
		if _, err := w.Append(context.Background(), testEvent(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return dir, readLines(t, dir)
}

func readLines(t *testing.T, dir string) [][]byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, FileName))
	if err != nil {
		t.Fatal(err)
	}
	return bytes.SplitAfter(b, []byte("\n"))[:bytes.Count(b, []byte("\n"))]
}

func TestLineIsTheRecordAsJSON(t *testing.T) {
	_, lines := writeLog(t, 2)
	for i, line := range lines {
		var r Record
		if err := json.Unmarshal(line, &r); err != nil {
			t.Fatal(err)
		}
		if r.Seq != uint64(i+1) || len(r.Hash) != 64 {
			t.Fatalf("record %d: seq %d hash %q", i, r.Seq, r.Hash)
		}
		again, err := json.Marshal(&r)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(append(again, '\n'), line) {
			t.Fatalf("line is not json.Marshal of its record:\n%s\n%s", line, again)
		}
		if r.EventTime != "2026-11-30T00:07:01.123Z" || r.EventSource != EventSource || r.EventCategory != "Management" ||
			r.EventType != EventTypeAPICall || r.ResponseElements != nil || r.Resources[0].Type != "AWS::KMS::Key" || len(r.EventID) != 36 {
			t.Fatalf("record fields: %s", line)
		}
		if !bytes.Contains(line, []byte(`"responseElements":null`)) {
			t.Fatalf("responseElements not null: %s", line)
		}
	}
	var first Record
	_ = json.Unmarshal(lines[0], &first)
	if first.PrevHash != GenesisHash {
		t.Fatalf("first prevHash %s", first.PrevHash)
	}
}

func TestConcurrentAppendsVerify(t *testing.T) {
	dir := t.TempDir()
	w := openTest(t, dir)
	const goroutines, each = 32, 40
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		seen = map[uint64]bool{}
	)
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				seq, err := w.Append(context.Background(), testEvent(g*each+i))
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				if seen[seq] {
					t.Errorf("seq %d returned twice", seq)
				}
				seen[seq] = true
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	st := w.Stats()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f, _ := os.Open(w.Path())
	defer f.Close()
	n, err := Verify(f)
	if err != nil || n != goroutines*each || len(seen) != goroutines*each {
		t.Fatalf("Verify = %d, %v; %d seqs; want %d", n, err, len(seen), goroutines*each)
	}
	if st.Appends != goroutines*each || st.Syncs == 0 || st.Syncs > st.Appends {
		t.Fatalf("stats %+v", st)
	}
	t.Logf("%d appends, %d fsyncs (%.2f records per fsync)", st.Appends, st.Syncs, float64(st.Appends)/float64(st.Syncs))
}

func TestGroupCommitSharesOneFsync(t *testing.T) {
	w := openTest(t, t.TempDir())
	defer w.Close()
	entered, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	w.beforeWrite = func() {
		once.Do(func() {
			close(entered)
			<-release
		})
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); _, _ = w.Append(context.Background(), testEvent(0)) }()
	<-entered // the writer holds the first record; queue ten more behind it
	for i := 1; i <= 10; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); _, _ = w.Append(context.Background(), testEvent(i)) }()
	}
	for len(w.queue) < 10 {
		time.Sleep(time.Millisecond)
	}
	close(release)
	wg.Wait()
	if st := w.Stats(); st.Appends != 11 || st.Syncs != 2 {
		t.Fatalf("stats %+v, want 11 appends in 2 fsyncs", st)
	}
}

func TestVerifyNamesTheBrokenRecord(t *testing.T) {
	_, lines := writeLog(t, 8)
	join := func(ls ...[]byte) []byte { return bytes.Join(ls, nil) }
	edited := bytes.Clone(lines[4])
	edited[bytes.Index(edited, []byte("Decrypt"))] = 'E'
	// An edit whose author recomputed that record's hash: caught by the next link.
	var r Record
	_ = json.Unmarshal(lines[4], &r)
	r.EventName = "Encrypt"
	r.Seq, r.PrevHash, r.Hash = 0, "", ""
	b, _ := json.Marshal(&r)
	var prev [32]byte
	var prevRec Record
	_ = json.Unmarshal(lines[3], &prevRec)
	copy(prev[:], mustHex(t, prevRec.Hash))
	rehashed, _ := chainLine(nil, b, 5, prev)

	tests := []struct {
		name string
		log  []byte
		n    int
		line int
		seq  uint64
		kind string
	}{
		{"intact", join(lines...), 8, 0, 0, ""},
		{"empty", nil, 0, 0, 0, ""},
		{"edited byte", join(append(append([][]byte{}, lines[:4]...), append([][]byte{edited}, lines[5:]...)...)...), 4, 5, 5, KindEdited},
		{"edited and rehashed", join(append(append([][]byte{}, lines[:4]...), append([][]byte{rehashed}, lines[5:]...)...)...), 5, 6, 6, KindEdited},
		{"removed line", join(append(append([][]byte{}, lines[:4]...), lines[5:]...)...), 4, 5, 6, KindRemoved},
		{"removed first line", join(lines[1:]...), 0, 1, 2, KindRemoved},
		{"swapped lines", join(lines[0], lines[1], lines[2], lines[4], lines[3], lines[5], lines[6], lines[7]), 3, 4, 5, KindReordered},
		{"duplicated line", join(lines[0], lines[1], lines[2], lines[2], lines[3]), 3, 4, 3, KindDuplicated},
		{"older line repeated", join(lines[0], lines[1], lines[2], lines[3], lines[1]), 4, 5, 2, KindReordered},
		{"torn last line", join(lines[0], lines[1], lines[2][:40]), 2, 3, 0, KindTruncated},
		{"blank line", join(lines[0], []byte("\n"), lines[1]), 1, 2, 0, KindEdited},
		{"garbage line", join(lines[0], []byte("hello\n")), 1, 2, 0, KindEdited},
		{"crlf", join(bytes.Replace(lines[0], []byte("\n"), []byte("\r\n"), 1)), 0, 1, 0, KindEdited},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n, err := Verify(bytes.NewReader(tc.log))
			if n != tc.n {
				t.Errorf("n = %d, want %d (err %v)", n, tc.n, err)
			}
			if tc.kind == "" {
				if err != nil {
					t.Fatalf("err %v", err)
				}
				return
			}
			var verr *VerifyError
			if !errors.As(err, &verr) {
				t.Fatalf("err %v, want a *VerifyError", err)
			}
			if verr.Line != tc.line || verr.Seq != tc.seq || verr.Kind != tc.kind {
				t.Fatalf("got line %d seq %d kind %s (%v); want line %d seq %d kind %s", verr.Line, verr.Seq, verr.Kind, verr, tc.line, tc.seq, tc.kind)
			}
			t.Log(verr)
		})
	}
}

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRestartContinuesChain(t *testing.T) {
	dir := t.TempDir()
	for round := range 3 {
		w := openTest(t, dir)
		for i := range 3 {
			seq, err := w.Append(context.Background(), testEvent(i))
			if err != nil {
				t.Fatal(err)
			}
			if want := uint64(round*3 + i + 1); seq != want {
				t.Fatalf("seq %d, want %d", seq, want)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		os.Chmod(filepath.Join(dir, FileName), 0o644) // Open makes it private again
	}
	f, _ := os.Open(filepath.Join(dir, FileName))
	defer f.Close()
	if n, err := Verify(f); n != 9 || err != nil {
		t.Fatalf("Verify = %d, %v", n, err)
	}
	w := openTest(t, dir)
	w.Close()
	if info, _ := os.Stat(filepath.Join(dir, FileName)); info.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", info.Mode())
	}
}

func TestTornLastLineIsCutOnOpen(t *testing.T) {
	dir, lines := writeLog(t, 3)
	p := filepath.Join(dir, FileName)
	f, _ := os.OpenFile(p, os.O_WRONLY|os.O_APPEND, 0)
	f.Write(lines[1][:57]) // a crash mid-write
	f.Close()
	var logbuf bytes.Buffer
	w, err := Open(dir, Options{Logger: slog.New(slog.NewTextHandler(&logbuf, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logbuf.String(), "torn line") || !strings.Contains(logbuf.String(), "bytes=57") {
		t.Fatalf("no warning: %q", logbuf.String())
	}
	seq, err := w.Append(context.Background(), testEvent(9))
	if err != nil || seq != 4 {
		t.Fatalf("Append = %d, %v", seq, err)
	}
	w.Close()
	b, _ := os.ReadFile(p)
	if n, err := Verify(bytes.NewReader(b)); n != 4 || err != nil {
		t.Fatalf("Verify = %d, %v", n, err)
	}
}

func TestOpenRefusesBrokenMiddle(t *testing.T) {
	dir, lines := writeLog(t, 3)
	p := filepath.Join(dir, FileName)
	os.WriteFile(p, bytes.Join([][]byte{lines[0], lines[2]}, nil), 0o600)
	_, err := Open(dir, Options{})
	var verr *VerifyError
	if !errors.As(err, &verr) || verr.Kind != KindRemoved || verr.Line != 2 {
		t.Fatalf("Open err = %v", err)
	}
	// A torn line after a broken middle is not an excuse either.
	os.WriteFile(p, bytes.Join([][]byte{lines[0], lines[2], lines[1][:10]}, nil), 0o600)
	if _, err := Open(dir, Options{}); !errors.As(err, &verr) || verr.Kind != KindRemoved {
		t.Fatalf("Open err = %v", err)
	}
}

func TestFailsClosedAfterWriteError(t *testing.T) {
	w := openTest(t, t.TempDir())
	w.f.Close() // the disk goes away
	if _, err := w.Append(context.Background(), testEvent(0)); err == nil {
		t.Fatal("Append succeeded on a closed file")
	}
	if _, err := w.Append(context.Background(), testEvent(1)); err == nil || !strings.Contains(err.Error(), "unusable") {
		t.Fatalf("second Append err = %v", err)
	}
}

func TestAppendAfterCloseAndCanceled(t *testing.T) {
	w := openTest(t, t.TempDir())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	// Full queue: a canceled Append must not wait.
	w2 := &Writer{queue: make(chan *request), now: time.Now}
	if _, err := w2.Append(ctx, testEvent(0)); !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v", err)
	}
	w.Close()
	if _, err := w.Append(context.Background(), testEvent(0)); !errors.Is(err, ErrClosed) {
		t.Fatalf("err %v", err)
	}
	big := testEvent(0)
	big.RequestParameters["policy"] = strings.Repeat("x", MaxRecordBytes)
	if _, err := w.Append(context.Background(), big); err == nil || !strings.Contains(err.Error(), "larger") {
		t.Fatalf("err %v", err)
	}
}

func TestSecretFieldsNeverReachTheLog(t *testing.T) {
	const secret = "U0VDUkVULVBMQUlOVEVYVC1NQVJLRVI=" // base64 of a marker
	params := map[string]any{
		"keyId":          "alias/app",
		"Plaintext":      secret,
		"CiphertextBlob": secret,
		"plaintext":      []byte(secret),
		"GrantTokens":    []any{secret},
		"nested":         map[string]any{"SourceCiphertextBlob": secret, "ok": "kept"},
		"list":           []any{map[string]any{"ciphertextBlob": secret}},
		"blob":           []byte(secret),
	}
	got := WithoutSecrets(params)
	b, _ := json.Marshal(got)
	if bytes.Contains(b, []byte(secret)) || bytes.Contains(b, []byte("VTBWRFVrVlV")) {
		t.Fatalf("secret kept: %s", b)
	}
	if got["keyId"] != "alias/app" || got["nested"].(map[string]any)["ok"] != "kept" {
		t.Fatalf("non-secret fields dropped: %s", b)
	}
	if _, ok := params["Plaintext"]; !ok {
		t.Fatal("input map modified")
	}
	dir := t.TempDir()
	w := openTest(t, dir)
	e := testEvent(0)
	e.RequestParameters = params
	e.ResponseElements = map[string]any{"Plaintext": secret, "keyId": "k"}
	if _, err := w.Append(context.Background(), e); err != nil {
		t.Fatal(err)
	}
	w.Close()
	raw, _ := os.ReadFile(filepath.Join(dir, FileName))
	if bytes.Contains(raw, []byte(secret)) || !bytes.Contains(raw, []byte("alias/app")) {
		t.Fatalf("log: %s", raw)
	}
}

func TestClip(t *testing.T) {
	ua := strings.Repeat("é", MaxUserAgent) // 2 bytes each
	e := testEvent(0)
	e.UserAgent = ua
	r := e.record(fixedNow())
	if len(r.UserAgent) > MaxUserAgent || !strings.HasPrefix(ua, r.UserAgent) || len(r.UserAgent) < MaxUserAgent-1 {
		t.Fatalf("clipped to %d bytes", len(r.UserAgent))
	}
	if clip("ab", 5) != "ab" || clip("aé", 2) != "a" {
		t.Fatal("clip")
	}
}

func TestServiceIdentityAndTail(t *testing.T) {
	dir := t.TempDir()
	w := openTest(t, dir)
	for i := range 5 {
		e := testEvent(i)
		if i == 3 {
			e.Identity = UserIdentity{Type: IdentityAWSService, InvokedBy: "sns.amazonaws.com"}
			e.EventType = EventTypeServiceEvent
			e.Name = "GenerateDataKey"
		}
		if i == 4 {
			e.ErrorCode, e.ErrorMessage = "DisabledException", "key is\ndisabled"
		}
		if _, err := w.Append(context.Background(), e); err != nil {
			t.Fatal(err)
		}
	}
	var out bytes.Buffer
	if err := Tail(context.Background(), w.Path(), 2, false, 0, &out); err != nil {
		t.Fatal(err)
	}
	got := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(got) != 2 || !strings.Contains(got[0], "GenerateDataKey") || !strings.Contains(got[0], "sns.amazonaws.com") ||
		!strings.Contains(got[1], "DisabledException: key is disabled") || !strings.Contains(got[1], "user/alice") ||
		!strings.Contains(got[1], "key/1234abcd") || !strings.HasPrefix(strings.TrimSpace(got[1]), "5  2026-11-30T00:07:01.123Z") {
		t.Fatalf("tail:\n%s", out.String())
	}

	// Follow: records appended later are printed.
	ctx, cancel := context.WithCancel(context.Background())
	pr := &syncBuffer{}
	done := make(chan error)
	go func() { done <- Tail(ctx, w.Path(), 1, true, time.Millisecond, pr) }()
	e := testEvent(9)
	e.Name = "ReEncrypt"
	if _, err := w.Append(context.Background(), e); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(pr.String(), "ReEncrypt") && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(pr.String(), "ReEncrypt") {
		t.Fatalf("follow output %q", pr.String())
	}
	w.Close()
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func TestVerifyCommand(t *testing.T) {
	dataDir := t.TempDir()
	w := openTest(t, Dir(dataDir))
	for i := range 4 {
		w.Append(context.Background(), testEvent(i))
	}
	w.Close()
	run := func(args ...string) (int, string) {
		var out, errb bytes.Buffer
		code := Command(context.Background(), args, &out, &errb)
		return code, out.String() + errb.String()
	}
	if code, out := run("verify", "--data-dir", dataDir); code != 0 || !strings.Contains(out, "OK: 4 records") {
		t.Fatalf("verify: %d %s", code, out)
	}
	lines := readLines(t, Dir(dataDir))
	p := filepath.Join(Dir(dataDir), FileName)
	os.WriteFile(p, bytes.Join([][]byte{lines[0], lines[2], lines[1], lines[3]}, nil), 0o600)
	if code, out := run("verify", "--file", p); code != 1 || !strings.Contains(out, "line 2 (seq 3): reordered") {
		t.Fatalf("verify reordered: %d %s", code, out)
	}
	if code, out := run("verify", "--file", p, "--data-dir", dataDir); code != 2 || !strings.Contains(out, "not both") {
		t.Fatalf("both flags: %d %s", code, out)
	}
	if code, _ := run("verify", "--file", filepath.Join(dataDir, "nope")); code != 2 {
		t.Fatalf("missing file: %d", code)
	}
	if code, _ := run("frobnicate"); code != 2 {
		t.Fatalf("unknown: %d", code)
	}
	if code, out := run("tail", "-n", "1", "--file", p); code != 0 || strings.Count(out, "\n") != 1 {
		t.Fatalf("tail: %d %q", code, out)
	}
}

func FuzzVerify(f *testing.F) {
	dir := f.TempDir()
	w := openTest(f, dir)
	for i := range 3 {
		w.Append(context.Background(), testEvent(i))
	}
	w.Close()
	good, _ := os.ReadFile(filepath.Join(dir, FileName))
	f.Add(good)
	f.Add(good[:len(good)-5])
	f.Add([]byte("\n\n"))
	f.Add([]byte(`{"seq":1,"prevHash":"` + GenesisHash + `","hash":"` + GenesisHash + `"}` + "\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		n, err := Verify(bytes.NewReader(b))
		if n > bytes.Count(b, []byte("\n")) {
			t.Fatalf("n = %d for %d lines", n, bytes.Count(b, []byte("\n")))
		}
		if err == nil && len(b) > 0 && b[len(b)-1] != '\n' {
			t.Fatal("accepted a log without a final newline")
		}
		_ = FormatRecord(b)
	})
}

func BenchmarkAppendParallel(b *testing.B) {
	const concurrency = 16
	w := openTest(b, b.TempDir())
	defer w.Close()
	e := testEvent(1)
	// RunParallel starts p*GOMAXPROCS goroutines.
	procs := max(1, (concurrency+runtimeGOMAXPROCS()-1)/runtimeGOMAXPROCS())
	b.SetParallelism(procs)
	before := w.Stats()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := w.Append(context.Background(), e); err != nil {
				b.Error(err)
				return
			}
		}
	})
	elapsed := time.Since(start)
	st := w.Stats()
	appends := st.Appends - before.Appends
	b.ReportMetric(float64(appends)/elapsed.Seconds(), "appends/s")
	b.ReportMetric(float64(st.Syncs-before.Syncs)/float64(appends), "fsyncs/append")
}

func runtimeGOMAXPROCS() int { return runtime.GOMAXPROCS(0) }

// BenchmarkAppendSerial is one appender: one fsync per record, the baseline
// group commit improves on.
func BenchmarkAppendSerial(b *testing.B) {
	w := openTest(b, b.TempDir())
	defer w.Close()
	e := testEvent(1)
	start := time.Now()
	for b.Loop() {
		if _, err := w.Append(context.Background(), e); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(w.Stats().Appends)/time.Since(start).Seconds(), "appends/s")
}

func BenchmarkVerify(b *testing.B) {
	dir := b.TempDir()
	w := openTest(b, dir)
	for i := range 10000 {
		w.Append(context.Background(), testEvent(i))
	}
	w.Close()
	log, _ := os.ReadFile(filepath.Join(dir, FileName))
	b.SetBytes(int64(len(log)))
	for b.Loop() {
		if n, err := Verify(bytes.NewReader(log)); n != 10000 || err != nil {
			b.Fatal(n, err)
		}
	}
	b.ReportMetric(float64(b.N*10000)/b.Elapsed().Seconds(), "records/s")
}

// TestEveryByteIsCovered flips each bit-0 of every byte of a log in turn:
// Verify must fail every time.
func TestEveryByteIsCovered(t *testing.T) {
	_, lines := writeLog(t, 3)
	log := bytes.Join(lines, nil)
	for i := range log {
		b := bytes.Clone(log)
		b[i] ^= 1
		if n, err := Verify(bytes.NewReader(b)); err == nil {
			t.Fatalf("byte %d (%q→%q) changed and Verify passed with %d records", i, log[i], b[i], n)
		}
	}
}

func TestRotationKeepsOneChain(t *testing.T) {
	dir := t.TempDir()
	open := func() *Writer {
		w, err := Open(dir, Options{Now: fixedNow, Logger: slog.New(slog.DiscardHandler), MaxFileBytes: 3000})
		if err != nil {
			t.Fatal(err)
		}
		return w
	}
	w := open()
	var wg sync.WaitGroup
	for g := range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 5 {
				if _, err := w.Append(context.Background(), testEvent(g*5+i)); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	w.Close()
	segs, _ := segments(dir)
	if len(segs) < 3 {
		t.Fatalf("%d segments", len(segs))
	}
	if n, err := VerifyDir(dir); n != 160 || err != nil {
		t.Fatalf("VerifyDir = %d, %v", n, err)
	}
	// A crash between the rename and the new file: Open carries on.
	os.Rename(filepath.Join(dir, FileName), filepath.Join(dir, segmentName(999)))
	w = open()
	seq, err := w.Append(context.Background(), testEvent(0))
	if err != nil || seq != 161 {
		t.Fatalf("Append after restart = %d, %v", seq, err)
	}
	w.Close()
	if n, err := VerifyDir(dir); n != 161 || err != nil {
		t.Fatalf("VerifyDir = %d, %v", n, err)
	}
	var out bytes.Buffer
	if code := VerifyCommand([]string{"--file", segs[1]}, &out, &out); code != 0 || !strings.Contains(out.String(), "a segment") {
		t.Fatalf("verify one segment: %d %s", code, out.String())
	}
	// Removing a whole segment is seen where the chain resumes.
	segs, _ = segments(dir)
	os.Remove(segs[1])
	_, err = VerifyDir(dir)
	var verr *VerifyError
	if !errors.As(err, &verr) || verr.Kind != KindRemoved || verr.File != segs[2] || verr.Line != 1 {
		t.Fatalf("VerifyDir after removing a segment: %v", err)
	}
	out.Reset()
	if code := Command(context.Background(), []string{"verify", "--data-dir", filepath.Dir(dir)}, &out, &out); code != 2 {
		t.Fatalf("verify a data dir without audit dir: %d %s", code, out.String())
	}
}
