// Package romana describes Romana as kops installed it: routed pod networking using the
// cluster's etcd. kops removed it in 1.19.
package romana

import "github.com/netconform/netconform/providers"

// Provider is Romana.
type Provider struct{}

var _ providers.Provider = Provider{}

// New returns the Romana provider.
func New() Provider { return Provider{} }

// Descriptor returns Romana's facts.
func (Provider) Descriptor() providers.Descriptor {
	return providers.Descriptor{
		Name:       "romana",
		Title:      "Romana",
		KopsValues: []providers.KopsValue{{Value: "romana"}},
		SpecKey:    "romana",
		Summary:    "Routed pod networking without overlay, keeping routes, hosts and IP allocations in the cluster's etcd.",
		Platforms:  providers.Platforms{AnyCloud: true},
		Lifecycle: providers.Lifecycle{
			Status:           providers.StatusRemoved,
			IntroducedInKops: providers.V(1, 8),
			DeprecatedInKops: providers.V(1, 18),
			RemovedInKops:    providers.V(1, 19),
		},
		Requirements: providers.Requirements{
			Ports: []providers.Port{{Protocol: "tcp", Port: 4001, Between: "control plane and nodes", Purpose: "etcd (Romana's datastore)", When: providers.Always}},
		},
		Encapsulation:         providers.None("routed"),
		EnforcesNetworkPolicy: true,
		Kind: providers.KindSupport{
			Status: providers.KindNotApplicable,
			Reason: "removed from kops in 1.19; netconform does not install removed providers",
		},
		Notes: []string{"kops opens etcd's port 4001 between the control plane and nodes for it."},
	}
}
