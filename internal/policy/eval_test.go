package policy

import (
	"fmt"
	"sync"
	"testing"
)

// defaultTopicPolicy is SNS's default topic policy with an AddPermission
// statement for account B.
const defaultTopicPolicy = `{"Version":"2008-10-17","Id":"__default_policy_ID","Statement":[
 {"Sid":"__default_statement_ID","Effect":"Allow","Principal":{"AWS":"*"},
  "Action":["SNS:GetTopicAttributes","SNS:SetTopicAttributes","SNS:AddPermission","SNS:RemovePermission","SNS:DeleteTopic","SNS:Subscribe","SNS:ListSubscriptionsByTopic","SNS:Publish"],
  "Resource":"arn:aws:sns:us-east-1:111122223333:orders","Condition":{"StringEquals":{"AWS:SourceOwner":"111122223333"}}},
 {"Sid":"b-publish","Effect":"Allow","Principal":{"AWS":["arn:aws:iam::444455556666:root"]},"Action":["SNS:Publish"],
  "Resource":"arn:aws:sns:us-east-1:111122223333:orders"}]}`

func TestDefaultTopicPolicy(t *testing.T) {
	p := mustParse(t, defaultTopicPolicy)
	// The server sets aws:SourceOwner to the caller's account.
	owner := func(pr Principal) map[string][]string { return ctx("aws:SourceOwner=" + pr.Account) }
	tests := []struct {
		pr     Principal
		action string
		want   Decision
	}{
		{alice(), "sns:Publish", Allow},
		{alice(), "sns:DeleteTopic", Allow},
		{alice(), "sns:TagResource", NotApplicable},
		// AddPermission grants to the account: a delegation.
		{bob(), "sns:Publish", AllowAccount},
		{bob(), "SNS:PUBLISH", AllowAccount},
		{bob(), "sns:Subscribe", NotApplicable},
		{Principal{Account: acctB, ARN: "arn:aws:iam::444455556666:root"}, "sns:Publish", AllowAccount},
		{Principal{}, "sns:Publish", NotApplicable},
	}
	for _, tt := range tests {
		req := &Request{Principal: tt.pr, Action: tt.action, Resource: topicA, Context: owner(tt.pr)}
		if got := p.Evaluate(req); got != tt.want {
			t.Errorf("%s %s: got %v, want %v", tt.pr.ARN, tt.action, got, tt.want)
		}
	}
	if got := p.Evaluate(&Request{Principal: bob(), Action: "sns:Publish", Resource: topicA + "-other"}); got != NotApplicable {
		t.Errorf("other topic: got %v", got)
	}
	if p.ID() != "__default_policy_ID" || p.Version() != Version2008 || p.Len() != 2 || !p.HasSid("b-publish") || p.HasSid("x") {
		t.Errorf("accessors: %q %q %d %v", p.ID(), p.Version(), p.Len(), p.Sids())
	}
}

