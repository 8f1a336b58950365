package filterpolicy

import (
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

type attrs = map[string]Attribute

func sAttr(v string) Attribute  { return Attribute{Type: "String", Value: v} }
func nAttr(v string) Attribute  { return Attribute{Type: "Number", Value: v} }
func saAttr(v string) Attribute { return Attribute{Type: "String.Array", Value: v} }

func mustParse(t testing.TB, policy string, scope Scope) *Policy {
	t.Helper()
	p, err := Parse(policy, scope)
	if err != nil {
		t.Fatalf("Parse(%s, %v): %v", policy, scope, err)
	}
	if p == nil {
		t.Fatalf("Parse(%s, %v) returned no policy", policy, scope)
	}
	return p
}

// attrCase is one message checked against a policy in MessageAttributes scope.
type attrCase struct {
	name   string
	policy string
	msg    attrs
	want   bool
}

// bodyCase is one message body checked against a policy in MessageBody scope.
type bodyCase struct {
	name   string
	policy string
	body   string
	want   bool
}

func runAttrCases(t *testing.T, cases []attrCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := mustParse(t, tc.policy, ScopeMessageAttributes)
			if got := p.MatchAttributes(tc.msg); got != tc.want {
				t.Errorf("policy %s, attributes %v: got %v, want %v", tc.policy, tc.msg, got, tc.want)
			}
			if got := p.Match(tc.msg, []byte(`{"ignored":true}`)); got != tc.want {
				t.Errorf("Match dispatch: got %v, want %v", got, tc.want)
			}
			m := Message{Attributes: tc.msg, Body: `{"ignored":true}`}
			if got := p.MatchMessage(&m); got != tc.want {
				t.Errorf("MatchMessage: got %v, want %v", got, tc.want)
			}
			m.Release()
		})
	}
}

func runBodyCases(t *testing.T, cases []bodyCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := mustParse(t, tc.policy, ScopeMessageBody)
			if got := p.MatchBody([]byte(tc.body)); got != tc.want {
				t.Errorf("policy %s, body %s: got %v, want %v", tc.policy, tc.body, got, tc.want)
			}
			if got := p.MatchString(nil, tc.body); got != tc.want {
				t.Errorf("MatchString dispatch: got %v, want %v", got, tc.want)
			}
			if otherBodyPolicy == nil {
				t.Fatal("otherBodyPolicy does not parse")
			}
			// One Message parsed once serves several policies in turn,
			// whatever the earlier ones did with the parsed form.
			m := Message{Body: tc.body}
			for i, q := range []*Policy{otherBodyPolicy, p, otherBodyPolicy, p} {
				got, want := q.MatchMessage(&m), tc.want
				if q == otherBodyPolicy {
					want = otherBodyPolicy.MatchBodyString(tc.body)
				}
				if got != want {
					t.Errorf("MatchMessage, policy %d on a shared Message: got %v, want %v", i, got, want)
				}
			}
			m.Release()
			if got := p.MatchMessage(&m); got != tc.want {
				t.Errorf("MatchMessage after Release: got %v, want %v", got, tc.want)
			}
			m.Release()
		})
	}
}

// otherBodyPolicy is matched on a shared Message before and after each body
// case's policy: it uses presence, numbers and arrays, so it leaves scratch
// state behind.
var otherBodyPolicy, _ = Parse(`{"$or": [{"a": [{"exists": false}], "n": [{"numeric": [">", 1]}]}, {"b": {"c": [{"prefix": "x"}]}}]}`, ScopeMessageBody)

// The message and policies of example-filter-policies.md.
var (
	exampleAttrs = attrs{
		"customer_interests": saAttr(`["soccer", "rugby", "hockey"]`),
		"store":              sAttr("example_corp"),
		"event":              sAttr("order_placed"),
		"price_usd":          nAttr("210.75"),
	}
	exampleBody = `{
      "customer_interests": ["soccer", "rugby", "hockey"],
      "store": "example_corp",
      "event":"order_placed",
      "price_usd":210.75
   }`
	exampleAccept = `{
   "store": ["example_corp"],
   "event": [{"anything-but": "order_cancelled"}],
   "customer_interests": [
      "rugby",
      "football",
      "baseball"
   ],
   "price_usd": [{"numeric": [">=", 100]}]
}`
	exampleReject = `{
   "store": ["example_corp"],
   "event": ["order_cancelled"],
   "encrypted": [false],
   "customer_interests": [
      "basketball",
      "baseball"
   ]
}`
)

func TestExamplePolicies(t *testing.T) {
	runAttrCases(t, []attrCase{
		{"accepts", exampleAccept, exampleAttrs, true},
		{"rejects", exampleReject, exampleAttrs, false},
		{"rejects only because of encrypted", `{"store":["example_corp"],"encrypted":[false]}`, exampleAttrs, false},
	})
	runBodyCases(t, []bodyCase{
		{"accepts", exampleAccept, exampleBody, true},
		{"rejects", exampleReject, exampleBody, false},
		{"rejects only because of encrypted", `{"store":["example_corp"],"encrypted":[false]}`, exampleBody, false},
	})
}

