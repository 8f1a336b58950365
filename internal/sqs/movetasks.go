package sqs

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"sync"
	"time"

	"github.com/sealpost/sealpost/internal/store"
)

// Move tasks (StartMessageMoveTask) live in the source queue's record, in
// the internal attribute taskAttr (JSON, most recent first, at most
// keptTasks), so every node lists them. A task runs on the node that
// started it; it writes its progress and a heartbeat every taskBeat. A
// RUNNING or CANCELLING task whose heartbeat is older than taskOrphaned is
// marked FAILED by the next node that lists it or sweeps its queue (Run):
// a task is not taken over, because the node that stopped may still hold
// leases of messages it was moving; starting a new task is the user's
// choice, as after any FAILED task in AWS.
const (
	taskAttr     = "sealpost:moveTasks"
	keptTasks    = 10
	taskBeat     = 2 * time.Second
	taskOrphaned = 30 * time.Second
	taskLease    = 30 * time.Second // visibility of a message being moved
	maxTaskRate  = 500
)

var (
	errTaskCancelled = errors.New("sqs: move task cancelled")
	errTaskStopped   = errors.New("sqs: node stopping")
)

type taskRecord struct {
	ID      string `json:"id"`
	Status  string `json:"status"`
	Source  string `json:"source"`
	Dest    string `json:"dest,omitempty"`
	Rate    int    `json:"rate,omitempty"`
	Moved   int64  `json:"moved"`
	ToMove  int64  `json:"toMove"`
	Failure string `json:"failure,omitempty"`
	Started int64  `json:"started"`
	Node    string `json:"node"`
	Beat    int64  `json:"beat"`
}

func (t *taskRecord) active() bool { return t.Status == "RUNNING" || t.Status == "CANCELLING" }

// tasks is this node's running move tasks.
type tasks struct {
	mu      sync.Mutex
	node    string
	base    context.Context
	stop    context.CancelCauseFunc
	running map[string]context.CancelCauseFunc
	wg      sync.WaitGroup
}

func (s *Service) tasksInit() *tasks {
	t := &s.msgs.tasks
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.node == "" {
		t.node = newUUID()
		t.base, t.stop = context.WithCancelCause(context.Background())
		t.running = map[string]context.CancelCauseFunc{}
	}
	return t
}

// stopTasks stops the tasks running on this node (Drain, or Run's end)
// and waits for them to record that they stopped.
func (s *Service) stopTasks() {
	t := s.tasksInit()
	t.stop(errTaskStopped)
	t.wg.Wait()
}

func readTasks(attrs map[string]string) []taskRecord {
	var ts []taskRecord
	if raw := attrs[taskAttr]; raw != "" {
		_ = json.Unmarshal([]byte(raw), &ts)
	}
	return ts
}

func writeTasks(q *store.Queue, ts []taskRecord) {
	if len(ts) > keptTasks {
		ts = ts[:keptTasks]
	}
	b, _ := json.Marshal(ts)
	if q.Attributes == nil {
		q.Attributes = map[string]string{}
	}
	q.Attributes[taskAttr] = string(b)
}

type taskHandle struct {
	TaskID    string `json:"taskId"`
	SourceArn string `json:"sourceArn"`
}

func encodeTaskHandle(id, source string) string {
	b, _ := json.Marshal(taskHandle{TaskID: id, SourceArn: source})
	return base64.StdEncoding.EncodeToString(b)
}

func notFound(format string, args ...any) error { return errf(ErrResourceNotFound, format, args...) }

// sourceQueue resolves a move task's source ARN for c.
func (s *Service) sourceQueue(ctx context.Context, c *Caller, arn, action string) (*queue, error) {
	k, err := parseQueueARN(arn)
	if err != nil {
		return nil, notFound("The resource that you specified for the SourceArn parameter doesn't exist.")
	}
	q, err := s.queueByKey(ctx, c, k, action)
	if errors.Is(err, ErrQueueDoesNotExist) {
		return nil, notFound("The resource that you specified for the SourceArn parameter doesn't exist.")
	}
	return q, err
}

