package pebblestore

import (
	"context"
	"encoding/binary"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/sealpost/sealpost/internal/store"
)

// TestConvertsFirstLayout: a store written by the first layout (deliveries
// only as d/<sub>\x00<seq><msg>, indexed in memory) opens with its deliveries
// pending, due in order, and messages deleted with their last delivery.
func TestConvertsFirstLayout(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "db")
	db, err := pebble.Open(dir, &pebble.Options{Logger: slogLogger{slog.New(slog.NewTextHandler(io.Discard, nil))}})
	if err != nil {
		t.Fatal(err)
	}
	subA, subB := "arn:aws:sns:us-east-1:000000000000:t:a", "arn:aws:sns:us-east-1:000000000000:t:b"
	now := time.Now().UTC()
	b := db.NewBatch()
	for i, m := range []struct {
		id   string
		subs []string
		due  time.Time
	}{{"m1", []string{subA, subB}, now.Add(-time.Minute)}, {"m2", []string{subA}, now.Add(-2 * time.Minute)}, {"m3", []string{subB}, now.Add(time.Hour)}} {
		b.Set(key('m', m.id), encodeMessage(store.Message{ID: m.id, TopicARN: "t", CreatedAt: now, Body: []byte(m.id)}), nil)
		for _, sub := range m.subs {
			k := append(key('d', sub), 0)
			k = binary.BigEndian.AppendUint64(k, uint64(i+1))
			k = append(k, m.id...)
			v := binary.AppendUvarint(nil, 2)
			b.Set(k, binary.AppendVarint(v, m.due.UnixNano()), nil)
		}
	}
	if err := b.Commit(pebble.Sync); err != nil {
		t.Fatal(err)
	}
	b.Close()
	db.Close()

	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if n, _ := s.PendingDeliveries(ctx, ""); n != 4 {
		t.Fatalf("pending after conversion: %d, want 4", n)
	}
	ls, err := s.LeaseDeliveries(ctx, "w", now, time.Minute, 10)
	if err != nil || len(ls) != 3 {
		t.Fatalf("lease: %d %v", len(ls), err)
	}
	if ls[0].MessageID != "m2" || ls[0].Attempts != 2 || string(ls[0].Message.Body) != "m2" {
		t.Fatalf("first lease %+v, want m2 (due first) with 2 attempts", ls[0])
	}
	for _, l := range ls {
		if err := s.Ack(ctx, l); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.GetMessage(ctx, "m1"); err == nil {
		t.Fatal("m1 kept after both its deliveries were acked")
	}
	if _, err := s.GetMessage(ctx, "m3"); err != nil {
		t.Fatalf("m3 (pending in an hour): %v", err)
	}
}
