package delivery

import "testing"

func TestClassify(t *testing.T) {
	for status, want := range map[int]outcome{
		200: delivered, 201: delivered, 204: delivered, 299: delivered,
		301: permanent, 302: permanent, 400: permanent, 403: permanent, 404: permanent, 410: permanent,
		408: retryable, 429: retryable, 500: retryable, 502: retryable, 503: retryable, 504: retryable,
	} {
		if got, _ := classify(status); got != want {
			t.Errorf("classify(%d) = %v, want %v", status, got, want)
		}
	}
}