// isDeadLetterQueue reports whether a queue of arn's account and region
// names arn as its dead-letter target.
func (s *Service) isDeadLetterQueue(ctx context.Context, k store.QueueKey, arn string) (bool, error) {
	after := ""
	for {
		qs, next, err := s.st.ListQueues(ctx, k.Account, k.Region, "", store.Page{After: after})
		if err != nil {
			return false, err
		}
		for _, rec := range qs {
			cfg := parseConfig(rec.Attributes)
			if cfg.DeadLetterTargetARN == arn {
				return true, nil
			}
		}
		if next == "" {
			return false, nil
		}
		after = next
	}
}

// StartMessageMoveTask starts moving messages from the dead-letter queue
// sourceARN to destinationARN ("" = each message's source queue) and
// returns the task handle.
func (s *Service) StartMessageMoveTask(ctx context.Context, c *Caller, sourceARN, destinationARN string, maxPerSecond int) (string, error) {
	if sourceARN == "" {
		return "", errf(ErrMissingParameter, "The request must contain the parameter SourceArn.")
	}
	if maxPerSecond < 0 || maxPerSecond > maxTaskRate {
		return "", invalidParam("Value %d for parameter MaxNumberOfMessagesPerSecond is invalid. Reason: Must be between 1 and %d.", maxPerSecond, maxTaskRate)
	}
	src, err := s.sourceQueue(ctx, c, sourceARN, "StartMessageMoveTask")
	if err != nil {
		return "", err
	}
	dlq, err := s.isDeadLetterQueue(ctx, src.QueueKey, src.arn)
	if err != nil {
		return "", err
	}
	if !dlq {
		return "", invalidParam("Source queue must be configured as a Dead Letter Queue.")
	}
	if destinationARN != "" {
		dk, err := parseQueueARN(destinationARN)
		if err != nil {
			return "", notFound("The resource that you specified for the DestinationArn parameter doesn't exist.")
		}
		if _, err := s.queueByKey(ctx, c, dk, "SendMessage"); err != nil {
			if errors.Is(err, ErrQueueDoesNotExist) {
				return "", notFound("The resource that you specified for the DestinationArn parameter doesn't exist.")
			}
			return "", err
		}
	}
	now := s.now()
	counts, err := s.st.Counts(ctx, src.QueueKey, now)
	if err != nil {
		return "", err
	}
	t := s.tasksInit()
	rec := taskRecord{ID: newUUID(), Status: "RUNNING", Source: src.arn, Dest: destinationARN, Rate: maxPerSecond,
		ToMove: int64(counts.Visible), Started: now.UnixMilli(), Node: t.node, Beat: now.UnixMilli()}
	_, err = s.st.UpdateQueue(ctx, src.QueueKey, func(q *store.Queue) error {
		ts := readTasks(q.Attributes)
		for i := range ts {
			if ts[i].active() && now.UnixMilli()-ts[i].Beat <= taskOrphaned.Milliseconds() {
				return invalidParam("There is already a task running. Only one active task is allowed for a source queue at a time.")
			}
			if ts[i].active() {
				ts[i].Status, ts[i].Failure = "FAILED", "The node running the task stopped."
			}
		}
		writeTasks(q, append([]taskRecord{rec}, ts...))
		return nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return "", notFound("The resource that you specified for the SourceArn parameter doesn't exist.")
	}
	if err != nil {
		return "", err
	}
	t.mu.Lock()
	tctx, cancel := context.WithCancelCause(t.base)
	t.running[rec.ID] = cancel
	t.wg.Add(1)
	t.mu.Unlock()
	go func() {
		defer t.wg.Done()
		s.runTask(tctx, src.QueueKey, rec)
		t.mu.Lock()
		delete(t.running, rec.ID)
		t.mu.Unlock()
		cancel(nil)
	}()
	return encodeTaskHandle(rec.ID, src.arn), nil
}

// CancelMessageMoveTask cancels a RUNNING task and returns how many
// messages it moved so far.
func (s *Service) CancelMessageMoveTask(ctx context.Context, c *Caller, handle string) (int64, error) {
	var h taskHandle
	b, err := base64.StdEncoding.DecodeString(handle)
	if err != nil || json.Unmarshal(b, &h) != nil || h.TaskID == "" || h.SourceArn == "" {
		return 0, notFound("Task does not exist.")
	}
	src, err := s.sourceQueue(ctx, c, h.SourceArn, "CancelMessageMoveTask")
	if err != nil {
		return 0, err
	}
	var moved int64
	_, err = s.st.UpdateQueue(ctx, src.QueueKey, func(q *store.Queue) error {
		ts := readTasks(q.Attributes)
		for i := range ts {
			if ts[i].ID != h.TaskID {
				continue
			}
			if ts[i].Status != "RUNNING" {
				return notFound("Task does not exist or is not running.")
			}
			ts[i].Status = "CANCELLING"
			moved = ts[i].Moved
			writeTasks(q, ts)
			return nil
		}
		return notFound("Task does not exist.")
	})
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return 0, notFound("Task does not exist.")
		}
		return 0, err
	}
	t := s.tasksInit()
	t.mu.Lock()
	if cancel := t.running[h.TaskID]; cancel != nil {
		cancel(errTaskCancelled)
	}
	t.mu.Unlock()
	return moved, nil
}

