package server_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/sealpost/sealpost/internal/testserver"
)

func newClientF(f *testing.F) (*testserver.Server, *sns.Client) {
	srv := testserver.Start(f, testserver.Options{})
	return srv, srv.SNSClient(f, srv.URL(), "", "", "")
}

func mkTopicF(f *testing.F, c *sns.Client, name string) {
	if _, err := c.CreateTopic(context.Background(), &sns.CreateTopicInput{Name: aws.String(name)}); err != nil {
		f.Fatal(err)
	}
}
