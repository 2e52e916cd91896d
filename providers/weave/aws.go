package weave

import "github.com/netconform/netconform/providers"

var _ providers.AWSNetworker = Provider{}

// AWSNetworking is weave on AWS with the pod MTU kops writes there.
func (Provider) AWSNetworking() []providers.AWSSpec {
	return []providers.AWSSpec{{
		Name: "weave", KopsValue: "weave", Spec: map[string]any{"mtu": providers.JumboPodMTU}, PrivateTopology: true,
		Notes: []string{"not supported from Kubernetes 1.23; kops 1.28 and later refuse it"},
	}}
}