// string-value-matching.md
func TestStringMatchingAttributes(t *testing.T) {
	exact := `{"customer_interests": ["rugby", "tennis"]}`
	prefix := `{"customer_interests": [{"prefix": "bas"}]}`
	but := `{"customer_interests": [{"anything-but": ["rugby", "tennis"]}]}`
	butPrefix := `{"event":[{"anything-but": {"prefix": "order-"}}]}`
	cidr := `{"source_ip":[{"cidr": "10.0.0.0/24"}]}`
	ci := func(v string) attrs { return attrs{"customer_interests": sAttr(v)} }
	ev := func(v string) attrs { return attrs{"event": sAttr(v)} }
	ip := func(v string) attrs { return attrs{"source_ip": sAttr(v)} }
	runAttrCases(t, []attrCase{
		{"exact rugby", exact, ci("rugby"), true},
		{"exact tennis", exact, ci("tennis"), true},
		{"exact String.Array", exact, attrs{"customer_interests": saAttr(`["rugby", "tennis"]`)}, true},
		{"exact baseball", exact, ci("baseball"), false},
		{"exact String.Array baseball", exact, attrs{"customer_interests": saAttr(`["baseball"]`)}, false},
		{"exact is case-sensitive", exact, ci("Rugby"), false},
		{"exact missing", exact, attrs{"other": sAttr("rugby")}, false},
		{"prefix baseball", prefix, ci("baseball"), true},
		{"prefix basketball", prefix, ci("basketball"), true},
		{"prefix rugby", prefix, ci("rugby"), false},
		{"anything-but baseball", but, ci("baseball"), true},
		{"anything-but football", but, ci("football"), true},
		{"anything-but rugby", but, ci("rugby"), false},
		{"anything-but missing attribute", but, attrs{}, false},
		// Current AWS docs: for String.Array, anything-but matches only if
		// none of the elements is listed.
		{"anything-but String.Array with a listed element", but, attrs{"customer_interests": saAttr(`["rugby", "baseball"]`)}, false},
		{"anything-but String.Array without listed elements", but, attrs{"customer_interests": saAttr(`["baseball", "football"]`)}, true},
		{"anything-but empty String.Array", but, attrs{"customer_interests": saAttr(`[]`)}, false},
		{"anything-but prefix data-entry", butPrefix, ev("data-entry"), true},
		{"anything-but prefix order_number", butPrefix, ev("order_number"), true},
		{"anything-but prefix order-cancelled", butPrefix, ev("order-cancelled"), false},
		{"cidr first", cidr, ip("10.0.0.0"), true},
		{"cidr last", cidr, ip("10.0.0.255"), true},
		{"cidr outside", cidr, ip("10.1.1.0"), false},
		{"cidr not an address", cidr, ip("10.0.0.x"), false},
		{"cidr leading zeros", cidr, ip("010.0.0.1"), false},
		{"cidr ipv6 address vs ipv4 prefix", cidr, ip("::ffff:10.0.0.1"), false},
	})
}

func TestStringMatchingBody(t *testing.T) {
	exact := `{"customer_interests": ["rugby", "tennis"]}`
	prefix := `{"customer_interests": [{"prefix": "bas"}]}`
	but := `{"customer_interests": [{"anything-but": ["rugby", "tennis"]}]}`
	butPrefix := `{"event":[{"anything-but": {"prefix": "order-"}}]}`
	cidr := `{"source_ip":[{"cidr": "10.0.0.0/24"}]}`
	runBodyCases(t, []bodyCase{
		{"exact rugby", exact, `{"customer_interests": "rugby"}`, true},
		{"exact tennis", exact, `{"customer_interests": "tennis"}`, true},
		{"exact baseball", exact, `{"customer_interests": "baseball"}`, false},
		{"exact in array", exact, `{"customer_interests": ["baseball", "tennis"]}`, true},
		{"exact escaped", `{"k":["café \"x\""]}`, `{"k": "caf\u00e9 \"x\""}`, true},
		{"prefix baseball", prefix, `{"customer_interests": "baseball"}`, true},
		{"prefix basketball", prefix, `{"customer_interests": "basketball"}`, true},
		{"prefix rugby", prefix, `{"customer_interests": "rugby"}`, false},
		{"anything-but baseball", but, `{"customer_interests": "baseball"}`, true},
		{"anything-but football", but, `{"customer_interests": "football"}`, true},
		// In the body an array matches when one element is not listed.
		{"anything-but array with an unlisted element", but, `{"customer_interests": ["rugby", "baseball"]}`, true},
		{"anything-but array of listed elements", but, `{"customer_interests": ["rugby"]}`, false},
		{"anything-but listed", but, `{"customer_interests": "rugby"}`, false},
		{"anything-but missing key", but, `{"other": "baseball"}`, false},
		{"anything-but prefix data-entry", butPrefix, `{"event": "data-entry"}`, true},
		{"anything-but prefix order_number", butPrefix, `{"event": "order_number"}`, true},
		{"anything-but prefix order-cancelled", butPrefix, `{"event": "order-cancelled"}`, false},
		{"cidr first", cidr, `{"source_ip": "10.0.0.0"}`, true},
		{"cidr last", cidr, `{"source_ip": "10.0.0.255"}`, true},
		{"cidr outside", cidr, `{"source_ip": "10.1.1.0"}`, false},
		{"cidr number is not an address", cidr, `{"source_ip": 10}`, false},
	})
}

