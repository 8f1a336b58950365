package policy

import (
	"net/netip"
	"testing"
	"time"
)

// holds evaluates a one-statement Allow policy with the given Condition.
func holds(t *testing.T, cond string, req Request) bool {
	t.Helper()
	p := mustParse(t, `{`+version+`"Statement":{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*","Condition":`+cond+`}}`)
	if req.Action == "" {
		req.Action = "sns:Publish"
		req.Resource = topicA
	}
	return p.Evaluate(&req) == Allow
}

func TestConditionOperators(t *testing.T) {
	type tc struct {
		name string
		cond string
		ctx  map[string][]string
		want bool
	}
	tests := []tc{
		// String operators.
		{"StringEquals hit", `{"StringEquals":{"k":"a"}}`, ctx("k=a"), true},
		{"StringEquals miss", `{"StringEquals":{"k":"a"}}`, ctx("k=b"), false},
		{"StringEquals case", `{"StringEquals":{"k":"a"}}`, ctx("k=A"), false},
		{"StringEquals OR values", `{"StringEquals":{"k":["a","b"]}}`, ctx("k=b"), true},
		{"StringEquals star literal", `{"StringEquals":{"k":"a*"}}`, ctx("k=abc"), false},
		{"StringEquals star literal exact", `{"StringEquals":{"k":"a*"}}`, ctx("k=a*"), true},
		{"StringEquals absent", `{"StringEquals":{"k":"a"}}`, nil, false},
		{"StringEquals number value", `{"StringEquals":{"k":10}}`, ctx("k=10"), true},
		{"StringNotEquals hit", `{"StringNotEquals":{"k":["a","b"]}}`, ctx("k=c"), true},
		{"StringNotEquals miss a", `{"StringNotEquals":{"k":["a","b"]}}`, ctx("k=a"), false},
		{"StringNotEquals miss b", `{"StringNotEquals":{"k":["a","b"]}}`, ctx("k=b"), false},
		{"StringNotEquals absent is true", `{"StringNotEquals":{"k":"a"}}`, nil, true},
		{"StringEqualsIgnoreCase", `{"StringEqualsIgnoreCase":{"k":"Hello"}}`, ctx("k=hELLO"), true},
		{"StringEqualsIgnoreCase miss", `{"StringEqualsIgnoreCase":{"k":"Hello"}}`, ctx("k=hell"), false},
		{"StringNotEqualsIgnoreCase", `{"StringNotEqualsIgnoreCase":{"k":"Hello"}}`, ctx("k=HELLO"), false},
		{"StringNotEqualsIgnoreCase other", `{"StringNotEqualsIgnoreCase":{"k":"Hello"}}`, ctx("k=bye"), true},
		{"StringLike star", `{"StringLike":{"k":"*@example.com"}}`, ctx("k=jane@example.com"), true},
		{"StringLike star miss", `{"StringLike":{"k":"*@example.com"}}`, ctx("k=jane@example.org"), false},
		{"StringLike question", `{"StringLike":{"k":"a?c"}}`, ctx("k=abc"), true},
		{"StringLike question needs one", `{"StringLike":{"k":"a?c"}}`, ctx("k=ac"), false},
		{"StringLike question unicode", `{"StringLike":{"k":"a?c"}}`, ctx("k=aéc"), true},
		{"StringLike case-sensitive", `{"StringLike":{"k":"A*"}}`, ctx("k=abc"), false},
		{"StringLike middle", `{"StringLike":{"k":"a*b*c"}}`, ctx("k=axxbyyc"), true},
		{"StringLike middle miss", `{"StringLike":{"k":"a*b*c"}}`, ctx("k=axxcyyb"), false},
		{"StringLike star empty", `{"StringLike":{"k":"ab*"}}`, ctx("k=ab"), true},
		{"StringNotLike", `{"StringNotLike":{"k":["a*","b*"]}}`, ctx("k=cat"), true},
		{"StringNotLike miss", `{"StringNotLike":{"k":["a*","b*"]}}`, ctx("k=bat"), false},
		{"StringNotLike absent", `{"StringNotLike":{"k":"a*"}}`, nil, true},
		{"key name case-insensitive", `{"StringEquals":{"AWS:SourceOwner":"1"}}`, ctx("aws:sourceowner=1"), true},
		{"key name case-insensitive mixed ctx", `{"StringEquals":{"aws:sourceowner":"1"}}`, ctx("Aws:SourceOWNER=1"), true},
		{"empty value list is absent", `{"StringEquals":{"k":"a"}}`, ctx("k="), false},

		// ARN operators.
		{"ArnEquals exact", `{"ArnEquals":{"aws:SourceArn":"arn:aws:sqs:us-east-1:111122223333:q"}}`, ctx("aws:SourceArn=arn:aws:sqs:us-east-1:111122223333:q"), true},
		{"ArnEquals wildcard", `{"ArnEquals":{"aws:SourceArn":"arn:aws:sqs:*:111122223333:*"}}`, ctx("aws:SourceArn=arn:aws:sqs:eu-west-1:111122223333:q"), true},
		{"ArnLike wildcard", `{"ArnLike":{"aws:SourceArn":"arn:aws:sns:us-east-1:111122223333:*"}}`, ctx("aws:SourceArn=" + topicA), true},
		{"ArnLike star does not cross colon", `{"ArnLike":{"aws:SourceArn":"arn:aws:sns:*:111122223333:t"}}`, ctx("aws:SourceArn=arn:aws:sns:us-east-1:999999999999:x:111122223333:t"), false},
		{"ArnLike resource part keeps colons", `{"ArnLike":{"aws:SourceArn":"arn:aws:sns:us-east-1:111122223333:t:*"}}`, ctx("aws:SourceArn=arn:aws:sns:us-east-1:111122223333:t:sub-1"), true},
		{"ArnLike question", `{"ArnLike":{"aws:SourceArn":"arn:aws:sns:us-east-?:111122223333:orders"}}`, ctx("aws:SourceArn=" + topicA), true},
		{"ArnLike case-sensitive", `{"ArnLike":{"aws:SourceArn":"arn:aws:sns:us-east-1:111122223333:Orders"}}`, ctx("aws:SourceArn=" + topicA), false},
		{"ArnLike not an ARN", `{"ArnLike":{"aws:SourceArn":"arn:aws:sns:*:*:*"}}`, ctx("aws:SourceArn=orders"), false},
		{"ArnLike short pattern", `{"ArnLike":{"aws:SourceArn":"arn:aws:sns:*"}}`, ctx("aws:SourceArn=" + topicA), true},
		{"ArnNotEquals", `{"ArnNotEquals":{"aws:SourceArn":"arn:aws:sns:*:*:other"}}`, ctx("aws:SourceArn=" + topicA), true},
		{"ArnNotLike miss", `{"ArnNotLike":{"aws:SourceArn":"arn:aws:sns:*:*:orders"}}`, ctx("aws:SourceArn=" + topicA), false},
		{"ArnNotLike absent", `{"ArnNotLike":{"aws:SourceArn":"arn:aws:sns:*:*:orders"}}`, nil, true},

		// Numeric operators.
		{"NumericEquals", `{"NumericEquals":{"n":"10"}}`, ctx("n=10.0"), true},
		{"NumericEquals json number", `{"NumericEquals":{"n":10}}`, ctx("n=10"), true},
		{"NumericEquals miss", `{"NumericEquals":{"n":"10"}}`, ctx("n=11"), false},
		{"NumericNotEquals", `{"NumericNotEquals":{"n":["1","2"]}}`, ctx("n=3"), true},
		{"NumericNotEquals miss", `{"NumericNotEquals":{"n":["1","2"]}}`, ctx("n=2"), false},
		{"NumericLessThan", `{"NumericLessThan":{"n":"10"}}`, ctx("n=9.5"), true},
		{"NumericLessThan equal", `{"NumericLessThan":{"n":"10"}}`, ctx("n=10"), false},
		{"NumericLessThanEquals", `{"NumericLessThanEquals":{"n":"10"}}`, ctx("n=10"), true},
		{"NumericLessThanEquals miss", `{"NumericLessThanEquals":{"n":"10"}}`, ctx("n=10.1"), false},
		{"NumericGreaterThan", `{"NumericGreaterThan":{"n":"-1"}}`, ctx("n=0"), true},
		{"NumericGreaterThan miss", `{"NumericGreaterThan":{"n":"-1"}}`, ctx("n=-1"), false},
		{"NumericGreaterThanEquals", `{"NumericGreaterThanEquals":{"n":"1e3"}}`, ctx("n=1000"), true},
		{"NumericGreaterThanEquals miss", `{"NumericGreaterThanEquals":{"n":"1e3"}}`, ctx("n=999"), false},
		{"Numeric bad request value", `{"NumericLessThan":{"n":"10"}}`, ctx("n=abc"), false},
		{"NumericNotEquals bad request value", `{"NumericNotEquals":{"n":"10"}}`, ctx("n=abc"), false},
		{"NumericNotEquals absent", `{"NumericNotEquals":{"n":"10"}}`, nil, true},

		// Date operators.
		{"DateEquals", `{"DateEquals":{"d":"2026-01-02T03:04:05Z"}}`, ctx("d=2026-01-02T04:04:05+01:00"), true},
		{"DateEquals epoch", `{"DateEquals":{"d":"1767323045"}}`, ctx("d=2026-01-02T03:04:05Z"), true},
		{"DateEquals date only", `{"DateEquals":{"d":"2026-01-02"}}`, ctx("d=2026-01-02T00:00:00Z"), true},
		{"DateNotEquals", `{"DateNotEquals":{"d":"2026-01-02"}}`, ctx("d=2026-01-03"), true},
		{"DateNotEquals miss", `{"DateNotEquals":{"d":"2026-01-02"}}`, ctx("d=2026-01-02"), false},
		{"DateLessThan", `{"DateLessThan":{"d":"2026-01-02"}}`, ctx("d=2026-01-01T23:59:59Z"), true},
		{"DateLessThan miss", `{"DateLessThan":{"d":"2026-01-02"}}`, ctx("d=2026-01-02"), false},
		{"DateLessThanEquals", `{"DateLessThanEquals":{"d":"2026-01-02"}}`, ctx("d=2026-01-02"), true},
		{"DateGreaterThan", `{"DateGreaterThan":{"d":"2026-01-02"}}`, ctx("d=2026-01-02T00:00:00.001Z"), true},
		{"DateGreaterThan miss", `{"DateGreaterThan":{"d":"2026-01-02"}}`, ctx("d=2026-01-01"), false},
		{"DateGreaterThanEquals", `{"DateGreaterThanEquals":{"d":"2026-01-02"}}`, ctx("d=2026-01-02"), true},
		{"DateGreaterThanEquals miss", `{"DateGreaterThanEquals":{"d":"2026-01-02"}}`, ctx("d=2025-12-31"), false},
		{"Date bad request value", `{"DateLessThan":{"d":"2026-01-02"}}`, ctx("d=yesterday"), false},

		// Bool.
		{"Bool true", `{"Bool":{"b":"true"}}`, ctx("b=true"), true},
		{"Bool json true", `{"Bool":{"b":true}}`, ctx("b=TRUE"), true},
		{"Bool false", `{"Bool":{"b":"false"}}`, ctx("b=false"), true},
		{"Bool miss", `{"Bool":{"b":"true"}}`, ctx("b=false"), false},
		{"Bool absent", `{"Bool":{"b":"false"}}`, nil, false},
		{"Bool garbage request", `{"Bool":{"b":"true"}}`, ctx("b=yes"), false},

		// IP addresses.
		{"IpAddress v4", `{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}`, ctx("aws:SourceIp=203.0.113.9"), true},
		{"IpAddress v4 miss", `{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}`, ctx("aws:SourceIp=203.0.114.9"), false},
		{"IpAddress single", `{"IpAddress":{"aws:SourceIp":"203.0.113.7"}}`, ctx("aws:SourceIp=203.0.113.7"), true},
		{"IpAddress v6", `{"IpAddress":{"aws:SourceIp":"2001:db8::/32"}}`, ctx("aws:SourceIp=2001:db8:1::5"), true},
		{"IpAddress v6 miss", `{"IpAddress":{"aws:SourceIp":"2001:db8::/32"}}`, ctx("aws:SourceIp=2001:db9::5"), false},
		{"IpAddress mapped", `{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}`, ctx("aws:SourceIp=::ffff:10.1.2.3"), true},
		{"IpAddress v4 vs v6", `{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}`, ctx("aws:SourceIp=2001:db8::1"), false},
		{"IpAddress garbage request", `{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}`, ctx("aws:SourceIp=localhost"), false},
		{"NotIpAddress", `{"NotIpAddress":{"aws:SourceIp":["10.0.0.0/8","192.168.0.0/16"]}}`, ctx("aws:SourceIp=8.8.8.8"), true},
		{"NotIpAddress miss", `{"NotIpAddress":{"aws:SourceIp":["10.0.0.0/8","192.168.0.0/16"]}}`, ctx("aws:SourceIp=192.168.1.1"), false},

		// Binary.
		{"BinaryEquals", `{"BinaryEquals":{"k":"QmluYXJ5"}}`, ctx("k=QmluYXJ5"), true},
		{"BinaryEquals miss", `{"BinaryEquals":{"k":"QmluYXJ5"}}`, ctx("k=QmluYXJ6"), false},

		// Null.
		{"Null true absent", `{"Null":{"k":"true"}}`, nil, true},
		{"Null true empty list", `{"Null":{"k":"true"}}`, ctx("k="), true},
		{"Null true present", `{"Null":{"k":"true"}}`, ctx("k=x"), false},
		{"Null false present", `{"Null":{"k":"false"}}`, ctx("k=x"), true},
		{"Null false absent", `{"Null":{"k":false}}`, nil, false},

		// IfExists.
		{"IfExists absent", `{"StringEqualsIfExists":{"k":"a"}}`, nil, true},
		{"IfExists present hit", `{"StringEqualsIfExists":{"k":"a"}}`, ctx("k=a"), true},
		{"IfExists present miss", `{"StringEqualsIfExists":{"k":"a"}}`, ctx("k=b"), false},
		{"NotIfExists absent", `{"StringNotEqualsIfExists":{"k":"a"}}`, nil, true},
		{"NotIfExists present", `{"StringNotEqualsIfExists":{"k":"a"}}`, ctx("k=a"), false},
		{"NumericIfExists absent", `{"NumericLessThanIfExists":{"n":"1"}}`, nil, true},
		{"BoolIfExists absent", `{"BoolIfExists":{"b":"true"}}`, nil, true},
		{"IpAddressIfExists present", `{"IpAddressIfExists":{"aws:SourceIp":"10.0.0.0/8"}}`, ctx("aws:SourceIp=11.0.0.1"), false},

		// Multi-valued keys.
		{"plain multi any matches", `{"StringEquals":{"k":"b"}}`, ctx("k=a|b"), true},
		{"plain negated multi", `{"StringNotEquals":{"k":"b"}}`, ctx("k=a|b"), false},
		{"ForAnyValue hit", `{"ForAnyValue:StringEquals":{"k":["x","b"]}}`, ctx("k=a|b"), true},
		{"ForAnyValue miss", `{"ForAnyValue:StringEquals":{"k":["x","y"]}}`, ctx("k=a|b"), false},
		{"ForAnyValue absent", `{"ForAnyValue:StringEquals":{"k":"a"}}`, nil, false},
		{"ForAnyValue empty set", `{"ForAnyValue:StringEquals":{"k":"a"}}`, ctx("k="), false},
		{"ForAnyValue negated", `{"ForAnyValue:StringNotEquals":{"k":"a"}}`, ctx("k=a|b"), true},
		{"ForAnyValue negated miss", `{"ForAnyValue:StringNotEquals":{"k":["a","b"]}}`, ctx("k=a|b"), false},
		{"ForAnyValue negated absent", `{"ForAnyValue:StringNotEquals":{"k":"a"}}`, nil, false},
		{"ForAllValues hit", `{"ForAllValues:StringEquals":{"k":["a","b","c"]}}`, ctx("k=a|b"), true},
		{"ForAllValues miss", `{"ForAllValues:StringEquals":{"k":["a","c"]}}`, ctx("k=a|b"), false},
		{"ForAllValues absent", `{"ForAllValues:StringEquals":{"k":"a"}}`, nil, true},
		{"ForAllValues empty set", `{"ForAllValues:StringEquals":{"k":"a"}}`, ctx("k="), true},
		{"ForAllValues StringLike", `{"ForAllValues:StringLike":{"aws:TagKeys":"Created*"}}`, ctx("aws:TagKeys=CreatedBy|CreatedAt"), true},
		{"ForAllValues negated all", `{"ForAllValues:StringNotLike":{"aws:TagKeys":"key1*"}}`, ctx("aws:TagKeys=key2:audit"), true},
		{"ForAllValues negated one", `{"ForAllValues:StringNotLike":{"aws:TagKeys":"key1*"}}`, ctx("aws:TagKeys=key1:hr|key2:x"), false},
		{"ForAllValues negated absent", `{"ForAllValues:StringNotLike":{"aws:TagKeys":"key1*"}}`, nil, true},
		{"ForAllValues IfExists absent", `{"ForAnyValue:StringEqualsIfExists":{"k":"a"}}`, nil, true},
		{"ForAllValues numeric", `{"ForAllValues:NumericLessThan":{"n":"10"}}`, ctx("n=1|2|3"), true},
		{"ForAllValues numeric one over", `{"ForAllValues:NumericLessThan":{"n":"10"}}`, ctx("n=1|20"), false},

		// AND across keys and operators.
		{"AND both", `{"StringEquals":{"a":"1","b":"2"}}`, ctx("a=1", "b=2"), true},
		{"AND one missing", `{"StringEquals":{"a":"1","b":"2"}}`, ctx("a=1"), false},
		{"AND operators", `{"StringEquals":{"a":"1"},"Bool":{"s":"true"}}`, ctx("a=1", "s=false"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := holds(t, tt.cond, Request{Context: tt.ctx}); got != tt.want {
				t.Errorf("%s with %v: got %v, want %v", tt.cond, tt.ctx, got, tt.want)
			}
		})
	}
}

