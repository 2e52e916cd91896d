package providers

import (
	"fmt"

	"github.com/netconform/netconform/framework/kopsspec"
)

// Linter is implemented by providers that bring `netconform lint` rules about their own
// spec.networking block, so that what is true of one provider is written in that provider's
// package. framework/lint runs them beside its own rules, on clusters that set the provider.
type Linter interface {
	LintRules() []LintRule
}

// LintSeverity is how much a finding matters; framework/lint prints it as is.
type LintSeverity string

// Lint severities, most severe first; the same words framework/lint uses.
const (
	LintError   LintSeverity = "error"
	LintWarning LintSeverity = "warning"
	LintInfo    LintSeverity = "info"
)

// LintRule is one check a provider brings to lint.
type LintRule struct {
	// ID is the rule's stable id, NCnnn. An id names one check in `netconform lint --rules`
	// whoever implements it: a rule whose Title is empty is a part of the check lint already
	// has under that id (an option value that only works on one cloud is a part of NC007,
	// provider or option on a cloud it cannot run on), and must have that check's Severity.
	ID       string
	Severity LintSeverity
	Title    string
	// Check returns the rule's findings for one cluster that sets the provider.
	Check func(LintCluster) []LintFinding
	// CountsNodes marks a rule that reads LintCluster.Nodes: on a cluster linted without its
	// instance groups, lint says that such checks were skipped (NC016).
	CountsNodes bool
}

// LintCluster is what a provider's lint rules see of one kops cluster: the provider's own block
// and the few cluster settings today's rules read, each with the YAML path and line a finding
// points at. It grows only when a rule needs more.
type LintCluster struct {
	// Block is spec.networking.<the provider's spec key>.
	Block kopsspec.ProviderBlock
	// Cloud is spec.cloudProvider in lower case; empty when the spec does not say.
	Cloud Cloud
	// KubeProxy is spec.kubeProxy.enabled; absent means enabled (see KubeProxyEnabled).
	KubeProxy kopsspec.Field[bool]
	// EtcdClusters are the names under spec.etcdClusters[].name, found at EtcdClustersPath.
	EtcdClusters     []kopsspec.Field[string]
	EtcdClustersPath string
	// NetworkID is spec.networkID, the VPC the cluster runs in.
	NetworkID kopsspec.Field[string]
	// InstanceGroups is how many InstanceGroup documents came with the cluster; Nodes is the
	// number of Kubernetes nodes they can grow to (0 when there are none).
	InstanceGroups int
	Nodes          int
}

// KubeProxyEnabled reports whether kube-proxy runs: kops runs it unless the spec turns it off.
func (c LintCluster) KubeProxyEnabled() bool { return !c.KubeProxy.Set || c.KubeProxy.Value }

// KubeProxyWhy says where the spec leaves kube-proxy enabled, for a finding's message; it is
// shared so that every rule about kube-proxy says it the same way.
func (c LintCluster) KubeProxyWhy() string {
	if c.KubeProxy.Set {
		return fmt.Sprintf(" (%s: true, line %d)", c.KubeProxy.Path, c.KubeProxy.Line)
	}
	return fmt.Sprintf(" (%s is absent, which means enabled)", c.KubeProxy.Path)
}

// LintFinding is what a provider's rule found; lint adds the rule id, severity and file.
type LintFinding struct {
	// Path is the YAML path to edit and Line its line.
	Path    string
	Line    int
	Message string
	Fix     string
}
