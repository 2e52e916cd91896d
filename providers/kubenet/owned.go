package kubenet

import (
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
// peer's pod CIDR via the peer, and the masquerade chain with its jump from POSTROUTING.
func Owned(node string, nodes []kube.Node, podSubnet string) providers.NodeState {
	s := providers.NodeState{
		Files:  []string{ConfigPath, IPAMDir},
		Links:  []string{Bridge},
		Chains: []providers.Chain{{Table: "nat", Name: MasqChain}},
	}
	for _, p := range nodes {
		if p.Name != node && p.PodCIDR != "" {
			s.Routes = append(s.Routes, providers.Route{Dst: p.PodCIDR, Via: p.InternalIP})
		}
	}
	return s
}
