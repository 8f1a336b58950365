package filterpolicy

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

type errCase struct {
	name   string
	policy string
	scope  Scope
	want   string // Error.Message; a trailing "*" means prefix match
}

func runErrCases(t *testing.T, cases []errCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Parse(tc.policy, tc.scope)
			if err == nil {
				t.Fatalf("Parse(%s) succeeded (%d terms), want error %q", tc.policy, len(p.terms), tc.want)
			}
			var fe *Error
			if !errors.As(err, &fe) {
				t.Fatalf("error %T is not *Error", err)
			}
			if p != nil {
				t.Errorf("policy returned with error")
			}
			if prefix, ok := strings.CutSuffix(tc.want, "*"); ok {
				if !strings.HasPrefix(fe.Message, prefix) {
					t.Errorf("Parse(%s) = %q, want prefix %q", tc.policy, fe.Message, prefix)
				}
			} else if fe.Message != tc.want {
				t.Errorf("Parse(%s) = %q, want %q", tc.policy, fe.Message, tc.want)
			}
		})
	}
}

const (
	attrScope = ScopeMessageAttributes
	bodyScope = ScopeMessageBody
)

// The messages AWS returned for these policies were recorded by LocalStack's
// AWS-validated tests (tests/aws/services/sns/test_sns_filter_policy.py).
func TestValidationAWSRecorded(t *testing.T) {
	runErrCases(t, []errCase{
		{"nested list", `{"key":[["value"]]}`, attrScope, "Match value must be String, number, true, false, or null"},
		{"unknown operator", `{"key":[{"wrong-operator":true}]}`, attrScope, "Unrecognized match type wrong-operator"},
		{"two operators", `{"key":[{"suffix":"value","prefix":"value2"}]}`, attrScope, "Only one key allowed in match expression"},
		{"suffix number", `{"key":[{"suffix":100}]}`, attrScope, "suffix match pattern must be a string"},
		{"suffix null", `{"key":[{"suffix":null}]}`, attrScope, "suffix match pattern must be a string"},
		{"suffix empty list", `{"key":[{"suffix":[]}]}`, attrScope, "suffix match pattern must be a string"},
		{"suffix list", `{"key":[{"suffix":["test","test2"]}]}`, attrScope, "suffix match pattern must be a string"},
		{"operator not in a list", `{"key":{"suffix":"value"}}`, attrScope, `"suffix" must be an object or an array`},
		{"operators not in a list", `{"key":{"suffix":"value","prefix":"value"}}`, attrScope, `"suffix" must be an object or an array`},
		{"not an operator, not in a list", `{"key":{"not-an-operator":"value"}}`, attrScope, `"not-an-operator" must be an object or an array`},
		{"numeric empty", `{"key":[{"numeric":[]}]}`, attrScope, "Invalid member in numeric match: ]"},
		{"numeric unknown operator", `{"key":[{"numeric":["operator"]}]}`, attrScope, "Unrecognized numeric range operator: operator"},
		{"numeric operand first", `{"key":[{"numeric":[1,"<="]}]}`, attrScope, "Invalid member in numeric match: 1"},
		{"numeric string operand", `{"key":[{"numeric":["=","000"]}]}`, attrScope, "Value of equals must be numeric"},
		{"numeric missing operand", `{"key":[{"numeric":[">="]}]}`, attrScope, "Value of >= must be numeric"},
		{"numeric range starts with <", `{"key":[{"numeric":["<",100,">",10]}]}`, attrScope, "Too many elements in numeric expression"},
		{"numeric two lower bounds", `{"key":[{"numeric":[">=",1,">",2]}]}`, attrScope, "Bad numeric range operator: >"},
		{"numeric bottom above top", `{"key":[{"numeric":[">",3,"<",1]}]}`, attrScope, "Bottom must be less than top"},
		{"numeric missing second operand", `{"key":[{"numeric":[">",20,"<="]}]}`, attrScope, "Value of <= must be numeric"},
		{"numeric missing second operator", `{"key":[{"numeric":[">",20,30]}]}`, attrScope, "Bad value in numeric range: 30"},
		{"numeric bad second operator", `{"key":[{"numeric":[">",20,"test"]}]}`, attrScope, "Bad numeric range operator: test"},
		{"numeric string first operand", `{"key":[{"numeric":[">","20","<","30"]}]}`, attrScope, "Value of > must be numeric"},
		{"numeric string second operand", `{"key":[{"numeric":[">",20,"<","30"]}]}`, attrScope, "Value of < must be numeric"},
		{"numeric too many terms", `{"key":[{"numeric":[">",20,"<",30,"<",50]}]}`, attrScope, "Too many terms in numeric range expression"},
		{"exists null", `{"key":[{"exists":null}]}`, attrScope, "exists match pattern must be either true or false."},
		{"exists string", `{"key":[{"exists":"no"}]}`, attrScope, "exists match pattern must be either true or false."},
		{"anything-but unknown", `{"key":[{"anything-but":{"wrong-operator":null}}]}`, attrScope, "Unsupported anything-but pattern: wrong-operator"},
		{"anything-but exists", `{"key":[{"anything-but":{"exists":false}}]}`, attrScope, "Unsupported anything-but pattern: exists"},
		{"anything-but prefix bool", `{"key":[{"anything-but":{"prefix":false}}]}`, attrScope, "prefix match pattern must be a string"},
		{"too many keys", `{"key1":["value1"],"key2":["value2"],"key3":["value3"],"key4":["value4"],"key5":["value5"],"key6":["value6"]}`, attrScope, "Filter policy can not have more than 5 keys"},
		{"too many keys body", `{"key_a":["value_one"],"key_b":["value_two"],"key_c":["value_three"],"key_d":["value_four"],"key_e":["value_five"],"key_f":["value_six"]}`, bodyScope, "Filter policy can not have more than 5 keys"},
		{"rule not in a list", `{"key_a":"value_one"}`, bodyScope, `"key_a" must be an object or an array`},
		{"nested in attribute scope", `{"object":{"key":[{"prefix":"auto-"}]}}`, attrScope, "Filter policy scope MessageAttributes does not support nested filter policy"},
		{"too complex, one key", `{"key":[` + values(151) + `]}`, attrScope, "Filter policy is too complex"},
		{"too complex, two keys", `{"key1":[` + values(100) + `],"key2":[` + values(51) + `]}`, attrScope, "Filter policy is too complex"},
		// 3x4 x 2x3 x 1x3 = 216
		{"too complex, nested", `{"key_a":{"key_b":{"key_c":["value_one","value_two","value_three","value_four"]}},"key_d":{"key_e":["value_one","value_two","value_three"]},"key_f":["value_one","value_two","value_three"]}`, bodyScope, "Filter policy is too complex"},
		// 4 x (6 + 4 x (4 + 4)) = 152
		{"too complex, $or", `{"source":["aws.cloudwatch","aws.events","aws.test","aws.test2"],"$or":[{"metricName":["CPUUtilization","ReadLatency","t1","t2","t3","t4"]},{"metricType":["MetricType","TestType","TestType2","TestType3"],"$or":[{"metricId":[1234,4321,5678,9012]},{"spaceId":[1,2,3,4]}]}]}`, attrScope, "Filter policy is too complex"},
		// (3 + 2) x (2x2) x (1x2 + 3x2) = 160
		{"too complex, nested $or", `{"$or":[{"metricName":["CPUUtilization","ReadLatency","TestValue"]},{"namespace":["AWS/EC2","AWS/ES"]}],"detail":{"scope":["Service","Test"],"$or":[{"source":["aws.cloudwatch"]},{"type":["CloudWatch Alarm State Change","TestValue","TestValue2"]}]}}`, bodyScope, "Filter policy is too complex"},
	})
}

