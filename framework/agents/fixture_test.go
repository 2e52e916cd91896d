package agents

import (
	"context"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/netconform/netconform/framework/kube"
	"github.com/netconform/netconform/framework/probe"
)

// bareClient is a fake cluster holding exactly objs (fakeClient adds a probe Service).
func bareClient(objs ...runtime.Object) (*kube.Client, *fake.Clientset) {
	cs := fake.NewSimpleClientset(objs...)
	t := kube.DefaultTimeouts()
	t.PollInterval = 10 * time.Millisecond
	return &kube.Client{Interface: cs, Timeouts: t}, cs
}

func controlPlane(name string) *corev1.Node {
	n := node(name, true)
	n.Labels = map[string]string{"node-role.kubernetes.io/control-plane": ""}
	return n
}

// selects says whether a Service selector picks a pod with labels.
func selects(selector, labels map[string]string) bool {
	if len(selector) == 0 {
		return false
	}
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return true
}

type wantPort struct {
	proto corev1.Protocol
	port  int32
}

func checkPorts(t *testing.T, svc *corev1.Service, want map[string]wantPort) {
	t.Helper()
	if len(svc.Spec.Ports) != len(want) {
		t.Errorf("service %s has ports %v, want %v", svc.Name, svc.Spec.Ports, want)
	}
	for _, p := range svc.Spec.Ports {
		w, ok := want[p.Name]
		if !ok || p.Protocol != w.proto || p.Port != w.port || p.TargetPort != intstr.FromInt32(w.port) {
			t.Errorf("service %s port %s: %s %d -> %v, want %v", svc.Name, p.Name, p.Protocol, p.Port, p.TargetPort, w)
		}
	}
}

var (
	tcpEcho = wantPort{corev1.ProtocolTCP, probe.TCPEchoPort}
	udpEcho = wantPort{corev1.ProtocolUDP, probe.UDPEchoPort}
	whoTCP  = wantPort{corev1.ProtocolTCP, probe.WhoPort}
	whoUDP  = wantPort{corev1.ProtocolUDP, probe.WhoPort}
)

