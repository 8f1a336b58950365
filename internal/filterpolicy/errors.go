package filterpolicy

import "strconv"

// Scope says what a filter policy is matched against: the subscription
// attribute FilterPolicyScope.
type Scope int

const (
	// ScopeMessageAttributes matches the message attributes (the default).
	ScopeMessageAttributes Scope = iota
	// ScopeMessageBody matches the message body, read as a JSON object.
	ScopeMessageBody
)

// String returns the AWS name of the scope.
func (s Scope) String() string {
	switch s {
	case ScopeMessageAttributes:
		return "MessageAttributes"
	case ScopeMessageBody:
		return "MessageBody"
	}
	return "Scope(" + strconv.Itoa(int(s)) + ")"
}

// ParseScope reads a FilterPolicyScope value. The empty string means the
// default, MessageAttributes. Names are case-sensitive, as in AWS.
func ParseScope(s string) (Scope, error) {
	switch s {
	case "", "MessageAttributes":
		return ScopeMessageAttributes, nil
	case "MessageBody":
		return ScopeMessageBody, nil
	}
	return ScopeMessageAttributes, &Error{
		Param:   "FilterPolicyScope",
		Message: "Invalid value [" + s + "]. Please use either MessageBody or MessageAttributes",
	}
}

// Error is a rejected filter policy or scope.
//
// Message is AWS's text for the problem without any prefix, for example
// "Filter policy can not have more than 5 keys". AWS reports these as the
// InvalidParameter error with a prefix naming the parameter; APIMessage
// builds that full text.
type Error struct {
	// Message is the reason, in AWS's words where they are known.
	Message string
	// Param is the request parameter AWS names before the reason:
	// "FilterPolicy" for almost every error, "FilterPolicyScope" for a bad
	// scope, and "" for the one error AWS reports without a parameter name
	// ("Filter policy scope MessageAttributes does not support nested filter
	// policy").
	Param string
}

func (e *Error) Error() string { return e.Message }

// APIMessage returns the message of the InvalidParameter error AWS sends,
// e.g. "Invalid parameter: FilterPolicy: Filter policy is too complex".
// Subscribe reports problems in its Attributes map with an extra
// "Attributes Reason: " after "Invalid parameter: "; pass viaSubscribe to get
// that form. (AWS also appends a Jackson parser location such as
// "\n at [Source: ...; line: 1, column: 10]" to some messages; that suffix is
// not reproduced.)
func (e *Error) APIMessage(viaSubscribe bool) string {
	msg := "Invalid parameter: "
	if viaSubscribe {
		msg += "Attributes Reason: "
	}
	if e.Param != "" {
		msg += e.Param + ": "
	}
	return msg + e.Message
}

func policyError(msg string) *Error {
	return &Error{Param: "FilterPolicy", Message: msg}
}

// Texts of the errors. Where a text is AWS's own (recorded from AWS
// responses) it is marked so; the others follow the style of the AWS rule
// engine but have not been seen from AWS. The texts built in parse.go for
// unknown match types, string patterns, numeric expressions, anything-but
// objects and values that are neither object nor array are AWS's too.
const (
	errTooManyKeys   = "Filter policy can not have more than 5 keys"                                 // AWS
	errTooComplex    = "Filter policy is too complex"                                                // AWS
	errNestedInAttrs = "Filter policy scope MessageAttributes does not support nested filter policy" // AWS
	errMatchValue    = "Match value must be String, number, true, false, or null"                    // AWS
	errOneKey        = "Only one key allowed in match expression"                                    // AWS
	errExists        = "exists match pattern must be either true or false."                          // AWS
	errEmptyArray    = "Empty arrays are not allowed"
	errEmptyObject   = "Empty objects are not allowed"
	errNotObject     = "Filter policy must be a JSON object"
	errTooLarge      = "Filter policy can not be larger than 256 KB"
	errNotUTF8       = "Filter policy must be a valid UTF-8 string"
	errAnythingBut   = "Value of anything-but must be an array or single string/number value."
	errButListType   = "Inside anything but list, start|null|boolean is not supported."
	errButListMixed  = "Inside anything but list, either all values are number or string, mixed type is not supported"
	errNumericArray  = "Value of numeric must be an array."
	errTooManyElems  = "Too many elements in numeric expression"          // AWS
	errTooManyTerms  = "Too many terms in numeric range expression"       // AWS
	errBottomTop     = "Bottom must be less than top"                     // AWS
	errCIDRSlash     = "Malformed CIDR, one '/' required"                 // as LocalStack words it
	errCIDRBits      = "Malformed CIDR, mask bits must be an integer"     // as LocalStack words it
	errCIDRBitsRange = "Malformed CIDR, mask bits must be between 0 and " // + 32 or 128; unverified
	errNumberRange   = "Numeric values must be between -1000000000 and 1000000000 with at most 5 digits after the decimal point: "
)
