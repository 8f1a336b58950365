package kms

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/audit"
	"github.com/sealpost/sealpost/internal/envelope"
	"github.com/sealpost/sealpost/internal/policy"
	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/store/pebblestore"
)

const (
	acctA  = "111111111111"
	acctB  = "222222222222"
	region = "us-east-1"
)

var (
	rootA  = Caller{Account: acctA, Region: region, Principal: "arn:aws:iam::" + acctA + ":root"}
	aliceA = Caller{Account: acctA, Region: region, Principal: "arn:aws:iam::" + acctA + ":user/alice"}
	rootB  = Caller{Account: acctB, Region: region, Principal: "arn:aws:iam::" + acctB + ":root"}
	bobB   = Caller{Account: acctB, Region: region, Principal: "arn:aws:iam::" + acctB + ":user/bob"}
	carolB = Caller{Account: acctB, Region: region, Principal: "arn:aws:iam::" + acctB + ":user/carol"}
	snsSvc = Caller{Account: acctA, Region: region, Service: "sns.amazonaws.com"}
)

// recAudit records audit events.
type recAudit struct {
	mu     sync.Mutex
	events []audit.Event
}

func (r *recAudit) Append(_ context.Context, e audit.Event) (uint64, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
	return uint64(len(r.events)), nil
}

func (r *recAudit) take() []audit.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	e := r.events
	r.events = nil
	return e
}

// clock is an injected clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type env struct {
	s     *Service
	st    store.KeyStore
	au    *recAudit
	clk   *clock
	nkeys int
}

