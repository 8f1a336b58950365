package kmsapi

import (
	"context"

	"github.com/sealpost/sealpost/internal/kms"
)

// handler is one action: its input members, the domain input decoded from
// them (input, also used by the tests) and the call that writes the output
// members.
type handler interface {
	members() []member
	input(a args) (any, error)
	run(ctx context.Context, svc domain, c kms.Caller, a args, out *jsonWriter) error
}

// op is a handler whose domain input has type In.
type op[In any] struct {
	in   []member
	dec  func(a args) (In, error)
	call func(ctx context.Context, svc domain, c kms.Caller, in In, out *jsonWriter) error
}

func (o op[In]) members() []member { return o.in }

func (o op[In]) input(a args) (any, error) { return o.dec(a) }

func (o op[In]) run(ctx context.Context, svc domain, c kms.Caller, a args, out *jsonWriter) error {
	in, err := o.dec(a)
	if err != nil {
		return err
	}
	return o.call(ctx, svc, c, in, out)
}

// Inputs of domain methods that take several arguments.
type (
	keyIn    struct{ KeyID string }
	grantIn  struct{ KeyID, GrantID string }
	describe struct {
		KeyID       string
		GrantTokens []string
	}
	aliasIn struct{ Name, TargetKeyID string }
	keyPage struct {
		KeyID string
		Page  kms.Page
	}
	randomIn struct {
		N                int
		CustomKeyStoreID string
	}
	deletionIn struct {
		KeyID string
		Days  int
	}
	rotationIn struct {
		KeyID      string
		PeriodDays int
	}
	policyIn struct {
		KeyID, Name, Policy string
		Bypass              bool
	}
	tagsIn struct {
		KeyID string
		Tags  []kms.Tag
	}
	untagIn struct {
		KeyID   string
		TagKeys []string
	}
	descriptionIn struct{ KeyID, Description string }
	listGrantsIn  struct {
		KeyID, GrantID, Grantee string
		Page                    kms.Page
	}
	retireIn    struct{ Token, KeyID, GrantID string }
	retirableIn struct {
		Principal string
		Page      kms.Page
	}
)

// unsupported names the actions of the KMS model Sealpost does not offer
// and what they need.
var unsupported = map[string]string{
	"Sign":                                "asymmetric signing keys",
	"Verify":                              "asymmetric signing keys",
	"GetPublicKey":                        "asymmetric keys",
	"GenerateDataKeyPair":                 "asymmetric data key pairs",
	"GenerateDataKeyPairWithoutPlaintext": "asymmetric data key pairs",
	"DeriveSharedSecret":                  "key agreement keys",
	"GenerateMac":                         "HMAC keys",
	"VerifyMac":                           "HMAC keys",
	"GetParametersForImport":              "imported key material",
	"ImportKeyMaterial":                   "imported key material",
	"DeleteImportedKeyMaterial":           "imported key material",
	"CreateCustomKeyStore":                "custom key stores",
	"DeleteCustomKeyStore":                "custom key stores",
	"DescribeCustomKeyStores":             "custom key stores",
	"UpdateCustomKeyStore":                "custom key stores",
	"ConnectCustomKeyStore":               "custom key stores",
	"DisconnectCustomKeyStore":            "custom key stores",
	"ReplicateKey":                        "multi-Region keys",
	"UpdatePrimaryRegion":                 "multi-Region keys",
	"GetKeyLastUsage":                     "key usage tracking",
	// Not in the 2014-11-01 model copy, but in current SDKs.
	"Encapsulate": "key encapsulation (ML-KEM) keys",
	"Decapsulate": "key encapsulation (ML-KEM) keys",
}

// notOffered refuses a member Sealpost does not implement.
func notOffered(member, why string) error {
	return &apiError{"UnsupportedOperationException", 400, member + " is not supported: " + why + "."}
}

var (
	mKeyID       = req("KeyId", keyIDType)
	mGrantTokens = opt("GrantTokens", grantTokenList)
	mLimit       = opt("Limit", limitType)
	mMarker      = opt("Marker", markerType)
	mDryRun      = opt("DryRun", boolType)
)

// keyOnly is the table entry of an action whose only input is a key.
func keyOnly(call func(ctx context.Context, svc domain, c kms.Caller, in keyIn, out *jsonWriter) error) handler {
	return op[keyIn]{
		in:   []member{mKeyID},
		dec:  func(a args) (keyIn, error) { return keyIn{a.str("KeyId")}, nil },
		call: call,
	}
}

