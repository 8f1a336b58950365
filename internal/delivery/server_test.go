package delivery_test

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sns/types"

	"github.com/sealpost/sealpost/internal/testserver"
)

// received is one request a subscriber got.
type received struct {
	header http.Header
	body   []byte
	json   map[string]string
	attrs  map[string]map[string]string
}

// subscriber is a real HTTP(S) endpoint collecting deliveries.
type subscriber struct {
	mu   sync.Mutex
	got  []received
	cond chan struct{}
	srv  *httptest.Server
}

func newSubscriber(t *testing.T, useTLS bool) *subscriber {
	s := &subscriber{cond: make(chan struct{}, 1000)}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rec := received{header: r.Header.Clone(), body: b}
		var raw map[string]json.RawMessage
		if json.Unmarshal(b, &raw) == nil {
			rec.json = map[string]string{}
			for k, v := range raw {
				var s string
				if json.Unmarshal(v, &s) == nil {
					rec.json[k] = s
				}
			}
			if a, ok := raw["MessageAttributes"]; ok {
				json.Unmarshal(a, &rec.attrs)
			}
		}
		s.mu.Lock()
		s.got = append(s.got, rec)
		s.mu.Unlock()
		s.cond <- struct{}{}
	})
	if useTLS {
		s.srv = httptest.NewTLSServer(h)
	} else {
		s.srv = httptest.NewServer(h)
	}
	t.Cleanup(s.srv.Close)
	return s
}

// next waits for the next request of the given message type.
func (s *subscriber) next(t *testing.T, typ string) received {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		s.mu.Lock()
		for i, r := range s.got {
			if r.header.Get("x-amz-sns-message-type") == typ {
				s.got = append(s.got[:i], s.got[i+1:]...)
				s.mu.Unlock()
				return r
			}
		}
		s.mu.Unlock()
		select {
		case <-s.cond:
		case <-deadline:
			t.Fatalf("no %s delivery within 10s", typ)
		}
	}
}

// verify is an independent SNS signature verifier written from the AWS
// documentation: build the string to sign from the JSON body, fetch the
// certificate from SigningCertURL, check SHA1withRSA or SHA256withRSA.
func verify(t *testing.T, hc *http.Client, m map[string]string) {
	t.Helper()
	var fields []string
	switch m["Type"] {
	case "Notification":
		fields = []string{"Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"}
	case "SubscriptionConfirmation", "UnsubscribeConfirmation":
		fields = []string{"Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"}
	default:
		t.Fatalf("unknown type %q", m["Type"])
	}
	var sb strings.Builder
	for _, f := range fields {
		v, ok := m[f]
		if !ok {
			if f == "Subject" {
				continue
			}
			t.Fatalf("field %s missing", f)
		}
		sb.WriteString(f + "\n" + v + "\n")
	}
	resp, err := hc.Get(m["SigningCertURL"])
	if err != nil {
		t.Fatal(err)
	}
	pemBytes, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		t.Fatalf("no PEM at %s", m["SigningCertURL"])
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := base64.StdEncoding.DecodeString(m["Signature"])
	if err != nil {
		t.Fatal(err)
	}
	pub := cert.PublicKey.(*rsa.PublicKey)
	switch m["SignatureVersion"] {
	case "1":
		sum := sha1.Sum([]byte(sb.String()))
		err = rsa.VerifyPKCS1v15(pub, crypto.SHA1, sum[:], sig)
	case "2":
		sum := sha256.Sum256([]byte(sb.String()))
		err = rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig)
	default:
		t.Fatalf("SignatureVersion %q", m["SignatureVersion"])
	}
	if err != nil {
		t.Fatalf("signature v%s does not verify: %v", m["SignatureVersion"], err)
	}
}

