// Package deliverypolicy parses, validates, merges and schedules Amazon SNS
// HTTP/S delivery policies (the DeliveryPolicy topic and subscription
// attributes).
//
// # Documents
//
// Topic attribute:
//
//	{"http":{"defaultHealthyRetryPolicy":{...},"disableSubscriptionOverrides":bool,
//	         "defaultThrottlePolicy":{"maxReceivesPerSecond":n},
//	         "defaultRequestPolicy":{"headerContentType":"..."}}}
//
// Subscription attribute:
//
//	{"healthyRetryPolicy":{...},"throttlePolicy":{"maxReceivesPerSecond":n},
//	 "requestPolicy":{"headerContentType":"..."}}
//
// A retry policy object has minDelayTarget, maxDelayTarget, numRetries
// (required whenever the object is present, as AWS requires them),
// numNoDelayRetries, numMinDelayRetries, numMaxDelayRetries (default 0) and
// backoffFunction (default "linear"). The deprecated members AWS still shows
// (subscription "sicklyRetryPolicy", "guaranteed"; topic
// "defaultSicklyRetryPolicy") are accepted and ignored; a non-null sickly
// policy is validated like a healthy one. Any other member is rejected. A JSON
// null member counts as absent. Integers may be given as JSON numbers with an
// integral value or as decimal strings, and booleans as true/false or
// "true"/"false" (Jackson-style coercion). An empty or all-blank document is
// the unset policy.
//
// # Validation
//
// The first failure wins. The document is checked for JSON syntax, then
// each object for unknown members before its contents, sections in the order
// healthy retry, sickly retry, disableSubscriptionOverrides, throttle,
// request, guaranteed, and within a retry policy in the order of the table.
// Messages in *Error are the text that follows AWS's "Invalid parameter:
// DeliveryPolicy: " prefix; PATH is e.g. "healthyRetryPolicy" or
// "http.defaultHealthyRetryPolicy":
//
//	malformed JSON / not an object          Invalid JSON
//	unknown member (sorted by name)         Unexpected JSON member: NAME
//	wrong JSON type                         PATH.FIELD must be an integer | a boolean | a string | a JSON object
//	required field missing                  PATH.FIELD must be specified
//	minDelayTarget < 1                      PATH.minDelayTarget must be greater than or equal to 1
//	maxDelayTarget > 3600                   PATH.maxDelayTarget must be less than or equal to 3600
//	maxDelayTarget < minDelayTarget         PATH.maxDelayTarget must be greater than or equal to minDelayTarget
//	numRetries outside 0..100               PATH.numRetries must be greater than or equal to 0 | less than or equal to 100
//	a phase count < 0                       PATH.numNoDelayRetries (etc.) must be greater than or equal to 0
//	phase counts sum > numRetries           PATH.numRetries must be greater than or equal to total of numMinDelayRetries, numNoDelayRetries and numMaxDelayRetries
//	bad backoffFunction                     PATH.backoffFunction must be one of linear, arithmetic, geometric, exponential
//	sum of all retry delays > 3600 s        PATH total retry time must be less than or equal to 3600 seconds
//	maxReceivesPerSecond < 1                PATH.maxReceivesPerSecond must be greater than or equal to 1
//	unsupported headerContentType           PATH.headerContentType must be a supported content type
//
// Supported content types are text/css, text/csv, text/html, text/plain,
// text/xml, application/atom+xml, application/json, application/octet-stream,
// application/soap+xml, application/x-www-form-urlencoded,
// application/xhtml+xml and application/xml, optionally with the single
// parameter charset=UTF-8 (case-insensitive).
//
// # Merging
//
// Effective starts from Default (20 s / 20 s / 3 retries / 0,0,0 / linear, no
// throttle, "text/plain; charset=UTF-8"), applies each section present in the
// topic policy, then each section present in the subscription policy unless
// the topic sets disableSubscriptionOverrides. Sections (retry, throttle,
// request) override whole: a subscription retry policy does not inherit
// individual retry fields from the topic.
//
// # Rendering
//
// EffectiveTopicJSON and EffectiveSubscriptionJSON render the
// EffectiveDeliveryPolicy attributes with every retry field spelled out, in
// AWS member order (minDelayTarget, maxDelayTarget, numRetries,
// numMaxDelayRetries, numNoDelayRetries, numMinDelayRetries,
// backoffFunction). The topic form omits defaultThrottlePolicy when no
// throttle is set; the subscription form always carries
// "sicklyRetryPolicy":null, "throttlePolicy" (null when unset),
// "requestPolicy" and "guaranteed":false. TopicPolicy.JSON and
// SubscriptionPolicy.JSON render the normalized DeliveryPolicy attribute
// (what the caller may return for the attribute itself), with optional retry
// members the document omitted as null, as AWS returns them. All rendered
// forms parse back to the same policy.
//
// # Schedule
//
// Retry n (1-based; the initial attempt is not a retry) waits Delay(n):
//
//	n in 1..N0                       0
//	next N1 retries                  minDelayTarget
//	next B retries (backoff phase)   backoff(i, B), i = 0..B-1
//	last N3 retries                  maxDelayTarget
//	n > numRetries                   give up (ok = false)
//
// with N0 = numNoDelayRetries, N1 = numMinDelayRetries, N3 =
// numMaxDelayRetries and B = numRetries - N0 - N1 - N3. AWS documents the
// backoff functions only as curves, so this package defines them, with
// lo = minDelayTarget, hi = maxDelayTarget, k = B-1 and i = 0..k:
//
//	linear       lo + (hi-lo) * i/k                      equal steps
//	arithmetic   lo + (hi-lo) * i(i+1) / (k(k+1))        step j grows arithmetically (∝ j): quadratic growth
//	geometric    lo * (hi/lo)^(i/k)                      each delay is the previous one times (hi/lo)^(1/k)
//	exponential  lo + (hi-lo) * (2^i - 1) / (2^k - 1)    the excess over lo doubles with every retry
//
// Every function gives exactly lo at i = 0 and exactly hi at i = k, and is
// non-decreasing; a one-retry backoff phase (k = 0) waits lo. All four are
// convex, so for lo < hi and k >= 2 every interior delay satisfies linear >
// arithmetic >= exponential and linear > geometric; where geometric falls
// relative to the other two depends on hi/lo (its curve is exponential's when
// hi/lo = 2^k, above it when hi/lo < 2^k). Delays are rounded to the nearest
// millisecond. Delay adds no jitter; callers add their
// own. The "total retry time" limit is the sum of Delay(1..numRetries).
package deliverypolicy
