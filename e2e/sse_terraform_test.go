package e2e

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// Terraform's AWS provider against Sealpost over HTTPS (the server's dev CA
// as custom_ca_bundle; sns, kms, sts and sqs endpoints pointed at it):
// testdata/terraform/main.tf declares a KMS key (rotation on, a key
// policy that also lets sns.amazonaws.com use it, tags, 7-day deletion
// window), an alias, two SSE topics, one with kms_master_key_id = the
// alias name and one = the key ARN, an SQS dead-letter queue (SSE-SQS, a
// byQueue redrive_allow_policy), an SQS queue under the key (by key id,
// kms_data_key_reuse_period_seconds, a redrive_policy to the dead-letter
// queue, tags), a queue policy (inline) letting the by-ARN topic send
// (aws:SourceArn), and a raw-delivery subscription of the queue to that
// topic.
// `terraform init` installs hashicorp/aws 5.100.0 from a filesystem mirror
// only (a CLI config file with provider_installation { filesystem_mirror },
// through TF_CLI_CONFIG_FILE; nothing is downloaded), `apply`, then `plan
// -detailed-exitcode` must report no changes (exit 0: every attribute the
// provider reads back, from DescribeKey, GetKeyPolicy, GetKeyRotationStatus,
// ListResourceTags, ListAliases, GetTopicAttributes, ListTagsForResource,
// GetQueueAttributes All, ListQueueTags, GetSubscriptionAttributes, ...,
// matches what it wrote; the key policy names the account that
// data.aws_caller_identity gets from sts GetCallerIdentity), the topics
// must take messages (the SDK publishes to both) and the by-ARN topic's
// message must land raw in the queue (received with the SDK over HTTPS,
// its message attribute kept), and `destroy` must leave the key
// PendingDeletion and remove the topics, the subscription and both queues
// (GetQueueUrl: QueueDoesNotExist).
//
// The test skips (fails with CI=true), saying why, when terraform or the
// mirror is missing. The mirror is looked for in $SEALPOST_TF_MIRROR, then
// in /opt/tf-plugins and Terraform's implied local mirror directories.

// tfProvider is the provider directory a mirror must hold.
const tfProvider = "registry.terraform.io/hashicorp/aws/5.100.0"

// tfMirror returns a filesystem-mirror directory holding tfProvider for
// this platform, and the places it looked.
func tfMirror() (string, []string) {
	var dirs []string
	if d := os.Getenv("SEALPOST_TF_MIRROR"); d != "" {
		dirs = append(dirs, d)
	}
	dirs = append(dirs, "/opt/tf-plugins")
	if home, err := os.UserHomeDir(); err == nil {
		dirs = append(dirs, filepath.Join(home, ".terraform.d", "plugins"), filepath.Join(home, ".local", "share", "terraform", "plugins"))
	}
	data := os.Getenv("XDG_DATA_DIRS")
	if data == "" {
		data = "/usr/local/share:/usr/share"
	}
	for _, d := range filepath.SplitList(data) {
		dirs = append(dirs, filepath.Join(d, "terraform", "plugins"))
	}
	platform := "linux_amd64"
	if out, err := exec.Command("go", "env", "GOOS", "GOARCH").Output(); err == nil {
		if f := strings.Fields(string(out)); len(f) == 2 {
			platform = f[0] + "_" + f[1]
		}
	}
	for _, d := range dirs {
		// Unpacked layout (a directory per platform) or packed (a zip).
		if st, err := os.Stat(filepath.Join(d, tfProvider, platform)); err == nil && st.IsDir() {
			return d, dirs
		}
		if m, _ := filepath.Glob(filepath.Join(d, "registry.terraform.io/hashicorp/aws", "terraform-provider-aws_5.100.0_"+platform+".zip")); len(m) > 0 {
			return d, dirs
		}
	}
	return "", dirs
}

