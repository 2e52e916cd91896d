// Package kube holds netconform's Kubernetes helpers: a client with deadlines on every call,
// bounded waits, node facts and access to probe agents through the API server.
package kube

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"sort"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/netconform/netconform/framework/ipfamily"
	"github.com/netconform/netconform/framework/timeouts"
)

// Timeouts are netconform's bounds on waits, all in one struct (package timeouts).
type Timeouts = timeouts.Timeouts

// DefaultTimeouts are the bounds at scale 1, sized for a 3-node kind cluster on 2 cores.
func DefaultTimeouts() Timeouts { return timeouts.Default() }

// backstopTimeout bounds any HTTP request to the API server whose context has no deadline.
const backstopTimeout = 2 * time.Minute

// Client is a clientset plus the rest config it came from.
type Client struct {
	kubernetes.Interface
	Config   *rest.Config
	Timeouts Timeouts
}

// NewClient loads a kubeconfig and checks that the API server answers within the reachability
// bound, so that a wrong kubeconfig or a dead cluster ends in seconds with a clear message.
func NewClient(ctx context.Context, kubeconfig string, t Timeouts) (*Client, error) {
	if _, err := os.Stat(kubeconfig); err != nil {
		return nil, fmt.Errorf("kubeconfig %s: %w", kubeconfig, err)
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("kubeconfig %s is not usable: %w", kubeconfig, err)
	}
	// Every call carries its own deadline through its context (probes through the API server's
	// proxy may legitimately take longer than a plain call); this is only a backstop.
	cfg.Timeout = backstopTimeout
	cfg.QPS, cfg.Burst = 50, 100
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("client for %s: %w", cfg.Host, err)
	}
	c := &Client{Interface: cs, Config: cfg, Timeouts: t}
	rctx, cancel := context.WithTimeout(ctx, t.Reachable)
	defer cancel()
	if _, err := cs.Discovery().RESTClient().Get().AbsPath("/version").Do(rctx).Raw(); err != nil {
		return nil, fmt.Errorf("API server %s does not answer within %s: %w", cfg.Host, t.Reachable, err)
	}
	return c, nil
}

// ServerVersion returns the cluster's Kubernetes version.
func (c *Client) ServerVersion() (string, error) {
	v, err := c.Discovery().ServerVersion()
	if err != nil {
		return "", fmt.Errorf("server version: %w", err)
	}
	return v.GitVersion, nil
}

// call bounds one API call.
func (c *Client) call(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, c.Timeouts.APICall)
}

// Node is what the suites need to know of a node.
type Node struct {
	Name string
	// InternalIP is the node's InternalIP of its primary family, the family of PodCIDR (IPv4
	// on an IPv4 or IPv4-first dual-stack cluster, IPv6 on an IPv6 one); before the node has a
	// pod CIDR, its IPv4 InternalIP, else its IPv6 one. PodCIDR and InternalIP are one pair: a
	// route to the node's pods goes via this address.
	InternalIP string
	// InternalIPs are every InternalIP of the node, IPv4 first (one per family on a dual-stack
	// cluster).
	InternalIPs []string
	// PodCIDR is spec.podCIDR, the node's pod range of the primary family.
	PodCIDR string
	// PodCIDRs are spec.podCIDRs, one per family of the cluster, primary first (as the API
	// server lists them; [PodCIDR] when only that is set).
	PodCIDRs   []string
	Ready      bool
	ControlPl  bool
	Kernel     string
	Conditions []corev1.NodeCondition
}

// InternalIPOf is the node's InternalIP of address family f, "" when it has none. A Node made
// by hand with InternalIP alone answers from it.
func (n Node) InternalIPOf(f ipfamily.Family) string {
	return ipfamily.Pick(append(slices.Clone(n.InternalIPs), n.InternalIP), f)
}

// PodCIDROf is the node's pod CIDR of address family f, "" when it has none. A Node made by
// hand with PodCIDR alone answers from it.
func (n Node) PodCIDROf(f ipfamily.Family) string {
	return ipfamily.Pick(append(slices.Clone(n.PodCIDRs), n.PodCIDR), f)
}

