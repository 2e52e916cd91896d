// Package kindnet describes kindnet as current kops offers it: simple routed pod networking
// from the kind project. Experimental in kops.
package kindnet

import (
	"github.com/netconform/netconform/framework/ipfamily"
	"github.com/netconform/netconform/providers"
)

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
		// kops' spec.networking.kindnet (pkg/apis/kops KindnetNetworkingSpec) with the defaults
		// kops' KindnetOptionsBuilder sets; its masquerade block (enabled, nonMasqueradeCIDRs) is
		// not modelled here.
		Options: []providers.Option{
			{Name: "version", Type: providers.TypeString, Description: "Tag of kops' kindnet image, registry.k8s.io/networking/kindnet.", Default: "v1.0.1", InSpec: true},
			{Name: "networkPolicies", Type: providers.TypeBool, Description: "Enforce NetworkPolicy (--network-policy).", Default: "unset (kindnet's default)", InSpec: true},
			{Name: "adminNetworkPolicies", Type: providers.TypeBool, Description: "Enforce AdminNetworkPolicy (--admin-network-policy); kops then installs its CRD.", Default: "unset", InSpec: true},
			{Name: "baselineAdminNetworkPolicies", Type: providers.TypeBool, Description: "Enforce BaselineAdminNetworkPolicy; kops then installs its CRD.", Default: "unset", InSpec: true},
			{Name: "dnsCaching", Type: providers.TypeBool, Description: "kindnet's DNS cache (--dns-caching).", Default: "false", InSpec: true},
			{Name: "nat64", Type: providers.TypeBool, Description: "NAT64 on IPv6 clusters (--nat64).", Default: "false (true on IPv6-only clusters outside AWS)", InSpec: true},
			{Name: "fastPathThreshold", Type: providers.TypeInt, Description: "Packets of a connection before it is offloaded to the fast path (--fastpath-threshold).", Default: "0", Min: providers.IntPtr(0), InSpec: true},
			{Name: "logLevel", Type: providers.TypeInt, Description: "Log verbosity (--v).", Default: "2", Min: providers.IntPtr(0), InSpec: true},
		},
		Platforms: providers.Platforms{AnyCloud: true},
		Lifecycle: providers.Lifecycle{
			Status: providers.StatusExperimental,
			Note:   "Experimental in kops and may be removed at any time.",
		},
		Encapsulation:         providers.None("routed"),
		EnforcesNetworkPolicy: true,
		Kind: providers.KindSupport{
			Status: providers.KindUpstreamImages,
			Reason: "netconform installs kindnetd as kind ships it (kind " + KindVersion + "'s manifest and image; kops runs a different build, registry.k8s.io/networking/kindnet) " +
				"from its upstream image, where docker can pull it or already has it, and loads it into the nodes; of kops' options it takes logLevel, and those that match what kind's kindnetd does; " +
				"this installer never ran here (no registry is reachable from this project's machines): only its manifests are tested, against golden files",
			Images:     []string{Image},
			NotBuilt:   "its sources (kind's images/kindnetd, a module of its own outside the sigs.k8s.io/kind module zip) are not served by the Go module proxy this project can reach, so netconform builds no image of its own",
			IPFamilies: []ipfamily.Family{ipfamily.IPv4},
			IPv6Gap:    "kindnetd routes and masquerades IPv6 and dual stack itself (POD_SUBNET lists every family), but netconform's installer passes it the IPv4 pod subnet only so far",
		},
		Notes: []string{
			"NetworkPolicy support is recent in kindnet; older kindnet releases did not enforce it.",
			"kops runs registry.k8s.io/networking/kindnet (github.com/kubernetes-sigs/kindnet), with flags for its options; kind ships its own kindnetd (docker.io/kindest/kindnetd), which netconform installs on kind and which has none of those flags.",
		},
	}
}
