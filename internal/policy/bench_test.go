package policy

import (
	"net/netip"
	"testing"
	"time"
)

// benchRequests are a typical publish by the owner and by another account
// against the default topic policy plus an AddPermission statement.
func benchRequests() (owner, other *Request) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	ip := netip.MustParseAddr("203.0.113.10")
	owner = &Request{Principal: alice(), Action: "sns:Publish", Resource: topicA, SecureTransport: true, Time: now, SourceIP: ip,
		Context: map[string][]string{"aws:SourceOwner": {acctA}}}
	other = &Request{Principal: bob(), Action: "sns:Publish", Resource: topicA, SecureTransport: true, Time: now, SourceIP: ip,
		Context: map[string][]string{"aws:SourceOwner": {acctB}}}
	return owner, other
}

func BenchmarkEvaluateTopicPolicy(b *testing.B) {
	p := mustParse(b, defaultTopicPolicy)
	owner, other := benchRequests()
	b.Run("Owner", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if p.Evaluate(owner) != Allow {
				b.Fatal("not allowed")
			}
		}
	})
	b.Run("OtherAccount", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if p.Evaluate(other) != AllowAccount {
				b.Fatal("not allowed")
			}
		}
	})
	b.Run("Refused", func(b *testing.B) {
		req := *other
		req.Action = "sns:DeleteTopic"
		b.ReportAllocs()
		for b.Loop() {
			if p.Evaluate(&req) != NotApplicable {
				b.Fatal("allowed")
			}
		}
	})
}

func BenchmarkParseTopicPolicy(b *testing.B) {
	doc := []byte(defaultTopicPolicy)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(doc); err != nil {
			b.Fatal(err)
		}
	}
}

func TestEvaluateDoesNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under the race detector")
	}
	p := mustParse(t, defaultTopicPolicy)
	owner, other := benchRequests()
	cond := mustParse(t, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"sns:Publish","Resource":"arn:aws:sns:*:${aws:PrincipalAccount}:*",
	 "Condition":{"Bool":{"aws:SecureTransport":"true"},"IpAddress":{"aws:SourceIp":"203.0.113.0/24"},"DateLessThan":{"aws:CurrentTime":"2030-01-01T00:00:00Z"},
	 "StringEquals":{"aws:PrincipalAccount":["111122223333","444455556666"]},"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:user/*"}}}}`)
	for name, f := range map[string]func(){
		"owner":      func() { p.Evaluate(owner) },
		"other":      func() { p.Evaluate(other) },
		"conditions": func() { cond.Evaluate(owner) },
	} {
		if n := testing.AllocsPerRun(200, f); n != 0 {
			t.Errorf("%s: %v allocations per Evaluate", name, n)
		}
	}
	if cond.Evaluate(owner) != Allow {
		t.Error("conditions policy should allow")
	}
}
