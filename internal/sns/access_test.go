package sns_test

import (
	"context"
	"errors"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/policy"
	"github.com/sealpost/sealpost/internal/sns"
	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/store/pebblestore"
)

const (
	ownerAcct = "111111111111"
	otherAcct = "222222222222"
)

func root(acct string) sns.Caller {
	return sns.Caller{Account: acct, Region: "us-east-1", Principal: "arn:aws:iam::" + acct + ":root", Signed: true, Authenticated: true}
}

func user(t testing.TB, acct, name, identityPolicy string) sns.Caller {
	c := root(acct)
	c.Principal, c.UserName = "arn:aws:iam::"+acct+":user/"+name, name
	if identityPolicy != "" {
		p, err := policy.ParseWith([]byte(identityPolicy), policy.Options{Kind: policy.IdentityPolicy})
		if err != nil {
			t.Fatal(err)
		}
		c.IdentityPolicy = p
	}
	return c
}

func newAccessService(t testing.TB) (*sns.Service, *clock, string) {
	st, err := pebblestore.Open(filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	clk := &clock{t: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)}
	svc := sns.New(st, sns.Options{PublicURL: "http://x", Now: clk.Now, CacheTTL: time.Hour})
	topic, err := svc.CreateTopic(context.Background(), root(ownerAcct), "t", nil, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	return svc, clk, topic
}

func storeTopic(acct, arn string) store.Topic { return store.Topic{ARN: arn, Account: acct} }

// TestAccessDecisions: one topic policy and one caller per row; the row
// publishes (or deletes) and expects success or the refusal's reason.
func TestAccessDecisions(t *testing.T) {
	const topic = "arn:aws:sns:us-east-1:111111111111:t"
	const queue = "arn:aws:sqs:us-east-1:222222222222:q"
	allow := func(principal string, conds ...string) string {
		cond := ""
		if len(conds) > 0 {
			cond = `,"Condition":` + conds[0]
		}
		return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":` + principal +
			`,"Action":"sns:Publish","Resource":"` + topic + `"` + cond + `}]}`
	}
	publishOnly := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sns:Publish","Resource":"` + topic + `"}]}`
	subscribeOnly := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sns:Subscribe","Resource":"*"}]}`
	at := func(c sns.Caller, ip string) sns.Caller { c.SourceIP = netip.MustParseAddr(ip); return c }
	service := func(src string) sns.Caller {
		return sns.Caller{Region: "us-east-1", Service: "sqs.amazonaws.com", SourceARN: src, SourceAccount: otherAcct}
	}
	for _, tc := range []struct {
		name   string
		policy string // topic policy; "" = none
		caller sns.Caller
		delete bool   // DeleteTopic instead of Publish
		later  bool   // two days later
		want   string // "" = allowed, else the end of the refusal
	}{
		{name: "owner without policies", caller: root(ownerAcct)},
		{name: "owner's user without identity policy", caller: user(t, ownerAcct, "dev", "")},
		{name: "owner's user, identity policy allows", caller: user(t, ownerAcct, "pub", publishOnly)},
		{name: "owner's user, identity policy allows only publish", caller: user(t, ownerAcct, "pub", publishOnly), delete: true,
			want: "because no identity-based policy allows the SNS:DeleteTopic action"},
		{name: "owner's user, topic policy allows what identity does not", policy: allow(`{"AWS":"arn:aws:iam::111111111111:user/sub"}`),
			caller: user(t, ownerAcct, "sub", subscribeOnly)},
		{name: "default policy grants direct callers nothing", policy: sns.DefaultPolicy(storeTopic(ownerAcct, topic)),
			caller: user(t, ownerAcct, "pub", publishOnly), delete: true, want: "because no identity-based policy allows the SNS:DeleteTopic action"},
		{name: "default policy, other account", policy: sns.DefaultPolicy(storeTopic(ownerAcct, topic)),
			caller: root(otherAcct), want: "because no resource-based policy allows the SNS:Publish action"},
		{name: "other account, no topic policy", caller: root(otherAcct), want: "because no resource-based policy allows the SNS:Publish action"},
		{name: "other account granted by account id", policy: allow(`{"AWS":"222222222222"}`), caller: root(otherAcct)},
		{name: "other account's user granted through its account", policy: allow(`{"AWS":"arn:aws:iam::222222222222:root"}`), caller: user(t, otherAcct, "u", "")},
		{name: "account grant needs the identity policy too", policy: allow(`{"AWS":"222222222222"}`), caller: user(t, otherAcct, "sub", subscribeOnly),
			want: "because no identity-based policy allows the SNS:Publish action"},
		{name: "user grant needs the identity policy too", policy: allow(`{"AWS":"arn:aws:iam::222222222222:user/sub"}`), caller: user(t, otherAcct, "sub", subscribeOnly),
			want: "because no identity-based policy allows the SNS:Publish action"},
		{name: "other account, grant for another action", policy: allow(`{"AWS":"222222222222"}`), caller: root(otherAcct), delete: true,
			want: "because no resource-based policy allows the SNS:DeleteTopic action"},
		{name: "explicit deny beats the owner", policy: `{"Statement":{"Effect":"Deny","Principal":"*","Action":"sns:Publish","Resource":"*"}}`,
			caller: root(ownerAcct), want: "with an explicit deny in a resource-based policy"},
		{name: "identity deny beats the topic policy", policy: allow(`"*"`),
			caller: user(t, otherAcct, "u", `{"Statement":[{"Effect":"Deny","Action":"sns:*","Resource":"*"}]}`),
			want:   "with an explicit deny in an identity-based policy"},
		{name: "aws:PrincipalAccount matches", policy: allow(`"*"`, `{"StringEquals":{"aws:PrincipalAccount":"222222222222"}}`), caller: root(otherAcct)},
		{name: "aws:PrincipalAccount differs", policy: allow(`"*"`, `{"StringEquals":{"aws:PrincipalAccount":"333333333333"}}`), caller: root(otherAcct),
			want: "because no resource-based policy allows the SNS:Publish action"},
		{name: "aws:PrincipalArn matches", policy: allow(`"*"`, `{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::222222222222:user/*"}}`), caller: user(t, otherAcct, "u", "")},
		{name: "aws:PrincipalArn differs", policy: allow(`"*"`, `{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::222222222222:user/*"}}`), caller: root(otherAcct),
			want: "because no resource-based policy allows the SNS:Publish action"},
		{name: "aws:SourceIp inside", policy: allow(`"*"`, `{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}`), caller: at(root(otherAcct), "10.1.2.3")},
		{name: "aws:SourceIp outside", policy: allow(`"*"`, `{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}`), caller: at(root(otherAcct), "192.168.1.1"),
			want: "because no resource-based policy allows the SNS:Publish action"},
		{name: "aws:CurrentTime before the end", policy: allow(`"*"`, `{"DateLessThan":{"aws:CurrentTime":"2026-03-02T00:00:00Z"}}`), caller: root(otherAcct)},
		{name: "aws:CurrentTime after the end", policy: allow(`"*"`, `{"DateLessThan":{"aws:CurrentTime":"2026-03-02T00:00:00Z"}}`), caller: root(otherAcct), later: true,
			want: "because no resource-based policy allows the SNS:Publish action"},
		{name: "aws:SecureTransport required, plain HTTP", policy: `{"Statement":[{"Effect":"Deny","Principal":"*","Action":"sns:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`,
			caller: root(ownerAcct), want: "with an explicit deny in a resource-based policy"},
		{name: "service principal with its source", policy: allow(`{"Service":"sqs.amazonaws.com"}`, `{"ArnEquals":{"aws:SourceArn":"`+queue+`"},"StringEquals":{"aws:SourceAccount":"222222222222"}}`),
			caller: service(queue)},
		{name: "service principal, other source", policy: allow(`{"Service":"sqs.amazonaws.com"}`, `{"ArnEquals":{"aws:SourceArn":"`+queue+`"}}`),
			caller: service(queue + "2"), want: "because no resource-based policy allows the SNS:Publish action"},
		{name: "service principal, no grant", caller: service(queue), want: "because no resource-based policy allows the SNS:Publish action"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			svc, clk, arn := newAccessService(t)
			if arn != topic {
				t.Fatal(arn)
			}
			if tc.policy != "" {
				if err := svc.SetTopicAttributes(ctx, root(ownerAcct), topic, "Policy", tc.policy); err != nil {
					t.Fatal(err)
				}
			}
			if tc.later {
				clk.Add(48 * time.Hour)
			}
			var err error
			if tc.delete {
				err = svc.DeleteTopic(ctx, tc.caller, topic)
			} else {
				_, err = svc.Publish(ctx, tc.caller, sns.PublishInput{TopicARN: topic, Message: "m"})
			}
			if tc.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if !errors.Is(err, sns.ErrAuthorization) {
				t.Fatalf("want AuthorizationError, got %v", err)
			}
			who := tc.caller.Principal
			if tc.caller.Service != "" {
				who = tc.caller.Service
			}
			action := "Publish"
			if tc.delete {
				action = "DeleteTopic"
			}
			want := "User: " + who + " is not authorized to perform: SNS:" + action + " on resource: " + topic + " " + tc.want
			if err.Error() != want {
				t.Fatalf("message\n %q\nwant\n %q", err.Error(), want)
			}
		})
	}
}

