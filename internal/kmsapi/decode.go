package kmsapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/sealpost/sealpost/internal/kms"
)

// The request decoder. Each action declares its input members as data
// (member: wire name, shape, required) with the shapes and constraints of
// the botocore model kms-2014-11-01.json. decode reads a body in two steps,
// as AWS does:
//
//  1. Serialization: the body must be a JSON object; each known member must
//     have its JSON type (string, integer, boolean, base64 string for blobs,
//     array, object). A failure is SerializationException. Unknown members
//     and null values are ignored (null = absent).
//  2. Validation: required members, lengths, ranges, patterns and enums; all
//     failures are reported in one ValidationException in AWS's wording
//     ("1 validation error detected: Value null at 'keyId' failed to satisfy
//     constraint: Member must not be null").
//
// Strings must not contain NUL (the store's identities cannot hold it);
// encryption context keys and values may.

// kind is a member's wire type.
type kind int

const (
	kString kind = iota
	kInt
	kBool
	kBlob
	kStrings     // list of strings
	kContext     // map of string to string
	kTags        // list of {TagKey, TagValue}
	kConstraints // GrantConstraints
	kObject      // a structure Sealpost only checks for presence (Recipient)
)

// pattern is a model pattern: its text (for messages) and a Go regexp with
// Java's whole-string match semantics.
type pattern struct {
	text string
	re   *regexp.Regexp
}

func pat(modelText, goRE string) *pattern {
	return &pattern{text: modelText, re: regexp.MustCompile(`^(?:` + goRE + `)$`)}
}

// shape is a model shape with its constraints. min and max are lengths
// (strings in characters, blobs in bytes, lists in elements) or values
// (integers); max < 0 means unbounded.
type shape struct {
	kind      kind
	min, max  int
	pattern   *pattern
	enum      []string
	sensitive bool   // never echoed in messages
	elem      *shape // element shape of kStrings
}

// member is one input member of an action.
type member struct {
	name     string // wire name, e.g. "KeyId"
	path     string // its name in validation messages, e.g. "keyId"
	shape    shape
	required bool
}

func opt(name string, s shape) member { return member{name: name, path: lowerFirst(name), shape: s} }
func req(name string, s shape) member {
	return member{name: name, path: lowerFirst(name), shape: s, required: true}
}

func str(min, max int) shape { return shape{kind: kString, min: min, max: max} }
func enum(vals ...string) shape {
	return shape{kind: kString, min: 0, max: -1, enum: vals}
}

