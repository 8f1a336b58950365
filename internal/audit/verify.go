package audit

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// MaxLineBytes is the longest line Verify accepts (the writer's records are
// at most MaxRecordBytes plus the chain fields).
const MaxLineBytes = 1 << 20

// Kinds of break Verify reports.
const (
	KindEdited     = "edited"     // a record's bytes changed, or a line is not a record
	KindRemoved    = "removed"    // records are missing before this one
	KindReordered  = "reordered"  // a record appears out of seq order
	KindDuplicated = "duplicated" // the record repeats the one before it
	KindTruncated  = "truncated"  // the final line is incomplete (torn write)
)

// VerifyError names the first broken record of a log.
type VerifyError struct {
	Line   int    // 1-based line number
	Seq    uint64 // the seq the line claims (0 if it has none)
	Kind   string // one of the Kind constants
	Reason string
}

func (e *VerifyError) Error() string {
	if e.Seq == 0 {
		return fmt.Sprintf("audit log line %d: %s: %s", e.Line, e.Kind, e.Reason)
	}
	return fmt.Sprintf("audit log line %d (seq %d): %s: %s", e.Line, e.Seq, e.Kind, e.Reason)
}

// Verify reads a whole log and checks that every line is a record, that seq
// runs 1, 2, 3, ... without gaps, that each prevHash is the hash of the
// record before it (GenesisHash for seq 1) and that each hash matches its
// record's canonical bytes. It returns the number of records verified before
// the first break, and a *VerifyError naming that break, or an I/O error.
// An empty log verifies with n = 0.
func Verify(r io.Reader) (n int, err error) {
	v := newVerifier(r)
	err = v.run()
	return v.n, err
}

type verifier struct {
	br   *bufio.Reader
	buf  []byte
	line int      // lines read
	n    int      // records verified
	seq  uint64   // last verified seq
	hash [32]byte // last verified hash
	good int64    // bytes of verified lines
}

func newVerifier(r io.Reader) *verifier {
	return &verifier{br: bufio.NewReaderSize(r, 64<<10)}
}

// run verifies until EOF or the first break.
func (v *verifier) run() error {
	for {
		line, complete, err := v.readLine()
		if err != nil {
			return err
		}
		if line == nil {
			return nil
		}
		v.line++
		if !complete {
			return &VerifyError{Line: v.line, Kind: KindTruncated,
				Reason: fmt.Sprintf("the final line (%d bytes) has no end of line: a write torn by a crash, or a cut log", len(line))}
		}
		if verr := v.step(line); verr != nil {
			if verr.Kind == KindRemoved {
				v.classifyGap(verr)
			}
			return verr
		}
		v.good += int64(len(line)) + 1
		v.n++
	}
}

// readLine returns the next line without its "\n" (nil at EOF); complete
// is false for a final line with no "\n".
func (v *verifier) readLine() (line []byte, complete bool, err error) {
	v.buf = v.buf[:0]
	for {
		chunk, err := v.br.ReadSlice('\n')
		v.buf = append(v.buf, chunk...)
		if len(v.buf) > MaxLineBytes+1 {
			return nil, false, &VerifyError{Line: v.line + 1, Kind: KindEdited,
				Reason: fmt.Sprintf("line longer than %d bytes", MaxLineBytes)}
		}
		switch {
		case err == nil:
			return v.buf[:len(v.buf)-1], true, nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF):
			if len(v.buf) == 0 {
				return nil, false, nil
			}
			return v.buf, false, nil
		default:
			return nil, false, err
		}
	}
}

// chainFields are the parts of a line Verify reads.
type chainFields struct {
	Seq      *uint64 `json:"seq"`
	PrevHash string  `json:"prevHash"`
	Hash     string  `json:"hash"`
}

const hashSuffixLen = len(`,"hash":"`) + 64 + len(`"}`)

