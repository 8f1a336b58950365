package sigv4

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestKeyCache(t *testing.T) {
	c := NewKeyCache(3)
	s := Scope{AccessKeyID: "AKID", Date: "20260101", Region: "us-east-1", Service: "sns"}
	k1 := c.key("secret", s)
	if !bytes.Equal(k1, signingKey("secret", s)) || c.Len() != 1 {
		t.Fatalf("derived key differs or not cached (%d)", c.Len())
	}
	if k := c.key("secret", s); &k[0] != &k1[0] {
		t.Fatal("second lookup derived the key again")
	}
	// A rotated secret is a different entry, never the old key.
	if k := c.key("rotated", s); bytes.Equal(k, k1) || !bytes.Equal(k, signingKey("rotated", s)) {
		t.Fatal("rotated secret got the old key")
	}
	for _, d := range []string{"20260102", "20260103", "20260104"} {
		s.Date = d
		c.key("secret", s)
	}
	if n := c.Len(); n > 3 {
		t.Fatalf("cache holds %d keys, bound 3", n)
	}
	var nilCache *KeyCache
	if !bytes.Equal(nilCache.key("secret", s), signingKey("secret", s)) {
		t.Fatal("nil cache")
	}
}

func TestVerifierWithKeyCache(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	secret := "s1"
	v := &Verifier{Now: func() time.Time { return now }, Keys: NewKeyCache(0),
		Secret: func(id string) (string, bool) { return secret, id == "AKID" }}
	body := "Action=ListTopics"
	mk := func(sec string) *http.Request {
		r, _ := http.NewRequest("POST", "http://localhost/", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if err := Sign(r, []byte(body), "AKID", sec, "", "us-east-1", "sns", now); err != nil {
			t.Fatal(err)
		}
		return r
	}
	for i := 0; i < 2; i++ {
		if _, err := v.Verify(mk("s1"), []byte(body)); err != nil {
			t.Fatalf("round %d: %v", i, err)
		}
	}
	secret = "s2" // rotated: the cached key of s1 must not verify
	if _, err := v.Verify(mk("s1"), []byte(body)); err == nil {
		t.Fatal("old secret accepted after rotation")
	}
	if _, err := v.Verify(mk("s2"), []byte(body)); err != nil {
		t.Fatal(err)
	}
}
