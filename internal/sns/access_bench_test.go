package sns

import (
	"net/netip"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/policy"
	"github.com/sealpost/sealpost/internal/store"
)

// BenchmarkPublishAccessCheck measures the policy check Publish makes on a
// cached topic: the compiled topic policy and the caller's identity policy
// evaluated with policy.Decide (no JSON is parsed per request).
func BenchmarkPublishAccessCheck(b *testing.B) {
	const topic = "arn:aws:sns:us-east-1:111111111111:orders"
	t := store.Topic{ARN: topic, Account: "111111111111"}
	var doc = DefaultPolicy(t)
	for _, grant := range []struct{ sid, acct string }{{"a", "222222222222"}, {"b", "333333333333"}, {"c", "444444444444"}} {
		out, err := policy.AddStatement([]byte(doc), []byte(`{"Sid":"`+grant.sid+`","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::`+
			grant.acct+`:root"},"Action":["SNS:Publish","SNS:Subscribe"],"Resource":"`+topic+`"}`), topicPolicyOptions)
		if err != nil {
			b.Fatal(err)
		}
		doc = string(out)
	}
	doc2, err := policy.AddStatement([]byte(doc), []byte(`{"Sid":"tls","Effect":"Deny","Principal":"*","Action":"sns:*","Resource":"`+
		topic+`","Condition":{"Bool":{"aws:SecureTransport":"false"}}}`), topicPolicyOptions)
	if err != nil {
		b.Fatal(err)
	}
	topicPol := compileTopicPolicy(string(doc2))
	if topicPol == nil {
		b.Fatal("policy did not compile")
	}
	idPol, err := policy.ParseWith([]byte(`{"Version":"2012-10-17","Statement":[`+
		`{"Effect":"Allow","Action":["sns:Publish","sns:Subscribe"],"Resource":"arn:aws:sns:*:*:orders*"},`+
		`{"Effect":"Deny","Action":"sns:DeleteTopic","Resource":"*"}]}`), policy.Options{Kind: policy.IdentityPolicy})
	if err != nil {
		b.Fatal(err)
	}
	s := New(nil, Options{Now: func() time.Time { return time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC) }})
	ip := netip.MustParseAddr("10.1.2.3")
	for _, bc := range []struct {
		name string
		c    Caller
		pol  *policy.Policy
	}{
		{"owner/no-policies", Caller{Account: "111111111111", Principal: "arn:aws:iam::111111111111:root", Secure: true, SourceIP: ip}, nil},
		{"owner/topic-policy", Caller{Account: "111111111111", Principal: "arn:aws:iam::111111111111:root", Secure: true, SourceIP: ip}, topicPol},
		{"cross-account/user-with-identity-policy", Caller{Account: "444444444444", Principal: "arn:aws:iam::444444444444:user/u",
			Secure: true, SourceIP: ip, IdentityPolicy: idPol}, topicPol},
	} {
		b.Run(bc.name, func(b *testing.B) {
			c := bc.c
			if err := s.authorizeTopic(&c, actPublish, topic, t.Account, bc.pol, nil); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if err := s.authorizeTopic(&c, actPublish, topic, t.Account, bc.pol, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
