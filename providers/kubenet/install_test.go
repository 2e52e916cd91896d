package kubenet

import (
	"context"
	"encoding/json"
	"io"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/netconform/netconform/framework/kube"
	"github.com/netconform/netconform/providers"
)

// conflistIPAM decodes the bridge plugin's IPAM section of a rendered conflist.
func conflistIPAM(t *testing.T, b []byte) (ranges [][]map[string]string, routes []map[string]string, mtu int) {
	t.Helper()
	var conf struct {
		Plugins []struct {
			Type string `json:"type"`
			MTU  int    `json:"mtu"`
			IPAM struct {
				Ranges [][]map[string]string `json:"ranges"`
				Routes []map[string]string   `json:"routes"`
			} `json:"ipam"`
		} `json:"plugins"`
	}
	if err := json.Unmarshal(b, &conf); err != nil {
		t.Fatalf("conflist: %v\n%s", err, b)
	}
	if len(conf.Plugins) != 2 || conf.Plugins[0].Type != "bridge" || conf.Plugins[1].Type != "portmap" {
		t.Fatalf("plugins %+v", conf.Plugins)
	}
	return conf.Plugins[0].IPAM.Ranges, conf.Plugins[0].IPAM.Routes, conf.Plugins[0].MTU
}

// One host-local range set and one default route per family: a pod gets an address of each.
func TestConflistPerFamily(t *testing.T) {
	cases := []struct {
		name   string
		cidrs  []string
		ranges []string
		routes []string
	}{
		{"ipv4", []string{"10.244.1.0/24"}, []string{"10.244.1.0/24"}, []string{"0.0.0.0/0"}},
		{"ipv6", []string{"fd00:10:244:1::/64"}, []string{"fd00:10:244:1::/64"}, []string{"::/0"}},
		{"dual", []string{"10.244.1.0/24", "fd00:10:244:1::/64"}, []string{"10.244.1.0/24", "fd00:10:244:1::/64"}, []string{"0.0.0.0/0", "::/0"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b, err := Conflist(c.cidrs, 1500)
			if err != nil {
				t.Fatal(err)
			}
			ranges, routes, mtu := conflistIPAM(t, b)
			var gotRanges, gotRoutes []string
			for _, set := range ranges {
				if len(set) != 1 {
					t.Errorf("range set %v: want one range", set)
				}
				gotRanges = append(gotRanges, set[0]["subnet"])
			}
			for _, r := range routes {
				gotRoutes = append(gotRoutes, r["dst"])
			}
			if !slices.Equal(gotRanges, c.ranges) || !slices.Equal(gotRoutes, c.routes) || mtu != 1500 {
				t.Errorf("ranges %v routes %v mtu %d; want %v %v 1500", gotRanges, gotRoutes, mtu, c.ranges, c.routes)
			}
		})
	}
	for _, bad := range []struct {
		cidrs []string
		mtu   int
		want  string
	}{
		{nil, 1500, "kubenet: node has no podCIDR"},
		{[]string{"10.244.1.0/24"}, 100, "kubenet: MTU 100 out of range"},
		{[]string{"10.244.1.0"}, 1500, `kubenet: podCIDR "10.244.1.0" is not a CIDR`},
		{[]string{"10.244.1.0/24", "10.244.2.0/24"}, 1500, "kubenet: two IPv4 podCIDRs (10.244.1.0/24, 10.244.2.0/24): want one per family"},
	} {
		if _, err := Conflist(bad.cidrs, bad.mtu); err == nil || err.Error() != bad.want {
			t.Errorf("Conflist(%v, %d): %v, want %q", bad.cidrs, bad.mtu, err, bad.want)
		}
	}
}

