// Package kmsusage implements `sealpost kms usage`: it reads the KMS audit
// log (internal/audit) and prints, per SNS topic and per key, the
// GenerateDataKey and Decrypt calls made for server-side encryption,
// beside the estimate AWS gives in "Estimating AWS KMS costs" on the SNS
// key-management page:
//
//	R = B / D * (2 * P)
//
// per topic, where B is the billing period in seconds, D the data key reuse
// period in seconds (SNS reuses a data key for up to 5 minutes) and P the
// number of publishing principals that send to the topic.
//
// What counts: a GenerateDataKey or Decrypt record whose
// requestParameters.encryptionContext has the key "aws:sns:topicArn" (the
// context SNS uses; a user calling KMS directly with that context is
// counted too). Failed calls are counted (KMS bills requests) and shown
// apart. P is the number of distinct principals (userIdentity.arn) of a
// topic's GenerateDataKey records: SNS asks for data keys as the publisher,
// and opens bodies as the SNS service. B is the time between the first and
// the last record of the log read (every record, not only SNS's), or
// --period. D is --reuse (default 300 s, AWS's value; set it to the
// server's --sse-data-key-reuse).
//
// The log is read as it is (the rotated segments in chain order, then the
// active file); it is not verified (`sealpost audit verify` does that).
// Lines that are not records, such as a final line still being written,
// are skipped and counted.
package kmsusage

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/sealpost/sealpost/internal/audit"
)

// ContextKey is the encryption-context key of SNS's data keys.
const ContextKey = "aws:sns:topicArn"

// DefaultReuse is AWS's data key reuse period for SNS.
const DefaultReuse = 5 * time.Minute

// Calls counts the KMS calls of one topic or key.
type Calls struct {
	GenerateDataKey int
	Decrypt         int
	// Errors counts the calls (of both kinds) that failed.
	Errors int
}

// Total is GenerateDataKey + Decrypt.
func (c Calls) Total() int { return c.GenerateDataKey + c.Decrypt }

// Topic is the usage of one topic.
type Topic struct {
	ARN   string
	Calls Calls
	// Keys are the key ARNs its calls used, sorted.
	Keys []string
	// Publishers are the distinct principals of its GenerateDataKey calls,
	// sorted (P = len(Publishers)).
	Publishers []string
}

// Key is the usage of one key.
type Key struct {
	ARN    string
	Calls  Calls
	Topics []string // sorted
}

// Report is what a log holds.
type Report struct {
	Records int // records read
	Skipped int // lines that were not records
	// First and Last are the times of the first and last record.
	First, Last time.Time
	Topics      []Topic // sorted by ARN
	Keys        []Key   // sorted by ARN
}

// Period is Last - First.
func (r *Report) Period() time.Duration { return r.Last.Sub(r.First) }

// Estimate is AWS's R = B / D * (2 * P).
func Estimate(b, d time.Duration, p int) float64 {
	if d <= 0 {
		return 0
	}
	return b.Seconds() / d.Seconds() * float64(2*p)
}

// record is the part of an audit record this package reads.
type record struct {
	EventTime         string `json:"eventTime"`
	EventName         string `json:"eventName"`
	RequestParameters struct {
		EncryptionContext map[string]any `json:"encryptionContext"`
		KeyID             string         `json:"keyId"`
	} `json:"requestParameters"`
	UserIdentity audit.UserIdentity `json:"userIdentity"`
	Resources    []audit.Resource   `json:"resources"`
	ErrorCode    string             `json:"errorCode"`
}

// builder accumulates a Report.
type builder struct {
	rep    Report
	topics map[string]*topicAcc
	keys   map[string]*keyAcc
}

type topicAcc struct {
	calls      Calls
	keys       map[string]bool
	publishers map[string]bool
}

type keyAcc struct {
	calls  Calls
	topics map[string]bool
}

func newBuilder() *builder {
	return &builder{topics: map[string]*topicAcc{}, keys: map[string]*keyAcc{}}
}

