// Package external describes kops' external mode: networking done by a DaemonSet or other
// component that kops neither installs nor configures kubelet for.
package external

import "github.com/netconform/netconform/providers"

// Provider is external networking.
type Provider struct{}

var _ providers.Provider = Provider{}

// New returns the external provider.
func New() Provider { return Provider{} }

// Descriptor returns external's facts.
func (Provider) Descriptor() providers.Descriptor {
	return providers.Descriptor{
		Name:       "external",
		Title:      "external",
		KopsValues: []providers.KopsValue{{Value: "external"}},
		SpecKey:    "external",
		Summary:    "Networking is done outside kops, typically by a DaemonSet in a custom setup; kops installs nothing for it.",
		Platforms:  providers.Platforms{AnyCloud: true},
		Lifecycle:  providers.Lifecycle{Status: providers.StatusSupported},
		Encapsulation: providers.Encapsulation{
			Kind: providers.EncapUnknown,
			Note: "depends on what provides the networking",
		},
		EnforcesNetworkPolicy: false,
		Kind: providers.KindSupport{
			Status: providers.KindPossible,
			Reason: "from kind's side this is the same as cni: the cluster comes up without pod networking",
		},
		Notes: []string{"NetworkPolicy enforcement depends on what provides the networking."},
	}
}
