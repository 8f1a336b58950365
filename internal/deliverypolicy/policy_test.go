package deliverypolicy

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

const (
	// The EffectiveDeliveryPolicy AWS returns for a topic without a policy.
	awsDefaultTopicEffective = `{"http":{"defaultHealthyRetryPolicy":{"minDelayTarget":20,"maxDelayTarget":20,"numRetries":3,"numMaxDelayRetries":0,"numNoDelayRetries":0,"numMinDelayRetries":0,"backoffFunction":"linear"},"disableSubscriptionOverrides":false,"defaultRequestPolicy":{"headerContentType":"text/plain; charset=UTF-8"}}}`
	defaultSubEffective      = `{"healthyRetryPolicy":{"minDelayTarget":20,"maxDelayTarget":20,"numRetries":3,"numMaxDelayRetries":0,"numNoDelayRetries":0,"numMinDelayRetries":0,"backoffFunction":"linear"},"sicklyRetryPolicy":null,"throttlePolicy":null,"requestPolicy":{"headerContentType":"text/plain; charset=UTF-8"},"guaranteed":false}`

	// The delivery policy example of the AWS "message delivery retries" page, verbatim.
	docExample = `{
  "healthyRetryPolicy": {
    "minDelayTarget": 1,
    "maxDelayTarget": 60,
    "numRetries": 50,
    "numNoDelayRetries": 3,
    "numMinDelayRetries": 2,
    "numMaxDelayRetries": 35,
    "backoffFunction": "exponential"
  },
  "sicklyRetryPolicy": null,
  "throttlePolicy": {
    "maxReceivesPerSecond": 10
  },  
  "guaranteed": false
  }`

	// A subscription DeliveryPolicy as AWS returns it after setting
	// {"healthyRetryPolicy":{"minDelayTarget":5,"maxDelayTarget":20,"numRetries":5}}.
	awsStoredSub = `{"healthyRetryPolicy":{"minDelayTarget":5,"maxDelayTarget":20,"numRetries":5,"numMaxDelayRetries":null,"numNoDelayRetries":null,"numMinDelayRetries":null,"backoffFunction":null},"sicklyRetryPolicy":null,"throttlePolicy":null,"guaranteed":false}`

	fullTopic = `{"http":{"defaultHealthyRetryPolicy":{"minDelayTarget":5,"maxDelayTarget":30,"numRetries":10,"numNoDelayRetries":1,"numMinDelayRetries":2,"numMaxDelayRetries":3,"backoffFunction":"exponential"},"disableSubscriptionOverrides":false,"defaultThrottlePolicy":{"maxReceivesPerSecond":5},"defaultRequestPolicy":{"headerContentType":"application/json"}}}`
)

func TestDefaults(t *testing.T) {
	want := Policy{Retry: Retry{20, 20, 3, 0, 0, 0, "linear"}, HeaderContentType: "text/plain; charset=UTF-8"}
	if got := Default(); got != want {
		t.Errorf("Default() = %+v, want %+v", got, want)
	}
	if got := Effective(nil, nil); got != want {
		t.Errorf("Effective(nil, nil) = %+v, want %+v", got, want)
	}
	for _, topic := range []*TopicPolicy{nil, {}} {
		if got := EffectiveTopicJSON(topic); got != awsDefaultTopicEffective {
			t.Errorf("EffectiveTopicJSON(%v)\n got %s\nwant %s", topic, got, awsDefaultTopicEffective)
		}
	}
	if got := EffectiveSubscriptionJSON(Default()); got != defaultSubEffective {
		t.Errorf("EffectiveSubscriptionJSON(Default())\n got %s\nwant %s", got, defaultSubEffective)
	}
}

