package identity

import (
	"sync"
	"sync/atomic"
)

// Reloader holds the current Directory of a credentials file and replaces it
// on Reload. Lookups load one atomic pointer and read an immutable map: no
// lock, no allocation. Reload is safe to call concurrently with lookups and
// with itself (reloads are serialized).
type Reloader struct {
	path string
	opts Options
	mu   sync.Mutex // serializes Reload
	cur  atomic.Pointer[Directory]
}

// NewReloader loads path (see LoadWith; "" means Default() and Reload does
// nothing) and returns a Reloader holding it. A bad file is an error here:
// there is no previous directory to keep.
func NewReloader(path string, opts Options) (*Reloader, error) {
	d, err := LoadWith(path, opts)
	if err != nil {
		return nil, err
	}
	r := &Reloader{path: path, opts: opts}
	r.cur.Store(d)
	return r, nil
}

// Reload reads the file again and, if it is valid, makes it current at once:
// a removed key is unknown to every lookup that starts after Reload returns.
// If the file cannot be read or is invalid, the current Directory stays and
// the error (which names the file and the place, never a secret) is returned
// for the log.
func (r *Reloader) Reload() error {
	if r.path == "" {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	d, err := LoadWith(r.path, r.opts)
	if err != nil {
		return err
	}
	r.cur.Store(d)
	return nil
}

// Directory returns the current directory. Take it once per request when
// several answers must come from the same file.
func (r *Reloader) Directory() *Directory { return r.cur.Load() }

// Lookup is Directory().Lookup: the principal and secret of an access key,
// both from the same file.
func (r *Reloader) Lookup(accessKeyID string) (Principal, string, bool) {
	return r.cur.Load().Lookup(accessKeyID)
}

// Anonymous is Directory().Anonymous.
func (r *Reloader) Anonymous() Principal { return r.cur.Load().Anonymous() }

// Path is the credentials file ("" for the built-in test/test key).
func (r *Reloader) Path() string { return r.path }
