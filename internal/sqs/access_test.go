package sqs

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/sealpost/sealpost/internal/policy"
	"github.com/sealpost/sealpost/internal/store"
)

func cpIdentity(t *testing.T, doc string) *policy.Policy {
	t.Helper()
	p, err := policy.ParseWith([]byte(doc), policy.Options{Kind: policy.IdentityPolicy})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func cpJSONEqual(t *testing.T, got, want string) {
	t.Helper()
	var a, b any
	if err := json.Unmarshal([]byte(got), &a); err != nil {
		t.Fatalf("%v: %s", err, got)
	}
	if err := json.Unmarshal([]byte(want), &b); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

func TestQueueAccessCrossAccount(t *testing.T) {
	e := newCPEnv(t)
	owner, other := cpCaller(cpAccount), cpCaller(cpOther)
	u := e.create(t, owner, "q", nil)
	arn := "arn:aws:sqs:us-east-1:111111111111:q"

	_, err := e.svc.GetQueueURL(e.ctx, other, "q", cpAccount)
	cpWantErr(t, err, ErrAccessDenied, "User: arn:aws:iam::222222222222:root is not authorized to perform: sqs:GetQueueUrl on resource: "+arn+" because no resource-based policy allows the sqs:GetQueueUrl action")
	_, err = e.svc.queueFor(e.ctx, other, u, "SendMessage")
	cpWantErr(t, err, ErrAccessDenied, "sqs:SendMessage")

	if err := e.svc.AddPermission(e.ctx, owner, u, "Share", []string{cpOther}, []string{"SendMessage", "GetQueueUrl"}); err != nil {
		t.Fatal(err)
	}
	a := e.attrs(t, owner, u, "Policy")
	cpJSONEqual(t, a["Policy"], `{"Version":"2012-10-17","Id":"`+arn+`/SQSDefaultPolicy","Statement":[{"Sid":"Share","Effect":"Allow",
		"Principal":{"AWS":"arn:aws:iam::222222222222:root"},"Action":["SQS:SendMessage","SQS:GetQueueUrl"],"Resource":"`+arn+`"}]}`)
	if got, err := e.svc.GetQueueURL(e.ctx, other, "q", cpAccount); err != nil || got != u {
		t.Fatalf("granted GetQueueUrl: %q %v", got, err)
	}
	for _, act := range []string{"SendMessage", "SendMessageBatch"} {
		if _, err := e.svc.queueFor(e.ctx, other, u, act); err != nil {
			t.Fatalf("granted %s: %v", act, err)
		}
	}
	_, err = e.svc.queueFor(e.ctx, other, u, "ReceiveMessage")
	cpWantErr(t, err, ErrAccessDenied, "sqs:ReceiveMessage")
	// The other account's own identity policy can still refuse.
	user := cpCaller(cpOther)
	user.Principal = "arn:aws:iam::222222222222:user/bob"
	user.IdentityPolicy = cpIdentity(t, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sqs:*","Resource":"*"},
		{"Effect":"Deny","Action":"sqs:SendMessage","Resource":"*"}]}`)
	_, err = e.svc.queueFor(e.ctx, user, u, "SendMessage")
	cpWantErr(t, err, ErrAccessDenied, "with an explicit deny in an identity-based policy")
	user.IdentityPolicy = cpIdentity(t, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sqs:ReceiveMessage","Resource":"*"}]}`)
	_, err = e.svc.queueFor(e.ctx, user, u, "SendMessage")
	cpWantErr(t, err, ErrAccessDenied, "because no identity-based policy allows the sqs:SendMessage action")

	// Labels are unique; removing the last statement removes the policy.
	cpWantErr(t, e.svc.AddPermission(e.ctx, owner, u, "Share", []string{cpOther}, []string{"*"}), ErrInvalidParameterValue, "Value Share for parameter Label is invalid. Reason: Already exists.")
	if err := e.svc.AddPermission(e.ctx, owner, u, "All", []string{cpOther, "333333333333"}, []string{"*"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.queueFor(e.ctx, other, u, "PurgeQueue"); err != nil {
		t.Fatalf("granted *: %v", err)
	}
	if err := e.svc.RemovePermission(e.ctx, owner, u, "Share"); err != nil {
		t.Fatal(err)
	}
	a = e.attrs(t, owner, u, "Policy")
	if strings.Contains(a["Policy"], "Share") || !strings.Contains(a["Policy"], `"AWS":["arn:aws:iam::222222222222:root","arn:aws:iam::333333333333:root"]`) || !strings.Contains(a["Policy"], `"Action":"SQS:*"`) {
		t.Fatalf("policy after removing Share: %s", a["Policy"])
	}
	if err := e.svc.RemovePermission(e.ctx, owner, u, "All"); err != nil {
		t.Fatal(err)
	}
	if a := e.attrs(t, owner, u); a["Policy"] != "" {
		t.Fatalf("policy left: %q", a["Policy"])
	}
	cpWantErr(t, e.svc.RemovePermission(e.ctx, owner, u, "All"), ErrInvalidParameterValue, "Value All for parameter Label is invalid. Reason: can't find label on existing policy.")
	_, err = e.svc.GetQueueURL(e.ctx, other, "q", cpAccount)
	cpWantErr(t, err, ErrAccessDenied, "sqs:GetQueueUrl")

	// Owner-only actions stay the owner's, whatever the policy says.
	if err := e.svc.SetQueueAttributes(e.ctx, owner, u, map[string]string{"Policy": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sqs:*","Resource":"*"}]}`}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.GetQueueAttributes(e.ctx, other, u, []string{"All"}); err != nil {
		t.Fatalf("granted GetQueueAttributes: %v", err)
	}
	for name, call := range map[string]func() error{
		"SetQueueAttributes": func() error {
			return e.svc.SetQueueAttributes(e.ctx, other, u, map[string]string{"DelaySeconds": "1"})
		},
		"DeleteQueue":   func() error { return e.svc.DeleteQueue(e.ctx, other, u) },
		"TagQueue":      func() error { return e.svc.TagQueue(e.ctx, other, u, map[string]string{"a": "b"}) },
		"UntagQueue":    func() error { return e.svc.UntagQueue(e.ctx, other, u, []string{"a"}) },
		"ListQueueTags": func() error { _, err := e.svc.ListQueueTags(e.ctx, other, u); return err },
		"AddPermission": func() error {
			return e.svc.AddPermission(e.ctx, other, u, "Mine", []string{cpOther}, []string{"*"})
		},
		"RemovePermission": func() error { return e.svc.RemovePermission(e.ctx, other, u, "x") },
	} {
		cpWantErr(t, call(), ErrAccessDenied, "sqs:"+name)
	}
	// Another account's ListQueues never shows the queue.
	if urls, _, err := e.svc.ListQueues(e.ctx, other, "", "", 0); err != nil || len(urls) != 0 {
		t.Fatalf("%v %v", urls, err)
	}
}

func TestQueueAccessServicePrincipal(t *testing.T) {
	e := newCPEnv(t)
	owner := cpCaller(cpAccount)
	u := e.create(t, owner, "q", nil)
	k := store.QueueKey{Account: cpAccount, Region: cpRegion, Name: "q"}
	topic := "arn:aws:sns:us-east-1:111111111111:t"
	sns := &Caller{Service: "sns.amazonaws.com", SourceARN: topic, SourceAccount: cpAccount, Region: cpRegion}

	_, err := e.svc.queueByKey(e.ctx, sns, k, "SendMessage")
	cpWantErr(t, err, ErrAccessDenied, "User: sns.amazonaws.com is not authorized to perform: sqs:SendMessage on resource: arn:aws:sqs:us-east-1:111111111111:q because no resource-based policy allows")

	pol := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"sns.amazonaws.com"},"Action":"sqs:*",
		"Resource":"arn:aws:sqs:us-east-1:111111111111:q","Condition":{"ArnEquals":{"aws:SourceArn":"` + topic + `"}}}]}`
	if err := e.svc.SetQueueAttributes(e.ctx, owner, u, map[string]string{"Policy": pol}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.queueByKey(e.ctx, sns, k, "SendMessage"); err != nil {
		t.Fatalf("allowed topic: %v", err)
	}
	other := *sns
	other.SourceARN = "arn:aws:sns:us-east-1:111111111111:other"
	_, err = e.svc.queueByKey(e.ctx, &other, k, "SendMessage")
	cpWantErr(t, err, ErrAccessDenied, "sqs:SendMessage")
	// Another service, or the account's users through the service's
	// statement, get nothing from it.
	lambda := *sns
	lambda.Service = "lambda.amazonaws.com"
	_, err = e.svc.queueByKey(e.ctx, &lambda, k, "SendMessage")
	cpWantErr(t, err, ErrAccessDenied, "lambda.amazonaws.com")
	// Owner-only actions are refused to services too.
	_, err = e.svc.queueByKey(e.ctx, sns, k, "DeleteQueue")
	cpWantErr(t, err, ErrAccessDenied, "sqs:DeleteQueue")

	// Principal "*" limited by aws:SourceAccount.
	pol = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"sqs:SendMessage","Resource":"*",
		"Condition":{"StringEquals":{"aws:SourceAccount":"111111111111"}}}]}`
	if err := e.svc.SetQueueAttributes(e.ctx, owner, u, map[string]string{"Policy": pol}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.queueByKey(e.ctx, &other, k, "SendMessage"); err != nil {
		t.Fatalf("source account: %v", err)
	}
	foreign := *sns
	foreign.SourceAccount = cpOther
	_, err = e.svc.queueByKey(e.ctx, &foreign, k, "SendMessage")
	cpWantErr(t, err, ErrAccessDenied, "sqs:SendMessage")
	// A direct caller of another account has no aws:SourceAccount.
	_, err = e.svc.queueFor(e.ctx, cpCaller(cpOther), u, "SendMessage")
	cpWantErr(t, err, ErrAccessDenied, "sqs:SendMessage")
}

