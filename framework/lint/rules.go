package lint

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/netconform/netconform/framework/kopsspec"
	"github.com/netconform/netconform/providers"
)

// RuleInfo describes a rule for documentation and `netconform lint --rules`.
type RuleInfo struct {
	ID       string   `json:"id"`
	Severity Severity `json:"severity"`
	Title    string   `json:"title"`
}

type rule struct {
	id       string
	severity Severity
	// title is empty for a provider's part of a check lint has under the same id.
	title string
	check func(r rule, cc *clusterCheck) []Finding
}

// Rules lists every rule, lint's own and those of the providers in reg, in id order, each id
// once. Ids are stable: a rule that goes away leaves a gap.
func Rules(reg providers.Registry) ([]RuleInfo, error) {
	rs, err := rules(reg)
	if err != nil {
		return nil, err
	}
	var out []RuleInfo
	for _, r := range rs {
		if r.title != "" {
			out = append(out, RuleInfo{ID: r.id, Severity: r.severity, Title: r.title})
		}
	}
	return out, nil
}

// ownRules are the rules about kops and the catalog's facts in general; rules about one
// provider's options live in its package (providers.Linter). Titles that name a mode take its
// name from reg: the mode needing a single route table, the one kops implies.
func ownRules(reg providers.Registry) []rule {
	routed := routedName(reg)
	return []rule{
		{"NC001", Error, routed + " with a private topology", checkRoutedPrivate},
		{"NC002", Error, routed + " node routes exceed the route-table quota", checkRoutedRoutes},
		{"NC003", Error, "provider or option not available for the kops or Kubernetes version", checkUnavailable},
		{"NC004", Warning, "provider deprecated", checkDeprecated},
		{"NC005", Error, "more than one networking provider set", checkMultiple},
		{"NC006", Info, "no networking provider set: kops means " + impliedName(reg), checkNone},
		{"NC007", Error, "provider or option on a cloud it cannot run on", checkCloud},
		{"NC008", Error, "MTU above the underlay MTU minus encapsulation overhead", checkMTU},
		{"NC014", Error, "invalid provider option", checkOptions},
		{"NC015", Warning, "networking key that is no provider netconform knows", checkUnknown},
		{"NC016", Info, "no instance groups: node-count checks skipped", checkNoInstanceGroups},
		{"NC017", Warning, "kubernetesVersion missing or unreadable", checkKubernetesVersion},
	}
}

// routedName names the providers in reg that need a single route table
// (Requirements.SingleRouteTable), for NC001 and NC002's titles.
func routedName(reg providers.Registry) string {
	var names []string
	for _, p := range reg.All() {
		if d := p.Descriptor(); d.Requirements.SingleRouteTable {
			names = append(names, d.Name)
		}
	}
	if len(names) == 0 {
		return "a mode needing a single route table"
	}
	return strings.Join(names, " or ")
}

// impliedName is the mode kops assumes when no provider is set.
func impliedName(reg providers.Registry) string {
	if p, ok := providers.ImpliedMode(reg); ok {
		return p.Descriptor().Name
	}
	return "its default"
}

var ruleID = regexp.MustCompile(`^NC\d{3}$`)