func TestNewerStringOperators(t *testing.T) {
	suffix := `{"file":[{"suffix": ".png"}]}`
	eic := `{"name":[{"equals-ignore-case": "Straße"}]}`
	wild := `{"file":[{"wildcard": "img/*/small-*.png"}]}`
	butSuffix := `{"file":[{"anything-but": {"suffix": [".tmp", ".bak"]}}]}`
	butWild := `{"file":[{"anything-but": {"wildcard": "*.log"}}]}`
	butEIC := `{"name":[{"anything-but": {"equals-ignore-case": ["alice", "BOB"]}}]}`
	v6 := `{"ip":[{"cidr": "2001:db8::/32"}]}`
	runAttrCases(t, []attrCase{
		{"suffix", suffix, attrs{"file": sAttr("a.png")}, true},
		{"suffix no", suffix, attrs{"file": sAttr("a.png.gz")}, false},
		{"suffix String.Array", suffix, attrs{"file": saAttr(`["a.gif", "b.png"]`)}, true},
		{"equals-ignore-case", eic, attrs{"name": sAttr("STRASSE")}, false},
		{"equals-ignore-case folded", eic, attrs{"name": sAttr("STRAßE")}, true},
		{"equals-ignore-case lower", eic, attrs{"name": sAttr("straße")}, true},
		{"wildcard", wild, attrs{"file": sAttr("img/2024/small-cat.png")}, true},
		{"wildcard empty star", wild, attrs{"file": sAttr("img//small-.png")}, true},
		{"wildcard no", wild, attrs{"file": sAttr("img/2024/large-cat.png")}, false},
		{"anything-but suffix", butSuffix, attrs{"file": sAttr("a.txt")}, true},
		{"anything-but suffix listed", butSuffix, attrs{"file": sAttr("a.bak")}, false},
		{"anything-but wildcard", butWild, attrs{"file": sAttr("a.txt")}, true},
		{"anything-but wildcard listed", butWild, attrs{"file": sAttr("x.log")}, false},
		{"anything-but equals-ignore-case", butEIC, attrs{"name": sAttr("carol")}, true},
		{"anything-but equals-ignore-case listed", butEIC, attrs{"name": sAttr("Bob")}, false},
		{"cidr ipv6", v6, attrs{"ip": sAttr("2001:db8::1")}, true},
		{"cidr ipv6 outside", v6, attrs{"ip": sAttr("2001:db9::1")}, false},
		{"cidr ipv6 vs ipv4 address", v6, attrs{"ip": sAttr("10.0.0.1")}, false},
	})
	runBodyCases(t, []bodyCase{
		{"suffix", suffix, `{"file":"a.png"}`, true},
		{"suffix no", suffix, `{"file":"a.gif"}`, false},
		{"equals-ignore-case", eic, `{"name":"STRAßE"}`, true},
		{"wildcard", wild, `{"file":"img/x/small-y.png"}`, true},
		{"wildcard no", wild, `{"file":"img/x/small-y.jpg"}`, false},
		{"anything-but suffix", butSuffix, `{"file":"a.txt"}`, true},
		{"anything-but suffix listed", butSuffix, `{"file":"a.tmp"}`, false},
		{"anything-but wildcard listed", butWild, `{"file":"x.log"}`, false},
		{"cidr ipv6", v6, `{"ip":"2001:db8:ffff::"}`, true},
	})
}

// numeric-value-matching.md
func TestNumericMatching(t *testing.T) {
	eq := `{"price_usd": [{"numeric": ["=",301.5]}]}`
	but := `{"price": [{"anything-but": [100, 500]}]}`
	neg := `{"price_usd": [{"numeric": ["<", 0]}]}`
	rng := `{"price_usd": [{"numeric": [">", 0, "<=", 150]}]}`
	bare := `{"price": [100, 2.5]}`
	p := func(v string) attrs { return attrs{"price_usd": nAttr(v)} }
	pr := func(v string) attrs { return attrs{"price": nAttr(v)} }
	runAttrCases(t, []attrCase{
		{"= 301.5", eq, p("301.5"), true},
		{"= 3.015e2", eq, p("3.015e2"), true},
		{"= 301.50000", eq, p("301.50000"), true},
		{"= within five decimals", eq, p("301.500001"), true},
		{"= 301.50001", eq, p("301.50001"), false},
		{"= String attribute is not a number", eq, attrs{"price_usd": sAttr("301.5")}, false},
		{"= custom Number type", eq, attrs{"price_usd": {Type: "Number.usd", Value: "301.5"}}, true},
		{"= invalid Number value", eq, p("0x12d.8p0"), false},
		{"anything-but 101", but, pr("101"), true},
		{"anything-but 100.1", but, pr("100.1"), true},
		{"anything-but 100", but, pr("100"), false},
		{"anything-but 1e2", but, pr("1e2"), false},
		{"anything-but String 100 is not the number", but, attrs{"price": sAttr("100")}, true},
		// Our String.Array choice also applies to the doc's Number.Array
		// example: 100 is listed, so no match.
		{"anything-but Number.Array", but, attrs{"price": {Type: "Number.Array", Value: "[100, 50]"}}, false},
		{"anything-but Number.Array unlisted", but, attrs{"price": {Type: "Number.Array", Value: "[150, 50]"}}, true},
		{"< 0 negative", neg, p("-0.5"), true},
		{"< 0 zero", neg, p("0"), false},
		{"< 0 positive", neg, p("3"), false},
		{"range 150", rng, p("150"), true},
		{"range 0.00001", rng, p("0.00001"), true},
		{"range 0", rng, p("0"), false},
		{"range 150.00001", rng, p("150.00001"), false},
		{"range String.Array element", rng, attrs{"price_usd": saAttr(`["x", 200, 20]`)}, true},
		{"range String.Array none", rng, attrs{"price_usd": saAttr(`["20", 200]`)}, false},
		{"bare number", bare, pr("100"), true},
		{"bare number 2.50", bare, pr("2.50"), true},
		{"bare number vs string", bare, attrs{"price": sAttr("100")}, false},
		{"bare number in String.Array", bare, attrs{"price": saAttr(`[1, 100]`)}, true},
	})
	runBodyCases(t, []bodyCase{
		{"= 301.5", eq, `{"price_usd": 301.5}`, true},
		{"= 3.015e2", eq, `{"price_usd": 3.015e2}`, true},
		{"= string", eq, `{"price_usd": "301.5"}`, false},
		{"anything-but 101", but, `{"price": 101}`, true},
		{"anything-but 100.1", but, `{"price": 100.1}`, true},
		{"anything-but array with unlisted", but, `{"price": [100, 50]}`, true},
		{"anything-but 100", but, `{"price": 100}`, false},
		{"anything-but [100]", but, `{"price": [100]}`, false},
		{"< 0", neg, `{"price_usd": -1e-3}`, true},
		{"< 0 no", neg, `{"price_usd": 0}`, false},
		{"range yes", rng, `{"price_usd": 150}`, true},
		{"range no", rng, `{"price_usd": 151}`, false},
		{"range huge", rng, `{"price_usd": 1e400}`, false},
		{"range array", rng, `{"price_usd": [-1, 7]}`, true},
		{"bare number", bare, `{"price": 100.0}`, true},
		{"bare number string", bare, `{"price": "100"}`, false},
	})
}

