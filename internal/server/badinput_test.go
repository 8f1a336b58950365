package server_test

import (
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
)

type errorResponse struct {
	XMLName xml.Name `xml:"ErrorResponse"`
	Error   struct {
		Type, Code, Message string
	}
	RequestID string `xml:"RequestId"`
}

func rawPost(t *testing.T, hc *http.Client, endpoint, contentType, body string) (int, errorResponse, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", endpoint+"/", strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	signTest(t, req, []byte(body))
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var er errorResponse
	xml.Unmarshal(b, &er)
	return resp.StatusCode, er, string(b)
}

func TestBadInputGetsAWSErrors(t *testing.T) {
	srv, c := newClient(t)
	hc := srv.HTTPClient(t)
	arn := mkTopic(t, c, "bad")
	form := "application/x-www-form-urlencoded"
	manyAttrs := func(n int) string {
		var b strings.Builder
		b.WriteString("Action=Publish&TopicArn=" + url.QueryEscape(arn) + "&Message=m")
		for i := 1; i <= n; i++ {
			fmt.Fprintf(&b, "&MessageAttributes.entry.%d.Name=a%d&MessageAttributes.entry.%d.Value.DataType=String&MessageAttributes.entry.%d.Value.StringValue=v", i, i, i, i)
		}
		return b.String()
	}
	cases := []struct {
		name, ct, body string
		status         int
		code           string
	}{
		{"no action", form, "Version=2010-03-31", 400, "MissingAction"},
		{"unknown action", form, "Action=Explode", 400, "InvalidAction"},
		{"malformed form", form, "Action=ListTopics&%zz=1", 400, "MalformedQueryString"},
		{"json body", "application/json", `{"Action":"ListTopics"}`, 400, "InvalidParameter"},
		{"missing topic arn", form, "Action=Publish&Message=x", 400, "InvalidParameter"},
		{"bad member index", form, "Action=CreateTopic&Name=x&Tags.member.0.Key=a", 400, "InvalidParameter"},
		{"huge member index", form, "Action=CreateTopic&Name=x&Tags.member.99999999999999999999.Key=a", 400, "InvalidParameter"},
		{"map without key", form, "Action=CreateTopic&Name=x&Attributes.entry.1.value=a", 400, "InvalidParameter"},
		{"invalid name", form, "Action=CreateTopic&Name=" + url.QueryEscape("a/b"), 400, "InvalidParameter"},
		{"1 MiB message", form, "Action=Publish&TopicArn=" + url.QueryEscape(arn) + "&Message=" + strings.Repeat("x", 1<<20), 400, "InvalidParameter"},
		{"10000 attributes", form, manyAttrs(10000), 400, "MalformedQueryString"}, // over the 10,000-parameter form limit
		{"200 attributes", form, manyAttrs(200), 400, "ParameterValueInvalid"},
		{"5 MiB body", form, "Action=Publish&Message=" + strings.Repeat("x", 5<<20), 413, "RequestEntityTooLarge"},
		{"NUL in a name", form, "Action=CreateTopic&Name=a%00b", 400, "InvalidParameter"},
		{"NUL in an attribute", form, "Action=SetTopicAttributes&TopicArn=" + url.QueryEscape(arn) + "&AttributeName=DisplayName&AttributeValue=a%00b", 400, "InvalidParameter"},
		{"NUL in a tag", form, "Action=TagResource&ResourceArn=" + url.QueryEscape(arn) + "&Tags.member.1.Key=k&Tags.member.1.Value=%00", 400, "InvalidParameter"},
		{"NUL in an sqs endpoint", form, "Action=Subscribe&TopicArn=" + url.QueryEscape(arn) + "&Protocol=sqs&Endpoint=arn:aws:sqs:us-east-1:000000000000:q%00", 400, "InvalidParameter"},
		{"invalid UTF-8 in an attribute", form, "Action=SetTopicAttributes&TopicArn=" + url.QueryEscape(arn) + "&AttributeName=DisplayName&AttributeValue=%ff", 400, "InvalidParameter"},
		{"binary garbage", form, "Action=Publish&TopicArn=" + url.QueryEscape(arn) + "&Message=%ff%fe", 400, "InvalidParameter"},
		{"bad base64", form, "Action=Publish&TopicArn=" + url.QueryEscape(arn) + "&Message=m&MessageAttributes.entry.1.Name=b&MessageAttributes.entry.1.Value.DataType=Binary&MessageAttributes.entry.1.Value.BinaryValue=***", 400, "ParameterValueInvalid"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, er, raw := rawPost(t, hc, srv.URL(), tc.ct, tc.body)
			if status != tc.status || er.Error.Code != tc.code {
				if len(raw) > 300 {
					raw = raw[:300]
				}
				t.Fatalf("got %d %q (%s), want %d %s", status, er.Error.Code, raw, tc.status, tc.code)
			}
			if er.RequestID == "" || er.Error.Type != "Sender" || er.Error.Message == "" {
				t.Fatalf("incomplete error %+v", er)
			}
		})
	}
}

