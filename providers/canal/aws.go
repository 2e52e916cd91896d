package canal

import "github.com/netconform/netconform/providers"

var _ providers.AWSNetworker = Provider{}

// AWSNetworking is canal on AWS with kops' defaults.
func (Provider) AWSNetworking() []providers.AWSSpec {
	return []providers.AWSSpec{{
		Name: "canal", KopsValue: "canal", Spec: map[string]any{}, PrivateTopology: true,
		Notes: []string{"not supported by kops from Kubernetes 1.28"},
	}}
}
