package sigv4_test

import (
	"errors"
	"io"
	"net/http"

	"github.com/sealpost/sealpost/internal/sigv4"
)

// A handler reads the body with a cap, picks the account from the scope and
// verifies before doing anything else.
func Example() {
	v := &sigv4.Verifier{
		Secret: func(akid string) (string, bool) {
			if akid == "AKIAEXAMPLE" {
				return "secret", true
			}
			return "", false
		},
	}
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 256<<10))
		if err != nil {
			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
			return
		}
		if scope, ok := sigv4.ParseScope(r); ok {
			_ = scope.Region // route to the account/region before verifying
		}
		res, err := v.VerifyScope(r, body, "us-east-1", "sns")
		switch {
		case errors.Is(err, sigv4.ErrMissingAuth):
			http.Error(w, sigv4.Message(err), http.StatusForbidden) // MissingAuthenticationToken
			return
		case errors.Is(err, sigv4.ErrIncomplete), errors.Is(err, sigv4.ErrBadDate):
			http.Error(w, sigv4.Message(err), http.StatusBadRequest) // IncompleteSignature
			return
		case errors.Is(err, sigv4.ErrUnknownKey):
			http.Error(w, sigv4.Message(err), http.StatusForbidden) // InvalidClientTokenId
			return
		case err != nil:
			http.Error(w, sigv4.Message(err), http.StatusForbidden) // SignatureDoesNotMatch
			return
		}
		_ = res.AccessKeyID // authenticated principal
	})
}