// Deploy's objects: every fixture Service with its ports and policies, selecting exactly the
// pods it should; PodB's hostPort; the solo pod pinned to the last worker; the flow Deployment.
func TestApplyCreatesFixtures(t *testing.T) {
	ctx := context.Background()
	c, _ := bareClient(controlPlane("cp"), node("w1", true), node("w2", true))
	stuck, err := apply(ctx, c, "nc", "netconform/probe:abc")
	if err != nil || len(stuck) != 0 {
		t.Fatalf("apply: %v, fixtures not created: %v", err, stuck)
	}
	getSvc := func(name string) *corev1.Service {
		s, err := c.CoreV1().Services("nc").Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Fatalf("service %s: %v", name, err)
		}
		return s
	}
	getDS := func(name string) *appsv1.DaemonSet {
		d, err := c.AppsV1().DaemonSets("nc").Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Fatalf("daemonset %s: %v", name, err)
		}
		return d
	}
	solo, err := c.CoreV1().Pods("nc").Get(ctx, SoloPod, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("solo pod: %v", err)
	}
	flow, err := c.AppsV1().Deployments("nc").Get(ctx, FlowDeployment, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("flow deployment: %v", err)
	}
	pods := map[string]map[string]string{
		PodA: getDS(PodA).Spec.Template.Labels, PodB: getDS(PodB).Spec.Template.Labels, Host: getDS(Host).Spec.Template.Labels,
		Solo: solo.Labels, Flow: flow.Spec.Template.Labels,
	}
	backends := func(svc *corev1.Service) string {
		var out []string
		for _, role := range []string{PodA, PodB, Host, Solo, Flow} {
			if selects(svc.Spec.Selector, pods[role]) {
				out = append(out, role)
			}
		}
		return strings.Join(out, ",")
	}

	p := getSvc(ServiceName)
	checkPorts(t, p, map[string]wantPort{PortTCPEcho: tcpEcho, PortUDPEcho: udpEcho, PortWhoTCP: whoTCP, PortWhoUDP: whoUDP})
	if p.Spec.Type != corev1.ServiceTypeNodePort || backends(p) != "probe-a,probe-b" {
		t.Errorf("probe service: type %s over %q, want NodePort over probe-a,probe-b", p.Spec.Type, backends(p))
	}
	aff := getSvc(AffinityService)
	checkPorts(t, aff, map[string]wantPort{PortTCPEcho: tcpEcho, PortUDPEcho: udpEcho, PortWhoTCP: whoTCP, PortWhoUDP: whoUDP})
	if aff.Spec.Type != corev1.ServiceTypeClusterIP || aff.Spec.SessionAffinity != corev1.ServiceAffinityClientIP || backends(aff) != "probe-a,probe-b" {
		t.Errorf("affinity service: type %s affinity %s over %q", aff.Spec.Type, aff.Spec.SessionAffinity, backends(aff))
	}
	local := getSvc(LocalService)
	checkPorts(t, local, map[string]wantPort{PortWhoTCP: whoTCP, PortWhoUDP: whoUDP, PortTCPEcho: tcpEcho})
	if local.Spec.Type != corev1.ServiceTypeNodePort || local.Spec.ExternalTrafficPolicy != corev1.ServiceExternalTrafficPolicyLocal ||
		local.Spec.InternalTrafficPolicy == nil || *local.Spec.InternalTrafficPolicy != corev1.ServiceInternalTrafficPolicyLocal || backends(local) != Solo {
		t.Errorf("local service: %+v over %q", local.Spec, backends(local))
	}
	empty := getSvc(EmptyService)
	checkPorts(t, empty, map[string]wantPort{PortTCPEcho: tcpEcho, PortUDPEcho: udpEcho})
	if empty.Spec.Type != corev1.ServiceTypeNodePort || len(empty.Spec.Selector) == 0 || backends(empty) != "" {
		t.Errorf("empty service: type %s selector %v over %q", empty.Spec.Type, empty.Spec.Selector, backends(empty))
	}
	hl := getSvc(HeadlessService)
	checkPorts(t, hl, map[string]wantPort{PortTCPEcho: tcpEcho, PortUDPEcho: udpEcho})
	if hl.Spec.ClusterIP != corev1.ClusterIPNone || backends(hl) != "probe-a,probe-solo" {
		t.Errorf("headless service: clusterIP %q over %q", hl.Spec.ClusterIP, backends(hl))
	}
	fl := getSvc(FlowService)
	checkPorts(t, fl, map[string]wantPort{PortWhoTCP: whoTCP, PortWhoUDP: whoUDP})
	if fl.Spec.Type != corev1.ServiceTypeNodePort || backends(fl) != Flow {
		t.Errorf("flow service: type %s over %q", fl.Spec.Type, backends(fl))
	}

	// PodB maps every node's HostPortWho to its WhoPort, TCP and UDP; PodA does not.
	hostPorts := func(ds *appsv1.DaemonSet) map[string]int32 {
		out := map[string]int32{}
		for _, p := range ds.Spec.Template.Spec.Containers[0].Ports {
			if p.HostPort != 0 {
				out[string(p.Protocol)+"/"+p.Name] = p.HostPort
				if p.ContainerPort != probe.WhoPort {
					t.Errorf("%s: hostPort %d -> containerPort %d, want %d", ds.Name, p.HostPort, p.ContainerPort, probe.WhoPort)
				}
			}
		}
		return out
	}
	if hp := hostPorts(getDS(PodB)); len(hp) != 2 || hp["TCP/who-tcp"] != probe.HostPortWho || hp["UDP/who-udp"] != probe.HostPortWho {
		t.Errorf("probe-b host ports %v, want who-tcp and who-udp on %d", hp, probe.HostPortWho)
	}
	if hp := hostPorts(getDS(PodA)); len(hp) != 0 {
		t.Errorf("probe-a host ports %v, want none", hp)
	}
	if n := len(getDS(Host).Spec.Template.Spec.Containers[0].Ports); n != 6 {
		t.Errorf("host agent declares %d ports, want 6", n)
	}

	// The solo pod: pinned to the last worker, named in the headless Service's domain, an agent
	// like the others.
	s := solo.Spec
	if s.NodeName != "w2" || s.Hostname != SoloHostname || s.Subdomain != HeadlessService || s.HostNetwork {
		t.Errorf("solo pod on %q hostname %q subdomain %q hostNetwork %v", s.NodeName, s.Hostname, s.Subdomain, s.HostNetwork)
	}
	if solo.Labels[RoleLabel] != Solo || len(s.Tolerations) != 1 || s.Tolerations[0].Operator != corev1.TolerationOpExists {
		t.Errorf("solo pod labels %v tolerations %v", solo.Labels, s.Tolerations)
	}
	env := map[string]corev1.EnvVar{}
	for _, e := range s.Containers[0].Env {
		env[e.Name] = e
	}
	if env["HOST_NETWORK"].Value != "false" || env["POD_IP"].ValueFrom == nil || env["POD_IP"].ValueFrom.FieldRef.FieldPath != "status.podIP" ||
		env["NODE_NAME"].ValueFrom == nil || env["POD_NAME"].ValueFrom == nil {
		t.Errorf("solo pod env %v", s.Containers[0].Env)
	}
	if rp := s.Containers[0].ReadinessProbe; rp == nil || rp.HTTPGet == nil || rp.HTTPGet.Port != intstr.FromInt32(probe.ControlPort) {
		t.Errorf("solo pod readiness %+v", rp)
	}
	if flow.Spec.Replicas == nil || *flow.Spec.Replicas != 1 || flow.Spec.Template.Spec.Containers[0].Image != "netconform/probe:abc" {
		t.Errorf("flow deployment %+v", flow.Spec)
	}

	// Applying again changes nothing and fails nothing.
	if stuck, err := apply(ctx, c, "nc", "netconform/probe:abc"); err != nil || len(stuck) != 0 {
		t.Fatalf("apply again: %v %v", err, stuck)
	}
}