func TestQueueAccessOwnerAccount(t *testing.T) {
	e := newCPEnv(t)
	owner := cpCaller(cpAccount)
	u := e.create(t, owner, "q", nil)
	arn := "arn:aws:sqs:us-east-1:111111111111:q"
	// An explicit Deny in the queue policy binds the owner too.
	deny := `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"sqs:DeleteQueue","Resource":"` + arn + `"}]}`
	if err := e.svc.SetQueueAttributes(e.ctx, owner, u, map[string]string{"Policy": deny}); err != nil {
		t.Fatal(err)
	}
	cpWantErr(t, e.svc.DeleteQueue(e.ctx, owner, u), ErrAccessDenied, "with an explicit deny in a resource-based policy")
	if _, err := e.svc.GetQueueAttributes(e.ctx, owner, u, []string{"All"}); err != nil {
		t.Fatalf("owner without a deny: %v", err)
	}
	// A user of the owner's account is bound by its identity policy.
	user := cpCaller(cpAccount)
	user.Principal = "arn:aws:iam::111111111111:user/app"
	user.IdentityPolicy = cpIdentity(t, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sqs:SendMessage","Resource":"`+arn+`"}]}`)
	if _, err := e.svc.queueFor(e.ctx, user, u, "SendMessage"); err != nil {
		t.Fatalf("identity allows SendMessage: %v", err)
	}
	_, err := e.svc.GetQueueAttributes(e.ctx, user, u, []string{"All"})
	cpWantErr(t, err, ErrAccessDenied, "User: arn:aws:iam::111111111111:user/app is not authorized to perform: sqs:GetQueueAttributes on resource: "+arn+" because no identity-based policy allows the sqs:GetQueueAttributes action")
	_, err = e.svc.CreateQueue(e.ctx, user, "new", nil, nil)
	cpWantErr(t, err, ErrAccessDenied, "sqs:CreateQueue on resource: arn:aws:sqs:us-east-1:111111111111:new")
	_, _, err = e.svc.ListQueues(e.ctx, user, "", "", 0)
	cpWantErr(t, err, ErrAccessDenied, "sqs:ListQueues")
	// Creating with tags also needs sqs:TagQueue.
	user.IdentityPolicy = cpIdentity(t, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sqs:CreateQueue","Resource":"*"}]}`)
	if _, err := e.svc.CreateQueue(e.ctx, user, "new", nil, nil); err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.CreateQueue(e.ctx, user, "tagged", nil, map[string]string{"a": "b"})
	cpWantErr(t, err, ErrAccessDenied, "sqs:TagQueue")
	// The queue policy can grant a user of the account what its identity
	// policy does not.
	grant := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:user/app"},"Action":"sqs:GetQueueAttributes","Resource":"` + arn + `"}]}`
	if err := e.svc.SetQueueAttributes(e.ctx, owner, u, map[string]string{"Policy": grant}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.GetQueueAttributes(e.ctx, user, u, []string{"All"}); err != nil {
		t.Fatalf("queue policy grant: %v", err)
	}
	// Anonymous callers and services create and list nothing.
	anon := &Caller{Region: cpRegion}
	_, err = e.svc.CreateQueue(e.ctx, anon, "x", nil, nil)
	cpWantErr(t, err, ErrAccessDenied, "User: anonymous")
	_, err = e.svc.CreateQueue(e.ctx, &Caller{Service: "sns.amazonaws.com", Region: cpRegion, Account: cpAccount}, "x", nil, nil)
	cpWantErr(t, err, ErrAccessDenied, "sns.amazonaws.com")
}

func TestAddPermissionValidation(t *testing.T) {
	e := newCPEnv(t)
	c := cpCaller(cpAccount)
	u := e.create(t, c, "q", nil)
	eight := []string{"SendMessage", "ReceiveMessage", "DeleteMessage", "ChangeMessageVisibility", "GetQueueAttributes", "GetQueueUrl", "ListDeadLetterSourceQueues", "PurgeQueue"}
	cases := []struct {
		name     string
		label    string
		accounts []string
		actions  []string
		kind     error
		msg      string
	}{
		{"no label", "", []string{cpOther}, []string{"*"}, ErrMissingParameter, "Label"},
		{"bad label", "a b", []string{cpOther}, []string{"*"}, ErrInvalidParameterValue, "Value a b for parameter Label is invalid."},
		{"long label", strings.Repeat("l", 81), []string{cpOther}, []string{"*"}, ErrInvalidParameterValue, "parameter Label"},
		{"no accounts", "L", nil, []string{"*"}, ErrMissingParameter, "AWSAccountIds"},
		{"no actions", "L", []string{cpOther}, nil, ErrMissingParameter, "Actions"},
		{"bad account", "L", []string{"12"}, []string{"*"}, ErrInvalidParameterValue, "Value 12 for parameter PrincipalId is invalid. Reason: Unable to verify."},
		{"owner action", "L", []string{cpOther}, []string{"DeleteQueue"}, ErrInvalidParameterValue, "Value SQS:DeleteQueue for parameter ActionName is invalid. Reason: Only the queue owner is allowed to invoke this action."},
		{"lower case", "L", []string{cpOther}, []string{"sendmessage"}, ErrInvalidParameterValue, "ActionName"},
		{"eight actions", "L", []string{cpOther}, eight, ErrOverLimit, "8 Actions were found, maximum allowed is 7."},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cpWantErr(t, e.svc.AddPermission(e.ctx, c, u, tc.label, tc.accounts, tc.actions), tc.kind, tc.msg)
		})
	}
	cpWantErr(t, e.svc.RemovePermission(e.ctx, c, u, ""), ErrMissingParameter, "Label")
	cpWantErr(t, e.svc.RemovePermission(e.ctx, c, u, "x"), ErrInvalidParameterValue, "can't find label")
	cpWantErr(t, e.svc.AddPermission(e.ctx, c, "http://sp.test/111111111111/nope", "L", []string{cpOther}, []string{"*"}), ErrQueueDoesNotExist, "does not exist")
	if a := e.attrs(t, c, u); a["Policy"] != "" {
		t.Fatalf("a refused AddPermission left a policy: %s", a["Policy"])
	}
	// AddPermission onto a policy set by SetQueueAttributes keeps it.
	pol := `{"Version":"2012-10-17","Id":"mine","Statement":{"Sid":"Own","Effect":"Allow","Principal":{"AWS":"333333333333"},"Action":"sqs:GetQueueUrl","Resource":"*"}}`
	if err := e.svc.SetQueueAttributes(e.ctx, c, u, map[string]string{"Policy": pol}); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.AddPermission(e.ctx, c, u, "L", []string{cpOther}, []string{"SendMessage"}); err != nil {
		t.Fatal(err)
	}
	cpWantErr(t, e.svc.AddPermission(e.ctx, c, u, "Own", []string{cpOther}, []string{"SendMessage"}), ErrInvalidParameterValue, "Already exists.")
	a := e.attrs(t, c, u)
	cpJSONEqual(t, a["Policy"], `{"Version":"2012-10-17","Id":"mine","Statement":[{"Sid":"Own","Effect":"Allow","Principal":{"AWS":"333333333333"},"Action":"sqs:GetQueueUrl","Resource":"*"},
		{"Sid":"L","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::222222222222:root"},"Action":"SQS:SendMessage","Resource":"arn:aws:sqs:us-east-1:111111111111:q"}]}`)
	// A queue policy holds at most 20 statements (AWS's quota).
	for i := 2; i < maxPolicyStatements; i++ {
		if err := e.svc.AddPermission(e.ctx, c, u, fmt.Sprint("P", i), []string{cpOther}, []string{"SendMessage"}); err != nil {
			t.Fatalf("statement %d: %v", i+1, err)
		}
	}
	cpWantErr(t, e.svc.AddPermission(e.ctx, c, u, "Full", []string{cpOther}, []string{"SendMessage"}), ErrOverLimit, "The queue policy cannot take the statement")
}

func TestInvalidSecurity(t *testing.T) {
	e := newCPEnv(t)
	owner := cpCaller(cpAccount)
	kms := e.create(t, owner, "kms", map[string]string{"KmsMasterKeyId": "alias/app"})
	sqsManaged := e.create(t, owner, "managed", nil)
	plain := cpCaller(cpAccount)
	plain.Secure = false
	unsigned := cpCaller(cpAccount)
	unsigned.Signed = false
	for _, c := range []*Caller{plain, unsigned} {
		_, err := e.svc.GetQueueAttributes(e.ctx, c, kms, []string{"All"})
		cpWantErr(t, err, ErrInvalidSecurity, "All requests to queues with SSE enabled must use HTTPS and Signature Version 4.")
		_, err = e.svc.queueFor(e.ctx, c, kms, "SendMessage")
		cpWantErr(t, err, ErrInvalidSecurity, "HTTPS")
		// SSE-SQS queues take plain HTTP and unsigned requests.
		if _, err := e.svc.queueFor(e.ctx, c, sqsManaged, "SendMessage"); err != nil {
			t.Fatalf("SSE-SQS queue: %v", err)
		}
	}
	if _, err := e.svc.queueFor(e.ctx, owner, kms, "SendMessage"); err != nil {
		t.Fatalf("TLS and SigV4: %v", err)
	}
	// Authorization comes first.
	stranger := cpCaller(cpOther)
	stranger.Secure = false
	_, err := e.svc.queueFor(e.ctx, stranger, kms, "SendMessage")
	cpWantErr(t, err, ErrAccessDenied, "sqs:SendMessage")
	// Service callers are exempt.
	pol := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"sns.amazonaws.com"},"Action":"sqs:SendMessage","Resource":"*"}]}`
	if err := e.svc.SetQueueAttributes(e.ctx, owner, kms, map[string]string{"Policy": pol}); err != nil {
		t.Fatal(err)
	}
	sns := &Caller{Service: "sns.amazonaws.com", SourceARN: "arn:aws:sns:us-east-1:111111111111:t", SourceAccount: cpAccount, Region: cpRegion}
	if _, err := e.svc.queueByKey(e.ctx, sns, store.QueueKey{Account: cpAccount, Region: cpRegion, Name: "kms"}, "SendMessage"); err != nil {
		t.Fatalf("service caller: %v", err)
	}
	// Once SSE-KMS is off the queue takes plain requests again.
	if err := e.svc.SetQueueAttributes(e.ctx, owner, kms, map[string]string{"KmsMasterKeyId": ""}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.queueFor(e.ctx, plain, kms, "SendMessage"); err != nil {
		t.Fatalf("after SSE-KMS off: %v", err)
	}
}

func TestPolicyCache(t *testing.T) {
	var pc policyCache
	if pc.compile("") != nil || pc.compile("{") != nil || pc.compile("{") != nil {
		t.Fatal("no policy or a broken one compiled")
	}
	for i := 0; i < 2*maxCachedPolicies; i++ {
		doc := `{"Statement":[{"Sid":"s` + strings.Repeat("x", i) + `","Effect":"Allow","Principal":"*","Action":"sqs:SendMessage","Resource":"*"}]}`
		p := pc.compile(doc)
		if p == nil || pc.compile(doc) != p || !p.HasSid("s"+strings.Repeat("x", i)) {
			t.Fatalf("doc %d", i)
		}
		if len(pc.m) > maxCachedPolicies {
			t.Fatalf("cache holds %d", len(pc.m))
		}
	}
}
