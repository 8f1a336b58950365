// Command sealpost serves the Amazon SNS API, a KMS-compatible key API and
// an SQS-compatible queue API on one port. Bodies of messages published to
// topics with KmsMasterKeyId, and sent to encrypted queues (SSE-KMS, or
// SSE-SQS, on by default), are sealed before they are written (envelope
// encryption under the built-in KMS); everything else is protected by the
// data dir's permissions (0700, files 0600) or by the PostgreSQL server's
// access control. Run with no flags for a
// development server on 127.0.0.1:9911 over ./sealpost-data; see -h for
// settings. The root key that seals KMS key material and the message-signing
// key comes from --root-key-file, --root-key-env or
// --root-key-passphrase-env/-file; without one a development key is generated
// in <data-dir>/root.key and every start warns about it. A root key that does
// not match the data refuses to start. `sealpost audit verify|tail` checks
// and reads the KMS audit log; `sealpost kms usage` counts the KMS calls
// SNS made per topic and key beside AWS's estimate.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/sealpost/sealpost/internal/audit"
	"github.com/sealpost/sealpost/internal/config"
	"github.com/sealpost/sealpost/internal/kmsusage"
	"github.com/sealpost/sealpost/internal/server"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "audit" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		code := audit.Command(ctx, os.Args[2:], os.Stdout, os.Stderr)
		stop()
		os.Exit(code)
	}
	if len(os.Args) > 1 && os.Args[1] == "kms" {
		if len(os.Args) < 3 || os.Args[2] != "usage" {
			fmt.Fprintln(os.Stderr, "usage: sealpost kms usage [--data-dir D | --file F] [--reuse SECONDS] [--period SECONDS]")
			os.Exit(2)
		}
		os.Exit(kmsusage.Command(os.Args[3:], os.Stdout, os.Stderr))
	}
	cfg, err := config.FromEnv()
	if err != nil {
		fmt.Fprintln(os.Stderr, "sealpost:", err)
		os.Exit(2)
	}
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	srv, err := server.New(ctx, cfg, log)
	if err != nil {
		log.Error("cannot start", "err", err)
		os.Exit(1)
	}
	if err := srv.Start(); err != nil {
		log.Error("cannot listen", "err", err)
		os.Exit(1)
	}
	log.Info("sealpost ready",
		"endpoint", "http://"+srv.Addr(),
		"https_endpoint", "https://"+srv.Addr(),
		"ca_bundle", srv.CAFile(),
		"data_dir", cfg.DataDir)
	if host, _, _ := net.SplitHostPort(cfg.Listen); cfg.PublicURLDefaulted && (host == "" || net.ParseIP(host).IsUnspecified()) {
		log.Warn("listening on all interfaces without --public-url: SubscribeURL, UnsubscribeURL and SigningCertURL will name " + cfg.PublicURL + ", which subscribers elsewhere cannot reach")
	}
	if cfg.AuthOff {
		log.Warn("AUTHENTICATION IS OFF (--auth=off): requests are not checked for a valid signature and act as whatever account they claim; use this only on a throwaway local instance")
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	go func() {
		for range hup {
			srv.ReloadCredentials() // logs the outcome; a bad file keeps the old one
		}
	}()
	if srv.CAFile() != "" {
		fmt.Fprintf(os.Stderr, "\n  aws --endpoint-url https://%s --ca-bundle %s sns list-topics\n  (or plain http://%s; credentials test/test, region %s)\n\n",
			srv.Addr(), srv.CAFile(), srv.Addr(), cfg.Region)
	}
	stopProfile := startCPUProfile()
	err = srv.Serve(ctx)
	stopProfile()
	if err != nil {
		log.Error("server stopped", "err", err)
		os.Exit(1)
	}
}