func TestSSETerraform(t *testing.T) {
	tf := lookTool(t, "terraform", "the Terraform CLI")
	mirror, looked := tfMirror()
	if mirror == "" {
		missingTool(t, "no filesystem mirror of %s found (looked in %s; set SEALPOST_TF_MIRROR to a directory holding registry.terraform.io/hashicorp/aws)",
			tfProvider, strings.Join(looked, ", "))
	}
	ctx := context.Background()
	p := start(t, freePort(t), filepath.Join(t.TempDir(), "data"))
	requireKMS(t, p)

	// The working directory: the config, a CLI config that installs from
	// the mirror only, and a plugin cache-free environment.
	work := t.TempDir()
	src, err := os.ReadFile(filepath.Join("testdata", "terraform", "main.tf"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(work, "main.tf"), src, 0o600); err != nil {
		t.Fatal(err)
	}
	cliConfig := filepath.Join(work, "terraform.rc")
	rc := fmt.Sprintf(`provider_installation {
  filesystem_mirror {
    path    = %q
    include = ["registry.terraform.io/hashicorp/aws"]
  }
  direct {
    exclude = ["registry.terraform.io/hashicorp/aws"]
  }
}
disable_checkpoint = true
`, mirror)
	if err := os.WriteFile(cliConfig, []byte(rc), 0o600); err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 4)
	rand.Read(b)
	prefix := "tf" + hex.EncodeToString(b)
	var env []string
	for _, kv := range clientEnv(t) {
		if !strings.HasPrefix(kv, "TF_") {
			env = append(env, kv)
		}
	}
	env = append(env,
		"TF_CLI_CONFIG_FILE="+cliConfig,
		"TF_IN_AUTOMATION=1",
		"TF_INPUT=0",
		"CHECKPOINT_DISABLE=1",
		"TF_DATA_DIR="+filepath.Join(work, ".terraform"),
		"TF_VAR_endpoint="+p.tlsURL(),
		"TF_VAR_ca_bundle="+p.caFile(),
		"TF_VAR_prefix="+prefix,
	)
	run := func(args ...string) (string, int) {
		t.Helper()
		begin := time.Now()
		out, err := runClient(t, env, tf, append([]string{"-chdir=" + work}, args...)...)
		code := 0
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			code = exit.ExitCode()
		} else if err != nil {
			t.Fatalf("terraform %s: %v\n%s", args[0], err, out)
		}
		t.Logf("terraform %s: exit %d in %s", strings.Join(args, " "), code, time.Since(begin).Round(time.Millisecond))
		return out, code
	}
	must := func(args ...string) string {
		t.Helper()
		out, code := run(args...)
		if code != 0 {
			t.Fatalf("terraform %s: exit %d\n%s\nsealpost log (last lines):\n%s", strings.Join(args, " "), code, out, tail(p.log(t), 40))
		}
		return out
	}

	must("init", "-no-color", "-input=false")
	logDurations(t, must("apply", "-no-color", "-input=false", "-auto-approve"))
	var outputs map[string]struct{ Value string }
	if err := json.Unmarshal([]byte(must("output", "-no-color", "-json")), &outputs); err != nil {
		t.Fatal(err)
	}
	keyID, keyARN := outputs["key_id"].Value, outputs["key_arn"].Value
	if outputs["account"].Value != "000000000000" {
		t.Errorf("data.aws_caller_identity (sts GetCallerIdentity): account %q, want 000000000000", outputs["account"].Value)
	}
	byAlias, byARN := outputs["topic_by_alias"].Value, outputs["topic_by_arn"].Value
	queueURL, dlqURL, subARN := outputs["queue_url"].Value, outputs["dlq_url"].Value, outputs["subscription"].Value

	// What Terraform created, as the SDK sees it.
	kc := p.kmsClient(t, p.tlsURL())
	c := p.client(t, p.tlsURL())
	rot, err := kc.GetKeyRotationStatus(ctx, &kms.GetKeyRotationStatusInput{KeyId: aws.String(keyID)})
	if err != nil || !rot.KeyRotationEnabled || aws.ToInt32(rot.RotationPeriodInDays) != 180 {
		t.Errorf("GetKeyRotationStatus: %+v, %v; want rotation on, every 180 days", rot, err)
	}
	for topic, want := range map[string]string{byAlias: "alias/" + prefix + "-orders", byARN: keyARN} {
		a, err := c.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: aws.String(topic)})
		if err != nil || a.Attributes["KmsMasterKeyId"] != want {
			t.Errorf("topic %s: KmsMasterKeyId %q, %v; want %q", topic, a.Attributes["KmsMasterKeyId"], err, want)
		}
		if _, err := c.Publish(ctx, &sns.PublishInput{
			TopicArn: aws.String(topic), Message: aws.String("hello from terraform"),
			MessageAttributes: map[string]snstypes.MessageAttributeValue{"origin": {DataType: aws.String("String"), StringValue: aws.String(topic)}},
		}); err != nil {
			t.Errorf("Publish to %s: %v", topic, err)
		}
	}

	// The queue: under the key, with its dead-letter queue, and holding the
	// by-ARN topic's message, raw (SNS sealed it under the queue's key).
	q := p.sqsClient(p.tlsURL())
	qa, err := q.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(queueURL), AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameAll}})
	if err != nil {
		t.Fatalf("GetQueueAttributes %s: %v", queueURL, err)
	}
	if a := qa.Attributes; a["KmsMasterKeyId"] != keyID || a["KmsDataKeyReusePeriodSeconds"] != "600" || a["SqsManagedSseEnabled"] != "false" {
		t.Errorf("queue %s: KmsMasterKeyId %q, KmsDataKeyReusePeriodSeconds %q, SqsManagedSseEnabled %q; want %q, 600, false",
			queueURL, a["KmsMasterKeyId"], a["KmsDataKeyReusePeriodSeconds"], a["SqsManagedSseEnabled"], keyID)
	}
	dls, err := q.ListDeadLetterSourceQueues(ctx, &sqs.ListDeadLetterSourceQueuesInput{QueueUrl: aws.String(dlqURL)})
	if err != nil || len(dls.QueueUrls) != 1 || dls.QueueUrls[0] != queueURL {
		t.Errorf("ListDeadLetterSourceQueues %s: %+v, %v; want [%s]", dlqURL, dls, err, queueURL)
	}
	rcv, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
		QueueUrl: aws.String(queueURL), MaxNumberOfMessages: 10, WaitTimeSeconds: 20,
		MessageAttributeNames: []string{"All"},
	})
	if err != nil {
		t.Fatalf("ReceiveMessage %s: %v\nsealpost log (last lines):\n%s", queueURL, err, tail(p.log(t), 40))
	}
	if len(rcv.Messages) != 1 {
		t.Fatalf("ReceiveMessage %s: %d messages, want 1 (from %s)\nsealpost log (last lines):\n%s", queueURL, len(rcv.Messages), byARN, tail(p.log(t), 40))
	}
	m := rcv.Messages[0]
	if got := aws.ToString(m.Body); got != "hello from terraform" {
		t.Errorf("queue message body %q, want the raw message", got)
	}
	if got := aws.ToString(m.MessageAttributes["origin"].StringValue); got != byARN {
		t.Errorf("queue message attribute origin %q, want %q", got, byARN)
	}
	if _, err := q.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(queueURL), ReceiptHandle: m.ReceiptHandle}); err != nil {
		t.Errorf("DeleteMessage: %v", err)
	}

	// A second plan sees no difference.
	if out, code := run("plan", "-no-color", "-input=false", "-detailed-exitcode"); code != 0 {
		t.Errorf("terraform plan after apply: exit %d, want 0 (no changes)\n%s", code, out)
	}

	logDurations(t, must("destroy", "-no-color", "-input=false", "-auto-approve"))
	md, err := kc.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(keyID)})
	if err != nil {
		t.Fatalf("DescribeKey after destroy: %v", err)
	}
	if md.KeyMetadata.KeyState != kmstypes.KeyStatePendingDeletion || md.KeyMetadata.DeletionDate == nil {
		t.Errorf("key after destroy: state %s, deletion date %v; want PendingDeletion", md.KeyMetadata.KeyState, md.KeyMetadata.DeletionDate)
	} else if days := time.Until(*md.KeyMetadata.DeletionDate).Hours() / 24; days < 6.9 || days > 7.1 {
		t.Errorf("key deletion date %v is %.2f days away, want 7 (deletion_window_in_days)", md.KeyMetadata.DeletionDate, days)
	}
	for _, topic := range []string{byAlias, byARN} {
		if _, err := c.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: aws.String(topic)}); !isCode(err, "NotFound") {
			t.Errorf("topic %s after destroy: %v, want NotFound", topic, err)
		}
	}
	if _, err := c.GetSubscriptionAttributes(ctx, &sns.GetSubscriptionAttributesInput{SubscriptionArn: aws.String(subARN)}); !isCode(err, "NotFound") {
		t.Errorf("subscription %s after destroy: %v, want NotFound", subARN, err)
	}
	for _, name := range []string{prefix + "-orders", prefix + "-orders-dlq"} {
		var gone *sqstypes.QueueDoesNotExist
		if _, err := q.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(name)}); !errors.As(err, &gone) {
			t.Errorf("queue %s after destroy: %v, want QueueDoesNotExist", name, err)
		}
	}
	al, err := kc.ListAliases(ctx, &kms.ListAliasesInput{KeyId: aws.String(keyID)})
	if err != nil || len(al.Aliases) != 0 {
		t.Errorf("aliases of the key after destroy: %+v, %v; want none", al, err)
	}
}

// logDurations logs Terraform's per-resource timings ("aws_sqs_queue.orders:
// Creation complete after 26s [id=...]") from an apply or destroy output,
// to see where the time goes.
func logDurations(t *testing.T, out string) {
	t.Helper()
	var lines []string
	for _, l := range strings.Split(out, "\n") {
		if i := strings.Index(l, " complete after "); i > 0 {
			if j := strings.Index(l, " [id="); j > i {
				l = l[:j]
			}
			lines = append(lines, l)
		}
	}
	t.Logf("resources:\n%s", strings.Join(lines, "\n"))
}