// A route per peer podCIDR, via the peer's InternalIP of the same family.
func TestRouteCommandsPerFamily(t *testing.T) {
	dual := kube.Node{Name: "b", InternalIP: "172.18.0.3", InternalIPs: []string{"172.18.0.3", "fc00::3"},
		PodCIDR: "10.244.1.0/24", PodCIDRs: []string{"10.244.1.0/24", "fd00:10:244:1::/64"}}
	got, err := RouteCommands(dual)
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"ip", "route", "replace", "10.244.1.0/24", "via", "172.18.0.3"},
		{"ip", "route", "replace", "fd00:10:244:1::/64", "via", "fc00::3"},
	}
	if !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("dual: %v\nwant %v", got, want)
	}
	if !slices.Equal(RouteCommand(dual), want[0]) {
		t.Errorf("RouteCommand (primary family): %v", RouteCommand(dual))
	}
	v6 := kube.Node{Name: "b", InternalIP: "fc00::3", InternalIPs: []string{"fc00::3"}, PodCIDR: "fd00:10:244:1::/64", PodCIDRs: []string{"fd00:10:244:1::/64"}}
	if got, err := RouteCommands(v6); err != nil || !slices.EqualFunc(got, want[1:], slices.Equal) {
		t.Errorf("ipv6: %v %v", got, err)
	}
	// Hand-made IPv4 node (PodCIDR and InternalIP only): as before.
	if got, err := RouteCommands(kube.Node{Name: "b", InternalIP: "172.18.0.3", PodCIDR: "10.244.1.0/24"}); err != nil || !slices.EqualFunc(got, want[:1], slices.Equal) {
		t.Errorf("ipv4: %v %v", got, err)
	}
	noV6 := dual
	noV6.InternalIPs = []string{"172.18.0.3"}
	if _, err := RouteCommands(noV6); err == nil || err.Error() != "node b has no IPv6 InternalIP to route its podCIDR fd00:10:244:1::/64 via" {
		t.Errorf("peer without an IPv6 address: %v", err)
	}
}

// Masquerading per family: iptables for the IPv4 pod subnet, ip6tables for the IPv6 one, the
// same chain in each.
func TestMasqueradeCommandsPerFamily(t *testing.T) {
	for subnet, tool := range map[string]string{"10.244.0.0/16": "iptables", "fd00:10:244::/56": "ip6tables"} {
		argvs, err := MasqueradeCommands(subnet)
		if err != nil {
			t.Fatal(err)
		}
		want := [][]string{
			{tool, "-t", "nat", "-N", MasqChain},
			{tool, "-t", "nat", "-F", MasqChain},
			{tool, "-t", "nat", "-A", MasqChain, "-d", subnet, "-j", "RETURN"},
			{tool, "-t", "nat", "-A", MasqChain, "-j", "MASQUERADE"},
			{"sh", "-c", tool + " -t nat -C POSTROUTING -s " + subnet + " -j " + MasqChain + " 2>/dev/null || " + tool + " -t nat -A POSTROUTING -s " + subnet + " -j " + MasqChain},
		}
		if !slices.EqualFunc(argvs, want, slices.Equal) {
			t.Errorf("%s:\n%v\nwant\n%v", subnet, argvs, want)
		}
	}
	if _, err := MasqueradeCommands(""); err == nil {
		t.Error("an empty pod subnet must be refused, not put into a rule")
	}
}