// Shapes of the model used by the actions Sealpost serves.
var (
	keyIDType       = str(1, 2048)
	grantTokenType  = shape{kind: kString, min: 1, max: 8192, sensitive: true}
	grantTokenList  = shape{kind: kStrings, min: 0, max: 10, elem: &grantTokenType}
	plaintextType   = shape{kind: kBlob, min: 1, max: 4096, sensitive: true}
	ciphertextType  = shape{kind: kBlob, min: 1, max: 6144, sensitive: true}
	contextType     = shape{kind: kContext, max: -1}
	boolType        = shape{kind: kBool, max: -1}
	objectType      = shape{kind: kObject, max: -1}
	tagList         = shape{kind: kTags, max: -1}
	constraintsType = shape{kind: kConstraints, max: -1}
	encAlgType      = enum("SYMMETRIC_DEFAULT", "RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256", "SM2PKE")
	dryRunModType   = enum("IGNORE_CIPHERTEXT")
	dryRunModList   = shape{kind: kStrings, min: 0, max: -1, elem: &dryRunModType}
	limitType       = shape{kind: kInt, min: 1, max: 1000}
	markerType      = shape{kind: kString, min: 1, max: 1024, pattern: pat(`[\u0020-\u00FF]*`, `[\x{20}-\x{FF}]*`)}
	aliasNameType   = shape{kind: kString, min: 1, max: 256, pattern: pat(`^[a-zA-Z0-9:/_-]+$`, `[a-zA-Z0-9:/_-]+`)}
	policyType      = shape{kind: kString, min: 1, max: 131072, pattern: pat(`[\u0009\u000A\u000D\u0020-\u00FF]+`, `[\x{09}\x{0A}\x{0D}\x{20}-\x{FF}]+`)}
	policyNameType  = shape{kind: kString, min: 1, max: 128, pattern: pat(`[\w]+`, `[\w]+`)}
	descriptionType = str(0, 8192)
	keyUsageType    = enum("SIGN_VERIFY", "ENCRYPT_DECRYPT", "GENERATE_VERIFY_MAC", "KEY_AGREEMENT")
	cmkSpecType     = enum("RSA_2048", "RSA_3072", "RSA_4096", "ECC_NIST_P256", "ECC_NIST_P384", "ECC_NIST_P521", "ECC_SECG_P256K1", "SYMMETRIC_DEFAULT", "HMAC_224", "HMAC_256", "HMAC_384", "HMAC_512", "SM2")
	keySpecType     = enum("RSA_2048", "RSA_3072", "RSA_4096", "ECC_NIST_P256", "ECC_NIST_P384", "ECC_NIST_P521", "ECC_SECG_P256K1", "SYMMETRIC_DEFAULT", "HMAC_224", "HMAC_256", "HMAC_384", "HMAC_512", "SM2", "ML_DSA_44", "ML_DSA_65", "ML_DSA_87", "ECC_NIST_EDWARDS25519")
	originType      = enum("AWS_KMS", "EXTERNAL", "AWS_CLOUDHSM", "EXTERNAL_KEY_STORE")
	customStoreType = str(1, 64)
	xksKeyIDType    = shape{kind: kString, min: 1, max: 128, pattern: pat(`^[a-zA-Z0-9-_.]+$`, `[a-zA-Z0-9\-_.]+`)}
	numberOfBytes   = shape{kind: kInt, min: 1, max: 1024}
	dataKeySpecType = enum("AES_256", "AES_128")
	pendingWindow   = shape{kind: kInt, min: 1, max: 365}
	rotationPeriod  = shape{kind: kInt, min: 90, max: 2560}
	includeMaterial = enum("ALL_KEY_MATERIAL", "ROTATIONS_ONLY")
	tagKeyType      = str(1, 128)
	tagValueType    = str(0, 256)
	tagKeyList      = shape{kind: kStrings, min: 0, max: -1, elem: &tagKeyType}
	principalType   = shape{kind: kString, min: 1, max: 256, pattern: pat(`^[\w+=,.@:/-]+$`, `[\w+=,.@:/-]+`)}
	servicePrinType = shape{kind: kString, min: 1, max: 128, pattern: pat(`^([A-Za-z0-9\-]+)\.([A-Za-z0-9\-]+)(\.[A-Za-z0-9\-]+)+$`, `([A-Za-z0-9\-]+)\.([A-Za-z0-9\-]+)(\.[A-Za-z0-9\-]+)+`)}
	grantOpType     = enum("Decrypt", "Encrypt", "GenerateDataKey", "GenerateDataKeyWithoutPlaintext", "ReEncryptFrom", "ReEncryptTo", "Sign", "Verify", "GetPublicKey", "CreateGrant", "RetireGrant", "DescribeKey", "GenerateDataKeyPair", "GenerateDataKeyPairWithoutPlaintext", "GenerateMac", "VerifyMac", "DeriveSharedSecret")
	grantOpList     = shape{kind: kStrings, min: 0, max: -1, elem: &grantOpType}
	grantNameType   = shape{kind: kString, min: 1, max: 256, pattern: pat(`^[a-zA-Z0-9:/_-]+$`, `[a-zA-Z0-9:/_-]+`)}
	grantIDType     = str(1, 128)
	sourceArnType   = shape{kind: kString, min: 20, max: 512, pattern: pat(`^arn:aws[a-z0-9-]*:[a-z0-9-]+:[a-z0-9-]*:[0-9]{12}:.+$`, `arn:aws[a-z0-9-]*:[a-z0-9-]+:[a-z0-9-]*:[0-9]{12}:.+`)}
)

