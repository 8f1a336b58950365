package sqsapi

import (
	"crypto/tls"
	"net/http/httptest"
	"testing"
)

func TestPathQueueURL(t *testing.T) {
	for path, want := range map[string]string{
		"/000000000000/q1":  "http://h:1/000000000000/q1",
		"/000000000000/q1/": "http://h:1/000000000000/q1",
		"/":                 "",
		"/000000000000":     "",
		"/000000000000/":    "",
		"//q1":              "",
		"/a/b/c":            "",
	} {
		r := httptest.NewRequest("POST", "http://h:1"+path, nil)
		if got := pathQueueURL(r); got != want {
			t.Errorf("%s: %q, want %q", path, got, want)
		}
	}
	r := httptest.NewRequest("POST", "https://h/1/q", nil)
	r.TLS = &tls.ConnectionState{}
	if got := pathQueueURL(r); got != "https://h/1/q" {
		t.Errorf("TLS: %q", got)
	}
}
