// Package ipfamily names a cluster's IP families (--ip-family): IPv4 only, IPv6 only, or dual
// stack with both. Platforms, providers and the probe agents read the same values, so a check
// can be run once per family the cluster has.
package ipfamily

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// Family is a cluster's IP family as kind's v1alpha4 config spells it (networking.ipFamily), or
// one address family of it (IPv4, IPv6).
type Family string

// The families. Dual is a cluster's only: an address or a CIDR is IPv4 or IPv6.
const (
	IPv4 Family = "ipv4"
	IPv6 Family = "ipv6"
	Dual Family = "dual"
)

// All returns the cluster families in the order messages list them (ipv4, ipv6, dual); the
// slice is the caller's.
func All() []Family { return []Family{IPv4, IPv6, Dual} }

// Names joins the cluster families for messages: "ipv4, ipv6 or dual".
func Names() string { return "ipv4, ipv6 or dual" }

// Parse reads a cluster family, ignoring case and surrounding space (IP_FAMILY=IPv6 means
// ipv6); anything else is an error naming the value and the families.
func Parse(s string) (Family, error) {
	f := Family(strings.ToLower(strings.TrimSpace(s)))
	if !slices.Contains(All(), f) {
		return "", fmt.Errorf("IP family %q: want %s", s, Names())
	}
	return f, nil
}

// Stacks are the address families a cluster of family f has, IPv4 first: [ipv4], [ipv6] or
// [ipv4 ipv6]. An unknown or empty family is IPv4 only, as every cluster was before --ip-family.
func (f Family) Stacks() []Family {
	switch f {
	case IPv6:
		return []Family{IPv6}
	case Dual:
		return []Family{IPv4, IPv6}
	}
	return []Family{IPv4}
}

// Has says whether a cluster of family f has address family a (Has(IPv6) is true for ipv6 and
// dual).
func (f Family) Has(a Family) bool { return slices.Contains(f.Stacks(), a) }

// Primary is the address family a cluster of family f lists first: IPv4 unless f is ipv6.
func (f Family) Primary() Family { return f.Stacks()[0] }

// Title is the family as people write it: IPv4, IPv6, dual stack.
func (f Family) Title() string {
	switch f {
	case IPv4:
		return "IPv4"
	case IPv6:
		return "IPv6"
	case Dual:
		return "dual stack"
	}
	return string(f)
}

// OfAddr is the address family of an IP address (IPv4-mapped IPv6 addresses count as IPv4);
// ok is false when s is not an address.
func OfAddr(s string) (Family, bool) {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return "", false
	}
	if a.Unmap().Is4() {
		return IPv4, true
	}
	return IPv6, true
}

// OfCIDR is the address family of a CIDR (10.244.0.0/16, fd00:10:244::/56); ok is false when s
// is not one.
func OfCIDR(s string) (Family, bool) {
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return "", false
	}
	if p.Addr().Is4() {
		return IPv4, true
	}
	return IPv6, true
}

// OfCIDRs is the cluster family of a set of CIDRs (a cluster's pod or service subnets): ipv4 or
// ipv6 when all are of one family, dual when both occur; ok is false when one is not a CIDR or
// there is none.
func OfCIDRs(cidrs []string) (Family, bool) {
	var v4, v6 bool
	for _, c := range cidrs {
		f, ok := OfCIDR(c)
		if !ok {
			return "", false
		}
		v4, v6 = v4 || f == IPv4, v6 || f == IPv6
	}
	switch {
	case v4 && v6:
		return Dual, true
	case v6:
		return IPv6, true
	case v4:
		return IPv4, true
	}
	return "", false
}

// SortAddrs orders addresses (or CIDRs) IPv4 first, keeping the order within a family; what is
// neither stays at the end. It returns a new slice.
func SortAddrs(addrs []string) []string {
	out := slices.Clone(addrs)
	rank := func(s string) int {
		f, ok := OfAddr(s)
		if !ok {
			f, ok = OfCIDR(s)
		}
		switch {
		case !ok:
			return 2
		case f == IPv4:
			return 0
		}
		return 1
	}
	slices.SortStableFunc(out, func(a, b string) int { return rank(a) - rank(b) })
	return out
}

// Pick returns the first of addrs (addresses or CIDRs) of address family a, "" when none is.
func Pick(addrs []string, a Family) string {
	for _, s := range addrs {
		f, ok := OfAddr(s)
		if !ok {
			f, ok = OfCIDR(s)
		}
		if ok && f == a {
			return s
		}
	}
	return ""
}
