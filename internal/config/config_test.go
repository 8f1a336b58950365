package config

import (
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestDefaults(t *testing.T) {
	c, err := Parse(nil, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != "127.0.0.1:9911" || c.DataDir != "./sealpost-data" || c.Region != "us-east-1" || c.Store != "" ||
		c.PublicURL != "http://127.0.0.1:9911" || c.DeliveryLease != 30*time.Second || c.CacheTTL != time.Second ||
		c.MaxConnections != 4096 || c.ShutdownTimeout != 10*time.Second {
		t.Fatalf("defaults %+v", c)
	}
}

func TestEnvAndFlags(t *testing.T) {
	c, err := Parse([]string{"--region", "eu-west-1"}, env(map[string]string{
		"SEALPOST_REGION": "ap-south-1", "SEALPOST_LISTEN": "127.0.0.1:1234", "SEALPOST_CACHE_TTL": "250ms",
		"SEALPOST_STORE": "postgres://u@h/db", "SEALPOST_PUBLIC_URL": "https://sns.example/",
		"SEALPOST_MAX_CONNECTIONS": "64", "SEALPOST_SHUTDOWN_TIMEOUT": "2s",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Region != "eu-west-1" { // the flag wins over its env twin
		t.Fatalf("region %s", c.Region)
	}
	if c.Listen != "127.0.0.1:1234" || c.CacheTTL != 250*time.Millisecond || c.Store != "postgres://u@h/db" || c.PublicURL != "https://sns.example" ||
		c.MaxConnections != 64 || c.ShutdownTimeout != 2*time.Second {
		t.Fatalf("%+v", c)
	}
}

func TestInvalid(t *testing.T) {
	for _, args := range [][]string{
		{"--listen", "nope"},
		{"--region", "Mars"},
		{"--tls-cert", "a.pem"},
		{"--store", "mysql://x"},
		{"--log-level", "loud"},
		{"--delivery-lease", "10ms"},
		{"--delivery-lease", "15s"}, // not longer than one attempt
		{"--subscriber-allow", "10.0.0.0/8,example.com"},
		{"--subscriber-deny", "169.254.0.0/33"},
		{"--cache-ttl", "1h"},
		{"--data-dir", ""},
		{"--max-connections", "0"},
		{"--max-connections", "many"},
		{"--shutdown-timeout", "0s"},
		{"--shutdown-timeout", "soon"},
		{"extra"},
		{"--no-such-flag"},
	} {
		if _, err := Parse(args, env(nil)); err == nil {
			t.Errorf("%v accepted", args)
		} else if strings.TrimSpace(err.Error()) == "" {
			t.Errorf("%v: empty error", args)
		}
	}
}

func TestSubscriberRanges(t *testing.T) {
	c, err := Parse(nil, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.SubscriberAllow) != 0 || len(c.SubscriberDeny) == 0 {
		t.Fatalf("default ranges: allow %v deny %v", c.SubscriberAllow, c.SubscriberDeny)
	}
	c, err = Parse([]string{"--subscriber-deny", "none", "--delivery-lease", "20s"}, env(map[string]string{
		"SEALPOST_SUBSCRIBER_ALLOW": "10.0.0.0/8, fd00::/8"}))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.SubscriberDeny) != 0 || len(c.SubscriberAllow) != 2 || c.SubscriberAllow[1].String() != "fd00::/8" || c.DeliveryLease != 20*time.Second {
		t.Fatalf("allow %v deny %v lease %v", c.SubscriberAllow, c.SubscriberDeny, c.DeliveryLease)
	}
	_, err = Parse([]string{"--delivery-lease", "5s"}, env(nil))
	if err == nil || !strings.Contains(err.Error(), "at least 20s") {
		t.Fatalf("short lease: %v", err)
	}
}

func TestAuthRegionsHostsProxies(t *testing.T) {
	c, err := Parse(nil, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.AuthOff || len(c.AllowedHosts) != 0 || len(c.TrustedProxies) != 0 || c.Regions.Contains("mars-north-1") || !c.Regions.Contains("eu-west-3") {
		t.Fatalf("defaults %+v", c)
	}
	c, err = Parse([]string{"--auth=off", "--allowed-hosts", "Sealpost.Internal, box", "--trusted-proxies", "10.0.0.0/8"},
		env(map[string]string{"SEALPOST_REGIONS": "zz-lab-1,qq-dev-2", "SEALPOST_REGION": "zz-lab-1"}))
	if err != nil {
		t.Fatal(err)
	}
	if !c.AuthOff || !c.Regions.Contains("zz-lab-1") || !c.Regions.Contains("qq-dev-2") || c.Region != "zz-lab-1" ||
		strings.Join(c.AllowedHosts, ",") != "sealpost.internal,box" || len(c.TrustedProxies) != 1 || c.TrustedProxies[0].String() != "10.0.0.0/8" {
		t.Fatalf("%+v", c)
	}
	if c, err := Parse(nil, env(map[string]string{"SEALPOST_AUTH": "off"})); err != nil || !c.AuthOff {
		t.Fatalf("SEALPOST_AUTH=off: %+v %v", c, err)
	}
	for _, args := range [][]string{
		{"--auth", "maybe"},
		{"--regions", "us-east-1:evil"},
		{"--region", "mars-north-1"},
		{"--allowed-hosts", "http://x"},
		{"--allowed-hosts", "x:80"},
		{"--trusted-proxies", "10.0.0.0/33"},
	} {
		if _, err := Parse(args, env(nil)); err == nil {
			t.Errorf("%q accepted", args)
		}
	}
}

func TestRootKeySource(t *testing.T) {
	key := strings.Repeat("ab", 32)
	for _, tc := range []struct {
		name    string
		args    []string
		env     map[string]string
		kind    string
		wantErr string // substring; "" = valid
	}{
		{name: "none is the dev key", kind: "dev"},
		{name: "file", args: []string{"--root-key-file", "/etc/sealpost/root.key"}, kind: "file"},
		{name: "file from env twin", env: map[string]string{"SEALPOST_ROOT_KEY_FILE": "/k"}, kind: "file"},
		{name: "env", args: []string{"--root-key-env", "MY_ROOT"}, env: map[string]string{"MY_ROOT": key}, kind: "env"},
		{name: "passphrase env", args: []string{"--root-key-passphrase-env", "PASS"}, env: map[string]string{"PASS": "correct horse"}, kind: "passphrase"},
		{name: "passphrase file", env: map[string]string{"SEALPOST_ROOT_KEY_PASSPHRASE_FILE": "/run/secrets/pass"}, kind: "passphrase"},
		{name: "two sources", args: []string{"--root-key-file", "/k", "--root-key-passphrase-file", "/p"},
			wantErr: "--root-key-file, --root-key-passphrase-file: give at most one root-key source"},
		{name: "flag plus other env twin", args: []string{"--root-key-env", "K"}, env: map[string]string{"K": key, "SEALPOST_ROOT_KEY_FILE": "/k"},
			wantErr: "give at most one root-key source"},
		{name: "env not set", args: []string{"--root-key-env", "MISSING"}, wantErr: "--root-key-env MISSING: the environment variable MISSING is not set"},
		{name: "passphrase env not set", args: []string{"--root-key-passphrase-env", "NOPE"}, wantErr: "--root-key-passphrase-env NOPE: the environment variable NOPE is not set"},
		{name: "key given instead of a name", args: []string{"--root-key-env", "0" + key[1:]}, wantErr: "want the NAME of an environment variable"},
		{name: "hex key starting with a letter", args: []string{"--root-key-env", key}, wantErr: "--root-key-env abab...: the environment variable"},
		{name: "bad name", args: []string{"--root-key-passphrase-env", "MY-PASS"}, wantErr: "want the NAME of an environment variable"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse(tc.args, env(tc.env))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want %q", err, tc.wantErr)
				}
				if strings.Contains(err.Error(), key[4:]) {
					t.Fatalf("error quotes the key: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.RootKey.Kind() != tc.kind {
				t.Fatalf("kind %q, want %q (%+v)", c.RootKey.Kind(), tc.kind, c.RootKey)
			}
		})
	}
}

func TestSSEDataKeyReuse(t *testing.T) {
	c, err := Parse(nil, env(nil))
	if err != nil || c.SSEDataKeyReuse != 5*time.Minute {
		t.Fatalf("default %v, %v", c, err)
	}
	c, err = Parse([]string{"--sse-data-key-reuse", "90s"}, env(map[string]string{"SEALPOST_SSE_DATA_KEY_REUSE": "2h"}))
	if err != nil || c.SSEDataKeyReuse != 90*time.Second {
		t.Fatalf("flag: %v, %v", c, err)
	}
	for _, bad := range []string{"59s", "24h1s", "0", "-5m", "five"} {
		if _, err := Parse([]string{"--sse-data-key-reuse", bad}, env(nil)); err == nil || !strings.Contains(err.Error(), "--sse-data-key-reuse") {
			t.Errorf("%q: err %v", bad, err)
		}
	}
}
