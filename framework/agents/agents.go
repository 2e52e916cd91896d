// Package agents deploys netconform's probe agents into a cluster and talks to them through the
// API server: two pod-network agents on every node (so that same-node and cross-node pairs
// exist), one host-network agent on every node, and a NodePort Service in front of the pod
// agents.
package agents

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/netconform/netconform/framework/kube"
	"github.com/netconform/netconform/framework/probe"
)

// Names of the objects netconform creates.
const (
	DefaultNamespace = "netconform"
	PodA             = "probe-a" // pod-network agents, one per node
	PodB             = "probe-b" // a second pod-network agent per node, for same-node pairs
	Host             = "probe-host"
	ServiceName      = "probe"
	appLabel         = "app.kubernetes.io/name"
	// RoleLabel carries an agent pod's role (PodA, PodB, Host): policies select agents by it.
	RoleLabel = "netconform.io/agent"
	// managedBy marks a namespace netconform created, and so may delete.
	managedBy = "app.kubernetes.io/managed-by"
)

// Remove takes the agents away again. A namespace netconform created goes with everything in it
// (waiting, within the bound, until it is gone); a namespace that was there before (--namespace
// with the user's own) stays, and only the agents' DaemonSets and Service are deleted from it.
func Remove(ctx context.Context, c *kube.Client, ns string) error {
	cctx, cancel := context.WithTimeout(ctx, c.Timeouts.APICall)
	obj, err := c.CoreV1().Namespaces().Get(cctx, ns, metav1.GetOptions{})
	cancel()
	switch {
	case apierrors.IsNotFound(err):
		return nil
	case err != nil:
		return fmt.Errorf("remove probe agents: namespace %s: %w", ns, err)
	case obj.Labels[managedBy] == "netconform":
		return c.DeleteNamespace(ctx, ns)
	}
	var errs []error
	for _, name := range []string{PodA, PodB, Host} {
		cctx, cancel := context.WithTimeout(ctx, c.Timeouts.APICall)
		if err := c.AppsV1().DaemonSets(ns).Delete(cctx, name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("delete daemonset %s/%s: %w", ns, name, err))
		}
		cancel()
	}
	cctx, cancel = context.WithTimeout(ctx, c.Timeouts.APICall)
	defer cancel()
	if err := c.CoreV1().Services(ns).Delete(cctx, ServiceName, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
		errs = append(errs, fmt.Errorf("delete service %s/%s: %w", ns, ServiceName, err))
	}
	return errors.Join(errs...)
}

// Agent is one running probe agent.
type Agent struct {
	Role        string // PodA, PodB or Host
	Node        string
	Pod         string
	Image       string
	IP          string
	HostNetwork bool
	Ready       bool
	// Why says why an agent that should exist is not Ready (pod phase, container state).
	Why string
	// Missing: there is no pod for this agent at all; Why then says so, naming the node.
	Missing bool
	// ImagePull says why the kubelet cannot get the agent's image ("" when that is not why
	// it is not Ready).
	ImagePull string
}

// Unavailable says why the agent cannot be asked, naming its node and role; "" when it is
// Ready.
func (a Agent) Unavailable() string {
	switch {
	case a.Ready:
		return ""
	case a.Missing:
		return a.Why
	}
	return fmt.Sprintf("%s on node %s not Ready: %s", describeRole(a.Role), a.Node, a.Why)
}

// describeRole names a role for messages: which kind of agent it is, and its DaemonSet.
func describeRole(role string) string {
	if role == Host {
		return "host-network agent " + role
	}
	return "pod agent " + role
}

// Addr is the agent's control address.
func (a Agent) Addr() string { return fmt.Sprintf("%s:%d", a.IP, probe.ControlPort) }

