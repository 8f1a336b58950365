package delivery

import (
	"context"
	"errors"
	"io"
	"sync"

	"github.com/sealpost/sealpost/internal/arn"
	"github.com/sealpost/sealpost/internal/envelope"
	"github.com/sealpost/sealpost/internal/kms"
	"github.com/sealpost/sealpost/internal/sns"
	"github.com/sealpost/sealpost/internal/store"
)

// Opener opens the sealed bodies of messages published to SSE topics
// (*sse.Sealer implements it). owner and region are the topic's account and
// region (from its ARN); aad is sns.Meta.BodyAAD of the stored record. The
// returned plaintext belongs to the caller, who wipes it after use. Key
// failures are returned wrapped, so errors.Is finds the kms.Err* kind.
type Opener interface {
	Open(ctx context.Context, owner, region string, frame []byte, aad envelope.BodyAAD) ([]byte, error)
}

// ErrNoOpener is the failure of a sealed delivery on an engine without
// Options.Opener.
var ErrNoOpener = errors.New("delivery: sealed message but no opener configured")

// openCodes names the key failures of Open as SNS names them (the KMS*
// error codes of the SNS API); other kms kinds are "KMS" + their kind.
var openCodes = []struct {
	kind error
	code string
}{
	{kms.ErrDisabled, "KMSDisabled"},
	{kms.ErrInvalidState, "KMSInvalidState"},
	{kms.ErrNotFound, "KMSNotFound"},
	{kms.ErrAccessDenied, "KMSAccessDenied"},
	{kms.ErrInvalidCiphertext, "KMSInvalidCiphertext"},
	{kms.ErrIncorrectKey, "KMSIncorrectKey"},
	{kms.ErrInternal, "KMSInternal"},
}

// openErrorCode classifies an Open failure for logs and dead-letter
// records. It never includes the error's text (which could name values).
func openErrorCode(err error) string {
	for _, c := range openCodes {
		if errors.Is(err, c.kind) {
			return c.code
		}
	}
	var ke *kms.Error
	switch {
	case errors.As(err, &ke):
		return "KMS" + ke.Kind.Error()
	case errors.Is(err, envelope.ErrInvalidCiphertext):
		// The frame or its metadata was altered, or it was moved to
		// another record: it does not open, and nothing is sent.
		return "InvalidCiphertext"
	case errors.Is(err, ErrNoOpener):
		return "NoOpener"
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return "Timeout"
	}
	return "OpenFailed"
}

// openBody returns the plaintext body of l's message: the stored body for
// messages not sealed (owned=false: it is the store's and must not be
// wiped), else the opened frame (owned=true: the caller wipes it).
func (e *Engine) openBody(ctx context.Context, l store.Lease, meta sns.Meta) (body []byte, owned bool, err error) {
	if !meta.Sealed {
		return l.Message.Body, false, nil
	}
	if e.opts.Opener == nil {
		return nil, false, ErrNoOpener
	}
	a, err := arn.Parse(l.Message.TopicARN)
	if err != nil {
		return nil, false, err
	}
	pt, err := e.opts.Opener.Open(ctx, a.Account, a.Region, l.Message.Body, meta.BodyAAD(l.Message.TopicARN, l.MessageID, l.Message.CreatedAt))
	if err != nil {
		envelope.Wipe(pt)
		return nil, false, err
	}
	return pt, true, nil
}

// wipeBuf is a request body the engine owns and wipes once the attempt is
// over. Readers made by reader read it under mu, so wiping cannot race with
// a transport still writing it (a reader that comes after the wipe gets an
// error, and the request fails instead of sending zeros).
type wipeBuf struct {
	mu    sync.Mutex
	b     []byte
	wiped bool
}

var errBodyWiped = errors.New("delivery: request body already wiped")

func (w *wipeBuf) reader() io.ReadCloser { return &wipeReader{w: w} }

// wipe clears the buffer; later reads fail.
func (w *wipeBuf) wipe() {
	w.mu.Lock()
	clear(w.b)
	w.wiped = true
	w.mu.Unlock()
}

type wipeReader struct {
	w   *wipeBuf
	off int
}

func (r *wipeReader) Read(p []byte) (int, error) {
	r.w.mu.Lock()
	defer r.w.mu.Unlock()
	if r.w.wiped {
		return 0, errBodyWiped
	}
	if r.off >= len(r.w.b) {
		return 0, io.EOF
	}
	n := copy(p, r.w.b[r.off:])
	r.off += n
	return n, nil
}

func (r *wipeReader) Close() error { return nil }