func values(n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = fmt.Sprintf(`"value%d"`, i)
	}
	return strings.Join(parts, ",")
}

func TestValidationOther(t *testing.T) {
	runErrCases(t, []errCase{
		{"invalid JSON", `{"key": ["a"`, attrScope, "failed to parse JSON.*"},
		{"invalid JSON trailing", `{"key": ["a"]} {}`, attrScope, "failed to parse JSON.*"},
		{"single quotes", `{'key': ['a']}`, attrScope, "failed to parse JSON.*"},
		{"not an object", `["a"]`, attrScope, "Filter policy must be a JSON object"},
		{"null policy", `null`, attrScope, "Filter policy must be a JSON object"},
		{"invalid UTF-8", "{\"k\":[\"\xff\"]}", attrScope, "Filter policy must be a valid UTF-8 string"},
		{"too large", `{"k":["` + strings.Repeat("a", MaxPolicySize) + `"]}`, attrScope, "Filter policy can not be larger than 256 KB"},
		{"empty array", `{"key":[]}`, attrScope, "Empty arrays are not allowed"},
		{"empty nested object", `{"key":{}}`, bodyScope, "Empty objects are not allowed"},
		{"empty match expression", `{"key":[{}]}`, attrScope, "Empty objects are not allowed"},
		{"number value", `{"key":5}`, attrScope, `"key" must be an object or an array`},
		{"null value", `{"key":null}`, bodyScope, `"key" must be an object or an array`},
		{"object in list", `{"key":[{"a":["b"]}]}`, attrScope, "Unrecognized match type a"},
		{"prefix number", `{"key":[{"prefix":5}]}`, attrScope, "prefix match pattern must be a string"},
		{"equals-ignore-case list", `{"key":[{"equals-ignore-case":["a"]}]}`, attrScope, "equals-ignore-case match pattern must be a string"},
		{"wildcard number", `{"key":[{"wildcard":1}]}`, attrScope, "wildcard match pattern must be a string"},
		{"wildcard consecutive stars", `{"key":[{"wildcard":"a**b"}]}`, attrScope, "Consecutive wildcard characters at pos 2"},
		{"wildcard bad escape", `{"key":[{"wildcard":"a\\b"}]}`, attrScope, "Invalid escape character at pos 1"},
		{"wildcard trailing backslash", `{"key":[{"wildcard":"ab\\"}]}`, attrScope, "Invalid escape character at pos 2"},
		{"exists number", `{"key":[{"exists":1}]}`, attrScope, "exists match pattern must be either true or false."},
		{"exists two keys", `{"key":[{"exists":true,"prefix":"a"}]}`, attrScope, "Only one key allowed in match expression"},
		{"numeric not array", `{"key":[{"numeric":5}]}`, attrScope, "Value of numeric must be an array."},
		{"numeric only operator", `{"key":[{"numeric":[">"]}]}`, attrScope, "Value of > must be numeric"},
		{"numeric equal bounds", `{"key":[{"numeric":[">",5,"<",5]}]}`, attrScope, "Bottom must be less than top"},
		{"numeric = then more", `{"key":[{"numeric":["=",5,"<",10]}]}`, attrScope, "Too many elements in numeric expression"},
		{"numeric object member", `{"key":[{"numeric":[{}]}]}`, attrScope, "Invalid member in numeric match: {"},
		{"numeric null third", `{"key":[{"numeric":[">",1,null]}]}`, attrScope, "Bad value in numeric range: null"},
		{"numeric above 1e9", `{"key":[{"numeric":[">",1000000001]}]}`, attrScope, errNumberRange + "1000000001"},
		{"numeric below -1e9", `{"key":[{"numeric":[">",-1e10]}]}`, attrScope, errNumberRange + "-1e10"},
		{"numeric six decimals", `{"key":[{"numeric":["=",0.000001]}]}`, attrScope, errNumberRange + "0.000001"},
		{"numeric six decimals exponent", `{"key":[{"numeric":["<",1.5e-6]}]}`, attrScope, errNumberRange + "1.5e-6"},
		{"numeric top out of range", `{"key":[{"numeric":[">",0,"<",1e300]}]}`, attrScope, errNumberRange + "1e300"},
		{"anything-but bool", `{"key":[{"anything-but":true}]}`, attrScope, errAnythingBut},
		{"anything-but null", `{"key":[{"anything-but":null}]}`, attrScope, errAnythingBut},
		{"anything-but empty list", `{"key":[{"anything-but":[]}]}`, attrScope, "Empty arrays are not allowed"},
		{"anything-but list with bool", `{"key":[{"anything-but":["a",true]}]}`, attrScope, errButListType},
		{"anything-but list with list", `{"key":[{"anything-but":[["a"]]}]}`, attrScope, errButListType},
		{"anything-but mixed list", `{"key":[{"anything-but":["a",1]}]}`, attrScope, errButListMixed},
		{"anything-but numeric", `{"key":[{"anything-but":{"numeric":[">",1]}}]}`, attrScope, "Unsupported anything-but pattern: numeric"},
		{"anything-but empty object", `{"key":[{"anything-but":{}}]}`, attrScope, "Empty objects are not allowed"},
		{"anything-but prefix empty list", `{"key":[{"anything-but":{"prefix":[]}}]}`, attrScope, "prefix match pattern must be a string"},
		{"anything-but suffix list with number", `{"key":[{"anything-but":{"suffix":["a",1]}}]}`, attrScope, "suffix match pattern must be a string"},
		{"anything-but two keys", `{"key":[{"anything-but":{"prefix":"a","suffix":"b"}}]}`, attrScope, "Only one key allowed in match expression"},
		{"anything-but bad wildcard", `{"key":[{"anything-but":{"wildcard":["ok*","x**"]}}]}`, attrScope, "Consecutive wildcard characters at pos 2"},
		{"cidr number", `{"key":[{"cidr":5}]}`, attrScope, "prefix match pattern must be a string"},
		{"cidr no slash", `{"key":[{"cidr":"10.0.0.0"}]}`, attrScope, "Malformed CIDR, one '/' required"},
		{"cidr two slashes", `{"key":[{"cidr":"10.0.0.0/8/8"}]}`, attrScope, "Malformed CIDR, one '/' required"},
		{"cidr bits not integer", `{"key":[{"cidr":"10.0.0.0/x"}]}`, attrScope, "Malformed CIDR, mask bits must be an integer"},
		{"cidr bits empty", `{"key":[{"cidr":"10.0.0.0/"}]}`, attrScope, "Malformed CIDR, mask bits must be an integer"},
		{"cidr bad address", `{"key":[{"cidr":"10.0.0/24"}]}`, attrScope, "Nonstandard IP address: 10.0.0"},
		{"cidr ipv4 bits", `{"key":[{"cidr":"10.0.0.0/33"}]}`, attrScope, "Malformed CIDR, mask bits must be between 0 and 32"},
		{"cidr ipv6 bits", `{"key":[{"cidr":"2001:db8::/129"}]}`, attrScope, "Malformed CIDR, mask bits must be between 0 and 128"},
		// "$or" with reserved field names is an ordinary key (AWS doc example).
		{"$or with reserved names", `{"$or":[{"numeric":123},{"prefix":"abc"}]}`, attrScope, "Value of numeric must be an array."},
		{"$or with one alternative", `{"$or":[{"a":["x"]}]}`, attrScope, "Unrecognized match type a"},
		{"$or empty alternative", `{"$or":[{"a":["x"]},{}]}`, attrScope, "Empty objects are not allowed"},
		{"$or alternative error", `{"$or":[{"a":["x"]},{"b":[]}]}`, attrScope, "Empty arrays are not allowed"},
		{"$or alternative nested in attribute scope", `{"$or":[{"a":["x"]},{"b":{"c":["y"]}}]}`, attrScope, errNestedInAttrs},
		// Keys are counted after expanding a top-level "$or".
		{"$or too many keys", `{"a":["1"],"b":["1"],"c":["1"],"$or":[{"d":["1"],"e":["1"],"f":["1"]},{"g":["1"]}]}`, attrScope, errTooManyKeys},
		{"keys checked before complexity", `{"a":[` + values(151) + `],"b":["1"],"c":["1"],"d":["1"],"e":["1"],"f":["1"]}`, attrScope, errTooManyKeys},
		{"nesting checked before complexity", `{"a":{"b":[` + values(151) + `]}}`, attrScope, errNestedInAttrs},
		{"deeply nested policy", strings.Repeat(`{"a":`, 1001) + `["x"]` + strings.Repeat(`}`, 1001), bodyScope, "failed to parse JSON.*"},
	})
}

