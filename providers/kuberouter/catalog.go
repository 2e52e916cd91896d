// Package kuberouter describes kube-router as kops installs it: routed pod networking, an IPVS
// service proxy that replaces kube-proxy, and iptables NetworkPolicy enforcement.
package kuberouter

import (
	"github.com/netconform/netconform/framework/ipfamily"
	"github.com/netconform/netconform/providers"
)

// Provider is kube-router.
type Provider struct{}

var _ providers.Provider = Provider{}

// New returns the kube-router provider.
func New() Provider { return Provider{} }

// Descriptor returns kube-router's facts.
func (Provider) Descriptor() providers.Descriptor {
	return providers.Descriptor{
		Name:       "kuberouter",
		Title:      "kube-router",
		KopsValues: []providers.KopsValue{{Value: "kube-router"}},
		SpecKey:    "kuberouter",
		Summary:    "Routed pod networking with BGP, an IPVS service proxy in place of kube-proxy, and NetworkPolicy enforcement.",
		KindOptions: []providers.Option{
			{
				Name:        "networkPolicy",
				Type:        providers.TypeBool,
				Description: "Run kube-router's NetworkPolicy controller (netconform's kind install).",
				Default:     "true",
				InSpec:      true,
			},
			{
				Name:        "serviceProxy",
				Type:        providers.TypeBool,
				Description: "Let kube-router proxy Services (IPVS) instead of kube-proxy; the kind nodes here lack IPVS, so only false installs.",
				Default:     "false",
				InSpec:      true,
			},
		},
		Platforms: providers.Platforms{AnyCloud: true},
		Lifecycle: providers.Lifecycle{
			Status:           providers.StatusExperimental,
			IntroducedInKops: providers.Version{Major: 1, Minor: 6, Patch: 2},
			Note:             "kops lists it as experimental (never marked stable).",
		},
		Requirements: providers.Requirements{
			Kernel: []providers.KernelRequirement{
				{Feature: providers.KernelIPVS, When: providers.Always},
				{Feature: providers.KernelIPIP, When: providers.When("pod traffic crosses subnets")},
			},
			ReplacesKubeProxy: providers.Always,
			Ports: []providers.Port{
				{Protocol: "tcp", Port: 179, Between: "all nodes", Purpose: "BGP", When: providers.Always},
				{Protocol: "ipip", Between: "nodes in different subnets", Purpose: "IP-in-IP (IP protocol 4)", When: providers.When("pod traffic crosses subnets")},
			},
			SrcDstCheckDisabled: providers.When("on AWS (kube-router turns it off on every instance itself)"),
		},
		Encapsulation:         providers.IPIP("only between nodes in different subnets; none within a subnet"),
		EnforcesNetworkPolicy: true,
		Kind: providers.KindSupport{
			Status:     providers.KindSupported,
			Reason:     "kind nodes share one L2 network, so kube-router routes without encapsulation; its IPVS service proxy is off (no IPVS in this kernel) and kube-proxy stays",
			IPFamilies: []ipfamily.Family{ipfamily.IPv4},
			IPv6Gap:    "kube-router's IPv6 needs --enable-ipv6, --enable-ipv4=false on an IPv6 cluster and a CNI config with a range per family, which netconform's installer does not set",
		},
		Notes: []string{"kube-proxy must not run: set spec.kubeProxy.enabled: false (kops create cluster --networking kube-router does)."},
	}
}
