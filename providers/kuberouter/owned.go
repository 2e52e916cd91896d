package kuberouter

import (
	"github.com/netconform/netconform/framework/kube"
	"github.com/netconform/netconform/providers"
)

// What kube-router keeps on a node besides its conflist and bridge.
const (
	// IPAMDir is host-local's directory for the conflist's network (mynet).
	IPAMDir = "/var/lib/cni/networks/mynet"
	// RouteProtocol marks the routes kube-router injects to its peers' pod CIDRs (proto 17).
	RouteProtocol = "17"
)

// Owned is what kube-router leaves on a node once its pod is gone: the conflist and host-local
// allocations, kube-bridge, the routes it injected to every peer's pod CIDR (proto 17), and its
// firewall: the KUBE-ROUTER-*, KUBE-POD-FW-* and KUBE-NWPLCY-* chains, the ACCEPT rules it adds
// to FORWARD for the bridge and node port traffic, and its masquerade rule on its pod-subnet set.
func (Installer) Owned(string, []kube.Node, string) providers.NodeState {
	forward := []string{"--comment allow outbound node port traffic", "--comment allow inbound traffic to pods", "--comment allow outbound traffic from pods"}
	return providers.NodeState{
		Files:          []string{CNIConfigPath, IPAMDir},
		Links:          []string{Bridge},
		RouteProtocols: []string{RouteProtocol},
		Chains: []providers.Chain{
			{Table: "filter", Name: "KUBE-ROUTER-*", Rules: forward},
			{Table: "filter", Name: "KUBE-POD-FW-*"},
			{Table: "filter", Name: "KUBE-NWPLCY-*"},
			{Table: "nat", Name: "KUBE-ROUTER-*", Rules: []string{"--match-set kube-router-"}},
		},
	}
}
