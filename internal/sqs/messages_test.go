package sqs

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Known digests: the body one is aws-sdk-go-v2's own checksum test value;
// the attribute ones are published examples (AWS SDK for JavaScript
// checksum tests, LocalStack's tests against AWS).
func TestMD5KnownValues(t *testing.T) {
	if got := md5Hex("test"); got != "098f6bcd4621d373cade4e832627b4f6" {
		t.Errorf("body: %s", got)
	}
	cases := []struct {
		attrs map[string]MessageAttribute
		want  string
	}{
		{map[string]MessageAttribute{"SellerName": {DataType: "String", StringValue: "Example Store"}}, "cd28f3b68aeee4b2eac9c66f2f694b58"},
		{map[string]MessageAttribute{"timestamp": {DataType: "Number", StringValue: "1493147359900"}}, "235c5c510d26fb653d073faed50ae77c"},
		{nil, ""},
	}
	for _, c := range cases {
		if got := md5OfAttributes(c.attrs); got != c.want {
			t.Errorf("%v: got %s, want %s", c.attrs, got, c.want)
		}
	}
}

func TestSendReceiveDelete(t *testing.T) {
	drivers(t, func(t *testing.T, e *env) {
		u := e.queue("q1", nil)
		attrs := map[string]MessageAttribute{
			"SellerName": {DataType: "String", StringValue: "Example Store"},
			"bin":        {DataType: "Binary", BinaryValue: []byte{0, 1, 2}},
			"n.custom":   {DataType: "Number.int", StringValue: "-1.5e3"},
		}
		sys := map[string]MessageAttribute{"AWSTraceHeader": {DataType: "String", StringValue: "Root=1-5759e988-bd862e3fe1be46a994272793"}}
		r, err := e.s.SendMessage(e.ctx, e.c, u, SendInput{Body: "test", Attributes: attrs, SystemAttributes: sys})
		if err != nil {
			t.Fatal(err)
		}
		if r.MD5OfMessageBody != "098f6bcd4621d373cade4e832627b4f6" || r.MD5OfMessageAttributes != md5OfAttributes(attrs) ||
			r.MD5OfMessageSystemAttributes == "" || len(r.MessageID) != 36 {
			t.Fatalf("result %+v", r)
		}
		ms := e.receive(u, ReceiveInput{MaxNumberOfMessages: 10, AttributeNames: []string{"All"}, MessageAttributeNames: []string{"Seller.*", "bin"}})
		if len(ms) != 1 {
			t.Fatalf("got %d messages", len(ms))
		}
		m := ms[0]
		if m.Body != "test" || m.MessageID != r.MessageID || m.MD5OfBody != r.MD5OfMessageBody {
			t.Fatalf("message %+v", m)
		}
		if len(m.MessageAttributes) != 1 || m.MessageAttributes["bin"].DataType != "Binary" {
			// "Seller.*" matches names starting with "Seller.", not "SellerName".
			t.Fatalf("attributes %+v", m.MessageAttributes)
		}
		if m.MD5OfMessageAttributes != md5OfAttributes(m.MessageAttributes) {
			t.Fatal("MD5 of the returned attributes")
		}
		want := map[string]string{"SenderId": "000000000000", "SentTimestamp": strconv.FormatInt(e.clk.Now().UnixMilli(), 10),
			"ApproximateReceiveCount": "1", "ApproximateFirstReceiveTimestamp": strconv.FormatInt(e.clk.Now().UnixMilli(), 10),
			"AWSTraceHeader": "Root=1-5759e988-bd862e3fe1be46a994272793"}
		for k, v := range want {
			if m.Attributes[k] != v {
				t.Errorf("attribute %s = %q, want %q", k, m.Attributes[k], v)
			}
		}
		if len(m.Attributes) != len(want) {
			t.Errorf("attributes %v", m.Attributes)
		}
		// All attributes.
		e.clk.Add(31 * time.Second)
		ms = e.receive(u, ReceiveInput{MessageAttributeNames: []string{"All"}})
		if len(ms) != 1 || len(ms[0].MessageAttributes) != 3 || ms[0].MD5OfMessageAttributes != r.MD5OfMessageAttributes || ms[0].Attributes != nil {
			t.Fatalf("second receive %+v", ms)
		}
		if err := e.s.DeleteMessage(e.ctx, e.c, u, ms[0].ReceiptHandle); err != nil {
			t.Fatal(err)
		}
		// Deleting again (a deleted message's handle) succeeds.
		if err := e.s.DeleteMessage(e.ctx, e.c, u, ms[0].ReceiptHandle); err != nil {
			t.Fatal(err)
		}
		e.clk.Add(time.Hour)
		if ms := e.receive(u, ReceiveInput{}); len(ms) != 0 {
			t.Fatalf("deleted message came back: %+v", ms)
		}
		if err := e.s.DeleteMessage(e.ctx, e.c, u, "garbage"); kindOf(err) != ErrReceiptHandleIsInvalid {
			t.Fatalf("malformed handle: %v", err)
		}
	})
}

