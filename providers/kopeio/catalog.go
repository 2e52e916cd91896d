// Package kopeio describes kopeio-vxlan, kopeio's VXLAN overlay network as kops installs it.
package kopeio

import (
	"github.com/netconform/netconform/framework/ipfamily"
	"github.com/netconform/netconform/providers"
)

// Provider is kopeio-vxlan.
type Provider struct{}

var _ providers.Provider = Provider{}

// New returns the kopeio provider.
func New() Provider { return Provider{} }

// Descriptor returns kopeio-vxlan's facts.
func (Provider) Descriptor() providers.Descriptor {
	return providers.Descriptor{
		Name:  "kopeio",
		Title: "kopeio-vxlan",
		KopsValues: []providers.KopsValue{
			{Value: "kopeio-vxlan"},
			{Value: "kopeio"},
		},
		SpecKey:   "kopeio",
		Summary:   "kopeio's simple VXLAN overlay between nodes; no NetworkPolicy.",
		Platforms: providers.Platforms{AnyCloud: true},
		Lifecycle: providers.Lifecycle{
			Status:           providers.StatusExperimental,
			IntroducedInKops: providers.V(1, 5),
			Note:             "Listed by kops as experimental since 1.5.",
		},
		Requirements: providers.Requirements{
			Kernel: []providers.KernelRequirement{{Feature: providers.KernelVXLAN, When: providers.Always}},
		},
		Encapsulation:         providers.VXLAN("its agent gives the vxlan1 device the underlay MTU minus 100 (hard-coded), more than VXLAN's 50 bytes"),
		EnforcesNetworkPolicy: false,
		Kind: providers.KindSupport{
			Status: providers.KindUpstreamImages,
			Reason: "netconform installs kopeio-vxlan as kops does (kubenet-style pod networking on each node's podCIDR, kops' networking.kope.io agent DaemonSet for the VXLAN routes) " +
				"from its upstream image, where docker can pull it or already has it, and loads it into the nodes; this installer never ran here " +
				"(no registry is reachable from this project's machines): only its manifest is tested, against golden files",
			Images:     []string{Image},
			NotBuilt:   "its sources (github.com/kopeio/networking, module kope.io/networking) are not served by the Go module proxy this project can reach, so netconform builds no image of its own",
			IPFamilies: []ipfamily.Family{ipfamily.IPv4},
			IPv6Gap:    "kopeio's agent maps IPv4 pod CIDRs to MAC addresses only (kops refuses it on IPv6 clusters: \"Kopeio does not support IPv6\")",
		},
	}
}
