// Command kmsload measures KMS data-plane throughput against any
// KMS-compatible endpoint (Sealpost, moto_server, local-kms) with
// aws-sdk-go-v2: GenerateDataKey (AES_256, with an encryption context) and
// Decrypt of data keys generated beforehand, each in its own phase of
// -concurrency closed-loop workers (each waits for its answer) for
// -duration after a -warmup whose calls are not counted.
//
//	go run ./bench/kmsload -endpoint https://127.0.0.1:9911 -ca sealpost-data/tls/ca.pem
//	go run ./bench/kmsload -endpoint http://127.0.0.1:5000 -duration 5s -json
//
// The load generator shares the machine with the server: it reports its own
// CPU seconds per phase (client_cpu_s), and runs its garbage collector at
// -gogc 400 by default to spend less of the shared CPU.
//
// It prints one block per operation (ops/s, latency percentiles, errors by
// code) and, with -json, one JSON line with every figure. Every failed call
// counts as an error (the SDK does not retry), and so does a Decrypt that
// answers a plaintext other than the data key it sealed. Exit status 1 when
// setup fails, 0 otherwise (errors are figures, not failures).
package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/smithy-go"
)

type options struct {
	endpoint, ca, region, accessKey, secretKey string
	keyID                                      string
	ops                                        []string
	concurrency, blobs                         int
	duration, warmup                           time.Duration
	json                                       bool
}

func main() {
	var o options
	var ops string
	flag.StringVar(&o.endpoint, "endpoint", "https://127.0.0.1:9911", "KMS endpoint URL")
	flag.StringVar(&o.ca, "ca", "", "PEM CA bundle to trust for an https endpoint (Sealpost: <data-dir>/tls/ca.pem)")
	flag.StringVar(&o.region, "region", "us-east-1", "region to sign for")
	flag.StringVar(&o.accessKey, "access-key", "test", "access key id")
	flag.StringVar(&o.secretKey, "secret-key", "test", "secret access key")
	flag.StringVar(&o.keyID, "key", "", "key id, ARN or alias to use (default: create a key)")
	flag.StringVar(&ops, "ops", "generate-data-key,decrypt", "operations to measure, in order: generate-data-key, decrypt")
	flag.IntVar(&o.concurrency, "concurrency", 16, "concurrent workers (each with its calls in series)")
	flag.IntVar(&o.blobs, "blobs", 256, "distinct data keys Decrypt cycles through")
	flag.DurationVar(&o.duration, "duration", 15*time.Second, "measured time per operation")
	flag.DurationVar(&o.warmup, "warmup", 3*time.Second, "uncounted time before each measured phase")
	flag.BoolVar(&o.json, "json", false, "also print one JSON line with every figure")
	gogc := flag.Int("gogc", 400, "garbage collector target percentage for this load generator (GOGC, when set, wins); 400 leaves more CPU to the server on a shared machine (about 20% less client CPU per call than 100)")
	flag.Parse()
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(*gogc)
	}
	o.ops = strings.Split(ops, ",")
	for _, op := range o.ops {
		if op != "generate-data-key" && op != "decrypt" {
			fail("unknown operation %q in -ops (want generate-data-key, decrypt)", op)
		}
	}
	if o.concurrency < 1 || o.blobs < 1 || o.duration <= 0 || o.warmup < 0 {
		fail("-concurrency and -blobs must be at least 1, -duration positive, -warmup not negative")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o); err != nil {
		fail("%v", err)
	}
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "kmsload: "+format+"\n", args...)
	os.Exit(1)
}

// result is one operation's figures.
type result struct {
	Op          string         `json:"op"`
	Calls       int            `json:"calls"`
	OpsPerSec   float64        `json:"ops_per_sec"`
	P50Ms       float64        `json:"p50_ms"`
	P90Ms       float64        `json:"p90_ms"`
	P99Ms       float64        `json:"p99_ms"`
	MaxMs       float64        `json:"max_ms"`
	Errors      int            `json:"errors"`
	ErrorCodes  map[string]int `json:"error_codes,omitempty"`
	Seconds     float64        `json:"seconds"`
	ClientCPUs  float64        `json:"client_cpu_s"` // this process's user+system CPU seconds in the phase
	Concurrency int            `json:"concurrency"`
}

type report struct {
	Endpoint    string   `json:"endpoint"`
	KeyID       string   `json:"key_id"`
	Concurrency int      `json:"concurrency"`
	Results     []result `json:"results"`
}

// dataKey is a data key Decrypt must get back from its blob.
type dataKey struct {
	blob, plain []byte
}

var benchContext = map[string]string{"purpose": "kmsload", "tenant": "bench"}

