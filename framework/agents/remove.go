package agents

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/netconform/netconform/framework/kube"
)

// Remove takes the agents away again, and the NetworkPolicy fixture's namespaces, and returns
// once they are gone, not merely deleted (each wait within NamespaceGone). A namespace netconform
// created goes with everything in it; a namespace that was there before (--namespace with the
// user's own) stays, and only what Deploy created is deleted from it: the agents' DaemonSets,
// the flow Deployment, the solo pod, their pods and the Services.
//
// Everything is deleted at once and then waited for, pods first. The namespace controller
// starts on a deleted namespace only after a grace period of its own (5 s in
// kube-controller-manager), and then retries one whose pods are still terminating seconds apart:
// so netconform deletes its namespace at the start, together with the agents' owners, and
// deletes the pods itself; the grace period passes while the pods terminate (no controller can
// make new ones in a terminating namespace), and the controller finds nothing left to wait for
// (measured in docs/measurements.md, 2026-12-03: check overhead).
func Remove(ctx context.Context, c *kube.Client, ns string) error {
	// The NetworkPolicy fixture's namespaces go first: a suite that was cut short leaves them.
	if err := RemovePolicyFixture(ctx, c, ns); err != nil {
		return fmt.Errorf("remove probe agents: %w", err)
	}
	cctx, cancel := context.WithTimeout(ctx, c.Timeouts.APICall)
	obj, err := c.CoreV1().Namespaces().Get(cctx, ns, metav1.GetOptions{})
	cancel()
	switch {
	case apierrors.IsNotFound(err):
		return nil
	case err != nil:
		return fmt.Errorf("remove probe agents: namespace %s: %w", ns, err)
	}
	ours := obj.Labels[managedBy] == "netconform"
	if err := removePods(ctx, c, ns, ours); err != nil {
		if ours {
			return fmt.Errorf("remove probe agents: %w (namespace %s is being deleted)", err, ns)
		}
		return fmt.Errorf("remove probe agents: %w", err)
	}
	if ours {
		return c.DeleteNamespace(ctx, ns)
	}
	return removeServices(ctx, c, ns)
}

// agentsSelector selects everything Deploy creates in a namespace (pods, workloads, Services).
const agentsSelector = appLabel + "=netconform-probe"

// removePods deletes what makes agent pods (the DaemonSets, the flow Deployment and its
// ReplicaSets), then the pods, and waits until none is left. all: the namespace is netconform's:
// it is deleted beside the owners (see Remove), and every pod in it waited for; else only the
// agents' pods are (the user's namespace).
func removePods(ctx context.Context, c *kube.Client, ns string, all bool) error {
	sel := agentsSelector
	if all {
		sel = ""
	}
	// Background: the owners go at once and nothing waits for the garbage collector; the pods
	// are deleted below, and again if a controller made one before it saw its owner go.
	background := metav1.DeletePropagationBackground
	owner := metav1.DeleteOptions{PropagationPolicy: &background}
	calls := []func(context.Context) error{
		func(ctx context.Context) error {
			return c.AppsV1().Deployments(ns).Delete(ctx, FlowDeployment, owner)
		},
		func(ctx context.Context) error {
			list, err := c.AppsV1().ReplicaSets(ns).List(ctx, metav1.ListOptions{LabelSelector: sel})
			if err != nil {
				return fmt.Errorf("list replicasets in %s: %w", ns, err)
			}
			var errs []error
			for _, rs := range list.Items {
				if err := c.AppsV1().ReplicaSets(ns).Delete(ctx, rs.Name, owner); err != nil && !apierrors.IsNotFound(err) {
					errs = append(errs, fmt.Errorf("delete replicaset %s/%s: %w", ns, rs.Name, err))
				}
			}
			return errors.Join(errs...)
		},
	}
	for _, name := range roles {
		calls = append(calls, func(ctx context.Context) error { return c.AppsV1().DaemonSets(ns).Delete(ctx, name, owner) })
	}
	if all {
		calls = append(calls, func(ctx context.Context) error {
			err := c.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{})
			if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
				return fmt.Errorf("delete namespace %s: %w", ns, err)
			}
			return nil
		})
	}
	if err := together(ctx, c, calls); err != nil {
		return err
	}
	return waitPodsGone(ctx, c, ns, sel)
}

