// Package config holds Sealpost's typed configuration: every setting is a
// command-line flag with an environment twin (SEALPOST_*); flags win.
package config

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/netip"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/sealpost/sealpost/internal/netguard"
	"github.com/sealpost/sealpost/internal/regions"
)

// MinDeliveryLease is the shortest --delivery-lease: longer than one delivery
// attempt (AWS's 15 s timeout) plus a margin, so that a lease cannot expire
// while its attempt still runs and another node send the delivery again.
const MinDeliveryLease = 20 * time.Second

// Bounds of --sse-data-key-reuse (AWS's documented range for the data key
// reuse period of SQS is 1 minute to 24 hours; SNS uses 5 minutes).
const (
	MinSSEDataKeyReuse = time.Minute
	MaxSSEDataKeyReuse = 24 * time.Hour
)

// Config is the server configuration.
type Config struct {
	Listen      string // host:port for HTTP and HTTPS (TLS is sniffed)
	DataDir     string
	Region      string
	Credentials string // path of the credentials file; "" = test/test
	TLSCert     string // PEM files; both empty = generated self-signed
	TLSKey      string
	Store       string // "" or "pebble" = embedded; postgres://... = PostgreSQL
	PublicURL   string // base URL put into SubscribeURL/UnsubscribeURL/SigningCertURL
	// PublicURLDefaulted is true when PublicURL was derived from Listen.
	PublicURLDefaulted bool
	LogLevel           string
	// SubscriberCAs is a PEM file of extra CAs trusted for HTTPS subscribers.
	SubscriberCAs string
	// ShutdownTimeout bounds how long shutdown waits for in-flight requests
	// before it closes their connections.
	ShutdownTimeout time.Duration
	// MaxConnections caps the client connections open at a time; further
	// connections wait in the listen backlog until one closes.
	MaxConnections int
	// DeliveryLease is how long a node holds a leased delivery; after a
	// node dies its deliveries are taken over once this passes.
	DeliveryLease time.Duration
	// CacheTTL bounds how stale a node's view of topics and subscriptions
	// changed through other nodes may be.
	CacheTTL time.Duration
	// SSEDataKeyReuse bounds how long SNS reuses one data key per (topic,
	// CMK, publisher) to seal bodies of SSE topics (AWS: 5 minutes).
	SSEDataKeyReuse time.Duration
	// NodeID names this node in delivery leases ("" = random per start).
	NodeID string
	// SubscriberAllow and SubscriberDeny judge the addresses Sealpost
	// connects to for deliveries and confirmations (see netguard): deny
	// wins; a non-empty allow list allows only its ranges.
	SubscriberAllow []netip.Prefix
	SubscriberDeny  []netip.Prefix
	// AuthOff turns SigV4 enforcement off (--auth=off): unsigned or wrongly
	// signed requests act as the claimed access key's account (else the
	// default account), unauthenticated. For throwaway local use only.
	AuthOff bool
	// Regions are the regions a credential scope may name: the AWS regions
	// plus --regions.
	Regions regions.Set
	// AllowedHosts are extra host names (without port) the Host header may
	// carry, beside localhost, IP literals, the listen host and the public
	// URL's host.
	AllowedHosts []string
	// TrustedProxies are the peers whose X-Forwarded-For/X-Forwarded-Proto
	// count for the client address and TLS.
	TrustedProxies []netip.Prefix
	// RootKey says where the root key comes from (at most one source);
	// the zero value is the generated development key <data-dir>/root.key.
	RootKey RootKeySource
}

// RootKeySource names where the root key comes from. At most one field is
// set; none means the development key file generated in the data dir. The
// key itself is read by the server, never by config, and never logged.
type RootKeySource struct {
	File           string // --root-key-file: text key file, mode 0600
	Env            string // --root-key-env: name of a variable holding the key
	PassphraseEnv  string // --root-key-passphrase-env: name of a variable holding a passphrase
	PassphraseFile string // --root-key-passphrase-file: file holding a passphrase, mode 0600
}