func TestSoloNode(t *testing.T) {
	n := func(name string, cp bool) kube.Node { return kube.Node{Name: name, ControlPl: cp} }
	cases := []struct {
		nodes []kube.Node
		want  string
	}{
		{[]kube.Node{n("w2", false), n("cp", true), n("w1", false)}, "w2"},
		{[]kube.Node{n("z-control", true), n("a-worker", false)}, "a-worker"},
		{[]kube.Node{n("only", true)}, "only"},
		{[]kube.Node{n("cp1", true), n("cp3", true), n("cp2", true)}, "cp3"},
		{nil, ""},
	}
	for _, c := range cases {
		if got := soloNode(c.nodes); got != c.want {
			t.Errorf("soloNode(%v) = %q, want %q", c.nodes, got, c.want)
		}
	}
	// Every node a control-plane node: the solo pod goes to the only one.
	ctx := context.Background()
	c, _ := bareClient(controlPlane("kind-control-plane"))
	if _, err := apply(ctx, c, "nc", "img"); err != nil {
		t.Fatal(err)
	}
	if p, err := c.CoreV1().Pods("nc").Get(ctx, SoloPod, metav1.GetOptions{}); err != nil || p.Spec.NodeName != "kind-control-plane" {
		t.Errorf("solo pod on a control-plane-only cluster: %v %v", p, err)
	}
}

// An agents namespace kept from an older netconform: the probe Service with two ports and no
// other fixture, a solo pod on another node. Deploy brings them up to date, keeping the Service's
// cluster IP and node ports.
func TestApplyUpdatesAnOlderNamespace(t *testing.T) {
	ctx := context.Background()
	old := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: ServiceName, Namespace: "nc"}, Spec: corev1.ServiceSpec{
		Type: corev1.ServiceTypeNodePort, ClusterIP: "10.96.0.10", ClusterIPs: []string{"10.96.0.10"},
		Selector: podAgentsSelector(),
		Ports: []corev1.ServicePort{
			{Name: PortTCPEcho, Protocol: corev1.ProtocolTCP, Port: probe.TCPEchoPort, TargetPort: intstr.FromInt32(probe.TCPEchoPort), NodePort: 30001},
			{Name: PortUDPEcho, Protocol: corev1.ProtocolUDP, Port: probe.UDPEchoPort, TargetPort: intstr.FromInt32(probe.UDPEchoPort), NodePort: 30002},
		}}}
	staleSolo := soloPod("nc", "img", "w1")
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "nc"}}
	c, _ := bareClient(ns, node("w1", true), node("w2", true), old, staleSolo)
	if stuck, err := apply(ctx, c, "nc", "img"); err != nil || len(stuck) != 0 {
		t.Fatalf("apply: %v %v", err, stuck)
	}
	p, err := c.CoreV1().Services("nc").Get(ctx, ServiceName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	checkPorts(t, p, map[string]wantPort{PortTCPEcho: tcpEcho, PortUDPEcho: udpEcho, PortWhoTCP: whoTCP, PortWhoUDP: whoUDP})
	if p.Spec.ClusterIP != "10.96.0.10" || p.Spec.Ports[0].NodePort != 30001 || p.Spec.Ports[1].NodePort != 30002 {
		t.Errorf("the update moved the Service: %+v", p.Spec)
	}
	if p.Annotations[specAnnotation] == "" {
		t.Error("updated Service carries no spec hash")
	}
	solo, err := c.CoreV1().Pods("nc").Get(ctx, SoloPod, metav1.GetOptions{})
	if err != nil || solo.Spec.NodeName != "w2" {
		t.Errorf("the solo pod was not moved to w2: %v %v", solo, err)
	}
}