// together makes every call at once, each within the API call bound, and joins their errors;
// an object that is not there is no error.
func together(ctx context.Context, c *kube.Client, calls []func(context.Context) error) error {
	errs := make([]error, len(calls))
	var wg sync.WaitGroup
	for i, call := range calls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cctx, cancel := context.WithTimeout(ctx, c.Timeouts.APICall)
			defer cancel()
			if err := call(cctx); err != nil && !apierrors.IsNotFound(err) {
				errs[i] = err
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// waitPodsGone deletes the pods selected (each with its own grace period: the agent ends at
// SIGTERM) and polls, every ShortPoll, until none is left, deleting any that appeared since;
// within NamespaceGone. A pod is gone only once its kubelet has stopped it, so nothing of the
// agents runs on a node when this returns nil.
func waitPodsGone(ctx context.Context, c *kube.Client, ns, sel string) error {
	bound := c.Timeouts.NamespaceGone
	ctx, cancel := context.WithTimeout(ctx, bound)
	defer cancel()
	var left []string
	for {
		cctx, ccancel := context.WithTimeout(ctx, c.Timeouts.APICall)
		list, err := c.CoreV1().Pods(ns).List(cctx, metav1.ListOptions{LabelSelector: sel})
		ccancel()
		switch {
		case apierrors.IsNotFound(err):
			return nil
		case err != nil && !kube.IsTransient(err):
			return fmt.Errorf("list pods in %s: %w", ns, err)
		case err == nil:
			if len(list.Items) == 0 {
				return nil
			}
			left = left[:0]
			var deletes []func(context.Context) error
			for _, p := range list.Items {
				left = append(left, podLeft(&p))
				if p.DeletionTimestamp == nil {
					deletes = append(deletes, func(ctx context.Context) error {
						uid := p.UID
						err := c.CoreV1().Pods(ns).Delete(ctx, p.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}})
						if apierrors.IsConflict(err) {
							return nil // another pod of that name by now: the next look sees it
						}
						return err
					})
				}
			}
			if err := together(ctx, c, deletes); err != nil {
				return fmt.Errorf("delete pods in %s: %w", ns, err)
			}
		}
		select {
		case <-ctx.Done():
			sort.Strings(left)
			return fmt.Errorf("pods in %s not gone within %s: %s", ns, bound, strings.Join(left, "; "))
		case <-time.After(c.Timeouts.Short()):
		}
	}
}

// podLeft describes a pod still there, for the error when it does not go.
func podLeft(p *corev1.Pod) string {
	s := fmt.Sprintf("%s on node %s (%s", p.Name, p.Spec.NodeName, p.Status.Phase)
	if p.DeletionTimestamp != nil {
		s += fmt.Sprintf(", terminating since %s", p.DeletionTimestamp.UTC().Format(time.TimeOnly))
	}
	return s + ")"
}

// removeServices deletes the Services Deploy and the perf suite created in the user's
// namespace. The perf Service's EndpointSlice is owned by it and goes with it.
func removeServices(ctx context.Context, c *kube.Client, ns string) error {
	var calls []func(context.Context) error
	for _, name := range append([]string{ServiceName, PerfService}, fixtureServiceNames...) {
		calls = append(calls, func(ctx context.Context) error {
			if err := c.CoreV1().Services(ns).Delete(ctx, name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
				return fmt.Errorf("delete service %s/%s: %w", ns, name, err)
			}
			return nil
		})
	}
	if err := together(ctx, c, calls); err != nil {
		return fmt.Errorf("remove probe agents: %w", err)
	}
	return nil
}

// Leftovers lists what of netconform's agents is in ns: the namespace itself when netconform
// created it (with whether it is being deleted), else the agents' DaemonSets, Deployment,
// pods and Services in it; nil when nothing is there.
func Leftovers(ctx context.Context, c *kube.Client, ns string) ([]string, error) {
	cctx, cancel := context.WithTimeout(ctx, c.Timeouts.APICall)
	defer cancel()
	obj, err := c.CoreV1().Namespaces().Get(cctx, ns, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("namespace %s: %w", ns, err)
	case obj.Labels[managedBy] == "netconform":
		what := "namespace " + ns + " (netconform's)"
		if obj.DeletionTimestamp != nil {
			what += ", Terminating"
		}
		return []string{what}, nil
	}
	var out []string
	opts := metav1.ListOptions{LabelSelector: agentsSelector}
	dss, err := c.AppsV1().DaemonSets(ns).List(cctx, opts)
	if err != nil {
		return nil, fmt.Errorf("list daemonsets in %s: %w", ns, err)
	}
	for _, d := range dss.Items {
		out = append(out, "daemonset "+ns+"/"+d.Name)
	}
	deps, err := c.AppsV1().Deployments(ns).List(cctx, opts)
	if err != nil {
		return nil, fmt.Errorf("list deployments in %s: %w", ns, err)
	}
	for _, d := range deps.Items {
		out = append(out, "deployment "+ns+"/"+d.Name)
	}
	pods, err := c.CoreV1().Pods(ns).List(cctx, opts)
	if err != nil {
		return nil, fmt.Errorf("list pods in %s: %w", ns, err)
	}
	for _, p := range pods.Items {
		out = append(out, "pod "+ns+"/"+p.Name)
	}
	svcs, err := c.CoreV1().Services(ns).List(cctx, opts)
	if err != nil {
		return nil, fmt.Errorf("list services in %s: %w", ns, err)
	}
	for _, s := range svcs.Items {
		out = append(out, "service "+ns+"/"+s.Name)
	}
	return out, nil
}