// TestPolicyChangeAppliesAtOnce: the compiled policy is cached with the
// topic, and a change through the Service applies to the next request even
// with a long cache TTL.
func TestPolicyChangeAppliesAtOnce(t *testing.T) {
	ctx := context.Background()
	svc, _, topic := newAccessService(t)
	b := root(otherAcct)
	pub := func() error {
		_, err := svc.Publish(ctx, b, sns.PublishInput{TopicARN: topic, Message: "m"})
		return err
	}
	if err := pub(); !errors.Is(err, sns.ErrAuthorization) {
		t.Fatalf("before AddPermission: %v", err)
	}
	if err := svc.AddPermission(ctx, root(ownerAcct), topic, "b", []string{otherAcct}, []string{"Publish"}); err != nil {
		t.Fatal(err)
	}
	if err := pub(); err != nil {
		t.Fatalf("after AddPermission: %v", err)
	}
	if err := svc.RemovePermission(ctx, root(ownerAcct), topic, "b"); err != nil {
		t.Fatal(err)
	}
	if err := pub(); !errors.Is(err, sns.ErrAuthorization) {
		t.Fatalf("after RemovePermission: %v", err)
	}
	// B may not grant itself.
	if err := svc.AddPermission(ctx, b, topic, "self", []string{otherAcct}, []string{"Publish"}); !errors.Is(err, sns.ErrAuthorization) {
		t.Fatalf("B's AddPermission: %v", err)
	}
}