func TestPrincipals(t *testing.T) {
	service := Principal{Service: snsSvc}
	role := Principal{Account: acctA, ARN: "arn:aws:iam::111122223333:role/deployer"}
	session := Principal{Account: acctA, ARN: "arn:aws:sts::111122223333:assumed-role/deployer/s1"}
	const (
		N = NotApplicable
		A = Allow
		C = AllowAccount
	)
	tests := []struct {
		principal string
		pr        Principal
		want      Decision
	}{
		{`"*"`, alice(), A},
		{`"*"`, Principal{}, A},
		{`"*"`, service, A},
		{`{"AWS":"*"}`, Principal{}, A},
		{`{"AWS":"*"}`, service, A},
		{`{"AWS":"111122223333"}`, alice(), C},
		{`{"AWS":"111122223333"}`, bob(), N},
		{`{"AWS":"111122223333"}`, Principal{}, N},
		{`{"AWS":"111122223333"}`, Principal{Service: snsSvc, Account: acctA}, N},
		{`{"AWS":"arn:aws:iam::111122223333:root"}`, alice(), C},
		{`{"AWS":"arn:aws:iam::111122223333:root"}`, role, C},
		{`{"AWS":"arn:aws:iam::111122223333:root"}`, bob(), N},
		{`{"AWS":"arn:aws:iam::111122223333:user/alice"}`, alice(), A},
		{`{"AWS":"arn:aws:iam::111122223333:user/alice"}`, Principal{Account: acctA, ARN: "arn:aws:iam::111122223333:user/alice2"}, N},
		{`{"AWS":"arn:aws:iam::111122223333:user/alice"}`, Principal{Account: acctA, ARN: rootA}, N},
		{`{"AWS":["arn:aws:iam::444455556666:user/bob","111122223333"]}`, bob(), A},
		{`{"AWS":["111122223333","arn:aws:iam::111122223333:user/alice"]}`, alice(), A},
		{`{"AWS":"111122223333"}`, Principal{Account: acctA, ARN: rootA}, C},
		{`{"AWS":"arn:aws:iam::111122223333:role/deployer"}`, role, A},
		{`{"AWS":"arn:aws:iam::111122223333:role/deployer"}`, session, N},
		{`{"AWS":"arn:aws:sts::111122223333:assumed-role/deployer/s1"}`, session, A},
		{`{"Service":"sns.amazonaws.com"}`, service, A},
		{`{"Service":"SNS.amazonaws.com"}`, service, A},
		{`{"Service":["sqs.amazonaws.com"]}`, service, N},
		{`{"Service":"sns.amazonaws.com"}`, alice(), N},
		{`{"Service":"sns.amazonaws.com"}`, Principal{}, N},
		{`{"AWS":"111122223333","Service":"sns.amazonaws.com"}`, service, A},
		{`{"AWS":"111122223333","Service":"sns.amazonaws.com"}`, alice(), C},
	}
	for _, tt := range tests {
		p := mustParse(t, `{"Statement":{"Effect":"Allow","Principal":`+tt.principal+`,"Action":"sns:Publish","Resource":"*"}}`)
		got := p.Evaluate(&Request{Principal: tt.pr, Action: "sns:Publish", Resource: topicA})
		if got != tt.want {
			t.Errorf("Principal %s, caller %+v: got %v, want %v", tt.principal, tt.pr, got, tt.want)
		}
		// A Deny applies at either level.
		d := mustParse(t, `{"Statement":{"Effect":"Deny","Principal":`+tt.principal+`,"Action":"sns:Publish","Resource":"*"}}`)
		if got, want := d.Evaluate(&Request{Principal: tt.pr, Action: "sns:Publish", Resource: topicA}) == Deny, tt.want != N; got != want {
			t.Errorf("Deny Principal %s, caller %+v: denied %v, want %v", tt.principal, tt.pr, got, want)
		}
		// NotPrincipal is the complement, and always direct.
		np := mustParse(t, `{"Statement":{"Effect":"Allow","NotPrincipal":`+tt.principal+`,"Action":"sns:Publish","Resource":"*"}}`)
		if got, want := np.Evaluate(&Request{Principal: tt.pr, Action: "sns:Publish", Resource: topicA}) == Allow, tt.want == N; got != want {
			t.Errorf("NotPrincipal %s, caller %+v: allowed %v, want %v", tt.principal, tt.pr, got, want)
		}
	}
}

func TestDenyWinsAndNotElements(t *testing.T) {
	p := mustParse(t, `{"Version":"2012-10-17","Statement":[
	 {"Effect":"Allow","Principal":"*","Action":"sns:*","Resource":"*"},
	 {"Sid":"NoDelete","Effect":"Deny","Principal":"*","Action":"sns:DeleteTopic","Resource":"*"},
	 {"Sid":"OnlyOrders","Effect":"Deny","Principal":"*","Action":"sns:Publish","NotResource":"arn:aws:sns:*:*:orders"},
	 {"Sid":"OnlyPublish","Effect":"Deny","Principal":{"AWS":"444455556666"},"NotAction":["sns:Publish","sns:Get*"],"Resource":"*"}]}`)
	tests := []struct {
		pr       Principal
		action   string
		resource string
		want     Decision
	}{
		{alice(), "sns:Publish", topicA, Allow},
		{alice(), "sns:DeleteTopic", topicA, Deny},
		{alice(), "SNS:deletetopic", topicA, Deny},
		{alice(), "sns:Publish", "arn:aws:sns:us-east-1:111122223333:audit", Deny},
		{alice(), "sns:Subscribe", "arn:aws:sns:us-east-1:111122223333:audit", Allow},
		{bob(), "sns:Subscribe", topicA, Deny},
		{bob(), "sns:GetTopicAttributes", topicA, Allow},
		{bob(), "sns:Publish", topicA, Allow},
		{alice(), "kms:Decrypt", topicA, NotApplicable},
	}
	for _, tt := range tests {
		if got := p.Evaluate(&Request{Principal: tt.pr, Action: tt.action, Resource: tt.resource}); got != tt.want {
			t.Errorf("%s %s %s: got %v, want %v", tt.pr.ARN, tt.action, tt.resource, got, tt.want)
		}
	}
	// Statement order does not matter.
	q := mustParse(t, `{"Statement":[
	 {"Effect":"Deny","Principal":"*","Action":"sns:Publish","Resource":"*"},
	 {"Effect":"Allow","Principal":"*","Action":"sns:Publish","Resource":"*"}]}`)
	if got := q.Evaluate(&Request{Principal: alice(), Action: "sns:Publish", Resource: topicA}); got != Deny {
		t.Errorf("deny first: %v", got)
	}
	var nilPolicy *Policy
	if nilPolicy.Evaluate(&Request{}) != NotApplicable || p.Evaluate(nil) != NotApplicable {
		t.Error("nil policy or request must be NotApplicable")
	}
}

