// Package filterpolicy implements Amazon SNS subscription filter policies:
// validation with AWS's limits and error texts, and matching of published
// messages, for both filter policy scopes (MessageAttributes and
// MessageBody).
//
// # Contract
//
// Parse validates a policy and compiles it once. It returns:
//
//   - (nil, nil) for the empty policy: "", blanks, or "{}". AWS removes a
//     subscription's filter when FilterPolicy is set to "{}" (or ""), so
//     callers store nothing. A nil *Policy is valid everywhere and matches
//     every message.
//   - (*Policy, nil) for a valid policy.
//   - (nil, *Error) otherwise. Error.Message carries AWS's reason text
//     (e.g. "Filter policy can not have more than 5 keys"); Error.APIMessage
//     builds the full InvalidParameter message, normally
//     "Invalid parameter: FilterPolicy: " + Message.
//
// A *Policy is immutable after Parse and safe for concurrent use by any
// number of goroutines. Matching never panics, whatever the message, does not
// compile anything, and does not allocate in the steady state except where
// noted (MatchBody copies its []byte argument once; MatchBodyString does
// not).
//
// Match (and MatchString, for a body held as a string) dispatches on the
// scope the policy was parsed for: the message attributes for
// MessageAttributes, the body for MessageBody. MatchAttributes and
// MatchBody/MatchBodyString apply a policy to one side directly. A policy
// never matches a body that is not a JSON object.
//
// MatchMessage matches a Message, which parses its body at most once for
// any number of policies (and not at all if none has the MessageBody
// scope): use it to match one message against many subscriptions' filters.
//
// # Supported policy language
//
// Each key maps to an array of patterns (OR); all keys must match (AND).
// Patterns: exact strings, numbers (compared numerically with five decimal
// places, so 3.015e2 equals 301.5), true, false and null; and the match
// expressions prefix, suffix, equals-ignore-case, wildcard ('*' glob),
// anything-but (a value, a list of strings or of numbers, or an object with
// prefix, suffix, equals-ignore-case or wildcard), numeric (=, <, <=, >, >=,
// or a range such as [">", 0, "<=", 150]), exists and cidr (IPv4 and IPv6).
// "$or" takes an array of at least two sub-policies (nested "$or" allowed);
// otherwise, as in AWS, "$or" is an ordinary key. MessageBody policies may
// nest objects to follow the JSON structure of the body.
//
// Limits enforced by Parse: 256 KB of policy text; at most 5 keys, counting
// only top-level keys (each "$or" alternative counted with the keys beside
// it); at most 150 combinations (see Policy.Complexity); numeric operands
// between -1e9 and 1e9 with at most 5 decimal places; only strings, numbers,
// true, false and null as values; no nesting in MessageAttributes scope; no
// empty arrays or objects; unknown or malformed match expressions rejected.
//
// # Choices where AWS documentation is unclear
//
//   - String.Array attributes: value patterns match if any element matches;
//     anything-but matches if no element is ruled out (current AWS docs).
//     In the body, arrays follow the rule engine: anything-but matches if
//     any element is not ruled out.
//   - Typed matching: string patterns match only strings (String
//     attributes, string elements, body strings); number patterns and
//     numeric ranges only numbers (Number attributes, number elements, body
//     numbers); true/false/null only those JSON literals. anything-but rules
//     out only values of its own type.
//   - Binary attributes, and attributes of unknown types, are treated as
//     absent.
//   - anything-but with suffix, equals-ignore-case and wildcard is accepted
//     (the AWS rule engine supports them; SNS rejected anything-but/suffix in
//     2024).
package filterpolicy
