package kms

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/audit"
)

// TestAudit: every call writes one record, refusals with their errorCode,
// and no plaintext, data key, random bytes or blob reaches the log.
func TestAudit(t *testing.T) {
	ctx := context.Background()
	eachDriver(t, func(t *testing.T, d driver) {
		st, _ := d.open(t)
		w, err := audit.Open(t.TempDir(), audit.Options{})
		if err != nil {
			t.Fatal(err)
		}
		clk := newClock()
		s := newService(t, st, clk, Options{Audit: w})
		var secrets [][]byte
		type call struct{ name, code string }
		var want []call
		expect := func(name string, err error, code string) {
			t.Helper()
			got := ""
			if err != nil {
				got = err.(*Error).Kind.Error()
			}
			if got != code {
				t.Fatalf("%s: error %v, want code %q", name, err, code)
			}
			want = append(want, call{name, code})
		}
		ec := map[string]string{"purpose": "CTX-MARKER-visible"}
		plaintext := []byte("PLAINTEXT-MARKER-never-in-the-log")
		secrets = append(secrets, plaintext)

		md, err := s.CreateKey(ctx, alice, CreateKeyInput{Description: "audited"})
		expect("CreateKey", err, "")
		expect("CreateAlias", s.CreateAlias(ctx, alice, "alias/audited", md.KeyID), "")
		enc, err := s.Encrypt(ctx, alice, EncryptInput{KeyID: "alias/audited", Plaintext: plaintext, Context: ec})
		expect("Encrypt", err, "")
		secrets = append(secrets, enc.CiphertextBlob)
		dec, err := s.Decrypt(ctx, alice, DecryptInput{CiphertextBlob: enc.CiphertextBlob, Context: ec})
		expect("Decrypt", err, "")
		if !bytes.Equal(dec.Plaintext, plaintext) {
			t.Fatal("round trip")
		}
		dk, err := s.GenerateDataKey(ctx, alice, DataKeyInput{KeyID: md.KeyID, KeySpec: "AES_256", Context: ec})
		expect("GenerateDataKey", err, "")
		secrets = append(secrets, dk.Plaintext, dk.CiphertextBlob)
		rnd, err := s.GenerateRandom(ctx, alice, 32, "")
		expect("GenerateRandom", err, "")
		secrets = append(secrets, rnd)
		re, err := s.ReEncrypt(ctx, alice, ReEncryptInput{CiphertextBlob: enc.CiphertextBlob, SourceContext: ec, DestinationKeyID: md.KeyID})
		expect("ReEncrypt", err, "")
		secrets = append(secrets, re.CiphertextBlob)
		_, err = s.Decrypt(ctx, alice, DecryptInput{CiphertextBlob: enc.CiphertextBlob})
		expect("Decrypt", err, "InvalidCiphertextException")
		expect("DisableKey", s.DisableKey(ctx, alice, md.KeyID), "")
		_, err = s.Encrypt(ctx, alice, EncryptInput{KeyID: md.KeyID, Plaintext: plaintext, Context: ec})
		expect("Encrypt", err, "DisabledException")
		_, err = s.Decrypt(ctx, alice, DecryptInput{CiphertextBlob: enc.CiphertextBlob, Context: ec})
		expect("Decrypt", err, "DisabledException")
		_, err = s.DescribeKey(ctx, alice, "alias/none", nil)
		expect("DescribeKey", err, "NotFoundException")
		_, err = s.Encrypt(ctx, alice, EncryptInput{KeyID: md.KeyID})
		expect("Encrypt", err, "ValidationException")
		_, _, err = s.ListKeys(ctx, alice, Page{})
		expect("ListKeys", err, "")
		_, err = s.ScheduleKeyDeletion(ctx, alice, md.KeyID, 7)
		expect("ScheduleKeyDeletion", err, "")
		clk.Add(8 * 24 * time.Hour)
		if del, _, err := s.Sweep(ctx); err != nil || del != 1 {
			t.Fatalf("Sweep %d %v", del, err)
		}
		want = append(want, call{"DeleteKey", ""}) // by KMS itself
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}

		raw, err := os.ReadFile(w.Path())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := audit.Verify(bytes.NewReader(raw)); err != nil {
			t.Fatalf("audit chain: %v", err)
		}
		var recs []audit.Record
		sc := bufio.NewScanner(bytes.NewReader(raw))
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var r audit.Record
			if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
				t.Fatal(err)
			}
			recs = append(recs, r)
		}
		if len(recs) != len(want) {
			t.Fatalf("%d records for %d calls", len(recs), len(want))
		}
		if r := recs[len(recs)-1]; r.UserIdentity.Type != "AWSService" || r.UserIdentity.InvokedBy != "kms.amazonaws.com" || len(r.Resources) != 1 {
			t.Fatalf("Sweep's DeleteKey record %+v", r)
		}
		recs, want = recs[:len(recs)-1], want[:len(want)-1]
		for i, r := range recs {
			if r.EventName != want[i].name || r.ErrorCode != want[i].code || r.EventSource != "kms.amazonaws.com" ||
				r.UserIdentity.ARN != alice.Principal || r.AWSRegion != testRegion || r.RequestID != alice.RequestID {
				t.Fatalf("record %d: %s %q, want %s %q (%+v)", i, r.EventName, r.ErrorCode, want[i].name, want[i].code, r)
			}
			if want[i].code != "" && r.ErrorMessage == "" {
				t.Fatalf("record %d: refusal without message", i)
			}
		}
		if r := recs[2]; len(r.Resources) != 1 || r.Resources[0].ARN != md.ARN || r.RequestParameters["keyId"] != "alias/audited" {
			t.Fatalf("Encrypt record %+v", r)
		}
		// Positive control: the context is logged, as CloudTrail does.
		if !bytes.Contains(raw, []byte("CTX-MARKER-visible")) {
			t.Fatal("the encryption context is not in the log (positive control)")
		}
		for _, sec := range secrets {
			for _, form := range [][]byte{sec, []byte(base64.StdEncoding.EncodeToString(sec)), []byte(base64.RawURLEncoding.EncodeToString(sec)), []byte(hex.EncodeToString(sec))} {
				if bytes.Contains(raw, form) {
					t.Fatalf("a secret (%d bytes) is in the audit log", len(sec))
				}
			}
		}
	})
}