// rules are lint's own rules and those of reg's providers, sorted by id (lint's first within
// an id). A provider rule must have a valid id and severity and a check; one with a title
// must not take an id in use, and one without (a part) must join a check of the same severity.
func rules(reg providers.Registry) ([]rule, error) {
	all := ownRules(reg)
	whole := map[string]rule{}
	for _, r := range all {
		whole[r.id] = r
	}
	var parts []rule
	for _, p := range reg.All() {
		l, ok := p.(providers.Linter)
		if !ok {
			continue
		}
		d := p.Descriptor()
		for _, lr := range l.LintRules() {
			r := providerRule(d.SpecKey, lr)
			switch sev := Severity(lr.Severity); {
			case !ruleID.MatchString(lr.ID) || lr.Check == nil:
				return nil, fmt.Errorf("provider %s: lint rule %q: want an id NCnnn and a check", d.Name, lr.ID)
			case sev != Error && sev != Warning && sev != Info:
				return nil, fmt.Errorf("provider %s: lint rule %s: severity %q is not error, warning or info", d.Name, lr.ID, lr.Severity)
			case lr.Title != "":
				if w, taken := whole[lr.ID]; taken {
					return nil, fmt.Errorf("provider %s: lint rule %s (%s): the id is taken by %q", d.Name, lr.ID, lr.Title, w.title)
				}
				whole[lr.ID] = r
				all = append(all, r)
			default:
				parts = append(parts, r)
			}
		}
	}
	// Parts are checked once every whole rule is known, so a part may join another provider's.
	for _, r := range parts {
		w, ok := whole[r.id]
		if !ok || w.severity != r.severity {
			return nil, fmt.Errorf("lint rule %s: a provider's part of it has severity %s, but lint has no %s rule of that severity", r.id, r.severity, r.id)
		}
		all = append(all, r)
	}
	slices.SortStableFunc(all, func(a, b rule) int { return strings.Compare(a.id, b.id) })
	return all, nil
}

// providerRule runs a provider's rule on clusters that set the provider (spec key key), and
// places its findings in the cluster's file.
func providerRule(key string, lr providers.LintRule) rule {
	return rule{id: lr.ID, severity: Severity(lr.Severity), title: lr.Title, check: func(r rule, cc *clusterCheck) []Finding {
		b, ok := cc.find(key)
		if !ok {
			return nil
		}
		var out []Finding
		for _, f := range lr.Check(cc.view(b)) {
			out = append(out, cc.at(r, f.Path, f.Line, f.Message, f.Fix))
		}
		return out
	}}
}

const seeProviders = "see `netconform providers` for the alternatives"

// NC001
func checkRoutedPrivate(r rule, cc *clusterCheck) []Finding {
	b, ok := cc.routed()
	if !ok {
		return nil
	}
	var where string
	for _, f := range []kopsspec.Field[string]{cc.c.TopologyNodes, cc.c.TopologyControlPlane} {
		if strings.EqualFold(f.Value, "private") {
			where = fmt.Sprintf("%s: %s, line %d", f.Path, f.Value, f.Line)
			break
		}
	}
	if where == "" && !cc.c.TopologyNodes.Set && !cc.c.TopologyControlPlane.Set {
		for _, s := range cc.c.Subnets {
			if strings.EqualFold(s.Type, "Private") {
				where = fmt.Sprintf("subnet %s at %s is Private, line %d", s.Name, s.Path, s.Line)
				break
			}
		}
	}
	if where == "" {
		return nil
	}
	return []Finding{cc.at(r, b.Path, b.Line,
		fmt.Sprintf("%s cannot run with a private topology (%s): it needs one route table, a private topology has one per zone", blockName(b), where),
		"choose a CNI provider such as "+providers.Suggested(cc.opts.Providers)+" under spec.networking, or use a public topology")}
}

// blockName is the block's provider name, saying so when kops only implies it.
func blockName(b block) string {
	if b.implied {
		return b.desc.Name + " (implied: no provider set)"
	}
	return b.desc.Name
}

// routed is the block of a mode that needs a single route table, if the cluster sets one.
func (cc *clusterCheck) routed() (block, bool) {
	for _, b := range cc.blocks {
		if b.desc.Requirements.SingleRouteTable {
			return b, true
		}
	}
	return block{}, false
}