// Fleet is the deployed agents and the Service in front of the pod agents.
type Fleet struct {
	c         *kube.Client
	Namespace string
	// Agents by role, then node name.
	Agents    map[string]map[string]Agent
	ClusterIP string
	NodePort  int32
	UDPPort   int32
	// ClusterNodes is every node of the cluster, sorted. Each should run an agent of every
	// role; a node without one stays in the checks and fails those that need it, naming it.
	ClusterNodes []string
	// NotReadyNodes says, by node, why a node is not Ready; Ready nodes are absent.
	NotReadyNodes map[string]string
	// Refused holds, by role, the message with which Kubernetes refused that role's pods.
	Refused map[string]string
	// Short says, by role, how many pods a DaemonSet lacks (or that it is missing) when it
	// has fewer than the nodes that need one and Kubernetes did not say why.
	Short map[string]string
}

// Deploy creates the namespace, the agents and the Service, and waits (within the rollout bound)
// for the agents to be scheduled. Agents that do not become Ready are reported in the Fleet with
// the reason, not as an error: a node whose CNI is broken is what the suites must name. Two
// causes are errors, returned as soon as they show, because no agent they affect can ever come
// up: Kubernetes refusing the pods (*RefusedError) and nodes that cannot get the image
// (*ImagePullError).
func Deploy(ctx context.Context, c *kube.Client, ns, image string) (*Fleet, error) {
	if err := apply(ctx, c, ns, image); err != nil {
		return nil, err
	}
	// Wait until every Ready node has all its agents Ready, but give up at the bound: agents
	// that never come up are reported per node by the suites.
	waitErr := waitAgents(ctx, c, ns, c.Timeouts.AgentsReady)
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	var refused *RefusedError
	var pull *ImagePullError
	if errors.As(waitErr, &refused) || errors.As(waitErr, &pull) {
		return nil, waitErr
	}
	f, err := Discover(ctx, c, ns)
	if err != nil {
		return nil, errors.Join(err, waitErr)
	}
	f.waitServiceProgrammed(ctx, c.Timeouts.ServiceProgrammed)
	return f, nil
}

// Bounds for telling a lasting cause from a passing one while waiting for the agents.
const (
	// refusedPolls: a refusal must be seen on this many polls in a row. The DaemonSet
	// controller records a FailedCreate event per attempt, and an event from before a fix
	// (same DaemonSet, --keep-agents) must not count while the new pods are being created.
	refusedPolls = 2
)

