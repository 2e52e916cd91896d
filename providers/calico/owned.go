package calico

import (
	"github.com/netconform/netconform/framework/kube"
	"github.com/netconform/netconform/providers"
)

// What Calico (and canal) keep on a node. The conflist names are the manifests' CNI_CONF_NAME.
const (
	CalicoConfigPath = "/etc/cni/net.d/10-calico.conflist"
	CanalConfigPath  = "/etc/cni/net.d/10-canal.conflist"
	KubeconfigPath   = "/etc/cni/net.d/calico-kubeconfig"
	// FelixRouteProtocol marks the routes Felix writes that outlive its devices: the blackhole
	// route of each IPAM block the node holds.
	FelixRouteProtocol = "80"
	// ChainPrefix starts every iptables chain Felix owns, in every table.
	ChainPrefix = "cali-"
	// RuleMark is in every rule Felix adds to the built-in chains (its comment, cali:<hash>).
	RuleMark = "--comment cali:"
	// CanalSubnetEnv is flanneld's subnet file under canal.
	CanalSubnetEnv = "/run/flannel/subnet.env"
)

// Owned is what Calico leaves on a node once calico-node is gone: its CNI config and the
// kubeconfig the plugin uses, its state directories, the VXLAN device (canal: flannel's), the
// blackhole routes of its IPAM blocks, and the cali-* chains of every table with the jumps to
// them. The workloads' cali* veths leave with the pods the node was drained of.
func (in Installer) Owned(string, []kube.Node, string) providers.NodeState {
	s := providers.NodeState{
		Files:          []string{CalicoConfigPath, KubeconfigPath, "/var/lib/calico", "/var/run/calico"},
		Links:          []string{VXLANDevice},
		RouteProtocols: []string{FelixRouteProtocol},
	}
	if in.Options.Canal {
		s.Files = []string{CanalConfigPath, KubeconfigPath, "/var/lib/calico", "/var/run/calico", CanalSubnetEnv}
		s.Links = []string{FlannelDevice}
		s.Chains = append(s.Chains, providers.Chain{Table: "nat", Name: "FLANNEL-POSTRTG"}, providers.Chain{Table: "filter", Name: "FLANNEL-FWD"})
	}
	for _, t := range []string{"filter", "nat", "mangle", "raw"} {
		s.Chains = append(s.Chains, providers.Chain{Table: t, Name: ChainPrefix + "*", Rules: []string{RuleMark}})
	}
	return s
}
