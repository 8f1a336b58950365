package envelope

import (
	"bytes"
	"encoding/hex"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// seqReader returns the bytes start, start+1, ... (mod 256): fixed nonces,
// salts and keys for known-answer tests.
type seqReader struct{ next byte }

func (r *seqReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = r.next
		r.next++
	}
	return len(p), nil
}

func seq(start byte, n int) []byte {
	b := make([]byte, n)
	(&seqReader{next: start}).Read(b)
	return b
}

var (
	testRoot     = seq(0x00, 32)
	testMaterial = seq(0x40, 32)
	testDataKey  = seq(0x80, 32)
)

// golden compares got with testdata/name (hex, 64 characters a line), or
// rewrites the file with -update. It returns the golden bytes.
func golden(t *testing.T, name string, got []byte) []byte {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		var sb strings.Builder
		h := hex.EncodeToString(got)
		for len(h) > 64 {
			sb.WriteString(h[:64] + "\n")
			h = h[64:]
		}
		sb.WriteString(h + "\n")
		if err := os.WriteFile(path, []byte(sb.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	text, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("golden file: %v (run go test -run %s -update to create it)", err, t.Name())
	}
	want, err := hex.DecodeString(strings.Join(strings.Fields(string(text)), ""))
	if err != nil {
		t.Fatalf("golden file %s: %v", path, err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s: output differs from the golden file (format change?)\n got %x\nwant %x", name, got, want)
	}
	return want
}
