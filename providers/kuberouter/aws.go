package kuberouter

import "github.com/netconform/netconform/providers"

var _ providers.AWSNetworker = Provider{}

// AWSNetworking is kube-router on AWS with kops' defaults.
func (Provider) AWSNetworking() []providers.AWSSpec {
	return []providers.AWSSpec{{
		Name: "kube-router", KopsValue: "kube-router", Spec: map[string]any{}, PrivateTopology: true,
		SourceDestDisabled: true,
		Notes:              []string{"kube-router replaces kube-proxy; it turns source/destination checks off itself and tunnels (ipip) only across subnets"},
	}}
}