// keyPaged is the table entry of a list action over one key.
func keyPaged(extra []member, call func(ctx context.Context, svc domain, c kms.Caller, in keyPage, out *jsonWriter) error) handler {
	return op[keyPage]{
		in:   append([]member{mKeyID, mLimit, mMarker}, extra...),
		dec:  func(a args) (keyPage, error) { return keyPage{a.str("KeyId"), a.page()}, nil },
		call: call,
	}
}

// actions is the action table.
var actions = map[string]handler{
	"CreateKey": op[kms.CreateKeyInput]{
		in: []member{opt("Policy", policyType), opt("Description", descriptionType), opt("KeyUsage", keyUsageType),
			opt("CustomerMasterKeySpec", cmkSpecType), opt("KeySpec", keySpecType), opt("Origin", originType),
			opt("CustomKeyStoreId", customStoreType), opt("BypassPolicyLockoutSafetyCheck", boolType),
			opt("Tags", tagList), opt("MultiRegion", boolType), opt("XksKeyId", xksKeyIDType)},
		dec:  decCreateKey,
		call: createKey,
	},
	"DescribeKey": op[describe]{
		in:   []member{mKeyID, mGrantTokens},
		dec:  func(a args) (describe, error) { return describe{a.str("KeyId"), a.strs("GrantTokens")}, nil },
		call: describeKey,
	},
	"ListKeys": op[kms.Page]{
		in:   []member{mLimit, mMarker},
		dec:  func(a args) (kms.Page, error) { return a.page(), nil },
		call: listKeys,
	},
	"CreateAlias": op[aliasIn]{
		in:  []member{req("AliasName", aliasNameType), req("TargetKeyId", keyIDType)},
		dec: decAlias,
		call: func(ctx context.Context, svc domain, c kms.Caller, in aliasIn, out *jsonWriter) error {
			return svc.CreateAlias(ctx, c, in.Name, in.TargetKeyID)
		},
	},
	"UpdateAlias": op[aliasIn]{
		in:  []member{req("AliasName", aliasNameType), req("TargetKeyId", keyIDType)},
		dec: decAlias,
		call: func(ctx context.Context, svc domain, c kms.Caller, in aliasIn, out *jsonWriter) error {
			return svc.UpdateAlias(ctx, c, in.Name, in.TargetKeyID)
		},
	},
	"DeleteAlias": op[aliasIn]{
		in:  []member{req("AliasName", aliasNameType)},
		dec: decAlias,
		call: func(ctx context.Context, svc domain, c kms.Caller, in aliasIn, out *jsonWriter) error {
			return svc.DeleteAlias(ctx, c, in.Name)
		},
	},
	"ListAliases": op[keyPage]{
		in:   []member{opt("KeyId", keyIDType), mLimit, mMarker},
		dec:  func(a args) (keyPage, error) { return keyPage{a.str("KeyId"), a.page()}, nil },
		call: listAliases,
	},
	"Encrypt": op[kms.EncryptInput]{
		in: []member{mKeyID, req("Plaintext", plaintextType), opt("EncryptionContext", contextType), mGrantTokens,
			opt("EncryptionAlgorithm", encAlgType), mDryRun},
		dec: func(a args) (kms.EncryptInput, error) {
			return kms.EncryptInput{KeyID: a.str("KeyId"), Plaintext: a.blob("Plaintext"), Context: a.context("EncryptionContext"),
				GrantTokens: a.strs("GrantTokens"), Algorithm: a.str("EncryptionAlgorithm"), DryRun: a.boolean("DryRun")}, nil
		},
		call: encrypt,
	},
	"Decrypt": op[kms.DecryptInput]{
		in: []member{opt("CiphertextBlob", ciphertextType), opt("EncryptionContext", contextType), mGrantTokens,
			opt("KeyId", keyIDType), opt("EncryptionAlgorithm", encAlgType), opt("Recipient", objectType), mDryRun,
			opt("DryRunModifiers", dryRunModList)},
		dec:  decDecrypt,
		call: decrypt,
	},
	"ReEncrypt": op[kms.ReEncryptInput]{
		in: []member{opt("CiphertextBlob", ciphertextType), opt("SourceEncryptionContext", contextType),
			opt("SourceKeyId", keyIDType), req("DestinationKeyId", keyIDType), opt("DestinationEncryptionContext", contextType),
			opt("SourceEncryptionAlgorithm", encAlgType), opt("DestinationEncryptionAlgorithm", encAlgType), mGrantTokens,
			mDryRun, opt("DryRunModifiers", dryRunModList)},
		dec:  decReEncrypt,
		call: reEncrypt,
	},
	"GenerateDataKey": op[kms.DataKeyInput]{
		in: []member{mKeyID, opt("EncryptionContext", contextType), opt("NumberOfBytes", numberOfBytes),
			opt("KeySpec", dataKeySpecType), mGrantTokens, opt("Recipient", objectType), mDryRun},
		dec:  decDataKey,
		call: generateDataKey,
	},
	"GenerateDataKeyWithoutPlaintext": op[kms.DataKeyInput]{
		in: []member{mKeyID, opt("EncryptionContext", contextType), opt("KeySpec", dataKeySpecType),
			opt("NumberOfBytes", numberOfBytes), mGrantTokens, mDryRun},
		dec:  decDataKey,
		call: generateDataKeyWithoutPlaintext,
	},
	"GenerateRandom": op[randomIn]{
		in: []member{opt("NumberOfBytes", numberOfBytes), opt("CustomKeyStoreId", customStoreType), opt("Recipient", objectType)},
		dec: func(a args) (randomIn, error) {
			if a.has("Recipient") {
				return randomIn{}, notOffered("Recipient", "Sealpost has no Nitro Enclaves attestation")
			}
			return randomIn{a.num("NumberOfBytes"), a.str("CustomKeyStoreId")}, nil
		},
		call: generateRandom,
	},
	"EnableKey": keyOnly(func(ctx context.Context, svc domain, c kms.Caller, in keyIn, out *jsonWriter) error {
		return svc.EnableKey(ctx, c, in.KeyID)
	}),
	"DisableKey": keyOnly(func(ctx context.Context, svc domain, c kms.Caller, in keyIn, out *jsonWriter) error {
		return svc.DisableKey(ctx, c, in.KeyID)
	}),
	"ScheduleKeyDeletion": op[deletionIn]{
		in:   []member{mKeyID, opt("PendingWindowInDays", pendingWindow)},
		dec:  func(a args) (deletionIn, error) { return deletionIn{a.str("KeyId"), a.num("PendingWindowInDays")}, nil },
		call: scheduleKeyDeletion,
	},
	"CancelKeyDeletion": keyOnly(func(ctx context.Context, svc domain, c kms.Caller, in keyIn, out *jsonWriter) error {
		arn, err := svc.CancelKeyDeletion(ctx, c, in.KeyID)
		if err != nil {
			return err
		}
		out.str("KeyId", arn)
		return nil
	}),
	"EnableKeyRotation": op[rotationIn]{
		in: []member{mKeyID, opt("RotationPeriodInDays", rotationPeriod)},
		dec: func(a args) (rotationIn, error) {
			return rotationIn{a.str("KeyId"), a.num("RotationPeriodInDays")}, nil
		},
		call: func(ctx context.Context, svc domain, c kms.Caller, in rotationIn, out *jsonWriter) error {
			return svc.EnableKeyRotation(ctx, c, in.KeyID, in.PeriodDays)
		},
	},
	"DisableKeyRotation": keyOnly(func(ctx context.Context, svc domain, c kms.Caller, in keyIn, out *jsonWriter) error {
		return svc.DisableKeyRotation(ctx, c, in.KeyID)
	}),
	"GetKeyRotationStatus": keyOnly(getKeyRotationStatus),
	"RotateKeyOnDemand": keyOnly(func(ctx context.Context, svc domain, c kms.Caller, in keyIn, out *jsonWriter) error {
		arn, err := svc.RotateKeyOnDemand(ctx, c, in.KeyID)
		if err != nil {
			return err
		}
		out.str("KeyId", arn)
		return nil
	}),
	// IncludeKeyMaterial is accepted and ignored: every material version of
	// a Sealpost key but the first comes from a rotation.
	"ListKeyRotations": keyPaged([]member{opt("IncludeKeyMaterial", includeMaterial)}, listKeyRotations),
	"GetKeyPolicy": op[policyIn]{
		in:   []member{mKeyID, opt("PolicyName", policyNameType)},
		dec:  decPolicy,
		call: getKeyPolicy,
	},
	"PutKeyPolicy": op[policyIn]{
		in: []member{mKeyID, opt("PolicyName", policyNameType), req("Policy", policyType),
			opt("BypassPolicyLockoutSafetyCheck", boolType)},
		dec: decPolicy,
		call: func(ctx context.Context, svc domain, c kms.Caller, in policyIn, out *jsonWriter) error {
			return svc.PutKeyPolicy(ctx, c, in.KeyID, in.Name, in.Policy, in.Bypass)
		},
	},
	"ListKeyPolicies": keyPaged(nil, listKeyPolicies),
	"TagResource": op[tagsIn]{
		in:  []member{mKeyID, req("Tags", tagList)},
		dec: func(a args) (tagsIn, error) { return tagsIn{a.str("KeyId"), a.tags("Tags")}, nil },
		call: func(ctx context.Context, svc domain, c kms.Caller, in tagsIn, out *jsonWriter) error {
			return svc.TagResource(ctx, c, in.KeyID, in.Tags)
		},
	},
	"UntagResource": op[untagIn]{
		in:  []member{mKeyID, req("TagKeys", tagKeyList)},
		dec: func(a args) (untagIn, error) { return untagIn{a.str("KeyId"), a.strs("TagKeys")}, nil },
		call: func(ctx context.Context, svc domain, c kms.Caller, in untagIn, out *jsonWriter) error {
			return svc.UntagResource(ctx, c, in.KeyID, in.TagKeys)
		},
	},
	"ListResourceTags": keyPaged(nil, listResourceTags),
	"UpdateKeyDescription": op[descriptionIn]{
		in:  []member{mKeyID, req("Description", descriptionType)},
		dec: func(a args) (descriptionIn, error) { return descriptionIn{a.str("KeyId"), a.str("Description")}, nil },
		call: func(ctx context.Context, svc domain, c kms.Caller, in descriptionIn, out *jsonWriter) error {
			return svc.UpdateKeyDescription(ctx, c, in.KeyID, in.Description)
		},
	},
	"CreateGrant": op[kms.CreateGrantInput]{
		in: []member{mKeyID, opt("GranteePrincipal", principalType), opt("RetiringPrincipal", principalType),
			req("Operations", grantOpList), opt("Constraints", constraintsType), mGrantTokens,
			opt("Name", grantNameType), mDryRun, opt("GranteeServicePrincipal", servicePrinType),
			opt("RetiringServicePrincipal", servicePrinType)},
		dec:  decCreateGrant,
		call: createGrant,
	},
	"ListGrants": op[listGrantsIn]{
		in: []member{mLimit, mMarker, mKeyID, opt("GrantId", grantIDType), opt("GranteePrincipal", principalType),
			opt("GranteeServicePrincipal", servicePrinType)},
		dec: func(a args) (listGrantsIn, error) {
			if a.has("GranteeServicePrincipal") {
				return listGrantsIn{}, notOffered("GranteeServicePrincipal", "Sealpost grants name principals by ARN (GranteePrincipal)")
			}
			return listGrantsIn{a.str("KeyId"), a.str("GrantId"), a.str("GranteePrincipal"), a.page()}, nil
		},
		call: listGrants,
	},
	"RetireGrant": op[retireIn]{
		in: []member{opt("GrantToken", grantTokenType), opt("KeyId", keyIDType), opt("GrantId", grantIDType), mDryRun},
		dec: func(a args) (retireIn, error) {
			if a.boolean("DryRun") {
				return retireIn{}, notOffered("DryRun", "RetireGrant has no dry run in Sealpost")
			}
			return retireIn{a.str("GrantToken"), a.str("KeyId"), a.str("GrantId")}, nil
		},
		call: func(ctx context.Context, svc domain, c kms.Caller, in retireIn, out *jsonWriter) error {
			return svc.RetireGrant(ctx, c, in.Token, in.KeyID, in.GrantID)
		},
	},
	"RevokeGrant": op[grantIn]{
		in: []member{mKeyID, req("GrantId", grantIDType), mDryRun},
		dec: func(a args) (grantIn, error) {
			if a.boolean("DryRun") {
				return grantIn{}, notOffered("DryRun", "RevokeGrant has no dry run in Sealpost")
			}
			return grantIn{a.str("KeyId"), a.str("GrantId")}, nil
		},
		call: func(ctx context.Context, svc domain, c kms.Caller, in grantIn, out *jsonWriter) error {
			return svc.RevokeGrant(ctx, c, in.KeyID, in.GrantID)
		},
	},
	"ListRetirableGrants": op[retirableIn]{
		in: []member{mLimit, mMarker, opt("RetiringPrincipal", principalType), opt("RetiringServicePrincipal", servicePrinType)},
		dec: func(a args) (retirableIn, error) {
			if a.has("RetiringServicePrincipal") {
				return retirableIn{}, notOffered("RetiringServicePrincipal", "Sealpost grants name principals by ARN (RetiringPrincipal)")
			}
			if !a.has("RetiringPrincipal") {
				return retirableIn{}, validationError([]string{"Value null at 'retiringPrincipal' failed to satisfy constraint: Member must not be null"})
			}
			return retirableIn{a.str("RetiringPrincipal"), a.page()}, nil
		},
		call: listRetirableGrants,
	},
}