// waitAgents polls until each node the API calls Ready runs a Ready agent of every role. A node
// that stops answering (NotReady) is not waited for, so one hung node costs the grace period
// the control plane takes to notice, not the whole bound. It ends early, with a *RefusedError
// or *ImagePullError, when Kubernetes refuses the pods or nodes cannot get the image.
func waitAgents(ctx context.Context, c *kube.Client, ns string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last string
	refusedSeen := 0
	var pullSince time.Time
	for {
		f, err := Discover(ctx, c, ns)
		if err != nil {
			last = err.Error()
		} else {
			if len(f.Refused) > 0 {
				refusedSeen++
			} else {
				refusedSeen = 0
			}
			if refusedSeen >= refusedPolls {
				return &RefusedError{Namespace: ns, ByRole: f.Refused}
			}
			if pe := f.pullError(); pe != nil {
				if pullSince.IsZero() {
					pullSince = time.Now()
				}
				if f.pullSettled() || time.Since(pullSince) >= c.Timeouts.ImagePullGrace {
					return pe
				}
			}
			var done bool
			if done, last = f.ready(); done {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("probe agents not Ready within %s: %s", timeout, last)
		case <-time.After(c.Timeouts.PollInterval):
		}
	}
}

// ready reports whether every Ready node runs a Ready agent of every role, and if not, the
// first one that does not.
func (f *Fleet) ready() (bool, string) {
	for _, n := range f.ClusterNodes {
		if f.NotReadyNodes[n] != "" {
			continue
		}
		for _, role := range roles {
			if a := f.AgentOrMissing(role, n); !a.Ready {
				return false, a.Unavailable()
			}
		}
	}
	return true, ""
}

// pullSettled reports whether every agent on a Ready node is either Ready or stuck on its
// image: no kubelet has yet to say whether it can get the image.
func (f *Fleet) pullSettled() bool {
	for _, n := range f.ClusterNodes {
		if f.NotReadyNodes[n] != "" {
			continue
		}
		for _, role := range roles {
			if a := f.AgentOrMissing(role, n); !a.Ready && a.ImagePull == "" {
				return false
			}
		}
	}
	return true
}

// pullError names the nodes whose kubelet cannot get the agents' image, or is nil.
func (f *Fleet) pullError() *ImagePullError {
	var e *ImagePullError
	for _, role := range roles {
		for node, a := range f.Agents[role] {
			if a.ImagePull == "" {
				continue
			}
			if e == nil {
				e = &ImagePullError{Why: map[string]string{}}
			}
			if _, seen := e.Why[node]; !seen {
				e.Nodes = append(e.Nodes, node)
				e.Why[node] = a.ImagePull
			}
			e.Image = a.Image
		}
	}
	if e != nil {
		sort.Strings(e.Nodes)
	}
	return e
}

// roles are the agents every node runs.
var roles = []string{PodA, PodB, Host}

// waitServiceProgrammed waits while connecting to the probe Service from a node's host network
// is refused: kube-proxy rejects connections to a Service whose endpoints it has not programmed
// yet. It waits only for that answer to go away, never for success, so a broken data path still
// fails the Service checks; and it gives up at the bound.
func (f *Fleet) waitServiceProgrammed(ctx context.Context, timeout time.Duration) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	target := fmt.Sprintf("%s:%d", f.ClusterIP, probe.TCPEchoPort)
	for _, node := range f.Nodes() {
		host, ok := f.Agent(Host, node)
		if !ok || !host.Ready {
			continue
		}
		for ctx.Err() == nil {
			r := f.Probe(ctx, host, probe.Request{Protocol: probe.TCP, Target: target, TimeoutMS: 2000})
			if r.Outcome != probe.Refused {
				break
			}
			select {
			case <-ctx.Done():
			case <-time.After(500 * time.Millisecond):
			}
		}
	}
}

func apply(ctx context.Context, c *kube.Client, ns, image string) error {
	cctx, cancel := context.WithTimeout(ctx, c.Timeouts.APICall)
	defer cancel()
	// The agents need what Pod Security's "privileged" level allows (host network, NET_RAW), and
	// a cluster may default every namespace to a stricter level: the namespace netconform
	// creates says so. A namespace that already exists keeps its labels: its owner decides, and
	// a refusal is reported with the admission's own message.
	labels := map[string]string{managedBy: "netconform"}
	for _, mode := range []string{"enforce", "audit", "warn"} {
		labels["pod-security.kubernetes.io/"+mode] = "privileged"
	}
	nsObj := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns, Labels: labels}}
	if _, err := c.CoreV1().Namespaces().Create(cctx, nsObj, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create namespace %s: %w", ns, err)
	}
	for _, ds := range []*appsv1.DaemonSet{daemonSet(ns, PodA, image, false), daemonSet(ns, PodB, image, false), daemonSet(ns, Host, image, true)} {
		if err := createOrReplaceDaemonSet(ctx, c, ds); err != nil {
			return err
		}
	}
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: ServiceName, Namespace: ns},
		Spec: corev1.ServiceSpec{
			Type:     corev1.ServiceTypeNodePort,
			Selector: map[string]string{appLabel: "netconform-probe", "netconform.io/pod-network": "true"},
			Ports: []corev1.ServicePort{
				{Name: "tcp-echo", Protocol: corev1.ProtocolTCP, Port: probe.TCPEchoPort, TargetPort: intstr.FromInt32(probe.TCPEchoPort)},
				{Name: "udp-echo", Protocol: corev1.ProtocolUDP, Port: probe.UDPEchoPort, TargetPort: intstr.FromInt32(probe.UDPEchoPort)},
			},
		},
	}
	cctx2, cancel2 := context.WithTimeout(ctx, c.Timeouts.APICall)
	defer cancel2()
	if _, err := c.CoreV1().Services(ns).Create(cctx2, svc, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create service %s/%s: %w", ns, ServiceName, err)
	}
	return nil
}

