package kms

import (
	"errors"
	"unicode/utf8"

	"github.com/sealpost/sealpost/internal/policy"
)

// defaultKeyPolicy is AWS's default key policy for a key of account:
// the account root may do kms:* (which delegates to identity policies).
// The text is AWS's, as GetKeyPolicy returns it.
func defaultKeyPolicy(account string) string {
	return `{
  "Version" : "2012-10-17",
  "Id" : "key-default-1",
  "Statement" : [ {
    "Sid" : "Enable IAM User Permissions",
    "Effect" : "Allow",
    "Principal" : {
      "AWS" : "arn:aws:iam::` + account + `:root"
    },
    "Action" : "kms:*",
    "Resource" : "*"
  } ]
}`
}

// awsManagedKeyPolicy is AWS's key policy of the AWS-managed key of
// service ("sns", "sqs") in account and region: every principal of the
// account may use the key through the service (kms:ViaService,
// kms:CallerAccount), and the account may read the key's metadata and
// revoke grants directly. Statements, actions and conditions as AWS writes
// them for aws/sns (Id auto-sns-1) and aws/sqs (auto-sqs-1).
func awsManagedKeyPolicy(service, account, region string) string {
	title, actions := "SNS", `"kms:Decrypt", "kms:GenerateDataKey*", "kms:CreateGrant", "kms:ListGrants", "kms:DescribeKey"`
	if service == "sqs" {
		title = "Simple Queue Service (SQS)"
		actions = `"kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:CreateGrant", "kms:DescribeKey"`
	}
	return `{
  "Version" : "2012-10-17",
  "Id" : "auto-` + service + `-1",
  "Statement" : [ {
    "Sid" : "Allow access through ` + title + ` for all principals in the account that are authorized to use ` + title + `",
    "Effect" : "Allow",
    "Principal" : {
      "AWS" : "*"
    },
    "Action" : [ ` + actions + ` ],
    "Resource" : "*",
    "Condition" : {
      "StringEquals" : {
        "kms:CallerAccount" : "` + account + `",
        "kms:ViaService" : "` + service + `.` + region + `.amazonaws.com"
      }
    }
  }, {
    "Sid" : "Allow direct access to key metadata to the account",
    "Effect" : "Allow",
    "Principal" : {
      "AWS" : "arn:aws:iam::` + account + `:root"
    },
    "Action" : [ "kms:Describe*", "kms:Get*", "kms:List*", "kms:RevokeGrant" ],
    "Resource" : "*"
  } ]
}`
}

// ownedKeyPolicy is the key policy of the key a service owns in a region
// (SSE-SQS): only that service principal may generate data keys under it
// and decrypt them; nobody may manage it.
func ownedKeyPolicy(service string) string {
	return `{
  "Version" : "2012-10-17",
  "Id" : "sealpost-owned-` + service + `-1",
  "Statement" : [ {
    "Sid" : "Only the service uses its own key",
    "Effect" : "Allow",
    "Principal" : {
      "Service" : "` + service + `.amazonaws.com"
    },
    "Action" : [ "kms:GenerateDataKey", "kms:Decrypt" ],
    "Resource" : "*"
  } ]
}`
}

// checkPolicy validates a key policy document (size, syntax) and, unless
// bypass, that c could still call kms:PutKeyPolicy under it (the lockout
// safety check), for a key of account in c's region whose id is not known
// yet (CreateKey): statements are evaluated against the resource
// arn:aws:kms:<region>:<account>:key/*. Callers that know the key use
// checkKeyPolicy. Errors: ErrValidation (empty, characters outside
// U+0009/000A/000D/0020-00FF), ErrLimitExceeded (over 32768 bytes, AWS's
// key policy quota), ErrMalformedPolicy (syntax, lockout).
func (s *Service) checkPolicy(c Caller, account, doc string, bypass bool) error {
	return s.checkKeyPolicy(c, account, KeyARN(c.Region, account, "*"), doc, bypass)
}

// checkKeyPolicy is checkPolicy for the key with ARN keyARN (PutKeyPolicy).
func (s *Service) checkKeyPolicy(c Caller, account, keyARN, doc string, bypass bool) error {
	if doc == "" {
		return errorf(ErrValidation, "1 validation error detected: Value null at 'policy' failed to satisfy constraint: Member must not be null")
	}
	if len(doc) > maxKeyPolicyBytes {
		return errorf(ErrLimitExceeded, "The key policy is %d bytes, more than the quota of %d bytes", len(doc), maxKeyPolicyBytes)
	}
	for i, r := range doc {
		if r == utf8.RuneError || !(r == '\t' || r == '\n' || r == '\r' || r >= 0x20 && r <= 0xFF) {
			return errorf(ErrValidation, "1 validation error detected: Value at 'policy' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\u0009\\u000A\\u000D\\u0020-\\u00FF]+ (character at byte %d is outside that set)", i)
		}
	}
	p, err := policy.ParseWith([]byte(doc), keyPolicyOptions)
	if err != nil {
		var pe *policy.Error
		if errors.As(err, &pe) {
			return errorf(ErrMalformedPolicy, "The key policy is not valid: %s", pe.Error())
		}
		return errorf(ErrMalformedPolicy, "The key policy is not valid")
	}
	if bypass {
		return nil
	}
	req := s.request(c, keyARN, "kms:PutKeyPolicy", &Access{})
	if _, _, ok := decide(c, account, p, &req); !ok {
		return errorf(ErrMalformedPolicy, "The new key policy will not allow you to update the key policy in the future.")
	}
	return nil
}