// On a dual-stack cluster Owned names what Install writes per family: a route per peer podCIDR
// via the peer's address of that family, and the chain in iptables and in ip6tables.
func TestOwnedPerFamily(t *testing.T) {
	node := func(name string, i string) kube.Node {
		return kube.Node{Name: name, InternalIP: "172.18.0." + i, InternalIPs: []string{"172.18.0." + i, "fc00::" + i},
			PodCIDR: "10.244." + i + ".0/24", PodCIDRs: []string{"10.244." + i + ".0/24", "fd00:10:244:" + i + "::/64"}}
	}
	nodes := []kube.Node{node("a", "2"), node("b", "3")}
	s := Owned("a", nodes, "10.244.0.0/16")
	routes, err := RouteCommands(nodes[1])
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Routes) != len(routes) {
		t.Fatalf("Owned routes %+v, Install writes %v", s.Routes, routes)
	}
	for i, argv := range routes {
		if (providers.Route{Dst: argv[3], Via: argv[5]}) != s.Routes[i] {
			t.Errorf("install writes %v, Owned names %+v", argv, s.Routes[i])
		}
	}
	if len(s.Chains) != 2 || s.Chains[0].IPv6 || !s.Chains[1].IPv6 || s.Chains[1].Name != MasqChain || s.Chains[1].Table != "nat" {
		t.Errorf("chains %+v: want the masquerade chain in iptables and ip6tables", s.Chains)
	}
	// IPv6 only: the chain in ip6tables alone, IPv6 routes.
	v6 := []kube.Node{
		{Name: "a", InternalIP: "fc00::2", InternalIPs: []string{"fc00::2"}, PodCIDR: "fd00:10:244:2::/64", PodCIDRs: []string{"fd00:10:244:2::/64"}},
		{Name: "b", InternalIP: "fc00::3", InternalIPs: []string{"fc00::3"}, PodCIDR: "fd00:10:244:3::/64", PodCIDRs: []string{"fd00:10:244:3::/64"}},
	}
	s = Owned("a", v6, "fd00:10:244::/56")
	if len(s.Chains) != 1 || !s.Chains[0].IPv6 || len(s.Routes) != 1 || s.Routes[0] != (providers.Route{Dst: "fd00:10:244:3::/64", Via: "fc00::3"}) {
		t.Errorf("ipv6: chains %+v routes %+v", s.Chains, s.Routes)
	}
	// The switch's cleanup removes the IPv6 chain with ip6tables.
	var items []string
	for _, st := range s.Cleanup() {
		if st.Kind == providers.ItemChain {
			items = append(items, st.Item+" "+st.Argv[3])
		}
	}
	if strings.Join(items, ",") != "nat/"+MasqChain+" (ip6tables) ip6tables" {
		t.Errorf("chain cleanup %v", items)
	}
}

// recorder is a node runner that records the commands run on each node.
type recorder struct{ ran map[string][][]string }

func (r *recorder) RunOnNode(_ context.Context, node string, argv []string, _ io.Reader) ([]byte, error) {
	r.ran[node] = append(r.ran[node], argv)
	return nil, nil
}

// Install on a dual-stack cluster: each node gets a conflist with both ranges, a route per peer
// per family, and masquerading with iptables and ip6tables.
func TestInstallDualStack(t *testing.T) {
	apiNode := func(name, i string) *corev1.Node {
		return &corev1.Node{
			ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec:       corev1.NodeSpec{PodCIDR: "10.244." + i + ".0/24", PodCIDRs: []string{"10.244." + i + ".0/24", "fd00:10:244:" + i + "::/64"}},
			Status: corev1.NodeStatus{Addresses: []corev1.NodeAddress{
				{Type: corev1.NodeInternalIP, Address: "172.18.0." + i}, {Type: corev1.NodeInternalIP, Address: "fc00::" + i}}},
		}
	}
	tm := kube.DefaultTimeouts()
	client := &kube.Client{Interface: fake.NewSimpleClientset(apiNode("a", "2"), apiNode("b", "3")), Timeouts: tm}
	r := &recorder{ran: map[string][][]string{}}
	err := Installer{MTU: 1500}.Install(context.Background(), providers.Cluster{Client: client, Nodes: r,
		PodSubnet: "10.244.0.0/16", PodSubnets: []string{"10.244.0.0/16", "fd00:10:244::/56"}})
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, argv := range r.ran["a"] {
		lines = append(lines, strings.Join(argv, " "))
	}
	all := strings.Join(lines, "\n")
	for _, want := range []string{
		"tee " + ConfigPath,
		"ip route replace 10.244.3.0/24 via 172.18.0.3",
		"ip route replace fd00:10:244:3::/64 via fc00::3",
		"iptables -t nat -A " + MasqChain + " -d 10.244.0.0/16 -j RETURN",
		"ip6tables -t nat -A " + MasqChain + " -d fd00:10:244::/56 -j RETURN",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("node a: no %q among\n%s", want, all)
		}
	}
	if strings.Contains(all, "via 172.18.0.2") || strings.Contains(all, "via fc00::2") {
		t.Errorf("node a routes to itself:\n%s", all)
	}
}