func TestValidPolicies(t *testing.T) {
	cases := []struct {
		name   string
		policy string
		scope  Scope
		combos int
		keys   int
	}{
		{"doc complexity example", `{"key_a":["value_one","value_two","value_three"],"key_b":["value_one"],"key_c":["value_one","value_two"]}`, attrScope, 6, 3},
		{"doc nested complexity example", `{"key_a":{"key_b":{"key_c":["value_one","value_two","value_three","value_four"]}},"key_d":{"key_e":["value_one","value_two","value_three"]}}`, bodyScope, 72, 2},
		// 3 x (6 + 4 x (4 + 7)) = 150, accepted by AWS.
		{"$or at the limit", `{"source":["aws.cloudwatch","aws.events","aws.test"],"$or":[{"metricName":["CPUUtilization","ReadLatency","TestVal","TestVal2","TestVal3","TestVal4"]},{"metricType":["MetricType","TestType","TestType2","TestType3"],"$or":[{"metricId":[1234,4321,5678,9012]},{"spaceId":[1,2,3,4,5,6,7]}]}]}`, attrScope, 150, 3},
		{"150 values", `{"key":[` + values(150) + `]}`, attrScope, 150, 1},
		{"5 keys", `{"a":["1"],"b":["1"],"c":["1"],"d":["1"],"e":["1"]}`, attrScope, 1, 5},
		{"5 keys with $or", `{"a":["1"],"b":["1"],"c":["1"],"d":["1"],"$or":[{"e":["1"]},{"f":["1"]}]}`, attrScope, 2, 5},
		{"nested keys count as parents", `{"a":{"b":["1"],"c":["1"],"d":["1"]},"e":{"f":["1"],"g":["1"]}}`, bodyScope, 32, 2},
		{"$or repeats a key", `{"a":["1"],"$or":[{"a":["2"]},{"b":["3"]}]}`, attrScope, 2, 2},
		{"numeric limits", `{"a":[{"numeric":[">=",-1000000000,"<=",1000000000]},{"numeric":["=",0.00001]},{"numeric":["<",100e-2]},{"numeric":[">",1.500000]}]}`, attrScope, 4, 1},
		{"bare numbers are not range-checked", `{"a":[1e12, 0.1234567]}`, attrScope, 2, 1},
		{"all literals", `{"a":["s", 1, true, false, null]}`, bodyScope, 5, 1},
		{"every operator", `{"a":[{"prefix":"p"},{"suffix":"s"},{"equals-ignore-case":"e"},{"wildcard":"w*\\*\\\\"},{"cidr":"::/0"},{"exists":true},{"numeric":["<",1]},{"anything-but":"x"},{"anything-but":[1,2]},{"anything-but":{"prefix":"p"}},{"anything-but":{"suffix":["s"]}},{"anything-but":{"equals-ignore-case":"e"}},{"anything-but":{"wildcard":["a*","b*"]}}]}`, attrScope, 13, 1},
		{"empty prefix", `{"a":[{"prefix":""}]}`, attrScope, 1, 1},
		{"$or in body nested object", `{"d":{"s":["1"],"$or":[{"x":["1"]},{"y":["1"]}]}}`, bodyScope, 8, 1},
		{"$or of non-objects is a key", `{"$or":["a","b"]}`, attrScope, 2, 1},
		{"cidr host bits set", `{"a":[{"cidr":"10.0.0.7/24"}]}`, attrScope, 1, 1},
		{"duplicate key", `{"a":["1"],"a":["2"]}`, attrScope, 1, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := mustParse(t, tc.policy, tc.scope)
			if p.Complexity() != tc.combos {
				t.Errorf("Complexity() = %d, want %d", p.Complexity(), tc.combos)
			}
			if p.Keys() != tc.keys {
				t.Errorf("Keys() = %d, want %d", p.Keys(), tc.keys)
			}
		})
	}
}

