// Package agents deploys netconform's probe agents into a cluster and talks to them through the
// API server: two pod-network agents on every node (so that same-node and cross-node pairs
// exist), one host-network agent on every node, and a NodePort Service in front of the pod
// agents; besides them the fixtures (fixtures.go: Services of every kind, a pod pinned to one
// node, a one-replica Deployment), and an agent outside the cluster that is asked directly
// (external.go).
package agents

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"sort"
	"strconv"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/netconform/netconform/framework/ipfamily"
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
	// RoleLabel carries an agent pod's role (PodA, PodB, Host, Solo, Flow): policies select
	// agents by it.
	RoleLabel = "netconform.io/agent"
	// podNetworkLabel is "true" on the per-node pod agents (PodA, PodB) and "false" on the host
	// agents; the probe and affinity Services select the pod agents by it. The solo and flow
	// pods lack it, so that those Services' backends are the per-node agents only.
	podNetworkLabel = "netconform.io/pod-network"
	// headlessLabel is on the pods behind HeadlessService: the PodA agents and the solo pod.
	headlessLabel = "netconform.io/headless"
	// managedBy marks a namespace netconform created, and so may delete.
	managedBy = "app.kubernetes.io/managed-by"
)

// Agent is one running probe agent.
type Agent struct {
	Role  string // PodA, PodB, Host; Solo, Flow (fixtures); External
	Node  string
	Pod   string
	Image string
	// IP is the pod's address (status.podIP): of the cluster's primary family, IPv4 on an IPv4
	// or dual-stack kind cluster. Probes and the agent's control address use it.
	IP string
	// IPs are every address of the pod (status.podIPs), IPv4 first: one per family on a
	// dual-stack cluster, so a check can probe each family.
	IPs         []string
	HostNetwork bool
	Ready       bool
	// Why says why an agent that should exist is not Ready (pod phase, container state).
	Why string
	// Missing: there is no pod for this agent at all; Why then says so, naming the node.
	Missing bool
	// ImagePull says why the kubelet cannot get the agent's image ("" when that is not why
	// it is not Ready).
	ImagePull string
	// Control, when set, is the agent's control address (host:port), to be asked directly over
	// HTTP rather than through the API server and a host agent: the agent outside the cluster.
	Control string
	// controlIP, when set, is the address the agent is asked at, IP being another family's
	// (Fleet.In): a family whose pod network is broken must fail its probes, not make every
	// agent unreachable.
	controlIP string
}

// Unavailable says why the agent cannot be asked, naming its node and role; "" when it is
// Ready.
func (a Agent) Unavailable() string {
	switch {
	case a.Ready:
		return ""
	case a.Missing:
		return a.Why
	case a.Control != "":
		return fmt.Sprintf("%s at %s not Ready: %s", describeRole(a.Role), a.Control, a.Why)
	case a.Node == "":
		return fmt.Sprintf("%s (not scheduled) not Ready: %s", describeRole(a.Role), a.Why)
	}
	return fmt.Sprintf("%s on node %s not Ready: %s", describeRole(a.Role), a.Node, a.Why)
}

// describeRole names a role for messages: which kind of agent it is, and its DaemonSet (or the
// fixture's object).
func describeRole(role string) string {
	switch role {
	case Host:
		return "host-network agent " + role
	case Solo:
		return "solo pod agent " + SoloPod
	case Flow:
		return "flow backend of Deployment " + FlowDeployment
	case External:
		return "external agent"
	}
	return "pod agent " + role
}

// Addr is the agent's control address: Control when set, else its IP's ControlPort (an IPv6
// IP in brackets).
func (a Agent) Addr() string {
	if a.Control != "" {
		return a.Control
	}
	ip := a.IP
	if a.controlIP != "" {
		ip = a.controlIP
	}
	return net.JoinHostPort(ip, strconv.Itoa(probe.ControlPort))
}

// IPOf is the agent's address of address family f, "" when it has none (a single-stack
// cluster's pods have one family only).
func (a Agent) IPOf(f ipfamily.Family) string {
	return ipfamily.Pick(append(append([]string(nil), a.IPs...), a.IP), f)
}

