package kms

import (
	"context"
	"strings"
	"sync"
	"testing"
)

// TestSQSManagedKeys: alias/aws/sqs is created on first use with AWS's
// key policy for SQS (principals of the account through SQS; SNS's
// policy text is unchanged); the SQS-owned key of a region is created
// once when two nodes race, lives in OwnedAccount, and is usable only by
// the SQS service acting for OwnedAccount, on both drivers.
func TestSQSManagedKeys(t *testing.T) {
	ctx := context.Background()
	eachDriver(t, func(t *testing.T, d driver) {
		st, another := d.open(t)
		st2 := st
		if another != nil {
			st2 = another()
		}
		clk := newClock()
		nodes := []*Service{newService(t, st, clk, Options{}), newService(t, st2, clk, Options{})}
		s := nodes[0]
		md, err := s.DescribeKey(ctx, alice, "alias/aws/sqs", nil)
		if err != nil || md.KeyManager != "AWS" || md.Description != "Default key that protects my SQS messages when no other key is defined" {
			t.Fatalf("alias/aws/sqs: %+v %v", md, err)
		}
		k, _ := st.GetKey(ctx, md.KeyID)
		if k.Policy != awsManagedKeyPolicy("sqs", acctOne, testRegion) || !strings.Contains(k.Policy, `"Id" : "auto-sqs-1"`) ||
			!strings.Contains(k.Policy, "Allow access through Simple Queue Service (SQS) for all principals in the account that are authorized to use Simple Queue Service (SQS)") {
			t.Fatalf("aws/sqs policy %s", k.Policy)
		}
		viaSQS := alice
		viaSQS.ViaService = "sqs." + testRegion + ".amazonaws.com"
		if _, err := s.GenerateDataKey(ctx, viaSQS, DataKeyInput{KeyID: "alias/aws/sqs", KeySpec: "AES_256"}); err != nil {
			t.Fatalf("through SQS: %v", err)
		}
		viaSNS := alice
		viaSNS.ViaService = "sns." + testRegion + ".amazonaws.com"
		_, err = s.GenerateDataKey(ctx, viaSNS, DataKeyInput{KeyID: "alias/aws/sqs", KeySpec: "AES_256"})
		wantKind(t, "aws/sqs through SNS", err, ErrAccessDenied)

		const racers = 8
		arns := make([]string, racers)
		errs := make([]error, racers)
		var wg sync.WaitGroup
		for i := range racers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				arns[i], errs[i] = nodes[i%2].ServiceKey(ctx, "sqs.amazonaws.com", testRegion)
			}()
		}
		wg.Wait()
		for i := range arns {
			if errs[i] != nil || arns[i] != arns[0] || !strings.Contains(arns[i], ":"+OwnedAccount+":key/") {
				t.Fatalf("racer %d: %q %v (racer 0: %q)", i, arns[i], errs[i], arns[0])
			}
		}
		owned := Caller{Service: "sqs.amazonaws.com", Account: OwnedAccount, Region: testRegion}
		ec := map[string]string{"aws:sqs:arn": "arn:aws:sqs:us-east-1:111122223333:q"}
		dk, err := s.GenerateDataKey(ctx, owned, DataKeyInput{KeyID: arns[0], KeySpec: "AES_256", Context: ec})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := nodes[1].DecryptForService(ctx, owned, DecryptInput{CiphertextBlob: dk.CiphertextBlob, Context: ec}); err != nil {
			t.Fatal(err)
		}
		// Other callers: the account, SNS, SQS acting for a customer account.
		for _, c := range []Caller{alice, viaSQS, {Service: "sns.amazonaws.com", Account: OwnedAccount, Region: testRegion},
			{Service: "sqs.amazonaws.com", Account: acctOne, Region: testRegion}} {
			_, err := s.GenerateDataKey(ctx, c, DataKeyInput{KeyID: arns[0], KeySpec: "AES_256", Context: ec})
			wantKind(t, "GenerateDataKey under the owned key by "+callerARN(c), err, ErrNotFound)
			_, err = s.Decrypt(ctx, c, DecryptInput{CiphertextBlob: dk.CiphertextBlob, Context: ec})
			wantKind(t, "Decrypt of an owned-key blob by "+callerARN(c), err, ErrInvalidCiphertext)
		}
		if _, err := s.ServiceKey(ctx, "s3.amazonaws.com", testRegion); err == nil {
			t.Fatal("a key for a service that owns none")
		}
		keys, _, err := s.ListKeys(ctx, alice, Page{})
		if err != nil || len(keys) != 1 || keys[0].KeyID != md.KeyID {
			t.Fatalf("alice's keys: %+v %v", keys, err)
		}
	})
}