// args are a decoded request: member name to value (string, int, bool,
// []byte, []string, map[string]string, []kms.Tag, constraints or
// struct{}). Absent members are missing.
type args map[string]any

func (a args) str(n string) string {
	s, _ := a[n].(string)
	return s
}

func (a args) num(n string) int {
	i, _ := a[n].(int)
	return i
}

func (a args) boolean(n string) bool {
	b, _ := a[n].(bool)
	return b
}

func (a args) blob(n string) []byte {
	b, _ := a[n].([]byte)
	return b
}

func (a args) strs(n string) []string {
	s, _ := a[n].([]string)
	return s
}

func (a args) context(n string) map[string]string {
	m, _ := a[n].(map[string]string)
	return m
}

func (a args) tags(n string) []kms.Tag {
	t, _ := a[n].([]kms.Tag)
	return t
}

func (a args) has(n string) bool {
	_, ok := a[n]
	return ok
}

func (a args) page() kms.Page { return kms.Page{Limit: a.num("Limit"), Marker: a.str("Marker")} }

// constraints is a decoded GrantConstraints.
type constraints struct {
	Subset, Equals map[string]string
	SourceArn      string
	hasSourceArn   bool
}

// wipe clears the decoded secrets (blobs) of a.
func (a args) wipe() {
	for _, v := range a {
		if b, ok := v.([]byte); ok {
			clear(b)
		}
	}
}

// serializationError is AWS's answer to a body or member of the wrong type.
func serializationError(format string, v ...any) *apiError {
	return &apiError{code: "SerializationException", status: 400, msg: fmt.Sprintf(format, v...)}
}

// validationError joins constraint failures into AWS's message.
func validationError(fails []string) *apiError {
	s := "s"
	if len(fails) == 1 {
		s = ""
	}
	return &apiError{code: "ValidationException", status: 400,
		msg: fmt.Sprintf("%d validation error%s detected: %s", len(fails), s, strings.Join(fails, "; "))}
}

// decode reads body against ms (see the comment at the top of the file).
func decode(ms []member, body []byte) (args, error) {
	a, ok := fastArgs(ms, body)
	if !ok {
		var err error
		if a, err = slowArgs(ms, body); err != nil {
			return nil, err
		}
	}
	return validate(ms, a)
}

// slowArgs is the first step of decode for any body (see fastdecode.go for
// the fast path).
func slowArgs(ms []member, body []byte) (args, error) {
	var obj map[string]json.RawMessage
	if len(bytes.TrimSpace(body)) > 0 {
		if err := json.Unmarshal(body, &obj); err != nil {
			return nil, serializationError("The request body is not a valid JSON object.")
		}
	}
	a := args{}
	for _, m := range ms {
		raw, ok := obj[m.name]
		if !ok || string(raw) == "null" {
			continue
		}
		v, err := decodeValue(m.shape, raw)
		if m.shape.kind == kBlob {
			clear(raw) // the map held a copy of the base64 text
		}
		if err != nil {
			a.wipe()
			return nil, serializationError("Cannot deserialize member '%s': %s.", m.name, err)
		}
		a[m.name] = v
	}
	return a, nil
}

// validate is the second step of decode.
func validate(ms []member, a args) (args, error) {
	var fails []string
	for _, m := range ms {
		path := m.path
		v, ok := a[m.name]
		if !ok {
			if m.required {
				fails = append(fails, "Value null at '"+path+"' failed to satisfy constraint: Member must not be null")
			}
			continue
		}
		fails = check(fails, m.shape, path, v)
	}
	if len(fails) > 0 {
		a.wipe()
		return nil, validationError(fails)
	}
	for n, v := range a {
		if tags, ok := v.([]tagIn); ok {
			out := make([]kms.Tag, len(tags))
			for i, t := range tags {
				out[i] = kms.Tag{Key: *t.key, Value: *t.value}
			}
			a[n] = out
		}
	}
	return a, nil
}

