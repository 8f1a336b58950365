package policy

import (
	"errors"
	"strconv"
)

// ErrInvalid is matched (errors.Is) by every error Parse returns.
var ErrInvalid = errors.New("invalid policy")

// Error describes why a policy document was refused.
//
// Its Error text names the place and the problem, and is meant to be shown
// to API callers as is, after a service-specific prefix, for example
// "Invalid parameter: Policy Error: " + err.Error() for SNS or as the message
// of a KMS MalformedPolicyDocumentException.
type Error struct {
	// Statement is the 0-based index of the statement at fault, or -1 when
	// the problem is in the document itself.
	Statement int
	// Sid is the statement's Sid, when it has one.
	Sid string
	// Problem says what is wrong, without the place.
	Problem string
}

func (e *Error) Error() string {
	if e.Statement < 0 {
		return e.Problem
	}
	where := "Statement[" + strconv.Itoa(e.Statement) + "]"
	if e.Sid != "" {
		where += " (Sid " + quote(e.Sid) + ")"
	}
	return where + ": " + e.Problem
}

// Unwrap makes errors.Is(err, ErrInvalid) hold.
func (e *Error) Unwrap() error { return ErrInvalid }

// quote returns s in double quotes, shortened so that error texts stay small
// whatever the input.
func quote(s string) string {
	const max = 64
	if len(s) > max {
		cut := max
		for cut > 0 && s[cut]&0xC0 == 0x80 { // do not split a UTF-8 sequence
			cut--
		}
		s = s[:cut] + "..."
	}
	return strconv.Quote(s)
}