func TestResourceAndActionPatterns(t *testing.T) {
	tests := []struct {
		pattern, resource string
		want              bool
	}{
		{"*", topicA, true},
		{topicA, topicA, true},
		{"arn:aws:sns:us-east-1:111122223333:Orders", topicA, false},
		{"arn:aws:sns:*:111122223333:orders", topicA, true},
		{"arn:aws:sns:*:111122223333:*", topicA, true},
		{"arn:aws:sns:*:*:ord?rs", topicA, true},
		{"arn:aws:sns:*:*:ord?s", topicA, false},
		{"arn:aws:sns:us-east-1:*:*", "arn:aws:sns:us-west-2:111122223333:orders", false},
		// A wildcard does not cross a ':' between the six parts.
		{"arn:aws:sns:*:111122223333:orders", "arn:aws:sns:us-east-1:999999999999:x:111122223333:orders", false},
		{"arn:aws:sns:us-east-1:111122223333:*", "arn:aws:sns:us-east-1:111122223333:orders:sub-1", true},
		{"arn:aws:sns:*", topicA, true},
		{"arn:aws:sqs:*", topicA, false},
		{"arn:aws:sns:us-east-1:111122223333:orders", "orders", false},
	}
	for _, tt := range tests {
		p := mustParse(t, `{"Statement":{"Effect":"Allow","Principal":"*","Action":"sns:Publish","Resource":"`+tt.pattern+`"}}`)
		got := p.Evaluate(&Request{Principal: alice(), Action: "sns:Publish", Resource: tt.resource}) == Allow
		if got != tt.want {
			t.Errorf("Resource %q vs %q: got %v, want %v", tt.pattern, tt.resource, got, tt.want)
		}
	}
	actions := []struct {
		pattern, action string
		want            bool
	}{
		{"*", "sns:Publish", true},
		{"sns:*", "sns:Publish", true},
		{"SNS:*", "sns:Publish", true},
		{"sns:Publish", "SNS:PUBLISH", true},
		{"sns:Pub*", "sns:Publish", true},
		{"sns:Get*Attributes", "sns:GetTopicAttributes", true},
		{"sns:Get*Attributes", "sns:GetTopic", false},
		{"sns:Publis?", "sns:Publish", true},
		{"sns:Publish", "sns:PublishBatch", false},
		{"sns:*", "sqs:SendMessage", false},
		{"kms:GenerateDataKey*", "kms:GenerateDataKeyWithoutPlaintext", true},
	}
	for _, tt := range actions {
		p := mustParse(t, `{"Statement":{"Effect":"Allow","Principal":"*","Action":"`+tt.pattern+`","Resource":"*"}}`)
		got := p.Evaluate(&Request{Principal: alice(), Action: tt.action, Resource: topicA}) == Allow
		if got != tt.want {
			t.Errorf("Action %q vs %q: got %v, want %v", tt.pattern, tt.action, got, tt.want)
		}
	}
}