// A fixture Kubernetes refuses (here the solo pod, by admission) does not fail the deployment:
// it is recorded, not waited for, and the solo agent says why.
func TestApplyRecordsARefusedFixture(t *testing.T) {
	ctx := context.Background()
	c, cs := bareClient(node("w1", true))
	cs.PrependReactor("create", "pods", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewForbidden(corev1.Resource("pods"), SoloPod, errNotAllowed)
	})
	stuck, err := apply(ctx, c, "nc", "img")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stuck[SoloPod], "forbidden") {
		t.Fatalf("stuck %v, want the solo pod's refusal", stuck)
	}
	f, err := Discover(ctx, c, "nc")
	if err != nil {
		t.Fatal(err)
	}
	f.noteStuck(stuck)
	if f.waitsFor(Solo) || !strings.Contains(f.Fixtures.Solo.Unavailable(), "forbidden") {
		t.Errorf("solo agent: waited for %v, %q", f.waitsFor(Solo), f.Fixtures.Solo.Unavailable())
	}
}

var errNotAllowed = &notAllowed{}

type notAllowed struct{}

func (*notAllowed) Error() string { return "not allowed here" }

func readyPod(name, role, nodeName, ip string, created time.Time) *corev1.Pod {
	p := agentPod(role, nodeName, nil)
	p.Name, p.Status.PodIP, p.CreationTimestamp = name, ip, metav1.NewTime(created)
	return p
}

// Discover reads every fixture back: Services with their ports and node ports, a Service that
// is not there (Missing says why), the solo pod and its node, the flow Deployment's Ready pod.
func TestDiscoverFillsFixtures(t *testing.T) {
	ctx := context.Background()
	now := time.Now()
	svc := func(name, clusterIP string, typ corev1.ServiceType, ports ...corev1.ServicePort) *corev1.Service {
		return &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "nc"}, Spec: corev1.ServiceSpec{Type: typ, ClusterIP: clusterIP, Ports: ports}}
	}
	port := func(name string, nodePort int32) corev1.ServicePort {
		p := servicePort(name)
		p.NodePort = nodePort
		return p
	}
	notReadyFlow := agentPod(Flow, "w1", &corev1.ContainerStateWaiting{Reason: "ContainerCreating"})
	notReadyFlow.Name, notReadyFlow.CreationTimestamp = "probe-flow-new", metav1.NewTime(now)
	objs := []runtime.Object{controlPlane("cp"), node("w1", true), node("w2", true),
		svc(ServiceName, "10.96.0.10", corev1.ServiceTypeNodePort, port(PortTCPEcho, 30001), port(PortUDPEcho, 30002), port(PortWhoTCP, 30003), port(PortWhoUDP, 30004)),
		svc(AffinityService, "10.96.0.11", corev1.ServiceTypeClusterIP, port(PortTCPEcho, 0), port(PortWhoUDP, 0)),
		svc(LocalService, "10.96.0.12", corev1.ServiceTypeNodePort, port(PortWhoTCP, 30010)),
		svc(HeadlessService, corev1.ClusterIPNone, corev1.ServiceTypeClusterIP, port(PortTCPEcho, 0), port(PortUDPEcho, 0)),
		svc(FlowService, "10.96.0.14", corev1.ServiceTypeNodePort, port(PortWhoUDP, 30020), port(PortWhoTCP, 30021)),
		readyPod(SoloPod, Solo, "w1", "10.244.1.9", now),
		readyPod("probe-flow-old", Flow, "w2", "10.244.2.7", now.Add(-time.Minute)),
		notReadyFlow,
	}
	for _, role := range roles {
		for _, n := range []string{"cp", "w1", "w2"} {
			objs = append(objs, agentPod(role, n, nil))
		}
	}
	c, _ := bareClient(objs...)
	f, err := Discover(ctx, c, "nc")
	if err != nil {
		t.Fatal(err)
	}
	fx := f.Fixtures
	if fx.Probe.ClusterIP != "10.96.0.10" || fx.Probe.NodePorts[PortWhoUDP] != 30004 || fx.Probe.Ports[PortWhoTCP] != probe.WhoPort || f.NodePort != 30001 || f.UDPPort != 30002 {
		t.Errorf("probe service %+v (NodePort %d UDPPort %d)", fx.Probe, f.NodePort, f.UDPPort)
	}
	if fx.Affinity.ClusterIP != "10.96.0.11" || fx.Affinity.Ports[PortWhoUDP] != probe.WhoPort || len(fx.Affinity.NodePorts) != 0 {
		t.Errorf("affinity service %+v", fx.Affinity)
	}
	if fx.Local.NodePorts[PortWhoTCP] != 30010 || fx.Headless.ClusterIP != "None" || fx.Flow.NodePorts[PortWhoTCP] != 30021 {
		t.Errorf("local %+v headless %+v flow %+v", fx.Local, fx.Headless, fx.Flow)
	}
	if fx.Empty.Missing == "" || !strings.Contains(fx.Empty.Missing, "probe-empty does not exist") || fx.Empty.ClusterIP != "" {
		t.Errorf("absent Service: %+v", fx.Empty)
	}
	for _, s := range []ServiceAddr{fx.Probe, fx.Affinity, fx.Local, fx.Headless, fx.Flow} {
		if s.Missing != "" {
			t.Errorf("%s: Missing %q", s.Name, s.Missing)
		}
	}
	// The solo pod is where it is, even where Deploy would no longer put it.
	if fx.SoloNode != "w1" || !fx.Solo.Ready || fx.Solo.Role != Solo || fx.Solo.IP != "10.244.1.9" || fx.Solo.Node != "w1" {
		t.Errorf("solo node %q agent %+v", fx.SoloNode, fx.Solo)
	}
	if b := fx.FlowBackend; !b.Ready || b.Pod != "probe-flow-old" || b.Role != Flow || b.Node != "w2" {
		t.Errorf("flow backend %+v, want the Ready pod", b)
	}
	if done, why := f.ready(); !done {
		t.Errorf("ready() = false: %s", why)
	}
}