func TestVisibilityExpiryAndRedelivery(t *testing.T) {
	drivers(t, func(t *testing.T, e *env) {
		u := e.queue("vis", map[string]string{"VisibilityTimeout": "30"})
		e.send(u, "a")
		first := e.receive(u, ReceiveInput{AttributeNames: []string{"ApproximateReceiveCount"}})
		if len(first) != 1 {
			t.Fatal("no message")
		}
		e.clk.Add(29 * time.Second)
		if ms := e.receive(u, ReceiveInput{}); len(ms) != 0 {
			t.Fatal("received while in flight")
		}
		e.clk.Add(2 * time.Second)
		again := e.receive(u, ReceiveInput{AttributeNames: []string{"ApproximateReceiveCount", "ApproximateFirstReceiveTimestamp"}})
		if len(again) != 1 || again[0].Attributes["ApproximateReceiveCount"] != "2" || again[0].ReceiptHandle == first[0].ReceiptHandle {
			t.Fatalf("redelivery %+v", again)
		}
		// The stale handle: ChangeMessageVisibility fails, DeleteMessage succeeds without deleting.
		if err := e.s.ChangeMessageVisibility(e.ctx, e.c, u, first[0].ReceiptHandle, 10); kindOf(err) != ErrInvalidParameterValue {
			t.Fatalf("stale change: %v", err)
		}
		if err := e.s.DeleteMessage(e.ctx, e.c, u, first[0].ReceiptHandle); err != nil {
			t.Fatal(err)
		}
		// Extend, then release at once.
		if err := e.s.ChangeMessageVisibility(e.ctx, e.c, u, again[0].ReceiptHandle, 600); err != nil {
			t.Fatal(err)
		}
		e.clk.Add(500 * time.Second)
		if ms := e.receive(u, ReceiveInput{}); len(ms) != 0 {
			t.Fatal("received during the extended timeout")
		}
		// 12 hours from this receive: 500 s passed, so 43200 is beyond.
		if err := e.s.ChangeMessageVisibility(e.ctx, e.c, u, again[0].ReceiptHandle, 43200); kindOf(err) != ErrInvalidParameterValue ||
			!strings.Contains(err.Error(), "Total VisibilityTimeout") {
			t.Fatalf("12 hours: %v", err)
		}
		if err := e.s.ChangeMessageVisibility(e.ctx, e.c, u, again[0].ReceiptHandle, 0); err != nil {
			t.Fatal(err)
		}
		third := e.receive(u, ReceiveInput{VisibilityTimeout: intp(5)})
		if len(third) != 1 {
			t.Fatal("not visible after ChangeMessageVisibility 0")
		}
		e.clk.Add(6 * time.Second)
		if err := e.s.ChangeMessageVisibility(e.ctx, e.c, u, third[0].ReceiptHandle, 10); kindOf(err) != ErrMessageNotInflight {
			t.Fatalf("visible message: %v", err)
		}
	})
}

func TestDelay(t *testing.T) {
	drivers(t, func(t *testing.T, e *env) {
		u := e.queue("delayed", map[string]string{"DelaySeconds": "60"})
		e.send(u, "queue delay")
		if _, err := e.s.SendMessage(e.ctx, e.c, u, SendInput{Body: "own delay", DelaySeconds: intp(0)}); err != nil {
			t.Fatal(err)
		}
		ms := e.receive(u, ReceiveInput{MaxNumberOfMessages: 10})
		if len(ms) != 1 || ms[0].Body != "own delay" {
			t.Fatalf("got %+v", ms)
		}
		if err := e.s.DeleteMessage(e.ctx, e.c, u, ms[0].ReceiptHandle); err != nil {
			t.Fatal(err)
		}
		e.clk.Add(59 * time.Second)
		if ms := e.receive(u, ReceiveInput{MaxNumberOfMessages: 10}); len(ms) != 0 {
			t.Fatal("delayed message early")
		}
		e.clk.Add(time.Second)
		if ms := e.receive(u, ReceiveInput{MaxNumberOfMessages: 10}); len(ms) != 1 || ms[0].Body != "queue delay" {
			t.Fatalf("got %+v", ms)
		}
		if _, err := e.s.SendMessage(e.ctx, e.c, u, SendInput{Body: "x", DelaySeconds: intp(901)}); kindOf(err) != ErrInvalidParameterValue {
			t.Fatalf("delay 901: %v", err)
		}
	})
}

