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

// Networking is what the AWS platform needs to know about a provider: how kops names it, what
// netconform writes into spec.networking.<SpecKey>, and what it requires from EC2. The
// provider's facts (spec key, encapsulation and its overhead, options) and what netconform does on
// AWS (providers.AWSSpec, declared by each provider package) both come from the registry in
// Config.Providers.
type Networking struct {
	// AWSSpec is the provider's entry for this kops value (name, kops value, the spec netconform
	// writes, what EC2 must allow, notes), with the user's options merged in by WithOptions.
	providers.AWSSpec
	// SpecKey is the key under spec.networking.
	SpecKey string
	// OutOfSpec are settings kops keeps beside the spec (options with InSpec false, such as an
	// encryption password kept with kops create secret): never written into a spec (lint rule
	// NC014), and never printed when secret.
	OutOfSpec map[string]any
	// Encapsulation is the provider's for the options in Spec (providers.EncapsulationOf):
	// its kind and per-packet overhead. Routed providers have none.
	Encapsulation providers.Encapsulation

	provider providers.Provider
	// reg is the registry n was found in: it knows which spec.networking keys select a provider.
	reg providers.Registry
}

// LookupNetworking finds what netconform does on AWS for a provider named by its netconform
// name, spec key or kops --networking value, from reg: the provider's AWSSpec entry for that kops
// value (its first entry for any other name), with the provider's facts.
func LookupNetworking(reg providers.Registry, name string) (Networking, error) {
	p, err := reg.Lookup(name)
	if err != nil {
		return Networking{}, fmt.Errorf("provider %q cannot be set up on AWS by netconform (known: %s): %w", name, strings.Join(awsNames(reg), ", "), err)
	}
	aw, ok := p.(providers.AWSNetworker)
	if !ok {
		return Networking{}, fmt.Errorf("provider %q cannot be set up on AWS by netconform (known: %s)", name, strings.Join(awsNames(reg), ", "))
	}
	entries := aw.AWSNetworking()
	if len(entries) == 0 {
		return Networking{}, fmt.Errorf("provider %s declares no AWS setup", p.Descriptor().Name)
	}
	e := entries[0]
	for _, c := range entries {
		if want := strings.TrimSpace(name); strings.EqualFold(want, c.KopsValue) || strings.EqualFold(want, c.Name) {
			e = c
		}
	}
	d := p.Descriptor()
	e.Spec, e.Notes = maps.Clone(e.Spec), slices.Clone(e.Notes)
	nw := Networking{AWSSpec: e, SpecKey: d.SpecKey, provider: p, reg: reg}
	if nw.Spec == nil {
		nw.Spec = map[string]any{}
	}
	nw.Encapsulation = providers.EncapsulationOf(p, nw.Spec)
	return nw, nil
}

// awsNames are the names of every AWS setup reg's providers declare, sorted.
func awsNames(reg providers.Registry) []string {
	var names []string
	for _, p := range reg.All() {
		if aw, ok := p.(providers.AWSNetworker); ok {
			for _, e := range aw.AWSNetworking() {
				names = append(names, e.Name)
			}
		}
	}
	sort.Strings(names)
	return names
}

// WithOptions returns the networking with user options merged over netconform's, and the figures
// that depend on them recomputed: the encapsulation (providers.EncapsulationOf), and whatever the
// provider adjusts for the options and the cluster's size (providers.AWSAdjuster). Options kops
// keeps outside the spec go to OutOfSpec.
func (n Networking) WithOptions(opts map[string]any, nodes int) Networking {
	out := n
	out.Spec = maps.Clone(n.Spec)
	out.OutOfSpec = maps.Clone(n.OutOfSpec)
	out.Notes = slices.Clone(n.Notes)
	inSpec := map[string]any{}
	for k, v := range opts {
		if o, known := n.option(k); known && !o.InSpec {
			if out.OutOfSpec == nil {
				out.OutOfSpec = map[string]any{}
			}
			out.OutOfSpec[k] = v
			continue
		}
		out.Spec[k] = v
		inSpec[k] = v
	}
	if a, ok := n.provider.(providers.AWSAdjuster); ok {
		out.AWSSpec = a.AdjustAWS(out.AWSSpec, inSpec, nodes)
	}
	if n.provider != nil {
		out.Encapsulation = providers.EncapsulationOf(n.provider, out.Spec)
	}
	return out
}

// Implied reports whether n's provider is the mode kops assumes when spec.networking selects
// none (providers.Descriptor.Implied).
func (n Networking) Implied() bool { return n.provider != nil && n.provider.Descriptor().Implied }

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

// RouteBudget is the room in the route table of a mode that relies on VPC routes
// (Networking.VPCRoutes): the route controller adds one route per node
// (its pod CIDR) to a table that already holds Existing routes, and the table holds at most
// Quota (the Routes per route table quota, vpc/L-93826ACB).
type RouteBudget struct {
	// Provider names the mode in messages; Alternatives are the providers suggested instead
	// (providers.Suggested).
	Provider, Alternatives string
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
	return fmt.Errorf("%s needs %d routes in one route table (%d nodes + %d existing routes), above the Routes per route table quota of %d (vpc/L-93826ACB): use at most %d nodes, raise the quota (then pass --route-quota), or use a CNI provider such as %s",
		r.Provider, r.Nodes+r.Existing, r.Nodes, r.Existing, r.Quota, r.Quota-r.Existing, r.Alternatives)
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
