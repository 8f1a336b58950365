package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
)

// auditCounts counts the GenerateDataKey and Decrypt records of the audit
// log in dataDir/audit whose encryption context names topic: GenerateDataKey
// by any principal (and the principals), Decrypt by SNS
// (invokedBy sns.amazonaws.com), failed calls apart.
type auditCounts struct {
	gdk, decrypt, failed, other int
	publishers                  map[string]bool
}

func readAuditCounts(t *testing.T, dataDir, topic string) auditCounts {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dataDir, "audit", "*.log"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no audit log in %s: %v", dataDir, err)
	}
	c := auditCounts{publishers: map[string]bool{}}
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var r struct {
				EventName    string `json:"eventName"`
				ErrorCode    string `json:"errorCode"`
				UserIdentity struct {
					Type      string `json:"type"`
					ARN       string `json:"arn"`
					InvokedBy string `json:"invokedBy"`
				} `json:"userIdentity"`
				RequestParameters struct {
					EncryptionContext map[string]string `json:"encryptionContext"`
				} `json:"requestParameters"`
			}
			if json.Unmarshal(sc.Bytes(), &r) != nil || r.RequestParameters.EncryptionContext["aws:sns:topicArn"] != topic {
				continue
			}
			switch {
			case r.ErrorCode != "":
				c.failed++
			case r.EventName == "GenerateDataKey":
				c.gdk++
				c.publishers[r.UserIdentity.ARN] = true
			case r.EventName == "Decrypt" && r.UserIdentity.InvokedBy == "sns.amazonaws.com":
				c.decrypt++
			default:
				c.other++
			}
		}
		fh.Close()
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

// TestSSEAuditCounts publishes 10,000 messages with one publisher to one
// SSE topic over HTTPS (16 concurrent PublishBatch calls of 10, keep-alive)
// within AWS's 5-minute data key reuse period, and waits until a signature-
// verifying HTTP subscriber has received all of them. The audit log then
// holds one GenerateDataKey (by the publisher) and a handful of Decrypts
// (by SNS: invokedBy sns.amazonaws.com), not one per message, and no
// failed call; `sealpost kms usage --data-dir` prints the same counts for
// the topic, with P = 1 and, over a 300 s period, AWS's estimate R = 2.
func TestSSEAuditCounts(t *testing.T) {
	const total, batch, workers = 10000, 10, 16
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "data")
	p := start(t, freePort(t), dir)
	logOnFailure(t, p)
	u := sseClients(p, p.tlsURL(), "test", "test")
	sub := newSSESub(t, p)
	k, err := u.kms.CreateKey(ctx, &kms.CreateKeyInput{Description: aws.String("audit counts")})
	if err != nil {
		t.Fatal(err)
	}
	topic := sseTopic(t, u, sub, "sse-audit", aws.ToString(k.KeyMetadata.Arn), nil)

	begin := time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				b := int(next.Add(1)) - 1
				if b >= total/batch {
					return
				}
				entries := make([]snstypes.PublishBatchRequestEntry, batch)
				for i := range entries {
					entries[i] = snstypes.PublishBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), Message: aws.String(fmt.Sprintf("audit-%05d", b*batch+i))}
				}
				out, err := u.sns.PublishBatch(ctx, &sns.PublishBatchInput{TopicArn: aws.String(topic), PublishBatchRequestEntries: entries})
				if err == nil && len(out.Failed) > 0 {
					err = fmt.Errorf("PublishBatch: %d entries failed, first %s: %s", len(out.Failed), aws.ToString(out.Failed[0].Code), aws.ToString(out.Failed[0].Message))
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	published := time.Since(begin)
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if published > 5*time.Minute {
		t.Fatalf("publishing %d messages took %s, longer than the 5-minute reuse period this test is about", total, published)
	}
	sub.wait(t, 3*time.Minute, fmt.Sprintf("%d messages delivered", total), func() bool { return sub.distinct() >= total })
	delivered := time.Since(begin)
	for i := 0; i < total; i++ {
		if sub.count(fmt.Sprintf("audit-%05d", i)) == 0 {
			t.Fatalf("audit-%05d not delivered", i)
		}
	}
	t.Logf("%d messages: published in %s (%.0f/s), all delivered and verified after %s", total, published.Round(time.Millisecond),
		float64(total)/published.Seconds(), delivered.Round(time.Millisecond))

	c := readAuditCounts(t, dir, topic)
	t.Logf("audit log for %s: %d GenerateDataKey (publishers %v), %d Decrypt by sns.amazonaws.com, %d failed, %d other", topic, c.gdk, c.publishers, c.decrypt, c.failed, c.other)
	if c.gdk != 1 || len(c.publishers) != 1 {
		t.Errorf("want 1 GenerateDataKey by the one publisher, got %d by %v", c.gdk, c.publishers)
	}
	if c.decrypt < 1 || c.decrypt > 3 {
		t.Errorf("want a handful (1-3) of Decrypts by SNS for one data key on one node, got %d", c.decrypt)
	}
	if c.failed != 0 || c.other != 0 {
		t.Errorf("want no failed or other KMS calls with the topic's context, got %d failed, %d other", c.failed, c.other)
	}

	// --period 300: the billing period B is one reuse period D, so AWS's
	// estimate R = B / D * (2 * P) is 2 for one publisher, which is what
	// was measured (one GenerateDataKey, one Decrypt).
	out, err := exec.Command(binary, "kms", "usage", "--data-dir", dir, "--period", "300").CombinedOutput()
	if err != nil {
		t.Fatalf("sealpost kms usage: %v\n%s", err, out)
	}
	t.Logf("sealpost kms usage:\n%s", out)
	var row []string
	for _, l := range strings.Split(string(out), "\n") {
		if f := strings.Fields(l); len(f) >= 8 && f[0] == topic {
			row = f
			break
		}
	}
	// TOPIC KEY P GENERATEDATAKEY DECRYPT FAILED MEASURED ESTIMATE
	if row == nil {
		t.Fatalf("kms usage has no row for %s", topic)
	}
	want := []string{topic, aws.ToString(k.KeyMetadata.Arn), "1", strconv.Itoa(c.gdk), strconv.Itoa(c.decrypt), "0", strconv.Itoa(c.gdk + c.decrypt), "2.0"}
	for i, w := range want {
		if row[i] != w {
			t.Errorf("kms usage row %v: column %d is %q, the audit log says %q", row, i+1, row[i], w)
		}
	}
}
