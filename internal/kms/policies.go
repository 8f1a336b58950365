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
// service ("sns") in account and region: every principal of the account
// may use the key through the service (kms:ViaService, kms:CallerAccount),
// and the account may read the key's metadata and revoke grants directly.
// Statements, actions and conditions as AWS writes them for aws/sns (Id
// auto-sns-1).
func awsManagedKeyPolicy(service, account, region string) string {
	return `{
  "Version" : "2012-10-17",
  "Id" : "auto-` + service + `-1",
  "Statement" : [ {
    "Sid" : "Allow access through ` + managedServiceTitle(service) + ` for all principals in the account that are authorized to use ` + managedServiceTitle(service) + `",
    "Effect" : "Allow",
    "Principal" : {
      "AWS" : "*"
    },
    "Action" : [ "kms:Decrypt", "kms:GenerateDataKey*", "kms:CreateGrant", "kms:ListGrants", "kms:DescribeKey" ],
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

// managedServiceTitle is the service's name in AWS-managed key policies.
func managedServiceTitle(service string) string {
	switch service {
	case "sns":
		return "SNS"
	case "sqs":
		return "SQS"
	}
	return service
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