// ---- decoders ----

func decCreateKey(a args) (kms.CreateKeyInput, error) {
	spec := a.str("KeySpec")
	if cmk := a.str("CustomerMasterKeySpec"); cmk != "" {
		if spec != "" {
			return kms.CreateKeyInput{}, &apiError{"ValidationException", 400, "You cannot specify KeySpec and CustomerMasterKeySpec in the same request. CustomerMasterKeySpec is deprecated."}
		}
		spec = cmk
	}
	return kms.CreateKeyInput{
		Description:                    a.str("Description"),
		Policy:                         a.str("Policy"),
		Tags:                           a.tags("Tags"),
		KeySpec:                        spec,
		KeyUsage:                       a.str("KeyUsage"),
		Origin:                         a.str("Origin"),
		CustomKeyStoreID:               a.str("CustomKeyStoreId"),
		XksKeyID:                       a.str("XksKeyId"),
		BypassPolicyLockoutSafetyCheck: a.boolean("BypassPolicyLockoutSafetyCheck"),
		MultiRegion:                    a.boolean("MultiRegion"),
	}, nil
}

func decAlias(a args) (aliasIn, error) { return aliasIn{a.str("AliasName"), a.str("TargetKeyId")}, nil }

func decPolicy(a args) (policyIn, error) {
	return policyIn{a.str("KeyId"), a.str("PolicyName"), a.str("Policy"), a.boolean("BypassPolicyLockoutSafetyCheck")}, nil
}

