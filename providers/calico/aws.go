package calico

import (
	"fmt"
	"strings"

	"github.com/netconform/netconform/providers"
)

var (
	_ providers.AWSNetworker = Provider{}
	_ providers.AWSAdjuster  = Provider{}
)

// typhaNodes is the cluster size above which the kops networking guide recommends Typha.
const typhaNodes = 50

// AWSNetworking is calico as netconform sets it up on AWS: kops' jumbo pod MTU, IP-in-IP across
// subnets only.
func (Provider) AWSNetworking() []providers.AWSSpec {
	return []providers.AWSSpec{{
		Name: "calico", KopsValue: "calico", PrivateTopology: true,
		Spec: map[string]any{
			"mtu": providers.JumboPodMTU, "encapsulationMode": "ipip", "ipipMode": "CrossSubnet", "awsSrcDstCheck": "Disable",
		},
		SourceDestDisabled: true,
		Notes: []string{
			"ipipMode CrossSubnet is the guide's crossSubnet: true (that field is ignored since kops 1.22): same-subnet traffic is unencapsulated, so calico turns source/destination checks off (awsSrcDstCheck: Disable)",
		},
	}}
}

// AdjustAWS adds Typha on clusters over 50 nodes, and works out from the encapsulation mode
// whether any pod traffic leaves a node unencapsulated (then EC2's source/destination check must
// be off).
func (Provider) AdjustAWS(s providers.AWSSpec, given map[string]any, nodes int) providers.AWSSpec {
	if nodes > typhaNodes {
		if _, set := given["typhaReplicas"]; !set {
			s.Spec["typhaReplicas"] = 3
		}
		s.Notes = append(s.Notes, fmt.Sprintf("%d nodes: typhaReplicas 3, as the guide recommends for clusters over 50 nodes", nodes))
	}
	mode, _ := s.Spec["encapsulationMode"].(string)
	key := "ipipMode"
	if strings.EqualFold(mode, "vxlan") {
		key = "vxlanMode"
	}
	when := "CrossSubnet"
	if v, ok := s.Spec[key].(string); ok {
		when = v
	}
	// Always encapsulated: EC2 only ever sees node addresses.
	s.SourceDestDisabled = !strings.EqualFold(when, "Always")
	return s
}
