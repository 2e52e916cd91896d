package agents

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/netconform/netconform/framework/kube"
)

// The user's own namespace (--namespace with one that was there before) stays, with whatever
// else it holds; only the agents go. A namespace netconform created goes whole.
func TestRemoveKeepsANamespaceNetconformDidNotCreate(t *testing.T) {
	ds := func(name string) *appsv1.DaemonSet {
		return &appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "nc"}}
	}
	theirs := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "theirs", Namespace: "nc"}}
	c := fakeClient(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "nc"}}, ds(PodA), ds(PodB), ds(Host), theirs)
	ctx := context.Background()
	if err := Remove(ctx, c, "nc"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CoreV1().Namespaces().Get(ctx, "nc", metav1.GetOptions{}); err != nil {
		t.Errorf("the user's namespace was deleted: %v", err)
	}
	if _, err := c.CoreV1().ConfigMaps("nc").Get(ctx, "theirs", metav1.GetOptions{}); err != nil {
		t.Errorf("the user's object was deleted: %v", err)
	}
	for _, name := range []string{PodA, PodB, Host} {
		if _, err := c.AppsV1().DaemonSets("nc").Get(ctx, name, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("agent DaemonSet %s left: %v", name, err)
		}
	}
	if _, err := c.CoreV1().Services("nc").Get(ctx, ServiceName, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("agent Service left: %v", err)
	}

	ours := fakeClient(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "nc", Labels: map[string]string{managedBy: "netconform"}}})
	if err := Remove(ctx, ours, "nc"); err != nil {
		t.Fatal(err)
	}
	if _, err := ours.CoreV1().Namespaces().Get(ctx, "nc", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("netconform's own namespace stayed: %v", err)
	}
	if err := Remove(ctx, ours, "nc"); err != nil {
		t.Errorf("removing twice: %v", err)
	}
}

// kubelet makes the fake cluster delete pods as Kubernetes does: a delete marks the pod
// terminating, and it is gone only after `after` more lists of pods (its kubelet stopping it);
// after < 0 never. log records, in order, "delete daemonset NAME", "delete pod NAME", "gone
// NAME" and "delete namespace NAME".
type kubelet struct {
	mu    sync.Mutex
	log   []string
	seen  map[string]int // lists since a pod was deleted, by name
	after int
}

func newKubelet(cs *fake.Clientset, after int) *kubelet {
	k := &kubelet{seen: map[string]int{}, after: after}
	podsGVR := corev1.SchemeGroupVersion.WithResource("pods")
	cs.PrependReactor("delete", "*", func(a k8stesting.Action) (bool, runtime.Object, error) {
		d := a.(k8stesting.DeleteAction)
		k.mu.Lock()
		defer k.mu.Unlock()
		k.log = append(k.log, "delete "+strings.TrimSuffix(a.GetResource().Resource, "s")+" "+d.GetName())
		if a.GetResource().Resource != "pods" {
			return false, nil, nil
		}
		obj, err := cs.Tracker().Get(podsGVR, a.GetNamespace(), d.GetName())
		if err != nil {
			return true, nil, err
		}
		p := obj.(*corev1.Pod)
		if p.DeletionTimestamp == nil {
			now := metav1.Now()
			p.DeletionTimestamp = &now
			k.seen[p.Name] = 0
		}
		return true, p, cs.Tracker().Update(podsGVR, p, a.GetNamespace())
	})
	cs.PrependReactor("list", "pods", func(a k8stesting.Action) (bool, runtime.Object, error) {
		k.mu.Lock()
		defer k.mu.Unlock()
		for name := range k.seen {
			if k.seen[name]++; k.after >= 0 && k.seen[name] > k.after {
				delete(k.seen, name)
				k.log = append(k.log, "gone "+name)
				_ = cs.Tracker().Delete(podsGVR, a.GetNamespace(), name)
			}
		}
		return false, nil, nil
	})
	return k
}

func (k *kubelet) events() []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return slices.Clone(k.log)
}

