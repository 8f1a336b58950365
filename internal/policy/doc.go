// Package policy implements the AWS IAM policy language: it parses and
// validates policy documents, compiles them once, and evaluates requests
// against them. It is a mechanism package: it knows no service, action
// catalogue or store. SNS topic policies, identity policies of users, KMS key
// policies and SQS queue policies all go through it.
//
// # Contract
//
// Parse (or ParseWith, to choose a Kind and limits) returns a *Policy or an
// *Error. Every error matches ErrInvalid; its text names the statement
// ("Statement[2] (Sid \"AllowB\"): ...", index 0-based; the document itself
// when no statement is at fault) and the problem, and is written to be shown
// to callers after a service prefix such as "Invalid parameter: Policy
// Error: ".
//
// A *Policy is immutable and safe for concurrent use by any number of
// goroutines. Evaluate neither parses JSON nor compiles anything; it does
// not allocate except when a policy variable or condition needs a request
// value in a form the Request does not hold (aws:CurrentTime compared as a
// string, aws:SourceIp compared with a String operator). A nil *Policy
// evaluates to NotApplicable.
//
// # Documents
//
// Strict JSON: one object, UTF-8, no duplicate member names, at most 6
// levels deep (the deepest legal policy), at most Options.MaxBytes
// (DefaultMaxBytes, 128 KiB, unless set). Element names are case-sensitive;
// unknown elements are errors.
//
//   - Version: "2012-10-17" or "2008-10-17", or absent (then 2008-10-17
//     rules apply: policy variables are literal text, as in AWS).
//   - Id: any string. Statement: one object or a non-empty list; never null.
//   - Sid: optional, unique within the policy when present.
//   - Effect: "Allow" or "Deny" (case-sensitive).
//   - Principal / NotPrincipal (at most one): "*", or an object with "AWS"
//     and/or "Service", each a string or a non-empty list. AWS values: "*",
//     a 12-digit account id, arn:PARTITION:iam::ACCOUNT:root (same as the
//     account id), arn:...:iam::ACCOUNT:user/... or role/..., or
//     arn:...:sts::ACCOUNT:assumed-role/... or federated-user/...; no other
//     wildcards. Service values: a service principal name such as
//     sns.amazonaws.com. Federated and CanonicalUser principals are
//     refused. Kind ResourcePolicy requires one of the two in each
//     statement; IdentityPolicy forbids both; AnyKind allows either, and a
//     statement without one applies to every principal.
//   - Action / NotAction (exactly one): "*" or service:name, where name may
//     use '*' and '?'; matched case-insensitively.
//   - Resource / NotResource (exactly one): "*" or text starting with
//     "arn:"; '*' and '?' wildcards and (2012-10-17) policy variables;
//     matched case-sensitively, like ArnLike (below).
//   - Condition: {operator: {key: value or [values]}}; values are strings,
//     numbers or booleans (read as their JSON text). Unknown operators, a
//     key named twice in one operator (keys ignore case), and values that
//     do not parse for their operator (numbers, dates, IP blocks, booleans,
//     base64) are errors.
//
// # Evaluation
//
// Evaluate returns Deny if any statement with Effect Deny applies; else
// Allow if any statement with Effect Allow applies directly; else
// AllowAccount if an Allow statement applies only through an account
// principal (see below); else NotApplicable (AWS's default deny). Statement
// order does not matter. A statement applies when all of these hold:
//
//   - Principal: "*" (and {"AWS": "*"}) matches every caller, including
//     anonymous callers and service principals. A user, role or session ARN
//     matches a Principal with exactly that ARN (an assumed-role session is
//     not matched by its role's ARN). An account entry (a 12-digit id or
//     arn:...:iam::ACCOUNT:root) matches every non-service principal of
//     that account, but only at account level: AWS reads it as delegating
//     to the account, whose identity policies must also allow, so an Allow
//     statement matched that way yields AllowAccount (a Deny statement
//     matched that way denies). A Service entry matches only a Principal
//     with that Service (case-insensitive), and service principals match
//     nothing else but "*". NotPrincipal applies, directly, to every caller
//     that its entries do not match. A statement without either applies
//     directly to every caller (identity policies).
//   - Action: some entry matches (NotAction: none does).
//   - Resource: some entry matches (NotResource: none does). A pattern with
//     six colon-separated parts is matched part by part, so a wildcard never
//     crosses a ':' except inside the sixth part; shorter patterns
//     ("arn:aws:sns:*") match the whole text.
//   - Condition: every (operator, key) pair holds (AND); several values for
//     one key are alternatives (OR).
//
// # Conditions
//
// Operators: StringEquals, StringNotEquals, StringEqualsIgnoreCase,
// StringNotEqualsIgnoreCase, StringLike, StringNotLike ('*', '?');
// ArnEquals, ArnLike, ArnNotEquals, ArnNotLike (identical pairs, as in AWS:
// case-sensitive, part by part, wildcards allowed); NumericEquals,
// NumericNotEquals, NumericLessThan, NumericLessThanEquals,
// NumericGreaterThan, NumericGreaterThanEquals; DateEquals, DateNotEquals,
// DateLessThan, DateLessThanEquals, DateGreaterThan, DateGreaterThanEquals
// (ISO 8601 with or without time and zone, or epoch seconds); Bool;
// IpAddress, NotIpAddress (IPv4 and IPv6 CIDR blocks or single addresses;
// IPv4-mapped IPv6 addresses count as IPv4); BinaryEquals (base64 text);
// Null. Operator names are case-sensitive; condition key names are not.
//
// Each operator but Null takes the suffix IfExists and the prefixes
// ForAnyValue: and ForAllValues:. For one key with request values R and
// policy values P, where "r matches" means r matches some value in P:
//
//	key absent (no values)   IfExists: true; ForAllValues: true;
//	                         ForAnyValue: false; plain: false, and true
//	                         for a negated operator (StringNotEquals, ...)
//	plain                    some r matches; negated: no r matches
//	ForAnyValue:             some r matches; negated: some r matches none
//	ForAllValues:            every r matches; negated: every r matches none
//	Null                     "true": the key is absent; "false": present
//
// So StringNotEquals with [a, b] holds for values other than a and b. A
// request value that cannot be read as the operator's type (a Numeric
// operator given "abc") makes the condition false, also for negated
// operators.
//
// Policy variables (Version 2012-10-17 only), in Resource and in the values
// of String and Arn operators: ${key} takes the key's value from the
// request, which must have exactly one; ${key, 'default'} falls back to the
// default; ${*}, ${?} and ${$} are a literal '*', '?' and '$'. A substituted
// value matches literally (its '*' is not a wildcard). A variable that
// cannot be resolved makes the pattern holding it match nothing, so a
// StringNotEquals on it holds.
//
// # Requests
//
// A Request carries the Principal, the Action (such as "sns:Publish"), the
// Resource ARN and the condition context. Request derives several global
// keys (aws:PrincipalAccount, aws:PrincipalArn, aws:username, aws:SourceIp,
// aws:SecureTransport, aws:CurrentTime, ...) from its typed fields, so that
// a caller need not format them per request; Context entries override them.
//
// # Editing documents
//
// AddStatement and RemoveStatement (by Sid) edit a stored document the way
// AddPermission and RemovePermission need: Statement may be one object or a
// list, the result always has a list, other statements keep their text, and
// the result is validated. Removing the last statement leaves
// {"Statement":[]}, which Parse refuses: the caller then has no policy.
//
// # Combining policies
//
// Decide(identity, resource, sameAccount) combines an identity policy's and
// a resource policy's decisions as AWS does: an explicit Deny in either
// wins; a resource AllowAccount counts only when the identity policy allows
// too; otherwise, in the resource owner's account either Allow suffices,
// and across accounts both must allow. DecideResourceRequired is the
// variant for resources whose policy must always allow, even in their own
// account (KMS key policies, role trust policies).
//
// A principal with no identity policy (the development default "may do
// everything in its own account", as an account's root user) is passed as
// identity = Allow: it then reaches resources of its own account, and
// resources of other accounts whose policy grants it or its account. A
// resource with no policy is passed as resource = NotApplicable. Service
// principals have no identity policy: pass identity = NotApplicable, so that
// only a direct grant in the resource policy lets them in.
package policy
