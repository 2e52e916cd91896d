// Package gce describes kops' gce networking mode (--networking gce, spec.networking.gce): on
// GCE, pods get addresses from alias IP ranges on the instances' interfaces, and GCE routes the
// pod ranges natively. GCE only.
package gce

import "github.com/netconform/netconform/providers"

// Provider is kops' gce networking mode.
type Provider struct{}

var _ providers.Provider = Provider{}

// New returns the gce networking mode.
func New() Provider { return Provider{} }

// Descriptor returns the gce mode's facts.
func (Provider) Descriptor() providers.Descriptor {
	return providers.Descriptor{
		Name:       "gce",
		Title:      "GCE native networking (alias IP ranges)",
		KopsValues: []providers.KopsValue{{Value: "gce"}},
		SpecKey:    "gce",
		Summary:    "Pods get addresses from GCE alias IP ranges on the instances' interfaces; GCE routes the pod ranges natively.",
		// spec.networking.gce has no settings (kops' GCENetworkingSpec is empty).
		Platforms: providers.Platforms{Clouds: []providers.Cloud{providers.GCE}},
		// Only the status is recorded: the kops release that introduced the mode is not pinned
		// here, so lint never reports it as not yet available (see the Notes).
		Lifecycle: providers.Lifecycle{
			Status: providers.StatusSupported,
			Note:   "kops refuses spec.networking.gce unless spec.cloudProvider is gce.",
		},
		Encapsulation:         providers.None("GCE routes the pods' alias IP ranges"),
		EnforcesNetworkPolicy: false,
		Kind: providers.KindSupport{
			Status: providers.KindNotApplicable,
			Reason: "GCE only: it needs GCE's alias IP ranges",
		},
		Notes: []string{
			"Relies on GCE: each instance's interface carries an alias IP range for its pods, taken from a secondary range of the subnet; nothing is encapsulated.",
			"Enforces no NetworkPolicy by itself.",
			"The first kops release offering it is not recorded here, so lint does not check the kops version against it.",
		},
	}
}