func TestErrorMessages(t *testing.T) {
	_, err := Parse(`{"a":["1"],"b":["1"],"c":["1"],"d":["1"],"e":["1"],"f":["1"]}`, attrScope)
	var fe *Error
	if !errors.As(err, &fe) {
		t.Fatal(err)
	}
	if got, want := fe.APIMessage(false), "Invalid parameter: FilterPolicy: Filter policy can not have more than 5 keys"; got != want {
		t.Errorf("APIMessage = %q, want %q", got, want)
	}
	if got, want := fe.APIMessage(true), "Invalid parameter: Attributes Reason: FilterPolicy: Filter policy can not have more than 5 keys"; got != want {
		t.Errorf("APIMessage(subscribe) = %q, want %q", got, want)
	}
	if fe.Error() != fe.Message {
		t.Errorf("Error() = %q", fe.Error())
	}

	_, err = Parse(`{"object":{"key":[{"prefix":"auto-"}]}}`, attrScope)
	if !errors.As(err, &fe) {
		t.Fatal(err)
	}
	if got, want := fe.APIMessage(false), "Invalid parameter: Filter policy scope MessageAttributes does not support nested filter policy"; got != want {
		t.Errorf("APIMessage = %q, want %q", got, want)
	}

	_, err = ParseScope("RandomValue")
	if !errors.As(err, &fe) {
		t.Fatal(err)
	}
	if got, want := fe.APIMessage(false), "Invalid parameter: FilterPolicyScope: Invalid value [RandomValue]. Please use either MessageBody or MessageAttributes"; got != want {
		t.Errorf("APIMessage = %q, want %q", got, want)
	}

	if _, err := Parse(`{"a":["1"]}`, Scope(9)); !errors.As(err, &fe) || fe.Param != "FilterPolicyScope" {
		t.Errorf("invalid scope: %v", err)
	}
}