func TestHTTPSubscriptionEndToEnd(t *testing.T) {
	ctx := context.Background()
	srv := testserver.Start(t, testserver.Options{})
	c := srv.SNSClient(t, srv.URL(), "", "", "")
	hc := srv.HTTPClient(t)
	topic, err := c.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("e2e")})
	if err != nil {
		t.Fatal(err)
	}
	sub := newSubscriber(t, false)
	out, err := c.Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("http"), Endpoint: aws.String(sub.srv.URL + "/a"), ReturnSubscriptionArn: true})
	if err != nil {
		t.Fatal(err)
	}
	subArn := aws.ToString(out.SubscriptionArn)

	conf := sub.next(t, "SubscriptionConfirmation")
	if conf.header.Get("x-amz-sns-topic-arn") != aws.ToString(topic.TopicArn) || conf.header.Get("User-Agent") != "Amazon Simple Notification Service Agent" ||
		conf.json["Token"] == "" || !strings.Contains(conf.json["SubscribeURL"], "Action=ConfirmSubscription") || conf.json["SignatureVersion"] != "1" {
		t.Fatalf("confirmation %v %v", conf.header, conf.json)
	}
	verify(t, hc, conf.json)
	// confirm by visiting the SubscribeURL (served by Sealpost)
	resp, err := hc.Get(conf.json["SubscribeURL"])
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("SubscribeURL: %v %v", resp, err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "<ConfirmSubscriptionResult><SubscriptionArn>"+subArn) {
		t.Fatalf("SubscribeURL answer %s", body)
	}
	ga, _ := c.GetSubscriptionAttributes(ctx, &sns.GetSubscriptionAttributesInput{SubscriptionArn: &subArn})
	if ga.Attributes["PendingConfirmation"] != "false" {
		t.Fatalf("still pending: %v", ga.Attributes)
	}

	// Notification with subject and attributes, signature version 1
	pub, err := c.Publish(ctx, &sns.PublishInput{TopicArn: topic.TopicArn, Message: aws.String("hello <world> & you"), Subject: aws.String("Greetings"),
		MessageAttributes: map[string]types.MessageAttributeValue{
			"color": {DataType: aws.String("String"), StringValue: aws.String("blue")},
			"bin":   {DataType: aws.String("Binary"), BinaryValue: []byte("raw")},
		}})
	if err != nil {
		t.Fatal(err)
	}
	n := sub.next(t, "Notification")
	want := map[string]string{"Type": "Notification", "MessageId": aws.ToString(pub.MessageId), "TopicArn": aws.ToString(topic.TopicArn),
		"Subject": "Greetings", "Message": "hello <world> & you", "SignatureVersion": "1"}
	for k, v := range want {
		if n.json[k] != v {
			t.Fatalf("%s = %q, want %q", k, n.json[k], v)
		}
	}
	if !strings.Contains(string(n.body), "hello <world> & you") {
		t.Fatalf("body escapes HTML: %s", n.body)
	}
	if _, err := time.Parse("2006-01-02T15:04:05.000Z", n.json["Timestamp"]); err != nil {
		t.Fatalf("Timestamp %q", n.json["Timestamp"])
	}
	if n.header.Get("x-amz-sns-message-id") != aws.ToString(pub.MessageId) || n.header.Get("x-amz-sns-subscription-arn") != subArn ||
		n.header.Get("Content-Type") != "text/plain; charset=UTF-8" {
		t.Fatalf("headers %v", n.header)
	}
	if n.attrs["color"]["Type"] != "String" || n.attrs["color"]["Value"] != "blue" || n.attrs["bin"]["Value"] != base64.StdEncoding.EncodeToString([]byte("raw")) {
		t.Fatalf("MessageAttributes %v", n.attrs)
	}
	if !strings.Contains(n.json["UnsubscribeURL"], "Action=Unsubscribe") {
		t.Fatalf("UnsubscribeURL %q", n.json["UnsubscribeURL"])
	}
	verify(t, hc, n.json)

	// signature version 2
	c.SetTopicAttributes(ctx, &sns.SetTopicAttributesInput{TopicArn: topic.TopicArn, AttributeName: aws.String("SignatureVersion"), AttributeValue: aws.String("2")})
	c.Publish(ctx, &sns.PublishInput{TopicArn: topic.TopicArn, Message: aws.String("v2")})
	n = sub.next(t, "Notification")
	if n.json["SignatureVersion"] != "2" {
		t.Fatalf("SignatureVersion %q", n.json["SignatureVersion"])
	}
	verify(t, hc, n.json)

	// MessageStructure=json: the http key wins over default
	c.Publish(ctx, &sns.PublishInput{TopicArn: topic.TopicArn, MessageStructure: aws.String("json"), Message: aws.String(`{"default":"d","http":"for http","sqs":"s"}`)})
	n = sub.next(t, "Notification")
	if n.json["Message"] != "for http" {
		t.Fatalf("structured message %q", n.json["Message"])
	}
	verify(t, hc, n.json)

	// raw delivery
	c.SetSubscriptionAttributes(ctx, &sns.SetSubscriptionAttributesInput{SubscriptionArn: &subArn, AttributeName: aws.String("RawMessageDelivery"), AttributeValue: aws.String("true")})
	c.Publish(ctx, &sns.PublishInput{TopicArn: topic.TopicArn, Message: aws.String(`{"raw":true}`)})
	n = sub.next(t, "Notification")
	if string(n.body) != `{"raw":true}` || n.header.Get("x-amz-sns-rawdelivery") != "true" {
		t.Fatalf("raw body %q headers %v", n.body, n.header)
	}

	// UnsubscribeURL: unsubscribes and sends an UnsubscribeConfirmation
	c.SetSubscriptionAttributes(ctx, &sns.SetSubscriptionAttributesInput{SubscriptionArn: &subArn, AttributeName: aws.String("RawMessageDelivery"), AttributeValue: aws.String("false")})
	c.Publish(ctx, &sns.PublishInput{TopicArn: topic.TopicArn, Message: aws.String("last")})
	n = sub.next(t, "Notification")
	resp, err = hc.Get(n.json["UnsubscribeURL"])
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("UnsubscribeURL: %v %v", resp, err)
	}
	resp.Body.Close()
	uc := sub.next(t, "UnsubscribeConfirmation")
	verify(t, hc, uc.json)
	_, err = c.GetSubscriptionAttributes(ctx, &sns.GetSubscriptionAttributesInput{SubscriptionArn: &subArn})
	if err == nil {
		t.Fatalf("subscription still exists after UnsubscribeURL")
	}
}

