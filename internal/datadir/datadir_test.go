package datadir

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

func TestWriteFileReplacesAtomicallyWithMode(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "key.pem")
	for _, content := range []string{"first", "second"} {
		if err := WriteFile(p, []byte(content), FileMode); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(p)
		if err != nil || string(got) != content {
			t.Fatalf("read %q, %v; want %q", got, err, content)
		}
		if info, _ := os.Stat(p); info.Mode().Perm() != FileMode {
			t.Fatalf("mode %v, want %v", info.Mode().Perm(), FileMode)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("temporary files left behind: %v", entries)
	}
}

func TestCreateFileRefusesExisting(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "cert.pem")
	if err := CreateFile(p, []byte("one"), FileMode); err != nil {
		t.Fatal(err)
	}
	if err := CreateFile(p, []byte("two"), FileMode); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("second CreateFile: %v, want fs.ErrExist", err)
	}
	if got, _ := os.ReadFile(p); string(got) != "one" {
		t.Fatalf("content %q, want the first", got)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Fatalf("temporary files left behind: %v", entries)
	}
}

func TestWriteFileMissingDir(t *testing.T) {
	if err := WriteFile(filepath.Join(t.TempDir(), "no", "such"), []byte("x"), FileMode); err == nil {
		t.Fatal("write into a missing directory succeeded")
	}
}

func TestPrepareTightensDirAndReportsLooseEntries(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	if err := os.MkdirAll(filepath.Join(dir, "sub"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	open := filepath.Join(dir, "sub", "open")
	closed := filepath.Join(dir, "closed")
	os.WriteFile(open, nil, 0o600)
	os.WriteFile(closed, nil, 0o600)
	os.Chmod(open, 0o644)
	os.Symlink("/etc/passwd", filepath.Join(dir, "link"))
	loose, err := Prepare(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := []Loose{{dir, fs.ModeDir | 0o755}, {open, 0o644}}
	if len(loose) != len(want) {
		t.Fatalf("loose = %v, want %v", loose, want)
	}
	for i := range want {
		if loose[i] != want[i] {
			t.Fatalf("loose[%d] = %v, want %v", i, loose[i], want[i])
		}
	}
	if info, _ := os.Stat(dir); info.Mode().Perm() != DirMode {
		t.Fatalf("data dir mode %v, want %v", info.Mode().Perm(), DirMode)
	}
	if info, _ := os.Stat(open); info.Mode().Perm() != 0o644 {
		t.Fatalf("Prepare changed a file inside the data dir: %v", info.Mode())
	}
}

func TestPrepareCreatesPrivateDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "data")
	loose, err := Prepare(dir)
	if err != nil || len(loose) != 0 {
		t.Fatalf("Prepare: %v %v", loose, err)
	}
	if info, _ := os.Stat(dir); info.Mode().Perm() != DirMode {
		t.Fatalf("mode %v, want %v", info.Mode().Perm(), DirMode)
	}
}
