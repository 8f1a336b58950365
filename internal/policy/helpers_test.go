package policy

import (
	"strings"
	"testing"
)

const (
	acctA   = "111122223333"
	acctB   = "444455556666"
	topicA  = "arn:aws:sns:us-east-1:111122223333:orders"
	aliceA  = "arn:aws:iam::111122223333:user/alice"
	bobB    = "arn:aws:iam::444455556666:user/bob"
	rootA   = "arn:aws:iam::111122223333:root"
	snsSvc  = "sns.amazonaws.com"
	version = `"Version":"2012-10-17",`
)

func mustParse(tb testing.TB, doc string) *Policy {
	tb.Helper()
	p, err := Parse([]byte(doc))
	if err != nil {
		tb.Fatalf("Parse(%s): %v", doc, err)
	}
	return p
}

// ctx builds a Context from "key=v1|v2" pairs; "key=" gives an empty list.
func ctx(pairs ...string) map[string][]string {
	m := map[string][]string{}
	for _, p := range pairs {
		k, v, _ := strings.Cut(p, "=")
		if v == "" {
			m[k] = []string{}
			continue
		}
		m[k] = strings.Split(v, "|")
	}
	return m
}

func alice() Principal { return Principal{Account: acctA, ARN: aliceA, UserID: "AIDAALICE"} }
func bob() Principal   { return Principal{Account: acctB, ARN: bobB} }