// ListMessageMoveTasks lists the source queue's most recent tasks, most
// recent first.
func (s *Service) ListMessageMoveTasks(ctx context.Context, c *Caller, sourceARN string, max int) ([]MoveTask, error) {
	if sourceARN == "" {
		return nil, errf(ErrMissingParameter, "The request must contain the parameter SourceArn.")
	}
	if max == 0 {
		max = 1
	}
	if max < 1 || max > keptTasks {
		return nil, invalidParam("Value %d for parameter MaxResults is invalid. Reason: Must be between 1 and %d.", max, keptTasks)
	}
	src, err := s.sourceQueue(ctx, c, sourceARN, "ListMessageMoveTasks")
	if err != nil {
		return nil, err
	}
	ts := s.failOrphanTasks(ctx, src)
	var out []MoveTask
	for _, t := range ts {
		if len(out) == max {
			break
		}
		mt := MoveTask{Status: t.Status, SourceArn: t.Source, DestinationArn: t.Dest, MaxNumberOfMessagesPerSecond: t.Rate,
			ApproximateNumberOfMessagesMoved: t.Moved, ApproximateNumberOfMessagesToMove: t.ToMove, StartedTimestamp: t.Started}
		if t.Status == "RUNNING" {
			mt.TaskHandle = encodeTaskHandle(t.ID, t.Source)
		}
		if t.Status == "FAILED" {
			mt.FailureReason = t.Failure
		}
		out = append(out, mt)
	}
	return out, nil
}

// failOrphanTasks marks FAILED the queue's active tasks whose node stopped
// beating, and returns the queue's tasks.
func (s *Service) failOrphanTasks(ctx context.Context, q *queue) []taskRecord {
	ts := readTasks(q.Attributes)
	now := s.now().UnixMilli()
	stale := func(t *taskRecord) bool { return t.active() && now-t.Beat > taskOrphaned.Milliseconds() }
	any := false
	for i := range ts {
		any = any || stale(&ts[i])
	}
	if !any {
		return ts
	}
	rec, err := s.st.UpdateQueue(ctx, q.QueueKey, func(sq *store.Queue) error {
		cur := readTasks(sq.Attributes)
		for i := range cur {
			if stale(&cur[i]) {
				cur[i].Status, cur[i].Failure = "FAILED", "The node running the task stopped."
			}
		}
		writeTasks(sq, cur)
		return nil
	})
	if err != nil {
		s.log.Warn("sqs: failing orphaned move tasks", "queue", q.arn, "err", err)
		return ts
	}
	return readTasks(rec.Attributes)
}

