// Package kubenet describes kops' kubenet mode: kubelet's bridge networking with one cloud
// route per node.
package kubenet

import (
	"github.com/netconform/netconform/framework/ipfamily"
	"github.com/netconform/netconform/providers"
)

// Provider is kubenet.
type Provider struct{}

var _ providers.Provider = Provider{}

// New returns the kubenet provider.
func New() Provider { return Provider{} }

// Descriptor returns kubenet's facts.
func (Provider) Descriptor() providers.Descriptor {
	return providers.Descriptor{
		Name:       "kubenet",
		Title:      "kubenet",
		KopsValues: []providers.KopsValue{{Value: "kubenet"}},
		SpecKey:    "kubenet",
		Summary:    "The control plane gives each node a /24 from the pod network and adds one cloud route per node; no overlay.",
		Platforms:  providers.Platforms{AnyCloud: true},
		Lifecycle: providers.Lifecycle{
			Status:           providers.StatusSupported,
			IntroducedInKops: providers.V(1, 5),
			IsDefault:        true,
			DefaultUntilKops: providers.V(1, 26),
			Note:             "kops' default until 1.26; from 1.26 kops create cluster picks cilium. A spec with no provider still means kubenet.",
		},
		Requirements: providers.Requirements{
			Kernel: []providers.KernelRequirement{{Feature: providers.KernelBridge, When: providers.Always}},
			IAM: []providers.IAMGrant{{
				Role:     "control plane",
				Actions:  []string{"ec2:CreateRoute", "ec2:DeleteRoute", "ec2:DescribeRouteTables", "ec2:ModifyInstanceAttribute"},
				Resource: "*",
				When:     providers.When("on AWS (the route controller)"),
			}},
			SrcDstCheckDisabled: providers.When("on AWS (the route controller turns it off when it adds a node's route)"),
			SingleRouteTable:    true,
		},
		Encapsulation:         providers.None("routed: one route per node in the cloud's route table"),
		EnforcesNetworkPolicy: false,
		// A spec with no provider is kubenet to kops.
		Implied: true,
		Kind: providers.KindSupport{
			Status: providers.KindSupported,
			Reason: "kind nodes share one network; a host route per node stands in for the cloud routes",
			// The simplest mode and the fastest install: make e2e and run use it when no provider is named.
			Default: true,
			// Its installer writes a host-local range, peer routes and masquerading per family.
			IPFamilies: []ipfamily.Family{ipfamily.IPv4, ipfamily.IPv6, ipfamily.Dual},
		},
		Notes: []string{
			"Needs a single route table with one route per node: AWS's routes-per-table quota caps the node count (the guide's 50 is the old default).",
			"Cannot be used with a private topology, which has one route table per zone.",
		},
	}
}
