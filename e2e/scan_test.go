package e2e

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	bin "encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"unicode/utf8"
)

// A scanner looks for secrets in files, in every encoding a careless writer
// might have used: the raw bytes; standard and URL-safe base64 (the part of
// the encoding that depends only on the secret, at each of the three byte
// alignments a secret can have inside a longer base64 text, so a secret
// inside an encoded record is found too); lower- and upper-case hex; and,
// for text, JSON string escaping (with and without Go's HTML escaping).
// The KMS plaintext scan (kms_scan_test.go) uses it, and so can the SSE
// tests: give it what must not be on disk, scan the directories, expect no
// hit; give it a marker you did write, expect a hit.
//
// What it cannot see: bytes a storage engine compressed (pebble's sstable
// blocks, PostgreSQL's TOAST) or encrypted. Callers pair a file scan with a
// logical scan of the store (scanBytes over every stored value) and with a
// positive control written through the same path.

// minNeedle is the shortest encoded form a scanner accepts: shorter
// needles match by chance.
const minNeedle = 12

// secret is one value to look for, named for the report.
type secret struct {
	label string
	value []byte
}

// needle is one encoded form of a secret.
type needle struct {
	label string // the secret's
	form  string // raw, base64, base64url, hex, HEX, json, json-html
	b     []byte
}

// scanHit is one place a needle was found.
type scanHit struct {
	label, form, where string
	offset             int64
}

func (h scanHit) String() string {
	return fmt.Sprintf("%s (%s) in %s at offset %d", h.label, h.form, h.where, h.offset)
}

// encodedForms returns v's forms, each at least minNeedle bytes long
// (shorter base64 fragments are left out; raw and hex are kept whatever
// their length, and newScanner refuses short ones).
func encodedForms(v []byte) []needle {
	var out []needle
	add := func(form string, b []byte) {
		for _, n := range out {
			if bytes.Equal(n.b, b) {
				return
			}
		}
		out = append(out, needle{form: form, b: b})
	}
	add("raw", v)
	for _, enc := range []struct {
		name string
		e    *base64.Encoding
	}{{"base64", base64.StdEncoding}, {"base64url", base64.URLEncoding}} {
		for shift := 0; shift < 3; shift++ {
			if frag := base64Fragment(enc.e, v, shift); len(frag) >= minNeedle {
				add(enc.name, frag)
			}
		}
	}
	add("hex", []byte(hex.EncodeToString(v)))
	add("HEX", []byte(strings.ToUpper(hex.EncodeToString(v))))
	if utf8.Valid(v) {
		// encoding/json with HTML escaping (<, >, & as \u003c ...), and
		// without, as json.Encoder.SetEscapeHTML(false) writes.
		if j, err := json.Marshal(string(v)); err == nil {
			add("json-html", j[1:len(j)-1])
		}
		var buf bytes.Buffer
		e := json.NewEncoder(&buf)
		e.SetEscapeHTML(false)
		if err := e.Encode(string(v)); err == nil {
			j := bytes.TrimSpace(buf.Bytes())
			add("json", j[1:len(j)-1])
		}
	}
	return out
}

// base64Fragment is the part of the base64 encoding of v, placed shift
// bytes after a 3-byte boundary of a longer input, whose characters depend
// on v's bits alone.
func base64Fragment(e *base64.Encoding, v []byte, shift int) []byte {
	in := append(make([]byte, shift), v...)
	enc := e.EncodeToString(in)
	first := (8*shift + 5) / 6       // first character with no bit before v
	last := 8 * (shift + len(v)) / 6 // one past the last character with no bit after v
	if last <= first {
		return nil
	}
	return []byte(enc[first:last])
}

// scanner searches for many needles at once: it indexes them by their
// first 8 bytes and looks each position of the input up once.
type scanner struct {
	needles []needle
	byHead  map[uint64][]int
	maxLen  int
}