// NC002
func checkRoutedRoutes(r rule, cc *clusterCheck) []Finding {
	b, ok := cc.routed()
	if !ok || cc.cloud != providers.AWS || len(cc.igs) == 0 {
		return nil
	}
	nodes := cc.nodeCount()
	existing := cc.opts.ExistingRoutes + len(cc.c.AdditionalNetworkCIDRs.Value)
	need := saturatingAdd(nodes, existing)
	if need <= cc.opts.RouteQuota {
		return nil
	}
	return []Finding{cc.at(r, b.Path, b.Line,
		fmt.Sprintf("%s needs %d routes in one table (%d nodes at maxSize + %d existing); quota %d", blockName(b), need, nodes, existing, cc.opts.RouteQuota),
		"lower the instance groups' maxSize, raise the routes-per-route-table quota (then pass --route-quota), or use a CNI provider such as "+providers.Suggested(cc.opts.Providers))}
}

// NC003
func checkUnavailable(r rule, cc *clusterCheck) []Finding {
	var out []Finding
	for _, b := range cc.blocks {
		v := b.desc.Lifecycle.At(cc.opts.KopsVersion, cc.k8s)
		switch v.Status {
		case providers.StatusRemoved:
			fix := "switch spec.networking to a supported provider; " + seeProviders
			if cc.opts.KopsVersion.IsZero() {
				fix += " (or pass --kops-version for an older kops)"
			}
			out = append(out, cc.at(r, b.Path, b.Line,
				fmt.Sprintf("%s is %s%s", b.desc.Name, v.Reason, kopsSuffix(cc.opts.KopsVersion)), fix))
		case providers.StatusNotYet:
			out = append(out, cc.at(r, b.Path, b.Line,
				fmt.Sprintf("%s is %s%s", b.desc.Name, v.Reason, kopsSuffix(cc.opts.KopsVersion)),
				fmt.Sprintf("use kops %s or later, or another provider", b.desc.Lifecycle.IntroducedInKops)))
		case providers.StatusUnsupported:
			out = append(out, cc.at(r, b.Path, b.Line,
				fmt.Sprintf("%s is %s (spec.kubernetesVersion is %s)", b.desc.Name, v.Reason, cc.c.KubernetesVersion.Value),
				fmt.Sprintf("switch provider before moving to Kubernetes %s; %s", b.desc.Lifecycle.UnsupportedFromKubernetes, seeProviders)))
		}
		if cc.opts.KopsVersion.IsZero() {
			continue
		}
		for _, o := range b.desc.Options {
			if _, set := b.Options[o.Name]; !set || o.SinceKops.IsZero() || cc.opts.KopsVersion.AtLeast(o.SinceKops) {
				continue
			}
			out = append(out, cc.at(r, b.OptionPath(o.Name), b.OptionLine(o.Name),
				fmt.Sprintf("%s option %s needs kops %s or later (--kops-version %s)", b.desc.Name, o.Name, o.SinceKops, cc.opts.KopsVersion),
				fmt.Sprintf("remove %s or use kops %s or later", o.Name, o.SinceKops)))
		}
	}
	return out
}

func kopsSuffix(v providers.Version) string {
	if v.IsZero() {
		return ""
	}
	return fmt.Sprintf(" (--kops-version %s)", v)
}

// NC004
func checkDeprecated(r rule, cc *clusterCheck) []Finding {
	var out []Finding
	for _, b := range cc.blocks {
		v := b.desc.Lifecycle.At(cc.opts.KopsVersion, cc.k8s)
		if v.Status != providers.StatusDeprecated {
			continue
		}
		msg := fmt.Sprintf("%s is %s%s", b.desc.Name, v.Reason, kopsSuffix(cc.opts.KopsVersion))
		if rm := b.desc.Lifecycle.RemovedInKops; !rm.IsZero() {
			msg += fmt.Sprintf(" and removed in kops %s", rm)
		}
		out = append(out, cc.at(r, b.Path, b.Line, msg, "plan a move to a supported provider; "+seeProviders))
	}
	return out
}

