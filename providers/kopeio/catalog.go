// Package kopeio describes kopeio-vxlan, kopeio's VXLAN overlay network as kops installs it.
package kopeio

import "github.com/netconform/netconform/providers"

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
		Encapsulation:         providers.VXLAN(""),
		EnforcesNetworkPolicy: false,
		Kind: providers.KindSupport{
			Status: providers.KindUnavailable,
			Reason: "its sources (github.com/kopeio/networking) are not served by the Go module proxy this project can reach",
		},
	}
}
