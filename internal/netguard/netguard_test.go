package netguard

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"testing"
	"time"
)

func mustList(t *testing.T, s string) []netip.Prefix {
	t.Helper()
	l, err := ParseList(s)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestDecisions(t *testing.T) {
	def := Default()
	onlyPrivate := New(mustList(t, "10.0.0.0/8, fd00::/8"), mustList(t, DefaultDeny))
	noLoop := New(nil, mustList(t, DefaultDeny+",127.0.0.0/8,::1"))
	denyWins := New(mustList(t, "0.0.0.0/0,::/0"), mustList(t, "10.1.0.0/16"))
	for _, c := range []struct {
		g    *Guard
		ip   string
		want bool
	}{
		{def, "127.0.0.1", true},
		{def, "::1", true},
		{def, "10.2.3.4", true},
		{def, "192.168.1.1", true},
		{def, "93.184.216.34", true},
		{def, "169.254.169.254", false},
		{def, "::ffff:169.254.169.254", false},
		{def, "fe80::1", false},
		{def, "fe80::1%eth0", false},
		{def, "0.0.0.0", false},
		{def, "::", false},
		{def, "224.0.0.1", false},
		{def, "ff02::1", false},
		{def, "255.255.255.255", false},
		{onlyPrivate, "10.9.9.9", true},
		{onlyPrivate, "fd12::1", true},
		{onlyPrivate, "127.0.0.1", false},
		{onlyPrivate, "8.8.8.8", false},
		{noLoop, "127.0.0.1", false},
		{noLoop, "::ffff:127.0.0.1", false},
		{noLoop, "::1", false},
		{noLoop, "10.0.0.1", true},
		{denyWins, "10.1.2.3", false},
		{denyWins, "10.2.2.3", true},
	} {
		if got := c.g.Allowed(netip.MustParseAddr(c.ip)); got != c.want {
			t.Errorf("%s: allowed=%v, want %v", c.ip, got, c.want)
		}
	}
	if New(nil, nil).Allowed(netip.Addr{}) {
		t.Error("the zero address allowed")
	}
}

func TestParseList(t *testing.T) {
	for _, s := range []string{"", " ", "none", "NONE"} {
		if l, err := ParseList(s); err != nil || l != nil {
			t.Errorf("%q: %v %v", s, l, err)
		}
	}
	l := mustList(t, " 10.1.2.3/8 ,192.168.0.1,::ffff:169.254.0.0/112,")
	want := []string{"10.0.0.0/8", "192.168.0.1/32", "169.254.0.0/16"}
	if len(l) != len(want) {
		t.Fatalf("%v", l)
	}
	for i := range want {
		if l[i].String() != want[i] {
			t.Errorf("entry %d = %s, want %s", i, l[i], want[i])
		}
	}
	for _, bad := range []string{"10.0.0.0/33", "example.com", "10.0.0.0/8,nope", "1.2.3"} {
		if _, err := ParseList(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// TestControlAtDial dials through the guard: the check sees the resolved
// address, so a name (localhost) is judged by what it resolves to.
func TestControlAtDial(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	ok := net.Dialer{Control: Default().Control}
	c, err := ok.DialContext(ctx, "tcp4", net.JoinHostPort("localhost", port))
	if err != nil {
		t.Fatalf("default guard refused loopback: %v", err)
	}
	c.Close()

	deny := net.Dialer{Control: New(nil, mustList(t, "127.0.0.0/8,::1")).Control}
	_, err = deny.DialContext(ctx, "tcp4", net.JoinHostPort("localhost", port))
	if !errors.Is(err, ErrDenied) {
		t.Fatalf("dial to a denied address: %v", err)
	}
}
