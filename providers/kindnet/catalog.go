// Package kindnet describes kindnet as current kops offers it: simple routed pod networking
// from the kind project. Experimental in kops.
package kindnet

import "github.com/netconform/netconform/providers"

// Provider is kindnet.
type Provider struct{}

var _ providers.Provider = Provider{}

// New returns the kindnet provider.
func New() Provider { return Provider{} }

// Descriptor returns kindnet's facts.
func (Provider) Descriptor() providers.Descriptor {
	return providers.Descriptor{
		Name:       "kindnet",
		Title:      "kindnet",
		KopsValues: []providers.KopsValue{{Value: "kindnet"}},
		SpecKey:    "kindnet",
		Summary:    "Minimal routed pod networking from the kind project.",
		Platforms:  providers.Platforms{AnyCloud: true},
		Lifecycle: providers.Lifecycle{
			Status: providers.StatusExperimental,
			Note:   "Experimental in kops and may be removed at any time.",
		},
		Encapsulation:         providers.None("routed"),
		EnforcesNetworkPolicy: true,
		Kind: providers.KindSupport{
			Status: providers.KindUnavailable,
			Reason: "its sources are not served by the Go module proxy this project can reach; a routed replacement of netconform's own may come later and will carry its own name, not kindnet's",
		},
		Notes: []string{"NetworkPolicy support is recent in kindnet; older kindnet releases did not enforce it."},
	}
}
