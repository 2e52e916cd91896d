// Package amazonvpc describes the Amazon VPC CNI (amazon-vpc-routed-eni) as kops installs it:
// pods get VPC addresses from secondary IPs on elastic network interfaces. AWS only.
package amazonvpc

import "github.com/netconform/netconform/providers"

// Provider is the Amazon VPC CNI.
type Provider struct{}

var _ providers.Provider = Provider{}

// New returns the Amazon VPC CNI provider.
func New() Provider { return Provider{} }

// nodeActions are the EC2 actions kops grants every node for the plugin.
func nodeActions() []string {
	return []string{
		"ec2:CreateNetworkInterface",
		"ec2:AttachNetworkInterface",
		"ec2:DeleteNetworkInterface",
		"ec2:DetachNetworkInterface",
		"ec2:DescribeNetworkInterfaces",
		"ec2:DescribeInstances",
		"ec2:ModifyNetworkInterfaceAttribute",
		"ec2:AssignPrivateIpAddresses",
		"ec2:UnassignPrivateIpAddresses",
		"tag:TagResources",
	}
}

// Descriptor returns the Amazon VPC CNI's facts.
func (Provider) Descriptor() providers.Descriptor {
	return providers.Descriptor{
		Name:  "amazonvpc",
		Title: "Amazon VPC CNI",
		KopsValues: []providers.KopsValue{
			{Value: "amazonvpc"},
			{Value: "amazon-vpc-routed-eni"},
		},
		SpecKey: "amazonvpc",
		Summary: "Pods get VPC addresses (secondary IPs on ENIs) and are routed natively by the VPC.",
		Options: []providers.Option{{
			Name:        "env",
			Type:        providers.TypeEnvList,
			Description: "Environment variables for the plugin (WARM_IP_TARGET, AWS_VPC_K8S_CNI_LOGLEVEL, ...); values are strings.",
			Default:     "none",
			InSpec:      true,
		}},
		Platforms: providers.Platforms{Clouds: []providers.Cloud{providers.AWS}},
		Lifecycle: providers.Lifecycle{
			Status:           providers.StatusSupported,
			IntroducedInKops: providers.V(1, 9),
			Note:             "Stable since kops 1.21.",
		},
		Requirements: providers.Requirements{
			IAM: []providers.IAMGrant{
				{Role: "nodes", Actions: nodeActions(), Resource: "*", When: providers.Always},
				{Role: "nodes", Actions: []string{"ec2:CreateTags"}, Resource: "arn:aws:ec2:*:*:network-interface/*", When: providers.Always},
			},
		},
		Encapsulation:         providers.None("pods use VPC addresses"),
		EnforcesNetworkPolicy: false,
		Kind: providers.KindSupport{
			Status: providers.KindNotApplicable,
			Reason: "AWS only: it needs the EC2 ENI API",
		},
		Notes: []string{
			"Pods use the VPC CIDR: no isolation between control plane, nodes and the pod network.",
			"Plugin logs are in /var/log/aws-routed-eni on every node.",
		},
	}
}
