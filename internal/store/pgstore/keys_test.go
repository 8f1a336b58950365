package pgstore

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/pgtest"

	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/store/storetest"
)

func TestKeyConformance(t *testing.T) {
	storetest.RunKeys(t, storetest.KeysOf(&harness{dsns: map[store.Store]string{}}))
}

// TestKeysTwoNodes runs two stores ("nodes") on one database: a key written
// on one is seen, with its new revision, on the other; rotations racing on
// both nodes add each version once.
func TestKeysTwoNodes(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.NewDatabase(t)
	n1, n2 := openStore(t, dsn), openStore(t, dsn)
	at := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
	k := store.Key{ID: "11111111-2222-4333-8444-555555555555", Account: "000000000000", Region: "us-east-1",
		ARN:      "arn:aws:kms:us-east-1:000000000000:key/11111111-2222-4333-8444-555555555555",
		KeyState: "Enabled", KeyManager: "CUSTOMER", KeySpec: "SYMMETRIC_DEFAULT", KeyUsage: "ENCRYPT_DECRYPT",
		Origin: "AWS_KMS", CreatedAt: at, Policy: "{}"}
	if _, err := n1.CreateKey(ctx, k, &store.Material{Version: 1, CreatedAt: at, Sealed: []byte("v1")}); err != nil {
		t.Fatal(err)
	}
	if _, err := n2.CreateKey(ctx, k, nil); !errors.Is(err, store.ErrExists) {
		t.Fatalf("CreateKey on the second node: %v, want ErrExists", err)
	}
	seen, err := n2.GetKey(ctx, k.ID)
	if err != nil || seen.Revision != 1 {
		t.Fatalf("second node: %+v %v", seen, err)
	}
	if _, err := n1.UpdateKey(ctx, k.ID, func(k *store.Key) error { k.KeyState = "Disabled"; return nil }); err != nil {
		t.Fatal(err)
	}
	seen, err = n2.GetKey(ctx, k.ID)
	if err != nil || seen.KeyState != "Disabled" || seen.Revision != 2 {
		t.Fatalf("second node after disabling on the first: %+v %v", seen, err)
	}

	// Both nodes rotate concurrently, each reading the current version and
	// trying the next one until it has added five.
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for _, node := range []*Store{n1, n2} {
		wg.Add(1)
		go func(node *Store) {
			defer wg.Done()
			for added := 0; added < 5; {
				cur, err := node.GetKey(ctx, k.ID)
				if err != nil {
					errs <- err
					return
				}
				v := cur.CurrentVersion + 1
				_, err = node.AddMaterial(ctx, k.ID, store.Material{Version: v, CreatedAt: at, Sealed: []byte(fmt.Sprintf("v%d", v))}, nil)
				if errors.Is(err, store.ErrExists) {
					continue
				}
				if err != nil {
					errs <- err
					return
				}
				added++
			}
		}(node)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	got, err := n2.GetKey(ctx, k.ID)
	if err != nil || got.CurrentVersion != 11 {
		t.Fatalf("after 10 rotations on two nodes: %+v %v", got, err)
	}
	for v := 1; v <= 11; v++ {
		m, err := n1.GetMaterial(ctx, k.ID, v)
		if err != nil || string(m.Sealed) != fmt.Sprintf("v%d", v) {
			t.Fatalf("material %d: %+v %v", v, m, err)
		}
	}
	if n := countRows(t, dsn, "kms_materials"); n != 11 {
		t.Fatalf("%d material rows, want 11", n)
	}
	if err := n2.DeleteKey(ctx, k.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := n1.GetKey(ctx, k.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("first node after deletion on the second: %v", err)
	}
	if n := countRows(t, dsn, "kms_materials"); n != 0 {
		t.Fatalf("%d material rows after DeleteKey", n)
	}
}

func BenchmarkKeyRead(b *testing.B) { storetest.BenchKeyRead(b, openStore(b, pgtest.NewDatabase(b))) }

func BenchmarkKeyUpdate(b *testing.B) {
	b.SetParallelism(8) // 16 goroutines on 2 cores
	storetest.BenchKeyUpdate(b, openStore(b, pgtest.NewDatabase(b)))
}

// TestKeysMigrateFromV2 opens a database that has only the SNS schema
// (migrations 1 and 2, as written by earlier releases), with a topic in it:
// Open adds the key store tables and keeps the topic.
func TestKeysMigrateFromV2(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.NewDatabase(t)
	all := migrations
	migrations = all[:2]
	old, err := Open(ctx, dsn)
	migrations = all
	if err != nil {
		t.Fatal(err)
	}
	tp, _ := fixture(t, old, "before-kms", 0)
	old.Close()
	if n := countRows(t, dsn, "schema_migrations"); n != 2 {
		t.Fatalf("old schema: %d migrations", n)
	}
	s := openStore(t, dsn)
	if n := countRows(t, dsn, "schema_migrations"); n != len(migrations) {
		t.Fatalf("%d migrations after upgrade, want %d", n, len(migrations))
	}
	if _, err := s.GetTopic(ctx, tp.ARN); err != nil {
		t.Fatalf("topic after upgrade: %v", err)
	}
	k := store.Key{ID: "k1", ARN: "arn:aws:kms:us-east-1:000000000000:key/k1", Account: "000000000000",
		Region: "us-east-1", KeyState: "Enabled", CreatedAt: time.Now()}
	if _, err := s.CreateKey(ctx, k, &store.Material{Version: 1, CreatedAt: time.Now(), Sealed: []byte("s")}); err != nil {
		t.Fatalf("CreateKey after upgrade: %v", err)
	}
}