func TestRetention(t *testing.T) {
	drivers(t, func(t *testing.T, e *env) {
		u := e.queue("ret", map[string]string{"MessageRetentionPeriod": "60"})
		e.send(u, "old")
		e.clk.Add(30 * time.Second)
		e.send(u, "new")
		e.clk.Add(31 * time.Second) // "old" is 61 s old
		ms := e.receive(u, ReceiveInput{MaxNumberOfMessages: 10})
		if len(ms) != 1 || ms[0].Body != "new" {
			t.Fatalf("got %+v", ms)
		}
		k, _ := queueKeyOf(e.c, u)
		counts, err := e.st.Counts(e.ctx, k, e.clk.Now())
		if err != nil {
			t.Fatal(err)
		}
		if counts.Visible+counts.InFlight+counts.Delayed != 1 {
			t.Fatalf("expired message still stored: %+v", counts)
		}
		// An in-flight message expires too (the sweep): Run's pass.
		e.clk.Add(2 * time.Minute)
		e.s.sweep(e.ctx)
		counts, _ = e.st.Counts(e.ctx, k, e.clk.Now())
		if counts.Visible+counts.InFlight+counts.Delayed != 0 {
			t.Fatalf("sweep left %+v", counts)
		}
	})
}

func TestSendValidation(t *testing.T) {
	e := newEnv(t, "pebble")
	u := e.queue("val", map[string]string{"MaximumMessageSize": "1024"})
	many := map[string]MessageAttribute{}
	for i := range 11 {
		many["a"+strconv.Itoa(i)] = MessageAttribute{DataType: "String", StringValue: "v"}
	}
	cases := []struct {
		name string
		in   SendInput
		kind error
	}{
		{"empty body", SendInput{}, ErrMissingParameter},
		{"control char", SendInput{Body: "a\x01b"}, ErrInvalidMessageContents},
		{"surrogate-free invalid utf8", SendInput{Body: "a\xffb"}, ErrInvalidMessageContents},
		{"FFFE", SendInput{Body: "a\uFFFE"}, ErrInvalidMessageContents},
		{"too big", SendInput{Body: strings.Repeat("x", 1025)}, ErrInvalidParameterValue},
		{"too big with attributes", SendInput{Body: strings.Repeat("x", 1000), Attributes: map[string]MessageAttribute{"name": {DataType: "String", StringValue: strings.Repeat("v", 20)}}}, ErrInvalidParameterValue},
		{"11 attributes", SendInput{Body: "x", Attributes: many}, ErrInvalidParameterValue},
		{"AWS. name", SendInput{Body: "x", Attributes: map[string]MessageAttribute{"AWS.x": {DataType: "String", StringValue: "v"}}}, ErrInvalidParameterValue},
		{"bad name", SendInput{Body: "x", Attributes: map[string]MessageAttribute{"a..b": {DataType: "String", StringValue: "v"}}}, ErrInvalidParameterValue},
		{"bad type", SendInput{Body: "x", Attributes: map[string]MessageAttribute{"a": {DataType: "Int", StringValue: "1"}}}, ErrInvalidParameterValue},
		{"bad number", SendInput{Body: "x", Attributes: map[string]MessageAttribute{"a": {DataType: "Number", StringValue: "12a"}}}, ErrInvalidParameterValue},
		{"spaced number", SendInput{Body: "x", Attributes: map[string]MessageAttribute{"a": {DataType: "Number", StringValue: " 1"}}}, ErrInvalidParameterValue},
		{"39 digits", SendInput{Body: "x", Attributes: map[string]MessageAttribute{"a": {DataType: "Number", StringValue: "123456789012345678901234567890123456789"}}}, ErrInvalidParameterValue},
		{"empty value", SendInput{Body: "x", Attributes: map[string]MessageAttribute{"a": {DataType: "String"}}}, ErrInvalidParameterValue},
		{"system attribute", SendInput{Body: "x", SystemAttributes: map[string]MessageAttribute{"Other": {DataType: "String", StringValue: "v"}}}, ErrInvalidParameterValue},
		{"group id", SendInput{Body: "x", MessageGroupID: "g"}, ErrInvalidParameterValue},
		{"dedup id", SendInput{Body: "x", MessageDeduplicationID: "d"}, ErrInvalidParameterValue},
	}
	for _, c := range cases {
		_, err := e.s.SendMessage(e.ctx, e.c, u, c.in)
		if kindOf(err) != c.kind {
			t.Errorf("%s: got %v, want %v", c.name, err, c.kind)
		}
	}
	for _, ok := range []SendInput{
		{Body: "tab\tnl\ncr\r \u00e9\U0001F600"},
		{Body: strings.Repeat("x", 1024)},
		{Body: "x", Attributes: map[string]MessageAttribute{"n": {DataType: "Number", StringValue: "12345678901234567890123456789012345678"}}},
	} {
		if _, err := e.s.SendMessage(e.ctx, e.c, u, ok); err != nil {
			t.Errorf("%q: %v", ok.Body[:min(10, len(ok.Body))], err)
		}
	}
	if _, err := e.s.SendMessage(e.ctx, e.c, "http://h/000000000000/missing", SendInput{Body: "x"}); kindOf(err) != ErrQueueDoesNotExist {
		t.Errorf("missing queue: %v", err)
	}
	if _, err := e.s.ReceiveMessage(e.ctx, e.c, u, ReceiveInput{MaxNumberOfMessages: 11}); kindOf(err) != ErrInvalidParameterValue {
		t.Errorf("11 messages: %v", err)
	}
	if _, err := e.s.ReceiveMessage(e.ctx, e.c, u, ReceiveInput{WaitTimeSeconds: intp(21)}); kindOf(err) != ErrInvalidParameterValue {
		t.Errorf("wait 21: %v", err)
	}
	if _, err := e.s.ReceiveMessage(e.ctx, e.c, u, ReceiveInput{VisibilityTimeout: intp(43201)}); kindOf(err) != ErrInvalidParameterValue {
		t.Errorf("visibility 43201: %v", err)
	}
	if _, err := e.s.ReceiveMessage(e.ctx, e.c, u, ReceiveInput{AttributeNames: []string{"Bogus"}}); kindOf(err) != ErrInvalidAttributeName {
		t.Errorf("bogus attribute: %v", err)
	}
}

