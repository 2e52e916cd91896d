package kubenet

import "github.com/netconform/netconform/providers"

var _ providers.AWSNetworker = Provider{}

// AWSNetworking is kubenet on AWS: the route controller adds one VPC route per node.
func (Provider) AWSNetworking() []providers.AWSSpec {
	return []providers.AWSSpec{{
		Name: "kubenet", KopsValue: "kubenet", Spec: map[string]any{},
		VPCRoutes: true, SourceDestDisabled: true, GuideSwitchSafe: true,
		Notes: []string{
			"one VPC route per node in a single route table: nodes beyond the Routes per route table quota (vpc/L-93826ACB) get no route",
			"the route controller turns each node's source/destination check off when it adds the node's route",
		},
	}}
}