// add reads the records of one file (or stream).
func (b *builder) add(r io.Reader) error {
	br := bufio.NewReaderSize(r, 64<<10)
	for {
		line, err := br.ReadBytes('\n')
		if len(line) > 0 {
			b.line(line)
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

func (b *builder) line(line []byte) {
	var rec record
	if err := json.Unmarshal(line, &rec); err != nil || rec.EventName == "" {
		b.rep.Skipped++
		return
	}
	t, err := time.Parse(time.RFC3339Nano, rec.EventTime)
	if err != nil {
		b.rep.Skipped++
		return
	}
	b.rep.Records++
	if b.rep.First.IsZero() || t.Before(b.rep.First) {
		b.rep.First = t
	}
	if t.After(b.rep.Last) {
		b.rep.Last = t
	}
	if rec.EventName != "GenerateDataKey" && rec.EventName != "Decrypt" {
		return
	}
	topic, _ := rec.RequestParameters.EncryptionContext[ContextKey].(string)
	if topic == "" {
		return
	}
	key := ""
	if len(rec.Resources) > 0 {
		key = rec.Resources[0].ARN
	}
	if key == "" {
		key = rec.RequestParameters.KeyID // a call refused before its key was found
	}
	if key == "" {
		key = "-"
	}
	ta := b.topics[topic]
	if ta == nil {
		ta = &topicAcc{keys: map[string]bool{}, publishers: map[string]bool{}}
		b.topics[topic] = ta
	}
	ka := b.keys[key]
	if ka == nil {
		ka = &keyAcc{topics: map[string]bool{}}
		b.keys[key] = ka
	}
	ta.keys[key] = true
	ka.topics[topic] = true
	for _, c := range []*Calls{&ta.calls, &ka.calls} {
		if rec.EventName == "GenerateDataKey" {
			c.GenerateDataKey++
		} else {
			c.Decrypt++
		}
		if rec.ErrorCode != "" {
			c.Errors++
		}
	}
	if rec.EventName == "GenerateDataKey" {
		who := rec.UserIdentity.ARN
		if who == "" {
			who = rec.UserIdentity.PrincipalID
		}
		if who == "" {
			who = rec.UserIdentity.AccountID
		}
		if who != "" {
			ta.publishers[who] = true
		}
	}
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func (b *builder) report() Report {
	r := b.rep
	for arn, a := range b.topics {
		r.Topics = append(r.Topics, Topic{ARN: arn, Calls: a.calls, Keys: sortedKeys(a.keys), Publishers: sortedKeys(a.publishers)})
	}
	sort.Slice(r.Topics, func(i, j int) bool { return r.Topics[i].ARN < r.Topics[j].ARN })
	for arn, a := range b.keys {
		r.Keys = append(r.Keys, Key{ARN: arn, Calls: a.calls, Topics: sortedKeys(a.topics)})
	}
	sort.Slice(r.Keys, func(i, j int) bool { return r.Keys[i].ARN < r.Keys[j].ARN })
	return r
}

// Read reads the records of r (one log file's contents).
func Read(r io.Reader) (Report, error) {
	b := newBuilder()
	if err := b.add(r); err != nil {
		return Report{}, err
	}
	return b.report(), nil
}

// ReadDir reads the whole log in an audit directory: the rotated segments
// in chain order, then the active file.
func ReadDir(dir string) (Report, error) {
	files, err := logFiles(dir)
	if err != nil {
		return Report{}, err
	}
	b := newBuilder()
	for _, p := range files {
		if err := readFile(b, p); err != nil {
			return Report{}, err
		}
	}
	return b.report(), nil
}

// ReadFile reads one log file.
func ReadFile(path string) (Report, error) {
	b := newBuilder()
	if err := readFile(b, path); err != nil {
		return Report{}, err
	}
	return b.report(), nil
}

func readFile(b *builder, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return b.add(f)
}

// logFiles lists the segments (audit-<20 digits>.log, sorted) and the
// active file of dir. A directory without a log is an error.
func logFiles(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var segs []string
	active := ""
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		name := e.Name()
		if name == audit.FileName {
			active = filepath.Join(dir, name)
			continue
		}
		mid, ok := strings.CutPrefix(name, "audit-")
		if !ok {
			continue
		}
		mid, ok = strings.CutSuffix(mid, ".log")
		if _, err := strconv.ParseUint(mid, 10, 64); ok && len(mid) == 20 && err == nil {
			segs = append(segs, filepath.Join(dir, name))
		}
	}
	sort.Strings(segs)
	if active != "" {
		segs = append(segs, active)
	}
	if len(segs) == 0 {
		return nil, fmt.Errorf("%s: no audit log here", dir)
	}
	return segs, nil
}

// Print writes the report as two tables: per topic (with AWS's estimate for
// period b and reuse period d) and per key.
func Print(w io.Writer, r Report, b, d time.Duration, periodNote string) error {
	fmt.Fprintf(w, "records: %d", r.Records)
	if r.Skipped > 0 {
		fmt.Fprintf(w, " (%d lines skipped: not records)", r.Skipped)
	}
	if r.Records > 0 {
		fmt.Fprintf(w, ", %s to %s", audit.FormatTime(r.First), audit.FormatTime(r.Last))
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "B = %s s (%s), D = %s s (data key reuse period)\n", secs(b), periodNote, secs(d))
	fmt.Fprintln(w, "estimate R = B / D * (2 * P) per topic, from \"Estimating AWS KMS costs\" in the Amazon SNS key management guide")
	fmt.Fprintln(w)
	if len(r.Topics) == 0 {
		fmt.Fprintln(w, "no GenerateDataKey or Decrypt calls with encryption context aws:sns:topicArn")
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TOPIC\tKEY\tP\tGENERATEDATAKEY\tDECRYPT\tFAILED\tMEASURED\tESTIMATE R")
	for _, t := range r.Topics {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%d\t%.1f\n", t.ARN, strings.Join(t.Keys, ","), len(t.Publishers),
			t.Calls.GenerateDataKey, t.Calls.Decrypt, t.Calls.Errors, t.Calls.Total(), Estimate(b, d, len(t.Publishers)))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "KEY\tTOPICS\tGENERATEDATAKEY\tDECRYPT\tFAILED\tMEASURED")
	for _, k := range r.Keys {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\n", k.ARN, len(k.Topics), k.Calls.GenerateDataKey, k.Calls.Decrypt, k.Calls.Errors, k.Calls.Total())
	}
	return tw.Flush()
}

func secs(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', -1, 64) }

// parseSeconds accepts a Go duration ("5m") or a number of seconds ("300").
func parseSeconds(s string) (time.Duration, error) {
	if n, err := strconv.ParseFloat(s, 64); err == nil {
		return time.Duration(n * float64(time.Second)), nil
	}
	return time.ParseDuration(s)
}

// Command runs `sealpost kms usage` with the arguments after "usage" and
// returns the exit status: 0 success, 2 bad usage or an unreadable log.
func Command(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("sealpost kms usage", flag.ContinueOnError)
	fs.SetOutput(stderr)
	def := os.Getenv("SEALPOST_DATA_DIR")
	if def == "" {
		def = "./sealpost-data"
	}
	file := fs.String("file", "", "one audit log file (default: the whole log in <data-dir>/audit)")
	dataDir := fs.String("data-dir", def, "Sealpost data directory (env SEALPOST_DATA_DIR)")
	reuse := fs.String("reuse", "300", "data key reuse period D, in seconds or as a duration (the server's --sse-data-key-reuse)")
	period := fs.String("period", "", "billing period B, in seconds or as a duration (default: first to last record of the log)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	fail := func(err error) int {
		fmt.Fprintln(stderr, "sealpost kms usage:", err)
		return 2
	}
	if fs.NArg() > 0 {
		return fail(fmt.Errorf("unexpected argument %q", fs.Arg(0)))
	}
	fileSet, dirSet := false, false
	fs.Visit(func(f *flag.Flag) {
		fileSet = fileSet || f.Name == "file"
		dirSet = dirSet || f.Name == "data-dir"
	})
	if fileSet && dirSet {
		return fail(errors.New("give --file or --data-dir, not both"))
	}
	d, err := parseSeconds(*reuse)
	if err != nil || d <= 0 {
		return fail(fmt.Errorf("--reuse %q: want a positive number of seconds or a duration", *reuse))
	}
	var rep Report
	if *file != "" {
		rep, err = ReadFile(*file)
	} else {
		rep, err = ReadDir(audit.Dir(*dataDir))
	}
	if err != nil {
		return fail(err)
	}
	b, note := rep.Period(), "first to last record"
	if *period != "" {
		if b, err = parseSeconds(*period); err != nil || b < 0 {
			return fail(fmt.Errorf("--period %q: want a number of seconds or a duration", *period))
		}
		note = "--period"
	}
	if err := Print(stdout, rep, b, d, note); err != nil {
		return fail(err)
	}
	return 0
}
