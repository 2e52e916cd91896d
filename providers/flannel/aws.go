package flannel

import "github.com/netconform/netconform/providers"

var _ providers.AWSNetworker = Provider{}

// AWSNetworking is flannel on AWS: the vxlan backend (what "flannel" means), and the legacy udp.
func (Provider) AWSNetworking() []providers.AWSSpec {
	return []providers.AWSSpec{
		{Name: "flannel", KopsValue: "flannel-vxlan", Spec: map[string]any{"backend": BackendVXLAN}, PrivateTopology: true},
		{
			Name: "flannel-udp", KopsValue: "flannel-udp", Spec: map[string]any{"backend": BackendUDP}, PrivateTopology: true,
			Notes: []string{"legacy backend; flannel-vxlan is recommended"},
		},
	}
}
