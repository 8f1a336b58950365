package policy

import (
	"encoding/json"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"
)

var fuzzSeeds = []string{
	defaultTopicPolicy,
	`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"sns:Publish","Resource":"arn:aws:sns:*:${aws:PrincipalAccount}:${aws:username}-*"}}`,
	`{"Statement":[{"Effect":"Deny","NotPrincipal":{"AWS":["111122223333","arn:aws:iam::444455556666:user/bob"]},"NotAction":"sns:Get*","NotResource":"arn:aws:sns:*:*:t?"}]}`,
	`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"Service":"sns.amazonaws.com"},"Action":"*","Resource":"*","Condition":{"ForAllValues:StringLike":{"k":["a*","${x}"]},"ForAnyValue:NumericLessThanIfExists":{"n":[1,"2"]},"Null":{"z":true},"IpAddress":{"aws:SourceIp":["10.0.0.0/8","2001:db8::/32"]},"DateGreaterThan":{"aws:CurrentTime":"2020-01-01"},"ArnLike":{"aws:SourceArn":"arn:aws:sns:*:*:*"},"Bool":{"aws:SecureTransport":"true"},"StringNotEqualsIgnoreCase":{"aws:username":"X"}}}}`,
	`{"Statement":null}`,
	`{"Statement":[{"Sid":"a"},{"Sid":"a"}]}`,
}

func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		p, err := Parse(doc)
		if err != nil {
			if p != nil {
				t.Fatal("policy returned with an error")
			}
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v does not match ErrInvalid", err)
			}
			if n := len(err.Error()); n == 0 || n > 600 {
				t.Fatalf("error text of %d bytes: %q", n, err)
			}
			return
		}
		if !json.Valid(doc) {
			t.Fatalf("accepted invalid JSON %q", doc)
		}
		if p.Len() == 0 {
			t.Fatal("accepted a policy without statements")
		}
		seen := map[string]bool{}
		for _, sid := range p.Sids() {
			if sid != "" && seen[sid] {
				t.Fatalf("duplicate Sid %q accepted", sid)
			}
			seen[sid] = true
		}
		// Parsing is deterministic: a second parse decides the same.
		q, err := Parse(doc)
		if err != nil {
			t.Fatalf("second parse failed: %v", err)
		}
		for _, req := range fuzzRequests() {
			if a, b := p.Evaluate(req), q.Evaluate(req); a != b {
				t.Fatalf("two parses disagree: %v vs %v", a, b)
			}
		}
		// Removing a statement by Sid leaves a valid policy without it.
		for _, sid := range p.Sids() {
			if sid == "" {
				continue
			}
			out, removed, remaining, err := RemoveStatement(doc, sid, Options{})
			if err != nil || removed != 1 || remaining != p.Len()-1 {
				t.Fatalf("RemoveStatement(%q): removed %d remaining %d err %v", sid, removed, remaining, err)
			}
			if remaining > 0 {
				r, err := Parse(out)
				if err != nil || r.HasSid(sid) || r.Len() != remaining {
					t.Fatalf("after RemoveStatement(%q): %s: %v", sid, out, err)
				}
			}
			break
		}
	})
}

func fuzzRequests() []*Request {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	return []*Request{
		{Principal: alice(), Action: "sns:Publish", Resource: topicA, SecureTransport: true, Time: now,
			SourceIP: netip.MustParseAddr("10.1.2.3"), Context: ctx("aws:SourceOwner="+acctA, "k=a|b", "n=1")},
		{Principal: bob(), Action: "SNS:GetTopicAttributes", Resource: "arn:aws:sns:eu-west-1:444455556666:t1"},
		{Principal: Principal{Service: snsSvc}, Action: "kms:Decrypt", Resource: "*", Context: ctx("aws:SourceArn=" + topicA)},
		{},
	}
}

// FuzzEvaluate builds a statement from fuzzed text and a request from fuzzed
// fields. Evaluation must never panic, and a Deny-everything statement added
// to any valid policy must make every request Deny.
func FuzzEvaluate(f *testing.F) {
	f.Add(`{"Effect":"Allow","Principal":"*","Action":"sns:*","Resource":"*"}`, "sns:Publish", topicA, aliceA, acctA, "", "k", "v")
	f.Add(`{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"*","Resource":"arn:aws:sns:*:${aws:PrincipalAccount}:*","Condition":{"StringLike":{"k":"${aws:username}*"}}}`, "sns:Publish", topicA, aliceA, acctA, "", "k", "alice1")
	f.Add(`{"Effect":"Allow","Principal":{"Service":"sns.amazonaws.com"},"Action":"sqs:SendMessage","Resource":"*","Condition":{"ArnEquals":{"aws:SourceArn":"arn:aws:sns:*:*:*"}}}`, "sqs:SendMessage", "arn:aws:sqs:us-east-1:1:q", "", "", snsSvc, "aws:SourceArn", topicA)
	f.Add(`{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*","Condition":{"ForAllValues:NumericLessThanEquals":{"n":"5"},"DateLessThanIfExists":{"d":"1700000000"},"NotIpAddress":{"aws:SourceIp":"::/0"}}}`, "a:b", "arn:::::", "", "", "", "n", "4")
	f.Fuzz(func(t *testing.T, stmt, action, resource, arn, account, service, key, value string) {
		doc := `{"Version":"2012-10-17","Statement":[` + stmt + `]}`
		p, err := Parse([]byte(doc))
		if err != nil {
			return
		}
		req := &Request{
			Principal: Principal{Account: account, ARN: arn, Service: service},
			Action:    action,
			Resource:  resource,
			Context:   map[string][]string{key: strings.Split(value, ",")},
			Time:      time.Unix(1700000000, 0),
		}
		if a, err := netip.ParseAddr(value); err == nil {
			req.SourceIP = a
		}
		d := p.Evaluate(req)
		if d != NotApplicable && d != Allow && d != Deny && d != AllowAccount {
			t.Fatalf("decision %v", d)
		}
		if again := p.Evaluate(req); again != d {
			t.Fatalf("evaluation not deterministic: %v then %v", d, again)
		}
		denyDoc := `{"Version":"2012-10-17","Statement":[` + stmt + `,{"Effect":"Deny","Principal":"*","Action":"*","Resource":"*"}]}`
		dp, err := Parse([]byte(denyDoc))
		if err != nil {
			// The statement text may itself be several statements ending in a
			// way the extra one cannot follow; only a parse that works counts.
			return
		}
		if got := dp.Evaluate(req); got != Deny {
			t.Fatalf("Deny-all statement did not win: %v for %+v", got, req)
		}
	})
}