func TestConfirmViaAPIAndHTTPS(t *testing.T) {
	ctx := context.Background()
	sub := newSubscriber(t, true)
	// trust the subscriber's self-signed certificate
	caFile := filepath.Join(t.TempDir(), "subscriber-ca.pem")
	os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: sub.srv.Certificate().Raw}), 0o600)
	srv := testserver.Start(t, testserver.Options{Args: []string{"--subscriber-ca", caFile}})
	c := srv.SNSClient(t, srv.TLSURL(), "", "", "")
	topic, _ := c.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("tls")})
	if _, err := c.Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("https"), Endpoint: aws.String(sub.srv.URL + "/x")}); err != nil {
		t.Fatal(err)
	}
	conf := sub.next(t, "SubscriptionConfirmation")
	out, err := c.ConfirmSubscription(ctx, &sns.ConfirmSubscriptionInput{TopicArn: topic.TopicArn, Token: aws.String(conf.json["Token"]), AuthenticateOnUnsubscribe: aws.String("true")})
	if err != nil {
		t.Fatal(err)
	}
	ga, _ := c.GetSubscriptionAttributes(ctx, &sns.GetSubscriptionAttributesInput{SubscriptionArn: out.SubscriptionArn})
	if ga.Attributes["PendingConfirmation"] != "false" || ga.Attributes["ConfirmationWasAuthenticated"] != "true" {
		t.Fatalf("attrs %v", ga.Attributes)
	}
	c.Publish(ctx, &sns.PublishInput{TopicArn: topic.TopicArn, Message: aws.String("over https")})
	n := sub.next(t, "Notification")
	if n.json["Message"] != "over https" {
		t.Fatalf("message %q", n.json["Message"])
	}
	// AuthenticateOnUnsubscribe: the unsigned UnsubscribeURL is refused
	resp, err := srv.HTTPClient(t).Get(n.json["UnsubscribeURL"])
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 403 {
		t.Fatalf("unsigned unsubscribe of an authenticated subscription: %d", resp.StatusCode)
	}

	// an HTTPS endpoint whose certificate is not trusted never gets the message
	untrusted := newSubscriber(t, true)
	srv2 := testserver.Start(t, testserver.Options{})
	c2 := srv2.SNSClient(t, srv2.URL(), "", "", "")
	t2, _ := c2.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("untrusted")})
	sa, _ := c2.Subscribe(ctx, &sns.SubscribeInput{TopicArn: t2.TopicArn, Protocol: aws.String("https"), Endpoint: aws.String(untrusted.srv.URL), ReturnSubscriptionArn: true})
	time.Sleep(300 * time.Millisecond)
	untrusted.mu.Lock()
	n2 := len(untrusted.got)
	untrusted.mu.Unlock()
	if n2 != 0 {
		t.Fatalf("untrusted endpoint received %d requests", n2)
	}
	if st := srv2.Delivery().Stats(aws.ToString(sa.SubscriptionArn)); st.Delivered != 0 {
		t.Fatalf("stats %+v", st)
	}
}

// FuzzSubscribeURL throws arbitrary query strings at the GET handler that
// serves SubscribeURL and UnsubscribeURL: never a panic or a 5xx.
func FuzzSubscribeURL(f *testing.F) {
	f.Add("Action=ConfirmSubscription&TopicArn=arn:aws:sns:us-east-1:000000000000:t&Token=abc")
	f.Add("Action=Unsubscribe&SubscriptionArn=arn:aws:sns:us-east-1:000000000000:t:0b1c")
	f.Add("Action=ConfirmSubscription&TopicArn=%ff&Token=")
	srv := testserver.Start(f, testserver.Options{})
	c := srv.SNSClient(f, srv.URL(), "", "", "")
	c.CreateTopic(context.Background(), &sns.CreateTopicInput{Name: aws.String("t")})
	hc := srv.HTTPClient(f)
	f.Fuzz(func(t *testing.T, q string) {
		req, err := http.NewRequest("GET", srv.URL()+"/", nil)
		if err != nil {
			return
		}
		req.URL.RawQuery = q
		resp, err := hc.Do(req)
		if err != nil {
			return // the client refused to send it
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode >= 500 {
			t.Fatalf("%d for %q: %s", resp.StatusCode, q, b)
		}
	})
}

var _ = fmt.Sprint
