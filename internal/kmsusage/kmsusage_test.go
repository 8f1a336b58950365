package kmsusage_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/audit"
	"github.com/sealpost/sealpost/internal/envelope"
	"github.com/sealpost/sealpost/internal/kms"
	"github.com/sealpost/sealpost/internal/kmsusage"
	"github.com/sealpost/sealpost/internal/store/pebblestore"
)

const acct = "000000000000"

// TestUsageFromRealKMSRecords drives the real KMS with a real audit writer
// as SNS does (GenerateDataKey as the publisher, Decrypt as the SNS
// service, encryption context aws:sns:topicArn) and checks what the command
// counts from the log.
func TestUsageFromRealKMSRecords(t *testing.T) {
	ctx := context.Background()
	dataDir := t.TempDir()
	st, err := pebblestore.Open(filepath.Join(dataDir, "store"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	kr, err := envelope.NewKeyring(bytes.Repeat([]byte{1}, 32))
	if err != nil {
		t.Fatal(err)
	}
	w, err := audit.Open(audit.Dir(dataDir), audit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	k := kms.New(st, kr, kms.Options{Audit: w})
	user := func(name string) kms.Caller {
		return kms.Caller{Account: acct, Region: "us-east-1", Principal: "arn:aws:iam::" + acct + ":" + name, Authenticated: true, Secure: true}
	}
	root, alice, bob := user("root"), user("user/alice"), user("user/bob")
	alice.ViaService, bob.ViaService = "sns.us-east-1.amazonaws.com", "sns.us-east-1.amazonaws.com"
	snsSvc := kms.Caller{Account: acct, Region: "us-east-1", Service: "sns.amazonaws.com"}
	// The key policy AWS documents for SSE topics: the account, and SNS
	// for GenerateDataKey* and Decrypt.
	policy := `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + acct + `:root"},"Action":"kms:*","Resource":"*"},
		{"Effect":"Allow","Principal":{"Service":"sns.amazonaws.com"},"Action":["kms:GenerateDataKey*","kms:Decrypt"],"Resource":"*"}]}`
	key, err := k.CreateKey(ctx, root, kms.CreateKeyInput{Policy: policy})
	if err != nil {
		t.Fatal(err)
	}
	topicA := "arn:aws:sns:us-east-1:" + acct + ":orders"
	topicB := "arn:aws:sns:us-east-1:" + acct + ":audit"
	ctxA := map[string]string{kmsusage.ContextKey: topicA}
	var blob []byte
	for _, c := range []kms.Caller{alice, alice, bob} {
		out, err := k.GenerateDataKey(ctx, c, kms.DataKeyInput{KeyID: key.ARN, KeySpec: "AES_256", Context: ctxA})
		if err != nil {
			t.Fatal(err)
		}
		blob = out.CiphertextBlob
	}
	for range 3 {
		if _, err := k.Decrypt(ctx, snsSvc, kms.DecryptInput{CiphertextBlob: blob, Context: ctxA}); err != nil {
			t.Fatal(err)
		}
	}
	// A Decrypt under the wrong context fails: counted for topic B, failed.
	if _, err := k.Decrypt(ctx, snsSvc, kms.DecryptInput{CiphertextBlob: blob, Context: map[string]string{kmsusage.ContextKey: topicB}}); err == nil {
		t.Fatal("decrypt under another topic's context worked")
	}
	// Not SNS's: no context.
	if _, err := k.GenerateDataKey(ctx, alice, kms.DataKeyInput{KeyID: key.ARN, KeySpec: "AES_256"}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}

	rep, err := kmsusage.ReadDir(audit.Dir(dataDir))
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Topics) != 2 || rep.Topics[0].ARN != topicB || rep.Topics[1].ARN != topicA {
		t.Fatalf("topics %+v", rep.Topics)
	}
	a := rep.Topics[1]
	if a.Calls != (kmsusage.Calls{GenerateDataKey: 3, Decrypt: 3}) || len(a.Publishers) != 2 ||
		a.Publishers[0] != alice.Principal || a.Publishers[1] != bob.Principal || len(a.Keys) != 1 || a.Keys[0] != key.ARN {
		t.Fatalf("topic A %+v", a)
	}
	if b := rep.Topics[0]; b.Calls != (kmsusage.Calls{Decrypt: 1, Errors: 1}) || len(b.Publishers) != 0 {
		t.Fatalf("topic B %+v", b)
	}
	if len(rep.Keys) != 1 || rep.Keys[0].Calls != (kmsusage.Calls{GenerateDataKey: 3, Decrypt: 4, Errors: 1}) || len(rep.Keys[0].Topics) != 2 {
		t.Fatalf("keys %+v", rep.Keys)
	}
	if rep.Records != 9 || rep.Skipped != 0 { // CreateKey + 3 + 3 + 1 + 1
		t.Fatalf("records %d skipped %d", rep.Records, rep.Skipped)
	}

	var out, errb bytes.Buffer
	if code := kmsusage.Command([]string{"--data-dir", dataDir, "--period", "2678400"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	t.Logf("output:\n%s", out.String())
	// AWS's example 1 is 17,856 for one publisher over January; topic A
	// has two publishers.
	row := ""
	for _, l := range strings.Split(out.String(), "\n") {
		if strings.HasPrefix(l, topicA) {
			row = strings.Join(strings.Fields(l), " ")
		}
	}
	if want := topicA + " " + key.ARN + " 2 3 3 0 6 35712.0"; row != want {
		t.Fatalf("row %q, want %q\n%s", row, want, out.String())
	}
}

// TestPeriodFromTheLog: B is first to last record; R follows the formula;
// a torn final line is skipped, not fatal; rotated segments are read too.
func TestPeriodFromTheLog(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	w, err := audit.Open(dir, audit.Options{MaxFileBytes: 600})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	topic := "arn:aws:sns:us-east-1:" + acct + ":t"
	keyARN := "arn:aws:kms:us-east-1:" + acct + ":key/k"
	ev := func(at time.Duration, name, who string) audit.Event {
		e := audit.Event{Time: t0.Add(at), Name: name, Region: "us-east-1",
			RequestParameters: map[string]any{"keyId": keyARN, "encryptionContext": map[string]any{kmsusage.ContextKey: topic}},
			Resources:         []audit.Resource{audit.KeyResource(keyARN, acct)}}
		if who == "" {
			e.Identity = audit.UserIdentity{Type: "AWSService", InvokedBy: "sns.amazonaws.com"}
		} else {
			e.Identity = audit.UserIdentity{Type: "IAMUser", ARN: who, AccountID: acct}
		}
		return e
	}
	for _, e := range []audit.Event{
		{Time: t0, Name: "ListKeys", Region: "us-east-1"},
		ev(10*time.Second, "GenerateDataKey", "arn:aws:iam::"+acct+":user/p"),
		ev(20*time.Second, "Decrypt", ""),
		ev(310*time.Second, "GenerateDataKey", "arn:aws:iam::"+acct+":user/p"),
		ev(600*time.Second, "Decrypt", ""),
	} {
		if _, err := w.Append(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	w.Close()
	segs, _ := filepath.Glob(filepath.Join(dir, "audit-*.log"))
	if len(segs) == 0 {
		t.Fatal("no rotated segment: the test does not cover them")
	}
	f, err := os.OpenFile(filepath.Join(dir, audit.FileName), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"eventVersion":"1.11","eventTime":"2026-02-0`) // torn
	f.Close()
	rep, err := kmsusage.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Period() != 600*time.Second || rep.Records != 5 || rep.Skipped != 1 {
		t.Fatalf("period %v records %d skipped %d", rep.Period(), rep.Records, rep.Skipped)
	}
	if len(rep.Topics) != 1 || rep.Topics[0].Calls.Total() != 4 || len(rep.Topics[0].Publishers) != 1 {
		t.Fatalf("%+v", rep.Topics)
	}
	// 600 / 300 * (2 * 1) = 4
	if r := kmsusage.Estimate(rep.Period(), kmsusage.DefaultReuse, 1); r != 4 {
		t.Fatalf("R = %v", r)
	}
	var out, errb bytes.Buffer
	if code := kmsusage.Command([]string{"--file", filepath.Join(dir, audit.FileName), "--reuse", "5m"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if !strings.Contains(out.String(), "D = 300 s") {
		t.Fatalf("%s", out.String())
	}
}

// TestEstimateMatchesAWSExamples: the two worked examples of "Estimating
// AWS KMS costs".
func TestEstimateMatchesAWSExamples(t *testing.T) {
	if r := kmsusage.Estimate(2678400*time.Second, 300*time.Second, 1); r != 17856 {
		t.Fatalf("example 1: %v", r)
	}
	feb := 2419200 * time.Second
	if r := kmsusage.Estimate(feb, 300*time.Second, 3) + kmsusage.Estimate(feb, 300*time.Second, 5); r != 129024 {
		t.Fatalf("example 2: %v", r)
	}
}

func TestCommandUsageErrors(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{"--file", "x", "--data-dir", dir},
		{"--data-dir", dir},                 // no log there
		{"--data-dir", dir, "--reuse", "0"}, // bad D
		{"--data-dir", dir, "extra"},
	} {
		var out, errb bytes.Buffer
		if code := kmsusage.Command(args, &out, &errb); code != 2 || errb.Len() == 0 {
			t.Errorf("%v: exit %d, stderr %q", args, code, errb.String())
		}
	}
}
