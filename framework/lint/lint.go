// Package lint checks the networking of kops cluster specs against the provider catalog
// before anything is created: each finding has a stable rule id, a severity, the file, YAML
// path and line to edit, a one-line message and a one-line fix.
package lint

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/netconform/netconform/framework/kopsspec"
	"github.com/netconform/netconform/providers"
)

// Severity of a finding.
type Severity string

// Severities, most severe first.
const (
	Error   Severity = "error"
	Warning Severity = "warning"
	Info    Severity = "info"
)

func (s Severity) rank() int {
	switch s {
	case Error:
		return 0
	case Warning:
		return 1
	}
	return 2
}

// Finding is one problem or remark about a spec.
type Finding struct {
	Rule     string   `json:"rule"`
	Severity Severity `json:"severity"`
	File     string   `json:"file"`
	Line     int      `json:"line"`
	// Path is the YAML path to edit, e.g. spec.networking.<provider>.mtu.
	Path    string `json:"path"`
	Message string `json:"message"`
	Fix     string `json:"fix"`
}

// Defaults for Options.
const (
	// DefaultRouteQuota is AWS's current default for routes per route table. The kops guide's
	// 50 is the old default; pass it explicitly for accounts that still have it.
	DefaultRouteQuota = 500
	// DefaultExistingRoutes counts the routes a node-route table (NC002) holds before any node
	// route: the VPC's local route and the default route to the internet gateway (or NAT).
	// Each spec.additionalNetworkCIDRs entry adds one more local route on top of this.
	DefaultExistingRoutes = 2
)

// Underlay MTUs by cloud, used for the MTU rule when Options.UnderlayMTU is zero. On AWS 9001 is
// the jumbo-frame MTU inside a VPC; traffic leaving through an internet gateway, a VPN or
// inter-region peering is limited to 1500, and users whose pod traffic takes such paths pass
// --underlay-mtu 1500. For clouds not listed the MTU check is skipped unless it is given.
func defaultUnderlayMTU(c providers.Cloud) int {
	switch c {
	case providers.AWS:
		return 9001
	case providers.GCE:
		return 1460
	case providers.Azure, providers.OpenStack, providers.DigitalOcean, providers.Hetzner, providers.Scaleway:
		return 1500
	}
	return 0
}

// Options tune the checks.
type Options struct {
	// Providers are the providers lint knows (cmd passes providers/catalog): their facts, and
	// the rules of those that are providers.Linter. Required.
	Providers providers.Registry
	// RouteQuota is the routes-per-route-table quota of the AWS account.
	RouteQuota int
	// ExistingRoutes is how many routes a node-route table (NC002) holds besides node routes.
	ExistingRoutes int
	// KopsVersion is the kops release the spec is for; zero means the newest release.
	KopsVersion providers.Version
	// UnderlayMTU is the MTU pod traffic crosses between nodes; zero means the cloud's default.
	UnderlayMTU int
}

// DefaultOptions returns the options the CLI starts from, knowing the providers in reg.
func DefaultOptions(reg providers.Registry) Options {
	return Options{Providers: reg, RouteQuota: DefaultRouteQuota, ExistingRoutes: DefaultExistingRoutes}
}

// ErrNoCluster is returned when the input holds no kops Cluster document.
var ErrNoCluster = errors.New("no kops Cluster document (kind: Cluster, apiVersion kops.k8s.io/v1alpha2) in the input")

// Check runs every rule on every cluster in set and returns the findings sorted by file, line
// and rule.
func Check(set *kopsspec.Set, opts Options) ([]Finding, error) {
	if opts.Providers == nil {
		return nil, errors.New("lint: no provider registry in the options")
	}
	if len(set.Clusters) == 0 {
		return nil, ErrNoCluster
	}
	rs, err := rules(opts.Providers)
	if err != nil {
		return nil, fmt.Errorf("lint: %w", err)
	}
	var out []Finding
	for _, c := range set.Clusters {
		cc := newClusterCheck(c, set.InstanceGroupsFor(c), opts)
		for _, r := range rs {
			out = append(out, r.check(r, cc)...)
		}
	}
	Sort(out)
	return out, nil
}

// Sort orders findings by file, line, rule and path.
func Sort(fs []Finding) {
	slices.SortStableFunc(fs, func(a, b Finding) int {
		return cmp.Or(
			strings.Compare(a.File, b.File),
			cmp.Compare(a.Line, b.Line),
			strings.Compare(a.Rule, b.Rule),
			strings.Compare(a.Path, b.Path),
		)
	})
}