// runTask moves the messages of the queue k as the task rec describes,
// at most rec.Rate per second (maxTaskRate when unset).
func (s *Service) runTask(ctx context.Context, k store.QueueKey, rec taskRecord) {
	rate := rec.Rate
	if rate == 0 {
		rate = maxTaskRate
	}
	started := time.Now()
	lastBeat := started
	var moved int64
	finish := func(status, reason string) {
		wctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, err := s.st.UpdateQueue(wctx, k, func(q *store.Queue) error {
			ts := readTasks(q.Attributes)
			for i := range ts {
				if ts[i].ID == rec.ID {
					if ts[i].Status == "CANCELLING" && status != "FAILED" {
						status = "CANCELLED"
					}
					ts[i].Status, ts[i].Failure, ts[i].Moved, ts[i].Beat = status, reason, moved, s.now().UnixMilli()
				}
			}
			writeTasks(q, ts)
			return nil
		})
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			s.log.Warn("sqs: recording the end of a move task", "source", rec.Source, "err", err)
		}
	}
	for {
		if ctx.Err() != nil {
			if errors.Is(context.Cause(ctx), errTaskCancelled) {
				finish("CANCELLED", "")
			} else {
				finish("FAILED", "The node running the task stopped.")
			}
			return
		}
		if time.Since(lastBeat) >= taskBeat {
			lastBeat = time.Now()
			cancelled := false
			_, err := s.st.UpdateQueue(ctx, k, func(q *store.Queue) error {
				ts := readTasks(q.Attributes)
				for i := range ts {
					if ts[i].ID == rec.ID {
						cancelled = ts[i].Status != "RUNNING"
						ts[i].Moved, ts[i].Beat = moved, s.now().UnixMilli()
					}
				}
				writeTasks(q, ts)
				return nil
			})
			if errors.Is(err, store.ErrNotFound) {
				return // the source queue was deleted
			}
			if cancelled {
				finish("CANCELLED", "")
				return
			}
		}
		n := min(maxBatchEntries, rate)
		now := s.now()
		ms, err := s.st.Receive(ctx, k, n, now, taskLease)
		if errors.Is(err, store.ErrNotFound) {
			return
		}
		if err != nil {
			if ctx.Err() != nil {
				continue
			}
			finish("FAILED", "Reading the source queue failed.")
			return
		}
		if len(ms) == 0 {
			finish("COMPLETED", "")
			return
		}
		for i, m := range ms {
			if reason := s.moveOne(ctx, k, rec, m, now); reason != "" {
				s.release(ctx, k, now, ms[i:])
				finish("FAILED", reason)
				return
			}
			moved++
		}
		// Rate limit: moved messages take at least moved/rate seconds.
		due := started.Add(time.Duration(moved) * time.Second / time.Duration(rate))
		if d := time.Until(due); d > 0 {
			t := time.NewTimer(d)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
			}
		}
	}
}

// moveOne moves the leased message m of a move task; it returns why the
// task fails, or "".
func (s *Service) moveOne(ctx context.Context, k store.QueueKey, rec taskRecord, m store.QueueMessage, now time.Time) string {
	meta, err := decodeMeta(m.Meta)
	if err != nil {
		return "A message of the source queue is unreadable."
	}
	dest := rec.Dest
	if dest == "" {
		dest = meta.DLQSource
	}
	if dest == "" {
		return "A message of the source queue has no original source queue (DeadLetterQueueSourceArn); give a DestinationArn."
	}
	dk, err := parseQueueARN(dest)
	if err == nil {
		_, err = s.st.GetQueue(ctx, dk)
	}
	if err != nil {
		return "The destination queue " + dest + " does not exist."
	}
	meta.DLQSource = ""
	nm := store.QueueMessage{ID: m.ID, Body: m.Body, Attributes: m.Attributes, Meta: meta.encode(), SenderID: m.SenderID,
		SentAt: m.SentAt, VisibleAt: now}
	if err := s.st.MoveMessage(ctx, k, m.ReceiptHandle, dk, nm); err != nil {
		if errors.Is(err, store.ErrLeaseLost) {
			return ""
		}
		return "Moving a message to " + dest + " failed."
	}
	s.waiters.wake(dk)
	return ""
}