// ciphertextRequired checks what the model cannot say: CiphertextBlob is
// required unless a dry run ignores it, which Sealpost does not offer.
func ciphertextRequired(a args) error {
	if len(a.strs("DryRunModifiers")) > 0 {
		return notOffered("DryRunModifiers", "a dry run needs the ciphertext in Sealpost")
	}
	if !a.has("CiphertextBlob") {
		return validationError([]string{"Value null at 'ciphertextBlob' failed to satisfy constraint: Member must not be null"})
	}
	return nil
}

func decDecrypt(a args) (kms.DecryptInput, error) {
	if a.has("Recipient") {
		return kms.DecryptInput{}, notOffered("Recipient", "Sealpost has no Nitro Enclaves attestation")
	}
	if err := ciphertextRequired(a); err != nil {
		return kms.DecryptInput{}, err
	}
	return kms.DecryptInput{CiphertextBlob: a.blob("CiphertextBlob"), Context: a.context("EncryptionContext"),
		GrantTokens: a.strs("GrantTokens"), KeyID: a.str("KeyId"), Algorithm: a.str("EncryptionAlgorithm"),
		DryRun: a.boolean("DryRun")}, nil
}

func decReEncrypt(a args) (kms.ReEncryptInput, error) {
	if err := ciphertextRequired(a); err != nil {
		return kms.ReEncryptInput{}, err
	}
	return kms.ReEncryptInput{
		CiphertextBlob:       a.blob("CiphertextBlob"),
		SourceContext:        a.context("SourceEncryptionContext"),
		SourceKeyID:          a.str("SourceKeyId"),
		DestinationKeyID:     a.str("DestinationKeyId"),
		DestinationContext:   a.context("DestinationEncryptionContext"),
		SourceAlgorithm:      a.str("SourceEncryptionAlgorithm"),
		DestinationAlgorithm: a.str("DestinationEncryptionAlgorithm"),
		GrantTokens:          a.strs("GrantTokens"),
		DryRun:               a.boolean("DryRun"),
	}, nil
}

