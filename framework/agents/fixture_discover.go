package agents

import (
	"context"
	"fmt"
	"sort"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/netconform/netconform/framework/kube"
)

// olderDeployment is the likely cause of a fixture that does not exist: Deploy creates them all,
// so its namespace was deployed by a netconform from before them and kept (--keep-agents).
const olderDeployment = "the agents in this namespace were deployed without it, by an older netconform? (deploy them again)"

// fixtureServices reads the probe Service and the fixture Services from the namespace's Services.
func fixtureServices(ns string, svcs []corev1.Service) Fixtures {
	byName := map[string]*corev1.Service{}
	for i := range svcs {
		byName[svcs[i].Name] = &svcs[i]
	}
	addr := func(name string) ServiceAddr {
		s, ok := byName[name]
		if !ok {
			return ServiceAddr{Name: name, Missing: fmt.Sprintf("Service %s/%s does not exist: %s", ns, name, olderDeployment)}
		}
		a := ServiceAddr{Name: name, ClusterIP: s.Spec.ClusterIP, ClusterIPs: s.Spec.ClusterIPs, Ports: map[string]int32{}, NodePorts: map[string]int32{}}
		if len(a.ClusterIPs) == 0 && a.ClusterIP != "" {
			// An API server that filled spec.clusterIP only.
			a.ClusterIPs = []string{a.ClusterIP}
		}
		for _, p := range s.Spec.Ports {
			a.Ports[p.Name] = p.Port
			if p.NodePort != 0 && s.Spec.Type != corev1.ServiceTypeClusterIP {
				a.NodePorts[p.Name] = p.NodePort
			}
		}
		return a
	}
	return Fixtures{
		Probe: addr(ServiceName), Affinity: addr(AffinityService), Local: addr(LocalService),
		Empty: addr(EmptyService), Headless: addr(HeadlessService), Flow: addr(FlowService),
	}
}

// discoverFixturePods fills the solo pod, its node and the flow backend from the agents' pods
// (those of the namespace with the agents' app label); when the flow Deployment has no pod, its
// status says why.
func (f *Fleet) discoverFixturePods(ctx context.Context, nodes []kube.Node, pods []corev1.Pod) {
	fx := &f.Fixtures
	fx.SoloNode = soloNode(nodes)
	fx.Solo = Agent{Role: Solo, Node: fx.SoloNode, Pod: SoloPod, Missing: true,
		Why: fmt.Sprintf("no %s: pod %s/%s does not exist: %s", describeRole(Solo), f.Namespace, SoloPod, olderDeployment)}
	var flow []corev1.Pod
	for i := range pods {
		p := &pods[i]
		switch p.Labels[RoleLabel] {
		case Solo:
			if p.Name != SoloPod {
				continue
			}
			if p.DeletionTimestamp != nil {
				fx.Solo.Why = fmt.Sprintf("no %s: pod %s/%s is being deleted", describeRole(Solo), f.Namespace, SoloPod)
				continue
			}
			// The pod's node is where the solo pod is, whatever the nodes now say.
			if p.Spec.NodeName != "" {
				fx.SoloNode = p.Spec.NodeName
			}
			fx.Solo = agentFrom(Solo, fx.SoloNode, p)
		case Flow:
			flow = append(flow, *p)
		}
	}
	if backend, ok := flowBackend(flow, ""); ok {
		fx.FlowBackend = backend
		return
	}
	fx.FlowBackend = Agent{Role: Flow, Missing: true, Why: f.flowWhyNone(ctx)}
}

// flowBackend picks the flow Deployment's pod among pods: one not being deleted and not named
// except, Ready ones first, then the newest. ok is false when there is none.
func flowBackend(pods []corev1.Pod, except string) (Agent, bool) {
	var live []*corev1.Pod
	for i := range pods {
		if p := &pods[i]; p.DeletionTimestamp == nil && p.Name != except {
			live = append(live, p)
		}
	}
	if len(live) == 0 {
		return Agent{}, false
	}
	sort.Slice(live, func(i, j int) bool {
		a, b := live[i], live[j]
		if ra, rb := kube.PodReady(a), kube.PodReady(b); ra != rb {
			return ra
		}
		if !a.CreationTimestamp.Equal(&b.CreationTimestamp) {
			return b.CreationTimestamp.Before(&a.CreationTimestamp)
		}
		return a.Name < b.Name
	})
	return agentFrom(Flow, live[0].Spec.NodeName, live[0]), true
}

// flowWhyNone says why the flow Deployment has no pod, from the Deployment itself; a
// Deployment whose pods Kubernetes refuses is recorded in f.stuck (nobody waits for it).
func (f *Fleet) flowWhyNone(ctx context.Context) string {
	prefix := fmt.Sprintf("no %s: ", describeRole(Flow))
	cctx, cancel := context.WithTimeout(ctx, f.c.Timeouts.APICall)
	defer cancel()
	d, err := f.c.AppsV1().Deployments(f.Namespace).Get(cctx, FlowDeployment, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return prefix + fmt.Sprintf("Deployment %s/%s does not exist: %s", f.Namespace, FlowDeployment, olderDeployment)
	case err != nil:
		return prefix + fmt.Sprintf("get Deployment %s/%s: %v", f.Namespace, FlowDeployment, err)
	}
	for _, c := range d.Status.Conditions {
		if c.Type == appsv1.DeploymentReplicaFailure && c.Status == corev1.ConditionTrue {
			why := fmt.Sprintf("Deployment %s/%s cannot create its pod: %s", f.Namespace, FlowDeployment, c.Message)
			f.stuck[FlowDeployment] = why
			return prefix + why
		}
	}
	return prefix + fmt.Sprintf("Deployment %s/%s has no pod yet", f.Namespace, FlowDeployment)
}