// HasErrors reports whether any finding is an error.
func HasErrors(fs []Finding) bool {
	return slices.ContainsFunc(fs, func(f Finding) bool { return f.Severity == Error })
}

// block is a provider block the catalog knows, or the implied mode (providers.Descriptor.Implied)
// of a spec without one.
type block struct {
	kopsspec.ProviderBlock
	provider providers.Provider
	desc     providers.Descriptor
	// implied is true for the mode kops assumes when no provider is set.
	implied bool
}

// clusterCheck is what the rules look at for one cluster.
type clusterCheck struct {
	c    *kopsspec.Cluster
	igs  []*kopsspec.InstanceGroup
	opts Options
	// blocks are the known providers set, or the implied mode.
	blocks []block
	// unknown are spec.networking keys that are no provider in the catalog.
	unknown []kopsspec.ProviderBlock
	cloud   providers.Cloud
	// k8s is the parsed spec.kubernetesVersion; zero when absent or unreadable.
	k8s    providers.Version
	k8sErr error
}

func newClusterCheck(c *kopsspec.Cluster, igs []*kopsspec.InstanceGroup, opts Options) *clusterCheck {
	cc := &clusterCheck{c: c, igs: igs, opts: opts, cloud: providers.Cloud(strings.ToLower(c.CloudProvider.Value))}
	for _, b := range c.Networking.Providers {
		p, ok := opts.Providers.BySpecKey(b.Key)
		if !ok {
			cc.unknown = append(cc.unknown, b)
			continue
		}
		cc.blocks = append(cc.blocks, block{ProviderBlock: b, provider: p, desc: p.Descriptor()})
	}
	// A registry without an implied mode leaves such a spec unchecked; NC006 still says so.
	if p, ok := providers.ImpliedMode(opts.Providers); ok && len(c.Networking.Providers) == 0 {
		cc.blocks = append(cc.blocks, block{
			ProviderBlock: kopsspec.ProviderBlock{Key: p.Descriptor().SpecKey, Path: c.Networking.Path, Line: c.Networking.Line},
			provider:      p,
			desc:          p.Descriptor(),
			implied:       true,
		})
	}
	if c.KubernetesVersion.Set {
		cc.k8s, cc.k8sErr = providers.ParseVersion(c.KubernetesVersion.Value)
	}
	return cc
}

// find returns the block for the provider with spec key key.
func (cc *clusterCheck) find(key string) (block, bool) {
	for _, b := range cc.blocks {
		if b.Key == key {
			return b, true
		}
	}
	return block{}, false
}

// nodeCount returns the number of Kubernetes nodes the instance groups can grow to (control
// plane, nodes and API servers; bastions are not nodes). An instance group without maxSize
// counts minSize, and without either counts 1.
func (cc *clusterCheck) nodeCount() int {
	total := 0
	for _, ig := range cc.igs {
		if !isKubernetesNode(ig.Role.Value) {
			continue
		}
		n := 1
		switch {
		case ig.MaxSize.Set:
			n = ig.MaxSize.Value
		case ig.MinSize.Set:
			n = ig.MinSize.Value
		}
		total = saturatingAdd(total, n)
	}
	return total
}

func isKubernetesNode(role string) bool {
	switch strings.ToLower(role) {
	case "master", "controlplane", "node", "apiserver":
		return true
	}
	return false
}

func saturatingAdd(a, b int) int {
	const limit = 1 << 40
	if s := a + b; s < limit && s >= a {
		return s
	}
	return limit
}

// kubeProxyEnabled reports whether kube-proxy runs (absent means enabled).
func (cc *clusterCheck) kubeProxyEnabled() bool { return cc.view(block{}).KubeProxyEnabled() }

// view is what a provider's lint rules see of the cluster, with b as the provider's block.
func (cc *clusterCheck) view(b block) providers.LintCluster {
	return providers.LintCluster{
		Block:            b.ProviderBlock,
		Cloud:            cc.cloud,
		KubeProxy:        cc.c.KubeProxyEnabled,
		EtcdClusters:     cc.c.EtcdClusters,
		EtcdClustersPath: cc.c.EtcdClustersPath,
		NetworkID:        cc.c.NetworkID,
		InstanceGroups:   len(cc.igs),
		Nodes:            cc.nodeCount(),
	}
}

// at builds a finding located in the cluster's file.
func (cc *clusterCheck) at(r rule, path string, line int, msg, fix string) Finding {
	return Finding{Rule: r.id, Severity: r.severity, File: cc.c.File, Line: line, Path: path, Message: msg, Fix: fix}
}