func decDataKey(a args) (kms.DataKeyInput, error) {
	if a.has("Recipient") {
		return kms.DataKeyInput{}, notOffered("Recipient", "Sealpost has no Nitro Enclaves attestation")
	}
	return kms.DataKeyInput{KeyID: a.str("KeyId"), Context: a.context("EncryptionContext"),
		NumberOfBytes: a.num("NumberOfBytes"), KeySpec: a.str("KeySpec"), GrantTokens: a.strs("GrantTokens"),
		DryRun: a.boolean("DryRun")}, nil
}

func decCreateGrant(a args) (kms.CreateGrantInput, error) {
	for _, n := range []string{"GranteeServicePrincipal", "RetiringServicePrincipal"} {
		if a.has(n) {
			return kms.CreateGrantInput{}, notOffered(n, "Sealpost grants name principals by ARN (GranteePrincipal, RetiringPrincipal)")
		}
	}
	if !a.has("GranteePrincipal") {
		return kms.CreateGrantInput{}, validationError([]string{"Value null at 'granteePrincipal' failed to satisfy constraint: Member must not be null"})
	}
	in := kms.CreateGrantInput{KeyID: a.str("KeyId"), GranteePrincipal: a.str("GranteePrincipal"),
		RetiringPrincipal: a.str("RetiringPrincipal"), Operations: a.strs("Operations"),
		GrantTokens: a.strs("GrantTokens"), Name: a.str("Name"), DryRun: a.boolean("DryRun")}
	if c, ok := a["Constraints"].(constraints); ok {
		if c.hasSourceArn {
			return kms.CreateGrantInput{}, notOffered("Constraints.SourceArn", "grants for AWS services' resources are not offered")
		}
		if c.Subset != nil || c.Equals != nil {
			in.Constraints = &kms.GrantConstraints{EncryptionContextSubset: c.Subset, EncryptionContextEquals: c.Equals}
		}
	}
	return in, nil
}

