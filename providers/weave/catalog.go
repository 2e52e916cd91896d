// Package weave describes Weave Net as kops installed it: a mesh overlay with optional
// encryption and the weave-npc NetworkPolicy controller. kops refuses it from 1.28.
package weave

import "github.com/netconform/netconform/providers"

// Provider is Weave Net.
type Provider struct{}

var _ providers.Provider = Provider{}

// New returns the Weave provider.
func New() Provider { return Provider{} }

// Descriptor returns Weave's facts.
func (Provider) Descriptor() providers.Descriptor {
	return providers.Descriptor{
		Name:       "weave",
		Title:      "Weave Net",
		KopsValues: []providers.KopsValue{{Value: "weave"}},
		SpecKey:    "weave",
		Summary:    "Mesh overlay (fast datapath or sleeve) with optional encryption; weave-npc enforces NetworkPolicy.",
		Options: []providers.Option{
			{
				Name:         "mtu",
				Type:         providers.TypeInt,
				Description:  "MTU of the weave bridge; must leave room for up to 87 bytes of overhead.",
				Default:      "unset (weave's own default)",
				DefaultOnAWS: "8912",
				Min:          providers.IntPtr(576),
				InSpec:       true,
			},
			{
				Name:        "netExtraArgs",
				Type:        providers.TypeString,
				Description: "Extra weave command-line arguments (its EXTRA_ARGS); wrong flags can break cluster networking.",
				Default:     "empty",
				InSpec:      true,
			},
			{
				Name:        "npcExtraArgs",
				Type:        providers.TypeString,
				Description: "Extra weave-npc (policy controller) arguments (its EXTRA_ARGS).",
				Default:     "empty",
				InSpec:      true,
			},
			{
				Name:        "password",
				Type:        providers.TypeString,
				Description: "Network encryption password; weaveworks recommends at least 50 bits of entropy. Nodes with and without encryption cannot talk, so changing it means downtime.",
				Default:     "generated at random by kops",
				Secret:      true,
				InSpec:      false,
				Source:      "kops create secret weavepassword -f FILE",
			},
		},
		Platforms: providers.Platforms{AnyCloud: true},
		Lifecycle: providers.Lifecycle{
			Status:                    providers.StatusRemoved,
			IntroducedInKops:          providers.V(1, 5),
			DeprecatedInKops:          providers.V(1, 23),
			RemovedInKops:             providers.V(1, 28),
			UnsupportedFromKubernetes: providers.V(1, 23),
			Note:                      "Deprecated in kops 1.23, not supported from Kubernetes 1.23, refused from kops 1.28.",
		},
		Requirements: providers.Requirements{
			Kernel: []providers.KernelRequirement{
				{Feature: providers.KernelOpenVSwitch, When: providers.When("fast datapath is used")},
				{Feature: providers.KernelVXLAN, When: providers.When("fast datapath is used")},
			},
			Ports: []providers.Port{
				{Protocol: "tcp", Port: 6783, Between: "all nodes", Purpose: "weave control", When: providers.Always},
				{Protocol: "udp", Port: 6783, EndPort: 6784, Between: "all nodes", Purpose: "weave data (sleeve and fast datapath)", When: providers.Always},
			},
		},
		Encapsulation:         encapsulation("sleeve mode's worst case, the figure kops uses"),
		EnforcesNetworkPolicy: true,
		Kind: providers.KindSupport{
			Status: providers.KindUnavailable,
			Reason: "its sources (github.com/weaveworks/weave) are not served by the Go module proxy this project can reach",
		},
		Notes: []string{"kops sets mtu 8912 on AWS at cluster creation (9001 minus 87, rounded down to a multiple of 4)."},
	}
}
