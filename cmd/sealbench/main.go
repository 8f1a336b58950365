// Command sealbench measures the throughput and latency of an Amazon SNS
// compatible endpoint: Sealpost, moto_server, or anything else that speaks the
// SNS API.
//
// Three modes:
//
//   - publish: create a topic with -subs subscriptions (http to a built-in
//     sink, or sqs) and publish -size byte messages from -concurrency workers
//     for -duration (or -n messages). Reports Publish throughput and latency.
//   - e2e: like publish, with http subscriptions to the built-in sink; every
//     message carries its send time and a sequence number, so the sink can
//     report delivered throughput, end-to-end latency, duplicates and losses.
//   - rsa: no server involved; measure this machine's RSA-2048 PKCS#1 v1.5
//     SHA-256 signing rate with -concurrency goroutines (default: one per CPU)
//     for -duration. Every signed SNS notification costs one such signature,
//     so this is the ceiling for signed delivery.
//
// -kms-key creates the topic with server-side encryption under that KMS key
// (KmsMasterKeyId), so the same run can be measured on an encrypted topic.
//
// With -rate the workers publish at a fixed total rate (open loop) instead of
// as fast as they can, so latency can be measured below saturation.
//
// With -slow-subs the last subscriptions play a slow, flaky subscriber: they
// answer every -slow-every'th message only after -slow-delay, and the first
// arrival of every -fail-every'th message with a 500 (so the server retries
// it). bench/soak.sh uses this for a long run at a steady rate.
//
// -endpoint may list several comma-separated endpoints (nodes of one
// cluster sharing a store): the topic and subscriptions are created through
// the first, and the publishing workers are spread round-robin over all of
// them, one SDK client per endpoint.
//
// Human-readable results go to stdout; -json adds one JSON line with every
// figure. Progress and diagnostics go to stderr.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"
	"time"
)

