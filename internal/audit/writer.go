package audit

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// FileName is the log's name inside its directory.
const FileName = "audit.log"

// MaxRecordBytes is the largest record (JSON without chain fields) Append
// accepts: room for a 32 KiB key policy in requestParameters. With
// MaxQueue it bounds the queue's memory (MaxQueue × MaxRecordBytes, 64 MiB
// by default; ~1 KiB per typical record).
const MaxRecordBytes = 64 << 10

// Defaults of Options.
const (
	DefaultMaxQueue      = 1024
	DefaultMaxBatchBytes = 4 << 20
)

// ErrClosed is returned by Append after Close.
var ErrClosed = errors.New("audit: log closed")

// Dir is the audit directory inside a data dir.
func Dir(dataDir string) string { return filepath.Join(dataDir, "audit") }

// Options tune a Writer; the zero value is ready to use.
type Options struct {
	MaxQueue      int              // Appends queued before Append waits (default DefaultMaxQueue)
	MaxBatchBytes int              // bytes written per fsync at most (default DefaultMaxBatchBytes)
	Logger        *slog.Logger     // for the torn-line warning (default slog.Default())
	Now           func() time.Time // clock for events without Time (default time.Now)
	// MaxFileBytes rotates the active file once it reaches this size: it is
	// renamed to audit-<first seq>.log and a new active file continues the
	// chain. 0 never rotates.
	MaxFileBytes int64
}

// Writer appends records to one log. See the package doc for the contract.
type Writer struct {
	f        *os.File
	dir      string
	path     string
	now      func() time.Time
	batch    int
	maxBytes int64
	size     int64  // bytes in the active file
	first    uint64 // seq of the active file's first record (next seq if empty)

	mu     sync.RWMutex // guards closed against the send on queue
	closed bool
	queue  chan *request
	done   chan struct{}

	appends atomic.Uint64
	syncs   atomic.Uint64

	beforeWrite func() // test hook, called by the writer goroutine before each write
}

type request struct {
	body []byte
	res  chan result
}

type result struct {
	seq  uint64
	hash [32]byte
	err  error
}

