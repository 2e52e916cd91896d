package agents

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/netconform/netconform/framework/kube"
	"github.com/netconform/netconform/framework/probe"
)

// The message the DaemonSet controller records when Pod Security admission refuses its pod.
const psaMessage = `Error creating: pods "probe-a-x7k2p" is forbidden: violates PodSecurity "restricted:latest": allowPrivilegeEscalation != false (container "agent" must set securityContext.allowPrivilegeEscalation=false), unrestricted capabilities (container "agent" must set securityContext.capabilities.drop=["ALL"]; container "agent" must not include "NET_RAW" in securityContext.capabilities.add)`

func ds(role string, uid types.UID, desired int32) *appsv1.DaemonSet {
	return &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Name: role, Namespace: "nc", UID: uid, Labels: map[string]string{appLabel: "netconform-probe", RoleLabel: role}},
		Status:     appsv1.DaemonSetStatus{DesiredNumberScheduled: desired},
	}
}

func failedCreate(role string, uid types.UID, msg string, at time.Time) corev1.Event {
	return corev1.Event{
		ObjectMeta:     metav1.ObjectMeta{Name: role + "." + at.Format("150405.000"), Namespace: "nc"},
		InvolvedObject: corev1.ObjectReference{Kind: "DaemonSet", Name: role, Namespace: "nc", UID: uid},
		Reason:         "FailedCreate", Type: corev1.EventTypeWarning, Message: msg, LastTimestamp: metav1.NewTime(at),
	}
}

func TestRefusal(t *testing.T) {
	now := time.Now()
	d := ds(PodA, "uid-1", 3)
	refused := failedCreate(PodA, "uid-1", psaMessage, now)
	cases := []struct {
		name   string
		ds     *appsv1.DaemonSet
		pods   int
		events []corev1.Event
		want   string // substring; "" means not refused
	}{
		{"admission refused every pod", d, 0, []corev1.Event{refused}, `violates PodSecurity "restricted:latest"`},
		{"the latest of several messages", d, 1, []corev1.Event{failedCreate(PodA, "uid-1", `Error creating: pods "probe-a-1" is forbidden: exceeded quota: pods`, now.Add(-time.Minute)), refused}, "restricted:latest"},
		{"every node has its pod: an old event does not count", d, 3, []corev1.Event{refused}, ""},
		{"controller has not counted the nodes yet", ds(PodA, "uid-1", 0), 0, []corev1.Event{refused}, ""},
		{"event of an earlier DaemonSet of that name", d, 0, []corev1.Event{failedCreate(PodA, "uid-0", psaMessage, now)}, ""},
		{"event of another DaemonSet", d, 0, []corev1.Event{failedCreate(PodB, "uid-1", psaMessage, now)}, ""},
		{"a transient failure is retried, not a refusal", d, 0, []corev1.Event{failedCreate(PodA, "uid-1", `Error creating: Timeout: request did not complete within requested timeout`, now)}, ""},
		{"no event", d, 0, nil, ""},
	}
	for _, c := range cases {
		got := refusal(c.ds, c.pods, c.events)
		if (c.want == "") != (got == "") || !strings.Contains(got, c.want) {
			t.Errorf("%s: refusal = %q, want %q", c.name, got, c.want)
		}
	}
	// One message per role, whichever pod the controller tried last.
	if got := refusal(d, 0, []corev1.Event{refused}); strings.Contains(got, "x7k2p") || !strings.Contains(got, `pods "…" is forbidden`) {
		t.Errorf("pod name not generalised: %q", got)
	}
}

func TestImagePullFailure(t *testing.T) {
	pod := func(reason, msg string) *corev1.Pod {
		return &corev1.Pod{
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "agent", Image: "netconform/probe:abc"}}},
			Status: corev1.PodStatus{Phase: corev1.PodPending, ContainerStatuses: []corev1.ContainerStatus{{Name: "agent", Image: "docker.io/netconform/probe:abc",
				State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason, Message: msg}}}}},
		}
	}
	for _, reason := range []string{"ErrImagePull", "ImagePullBackOff", "ErrImageNeverPull", "InvalidImageName"} {
		image, why := imagePullFailure(pod(reason, "lookup registry-1.docker.io: no such host"))
		if image != "netconform/probe:abc" || !strings.HasPrefix(why, reason+": ") || !strings.Contains(why, "no such host") {
			t.Errorf("%s: image %q, why %q", reason, image, why)
		}
	}
	for _, reason := range []string{"ContainerCreating", "CrashLoopBackOff", "CreateContainerConfigError"} {
		if _, why := imagePullFailure(pod(reason, "")); why != "" {
			t.Errorf("%s is not an image problem: %q", reason, why)
		}
	}
}

func node(name string, ready bool) *corev1.Node {
	st := corev1.ConditionTrue
	if !ready {
		st = corev1.ConditionUnknown
	}
	return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name},
		Status: corev1.NodeStatus{Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: st, Reason: "NodeStatusUnknown", Message: "Kubelet stopped posting node status."}}}}
}

func agentPod(role, nodeName string, waiting *corev1.ContainerStateWaiting) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: role + "-" + nodeName, Namespace: "nc", Labels: map[string]string{appLabel: "netconform-probe", RoleLabel: role}},
		Spec:       corev1.PodSpec{NodeName: nodeName, HostNetwork: role == Host, Containers: []corev1.Container{{Name: "agent", Image: "netconform/probe:abc"}}},
		Status:     corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "10.0.0.1", Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}},
	}
	if waiting != nil {
		p.Status.Phase = corev1.PodPending
		p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionFalse}}
		p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "agent", State: corev1.ContainerState{Waiting: waiting}}}
	}
	return p
}