// Kind is "file", "env", "passphrase" or "dev" (none given).
func (r RootKeySource) Kind() string {
	switch {
	case r.File != "":
		return "file"
	case r.Env != "":
		return "env"
	case r.PassphraseEnv != "" || r.PassphraseFile != "":
		return "passphrase"
	}
	return "dev"
}

type setting struct {
	name, env, def, usage string
	dst                   *string
}

// Parse reads flags from args (without the program name) and the
// environment via getenv.
func Parse(args []string, getenv func(string) string) (*Config, error) {
	c := &Config{}
	settings := []setting{
		{"listen", "SEALPOST_LISTEN", "127.0.0.1:9911", "address for HTTP and HTTPS (TLS is detected per connection)", &c.Listen},
		{"data-dir", "SEALPOST_DATA_DIR", "./sealpost-data", "directory for the embedded store, keys and certificates", &c.DataDir},
		{"region", "SEALPOST_REGION", "us-east-1", "default region (requests signed for another region use that one)", &c.Region},
		{"credentials", "SEALPOST_CREDENTIALS", "", "JSON credentials file (default: access key test/test, account 000000000000)", &c.Credentials},
		{"tls-cert", "SEALPOST_TLS_CERT", "", "PEM certificate for HTTPS (default: generated, CA in <data-dir>/tls/ca.pem)", &c.TLSCert},
		{"tls-key", "SEALPOST_TLS_KEY", "", "PEM private key for --tls-cert", &c.TLSKey},
		{"store", "SEALPOST_STORE", "", "store: empty for the embedded store, or a postgres:// URL", &c.Store},
		{"public-url", "SEALPOST_PUBLIC_URL", "", "base URL subscribers use to reach Sealpost (default http://<listen>)", &c.PublicURL},
		{"log-level", "SEALPOST_LOG_LEVEL", "info", "debug, info, warn or error", &c.LogLevel},
		{"subscriber-ca", "SEALPOST_SUBSCRIBER_CA", "", "PEM file of extra CAs trusted for HTTPS subscriber endpoints", &c.SubscriberCAs},
	}
	settings = append(settings,
		setting{"root-key-file", "SEALPOST_ROOT_KEY_FILE", "", "file holding the 32-byte root key as 64 hex characters or base64 (mode 0600; e.g. openssl rand -hex 32)", &c.RootKey.File},
		setting{"root-key-env", "SEALPOST_ROOT_KEY_ENV", "", "name of an environment variable holding the root key (hex or base64)", &c.RootKey.Env},
		setting{"root-key-passphrase-env", "SEALPOST_ROOT_KEY_PASSPHRASE_ENV", "", "name of an environment variable holding a passphrase the root key is derived from (Argon2id)", &c.RootKey.PassphraseEnv},
		setting{"root-key-passphrase-file", "SEALPOST_ROOT_KEY_PASSPHRASE_FILE", "", "file holding a passphrase the root key is derived from (Argon2id; mode 0600)", &c.RootKey.PassphraseFile},
	)
	var lease, cacheTTL, sseReuse, allow, deny, shutdown, maxConns, auth, regionList, hosts, proxies string
	settings = append(settings,
		setting{"subscriber-allow", "SEALPOST_SUBSCRIBER_ALLOW", "", "comma-separated CIDR ranges subscriber endpoints may resolve to (default: all not denied)", &allow},
		setting{"subscriber-deny", "SEALPOST_SUBSCRIBER_DENY", netguard.DefaultDeny, "comma-separated CIDR ranges subscriber endpoints may not resolve to; replaces the default; none = empty", &deny},
		setting{"delivery-lease", "SEALPOST_DELIVERY_LEASE", "30s", "how long a node holds a delivery it is working on (takeover time after a node dies)", &lease},
		setting{"cache-ttl", "SEALPOST_CACHE_TTL", "1s", "how long topic and subscription records are cached (cross-node staleness bound)", &cacheTTL},
		setting{"sse-data-key-reuse", "SEALPOST_SSE_DATA_KEY_REUSE", "5m", "how long one data key seals bodies of an SSE topic per publisher before KMS is asked for a new one (1m-24h)", &sseReuse},
		setting{"node-id", "SEALPOST_NODE_ID", "", "name of this node in delivery leases (default: random)", &c.NodeID},
		setting{"max-connections", "SEALPOST_MAX_CONNECTIONS", "4096", "client connections open at a time; more wait in the listen backlog", &maxConns},
		setting{"shutdown-timeout", "SEALPOST_SHUTDOWN_TIMEOUT", "10s", "how long shutdown waits for in-flight requests before closing their connections", &shutdown},
		setting{"auth", "SEALPOST_AUTH", "on", "on: every API request must carry a valid SigV4 signature; off: unchecked (throwaway local use only)", &auth},
		setting{"regions", "SEALPOST_REGIONS", "", "extra region names accepted in credential scopes, comma-separated (the AWS regions always are)", &regionList},
		setting{"allowed-hosts", "SEALPOST_ALLOWED_HOSTS", "", "extra host names clients may use in the Host header, comma-separated (localhost, IP addresses, the listen and public-url hosts always work)", &hosts},
		setting{"trusted-proxies", "SEALPOST_TRUSTED_PROXIES", "", "comma-separated CIDR ranges of proxies whose X-Forwarded-For/X-Forwarded-Proto are believed", &proxies},
	)
	fs := flag.NewFlagSet("sealpost", flag.ContinueOnError)
	for _, s := range settings {
		def := s.def
		if v := getenv(s.env); v != "" {
			def = v
		}
		fs.StringVar(s.dst, s.name, def, s.usage+" ($"+s.env+")")
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("config: unexpected arguments %q", fs.Args())
	}
	var err error
	if c.DeliveryLease, err = time.ParseDuration(lease); err != nil || c.DeliveryLease < MinDeliveryLease {
		return nil, fmt.Errorf("--delivery-lease %q: want a duration of at least %v (one delivery attempt may take 15s; a shorter lease could expire during the attempt and the delivery be sent twice at once)", lease, MinDeliveryLease)
	}
	if c.SubscriberAllow, err = netguard.ParseList(allow); err != nil {
		return nil, fmt.Errorf("--subscriber-allow: %w", err)
	}
	if c.SubscriberDeny, err = netguard.ParseList(deny); err != nil {
		return nil, fmt.Errorf("--subscriber-deny: %w", err)
	}
	if c.CacheTTL, err = time.ParseDuration(cacheTTL); err != nil || c.CacheTTL <= 0 || c.CacheTTL > time.Minute {
		return nil, fmt.Errorf("--cache-ttl %q: want a duration between 1ns and 1m", cacheTTL)
	}
	if c.SSEDataKeyReuse, err = time.ParseDuration(sseReuse); err != nil || c.SSEDataKeyReuse < MinSSEDataKeyReuse || c.SSEDataKeyReuse > MaxSSEDataKeyReuse {
		return nil, fmt.Errorf("--sse-data-key-reuse %q: want a duration between %v and %v", sseReuse, MinSSEDataKeyReuse, MaxSSEDataKeyReuse)
	}
	if c.ShutdownTimeout, err = time.ParseDuration(shutdown); err != nil || c.ShutdownTimeout <= 0 {
		return nil, fmt.Errorf("--shutdown-timeout %q: want a positive duration", shutdown)
	}
	if c.MaxConnections, err = strconv.Atoi(maxConns); err != nil || c.MaxConnections < 1 {
		return nil, fmt.Errorf("--max-connections %q: want a whole number of at least 1", maxConns)
	}
	switch auth {
	case "on":
	case "off":
		c.AuthOff = true
	default:
		return nil, fmt.Errorf("--auth %q: want on or off", auth)
	}
	if c.Regions, err = regions.ParseSet(regionList); err != nil {
		return nil, fmt.Errorf("--regions: %w", err)
	}
	for _, h := range strings.Split(hosts, ",") {
		h = strings.ToLower(strings.TrimSpace(h))
		if h == "" {
			continue
		}
		if strings.ContainsAny(h, ":/ \t") {
			return nil, fmt.Errorf("--allowed-hosts: %q: want a host name without port or scheme", h)
		}
		c.AllowedHosts = append(c.AllowedHosts, h)
	}
	if strings.TrimSpace(proxies) != "" {
		if c.TrustedProxies, err = netguard.ParseList(proxies); err != nil {
			return nil, fmt.Errorf("--trusted-proxies: %w", err)
		}
	}
	if err := c.RootKey.check(getenv); err != nil {
		return nil, err
	}
	if c.PublicURL == "" {
		c.PublicURL = "http://" + c.Listen
		c.PublicURLDefaulted = true
	}
	c.PublicURL = strings.TrimRight(c.PublicURL, "/")
	return c, c.Validate()
}

var envNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// check refuses more than one root-key source, malformed variable names and
// variables that are not set (getenv is the environment Parse reads).
func (r RootKeySource) check(getenv func(string) string) error {
	var given []string
	for _, f := range []struct{ name, v string }{
		{"--root-key-file", r.File}, {"--root-key-env", r.Env},
		{"--root-key-passphrase-env", r.PassphraseEnv}, {"--root-key-passphrase-file", r.PassphraseFile},
	} {
		if f.v != "" {
			given = append(given, f.name)
		}
	}
	if len(given) > 1 {
		return fmt.Errorf("%s: give at most one root-key source", strings.Join(given, ", "))
	}
	for _, f := range []struct{ name, v string }{{"--root-key-env", r.Env}, {"--root-key-passphrase-env", r.PassphraseEnv}} {
		if f.v == "" {
			continue
		}
		if !envNameRE.MatchString(f.v) {
			return fmt.Errorf("%s %q: want the NAME of an environment variable (letters, digits, _), not its value", f.name, clip(f.v))
		}
		if getenv(f.v) == "" {
			return fmt.Errorf("%s %s: the environment variable %s is not set or empty", f.name, clip(f.v), clip(f.v))
		}
	}
	return nil
}

// clip shortens a value quoted in an error: a root key pasted where a
// variable name belongs must not be echoed whole.
func clip(s string) string {
	if len(s) > 24 {
		return s[:4] + "..."
	}
	return s
}

var regionRE = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)

// Validate checks the configuration.
func (c *Config) Validate() error {
	var errs []error
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		errs = append(errs, fmt.Errorf("--listen %q: %w", c.Listen, err))
	}
	if c.DataDir == "" {
		errs = append(errs, errors.New("--data-dir must not be empty"))
	}
	if !regionRE.MatchString(c.Region) {
		errs = append(errs, fmt.Errorf("--region %q is not a region name like us-east-1", c.Region))
	} else if !c.Regions.Contains(c.Region) {
		errs = append(errs, fmt.Errorf("--region %q is not an AWS region; add it with --regions", c.Region))
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		errs = append(errs, errors.New("--tls-cert and --tls-key go together"))
	}
	if c.Store != "" && c.Store != "pebble" && !strings.HasPrefix(c.Store, "postgres://") && !strings.HasPrefix(c.Store, "postgresql://") {
		errs = append(errs, fmt.Errorf("--store %q: want empty, pebble, or a postgres:// URL", c.Store))
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("--log-level %q: want debug, info, warn or error", c.LogLevel))
	}
	return errors.Join(errs...)
}

// FromEnv is Parse over os.Args and os.Getenv.
func FromEnv() (*Config, error) { return Parse(os.Args[1:], os.Getenv) }
