package server_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/sealpost/sealpost/internal/store/pebblestore"
	"github.com/sealpost/sealpost/internal/testserver"
)

// holdTransport sends the first holdAfter bytes of each request body, then
// holds the rest back until release is closed: the request is in flight at
// the server (reading its body) for as long as the test wants.
type holdTransport struct {
	base      http.RoundTripper
	holdAfter int
	held      chan struct{} // one value per request that reached the hold
	release   chan struct{}
}

func (h *holdTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Body = &holdBody{rc: r.Body, h: h}
	return h.base.RoundTrip(r)
}

type holdBody struct {
	rc   io.ReadCloser
	h    *holdTransport
	sent int
	once sync.Once
}

func (b *holdBody) Read(p []byte) (int, error) {
	if b.sent >= b.h.holdAfter {
		b.once.Do(func() { b.h.held <- struct{}{} })
		<-b.h.release
	} else if len(p) > b.h.holdAfter-b.sent {
		p = p[:b.h.holdAfter-b.sent]
	}
	n, err := b.rc.Read(p)
	b.sent += n
	return n, err
}

func (b *holdBody) Close() error { return b.rc.Close() }

// inFlight reads sealpost_http_requests_in_flight from /metrics (-1 on error).
func inFlight(hc *http.Client, base string) int {
	resp, err := hc.Get(base + "/metrics")
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "sealpost_http_requests_in_flight "); ok {
			n, _ := strconv.Atoi(v)
			return n
		}
	}
	return -1
}

// TestShutdownUnderLoad stops the server while publishers run through
// aws-sdk-go-v2, with a 1ms shutdown timeout, and with a few publishes held
// half-sent so that their handlers are certainly still running when the
// timeout expires; they complete only after shutdown returned. No publish
// may fail with a 5xx (a handler that met a closed store), and every publish
// answered 200 must be in the store when it is reopened.
func TestShutdownUnderLoad(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	srv := testserver.Start(t, testserver.Options{DataDir: dir, Args: []string{"--shutdown-timeout", "1ms"}})
	base := srv.SNSClient(t, srv.URL(), "", "", "")
	noRetry := func(o *sns.Options) { o.RetryMaxAttempts = 1 } // a 500 must not be retried away
	c := sns.New(base.Options(), noRetry)
	const slow = 4
	hold := &holdTransport{base: srv.HTTPClient(t).Transport, holdAfter: 40 << 10, held: make(chan struct{}, slow), release: make(chan struct{})}
	held := sns.New(base.Options(), noRetry, func(o *sns.Options) { o.HTTPClient = &http.Client{Transport: hold} })
	topic, err := c.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("shutdown")})
	if err != nil {
		t.Fatal(err)
	}
	// An sqs subscription keeps every message in the store (parked).
	if _, err := c.Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("sqs"),
		Endpoint: aws.String("arn:aws:sqs:us-east-1:000000000000:q")}); err != nil {
		t.Fatal(err)
	}

	loaded := make(chan struct{})
	var (
		mu      sync.Mutex
		acked   []string
		serverr []error
		wg      sync.WaitGroup
	)
	publish := func(c *sns.Client, msg string) bool {
		out, err := c.Publish(ctx, &sns.PublishInput{TopicArn: topic.TopicArn, Message: aws.String(msg)})
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			var re *awshttp.ResponseError
			if errors.As(err, &re) && re.HTTPStatusCode() >= 500 {
				serverr = append(serverr, err)
			}
			return false // connection refused or closed: the server is gone
		}
		acked = append(acked, aws.ToString(out.MessageId))
		if len(acked) == 100 {
			close(loaded)
		}
		return true
	}
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; publish(c, fmt.Sprint("w", w, "-", i)); i++ {
			}
		}(w)
	}
	select {
	case <-loaded:
	case <-time.After(15 * time.Second):
		t.Fatal("publishers too slow")
	}
	big := strings.Repeat("x", 64<<10)
	for i := 0; i < slow; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			publish(held, fmt.Sprint("held", i, big))
		}(i)
	}
	for i := 0; i < slow; i++ {
		select {
		case <-hold.held:
		case <-time.After(15 * time.Second):
			t.Fatal("held publishes did not start")
		}
	}
	// Let the server start their handlers (best effort: the metrics request
	// and the other publishers count too).
	hc := srv.HTTPClient(t)
	for deadline := time.Now().Add(5 * time.Second); inFlight(hc, srv.URL()) < slow+1 && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	srv.Stop()
	close(hold.release)
	wg.Wait()
	for _, err := range serverr {
		t.Errorf("publish during shutdown: %v", err)
	}
	if testserver.StoreKind() != "pebble" {
		return
	}
	st, err := pebblestore.Open(filepath.Join(dir, "store"))
	if err != nil {
		t.Fatalf("reopen the store (was it closed?): %v", err)
	}
	defer st.Close()
	missing := 0
	for _, id := range acked {
		if _, err := st.GetMessage(ctx, id); err != nil {
			missing++
		}
	}
	if missing > 0 {
		t.Fatalf("%d of %d acknowledged messages are not in the store", missing, len(acked))
	}
	t.Logf("%d publishes acknowledged before and during shutdown, all in the store", len(acked))
}