func fakeClient(objs ...runtime.Object) *kube.Client {
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: ServiceName, Namespace: "nc"}, Spec: corev1.ServiceSpec{ClusterIP: "10.96.0.10"}}
	t := kube.DefaultTimeouts()
	t.PollInterval = 10 * time.Millisecond
	return &kube.Client{Interface: fake.NewSimpleClientset(append(objs, svc)...), Timeouts: t}
}

// Pod Security admission refused every agent: waitAgents says so with the admission's message
// within two polls, not at the end of its bound.
func TestWaitAgentsRefused(t *testing.T) {
	now := time.Now()
	objs := []runtime.Object{node("n1", true), node("n2", true)}
	for _, role := range roles {
		objs = append(objs, ds(role, types.UID("uid-"+role), 2))
		msg := strings.ReplaceAll(psaMessage, "probe-a", role)
		if role == Host {
			msg = strings.Replace(msg, `restricted:latest": `, `restricted:latest": host namespaces (hostNetwork=true), `, 1)
		}
		ev := failedCreate(role, types.UID("uid-"+role), msg, now)
		objs = append(objs, &ev)
	}
	start := time.Now()
	err := waitAgents(context.Background(), fakeClient(objs...), "nc", time.Minute, nil)
	var re *RefusedError
	if !errors.As(err, &re) {
		t.Fatalf("waitAgents = %v, want a *RefusedError", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("refusal took %s to report", took)
	} else if took < refusedFor {
		// Polled every 10 ms here: a refusal must last, not be taken from the first polls (an
		// event from before a fix, while the new pods are being created).
		t.Errorf("refusal reported after %s, before it was seen for %s", took, refusedFor)
	}
	msg := err.Error()
	for _, want := range []string{"namespace nc", "probe-a, probe-b: Error creating", "probe-host: Error creating: pods \"…\" is forbidden: violates PodSecurity \"restricted:latest\": host namespaces",
		"pod-security.kubernetes.io/enforce=privileged"} {
		if !strings.Contains(msg, want) {
			t.Errorf("refusal message lacks %q:\n%s", want, msg)
		}
	}
	// Identical refusals are listed once.
	if n := strings.Count(msg, "Error creating"); n != 2 {
		t.Errorf("the refusal lists %d messages, want 2 (pod agents, host agent):\n%s", n, msg)
	}
}

// Both nodes' kubelets cannot pull the image: the error names both nodes and the image.
func TestWaitAgentsImagePull(t *testing.T) {
	pull := &corev1.ContainerStateWaiting{Reason: "ImagePullBackOff", Message: `Back-off pulling image "netconform/probe:abc"`}
	objs := []runtime.Object{node("n1", true), node("n2", true), node("gone", false)}
	for _, role := range roles {
		objs = append(objs, ds(role, "", 3), agentPod(role, "n1", pull), agentPod(role, "n2", pull))
	}
	start := time.Now()
	err := waitAgents(context.Background(), fakeClient(objs...), "nc", time.Minute, nil)
	var pe *ImagePullError
	if !errors.As(err, &pe) {
		t.Fatalf("waitAgents = %v, want an *ImagePullError", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("every node settled, yet the error took %s", took)
	}
	if want := "probe image netconform/probe:abc cannot be pulled on nodes n1, n2 (n1: ImagePullBackOff: Back-off pulling image"; !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error %q, want prefix %q", err, want)
	}
}

// One node pulls the image, the other cannot; a third is still starting its agent and is
// waited for only up to the grace period. Here it settles: the error names only n2.
func TestWaitAgentsImagePullOneNode(t *testing.T) {
	pull := &corev1.ContainerStateWaiting{Reason: "ErrImagePull", Message: "not found"}
	objs := []runtime.Object{node("n1", true), node("n2", true)}
	for _, role := range roles {
		objs = append(objs, ds(role, "", 2), agentPod(role, "n1", nil), agentPod(role, "n2", pull))
	}
	err := waitAgents(context.Background(), fakeClient(objs...), "nc", time.Minute, nil)
	var pe *ImagePullError
	if !errors.As(err, &pe) || strings.Join(pe.Nodes, ",") != "n2" {
		t.Fatalf("waitAgents = %v, want an *ImagePullError naming n2 only", err)
	}
}

// A node without any agent stays in the fleet, and whatever needs its agents says which node
// and why, without asking anything over the network.
func TestMissingAgentNamesNode(t *testing.T) {
	objs := []runtime.Object{node("n1", true), node("n2", true), node("n3", false)}
	for _, role := range roles {
		objs = append(objs, ds(role, "", 3), agentPod(role, "n1", nil))
	}
	f, err := Discover(context.Background(), fakeClient(objs...), "nc")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(f.Nodes(), ","); got != "n1,n2,n3" {
		t.Errorf("Nodes() = %s, want every cluster node", got)
	}
	a := f.AgentOrMissing(PodA, "n2")
	if a.Ready || !a.Missing || a.Why != "no pod agent probe-a on node n2: its DaemonSet probe-a has 1 of 3 pods" {
		t.Errorf("missing agent on n2: %+v", a)
	}
	if why := f.AgentOrMissing(Host, "n3").Unavailable(); !strings.HasPrefix(why, "no host-network agent probe-host on node n3: node is NotReady (Unknown): NodeStatusUnknown") {
		t.Errorf("missing agent on a NotReady node: %q", why)
	}
	r := f.Probe(context.Background(), a, probe.Request{Protocol: probe.TCP, Target: "10.0.0.1:8080"})
	if r.Outcome != probe.AgentUnreachable || !strings.Contains(r.Detail, "on node n2") {
		t.Errorf("probe from the missing agent: %+v", r)
	}
	if done, why := f.ready(); done || !strings.Contains(why, "node n2") {
		t.Errorf("ready() = %v, %q: n2 has no agents", done, why)
	}
}