// attribute-key-matching.md
func TestExists(t *testing.T) {
	yes := `{"store": [{"exists": true}]}`
	no := `{"store": [{"exists": false}]}`
	with := attrs{
		"store":              sAttr("fans"),
		"customer_interests": saAttr(`["baseball", "basketball"]`),
	}
	without := attrs{"customer_interests": saAttr(`["baseball", "basketball"]`)}
	runAttrCases(t, []attrCase{
		{"exists true with", yes, with, true},
		{"exists true without", yes, without, false},
		{"exists false with", no, with, false},
		{"exists false without", no, without, true},
		{"exists true Number", yes, attrs{"store": nAttr("99")}, true},
		{"exists true String.Array not JSON", yes, attrs{"store": saAttr("oops")}, true},
		{"exists true empty String.Array", yes, attrs{"store": saAttr("[]")}, true},
		{"exists true Binary is ignored", yes, attrs{"store": {Type: "Binary", Value: "AAEC"}}, false},
		{"exists false Binary is ignored", no, attrs{"store": {Type: "Binary", Value: "AAEC"}}, true},
		{"exists true unknown type", yes, attrs{"store": {Type: "Bogus", Value: "x"}}, false},
		{"exists true nil map", yes, nil, false},
		{"exists false nil map", no, nil, true},
	})
	runBodyCases(t, []bodyCase{
		{"exists true with", yes, `{"store": "fans", "customer_interests": ["baseball", "basketball"]}`, true},
		{"exists true without", yes, `{"customer_interests": ["baseball", "basketball"]}`, false},
		{"exists false with", no, `{"store": "fans", "customer_interests": ["baseball", "basketball"]}`, false},
		{"exists false without", no, `{"customer_interests": ["baseball", "basketball"]}`, true},
		{"exists true null", yes, `{"store": null}`, true},
		{"exists true empty array", yes, `{"store": []}`, false},
		{"exists true object", yes, `{"store": {"a": 1}}`, false},
		{"exists true array of values", yes, `{"store": [[], [1]]}`, true},
		{"exists false empty array", no, `{"store": []}`, true},
		{"exists false empty object", no, `{"store": {}}`, true},
		{"exists false null", no, `{"store": null}`, false},
		{"exists false nested elsewhere", no, `{"a": {"store": 1}}`, true},
		{"exists false in some array element", `{"a":{"b":[{"exists":false}]}}`, `{"a": [{"b": 1}, {"c": 2}]}`, false},
		{"anything-but or exists false: absent", `{"k":[{"anything-but":["a"]},{"exists":false}]}`, `{}`, true},
		{"anything-but or exists false: listed", `{"k":[{"anything-but":["a"]},{"exists":false}]}`, `{"k":"a"}`, false},
		{"anything-but or exists false: other", `{"k":[{"anything-but":["a"]},{"exists":false}]}`, `{"k":"b"}`, true},
		{"exists true or false", `{"k":[{"exists":true},{"exists":false}]}`, `{"j":1}`, true},
	})
}

