// Package calico describes Calico as kops installs it: routed pod networking with BGP,
// IP-in-IP (or VXLAN) between nodes, and NetworkPolicy enforcement.
package calico

import (
	"github.com/netconform/netconform/framework/ipfamily"
	"github.com/netconform/netconform/providers"
)

// Provider is Calico.
type Provider struct{}

var (
	_ providers.Provider     = Provider{}
	_ providers.Encapsulator = Provider{}
)

// New returns the Calico provider.
func New() Provider { return Provider{} }

// Descriptor returns Calico's facts.
func (Provider) Descriptor() providers.Descriptor {
	return providers.Descriptor{
		Name:       "calico",
		Title:      "Calico",
		KopsValues: []providers.KopsValue{{Value: "calico"}},
		SpecKey:    "calico",
		Summary:    "Routed pod networking (BGP mesh between nodes) with IP-in-IP or VXLAN encapsulation, and NetworkPolicy enforcement.",
		Options: []providers.Option{
			{
				Name:         "mtu",
				Type:         providers.TypeInt,
				Description:  "MTU of pod interfaces; must leave room for the encapsulation overhead.",
				Default:      "unset (Calico's own default)",
				DefaultOnAWS: "8912",
				Min:          providers.IntPtr(576),
				InSpec:       true,
			},
			{
				Name:        "crossSubnet",
				Type:        providers.TypeBool,
				Description: "Encapsulate only traffic that crosses subnets (AWS zones); needs EC2 source/destination checks off, done by the k8s-ec2-srcdst controller on the control plane.",
				Default:     "false",
				OnlyOn:      []providers.Cloud{providers.AWS},
				InSpec:      true,
			},
			{
				Name:        "typhaReplicas",
				Type:        providers.TypeInt,
				Description: "Typha replicas fanning out datastore watches; recommended above 50 nodes, strongly above 100.",
				Default:     "0 (no Typha)",
				Min:         providers.IntPtr(0),
				SinceKops:   providers.V(1, 12),
				InSpec:      true,
			},
			{
				Name:        "majorVersion",
				Type:        providers.TypeString,
				Description: "Calico major version kops deploys.",
				Default:     "v3",
				Enum:        []string{"v2", "v3"},
				InSpec:      true,
			},
			{
				Name:        "encapsulationMode",
				Type:        providers.TypeString,
				Description: "Encapsulation between nodes.",
				Default:     "ipip",
				Enum:        []string{"ipip", "vxlan"},
				InSpec:      true,
			},
			{
				Name:         "ipipMode",
				Type:         providers.TypeString,
				Description:  "When IP-in-IP encapsulates: Always, CrossSubnet (only across subnets; source/destination checks must be off) or Never. Replaces crossSubnet, which kops ignores from 1.22.",
				Default:      "Always",
				DefaultOnAWS: "CrossSubnet",
				Enum:         []string{"Always", "CrossSubnet", "Never"},
				SinceKops:    providers.V(1, 22),
				InSpec:       true,
			},
			{
				Name:        "vxlanMode",
				Type:        providers.TypeString,
				Description: "When VXLAN encapsulates, with encapsulationMode: vxlan: Always, CrossSubnet or Never.",
				Default:     "Always",
				Enum:        []string{"Always", "CrossSubnet", "Never"},
				SinceKops:   providers.V(1, 22),
				InSpec:      true,
			},
			{
				Name:         "awsSrcDstCheck",
				Type:         providers.TypeString,
				Description:  "What calico does with EC2 source/destination checks: Disable (needed unless every packet is encapsulated), Enable or DoNothing.",
				Default:      "DoNothing",
				DefaultOnAWS: "Disable",
				Enum:         []string{"Disable", "Enable", "DoNothing"},
				OnlyOn:       []providers.Cloud{providers.AWS},
				SinceKops:    providers.V(1, 22),
				InSpec:       true,
			},
		},
		Platforms: providers.Platforms{AnyCloud: true},
		Lifecycle: providers.Lifecycle{
			Status:           providers.StatusSupported,
			IntroducedInKops: providers.V(1, 6),
			Note:             "Stable since kops 1.11. Uses the Kubernetes API as its datastore from kops 1.12, etcd before.",
		},
		Requirements: providers.Requirements{
			Kernel: []providers.KernelRequirement{
				{Feature: providers.KernelIPIP, When: providers.When("encapsulationMode: ipip (the default)")},
				{Feature: providers.KernelVXLAN, When: providers.When("encapsulationMode: vxlan")},
			},
			Ports: []providers.Port{
				{Protocol: "tcp", Port: 179, Between: "all nodes", Purpose: "BGP", When: providers.When("encapsulationMode: ipip (the default)")},
				{Protocol: "ipip", Between: "all nodes", Purpose: "IP-in-IP (IP protocol 4)", When: providers.When("encapsulationMode: ipip (the default)")},
				{Protocol: "udp", Port: 4789, Between: "all nodes", Purpose: "VXLAN", When: providers.When("encapsulationMode: vxlan")},
				{Protocol: "tcp", Port: 5473, Between: "all nodes", Purpose: "Typha", When: providers.When("typhaReplicas > 0")},
			},
			IAM: []providers.IAMGrant{{
				Role:     "control plane",
				Actions:  []string{"ec2:ModifyInstanceAttribute"},
				Resource: "*",
				When:     providers.When("crossSubnet: true (k8s-ec2-srcdst)"),
			}},
			SrcDstCheckDisabled: providers.When("crossSubnet: true"),
		},
		Encapsulation: providers.IPIP("default mode; with crossSubnet only traffic between subnets is encapsulated"),
		// Lint and AWS plans suggest it where a routed mode cannot serve.
		Suggested:             true,
		EnforcesNetworkPolicy: true,
		Kind: providers.KindSupport{
			Status:     providers.KindSupported,
			Reason:     "Calico v3.28.5 in VXLAN mode without BIRD, from locally built images (no Typha, no kube-controllers); encapsulationMode ipip is not possible here: no IP-in-IP in these nodes' kernel",
			IPFamilies: []ipfamily.Family{ipfamily.IPv4},
			IPv6Gap:    "Calico's IPv6 needs an IPv6 pool, CALICO_IPV6POOL_CIDR, IP6 autodetection, FELIX_IPV6SUPPORT and assign_ipv6 in its CNI IPAM, which netconform's installer does not set",
		},
		Notes: []string{
			"Full BGP mesh between nodes; route reflectors (not set up by kops) help beyond about 50-100 nodes.",
			"kops sets mtu 8912 on AWS at cluster creation (9001 jumbo frames minus overhead).",
		},
	}
}

// Encapsulation returns VXLAN for encapsulationMode: vxlan and IP-in-IP otherwise.
func (p Provider) Encapsulation(opts map[string]any) providers.Encapsulation {
	if mode, _ := opts["encapsulationMode"].(string); mode == "vxlan" {
		return providers.VXLAN("encapsulationMode: vxlan")
	}
	return p.Descriptor().Encapsulation
}
