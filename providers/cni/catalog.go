// Package cni describes kops' cni mode: kubelet is set up for CNI and the CNI itself is yours
// to install.
package cni

import "github.com/netconform/netconform/providers"

// Provider is the bring-your-own CNI mode.
type Provider struct{}

var _ providers.Provider = Provider{}

// New returns the cni provider.
func New() Provider { return Provider{} }

// Descriptor returns the cni mode's facts.
func (Provider) Descriptor() providers.Descriptor {
	return providers.Descriptor{
		Name:       "cni",
		Title:      "CNI (bring your own)",
		KopsValues: []providers.KopsValue{{Value: "cni"}},
		SpecKey:    "cni",
		Summary:    "kops configures kubelet for CNI and installs no plugin: you deploy one (usually a DaemonSet) after the cluster is up.",
		Platforms:  providers.Platforms{AnyCloud: true},
		Lifecycle:  providers.Lifecycle{Status: providers.StatusSupported},
		Encapsulation: providers.Encapsulation{
			Kind: providers.EncapUnknown,
			Note: "depends on the CNI you install",
		},
		EnforcesNetworkPolicy: false,
		Kind: providers.KindSupport{
			Status: providers.KindPossible,
			Reason: "kind with disableDefaultCNI is the same state; which CNI follows is up to you",
		},
		Notes: []string{
			"Nodes stay NotReady and kube-dns pods Pending until a CNI is deployed.",
			"NetworkPolicy enforcement depends on the CNI you install.",
			"Replacing a kops-managed provider with cni in place drops what kops did for it (certificates, IAM, etcd): expect an outage.",
		},
	}
}
