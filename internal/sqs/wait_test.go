package sqs

import (
	"context"
	"sync"
	"testing"
	"time"
)

func TestLongPoll(t *testing.T) {
	drivers(t, func(t *testing.T, e *env) {
		// A long PollInterval: only the in-process signal can wake the poll in time.
		e.s.opts.PollInterval = time.Hour
		u := e.queue("lp", nil)

		t.Run("woken by a send", func(t *testing.T) {
			done := make(chan []Message, 1)
			go func() {
				ms, err := e.s.ReceiveMessage(e.ctx, e.c, u, ReceiveInput{WaitTimeSeconds: intp(20)})
				if err != nil {
					t.Error(err)
				}
				done <- ms
			}()
			time.Sleep(50 * time.Millisecond) // let the poll start waiting (it also works if it has not)
			start := time.Now()
			e.send(u, "wake")
			select {
			case ms := <-done:
				if len(ms) != 1 || ms[0].Body != "wake" {
					t.Fatalf("got %+v", ms)
				}
				if d := time.Since(start); d > 2*time.Second {
					t.Fatalf("woke after %v", d)
				}
				if err := e.s.DeleteMessage(e.ctx, e.c, u, ms[0].ReceiptHandle); err != nil {
					t.Fatal(err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("long poll not woken by a send")
			}
		})

		t.Run("woken by a store hint", func(t *testing.T) {
			done := make(chan []Message, 1)
			go func() {
				ms, _ := e.s.ReceiveMessage(e.ctx, e.c, u, ReceiveInput{WaitTimeSeconds: intp(20)})
				done <- ms
			}()
			time.Sleep(50 * time.Millisecond)
			// A message written behind the domain's back (another node), then the hint.
			other := New(e.st, Options{Now: e.clk.Now, Sealer: e.seal})
			if _, err := other.SendMessage(e.ctx, e.c, u, SendInput{Body: "other node"}); err != nil {
				t.Fatal(err)
			}
			k, _ := queueKeyOf(e.c, u)
			e.s.waiters.wake(k)
			select {
			case ms := <-done:
				if len(ms) != 1 || ms[0].Body != "other node" {
					t.Fatalf("got %+v", ms)
				}
				if err := e.s.DeleteMessage(e.ctx, e.c, u, ms[0].ReceiptHandle); err != nil {
					t.Fatal(err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("long poll not woken by the hint")
			}
		})

		t.Run("empty on time", func(t *testing.T) {
			start := time.Now()
			ms, err := e.s.ReceiveMessage(e.ctx, e.c, u, ReceiveInput{WaitTimeSeconds: intp(1)})
			d := time.Since(start)
			if err != nil || len(ms) != 0 {
				t.Fatalf("got %+v %v", ms, err)
			}
			if d < time.Second || d > 3*time.Second {
				t.Fatalf("returned after %v", d)
			}
		})

		t.Run("polling finds a message without a signal", func(t *testing.T) {
			e.s.opts.PollInterval = 20 * time.Millisecond
			defer func() { e.s.opts.PollInterval = time.Hour }()
			other := New(e.st, Options{Now: e.clk.Now, Sealer: e.seal})
			go func() {
				time.Sleep(100 * time.Millisecond)
				other.SendMessage(context.Background(), e.c, u, SendInput{Body: "polled"})
			}()
			ms, err := e.s.ReceiveMessage(e.ctx, e.c, u, ReceiveInput{WaitTimeSeconds: intp(5)})
			if err != nil || len(ms) != 1 {
				t.Fatalf("got %+v %v", ms, err)
			}
			e.s.DeleteMessage(e.ctx, e.c, u, ms[0].ReceiptHandle)
		})

		t.Run("drain", func(t *testing.T) {
			var wg sync.WaitGroup
			start := time.Now()
			for range 3 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					ms, err := e.s.ReceiveMessage(e.ctx, e.c, u, ReceiveInput{WaitTimeSeconds: intp(20)})
					if err != nil || len(ms) != 0 {
						t.Errorf("got %+v %v", ms, err)
					}
				}()
			}
			time.Sleep(100 * time.Millisecond)
			e.s.Drain()
			wg.Wait()
			// A poll started after Drain returns at once too.
			if _, err := e.s.ReceiveMessage(e.ctx, e.c, u, ReceiveInput{WaitTimeSeconds: intp(20)}); err != nil {
				t.Fatal(err)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Fatalf("drain took %v", d)
			}
		})
	})
}

// TestConcurrentReceivers: many senders and long-polling receivers; every
// message is received exactly once while nothing times out (run with -race).
func TestConcurrentReceivers(t *testing.T) {
	e := newEnv(t, "pebble")
	e.s.opts.PollInterval = time.Hour
	u := e.queue("conc", map[string]string{"VisibilityTimeout": "3600"})
	const senders, per = 4, 50
	var mu sync.Mutex
	seen := map[string]int{}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var rwg sync.WaitGroup
	for range 4 {
		rwg.Add(1)
		go func() {
			defer rwg.Done()
			for ctx.Err() == nil {
				ms, err := e.s.ReceiveMessage(ctx, e.c, u, ReceiveInput{MaxNumberOfMessages: 10, WaitTimeSeconds: intp(2)})
				if err != nil {
					return
				}
				for _, m := range ms {
					mu.Lock()
					seen[m.Body]++
					mu.Unlock()
					if err := e.s.DeleteMessage(context.Background(), e.c, u, m.ReceiptHandle); err != nil {
						t.Error(err)
					}
				}
			}
		}()
	}
	var swg sync.WaitGroup
	for i := range senders {
		swg.Add(1)
		go func() {
			defer swg.Done()
			for j := range per {
				if _, err := e.s.SendMessage(context.Background(), e.c, u, SendInput{Body: string(rune('a'+i)) + string(rune('A'+j%26)) + time.Duration(j).String()}); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	swg.Wait()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		mu.Lock()
		n := len(seen)
		mu.Unlock()
		if n == senders*per {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	rwg.Wait()
	if len(seen) != senders*per {
		t.Fatalf("received %d distinct of %d", len(seen), senders*per)
	}
	for b, n := range seen {
		if n != 1 {
			t.Fatalf("%q received %d times", b, n)
		}
	}
}