func createOrReplaceDaemonSet(ctx context.Context, c *kube.Client, ds *appsv1.DaemonSet) error {
	cctx, cancel := context.WithTimeout(ctx, c.Timeouts.APICall)
	defer cancel()
	_, err := c.AppsV1().DaemonSets(ds.Namespace).Create(cctx, ds, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		cur, gerr := c.AppsV1().DaemonSets(ds.Namespace).Get(cctx, ds.Name, metav1.GetOptions{})
		if gerr != nil {
			return fmt.Errorf("get daemonset %s: %w", ds.Name, gerr)
		}
		ds.ResourceVersion = cur.ResourceVersion
		_, err = c.AppsV1().DaemonSets(ds.Namespace).Update(cctx, ds, metav1.UpdateOptions{})
	}
	if err != nil {
		return fmt.Errorf("create daemonset %s/%s: %w", ds.Namespace, ds.Name, err)
	}
	return nil
}

func daemonSet(ns, name, image string, hostNetwork bool) *appsv1.DaemonSet {
	labels := map[string]string{appLabel: "netconform-probe", RoleLabel: name, "netconform.io/pod-network": strconv.FormatBool(!hostNetwork)}
	env := []corev1.EnvVar{
		{Name: "NODE_NAME", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "spec.nodeName"}}},
		{Name: "POD_NAME", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}},
		{Name: "POD_IP", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "status.podIP"}}},
		{Name: "HOST_NETWORK", Value: strconv.FormatBool(hostNetwork)},
	}
	grace := int64(1)
	dnsPolicy := corev1.DNSClusterFirst
	if hostNetwork {
		dnsPolicy = corev1.DNSClusterFirstWithHostNet
	}
	return &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels},
		Spec: appsv1.DaemonSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{RoleLabel: name}},
			UpdateStrategy: appsv1.DaemonSetUpdateStrategy{Type: appsv1.RollingUpdateDaemonSetStrategyType,
				RollingUpdate: &appsv1.RollingUpdateDaemonSet{MaxUnavailable: ptr(intstr.FromString("100%"))}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					HostNetwork:                   hostNetwork,
					DNSPolicy:                     dnsPolicy,
					TerminationGracePeriodSeconds: &grace,
					Tolerations:                   []corev1.Toleration{{Operator: corev1.TolerationOpExists}},
					Containers: []corev1.Container{{
						Name:            "agent",
						Image:           image,
						ImagePullPolicy: corev1.PullIfNotPresent,
						Env:             env,
						SecurityContext: &corev1.SecurityContext{Capabilities: &corev1.Capabilities{Add: []corev1.Capability{"NET_RAW"}}},
						ReadinessProbe: &corev1.Probe{
							ProbeHandler:  corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz", Port: intstr.FromInt32(probe.ControlPort)}},
							PeriodSeconds: 2,
						},
					}},
				},
			},
		},
	}
}

func ptr[T any](v T) *T { return &v }

// Discover finds the agents and the Service already deployed in ns, the cluster's nodes, and
// what the agents' DaemonSets say about nodes without an agent.
func Discover(ctx context.Context, c *kube.Client, ns string) (*Fleet, error) {
	nodes, err := c.Nodes(ctx)
	if err != nil {
		return nil, fmt.Errorf("probe agents: %w", err)
	}
	cctx, cancel := context.WithTimeout(ctx, c.Timeouts.APICall)
	defer cancel()
	pods, err := c.CoreV1().Pods(ns).List(cctx, metav1.ListOptions{LabelSelector: appLabel + "=netconform-probe"})
	if err != nil {
		return nil, fmt.Errorf("list probe agents: %w", err)
	}
	f := newFleet(c, ns, nodes, pods.Items)
	svc, err := c.CoreV1().Services(ns).Get(cctx, ServiceName, metav1.GetOptions{})
	if err != nil {
		return nil, fmt.Errorf("get probe service: %w", err)
	}
	f.ClusterIP = svc.Spec.ClusterIP
	for _, p := range svc.Spec.Ports {
		switch p.Name {
		case "tcp-echo":
			f.NodePort = p.NodePort
		case "udp-echo":
			f.UDPPort = p.NodePort
		}
	}
	dss, err := c.AppsV1().DaemonSets(ns).List(cctx, metav1.ListOptions{LabelSelector: appLabel + "=netconform-probe"})
	if err != nil {
		return nil, fmt.Errorf("list probe agent DaemonSets: %w", err)
	}
	// Without permission to read events, refusals are not recognised as such; the DaemonSets'
	// counts still name the nodes without agents.
	events, err := c.CoreV1().Events(ns).List(cctx, metav1.ListOptions{FieldSelector: "involvedObject.kind=DaemonSet,reason=FailedCreate"})
	var evs []corev1.Event
	if err == nil {
		evs = events.Items
	}
	f.diagnoseDaemonSets(dss.Items, evs)
	return f, nil
}