// newScanner builds a scanner for every form of every secret. It returns
// an error naming a secret whose raw or hex form is shorter than minNeedle.
func newScanner(secrets []secret) (*scanner, error) {
	s := &scanner{byHead: map[uint64][]int{}}
	for _, sec := range secrets {
		for _, n := range encodedForms(sec.value) {
			if len(n.b) < minNeedle {
				return nil, fmt.Errorf("scanner: %s: %s form is %d bytes, shorter than %d: too likely to match by chance", sec.label, n.form, len(n.b), minNeedle)
			}
			n.label = sec.label
			s.byHead[bin.LittleEndian.Uint64(n.b)] = append(s.byHead[bin.LittleEndian.Uint64(n.b)], len(s.needles))
			s.needles = append(s.needles, n)
			s.maxLen = max(s.maxLen, len(n.b))
		}
	}
	return s, nil
}

// scanBytes returns the hits in data; base is the offset of data[0] in
// where.
func (s *scanner) scanBytes(where string, base int64, data []byte) []scanHit {
	var hits []scanHit
	for i := 0; i+8 <= len(data); i++ {
		idx, ok := s.byHead[bin.LittleEndian.Uint64(data[i:])]
		if !ok {
			continue
		}
		for _, k := range idx {
			n := s.needles[k]
			if bytes.HasPrefix(data[i:], n.b) {
				hits = append(hits, scanHit{label: n.label, form: n.form, where: where, offset: base + int64(i)})
			}
		}
	}
	return hits
}

// scanFile scans one file in chunks (overlapping by the longest needle, so
// nothing on a chunk boundary is missed).
func (s *scanner) scanFile(path string) ([]scanHit, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	const chunk = 4 << 20
	buf := make([]byte, chunk+s.maxLen)
	var hits []scanHit
	var off int64 // file offset of buf[0]
	keep := 0     // bytes carried over from the previous chunk
	for {
		n, err := io.ReadFull(f, buf[keep:])
		data := buf[:keep+n]
		end := len(data)
		if err == nil {
			// More may follow: leave the last maxLen-1 bytes for the next
			// round, where a needle starting there is complete.
			end = len(data) - (s.maxLen - 1)
		}
		for _, h := range s.scanBytes(path, off, data) {
			if h.offset-off < int64(end) {
				hits = append(hits, h)
			}
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return hits, nil
		}
		if err != nil {
			return hits, err
		}
		keep = copy(buf, data[end:])
		off += int64(end)
	}
}

// scanStats says what a tree scan covered.
type scanStats struct {
	files int
	bytes int64
}

// scanTree scans every regular file under root (root may be a file).
// Files that vanish during the walk are skipped.
func (s *scanner) scanTree(root string) ([]scanHit, scanStats, error) {
	var hits []scanHit
	var st scanStats
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if os.IsNotExist(err) {
				return nil
			}
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			if os.IsNotExist(err) {
				return nil
			}
			return err
		}
		h, err := s.scanFile(path)
		if os.IsNotExist(err) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("scan %s: %w", path, err)
		}
		hits = append(hits, h...)
		st.files++
		st.bytes += info.Size()
		return nil
	})
	return hits, st, err
}

// labels returns the distinct labels of hits, sorted.
func hitLabels(hits []scanHit) []string {
	seen := map[string]bool{}
	var out []string
	for _, h := range hits {
		if !seen[h.label] {
			seen[h.label] = true
			out = append(out, h.label)
		}
	}
	sort.Strings(out)
	return out
}

