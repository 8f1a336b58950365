package sqs

import (
	"crypto/md5"
	"encoding/binary"
	"encoding/hex"
	"slices"
	"strings"
)

// md5Hex is the hex MD5 of s (MD5OfMessageBody).
func md5Hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

// md5OfAttributes is AWS's digest of message (or message system)
// attributes: for each attribute in byte order of its name, the name, the
// data type and the value, each preceded by its length as a 4-byte
// big-endian integer, with a transport byte (1 for String and Number, 2
// for Binary) between type and value. "" for no attributes.
func md5OfAttributes(attrs map[string]MessageAttribute) string {
	if len(attrs) == 0 {
		return ""
	}
	names := make([]string, 0, len(attrs))
	for n := range attrs {
		names = append(names, n)
	}
	slices.Sort(names)
	h := md5.New()
	var b []byte
	put := func(s []byte) {
		b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
		b = append(b, s...)
	}
	for _, n := range names {
		a := attrs[n]
		b = b[:0]
		put([]byte(n))
		put([]byte(a.DataType))
		if isBinaryType(a.DataType) {
			b = append(b, 2)
			put(a.BinaryValue)
		} else {
			b = append(b, 1)
			put([]byte(a.StringValue))
		}
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func isBinaryType(t string) bool { return strings.HasPrefix(t, "Binary") }
