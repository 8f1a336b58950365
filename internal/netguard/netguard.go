// Package netguard decides which IP addresses Sealpost may connect to on a
// subscriber's behalf, so that a subscription cannot make Sealpost POST to
// the cloud metadata service or other addresses it should not reach (SSRF).
//
// A Guard holds an allow list and a deny list of CIDR prefixes. An address is
// allowed when no deny prefix contains it and, if the allow list is not
// empty, an allow prefix contains it: deny wins over allow. IPv4-mapped IPv6
// addresses (::ffff:a.b.c.d) are judged as the IPv4 address they carry.
//
// The check belongs at connect time, after DNS resolution: Guard.Control is a
// net.Dialer Control function that sees the address actually being dialled,
// so a name that resolves to an allowed address at Subscribe and to a denied
// one later (DNS rebinding) is still refused.
//
// A Guard is immutable and safe for concurrent use.
package netguard

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"syscall"
)

// DefaultDeny is the deny list used when none is configured: IPv4 and IPv6
// link-local (169.254.169.254 is the cloud metadata service), the
// unspecified/"this network" ranges, broadcast and multicast. Loopback and
// private ranges stay allowed: Sealpost's default use is a laptop or CI job
// delivering to a local process.
const DefaultDeny = "169.254.0.0/16,fe80::/10,0.0.0.0/8,::/128,255.255.255.255/32,224.0.0.0/4,ff00::/8"

// ErrDenied is wrapped by every refusal.
var ErrDenied = errors.New("address not allowed")

// Guard decides allow/deny for IP addresses.
type Guard struct {
	allow []netip.Prefix // empty = everything not denied
	deny  []netip.Prefix
}

// ParseList parses a comma-separated list of CIDR prefixes or single
// addresses (a bare address is its /32 or /128). Blanks around entries are
// ignored; "" and "none" give an empty list.
func ParseList(s string) ([]netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if s == "" || strings.EqualFold(s, "none") {
		return nil, nil
	}
	var out []netip.Prefix
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		var p netip.Prefix
		var err error
		if strings.Contains(f, "/") {
			p, err = netip.ParsePrefix(f)
		} else {
			var a netip.Addr
			a, err = netip.ParseAddr(f)
			if err == nil {
				p = netip.PrefixFrom(a, a.BitLen())
			}
		}
		if err != nil {
			return nil, fmt.Errorf("%q is not a CIDR prefix like 10.0.0.0/8 or fd00::/8", f)
		}
		p = p.Masked()
		if p.Addr().Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		out = append(out, p)
	}
	return out, nil
}

// New returns a guard. An empty allow list allows every address not denied.
func New(allow, deny []netip.Prefix) *Guard {
	return &Guard{allow: append([]netip.Prefix(nil), allow...), deny: append([]netip.Prefix(nil), deny...)}
}

// Default returns the guard with DefaultDeny and no allow list.
func Default() *Guard {
	deny, err := ParseList(DefaultDeny)
	if err != nil {
		panic(err) // a constant
	}
	return New(nil, deny)
}

// Allowed reports whether ip may be connected to.
func (g *Guard) Allowed(ip netip.Addr) bool {
	if !ip.IsValid() {
		return false
	}
	ip = ip.Unmap().WithZone("")
	for _, p := range g.deny {
		if p.Contains(ip) {
			return false
		}
	}
	if len(g.allow) == 0 {
		return true
	}
	for _, p := range g.allow {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// Check returns an error wrapping ErrDenied when ip is not allowed.
func (g *Guard) Check(ip netip.Addr) error {
	if g.Allowed(ip) {
		return nil
	}
	return fmt.Errorf("%w: %s", ErrDenied, ip.Unmap())
}

// Control is a net.Dialer Control function: it refuses to connect to an
// address the guard does not allow. address is the resolved "ip:port".
func (g *Guard) Control(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: cannot judge %q", ErrDenied, address)
	}
	return g.Check(ap.Addr())
}
