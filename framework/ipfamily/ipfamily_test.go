package ipfamily

import (
	"slices"
	"testing"
)

func TestParse(t *testing.T) {
	for in, want := range map[string]Family{"ipv4": IPv4, "IPv6": IPv6, " dual ": Dual} {
		if got, err := Parse(in); err != nil || got != want {
			t.Errorf("Parse(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "ipv5", "v4", "dualstack"} {
		_, err := Parse(bad)
		if err == nil || err.Error() != `IP family "`+bad+`": want ipv4, ipv6 or dual` {
			t.Errorf("Parse(%q): %v", bad, err)
		}
	}
}

func TestStacks(t *testing.T) {
	cases := map[Family][]Family{IPv4: {IPv4}, IPv6: {IPv6}, Dual: {IPv4, IPv6}, "": {IPv4}}
	for f, want := range cases {
		if got := f.Stacks(); !slices.Equal(got, want) {
			t.Errorf("%q.Stacks() = %v, want %v", f, got, want)
		}
	}
	if !Dual.Has(IPv6) || IPv4.Has(IPv6) || !IPv6.Has(IPv6) || IPv6.Has(IPv4) {
		t.Error("Has")
	}
	if IPv6.Primary() != IPv6 || Dual.Primary() != IPv4 {
		t.Error("Primary")
	}
}

func TestOf(t *testing.T) {
	for s, want := range map[string]Family{"10.0.0.1": IPv4, "::ffff:10.0.0.1": IPv4, "fd00::1": IPv6} {
		if got, ok := OfAddr(s); !ok || got != want {
			t.Errorf("OfAddr(%q) = %q %v", s, got, ok)
		}
	}
	if _, ok := OfAddr("10.0.0.0/8"); ok {
		t.Error("a CIDR is no address")
	}
	for s, want := range map[string]Family{"10.244.0.0/16": IPv4, "fd00:10:244::/56": IPv6} {
		if got, ok := OfCIDR(s); !ok || got != want {
			t.Errorf("OfCIDR(%q) = %q %v", s, got, ok)
		}
	}
	for _, c := range []struct {
		in   []string
		want Family
		ok   bool
	}{
		{[]string{"10.244.0.0/16"}, IPv4, true},
		{[]string{"fd00:10:244::/56"}, IPv6, true},
		{[]string{"10.244.0.0/16", "fd00:10:244::/56"}, Dual, true},
		{nil, "", false},
		{[]string{"10.244.0.0/16", "x"}, "", false},
	} {
		if got, ok := OfCIDRs(c.in); got != c.want || ok != c.ok {
			t.Errorf("OfCIDRs(%v) = %q %v", c.in, got, ok)
		}
	}
}

func TestSortAndPick(t *testing.T) {
	in := []string{"fd00::2", "x", "10.0.0.2", "fd00::1", "10.0.0.1"}
	if got := SortAddrs(in); !slices.Equal(got, []string{"10.0.0.2", "10.0.0.1", "fd00::2", "fd00::1", "x"}) {
		t.Errorf("SortAddrs = %v", got)
	}
	if in[0] != "fd00::2" {
		t.Error("SortAddrs changed its argument")
	}
	cidrs := []string{"fd00:10:244:1::/64", "10.244.1.0/24"}
	if Pick(cidrs, IPv4) != "10.244.1.0/24" || Pick(cidrs, IPv6) != "fd00:10:244:1::/64" || Pick(cidrs[:1], IPv4) != "" {
		t.Error("Pick")
	}
}