// parse splits a line into its chain fields and canonical bytes.
func parse(line []byte) (cf chainFields, prev, hash [32]byte, canonical []byte, reason string) {
	if len(line) < hashSuffixLen+1 || !bytes.HasPrefix(line[len(line)-hashSuffixLen:], []byte(`,"hash":"`)) ||
		!bytes.HasSuffix(line, []byte(`"}`)) {
		return cf, prev, hash, nil, `not a record: it does not end with the "hash" field`
	}
	if err := json.Unmarshal(line, &cf); err != nil {
		return cf, prev, hash, nil, "not a record: " + err.Error()
	}
	if cf.Seq == nil || *cf.Seq == 0 {
		return cf, prev, hash, nil, `not a record: no "seq"`
	}
	if len(cf.PrevHash) != 64 || !isLowerHex(cf.PrevHash) {
		return cf, prev, hash, nil, `not a record: "prevHash" is not 64 lowercase hex digits`
	}
	suffixHex := line[len(line)-hashSuffixLen+len(`,"hash":"`) : len(line)-2]
	if cf.Hash != string(suffixHex) || !isLowerHex(cf.Hash) {
		return cf, prev, hash, nil, `not a record: "hash" is not 64 lowercase hex digits`
	}
	hex.Decode(prev[:], []byte(cf.PrevHash))
	hex.Decode(hash[:], suffixHex)
	canonical = make([]byte, 0, len(line)-hashSuffixLen+1)
	canonical = append(canonical, line[:len(line)-hashSuffixLen]...)
	canonical = append(canonical, '}')
	return cf, prev, hash, canonical, ""
}

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// step checks one complete line against the chain so far and, if it
// holds, advances the chain.
func (v *verifier) step(line []byte) *VerifyError {
	cf, prev, hash, canonical, reason := parse(line)
	if reason != "" {
		var seq uint64
		if cf.Seq != nil {
			seq = *cf.Seq
		}
		return &VerifyError{Line: v.line, Seq: seq, Kind: KindEdited, Reason: reason}
	}
	seq := *cf.Seq
	if chainHash(prev, canonical) != hash {
		return &VerifyError{Line: v.line, Seq: seq, Kind: KindEdited, Reason: "its hash does not match its content"}
	}
	want := v.seq + 1
	switch {
	case seq == want && v.seq == 0 && prev != [32]byte{}:
		return &VerifyError{Line: v.line, Seq: seq, Kind: KindEdited, Reason: "the first record's prevHash is not the genesis value"}
	case seq == want && prev != v.hash:
		return &VerifyError{Line: v.line, Seq: seq, Kind: KindEdited,
			Reason: fmt.Sprintf("its prevHash is not the hash of seq %d on line %d: that record was edited or replaced", v.seq, v.line-1)}
	case seq == want:
		v.seq, v.hash = seq, hash
		return nil
	case seq > want:
		what := fmt.Sprintf("seq %d to %d are missing", want, seq-1)
		if seq-1 == want {
			what = fmt.Sprintf("seq %d is missing", want)
		}
		if v.seq == 0 {
			what += " (a log starts at seq 1)"
		} else {
			what += fmt.Sprintf(" after seq %d on line %d", v.seq, v.line-1)
		}
		return &VerifyError{Line: v.line, Seq: seq, Kind: KindRemoved, Reason: what}
	case seq == v.seq && hash == v.hash:
		return &VerifyError{Line: v.line, Seq: seq, Kind: KindDuplicated, Reason: fmt.Sprintf("it repeats line %d", v.line-1)}
	default:
		return &VerifyError{Line: v.line, Seq: seq, Kind: KindReordered,
			Reason: fmt.Sprintf("seq %d comes after seq %d (line %d): records moved or repeated", seq, v.seq, v.line-1)}
	}
}

// classifyGap looks past a gap for a missing seq: if one turns up later,
// the records were reordered rather than removed.
func (v *verifier) classifyGap(verr *VerifyError) {
	lo, hi := v.seq+1, verr.Seq-1
	line := v.line
	for {
		b, complete, err := v.readLine()
		if err != nil || b == nil || !complete {
			return
		}
		line++
		var cf chainFields
		if json.Unmarshal(b, &cf) != nil || cf.Seq == nil {
			continue
		}
		if s := *cf.Seq; lo <= s && s <= hi {
			verr.Kind = KindReordered
			verr.Reason = fmt.Sprintf("seq %d comes before seq %d, which is on line %d", verr.Seq, s, line)
			return
		}
	}
}