// TestAddPermissionKeepsSingleStatementDeny: a Policy whose Statement is one
// object keeps its Deny when AddPermission adds a statement.
func TestAddPermissionKeepsSingleStatementDeny(t *testing.T) {
	ctx := context.Background()
	svc, _, topic := newAccessService(t)
	owner := root(ownerAcct)
	deny := `{"Version":"2012-10-17","Statement":{"Sid":"no","Effect":"Deny","Principal":"*","Action":"sns:Publish","Resource":"*"}}`
	if err := svc.SetTopicAttributes(ctx, owner, topic, "Policy", deny); err != nil {
		t.Fatal(err)
	}
	if err := svc.AddPermission(ctx, owner, topic, "b", []string{otherAcct}, []string{"Publish"}); err != nil {
		t.Fatal(err)
	}
	attrs, err := svc.GetTopicAttributes(ctx, owner, topic)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(attrs["Policy"], `"Sid":"no"`) || !strings.Contains(attrs["Policy"], `"Sid":"b"`) {
		t.Fatalf("policy %s", attrs["Policy"])
	}
	if _, err := svc.Publish(ctx, root(otherAcct), sns.PublishInput{TopicARN: topic, Message: "m"}); !errors.Is(err, sns.ErrAuthorization) {
		t.Fatalf("the Deny was lost: %v", err)
	}
	if err := svc.AddPermission(ctx, owner, topic, "b", []string{otherAcct}, []string{"Publish"}); !errors.Is(err, sns.ErrInvalidParameter) {
		t.Fatalf("a second statement with Sid b: %v", err)
	}
}

