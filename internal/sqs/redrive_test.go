package sqs

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/store"
)

// waitTask polls ListMessageMoveTasks until the latest task leaves RUNNING.
func waitTask(t *testing.T, e *env, source string) MoveTask {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		ts, err := e.s.ListMessageMoveTasks(e.ctx, e.c, source, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(ts) > 0 && ts[0].Status != "RUNNING" && ts[0].Status != "CANCELLING" {
			return ts[0]
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("task still running")
	return MoveTask{}
}

func TestRedriveAndMoveBack(t *testing.T) {
	drivers(t, func(t *testing.T, e *env) {
		dlqURL := e.queue("dlq", map[string]string{"SqsManagedSseEnabled": "true"})
		dlqARN := "arn:aws:sqs:us-east-1:000000000000:dlq"
		srcARN := "arn:aws:sqs:us-east-1:000000000000:src"
		src := e.queue("src", map[string]string{"KmsMasterKeyId": "k1", "VisibilityTimeout": "10",
			"RedrivePolicy": `{"deadLetterTargetArn":"` + dlqARN + `","maxReceiveCount":2}`})
		r := e.send(src, "poison")
		for i := 1; i <= 2; i++ {
			ms := e.receive(src, ReceiveInput{AttributeNames: []string{"ApproximateReceiveCount"}})
			if len(ms) != 1 || ms[0].Attributes["ApproximateReceiveCount"] != string(rune('0'+i)) {
				t.Fatalf("receive %d: %+v", i, ms)
			}
			e.clk.Add(11 * time.Second)
		}
		// The third receive would exceed maxReceiveCount: the message moves.
		if ms := e.receive(src, ReceiveInput{}); len(ms) != 0 {
			t.Fatalf("returned past maxReceiveCount: %+v", ms)
		}
		ms := e.receive(dlqURL, ReceiveInput{AttributeNames: []string{"All"}})
		if len(ms) != 1 || ms[0].Body != "poison" || ms[0].MessageID != r.MessageID ||
			ms[0].Attributes["DeadLetterQueueSourceArn"] != srcARN || ms[0].Attributes["ApproximateReceiveCount"] != "1" {
			t.Fatalf("dead letter %+v", ms)
		}
		// Opened with the frame's queue (src), not the DLQ's settings.
		if err := e.s.ChangeMessageVisibility(e.ctx, e.c, dlqURL, ms[0].ReceiptHandle, 0); err != nil {
			t.Fatal(err)
		}

		// Move tasks: errors first.
		if _, err := e.s.StartMessageMoveTask(e.ctx, e.c, srcARN, "", 0); kindOf(err) != ErrInvalidParameterValue {
			t.Fatalf("source not a DLQ: %v", err)
		}
		if _, err := e.s.StartMessageMoveTask(e.ctx, e.c, "arn:aws:sqs:us-east-1:000000000000:none", "", 0); kindOf(err) != ErrResourceNotFound {
			t.Fatalf("missing source: %v", err)
		}
		if _, err := e.s.StartMessageMoveTask(e.ctx, e.c, dlqARN, "", 501); kindOf(err) != ErrInvalidParameterValue {
			t.Fatalf("rate 501: %v", err)
		}
		if _, err := e.s.ListMessageMoveTasks(e.ctx, e.c, dlqARN, 11); kindOf(err) != ErrInvalidParameterValue {
			t.Fatalf("max 11: %v", err)
		}
		h, err := e.s.StartMessageMoveTask(e.ctx, e.c, dlqARN, "", 100)
		if err != nil {
			t.Fatal(err)
		}
		if h == "" {
			t.Fatal("no handle")
		}
		task := waitTask(t, e, dlqARN)
		if task.Status != "COMPLETED" || task.ApproximateNumberOfMessagesMoved != 1 || task.ApproximateNumberOfMessagesToMove != 1 ||
			task.SourceArn != dlqARN || task.DestinationArn != "" || task.MaxNumberOfMessagesPerSecond != 100 || task.TaskHandle != "" {
			t.Fatalf("task %+v", task)
		}
		back := e.receive(src, ReceiveInput{AttributeNames: []string{"All"}})
		if len(back) != 1 || back[0].Body != "poison" || back[0].Attributes["DeadLetterQueueSourceArn"] != "" ||
			back[0].Attributes["ApproximateReceiveCount"] != "1" {
			t.Fatalf("moved back %+v", back)
		}
		if _, err := e.s.CancelMessageMoveTask(e.ctx, e.c, h); kindOf(err) != ErrResourceNotFound {
			t.Fatalf("cancel a completed task: %v", err)
		}
	})
}

func TestMoveTaskCancelAndOrphan(t *testing.T) {
	e := newEnv(t, "pebble")
	dlqARN := "arn:aws:sqs:us-east-1:000000000000:dlq"
	dlq := e.queue("dlq", nil)
	e.queue("src", map[string]string{"RedrivePolicy": `{"deadLetterTargetArn":"` + dlqARN + `","maxReceiveCount":"1"}`})
	dest := e.queue("dest", nil)
	for range 30 {
		e.send(dlq, "m")
	}
	// 1 message per second: the task is still running when cancelled.
	h, err := e.s.StartMessageMoveTask(e.ctx, e.c, dlqARN, "arn:aws:sqs:us-east-1:000000000000:dest", 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.StartMessageMoveTask(e.ctx, e.c, dlqARN, "", 0); kindOf(err) != ErrInvalidParameterValue ||
		!strings.Contains(err.Error(), "already a task running") {
		t.Fatalf("second task: %v", err)
	}
	ts, _ := e.s.ListMessageMoveTasks(e.ctx, e.c, dlqARN, 1)
	if len(ts) != 1 || ts[0].Status != "RUNNING" || ts[0].TaskHandle != h {
		t.Fatalf("list %+v", ts)
	}
	if _, err := e.s.CancelMessageMoveTask(e.ctx, e.c, h); err != nil {
		t.Fatal(err)
	}
	task := waitTask(t, e, dlqARN)
	if task.Status != "CANCELLED" || task.ApproximateNumberOfMessagesMoved >= 30 {
		t.Fatalf("task %+v", task)
	}
	moved := e.receive(dest, ReceiveInput{MaxNumberOfMessages: 10})
	if int64(len(moved)) != task.ApproximateNumberOfMessagesMoved {
		t.Fatalf("dest has %d, task says %d", len(moved), task.ApproximateNumberOfMessagesMoved)
	}

	// A task of a node that stopped beating is marked FAILED by another node.
	other := New(e.st, Options{Now: e.clk.Now, PollInterval: time.Hour, Sealer: e.seal})
	if _, err := other.StartMessageMoveTask(e.ctx, e.c, dlqARN, "arn:aws:sqs:us-east-1:000000000000:dest", 1); err != nil {
		t.Fatal(err)
	}
	// Stop the other node's task without letting it record anything: cancel its base context
	// after pausing its writes is not possible here, so simulate a dead node by stopping it
	// and then rewinding its record to RUNNING with an old heartbeat.
	other.Drain()
	other.stopTasks()
	k, _ := queueKeyOf(e.c, dlq)
	if _, err := e.st.UpdateQueue(e.ctx, k, func(q *store.Queue) error {
		ts := readTasks(q.Attributes)
		ts[0].Status, ts[0].Failure = "RUNNING", ""
		writeTasks(q, ts)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	ts, _ = e.s.ListMessageMoveTasks(e.ctx, e.c, dlqARN, 10)
	if ts[0].Status != "RUNNING" {
		t.Fatalf("fresh heartbeat: %+v", ts[0])
	}
	e.clk.Add(31 * time.Second)
	e.s.sweep(context.Background()) // Run's pass on a node that touched the queue
	ts, _ = e.s.ListMessageMoveTasks(e.ctx, e.c, dlqARN, 10)
	if len(ts) != 2 || ts[0].Status != "FAILED" || ts[0].FailureReason == "" || ts[1].Status != "CANCELLED" {
		t.Fatalf("orphan %+v", ts)
	}
}

func TestRedriveMissingDLQ(t *testing.T) {
	e := newEnv(t, "pebble")
	e.queue("gone", nil)
	src := e.queue("src", map[string]string{"VisibilityTimeout": "1",
		"RedrivePolicy": `{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:gone","maxReceiveCount":1}`})
	// The dead-letter queue disappears after the policy was set.
	if err := e.st.DeleteQueue(e.ctx, store.QueueKey{Account: "000000000000", Region: "us-east-1", Name: "gone"}); err != nil {
		t.Fatal(err)
	}
	e.send(src, "kept")
	e.receive(src, ReceiveInput{})
	e.clk.Add(2 * time.Second)
	if ms := e.receive(src, ReceiveInput{}); len(ms) != 1 {
		t.Fatal("message lost with a missing DLQ")
	}
}
