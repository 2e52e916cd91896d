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
	plan := &policyPlan{fx: fx, nodeIPs: []string{"172.18.0.2", "172.18.0.3", "172.18.0.4"}, any: "0.0.0.0/0"}
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
