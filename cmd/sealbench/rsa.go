package main

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// rsaKeyBits is the size of the key Sealpost (like AWS) signs notifications
// with.
const rsaKeyBits = 2048

// rsaReport is the result of -mode rsa.
type rsaReport struct {
	Mode        string `json:"mode"`
	Algorithm   string `json:"algorithm"`
	KeyBits     int    `json:"key_bits"`
	Size        int    `json:"size"` // bytes hashed per signature
	Concurrency int    `json:"concurrency"`
	NumCPU      int    `json:"num_cpu"`
	GOMAXPROCS  int    `json:"gomaxprocs"`
	Interrupted bool   `json:"interrupted"`

	ElapsedS         float64 `json:"elapsed_s"`
	Signatures       int64   `json:"signatures"`
	SignaturesPerSec float64 `json:"signatures_per_sec"`
	// PerGoroutinePerSec is SignaturesPerSec / Concurrency.
	PerGoroutinePerSec float64 `json:"per_goroutine_per_sec"`
	// SignMeanMs is the mean wall time of one signature in one goroutine.
	SignMeanMs float64 `json:"sign_mean_ms"`

	// CPU seconds this process used while signing, and CPUs busy on
	// average (CPU seconds / elapsed).
	CPUS        float64 `json:"cpu_s"`
	CPUsBusyAvg float64 `json:"cpus_busy_avg"`
}

// runRSA measures RSA-2048 PKCS#1 v1.5 SHA-256 signing: o.concurrency
// goroutines each hash an o.size-byte message (different every time) and
// sign the digest, for o.duration or until interrupted.
func runRSA(o options, interrupted <-chan struct{}, stdout io.Writer) int {
	logf("generating an RSA-%d key", rsaKeyBits)
	key, err := rsa.GenerateKey(rand.Reader, rsaKeyBits)
	if err != nil {
		logf("rsa: generate key: %v", err)
		return 2
	}
	key.Precompute()

	// One checked signature first: the loop below must do real work.
	msg := make([]byte, o.size)
	digest := sha256.Sum256(msg)
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, digest[:])
	if err == nil {
		err = rsa.VerifyPKCS1v15(&key.PublicKey, crypto.SHA256, digest[:], sig)
	}
	if err != nil {
		logf("rsa: sign/verify self-check: %v", err)
		return 2
	}

	logf("signing with %d goroutine(s) for %v", o.concurrency, o.duration)
	var stop atomic.Bool
	timer := time.AfterFunc(o.duration, func() { stop.Store(true) })
	defer timer.Stop()
	finished := make(chan struct{})
	defer close(finished)
	go func() {
		select {
		case <-interrupted:
			stop.Store(true)
		case <-finished:
		}
	}()

	counts := make([]int64, o.concurrency)
	errs := make([]error, o.concurrency)
	cpu0 := processCPU()
	start := time.Now()
	var wg sync.WaitGroup
	for g := 0; g < o.concurrency; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, o.size)
			for i := range buf {
				buf[i] = padding[i%len(padding)]
			}
			var n int64
			for !stop.Load() {
				// A different message every time, as in real use.
				var ctr [16]byte
				binary.BigEndian.PutUint64(ctr[:8], uint64(g))
				binary.BigEndian.PutUint64(ctr[8:], uint64(n))
				copy(buf, ctr[:min(len(buf), len(ctr))])
				d := sha256.Sum256(buf)
				if _, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, d[:]); err != nil {
					errs[g] = err
					return
				}
				n++
			}
			counts[g] = n
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	cpu := processCPU() - cpu0

	for _, err := range errs {
		if err != nil {
			logf("rsa: sign: %v", err)
			return 2
		}
	}
	rep := &rsaReport{
		Mode:        "rsa",
		Algorithm:   "RSASSA-PKCS1-v1_5 SHA-256",
		KeyBits:     rsaKeyBits,
		Size:        o.size,
		Concurrency: o.concurrency,
		NumCPU:      runtime.NumCPU(),
		GOMAXPROCS:  runtime.GOMAXPROCS(0),
		ElapsedS:    round3(elapsed.Seconds()),
		CPUS:        round3(cpu),
	}
	select {
	case <-interrupted:
		rep.Interrupted = true
	default:
	}
	for _, n := range counts {
		rep.Signatures += n
	}
	rep.SignaturesPerSec = round3(perSec(rep.Signatures, elapsed))
	rep.PerGoroutinePerSec = round3(rep.SignaturesPerSec / float64(o.concurrency))
	if rep.Signatures > 0 {
		rep.SignMeanMs = round3(elapsed.Seconds() * 1000 * float64(o.concurrency) / float64(rep.Signatures))
	}
	if elapsed > 0 {
		rep.CPUsBusyAvg = round3(cpu / elapsed.Seconds())
	}
	rep.print(stdout, o.jsonOut)
	if rep.Interrupted {
		return 130
	}
	if rep.Signatures == 0 {
		return 1
	}
	return 0
}

func (r *rsaReport) print(w io.Writer, jsonLine bool) {
	fmt.Fprintf(w, "sealbench rsa: RSA-%d %s, %d-byte messages, %d goroutine(s), %d CPU(s), GOMAXPROCS %d\n",
		r.KeyBits, r.Algorithm, r.Size, r.Concurrency, r.NumCPU, r.GOMAXPROCS)
	if r.Interrupted {
		fmt.Fprintf(w, "  (interrupted: partial results)\n")
	}
	fmt.Fprintf(w, "signing:   %d signatures in %.2fs = %.1f signatures/s (%.1f per goroutine, %.3fms each)\n",
		r.Signatures, r.ElapsedS, r.SignaturesPerSec, r.PerGoroutinePerSec, r.SignMeanMs)
	fmt.Fprintf(w, "  cpu: %.2fs used, %.2f CPUs busy on average\n", r.CPUS, r.CPUsBusyAvg)
	if jsonLine {
		line, err := json.Marshal(r)
		if err != nil {
			logf("json: %v", err)
			return
		}
		fmt.Fprintf(w, "%s\n", line)
	}
}
