// Package regions knows the AWS region names, as data, and the set of
// regions a Sealpost instance accepts in a SigV4 credential scope: every AWS
// region plus the extra names an operator adds (--regions).
//
// The table lists the regions of every AWS partition as of late 2026 (the
// partition files of botocore 1.43 and aws-sdk-go-v2 1.48: commercial, China,
// GovCloud, the isolated ISO partitions and the European Sovereign Cloud).
// Pseudo-regions such as aws-global are left out: SDKs never sign with them.
// A new AWS region is one line here, or an extra name until then.
//
// Extra names must look like a region: two lower-case letters, one or more
// "-word" parts and a one- or two-digit number ("us-east-1", "eu-local-2").
// Anything else (upper case, ':', '/', spaces, "us-east-1:evil") is refused,
// so a region name can be put into an ARN or a storage key as is.
//
// Everything here is immutable and safe for concurrent use.
package regions

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// table maps each AWS region to its partition (the second field of its ARNs).
var table = map[string]string{
	// aws (commercial)
	"af-south-1":     "aws",
	"ap-east-1":      "aws",
	"ap-east-2":      "aws",
	"ap-northeast-1": "aws",
	"ap-northeast-2": "aws",
	"ap-northeast-3": "aws",
	"ap-south-1":     "aws",
	"ap-south-2":     "aws",
	"ap-southeast-1": "aws",
	"ap-southeast-2": "aws",
	"ap-southeast-3": "aws",
	"ap-southeast-4": "aws",
	"ap-southeast-5": "aws",
	"ap-southeast-6": "aws",
	"ap-southeast-7": "aws",
	"ca-central-1":   "aws",
	"ca-west-1":      "aws",
	"eu-central-1":   "aws",
	"eu-central-2":   "aws",
	"eu-north-1":     "aws",
	"eu-south-1":     "aws",
	"eu-south-2":     "aws",
	"eu-west-1":      "aws",
	"eu-west-2":      "aws",
	"eu-west-3":      "aws",
	"il-central-1":   "aws",
	"me-central-1":   "aws",
	"me-south-1":     "aws",
	"me-west-1":      "aws", // announced; in aws-sdk-go-v2's partition file
	"mx-central-1":   "aws",
	"sa-east-1":      "aws",
	"sa-west-1":      "aws", // announced; in aws-sdk-go-v2's partition file
	"us-east-1":      "aws",
	"us-east-2":      "aws",
	"us-west-1":      "aws",
	"us-west-2":      "aws",
	// aws-cn (China)
	"cn-north-1":     "aws-cn",
	"cn-northwest-1": "aws-cn",
	// aws-us-gov (GovCloud)
	"us-gov-east-1": "aws-us-gov",
	"us-gov-west-1": "aws-us-gov",
	// isolated partitions
	"us-iso-east-1":   "aws-iso",
	"us-iso-west-1":   "aws-iso",
	"us-isob-east-1":  "aws-iso-b",
	"us-isob-west-1":  "aws-iso-b",
	"eu-isoe-west-1":  "aws-iso-e",
	"us-isof-east-1":  "aws-iso-f",
	"us-isof-south-1": "aws-iso-f",
	// aws-eusc (European Sovereign Cloud)
	"eusc-de-east-1": "aws-eusc",
}

// nameRE is the shape an extra region name must have.
var nameRE = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]{1,2}$`)

// maxNameLen bounds extra names (the longest AWS region has 15 characters).
const maxNameLen = 32

// Valid reports whether name is an AWS region in the table.
func Valid(name string) bool {
	_, ok := table[name]
	return ok
}

// Partition returns the ARN partition of an AWS region ("aws", "aws-cn",
// "aws-us-gov", ...); "aws" for names not in the table (extra names).
func Partition(name string) string {
	if p, ok := table[name]; ok {
		return p
	}
	return "aws"
}

// AWS returns the table's region names, sorted.
func AWS() []string {
	names := make([]string, 0, len(table))
	for n := range table {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// WellFormed reports whether name has the shape of a region name (see the
// package doc); it does not consult the table.
func WellFormed(name string) bool {
	return len(name) <= maxNameLen && nameRE.MatchString(name)
}

// Set is the regions an instance accepts: the AWS table plus extras. The
// zero Set accepts exactly the AWS regions. A Set is immutable.
type Set struct {
	extra map[string]struct{}
}

// NewSet returns the AWS regions plus extra, each of which must be
// WellFormed; the error names the first bad one.
func NewSet(extra ...string) (Set, error) {
	s := Set{}
	for _, name := range extra {
		if !WellFormed(name) {
			return Set{}, fmt.Errorf("regions: %q is not a region name (like us-east-1: two lower-case letters, -word parts, a number)", clip(name))
		}
		if Valid(name) {
			continue
		}
		if s.extra == nil {
			s.extra = map[string]struct{}{}
		}
		s.extra[name] = struct{}{}
	}
	return s, nil
}

// ParseSet reads the --regions / SEALPOST_REGIONS value: names separated by
// commas and/or spaces; empty parts are ignored.
func ParseSet(value string) (Set, error) {
	return NewSet(strings.FieldsFunc(value, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' })...)
}

// Contains reports whether the set accepts name.
func (s Set) Contains(name string) bool {
	if Valid(name) {
		return true
	}
	_, ok := s.extra[name]
	return ok
}

// Extra returns the added names that are not AWS regions, sorted.
func (s Set) Extra() []string {
	names := make([]string, 0, len(s.extra))
	for n := range s.extra {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}
