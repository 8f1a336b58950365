package policy

import (
	"errors"
	"strings"
	"testing"
)

func TestParseValid(t *testing.T) {
	docs := []string{
		defaultTopicPolicy,
		// KMS default key policy.
		`{"Version":"2012-10-17","Id":"key-default-1","Statement":[{"Sid":"Enable IAM User Permissions","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"}]}`,
		// Statement as one object, no Version, no Sid.
		`{"Statement":{"Effect":"Deny","Principal":"*","Action":"*","Resource":"*"}}`,
		// Service principal with confused-deputy conditions.
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"sns.amazonaws.com"},"Action":"sqs:SendMessage","Resource":"arn:aws:sqs:us-east-1:111122223333:q","Condition":{"ArnEquals":{"aws:SourceArn":"arn:aws:sns:us-east-1:111122223333:orders"},"StringEquals":{"aws:SourceAccount":"111122223333"}}}]}`,
		// Identity policy (no Principal), NotAction / NotResource.
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":"sns:DeleteTopic","NotResource":["arn:aws:sns:*:*:secret"]}]}`,
		// Every value shape in conditions.
		`{"Statement":{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":false},"NumericLessThan":{"n":[1,2.5,"3"]},"DateGreaterThan":{"aws:CurrentTime":"1700000000"},"ForAllValues:StringLike":{"aws:TagKeys":[]}}}}`,
		// Sids with the characters SNS uses.
		`{"Statement":[{"Sid":"__default_statement_ID","Effect":"Allow","Principal":"*","Action":"*","Resource":"*"},{"Sid":"label-1_x","Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}`,
		"  \n" + `{"Statement":{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}}` + "\n",
	}
	for _, d := range docs {
		if _, err := Parse([]byte(d)); err != nil {
			t.Errorf("Parse(%s): %v", d, err)
		}
	}
}