// and-or-logic.md
func TestAndOr(t *testing.T) {
	and := `{"customer_interests": ["rugby"], "price_usd": [{"numeric": [">", 100]}]}`
	or := `{"customer_interests": ["rugby", "football", "baseball"]}`
	orOp := `{"source": [ "aws.cloudwatch" ], "$or": [ { "metricName": [ "CPUUtilization" ] }, { "namespace": [ "AWS/EC2" ] } ]}`
	nestedOr := `{
  "source": [ "aws.cloudwatch" ],
  "$or": [
    { "metricName": [ "CPUUtilization", "ReadLatency" ] },
    { "metricType": [ "MetricType" ], "$or": [ { "metricId": [ 1234, 4321 ] }, { "spaceId": [ 1000, 2000, 3000 ] } ] }
  ]
}`
	runAttrCases(t, []attrCase{
		{"and both", and, attrs{"customer_interests": sAttr("rugby"), "price_usd": nAttr("101")}, true},
		{"and price too low", and, attrs{"customer_interests": sAttr("rugby"), "price_usd": nAttr("100")}, false},
		{"and wrong interest", and, attrs{"customer_interests": sAttr("football"), "price_usd": nAttr("101")}, false},
		{"and missing price", and, attrs{"customer_interests": sAttr("rugby")}, false},
		{"or football", or, attrs{"customer_interests": sAttr("football")}, true},
		{"or hockey", or, attrs{"customer_interests": sAttr("hockey")}, false},
		{"$or metricName", orOp, attrs{"source": sAttr("aws.cloudwatch"), "metricName": sAttr("CPUUtilization")}, true},
		{"$or namespace", orOp, attrs{"source": sAttr("aws.cloudwatch"), "namespace": sAttr("AWS/EC2")}, true},
		{"$or neither", orOp, attrs{"source": sAttr("aws.cloudwatch"), "namespace": sAttr("AWS/ES")}, false},
		{"$or without source", orOp, attrs{"metricName": sAttr("CPUUtilization")}, false},
		{"nested $or metricName", nestedOr, attrs{"source": sAttr("aws.cloudwatch"), "metricName": sAttr("ReadLatency")}, true},
		{"nested $or metricId", nestedOr, attrs{"source": sAttr("aws.cloudwatch"), "metricType": sAttr("MetricType"), "metricId": nAttr("4321")}, true},
		{"nested $or spaceId", nestedOr, attrs{"source": sAttr("aws.cloudwatch"), "metricType": sAttr("MetricType"), "spaceId": nAttr("3000")}, true},
		{"nested $or metricType alone", nestedOr, attrs{"source": sAttr("aws.cloudwatch"), "metricType": sAttr("MetricType")}, false},
		{"nested $or id without type", nestedOr, attrs{"source": sAttr("aws.cloudwatch"), "metricId": nAttr("1234")}, false},
		// "$or" that does not meet AWS's conditions is an ordinary key.
		{"$or with one alternative is a key", `{"$or": ["a", "b"]}`, attrs{"$or": sAttr("b")}, true},
	})
	runBodyCases(t, []bodyCase{
		{"and both", and, `{"customer_interests": "rugby", "price_usd": 101}`, true},
		{"and price too low", and, `{"customer_interests": "rugby", "price_usd": 100}`, false},
		{"or baseball", or, `{"customer_interests": "baseball"}`, true},
		{"$or metricName", orOp, `{"source": "aws.cloudwatch", "metricName": "CPUUtilization"}`, true},
		{"$or namespace", orOp, `{"source": "aws.cloudwatch", "namespace": "AWS/EC2"}`, true},
		{"$or neither", orOp, `{"source": "aws.cloudwatch"}`, false},
		{"nested $or metricId", nestedOr, `{"source": "aws.cloudwatch", "metricType": "MetricType", "metricId": 1234}`, true},
		{"nested $or wrong id", nestedOr, `{"source": "aws.cloudwatch", "metricType": "MetricType", "metricId": 1}`, false},
	})
}

// A "$or" inside a nested object of a payload policy (LocalStack's test
// against AWS); the expected results follow the policy's logic.
func TestOrInsideNestedObject(t *testing.T) {
	policy := `{
  "$or": [
    {"metricName": ["CPUUtilization", "ReadLatency"]},
    {"namespace": ["AWS/EC2", "AWS/ES"]}
  ],
  "detail": {
    "scope": ["Service"],
    "$or": [
      {"source": ["aws.cloudwatch"]},
      {"type": ["CloudWatch Alarm State Change"]}
    ]
  }
}`
	runBodyCases(t, []bodyCase{
		{"wrong scope", policy, `{"metricName": "CPUUtilization", "detail": {"scope": "aws.cloudwatch", "type": "CloudWatch Alarm State Change"}}`, false},
		{"wrong type", policy, `{"metricName": "CPUUtilization", "detail": {"scope": "Service", "type": "CPUUtilization"}}`, false},
		{"missing scope", policy, `{"metricName": "CPUUtilization", "detail": {"type": "CloudWatch Alarm State Change"}}`, false},
		{"missing source and type", policy, `{"metricName": "CPUUtilization", "detail": {"scope": "Service"}}`, false},
		{"scope at the top", policy, `{"metricName": "CPUUtilization", "scope": "Service"}`, false},
		{"metricName and source", policy, `{"metricName": "CPUUtilization", "detail": {"scope": "Service", "source": "aws.cloudwatch"}}`, true},
		{"ReadLatency and source", policy, `{"metricName": "ReadLatency", "detail": {"scope": "Service", "source": "aws.cloudwatch"}}`, true},
		{"namespace EC2", policy, `{"namespace": "AWS/EC2", "detail": {"scope": "Service", "source": "aws.cloudwatch"}}`, true},
		{"namespace ES", policy, `{"namespace": "AWS/ES", "detail": {"scope": "Service", "source": "aws.cloudwatch"}}`, true},
		{"metricName and type", policy, `{"metricName": "CPUUtilization", "detail": {"scope": "Service", "type": "CloudWatch Alarm State Change"}}`, true},
		{"metricName with a namespace value", policy, `{"metricName": "AWS/EC2", "detail": {"scope": "Service", "type": "CloudWatch Alarm State Change"}}`, false},
		{"namespace with a metric value", policy, `{"namespace": "CPUUtilization", "detail": {"scope": "Service", "type": "CloudWatch Alarm State Change"}}`, false},
	})
}

