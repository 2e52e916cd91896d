package aws

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/netconform/netconform/framework/aws/ec2check"
	"github.com/netconform/netconform/providers"
)

// jumboPodMTU is the pod MTU kops writes on AWS for calico and weave (the kops networking
// guide: "on cluster creation kops sets the calico MTU to 8912 bytes (9001 minus overhead)").
// Plans check it against the underlay like any MTU a user sets; TestNetworkingAgreesWithCatalog
// keeps it equal to the catalog's DefaultOnAWS.
const jumboPodMTU = 8912

// Networking is what the AWS platform needs to know about a provider: how kops names it, what
// netconform writes into spec.networking.<SpecKey>, and what it requires from EC2. The
// provider's facts (spec key, encapsulation and its overhead, options) come from the registry in
// Config.Providers (the provider catalog); the table below holds only what netconform does on AWS.
type Networking struct {
	Name string
	// KopsValue is the --networking value given to kops create cluster.
	KopsValue string
	// SpecKey is the key under spec.networking.
	SpecKey string
	// Spec is what netconform writes under spec.networking.<SpecKey> on AWS (on top of what
	// kops generated, and under the user's own options).
	Spec map[string]any
	// OutOfSpec are settings kops keeps beside the spec, such as weave's encryption password
	// (kops create secret weavepassword): never written into a spec (lint rule NC014), and
	// never printed when secret.
	OutOfSpec map[string]any
	// Encapsulation is the provider's for the options in Spec (providers.EncapsulationOf):
	// its kind and per-packet overhead. Routed providers have none.
	Encapsulation providers.Encapsulation
	// VPCRoutes, SourceDestDisabled and ENIIPAM feed the EC2 checks.
	VPCRoutes          bool
	SourceDestDisabled bool
	ENIIPAM            bool
	// PrivateTopology is false for modes that cannot run with --topology private.
	PrivateTopology bool
	// Notes are printed with the plan.
	Notes []string

	provider providers.Provider
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
			SourceDestDisabled: true,
			Notes: []string{
				"ipipMode CrossSubnet is the guide's crossSubnet: true (that field is ignored since kops 1.22): same-subnet traffic is unencapsulated, so calico turns source/destination checks off (awsSrcDstCheck: Disable)",
			},
		},
		{
			Name: "canal", KopsValue: "canal", SpecKey: "canal", Spec: map[string]any{}, PrivateTopology: true, Notes: []string{"not supported by kops from Kubernetes 1.28"},
		},
		{
			Name: "flannel", KopsValue: "flannel-vxlan", SpecKey: "flannel", Spec: map[string]any{"backend": "vxlan"}, PrivateTopology: true,
		},
		{
			Name: "flannel-udp", KopsValue: "flannel-udp", SpecKey: "flannel", Spec: map[string]any{"backend": "udp"}, PrivateTopology: true, Notes: []string{"legacy backend; flannel-vxlan is recommended"},
		},
		{
			Name: "kopeio-vxlan", KopsValue: "kopeio-vxlan", SpecKey: "kopeio", Spec: map[string]any{}, PrivateTopology: true,
		},
		{
			Name: "kube-router", KopsValue: "kube-router", SpecKey: "kuberouter", Spec: map[string]any{}, PrivateTopology: true,
			SourceDestDisabled: true,
			Notes:              []string{"kube-router replaces kube-proxy; it turns source/destination checks off itself and tunnels (ipip) only across subnets"},
		},
		{
			Name: "weave", KopsValue: "weave", SpecKey: "weave", Spec: map[string]any{"mtu": jumboPodMTU}, PrivateTopology: true, Notes: []string{"not supported from Kubernetes 1.23; kops 1.28 and later refuse it"},
		},
		{
			Name: "amazon-vpc-routed-eni", KopsValue: "amazonvpc", SpecKey: "amazonvpc", Spec: map[string]any{}, PrivateTopology: true,
			ENIIPAM: true,
			Notes:   []string{"pods take VPC addresses from the instances' interfaces: ENIs x (IPv4 per ENI - 1) + 2 pods per node at most"},
		},
		{
			Name: "cilium", KopsValue: "cilium", SpecKey: "cilium", Spec: map[string]any{}, PrivateTopology: true,
		},
	}
}