func openPebble(t testing.TB) store.KeyStore {
	t.Helper()
	st, err := pebblestore.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

var testRoot = func() []byte {
	b := make([]byte, envelope.KeySize)
	for i := range b {
		b[i] = byte(i + 7)
	}
	return b
}()

func newEnv(t testing.TB, st store.KeyStore, ttl time.Duration) *env {
	t.Helper()
	kr, err := envelope.NewKeyring(testRoot)
	if err != nil {
		t.Fatal(err)
	}
	clk := &clock{t: time.Date(2026, 11, 30, 1, 0, 0, 0, time.UTC)}
	au := &recAudit{}
	s := New(st, kr, Options{Now: clk.now, CacheTTL: ttl, Audit: au})
	return &env{s: s, st: st, au: au, clk: clk}
}

// key stores an Enabled key of account with policy doc ("" = the default
// key policy).
func (e *env) key(t testing.TB, account, doc string) store.Key {
	t.Helper()
	e.nkeys++
	id := fmt.Sprintf("%08x-0000-4000-8000-%012x", e.nkeys, time.Now().UnixNano()&0xffffffffffff)
	if doc == "" {
		doc = defaultKeyPolicy(account)
	}
	nk := store.Key{
		ID: id, ARN: KeyARN(region, account, id), Account: account, Region: region, KeyState: "Enabled",
		KeyManager: "CUSTOMER", KeySpec: "SYMMETRIC_DEFAULT", KeyUsage: "ENCRYPT_DECRYPT", Origin: "AWS_KMS",
		CreatedAt: e.clk.now(), Policy: doc,
	}
	if err := e.s.macKey(&nk); err != nil {
		t.Fatal(err)
	}
	k, err := e.st.CreateKey(context.Background(), nk, nil)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func identity(t testing.TB, doc string) *policy.Policy {
	t.Helper()
	p, err := policy.ParseWith([]byte(doc), policy.Options{Kind: policy.IdentityPolicy})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func withIdentity(c Caller, p *policy.Policy) Caller { c.IdentityPolicy = p; return c }
func via(c Caller, svc string) Caller                { c.ViaService = svc; return c }
func secure(c Caller) Caller                         { c.Secure = true; return c }

// keyPolicyDoc builds a key policy from statements (JSON objects).
func keyPolicyDoc(stmts ...string) string {
	return `{"Version":"2012-10-17","Statement":[` + strings.Join(stmts, ",") + `]}`
}

const rootStmtA = `{"Sid":"Enable IAM User Permissions","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":"kms:*","Resource":"*"}`

// wantErr checks err: kind nil means success, else the error must be kind
// and its message contain want.
func wantErr(t *testing.T, err error, kind error, want string) {
	t.Helper()
	if kind == nil {
		if err != nil {
			t.Fatalf("error %v, want success", err)
		}
		return
	}
	if !errors.Is(err, kind) || !strings.Contains(err.Error(), want) {
		t.Fatalf("error %v, want %v containing %q", err, kind, want)
	}
}

// deniedIf is ErrAccessDenied when a table row expects a refusal (want is
// part of its message), nil when it expects success.
func deniedIf(want string) error {
	if want == "" {
		return nil
	}
	return ErrAccessDenied
}

func TestAuthorize(t *testing.T) {
	e := newEnv(t, openPebble(t), 0)
	ctx := context.Background()

	denyAlice := keyPolicyDoc(rootStmtA,
		`{"Sid":"NoDecrypt","Effect":"Deny","Principal":{"AWS":"arn:aws:iam::111111111111:user/alice"},"Action":"kms:Decrypt","Resource":"*"}`)
	crossB := keyPolicyDoc(rootStmtA,
		`{"Sid":"B","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::222222222222:root"},"Action":["kms:Decrypt","kms:Encrypt"],"Resource":"*"}`)
	ctxOnly := keyPolicyDoc(
		`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:user/alice"},"Action":["kms:Decrypt","kms:PutKeyPolicy"],"Resource":"*","Condition":{"StringEquals":{"kms:EncryptionContext:Department":"IT"}}}`,
		`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:user/alice"},"Action":"kms:Encrypt","Resource":"*","Condition":{"ForAllValues:StringEquals":{"kms:EncryptionContextKeys":["Department","Project"]},"Null":{"kms:EncryptionContextKeys":"false"}}}`)
	tlsOnly := keyPolicyDoc(rootStmtA,
		`{"Sid":"DenyInsecure","Effect":"Deny","Principal":"*","Action":"kms:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}`)
	principalArn := keyPolicyDoc(
		`{"Effect":"Allow","Principal":"*","Action":"kms:DescribeKey","Resource":"*","Condition":{"ArnEquals":{"aws:PrincipalArn":"arn:aws:iam::222222222222:user/bob"}}}`)

	keys := map[string]store.Key{
		"default":      e.key(t, acctA, ""),
		"denyAlice":    e.key(t, acctA, denyAlice),
		"crossB":       e.key(t, acctA, crossB),
		"ctxOnly":      e.key(t, acctA, ctxOnly),
		"sns":          e.key(t, acctA, awsManagedKeyPolicy("sns", acctA, region)),
		"principalArn": e.key(t, acctA, principalArn),
		"tlsOnly":      e.key(t, acctA, tlsOnly),
	}
	onlyDecrypt := identity(t, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"kms:Decrypt","Resource":"*"}}`)
	denyAll := identity(t, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:*","Resource":"*"},{"Effect":"Deny","Action":"kms:Encrypt","Resource":"*"}]}`)
	allKMS := identity(t, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"kms:*","Resource":"*"}}`)
	viaSNS := "sns." + region + ".amazonaws.com"
	it := map[string]string{"Department": "IT"}

	const (
		noResource = "because no resource-based policy allows the "
		noIdentity = "because no identity-based policy allows the "
		denyRes    = "with an explicit deny in a resource-based policy"
		denyID     = "with an explicit deny in an identity-based policy"
	)
	cases := []struct {
		name   string
		key    string
		c      Caller
		action string
		ctx    map[string]string
		want   string // "" allowed, else part of the AccessDenied message
	}{
		{"root of the account, default policy", "default", rootA, "kms:Encrypt", nil, ""},
		{"user without identity policy, default policy", "default", aliceA, "kms:PutKeyPolicy", nil, ""},
		{"identity policy allows Decrypt", "default", withIdentity(aliceA, onlyDecrypt), "kms:Decrypt", nil, ""},
		{"identity policy does not allow Encrypt", "default", withIdentity(aliceA, onlyDecrypt), "kms:Encrypt", nil, noIdentity + "kms:Encrypt action"},
		{"identity Deny wins", "default", withIdentity(aliceA, denyAll), "kms:Encrypt", nil, denyID},
		{"key policy Deny wins over root delegation", "denyAlice", aliceA, "kms:Decrypt", nil, denyRes},
		{"key policy Deny wins over an allowing identity policy", "denyAlice", withIdentity(aliceA, allKMS), "kms:Decrypt", nil, denyRes},
		{"Deny names one action only", "denyAlice", aliceA, "kms:Encrypt", nil, ""},
		{"other account refused by the default policy", "default", bobB, "kms:Decrypt", nil, noResource + "kms:Decrypt action"},
		{"other account root refused by the default policy", "default", rootB, "kms:Decrypt", nil, noResource},
		{"other account allowed by the key policy", "crossB", bobB, "kms:Decrypt", nil, ""},
		{"other account needs its identity policy too", "crossB", withIdentity(bobB, identity(t, `{"Statement":{"Effect":"Allow","Action":"sns:*","Resource":"*"}}`)), "kms:Decrypt", nil, noIdentity},
		{"other account with an allowing identity policy", "crossB", withIdentity(bobB, onlyDecrypt), "kms:Decrypt", nil, ""},
		{"other account: action outside the key policy", "crossB", bobB, "kms:PutKeyPolicy", nil, noResource},
		{"context condition holds", "ctxOnly", aliceA, "kms:Decrypt", it, ""},
		{"context condition with extra pairs", "ctxOnly", aliceA, "kms:Decrypt", map[string]string{"Department": "IT", "x": "y"}, ""},
		{"context key name ignores case", "ctxOnly", aliceA, "kms:Decrypt", map[string]string{"department": "IT"}, ""},
		{"context value is case-sensitive", "ctxOnly", aliceA, "kms:Decrypt", map[string]string{"Department": "it"}, noResource},
		{"context condition refuses another value", "ctxOnly", aliceA, "kms:Decrypt", map[string]string{"Department": "HR"}, noResource},
		{"context condition refuses no context", "ctxOnly", aliceA, "kms:Decrypt", nil, noResource},
		{"root not named by a policy without root statement", "ctxOnly", rootA, "kms:Decrypt", it, noResource},
		{"context keys within the allowed set", "ctxOnly", aliceA, "kms:Encrypt", map[string]string{"Project": "p", "Department": "d"}, ""},
		{"context keys outside the allowed set", "ctxOnly", aliceA, "kms:Encrypt", map[string]string{"Project": "p", "Owner": "o"}, noResource},
		{"context keys: none given", "ctxOnly", aliceA, "kms:Encrypt", nil, noResource},
		{"aws/sns: principal of the account via SNS", "sns", via(aliceA, viaSNS), "kms:GenerateDataKey", nil, ""},
		{"aws/sns: Decrypt via SNS", "sns", via(aliceA, viaSNS), "kms:Decrypt", nil, ""},
		{"aws/sns: action not in the policy", "sns", via(aliceA, viaSNS), "kms:Encrypt", nil, noResource},
		{"aws/sns: direct use refused", "sns", aliceA, "kms:GenerateDataKey", nil, noResource},
		{"aws/sns: via another service refused", "sns", via(aliceA, "sqs."+region+".amazonaws.com"), "kms:GenerateDataKey", nil, noResource},
		{"aws/sns: via SNS of another region refused", "sns", via(aliceA, "sns.eu-west-1.amazonaws.com"), "kms:GenerateDataKey", nil, noResource},
		{"aws/sns: another account via SNS refused", "sns", via(bobB, viaSNS), "kms:GenerateDataKey", nil, noResource},
		{"aws/sns: metadata directly", "sns", aliceA, "kms:DescribeKey", nil, ""},
		{"aws/sns: RevokeGrant directly", "sns", rootA, "kms:RevokeGrant", nil, ""},
		{"aws/sns: PutKeyPolicy refused", "sns", rootA, "kms:PutKeyPolicy", nil, noResource},
		{"aws/sns: SNS itself for the account", "sns", snsSvc, "kms:Decrypt", nil, ""},
		{"aws/sns: SNS itself for another account", "sns", Caller{Account: acctB, Region: region, Service: "sns.amazonaws.com"}, "kms:Decrypt", nil, noResource},
		{"default policy: SNS itself refused", "default", snsSvc, "kms:Decrypt", nil, "User: sns.amazonaws.com is not authorized"},
		{"anonymous refused", "default", Caller{Region: region}, "kms:Decrypt", nil, "User: anonymous"},
		{"aws:SecureTransport: TLS", "tlsOnly", secure(aliceA), "kms:Decrypt", nil, ""},
		{"aws:SecureTransport: plain HTTP", "tlsOnly", aliceA, "kms:Decrypt", nil, denyRes},
		{"aws:PrincipalArn condition holds", "principalArn", bobB, "kms:DescribeKey", nil, ""},
		{"aws:PrincipalArn condition refuses", "principalArn", carolB, "kms:DescribeKey", nil, noResource},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			k := keys[tc.key]
			err := e.s.authorize(ctx, tc.c, k, tc.action, Access{Context: tc.ctx})
			wantErr(t, err, deniedIf(tc.want), tc.want)
			if err != nil {
				msg := "is not authorized to perform: " + tc.action + " on resource: " + k.ARN
				if !strings.Contains(err.Error(), msg) || !strings.HasPrefix(err.Error(), "User: ") {
					t.Fatalf("message %q lacks %q", err, msg)
				}
			}
		})
	}
}

// TestAuthorizeStoredPolicyChange: a key policy that changes is evaluated
// as changed (the parsed-policy cache is keyed by the text).
func TestAuthorizeStoredPolicyChange(t *testing.T) {
	e := newEnv(t, openPebble(t), -1)
	ctx := context.Background()
	k := e.key(t, acctA, "")
	if err := e.s.authorize(ctx, bobB, k, "kms:Decrypt", Access{}); !errors.Is(err, ErrAccessDenied) {
		t.Fatalf("before: %v", err)
	}
	k.Policy = keyPolicyDoc(rootStmtA, `{"Effect":"Allow","Principal":{"AWS":"222222222222"},"Action":"kms:Decrypt","Resource":"*"}`)
	if err := e.s.authorize(ctx, bobB, k, "kms:Decrypt", Access{}); err != nil {
		t.Fatalf("after: %v", err)
	}
	if p1, p2 := e.s.keyPolicy(k.Policy), e.s.keyPolicy(k.Policy); p1 == nil || p1 != p2 {
		t.Fatalf("policy parsed twice or not at all: %p %p", p1, p2)
	}
	// A stored text that does not parse allows nothing.
	k.Policy = `{"Statement":`
	if err := e.s.authorize(ctx, rootA, k, "kms:Decrypt", Access{}); !errors.Is(err, ErrAccessDenied) {
		t.Fatalf("unparsable stored policy: %v", err)
	}
}

func TestPolicyCacheBounded(t *testing.T) {
	e := newEnv(t, openPebble(t), 0)
	pad := strings.Repeat(" ", 30000)
	for i := 0; i < 400; i++ {
		doc := keyPolicyDoc(fmt.Sprintf(`{"Sid":"s%d","Effect":"Allow","Principal":"*","Action":"kms:Decrypt","Resource":"*"}`, i)) + pad
		if e.s.keyPolicy(doc) == nil {
			t.Fatal("policy did not parse")
		}
	}
	if e.s.az.polBytes > maxPolicyCacheBytes {
		t.Fatalf("cache holds %d bytes of policies, bound %d", e.s.az.polBytes, maxPolicyCacheBytes)
	}
}

func TestDefaultPolicies(t *testing.T) {
	for name, doc := range map[string]string{
		"default": defaultKeyPolicy(acctA),
		"aws/sns": awsManagedKeyPolicy("sns", acctA, region),
	} {
		p, err := policy.ParseWith([]byte(doc), keyPolicyOptions)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		switch name {
		case "default":
			if p.ID() != "key-default-1" || !p.HasSid("Enable IAM User Permissions") {
				t.Fatalf("default policy: id %q sids %v", p.ID(), p.Sids())
			}
		case "aws/sns":
			if p.ID() != "auto-sns-1" || !p.HasSid("Allow access through SNS for all principals in the account that are authorized to use SNS") ||
				!p.HasSid("Allow direct access to key metadata to the account") {
				t.Fatalf("aws/sns policy: id %q sids %v", p.ID(), p.Sids())
			}
		}
	}
}

func TestCheckPolicy(t *testing.T) {
	e := newEnv(t, openPebble(t), 0)
	onlyAlice := keyPolicyDoc(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:user/alice"},"Action":"kms:*","Resource":"*"}`)
	aliceNoPut := keyPolicyDoc(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:user/alice"},"Action":"kms:*","Resource":"*"}`,
		`{"Effect":"Deny","Principal":{"AWS":"arn:aws:iam::111111111111:user/alice"},"Action":"kms:PutKeyPolicy","Resource":"*"}`)
	noPut := identity(t, `{"Statement":{"Effect":"Allow","Action":"kms:Encrypt","Resource":"*"}}`)
	const lockout = "The new key policy will not allow you to update the key policy in the future."
	cases := []struct {
		name   string
		c      Caller
		doc    string
		bypass bool
		kind   error
		want   string
	}{
		{"default policy, root", rootA, defaultKeyPolicy(acctA), false, nil, ""},
		{"default policy, user without identity policy", aliceA, defaultKeyPolicy(acctA), false, nil, ""},
		{"default policy, user whose identity policy lacks PutKeyPolicy", withIdentity(aliceA, noPut), defaultKeyPolicy(acctA), false, ErrMalformedPolicy, lockout},
		{"same, bypassed", withIdentity(aliceA, noPut), defaultKeyPolicy(acctA), true, nil, ""},
		{"policy naming alice, alice", aliceA, onlyAlice, false, nil, ""},
		{"policy naming alice locks the root out", rootA, onlyAlice, false, ErrMalformedPolicy, lockout},
		{"policy naming alice, root bypasses", rootA, onlyAlice, true, nil, ""},
		{"Deny PutKeyPolicy locks alice out", aliceA, aliceNoPut, false, ErrMalformedPolicy, lockout},
		{"another account's policy for its own key", rootB, defaultKeyPolicy(acctA), false, ErrMalformedPolicy, lockout},
		{"not JSON", rootA, `{"Version":`, false, ErrMalformedPolicy, "The key policy is not valid: "},
		{"no principal", rootA, `{"Statement":{"Effect":"Allow","Action":"kms:*","Resource":"*"}}`, true, ErrMalformedPolicy, "Principal"},
		{"unknown element", rootA, `{"Statement":{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*","Foo":1}}`, true, ErrMalformedPolicy, "Foo"},
		{"empty", rootA, "", false, ErrValidation, "policy"},
		{"over 32 KiB", rootA, defaultKeyPolicy(acctA) + strings.Repeat(" ", 32768), false, ErrLimitExceeded, "32768"},
		{"character outside the set", rootA, strings.Replace(defaultKeyPolicy(acctA), "Enable", "Enable \u20ac", 1), false, ErrValidation, "regular expression"},
		{"Latin-1 character is fine", rootA, strings.Replace(defaultKeyPolicy(acctA), "Enable", "Enable \u00e9", 1), false, nil, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			wantErr(t, e.s.checkPolicy(tc.c, acctA, tc.doc, tc.bypass), tc.kind, tc.want)
		})
	}
	// With the key known, a statement naming the key ARN counts.
	k := e.key(t, acctA, "")
	exact := keyPolicyDoc(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:user/alice"},"Action":"kms:PutKeyPolicy","Resource":"` + k.ARN + `"}`)
	wantErr(t, e.s.checkKeyPolicy(aliceA, acctA, k.ARN, exact, false), nil, "")
}