// Payload-only behaviour: nesting, dotted keys, arrays, null and booleans.
// Several cases are LocalStack's tests recorded against AWS.
func TestBodyStructure(t *testing.T) {
	nested := `{"object": {"key": [{"prefix": "auto-"}, "hardcodedvalue"], "nested_key": [{"exists": false}]}, "test": [{"exists": false}]}`
	dotted := `{"object.nested": ["string.value"]}`
	deepDotted := `{"object.nested.test": ["string.value"]}`
	route1 := `{"headers": {"route-to": ["queue1"]}}`
	s3 := `{"Records": {"s3": {"object": {"key": [{"prefix": "auto-"}]}}, "eventName": [{"prefix": "ObjectCreated:"}]}}`
	s3Created := `{"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put", "s3": {"bucket": {"name": "b"}, "object": {"key": "auto-insurance-2314.xml", "size": 17}}}]}`
	s3Removed := `{"Records": [{"eventSource": "aws:s3", "eventName": "ObjectRemoved:Delete", "s3": {"object": {"key": "auto-insurance-2314.xml", "size": 17}}}]}`
	s3Home := `{"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put", "s3": {"object": {"key": "home-insurance-2314.xml", "size": 17}}}]}`
	s3Multi := `{"Records": [
		{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put", "s3": {"object": [[{"key": "auto-insurance-2314.xml", "size": 17}]]}},
		{"eventSource": "aws:s3", "eventName": "ObjectRemoved:Delete", "s3": {"object": {"key": "home-insurance-2314.xml", "size": 17}}}]}`
	s3Mixed := `{"Records": [
		{"eventName": "ObjectCreated:Put", "s3": {"object": {"key": "home-insurance.xml"}}},
		{"eventName": "ObjectRemoved:Delete", "s3": {"object": {"key": "auto-insurance.xml"}}}]}`
	runBodyCases(t, []bodyCase{
		{"nested prefix", nested, `{"object": {"key": "auto-test"}}`, true},
		{"nested exact", nested, `{"object": {"key": "hardcodedvalue"}}`, true},
		{"nested wrong prefix", nested, `{"object": {"key": "test-auto"}}`, false},
		{"nested test exists", nested, `{"object": {"key": "auto-test"}, "test": "just-exists"}`, false},
		{"nested nested_key exists", nested, `{"object": {"key": "auto-test", "nested_key": "just-exists"}}`, false},
		{"nested key missing", nested, `{"object": {"test": "auto-test"}}`, false},
		{"nested object missing", nested, `{"test": "auto-test"}`, false},
		{"not JSON", nested, `Regular string message`, false},
		{"JSON string", nested, `"Regular string message"`, false},
		{"JSON array", nested, `[{"object": {"key": "auto-test"}}]`, false},
		{"trailing data", nested, `{"object": {"key": "auto-test"}} x`, false},
		{"empty body", nested, ``, false},
		{"dotted policy, nested body", dotted, `{"object": {"nested": "string.value"}}`, true},
		{"dotted policy, dotted body", dotted, `{"object.nested": "string.value"}`, true},
		{"dotted policy, wrong value", dotted, `{"object": {"nested": "test-auto"}}`, false},
		{"nested policy, dotted body", `{"object": {"nested": ["string.value"]}}`, `{"object.nested": "string.value"}`, true},
		{"deep dotted 1", deepDotted, `{"object": {"nested": {"test": "string.value"}}}`, true},
		{"deep dotted 2", deepDotted, `{"object.nested.test": "string.value"}`, true},
		{"deep dotted 3", deepDotted, `{"object.nested": {"test": "string.value"}}`, true},
		{"deep dotted 4", deepDotted, `{"object": {"nested.test": "string.value"}}`, true},
		{"deep dotted wrong", deepDotted, `{"object": {"nested": {"test": "string.notvalue"}}}`, false},
		{"dotted ambiguity resolved", `{"a":{"b":["1"],"c":["2"]}}`, `{"a": {"b": "1"}, "a.c": "2"}`, true},
		{"route queue1", route1, `{"headers": {"route-to": ["queue1"]}}`, true},
		{"route both", route1, `{"headers": {"route-to": ["queue1", "queue2"]}}`, true},
		{"route queue2", route1, `{"headers": {"route-to": ["queue2"]}}`, false},
		{"route queue3", route1, `{"headers": {"route-to": ["queue3"]}}`, false},
		{"s3 created", s3, s3Created, true},
		{"s3 removed", s3, s3Removed, false},
		{"s3 home", s3, s3Home, false},
		{"s3 multiple records, nested arrays", s3, s3Multi, true},
		{"s3 conditions met by different records", s3, s3Mixed, false},
		{"leaf expected, object found", `{"store":["x"]}`, `{"store": {"x": 1}}`, false},
		{"object expected, leaf found", `{"a":{"b":["x"]}}`, `{"a": "x"}`, false},
		{"empty key", `{"": ["x"]}`, `{"": "x"}`, true},
		{"empty key is not the parent", `{"a": ["x"]}`, `{"a": {"": "x"}}`, false},
		{"null", `{"k": [null]}`, `{"k": null}`, true},
		{"null missing", `{"k": [null]}`, `{}`, false},
		{"null vs string", `{"k": [null]}`, `{"k": "null"}`, false},
		{"false", `{"encrypted": [false]}`, `{"encrypted": false}`, true},
		{"false vs string", `{"encrypted": [false]}`, `{"encrypted": "false"}`, false},
		{"false vs true", `{"encrypted": [false]}`, `{"encrypted": true}`, false},
		{"true", `{"encrypted": [true]}`, `{"encrypted": [false, true]}`, true},
		{"anything-but null value", `{"k": [{"anything-but": ["a"]}]}`, `{"k": null}`, true},
		{"duplicate keys", `{"k": ["b"]}`, `{"k": "a", "k": "b"}`, true},
		{"deep nesting within limit", `{"a":{"b":{"c":{"d":["x"]}}}}`, `{"a":{"b":{"c":{"d":[[[["x"]]]]}}}}`, true},
	})
}

