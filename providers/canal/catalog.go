// Package canal describes Canal as kops installs it: flannel's VXLAN for pod traffic and
// Calico for NetworkPolicy.
package canal

import (
	"github.com/netconform/netconform/framework/ipfamily"
	"github.com/netconform/netconform/providers"
)

// Provider is Canal.
type Provider struct{}

var _ providers.Provider = Provider{}

// New returns the Canal provider.
func New() Provider { return Provider{} }

// Descriptor returns Canal's facts.
func (Provider) Descriptor() providers.Descriptor {
	return providers.Descriptor{
		Name:       "canal",
		Title:      "Canal (flannel + Calico)",
		KopsValues: []providers.KopsValue{{Value: "canal"}},
		SpecKey:    "canal",
		Summary:    "flannel VXLAN between hosts for pod traffic, Calico for NetworkPolicy enforcement.",
		Options: []providers.Option{{
			Name:        "mtu",
			Type:        providers.TypeInt,
			Description: "MTU of pod interfaces; must leave room for VXLAN's 50 bytes.",
			Default:     "unset (derived from the node interface)",
			Min:         providers.IntPtr(576),
			InSpec:      true,
		}},
		Platforms: providers.Platforms{AnyCloud: true},
		Lifecycle: providers.Lifecycle{
			Status:                    providers.StatusExperimental,
			IntroducedInKops:          providers.V(1, 12),
			UnsupportedFromKubernetes: providers.V(1, 28),
			Note:                      "kops lists it as experimental (never marked stable). Not supported from Kubernetes 1.28.",
		},
		Requirements: providers.Requirements{
			Kernel: []providers.KernelRequirement{{Feature: providers.KernelVXLAN, When: providers.Always}},
			Ports:  []providers.Port{{Protocol: "udp", Port: 8472, Between: "all nodes", Purpose: "flannel VXLAN", When: providers.Always}},
		},
		Encapsulation:         providers.VXLAN("flannel vxlan backend"),
		EnforcesNetworkPolicy: true,
		Kind: providers.KindSupport{
			Status:     providers.KindSupported,
			Reason:     "Calico v3.28.5 (policy) with flannel (vxlan) from locally built images; the pod MTU is set to the underlay's minus 50, as upstream's veth_mtu 0 gives pods 1500 over flannel's 1450",
			IPFamilies: []ipfamily.Family{ipfamily.IPv4},
			IPv6Gap:    "canal's IPv6 needs flannel's IPv6 network and Calico's IPv6 support, FELIX_IPV6SUPPORT and assign_ipv6, which netconform's installer does not configure",
		},
	}
}