func TestDerivedKeys(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	base := Request{
		Principal:       alice(),
		SourceIP:        netip.MustParseAddr("198.51.100.7"),
		SecureTransport: true,
		Time:            now,
	}
	tests := []struct {
		name string
		cond string
		req  Request
		want bool
	}{
		{"PrincipalAccount", `{"StringEquals":{"aws:PrincipalAccount":"111122223333"}}`, base, true},
		{"PrincipalArn", `{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::111122223333:user/*"}}`, base, true},
		{"PrincipalType", `{"StringEquals":{"aws:PrincipalType":"User"}}`, base, true},
		{"username", `{"StringEquals":{"aws:username":"alice"}}`, base, true},
		{"userid", `{"StringEquals":{"aws:userid":"AIDAALICE"}}`, base, true},
		{"SourceIp", `{"IpAddress":{"aws:SourceIp":"198.51.100.0/24"}}`, base, true},
		{"SourceIp string", `{"StringEquals":{"aws:SourceIp":"198.51.100.7"}}`, base, true},
		{"SecureTransport", `{"Bool":{"aws:SecureTransport":"true"}}`, base, true},
		{"SecureTransport false", `{"Bool":{"aws:SecureTransport":"false"}}`, Request{}, true},
		{"CurrentTime", `{"DateLessThan":{"aws:CurrentTime":"2026-06-01T00:00:00Z"}}`, base, true},
		{"CurrentTime after", `{"DateGreaterThan":{"aws:CurrentTime":"2026-06-01T00:00:00Z"}}`, base, false},
		{"CurrentTime string", `{"StringLike":{"aws:CurrentTime":"2026-05-01T*"}}`, base, true},
		{"EpochTime numeric", `{"NumericGreaterThan":{"aws:EpochTime":"1700000000"}}`, base, true},
		{"EpochTime absent without Time", `{"Null":{"aws:EpochTime":"true"}}`, Request{}, true},
		{"context overrides", `{"StringEquals":{"aws:PrincipalAccount":"999999999999"}}`, Request{Principal: alice(), Context: ctx("aws:PrincipalAccount=999999999999")}, true},
		{"service name", `{"StringEquals":{"aws:PrincipalServiceName":"sns.amazonaws.com"}}`, Request{Principal: Principal{Service: snsSvc}}, true},
		{"anonymous type", `{"StringEquals":{"aws:PrincipalType":"Anonymous"}}`, Request{}, true},
		{"root type", `{"StringEquals":{"aws:PrincipalType":"Account"}}`, Request{Principal: Principal{Account: acctA, ARN: rootA}}, true},
		{"no username for root", `{"Null":{"aws:username":"true"}}`, Request{Principal: Principal{Account: acctA, ARN: rootA}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := holds(t, tt.cond, tt.req); got != tt.want {
				t.Errorf("%s: got %v, want %v", tt.cond, got, tt.want)
			}
		})
	}
}
