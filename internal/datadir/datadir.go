// Package datadir owns the rules for Sealpost's data directory: who may
// read it, and how files in it are replaced.
//
// Permissions: everything Sealpost creates under the data dir is private to
// the user it runs as (directories 0700, files 0600). Components that create
// files through their own code (the embedded store) are covered by
// RestrictUmask, which sets the process umask; Prepare tightens the data dir
// itself and reports entries that others can already read.
//
// Durability: WriteFile and CreateFile install a file atomically (readers
// see the old content or the new one, never a mix) and durably (the file
// and the directory entry are synced before they return).
//
// Functions here are safe for concurrent use; RestrictUmask changes
// process-wide state and is meant for start-up.
package datadir

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Private modes of what Sealpost creates under the data dir.
const (
	DirMode  os.FileMode = 0o700
	FileMode os.FileMode = 0o600
)

// Loose is a data-dir entry that users other than the owner can access.
type Loose struct {
	Path string
	Mode fs.FileMode
}

// Prepare creates dir (0700) unless it exists, and sets its mode to 0700 if it
// exists with another. It returns, in walk order, the entries (dir itself
// included, with its mode before the change) that were group- or
// world-accessible, so the caller can warn about them; it changes no file
// inside dir. Symbolic links are not followed and not reported.
func Prepare(dir string) ([]Loose, error) {
	loose, err := Audit(dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if err := os.MkdirAll(dir, DirMode); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	if err := os.Chmod(dir, DirMode); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	return loose, nil
}

// Audit walks dir and returns the entries group or others can access.
func Audit(dir string) ([]Loose, error) {
	var loose []Loose
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == dir {
				return err
			}
			return nil // vanished or unreadable entry: not ours to judge
		}
		if d.Type()&fs.ModeSymlink != 0 {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return nil
		}
		if info.Mode().Perm()&0o077 != 0 {
			loose = append(loose, Loose{Path: p, Mode: info.Mode()})
		}
		return nil
	})
	return loose, err
}

// WriteFile atomically replaces path with data, created with mode (callers
// under the data dir pass FileMode): it writes and fsyncs a temporary file
// in the same directory, renames it over path and fsyncs the directory.
func WriteFile(path string, data []byte, mode os.FileMode) error {
	return install(path, data, mode, true)
}

// CreateFile is WriteFile for a path that must not exist yet: if it does
// (also when another process wins a race to create it), CreateFile leaves it
// alone and returns an error wrapping fs.ErrExist.
func CreateFile(path string, data []byte, mode os.FileMode) error {
	return install(path, data, mode, false)
}

func install(path string, data []byte, mode os.FileMode, replace bool) error {
	dir, name := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+name+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmpName := tmp.Name()
	// After a link or a rename, removing the temporary name is a no-op or
	// drops the extra link.
	defer os.Remove(tmpName)
	if err := writeSync(tmp, data, mode); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if replace {
		err = os.Rename(tmpName, path)
	} else {
		// A hard link fails with EEXIST when path exists: an atomic
		// create-if-absent for a file with its full content.
		err = os.Link(tmpName, path)
		if err != nil && !errors.Is(err, fs.ErrExist) {
			// No hard links on this file system: fall back to a (racy)
			// check and rename.
			if _, statErr := os.Lstat(path); statErr == nil {
				return fmt.Errorf("write %s: %w", path, fs.ErrExist)
			}
			err = os.Rename(tmpName, path)
		}
	}
	if err != nil {
		return fmt.Errorf("install %s: %w", path, err)
	}
	return syncDir(dir)
}

// writeSync sets mode, writes data, fsyncs and closes f.
func writeSync(f *os.File, data []byte, mode os.FileMode) error {
	err := f.Chmod(mode)
	if err == nil {
		_, err = f.Write(data)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// syncDir makes a rename or link in dir durable. File systems that reject
// fsync on a directory (EINVAL) are not treated as failing.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, errors.ErrUnsupported) && !isEINVAL(err) {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}
