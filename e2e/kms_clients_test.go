package e2e

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/smithy-go"
)

// The KMS client scripts (scripts/kms_cli.sh for the aws CLI,
// scripts/kms_boto3.py for boto3) walk a key through its life: create with
// description and tags, alias, encrypt a file with an encryption context and
// decrypt it without KeyId, a wrong context refused, data keys, rotation on
// demand with the old ciphertext still decrypting, disable / schedule
// deletion / cancel with the error codes of each state, key policy and a
// grant. Each test starts one sealpost; boto3 runs over plain HTTP and over
// HTTPS with the generated CA (per-run alias prefixes let the runs share the
// server), the aws CLI over HTTPS. Both scripts also run against moto_server with
// KMS_TARGET=moto, which relaxes what moto does not implement; here the
// variable is removed so that every check is strict.

// kmsClientEnv is clientEnv without KMS_TARGET.
func kmsClientEnv(t *testing.T) []string {
	var env []string
	for _, kv := range clientEnv(t) {
		if !strings.HasPrefix(kv, "KMS_TARGET=") {
			env = append(env, kv)
		}
	}
	return env
}

// kmsClient is an aws-sdk-go-v2 KMS client for p at endpoint (HTTPS trusts
// p's generated CA), without retries.
func (p *proc) kmsClient(t testing.TB, endpoint string) *kms.Client {
	pool := x509.NewCertPool()
	if pem, err := os.ReadFile(p.caFile()); err == nil {
		pool.AppendCertsFromPEM(pem)
	}
	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, MaxIdleConnsPerHost: 64}}
	return kms.NewFromConfig(aws.Config{
		Region:           "us-east-1",
		Credentials:      credentials.NewStaticCredentialsProvider("test", "test", ""),
		HTTPClient:       hc,
		BaseEndpoint:     aws.String(endpoint),
		RetryMaxAttempts: 1,
	})
}

// requireKMS skips the test (fails it in CI) when the binary does not serve
// the KMS API yet (UnknownOperationException from the front door), so the
// KMS end-to-end tests can land before the KMS itself.
func requireKMS(t *testing.T, p *proc) {
	t.Helper()
	_, err := p.kmsClient(t, p.url()).GenerateRandom(context.Background(), &kms.GenerateRandomInput{NumberOfBytes: aws.Int32(8)})
	var ae smithy.APIError
	if errors.As(err, &ae) && ae.ErrorCode() == "UnknownOperationException" {
		missingTool(t, "this sealpost does not serve KMS yet: %s", ae.ErrorMessage())
	}
	if err != nil {
		t.Fatalf("GenerateRandom: %v", err)
	}
}

func TestKMSBoto3(t *testing.T) {
	python := lookTool(t, "python3", "needed for the boto3 client")
	env := kmsClientEnv(t)
	if out, err := runClient(t, env, python, "-c", "import boto3, botocore; boto3.client('kms', region_name='us-east-1').rotate_key_on_demand"); err != nil {
		missingTool(t, "boto3 with KMS RotateKeyOnDemand is not importable by %s: %v\n%s", python, err, out)
	}
	p := start(t, freePort(t), filepath.Join(t.TempDir(), "data"))
	requireKMS(t, p)
	t.Run("http", func(t *testing.T) {
		runScript(t, p, env, "kms-boto3", python, "kms_boto3.py", p.url())
	})
	t.Run("https", func(t *testing.T) {
		runScript(t, p, env, "kms-boto3", python, "kms_boto3.py", p.tlsURL(), p.caFile())
	})
}

func TestKMSAWSCLI(t *testing.T) {
	bash := lookTool(t, "bash", "runs the aws CLI script")
	lookTool(t, "python3", "the aws CLI script parses JSON with it")
	aws := lookTool(t, "aws", "the aws CLI")
	env := kmsClientEnv(t)
	if out, err := runClient(t, env, aws, "kms", "rotate-key-on-demand", "help"); err != nil {
		missingTool(t, "this aws CLI has no kms rotate-key-on-demand (too old?): %v\n%s", err, tail(out, 5))
	}
	p := start(t, freePort(t), filepath.Join(t.TempDir(), "data"))
	requireKMS(t, p)
	// HTTPS only: each aws invocation starts a Python interpreter (about a
	// second on a busy machine, ~75 of them), and plain HTTP through the same
	// botocore is covered by TestKMSBoto3.
	runScript(t, p, env, "kms-cli", bash, "kms_cli.sh", p.tlsURL(), p.caFile())
}
