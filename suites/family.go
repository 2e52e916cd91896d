package suites

import (
	"github.com/onsi/ginkgo/v2"

	"github.com/netconform/netconform/framework/ipfamily"
)

// families are the address families the per-family checks are declared for: the cluster's
// (env.Family; IPv4 when unknown). A label-filter preview (env nil) declares both, so that a
// filter naming ipv6 is valid before the cluster exists; a run declares what the cluster has.
func families() []ipfamily.Family {
	if env == nil {
		return []ipfamily.Family{ipfamily.IPv4, ipfamily.IPv6}
	}
	return env.Family.Stacks()
}

// inFamily declares a check in one address family.
type inFamily struct{ fam ipfamily.Family }

// perFamily declares the checks of declare once per address family of the cluster.
func perFamily(declare func(f inFamily)) {
	for _, fam := range families() {
		declare(inFamily{fam})
	}
}

// name is the check's name in the family: IPv4 checks keep the names they had before
// netconform knew families (results and matrices of IPv4 clusters compare across versions);
// the others say their family.
func (f inFamily) name(text string) string {
	if f.fam == ipfamily.IPv4 {
		return text
	}
	return text + " (" + f.fam.Title() + ")"
}

// metric is a measurement's name in the family: IPv4's as before, the others' suffixed.
func (f inFamily) metric(name string) string {
	if f.fam == ipfamily.IPv4 {
		return name
	}
	return name + "_" + string(f.fam)
}

// label is the family's label (ipv4, ipv6): `--label-filter ipv6` selects the IPv6 checks.
func (f inFamily) label() ginkgo.Labels { return ginkgo.Label(string(f.fam)) }

// spec runs body with env.Fleet seen in the family (agents.Fleet.In): every agent's IP and
// every Service's ClusterIP are the family's, so the row builders need not know families.
// Specs run one at a time (the binary runs ginkgo in one process, serially), and the fleet is
// put back however body ends.
func (f inFamily) spec(body func(ctx ginkgo.SpecContext)) func(ginkgo.SpecContext) {
	return func(ctx ginkgo.SpecContext) {
		all := env.Fleet
		env.Fleet = all.In(f.fam)
		defer func() { env.Fleet = all }()
		body(ctx)
	}
}
