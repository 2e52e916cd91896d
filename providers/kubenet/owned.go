package kubenet

import (
	"github.com/netconform/netconform/framework/ipfamily"
	"github.com/netconform/netconform/framework/kube"
	"github.com/netconform/netconform/providers"
)

// IPAMDir is where host-local keeps kubenet's address allocations (named after the network).
const IPAMDir = "/var/lib/cni/networks/netconform-kubenet"

// Owned is what kubenet leaves on a node (see Owned): switching away from kubenet removes it.
func (Installer) Owned(node string, nodes []kube.Node, podSubnet string) providers.NodeState {
	return Owned(node, nodes, podSubnet)
}

// Owned is what kubenet leaves on node: its CNI config and IPAM state, the bridge, one route per
// peer's pod CIDR via the peer (per family), and the masquerade chain with its jump from
// POSTROUTING, in iptables and ip6tables as the cluster's pod CIDRs (the nodes' and podSubnet)
// have IPv4 and IPv6; IPv4 when they say nothing.
func Owned(node string, nodes []kube.Node, podSubnet string) providers.NodeState {
	s := providers.NodeState{
		Files: []string{ConfigPath, IPAMDir},
		Links: []string{Bridge},
	}
	families := map[ipfamily.Family]bool{}
	if f, ok := ipfamily.OfCIDR(podSubnet); ok {
		families[f] = true
	}
	for _, p := range nodes {
		for _, cidr := range p.AllPodCIDRs() {
			f, ok := ipfamily.OfCIDR(cidr)
			if !ok {
				continue
			}
			families[f] = true
			if via := p.InternalIPOf(f); p.Name != node && via != "" {
				s.Routes = append(s.Routes, providers.Route{Dst: cidr, Via: via})
			}
		}
	}
	if families[ipfamily.IPv4] || !families[ipfamily.IPv6] {
		s.Chains = append(s.Chains, providers.Chain{Table: "nat", Name: MasqChain})
	}
	if families[ipfamily.IPv6] {
		s.Chains = append(s.Chains, providers.Chain{Table: "nat", Name: MasqChain, IPv6: true})
	}
	return s
}
