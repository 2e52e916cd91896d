package suites

import (
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/netconform/netconform/framework/agents"
	"github.com/netconform/netconform/framework/netpol"
)

// TestPolicyScenariosValid builds every scenario against a fixture as deployment would give it:
// each policy must be one the API server accepts, each scenario must have a step, and there
// must be at least 30 scenarios whose model tables differ from no policy at all in some step
// (a scenario that can never fail proves nothing).
func TestPolicyScenariosValid(t *testing.T) {
	fx := &agents.PolicyFixture{Namespaces: map[string]agents.PolicyNamespace{}}
	namespaces := map[string]map[string]string{}
	for i, sfx := range agents.PolicyNamespaceSuffixes {
		name := agents.PolicyNamespaceName("netconform", sfx)
		fx.Namespaces[sfx] = agents.PolicyNamespace{Name: name, Labels: map[string]string{"ns": sfx, "kubernetes.io/metadata.name": name}}
		namespaces[name] = fx.Namespaces[sfx].Labels
		for j, pod := range agents.PolicyPodNames {
			fx.Pods = append(fx.Pods, agents.PolicyPod{Agent: agents.Agent{Node: fmt.Sprint("n", (i+j)%3), IP: fmt.Sprintf("10.244.%d.%d", i, j+2)},
				Namespace: name, Suffix: sfx, Name: pod})
		}
	}
	plan := &policyPlan{fx: fx, nodeSources: [][]string{{"10.244.33.0", "172.18.0.2"}, {"172.18.0.3"}, {"172.18.0.4"}}, any: "0.0.0.0/0"}
	changing := 0
	for _, sc := range policyScenarios {
		steps := sc.steps(plan)
		if len(steps) == 0 {
			t.Errorf("%s: no step", sc.name)
		}
		changes := false
		for _, st := range steps {
			for _, p := range st.policies {
				if err := netpol.Validate(p); err != nil {
					t.Errorf("%s: %s: %v", sc.name, p.Name, err)
				}
			}
			m := netpol.Cluster{Namespaces: namespaces, Policies: st.policies}
			for _, s := range fx.Pods {
				for _, d := range fx.Pods {
					src, dst := podEndpoint(s), podEndpoint(d)
					for _, port := range []int32{agents.PolicyPortA, agents.PolicyPortB} {
						for _, proto := range []corev1.Protocol{corev1.ProtocolTCP, corev1.ProtocolUDP} {
							if s.Namespace+s.Name != d.Namespace+d.Name && !m.Evaluate(netpol.Traffic{From: src, To: dst, Port: port, Protocol: proto}).Allowed {
								changes = true
							}
						}
					}
				}
			}
		}
		if changes {
			changing++
		}
	}
	if changing < 30 {
		t.Errorf("%d scenarios block some pod-to-pod cell in a step, want at least 30", changing)
	}
}

// TestHostCellsUseTheSeenAddress: a node's cells carry the address each destination saw it
// come from, and the node's own address only where nothing was seen.
func TestHostCellsUseTheSeenAddress(t *testing.T) {
	fx := &agents.PolicyFixture{Pods: []agents.PolicyPod{
		{Agent: agents.Agent{Node: "n0", IP: "10.244.0.2", Role: "x-a"}, Namespace: "ns-x", Suffix: "x", Name: "a"},
		{Agent: agents.Agent{Node: "n1", IP: "10.244.1.2", Role: "x-b"}, Namespace: "ns-x", Suffix: "x", Name: "b"},
	}}
	h := agents.Agent{Node: "n0", IP: "172.18.0.2"}
	r := &policyRun{fx: fx, hosts: []agents.Agent{h}, seenAs: map[string]map[string]string{"n0": {"10.244.1.2": "10.244.33.0"}}}
	got := map[string]string{}
	for _, c := range r.cells(policyScenario{hosts: true}) {
		if c.src.Host != nil {
			got[c.to] = c.src.Host.IP
		}
	}
	want := map[string]string{"x/a": "172.18.0.2", "x/b": "10.244.33.0"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("host cells' source addresses: got %v, want %v", got, want)
	}
	if s := r.sourcesOf(h); fmt.Sprint(s) != "[10.244.33.0]" {
		t.Errorf("sourcesOf: got %v", s)
	}
	if s := r.sourcesOf(agents.Agent{Node: "n9", IP: "172.18.0.9"}); fmt.Sprint(s) != "[172.18.0.9]" {
		t.Errorf("sourcesOf an unmeasured node: got %v", s)
	}
}
