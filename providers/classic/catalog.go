// Package classic describes kops' classic mode: Kubernetes' networking done in-process, from
// before CNI. kops no longer accepts it.
package classic

import "github.com/netconform/netconform/providers"

// Provider is classic networking.
type Provider struct{}

var _ providers.Provider = Provider{}

// New returns the classic provider.
func New() Provider { return Provider{} }

// Descriptor returns classic's facts.
func (Provider) Descriptor() providers.Descriptor {
	return providers.Descriptor{
		Name:       "classic",
		Title:      "classic",
		KopsValues: []providers.KopsValue{{Value: "classic"}},
		SpecKey:    "classic",
		Summary:    "Kubernetes-native networking done in-process by kubelet, from before CNI.",
		Platforms:  providers.Platforms{AnyCloud: true},
		Lifecycle: providers.Lifecycle{
			Status:        providers.StatusRemoved,
			RemovedInKops: providers.V(1, 18),
			Note:          "Removed before kops 1.18; netconform treats 1.18 as the first release that refuses it, so older --kops-version values are not flagged.",
		},
		Encapsulation:         providers.None("routed"),
		EnforcesNetworkPolicy: false,
		Kind: providers.KindSupport{
			Status: providers.KindNotApplicable,
			Reason: "removed from kops and from Kubernetes; nothing to install",
		},
		Notes: []string{"Switch to kubenet by renaming the key (classic: {} to kubenet: {}) and rolling the cluster."},
	}
}
