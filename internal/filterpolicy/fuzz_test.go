package filterpolicy

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// seedPolicies covers every operator; FuzzMatch compiles all of them.
var seedPolicies = []string{
	exampleAccept,
	exampleReject,
	`{"customer_interests": [{"anything-but": ["rugby", "tennis"]}], "store": [{"exists": false}]}`,
	`{"event":[{"anything-but": {"prefix": "order-"}}], "n": [{"anything-but": [100, 500]}]}`,
	`{"source_ip":[{"cidr": "10.0.0.0/24"}, {"cidr": "2001:db8::/32"}]}`,
	`{"price_usd": [{"numeric": [">", 0, "<=", 150]}, {"numeric": ["=", 301.5]}, 7, null, true]}`,
	`{"f":[{"suffix": ".png"}, {"equals-ignore-case": "ABC"}, {"wildcard": "a*b*c"}, {"prefix": ""}]}`,
	`{"f":[{"anything-but": {"wildcard": ["*.log", "x*"]}}, {"anything-but": {"equals-ignore-case": "q"}}, {"anything-but": {"suffix": "z"}}]}`,
	`{"source": ["aws.cloudwatch"], "$or": [{"metricName": ["CPUUtilization"]}, {"namespace": ["AWS/EC2"], "$or": [{"a": [1]}, {"b": [2]}]}]}`,
	`{"k": [{"exists": true}], "a.b": ["x"], "": [""]}`,
}

var seedBodyPolicies = []string{
	`{"object": {"key": [{"prefix": "auto-"}, "hardcodedvalue"], "nested_key": [{"exists": false}]}, "test": [{"exists": false}]}`,
	`{"Records": {"s3": {"object": {"key": [{"prefix": "auto-"}]}}, "eventName": [{"prefix": "ObjectCreated:"}]}}`,
	`{"$or": [{"metricName": ["CPUUtilization"]}, {"namespace": ["AWS/EC2"]}], "detail": {"scope": ["Service"], "$or": [{"source": ["aws.cloudwatch"]}, {"type": [null, false]}]}}`,
	`{"a.b": {"c": [{"anything-but": "x"}, {"exists": false}]}, "a": {"b.c": [{"numeric": ["<", 0]}]}, "x": [{"cidr": "::/0"}]}`,
	`{"k": [null, true, 1.5, "s", {"wildcard": "*"}, {"equals-ignore-case": "é"}]}`,
}

func FuzzParse(f *testing.F) {
	for _, s := range append(append([]string{}, seedPolicies...), seedBodyPolicies...) {
		f.Add(s)
	}
	for _, s := range []string{
		`{"key":[["value"]]}`, `{"key":[{"numeric":[">",3,"<",1]}]}`, `{"$or":[{"numeric":123},{"prefix":"abc"}]}`,
		`{"a":{"b":{}}}`, `{"a":[{"wildcard":"a\\*\\\\**"}]}`, `{"a":[{"cidr":"1.2.3.4/ 8"}]}`, `{"a":"\ud800"}`,
		`{"a":[{"numeric":["=",1e-400]}]}`, `[`, `{"a":[1e999999999999999999999]}`,
	} {
		f.Add(s)
	}
	bodies := []string{exampleBody, `{"a":{"b":[1,{"c":null}]},"a.b":"x","object":{"key":"auto-x"}}`, `{}`, `[]`}
	attrSets := []map[string]Attribute{exampleAttrs, {"a": saAttr(`[1,"x",null,true]`), "k": nAttr("-0"), "a.b": sAttr("x")}}
	f.Fuzz(func(t *testing.T, policy string) {
		for _, scope := range []Scope{ScopeMessageAttributes, ScopeMessageBody} {
			p, err := Parse(policy, scope)
			if err != nil {
				if p != nil {
					t.Fatal("policy and error both returned")
				}
				if _, ok := err.(*Error); !ok {
					t.Fatalf("error type %T", err)
				}
				continue
			}
			if p == nil {
				continue
			}
			if p.Complexity() > MaxCombinations || p.Keys() > MaxKeys || len(p.terms) > MaxCombinations {
				t.Fatalf("limits not enforced: complexity %d keys %d terms %d", p.Complexity(), p.Keys(), len(p.terms))
			}
			for _, b := range bodies {
				p.MatchBodyString(b)
			}
			for _, a := range attrSets {
				p.MatchAttributes(a)
			}
		}
	})
}

