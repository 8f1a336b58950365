package filterpolicy

import "testing"

func BenchmarkMatchAttributes(b *testing.B) {
	p := mustParse(b, exampleAccept, ScopeMessageAttributes)
	plain := map[string]Attribute{
		"customer_interests": sAttr("rugby"),
		"store":              sAttr("example_corp"),
		"event":              sAttr("order_placed"),
		"price_usd":          nAttr("210.75"),
	}
	b.Run("String", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if !p.MatchAttributes(plain) {
				b.Fatal("no match")
			}
		}
	})
	b.Run("StringArray", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if !p.MatchAttributes(exampleAttrs) {
				b.Fatal("no match")
			}
		}
	})
}

func BenchmarkMatchBody(b *testing.B) {
	p := mustParse(b, exampleAccept, ScopeMessageBody)
	body := []byte(exampleBody)
	b.Run("String", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(exampleBody)))
		for b.Loop() {
			if !p.MatchBodyString(exampleBody) {
				b.Fatal("no match")
			}
		}
	})
	b.Run("Bytes", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			if !p.MatchBody(body) {
				b.Fatal("no match")
			}
		}
	})
	nested := mustParse(b, `{"Records": {"s3": {"object": {"key": [{"prefix": "auto-"}]}}, "eventName": [{"prefix": "ObjectCreated:"}]}}`, ScopeMessageBody)
	s3 := `{"Records": [{"eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1", "eventTime": "2022-11-21T03:41:29.743Z", "eventName": "ObjectCreated:Put", "userIdentity": {"principalId": "AWS:AIDAEXAMPLE"}, "requestParameters": {"sourceIPAddress": "192.0.2.1"}, "s3": {"s3SchemaVersion": "1.0", "bucket": {"name": "insurance-bucket-demo", "arn": "arn:aws:s3:::insurance-bucket-demo"}, "object": {"key": "auto-insurance-2314.xml", "size": 17, "eTag": "0123456789abcdef"}}}]}`
	b.Run("NestedS3Event", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(s3)))
		for b.Loop() {
			if !nested.MatchBodyString(s3) {
				b.Fatal("no match")
			}
		}
	})
}

func BenchmarkParse(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(exampleAccept, ScopeMessageBody); err != nil {
			b.Fatal(err)
		}
	}
}
