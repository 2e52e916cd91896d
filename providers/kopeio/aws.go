package kopeio

import "github.com/netconform/netconform/providers"

var _ providers.AWSNetworker = Provider{}

// AWSNetworking is kopeio's vxlan mode on AWS with kops' defaults.
func (Provider) AWSNetworking() []providers.AWSSpec {
	return []providers.AWSSpec{{Name: "kopeio-vxlan", KopsValue: "kopeio-vxlan", Spec: map[string]any{}, PrivateTopology: true}}
}
