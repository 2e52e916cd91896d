package aws

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/netconform/netconform/framework/aws/ec2check"
)

// AWS figures for MTU planning (see the kops networking guide: "AWS VPCs support jumbo frames,
// so on cluster creation kops sets the calico MTU to 8912 bytes (9001 minus overhead)").
const (
	vpcMTU      = 9001
	jumboPodMTU = 8912
)

// Encapsulation overheads in bytes.
const (
	overheadIPIP  = 20 // one outer IPv4 header
	overheadVXLAN = 50 // outer IPv4 + UDP + VXLAN + inner Ethernet
	overheadUDP   = 28 // flannel's udp backend: outer IPv4 + UDP
	overheadWeave = 87 // weave's worst case (fast datapath)
)

// Networking is what the AWS platform needs to know about a provider: how kops names it, what
// netconform writes into spec.networking.<SpecKey>, and what it requires from EC2.
//
// TODO(catalog): this is a local table so the AWS platform does not wait for the provider
// catalog; switch to providers/catalog (Lookup, Descriptor.KopsValues, SpecKey, Options'
// DefaultOnAWS, Encapsulation, Requirements) once it lands, and drop this file.
type Networking struct {
	Name string
	// KopsValue is the --networking value given to kops create cluster.
	KopsValue string
	// SpecKey is the key under spec.networking.
	SpecKey string
	// Spec is what netconform writes under spec.networking.<SpecKey> on AWS (on top of what
	// kops generated, and under the user's own options).
	Spec map[string]any
	// VPCRoutes, SourceDestDisabled, Overhead and ENIIPAM feed the EC2 checks.
	VPCRoutes          bool
	SourceDestDisabled bool
	Overhead           int
	ENIIPAM            bool
	// PrivateTopology is false for modes that cannot run with --topology private.
	PrivateTopology bool
	// Notes are printed with the plan.
	Notes []string
}

// networkings is the local provider table (see the TODO on Networking).
func networkings() []Networking {
	return []Networking{
		{
			Name: "kubenet", KopsValue: "kubenet", SpecKey: "kubenet", Spec: map[string]any{},
			VPCRoutes: true, SourceDestDisabled: true,
			Notes: []string{
				"one VPC route per node in a single route table: nodes beyond the Routes per route table quota (vpc/L-93826ACB) get no route",
				"the route controller turns each node's source/destination check off when it adds the node's route",
			},
		},
		{
			Name: "calico", KopsValue: "calico", SpecKey: "calico", PrivateTopology: true,
			Spec: map[string]any{
				"mtu": jumboPodMTU, "encapsulationMode": "ipip", "ipipMode": "CrossSubnet", "awsSrcDstCheck": "Disable",
			},
			SourceDestDisabled: true, Overhead: overheadIPIP,
			Notes: []string{
				"ipipMode CrossSubnet is the guide's crossSubnet: true (that field is ignored since kops 1.22): same-subnet traffic is unencapsulated, so calico turns source/destination checks off (awsSrcDstCheck: Disable)",
			},
		},
		{
			Name: "canal", KopsValue: "canal", SpecKey: "canal", Spec: map[string]any{}, PrivateTopology: true,
			Overhead: overheadVXLAN, Notes: []string{"not supported by kops from Kubernetes 1.28"},
		},
		{
			Name: "flannel", KopsValue: "flannel-vxlan", SpecKey: "flannel", Spec: map[string]any{"backend": "vxlan"}, PrivateTopology: true,
			Overhead: overheadVXLAN,
		},
		{
			Name: "flannel-udp", KopsValue: "flannel-udp", SpecKey: "flannel", Spec: map[string]any{"backend": "udp"}, PrivateTopology: true,
			Overhead: overheadUDP, Notes: []string{"legacy backend; flannel-vxlan is recommended"},
		},
		{
			Name: "kopeio-vxlan", KopsValue: "kopeio-vxlan", SpecKey: "kopeio", Spec: map[string]any{}, PrivateTopology: true,
			Overhead: overheadVXLAN,
		},
		{
			Name: "kube-router", KopsValue: "kube-router", SpecKey: "kuberouter", Spec: map[string]any{}, PrivateTopology: true,
			SourceDestDisabled: true, Overhead: overheadIPIP,
			Notes: []string{"kube-router replaces kube-proxy; it turns source/destination checks off itself and tunnels (ipip) only across subnets"},
		},
		{
			Name: "weave", KopsValue: "weave", SpecKey: "weave", Spec: map[string]any{"mtu": jumboPodMTU}, PrivateTopology: true,
			Overhead: overheadWeave, Notes: []string{"not supported from Kubernetes 1.23; kops 1.28 and later refuse it"},
		},
		{
			Name: "amazon-vpc-routed-eni", KopsValue: "amazonvpc", SpecKey: "amazonvpc", Spec: map[string]any{}, PrivateTopology: true,
			ENIIPAM: true,
			Notes:   []string{"pods take VPC addresses from the instances' interfaces: ENIs x (IPv4 per ENI - 1) + 2 pods per node at most"},
		},
		{
			Name: "cilium", KopsValue: "cilium", SpecKey: "cilium", Spec: map[string]any{}, PrivateTopology: true,
			Overhead: overheadVXLAN,
		},
	}
}

