package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
)

// wantRefused fails t unless err is the SNS error code with HTTP status.
func wantRefused(t *testing.T, what string, err error, code string, status int) {
	t.Helper()
	if got, st := refusal(err); got != code || st != status {
		t.Fatalf("%s: got %q %d (%v), want %s %d", what, got, st, err, code, status)
	}
}

// sseTopic creates topic name with KmsMasterKeyId keyID as u, checks that
// GetTopicAttributes returns the key as set, subscribes sub (with the
// subscription attributes attrs, may be nil) and waits for the
// confirmation. It returns the topic ARN.
func sseTopic(t *testing.T, u sseUser, sub *sseSub, name, keyID string, attrs map[string]string) string {
	t.Helper()
	ctx := context.Background()
	out, err := u.sns.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(name), Attributes: map[string]string{"KmsMasterKeyId": keyID}})
	if err != nil {
		t.Fatalf("CreateTopic %s with KmsMasterKeyId %s: %v", name, keyID, err)
	}
	ga, err := u.sns.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: out.TopicArn})
	if err != nil {
		t.Fatal(err)
	}
	if got := ga.Attributes["KmsMasterKeyId"]; got != keyID {
		t.Fatalf("GetTopicAttributes KmsMasterKeyId %q, want %q as set", got, keyID)
	}
	if sub != nil {
		sa, err := u.sns.Subscribe(ctx, &sns.SubscribeInput{TopicArn: out.TopicArn, Protocol: aws.String("http"), Endpoint: aws.String(sub.url()),
			Attributes: attrs, ReturnSubscriptionArn: true})
		if err != nil {
			t.Fatalf("Subscribe to %s: %v", name, err)
		}
		waitConfirmed(t, u.sns, sa.SubscriptionArn)
	}
	return aws.ToString(out.TopicArn)
}

// publish publishes msg to topic as u; it fails t on error.
func (u sseUser) publish(t *testing.T, topic, msg string) {
	t.Helper()
	if _, err := u.sns.Publish(context.Background(), &sns.PublishInput{TopicArn: aws.String(topic), Message: aws.String(msg), Subject: aws.String("sse e2e")}); err != nil {
		t.Fatalf("Publish %q to %s: %v", msg, topic, err)
	}
}

// publishErr publishes msg to topic as u and returns the error.
func (u sseUser) publishErr(topic, msg string) error {
	_, err := u.sns.Publish(context.Background(), &sns.PublishInput{TopicArn: aws.String(topic), Message: aws.String(msg)})
	return err
}

