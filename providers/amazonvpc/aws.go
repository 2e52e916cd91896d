package amazonvpc

import "github.com/netconform/netconform/providers"

var _ providers.AWSNetworker = Provider{}

// AWSNetworking is the Amazon VPC CNI: pods take addresses of the instances' interfaces.
func (Provider) AWSNetworking() []providers.AWSSpec {
	return []providers.AWSSpec{{
		Name: "amazon-vpc-routed-eni", KopsValue: "amazonvpc", Spec: map[string]any{}, PrivateTopology: true,
		ENIIPAM: true,
		Notes:   []string{"pods take VPC addresses from the instances' interfaces: ENIs x (IPv4 per ENI - 1) + 2 pods per node at most"},
	}}
}