// TestScanner checks the scanner on files that hold secrets in each form
// it claims to find, including inside longer base64 and hex texts at every
// alignment, in JSON, and across its 4 MiB chunk boundary; and that it
// finds nothing in a file without them.
func TestScanner(t *testing.T) {
	key := make([]byte, 32)
	rand.Read(key)
	text := []byte("SEALPOST-MARKER-" + hex.EncodeToString(key[:16]) + ` "quoted" <b> & \ tail`)
	sc, err := newScanner([]secret{{"key", key}, {"text", text}})
	if err != nil {
		t.Fatal(err)
	}
	noise := func(n int) []byte {
		b := make([]byte, n)
		rand.Read(b)
		return b
	}
	type file struct {
		name string
		data []byte
		want string // label that must be found; "" = none
	}
	var files []file
	for _, sec := range []secret{{"key", key}, {"text", text}} {
		for shift := 0; shift < 6; shift++ {
			inner := append(append(noise(shift), sec.value...), noise(7)...)
			files = append(files,
				file{fmt.Sprintf("%s-b64-%d", sec.label, shift), []byte(`{"x":"` + base64.StdEncoding.EncodeToString(inner) + `"}`), sec.label},
				file{fmt.Sprintf("%s-b64url-%d", sec.label, shift), []byte(base64.RawURLEncoding.EncodeToString(inner)), sec.label},
				file{fmt.Sprintf("%s-hex-%d", sec.label, shift), []byte(hex.EncodeToString(inner)), sec.label},
				file{fmt.Sprintf("%s-HEX-%d", sec.label, shift), []byte(strings.ToUpper(hex.EncodeToString(inner))), sec.label},
			)
		}
		files = append(files, file{sec.label + "-raw", append(append(noise(100), sec.value...), noise(100)...), sec.label})
	}
	j, _ := json.Marshal(map[string]string{"body": string(text)})
	files = append(files, file{"text-json-html", j, "text"})
	var buf bytes.Buffer
	e := json.NewEncoder(&buf)
	e.SetEscapeHTML(false)
	e.Encode(map[string]string{"body": string(text)})
	files = append(files, file{"text-json", buf.Bytes(), "text"})
	// Straddling the chunk boundary, and at the very end of a long file.
	big := noise(4<<20 + 100)
	copy(big[4<<20-10:], key)
	files = append(files, file{"key-boundary", big, "key"})
	big2 := noise(4<<20 + 100)
	copy(big2[len(big2)-len(key):], key)
	files = append(files, file{"key-end", big2, "key"})
	files = append(files, file{"none", noise(1 << 20), ""}, file{"empty", nil, ""})

	dir := t.TempDir()
	for _, f := range files {
		if err := os.WriteFile(filepath.Join(dir, f.name), f.data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range files {
		hits, err := sc.scanFile(filepath.Join(dir, f.name))
		if err != nil {
			t.Fatal(err)
		}
		got := strings.Join(hitLabels(hits), ",")
		if got != f.want {
			t.Errorf("%s: found %q, want %q (%v)", f.name, got, f.want, hits)
		}
	}
	hits, st, err := sc.scanTree(dir)
	if err != nil || st.files != len(files) || len(hits) == 0 {
		t.Errorf("scanTree: %d files, %d hits, %v; want %d files", st.files, len(hits), err, len(files))
	}
	if _, err := newScanner([]secret{{"short", []byte("abc")}}); err == nil {
		t.Error("newScanner accepted a 3-byte secret")
	}
}

// scanAtRest scans what a stopped server left at rest: the data dir, the
// server log and, on PostgreSQL (pgDataDir set), PostgreSQL's data dir as
// files (an empty tree fails the test), each handed to tree with its hits,
// a description, and whether it holds the store's files (the data dir on
// the embedded store, PostgreSQL's data dir otherwise); then it returns a
// logical scan of the store (every table through dsn on PostgreSQL, every
// pebble record under dataDir otherwise).
func scanAtRest(t *testing.T, sc *scanner, dataDir, logFile, pgDataDir, dsn string, tree func(hits []scanHit, where string, store bool)) []scanHit {
	t.Helper()
	for _, root := range []string{dataDir, logFile, pgDataDir} {
		if root == "" {
			continue
		}
		hits, st, err := sc.scanTree(root)
		if err != nil {
			t.Fatalf("scan %s: %v", root, err)
		}
		if st.files == 0 {
			t.Errorf("scan %s: no files", root)
		}
		store := root == pgDataDir || root == dataDir && pgDataDir == ""
		tree(hits, fmt.Sprintf("files under %s (%d files, %d bytes)", root, st.files, st.bytes), store)
	}
	if dsn != "" {
		return scanPostgres(t, sc, dsn)
	}
	return scanPebble(t, sc, filepath.Join(dataDir, "store"))
}