// decodeValue decodes one non-null member value of shape s.
func decodeValue(s shape, raw json.RawMessage) (any, error) {
	switch s.kind {
	case kString:
		var v string
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, fmt.Errorf("expected a string")
		}
		return v, nil
	case kInt:
		if raw[0] != '-' && (raw[0] < '0' || raw[0] > '9') {
			return nil, fmt.Errorf("expected an integer")
		}
		n, err := strconv.ParseInt(string(raw), 10, 32)
		if err != nil {
			return nil, fmt.Errorf("expected a 32-bit integer")
		}
		return int(n), nil
	case kBool:
		var v bool
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, fmt.Errorf("expected a boolean")
		}
		return v, nil
	case kBlob:
		if raw[0] != '"' {
			return nil, fmt.Errorf("expected a base64-encoded string")
		}
		var v []byte // encoding/json decodes base64 straight into it
		if err := json.Unmarshal(raw, &v); err != nil {
			clear(v)
			return nil, fmt.Errorf("expected a base64-encoded string")
		}
		if v == nil {
			v = []byte{}
		}
		return v, nil
	case kStrings:
		var v []*string
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, fmt.Errorf("expected a list of strings")
		}
		out := make([]string, len(v))
		for i, p := range v {
			if p == nil {
				return nil, fmt.Errorf("a list element is null")
			}
			out[i] = *p
		}
		return out, nil
	case kContext:
		var v map[string]*string
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, fmt.Errorf("expected a map of strings to strings")
		}
		out := make(map[string]string, len(v))
		for k, p := range v {
			if p == nil {
				return nil, fmt.Errorf("a map value is null")
			}
			out[k] = *p
		}
		return out, nil
	case kTags:
		var v []map[string]json.RawMessage
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, fmt.Errorf("expected a list of tags")
		}
		out := make([]tagIn, len(v))
		for i, t := range v {
			for _, f := range []struct {
				name string
				dst  **string
			}{{"TagKey", &out[i].key}, {"TagValue", &out[i].value}} {
				r, ok := t[f.name]
				if !ok || string(r) == "null" {
					continue
				}
				var s string
				if err := json.Unmarshal(r, &s); err != nil {
					return nil, fmt.Errorf("%s of a tag: expected a string", f.name)
				}
				*f.dst = &s
			}
		}
		return out, nil
	case kConstraints:
		var v map[string]json.RawMessage
		if err := json.Unmarshal(raw, &v); err != nil || raw[0] != '{' {
			return nil, fmt.Errorf("expected a structure")
		}
		var c constraints
		for _, f := range []struct {
			name string
			dst  *map[string]string
		}{{"EncryptionContextSubset", &c.Subset}, {"EncryptionContextEquals", &c.Equals}} {
			if r, ok := v[f.name]; ok && string(r) != "null" {
				m, err := decodeValue(contextType, r)
				if err != nil {
					return nil, fmt.Errorf("%s: %w", f.name, err)
				}
				*f.dst = m.(map[string]string)
			}
		}
		if r, ok := v["SourceArn"]; ok && string(r) != "null" {
			if err := json.Unmarshal(r, &c.SourceArn); err != nil {
				return nil, fmt.Errorf("SourceArn: expected a string")
			}
			c.hasSourceArn = true
		}
		return c, nil
	case kObject:
		var v map[string]json.RawMessage
		if err := json.Unmarshal(raw, &v); err != nil || raw[0] != '{' {
			return nil, fmt.Errorf("expected a structure")
		}
		return struct{}{}, nil
	}
	return nil, fmt.Errorf("unknown shape")
}

// tagIn is a decoded Tag before validation (nil = absent).
type tagIn struct{ key, value *string }