// TestAuthenticateOnUnsubscribe: only a verified signature (Authenticated)
// confirms with AuthenticateOnUnsubscribe, and only an authenticated
// request may then unsubscribe; a request that merely carries a signature
// (Signed, as with --auth=off or a garbage signature) does not count.
func TestAuthenticateOnUnsubscribe(t *testing.T) {
	for _, authenticated := range []bool{false, true} {
		ctx := context.Background()
		svc, _, topic := newAccessService(t)
		owner := root(ownerAcct)
		res, err := svc.Subscribe(ctx, owner, topic, "http", "http://127.0.0.1:1/a", nil)
		if err != nil {
			t.Fatal(err)
		}
		sub, _ := svc.Store().GetSubscription(ctx, res.ARN)
		c := owner
		c.Authenticated = authenticated
		if _, err := svc.ConfirmSubscription(ctx, c, topic, sub.Token, true); err != nil {
			t.Fatal(err)
		}
		attrs, err := svc.GetSubscriptionAttributes(ctx, owner, res.ARN)
		if err != nil {
			t.Fatal(err)
		}
		if got := attrs["ConfirmationWasAuthenticated"]; got != map[bool]string{false: "false", true: "true"}[authenticated] {
			t.Fatalf("authenticated=%v: ConfirmationWasAuthenticated %s", authenticated, got)
		}
		if !authenticated {
			continue
		}
		signedOnly := owner
		signedOnly.Authenticated = false
		if err := svc.Unsubscribe(ctx, signedOnly, res.ARN); !errors.Is(err, sns.ErrAuthorization) {
			t.Fatalf("unauthenticated unsubscribe: %v", err)
		}
		if err := svc.Unsubscribe(ctx, owner, res.ARN); err != nil {
			t.Fatal(err)
		}
	}
}

// TestSubscribeEndpointCondition: the service keys sns:Endpoint and
// sns:Protocol reach Subscribe's decision.
func TestSubscribeEndpointCondition(t *testing.T) {
	ctx := context.Background()
	svc, _, topic := newAccessService(t)
	pol := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"222222222222"},"Action":"sns:Subscribe","Resource":"` + topic + `",` +
		`"Condition":{"StringLike":{"sns:Endpoint":"arn:aws:sqs:*:222222222222:*"},"StringEquals":{"sns:Protocol":"sqs"}}}]}`
	if err := svc.SetTopicAttributes(ctx, root(ownerAcct), topic, "Policy", pol); err != nil {
		t.Fatal(err)
	}
	b := root(otherAcct)
	if _, err := svc.Subscribe(ctx, b, topic, "sqs", "arn:aws:sqs:us-east-1:222222222222:mine", nil); err != nil {
		t.Fatalf("own queue: %v", err)
	}
	if _, err := svc.Subscribe(ctx, b, topic, "sqs", "arn:aws:sqs:us-east-1:333333333333:theirs", nil); !errors.Is(err, sns.ErrAuthorization) {
		t.Fatalf("another account's queue: %v", err)
	}
	if _, err := svc.Subscribe(ctx, b, topic, "https", "https://example.com/", nil); !errors.Is(err, sns.ErrAuthorization) {
		t.Fatalf("https endpoint: %v", err)
	}
}

// TestMissingTopicNoOracle: authorization comes before existence, so
// another account (or a user whose identity policy does not allow the
// action) cannot probe which topics exist.
func TestMissingTopicNoOracle(t *testing.T) {
	ctx := context.Background()
	svc, _, _ := newAccessService(t)
	const missing = "arn:aws:sns:us-east-1:111111111111:missing"
	pub := func(c sns.Caller) error {
		_, err := svc.Publish(ctx, c, sns.PublishInput{TopicARN: missing, Message: "m"})
		return err
	}
	if err := pub(root(ownerAcct)); !errors.Is(err, sns.ErrNotFound) {
		t.Fatalf("owner: %v", err)
	}
	if err := pub(root(otherAcct)); !errors.Is(err, sns.ErrAuthorization) {
		t.Fatalf("other account: %v", err)
	}
	limited := user(t, ownerAcct, "sub", `{"Statement":[{"Effect":"Allow","Action":"sns:Subscribe","Resource":"*"}]}`)
	if err := pub(limited); !errors.Is(err, sns.ErrAuthorization) {
		t.Fatalf("user without sns:Publish: %v", err)
	}
	if err := svc.DeleteTopic(ctx, root(otherAcct), missing); !errors.Is(err, sns.ErrAuthorization) {
		t.Fatalf("other account's DeleteTopic: %v", err)
	}
	if err := svc.DeleteTopic(ctx, root(ownerAcct), missing); err != nil {
		t.Fatalf("owner's DeleteTopic of a missing topic: %v", err)
	}
	if _, err := svc.ListTagsForResource(ctx, root(ownerAcct), missing); !errors.Is(err, sns.ErrResourceNotFound) {
		t.Fatalf("owner's ListTagsForResource: %v", err)
	}
}