func TestDocExample(t *testing.T) {
	sp, err := ParseSubscription(docExample)
	if err != nil {
		t.Fatal(err)
	}
	p := Effective(nil, &sp)
	want := Policy{Retry: Retry{1, 60, 50, 3, 2, 35, "exponential"}, MaxReceivesPerSecond: 10, HeaderContentType: DefaultHeaderContentType}
	if p != want {
		t.Fatalf("Effective = %+v, want %+v", p, want)
	}
	if got, want := p.Retry.TotalDelay(), 37*time.Minute+8959*time.Millisecond; got != want {
		t.Errorf("TotalDelay = %v, want %v", got, want)
	}
	const wantEffective = `{"healthyRetryPolicy":{"minDelayTarget":1,"maxDelayTarget":60,"numRetries":50,"numMaxDelayRetries":35,"numNoDelayRetries":3,"numMinDelayRetries":2,"backoffFunction":"exponential"},"sicklyRetryPolicy":null,"throttlePolicy":{"maxReceivesPerSecond":10},"requestPolicy":{"headerContentType":"text/plain; charset=UTF-8"},"guaranteed":false}`
	if got := EffectiveSubscriptionJSON(p); got != wantEffective {
		t.Errorf("EffectiveSubscriptionJSON\n got %s\nwant %s", got, wantEffective)
	}
}

func TestStoredForm(t *testing.T) {
	tests := []struct{ in, want string }{
		// AWS's own stored form reproduces itself (plus the requestPolicy section).
		{awsStoredSub, strings.Replace(awsStoredSub, `"throttlePolicy":null`, `"throttlePolicy":null,"requestPolicy":null`, 1)},
		{`{"healthyRetryPolicy":{"maxDelayTarget":20,"minDelayTarget":5,"numRetries":5}}`,
			strings.Replace(awsStoredSub, `"throttlePolicy":null`, `"throttlePolicy":null,"requestPolicy":null`, 1)},
		{`{}`, `{"healthyRetryPolicy":null,"sicklyRetryPolicy":null,"throttlePolicy":null,"requestPolicy":null,"guaranteed":false}`},
		{`{"requestPolicy":{"headerContentType":"application/json"},"healthyRetryPolicy":{"minDelayTarget":2,"maxDelayTarget":4,"numRetries":2,"numNoDelayRetries":0,"numMinDelayRetries":0,"numMaxDelayRetries":0,"backoffFunction":"linear"},"throttlePolicy":{"maxReceivesPerSecond":1}}`,
			`{"healthyRetryPolicy":{"minDelayTarget":2,"maxDelayTarget":4,"numRetries":2,"numMaxDelayRetries":0,"numNoDelayRetries":0,"numMinDelayRetries":0,"backoffFunction":"linear"},"sicklyRetryPolicy":null,"throttlePolicy":{"maxReceivesPerSecond":1},"requestPolicy":{"headerContentType":"application/json"},"guaranteed":false}`},
	}
	for _, tt := range tests {
		sp, err := ParseSubscription(tt.in)
		if err != nil {
			t.Errorf("ParseSubscription(%s): %v", tt.in, err)
			continue
		}
		if got := sp.JSON(); got != tt.want {
			t.Errorf("ParseSubscription(%s).JSON()\n got %s\nwant %s", tt.in, got, tt.want)
		}
	}

	topicTests := []struct{ in, want string }{
		{fullTopic, `{"http":{"defaultHealthyRetryPolicy":{"minDelayTarget":5,"maxDelayTarget":30,"numRetries":10,"numMaxDelayRetries":3,"numNoDelayRetries":1,"numMinDelayRetries":2,"backoffFunction":"exponential"},"disableSubscriptionOverrides":false,"defaultThrottlePolicy":{"maxReceivesPerSecond":5},"defaultRequestPolicy":{"headerContentType":"application/json"}}}`},
		{`{}`, `{}`},
		{`{"http":null}`, `{}`},
		{`{"http":{}}`, `{"http":{"disableSubscriptionOverrides":false}}`},
		{`{"http":{"disableSubscriptionOverrides":true,"defaultHealthyRetryPolicy":{"numRetries":0,"minDelayTarget":1,"maxDelayTarget":1,"numNoDelayRetries":null}}}`,
			`{"http":{"defaultHealthyRetryPolicy":{"minDelayTarget":1,"maxDelayTarget":1,"numRetries":0,"numMaxDelayRetries":null,"numNoDelayRetries":null,"numMinDelayRetries":null,"backoffFunction":null},"disableSubscriptionOverrides":true}}`},
	}
	for _, tt := range topicTests {
		tp, err := ParseTopic(tt.in)
		if err != nil {
			t.Errorf("ParseTopic(%s): %v", tt.in, err)
			continue
		}
		if got := tp.JSON(); got != tt.want {
			t.Errorf("ParseTopic(%s).JSON()\n got %s\nwant %s", tt.in, got, tt.want)
		}
	}
}