// Fleet is the deployed agents and the Service in front of the pod agents.
type Fleet struct {
	c         *kube.Client
	Namespace string
	// Agents by role, then node name.
	Agents map[string]map[string]Agent
	// ClusterIP is the probe Service's (spec.clusterIP, the primary family's); ClusterIPs are
	// every family's (spec.clusterIPs), ClusterIP first: both on a dual-stack cluster, where the
	// Service asks for PreferDualStack.
	ClusterIP  string
	ClusterIPs []string
	NodePort   int32
	UDPPort    int32
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
	// Fixtures are the Services, the solo pod and the flow backend besides the agents.
	Fixtures Fixtures
	// External is the agent outside the cluster (Role External, Control set), nil when there
	// is none. ExternalWhy then says why one could not be started or reached, and is "" when
	// none was asked for (the checks that need one skip).
	External    *Agent
	ExternalWhy string

	// stuck holds, by object name (SoloPod, FlowDeployment), why a fixture pod will not come
	// up: it could not be created, or Kubernetes refuses its pods. Nobody waits for those.
	stuck map[string]string
}

// Deploy creates the namespace, the agents, the probe Service and the fixtures (Services, the
// solo pod, the flow Deployment), and waits (within the agents' bound) for the agents, the solo
// pod and the flow backend to be Ready. Agents that do not become Ready are reported in the
// Fleet with the reason, not as an error: a node whose CNI is broken is what the suites must
// name; so are fixtures that could not be created (Fleet.Fixtures). Two
// causes are errors, returned as soon as they show, because no agent they affect can ever come
// up: Kubernetes refusing the pods (*RefusedError) and nodes that cannot get the image
// (*ImagePullError).
func Deploy(ctx context.Context, c *kube.Client, ns, image string) (*Fleet, error) {
	// One bound for the agents to be Ready: replacing a stale solo pod (apply waits for the
	// old one to go) counts against it too.
	readyCtx, cancel := context.WithTimeout(ctx, c.Timeouts.AgentsReady)
	defer cancel()
	stuck, err := apply(readyCtx, c, ns, image)
	if err != nil {
		return nil, err
	}
	// Wait until every Ready node has all its agents Ready, and the solo pod and the flow
	// backend too, but give up at the bound: agents that never come up are reported per node
	// by the suites, fixtures by the checks that need them.
	waitErr := waitAgents(readyCtx, c, ns, c.Timeouts.AgentsReady, stuck)
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
	f.noteStuck(stuck)
	f.waitServiceProgrammed(ctx, c.Timeouts.ServiceProgrammed)
	return f, nil
}

// Bounds for telling a lasting cause from a passing one while waiting for the agents.
const (
	// refusedFor: a refusal must be seen on every poll for this long (and on two polls at
	// least). The DaemonSet controller records a FailedCreate event per attempt, and an event
	// from before a fix (same DaemonSet, --keep-agents) must not count while the new pods are
	// being created.
	refusedFor = time.Second
)