// noteStuck records why fixtures could not be created (apply's problems, by object name) and
// puts it where the checks read it: a missing Service's Missing, a missing pod's Why.
func (f *Fleet) noteStuck(problems map[string]string) {
	if f.stuck == nil {
		f.stuck = map[string]string{}
	}
	fx := &f.Fixtures
	for name, why := range problems {
		f.stuck[name] = why
		for _, s := range []*ServiceAddr{&fx.Probe, &fx.Affinity, &fx.Local, &fx.Empty, &fx.Headless, &fx.Flow} {
			if s.Name == name && s.Missing != "" {
				s.Missing = why
			}
		}
	}
	if why := problems[SoloPod]; why != "" && fx.Solo.Missing {
		fx.Solo.Why = fmt.Sprintf("no %s: %s", describeRole(Solo), why)
	}
	if why := problems[FlowDeployment]; why != "" && fx.FlowBackend.Missing {
		fx.FlowBackend.Why = fmt.Sprintf("no %s: %s", describeRole(Flow), why)
	}
}

// waitsFor says whether waiting for the agents includes the fixture pod of role (Solo, Flow):
// not when it cannot come up (stuck), nor a solo pod pinned to a node that is not Ready.
func (f *Fleet) waitsFor(role string) bool {
	switch role {
	case Solo:
		return f.stuck[SoloPod] == "" && f.NotReadyNodes[f.Fixtures.SoloNode] == ""
	case Flow:
		return f.stuck[FlowDeployment] == ""
	}
	return true
}

// ReplaceFlowBackend deletes the flow Deployment's pod (1 s grace) and waits, within the agents'
// bound, for the Deployment's next pod to be Ready: the backend behind FlowService changes
// under a flow. It returns both; Fixtures.FlowBackend is the new one from then on. On error,
// repl is the replacement as far as it got (Why says why it is not Ready), or Missing.
func (f *Fleet) ReplaceFlowBackend(ctx context.Context) (old, repl Agent, err error) {
	c := f.c
	pods, err := f.flowPods(ctx)
	if err != nil {
		return Agent{}, Agent{}, fmt.Errorf("replace flow backend: %w", err)
	}
	old, ok := flowBackend(pods, "")
	if !ok {
		return f.Fixtures.FlowBackend, Agent{}, fmt.Errorf("replace flow backend: %s", f.flowWhyNone(ctx))
	}
	var oldUID types.UID
	for _, p := range pods {
		if p.Name == old.Pod {
			oldUID = p.UID
		}
	}
	grace := int64(1)
	cctx, cancel := context.WithTimeout(ctx, c.Timeouts.APICall)
	err = c.CoreV1().Pods(f.Namespace).Delete(cctx, old.Pod, metav1.DeleteOptions{GracePeriodSeconds: &grace,
		Preconditions: &metav1.Preconditions{UID: &oldUID}})
	cancel()
	if err != nil && !apierrors.IsNotFound(err) {
		return old, Agent{}, fmt.Errorf("replace flow backend: delete pod %s/%s: %w", f.Namespace, old.Pod, err)
	}
	wctx, cancel := context.WithTimeout(ctx, c.Timeouts.AgentsReady)
	defer cancel()
	repl = Agent{Role: Flow, Missing: true, Why: fmt.Sprintf("no %s: Deployment %s/%s has not replaced pod %s", describeRole(Flow), f.Namespace, FlowDeployment, old.Pod)}
	for {
		pods, lerr := f.flowPods(wctx)
		if lerr == nil {
			if a, ok := flowBackend(pods, old.Pod); ok {
				repl = a
				if a.Ready {
					f.Fixtures.FlowBackend = a
					return old, repl, nil
				}
			}
		}
		select {
		case <-wctx.Done():
			if ctx.Err() != nil {
				return old, repl, fmt.Errorf("replace flow backend %s: %w", old.Pod, ctx.Err())
			}
			return old, repl, fmt.Errorf("replace flow backend %s: no Ready replacement within %s: %s", old.Pod, c.Timeouts.AgentsReady, repl.Unavailable())
		case <-time.After(c.Timeouts.PollInterval):
		}
	}
}

// flowPods lists the flow Deployment's pods.
func (f *Fleet) flowPods(ctx context.Context) ([]corev1.Pod, error) {
	cctx, cancel := context.WithTimeout(ctx, f.c.Timeouts.APICall)
	defer cancel()
	list, err := f.c.CoreV1().Pods(f.Namespace).List(cctx, metav1.ListOptions{LabelSelector: RoleLabel + "=" + Flow})
	if err != nil {
		return nil, fmt.Errorf("list flow backend pods: %w", err)
	}
	return list.Items, nil
}