var validSubscriptions = []string{
	docExample, awsStoredSub, ``, `   `, `{}`,
	`{"healthyRetryPolicy":null,"throttlePolicy":null,"requestPolicy":null,"sicklyRetryPolicy":null,"guaranteed":null}`,
	`{"healthyRetryPolicy":{"minDelayTarget":"3","maxDelayTarget":4.0,"numRetries":3e0,"backoffFunction":"geometric"}}`,
	`{"healthyRetryPolicy":{"minDelayTarget":1200,"maxDelayTarget":1200,"numRetries":3}}`,
	`{"healthyRetryPolicy":{"minDelayTarget":3600,"maxDelayTarget":3600,"numRetries":1}}`,
	`{"healthyRetryPolicy":{"minDelayTarget":1,"maxDelayTarget":1,"numRetries":100,"numNoDelayRetries":100}}`,
	`{"sicklyRetryPolicy":{"minDelayTarget":1,"maxDelayTarget":2,"numRetries":3},"guaranteed":true}`,
	`{"throttlePolicy":{"maxReceivesPerSecond":2147483647}}`,
	`{"throttlePolicy":{}}`, `{"requestPolicy":{}}`,
	`{"requestPolicy":{"headerContentType":"application/json; charset=utf-8"}}`,
	`{"requestPolicy":{"headerContentType":"Text/Plain;Charset=UTF-8"}}`,
	`{"requestPolicy":{"headerContentType":"application/x-www-form-urlencoded"}}`,
}

var validTopics = []string{
	fullTopic, ``, `{}`, `{"http":null}`, `{"http":{}}`,
	`{"http":{"disableSubscriptionOverrides":"true","defaultSicklyRetryPolicy":null}}`,
	`{"http":{"defaultHealthyRetryPolicy":{"minDelayTarget":1,"maxDelayTarget":60,"numRetries":50,"numNoDelayRetries":3,"numMinDelayRetries":2,"numMaxDelayRetries":35,"backoffFunction":"exponential"},"defaultThrottlePolicy":{"maxReceivesPerSecond":10}}}`,
	`{"http":{"defaultRequestPolicy":{"headerContentType":"text/xml"},"disableSubscriptionOverrides":true}}`,
}

func TestJSONRoundTrips(t *testing.T) {
	for _, in := range validSubscriptions {
		sp, err := ParseSubscription(in)
		if err != nil {
			t.Errorf("ParseSubscription(%s): %v", in, err)
			continue
		}
		checkSubscriptionRoundTrip(t, sp)
	}
	for _, in := range validTopics {
		tp, err := ParseTopic(in)
		if err != nil {
			t.Errorf("ParseTopic(%s): %v", in, err)
			continue
		}
		checkTopicRoundTrip(t, tp)
	}
}

func checkSubscriptionRoundTrip(t *testing.T, sp SubscriptionPolicy) {
	t.Helper()
	stored := sp.JSON()
	again, err := ParseSubscription(stored)
	if err != nil {
		t.Fatalf("stored form %s does not parse: %v", stored, err)
	}
	if !reflect.DeepEqual(again, sp) || again.JSON() != stored {
		t.Fatalf("stored form %s does not round-trip: %+v vs %+v", stored, again, sp)
	}
	// The effective form is itself a valid subscription policy with the same effect.
	eff := Effective(nil, &sp)
	effJSON := EffectiveSubscriptionJSON(eff)
	parsed, err := ParseSubscription(effJSON)
	if err != nil {
		t.Fatalf("effective form %s does not parse: %v", effJSON, err)
	}
	if got := Effective(nil, &parsed); got != eff {
		t.Fatalf("effective form %s means %+v, want %+v", effJSON, got, eff)
	}
	if EffectiveSubscriptionJSON(Effective(nil, &parsed)) != effJSON {
		t.Fatalf("effective form %s is not stable", effJSON)
	}
}

