package kube

import (
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/netconform/netconform/framework/ipfamily"
)

func apiNode(podCIDRs []string, addrs ...string) *corev1.Node {
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1"}}
	if len(podCIDRs) > 0 {
		n.Spec.PodCIDR, n.Spec.PodCIDRs = podCIDRs[0], podCIDRs
	}
	n.Status.Addresses = append(n.Status.Addresses, corev1.NodeAddress{Type: corev1.NodeHostName, Address: "n1"})
	for _, a := range addrs {
		n.Status.Addresses = append(n.Status.Addresses, corev1.NodeAddress{Type: corev1.NodeInternalIP, Address: a})
	}
	return n
}

// NodeFrom pairs the primary pod CIDR with the InternalIP of its family, and keeps every
// family's addresses and pod CIDRs, IPv4 first for the addresses.
func TestNodeFromFamilies(t *testing.T) {
	cases := []struct {
		name       string
		node       *corev1.Node
		internalIP string
		ips, cidrs []string
	}{
		{"ipv4", apiNode([]string{"10.244.1.0/24"}, "172.18.0.3"), "172.18.0.3", []string{"172.18.0.3"}, []string{"10.244.1.0/24"}},
		{"ipv6", apiNode([]string{"fd00:10:244:1::/64"}, "fc00:f853:ccd:e793::3"), "fc00:f853:ccd:e793::3",
			[]string{"fc00:f853:ccd:e793::3"}, []string{"fd00:10:244:1::/64"}},
		{"dual, IPv6 address listed first", apiNode([]string{"10.244.1.0/24", "fd00:10:244:1::/64"}, "fc00::3", "172.18.0.3"), "172.18.0.3",
			[]string{"172.18.0.3", "fc00::3"}, []string{"10.244.1.0/24", "fd00:10:244:1::/64"}},
		{"dual, IPv6 primary", apiNode([]string{"fd00:10:244:1::/64", "10.244.1.0/24"}, "172.18.0.3", "fc00::3"), "fc00::3",
			[]string{"172.18.0.3", "fc00::3"}, []string{"fd00:10:244:1::/64", "10.244.1.0/24"}},
		{"no pod CIDR yet", apiNode(nil, "fc00::3", "172.18.0.3"), "172.18.0.3", []string{"172.18.0.3", "fc00::3"}, nil},
		{"no pod CIDR yet, IPv6 only", apiNode(nil, "fc00::3"), "fc00::3", []string{"fc00::3"}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n := NodeFrom(c.node)
			if n.InternalIP != c.internalIP || !slices.Equal(n.InternalIPs, c.ips) || !slices.Equal(n.PodCIDRs, c.cidrs) {
				t.Errorf("InternalIP %q InternalIPs %v PodCIDRs %v; want %q %v %v", n.InternalIP, n.InternalIPs, n.PodCIDRs, c.internalIP, c.ips, c.cidrs)
			}
		})
	}
	// Only spec.podCIDR set (an older API server): PodCIDRs holds it.
	old := apiNode(nil, "172.18.0.3")
	old.Spec.PodCIDR = "10.244.1.0/24"
	if n := NodeFrom(old); !slices.Equal(n.PodCIDRs, []string{"10.244.1.0/24"}) || n.PodCIDROf(ipfamily.IPv4) != "10.244.1.0/24" || n.PodCIDROf(ipfamily.IPv6) != "" {
		t.Errorf("PodCIDRs %v", n.PodCIDRs)
	}
}

func TestPodCIDRsMissing(t *testing.T) {
	cases := []struct {
		name string
		node *corev1.Node
		want string
	}{
		{"no pod CIDR", apiNode(nil, "172.18.0.3"), "node n1 has no podCIDR"},
		{"IPv4 pod CIDR, no IPv4 address", apiNode([]string{"10.244.1.0/24"}, "fc00::3"), "node n1 has no IPv4 InternalIP for its podCIDR 10.244.1.0/24"},
		{"dual pod CIDRs, IPv4 address only", apiNode([]string{"10.244.1.0/24", "fd00:10:244:1::/64"}, "172.18.0.3"),
			"node n1 has no IPv6 InternalIP for its podCIDR fd00:10:244:1::/64"},
		{"dual, complete", apiNode([]string{"10.244.1.0/24", "fd00:10:244:1::/64"}, "172.18.0.3", "fc00::3"), ""},
		{"ipv6, complete", apiNode([]string{"fd00:10:244:1::/64"}, "fc00::3"), ""},
	}
	for _, c := range cases {
		if got := podCIDRsMissing(NodeFrom(c.node)); got != c.want || (c.want != "" && !strings.HasPrefix(got, "node n1")) {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}

// A Node made by hand (tests, stand-ins) with the single fields answers per family from them.
func TestHandMadeNodeAnswersPerFamily(t *testing.T) {
	n := Node{Name: "a", InternalIP: "172.18.0.2", PodCIDR: "10.244.0.0/24"}
	if n.InternalIPOf(ipfamily.IPv4) != "172.18.0.2" || n.InternalIPOf(ipfamily.IPv6) != "" ||
		n.PodCIDROf(ipfamily.IPv4) != "10.244.0.0/24" || !slices.Equal(n.AllPodCIDRs(), []string{"10.244.0.0/24"}) {
		t.Errorf("%+v", n)
	}
	if (Node{}).AllPodCIDRs() != nil {
		t.Error("no pod CIDR: nil")
	}
}

func TestClusterFamily(t *testing.T) {
	v4 := Node{PodCIDR: "10.244.0.0/24"}
	dual := Node{PodCIDR: "10.244.1.0/24", PodCIDRs: []string{"10.244.1.0/24", "fd00:10:244:1::/64"}}
	v6 := Node{PodCIDR: "fd00:10:244:2::/64", PodCIDRs: []string{"fd00:10:244:2::/64"}}
	for _, c := range []struct {
		nodes []Node
		want  ipfamily.Family
		ok    bool
	}{
		{[]Node{v4, v4}, ipfamily.IPv4, true},
		{[]Node{dual, dual}, ipfamily.Dual, true},
		{[]Node{v6}, ipfamily.IPv6, true},
		{[]Node{{}}, "", false},
	} {
		if got, ok := ClusterFamily(c.nodes); got != c.want || ok != c.ok {
			t.Errorf("ClusterFamily(%+v) = %q %v", c.nodes, got, ok)
		}
	}
}
