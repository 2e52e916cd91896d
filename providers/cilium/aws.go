package cilium

import "github.com/netconform/netconform/providers"

var _ providers.AWSNetworker = Provider{}

// AWSNetworking is cilium on AWS with kops' defaults.
func (Provider) AWSNetworking() []providers.AWSSpec {
	return []providers.AWSSpec{{Name: "cilium", KopsValue: "cilium", Spec: map[string]any{}, PrivateTopology: true}}
}