func TestBatches(t *testing.T) {
	drivers(t, func(t *testing.T, e *env) {
		u := e.queue("batch", nil)
		entry := func(id, body string) SendEntry { return SendEntry{ID: id, SendInput: SendInput{Body: body}} }
		errCases := []struct {
			name    string
			entries []SendEntry
			kind    error
		}{
			{"empty", nil, ErrEmptyBatchRequest},
			{"11", func() []SendEntry {
				var es []SendEntry
				for i := range 11 {
					es = append(es, entry("e"+strconv.Itoa(i), "x"))
				}
				return es
			}(), ErrTooManyEntriesInBatch},
			{"repeated", []SendEntry{entry("a", "x"), entry("a", "y")}, ErrBatchEntryIdsNotDistinct},
			{"bad id", []SendEntry{entry("a b", "x")}, ErrInvalidBatchEntryID},
			{"long id", []SendEntry{entry(strings.Repeat("i", 81), "x")}, ErrInvalidBatchEntryID},
			{"too long", []SendEntry{entry("a", strings.Repeat("x", 800000)), entry("b", strings.Repeat("x", 250000))}, ErrBatchRequestTooLong},
		}
		for _, c := range errCases {
			if _, _, err := e.s.SendMessageBatch(e.ctx, e.c, u, c.entries); kindOf(err) != c.kind {
				t.Errorf("%s: got %v, want %v", c.name, err, c.kind)
			}
		}
		ok, failed, err := e.s.SendMessageBatch(e.ctx, e.c, u, []SendEntry{entry("one", "1"), entry("bad", ""), entry("two", "2"),
			{ID: "delay", SendInput: SendInput{Body: "d", DelaySeconds: intp(1000)}}})
		if err != nil {
			t.Fatal(err)
		}
		if len(ok) != 2 || ok[0].ID != "one" || ok[1].ID != "two" || ok[0].MD5OfMessageBody != md5Hex("1") {
			t.Fatalf("ok %+v", ok)
		}
		if len(failed) != 2 || failed[0].ID != "bad" || failed[0].Code != "MissingParameter" || !failed[0].SenderFault ||
			failed[1].Code != "InvalidParameterValue" {
			t.Fatalf("failed %+v", failed)
		}
		ms := e.receive(u, ReceiveInput{MaxNumberOfMessages: 10})
		if len(ms) != 2 {
			t.Fatalf("received %d", len(ms))
		}
		ids, bad, err := e.s.ChangeMessageVisibilityBatch(e.ctx, e.c, u, []VisibilityEntry{
			{ID: "a", ReceiptHandle: ms[0].ReceiptHandle, VisibilityTimeout: 100},
			{ID: "b", ReceiptHandle: "nope", VisibilityTimeout: 100}})
		if err != nil || len(ids) != 1 || len(bad) != 1 || bad[0].Code != "ReceiptHandleIsInvalid" {
			t.Fatalf("visibility batch %v %+v %v", ids, bad, err)
		}
		ids, bad, err = e.s.DeleteMessageBatch(e.ctx, e.c, u, []HandleEntry{{ID: "a", ReceiptHandle: ms[0].ReceiptHandle},
			{ID: "b", ReceiptHandle: ms[1].ReceiptHandle}, {ID: "c", ReceiptHandle: "%%%"}})
		if err != nil || len(ids) != 2 || len(bad) != 1 || bad[0].ID != "c" {
			t.Fatalf("delete batch %v %+v %v", ids, bad, err)
		}
		if _, _, err := e.s.DeleteMessageBatch(e.ctx, e.c, u, nil); kindOf(err) != ErrEmptyBatchRequest {
			t.Fatalf("empty delete batch: %v", err)
		}
	})
}

