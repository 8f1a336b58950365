package e2e

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
)

// TestOfficialNodeValidator checks Sealpost's messages with AWS's own
// subscriber-side validator (npm sns-validator, aws/aws-js-sns-message-validator):
// production subscriber code that verifies signatures runs unchanged once it
// trusts Sealpost's CA and certificate host. It needs node and the package
// (`npm install --prefix e2e/node`, which .ci/run tries); without them it skips.
func TestOfficialNodeValidator(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not installed")
	}
	if _, err := os.Stat(filepath.Join("node", "node_modules", "sns-validator")); err != nil {
		t.Skip("sns-validator not installed: run npm install --prefix e2e/node")
	}
	ctx := context.Background()
	addr := freePort(t)
	port := addr[strings.LastIndexByte(addr, ':')+1:]
	p := start(t, addr, filepath.Join(t.TempDir(), "data"), "--public-url", "https://localhost:"+port)

	cmd := exec.Command(node, "subscriber.js", `^localhost:\d+$`)
	cmd.Dir = "node"
	cmd.Env = append(os.Environ(), "NODE_EXTRA_CA_CERTS="+p.caFile())
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	next := func() string {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatal("node subscriber exited")
			}
			return l
		case <-time.After(15 * time.Second):
			t.Fatal("node subscriber said nothing for 15 s")
		}
		return ""
	}
	first := next()
	if !strings.HasPrefix(first, "listening ") {
		t.Fatalf("subscriber: %q", first)
	}
	endpoint := "http://127.0.0.1:" + strings.TrimPrefix(first, "listening ") + "/"

	c := p.client(t, p.tlsURL())
	topic, err := c.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("validated")})
	if err != nil {
		t.Fatal(err)
	}
	sub, err := c.Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("http"), Endpoint: aws.String(endpoint), ReturnSubscriptionArn: true})
	if err != nil {
		t.Fatal(err)
	}
	if l := next(); !strings.HasPrefix(l, "valid SubscriptionConfirmation ") {
		t.Fatalf("official validator on SubscriptionConfirmation: %q", l)
	}
	if l := next(); l != "confirmed 200" {
		t.Fatalf("SubscribeURL visit: %q", l)
	}
	waitConfirmed(t, c, sub.SubscriptionArn)
	for _, version := range []string{"1", "2"} {
		if _, err := c.SetTopicAttributes(ctx, &sns.SetTopicAttributesInput{TopicArn: topic.TopicArn, AttributeName: aws.String("SignatureVersion"), AttributeValue: aws.String(version)}); err != nil {
			t.Fatal(err)
		}
		pub, err := c.Publish(ctx, &sns.PublishInput{TopicArn: topic.TopicArn, Message: aws.String("checked by AWS's validator, v" + version), Subject: aws.String("v" + version)})
		if err != nil {
			t.Fatal(err)
		}
		if l := next(); l != "valid Notification "+aws.ToString(pub.MessageId) {
			t.Fatalf("official validator on a SignatureVersion %s Notification: %q", version, l)
		}
	}
}
