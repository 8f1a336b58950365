package policy_test

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/sealpost/sealpost/internal/policy"
)

// A topic policy that lets account 444455556666 publish, over HTTPS only,
// checked for a caller from that account who has no identity policy.
func Example() {
	topic, err := policy.ParseWith([]byte(`{
	  "Version": "2012-10-17",
	  "Statement": [
	    {"Sid": "b-publish", "Effect": "Allow",
	     "Principal": {"AWS": "arn:aws:iam::444455556666:root"},
	     "Action": "sns:Publish",
	     "Resource": "arn:aws:sns:us-east-1:111122223333:orders"},
	    {"Sid": "https-only", "Effect": "Deny", "Principal": "*", "Action": "sns:*",
	     "Resource": "*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
	  ]}`), policy.Options{Kind: policy.ResourcePolicy, MaxBytes: 30 << 10, MaxStatements: 100, MaxPrincipals: 200})
	if err != nil {
		fmt.Println("Invalid parameter: Policy Error: " + err.Error())
		return
	}
	req := &policy.Request{
		Principal:       policy.Principal{Account: "444455556666", ARN: "arn:aws:iam::444455556666:user/bob"},
		Action:          "sns:Publish",
		Resource:        "arn:aws:sns:us-east-1:111122223333:orders",
		SourceIP:        netip.MustParseAddr("198.51.100.7"),
		SecureTransport: true,
		Time:            time.Now(),
	}
	resource := topic.Evaluate(req)
	identity := policy.Allow // bob has no identity policy: the development default
	fmt.Println(resource, policy.Decide(identity, resource, false))

	req.SecureTransport = false
	resource = topic.Evaluate(req)
	fmt.Println(resource, policy.Decide(identity, resource, false))

	_, err = policy.Parse([]byte(`{"Statement":{"Sid":"x","Effect":"allow","Principal":"*","Action":"*","Resource":"*"}}`))
	fmt.Println("Invalid parameter: Policy Error: " + err.Error())
	// Output:
	// AllowAccount true
	// Deny false
	// Invalid parameter: Policy Error: Statement[0] (Sid "x"): invalid Effect "allow": must be "Allow" or "Deny"
}