// TestAuditDetails: ReEncrypt's record names the source and the
// destination key; CreateGrant's has responseElements {"grantId": ...}
// (and not the grant token).
func TestAuditDetails(t *testing.T) {
	ctx := context.Background()
	eachDriver(t, func(t *testing.T, d driver) {
		st, _ := d.open(t)
		w, err := audit.Open(t.TempDir(), audit.Options{})
		if err != nil {
			t.Fatal(err)
		}
		s := newService(t, st, newClock(), Options{Audit: w})
		src, dst := mustCreate(t, s, alice), mustCreate(t, s, alice)
		enc, err := s.Encrypt(ctx, alice, EncryptInput{KeyID: src.KeyID, Plaintext: []byte("x")})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.ReEncrypt(ctx, alice, ReEncryptInput{CiphertextBlob: enc.CiphertextBlob, DestinationKeyID: dst.KeyID}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.ReEncrypt(ctx, alice, ReEncryptInput{CiphertextBlob: enc.CiphertextBlob, DestinationKeyID: src.ARN}); err != nil {
			t.Fatal(err)
		}
		tok, gid, err := s.CreateGrant(ctx, alice, CreateGrantInput{KeyID: src.KeyID, GranteePrincipal: callerOf(acctTwo).Principal, Operations: []string{"Decrypt"}})
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = s.CreateGrant(ctx, alice, CreateGrantInput{KeyID: src.KeyID, GranteePrincipal: "nobody", Operations: []string{"Decrypt"}})
		wantKind(t, "CreateGrant with a bad grantee", err, ErrValidation)
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		raw, err := os.ReadFile(w.Path())
		if err != nil {
			t.Fatal(err)
		}
		var recs []audit.Record
		for _, line := range bytes.Split(bytes.TrimSpace(raw), []byte("\n")) {
			var r audit.Record
			if err := json.Unmarshal(line, &r); err != nil {
				t.Fatal(err)
			}
			recs = append(recs, r)
		}
		if len(recs) != 7 {
			t.Fatalf("%d records", len(recs))
		}
		arns := func(r audit.Record) []string {
			var out []string
			for _, res := range r.Resources {
				out = append(out, res.ARN)
			}
			return out
		}
		if r := recs[3]; r.EventName != "ReEncrypt" || !slices.Equal(arns(r), []string{src.ARN, dst.ARN}) || r.RecipientAccountID != acctOne {
			t.Fatalf("ReEncrypt record: %s %v", r.EventName, arns(r))
		}
		if r := recs[4]; r.EventName != "ReEncrypt" || !slices.Equal(arns(r), []string{src.ARN}) {
			t.Fatalf("ReEncrypt to the same key: %s %v", r.EventName, arns(r))
		}
		if r := recs[5]; r.EventName != "CreateGrant" || r.ResponseElements["grantId"] != gid || len(r.ResponseElements) != 1 || !slices.Equal(arns(r), []string{src.ARN}) {
			t.Fatalf("CreateGrant record: %+v", r)
		}
		if r := recs[6]; r.EventName != "CreateGrant" || r.ErrorCode != "ValidationException" || r.ResponseElements != nil {
			t.Fatalf("refused CreateGrant record: %+v", r)
		}
		if bytes.Contains(raw, []byte(tok)) {
			t.Fatal("the grant token is in the audit log")
		}
	})
}