// NC005
func checkMultiple(r rule, cc *clusterCheck) []Finding {
	ps := cc.c.Networking.Providers
	if len(ps) < 2 {
		return nil
	}
	keys := make([]string, 0, len(ps))
	for _, p := range ps {
		keys = append(keys, p.Key)
	}
	return []Finding{cc.at(r, ps[1].Path, ps[1].Line,
		fmt.Sprintf("%d networking providers set (%s); kops needs exactly one", len(ps), strings.Join(keys, ", ")),
		fmt.Sprintf("keep one key under %s and delete the others", cc.c.Networking.Path))}
}

// NC006
func checkNone(r rule, cc *clusterCheck) []Finding {
	if len(cc.c.Networking.Providers) != 0 {
		return nil
	}
	what := "spec.networking is absent"
	if cc.c.Networking.Set {
		what = "spec.networking names no provider"
	}
	implied := impliedName(cc.opts.Providers)
	fix := fmt.Sprintf("set the provider explicitly, e.g. networking: {%s: {}}", implied)
	if p, ok := kopsDefault(cc.opts.Providers); ok {
		fix += fmt.Sprintf(" (kops create cluster picks %s from kops %s)", p.Name, p.Lifecycle.DefaultFromKops)
	}
	return []Finding{cc.at(r, cc.c.Networking.Path, cc.c.Networking.Line,
		fmt.Sprintf("%s: kops treats a spec without a provider as %s, and %s's checks apply", what, implied, implied),
		fix)}
}

// kopsDefault is the provider the newest kops picks when --networking is not given.
func kopsDefault(reg providers.Registry) (providers.Descriptor, bool) {
	for _, p := range reg.All() {
		if d := p.Descriptor(); d.Lifecycle.DefaultAt(providers.Version{}) && !d.Lifecycle.DefaultFromKops.IsZero() {
			return d, true
		}
	}
	return providers.Descriptor{}, false
}

// NC007
func checkCloud(r rule, cc *clusterCheck) []Finding {
	if cc.cloud == "" {
		return nil
	}
	var out []Finding
	for _, b := range cc.blocks {
		if !b.desc.Platforms.RunsOn(cc.cloud) {
			out = append(out, cc.at(r, b.Path, b.Line,
				fmt.Sprintf("%s runs on %s; this cluster is on %s", b.desc.Name, b.desc.Platforms, cc.cloud),
				"choose a provider that runs on "+string(cc.cloud)+"; "+seeProviders))
			continue
		}
		for _, o := range b.desc.Options {
			if len(o.OnlyOn) == 0 || slices.Contains(o.OnlyOn, cc.cloud) || !truthy(b.Options[o.Name]) {
				continue
			}
			out = append(out, cc.at(r, b.OptionPath(o.Name), b.OptionLine(o.Name),
				fmt.Sprintf("%s option %s only applies on %s; this cluster is on %s", b.desc.Name, o.Name, cloudList(o.OnlyOn), cc.cloud),
				"remove "+o.Name))
		}
	}
	return out
}

func truthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case string:
		return x != ""
	case int:
		return x != 0
	}
	return true
}

func cloudList(cs []providers.Cloud) string {
	names := make([]string, 0, len(cs))
	for _, c := range cs {
		names = append(names, string(c))
	}
	return strings.Join(names, ", ")
}

// NC008
func checkMTU(r rule, cc *clusterCheck) []Finding {
	underlay, source := cc.opts.UnderlayMTU, "--underlay-mtu"
	if underlay == 0 {
		underlay, source = defaultUnderlayMTU(cc.cloud), "the "+string(cc.cloud)+" default"
	}
	if underlay == 0 {
		return nil
	}
	var out []Finding
	for _, b := range cc.blocks {
		if _, known := b.desc.Option("mtu"); !known {
			continue
		}
		mtu, ok := b.Options["mtu"].(int)
		if !ok {
			continue // absent, or a type error reported by NC014
		}
		enc := providers.EncapsulationOf(b.provider, b.Options)
		limit := enc.PodMTU(underlay)
		if mtu <= limit {
			continue
		}
		fix := fmt.Sprintf("set %s to %d or lower", b.OptionPath("mtu"), limit)
		if cc.opts.UnderlayMTU == 0 {
			fix += " (and check it against --underlay-mtu 1500 if pod traffic crosses a VPN or internet gateway)"
		}
		out = append(out, cc.at(r, b.OptionPath("mtu"), b.OptionLine("mtu"),
			fmt.Sprintf("%s mtu %d is above %d: underlay %d (%s) minus %d bytes of %s overhead", b.desc.Name, mtu, limit, underlay, source, enc.Overhead, enc.Kind),
			fix))
	}
	return out
}