func checkTopicRoundTrip(t *testing.T, tp TopicPolicy) {
	t.Helper()
	stored := tp.JSON()
	again, err := ParseTopic(stored)
	if err != nil {
		t.Fatalf("stored form %s does not parse: %v", stored, err)
	}
	if !reflect.DeepEqual(again, tp) || again.JSON() != stored {
		t.Fatalf("stored form %s does not round-trip: %+v vs %+v", stored, again, tp)
	}
	effJSON := EffectiveTopicJSON(&tp)
	parsed, err := ParseTopic(effJSON)
	if err != nil {
		t.Fatalf("effective form %s does not parse: %v", effJSON, err)
	}
	if Effective(&parsed, nil) != Effective(&tp, nil) || parsed.DisableSubscriptionOverrides != tp.DisableSubscriptionOverrides {
		t.Fatalf("effective form %s changes the policy", effJSON)
	}
	if EffectiveTopicJSON(&parsed) != effJSON {
		t.Fatalf("effective form %s is not stable", effJSON)
	}
}

func TestValidationErrors(t *testing.T) {
	sub := func(retry string) string {
		return `{"healthyRetryPolicy":{` + retry + `}}`
	}
	base := `"minDelayTarget":5,"maxDelayTarget":30,"numRetries":10`
	subTests := []struct{ in, want string }{
		{`{`, "Invalid JSON"},
		{`[]`, "Invalid JSON"},
		{`null`, "Invalid JSON"},
		{`"policy"`, "Invalid JSON"},
		{`{} {}`, "Invalid JSON"},
		{`{}x`, "Invalid JSON"},
		{`{"healthyRetryPolicy":{"minDelayTarget":1,}}`, "Invalid JSON"},
		{`{"bogus":1}`, "Unexpected JSON member: bogus"},
		{`{"zeta":1,"alpha":2,"healthyRetryPolicy":null}`, "Unexpected JSON member: alpha"},
		{`{"http":{}}`, "Unexpected JSON member: http"},
		{sub(base + `,"extra":1`), "Unexpected JSON member: extra"},
		{`{"throttlePolicy":{"maxReceivesPerSecond":1,"burst":2}}`, "Unexpected JSON member: burst"},
		{`{"requestPolicy":{"headerContentType":"text/plain","x":1}}`, "Unexpected JSON member: x"},
		{`{"healthyRetryPolicy":5}`, "healthyRetryPolicy must be a JSON object"},
		{`{"healthyRetryPolicy":[]}`, "healthyRetryPolicy must be a JSON object"},
		{`{"throttlePolicy":"fast"}`, "throttlePolicy must be a JSON object"},
		{sub(`"minDelayTarget":5,"maxDelayTarget":30,"numRetries":"ten"`), "healthyRetryPolicy.numRetries must be an integer"},
		{sub(`"minDelayTarget":5,"maxDelayTarget":30,"numRetries":1.5`), "healthyRetryPolicy.numRetries must be an integer"},
		{sub(`"minDelayTarget":5,"maxDelayTarget":30,"numRetries":true`), "healthyRetryPolicy.numRetries must be an integer"},
		{sub(`"minDelayTarget":5,"maxDelayTarget":30,"numRetries":"1.0"`), "healthyRetryPolicy.numRetries must be an integer"},
		{sub(`"minDelayTarget":5,"maxDelayTarget":30,"numRetries":1e10`), "healthyRetryPolicy.numRetries must be less than or equal to 2147483647"},
		{sub(`"minDelayTarget":5,"maxDelayTarget":30,"numRetries":99999999999999999999999`), "healthyRetryPolicy.numRetries must be less than or equal to 2147483647"},
		{sub(`"minDelayTarget":-99999999999,"maxDelayTarget":30,"numRetries":1`), "healthyRetryPolicy.minDelayTarget must be greater than or equal to -2147483648"},
		{sub(base + `,"backoffFunction":5`), "healthyRetryPolicy.backoffFunction must be a string"},
		{sub(`"maxDelayTarget":30,"numRetries":10`), "healthyRetryPolicy.minDelayTarget must be specified"},
		{sub(`"minDelayTarget":5,"numRetries":10`), "healthyRetryPolicy.maxDelayTarget must be specified"},
		{sub(`"minDelayTarget":5,"maxDelayTarget":30`), "healthyRetryPolicy.numRetries must be specified"},
		{sub(`"minDelayTarget":5,"maxDelayTarget":30,"numRetries":null`), "healthyRetryPolicy.numRetries must be specified"},
		{sub(`"numRetries":5`), "healthyRetryPolicy.minDelayTarget must be specified"},
		{sub(``), "healthyRetryPolicy.minDelayTarget must be specified"},
		{sub(`"minDelayTarget":0,"maxDelayTarget":0,"numRetries":0`), "healthyRetryPolicy.minDelayTarget must be greater than or equal to 1"},
		{sub(`"minDelayTarget":1,"maxDelayTarget":3601,"numRetries":1`), "healthyRetryPolicy.maxDelayTarget must be less than or equal to 3600"},
		{sub(`"minDelayTarget":3601,"maxDelayTarget":3601,"numRetries":1`), "healthyRetryPolicy.maxDelayTarget must be less than or equal to 3600"},
		{sub(`"minDelayTarget":5,"maxDelayTarget":3,"numRetries":1`), "healthyRetryPolicy.maxDelayTarget must be greater than or equal to minDelayTarget"},
		{sub(`"minDelayTarget":5,"maxDelayTarget":30,"numRetries":-1`), "healthyRetryPolicy.numRetries must be greater than or equal to 0"},
		{sub(`"minDelayTarget":5,"maxDelayTarget":30,"numRetries":101`), "healthyRetryPolicy.numRetries must be less than or equal to 100"},
		{sub(base + `,"numNoDelayRetries":-1`), "healthyRetryPolicy.numNoDelayRetries must be greater than or equal to 0"},
		{sub(base + `,"numMinDelayRetries":-1`), "healthyRetryPolicy.numMinDelayRetries must be greater than or equal to 0"},
		{sub(base + `,"numMaxDelayRetries":-1`), "healthyRetryPolicy.numMaxDelayRetries must be greater than or equal to 0"},
		{sub(base + `,"numNoDelayRetries":4,"numMinDelayRetries":4,"numMaxDelayRetries":3`),
			"healthyRetryPolicy.numRetries must be greater than or equal to total of numMinDelayRetries, numNoDelayRetries and numMaxDelayRetries"},
		{sub(base + `,"numNoDelayRetries":2147483647,"numMaxDelayRetries":2147483647`),
			"healthyRetryPolicy.numRetries must be greater than or equal to total of numMinDelayRetries, numNoDelayRetries and numMaxDelayRetries"},
		{sub(base + `,"backoffFunction":"cubic"`), "healthyRetryPolicy.backoffFunction must be one of linear, arithmetic, geometric, exponential"},
		{sub(base + `,"backoffFunction":"Linear"`), "healthyRetryPolicy.backoffFunction must be one of linear, arithmetic, geometric, exponential"},
		{sub(base + `,"backoffFunction":""`), "healthyRetryPolicy.backoffFunction must be one of linear, arithmetic, geometric, exponential"},
		{sub(`"minDelayTarget":1200,"maxDelayTarget":1200,"numRetries":4`), "healthyRetryPolicy total retry time must be less than or equal to 3600 seconds"},
		{sub(`"minDelayTarget":1,"maxDelayTarget":3600,"numRetries":2`), "healthyRetryPolicy total retry time must be less than or equal to 3600 seconds"},
		{sub(`"minDelayTarget":60,"maxDelayTarget":60,"numRetries":61`), "healthyRetryPolicy total retry time must be less than or equal to 3600 seconds"},
		{`{"sicklyRetryPolicy":{"minDelayTarget":1,"maxDelayTarget":2,"numRetries":101}}`, "sicklyRetryPolicy.numRetries must be less than or equal to 100"},
		{`{"throttlePolicy":{"maxReceivesPerSecond":0}}`, "throttlePolicy.maxReceivesPerSecond must be greater than or equal to 1"},
		{`{"throttlePolicy":{"maxReceivesPerSecond":-4}}`, "throttlePolicy.maxReceivesPerSecond must be greater than or equal to 1"},
		{`{"throttlePolicy":{"maxReceivesPerSecond":"x"}}`, "throttlePolicy.maxReceivesPerSecond must be an integer"},
		{`{"requestPolicy":{"headerContentType":"text/bogus"}}`, "requestPolicy.headerContentType must be a supported content type"},
		{`{"requestPolicy":{"headerContentType":""}}`, "requestPolicy.headerContentType must be a supported content type"},
		{`{"requestPolicy":{"headerContentType":"application/json; charset=latin1"}}`, "requestPolicy.headerContentType must be a supported content type"},
		{`{"requestPolicy":{"headerContentType":"application/json; boundary=x"}}`, "requestPolicy.headerContentType must be a supported content type"},
		{`{"requestPolicy":{"headerContentType":"json"}}`, "requestPolicy.headerContentType must be a supported content type"},
		{`{"requestPolicy":{"headerContentType":7}}`, "requestPolicy.headerContentType must be a string"},
		{`{"guaranteed":1}`, "guaranteed must be a boolean"},
	}
	for _, tt := range subTests {
		_, err := ParseSubscription(tt.in)
		checkError(t, "ParseSubscription", tt.in, err, tt.want)
	}

	topic := func(retry string) string {
		return `{"http":{"defaultHealthyRetryPolicy":{` + retry + `}}}`
	}
	topicTests := []struct{ in, want string }{
		{`{`, "Invalid JSON"},
		{`{"throttlePolicy":{"maxReceivesPerSecond":1}}`, "Unexpected JSON member: throttlePolicy"},
		{`{"https":{}}`, "Unexpected JSON member: https"},
		{`{"http":{"healthyRetryPolicy":{}}}`, "Unexpected JSON member: healthyRetryPolicy"},
		{`{"http":[]}`, "http must be a JSON object"},
		{`{"http":{"disableSubscriptionOverrides":"yes"}}`, "http.disableSubscriptionOverrides must be a boolean"},
		{`{"http":{"disableSubscriptionOverrides":1}}`, "http.disableSubscriptionOverrides must be a boolean"},
		{topic(`"minDelayTarget":5,"maxDelayTarget":30,"numRetries":101`), "http.defaultHealthyRetryPolicy.numRetries must be less than or equal to 100"},
		{topic(`"minDelayTarget":0,"maxDelayTarget":30,"numRetries":1`), "http.defaultHealthyRetryPolicy.minDelayTarget must be greater than or equal to 1"},
		{topic(`"numRetries":5`), "http.defaultHealthyRetryPolicy.minDelayTarget must be specified"},
		{topic(`"minDelayTarget":1200,"maxDelayTarget":1200,"numRetries":4`), "http.defaultHealthyRetryPolicy total retry time must be less than or equal to 3600 seconds"},
		{`{"http":{"defaultSicklyRetryPolicy":{"numRetries":1}}}`, "http.defaultSicklyRetryPolicy.minDelayTarget must be specified"},
		{`{"http":{"defaultThrottlePolicy":{"maxReceivesPerSecond":0}}}`, "http.defaultThrottlePolicy.maxReceivesPerSecond must be greater than or equal to 1"},
		{`{"http":{"defaultRequestPolicy":{"headerContentType":"image/png"}}}`, "http.defaultRequestPolicy.headerContentType must be a supported content type"},
		{`{"http":{"defaultRequestPolicy":{"contentType":"text/plain"}}}`, "Unexpected JSON member: contentType"},
	}
	for _, tt := range topicTests {
		_, err := ParseTopic(tt.in)
		checkError(t, "ParseTopic", tt.in, err, tt.want)
	}
}

