// Package lyftvpc describes Lyft's cni-ipvlan-vpc-k8s as kops installed it: pods get VPC
// addresses on ENIs through IPvlan. AWS only; kops removed it in 1.23.
package lyftvpc

import "github.com/netconform/netconform/providers"

// Provider is Lyft's VPC CNI.
type Provider struct{}

var _ providers.Provider = Provider{}

// New returns the Lyft VPC provider.
func New() Provider { return Provider{} }

func nodeActions() []string {
	return []string{
		"ec2:CreateNetworkInterface",
		"ec2:AttachNetworkInterface",
		"ec2:DeleteNetworkInterface",
		"ec2:DetachNetworkInterface",
		"ec2:DescribeNetworkInterfaces",
		"ec2:DescribeInstances",
		"ec2:DescribeInstanceTypes",
		"ec2:ModifyNetworkInterfaceAttribute",
		"ec2:AssignPrivateIpAddresses",
		"ec2:UnassignPrivateIpAddresses",
		"tag:TagResources",
	}
}

// Descriptor returns Lyft VPC's facts.
func (Provider) Descriptor() providers.Descriptor {
	return providers.Descriptor{
		Name:       "lyftvpc",
		Title:      "Lyft cni-ipvlan-vpc-k8s",
		KopsValues: []providers.KopsValue{{Value: "lyftvpc"}},
		SpecKey:    "lyftvpc",
		Summary:    "Pods get VPC addresses on ENIs, attached with the kernel's IPvlan driver in L2 mode.",
		Options: []providers.Option{{
			Name:        "subnetTags",
			Type:        providers.TypeStringMap,
			Description: "Tags selecting the subnets new pod interfaces are attached to.",
			Default:     "unset",
			InSpec:      true,
		}},
		Platforms: providers.Platforms{Clouds: []providers.Cloud{providers.AWS}},
		Lifecycle: providers.Lifecycle{
			Status:           providers.StatusRemoved,
			IntroducedInKops: providers.V(1, 11),
			DeprecatedInKops: providers.V(1, 22),
			RemovedInKops:    providers.V(1, 23),
		},
		Requirements: providers.Requirements{
			Kernel: []providers.KernelRequirement{{Feature: providers.KernelIPVlan, When: providers.Always}},
			IAM: []providers.IAMGrant{
				{Role: "nodes", Actions: nodeActions(), Resource: "*", When: providers.Always},
				{Role: "nodes", Actions: []string{"ec2:CreateTags"}, Resource: "arn:aws:ec2:*:*:network-interface/*", When: providers.Always},
			},
		},
		Encapsulation:         providers.None("pods use VPC addresses"),
		EnforcesNetworkPolicy: false,
		Kind: providers.KindSupport{
			Status: providers.KindNotApplicable,
			Reason: "AWS only (EC2 ENI API), and removed from kops in 1.23",
		},
		Notes: []string{"Needs the VPC ID in spec.networkID."},
	}
}