// ---- calls and output shapes ----

func createKey(ctx context.Context, svc domain, c kms.Caller, in kms.CreateKeyInput, out *jsonWriter) error {
	md, err := svc.CreateKey(ctx, c, in)
	if err != nil {
		return err
	}
	writeKeyMetadata(out, md)
	return nil
}

func describeKey(ctx context.Context, svc domain, c kms.Caller, in describe, out *jsonWriter) error {
	md, err := svc.DescribeKey(ctx, c, in.KeyID, in.GrantTokens)
	if err != nil {
		return err
	}
	writeKeyMetadata(out, md)
	return nil
}

// writeKeyMetadata writes the KeyMetadata member.
func writeKeyMetadata(out *jsonWriter, md kms.KeyMetadata) {
	out.object("KeyMetadata")
	out.str("AWSAccountId", md.AWSAccountID)
	out.str("KeyId", md.KeyID)
	out.str("Arn", md.ARN)
	out.time("CreationDate", md.CreationDate)
	out.boolean("Enabled", md.Enabled)
	out.str("Description", md.Description)
	out.str("KeyUsage", md.KeyUsage)
	out.str("KeyState", md.KeyState)
	out.time("DeletionDate", md.DeletionDate)
	out.optNum("PendingDeletionWindowInDays", md.PendingWindowDays)
	out.str("Origin", md.Origin)
	out.str("KeyManager", md.KeyManager)
	out.str("CustomerMasterKeySpec", md.KeySpec)
	out.str("KeySpec", md.KeySpec)
	out.strs("EncryptionAlgorithms", md.EncryptionAlgorithms)
	out.boolean("MultiRegion", md.MultiRegion)
	out.optStr("CurrentKeyMaterialId", md.CurrentKeyMaterialID)
	out.close()
}

// paging writes NextMarker and Truncated.
func paging(out *jsonWriter, next string) {
	out.optStr("NextMarker", next)
	out.boolean("Truncated", next != "")
}

func listKeys(ctx context.Context, svc domain, c kms.Caller, p kms.Page, out *jsonWriter) error {
	keys, next, err := svc.ListKeys(ctx, c, p)
	if err != nil {
		return err
	}
	out.array("Keys")
	for _, k := range keys {
		out.elem()
		out.str("KeyId", k.KeyID)
		out.str("KeyArn", k.KeyARN)
		out.close()
	}
	out.endArray()
	paging(out, next)
	return nil
}