// deployedNamespace is a cluster with netconform's namespace and what Deploy creates in it:
// the three DaemonSets with a pod of each on two nodes, the solo pod and the flow backend.
func deployedNamespace(t *testing.T, ns string, ours bool) (*kube.Client, *fake.Clientset) {
	t.Helper()
	nsObj := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}
	if ours {
		nsObj.Labels = map[string]string{managedBy: "netconform"}
	}
	c, cs := bareClient(nsObj, node("w1", true), node("w2", true))
	if _, err := apply(context.Background(), c, ns, "img"); err != nil {
		t.Fatal(err)
	}
	for _, role := range roles {
		for _, n := range []string{"w1", "w2"} {
			p := agentPod(role, n, nil)
			p.Namespace = ns
			if _, err := cs.CoreV1().Pods(ns).Create(context.Background(), p, metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
		}
	}
	flow := readyPod("probe-flow-aaa", Flow, "w1", "10.244.1.9", time.Now())
	flow.Namespace = ns
	if _, err := cs.CoreV1().Pods(ns).Create(context.Background(), flow, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	c.Timeouts.ShortPoll = 5 * time.Millisecond
	return c, cs
}

// Remove deletes netconform's namespace at once, beside the agents' owners (its controller
// waits 5 s before it starts, which then pass while the pods terminate), deletes the pods after
// their owners (which would make them again), and returns only once every pod is gone and the
// namespace with them.
func TestRemoveWaitsForThePodsAndTheNamespace(t *testing.T) {
	ctx := context.Background()
	c, cs := deployedNamespace(t, "nc", true)
	k := newKubelet(cs, 3)
	if err := Remove(ctx, c, "nc"); err != nil {
		t.Fatal(err)
	}
	log := k.events()
	at := func(prefix string) (first, last int) {
		first, last = -1, -1
		for i, e := range log {
			if strings.HasPrefix(e, prefix) {
				if first < 0 {
					first = i
				}
				last = i
			}
		}
		return first, last
	}
	_, lastOwner := at("delete daemonset ")
	firstPod, _ := at("delete pod ")
	nsDelete, _ := at("delete namespace nc")
	switch {
	case lastOwner < 0 || firstPod < 0 || nsDelete < 0:
		t.Fatalf("missing steps in %v", log)
	case firstPod < lastOwner:
		t.Errorf("a pod was deleted before its DaemonSet, which would make it again: %v", log)
	case nsDelete > firstPod:
		t.Errorf("the namespace was deleted after the pods, not beside their owners: %v", log)
	}
	if n := strings.Count(strings.Join(log, "\n"), "gone "); n != 8 {
		t.Errorf("%d pods went before Remove returned, want 8 (6 agents, solo, flow): %v", n, log)
	}
	if left, err := Leftovers(ctx, c, "nc"); err != nil || len(left) != 0 {
		t.Errorf("left behind: %v %v", left, err)
	}
}

// A pod that never goes (a node whose kubelet cannot stop it) ends Remove with an error naming
// it within the bound, not a hang; netconform's namespace is deleted all the same, for Kubernetes
// to finish once the pod goes.
func TestRemoveNamesAPodThatDoesNotGo(t *testing.T) {
	ctx := context.Background()
	c, cs := deployedNamespace(t, "nc", true)
	newKubelet(cs, -1)
	c.Timeouts.NamespaceGone = 300 * time.Millisecond
	start := time.Now()
	err := Remove(ctx, c, "nc")
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("took %s; the bound was 300ms", took)
	}
	if err == nil || !strings.Contains(err.Error(), "not gone within 300ms") || !strings.Contains(err.Error(), "probe-solo on node w2 (") ||
		!strings.Contains(err.Error(), "terminating since") || !strings.Contains(err.Error(), "namespace nc is being deleted") {
		t.Errorf("error %v; want the pods not gone, named, and the namespace deleted", err)
	}
	if _, err := c.CoreV1().Namespaces().Get(ctx, "nc", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("the namespace was not deleted: %v", err)
	}
}

// In the user's own namespace Remove also waits for the agents' pods, and leaves theirs.
func TestRemoveWaitsForAgentPodsInTheUsersNamespace(t *testing.T) {
	ctx := context.Background()
	c, cs := deployedNamespace(t, "nc", false)
	theirs := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "theirs", Namespace: "nc"}}
	if _, err := cs.CoreV1().Pods("nc").Create(ctx, theirs, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if left, err := Leftovers(ctx, c, "nc"); err != nil || len(left) < 8 {
		t.Fatalf("before removal: %v %v", left, err)
	}
	k := newKubelet(cs, 2)
	if err := Remove(ctx, c, "nc"); err != nil {
		t.Fatal(err)
	}
	if left, err := Leftovers(ctx, c, "nc"); err != nil || len(left) != 0 {
		t.Errorf("left behind: %v %v (%v)", left, err, k.events())
	}
	if _, err := c.CoreV1().Pods("nc").Get(ctx, "theirs", metav1.GetOptions{}); err != nil {
		t.Errorf("the user's pod went: %v", err)
	}
}

// A check that finds the agents kept by an earlier one (--keep-agents) reuses them: an unchanged
// DaemonSet is not written to (no rollout of running agents); a changed one, or one without
// netconform's spec annotation (an older netconform's), is updated.
func TestApplyLeavesUnchangedDaemonSetsAlone(t *testing.T) {
	ctx := context.Background()
	c, cs := bareClient(node("w1", true))
	writes := func() []string {
		var out []string
		for _, a := range cs.Actions() {
			if a.GetResource().Resource == "daemonsets" && (a.GetVerb() == "update" || a.GetVerb() == "patch") {
				out = append(out, a.(k8stesting.UpdateAction).GetObject().(*appsv1.DaemonSet).Name)
			}
		}
		return out
	}
	if _, err := apply(ctx, c, "nc", "img:1"); err != nil {
		t.Fatal(err)
	}
	cs.ClearActions()
	if _, err := apply(ctx, c, "nc", "img:1"); err != nil {
		t.Fatal(err)
	}
	if w := writes(); len(w) != 0 {
		t.Errorf("an unchanged DaemonSet was updated: %v", w)
	}
	old, _ := cs.AppsV1().DaemonSets("nc").Get(ctx, PodB, metav1.GetOptions{})
	delete(old.Annotations, specAnnotation)
	if _, err := cs.AppsV1().DaemonSets("nc").Update(ctx, old, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	cs.ClearActions()
	if _, err := apply(ctx, c, "nc", "img:1"); err != nil {
		t.Fatal(err)
	}
	if w := writes(); strings.Join(w, ",") != PodB {
		t.Errorf("updated %v, want only %s (no spec annotation)", w, PodB)
	}
	cs.ClearActions()
	if _, err := apply(ctx, c, "nc", "img:2"); err != nil {
		t.Fatal(err)
	}
	if w := writes(); len(w) != 3 {
		t.Errorf("another image updated %v, want every DaemonSet", w)
	}
	ds, _ := cs.AppsV1().DaemonSets("nc").Get(ctx, Host, metav1.GetOptions{})
	if img := ds.Spec.Template.Spec.Containers[0].Image; img != "img:2" {
		t.Errorf("image %s after the update", img)
	}
}
