package audit

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Command runs `sealpost audit <verify|tail> ...` with args after "audit"
// and returns the exit status: 0 success, 1 a broken log, 2 bad usage or an
// unreadable file.
func Command(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: sealpost audit verify [--file F | --data-dir D]\n       sealpost audit tail [-n N] [-f] [--file F | --data-dir D]")
		return 2
	}
	switch args[0] {
	case "verify":
		return VerifyCommand(args[1:], stdout, stderr)
	case "tail":
		return TailCommand(ctx, args[1:], stdout, stderr)
	default:
		fmt.Fprintf(stderr, "sealpost audit: unknown command %q (want verify or tail)\n", args[0])
		return 2
	}
}

// logFlags adds --file and --data-dir to fs and returns a function that
// resolves, once fs is parsed, either the one file given or the audit
// directory of the data dir.
func logFlags(fs *flag.FlagSet) func() (file, dir string, err error) {
	def := os.Getenv("SEALPOST_DATA_DIR")
	if def == "" {
		def = "./sealpost-data"
	}
	file := fs.String("file", "", "one audit log file (default: the whole log in <data-dir>/audit)")
	dataDir := fs.String("data-dir", def, "Sealpost data directory (env SEALPOST_DATA_DIR)")
	return func() (string, string, error) {
		fileSet, dirSet := false, false
		fs.Visit(func(f *flag.Flag) {
			fileSet = fileSet || f.Name == "file"
			dirSet = dirSet || f.Name == "data-dir"
		})
		if fileSet && dirSet {
			return "", "", errors.New("give --file or --data-dir, not both")
		}
		if fs.NArg() > 0 {
			return "", "", fmt.Errorf("unexpected argument %q", fs.Arg(0))
		}
		if *file != "" {
			return *file, "", nil
		}
		return "", Dir(*dataDir), nil
	}
}

// VerifyCommand runs `sealpost audit verify`: it verifies the whole log (all
// rotated segments and the active file) or one file, and prints the record
// count and last hash, or the first broken record.
func VerifyCommand(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("sealpost audit verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	where := logFlags(fs)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	file, dir, err := where()
	if err != nil {
		fmt.Fprintln(stderr, "sealpost audit verify:", err)
		return 2
	}
	var (
		v    *verifier
		name = dir
		note string
	)
	if file != "" {
		name = file
		if _, err := os.Stat(file); err != nil {
			fmt.Fprintln(stderr, "sealpost audit verify:", err)
			return 2
		}
		v = newVerifier(nil)
		// A rotated segment on its own starts wherever the chain was.
		if v.anyStart = isSegmentName(filepath.Base(file)); v.anyStart {
			note = " (a segment: its first record is taken as given, not checked against the segment before it)"
		}
		err = verifyFile(file, v)
	} else {
		if _, err := os.Stat(dir); err != nil {
			fmt.Fprintln(stderr, "sealpost audit verify:", err)
			return 2
		}
		v, err = verifyDir(dir)
	}
	var verr *VerifyError
	switch {
	case errors.As(err, &verr):
		fmt.Fprintf(stdout, "%s: BROKEN: %v\n(%d records before it verified)\n", name, verr, v.total)
		return 1
	case err != nil:
		fmt.Fprintln(stderr, "sealpost audit verify:", err)
		return 2
	case v.total == 0:
		fmt.Fprintf(stdout, "%s: OK: empty log\n", name)
	default:
		fmt.Fprintf(stdout, "%s: OK: %d records, up to seq %d, chain intact%s; last hash %x\n", name, v.total, v.seq, note, v.hash)
	}
	return 0
}

// TailCommand runs `sealpost audit tail`: the last N records of the active
// file (not of rotated segments), one line each, and with -f the records
// appended after, until ctx ends.
func TailCommand(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("sealpost audit tail", flag.ContinueOnError)
	fs.SetOutput(stderr)
	n := fs.Int("n", 20, "print the last N records (0: all)")
	follow := fs.Bool("f", false, "keep printing records as they are appended")
	where := logFlags(fs)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	p, dir, err := where()
	if err != nil {
		fmt.Fprintln(stderr, "sealpost audit tail:", err)
		return 2
	}
	if p == "" {
		p = filepath.Join(dir, FileName)
	}
	if err := Tail(ctx, p, *n, *follow, 0, stdout); err != nil {
		fmt.Fprintln(stderr, "sealpost audit tail:", err)
		return 2
	}
	return 0
}