func TestParseScope(t *testing.T) {
	for in, want := range map[string]Scope{"": ScopeMessageAttributes, "MessageAttributes": ScopeMessageAttributes, "MessageBody": ScopeMessageBody} {
		got, err := ParseScope(in)
		if err != nil || got != want {
			t.Errorf("ParseScope(%q) = %v, %v", in, got, err)
		}
		if in != "" && got.String() != in {
			t.Errorf("String() = %q", got.String())
		}
	}
	for _, in := range []string{"messagebody", "Body", " MessageBody"} {
		if _, err := ParseScope(in); err == nil {
			t.Errorf("ParseScope(%q) succeeded", in)
		}
	}
}

func TestDecimalPlaces(t *testing.T) {
	for lit, want := range map[string]int{
		"0": 0, "1": 0, "-1": 0, "1.5": 1, "2.50": 1, "3.015e2": 1, "3.015E+2": 1,
		"1e-6": 6, "100e-2": 0, "123e-2": 2, "0.00001": 5, "-0.000010": 5, "0e-10": 0,
		"1.25e1": 1, "5e3": 0, "1e-99999999999999999999": 1<<31 - 1,
	} {
		if got := decimalPlaces(lit); got != want {
			t.Errorf("decimalPlaces(%s) = %d, want %d", lit, got, want)
		}
	}
}

