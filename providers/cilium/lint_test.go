package cilium

import (
	"testing"

	"github.com/netconform/netconform/framework/kopsspec"
	"github.com/netconform/netconform/providers"
)

// findings runs cilium's rule id on c.
func findings(t *testing.T, id string, c providers.LintCluster) []providers.LintFinding {
	t.Helper()
	for _, r := range (Provider{}).LintRules() {
		if r.ID == id {
			return r.Check(c)
		}
	}
	t.Fatalf("cilium has no lint rule %s", id)
	return nil
}

func block(opts map[string]any) kopsspec.ProviderBlock {
	return kopsspec.ProviderBlock{Key: "cilium", Path: "spec.networking.cilium", Line: 40, Options: opts,
		OptionLines: map[string]int{"etcdManaged": 41, "enableNodePort": 42}}
}

// The cases the golden files in framework/lint do not show: no etcd clusters at all, and
// kube-proxy turned on explicitly.
func TestLintRuleEdges(t *testing.T) {
	etcd := providers.LintCluster{Block: block(map[string]any{"etcdManaged": true}), EtcdClustersPath: "spec.etcdClusters"}
	fs := findings(t, "NC011", etcd)
	if len(fs) != 1 || fs[0].Line != 41 || fs[0].Message != "cilium etcdManaged needs an etcd cluster named cilium in spec.etcdClusters (have: none)" {
		t.Errorf("NC011 without etcd clusters = %+v", fs)
	}
	etcd.EtcdClusters = []kopsspec.Field[string]{{Value: "main"}, {Value: EtcdClusterName}}
	if fs := findings(t, "NC011", etcd); len(fs) != 0 {
		t.Errorf("NC011 with an etcd cluster named cilium = %+v", fs)
	}

	np := providers.LintCluster{Block: block(map[string]any{"enableNodePort": true}),
		KubeProxy: kopsspec.Field[bool]{Value: true, Set: true, Path: "spec.kubeProxy.enabled", Line: 12}}
	fs = findings(t, "NC010", np)
	if len(fs) != 1 || fs[0].Path != "spec.networking.cilium.enableNodePort" ||
		fs[0].Message != "cilium enableNodePort replaces kube-proxy, but kube-proxy is enabled (spec.kubeProxy.enabled: true, line 12)" ||
		fs[0].Fix != "set spec.kubeProxy.enabled: false (nodes need Linux 4.19.57 or later)" {
		t.Errorf("NC010 with kube-proxy on = %+v", fs)
	}
	np.KubeProxy.Value = false
	if fs := findings(t, "NC010", np); len(fs) != 0 {
		t.Errorf("NC010 with kube-proxy off = %+v", fs)
	}

	eni := providers.LintCluster{Block: block(map[string]any{"ipam": IPAMENI})}
	if fs := findings(t, "NC007", eni); len(fs) != 0 {
		t.Errorf("NC007 with no cloud in the spec = %+v; the cloud is unknown, so nothing to say", fs)
	}
}