func TestHTTPSAndHealth(t *testing.T) {
	ctx := context.Background()
	srv, _ := newClient(t)
	tc := srv.SNSClient(t, srv.TLSURL(), "", "", "")
	out, err := tc.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("secure")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tc.Publish(ctx, &sns.PublishInput{TopicArn: out.TopicArn, Message: aws.String("over tls")}); err != nil {
		t.Fatal(err)
	}
	resp, err := srv.HTTPClient(t).Get(srv.TLSURL() + "/health")
	if err != nil || resp.StatusCode != 200 || resp.TLS == nil {
		t.Fatalf("health over TLS: %v %v", resp, err)
	}
	resp.Body.Close()
	// a client that does not trust the CA fails the handshake
	plain := &http.Client{Timeout: 5 * time.Second}
	if _, err := plain.Get(srv.TLSURL() + "/health"); err == nil {
		t.Fatalf("untrusted TLS accepted")
	}
}

// FuzzSNSForm throws arbitrary form bodies at the full SNS handler: no
// panic, no 5xx.
func FuzzSNSForm(f *testing.F) {
	for _, s := range []string{
		"Action=CreateTopic&Name=t",
		"Action=Publish&TopicArn=arn:aws:sns:us-east-1:000000000000:t&Message=m&MessageAttributes.entry.1.Name=a&MessageAttributes.entry.1.Value.DataType=Number&MessageAttributes.entry.1.Value.StringValue=1",
		"Action=PublishBatch&TopicArn=arn:aws:sns:us-east-1:000000000000:t&PublishBatchRequestEntries.member.1.Id=a&PublishBatchRequestEntries.member.1.Message=m",
		"Action=Subscribe&TopicArn=arn:aws:sns:us-east-1:000000000000:t&Protocol=sqs&Endpoint=arn:aws:sqs:us-east-1:000000000000:q&Attributes.entry.1.key=FilterPolicy&Attributes.entry.1.value={}",
		"Action=SetSubscriptionAttributes&SubscriptionArn=arn:aws:sns:us-east-1:000000000000:t:x&AttributeName=FilterPolicy&AttributeValue={\"a\":[1]}",
		"Action=TagResource&ResourceArn=arn:aws:sns:us-east-1:000000000000:t&Tags.member.1.Key=k&Tags.member.1.Value=v",
		"Action=AddPermission&TopicArn=arn:aws:sns:us-east-1:000000000000:t&Label=l&AWSAccountId.member.1=111111111111&ActionName.member.1=Publish",
	} {
		f.Add(s)
	}
	srv, c := newClientF(f)
	mkTopicF(f, c, "t")
	hc := srv.HTTPClient(f)
	f.Fuzz(func(t *testing.T, body string) {
		req, _ := http.NewRequest("POST", srv.URL()+"/", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		signTest(t, req, []byte(body))
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode >= 500 {
			t.Fatalf("status %d for %q: %s", resp.StatusCode, body, b)
		}
	})
}

func TestMetrics(t *testing.T) {
	srv, c := newClient(t)
	arn := mkTopic(t, c, "metered")
	c.Publish(context.Background(), &sns.PublishInput{TopicArn: &arn, Message: aws.String("m")})
	c.GetTopicAttributes(context.Background(), &sns.GetTopicAttributesInput{TopicArn: aws.String(arn + "-missing")})
	resp, err := srv.HTTPClient(t).Get(srv.URL() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`sealpost_requests_total{action="Publish",service="sns",status="200"} 1`,
		`sealpost_requests_total{action="GetTopicAttributes",service="sns",status="404"} 1`,
		`sealpost_deliveries_total{outcome="delivered"}`,
	} {
		if !strings.Contains(string(b), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}
