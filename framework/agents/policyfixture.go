package agents

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/netconform/netconform/framework/kube"
)

// The NetworkPolicy fixture: three namespaces (x, y, z) of three pod agents each (a, b, c),
// the shape cyclonus and upstream's netpol tests probe, spread so that every namespace has a
// pod on every node of a three-node cluster. Each pod serves TCP and UDP echo on ports 80 and
// 81 besides the agent's own ports, and names some of them, so that policies can name ports.
// It is deployed only for the NetworkPolicy suite, and deleted when it ends.
const (
	// PolicyFixtureLabel marks the fixture's namespaces; its value is the agents' namespace,
	// so that Remove finds what a run left behind.
	PolicyFixtureLabel = "netconform.io/policy-fixture"
	// PolicyService is the ClusterIP Service in namespace y in front of pod y/b (ports 80 over
	// TCP and UDP): a policy on a Service's backend, reached through the ClusterIP.
	PolicyService = "pol-svc"
	// PolicyPortA and PolicyPortB are the ports policies name.
	PolicyPortA = 80
	PolicyPortB = 81
	// policyRole is the RoleLabel of the fixture's pods.
	policyRole = "policy"
)

// PolicyNamespaceSuffixes and PolicyPodNames are the fixture's shape: namespace <agents ns>-x
// and so on, pods a, b, c in each.
var (
	PolicyNamespaceSuffixes = []string{"x", "y", "z"}
	PolicyPodNames          = []string{"a", "b", "c"}
)

// PolicyFixture is the deployed fixture.
type PolicyFixture struct {
	// Namespaces by suffix (x, y, z): their names and labels as the cluster has them.
	Namespaces map[string]PolicyNamespace
	// Pods in order x/a, x/b, x/c, y/a, ...; one that is not Ready says why (Agent.Why).
	Pods []PolicyPod
	// ServiceIP is PolicyService's ClusterIP ("" when it could not be created: ServiceWhy).
	ServiceIP, ServiceWhy string
}

// PolicyNamespace is one of the fixture's namespaces.
type PolicyNamespace struct {
	Name   string
	Labels map[string]string
}

// PolicyPod is one of the fixture's pods: an agent, asked like the others, plus what policies
// select it by.
type PolicyPod struct {
	Agent
	Namespace string // the namespace's name
	Suffix    string // x, y or z
	Name      string // a, b or c
	Labels    map[string]string
	Ports     []corev1.ContainerPort
}

// policyNamespaceLabels are the labels policies select the fixture's namespaces by: ns (its
// suffix) and env, prod for x and y, dev for z, so that one selector can match two of them.
func policyNamespaceLabels(suffix string) map[string]string {
	env := "prod"
	if suffix == "z" {
		env = "dev"
	}
	return map[string]string{"ns": suffix, "env": env}
}

// policyPodLabels: pod (its name) and tier, web for a and c, db for b.
func policyPodLabels(name string) map[string]string {
	tier := "web"
	if name == "b" {
		tier = "db"
	}
	return map[string]string{"pod": name, "tier": tier}
}

// policyPodPorts are the container ports a pod declares. The name "web" is TCP 80 on a, TCP 81
// on b and absent on c, so a policy naming it admits a different port on each; "uweb" is UDP
// 80 on every pod.
func policyPodPorts(name string) []corev1.ContainerPort {
	tcp80 := corev1.ContainerPort{ContainerPort: PolicyPortA, Protocol: corev1.ProtocolTCP}
	tcp81 := corev1.ContainerPort{ContainerPort: PolicyPortB, Protocol: corev1.ProtocolTCP}
	switch name {
	case "a":
		tcp80.Name = "web"
	case "b":
		tcp81.Name = "web"
	default:
		tcp80.Name = "serve"
	}
	return []corev1.ContainerPort{
		{Name: "control", ContainerPort: 29080, Protocol: corev1.ProtocolTCP},
		tcp80, tcp81,
		{Name: "uweb", ContainerPort: PolicyPortA, Protocol: corev1.ProtocolUDP},
		{ContainerPort: PolicyPortB, Protocol: corev1.ProtocolUDP},
	}
}

// PolicyNamespaceName is the name of the fixture's namespace with that suffix.
func PolicyNamespaceName(agentsNS, suffix string) string { return agentsNS + "-" + suffix }

// DeployPolicyFixture creates the fixture next to the agents of agentsNS, the pods pinned
// round-robin to nodes, and waits (within the agents' bound) for its pods to be Ready. Pods
// that do not become Ready are reported in the fixture, not as an error, like the agents; an
// error only for what no check could run without (a namespace, no nodes).
func DeployPolicyFixture(ctx context.Context, c *kube.Client, agentsNS, image string, nodes []string) (*PolicyFixture, error) {
	if len(nodes) == 0 {
		return nil, errors.New("policy fixture: the cluster has no node to run its pods on")
	}
	fx := &PolicyFixture{Namespaces: map[string]PolicyNamespace{}}
	for i, sfx := range PolicyNamespaceSuffixes {
		ns := PolicyNamespaceName(agentsNS, sfx)
		labels := policyNamespaceLabels(sfx)
		labels[PolicyFixtureLabel] = agentsNS
		if err := ensureNamespace(ctx, c, ns, labels); err != nil {
			return nil, fmt.Errorf("policy fixture: %w", err)
		}
		for j, name := range PolicyPodNames {
			spec := agentPodSpec(image, false, policyPodPorts(name))
			// Pinned, not scheduled: each namespace gets a pod on each of three nodes.
			spec.NodeName = nodes[(i+j)%len(nodes)]
			spec.Containers[0].Env = append(spec.Containers[0].Env, corev1.EnvVar{Name: "ECHO_PORTS", Value: fmt.Sprintf("%d,%d", PolicyPortA, PolicyPortB)})
			pl := policyPodLabels(name)
			pl[appLabel] = "netconform-probe"
			pl[RoleLabel] = policyRole
			pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: pl}, Spec: spec}
			if err := ensurePod(ctx, c, pod, c.Timeouts.APICall); err != nil {
				return nil, fmt.Errorf("policy fixture: %w", err)
			}
		}
	}
	fx.ServiceIP, fx.ServiceWhy = ensurePolicyService(ctx, c, PolicyNamespaceName(agentsNS, "y"))
	err := waitPolicyPods(ctx, c, agentsNS, fx)
	return fx, err
}