// AllPodCIDRs are the node's pod CIDRs, PodCIDRs or, on a Node made by hand with PodCIDR
// alone, that one; nil when it has none.
func (n Node) AllPodCIDRs() []string {
	switch {
	case len(n.PodCIDRs) > 0:
		return n.PodCIDRs
	case n.PodCIDR != "":
		return []string{n.PodCIDR}
	}
	return nil
}

// Nodes lists the cluster's nodes sorted by name.
func (c *Client) Nodes(ctx context.Context) ([]Node, error) {
	cctx, cancel := c.call(ctx)
	defer cancel()
	list, err := c.CoreV1().Nodes().List(cctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list nodes: %w", err)
	}
	nodes := make([]Node, 0, len(list.Items))
	for _, n := range list.Items {
		nodes = append(nodes, NodeFrom(&n))
	}
	sort.Slice(nodes, func(i, j int) bool { return nodes[i].Name < nodes[j].Name })
	return nodes, nil
}

// NodeFrom extracts a Node from the API object.
func NodeFrom(n *corev1.Node) Node {
	out := Node{Name: n.Name, PodCIDR: n.Spec.PodCIDR, PodCIDRs: n.Spec.PodCIDRs, Kernel: n.Status.NodeInfo.KernelVersion, Conditions: n.Status.Conditions}
	if len(out.PodCIDRs) == 0 && out.PodCIDR != "" {
		out.PodCIDRs = []string{out.PodCIDR}
	}
	var ips []string
	for _, a := range n.Status.Addresses {
		if _, ok := ipfamily.OfAddr(a.Address); a.Type == corev1.NodeInternalIP && ok {
			ips = append(ips, a.Address)
		}
	}
	out.InternalIPs = ipfamily.SortAddrs(ips)
	primary := ipfamily.IPv4
	if f, ok := ipfamily.OfCIDR(out.PodCIDR); ok {
		primary = f
	}
	if out.InternalIP = out.InternalIPOf(primary); out.InternalIP == "" && out.PodCIDR == "" && len(out.InternalIPs) > 0 {
		// No pod CIDR yet to say the family: an IPv6-only node has only its IPv6 address.
		out.InternalIP = out.InternalIPs[0]
	}
	for _, cond := range n.Status.Conditions {
		if cond.Type == corev1.NodeReady {
			out.Ready = cond.Status == corev1.ConditionTrue
		}
	}
	_, out.ControlPl = n.Labels["node-role.kubernetes.io/control-plane"]
	return out
}

// ClusterFamily is the cluster's IP family as its nodes' pod CIDRs tell it (ipv4, ipv6, dual),
// for a cluster netconform did not make; ok is false before any node has a pod CIDR, or when
// one is not a CIDR.
func ClusterFamily(nodes []Node) (ipfamily.Family, bool) {
	var cidrs []string
	for _, n := range nodes {
		cidrs = append(cidrs, n.AllPodCIDRs()...)
	}
	return ipfamily.OfCIDRs(cidrs)
}

// poll runs cond every interval until it is done, fails, or timeout passes. The last reason
// cond gave for not being done goes into the timeout error.
func (c *Client) poll(ctx context.Context, timeout time.Duration, what string, cond func(ctx context.Context) (bool, string, error)) error {
	return c.pollEvery(ctx, c.Timeouts.PollInterval, timeout, what, cond)
}

// pollEvery is poll looking every interval.
func (c *Client) pollEvery(ctx context.Context, interval, timeout time.Duration, what string, cond func(ctx context.Context) (bool, string, error)) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last string
	err := wait.PollUntilContextCancel(ctx, interval, true, func(ctx context.Context) (bool, error) {
		cctx, ccancel := c.call(ctx)
		defer ccancel()
		done, why, err := cond(cctx)
		last = why
		if err != nil && IsTransient(err) {
			last = err.Error()
			return false, nil
		}
		return done, err
	})
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
			if ctx.Err() != nil && errors.Is(context.Cause(ctx), context.DeadlineExceeded) {
				return fmt.Errorf("%s: not done within %s: %s", what, timeout, last)
			}
		}
		return fmt.Errorf("%s: %w (last seen: %s)", what, err, last)
	}
	return nil
}