// aliases are other names users type for the table's entries.
func aliases() map[string]string {
	return map[string]string{"amazonvpc": "amazon-vpc-routed-eni", "flannel-vxlan": "flannel", "kopeio": "kopeio-vxlan", "kuberouter": "kube-router"}
}

// LookupNetworking finds a provider in the local table by name, kops value or spec key.
func LookupNetworking(name string) (Networking, error) {
	n := strings.ToLower(strings.TrimSpace(name))
	if a, ok := aliases()[n]; ok {
		n = a
	}
	var names []string
	for _, nw := range networkings() {
		if nw.Name == n {
			nw.Spec = maps.Clone(nw.Spec)
			return nw, nil
		}
		names = append(names, nw.Name)
	}
	sort.Strings(names)
	return Networking{}, fmt.Errorf("provider %q cannot be set up on AWS by netconform (known: %s)", name, strings.Join(names, ", "))
}

// WithOptions returns the networking with user options merged over netconform's (and typha
// for calico clusters over 50 nodes), and the figures that depend on them recomputed: calico's
// encapsulation decides its overhead and whether source/destination checks must be off.
func (n Networking) WithOptions(opts map[string]any, nodes int) Networking {
	out := n
	out.Spec = maps.Clone(n.Spec)
	out.Notes = slices.Clone(n.Notes)
	if n.Name == "calico" && nodes > 50 {
		out.Spec["typhaReplicas"] = 3
		out.Notes = append(out.Notes, fmt.Sprintf("%d nodes: typhaReplicas 3, as the guide recommends for clusters over 50 nodes", nodes))
	}
	for k, v := range opts {
		out.Spec[k] = v
	}
	if n.Name == "calico" {
		mode, _ := out.Spec["encapsulationMode"].(string)
		mode = strings.ToLower(mode)
		when := "CrossSubnet"
		if mode == "vxlan" {
			out.Overhead = overheadVXLAN
			if v, ok := out.Spec["vxlanMode"].(string); ok {
				when = v
			}
		} else {
			out.Overhead = overheadIPIP
			if v, ok := out.Spec["ipipMode"].(string); ok {
				when = v
			}
		}
		// Always encapsulated: EC2 only ever sees node addresses.
		out.SourceDestDisabled = !strings.EqualFold(when, "Always")
	}
	return out
}

// PodMTU is the MTU configured for pods in the spec, 0 when the provider derives it.
func (n Networking) PodMTU() int {
	switch v := n.Spec["mtu"].(type) {
	case int:
		return v
	case float64:
		return int(v)
	}
	return 0
}

// Requirements are what the EC2 checks expect for this networking.
func (n Networking) Requirements() ec2check.Requirements {
	return ec2check.Requirements{
		Provider: n.Name, VPCRoutes: n.VPCRoutes, SourceDestDisabled: n.SourceDestDisabled,
		PodMTU: n.PodMTU(), Overhead: n.Overhead, ENIIPAM: n.ENIIPAM,
	}
}