func run(ctx context.Context, o options) error {
	hc, err := httpClient(o)
	if err != nil {
		return err
	}
	c := kms.NewFromConfig(aws.Config{
		Region:           o.region,
		Credentials:      credentials.NewStaticCredentialsProvider(o.accessKey, o.secretKey, ""),
		HTTPClient:       hc,
		BaseEndpoint:     aws.String(o.endpoint),
		RetryMaxAttempts: 1,
	})
	key := o.keyID
	if key == "" {
		out, err := c.CreateKey(ctx, &kms.CreateKeyInput{Description: aws.String("kmsload benchmark key")})
		if err != nil {
			return fmt.Errorf("CreateKey: %w", err)
		}
		key = aws.ToString(out.KeyMetadata.KeyId)
	}
	rep := report{Endpoint: o.endpoint, KeyID: key, Concurrency: o.concurrency}
	fmt.Fprintf(os.Stderr, "kmsload: %s, key %s, concurrency %d, %s per operation after %s warm-up\n", o.endpoint, key, o.concurrency, o.duration, o.warmup)

	var keys []dataKey
	for _, op := range o.ops {
		var call func(ctx context.Context, worker, i int) error
		switch op {
		case "generate-data-key":
			call = func(ctx context.Context, _, _ int) error {
				out, err := c.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{KeyId: &key, KeySpec: "AES_256", EncryptionContext: benchContext})
				if err == nil && len(out.Plaintext) != 32 {
					return errors.New("WrongDataKeyLength")
				}
				return err
			}
		case "decrypt":
			if keys == nil {
				if keys, err = prepare(ctx, c, key, o.blobs); err != nil {
					return err
				}
			}
			call = func(ctx context.Context, worker, i int) error {
				k := keys[(worker*7919+i)%len(keys)]
				out, err := c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: k.blob, EncryptionContext: benchContext})
				if err == nil && !bytes.Equal(out.Plaintext, k.plain) {
					return errors.New("WrongPlaintext")
				}
				return err
			}
		}
		if o.warmup > 0 {
			fmt.Fprintf(os.Stderr, "kmsload: %s warm-up %s\n", op, o.warmup)
			phase(ctx, o.concurrency, o.warmup, call)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		fmt.Fprintf(os.Stderr, "kmsload: %s measuring %s\n", op, o.duration)
		r := phase(ctx, o.concurrency, o.duration, call)
		r.Op = op
		rep.Results = append(rep.Results, r)
		fmt.Printf("%-18s %9.1f ops/s  p50 %7.2f ms  p90 %7.2f ms  p99 %7.2f ms  max %8.2f ms  calls %d  errors %d  client CPU %.2f s %v\n",
			op, r.OpsPerSec, r.P50Ms, r.P90Ms, r.P99Ms, r.MaxMs, r.Calls, r.Errors, r.ClientCPUs, codes(r.ErrorCodes))
	}
	if o.json {
		b, _ := json.Marshal(rep)
		fmt.Println(string(b))
	}
	return nil
}

func codes(m map[string]int) string {
	if len(m) == 0 {
		return ""
	}
	b, _ := json.Marshal(m)
	return string(b)
}

// prepare generates n data keys for the Decrypt phase.
func prepare(ctx context.Context, c *kms.Client, key string, n int) ([]dataKey, error) {
	fmt.Fprintf(os.Stderr, "kmsload: generating %d data keys for decrypt\n", n)
	keys := make([]dataKey, 0, n)
	for i := 0; i < n; i++ {
		out, err := c.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{KeyId: &key, KeySpec: "AES_256", EncryptionContext: benchContext})
		if err != nil {
			return nil, fmt.Errorf("GenerateDataKey (preparing decrypt): %w", err)
		}
		keys = append(keys, dataKey{blob: out.CiphertextBlob, plain: out.Plaintext})
	}
	return keys, nil
}

// phase runs call in workers closed-loop for d and returns the figures.
func phase(ctx context.Context, workers int, d time.Duration, call func(ctx context.Context, worker, i int) error) result {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type tally struct {
		lat   []time.Duration
		codes map[string]int
	}
	tallies := make([]tally, workers)
	var wg sync.WaitGroup
	cpu0 := cpuSeconds()
	start := time.Now()
	deadline := start.Add(d)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			t := &tallies[w]
			t.codes = map[string]int{}
			for i := 0; ctx.Err() == nil; i++ {
				begin := time.Now()
				if !begin.Before(deadline) {
					return
				}
				err := call(ctx, w, i)
				if ctx.Err() != nil {
					return
				}
				if err != nil {
					t.codes[errorCode(err)]++
					continue
				}
				t.lat = append(t.lat, time.Since(begin))
			}
		}(w)
	}
	wg.Wait()
	elapsed := time.Since(start)
	var all []time.Duration
	r := result{ErrorCodes: map[string]int{}, Seconds: elapsed.Seconds(), Concurrency: workers, ClientCPUs: cpuSeconds() - cpu0}
	for _, t := range tallies {
		all = append(all, t.lat...)
		for k, v := range t.codes {
			r.ErrorCodes[k] += v
			r.Errors += v
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	r.Calls = len(all) + r.Errors
	r.OpsPerSec = float64(len(all)) / elapsed.Seconds()
	pct := func(p float64) float64 {
		if len(all) == 0 {
			return 0
		}
		i := int(p * float64(len(all)-1))
		return float64(all[i].Microseconds()) / 1000
	}
	r.P50Ms, r.P90Ms, r.P99Ms, r.MaxMs = pct(0.50), pct(0.90), pct(0.99), pct(1)
	return r
}

// cpuSeconds is the user+system CPU time this process used so far.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// errorCode names an error: the service's code, or the kind of transport
// failure.
func errorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return "Timeout"
	}
	msg := err.Error()
	if len(msg) > 60 {
		msg = msg[:60]
	}
	return msg
}

// httpClient is keep-alive with at least 2 idle connections per worker, so
// no call opens a connection (and, over HTTPS, a TLS handshake) after the
// warm-up.
func httpClient(o options) (*http.Client, error) {
	tlsConf := &tls.Config{MinVersion: tls.VersionTLS12}
	if o.ca != "" {
		pem, err := os.ReadFile(o.ca)
		if err != nil {
			return nil, err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s: no PEM certificate", o.ca)
		}
		tlsConf.RootCAs = pool
	}
	idle := 2 * o.concurrency
	return &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			Proxy:               nil,
			DialContext:         (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			TLSClientConfig:     tlsConf,
			TLSHandshakeTimeout: 10 * time.Second,
			MaxIdleConns:        idle,
			MaxIdleConnsPerHost: idle,
			MaxConnsPerHost:     0,
			IdleConnTimeout:     90 * time.Second,
			DisableCompression:  true,
		},
	}, nil
}