// waitAgents polls, every ShortPoll, until each node the API calls Ready runs a Ready agent of every role, and the
// solo pod and the flow backend are Ready. A node that stops answering (NotReady) is not waited
// for, so one hung node costs the grace period the control plane takes to notice, not the whole
// bound; nor is a fixture in stuck (by object name: why it could not be created). It ends
// early, with a *RefusedError or *ImagePullError, when Kubernetes refuses the agents' pods or
// nodes cannot get the image.
func waitAgents(ctx context.Context, c *kube.Client, ns string, timeout time.Duration, stuck map[string]string) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last string
	refusedSeen := 0
	var refusedSince, pullSince time.Time
	for {
		f, err := Discover(ctx, c, ns)
		if err != nil {
			last = err.Error()
		} else {
			f.noteStuck(stuck)
			switch {
			case len(f.Refused) == 0:
				refusedSeen = 0
			case refusedSeen == 0:
				refusedSeen, refusedSince = 1, time.Now()
			default:
				refusedSeen++
			}
			if refusedSeen >= 2 && time.Since(refusedSince) >= refusedFor {
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
		case <-time.After(c.Timeouts.Short()):
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
	for _, a := range []Agent{f.Fixtures.Solo, f.Fixtures.FlowBackend} {
		if !a.Ready && f.waitsFor(a.Role) {
			return false, a.Unavailable()
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

// waitServiceProgrammed waits while connecting to a Service from a node's host network is
// refused: kube-proxy rejects connections to a Service whose endpoints it has not programmed
// yet. It waits only for that answer to go away, never for success, so a broken data path still
// fails the Service checks; and it gives up at the bound, one for every node and Service.
// The Services are the probe Service and the affinity Service (their TCP echo port) and the
// flow Service (its who port, the only TCP port it has).
func (f *Fleet) waitServiceProgrammed(ctx context.Context, timeout time.Duration) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	// Every family's ClusterIP: kube-proxy programs each family (iptables, ip6tables) on its own.
	var targets []probe.Request
	echo := func(s ServiceAddr) {
		for _, ip := range s.allClusterIPs() {
			targets = append(targets, probe.Request{Protocol: probe.TCP, Target: net.JoinHostPort(ip, strconv.Itoa(probe.TCPEchoPort)), TimeoutMS: 2000})
		}
	}
	if f.ClusterIP != "" {
		echo(ServiceAddr{ClusterIP: f.ClusterIP, ClusterIPs: f.ClusterIPs})
	}
	echo(f.Fixtures.Affinity)
	if s := f.Fixtures.Flow; s.Missing == "" {
		// A who-tcp probe, not a TCP echo: until kube-proxy has programmed the Service it is
		// refused like any other; afterwards it is answered (or fails otherwise: the checks
		// judge that). An agent that does not know the protocol answers with an error, which
		// is no reason to wait either.
		for _, ip := range s.allClusterIPs() {
			targets = append(targets, probe.Request{Protocol: probe.WhoTCP, Target: net.JoinHostPort(ip, strconv.Itoa(probe.WhoPort)), TimeoutMS: 2000, Count: 1})
		}
	}
	// Every node at once: each node's kube-proxy programs the Services on its own.
	var wg sync.WaitGroup
	for _, node := range f.Nodes() {
		host, ok := f.Agent(Host, node)
		if !ok || !host.Ready {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, req := range targets {
				f.WaitNotRefused(ctx, host, req)
			}
		}()
	}
	// The single-endpoint Service has traffic policies Local: only the solo pod's node answers
	// it (elsewhere it is dropped, not refused, once programmed), so it is waited for from there.
	if s := f.Fixtures.Local; s.Missing == "" && s.ClusterIP != "" && s.ClusterIP != corev1.ClusterIPNone {
		if host, ok := f.Agent(Host, f.Fixtures.SoloNode); ok && host.Ready {
			wg.Add(1)
			go func() {
				defer wg.Done()
				f.WaitNotRefused(ctx, host, probe.Request{Protocol: probe.WhoTCP, Target: fmt.Sprintf("%s:%d", s.ClusterIP, probe.WhoPort), TimeoutMS: 2000, Count: 1})
			}()
		}
	}
	wg.Wait()
}

// WaitNotRefused probes req from an agent until it is no longer refused (kube-proxy rejects a
// Service it has not programmed yet), or ctx ends, asking again every ShortPoll; it never waits
// for success.
func (f *Fleet) WaitNotRefused(ctx context.Context, host Agent, req probe.Request) {
	for ctx.Err() == nil && f.Probe(ctx, host, req).Outcome == probe.Refused {
		select {
		case <-ctx.Done():
		case <-time.After(f.timeouts().Short()):
		}
	}
}

// apply creates (or brings up to date) the namespace, the agents' DaemonSets, the probe Service
// and the fixtures, all at once after the namespace: each is a round trip to the API server, and
// the pods' start (scheduling, sandbox, image, readiness) is what the agents' wait is made of, so
// none should start later than it must. It returns why fixtures could not be created, by object
// name (see applyFixtures); an error only for what the agents cannot run without.
func apply(ctx context.Context, c *kube.Client, ns, image string) (map[string]string, error) {
	if err := ensureNamespace(ctx, c, ns, nil); err != nil {
		return nil, err
	}
	svcs := services(ns)
	var (
		wg       sync.WaitGroup
		agentErr = make([]error, len(roles)+1)
		problems map[string]string
	)
	for i, ds := range []*appsv1.DaemonSet{daemonSet(ns, PodA, image, false), daemonSet(ns, PodB, image, false), daemonSet(ns, Host, image, true)} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			agentErr[i] = createOrReplaceDaemonSet(ctx, c, ds)
		}()
	}
	// The probe Service is what the agents were always deployed with: without it the Service
	// checks cannot run, so failing to create it fails the deployment. The fixtures beside it
	// only fail the checks that need them.
	wg.Add(2)
	go func() {
		defer wg.Done()
		agentErr[len(roles)] = createOrUpdateService(ctx, c, svcs[0])
	}()
	go func() {
		defer wg.Done()
		node := ""
		nodes, err := c.Nodes(ctx)
		if err == nil {
			node = soloNode(nodes)
		}
		problems = applyFixtures(ctx, c, ns, image, node, svcs[1:])
		if err != nil {
			problems[SoloPod] = "choose its node: " + err.Error()
		}
	}()
	wg.Wait()
	if err := errors.Join(agentErr...); err != nil {
		return nil, err
	}
	return problems, nil
}

// ensureNamespace creates a namespace netconform owns, with extra labels. The agents need what
// Pod Security's "privileged" level allows (host network, NET_RAW), and a cluster may default
// every namespace to a stricter level: the namespace netconform creates says so. A namespace
// that already exists keeps its labels: its owner decides, and a refusal is reported with the
// admission's own message.
func ensureNamespace(ctx context.Context, c *kube.Client, ns string, extra map[string]string) error {
	cctx, cancel := context.WithTimeout(ctx, c.Timeouts.APICall)
	defer cancel()
	labels := map[string]string{managedBy: "netconform"}
	for _, mode := range []string{"enforce", "audit", "warn"} {
		labels["pod-security.kubernetes.io/"+mode] = "privileged"
	}
	for k, v := range extra {
		labels[k] = v
	}
	nsObj := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns, Labels: labels}}
	if _, err := c.CoreV1().Namespaces().Create(cctx, nsObj, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create namespace %s: %w", ns, err)
	}
	return nil
}