// IsTransient says whether an API error is worth asking again: transport trouble and server
// overload, never a verdict about the network under test.
func IsTransient(err error) bool {
	if apierrors.IsNotFound(err) || apierrors.IsTimeout(err) || apierrors.IsServerTimeout(err) ||
		apierrors.IsTooManyRequests(err) || apierrors.IsServiceUnavailable(err) || apierrors.IsInternalError(err) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, context.DeadlineExceeded)
}

// WaitNodesReady waits until there are want nodes (0: any number) and all of them are Ready.
func (c *Client) WaitNodesReady(ctx context.Context, want int) error {
	return c.poll(ctx, c.Timeouts.NodesReady, "nodes Ready", func(ctx context.Context) (bool, string, error) {
		nodes, err := c.Nodes(ctx)
		if err != nil {
			return false, "", err
		}
		if want > 0 && len(nodes) < want {
			return false, fmt.Sprintf("%d of %d nodes registered", len(nodes), want), nil
		}
		for _, n := range nodes {
			if !n.Ready {
				return false, fmt.Sprintf("node %s not Ready: %s", n.Name, readyMessage(n)), nil
			}
		}
		return len(nodes) > 0, "no nodes", nil
	})
}

func readyMessage(n Node) string {
	for _, c := range n.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Reason + ": " + c.Message
		}
	}
	return "no Ready condition"
}

// WaitNodesRegistered waits until at least want nodes exist in the API, Ready or not: kind's
// create can return before the last worker's kubelet has registered its node.
func (c *Client) WaitNodesRegistered(ctx context.Context, want int) ([]Node, error) {
	var nodes []Node
	err := c.poll(ctx, c.Timeouts.NodesReady, "nodes registered", func(ctx context.Context) (bool, string, error) {
		var err error
		if nodes, err = c.Nodes(ctx); err != nil {
			return false, "", err
		}
		return len(nodes) >= want && len(nodes) > 0, fmt.Sprintf("%d of %d nodes registered", len(nodes), want), nil
	})
	return nodes, err
}

// WaitPodCIDRs waits until every node has a pod CIDR allocated, and for each of its pod CIDRs
// (one per family on a dual-stack cluster) an InternalIP of the same family, which routes to
// those pods go via.
func (c *Client) WaitPodCIDRs(ctx context.Context) ([]Node, error) {
	var nodes []Node
	err := c.poll(ctx, c.Timeouts.NodesReady, "pod CIDRs allocated", func(ctx context.Context) (bool, string, error) {
		var err error
		if nodes, err = c.Nodes(ctx); err != nil {
			return false, "", err
		}
		for _, n := range nodes {
			if why := podCIDRsMissing(n); why != "" {
				return false, why, nil
			}
		}
		return len(nodes) > 0, "no nodes", nil
	})
	return nodes, err
}

// podCIDRsMissing says what a node lacks before routes to its pods can be written: a pod CIDR,
// or an InternalIP of each pod CIDR's family; "" when it lacks nothing.
func podCIDRsMissing(n Node) string {
	if n.PodCIDR == "" {
		return "node " + n.Name + " has no podCIDR"
	}
	for _, cidr := range n.AllPodCIDRs() {
		f, ok := ipfamily.OfCIDR(cidr)
		if !ok {
			return fmt.Sprintf("node %s: podCIDR %q is not a CIDR", n.Name, cidr)
		}
		if n.InternalIPOf(f) == "" {
			return fmt.Sprintf("node %s has no %s InternalIP for its podCIDR %s", n.Name, f.Title(), cidr)
		}
	}
	return ""
}

// WaitDaemonSet waits until a DaemonSet has an updated, available pod on every node it wants.
func (c *Client) WaitDaemonSet(ctx context.Context, ns, name string) error {
	return c.poll(ctx, c.Timeouts.RolloutReady, "DaemonSet "+ns+"/"+name+" rolled out", func(ctx context.Context) (bool, string, error) {
		ds, err := c.AppsV1().DaemonSets(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, "", err
		}
		return daemonSetDone(ds)
	})
}

