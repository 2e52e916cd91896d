package flannel

import (
	"github.com/netconform/netconform/framework/kube"
	"github.com/netconform/netconform/providers"
)

// State flannel keeps on a node besides its CNI config and subnet.env.
const (
	// IPAMDir is where host-local, delegated to by the flannel plugin, keeps allocations (named
	// after the conflist's network, cbr0).
	IPAMDir = "/var/lib/cni/networks/cbr0"
	// MasqChain and ForwardChain are flanneld's iptables chains.
	MasqChain    = "FLANNEL-POSTRTG"
	ForwardChain = "FLANNEL-FWD"
)

// Owned is what flannel leaves on a node once flanneld is gone: its CNI config, subnet.env and
// the host-local allocations, the bridge and the backend's device (the vxlan and udp routes go
// with the device), its masquerade and forward chains and, with host-gw, one route per peer's
// pod CIDR via the peer.
func (in Installer) Owned(node string, nodes []kube.Node, _ string) providers.NodeState {
	s := providers.NodeState{
		Files:  []string{CNIConfigPath, SubnetEnvPath, IPAMDir},
		Links:  []string{Bridge},
		Chains: []providers.Chain{{Table: "nat", Name: MasqChain}, {Table: "filter", Name: ForwardChain}},
	}
	switch in.Options.Backend {
	case BackendUDP:
		s.Links = append(s.Links, UDPDevice)
	case BackendHostGW:
		for _, p := range nodes {
			if p.Name != node && p.PodCIDR != "" {
				s.Routes = append(s.Routes, providers.Route{Dst: p.PodCIDR, Via: p.InternalIP})
			}
		}
	default:
		s.Links = append(s.Links, VXLANDevice)
	}
	return s
}