// createOrReplaceDaemonSet creates ds, or updates the one of that name when netconform asked
// it for another spec (its spec annotation differs, or it has none: an older netconform's). One
// with the same spec is left alone, so that agents kept from an earlier check (--keep-agents)
// are reused as they run, not rolled.
func createOrReplaceDaemonSet(ctx context.Context, c *kube.Client, ds *appsv1.DaemonSet) error {
	hash := specHash(struct {
		Labels map[string]string
		Spec   appsv1.DaemonSetSpec
	}{ds.Labels, ds.Spec})
	annotate(&ds.ObjectMeta, hash)
	api := c.AppsV1().DaemonSets(ds.Namespace)
	what := "daemonset " + ds.Namespace + "/" + ds.Name
	cur, found, err := existing(ctx, c, what,
		func(ctx context.Context) error { _, err := api.Create(ctx, ds, metav1.CreateOptions{}); return err },
		func(ctx context.Context) (*appsv1.DaemonSet, error) {
			return api.Get(ctx, ds.Name, metav1.GetOptions{})
		})
	if err != nil || !found || cur.Annotations[specAnnotation] == hash {
		return err
	}
	ds.ResourceVersion = cur.ResourceVersion
	cctx, cancel := context.WithTimeout(ctx, c.Timeouts.APICall)
	defer cancel()
	if _, err := api.Update(cctx, ds, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("update %s: %w", what, err)
	}
	return nil
}

func daemonSet(ns, name, image string, hostNetwork bool) *appsv1.DaemonSet {
	labels := map[string]string{appLabel: "netconform-probe", RoleLabel: name, podNetworkLabel: strconv.FormatBool(!hostNetwork)}
	if name == PodA {
		// The headless Service's endpoints are the PodA agents and the solo pod.
		labels[headlessLabel] = "true"
	}
	// PodB's WhoPort is also every node's HostPortWho, for the hostPort checks.
	spec := agentPodSpec(image, hostNetwork, agentPorts(name == PodB))
	return &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels},
		Spec: appsv1.DaemonSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{RoleLabel: name}},
			UpdateStrategy: appsv1.DaemonSetUpdateStrategy{Type: appsv1.RollingUpdateDaemonSetStrategyType,
				RollingUpdate: &appsv1.RollingUpdateDaemonSet{MaxUnavailable: ptr(intstr.FromString("100%"))}},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: spec},
		},
	}
}