// Without a solo pod or a flow Deployment (an older netconform's namespace), the fixtures say
// so; waiting for the agents waits for them while they may come, not when Kubernetes refuses
// them.
func TestDiscoverMissingFixturePods(t *testing.T) {
	ctx := context.Background()
	objs := []runtime.Object{node("n1", true)}
	for _, role := range roles {
		objs = append(objs, ds(role, "", 1), agentPod(role, "n1", nil))
	}
	c, cs := bareClient(append(objs, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: ServiceName, Namespace: "nc"}})...)
	f, err := Discover(ctx, c, "nc")
	if err != nil {
		t.Fatal(err)
	}
	fx := f.Fixtures
	if fx.SoloNode != "n1" || fx.Solo.Ready || !fx.Solo.Missing || !strings.Contains(fx.Solo.Unavailable(), "pod nc/probe-solo does not exist") {
		t.Errorf("solo %q %+v", fx.SoloNode, fx.Solo)
	}
	if !fx.FlowBackend.Missing || !strings.Contains(fx.FlowBackend.Unavailable(), "Deployment nc/probe-flow does not exist") {
		t.Errorf("flow backend %+v", fx.FlowBackend)
	}
	if done, why := f.ready(); done || !strings.Contains(why, "probe-solo") {
		t.Errorf("ready() = %v, %q: the solo pod is awaited", done, why)
	}

	// The Deployment exists but Kubernetes refuses its pod: not awaited, and said why.
	d := flowDeployment("nc", "img")
	d.Status.Conditions = []appsv1.DeploymentCondition{{Type: appsv1.DeploymentReplicaFailure, Status: corev1.ConditionTrue,
		Message: `pods "probe-flow-x" is forbidden: exceeded quota`}}
	if err := cs.Tracker().Add(d); err != nil {
		t.Fatal(err)
	}
	if err := cs.Tracker().Add(readyPod(SoloPod, Solo, "n1", "10.244.0.9", time.Now())); err != nil {
		t.Fatal(err)
	}
	f, err = Discover(ctx, c, "nc")
	if err != nil {
		t.Fatal(err)
	}
	if f.waitsFor(Flow) || !strings.Contains(f.Fixtures.FlowBackend.Unavailable(), "cannot create its pod: pods \"probe-flow-x\" is forbidden") {
		t.Errorf("refused flow backend: waited for %v, %q", f.waitsFor(Flow), f.Fixtures.FlowBackend.Unavailable())
	}
	if done, why := f.ready(); !done {
		t.Errorf("ready() = false (%s): a refused flow backend is not awaited", why)
	}
}