func TestVariables(t *testing.T) {
	p := mustParse(t, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"sns:Publish",
	 "Resource":"arn:aws:sns:*:${aws:PrincipalAccount}:${aws:username}-*"}}`)
	tests := []struct {
		pr       Principal
		resource string
		want     bool
	}{
		{alice(), "arn:aws:sns:us-east-1:111122223333:alice-orders", true},
		{alice(), "arn:aws:sns:us-east-1:111122223333:bob-orders", false},
		{alice(), "arn:aws:sns:us-east-1:444455556666:alice-orders", false},
		// A role has no aws:username: the resource matches nothing.
		{Principal{Account: acctA, ARN: "arn:aws:iam::111122223333:role/r"}, "arn:aws:sns:us-east-1:111122223333:-orders", false},
	}
	for _, tt := range tests {
		got := p.Evaluate(&Request{Principal: tt.pr, Action: "sns:Publish", Resource: tt.resource}) == Allow
		if got != tt.want {
			t.Errorf("%s on %s: got %v, want %v", tt.pr.ARN, tt.resource, got, tt.want)
		}
	}
	// A substituted value matches literally, escapes, defaults, and the
	// 2008-10-17 version keeps variables as text.
	conds := []struct {
		version, cond string
		req           Request
		want          bool
	}{
		{"2012-10-17", `{"StringLike":{"k":"${aws:username}"}}`, Request{Principal: Principal{Account: acctA, ARN: "arn:aws:iam::111122223333:user/a*"}, Context: ctx("k=abc")}, false},
		{"2012-10-17", `{"StringLike":{"k":"${aws:username}"}}`, Request{Principal: Principal{Account: acctA, ARN: "arn:aws:iam::111122223333:user/a*"}, Context: ctx("k=a*")}, true},
		{"2012-10-17", `{"StringEquals":{"k":"${*}${?}${$}"}}`, Request{Context: ctx("k=*?$")}, true},
		{"2012-10-17", `{"StringLike":{"k":"a${*}"}}`, Request{Context: ctx("k=abc")}, false},
		{"2012-10-17", `{"StringEquals":{"k":"${aws:PrincipalTag/team, 'none'}"}}`, Request{Context: ctx("k=none")}, true},
		{"2012-10-17", `{"StringEquals":{"k":"${aws:PrincipalTag/team, 'none'}"}}`, Request{Context: ctx("k=none", "aws:PrincipalTag/team=red")}, false},
		{"2012-10-17", `{"StringEquals":{"k":"${aws:username}"}}`, Request{Context: ctx("k=")}, false},
		{"2012-10-17", `{"StringNotEquals":{"k":"${aws:username}"}}`, Request{Context: ctx("k=x")}, true},
		{"2012-10-17", `{"StringEquals":{"k":"${multi}"}}`, Request{Context: ctx("k=a", "multi=a|b")}, false},
		{"2012-10-17", `{"StringEquals":{"k":"${unclosed"}}`, Request{Context: ctx("k=${unclosed")}, true},
		{"2012-10-17", `{"ArnEquals":{"aws:SourceArn":"arn:aws:sns:${region}:${aws:PrincipalAccount}:*"}}`, Request{Principal: alice(), Context: ctx("region=us-east-1", "aws:SourceArn="+topicA)}, true},
		{"2008-10-17", `{"StringEquals":{"k":"${aws:username}"}}`, Request{Principal: alice(), Context: ctx("k=alice")}, false},
		{"2008-10-17", `{"StringEquals":{"k":"${aws:username}"}}`, Request{Principal: alice(), Context: ctx("k=${aws:username}")}, true},
	}
	for _, tt := range conds {
		p := mustParse(t, `{"Version":"`+tt.version+`","Statement":{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*","Condition":`+tt.cond+`}}`)
		tt.req.Action, tt.req.Resource = "sns:Publish", topicA
		if got := p.Evaluate(&tt.req) == Allow; got != tt.want {
			t.Errorf("%s %s %v: got %v, want %v", tt.version, tt.cond, tt.req.Context, got, tt.want)
		}
	}
}

