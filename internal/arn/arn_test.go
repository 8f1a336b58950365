package arn

import "testing"

func TestParse(t *testing.T) {
	a, err := Parse("arn:aws:sns:us-east-1:000000000000:topic:sub-id")
	if err != nil || a.Service != "sns" || a.Region != "us-east-1" || a.Account != "000000000000" || a.Resource != "topic:sub-id" {
		t.Fatalf("%+v %v", a, err)
	}
	if a.String() != "arn:aws:sns:us-east-1:000000000000:topic:sub-id" {
		t.Fatal(a.String())
	}
	for _, bad := range []string{"", "arn:", "arn:aws:sns", "foo:aws:sns:r:a:x", "arn:aws:sns:r:a:"} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q) accepted", bad)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add("arn:aws:sns:us-east-1:000000000000:t")
	f.Fuzz(func(t *testing.T, s string) {
		a, err := Parse(s)
		if err == nil && a.String() != s {
			t.Fatalf("round trip %q -> %q", s, a.String())
		}
	})
}
