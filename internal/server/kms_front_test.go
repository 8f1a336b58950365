package server_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/smithy-go"

	"github.com/sealpost/sealpost/internal/testserver"
)

// TestKMSReachesAdapter: a KMS request signed by aws-sdk-go-v2 passes the
// front door and is answered by the KMS adapter, whose answer the SDK
// parses (a result, or a KMS error from the adapter, never an
// authentication error nor the front door's "KMS not available"); unsigned
// and wrongly signed requests get the JSON protocol's auth errors.
func TestKMSReachesAdapter(t *testing.T) {
	ctx := context.Background()
	srv := testserver.Start(t, testserver.Options{})
	authCodes := map[string]bool{"MissingAuthenticationTokenException": true, "IncompleteSignatureException": true,
		"UnrecognizedClientException": true, "InvalidSignatureException": true}
	for _, endpoint := range []string{srv.URL(), srv.TLSURL()} {
		c := srv.KMSClient(t, endpoint, "", "", "")
		_, err := c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String("1234abcd-12ab-34cd-56ef-1234567890ab")})
		var ae smithy.APIError
		if !errors.As(err, &ae) {
			t.Fatalf("%s: DescribeKey: want a KMS error, got %v", endpoint, err)
		}
		switch ae.ErrorCode() {
		case "NotFoundException", "UnsupportedOperationException", "UnknownOperationException":
		default:
			t.Fatalf("%s: DescribeKey of an unknown key: %s: %s", endpoint, ae.ErrorCode(), ae.ErrorMessage())
		}
		if authCodes[ae.ErrorCode()] || strings.Contains(ae.ErrorMessage(), "not available in this version") {
			t.Fatalf("%s: request did not reach the KMS adapter: %s: %s", endpoint, ae.ErrorCode(), ae.ErrorMessage())
		}
	}

	// Wrong secret and unknown key through the SDK.
	for _, tc := range []struct{ key, secret, code string }{
		{"test", "wrong", "InvalidSignatureException"},
		{"AKIANOBODY", "x", "UnrecognizedClientException"},
	} {
		_, err := srv.KMSClient(t, srv.URL(), tc.key, tc.secret, "").ListKeys(ctx, &kms.ListKeysInput{})
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != tc.code {
			t.Fatalf("%s/%s: %v, want %s", tc.key, tc.secret, err, tc.code)
		}
	}

	// Unsigned.
	req, _ := http.NewRequest(http.MethodPost, srv.URL()+"/", strings.NewReader("{}"))
	req.Header.Set("X-Amz-Target", "TrentService.ListKeys")
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	resp, err := srv.HTTPClient(t).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 400 || !strings.Contains(string(b), `"__type":"MissingAuthenticationTokenException"`) {
		t.Fatalf("unsigned: %d %s", resp.StatusCode, b)
	}
}