// FuzzKeyPolicy feeds documents through checkPolicy and, when one is
// accepted, through authorize: neither may panic, and an accepted document
// must evaluate.
func FuzzKeyPolicy(f *testing.F) {
	f.Add(defaultKeyPolicy(acctA))
	f.Add(awsManagedKeyPolicy("sns", acctA, region))
	f.Add(`{"Statement":{"Effect":"Deny","NotPrincipal":{"AWS":["111111111111","arn:aws:iam::111111111111:user/a"]},"NotAction":"kms:Decrypt","Resource":"*","Condition":{"StringLike":{"kms:EncryptionContext:k":"v*"},"ForAnyValue:StringEquals":{"kms:EncryptionContextKeys":"k"}}}}`)
	f.Add(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"sns.amazonaws.com"},"Action":"kms:*","Resource":"arn:aws:kms:*:111111111111:key/${aws:username}","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"},"Bool":{"kms:GrantIsForAWSResource":"true"}}}]}`)
	f.Add(`{"Statement":[]}`)
	f.Add(`{"Statement":{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*","Condition":{"NumericLessThan":{"kms:X":"1e999"}}}}`)
	f.Add("\x00\xff{")
	kr, err := envelope.NewKeyring(testRoot)
	if err != nil {
		f.Fatal(err)
	}
	s := New(openPebble(f), kr, Options{Now: func() time.Time { return time.Unix(1764464400, 0) }, CacheTTL: time.Hour})
	k := store.Key{ID: "11111111-2222-4333-8444-555555555555", Account: acctA, Region: region, KeyState: "Enabled"}
	k.ARN = KeyARN(region, acctA, k.ID)
	f.Fuzz(func(t *testing.T, doc string) {
		for _, bypass := range []bool{false, true} {
			err := s.checkPolicy(aliceA, acctA, doc, bypass)
			var ke *Error
			if err != nil && !errors.As(err, &ke) {
				t.Fatalf("checkPolicy: %v is not a request error", err)
			}
			if err == nil {
				if s.keyPolicy(doc) == nil {
					t.Fatalf("accepted policy does not parse: %q", doc)
				}
				k.Policy = doc
				for _, c := range []Caller{aliceA, bobB, via(aliceA, "sns.us-east-1.amazonaws.com"), snsSvc} {
					err := s.authorize(context.Background(), c, k, "kms:Decrypt", Access{Context: map[string]string{"k": "v"}})
					if err != nil && !errors.Is(err, ErrAccessDenied) {
						t.Fatalf("authorize: %v", err)
					}
				}
			}
		}
	})
}

// BenchmarkAuthorize measures the hot path: a principal of the key's
// account, the default key policy (cached), an encryption context.
func BenchmarkAuthorize(b *testing.B) {
	e := newEnv(b, openPebble(b), 0)
	k := e.key(b, acctA, "")
	a := Access{Context: map[string]string{"aws:sns:topicArn": "arn:aws:sns:us-east-1:111111111111:t"}}
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := e.s.authorize(ctx, aliceA, k, "kms:GenerateDataKey", a); err != nil {
				b.Fatal(err)
			}
		}
	})
}