// ensurePolicyService creates PolicyService and returns its ClusterIP, or why there is none.
func ensurePolicyService(ctx context.Context, c *kube.Client, ns string) (string, string) {
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: PolicyService, Namespace: ns, Labels: map[string]string{appLabel: "netconform-probe"}},
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeClusterIP, Selector: map[string]string{"pod": "b", RoleLabel: policyRole},
			Ports: []corev1.ServicePort{
				{Name: "tcp", Port: PolicyPortA, TargetPort: intstr.FromInt32(PolicyPortA), Protocol: corev1.ProtocolTCP},
				{Name: "udp", Port: PolicyPortA, TargetPort: intstr.FromInt32(PolicyPortA), Protocol: corev1.ProtocolUDP},
			}},
	}
	if err := createOrUpdateService(ctx, c, svc); err != nil {
		return "", err.Error()
	}
	cctx, cancel := context.WithTimeout(ctx, c.Timeouts.APICall)
	defer cancel()
	cur, err := c.CoreV1().Services(ns).Get(cctx, PolicyService, metav1.GetOptions{})
	if err != nil {
		return "", fmt.Sprintf("read Service %s/%s: %v", ns, PolicyService, err)
	}
	return cur.Spec.ClusterIP, ""
}

// waitPolicyPods polls the fixture's pods until all are Ready or the agents' bound ends, and
// fills fx.Pods with what it last saw.
func waitPolicyPods(ctx context.Context, c *kube.Client, agentsNS string, fx *PolicyFixture) error {
	deadline := time.Now().Add(c.Timeouts.AgentsReady)
	for {
		ready, err := readPolicyFixture(ctx, c, agentsNS, fx)
		if err != nil {
			return err
		}
		if ready || time.Now().After(deadline) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("policy fixture: waiting for its pods: %w", ctx.Err())
		case <-time.After(c.Timeouts.PollInterval):
		}
	}
}

// readPolicyFixture reads the namespaces and pods, and says whether every pod is Ready.
func readPolicyFixture(ctx context.Context, c *kube.Client, agentsNS string, fx *PolicyFixture) (bool, error) {
	fx.Pods = fx.Pods[:0]
	ready := true
	for _, sfx := range PolicyNamespaceSuffixes {
		ns := PolicyNamespaceName(agentsNS, sfx)
		cctx, cancel := context.WithTimeout(ctx, c.Timeouts.APICall)
		nsObj, err := c.CoreV1().Namespaces().Get(cctx, ns, metav1.GetOptions{})
		if err == nil {
			var pods *corev1.PodList
			pods, err = c.CoreV1().Pods(ns).List(cctx, metav1.ListOptions{})
			if err == nil {
				fx.Namespaces[sfx] = PolicyNamespace{Name: ns, Labels: nsObj.Labels}
				byName := map[string]*corev1.Pod{}
				for i := range pods.Items {
					byName[pods.Items[i].Name] = &pods.Items[i]
				}
				for _, name := range PolicyPodNames {
					pp := PolicyPod{Namespace: ns, Suffix: sfx, Name: name, Labels: policyPodLabels(name), Ports: policyPodPorts(name)}
					role := ns + "/" + name
					if p := byName[name]; p != nil {
						pp.Agent = agentFrom(role, p.Spec.NodeName, p)
						pp.Labels, pp.Ports = p.Labels, p.Spec.Containers[0].Ports
					} else {
						pp.Agent = Agent{Role: role, Missing: true, Why: fmt.Sprintf("pod %s does not exist", role)}
					}
					ready = ready && pp.Ready
					fx.Pods = append(fx.Pods, pp)
				}
			}
		}
		cancel()
		if err != nil {
			return false, fmt.Errorf("policy fixture: read namespace %s: %w", ns, err)
		}
	}
	return ready, nil
}

// RemovePolicyFixture deletes the fixture's namespaces (of agentsNS, by their label), all at
// once, each within the namespace bound.
func RemovePolicyFixture(ctx context.Context, c *kube.Client, agentsNS string) error {
	cctx, cancel := context.WithTimeout(ctx, c.Timeouts.APICall)
	list, err := c.CoreV1().Namespaces().List(cctx, metav1.ListOptions{LabelSelector: PolicyFixtureLabel + "=" + agentsNS})
	cancel()
	if err != nil {
		return fmt.Errorf("remove policy fixture: list namespaces: %w", err)
	}
	errs := make([]error, len(list.Items))
	var wg sync.WaitGroup
	for i, ns := range list.Items {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = c.DeleteNamespace(ctx, ns.Name)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}