// check appends the constraint failures of value v of shape s at path.
func check(fails []string, s shape, path string, v any) []string {
	switch s.kind {
	case kString:
		return checkString(fails, s, path, v.(string))
	case kInt:
		n := v.(int)
		if n < s.min {
			fails = append(fails, fmt.Sprintf("Value '%d' at '%s' failed to satisfy constraint: Member must have value greater than or equal to %d", n, path, s.min))
		}
		if s.max >= 0 && n > s.max {
			fails = append(fails, fmt.Sprintf("Value '%d' at '%s' failed to satisfy constraint: Member must have value less than or equal to %d", n, path, s.max))
		}
	case kBlob:
		fails = checkLen(fails, s, path, "", len(v.([]byte)))
	case kStrings:
		l := v.([]string)
		fails = checkLen(fails, s, path, "", len(l))
		if s.elem.enum != nil {
			// AWS reports an enum failure of a list once, for the list.
			for _, e := range l {
				if !contains(s.elem.enum, e) {
					fails = append(fails, fmt.Sprintf("Value '[%s]' at '%s' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: [%s]]",
						clip(strings.Join(l, ", ")), path, strings.Join(s.elem.enum, ", ")))
					break
				}
			}
			return fails
		}
		for i, e := range l {
			fails = checkString(fails, *s.elem, fmt.Sprintf("%s.%d.member", path, i+1), e)
		}
	case kTags:
		tags := v.([]tagIn)
		for i, t := range tags {
			p := fmt.Sprintf("%s.%d.member", path, i+1)
			if t.key == nil {
				fails = append(fails, "Value null at '"+p+".tagKey' failed to satisfy constraint: Member must not be null")
			} else {
				fails = checkString(fails, tagKeyType, p+".tagKey", *t.key)
			}
			if t.value == nil {
				fails = append(fails, "Value null at '"+p+".tagValue' failed to satisfy constraint: Member must not be null")
			} else {
				fails = checkString(fails, tagValueType, p+".tagValue", *t.value)
			}
		}
	case kConstraints:
		c := v.(constraints)
		if c.hasSourceArn {
			fails = checkString(fails, sourceArnType, path+".sourceArn", c.SourceArn)
		}
	}
	return fails
}

func checkString(fails []string, s shape, path, v string) []string {
	n := utf8.RuneCountInString(v)
	// val is the message prefix, built only when a constraint fails.
	val := func() string {
		if s.sensitive || n > 256 {
			return "Value at '" + path + "'"
		}
		return "Value '" + clip(v) + "' at '" + path + "'"
	}
	if n < s.min || s.max >= 0 && n > s.max {
		fails = checkLen(fails, s, path, val(), n)
	}
	if s.pattern != nil && n >= s.min && (s.max < 0 || n <= s.max) && !s.pattern.re.MatchString(v) {
		fails = append(fails, val()+" failed to satisfy constraint: Member must satisfy regular expression pattern: "+s.pattern.text)
	}
	if s.enum != nil && !contains(s.enum, v) {
		fails = append(fails, val()+" failed to satisfy constraint: Member must satisfy enum value set: ["+strings.Join(s.enum, ", ")+"]")
	}
	if strings.IndexByte(v, 0) >= 0 {
		fails = append(fails, "Value at '"+path+"' failed to satisfy constraint: Member must not contain NUL characters")
	}
	return fails
}

// checkLen checks a length; val is the "Value '...' at 'path'" prefix
// ("" = without the value).
func checkLen(fails []string, s shape, path, val string, n int) []string {
	if n >= s.min && (s.max < 0 || n <= s.max) {
		return fails
	}
	if val == "" {
		val = "Value at '" + path + "'"
	}
	if n < s.min {
		fails = append(fails, fmt.Sprintf("%s failed to satisfy constraint: Member must have length greater than or equal to %d", val, s.min))
	}
	if s.max >= 0 && n > s.max {
		fails = append(fails, fmt.Sprintf("%s failed to satisfy constraint: Member must have length less than or equal to %d", val, s.max))
	}
	return fails
}

func contains(l []string, s string) bool {
	for _, e := range l {
		if e == s {
			return true
		}
	}
	return false
}

// clip shortens a value echoed in a message.
func clip(s string) string {
	if len(s) <= 256 {
		return s
	}
	i := 256
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "..."
}

// lowerFirst is the member's name in validation messages ("keyId").
func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}