// options holds the parsed command line.
type options struct {
	endpoint    string   // -endpoint as given
	endpoints   []string // -endpoint split at commas; endpoints[0] is the control plane
	region      string
	accessKey   string
	secretKey   string
	caBundle    string
	sqsEndpoint string

	mode        string
	topic       string
	kmsKey      string // KmsMasterKeyId of the topic ("" = no SSE)
	subs        int
	subProtocol string
	raw         bool

	// Slow subscriber: the last slowSubs http subscriptions.
	slowSubs  int
	slowDelay time.Duration
	slowEvery int
	failEvery int

	concurrency int
	size        int
	duration    time.Duration
	n           int64
	rate        float64
	warmup      time.Duration
	drain       time.Duration

	timeout        time.Duration
	confirmTimeout time.Duration
	retries        int
	sinkListen     string
	cleanup        bool
	jsonOut        bool
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("sealbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: sealbench [flags]\n\nBenchmarks an SNS-compatible endpoint. Flags:\n")
		fs.PrintDefaults()
	}

	fs.StringVar(&o.endpoint, "endpoint", "http://127.0.0.1:9911", "SNS endpoint URL, or a comma-separated list: control-plane calls go to the first, publishing workers are spread round-robin over all")
	fs.StringVar(&o.region, "region", "us-east-1", "AWS region")
	fs.StringVar(&o.accessKey, "access-key", "test", "static access key ID")
	fs.StringVar(&o.secretKey, "secret-key", "test", "static secret access key")
	fs.StringVar(&o.caBundle, "ca-bundle", "", "PEM file with extra CA certificates to trust for https endpoints")
	fs.StringVar(&o.sqsEndpoint, "sqs-endpoint", "", "SQS endpoint used to create queues for -sub-protocol sqs (default: the first -endpoint; \"none\": never create queues, subscribe synthetic queue ARNs)")

	fs.StringVar(&o.mode, "mode", "publish", "benchmark mode: publish, e2e or rsa")
	fs.StringVar(&o.topic, "topic", "", "topic name (default: unique sealbench-<run id>)")
	fs.StringVar(&o.kmsKey, "kms-key", "", "KmsMasterKeyId of the topic (key id, key ARN, alias name or alias ARN): server-side encryption; empty: none")
	fs.IntVar(&o.subs, "subs", 2, "number of subscriptions on the topic")
	fs.StringVar(&o.subProtocol, "sub-protocol", "http", "subscription protocol: http (built-in sink) or sqs (publish mode only)")
	fs.BoolVar(&o.raw, "raw", false, "set RawMessageDelivery=true on the subscriptions")
	fs.IntVar(&o.slowSubs, "slow-subs", 0, "make the last N http subscriptions slow subscribers (see -slow-delay, -slow-every, -fail-every)")
	fs.DurationVar(&o.slowDelay, "slow-delay", 2*time.Second, "a slow subscriber answers after this delay ...")
	fs.IntVar(&o.slowEvery, "slow-every", 1, "... to every Nth message (by sequence number; 1: every message)")
	fs.IntVar(&o.failEvery, "fail-every", 0, "a slow subscriber answers the first arrival of every Nth message with HTTP 500, so it is retried (0: never)")

	fs.IntVar(&o.concurrency, "concurrency", 16, "number of concurrent publishers (-mode rsa: signing goroutines, default one per CPU)")
	fs.IntVar(&o.size, "size", 1024, "message size in bytes")
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "length of the measured run (ignored when -n is set; -mode rsa: how long to sign)")
	fs.Int64Var(&o.n, "n", 0, "publish exactly this many messages in the measured run instead of running for -duration")
	fs.Float64Var(&o.rate, "rate", 0, "total publish rate in messages/s (open loop); 0 publishes as fast as the workers can (closed loop)")
	fs.DurationVar(&o.warmup, "warmup", time.Second, "warm-up before the measured run (0 to skip)")
	fs.DurationVar(&o.drain, "drain", 30*time.Second, "e2e: how long to wait for outstanding deliveries after the last publish")

	fs.DurationVar(&o.timeout, "timeout", 30*time.Second, "timeout of each API call")
	fs.DurationVar(&o.confirmTimeout, "confirm-timeout", 15*time.Second, "how long to wait for http subscriptions to be confirmed")
	fs.IntVar(&o.retries, "retries", 0, "SDK retries per Publish (0: none, so every failure is counted)")
	fs.StringVar(&o.sinkListen, "sink-listen", "127.0.0.1:0", "listen address of the built-in HTTP sink")
	fs.BoolVar(&o.cleanup, "cleanup", true, "delete the subscriptions, topic and queues afterwards")
	fs.BoolVar(&o.jsonOut, "json", false, "also print one JSON line with all figures")

	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	explicit := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { explicit[f.Name] = true })

	switch o.mode {
	case "publish":
	case "e2e":
		if explicit["sub-protocol"] && o.subProtocol != "http" {
			return o, errors.New("-mode e2e needs -sub-protocol http")
		}
		o.subProtocol = "http"
		if o.subs < 1 {
			return o, errors.New("-mode e2e needs -subs >= 1")
		}
	case "rsa":
		if !explicit["concurrency"] {
			o.concurrency = runtime.NumCPU()
		}
		switch {
		case o.concurrency < 1:
			return o, errors.New("-concurrency must be >= 1")
		case o.duration <= 0:
			return o, errors.New("-duration must be > 0")
		case o.size < 1:
			return o, errors.New("-size must be >= 1")
		}
		return o, nil
	default:
		return o, fmt.Errorf("unknown -mode %q (want publish, e2e or rsa)", o.mode)
	}
	if o.subProtocol != "http" && o.subProtocol != "sqs" {
		return o, fmt.Errorf("unknown -sub-protocol %q (want http or sqs)", o.subProtocol)
	}
	for _, ep := range strings.Split(o.endpoint, ",") {
		if ep = strings.TrimSpace(ep); ep != "" {
			o.endpoints = append(o.endpoints, ep)
		}
	}
	switch {
	case len(o.endpoints) == 0:
		return o, errors.New("-endpoint is required")
	case o.subs < 0:
		return o, errors.New("-subs must be >= 0")
	case o.concurrency < 1:
		return o, errors.New("-concurrency must be >= 1")
	case o.size < 1:
		return o, errors.New("-size must be >= 1")
	case o.n < 0:
		return o, errors.New("-n must be >= 0")
	case o.n == 0 && o.duration <= 0:
		return o, errors.New("-duration must be > 0 (or set -n)")
	case o.rate < 0:
		return o, errors.New("-rate must be >= 0")
	case o.warmup < 0 || o.drain < 0:
		return o, errors.New("-warmup and -drain must be >= 0")
	case o.timeout <= 0:
		return o, errors.New("-timeout must be > 0")
	case o.retries < 0:
		return o, errors.New("-retries must be >= 0")
	case o.slowSubs < 0 || o.slowSubs > o.subs:
		return o, errors.New("-slow-subs must be between 0 and -subs")
	case o.slowSubs > 0 && o.subProtocol != "http":
		return o, errors.New("-slow-subs needs -sub-protocol http")
	case o.slowDelay < 0:
		return o, errors.New("-slow-delay must be >= 0")
	case o.slowEvery < 1:
		return o, errors.New("-slow-every must be >= 1")
	case o.failEvery < 0:
		return o, errors.New("-fail-every must be >= 0")
	}
	if o.sqsEndpoint == "" {
		o.sqsEndpoint = o.endpoints[0]
	}
	return o, nil
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout))
}

func run(args []string, stdout io.Writer) int {
	o, err := parseFlags(args, os.Stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(os.Stderr, "sealbench: %v\n", err)
		return 2
	}

	// The first SIGINT/SIGTERM stops publishing and skips the drain but still
	// prints the results and cleans up; a second one exits at once.
	interrupted := make(chan struct{})
	setupCtx, cancelSetup := context.WithCancel(context.Background())
	defer cancelSetup()
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	defer func() {
		signal.Stop(sigs)
		close(done)
	}()
	go func() {
		select {
		case <-sigs:
		case <-done:
			return
		}
		logf("interrupted: stopping (interrupt again to exit immediately)")
		close(interrupted)
		cancelSetup()
		select {
		case <-sigs:
			os.Exit(130)
		case <-done:
		}
	}()

	if o.mode == "rsa" {
		return runRSA(o, interrupted, stdout)
	}

	b, err := newBench(o, interrupted)
	if err != nil {
		logf("%v", err)
		return 2
	}
	defer b.close()

	if err := b.setup(setupCtx); err != nil {
		logf("setup: %v", err)
		b.teardown()
		return 2
	}
	rep := b.measure()
	rep.print(stdout, o.jsonOut)
	b.teardown()
	if rep.Interrupted {
		return 130
	}
	if rep.Published == 0 {
		return 1
	}
	return 0
}

// logf writes a diagnostic line to stderr.
func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "sealbench: "+format+"\n", args...)
}