// agentPodSpec is what every probe agent's pod runs, per-node or fixture: the probe image's
// agent with its identity from the downward API, NET_RAW for ICMP, Ready once its control port
// answers, tolerating every taint (an agent belongs on every node, control plane included).
func agentPodSpec(image string, hostNetwork bool, ports []corev1.ContainerPort) corev1.PodSpec {
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
	return corev1.PodSpec{
		HostNetwork:                   hostNetwork,
		DNSPolicy:                     dnsPolicy,
		TerminationGracePeriodSeconds: &grace,
		Tolerations:                   []corev1.Toleration{{Operator: corev1.TolerationOpExists}},
		Containers: []corev1.Container{{
			Name:            "agent",
			Image:           image,
			ImagePullPolicy: corev1.PullIfNotPresent,
			Env:             env,
			Ports:           ports,
			SecurityContext: &corev1.SecurityContext{Capabilities: &corev1.Capabilities{Add: []corev1.Capability{"NET_RAW"}}},
			ReadinessProbe: &corev1.Probe{
				ProbeHandler:  corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz", Port: intstr.FromInt32(probe.ControlPort)}},
				PeriodSeconds: 2,
			},
		}},
	}
}

// agentPorts are the ports every agent serves, declared so that the API and whoever reads the
// pods know them (on a host-network agent the API makes each a hostPort of the same number,
// which reserves them on the node). whoHostPort maps WhoPort, TCP and UDP, to the node's
// HostPortWho: a hostPort needs its containerPort declared.
func agentPorts(whoHostPort bool) []corev1.ContainerPort {
	ports := []corev1.ContainerPort{
		{Name: "control", ContainerPort: probe.ControlPort, Protocol: corev1.ProtocolTCP},
		{Name: PortTCPEcho, ContainerPort: probe.TCPEchoPort, Protocol: corev1.ProtocolTCP},
		{Name: PortUDPEcho, ContainerPort: probe.UDPEchoPort, Protocol: corev1.ProtocolUDP},
		{Name: "bulk", ContainerPort: probe.BulkPort, Protocol: corev1.ProtocolTCP},
		{Name: PortWhoTCP, ContainerPort: probe.WhoPort, Protocol: corev1.ProtocolTCP},
		{Name: PortWhoUDP, ContainerPort: probe.WhoPort, Protocol: corev1.ProtocolUDP},
	}
	if whoHostPort {
		ports[4].HostPort = probe.HostPortWho
		ports[5].HostPort = probe.HostPortWho
	}
	return ports
}

func ptr[T any](v T) *T { return &v }

// Discover finds the agents, the Services and the fixtures already deployed in ns, the cluster's
// nodes, and what the agents' DaemonSets say about nodes without an agent. The probe Service
// must exist; a fixture that does not (an agents namespace deployed by an older netconform) is
// reported in Fleet.Fixtures, and fails only the checks that need it.
func Discover(ctx context.Context, c *kube.Client, ns string) (*Fleet, error) {
	nodes, err := c.Nodes(ctx)
	if err != nil {
		return nil, fmt.Errorf("probe agents: %w", err)
	}
	cctx, cancel := context.WithTimeout(ctx, c.Timeouts.APICall)
	pods, err := c.CoreV1().Pods(ns).List(cctx, metav1.ListOptions{LabelSelector: appLabel + "=netconform-probe"})
	cancel()
	if err != nil {
		return nil, fmt.Errorf("list probe agents: %w", err)
	}
	f := newFleet(c, ns, nodes, pods.Items)
	cctx, cancel = context.WithTimeout(ctx, c.Timeouts.APICall)
	svcs, err := c.CoreV1().Services(ns).List(cctx, metav1.ListOptions{})
	cancel()
	if err != nil {
		return nil, fmt.Errorf("list probe services: %w", err)
	}
	f.Fixtures = fixtureServices(ns, svcs.Items)
	if f.Fixtures.Probe.Missing != "" {
		return nil, fmt.Errorf("get probe service: %s", f.Fixtures.Probe.Missing)
	}
	f.ClusterIP, f.ClusterIPs = f.Fixtures.Probe.ClusterIP, f.Fixtures.Probe.ClusterIPs
	f.NodePort = f.Fixtures.Probe.NodePorts[PortTCPEcho]
	f.UDPPort = f.Fixtures.Probe.NodePorts[PortUDPEcho]
	f.discoverFixturePods(ctx, nodes, pods.Items)
	cctx, cancel = context.WithTimeout(ctx, c.Timeouts.APICall)
	dss, err := c.AppsV1().DaemonSets(ns).List(cctx, metav1.ListOptions{LabelSelector: appLabel + "=netconform-probe"})
	cancel()
	if err != nil {
		return nil, fmt.Errorf("list probe agent DaemonSets: %w", err)
	}
	// Without permission to read events, refusals are not recognised as such; the DaemonSets'
	// counts still name the nodes without agents.
	cctx, cancel = context.WithTimeout(ctx, c.Timeouts.APICall)
	events, err := c.CoreV1().Events(ns).List(cctx, metav1.ListOptions{FieldSelector: "involvedObject.kind=DaemonSet,reason=FailedCreate"})
	cancel()
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
		NotReadyNodes: map[string]string{}, Refused: map[string]string{}, Short: map[string]string{}, stuck: map[string]string{}}
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
		f.Agents[role][node] = agentFrom(role, node, &p)
	}
	return f
}

