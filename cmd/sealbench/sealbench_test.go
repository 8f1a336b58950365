package main

import (
	"bytes"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestPayloadRoundTrip(t *testing.T) {
	for _, size := range []int{1, 40, 1024, 5000} {
		p := appendPayload(nil, "abcd1234", phaseMeasured, 42, 123456789, size)
		if len(p) < size || (len(p) > size && size >= 40) {
			t.Fatalf("size %d: got %d bytes", size, len(p))
		}
		phase, seq, sent, ok := parsePayload(p, "abcd1234")
		if !ok || phase != phaseMeasured || seq != 42 || sent != 123456789 {
			t.Fatalf("size %d: parse = %c %d %d %v", size, phase, seq, sent, ok)
		}
		if _, _, _, ok := parsePayload(p, "other000"); ok {
			t.Fatalf("payload of another run accepted")
		}
	}
}

func TestPercentile(t *testing.T) {
	var d []time.Duration
	for i := 1; i <= 100; i++ {
		d = append(d, time.Duration(i))
	}
	for p, want := range map[float64]time.Duration{0.5: 50, 0.9: 90, 0.99: 99, 1: 100} {
		if got := percentile(d, p); got != want {
			t.Errorf("p%v = %d, want %d", p, got, want)
		}
	}
	if percentile(nil, 0.5) != 0 {
		t.Error("empty percentile")
	}
}

// fakeSNS is a minimal asynchronous SNS (query protocol) that, unlike moto,
// requires http subscriptions to be confirmed: the first subscription is
// confirmed through its SubscribeURL, the others' SubscribeURL fails so the
// sink must fall back to ConfirmSubscription.
type fakeSNS struct {
	t   *testing.T
	srv *httptest.Server

	mu   sync.Mutex
	subs map[string]*fakeSub // by ARN
	n    int

	retried, slow atomic.Int64 // 5xx answers, slow answers (see post)

	topicAttrs map[string]string // of the last CreateTopic
}

type fakeSub struct {
	arn, endpoint, token string
	raw, confirmed       bool
	via                  string
}

func newFakeSNS(t *testing.T, tls bool) *fakeSNS {
	f := &fakeSNS{t: t, subs: map[string]*fakeSub{}}
	if tls {
		f.srv = httptest.NewTLSServer(f)
	} else {
		f.srv = httptest.NewServer(f)
	}
	t.Cleanup(f.srv.Close)
	return f
}

// post delivers body to url, retrying a 5xx answer up to 3 times as SNS
// would (without its delays). It counts 5xx answers and answers that took
// 200ms or more.
func (f *fakeSNS) post(url, body string) {
	for try := 0; try < 4; try++ {
		t0 := time.Now()
		resp, err := http.Post(url, "text/plain; charset=UTF-8", strings.NewReader(body))
		if err != nil {
			f.t.Logf("fake SNS post: %v", err)
			return
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if time.Since(t0) >= 200*time.Millisecond {
			f.slow.Add(1)
		}
		if resp.StatusCode < 500 {
			return
		}
		f.retried.Add(1)
	}
}

func (f *fakeSNS) confirm(token, via string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, s := range f.subs {
		if s.token == token {
			s.confirmed, s.via = true, via
			return true
		}
	}
	return false
}

func (f *fakeSNS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet {
		if r.URL.Path == "/confirm" && f.confirm(r.URL.Query().Get("token"), "SubscribeURL") {
			fmt.Fprint(w, "<ConfirmSubscriptionResponse/>")
			return
		}
		http.Error(w, "no", http.StatusForbidden)
		return
	}
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	action := r.Form.Get("Action")
	reply := func(result string) {
		w.Header().Set("Content-Type", "text/xml")
		fmt.Fprintf(w, `<%sResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><%sResult>%s</%sResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></%sResponse>`,
			action, action, result, action, action)
	}
	const topic = "arn:aws:sns:us-east-1:000000000000:t"
	switch action {
	case "CreateTopic":
		f.mu.Lock()
		f.topicAttrs = map[string]string{}
		for i := 1; r.Form.Get(fmt.Sprintf("Attributes.entry.%d.key", i)) != ""; i++ {
			f.topicAttrs[r.Form.Get(fmt.Sprintf("Attributes.entry.%d.key", i))] = r.Form.Get(fmt.Sprintf("Attributes.entry.%d.value", i))
		}
		f.mu.Unlock()
		reply("<TopicArn>" + topic + "</TopicArn>")
	case "Subscribe":
		f.mu.Lock()
		f.n++
		s := &fakeSub{
			arn:      fmt.Sprintf("%s:sub%d", topic, f.n),
			endpoint: r.Form.Get("Endpoint"),
			token:    fmt.Sprintf("token%d", f.n),
		}
		for i := 1; i <= 10; i++ {
			if r.Form.Get(fmt.Sprintf("Attributes.entry.%d.key", i)) == "RawMessageDelivery" {
				s.raw = r.Form.Get(fmt.Sprintf("Attributes.entry.%d.value", i)) == "true"
			}
		}
		f.subs[s.arn] = s
		subURL := f.srv.URL + "/confirm?token=" + s.token
		if f.n > 1 {
			subURL = f.srv.URL + "/broken"
		}
		f.mu.Unlock()
		env, _ := json.Marshal(map[string]string{
			"Type": "SubscriptionConfirmation", "Token": s.token, "TopicArn": topic, "SubscribeURL": subURL,
		})
		go f.post(s.endpoint, string(env))
		reply("<SubscriptionArn>" + s.arn + "</SubscriptionArn>")
	case "ConfirmSubscription":
		if !f.confirm(r.Form.Get("Token"), "ConfirmSubscription") {
			http.Error(w, "<ErrorResponse><Error><Code>InvalidParameter</Code></Error></ErrorResponse>", http.StatusBadRequest)
			return
		}
		reply("<SubscriptionArn>x</SubscriptionArn>")
	case "GetSubscriptionAttributes":
		f.mu.Lock()
		s := f.subs[r.Form.Get("SubscriptionArn")]
		pending := s == nil || !s.confirmed
		f.mu.Unlock()
		reply(fmt.Sprintf("<Attributes><entry><key>PendingConfirmation</key><value>%t</value></entry></Attributes>", pending))
	case "Publish":
		msg := r.Form.Get("Message")
		f.mu.Lock()
		for _, s := range f.subs {
			if !s.confirmed {
				continue
			}
			body := msg
			if !s.raw {
				env, _ := json.Marshal(map[string]string{"Type": "Notification", "Message": msg, "TopicArn": topic})
				body = string(env)
			}
			go f.post(s.endpoint, body)
		}
		f.mu.Unlock()
		reply("<MessageId>" + html.EscapeString("m") + "</MessageId>")
	case "Unsubscribe", "DeleteTopic":
		reply("")
	default:
		http.Error(w, "unsupported "+action, http.StatusBadRequest)
	}
}

func TestE2EAgainstFakeSNS(t *testing.T) {
	for _, tc := range []struct{ raw, tls bool }{{false, false}, {true, false}, {false, true}} {
		raw := tc.raw
		t.Run(fmt.Sprintf("raw=%t,tls=%t", tc.raw, tc.tls), func(t *testing.T) {
			f := newFakeSNS(t, tc.tls)
			var out bytes.Buffer
			args := []string{"-endpoint", f.srv.URL, "-mode", "e2e", "-subs", "2", "-concurrency", "4",
				"-duration", "300ms", "-warmup", "100ms", "-drain", "5s", "-json", fmt.Sprintf("-raw=%t", raw)}
			if tc.tls {
				ca := filepath.Join(t.TempDir(), "ca.pem")
				block := &pem.Block{Type: "CERTIFICATE", Bytes: f.srv.Certificate().Raw}
				if err := os.WriteFile(ca, pem.EncodeToMemory(block), 0o600); err != nil {
					t.Fatal(err)
				}
				args = append(args, "-ca-bundle", ca)
			}
			if rc := run(args, &out); rc != 0 {
				t.Fatalf("run = %d\n%s", rc, out.String())
			}
			lines := strings.Split(strings.TrimSpace(out.String()), "\n")
			var rep struct {
				Published, Errors, Delivered, Lost, Duplicates, Expected int64
				EnvelopeBodies                                           int64 `json:"envelope_bodies"`
				RawBodies                                                int64 `json:"raw_bodies"`
				ExpectedDeliveries                                       int64 `json:"expected_deliveries"`
			}
			if err := json.Unmarshal([]byte(lines[len(lines)-1]), &rep); err != nil {
				t.Fatalf("json line: %v\n%s", err, out.String())
			}
			if rep.Published == 0 || rep.Errors != 0 || rep.Lost != 0 || rep.Delivered != 2*rep.Published ||
				rep.ExpectedDeliveries != 2*rep.Published {
				t.Fatalf("unexpected report:\n%s", out.String())
			}
			if raw && rep.EnvelopeBodies != 0 || !raw && rep.RawBodies != 0 {
				t.Fatalf("body formats wrong:\n%s", out.String())
			}
			f.mu.Lock()
			defer f.mu.Unlock()
			vias := map[string]int{}
			for _, s := range f.subs {
				vias[s.via]++
			}
			if vias["SubscribeURL"] != 1 || vias["ConfirmSubscription"] != 1 {
				t.Fatalf("confirmations: %v", vias)
			}
			t.Log(out.String())
		})
	}
}

// TestMultipleEndpoints publishes through two servers that share one fake
// SNS: control-plane calls must go to the first only, and the publishing
// workers must be spread over both.
func TestMultipleEndpoints(t *testing.T) {
	f := newFakeSNS(t, false)
	var second, secondPublishes atomic.Int64
	srv2 := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		second.Add(1)
		if r.Method == http.MethodPost {
			if err := r.ParseForm(); err == nil && r.Form.Get("Action") == "Publish" {
				secondPublishes.Add(1)
			}
		}
		f.ServeHTTP(w, r)
	}))
	t.Cleanup(srv2.Close)

	var out bytes.Buffer
	args := []string{"-endpoint", f.srv.URL + "," + srv2.URL, "-mode", "e2e", "-raw", "-subs", "2",
		"-concurrency", "3", "-duration", "300ms", "-warmup", "0", "-drain", "5s", "-json"}
	if rc := run(args, &out); rc != 0 {
		t.Fatalf("run = %d\n%s", rc, out.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	var rep struct {
		Published   int64    `json:"published"`
		Lost        int64    `json:"lost"`
		Delivered   int64    `json:"delivered"`
		Endpoints   []string `json:"endpoints"`
		PerEndpoint []struct {
			Endpoint  string `json:"endpoint"`
			Workers   int64  `json:"workers"`
			Published int64  `json:"published"`
			Errors    int64  `json:"errors"`
		} `json:"per_endpoint"`
		CPUS float64 `json:"cpu_s"`
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &rep); err != nil {
		t.Fatalf("json line: %v\n%s", err, out.String())
	}
	if len(rep.Endpoints) != 2 || len(rep.PerEndpoint) != 2 {
		t.Fatalf("endpoints: %+v\n%s", rep, out.String())
	}
	// Three workers round-robin over two endpoints: 2 and 1.
	if rep.PerEndpoint[0].Workers != 2 || rep.PerEndpoint[1].Workers != 1 {
		t.Fatalf("workers per endpoint: %+v", rep.PerEndpoint)
	}
	var sum int64
	for i, e := range rep.PerEndpoint {
		if e.Endpoint != rep.Endpoints[i] || e.Published == 0 || e.Errors != 0 {
			t.Fatalf("endpoint %d: %+v\n%s", i, e, out.String())
		}
		sum += e.Published
	}
	if sum != rep.Published || rep.Lost != 0 || rep.Delivered != 2*rep.Published {
		t.Fatalf("totals: %+v\n%s", rep, out.String())
	}
	if got := secondPublishes.Load(); got != rep.PerEndpoint[1].Published {
		t.Fatalf("second endpoint saw %d publishes, report says %d", got, rep.PerEndpoint[1].Published)
	}
	if second.Load() != secondPublishes.Load() {
		t.Fatalf("second endpoint got %d requests, %d of them publishes: control plane leaked", second.Load(), secondPublishes.Load())
	}
	if rep.CPUS <= 0 {
		t.Fatalf("cpu_s = %v", rep.CPUS)
	}
}

// TestSlowSubscriber runs e2e with one of two subscriptions slow: the sink
// must fail first arrivals and delay answers as asked, and still count every
// delivery once the fake SNS retried it.
func TestSlowSubscriber(t *testing.T) {
	f := newFakeSNS(t, false)
	var out bytes.Buffer
	args := []string{"-endpoint", f.srv.URL, "-mode", "e2e", "-raw", "-subs", "2", "-slow-subs", "1",
		"-slow-delay", "200ms", "-slow-every", "4", "-fail-every", "3", "-concurrency", "4", "-rate", "100",
		"-n", "40", "-warmup", "0", "-drain", "10s", "-json"}
	if rc := run(args, &out); rc != 0 {
		t.Fatalf("run = %d\n%s", rc, out.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	var rep struct {
		Published, Delivered, Lost, Duplicates int64
		FailedAnswers                          int64 `json:"failed_answers"`
		SlowAnswers                            int64 `json:"slow_answers"`
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &rep); err != nil {
		t.Fatalf("json line: %v\n%s", err, out.String())
	}
	// Messages 0..39: 2, 5, ..., 38 fail once (13); 0, 4, ..., 36 are slow
	// (10), at the slow subscription only.
	if rep.Published != 40 || rep.Delivered != 80 || rep.Lost != 0 || rep.Duplicates != 0 ||
		rep.FailedAnswers != 13 || rep.SlowAnswers != 10 {
		t.Fatalf("unexpected report %+v:\n%s", rep, out.String())
	}
	if got := f.retried.Load(); got != 13 {
		t.Errorf("fake SNS saw %d 5xx answers, want 13", got)
	}
	// At least the delayed ones (a loaded machine may slow others too).
	if got := f.slow.Load(); got < 10 {
		t.Errorf("fake SNS saw %d answers of 200ms or more, want at least 10", got)
	}
	if !strings.Contains(out.String(), "13 first arrivals answered 500, 10 answers delayed") {
		t.Errorf("human-readable report lacks the slow subscriber line:\n%s", out.String())
	}
}

func TestSlowFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-subs", "1", "-slow-subs", "2"},
		{"-slow-subs", "-1"},
		{"-slow-subs", "1", "-sub-protocol", "sqs"},
		{"-slow-subs", "1", "-slow-every", "0"},
		{"-slow-subs", "1", "-fail-every", "-1"},
		{"-slow-subs", "1", "-slow-delay", "-1s"},
	} {
		if _, err := parseFlags(args, io.Discard); err == nil {
			t.Errorf("%v: accepted", args)
		}
	}
	if _, err := parseFlags([]string{"-mode", "e2e", "-subs", "2", "-slow-subs", "1", "-fail-every", "20"}, io.Discard); err != nil {
		t.Errorf("valid slow flags refused: %v", err)
	}
}

func TestParseEndpointsAndRSAFlags(t *testing.T) {
	o, err := parseFlags([]string{"-endpoint", " http://a:1 ,http://b:2,, "}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if len(o.endpoints) != 2 || o.endpoints[0] != "http://a:1" || o.endpoints[1] != "http://b:2" || o.sqsEndpoint != "http://a:1" {
		t.Fatalf("endpoints %q, sqs endpoint %q", o.endpoints, o.sqsEndpoint)
	}
	if _, err := parseFlags([]string{"-endpoint", " , "}, io.Discard); err == nil {
		t.Fatal("empty endpoint list accepted")
	}
	o, err = parseFlags([]string{"-mode", "rsa"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if o.concurrency != runtime.NumCPU() {
		t.Fatalf("rsa default concurrency %d, want %d", o.concurrency, runtime.NumCPU())
	}
	o, err = parseFlags([]string{"-mode", "rsa", "-concurrency", "1"}, io.Discard)
	if err != nil || o.concurrency != 1 {
		t.Fatalf("rsa -concurrency 1: %d, %v", o.concurrency, err)
	}
}

func TestRSAMode(t *testing.T) {
	var out bytes.Buffer
	if rc := run([]string{"-mode", "rsa", "-concurrency", "1", "-duration", "200ms", "-json"}, &out); rc != 0 {
		t.Fatalf("run = %d\n%s", rc, out.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	var rep rsaReport
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &rep); err != nil {
		t.Fatalf("json line: %v\n%s", err, out.String())
	}
	if rep.Mode != "rsa" || rep.KeyBits != 2048 || rep.Concurrency != 1 || rep.Signatures == 0 || rep.SignaturesPerSec <= 0 {
		t.Fatalf("report: %+v", rep)
	}
}

func TestLostSample(t *testing.T) {
	s := &sink{seen: map[deliveryKey]struct{}{}}
	for _, k := range []deliveryKey{{0, 1}, {1, 1}, {0, 2}, {1, 3}} {
		s.seen[k] = struct{}{}
	}
	got := s.lostSample(2, []uint64{1, 2, 3, 4}, 3)
	if want := []string{"1/2", "0/3", "0/4"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("lostSample = %v, want %v", got, want)
	}
	if got := s.lostSample(2, []uint64{1}, 10); got != nil {
		t.Fatalf("nothing lost: %v", got)
	}
}

// TestKMSKeyFlag: -kms-key creates the topic with KmsMasterKeyId (SSE) and
// reports it; without it the topic has no attributes.
func TestKMSKeyFlag(t *testing.T) {
	for _, key := range []string{"alias/aws/sns", ""} {
		f := newFakeSNS(t, false)
		var out bytes.Buffer
		args := []string{"-endpoint", f.srv.URL, "-mode", "publish", "-subs", "0", "-concurrency", "2",
			"-duration", "100ms", "-warmup", "0", "-json"}
		if key != "" {
			args = append(args, "-kms-key", key)
		}
		if rc := run(args, &out); rc != 0 {
			t.Fatalf("run = %d\n%s", rc, out.String())
		}
		f.mu.Lock()
		got := f.topicAttrs["KmsMasterKeyId"]
		n := len(f.topicAttrs)
		f.mu.Unlock()
		if got != key || (key == "" && n != 0) {
			t.Errorf("-kms-key %q: CreateTopic attributes %v", key, f.topicAttrs)
		}
		lines := strings.Split(strings.TrimSpace(out.String()), "\n")
		var rep struct {
			KMSKey string `json:"kms_key"`
		}
		if err := json.Unmarshal([]byte(lines[len(lines)-1]), &rep); err != nil || rep.KMSKey != key {
			t.Errorf("-kms-key %q: report kms_key %q, %v", key, rep.KMSKey, err)
		}
	}
}