// Open opens (creating it if needed) the log in dir, verifies it, cuts off a
// torn final line, and starts the writer goroutine. The chain continues from
// the last record. A log broken anywhere else is refused with a
// *VerifyError.
func Open(dir string, opt Options) (*Writer, error) {
	if opt.MaxQueue <= 0 {
		opt.MaxQueue = DefaultMaxQueue
	}
	if opt.MaxBatchBytes <= 0 {
		opt.MaxBatchBytes = DefaultMaxBatchBytes
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	// The chain state at the end of the last rotated segment, if any. Closed
	// segments are not reread on every start: `sealpost audit verify` does.
	v := newVerifier(nil)
	segs, err := segments(dir)
	if err != nil {
		return nil, err
	}
	for i := len(segs) - 1; i >= 0 && v.n == 0; i-- { // the last non-empty one
		v.anyStart = true
		if err := verifyFile(segs[i], v); err != nil {
			return nil, fmt.Errorf("audit: refusing to continue the log: %w", err)
		}
		v.anyStart = false
	}
	path := filepath.Join(dir, FileName)
	_, statErr := os.Stat(path)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	// Private even if an older file or directory was not.
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return nil, fmt.Errorf("audit: %w", err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		f.Close()
		return nil, fmt.Errorf("audit: %w", err)
	}
	if errors.Is(statErr, os.ErrNotExist) {
		if err := syncDir(dir); err != nil {
			f.Close()
			return nil, err
		}
	}
	start := v.seq
	v.reset(f)
	if err := v.run(); err != nil {
		var verr *VerifyError
		if !errors.As(err, &verr) || verr.Kind != KindTruncated {
			f.Close()
			return nil, fmt.Errorf("audit: %s: refusing to continue the log: %w", path, err)
		}
		info, serr := f.Stat()
		if serr != nil {
			f.Close()
			return nil, fmt.Errorf("audit: %w", serr)
		}
		opt.Logger.Warn("audit log ends with a torn line (a write interrupted by a crash, never acknowledged); cutting it off",
			"file", path, "line", verr.Line, "bytes", info.Size()-v.good)
		if err := f.Truncate(v.good); err != nil {
			f.Close()
			return nil, fmt.Errorf("audit: cut torn line: %w", err)
		}
		if err := f.Sync(); err != nil {
			f.Close()
			return nil, fmt.Errorf("audit: cut torn line: %w", err)
		}
	}
	if _, err := f.Seek(v.good, io.SeekStart); err != nil {
		f.Close()
		return nil, fmt.Errorf("audit: %w", err)
	}
	w := &Writer{
		f:        f,
		dir:      dir,
		path:     path,
		now:      opt.Now,
		batch:    opt.MaxBatchBytes,
		maxBytes: opt.MaxFileBytes,
		size:     v.good,
		first:    start + 1,
		queue:    make(chan *request, opt.MaxQueue),
		done:     make(chan struct{}),
	}
	go w.loop(v.seq, v.hash)
	return w, nil
}

// Path is the log file's path.
func (w *Writer) Path() string { return w.path }

// Append writes e as the next record and returns after the record is on
// disk (fsync), with its seq. It fails if the record cannot be encoded or
// is larger than MaxRecordBytes, if ctx ends first (the record may still
// be written), after Close, or after a write error (fail closed).
func (w *Writer) Append(ctx context.Context, e Event) (seq uint64, err error) {
	rec := e.record(w.now())
	b, err := body(&rec)
	if err != nil {
		return 0, err
	}
	if len(b) > MaxRecordBytes {
		return 0, fmt.Errorf("audit: record of %d bytes is larger than %d", len(b), MaxRecordBytes)
	}
	req := &request{body: b, res: make(chan result, 1)}
	w.mu.RLock()
	if w.closed {
		w.mu.RUnlock()
		return 0, ErrClosed
	}
	select {
	case w.queue <- req:
	case <-ctx.Done():
		w.mu.RUnlock()
		return 0, ctx.Err()
	}
	w.mu.RUnlock()
	select {
	case r := <-req.res:
		return r.seq, r.err
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// Stats are counters since Open.
type Stats struct {
	Appends uint64 // records written and synced
	Syncs   uint64 // fsyncs of the log
}

// Stats returns the counters.
func (w *Writer) Stats() Stats {
	return Stats{Appends: w.appends.Load(), Syncs: w.syncs.Load()}
}

// Close writes what is queued, stops the writer and closes the file.
// Appends after Close fail with ErrClosed.
func (w *Writer) Close() error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return ErrClosed
	}
	w.closed = true
	close(w.queue)
	w.mu.Unlock()
	<-w.done
	return w.f.Close()
}

// loop is the single writer: it takes whatever is queued, writes it with one
// write and one fsync, then answers each request.
func (w *Writer) loop(seq uint64, hash [32]byte) {
	defer close(w.done)
	var (
		buf     []byte
		batch   []*request
		results []result
		failed  error
	)
	for first := range w.queue {
		// Let the appenders that are already running reach the queue
		// before the batch is cut: on a busy machine the writer wakes for
		// the first record while the others are a few microseconds behind,
		// and every record that misses the batch costs a write and an fsync
		// of its own.
		runtime.Gosched()
		batch = append(batch[:0], first)
		size := len(first.body)
	drain:
		for size < w.batch {
			select {
			case r, ok := <-w.queue:
				if !ok {
					break drain
				}
				batch = append(batch, r)
				size += len(r.body)
			default:
				break drain
			}
		}
		if failed != nil {
			for _, r := range batch {
				r.res <- result{err: failed}
			}
			continue
		}
		results = results[:0]
		s, h := seq, hash
		for _, r := range batch {
			s++
			buf, h = chainLine(buf, r.body, s, h)
			results = append(results, result{seq: s, hash: h})
		}
		err := w.write(buf)
		buf = buf[:0]
		if err != nil {
			failed = fmt.Errorf("audit: log unusable after a failed write: %w", err)
			for _, r := range batch {
				r.res <- result{err: failed}
			}
			continue
		}
		seq, hash = s, h
		w.appends.Add(uint64(len(batch)))
		for i, r := range batch {
			r.res <- results[i]
		}
		clear(batch)
		if w.maxBytes > 0 && w.size >= w.maxBytes {
			if err := w.rotate(seq + 1); err != nil {
				failed = fmt.Errorf("audit: log unusable after a failed rotation: %w", err)
			}
		}
	}
}

func (w *Writer) write(b []byte) error {
	if w.beforeWrite != nil {
		w.beforeWrite()
	}
	n, err := w.f.Write(b)
	w.size += int64(n)
	if err != nil {
		return err
	}
	w.syncs.Add(1)
	return w.f.Sync()
}

// rotate renames the active file to its segment name and starts a new
// active file whose first record will be next. A crash between the two
// steps leaves no active file, which Open creates.
func (w *Writer) rotate(next uint64) error {
	if err := w.f.Close(); err != nil {
		return err
	}
	if err := os.Rename(w.path, filepath.Join(w.dir, segmentName(w.first))); err != nil {
		return err
	}
	if err := syncDir(w.dir); err != nil {
		return err
	}
	f, err := os.OpenFile(w.path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	w.f, w.size, w.first = f, 0, next
	return syncDir(w.dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("audit: sync dir: %w", err)
	}
	return nil
}