func checkError(t *testing.T, fn, in string, err error, want string) {
	t.Helper()
	var perr *Error
	if !errors.As(err, &perr) {
		t.Errorf("%s(%s) error = %v (%T), want *Error %q", fn, in, err, err, want)
		return
	}
	if perr.Message != want || err.Error() != want {
		t.Errorf("%s(%s) error\n got %q\nwant %q", fn, in, perr.Message, want)
	}
}

func TestParseReturnsNilErrorInterface(t *testing.T) {
	// A typed nil *Error inside a non-nil error interface would be a trap.
	if _, err := ParseTopic(fullTopic); err != nil {
		t.Errorf("ParseTopic: %v", err)
	}
	if _, err := ParseSubscription(""); err != nil {
		t.Errorf("ParseSubscription: %v", err)
	}
}

func TestEffectiveMerging(t *testing.T) {
	topic, err := ParseTopic(fullTopic)
	if err != nil {
		t.Fatal(err)
	}
	topicRetry := Retry{5, 30, 10, 1, 2, 3, "exponential"}
	fromTopic := Policy{Retry: topicRetry, MaxReceivesPerSecond: 5, HeaderContentType: "application/json"}
	subRetry := Retry{2, 4, 2, 0, 0, 0, "linear"}

	mustSub := func(s string) *SubscriptionPolicy {
		sp, err := ParseSubscription(s)
		if err != nil {
			t.Fatal(err)
		}
		return &sp
	}
	onlyContent := mustSub(`{"requestPolicy":{"headerContentType":"text/plain"}}`)
	onlyRetry := mustSub(`{"healthyRetryPolicy":{"minDelayTarget":2,"maxDelayTarget":4,"numRetries":2}}`)
	all := mustSub(`{"healthyRetryPolicy":{"minDelayTarget":2,"maxDelayTarget":4,"numRetries":2},"throttlePolicy":{"maxReceivesPerSecond":100},"requestPolicy":{"headerContentType":"application/xml"}}`)

	disabled := topic
	disabled.DisableSubscriptionOverrides = true
	partialTopic, err := ParseTopic(`{"http":{"defaultThrottlePolicy":{"maxReceivesPerSecond":7}}}`)
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name  string
		topic *TopicPolicy
		sub   *SubscriptionPolicy
		want  Policy
	}{
		{"topic only", &topic, nil, fromTopic},
		{"empty subscription policy keeps the topic's", &topic, mustSub(`{}`), fromTopic},
		{"subscription content type only", &topic, onlyContent,
			Policy{Retry: topicRetry, MaxReceivesPerSecond: 5, HeaderContentType: "text/plain"}},
		{"subscription retry replaces the whole retry section", &topic, onlyRetry,
			Policy{Retry: subRetry, MaxReceivesPerSecond: 5, HeaderContentType: "application/json"}},
		{"subscription overrides everything", &topic, all,
			Policy{Retry: subRetry, MaxReceivesPerSecond: 100, HeaderContentType: "application/xml"}},
		{"disableSubscriptionOverrides", &disabled, all, fromTopic},
		{"subscription only", nil, all, Policy{Retry: subRetry, MaxReceivesPerSecond: 100, HeaderContentType: "application/xml"}},
		{"partial topic over defaults", &partialTopic, onlyContent,
			Policy{Retry: Default().Retry, MaxReceivesPerSecond: 7, HeaderContentType: "text/plain"}},
	}
	for _, tt := range tests {
		if got := Effective(tt.topic, tt.sub); got != tt.want {
			t.Errorf("%s: Effective = %+v, want %+v", tt.name, got, tt.want)
		}
	}

	const wantTopicEffective = `{"http":{"defaultHealthyRetryPolicy":{"minDelayTarget":5,"maxDelayTarget":30,"numRetries":10,"numMaxDelayRetries":3,"numNoDelayRetries":1,"numMinDelayRetries":2,"backoffFunction":"exponential"},"disableSubscriptionOverrides":true,"defaultThrottlePolicy":{"maxReceivesPerSecond":5},"defaultRequestPolicy":{"headerContentType":"application/json"}}}`
	if got := EffectiveTopicJSON(&disabled); got != wantTopicEffective {
		t.Errorf("EffectiveTopicJSON\n got %s\nwant %s", got, wantTopicEffective)
	}
	const wantPartial = `{"http":{"defaultHealthyRetryPolicy":{"minDelayTarget":20,"maxDelayTarget":20,"numRetries":3,"numMaxDelayRetries":0,"numNoDelayRetries":0,"numMinDelayRetries":0,"backoffFunction":"linear"},"disableSubscriptionOverrides":false,"defaultThrottlePolicy":{"maxReceivesPerSecond":7},"defaultRequestPolicy":{"headerContentType":"text/plain; charset=UTF-8"}}}`
	if got := EffectiveTopicJSON(&partialTopic); got != wantPartial {
		t.Errorf("EffectiveTopicJSON(partial)\n got %s\nwant %s", got, wantPartial)
	}
}