func TestPurgeQueue(t *testing.T) {
	e := newEnv(t, "pebble")
	u := e.queue("purge", nil)
	e.send(u, "a")
	e.send(u, "b")
	if err := e.s.PurgeQueue(e.ctx, e.c, u); err != nil {
		t.Fatal(err)
	}
	if ms := e.receive(u, ReceiveInput{MaxNumberOfMessages: 10}); len(ms) != 0 {
		t.Fatal("purged messages received")
	}
	if err := e.s.PurgeQueue(e.ctx, e.c, u); kindOf(err) != ErrPurgeQueueInProgress {
		t.Fatalf("second purge: %v", err)
	}
	e.clk.Add(60 * time.Second)
	if err := e.s.PurgeQueue(e.ctx, e.c, u); err != nil {
		t.Fatal(err)
	}
}

func TestSendFromService(t *testing.T) {
	e := newEnv(t, "pebble")
	u := e.queue("fromsns", map[string]string{"Policy": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow",` +
		`"Principal":{"Service":"sns.amazonaws.com"},"Action":"sqs:SendMessage","Resource":"arn:aws:sqs:us-east-1:000000000000:fromsns",` +
		`"Condition":{"ArnEquals":{"aws:SourceArn":"arn:aws:sns:us-east-1:000000000000:t"}}}]}`})
	sns := &Caller{Service: "sns.amazonaws.com", SourceARN: "arn:aws:sns:us-east-1:000000000000:t", SourceAccount: "000000000000", Region: "us-east-1"}
	if _, err := e.s.SendFromService(e.ctx, sns, "arn:aws:sqs:us-east-1:000000000000:fromsns", SendInput{Body: "n"}); err != nil {
		t.Fatal(err)
	}
	ms := e.receive(u, ReceiveInput{AttributeNames: []string{"SenderId"}})
	if len(ms) != 1 || ms[0].Attributes["SenderId"] != snsSenderID {
		t.Fatalf("got %+v", ms)
	}
	if _, err := e.s.SendFromService(e.ctx, sns, "arn:aws:sqs:us-east-1:000000000000:nope", SendInput{Body: "n"}); kindOf(err) != ErrQueueDoesNotExist {
		t.Fatalf("missing: %v", err)
	}
	if _, err := e.s.SendFromService(e.ctx, sns, "not-an-arn", SendInput{Body: "n"}); kindOf(err) != ErrQueueDoesNotExist {
		t.Fatalf("bad arn: %v", err)
	}
	_ = errors.New
}