func listAliases(ctx context.Context, svc domain, c kms.Caller, in keyPage, out *jsonWriter) error {
	aliases, next, err := svc.ListAliases(ctx, c, in.KeyID, in.Page)
	if err != nil {
		return err
	}
	out.array("Aliases")
	for _, al := range aliases {
		out.elem()
		out.str("AliasName", al.AliasName)
		out.str("AliasArn", al.AliasARN)
		out.optStr("TargetKeyId", al.TargetKeyID)
		out.time("CreationDate", al.CreationDate)
		out.time("LastUpdatedDate", al.LastUpdatedDate)
		out.close()
	}
	out.endArray()
	paging(out, next)
	return nil
}

func encrypt(ctx context.Context, svc domain, c kms.Caller, in kms.EncryptInput, out *jsonWriter) error {
	res, err := svc.Encrypt(ctx, c, in)
	clear(in.Plaintext)
	if err != nil {
		return err
	}
	out.blob("CiphertextBlob", res.CiphertextBlob)
	out.str("KeyId", res.KeyARN)
	out.str("EncryptionAlgorithm", algorithm(res.Algorithm))
	return nil
}

func algorithm(a string) string {
	if a == "" {
		return "SYMMETRIC_DEFAULT"
	}
	return a
}

func decrypt(ctx context.Context, svc domain, c kms.Caller, in kms.DecryptInput, out *jsonWriter) error {
	res, err := svc.Decrypt(ctx, c, in)
	if err != nil {
		return err
	}
	out.str("KeyId", res.KeyARN)
	out.blob("Plaintext", res.Plaintext)
	clear(res.Plaintext)
	out.str("EncryptionAlgorithm", algorithm(res.Algorithm))
	return nil
}

func reEncrypt(ctx context.Context, svc domain, c kms.Caller, in kms.ReEncryptInput, out *jsonWriter) error {
	res, err := svc.ReEncrypt(ctx, c, in)
	if err != nil {
		return err
	}
	out.blob("CiphertextBlob", res.CiphertextBlob)
	out.str("SourceKeyId", res.SourceKeyARN)
	out.str("KeyId", res.KeyARN)
	out.str("SourceEncryptionAlgorithm", algorithm(res.SourceAlgorithm))
	out.str("DestinationEncryptionAlgorithm", algorithm(res.DestinationAlgorithm))
	return nil
}

func generateDataKey(ctx context.Context, svc domain, c kms.Caller, in kms.DataKeyInput, out *jsonWriter) error {
	res, err := svc.GenerateDataKey(ctx, c, in)
	if err != nil {
		return err
	}
	out.blob("CiphertextBlob", res.CiphertextBlob)
	out.blob("Plaintext", res.Plaintext)
	clear(res.Plaintext)
	out.str("KeyId", res.KeyARN)
	return nil
}

func generateDataKeyWithoutPlaintext(ctx context.Context, svc domain, c kms.Caller, in kms.DataKeyInput, out *jsonWriter) error {
	res, err := svc.GenerateDataKeyWithoutPlaintext(ctx, c, in)
	if err != nil {
		return err
	}
	clear(res.Plaintext) // nil by contract; wiped should it ever be set
	out.blob("CiphertextBlob", res.CiphertextBlob)
	out.str("KeyId", res.KeyARN)
	return nil
}

func generateRandom(ctx context.Context, svc domain, c kms.Caller, in randomIn, out *jsonWriter) error {
	b, err := svc.GenerateRandom(ctx, c, in.N, in.CustomKeyStoreID)
	if err != nil {
		return err
	}
	out.blob("Plaintext", b)
	clear(b)
	return nil
}

func scheduleKeyDeletion(ctx context.Context, svc domain, c kms.Caller, in deletionIn, out *jsonWriter) error {
	res, err := svc.ScheduleKeyDeletion(ctx, c, in.KeyID, in.Days)
	if err != nil {
		return err
	}
	out.str("KeyId", res.KeyARN)
	out.time("DeletionDate", res.DeletionDate)
	out.str("KeyState", res.KeyState)
	out.optNum("PendingWindowInDays", res.PendingWindowDays)
	return nil
}

