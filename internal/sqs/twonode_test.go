package sqs

import (
	"context"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/pgtest"
	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/store/pgstore"
)

// TestTwoNodesLongPoll: two Services on one PostgreSQL database (two
// nodes); a long poll on one returns a message sent through the other. If
// the driver gives wake-up hints (store.QueueWaker), the poll interval is an
// hour, so only the hint can wake it in time; otherwise polling does.
func TestTwoNodesLongPoll(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	open := func() *pgstore.Store {
		st, err := pgstore.Open(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}
	stA, stB := open(), open()
	poll := 100 * time.Millisecond
	if _, ok := any(stA).(store.QueueWaker); ok {
		poll = time.Hour
	}
	clk := newClock()
	seal := &fakeSealer{}
	a := New(stA, Options{Now: clk.Now, Sealer: seal, PollInterval: poll})
	b := New(stB, Options{Now: clk.Now, Sealer: seal, PollInterval: poll})
	defer a.Drain()
	defer b.Drain()
	c := &Caller{Account: "000000000000", Region: "us-east-1", Principal: "arn:aws:iam::000000000000:root", Signed: true, Secure: true, Authenticated: true}
	ctx := context.Background()
	u, err := a.CreateQueue(ctx, c, "shared", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		got := make(chan []Message, 1)
		go func() {
			ms, err := a.ReceiveMessage(ctx, c, u, ReceiveInput{WaitTimeSeconds: intp(20)})
			if err != nil {
				t.Error(err)
			}
			got <- ms
		}()
		time.Sleep(100 * time.Millisecond)
		start := time.Now()
		if _, err := b.SendMessage(ctx, c, u, SendInput{Body: "from b"}); err != nil {
			t.Fatal(err)
		}
		select {
		case ms := <-got:
			if len(ms) != 1 || ms[0].Body != "from b" {
				t.Fatalf("round %d: %+v", i, ms)
			}
			t.Logf("round %d: received %v after the send (poll interval %v)", i, time.Since(start), poll)
			if err := b.DeleteMessage(ctx, c, u, ms[0].ReceiptHandle); err != nil {
				t.Fatal(err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("round %d: the long poll on node A did not see node B's send", i)
		}
	}
}