// aliases are other names users type for the table's entries.
func aliases() map[string]string {
	return map[string]string{"amazonvpc": "amazon-vpc-routed-eni", "flannel-vxlan": "flannel", "kopeio": "kopeio-vxlan", "kuberouter": "kube-router"}
}

// LookupNetworking finds a provider in the local table by name, kops value or spec key, with
// its facts from reg (the provider catalog).
func LookupNetworking(reg providers.Registry, name string) (Networking, error) {
	n := strings.ToLower(strings.TrimSpace(name))
	if a, ok := aliases()[n]; ok {
		n = a
	}
	var names []string
	for _, nw := range networkings() {
		if nw.Name != n {
			names = append(names, nw.Name)
			continue
		}
		p, err := reg.Lookup(nw.KopsValue)
		if err != nil {
			return Networking{}, fmt.Errorf("provider %s: %w", nw.Name, err)
		}
		nw.provider = p
		nw.Spec = maps.Clone(nw.Spec)
		nw.Encapsulation = providers.EncapsulationOf(p, nw.Spec)
		return nw, nil
	}
	sort.Strings(names)
	return Networking{}, fmt.Errorf("provider %q cannot be set up on AWS by netconform (known: %s)", name, strings.Join(names, ", "))
}

// WithOptions returns the networking with user options merged over netconform's (and typha
// for calico clusters over 50 nodes), and the figures that depend on them recomputed: the
// encapsulation (from the provider catalog), and for calico whether source/destination checks
// must be off. Options kops keeps outside the spec go to OutOfSpec.
func (n Networking) WithOptions(opts map[string]any, nodes int) Networking {
	out := n
	out.Spec = maps.Clone(n.Spec)
	out.OutOfSpec = maps.Clone(n.OutOfSpec)
	out.Notes = slices.Clone(n.Notes)
	if n.Name == "calico" && nodes > 50 {
		out.Spec["typhaReplicas"] = 3
		out.Notes = append(out.Notes, fmt.Sprintf("%d nodes: typhaReplicas 3, as the guide recommends for clusters over 50 nodes", nodes))
	}
	for k, v := range opts {
		if o, known := n.option(k); known && !o.InSpec {
			if out.OutOfSpec == nil {
				out.OutOfSpec = map[string]any{}
			}
			out.OutOfSpec[k] = v
			continue
		}
		out.Spec[k] = v
	}
	if n.provider != nil {
		out.Encapsulation = providers.EncapsulationOf(n.provider, out.Spec)
	}
	if n.Name == "calico" {
		mode, _ := out.Spec["encapsulationMode"].(string)
		key := "ipipMode"
		if strings.EqualFold(mode, "vxlan") {
			key = "vxlanMode"
		}
		when := "CrossSubnet"
		if v, ok := out.Spec[key].(string); ok {
			when = v
		}
		// Always encapsulated: EC2 only ever sees node addresses.
		out.SourceDestDisabled = !strings.EqualFold(when, "Always")
	}
	return out
}

// option is the provider's option called name, from the catalog.
func (n Networking) option(name string) (providers.Option, bool) {
	if n.provider == nil {
		return providers.Option{}, false
	}
	return n.provider.Descriptor().Option(name)
}

// Secret reports whether the provider's option called name is a secret.
func (n Networking) Secret(name string) bool {
	o, ok := n.option(name)
	return ok && o.Secret
}

// PodMTU is the MTU configured for pods in the spec, 0 when the provider derives it.
func (n Networking) PodMTU() int {
	switch v := n.Spec["mtu"].(type) {
	case int:
		return v
	case float64:
		return int(v)
	case string:
		m, _ := strconv.Atoi(v)
		return m
	}
	return 0
}