func getKeyRotationStatus(ctx context.Context, svc domain, c kms.Caller, in keyIn, out *jsonWriter) error {
	st, err := svc.GetKeyRotationStatus(ctx, c, in.KeyID)
	if err != nil {
		return err
	}
	out.boolean("KeyRotationEnabled", st.Enabled)
	out.str("KeyId", st.KeyARN)
	out.optNum("RotationPeriodInDays", st.PeriodDays)
	out.time("NextRotationDate", st.NextRotationDate)
	out.time("OnDemandRotationStartDate", st.OnDemandStartDate)
	return nil
}

func listKeyRotations(ctx context.Context, svc domain, c kms.Caller, in keyPage, out *jsonWriter) error {
	rots, next, err := svc.ListKeyRotations(ctx, c, in.KeyID, in.Page)
	if err != nil {
		return err
	}
	out.array("Rotations")
	for _, r := range rots {
		out.elem()
		out.str("KeyId", r.KeyARN)
		out.optStr("KeyMaterialId", r.MaterialID)
		out.time("RotationDate", r.RotationDate)
		out.optStr("RotationType", r.RotationType)
		out.close()
	}
	out.endArray()
	paging(out, next)
	return nil
}

func getKeyPolicy(ctx context.Context, svc domain, c kms.Caller, in policyIn, out *jsonWriter) error {
	doc, name, err := svc.GetKeyPolicy(ctx, c, in.KeyID, in.Name)
	if err != nil {
		return err
	}
	out.str("Policy", doc)
	out.str("PolicyName", name)
	return nil
}

func listKeyPolicies(ctx context.Context, svc domain, c kms.Caller, in keyPage, out *jsonWriter) error {
	names, next, err := svc.ListKeyPolicies(ctx, c, in.KeyID, in.Page)
	if err != nil {
		return err
	}
	out.strs("PolicyNames", names)
	paging(out, next)
	return nil
}

func listResourceTags(ctx context.Context, svc domain, c kms.Caller, in keyPage, out *jsonWriter) error {
	tags, next, err := svc.ListResourceTags(ctx, c, in.KeyID, in.Page)
	if err != nil {
		return err
	}
	out.array("Tags")
	for _, t := range tags {
		out.elem()
		out.str("TagKey", t.Key)
		out.str("TagValue", t.Value)
		out.close()
	}
	out.endArray()
	paging(out, next)
	return nil
}

func createGrant(ctx context.Context, svc domain, c kms.Caller, in kms.CreateGrantInput, out *jsonWriter) error {
	token, id, err := svc.CreateGrant(ctx, c, in)
	if err != nil {
		return err
	}
	out.str("GrantToken", token)
	out.str("GrantId", id)
	return nil
}

func listGrants(ctx context.Context, svc domain, c kms.Caller, in listGrantsIn, out *jsonWriter) error {
	grants, next, err := svc.ListGrants(ctx, c, in.KeyID, in.GrantID, in.Grantee, in.Page)
	if err != nil {
		return err
	}
	writeGrants(out, grants, next)
	return nil
}

func listRetirableGrants(ctx context.Context, svc domain, c kms.Caller, in retirableIn, out *jsonWriter) error {
	grants, next, err := svc.ListRetirableGrants(ctx, c, in.Principal, in.Page)
	if err != nil {
		return err
	}
	writeGrants(out, grants, next)
	return nil
}

// writeGrants writes Grants (GrantListEntry) and the paging members.
func writeGrants(out *jsonWriter, grants []kms.GrantEntry, next string) {
	out.array("Grants")
	for _, g := range grants {
		out.elem()
		out.str("KeyId", g.KeyARN)
		out.str("GrantId", g.GrantID)
		out.optStr("Name", g.Name)
		out.time("CreationDate", g.CreationDate)
		out.str("GranteePrincipal", g.GranteePrincipal)
		out.optStr("RetiringPrincipal", g.RetiringPrincipal)
		out.str("IssuingAccount", g.IssuingAccount)
		out.strs("Operations", g.Operations)
		if gc := g.Constraints; gc != nil && (gc.EncryptionContextSubset != nil || gc.EncryptionContextEquals != nil) {
			out.object("Constraints")
			if gc.EncryptionContextSubset != nil {
				out.strMap("EncryptionContextSubset", gc.EncryptionContextSubset)
			}
			if gc.EncryptionContextEquals != nil {
				out.strMap("EncryptionContextEquals", gc.EncryptionContextEquals)
			}
			out.close()
		}
		out.close()
	}
	out.endArray()
	paging(out, next)
}