// TestSSEGoSDK drives SSE topics with aws-sdk-go-v2 over HTTPS (the dev
// CA) against the binary with a credentials file of two accounts: a key
// and an alias; SSE topics whose KmsMasterKeyId is the key id, key ARN,
// alias name, alias ARN and alias/aws/sns (created by the first publish,
// AWS-managed), each with a confirmed HTTP subscriber that receives the
// plaintext with a signature that verifies; the same requests over plain
// HTTP answer InvalidSecurity 403 (Publish, PublishBatch, Subscribe,
// GetTopicAttributes); an unsigned Publish over HTTPS answers
// MissingAuthenticationToken (auth on) and InvalidSecurity on a second
// binary with --auth=off, where an unsigned publish to a topic without SSE
// works; cross-account: a topic of A under a key of B refuses A's Publish
// with KMSAccessDenied until B's key policy allows A, then it works and is
// delivered.
func TestSSEGoSDK(t *testing.T) {
	ctx := context.Background()
	creds := filepath.Join(t.TempDir(), "credentials.json")
	writeCredentials(t, creds, sseAccounts)
	p := start(t, freePort(t), filepath.Join(t.TempDir(), "data"), "--credentials", creds)
	logOnFailure(t, p)
	a := sseClients(p, p.tlsURL(), "AKIASSEROOTA", "sse-root-a")
	b := sseClients(p, p.tlsURL(), "AKIASSEROOTB", "sse-root-b")
	sub := newSSESub(t, p)

	key, err := a.kms.CreateKey(ctx, &kms.CreateKeyInput{Description: aws.String("sse e2e")})
	if err != nil {
		t.Fatal(err)
	}
	keyID, keyARN := aws.ToString(key.KeyMetadata.KeyId), aws.ToString(key.KeyMetadata.Arn)
	if _, err := a.kms.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String("alias/sse-e2e"), TargetKeyId: key.KeyMetadata.KeyId}); err != nil {
		t.Fatal(err)
	}

	forms := []struct{ name, keyID string }{
		{"key-id", keyID},
		{"key-arn", keyARN},
		{"alias-name", "alias/sse-e2e"},
		{"alias-arn", "arn:aws:kms:us-east-1:" + sseAccountA + ":alias/sse-e2e"},
		{"aws-managed", "alias/aws/sns"},
	}
	var first string
	for _, f := range forms {
		t.Run(f.name, func(t *testing.T) {
			topic := sseTopic(t, a, sub, "sse-"+f.name, f.keyID, nil)
			if first == "" {
				first = topic
			}
			msg := "plaintext via " + f.name + " " + f.keyID
			a.publish(t, topic, msg)
			sub.waitMsg(t, msg)
			// PublishBatch too.
			batch, err := a.sns.PublishBatch(ctx, &sns.PublishBatchInput{TopicArn: aws.String(topic), PublishBatchRequestEntries: []snstypes.PublishBatchRequestEntry{
				{Id: aws.String("1"), Message: aws.String(msg + " batch 1")}, {Id: aws.String("2"), Message: aws.String(msg + " batch 2")}}})
			if err != nil || len(batch.Failed) != 0 {
				t.Fatalf("PublishBatch: %v %+v", err, batch)
			}
			sub.waitMsg(t, msg+" batch 1")
			sub.waitMsg(t, msg+" batch 2")
		})
	}
	managed, err := a.kms.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String("alias/aws/sns")})
	if err != nil || managed.KeyMetadata.KeyManager != "AWS" {
		t.Fatalf("alias/aws/sns after the first publish: %v %+v", err, managed)
	}

	t.Run("plain HTTP", func(t *testing.T) {
		h := sseClients(p, p.url(), "AKIASSEROOTA", "sse-root-a")
		_, err := h.sns.Publish(ctx, &sns.PublishInput{TopicArn: aws.String(first), Message: aws.String("over http")})
		wantRefused(t, "Publish over HTTP", err, "InvalidSecurity", 403)
		_, err = h.sns.PublishBatch(ctx, &sns.PublishBatchInput{TopicArn: aws.String(first), PublishBatchRequestEntries: []snstypes.PublishBatchRequestEntry{
			{Id: aws.String("1"), Message: aws.String("over http")}}})
		wantRefused(t, "PublishBatch over HTTP", err, "InvalidSecurity", 403)
		_, err = h.sns.Subscribe(ctx, &sns.SubscribeInput{TopicArn: aws.String(first), Protocol: aws.String("http"), Endpoint: aws.String(sub.url())})
		wantRefused(t, "Subscribe over HTTP", err, "InvalidSecurity", 403)
		_, err = h.sns.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: aws.String(first)})
		wantRefused(t, "GetTopicAttributes over HTTP", err, "InvalidSecurity", 403)
		if n := sub.count("over http"); n != 0 {
			t.Fatalf("a refused publish was delivered %d times", n)
		}
	})

	t.Run("unsigned over HTTPS", func(t *testing.T) {
		code, status := unsignedPublish(t, p, first, "unsigned")
		if code != "MissingAuthenticationToken" || status != 403 {
			t.Fatalf("unsigned Publish over HTTPS with auth on: %s %d, want MissingAuthenticationToken 403", code, status)
		}
		off := start(t, freePort(t), filepath.Join(t.TempDir(), "data"), "--auth=off")
		o := sseClients(off, off.tlsURL(), "test", "test")
		k, err := o.kms.CreateKey(ctx, &kms.CreateKeyInput{})
		if err != nil {
			t.Fatal(err)
		}
		sseT := sseTopic(t, o, nil, "sse-auth-off", aws.ToString(k.KeyMetadata.KeyId), nil)
		plain, err := o.sns.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("plain-auth-off")})
		if err != nil {
			t.Fatal(err)
		}
		o.publish(t, sseT, "signed over HTTPS works with --auth=off")
		if code, status := unsignedPublish(t, off, sseT, "unsigned"); code != "InvalidSecurity" || status != 403 {
			t.Fatalf("unsigned Publish over HTTPS to an SSE topic with --auth=off: %s %d, want InvalidSecurity 403", code, status)
		}
		if code, status := unsignedPublish(t, off, aws.ToString(plain.TopicArn), "unsigned"); code != "" || status != 200 {
			t.Fatalf("unsigned Publish over HTTPS to a topic without SSE with --auth=off: %s %d, want 200", code, status)
		}
	})

	t.Run("cross-account key", func(t *testing.T) {
		kb, err := b.kms.CreateKey(ctx, &kms.CreateKeyInput{Description: aws.String("B's key for A's topic")})
		if err != nil {
			t.Fatal(err)
		}
		kbARN := aws.ToString(kb.KeyMetadata.Arn)
		topic := sseTopic(t, a, sub, "sse-cross-account", kbARN, nil)
		wantRefused(t, "Publish by A under B's key before B allows A", a.publishErr(topic, "too early"), "KMSAccessDenied", 400)

		pol := fmt.Sprintf(`{"Version": "2012-10-17", "Statement": [
  {"Sid": "B", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::%s:root"}, "Action": "kms:*", "Resource": "*"},
  {"Sid": "A publishes through SNS", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::%s:root"},
   "Action": ["kms:GenerateDataKey", "kms:Decrypt"], "Resource": "*"}]}`, sseAccountB, sseAccountA)
		if _, err := b.kms.PutKeyPolicy(ctx, &kms.PutKeyPolicyInput{KeyId: kb.KeyMetadata.KeyId, PolicyName: aws.String("default"), Policy: aws.String(pol)}); err != nil {
			t.Fatal(err)
		}
		a.publish(t, topic, "A under B's key")
		sub.waitMsg(t, "A under B's key")
		if n := sub.count("too early"); n != 0 {
			t.Fatalf("the refused publish was delivered %d times", n)
		}
	})
	sub.checkGood(t)
}

// unsignedPublish sends Publish without any signature over HTTPS to p and
// returns the SNS error code ("" on success) and HTTP status.
func unsignedPublish(t *testing.T, p *proc, topic, msg string) (string, int) {
	t.Helper()
	form := url.Values{"Action": {"Publish"}, "Version": {"2010-03-31"}, "TopicArn": {topic}, "Message": {msg}}
	req, err := http.NewRequest(http.MethodPost, p.tlsURL()+"/", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	resp, err := sseHTTPClient(p).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	code := ""
	if i := strings.Index(string(body), "<Code>"); i >= 0 {
		rest := string(body)[i+len("<Code>"):]
		if j := strings.Index(rest, "</Code>"); j >= 0 {
			code = rest[:j]
		}
	}
	return code, resp.StatusCode
}
