package e2e

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
)

// TestDataDirIsPrivate starts sealpost with umask 022 on an existing data
// dir of mode 0755 that holds a world-readable file. Everything Sealpost
// creates (the embedded store's WAL, MANIFEST and sst files included) must
// be 0600 and every directory 0700; the pre-existing file is left alone but
// named in a warning.
func TestDataDirIsPrivate(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	notes := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(notes, []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(notes, 0o644); err != nil {
		t.Fatal(err)
	}
	addr := freePort(t)
	p := startShell(t, "umask 022", addr, dir)
	c := p.client(t, p.url())
	topic, err := c.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("private")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("sqs"),
		Endpoint: aws.String("arn:aws:sqs:us-east-1:000000000000:q")}); err != nil {
		t.Fatal(err)
	}
	// More than one memtable (4 MiB) of messages, so the store writes sst files.
	big := strings.Repeat("x", 200<<10)
	for i := 0; i < 30; i++ {
		if _, err := c.Publish(ctx, &sns.PublishInput{TopicArn: topic.TopicArn, Message: aws.String(fmt.Sprint(i, big))}); err != nil {
			t.Fatal(err)
		}
	}
	p.stop(t)
	log := p.log(t)
	p = startShell(t, "umask 022", addr, dir) // reopening replays and rewrites store files
	p.stop(t)

	kinds := map[string]int{}
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		switch {
		case path == notes:
			if info.Mode().Perm() != 0o644 {
				t.Errorf("%s: mode %v; a file Sealpost did not create was changed", rel, info.Mode())
			}
		case d.IsDir():
			if info.Mode().Perm() != 0o700 {
				t.Errorf("%s: mode %v, want drwx------", rel, info.Mode())
			}
		default:
			if info.Mode().Perm() != 0o600 {
				t.Errorf("%s: mode %v, want -rw-------", rel, info.Mode())
			}
			for _, k := range []string{".sst", ".log", "MANIFEST", "OPTIONS", ".pem"} {
				if strings.Contains(d.Name(), k) {
					kinds[k]++
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{".sst", ".log", "MANIFEST", "OPTIONS", ".pem"} {
		if kinds[k] == 0 {
			t.Errorf("no %s file was checked (found %v)", k, kinds)
		}
	}
	for _, want := range []string{
		`level=WARN msg="data dir was accessible to other users; its mode is now 0700" path=` + dir + ` mode=drwxr-xr-x`,
		`level=WARN msg="data dir entry is accessible to other users; restrict it (chmod go-rwx)" path=` + notes + ` mode=-rw-r--r--`,
	} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %s:\n%s", want, log)
		}
	}
	t.Logf("checked file kinds %v", kinds)
}