func TestAttributeTypes(t *testing.T) {
	runAttrCases(t, []attrCase{
		{"custom String type", `{"k":["v"]}`, attrs{"k": {Type: "String.custom", Value: "v"}}, true},
		{"Binary ignored", `{"k":["v"]}`, attrs{"k": {Type: "Binary", Value: "v"}}, false},
		{"Binary.custom ignored", `{"k":[{"exists":false}]}`, attrs{"k": {Type: "Binary.x", Value: "v"}}, true},
		{"type is case-sensitive", `{"k":["v"]}`, attrs{"k": {Type: "string", Value: "v"}}, false},
		{"String.Array not JSON", `{"k":["v"]}`, attrs{"k": saAttr(`v`)}, false},
		{"String.Array not an array", `{"k":["v"]}`, attrs{"k": saAttr(`"v"`)}, false},
		{"String.Array null element", `{"k":[null]}`, attrs{"k": saAttr(`[1, null]`)}, true},
		{"String.Array booleans", `{"k":[true]}`, attrs{"k": saAttr(`[false, true]`)}, true},
		{"String.Array nested array ignored", `{"k":["v"]}`, attrs{"k": saAttr(`[["v"]]`)}, false},
		{"null does not match missing", `{"k":[null, {"anything-but": "whatever"}]}`, attrs{}, false},
		{"null or anything-but", `{"k":[null, {"anything-but": "whatever"}]}`, attrs{"k": sAttr("x")}, true},
		{"anything-but single value", `{"k":[{"anything-but": "whatever"}]}`, attrs{"k": sAttr("whatever")}, false},
		{"anything-but string vs Number", `{"k":[{"anything-but": ["a"]}]}`, attrs{"k": nAttr("5")}, true},
		{"prefix does not apply to Number", `{"k":[{"prefix": "1"}]}`, attrs{"k": nAttr("12")}, false},
		{"dotted key is a plain name", `{"a.b":["x"]}`, attrs{"a.b": sAttr("x")}, true},
		{"many exact values", `{"k":["a","b","c","d","e","f","g","h","i","j"]}`, attrs{"k": sAttr("j")}, true},
		{"many exact values miss", `{"k":["a","b","c","d","e","f","g","h","i","j"]}`, attrs{"k": sAttr("z")}, false},
	})
}

func TestEmptyPolicy(t *testing.T) {
	for _, s := range []string{"", "   ", "{}", " { } \n"} {
		for _, scope := range []Scope{ScopeMessageAttributes, ScopeMessageBody} {
			p, err := Parse(s, scope)
			if p != nil || err != nil {
				t.Errorf("Parse(%q) = %v, %v; want nil, nil", s, p, err)
			}
			if !p.Match(nil, nil) || !p.MatchAttributes(nil) || !p.MatchBody([]byte("x")) || !p.MatchBodyString("") {
				t.Errorf("nil policy must match everything")
			}
		}
	}
}

func TestMatchDispatch(t *testing.T) {
	p := mustParse(t, `{"k":["v"]}`, ScopeMessageAttributes)
	if p.Scope() != ScopeMessageAttributes {
		t.Fatal("scope")
	}
	if !p.Match(attrs{"k": sAttr("v")}, []byte(`{"k":"x"}`)) {
		t.Error("attribute scope must look at attributes")
	}
	b := mustParse(t, `{"k":["v"]}`, ScopeMessageBody)
	if b.Scope() != ScopeMessageBody {
		t.Fatal("scope")
	}
	if b.Match(attrs{"k": sAttr("v")}, []byte(`{"k":"x"}`)) {
		t.Error("body scope must look at the body")
	}
	if !b.Match(nil, []byte(`{"k":"v"}`)) {
		t.Error("body scope must match the body")
	}
}

func TestNoAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under the race detector")
	}
	p := mustParse(t, exampleAccept, ScopeMessageAttributes)
	plain := attrs{
		"customer_interests": sAttr("rugby"),
		"store":              sAttr("example_corp"),
		"event":              sAttr("order_placed"),
		"price_usd":          nAttr("210.75"),
	}
	if n := testing.AllocsPerRun(200, func() {
		if !p.MatchAttributes(plain) {
			t.Fatal("no match")
		}
	}); n > 0 {
		t.Errorf("MatchAttributes allocates %v times per call", n)
	}
	if n := testing.AllocsPerRun(200, func() { p.MatchAttributes(exampleAttrs) }); n >= 1 {
		t.Errorf("MatchAttributes with String.Array allocates %v times per call", n)
	}
	b := mustParse(t, exampleAccept, ScopeMessageBody)
	if n := testing.AllocsPerRun(200, func() {
		if !b.MatchBodyString(exampleBody) {
			t.Fatal("no match")
		}
	}); n >= 1 {
		t.Errorf("MatchBodyString allocates %v times per call", n)
	}
	// A Message parses its body once for many policies; matching again
	// after the first does not allocate.
	if n := testing.AllocsPerRun(200, func() {
		m := Message{Body: exampleBody}
		for range 50 {
			if !b.MatchMessage(&m) {
				t.Fatal("no match")
			}
		}
		m.Release()
	}); n > 1 {
		t.Errorf("MatchMessage allocates %v times for 50 policies", n)
	}
}

func TestArrayConsistency(t *testing.T) {
	twice := `{"a": ["x"], "$or": [{"a": ["y"]}, {"b": ["z"]}]}`
	runBodyCases(t, []bodyCase{
		// Conditions ending at an array of values are met independently.
		{"two values in one array", twice, `{"a": ["x", "y"]}`, true},
		{"one value missing", twice, `{"a": ["x", "q"]}`, false},
		// Fields of objects in an array must come from the same element.
		{"same element", `{"r": {"k": ["1"], "v": ["2"]}}`, `{"r": [{"k": "1", "v": "2"}, {"k": "3"}]}`, true},
		{"different elements", `{"r": {"k": ["1"], "v": ["2"]}}`, `{"r": [{"k": "1", "v": "0"}, {"k": "3", "v": "2"}]}`, false},
		{"nested arrays", `{"r": {"k": ["1"], "s": {"v": [2]}}}`, `{"r": [[{"k": "1", "s": [{"v": 1}, {"v": 2}]}]]}`, true},
	})
	runAttrCases(t, []attrCase{
		{"two values in one String.Array", twice, attrs{"a": saAttr(`["x", "y"]`)}, true},
	})
}

func TestLongAnythingButLists(t *testing.T) {
	strs := `{"k":[{"anything-but": [` + values(50) + `]}]}`
	nums := `{"k":[{"anything-but": [1,2,3,4,5,6,7,8,9,10,11,12]}]}`
	runAttrCases(t, []attrCase{
		{"listed string", strs, attrs{"k": sAttr("value42")}, false},
		{"unlisted string", strs, attrs{"k": sAttr("value50")}, true},
		{"listed number", nums, attrs{"k": nAttr("12.0")}, false},
		{"unlisted number", nums, attrs{"k": nAttr("13")}, true},
	})
}

// Body keys that contain dots can make a policy path ambiguous; the search
// over the alternatives is bounded.
func TestAmbiguousPathsAreBounded(t *testing.T) {
	keys := []string{"a", "a.a", "a.a.a", "a.a.a.a", "a.a.a.a.a"}
	var build func(depth int) string
	build = func(depth int) string {
		if depth == 0 {
			return `"v"`
		}
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = `"` + k + `":` + build(depth-1)
		}
		return "{" + strings.Join(parts, ",") + "}"
	}
	body := build(5)
	path := strings.Repeat("a.", 12)
	policy := `{"` + path + `x": ["v"], "` + path + `y": ["v"]}`
	p := mustParse(t, policy, ScopeMessageBody)
	start := time.Now()
	if p.MatchBodyString(body) {
		t.Error("matched")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %v", d)
	}
	// The same shape where the paths do lead to values.
	ok := mustParse(t, `{"a.a.a.a.a": ["v"], "a.a.a.a.a.a.a": ["v"]}`, ScopeMessageBody)
	if !ok.MatchBodyString(body) {
		t.Error("no match")
	}
}

func TestConcurrentUse(t *testing.T) {
	attrPolicy := mustParse(t, exampleAccept, ScopeMessageAttributes)
	bodyPolicy := mustParse(t, `{"Records": {"s3": {"object": {"key": [{"prefix": "auto-"}]}}}, "$or": [{"a": [1]}, {"b": [{"exists": false}]}]}`, ScopeMessageBody)
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				if !attrPolicy.MatchAttributes(exampleAttrs) {
					t.Error("attributes: no match")
					return
				}
				body := `{"Records": [{"s3": {"object": {"key": "auto-` + strconv.Itoa(i) + `"}}}]}`
				if !bodyPolicy.MatchBodyString(body) {
					t.Error("body: no match")
					return
				}
				if bodyPolicy.MatchBodyString(`{"Records": [{"s3": {"object": {"key": "home"}}}]}`) {
					t.Error("body: unexpected match")
					return
				}
			}
		}()
	}
	wg.Wait()
}
