package identity_test

import (
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/sealpost/sealpost/internal/identity"
)

// A server loads the credentials file once, compiles user policies with its
// policy parser, and reloads on SIGHUP; a bad file is logged and the old one
// stays in force.
func ExampleReloader() {
	ids, err := identity.NewReloader(os.Getenv("SEALPOST_CREDENTIALS"), identity.Options{
		CompilePolicy: func(raw []byte) (any, error) { return string(raw), nil }, // policy.Parse in the server
	})
	if err != nil {
		slog.Error("credentials", "err", err)
		return
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	go func() {
		for range hup {
			if err := ids.Reload(); err != nil {
				slog.Error("credentials not reloaded; keeping the previous ones", "err", err)
				continue
			}
			st := ids.Directory().Stats()
			slog.Info("credentials reloaded", "accounts", st.Accounts, "users", st.Users, "keys", st.AccessKeys, "policies", st.Policies)
		}
	}()

	// Per request: one lookup gives the secret (for the signature check) and
	// the principal (for policies and logs) from the same file.
	if p, secret, ok := ids.Lookup("test"); ok {
		_, _ = p, secret
	}
}