// NC014
func checkOptions(r rule, cc *clusterCheck) []Finding {
	var out []Finding
	for _, b := range cc.blocks {
		for _, e := range providers.ValidateOptions(b.desc, b.Options) {
			o, _ := b.desc.Option(e.Option)
			fix := fmt.Sprintf("set %s to a valid value (%s)", b.OptionPath(e.Option), o.Type)
			if !o.InSpec {
				fix = fmt.Sprintf("delete %s from the spec and use %s", b.OptionPath(e.Option), o.Source)
			}
			out = append(out, cc.at(r, b.OptionPath(e.Option), b.OptionLine(e.Option),
				fmt.Sprintf("%s %s", b.desc.Name, e.Error()), fix))
		}
	}
	return out
}

// NC015
func checkUnknown(r rule, cc *clusterCheck) []Finding {
	var out []Finding
	for _, u := range cc.unknown {
		out = append(out, cc.at(r, u.Path, u.Line,
			fmt.Sprintf("%q is not a networking provider netconform knows; its checks are skipped", u.Key),
			"check the spelling; spec keys netconform knows: "+strings.Join(specKeys(cc.opts.Providers), ", ")))
	}
	return out
}

func specKeys(reg providers.Registry) []string {
	var out []string
	for _, p := range reg.All() {
		out = append(out, p.Descriptor().SpecKey)
	}
	return out
}

// NC016
func checkNoInstanceGroups(r rule, cc *clusterCheck) []Finding {
	if len(cc.igs) > 0 || !cc.needsNodeCount() {
		return nil
	}
	return []Finding{cc.at(r, cc.c.Networking.Path, cc.c.Networking.Line,
		fmt.Sprintf("no InstanceGroup documents for cluster %q: node-count checks (route quota, Typha) were skipped", cc.c.Name),
		"lint the cluster together with its instance groups: kops get ig -o yaml")}
}

// needsNodeCount reports whether a rule that counts nodes applies to the cluster: NC002 on AWS,
// or a provider rule marked CountsNodes.
func (cc *clusterCheck) needsNodeCount() bool {
	if _, ok := cc.routed(); ok && cc.cloud == providers.AWS {
		return true
	}
	for _, b := range cc.blocks {
		if l, ok := b.provider.(providers.Linter); ok && slices.ContainsFunc(l.LintRules(), func(r providers.LintRule) bool { return r.CountsNodes }) {
			return true
		}
	}
	return false
}

// NC017
func checkKubernetesVersion(r rule, cc *clusterCheck) []Finding {
	kv := cc.c.KubernetesVersion
	switch {
	case !kv.Set:
		return []Finding{cc.at(r, kv.Path, cc.c.Line,
			"spec.kubernetesVersion is not set: Kubernetes-version checks were skipped",
			"set spec.kubernetesVersion (kops get cluster -o yaml prints it)")}
	case cc.k8sErr != nil:
		return []Finding{cc.at(r, kv.Path, kv.Line,
			fmt.Sprintf("cannot read spec.kubernetesVersion: %v; Kubernetes-version checks were skipped", cc.k8sErr),
			"write it as MAJOR.MINOR.PATCH, e.g. 1.29.3")}
	}
	return nil
}
