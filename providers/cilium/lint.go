package cilium

import (
	"fmt"
	"strings"

	"github.com/netconform/netconform/providers"
)

var _ providers.Linter = Provider{}

// LintRules are the lint checks about cilium's own options: what ENI IPAM, the BPF kube-proxy
// replacement and a managed etcd need from the rest of the spec.
func (Provider) LintRules() []providers.LintRule {
	return []providers.LintRule{
		// A part of lint's NC007: the descriptor's OnlyOn is per option, and ipam is fine off
		// AWS; only its eni value is not.
		{ID: "NC007", Severity: providers.LintError, Check: checkENICloud},
		{ID: "NC009", Severity: providers.LintError, Title: "cilium ipam: eni without disableMasquerade", Check: checkENIMasquerade},
		{ID: "NC010", Severity: providers.LintError, Title: "cilium enableNodePort with kube-proxy enabled", Check: checkNodePort},
		{ID: "NC011", Severity: providers.LintError, Title: "cilium etcdManaged without an etcd cluster named cilium", Check: checkEtcd},
	}
}

// NC007 (cilium's part)
func checkENICloud(c providers.LintCluster) []providers.LintFinding {
	b := c.Block
	if b.Options["ipam"] != IPAMENI || c.Cloud == "" || c.Cloud == providers.AWS {
		return nil
	}
	return []providers.LintFinding{{Path: b.OptionPath("ipam"), Line: b.OptionLine("ipam"),
		Message: fmt.Sprintf("cilium ipam: eni needs AWS ENIs; this cluster is on %s", c.Cloud),
		Fix:     "remove ipam or set it to " + IPAMKubernetes}}
}

// NC009
func checkENIMasquerade(c providers.LintCluster) []providers.LintFinding {
	b := c.Block
	if b.Options["ipam"] != IPAMENI || b.Options["disableMasquerade"] == true {
		return nil
	}
	return []providers.LintFinding{{Path: b.OptionPath("ipam"), Line: b.OptionLine("ipam"),
		Message: "cilium ipam: eni gives pods VPC addresses, which must not be masqueraded, but disableMasquerade is not true",
		Fix:     fmt.Sprintf("set %s: true", b.OptionPath("disableMasquerade"))}}
}

// NC010
func checkNodePort(c providers.LintCluster) []providers.LintFinding {
	b := c.Block
	if b.Options["enableNodePort"] != true || !c.KubeProxyEnabled() {
		return nil
	}
	return []providers.LintFinding{{Path: b.OptionPath("enableNodePort"), Line: b.OptionLine("enableNodePort"),
		Message: "cilium enableNodePort replaces kube-proxy, but kube-proxy is enabled" + c.KubeProxyWhy(),
		Fix:     fmt.Sprintf("set %s: false (nodes need Linux %s or later)", c.KubeProxy.Path, NodePortMinKernel)}}
}

// NC011
func checkEtcd(c providers.LintCluster) []providers.LintFinding {
	b := c.Block
	if b.Options["etcdManaged"] != true {
		return nil
	}
	names := make([]string, 0, len(c.EtcdClusters))
	for _, e := range c.EtcdClusters {
		if e.Value == EtcdClusterName {
			return nil
		}
		names = append(names, e.Value)
	}
	have := "none"
	if len(names) > 0 {
		have = strings.Join(names, ", ")
	}
	return []providers.LintFinding{{Path: b.OptionPath("etcdManaged"), Line: b.OptionLine("etcdManaged"),
		Message: fmt.Sprintf("cilium etcdManaged needs an etcd cluster named %s in %s (have: %s)", EtcdClusterName, c.EtcdClustersPath, have),
		Fix:     fmt.Sprintf("add an etcd cluster named %s with the same members as the others, or remove etcdManaged", EtcdClusterName)}}
}
