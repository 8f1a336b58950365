package identity

import (
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

const (
	fileA = `{"accounts":[{"id":"111122223333","users":[
		{"name":"alice","accessKeys":[{"id":"AKSHARED","secret":"secret-a"},{"id":"AKOLD","secret":"old"}]}]}]}`
	fileB = `{"accounts":[{"id":"444455556666","users":[
		{"name":"bob","accessKeys":[{"id":"AKSHARED","secret":"secret-b"},{"id":"AKNEW","secret":"new"}]}]}]}`
)

func TestReloaderSwaps(t *testing.T) {
	path := filepath.Join(t.TempDir(), "creds.json")
	writeFile(t, path, fileA)
	r, err := NewReloader(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, s, ok := r.Lookup("AKOLD"); !ok || s != "old" {
		t.Fatal("AKOLD missing before reload")
	}
	if _, _, ok := r.Lookup("AKNEW"); ok {
		t.Fatal("AKNEW known before reload")
	}

	writeFile(t, path, fileB)
	if err := r.Reload(); err != nil {
		t.Fatal(err)
	}
	if _, _, ok := r.Lookup("AKOLD"); ok {
		t.Fatal("removed key still valid after Reload")
	}
	if p, s, ok := r.Lookup("AKNEW"); !ok || s != "new" || p.Account != "444455556666" {
		t.Fatalf("AKNEW after reload: %+v %v", p, ok)
	}
	if r.Anonymous().Account != "444455556666" || r.Directory().DefaultAccount() != "444455556666" {
		t.Fatal("default account not reloaded")
	}
}

func TestReloaderKeepsOldOnBadFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "creds.json")
	writeFile(t, path, fileA)
	r, err := NewReloader(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	before := r.Directory()
	for _, bad := range []string{
		`{"accounts":[{"id":"111122223333","users":[{"name":"alice","polcy":{}}]}]}`,
		`{"accounts":`,
		``,
	} {
		writeFile(t, path, bad)
		err := r.Reload()
		if err == nil {
			t.Fatalf("bad file %q accepted", bad)
		}
		if !strings.Contains(err.Error(), path) {
			t.Errorf("error does not name the file: %v", err)
		}
		if r.Directory() != before {
			t.Fatal("bad file replaced the directory")
		}
		if _, s, ok := r.Lookup("AKOLD"); !ok || s != "old" {
			t.Fatal("old key lost after a bad reload")
		}
	}
	// A missing file (rotated away) also keeps the old one.
	r2 := &Reloader{path: filepath.Join(t.TempDir(), "gone.json")}
	r2.cur.Store(before)
	if err := r2.Reload(); err == nil || r2.Directory() != before {
		t.Fatalf("missing file: %v", err)
	}
}

func TestReloaderPolicyCompileErrorKeepsOld(t *testing.T) {
	path := filepath.Join(t.TempDir(), "creds.json")
	writeFile(t, path, fileA)
	calls := 0
	r, err := NewReloader(path, Options{CompilePolicy: func(raw []byte) (any, error) {
		calls++
		if strings.Contains(string(raw), "Deny") {
			return nil, errStatement
		}
		return len(raw), nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, path, `{"accounts":[{"id":"111122223333","users":[{"name":"alice","policy":{"Effect":"Deny"},
		"accessKeys":[{"id":"AKNEW","secret":"x"}]}]}]}`)
	if err := r.Reload(); err == nil || !strings.Contains(err.Error(), "accounts[0].users[0].policy: statement 0") {
		t.Fatalf("%v", err)
	}
	if _, _, ok := r.Lookup("AKOLD"); !ok {
		t.Fatal("old directory lost")
	}
	writeFile(t, path, `{"accounts":[{"id":"111122223333","users":[{"name":"alice","policy":{"Effect":"Allow"},
		"accessKeys":[{"id":"AKNEW","secret":"x"},{"id":"AKNEW2","secret":"y"}]}]}]}`)
	if err := r.Reload(); err != nil {
		t.Fatal(err)
	}
	p1, _, _ := r.Lookup("AKNEW")
	p2, _, _ := r.Lookup("AKNEW2")
	if p1.Policy == nil || p1.Policy != p2.Policy || p1.Policy.Compiled != len(`{"Effect":"Allow"}`) || calls != 2 {
		t.Fatalf("policy %+v %+v, %d compile calls", p1.Policy, p2.Policy, calls)
	}
}

type stmtErr struct{}

func (stmtErr) Error() string { return "statement 0: Effect must be Allow" }

var errStatement error = stmtErr{}

func TestReloaderDefault(t *testing.T) {
	r, err := NewReloader("", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Reload(); err != nil {
		t.Fatal(err)
	}
	if _, s, ok := r.Lookup("test"); !ok || s != "test" {
		t.Fatal("test/test missing")
	}
}

func TestNewReloaderBadFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "creds.json")
	writeFile(t, path, `{"accounts":[]}`)
	if _, err := NewReloader(path, Options{}); err == nil {
		t.Fatal("bad initial file accepted")
	}
}

// TestReloaderConcurrent swaps two files while readers look up a key that
// both define with different secrets and principals: every answer is a pair
// from one file, never a mix, and the readers never miss the key. Run with
// -race.
func TestReloaderConcurrent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "creds.json")
	writeFile(t, path, fileA)
	r, err := NewReloader(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var stop atomic.Bool
	var seenA, seenB atomic.Int64
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				p, s, ok := r.Lookup("AKSHARED")
				switch {
				case !ok:
					t.Error("AKSHARED missing during reload")
					return
				case s == "secret-a" && p.ARN == "arn:aws:iam::111122223333:user/alice" && p.AccessKeyID == "AKSHARED":
					seenA.Add(1)
				case s == "secret-b" && p.ARN == "arn:aws:iam::444455556666:user/bob" && p.AccessKeyID == "AKSHARED":
					seenB.Add(1)
				default:
					t.Errorf("mixed answer: %+v %q", p, s)
					return
				}
			}
		}()
	}
	for i := 0; i < 200; i++ {
		content := fileA
		if i%2 == 0 {
			content = fileB
		}
		writeFile(t, path, content)
		if err := r.Reload(); err != nil {
			t.Fatal(err)
		}
		// Each swap is visible at once to the next lookup.
		want := "secret-a"
		if i%2 == 0 {
			want = "secret-b"
		}
		if _, s, _ := r.Lookup("AKSHARED"); s != want {
			t.Fatalf("reload %d: secret %q, want %q", i, s, want)
		}
	}
	stop.Store(true)
	wg.Wait()
	if seenA.Load() == 0 || seenB.Load() == 0 {
		t.Logf("readers saw A %d times, B %d times", seenA.Load(), seenB.Load())
	}
}

func BenchmarkReloaderLookup(b *testing.B) {
	path := filepath.Join(b.TempDir(), "creds.json")
	writeFile(b, path, fileA)
	r, err := NewReloader(path, Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, _, ok := r.Lookup("AKSHARED"); !ok {
				b.Fatal("missing")
			}
		}
	})
}