func TestWildcard(t *testing.T) {
	cases := []struct {
		pat, s string
		want   bool
	}{
		{"abc", "abc", true},
		{"abc", "abcd", false},
		{"*", "", true},
		{"*", "anything", true},
		{"a*", "a", true},
		{"a*", "ba", false},
		{"*a", "ba", true},
		{"*a", "ab", false},
		{"a*b*c", "abc", true},
		{"a*b*c", "aXbYc", true},
		{"a*b*c", "aXcYb", false},
		{"a*ab", "aab", true},
		{"a*ab", "ab", false},
		{"*.png", "x.png", true},
		{`a\*b`, "a*b", true},
		{`a\*b`, "axb", false},
		{`a\\b`, `a\b`, true},
		{`*\**`, "x*y", true},
		{`*\**`, "xy", false},
		{"ab*ab", "ab", false},
		{"ab*ab", "abab", true},
		{"é*ü", "éxü", true},
	}
	for _, tc := range cases {
		w, msg := compileWildcard(tc.pat)
		if msg != "" {
			t.Fatalf("compileWildcard(%q): %s", tc.pat, msg)
		}
		if got := w.match(tc.s); got != tc.want {
			t.Errorf("wildcard %q on %q = %v, want %v", tc.pat, tc.s, got, tc.want)
		}
	}
}