// ReplaceFlowBackend deletes the backend and returns the Deployment's next Ready pod (the
// ReplicaSet controller is played by a reactor that creates it when the old one is deleted).
func TestReplaceFlowBackend(t *testing.T) {
	ctx := context.Background()
	now := time.Now()
	c, cs := bareClient(readyPod("probe-flow-aaa", Flow, "w1", "10.244.1.5", now.Add(-time.Hour)), flowDeployment("nc", "img"))
	var deleted []string
	cs.PrependReactor("delete", "pods", func(a k8stesting.Action) (bool, runtime.Object, error) {
		da := a.(k8stesting.DeleteAction)
		deleted = append(deleted, da.GetName())
		if o := da.GetDeleteOptions(); o.GracePeriodSeconds == nil || *o.GracePeriodSeconds != 1 {
			t.Errorf("deleted with grace %v, want 1 s", o.GracePeriodSeconds)
		}
		// The tracker has its own lock: adding from inside a reactor is safe.
		if err := cs.Tracker().Add(readyPod("probe-flow-bbb", Flow, "w2", "10.244.2.6", time.Now())); err != nil {
			t.Error(err)
		}
		return false, nil, nil
	})
	f := &Fleet{c: c, Namespace: "nc", stuck: map[string]string{}}
	old, repl, err := f.ReplaceFlowBackend(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if old.Pod != "probe-flow-aaa" || old.Node != "w1" || repl.Pod != "probe-flow-bbb" || !repl.Ready || repl.IP != "10.244.2.6" || repl.Role != Flow {
		t.Errorf("old %+v new %+v", old, repl)
	}
	if strings.Join(deleted, ",") != "probe-flow-aaa" {
		t.Errorf("deleted %v", deleted)
	}
	if f.Fixtures.FlowBackend.Pod != "probe-flow-bbb" {
		t.Errorf("Fixtures.FlowBackend = %+v, want the new pod", f.Fixtures.FlowBackend)
	}

	// No replacement comes: the error says so within the bound.
	c2, _ := bareClient(readyPod("probe-flow-ccc", Flow, "w1", "10.244.1.5", now), flowDeployment("nc", "img"))
	c2.Timeouts.AgentsReady = 200 * time.Millisecond
	f2 := &Fleet{c: c2, Namespace: "nc", stuck: map[string]string{}}
	start := time.Now()
	old, repl, err = f2.ReplaceFlowBackend(ctx)
	if err == nil || !strings.Contains(err.Error(), "no Ready replacement within") || old.Pod != "probe-flow-ccc" || !repl.Missing {
		t.Errorf("no replacement: old %+v new %+v err %v", old, repl, err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("took %s, bound was 200ms", took)
	}
	// No backend at all: nothing to replace.
	c3, _ := bareClient()
	if _, _, err := (&Fleet{c: c3, Namespace: "nc", stuck: map[string]string{}}).ReplaceFlowBackend(ctx); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("without a flow Deployment: %v", err)
	}
}

// Remove in a namespace netconform did not create deletes every fixture too, and only those.
func TestRemoveDeletesFixtures(t *testing.T) {
	ctx := context.Background()
	theirs := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "theirs", Namespace: "nc"}}
	c, _ := bareClient(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "nc"}}, node("w1", true), theirs)
	if _, err := apply(ctx, c, "nc", "img"); err != nil {
		t.Fatal(err)
	}
	// apply created the namespace's objects in a namespace that existed: it stays.
	if err := Remove(ctx, c, "nc"); err != nil {
		t.Fatal(err)
	}
	svcs, _ := c.CoreV1().Services("nc").List(ctx, metav1.ListOptions{})
	if len(svcs.Items) != 1 || svcs.Items[0].Name != "theirs" {
		var names []string
		for _, s := range svcs.Items {
			names = append(names, s.Name)
		}
		t.Errorf("services left: %v, want only theirs", names)
	}
	if _, err := c.CoreV1().Pods("nc").Get(ctx, SoloPod, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("solo pod left: %v", err)
	}
	if _, err := c.AppsV1().Deployments("nc").Get(ctx, FlowDeployment, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("flow deployment left: %v", err)
	}
	if _, err := c.CoreV1().Namespaces().Get(ctx, "nc", metav1.GetOptions{}); err != nil {
		t.Errorf("the user's namespace went: %v", err)
	}
}
