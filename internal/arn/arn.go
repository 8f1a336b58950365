// Package arn parses and formats Amazon Resource Names.
package arn

import (
	"errors"
	"strings"
)

// ARN is arn:partition:service:region:account:resource.
type ARN struct {
	Partition string
	Service   string
	Region    string
	Account   string
	Resource  string
}

// ErrMalformed is returned for strings that are not ARNs.
var ErrMalformed = errors.New("arn: malformed")

// Parse splits s into its parts. It checks the shape only.
func Parse(s string) (ARN, error) {
	if len(s) > 2048 || !strings.HasPrefix(s, "arn:") {
		return ARN{}, ErrMalformed
	}
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 || parts[1] == "" || parts[2] == "" || parts[5] == "" {
		return ARN{}, ErrMalformed
	}
	return ARN{Partition: parts[1], Service: parts[2], Region: parts[3], Account: parts[4], Resource: parts[5]}, nil
}

// String formats the ARN.
func (a ARN) String() string {
	return "arn:" + a.Partition + ":" + a.Service + ":" + a.Region + ":" + a.Account + ":" + a.Resource
}

// SNSTopic returns a topic ARN.
func SNSTopic(region, account, name string) string {
	return ARN{Partition: "aws", Service: "sns", Region: region, Account: account, Resource: name}.String()
}