func TestManualPoliciesRender(t *testing.T) {
	// Policies built in code (no parse bookkeeping) keep non-default values.
	sp := SubscriptionPolicy{HealthyRetry: &Retry{1, 10, 5, 1, 1, 1, "geometric"}}
	const want = `{"healthyRetryPolicy":{"minDelayTarget":1,"maxDelayTarget":10,"numRetries":5,"numMaxDelayRetries":1,"numNoDelayRetries":1,"numMinDelayRetries":1,"backoffFunction":"geometric"},"sicklyRetryPolicy":null,"throttlePolicy":null,"requestPolicy":null,"guaranteed":false}`
	if got := sp.JSON(); got != want {
		t.Errorf("JSON\n got %s\nwant %s", got, want)
	}
	tp := TopicPolicy{MaxReceivesPerSecond: 3}
	if got, want := tp.JSON(), `{"http":{"disableSubscriptionOverrides":false,"defaultThrottlePolicy":{"maxReceivesPerSecond":3}}}`; got != want {
		t.Errorf("JSON\n got %s\nwant %s", got, want)
	}
	if got := EffectiveSubscriptionJSON(Policy{HeaderContentType: `a"b`}); !strings.Contains(got, `"headerContentType":"a\"b"`) {
		t.Errorf("content type not JSON-escaped: %s", got)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range validSubscriptions {
		f.Add(s)
	}
	for _, s := range validTopics {
		f.Add(s)
	}
	f.Add(`{"healthyRetryPolicy":{"minDelayTarget":1,"maxDelayTarget":3600,"numRetries":100,"numMaxDelayRetries":1,"backoffFunction":"exponential"}}`)
	f.Add(`{"http":{"defaultHealthyRetryPolicy":{"minDelayTarget":1e0,"maxDelayTarget":"60","numRetries":-0}}}`)
	f.Add(`{"a":{"b":[1,2,{"c":null}]}}`)
	f.Add("{\"healthyRetryPolicy\":{\"minDelayTarget\":1,\"maxDelayTarget\":\"\xff\",\"numRetries\":1}}")
	f.Fuzz(func(t *testing.T, s string) {
		if sp, err := ParseSubscription(s); err == nil {
			checkSubscriptionRoundTrip(t, sp)
			checkParsedRetry(t, sp.HealthyRetry)
		} else if _, ok := err.(*Error); !ok {
			t.Fatalf("ParseSubscription error %T", err)
		}
		if tp, err := ParseTopic(s); err == nil {
			checkTopicRoundTrip(t, tp)
			checkParsedRetry(t, tp.HealthyRetry)
			eff := Effective(&tp, nil)
			checkParsedRetry(t, &eff.Retry)
		} else if _, ok := err.(*Error); !ok {
			t.Fatalf("ParseTopic error %T", err)
		}
	})
}

// checkParsedRetry checks the schedule of a validated retry policy.
func checkParsedRetry(t *testing.T, r *Retry) {
	t.Helper()
	if r == nil {
		return
	}
	var total time.Duration
	for n := 1; n <= r.NumRetries; n++ {
		d, ok := r.Delay(n)
		if !ok || d < 0 || d > time.Duration(r.MaxDelayTarget)*time.Second {
			t.Fatalf("%+v: Delay(%d) = %v, %v", *r, n, d, ok)
		}
		total += d
	}
	if _, ok := r.Delay(r.NumRetries + 1); ok {
		t.Fatalf("%+v: Delay past numRetries did not give up", *r)
	}
	if total != r.TotalDelay() || total > MaxTotalRetryTime {
		t.Fatalf("%+v: total %v, TotalDelay %v", *r, total, r.TotalDelay())
	}
}
