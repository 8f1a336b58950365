package audit

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// Rotated segments are named audit-<first seq, 20 digits>.log, so that
// their names sort in chain order.
const (
	segmentPrefix = "audit-"
	segmentSuffix = ".log"
)

func segmentName(firstSeq uint64) string {
	return fmt.Sprintf("%s%020d%s", segmentPrefix, firstSeq, segmentSuffix)
}

// isSegmentName reports whether name is a rotated segment's name.
func isSegmentName(name string) bool {
	mid, ok := strings.CutPrefix(name, segmentPrefix)
	if !ok {
		return false
	}
	mid, ok = strings.CutSuffix(mid, segmentSuffix)
	if !ok || len(mid) != 20 {
		return false
	}
	_, err := strconv.ParseUint(mid, 10, 64)
	return err == nil
}

// segments lists the rotated segments in dir in chain order.
func segments(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("audit: %w", err)
	}
	var out []string
	for _, e := range entries {
		if e.Type().IsRegular() && isSegmentName(e.Name()) {
			out = append(out, filepath.Join(dir, e.Name()))
		}
	}
	sort.Strings(out)
	return out, nil
}

// verifyFile verifies the file at path, continuing the chain from v's state
// (a fresh verifier starts at genesis). A missing file is empty.
func verifyFile(path string, v *verifier) error {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	v.reset(f)
	if err := v.run(); err != nil {
		var verr *VerifyError
		if errors.As(err, &verr) {
			verr.File = path
		}
		return err
	}
	return nil
}

// VerifyDir verifies the whole log in dir: the rotated segments in order
// and then the active file, as one chain from seq 1. It returns the number
// of records verified before the first break.
func VerifyDir(dir string) (n int, err error) {
	v, err := verifyDir(dir)
	return v.total, err
}

func verifyDir(dir string) (*verifier, error) {
	v := newVerifier(nil)
	segs, err := segments(dir)
	if err != nil {
		return v, err
	}
	for _, p := range append(segs, filepath.Join(dir, FileName)) {
		if err := verifyFile(p, v); err != nil {
			return v, err
		}
	}
	return v, nil
}
