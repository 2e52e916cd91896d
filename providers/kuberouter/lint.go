package kuberouter

import (
	"fmt"

	"github.com/netconform/netconform/providers"
)

var _ providers.Linter = Provider{}

// LintRules are the lint checks about kube-router as kops installs it: it is the service proxy.
func (Provider) LintRules() []providers.LintRule {
	return []providers.LintRule{
		{ID: "NC012", Severity: providers.LintError, Title: "kube-router with kube-proxy enabled", Check: checkKubeProxy},
	}
}

// NC012: two service proxies would both program the node's service rules.
func checkKubeProxy(c providers.LintCluster) []providers.LintFinding {
	if !c.KubeProxyEnabled() {
		return nil
	}
	return []providers.LintFinding{{Path: c.Block.Path, Line: c.Block.Line,
		Message: "kube-router provides the service proxy itself, but kube-proxy is enabled" + c.KubeProxyWhy(),
		Fix:     fmt.Sprintf("set %s: false", c.KubeProxy.Path)}}
}