// agentFrom is the agent a pod of role runs on node.
func agentFrom(role, node string, p *corev1.Pod) Agent {
	a := Agent{Role: role, Node: node, Pod: p.Name, IP: p.Status.PodIP, IPs: podIPs(p), HostNetwork: p.Spec.HostNetwork, Ready: kube.PodReady(p)}
	if len(p.Spec.Containers) > 0 {
		a.Image = p.Spec.Containers[0].Image
	}
	if !a.Ready {
		a.Why = podWhy(p)
		_, a.ImagePull = imagePullFailure(p)
	}
	return a
}

// podIPs are the pod's addresses (status.podIPs, else status.podIP), IPv4 first.
func podIPs(p *corev1.Pod) []string {
	var ips []string
	for _, ip := range p.Status.PodIPs {
		if ip.IP != "" {
			ips = append(ips, ip.IP)
		}
	}
	if len(ips) == 0 && p.Status.PodIP != "" {
		ips = []string{p.Status.PodIP}
	}
	return ipfamily.SortAddrs(ips)
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
// pod network under test. A host agent that cannot be asked yields AgentUnreachable. An agent
// with a Control address (the external agent) is asked there directly, not through the API
// server.
func (f *Fleet) Probe(ctx context.Context, from Agent, req probe.Request) probe.Result {
	if !from.Ready {
		return probe.Result{Outcome: probe.AgentUnreachable, Detail: from.Unavailable()}
	}
	if req.TimeoutMS == 0 {
		req.TimeoutMS = int(f.timeouts().Probe / time.Millisecond)
	}
	if from.Control != "" {
		return f.probeDirect(ctx, from, req)
	}
	host := f.AgentOrMissing(Host, from.Node)
	if !host.Ready {
		return probe.Result{Outcome: probe.AgentUnreachable, Detail: "asked through the node's host agent: " + host.Unavailable()}
	}
	if !from.HostNetwork {
		req.Via = from.Addr()
	}
	body, err := json.Marshal(req)
	if err != nil {
		return probe.Result{Outcome: probe.Error, Detail: err.Error()}
	}
	var res probe.Result
	attempts, err := askRetrying(ctx, func() error {
		var err error
		res, err = f.askOnce(ctx, host, body, req.Budget())
		return err
	})
	if err != nil {
		return probe.Result{Outcome: probe.AgentUnreachable, Detail: fmt.Sprintf("ask host agent on %s via API server: %v", from.Node, err)}
	}
	res.Attempts = attempts
	return res
}

// askRetrying calls ask until it succeeds, at most maxAPIAttempts times, retrying only
// transport errors talking to the API server: the agent's answer is the verdict and is never
// asked for again. It returns the attempts made and the last error.
func askRetrying(ctx context.Context, ask func() error) (int, error) {
	var err error
	for attempt := 1; attempt <= maxAPIAttempts; attempt++ {
		if err = ask(); err == nil {
			return attempt, nil
		}
		if !kube.IsTransient(err) || ctx.Err() != nil {
			return attempt, err
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Duration(attempt) * 500 * time.Millisecond):
		}
	}
	return maxAPIAttempts, err
}

// maxAPIAttempts bounds retries of transport errors talking to the API server.
const maxAPIAttempts = 3

// timeouts are the fleet's client's bounds (the defaults for a Fleet built without a client).
func (f *Fleet) timeouts() kube.Timeouts {
	if f.c == nil {
		return kube.DefaultTimeouts()
	}
	return f.c.Timeouts
}

