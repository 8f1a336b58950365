package server_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awskms "github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go"

	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/testserver"
)

// sqsSSECredentials: the queue owner's root, and a reader whose identity
// policy allows SQS only (no kms:Decrypt).
const sqsSSECredentials = `{"accounts": [
 {"id": "555555555555", "users": [
   {"name": "root", "accessKeys": [{"id": "AKIASQSROOT", "secret": "secret-root"}]},
   {"name": "reader", "accessKeys": [{"id": "AKIASQSREADER", "secret": "secret-reader"}],
    "policy": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sqs:*", "Resource": "*"}]}}]}]}`

// wantAPIError checks that err is an API error with one of codes (the SQS
// JSON protocol's shape name, or the query-compatible code).
func wantAPIError(t *testing.T, what string, err error, codes ...string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) || !slices.Contains(codes, ae.ErrorCode()) {
		t.Fatalf("%s: got %v, want one of %v", what, err, codes)
	}
}

// TestQueueSSESDK, with aws-sdk-go-v2 over HTTPS on the suite's store
// driver: queues encrypted with a customer key (by id and by alias), with
// alias/aws/sqs and with SSE-SQS (the default of a new queue) take and
// give back their messages; a receiver without kms:Decrypt gets
// KmsAccessDenied from an SSE-KMS queue and its messages from an SSE-SQS
// queue; after DisableKey, SendMessage answers KmsDisabled; and no body of
// an encrypted queue is in the store, in the data dir's files (pebble) or
// among the stored values, while the positive control (a queue with
// SqsManagedSseEnabled=false) is found by the same scans.
func TestQueueSSESDK(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	creds := filepath.Join(t.TempDir(), "credentials.json")
	if err := os.WriteFile(creds, []byte(sqsSSECredentials), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := testserver.Start(t, testserver.Options{DataDir: dir, Args: []string{"--credentials", creds}})
	cfg := func(key, secret string) aws.Config {
		c := srv.AWSConfig(t, srv.TLSURL(), key, secret, "")
		c.RetryMaxAttempts = 1
		return c
	}
	kc := awskms.NewFromConfig(cfg("AKIASQSROOT", "secret-root"))
	owner := sqs.NewFromConfig(cfg("AKIASQSROOT", "secret-root"))
	reader := sqs.NewFromConfig(cfg("AKIASQSREADER", "secret-reader"))

	key, err := kc.CreateKey(ctx, &awskms.CreateKeyInput{})
	if err != nil {
		t.Fatal(err)
	}
	keyID := aws.ToString(key.KeyMetadata.KeyId)
	if _, err := kc.CreateAlias(ctx, &awskms.CreateAliasInput{AliasName: aws.String("alias/queues"), TargetKeyId: &keyID}); err != nil {
		t.Fatal(err)
	}
	queue := func(name string, attrs map[string]string) string {
		t.Helper()
		out, err := owner.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: attrs})
		if err != nil {
			t.Fatalf("CreateQueue %s: %v", name, err)
		}
		return aws.ToString(out.QueueUrl)
	}
	send := func(c *sqs.Client, url, body string) error {
		_, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &url, MessageBody: &body})
		return err
	}
	receive := func(c *sqs.Client, url string) (string, error) {
		out, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &url, WaitTimeSeconds: 2, VisibilityTimeout: 1})
		if err != nil {
			return "", err
		}
		if len(out.Messages) != 1 {
			return "", errors.New("no message")
		}
		m := out.Messages[0]
		if _, err := c.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: &url, ReceiptHandle: m.ReceiptHandle}); err != nil {
			return "", err
		}
		return aws.ToString(m.Body), nil
	}
	encrypted := map[string]map[string]string{
		"by-key":    {"KmsMasterKeyId": keyID, "KmsDataKeyReusePeriodSeconds": "60"},
		"by-alias":  {"KmsMasterKeyId": "alias/queues"},
		"aws-sqs":   {"KmsMasterKeyId": "alias/aws/sqs"},
		"sse-sqs":   nil, // the default of a new queue
		"sse-sqs-2": {"SqsManagedSseEnabled": "true"},
	}
	var secrets [][]byte
	urls := map[string]string{}
	for name, attrs := range encrypted {
		url := queue(name, attrs)
		urls[name] = url
		body := "queue-sse-secret-" + name + "-7f3a9c1e"
		if err := send(owner, url, body); err != nil {
			t.Fatalf("%s: SendMessage: %v", name, err)
		}
		got, err := receive(owner, url)
		if err != nil || got != body {
			t.Fatalf("%s: received %q, %v", name, got, err)
		}
		// A resident message stays in the store for the scans.
		resident := "queue-sse-resident-" + name + "-5d2b8e04"
		if err := send(owner, url, resident); err != nil {
			t.Fatal(err)
		}
		secrets = append(secrets, []byte(body), []byte(resident))
	}
	control := queue("clear", map[string]string{"SqsManagedSseEnabled": "false"})
	controlBody := []byte("queue-sse-control-clear-9b1f6d27")
	if err := send(owner, control, string(controlBody)); err != nil {
		t.Fatal(err)
	}

	// A receiver without kms:Decrypt: refused by the SSE-KMS queue, served
	// by SSE-SQS (no key permissions needed).
	if err := send(owner, urls["by-key"], "for-the-reader"); err != nil {
		t.Fatal(err)
	}
	_, err = reader.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(urls["by-key"]), MaxNumberOfMessages: 10})
	wantAPIError(t, "receiver without kms:Decrypt", err, "KmsAccessDenied", "KMS.AccessDeniedException")
	if err := send(reader, urls["sse-sqs"], "reader-managed"); err != nil {
		t.Fatalf("SSE-SQS send without key permissions: %v", err)
	}
	if got, err := receive(reader, urls["sse-sqs"]); err != nil || got != "queue-sse-resident-sse-sqs-5d2b8e04" && got != "reader-managed" {
		t.Fatalf("SSE-SQS receive without key permissions: %q %v", got, err)
	}

	// DisableKey: the next SendMessage is refused, nothing stored.
	if _, err := kc.DisableKey(ctx, &awskms.DisableKeyInput{KeyId: &keyID}); err != nil {
		t.Fatal(err)
	}
	err = send(owner, urls["by-key"], "after-disable")
	wantAPIError(t, "SendMessage after DisableKey", err, "KmsDisabled", "KMS.DisabledException")
	err = send(owner, urls["by-alias"], "after-disable")
	wantAPIError(t, "SendMessage by alias after DisableKey", err, "KmsDisabled", "KMS.DisabledException")

	// The SQS-owned key is not the account's.
	keys, err := kc.ListKeys(ctx, &awskms.ListKeysInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(keys.Keys) != 2 { // the customer key and aws/sqs
		t.Fatalf("ListKeys: %d keys, want 2 (customer key, aws/sqs)", len(keys.Keys))
	}

	// Logical scan: every stored value of every queue.
	qs, ok := srv.SNS().Store().(store.QueueStore)
	if !ok {
		t.Fatal("the store is no QueueStore")
	}
	var values [][]byte
	for _, name := range []string{"by-key", "by-alias", "aws-sqs", "sse-sqs", "sse-sqs-2", "clear"} {
		ms, err := qs.Receive(ctx, store.QueueKey{Account: "555555555555", Region: "us-east-1", Name: name}, 10, time.Now(), time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range ms {
			values = append(values, m.Body, m.Meta)
		}
	}
	found := func(needle []byte) bool {
		for _, v := range values {
			if bytes.Contains(v, needle) {
				return true
			}
		}
		return false
	}
	if !found(controlBody) {
		t.Fatal("positive control: the clear queue's body is not among the stored values")
	}
	for _, s := range secrets {
		if found(s) {
			t.Fatalf("%q is stored in clear", s)
		}
	}
	if testserver.StoreKind() != "pebble" {
		return // PostgreSQL's files are the database's
	}
	// File scan of the data dir: raw and base64 (pebblestore keeps queue
	// records as JSON, bodies base64) at each alignment; pebble keeps
	// recent writes uncompressed in its WAL, where the control is found.
	var hits, seen bool
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		seen = seen || containsAnyForm(b, controlBody)
		for _, s := range secrets {
			if containsAnyForm(b, s) {
				t.Errorf("%q in %s", s, p)
				hits = true
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !seen {
		t.Fatal("positive control: the clear queue's body is not in the data dir")
	}
	if hits {
		t.Fatal("plaintext bodies of encrypted queues on disk")
	}
}

// containsAnyForm reports whether b holds secret raw or base64-encoded
// (standard alphabet) at any of the three byte alignments it can have
// inside a longer encoded value.
func containsAnyForm(b, secret []byte) bool {
	if bytes.Contains(b, secret) {
		return true
	}
	for k := range 3 {
		enc := base64.StdEncoding.EncodeToString(append(make([]byte, k), secret...))
		start, end := 4*((k+2)/3), 4*((k+len(secret))/3)
		if end-start >= 16 && bytes.Contains(b, []byte(enc[start:end])) {
			return true
		}
	}
	return false
}
