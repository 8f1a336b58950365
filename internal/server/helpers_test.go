package server_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/sealpost/sealpost/internal/sigv4"
	"github.com/sealpost/sealpost/internal/testserver"
)

// signTest signs req (whose body is body) as test/test for SNS in
// us-east-1, as an SDK would.
func signTest(t testing.TB, req *http.Request, body []byte) {
	t.Helper()
	if err := sigv4.Sign(req, body, "test", "test", "", "us-east-1", "sns", time.Now()); err != nil {
		t.Fatal(err)
	}
}

func newClientF(f *testing.F) (*testserver.Server, *sns.Client) {
	srv := testserver.Start(f, testserver.Options{})
	return srv, srv.SNSClient(f, srv.URL(), "", "", "")
}

func mkTopicF(f *testing.F, c *sns.Client, name string) {
	if _, err := c.CreateTopic(context.Background(), &sns.CreateTopicInput{Name: aws.String(name)}); err != nil {
		f.Fatal(err)
	}
}