// askOnce posts one probe request to a host agent through the API server's pod proxy.
func (f *Fleet) askOnce(ctx context.Context, host Agent, body []byte, probeBudget time.Duration) (probe.Result, error) {
	raw, err := f.post(ctx, host, "probe", body, probeBudget)
	if err != nil {
		return probe.Result{}, err
	}
	var res probe.Result
	if err := json.Unmarshal(raw, &res); err != nil {
		return probe.Result{Outcome: probe.AgentUnreachable, Detail: fmt.Sprintf("host agent on %s answered %q: %v", host.Node, truncate(raw), err)}, nil
	}
	return res, nil
}

// post sends body to a host agent's control path through the API server's pod proxy. The API
// call gets the probes' time plus room for the proxy hops.
func (f *Fleet) post(ctx context.Context, host Agent, path string, body []byte, probeBudget time.Duration) ([]byte, error) {
	cctx, cancel := context.WithTimeout(ctx, probeBudget+f.c.Timeouts.APICall)
	defer cancel()
	return f.c.CoreV1().RESTClient().Post().Namespace(f.Namespace).Resource("pods").
		Name(fmt.Sprintf("%s:%d", host.Pod, probe.ControlPort)).SubResource("proxy").Suffix(path).
		Body(bytes.NewReader(body)).SetHeader("Content-Type", "application/json").Do(cctx).Raw()
}

// ProbeBatch asks from to send every request at once (probe.Batch) and returns one result per
// request, in order: one question through the API server instead of one per probe. It is asked
// like Probe (a pod agent through its node's host agent), and the question alone is retried
// when talking to the API server fails in transport. An agent with a Control address is asked
// one probe at a time.
func (f *Fleet) ProbeBatch(ctx context.Context, from Agent, reqs []probe.Request) []probe.Result {
	out := make([]probe.Result, len(reqs))
	failAll := func(o probe.Outcome, detail string) []probe.Result {
		for i := range out {
			out[i] = probe.Result{Outcome: o, Detail: detail}
		}
		return out
	}
	if !from.Ready {
		return failAll(probe.AgentUnreachable, from.Unavailable())
	}
	if from.Control != "" {
		pairs := make([]Pair, len(reqs))
		for i, r := range reqs {
			pairs[i] = Pair{From: from, Req: r}
		}
		for i, o := range f.RunAll(ctx, pairs, len(pairs)) {
			out[i] = o.Result
		}
		return out
	}
	host := f.AgentOrMissing(Host, from.Node)
	if !host.Ready {
		return failAll(probe.AgentUnreachable, "asked through the node's host agent: "+host.Unavailable())
	}
	b := probe.Batch{Requests: make([]probe.Request, len(reqs))}
	for i, r := range reqs {
		if r.TimeoutMS == 0 {
			r.TimeoutMS = int(f.timeouts().Probe / time.Millisecond)
		}
		b.Requests[i] = r
	}
	if !from.HostNetwork {
		b.Via = from.Addr()
	}
	body, err := json.Marshal(b)
	if err != nil {
		return failAll(probe.Error, err.Error())
	}
	var raw []byte
	attempts, err := askRetrying(ctx, func() error {
		var err error
		raw, err = f.post(ctx, host, "probes", body, b.Budget())
		return err
	})
	if err != nil {
		return failAll(probe.AgentUnreachable, fmt.Sprintf("ask host agent on %s via API server: %v", from.Node, err))
	}
	var res []probe.Result
	if err := json.Unmarshal(raw, &res); err != nil || len(res) != len(reqs) {
		return failAll(probe.AgentUnreachable, fmt.Sprintf("host agent on %s answered %q to a batch of %d (%v)", host.Node, truncate(raw), len(reqs), err))
	}
	for i := range res {
		res[i].Attempts = attempts
	}
	return res
}

// Info asks an agent for its links and routes (through the node's host agent, like Probe).
func (f *Fleet) Info(ctx context.Context, a Agent) (probe.Info, error) {
	return f.InfoWithPathMTU(ctx, a, "")
}

// InfoWithPathMTU is Info plus the MTU the agent's kernel uses toward pathMTUTo.
func (f *Fleet) InfoWithPathMTU(ctx context.Context, a Agent, pathMTUTo string) (probe.Info, error) {
	if a.Control != "" {
		return f.infoDirect(ctx, a, pathMTUTo)
	}
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
