package audit

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// FormatRecord renders one log line for a person: seq, time, event,
// principal, key and result on one line. A line that is not a record is
// shown as such, never skipped.
func FormatRecord(line []byte) string {
	var r Record
	if err := json.Unmarshal(line, &r); err != nil || r.EventName == "" {
		return fmt.Sprintf("(not a record: %d bytes)", len(line))
	}
	who := r.UserIdentity.ARN
	if who == "" {
		who = r.UserIdentity.PrincipalID
	}
	if r.UserIdentity.InvokedBy != "" {
		if who == "" {
			who = r.UserIdentity.InvokedBy
		} else {
			who += " via " + r.UserIdentity.InvokedBy
		}
	}
	if who == "" {
		who = r.UserIdentity.Type
	}
	if who == "" {
		who = "-"
	}
	key := "-"
	if len(r.Resources) > 0 && r.Resources[0].ARN != "" {
		key = r.Resources[0].ARN
	} else if id, ok := r.RequestParameters["keyId"].(string); ok && id != "" {
		key = id
	}
	res := "OK"
	if r.ErrorCode != "" {
		res = r.ErrorCode
		if r.ErrorMessage != "" {
			res += ": " + oneLine(r.ErrorMessage)
		}
	}
	return fmt.Sprintf("%6d  %s  %-26s  %s  %s  %s", r.Seq, r.EventTime, r.EventName, oneLine(who), oneLine(key), res)
}

func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}

// Tail prints the last n records of the log at path (all of them if n <= 0)
// with FormatRecord. With follow it then prints records as they are
// appended, polling every poll interval, until ctx ends.
func Tail(ctx context.Context, path string, n int, follow bool, poll time.Duration, out io.Writer) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 64<<10)
	var (
		ring    []string
		next    int
		pending []byte
	)
	for {
		line, err := br.ReadBytes('\n')
		if err != nil {
			if !errors.Is(err, io.EOF) {
				return err
			}
			pending = line
			break
		}
		s := FormatRecord(line[:len(line)-1])
		if n <= 0 {
			ring = append(ring, s)
		} else if len(ring) < n {
			ring = append(ring, s)
		} else {
			ring[next] = s
			next = (next + 1) % n
		}
	}
	for i := range ring {
		if _, err := fmt.Fprintln(out, ring[(next+i)%len(ring)]); err != nil {
			return err
		}
	}
	if !follow {
		return nil
	}
	if poll <= 0 {
		poll = 250 * time.Millisecond
	}
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		for {
			chunk, err := br.ReadBytes('\n')
			pending = append(pending, chunk...)
			if err != nil {
				if !errors.Is(err, io.EOF) {
					return err
				}
				break
			}
			if _, err := fmt.Fprintln(out, FormatRecord(pending[:len(pending)-1])); err != nil {
				return err
			}
			pending = pending[:0]
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}