func FuzzMatch(f *testing.F) {
	f.Add(exampleBody, "customer_interests", "String.Array", `["soccer", "rugby", "hockey"]`)
	f.Add(`{"object": {"key": "auto-test"}}`, "store", "String", "example_corp")
	f.Add(`{"Records":[{"eventName":"ObjectCreated:Put","s3":{"object":[[{"key":"auto-1"}]]}}]}`, "price_usd", "Number", "210.75")
	f.Add(`{"a.b":{"c":"y"},"a":{"b.c":-1,"b":{"c":null}},"x":"::1"}`, "source_ip", "String", "10.0.0.7")
	f.Add(`{"detail":{"scope":"Service","type":null},"namespace":"AWS/EC2"}`, "f", "String.custom", "abc.png")
	f.Add(`{"k":"\u00e9"}`, "n", "Number", "1e400")
	f.Add(`{"k":[[[[[]]]]]}`, "a.b", "Binary", "AAEC")
	var policies []*Policy
	for _, s := range seedPolicies {
		policies = append(policies, mustParse(f, s, ScopeMessageAttributes), mustParse(f, s, ScopeMessageBody))
	}
	for _, s := range seedBodyPolicies {
		policies = append(policies, mustParse(f, s, ScopeMessageBody))
	}
	f.Fuzz(func(t *testing.T, body, name, typ, value string) {
		msg := map[string]Attribute{
			name:                 {Type: typ, Value: value},
			"customer_interests": {Type: "String.Array", Value: value},
			"price_usd":          {Type: "Number", Value: value},
		}
		for _, p := range policies {
			p.MatchAttributes(msg)
			a := p.MatchBodyString(body)
			if b := p.MatchBody([]byte(body)); a != b {
				t.Fatalf("MatchBody and MatchBodyString disagree on %q", body)
			}
			p.Match(msg, []byte(value))
		}
	})
}

// FuzzJSON checks the JSON reader against encoding/json.
func FuzzJSON(f *testing.F) {
	for _, s := range []string{exampleBody, `{"a":"\ud83d\ude00\ud800x\\\/\b\f\n\r\t"}`, `[1,-0,0.5e+3,1E-2]`, `{"a":1,"a":2}`, `tru`, `"\u12"`, "\"\x01\"", `01`, `1.`, `-`, ` {"x" : [ ] } `} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) || strings.Count(s, "[")+strings.Count(s, "{") > maxJSONDepth {
			return
		}
		var p jparser
		root, ok := p.parse(s)
		if ok != json.Valid([]byte(s)) {
			t.Fatalf("valid = %v, encoding/json says %v for %q (%s)", ok, !ok, s, p.errMsg)
		}
		if !ok {
			return
		}
		var want any
		if err := json.Unmarshal([]byte(s), &want); err != nil {
			return // e.g. numbers beyond float64
		}
		if got := toAny(&p, root); !reflect.DeepEqual(got, want) {
			t.Fatalf("decoded %#v, encoding/json %#v", got, want)
		}
	})
}

func toAny(p *jparser, idx int32) any {
	n := &p.nodes[idx]
	switch n.kind {
	case jNull:
		return nil
	case jTrue:
		return true
	case jFalse:
		return false
	case jNumber:
		return parseNumber(n.str)
	case jString:
		return n.str
	case jArray:
		out := []any{}
		for c := n.first; c >= 0; c = p.nodes[c].next {
			out = append(out, toAny(p, c))
		}
		return out
	}
	out := map[string]any{}
	for c := n.first; c >= 0; c = p.nodes[c].next {
		out[p.nodes[c].key] = toAny(p, c)
	}
	return out
}