func TestParseErrors(t *testing.T) {
	stmt := func(body string) string { return `{"Version":"2012-10-17","Statement":[` + body + `]}` }
	ok := `"Effect":"Allow","Principal":"*","Action":"sns:Publish","Resource":"*"`
	tests := []struct {
		doc  string
		want string // exact error text
	}{
		{``, `the policy is empty`},
		{`null`, `the policy must be a JSON object, got null`},
		{`[]`, `the policy must be a JSON object, got a list`},
		{`{"Statement":`, `the policy is not valid JSON: unexpected end of input`},
		{`{"Statement":[]} x`, `the policy is not valid JSON: unexpected data after the top-level value`},
		{"{\"Id\":\"\xff\"}", `the policy is not valid UTF-8`},
		{`{}`, `missing Statement`},
		{`{"Statement":null}`, `Statement must not be null`},
		{`{"Statement":[]}`, `Statement must not be empty`},
		{`{"Statement":"x"}`, `Statement must be an object or a list of objects, got a string`},
		{`{"Version":"2012-10-18","Statement":{}}`, `unsupported Version "2012-10-18" (use 2012-10-17 or 2008-10-17)`},
		{`{"Version":2012,"Statement":{}}`, `Version must be a string, got a number`},
		{`{"Id":1,"Statement":{}}`, `Id must be a string, got a number`},
		{`{"statement":[]}`, `unknown policy element "statement" (elements are Version, Id and Statement; names are case-sensitive)`},
		{`{"Statement":[],"Statement":[]}`, `duplicate member "Statement"`},
		{stmt(`{` + ok + `,"Effect":"Deny"}`), `duplicate member "Effect"`},
		{stmt(`1`), `Statement[0]: a statement must be an object, got a number`},
		{stmt(`{` + ok + `},{"Sid":"b","Effect":"allow"}`), `Statement[1] (Sid "b"): invalid Effect "allow": must be "Allow" or "Deny"`},
		{stmt(`{"Principal":"*","Action":"*","Resource":"*"}`), `Statement[0]: missing Effect`},
		{stmt(`{"Sid":"a",` + ok + `},{"Sid":"a",` + ok + `}`), `Statement[1] (Sid "a"): duplicate Sid (also used by Statement[0])`},
		{stmt(`{"Sid":1,` + ok + `}`), `Statement[0]: Sid must be a string, got a number`},
		{stmt(`{` + ok + `,"Conditions":{}}`), `Statement[0]: unknown statement element "Conditions" (names are case-sensitive)`},
		{stmt(`{"Effect":"Allow","Principal":"*","Resource":"*"}`), `Statement[0]: missing Action or NotAction`},
		{stmt(`{"Effect":"Allow","Principal":"*","Action":"*","NotAction":"*","Resource":"*"}`), `Statement[0]: Action and NotAction cannot both be present`},
		{stmt(`{"Effect":"Allow","Principal":"*","Action":[],"Resource":"*"}`), `Statement[0]: Action must not be an empty list`},
		{stmt(`{"Effect":"Allow","Principal":"*","Action":[1],"Resource":"*"}`), `Statement[0]: Action must be a string or a list of strings, found a number in the list`},
		{stmt(`{"Effect":"Allow","Principal":"*","Action":"Publish","Resource":"*"}`), `Statement[0]: Action: invalid action "Publish": must be "*" or service:action, such as sns:Publish`},
		{stmt(`{"Effect":"Allow","Principal":"*","Action":"s ns:Publish","Resource":"*"}`), `Statement[0]: Action: invalid action "s ns:Publish": bad service prefix`},
		{stmt(`{"Effect":"Allow","Principal":"*","Action":"sns:Pub lish","Resource":"*"}`), `Statement[0]: Action: invalid action "sns:Pub lish": bad action name`},
		{stmt(`{"Effect":"Allow","Principal":"*","Action":"*"}`), `Statement[0]: missing Resource or NotResource`},
		{stmt(`{"Effect":"Allow","Principal":"*","Action":"*","Resource":"orders"}`), `Statement[0]: Resource: invalid resource "orders": must be "*" or an ARN`},
		{stmt(`{"Effect":"Allow","Principal":"*","Action":"*","Resource":null}`), `Statement[0]: Resource must be a string or a list of strings, got null`},
		{stmt(`{"Effect":"Allow","Principal":"*","NotPrincipal":"*","Action":"*","Resource":"*"}`), `Statement[0]: Principal and NotPrincipal cannot both be present`},
		{stmt(`{"Effect":"Allow","Principal":"111122223333","Action":"*","Resource":"*"}`), `Statement[0]: Principal must be "*" or an object such as {"AWS": "123456789012"}, got "111122223333"`},
		{stmt(`{"Effect":"Allow","Principal":{},"Action":"*","Resource":"*"}`), `Statement[0]: Principal must not be empty`},
		{stmt(`{"Effect":"Allow","Principal":{"AWS":[]},"Action":"*","Resource":"*"}`), `Statement[0]: Principal AWS must not be an empty list`},
		{stmt(`{"Effect":"Allow","Principal":{"AWS":"1111"},"Action":"*","Resource":"*"}`), `Statement[0]: Principal: invalid principal "1111": use "*", an account id, arn:aws:iam::ACCOUNT:root or a user or role ARN`},
		{stmt(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/*"},"Action":"*","Resource":"*"}`), `Statement[0]: Principal: invalid principal "arn:aws:iam::111122223333:user/*": wildcards are only allowed as "*" alone`},
		{stmt(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:group/g"},"Action":"*","Resource":"*"}`), `Statement[0]: Principal: invalid principal "arn:aws:iam::111122223333:group/g": use "*", an account id, arn:aws:iam::ACCOUNT:root or a user or role ARN`},
		{stmt(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:sns:us-east-1:111122223333:t"},"Action":"*","Resource":"*"}`), `Statement[0]: Principal: invalid principal "arn:aws:sns:us-east-1:111122223333:t": use "*", an account id, arn:aws:iam::ACCOUNT:root or a user or role ARN`},
		{stmt(`{"Effect":"Allow","Principal":{"Federated":"cognito-identity.amazonaws.com"},"Action":"*","Resource":"*"}`), `Statement[0]: Principal: Federated principals are not supported`},
		{stmt(`{"Effect":"Allow","Principal":{"aws":"*"},"Action":"*","Resource":"*"}`), `Statement[0]: Principal: unknown principal type "aws" (use AWS or Service)`},
		{stmt(`{"Effect":"Allow","Principal":{"Service":"sns *"},"Action":"*","Resource":"*"}`), `Statement[0]: Principal: invalid service principal "sns *"`},
		{stmt(`{` + ok + `,"Condition":[]}`), `Statement[0]: Condition must be an object, got a list`},
		{stmt(`{` + ok + `,"Condition":{"StringEqual":{"k":"v"}}}`), `Statement[0]: unknown condition operator "StringEqual"`},
		{stmt(`{` + ok + `,"Condition":{"stringequals":{"k":"v"}}}`), `Statement[0]: unknown condition operator "stringequals"`},
		{stmt(`{` + ok + `,"Condition":{"ForSomeValues:StringEquals":{"k":"v"}}}`), `Statement[0]: unknown condition operator "ForSomeValues:StringEquals"`},
		{stmt(`{` + ok + `,"Condition":{"NullIfExists":{"k":"true"}}}`), `Statement[0]: condition operator "NullIfExists" is not valid: Null takes neither IfExists nor ForAnyValue/ForAllValues`},
		{stmt(`{` + ok + `,"Condition":{"ForAnyValue:Null":{"k":"true"}}}`), `Statement[0]: condition operator "ForAnyValue:Null" is not valid: Null takes neither IfExists nor ForAnyValue/ForAllValues`},
		{stmt(`{` + ok + `,"Condition":{"StringEquals":"k"}}`), `Statement[0]: condition operator "StringEquals" must map condition keys to values, got a string`},
		{stmt(`{` + ok + `,"Condition":{"StringEquals":{}}}`), `Statement[0]: condition operator "StringEquals" has no condition keys`},
		{stmt(`{` + ok + `,"Condition":{"StringEquals":{"k":"a","K":"b"}}}`), `Statement[0]: condition operator "StringEquals" names the key "K" twice (keys are case-insensitive)`},
		{stmt(`{` + ok + `,"Condition":{"StringEquals":{"k":null}}}`), `Statement[0]: condition "StringEquals" key "k": values must be strings, numbers or booleans, got null`},
		{stmt(`{` + ok + `,"Condition":{"StringEquals":{"k":{}}}}`), `Statement[0]: condition "StringEquals" key "k": values must be strings, numbers or booleans, got an object`},
		{stmt(`{` + ok + `,"Condition":{"NumericLessThan":{"n":"ten"}}}`), `Statement[0]: condition "NumericLessThan" key "n": invalid number "ten"`},
		{stmt(`{` + ok + `,"Condition":{"NumericLessThan":{"n":"0x10"}}}`), `Statement[0]: condition "NumericLessThan" key "n": invalid number "0x10"`},
		{stmt(`{` + ok + `,"Condition":{"DateLessThan":{"d":"tomorrow"}}}`), `Statement[0]: condition "DateLessThan" key "d": invalid date "tomorrow" (use ISO 8601, such as 2026-01-31T12:00:00Z, or epoch seconds)`},
		{stmt(`{` + ok + `,"Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/33"}}}`), `Statement[0]: condition "IpAddress" key "aws:SourceIp": invalid IP address or CIDR block "10.0.0.0/33"`},
		{stmt(`{` + ok + `,"Condition":{"Bool":{"b":"yes"}}}`), `Statement[0]: condition "Bool" key "b": invalid boolean "yes" (use true or false)`},
		{stmt(`{` + ok + `,"Condition":{"Null":{"b":1}}}`), `Statement[0]: condition "Null" key "b": invalid boolean "1" (use true or false)`},
		{stmt(`{` + ok + `,"Condition":{"BinaryEquals":{"b":"!!"}}}`), `Statement[0]: condition "BinaryEquals" key "b": invalid base64 value "!!"`},
		{`{"Statement":{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*","Condition":{"StringEquals":{"k":[["deep"]]}}}}`, `Statement[0]: condition "StringEquals" key "k": values must be strings, numbers or booleans, got a list`},
		{`{"Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*","Condition":{"StringEquals":{"k":[["deep"]]}}}]}`, `the policy is nested too deeply`},
		{strings.Repeat("[", 100000), `the policy is nested too deeply`},
	}
	for _, tt := range tests {
		_, err := Parse([]byte(tt.doc))
		if err == nil {
			t.Errorf("Parse(%s): accepted, want %q", tt.doc, tt.want)
			continue
		}
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("Parse(%s): %v does not match ErrInvalid", tt.doc, err)
		}
		var pe *Error
		if !errors.As(err, &pe) {
			t.Errorf("Parse(%s): %T is not *Error", tt.doc, err)
		}
		if err.Error() != tt.want {
			t.Errorf("Parse(%.80s):\n got %q\nwant %q", tt.doc, err.Error(), tt.want)
		}
	}
}

func TestParseOptions(t *testing.T) {
	noPrincipal := `{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`
	withPrincipal := `{"Statement":{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}}`
	tests := []struct {
		doc  string
		o    Options
		want string
	}{
		{noPrincipal, Options{Kind: ResourcePolicy}, `Statement[0]: missing Principal or NotPrincipal`},
		{withPrincipal, Options{Kind: IdentityPolicy}, `Statement[0]: an identity policy cannot have Principal or NotPrincipal`},
		{noPrincipal, Options{Kind: IdentityPolicy}, ``},
		{withPrincipal, Options{Kind: ResourcePolicy}, ``},
		{withPrincipal, Options{MaxBytes: 20}, `the policy is larger than 20 bytes`},
		{`{"Statement":[` + strings.Repeat(`{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"},`, 3) + `{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}`,
			Options{MaxStatements: 3}, `the policy has 4 statements, more than the limit of 3`},
		{`{"Statement":{"Effect":"Allow","Principal":{"AWS":["111122223333","444455556666"],"Service":"sns.amazonaws.com"},"Action":"*","Resource":"*"}}`,
			Options{MaxPrincipals: 2}, `Statement[0]: Principal names more than 2 principals`},
	}
	for _, tt := range tests {
		_, err := ParseWith([]byte(tt.doc), tt.o)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != tt.want {
			t.Errorf("ParseWith(%.60s, %+v): got %q, want %q", tt.doc, tt.o, got, tt.want)
		}
	}
	big := make([]byte, DefaultMaxBytes+1)
	if _, err := Parse(big); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("oversized document: %v", err)
	}
}

func TestErrorTextIsBounded(t *testing.T) {
	long := strings.Repeat("é", 5000)
	_, err := Parse([]byte(`{"Statement":{"Sid":"` + long + `","Effect":"` + long + `","Principal":"*","Action":"*","Resource":"*"}}`))
	if err == nil || len(err.Error()) > 400 {
		t.Fatalf("error text too long (%d): %v", len(err.Error()), err)
	}
	if !strings.Contains(err.Error(), "...") {
		t.Errorf("long values should be shortened: %v", err)
	}
}

func TestStatements(t *testing.T) {
	p := mustParse(t, `{"Statement":[{"Sid":"a","Effect":"Deny","Principal":"*","NotAction":["sns:Publish","sns:Get*"],"Resource":"`+topicA+`"},
	 {"Effect":"Allow","Principal":"*","Action":"SNS:Publish","NotResource":["arn:aws:sns:*:*:x","arn:aws:sns:*:*:y"]}]}`)
	got := p.Statements()
	if len(got) != 2 {
		t.Fatalf("%d statements", len(got))
	}
	a, b := got[0], got[1]
	if a.Sid != "a" || !a.Deny || !a.NotAction || a.NotResource || len(a.Actions) != 2 || a.Actions[1] != "sns:Get*" || len(a.Resources) != 1 || a.Resources[0] != topicA {
		t.Errorf("first: %+v", a)
	}
	if b.Sid != "" || b.Deny || b.NotAction || !b.NotResource || len(b.Actions) != 1 || b.Actions[0] != "SNS:Publish" || len(b.Resources) != 2 {
		t.Errorf("second: %+v", b)
	}
	got[0].Actions[0] = "changed"
	if p.Statements()[0].Actions[0] != "sns:Publish" {
		t.Error("Statements must return copies")
	}
}
