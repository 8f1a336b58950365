package regions

import (
	"regexp"
	"slices"
	"strings"
	"testing"
)

func TestValid(t *testing.T) {
	for _, name := range []string{"us-east-1", "eu-west-3", "af-south-1", "ap-east-1", "ap-south-2", "ap-southeast-3",
		"ap-southeast-4", "ap-southeast-5", "ap-southeast-7", "ca-west-1", "eu-central-2", "eu-south-1", "eu-south-2",
		"il-central-1", "me-central-1", "me-south-1", "mx-central-1", "cn-north-1", "cn-northwest-1",
		"us-gov-west-1", "us-gov-east-1", "us-iso-east-1", "eusc-de-east-1"} {
		if !Valid(name) {
			t.Errorf("%s not valid", name)
		}
	}
	for _, name := range []string{"", "mars-north-1", "us-east-1:evil", "US-EAST-1", "us-east-1 ", "us-east-10",
		"aws-global", "us-east", "us-east-1/x", "local"} {
		if Valid(name) {
			t.Errorf("%q valid", name)
		}
	}
}

func TestPartition(t *testing.T) {
	for name, want := range map[string]string{"us-east-1": "aws", "cn-north-1": "aws-cn", "us-gov-west-1": "aws-us-gov",
		"us-isob-east-1": "aws-iso-b", "eusc-de-east-1": "aws-eusc", "xx-local-1": "aws"} {
		if got := Partition(name); got != want {
			t.Errorf("Partition(%s) = %s, want %s", name, got, want)
		}
	}
}

// TestTableShape: every table entry is a lower-case region-shaped name whose
// partition agrees with the partition's naming rule (the regionRegex values
// of the SDKs' partition files).
func TestTableShape(t *testing.T) {
	rules := map[string]*regexp.Regexp{
		"aws":        regexp.MustCompile(`^(us|eu|ap|sa|ca|me|af|il|mx)-\w+-\d+$`),
		"aws-cn":     regexp.MustCompile(`^cn-\w+-\d+$`),
		"aws-us-gov": regexp.MustCompile(`^us-gov-\w+-\d+$`),
		"aws-iso":    regexp.MustCompile(`^us-iso-\w+-\d+$`),
		"aws-iso-b":  regexp.MustCompile(`^us-isob-\w+-\d+$`),
		"aws-iso-e":  regexp.MustCompile(`^eu-isoe-\w+-\d+$`),
		"aws-iso-f":  regexp.MustCompile(`^us-isof-\w+-\d+$`),
		"aws-eusc":   regexp.MustCompile(`^eusc-(de)-\w+-\d+$`),
	}
	names := AWS()
	if len(names) < 45 || !slices.IsSorted(names) {
		t.Fatalf("%d names", len(names))
	}
	for _, n := range names {
		rule := rules[table[n]]
		if rule == nil || !rule.MatchString(n) || len(n) > maxNameLen {
			t.Errorf("%s in partition %s", n, table[n])
		}
		if table[n] != "aws-eusc" && !WellFormed(n) { // eusc- has four letters
			t.Errorf("%s not well-formed", n)
		}
	}
}

func TestSet(t *testing.T) {
	var zero Set
	if !zero.Contains("us-east-1") || zero.Contains("mars-north-1") || zero.Contains("us-east-1:evil") {
		t.Fatal("zero set")
	}
	s, err := ParseSet(" xx-local-1, eu-dev-12 ,,us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"xx-local-1", "eu-dev-12", "us-east-1", "cn-north-1"} {
		if !s.Contains(name) {
			t.Errorf("%s not in set", name)
		}
	}
	for _, name := range []string{"mars-north-1", "us-east-1:evil", "xx-local-2", "XX-LOCAL-1", ""} {
		if s.Contains(name) {
			t.Errorf("%q in set", name)
		}
	}
	if got := s.Extra(); !slices.Equal(got, []string{"eu-dev-12", "xx-local-1"}) {
		t.Errorf("extra %q", got)
	}
}

func TestSetRefusesMalformed(t *testing.T) {
	for _, bad := range []string{"us-east-1:evil", "mars-north-1", "US-east-1", "us-east-123", "us-east-", "us_east_1",
		"us-east-1/evil", "useast1", "us-1", "us-east-1\n", "us-éast-1", "us-" + strings.Repeat("a", 40) + "-1"} {
		if _, err := NewSet(bad); err == nil {
			t.Errorf("%q accepted", bad)
		} else if !strings.HasPrefix(err.Error(), "regions: ") {
			t.Errorf("%q: %v", bad, err)
		}
		if WellFormed(bad) {
			t.Errorf("%q well-formed", bad)
		}
	}
	if _, err := ParseSet("xx-local-1,us-east-1:evil"); err == nil || !strings.Contains(err.Error(), `"us-east-1:evil"`) {
		t.Errorf("error does not name the bad entry: %v", err)
	}
}