// newFleet builds a Fleet from the cluster's nodes and the agent pods.
func newFleet(c *kube.Client, ns string, nodes []kube.Node, pods []corev1.Pod) *Fleet {
	f := &Fleet{c: c, Namespace: ns, Agents: map[string]map[string]Agent{PodA: {}, PodB: {}, Host: {}},
		NotReadyNodes: map[string]string{}, Refused: map[string]string{}, Short: map[string]string{}}
	for _, n := range nodes {
		f.ClusterNodes = append(f.ClusterNodes, n.Name)
		if !n.Ready {
			f.NotReadyNodes[n.Name] = notReadyWhy(n)
		}
	}
	sort.Strings(f.ClusterNodes)
	for _, p := range pods {
		role := p.Labels[RoleLabel]
		if _, ok := f.Agents[role]; !ok || p.DeletionTimestamp != nil {
			continue
		}
		node := p.Spec.NodeName
		if node == "" {
			// Not scheduled yet: the DaemonSet controller pins each pod to its node by affinity.
			node = pinnedNode(&p)
		}
		a := Agent{Role: role, Node: node, Pod: p.Name, IP: p.Status.PodIP, HostNetwork: p.Spec.HostNetwork, Ready: kube.PodReady(&p)}
		if len(p.Spec.Containers) > 0 {
			a.Image = p.Spec.Containers[0].Image
		}
		if !a.Ready {
			a.Why = podWhy(&p)
			_, a.ImagePull = imagePullFailure(&p)
		}
		f.Agents[role][a.Node] = a
	}
	return f
}

// diagnoseDaemonSets records, per role, why its DaemonSet has fewer pods than nodes that need
// one: Kubernetes refused them (Refused), or only the counts (Short).
func (f *Fleet) diagnoseDaemonSets(dss []appsv1.DaemonSet, events []corev1.Event) {
	byRole := map[string]*appsv1.DaemonSet{}
	for i := range dss {
		byRole[dss[i].Labels[RoleLabel]] = &dss[i]
	}
	for _, role := range roles {
		ds := byRole[role]
		if ds == nil {
			f.Short[role] = "its DaemonSet " + role + " does not exist"
			continue
		}
		live := len(f.Agents[role])
		if why := refusal(ds, live, events); why != "" {
			f.Refused[role] = why
		} else if want := int(ds.Status.DesiredNumberScheduled); live < want {
			f.Short[role] = fmt.Sprintf("its DaemonSet %s has %d of %d pods", role, live, want)
		}
	}
}

// pinnedNode is the node a DaemonSet pod is meant for, from the node affinity the DaemonSet
// controller gives it.
func pinnedNode(p *corev1.Pod) string {
	if p.Spec.Affinity == nil || p.Spec.Affinity.NodeAffinity == nil || p.Spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution == nil {
		return ""
	}
	for _, t := range p.Spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms {
		for _, m := range t.MatchFields {
			if m.Key == "metadata.name" && len(m.Values) == 1 {
				return m.Values[0]
			}
		}
	}
	return ""
}