// MTUFit is a plan's MTU arithmetic: pod packets plus the encapsulation's overhead must fit the
// MTU of the instances' interfaces inside the VPC.
type MTUFit struct {
	Underlay      int
	Pod           int
	Encapsulation providers.Encapsulation
	// Derived is true when the spec sets no pod MTU and the provider derives it (Underlay
	// minus overhead).
	Derived bool
}

// MTU is the networking's MTU arithmetic on a VPC of jumbo-frame instance types.
func (n Networking) MTU() MTUFit {
	m := MTUFit{Underlay: ec2check.JumboMTU, Pod: n.PodMTU(), Encapsulation: n.Encapsulation}
	if m.Pod == 0 {
		m.Pod, m.Derived = n.Encapsulation.PodMTU(m.Underlay), true
	}
	return m
}

// Outer is the size of a full pod packet on the underlay.
func (m MTUFit) Outer() int { return m.Pod + m.Encapsulation.Overhead }

// Err says why the pod MTU does not fit, or nil.
func (m MTUFit) Err(provider string) error {
	if m.Outer() <= m.Underlay {
		return nil
	}
	return fmt.Errorf("%s pod MTU %d + %d bytes of %s overhead = %d does not fit the VPC interfaces' MTU %d: set mtu to %d or lower",
		provider, m.Pod, m.Encapsulation.Overhead, m.Encapsulation.Kind, m.Outer(), m.Underlay, m.Encapsulation.PodMTU(m.Underlay))
}

// String is the plan's MTU line.
func (m MTUFit) String() string {
	if m.Derived {
		return fmt.Sprintf("MTU: interfaces at %d (jumbo frames); the provider derives its pod MTU: %d - %d bytes of %s overhead = %d",
			m.Underlay, m.Underlay, m.Encapsulation.Overhead, m.Encapsulation.Kind, m.Pod)
	}
	return fmt.Sprintf("MTU: interfaces at %d (jumbo frames); pod MTU %d + %d bytes of %s overhead = %d fits, %d bytes to spare",
		m.Underlay, m.Pod, m.Encapsulation.Overhead, m.Encapsulation.Kind, m.Outer(), m.Underlay-m.Outer())
}

// RouteBudget is a kubenet route table's room: the route controller adds one route per node
// (its pod CIDR) to a table that already holds Existing routes, and the table holds at most
// Quota (the Routes per route table quota, vpc/L-93826ACB).
type RouteBudget struct {
	Quota, Existing, Nodes int
}

// Headroom is how many more nodes could join; negative when nodes are already left without a
// route.
func (r RouteBudget) Headroom() int { return r.Quota - r.Existing - r.Nodes }

// Err says why the routes do not fit, or nil.
func (r RouteBudget) Err() error {
	if r.Headroom() >= 0 {
		return nil
	}
	return fmt.Errorf("kubenet needs %d routes in one route table (%d nodes + %d existing routes), above the Routes per route table quota of %d (vpc/L-93826ACB): use at most %d nodes, raise the quota (then pass --route-quota), or use a CNI provider such as calico or cilium",
		r.Nodes+r.Existing, r.Nodes, r.Existing, r.Quota, r.Quota-r.Existing)
}

// String is the plan's route table line.
func (r RouteBudget) String() string {
	return fmt.Sprintf("route table: one route per node pod CIDR to the node, no blackholes; %d nodes + %d existing routes = %d of the Routes per route table quota %d (vpc/L-93826ACB): room for %d more nodes",
		r.Nodes, r.Existing, r.Nodes+r.Existing, r.Quota, r.Headroom())
}

// Requirements are what the EC2 checks expect for this networking.
func (n Networking) Requirements() ec2check.Requirements {
	return ec2check.Requirements{
		Provider: n.Name, VPCRoutes: n.VPCRoutes, SourceDestDisabled: n.SourceDestDisabled,
		PodMTU: n.PodMTU(), Overhead: n.Encapsulation.Overhead, ENIIPAM: n.ENIIPAM,
	}
}
