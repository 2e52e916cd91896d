// Package flannel describes flannel as kops installs it, with its vxlan (recommended) and udp
// (legacy) backends. flannel does not enforce NetworkPolicy.
package flannel

import (
	"github.com/netconform/netconform/framework/ipfamily"
	"github.com/netconform/netconform/providers"
)

// Provider is flannel.
type Provider struct{}

var (
	_ providers.Provider     = Provider{}
	_ providers.Encapsulator = Provider{}
)

// New returns the flannel provider.
func New() Provider { return Provider{} }

// Backends flannel accepts under kops.
const (
	BackendVXLAN = "vxlan"
	BackendUDP   = "udp"
)

// Descriptor returns flannel's facts.
func (Provider) Descriptor() providers.Descriptor {
	return providers.Descriptor{
		Name:  "flannel",
		Title: "flannel",
		KopsValues: []providers.KopsValue{
			{Value: "flannel", Presets: map[string]string{"backend": BackendVXLAN}},
			{Value: "flannel-vxlan", Presets: map[string]string{"backend": BackendVXLAN}},
			{Value: "flannel-udp", Presets: map[string]string{"backend": BackendUDP}},
		},
		SpecKey: "flannel",
		Summary: "Overlay pod network: VXLAN (recommended) or UDP encapsulation between hosts.",
		Options: []providers.Option{
			{
				Name:        "backend",
				Type:        providers.TypeString,
				Description: "Encapsulation between hosts: vxlan (recommended) or udp (legacy, user-space, slow).",
				Default:     BackendVXLAN,
				Enum:        []string{BackendVXLAN, BackendUDP},
				InSpec:      true,
			},
			{
				Name:        "iptablesResyncSeconds",
				Type:        providers.TypeInt,
				Description: "Period of flannel's iptables resync, in seconds.",
				Default:     "unset (flannel's own default)",
				Min:         providers.IntPtr(1),
				SinceKops:   providers.V(1, 12),
				InSpec:      true,
			},
		},
		KindOptions: []providers.Option{
			{
				Name:        "backend",
				Type:        providers.TypeString,
				Description: "Encapsulation between hosts on kind: vxlan, udp, or host-gw (routes via the peers, no encapsulation; kops does not offer it). ipip, wireguard and ipsec need kernel modules the kind nodes here lack.",
				Default:     BackendVXLAN,
				Enum:        []string{BackendVXLAN, BackendUDP, BackendHostGW},
				InSpec:      true,
			},
		},
		Platforms: providers.Platforms{AnyCloud: true},
		Lifecycle: providers.Lifecycle{
			Status:           providers.StatusExperimental,
			IntroducedInKops: providers.Version{Major: 1, Minor: 5, Patch: 2},
			Note:             "kops lists it as experimental (never marked stable). udp backend since kops 1.5.2, vxlan backend since kops 1.8.0; --networking flannel selects vxlan.",
		},
		Requirements: providers.Requirements{
			Kernel: []providers.KernelRequirement{
				{Feature: providers.KernelVXLAN, When: providers.When("backend: vxlan")},
				{Feature: providers.KernelTUN, When: providers.When("backend: udp")},
			},
			Ports: []providers.Port{
				{Protocol: "udp", Port: 8472, Between: "all nodes", Purpose: "VXLAN", When: providers.When("backend: vxlan")},
				{Protocol: "udp", Port: 8285, Between: "all nodes", Purpose: "UDP backend", When: providers.When("backend: udp")},
			},
		},
		Encapsulation:         providers.VXLAN("backend: vxlan (the default)"),
		EnforcesNetworkPolicy: false,
		Kind: providers.KindSupport{
			Status: providers.KindSupported,
			Reason: "installed from locally built images: vxlan (flannel), udp (flannel-udp), host-gw (--provider-option backend=host-gw); ipip, wireguard and ipsec need kernel modules kind nodes here lack",
			// make e2e-switch goes here from the default provider when TO is not given.
			SwitchTarget: true,
			IPFamilies:   []ipfamily.Family{ipfamily.IPv4},
			IPv6Gap:      "flannel's IPv6 needs EnableIPv6 and an IPv6Network in its net-conf.json, and a second vxlan device, flannel-v6.1; netconform's installer writes neither",
		},
		Notes: []string{"flannel does not enforce NetworkPolicy: policies are accepted and ignored."},
	}
}

// Encapsulation returns UDP for backend: udp and VXLAN otherwise.
func (p Provider) Encapsulation(opts map[string]any) providers.Encapsulation {
	if b, _ := opts["backend"].(string); b == BackendUDP {
		return providers.UDP("backend: udp")
	}
	return p.Descriptor().Encapsulation
}