func TestDecide(t *testing.T) {
	N, A, D, C := NotApplicable, Allow, Deny, AllowAccount
	tests := []struct {
		identity, resource Decision
		same, want         bool
	}{
		{N, N, true, false},
		{A, N, true, true},
		{N, A, true, true},
		{A, A, true, true},
		{D, A, true, false},
		{A, D, true, false},
		{D, D, true, false},
		{N, N, false, false},
		{A, N, false, false},
		{N, A, false, false},
		{A, A, false, true},
		{D, A, false, false},
		{A, D, false, false},
		// An account grant delegates to the identity policy.
		{N, C, true, false},
		{A, C, true, true},
		{D, C, true, false},
		{N, C, false, false},
		{A, C, false, true},
	}
	for _, tt := range tests {
		if got := Decide(tt.identity, tt.resource, tt.same); got != tt.want {
			t.Errorf("Decide(%v, %v, same=%v) = %v, want %v", tt.identity, tt.resource, tt.same, got, tt.want)
		}
		// With the resource policy required, NotApplicable never passes.
		want := tt.want && tt.resource != N
		if got := DecideResourceRequired(tt.identity, tt.resource, tt.same); got != want {
			t.Errorf("DecideResourceRequired(%v, %v, same=%v) = %v, want %v", tt.identity, tt.resource, tt.same, got, want)
		}
	}
	if Decision(9).String() != "Decision(9)" || AllowAccount.String() != "AllowAccount" {
		t.Error("Decision.String")
	}
}

// TestCrossAccountFlow walks the scenarios of issue 8 through Evaluate and
// Decide together.
func TestCrossAccountFlow(t *testing.T) {
	topic := mustParse(t, defaultTopicPolicy)
	publishOnly := mustParse(t, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"sns:Publish","Resource":"`+topicA+`"}}`)
	decide := func(pr Principal, identity *Policy, action string) bool {
		req := &Request{Principal: pr, Action: action, Resource: topicA, Context: ctx("aws:SourceOwner=" + pr.Account)}
		id := Allow // no identity policy: the development default
		if identity != nil {
			id = identity.Evaluate(req)
		}
		return Decide(id, topic.Evaluate(req), pr.Account == acctA)
	}
	if !decide(alice(), nil, "sns:DeleteTopic") {
		t.Error("owner without identity policy must be allowed")
	}
	if !decide(alice(), publishOnly, "sns:Publish") {
		t.Error("identity policy allows Publish")
	}
	// In its own account a principal is allowed by identity OR resource
	// policy: with aws:SourceOwner set to the caller's account, the default
	// topic policy allows the owner account's DeleteTopic whatever the
	// identity policy says. (A server that wants "identity policy only"
	// for its own users must not feed aws:SourceOwner that way.)
	if !decide(alice(), publishOnly, "sns:DeleteTopic") {
		t.Error("same-account: identity OR resource")
	}
	if decide(alice(), publishOnly, "sns:TagResource") {
		t.Error("neither policy allows TagResource")
	}
	if !decide(bob(), nil, "sns:Publish") {
		t.Error("account B allowed to publish by the topic policy")
	}
	if decide(bob(), nil, "sns:Subscribe") {
		t.Error("account B must not subscribe")
	}
	if decide(bob(), mustParse(t, `{"Statement":{"Effect":"Allow","Action":"sns:Subscribe","Resource":"*"}}`), "sns:Publish") {
		t.Error("cross-account needs both identity and resource Allow")
	}
	// A grant to the owner's own account is a delegation: a user whose
	// identity policy allows only Publish still cannot delete.
	own := mustParse(t, `{"Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"sns:*","Resource":"`+topicA+`"}}`)
	req := &Request{Principal: alice(), Action: "sns:DeleteTopic", Resource: topicA}
	if Decide(publishOnly.Evaluate(req), own.Evaluate(req), true) {
		t.Error("account grant must not bypass the identity policy")
	}
	if !Decide(Allow, own.Evaluate(req), true) {
		t.Error("account grant with a permissive identity must allow")
	}
}

func TestConcurrentEvaluate(t *testing.T) {
	p := mustParse(t, defaultTopicPolicy)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			pr, want := alice(), Allow
			if g%2 == 1 {
				pr, want = bob(), AllowAccount
			}
			req := &Request{Principal: pr, Action: "sns:Publish", Resource: topicA, Context: ctx("aws:SourceOwner=" + pr.Account)}
			for i := 0; i < 2000; i++ {
				if d := p.Evaluate(req); d != want {
					errs <- fmt.Errorf("goroutine %d: %v", g, d)
					return
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
