package agents

import (
	"context"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
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