// notReadyWhy says why a node is not Ready, from its Ready condition.
func notReadyWhy(n kube.Node) string {
	for _, c := range n.Conditions {
		if c.Type == corev1.NodeReady {
			why := "node is NotReady (" + string(c.Status) + ")"
			if c.Reason != "" {
				why += ": " + c.Reason
			}
			if c.Message != "" {
				why += ": " + c.Message
			}
			return why
		}
	}
	return "node has no Ready condition"
}

// podWhy summarizes why a pod is not Ready.
func podWhy(p *corev1.Pod) string {
	why := string(p.Status.Phase)
	for _, cs := range p.Status.ContainerStatuses {
		if w := cs.State.Waiting; w != nil {
			why += ": " + w.Reason
			if w.Message != "" {
				why += " (" + w.Message + ")"
			}
		}
	}
	for _, c := range p.Status.Conditions {
		if c.Status != corev1.ConditionTrue && c.Message != "" {
			why += "; " + string(c.Type) + ": " + c.Message
		}
	}
	return why
}

// Nodes lists the cluster's nodes, and any other node with an agent, sorted. A node without
// agents is listed: the checks that need its agents fail naming it, rather than leave it out.
func (f *Fleet) Nodes() []string {
	seen := map[string]bool{}
	for _, n := range f.ClusterNodes {
		seen[n] = true
	}
	for _, byNode := range f.Agents {
		for n := range byNode {
			seen[n] = true
		}
	}
	out := make([]string, 0, len(seen))
	for n := range seen {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Agent returns the agent of a role on a node.
func (f *Fleet) Agent(role, node string) (Agent, bool) {
	a, ok := f.Agents[role][node]
	return a, ok
}

// AgentOrMissing returns the agent of a role on a node or, when the node has none, a Missing
// agent whose Why names the node and the best cause known: Kubernetes refused the pods, the
// node is NotReady, the DaemonSet is short of pods.
func (f *Fleet) AgentOrMissing(role, node string) Agent {
	if a, ok := f.Agent(role, node); ok {
		return a
	}
	why := "its DaemonSet " + role + " has no pod there"
	switch {
	case f.Refused[role] != "":
		why = "Kubernetes refused its pods: " + f.Refused[role]
	case f.NotReadyNodes[node] != "":
		why = f.NotReadyNodes[node]
	case f.Short[role] != "":
		why = f.Short[role]
	}
	return Agent{Role: role, Node: node, Missing: true, Why: fmt.Sprintf("no %s on node %s: %s", describeRole(role), node, why)}
}

// Probe asks from to send req. Host agents are asked through the API server's proxy; pod agents
// are asked through the host agent of their own node, so that the question does not cross the
// pod network under test. A host agent that cannot be asked yields AgentUnreachable.
func (f *Fleet) Probe(ctx context.Context, from Agent, req probe.Request) probe.Result {
	if !from.Ready {
		return probe.Result{Outcome: probe.AgentUnreachable, Detail: from.Unavailable()}
	}
	host := f.AgentOrMissing(Host, from.Node)
	if !host.Ready {
		return probe.Result{Outcome: probe.AgentUnreachable, Detail: "asked through the node's host agent: " + host.Unavailable()}
	}
	if !from.HostNetwork {
		req.Via = from.Addr()
	}
	if req.TimeoutMS == 0 {
		req.TimeoutMS = int(f.c.Timeouts.Probe / time.Millisecond)
	}
	body, err := json.Marshal(req)
	if err != nil {
		return probe.Result{Outcome: probe.Error, Detail: err.Error()}
	}
	// Only the question is retried, when talking to the API server fails in transport: the
	// agent's answer is the verdict and is never asked for again.
	var lastErr error
	for attempt := 1; attempt <= maxAPIAttempts; attempt++ {
		res, err := f.askOnce(ctx, host, body, req.TimeoutMS)
		if err == nil {
			res.Attempts = attempt
			return res
		}
		lastErr = err
		if !kube.IsTransient(err) || ctx.Err() != nil {
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Duration(attempt) * 500 * time.Millisecond):
		}
	}
	return probe.Result{Outcome: probe.AgentUnreachable, Detail: fmt.Sprintf("ask host agent on %s via API server: %v", from.Node, lastErr)}
}

// maxAPIAttempts bounds retries of transport errors talking to the API server.
const maxAPIAttempts = 3

// askOnce posts one probe request to a host agent through the API server's pod proxy.
func (f *Fleet) askOnce(ctx context.Context, host Agent, body []byte, timeoutMS int) (probe.Result, error) {
	// The API call gets the probe's time plus room for the proxy hops.
	cctx, cancel := context.WithTimeout(ctx, time.Duration(timeoutMS)*time.Millisecond+f.c.Timeouts.APICall)
	defer cancel()
	raw, err := f.c.CoreV1().RESTClient().Post().Namespace(f.Namespace).Resource("pods").
		Name(fmt.Sprintf("%s:%d", host.Pod, probe.ControlPort)).SubResource("proxy").Suffix("probe").
		Body(bytes.NewReader(body)).SetHeader("Content-Type", "application/json").Do(cctx).Raw()
	if err != nil {
		return probe.Result{}, err
	}
	var res probe.Result
	if err := json.Unmarshal(raw, &res); err != nil {
		return probe.Result{Outcome: probe.AgentUnreachable, Detail: fmt.Sprintf("host agent on %s answered %q: %v", host.Node, truncate(raw), err)}, nil
	}
	return res, nil
}

// Info asks an agent for its links and routes (through the node's host agent, like Probe).
func (f *Fleet) Info(ctx context.Context, a Agent) (probe.Info, error) {
	return f.InfoWithPathMTU(ctx, a, "")
}

// InfoWithPathMTU is Info plus the MTU the agent's kernel uses toward pathMTUTo.
func (f *Fleet) InfoWithPathMTU(ctx context.Context, a Agent, pathMTUTo string) (probe.Info, error) {
	host := f.AgentOrMissing(Host, a.Node)
	if !host.Ready {
		return probe.Info{}, errors.New(host.Unavailable())
	}
	cctx, cancel := context.WithTimeout(ctx, f.c.Timeouts.APICall)
	defer cancel()
	req := f.c.CoreV1().RESTClient().Get().Namespace(f.Namespace).Resource("pods").
		Name(fmt.Sprintf("%s:%d", host.Pod, probe.ControlPort)).SubResource("proxy").Suffix("info")
	if !a.HostNetwork {
		req = req.Param("via", a.Addr())
	}
	if pathMTUTo != "" {
		req = req.Param("mtuTo", pathMTUTo)
	}
	raw, err := req.Do(cctx).Raw()
	if err != nil {
		return probe.Info{}, fmt.Errorf("info from host agent on %s: %w", a.Node, err)
	}
	var info probe.Info
	if err := json.Unmarshal(raw, &info); err != nil {
		return probe.Info{}, fmt.Errorf("info from host agent on %s: %w", a.Node, err)
	}
	return info, nil
}

func truncate(b []byte) string {
	if len(b) > 200 {
		return string(b[:200]) + "..."
	}
	return string(b)
}

// Pair is one probe to run: from an agent, a request.
type Pair struct {
	From Agent
	To   string // a label for the destination (node name, "service", ...)
	Req  probe.Request
}

// Outcome is a pair's result.
type Outcome struct {
	Pair
	Result probe.Result
}

// RunAll runs pairs concurrently, at most limit at a time, and returns results in pair order.
func (f *Fleet) RunAll(ctx context.Context, pairs []Pair, limit int) []Outcome {
	if limit <= 0 {
		limit = 8
	}
	out := make([]Outcome, len(pairs))
	sem := make(chan struct{}, limit)
	var wg sync.WaitGroup
	for i, p := range pairs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				out[i] = Outcome{Pair: p, Result: probe.Result{Outcome: probe.Error, Detail: ctx.Err().Error()}}
				return
			}
			defer func() { <-sem }()
			out[i] = Outcome{Pair: p, Result: f.Probe(ctx, p.From, p.Req)}
		}()
	}
	wg.Wait()
	return out
}