func daemonSetDone(ds *appsv1.DaemonSet) (bool, string, error) {
	s := ds.Status
	why := fmt.Sprintf("desired %d, updated %d, available %d", s.DesiredNumberScheduled, s.UpdatedNumberScheduled, s.NumberAvailable)
	if s.ObservedGeneration < ds.Generation {
		return false, "status not observed yet; " + why, nil
	}
	return s.DesiredNumberScheduled > 0 && s.UpdatedNumberScheduled == s.DesiredNumberScheduled && s.NumberAvailable == s.DesiredNumberScheduled, why, nil
}

// WaitDeployment waits until a Deployment's replicas are all updated and available.
func (c *Client) WaitDeployment(ctx context.Context, ns, name string, timeout time.Duration) error {
	return c.poll(ctx, timeout, "Deployment "+ns+"/"+name+" available", func(ctx context.Context) (bool, string, error) {
		d, err := c.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, "", err
		}
		want := int32(1)
		if d.Spec.Replicas != nil {
			want = *d.Spec.Replicas
		}
		s := d.Status
		why := fmt.Sprintf("want %d, updated %d, ready %d, available %d", want, s.UpdatedReplicas, s.ReadyReplicas, s.AvailableReplicas)
		return s.ObservedGeneration >= d.Generation && s.UpdatedReplicas == want && s.AvailableReplicas == want && s.ReadyReplicas == want, why, nil
	})
}

// PodsReady counts the Ready pods matching a selector, and describes the others.
func (c *Client) PodsReady(ctx context.Context, ns, selector string) (ready, total int, notReady []string, err error) {
	cctx, cancel := c.call(ctx)
	defer cancel()
	pods, err := c.CoreV1().Pods(ns).List(cctx, metav1.ListOptions{LabelSelector: selector})
	if err != nil {
		return 0, 0, nil, fmt.Errorf("list pods %s in %s: %w", selector, ns, err)
	}
	for _, p := range pods.Items {
		if PodReady(&p) {
			ready++
		} else {
			notReady = append(notReady, fmt.Sprintf("%s (%s on %s)", p.Name, p.Status.Phase, p.Spec.NodeName))
		}
	}
	return ready, len(pods.Items), notReady, nil
}

// PodReady reports the pod's Ready condition.
func PodReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// DeleteNamespace deletes a namespace and waits, within its bound, until it is gone, looking
// every ShortPoll (a namespace without pods goes within a second). A namespace that cannot
// finish (a node whose CNI cannot tear pods down) ends in an error, not a hang; one already
// being deleted is waited for.
func (c *Client) DeleteNamespace(ctx context.Context, name string) error {
	cctx, cancel := c.call(ctx)
	err := c.CoreV1().Namespaces().Delete(cctx, name, metav1.DeleteOptions{})
	cancel()
	switch {
	case apierrors.IsNotFound(err):
		return nil
	case apierrors.IsConflict(err):
		// "The system is ensuring all content is removed from this namespace": it is being
		// deleted already.
	case err != nil:
		return fmt.Errorf("delete namespace %s: %w", name, err)
	}
	return c.pollEvery(ctx, c.Timeouts.Short(), c.Timeouts.NamespaceGone, "namespace "+name+" deleted", func(ctx context.Context) (bool, string, error) {
		_, err := c.CoreV1().Namespaces().Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return true, "", nil
		}
		return false, "still terminating", err
	})
}

// KubeProxyClusterCIDR reads clusterCIDR from kubeadm's kube-proxy ConfigMap: one CIDR, or a
// comma-separated one per family on a dual-stack cluster.
func (c *Client) KubeProxyClusterCIDR(ctx context.Context) (string, error) {
	cctx, cancel := c.call(ctx)
	defer cancel()
	cm, err := c.CoreV1().ConfigMaps("kube-system").Get(cctx, "kube-proxy", metav1.GetOptions{})
	if err != nil {
		return "", fmt.Errorf("kube-proxy ConfigMap: %w", err)
	}
	for _, line := range strings.Split(cm.Data["config.conf"], "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "clusterCIDR:"); ok {
			if v = strings.Trim(strings.TrimSpace(v), `"'`); v != "" {
				return v, nil
			}
		}
	}
	return "", errors.New("kube-proxy ConfigMap has no clusterCIDR")
}
