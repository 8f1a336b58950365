package audit

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
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
	File   string // the segment file, when a directory is verified
	Line   int    // 1-based line number
	Seq    uint64 // the seq the line claims (0 if it has none)
	Kind   string // one of the Kind constants
	Reason string
}

func (e *VerifyError) Error() string {
	where := "audit log"
	if e.File != "" {
		where += " " + e.File
	}
	if e.Seq == 0 {
		return fmt.Sprintf("%s line %d: %s: %s", where, e.Line, e.Kind, e.Reason)
	}
	return fmt.Sprintf("%s line %d (seq %d): %s: %s", where, e.Line, e.Seq, e.Kind, e.Reason)
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
	br    *bufio.Reader
	buf   []byte
	line  int      // lines read
	n     int      // records verified in this file
	total int      // records verified in every file read
	seq   uint64   // last verified seq
	hash  [32]byte // last verified hash
	good  int64    // bytes of verified lines
	// anyStart accepts any seq and prevHash for the first record (a rotated
	// segment read on its own); otherwise a log starts where seq and hash say.
	anyStart bool
}

func newVerifier(r io.Reader) *verifier {
	return &verifier{br: bufio.NewReaderSize(r, 64<<10)}
}

// reset points v at the next file of the chain, keeping seq and hash.
func (v *verifier) reset(r io.Reader) {
	v.br.Reset(r)
	v.line, v.n, v.good = 0, 0, 0
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
		v.total++
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

// The end of every line: `,"seq":N,"prevHash":"<64 hex>","hash":"<64 hex>"}`.
const (
	seqMember  = `,"seq":`
	prevMember = `,"prevHash":"`
	hashMember = `","hash":"`
	chainTail  = len(prevMember) + 64 + len(hashMember) + 64 + len(`"}`)
)

// parse splits a line into its chain fields and canonical bytes. The chain
// members are read from their fixed place at the end of the line (where the
// writer puts them, and where encoding/json, which keeps the last of
// repeated names, would find them too); the whole line must be valid JSON.
func parse(line []byte) (seq uint64, prev, hash [32]byte, canonical []byte, reason string) {
	const notRecord = `not a record: it does not end with "seq", "prevHash" and "hash"`
	if len(line) < chainTail+len(seqMember)+2 || line[0] != '{' {
		return 0, prev, hash, nil, notRecord
	}
	tail := line[len(line)-chainTail:]
	head := line[:len(line)-chainTail]
	i := bytes.LastIndex(head, []byte(seqMember))
	if i < 0 || !bytes.HasPrefix(tail, []byte(prevMember)) ||
		!bytes.HasPrefix(tail[len(prevMember)+64:], []byte(hashMember)) || !bytes.HasSuffix(tail, []byte(`"}`)) {
		return 0, prev, hash, nil, notRecord
	}
	digits := head[i+len(seqMember):]
	seq, err := strconv.ParseUint(string(digits), 10, 64)
	if err != nil || seq == 0 || digits[0] == '0' {
		return 0, prev, hash, nil, `not a record: "seq" is not a positive integer`
	}
	prevHex := tail[len(prevMember) : len(prevMember)+64]
	hashHex := tail[len(prevMember)+64+len(hashMember) : len(tail)-2]
	if !isLowerHex(prevHex) || !isLowerHex(hashHex) {
		return seq, prev, hash, nil, `not a record: "prevHash" or "hash" is not 64 lowercase hex digits`
	}
	if !json.Valid(line) {
		return seq, prev, hash, nil, "not a record: not valid JSON"
	}
	hex.Decode(prev[:], prevHex)
	hex.Decode(hash[:], hashHex)
	canonical = make([]byte, 0, len(line)-len(hashMember)-64)
	canonical = append(canonical, line[:len(line)-len(hashMember)-64-1]...)
	canonical = append(canonical, '}')
	return seq, prev, hash, canonical, ""
}

func isLowerHex(s []byte) bool {
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
	seq, prev, hash, canonical, reason := parse(line)
	if reason != "" {
		return &VerifyError{Line: v.line, Seq: seq, Kind: KindEdited, Reason: reason}
	}
	if chainHash(prev, canonical) != hash {
		return &VerifyError{Line: v.line, Seq: seq, Kind: KindEdited, Reason: "its hash does not match its content"}
	}
	want := v.seq + 1
	if v.anyStart && v.n == 0 {
		v.seq, v.hash = seq, hash
		return nil
	}
	switch {
	case seq == want && v.seq == 0 && prev != [32]byte{}:
		return &VerifyError{Line: v.line, Seq: seq, Kind: KindEdited, Reason: "the first record's prevHash is not the genesis value"}
	case seq == want && prev != v.hash:
		return &VerifyError{Line: v.line, Seq: seq, Kind: KindEdited,
			Reason: fmt.Sprintf("its prevHash is not the hash of seq %d %s: that record was edited or replaced", v.seq, v.prevPlace())}
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
			what += fmt.Sprintf(" after seq %d %s", v.seq, v.prevPlace())
		}
		return &VerifyError{Line: v.line, Seq: seq, Kind: KindRemoved, Reason: what}
	case seq == v.seq && hash == v.hash:
		return &VerifyError{Line: v.line, Seq: seq, Kind: KindDuplicated, Reason: fmt.Sprintf("it repeats the record %s", v.prevPlace())}
	default:
		return &VerifyError{Line: v.line, Seq: seq, Kind: KindReordered,
			Reason: fmt.Sprintf("seq %d comes after seq %d %s: records moved or repeated", seq, v.seq, v.prevPlace())}
	}
}

// prevPlace says where the last verified record is.
func (v *verifier) prevPlace() string {
	if v.n == 0 {
		return "(the end of the previous segment)"
	}
	return fmt.Sprintf("on line %d", v.line-1)
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
		s, _, _, _, reason := parse(b)
		if reason != "" {
			continue
		}
		if lo <= s && s <= hi {
			verr.Kind = KindReordered
			verr.Reason = fmt.Sprintf("seq %d comes before seq %d, which is on line %d", verr.Seq, s, line)
			return
		}
	}
}
