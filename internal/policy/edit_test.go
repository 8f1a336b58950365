package policy

import (
	"errors"
	"testing"
)

func TestAddStatement(t *testing.T) {
	single := `{"Version":"2012-10-17","Id":"x<y","Statement":{"Sid":"NoDelete","Effect":"Deny","Principal":"*","Action":"sns:DeleteTopic","Resource":"*"}}`
	add := `{"Sid":"b-publish", "Effect":"Allow","Principal":{"AWS":["arn:aws:iam::444455556666:root"]},"Action":["SNS:Publish"],"Resource":"` + topicA + `"}`
	out, err := AddStatement([]byte(single), []byte(add), Options{Kind: ResourcePolicy})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"Version":"2012-10-17","Id":"x<y","Statement":[{"Sid":"NoDelete","Effect":"Deny","Principal":"*","Action":"sns:DeleteTopic","Resource":"*"},{"Sid":"b-publish","Effect":"Allow","Principal":{"AWS":["arn:aws:iam::444455556666:root"]},"Action":["SNS:Publish"],"Resource":"` + topicA + `"}]}`
	if string(out) != want {
		t.Fatalf("got  %s\nwant %s", out, want)
	}
	// The single statement's Deny survives the edit.
	p := mustParse(t, string(out))
	if d := p.Evaluate(&Request{Principal: alice(), Action: "sns:DeleteTopic", Resource: topicA}); d != Deny {
		t.Errorf("Deny lost: %v", d)
	}
	if d := p.Evaluate(&Request{Principal: bob(), Action: "sns:Publish", Resource: topicA}); d != AllowAccount {
		t.Errorf("added grant: %v", d)
	}

	bad := []struct {
		doc, stmt, want string
	}{
		{string(out), add, `Statement[2] (Sid "b-publish"): duplicate Sid (also used by Statement[1])`},
		{single, `[]`, `Statement[1]: a statement must be a JSON object`},
		{single, `{"Effect":"Allow"`, `Statement[1]: a statement must be a JSON object`},
		{single, `{"Effect":"Allow","Action":"*","Resource":"*"}`, `Statement[1]: missing Principal or NotPrincipal`},
		{`{"Statement":null}`, add, `Statement must not be null`},
	}
	for _, tt := range bad {
		_, err := AddStatement([]byte(tt.doc), []byte(tt.stmt), Options{Kind: ResourcePolicy})
		if err == nil || err.Error() != tt.want || !errors.Is(err, ErrInvalid) {
			t.Errorf("AddStatement(%.40s, %s): got %v, want %q", tt.doc, tt.stmt, err, tt.want)
		}
	}
}

func TestRemoveStatement(t *testing.T) {
	out, removed, remaining, err := RemoveStatement([]byte(defaultTopicPolicy), "b-publish", Options{})
	if err != nil || removed != 1 || remaining != 1 {
		t.Fatalf("removed %d remaining %d err %v", removed, remaining, err)
	}
	p := mustParse(t, string(out))
	if p.HasSid("b-publish") || !p.HasSid("__default_statement_ID") || p.ID() != "__default_policy_ID" || p.Version() != Version2008 {
		t.Errorf("after removal: %s", out)
	}
	if d := p.Evaluate(&Request{Principal: bob(), Action: "sns:Publish", Resource: topicA, Context: ctx("aws:SourceOwner=" + acctB)}); d != NotApplicable {
		t.Errorf("removed grant still applies: %v", d)
	}
	same, removed, remaining, err := RemoveStatement(out, "nope", Options{})
	if err != nil || removed != 0 || remaining != 1 || string(same) != string(out) {
		t.Errorf("absent Sid: %d %d %v", removed, remaining, err)
	}
	single := `{"Statement":{"Sid":"only","Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}}`
	empty, removed, remaining, err := RemoveStatement([]byte(single), "only", Options{})
	if err != nil || removed != 1 || remaining != 0 || string(empty) != `{"Statement":[]}` {
		t.Errorf("last statement: %s %d %d %v", empty, removed, remaining, err)
	}
	if _, _, _, err := RemoveStatement([]byte(`{"Statement":[]}`), "x", Options{}); err == nil {
		t.Error("invalid document accepted")
	}
}
