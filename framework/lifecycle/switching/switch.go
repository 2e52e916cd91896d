package switching

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/netconform/netconform/framework/kube"
	"github.com/netconform/netconform/framework/lifecycle"
	"github.com/netconform/netconform/framework/platform"
	"github.com/netconform/netconform/framework/results"
	"github.com/netconform/netconform/providers"
	"github.com/netconform/netconform/suites"
)

// Config is one switch, from flags: the providers and how to roll the nodes.
type Config struct {
	// From and To are the providers' names; InsA and InsB install them, HealthyB is what a
	// node looks like under To, and Owned says what From leaves on a node (providers.Owner).
	From, To   string
	InsA, InsB providers.Installer
	HealthyB   providers.Healthy
	Owned      func(node string, nodes []kube.Node, podSubnet string) providers.NodeState
	// Images are the providers' images by component (already loaded on the nodes).
	Images map[string]string
	// ProbeImage runs the probers; Nodes is how many nodes the cluster has.
	ProbeImage string
	Nodes      int
	// PodSubnet is the cluster's pod CIDR (default: the platform's).
	PodSubnet string
	Artifacts string
	// DrainTimeout bounds evicting a node's pods; Settle is how long the probers run before the
	// first node and after the last.
	DrainTimeout, Settle time.Duration
	// MaxOutage fails the disruption check when an outage lasts longer (0: report only).
	MaxOutage time.Duration
	// SkipCleanup are kinds of From's state left on the nodes: a fault for tests.
	SkipCleanup []string
	// KeepOldRoutes keeps, on a switched node, From's routes to nodes not switched yet, until
	// those switch: the old routes then join the two networks during the migration.
	KeepOldRoutes bool
	Out           io.Writer
	// Redact passes disruption.json, disruption.md and what is printed of them through the
	// run's redactor, as result.json is: probe errors quote whatever the network answered.
	// nil: written as they are.
	Redact func([]byte) []byte
}

// Switch is the switch scenario: InstallFrom is the run's Install, Switch itself a Verify
// scenario that runs before the suites verify To.
type Switch struct {
	cfg Config
	rec *results.Recorder
	out io.Writer
	// viewA saw what A's installer wrote: its DaemonSets run on nodes labelled for A only.
	viewA *switchView

	nodesRun platform.NodeRunner
	c        *kube.Client
	cluster  providers.Cluster
	nodes    []kube.Node // as they were under A
	// logs are the probers' records, collected as their pods leave and at the end; retired
	// says when each prober pod IP stopped being a target.
	logs    []proberLog
	retired map[string]time.Time
	windows []rollWindow
	// switched are the nodes given to B so far.
	switched map[string]bool
}

// New returns the switch cfg describes.
func New(cfg Config) *Switch {
	return &Switch{cfg: cfg, out: cfg.Out}
}

// rollWindow is one node's roll, with the outcome of each step.
type rollWindow struct {
	Node       string
	Start, End time.Time
	Err        string
}

// installFrom installs the provider switched from. Every node starts labelled for it, and its
// DaemonSets select that label: taking the label off a node takes its pods off it, the way
// per-node CNI migrations are done.
func (s *Switch) InstallFrom(ctx context.Context, env *lifecycle.Env) error {
	if env.Nodes == nil {
		return errors.New("switch: the platform gives no access to the nodes (their old provider's state must be removed on them)")
	}
	s.c, s.rec, s.nodesRun = env.Client, env.Recorder, env.Nodes
	if s.cfg.PodSubnet == "" {
		s.cfg.PodSubnet = env.PodSubnet
	}
	s.cluster = providers.Cluster{Client: env.Client, Nodes: env.Nodes, Images: env.Images, PodSubnet: env.PodSubnet, PodSubnets: env.PodSubnets, ImageRefs: s.cfg.Images, Out: s.out}
	ac, viewA, err := newSwitchClient(s.c, networkLabel, s.cfg.From)
	if err != nil {
		return err
	}
	s.viewA = viewA
	clusterA := s.cluster
	clusterA.Client = ac
	all, err := s.c.Nodes(ctx)
	if err != nil {
		return err
	}
	for _, n := range all {
		if err := labelNode(ctx, s.c, n.Name, networkLabel, s.cfg.From); err != nil {
			return err
		}
	}
	return s.cfg.InsA.Install(ctx, clusterA)
}

func (s *Switch) Name() string { return "switch" }

// Run switches the cluster node by node to the new provider under continuous probes and
// reports the disruption and what the old provider left. A switch that did not finish ends
// Verify (lifecycle.ErrSkipRest): a half-switched cluster is not worth running the suites on.
func (s *Switch) Run(ctx context.Context, env *lifecycle.Env) error {
	o, c := s.cfg, s.c
	s.retired = map[string]time.Time{}
	s.switched = map[string]bool{}
	var err error
	if s.nodes, err = c.Nodes(ctx); err != nil {
		return err
	}
	_ = s.rec.Update(func(r *results.Result) { r.Nodes, r.Kernel = len(s.nodes), s.nodes[0].Kernel })
	if err := s.rec.Phase("probers", func() error {
		if err := deployProbers(ctx, c, o.ProbeImage, len(s.nodes)); err != nil {
			return err
		}
		return s.publishPeers(ctx)
	}); err != nil {
		return err
	}
	if err := sleepCtx(ctx, o.Settle); err != nil {
		return err
	}
	bc, view, err := newSwitchClient(c, networkLabel, o.To)
	if err != nil {
		return err
	}
	clusterB := s.cluster
	clusterB.Client = bc
	// kops rolls the control plane first, then the workers.
	order := slices.Clone(s.nodes)
	slices.SortStableFunc(order, func(a, b kube.Node) int {
		if a.ControlPl != b.ControlPl {
			if a.ControlPl {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Name, b.Name)
	})
	var rollErr error
	for _, n := range order {
		w := rollWindow{Node: n.Name, Start: time.Now()}
		err := s.roll(ctx, n, clusterB, view)
		w.End = time.Now()
		if err != nil {
			w.Err = err.Error()
		}
		s.windows = append(s.windows, w)
		if err != nil {
			rollErr = fmt.Errorf("rolling %s: %w", n.Name, err)
			break
		}
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if rollErr == nil && o.KeepOldRoutes && !s.cfg.HealthyB.NodeRoutes && !slices.Contains(o.SkipCleanup, providers.ItemRoute) {
		// Routes kept for the migration whose peer switched: B has replaced them (an
		// overlay that programs its own routes does) or they go now. A B that routes via the peers itself keeps its own.
		_ = s.rec.Phase("remove kept "+o.From+" routes", func() error {
			var errs []error
			for _, n := range s.nodes {
				errs = append(errs, s.runCleanup(ctx, n.Name, func(st providers.CleanupStep) bool { return st.Kind == providers.ItemRoute }))
			}
			return errors.Join(errs...)
		})
	}
	if rollErr == nil {
		_ = s.rec.Phase("remove "+o.From+" workloads", func() error { return s.removeOldWorkloads(ctx) })
		_ = sleepCtx(ctx, o.Settle)
	}
	_ = s.rec.Phase("collect probe records", func() error { return s.collectAll(ctx) })
	s.reportRolls()
	s.reportDisruption()
	if rollErr != nil {
		// The every-node-rolled check fails naming the node and step; a half-switched cluster
		// is not worth looking for leftovers in or running the suites on.
		fmt.Fprintf(s.out, "switch: %v\n", rollErr)
		return lifecycle.ErrSkipRest
	}
	s.reportLeftovers(ctx)
	_ = s.rec.Phase("networking ready: "+o.To, func() error {
		if err := c.WaitNodesReady(ctx, o.Nodes); err != nil {
			return err
		}
		return c.WaitDeployment(ctx, suites.CoreDNSNamespace, suites.CoreDNSDeployment, c.Timeouts.CoreDNSReady)
	})
	return ctx.Err()
}

// roll switches one node from A to B.
func (s *Switch) roll(ctx context.Context, n kube.Node, clusterB providers.Cluster, view *switchView) error {
	c, name := s.c, n.Name
	step := func(what string, f func() error) error {
		return s.rec.Phase(name+": "+what, f)
	}
	if err := step("cordon", func() error { return setUnschedulable(ctx, c, name, true) }); err != nil {
		return err
	}
	if err := step("drain", func() error { return drain(ctx, c, name, s.cfg.DrainTimeout) }); err != nil {
		return err
	}
	if err := step("prober leaves", func() error {
		if err := s.proberLeaves(ctx, name); err != nil {
			return err
		}
		return s.publishPeers(ctx)
	}); err != nil {
		return err
	}
	if err := step(s.cfg.From+" leaves the node", func() error { return s.oldLeaves(ctx, name) }); err != nil {
		return err
	}
	if err := step("remove "+s.cfg.From, func() error { return s.removeOld(ctx, name) }); err != nil {
		return err
	}
	if err := step(s.cfg.To+" takes the node", func() error {
		if err := labelNode(ctx, c, name, networkLabel, s.cfg.To); err != nil {
			return err
		}
		s.switched[name] = true
		// The installer sees only the nodes given to it (this one included) and writes its
		// DaemonSets with the nodeSelector: it installs here and waits for its own signs of
		// health on every switched node.
		return s.cfg.InsB.Install(ctx, clusterB)
	}); err != nil {
		return err
	}
	if err := step("restart containerd and kubelet", func() error {
		rctx, cancel := context.WithTimeout(ctx, s.c.Timeouts.NodeRestart)
		defer cancel()
		for _, unit := range []string{"containerd", "kubelet"} {
			if _, err := s.nodesRun.RunOnNode(rctx, name, []string{"systemctl", "restart", unit}, nil); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return err
	}
	if err := step("uncordon", func() error {
		if err := setUnschedulable(ctx, c, name, false); err != nil {
			return err
		}
		return labelNode(ctx, c, name, switchingLabel, "")
	}); err != nil {
		return err
	}
	return step("ready", func() error {
		if err := s.waitBack(ctx, name, view); err != nil {
			return err
		}
		return s.publishPeers(ctx)
	})
}

func (s *Switch) publishPeers(ctx context.Context) error {
	names := make([]string, 0, len(s.nodes))
	for _, n := range s.nodes {
		names = append(names, n.Name)
	}
	return publishPeers(ctx, s.c, s.nodesRun, names)
}

// proberLeaves collects the node's prober records and takes the prober off the node, so that it
// comes back on the new network.
func (s *Switch) proberLeaves(ctx context.Context, node string) error {
	pods, err := proberPods(ctx, s.c)
	if err != nil {
		return err
	}
	var mine []corev1.Pod
	for _, p := range pods {
		if p.Spec.NodeName == node {
			mine = append(mine, p)
			if l, err := collectProberLog(ctx, s.c, p); err == nil {
				s.logs = append(s.logs, l)
			} else {
				fmt.Fprintf(s.out, "switch: %v\n", err)
			}
		}
	}
	now := time.Now()
	for _, p := range mine {
		if p.Status.PodIP != "" {
			s.retired[p.Status.PodIP] = now
		}
	}
	if err := labelNode(ctx, s.c, node, switchingLabel, "true"); err != nil {
		return err
	}
	return waitPods(ctx, s.c, s.cfg.DrainTimeout, "prober gone from "+node, func(ctx context.Context) (bool, string, error) {
		pods, err := proberPods(ctx, s.c)
		if err != nil {
			return false, "", err
		}
		for _, p := range pods {
			if p.Spec.NodeName == node {
				return false, "pod " + p.Name + " still there", nil
			}
		}
		return true, "", nil
	})
}

// oldLeaves takes the node's A label off, and waits until no pod of A's DaemonSets is left on
// it: only then can A's state be removed without A writing it again.
func (s *Switch) oldLeaves(ctx context.Context, node string) error {
	if err := labelNode(ctx, s.c, node, networkLabel, ""); err != nil {
		return err
	}
	ds := s.viewA.DaemonSets()
	if len(ds) == 0 {
		return nil
	}
	return waitPods(ctx, s.c, s.cfg.DrainTimeout, s.cfg.From+" pods gone from "+node, func(ctx context.Context) (bool, string, error) {
		pods, err := podsOnNode(ctx, s.c, node)
		if err != nil {
			return false, "", err
		}
		for _, p := range pods {
			if slices.Contains(ds, daemonSetOf(&p)) {
				return false, "pod " + p.Namespace + "/" + p.Name + " still there", nil
			}
		}
		return true, "", nil
	})
}

// removeOldWorkloads deletes A's DaemonSets (no node selects them any more) and Deployments
// once every node is B's: what would otherwise keep running A's code in the cluster.
func (s *Switch) removeOldWorkloads(ctx context.Context) error {
	var errs []error
	del := func(kind, id string, f func(ctx context.Context, ns, name string) error) {
		ns, name, _ := strings.Cut(id, "/")
		cctx, cancel := context.WithTimeout(ctx, s.c.Timeouts.APICall)
		defer cancel()
		if err := f(cctx, ns, name); err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("delete %s %s: %w", kind, id, err))
		}
	}
	for _, id := range s.viewA.DaemonSets() {
		del("DaemonSet", id, func(ctx context.Context, ns, name string) error {
			return s.c.AppsV1().DaemonSets(ns).Delete(ctx, name, metav1.DeleteOptions{})
		})
	}
	for _, id := range s.viewA.Deployments() {
		del("Deployment", id, func(ctx context.Context, ns, name string) error {
			return s.c.AppsV1().Deployments(ns).Delete(ctx, name, metav1.DeleteOptions{})
		})
	}
	return errors.Join(errs...)
}

// removeOld runs the old provider's cleanup on the node, leaving out the kinds --skip-cleanup
// names.
func (s *Switch) removeOld(ctx context.Context, node string) error {
	viaUnswitched := map[string]bool{}
	for _, n := range s.nodes {
		if n.Name != node && !s.switched[n.Name] {
			viaUnswitched[n.InternalIP] = true
		}
	}
	return s.runCleanup(ctx, node, func(st providers.CleanupStep) bool {
		if slices.Contains(s.cfg.SkipCleanup, st.Kind) {
			fmt.Fprintf(s.out, "switch: %s: leaving %s %s (--skip-cleanup)\n", node, st.Kind, st.Item)
			return false
		}
		if s.cfg.KeepOldRoutes && st.Kind == providers.ItemRoute {
			if _, via, _ := strings.Cut(st.Item, " via "); viaUnswitched[via] {
				fmt.Fprintf(s.out, "switch: %s: keeping route %s until its peer switches (--keep-old-routes)\n", node, st.Item)
				return false
			}
		}
		return true
	})
}

// runCleanup runs the old provider's cleanup steps on node that want selects.
func (s *Switch) runCleanup(ctx context.Context, node string, want func(providers.CleanupStep) bool) error {
	state := s.cfg.Owned(node, s.nodes, s.cfg.PodSubnet)
	for _, st := range state.Cleanup() {
		if !want(st) {
			continue
		}
		cctx, cancel := context.WithTimeout(ctx, s.c.Timeouts.CleanupStep)
		_, err := s.nodesRun.RunOnNode(cctx, node, st.Argv, nil)
		cancel()
		if err != nil {
			return fmt.Errorf("remove %s %s: %w", st.Kind, st.Item, err)
		}
	}
	return nil
}

// waitBack waits until the node is Ready and schedulable, and the new provider's pods and the
// prober on it are Ready.
func (s *Switch) waitBack(ctx context.Context, node string, view *switchView) error {
	return waitPods(ctx, s.c, s.c.Timeouts.NodeBack, node+" back", func(ctx context.Context) (bool, string, error) {
		cctx, cancel := context.WithTimeout(ctx, s.c.Timeouts.APICall)
		defer cancel()
		n, err := s.c.CoreV1().Nodes().Get(cctx, node, metav1.GetOptions{})
		if err != nil {
			return false, "", err
		}
		if kn := kube.NodeFrom(n); !kn.Ready {
			return false, "node not Ready", nil
		}
		pods, err := podsOnNode(ctx, s.c, node)
		if err != nil {
			return false, "", err
		}
		want := map[string]bool{proberNamespace + "/" + proberName: false}
		for _, ds := range view.DaemonSets() {
			want[ds] = false
		}
		for _, p := range pods {
			id := daemonSetOf(&p)
			if _, ok := want[id]; ok && kube.PodReady(&p) && p.DeletionTimestamp == nil {
				want[id] = true
			}
		}
		for id, ok := range want {
			if !ok {
				return false, "no Ready pod of DaemonSet " + id, nil
			}
		}
		return true, "", nil
	})
}

// collectAll reads the records of every prober still running.
func (s *Switch) collectAll(ctx context.Context) error {
	pods, err := proberPods(ctx, s.c)
	if err != nil {
		return err
	}
	var errs []error
	for _, p := range pods {
		l, err := collectProberLog(ctx, s.c, p)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		s.logs = append(s.logs, l)
	}
	return errors.Join(errs...)
}

func setUnschedulable(ctx context.Context, c *kube.Client, node string, on bool) error {
	patch := fmt.Sprintf(`{"spec":{"unschedulable":%v}}`, on)
	return patchNode(ctx, c, node, patch)
}

// labelNode sets a label, or removes it when value is "".
func labelNode(ctx context.Context, c *kube.Client, node, key, value string) error {
	v := `null`
	if value != "" {
		v = fmt.Sprintf("%q", value)
	}
	return patchNode(ctx, c, node, fmt.Sprintf(`{"metadata":{"labels":{%q:%s}}}`, key, v))
}

func patchNode(ctx context.Context, c *kube.Client, node, patch string) error {
	return waitPods(ctx, c, c.Timeouts.APICall*4, "patch node "+node, func(ctx context.Context) (bool, string, error) {
		cctx, cancel := context.WithTimeout(ctx, c.Timeouts.APICall)
		defer cancel()
		_, err := c.CoreV1().Nodes().Patch(cctx, node, types.MergePatchType, []byte(patch), metav1.PatchOptions{})
		return err == nil, "", err
	})
}

// drain evicts every pod on the node except DaemonSet and static pods, and waits until they
// are gone, within timeout.
func drain(ctx context.Context, c *kube.Client, node string, timeout time.Duration) error {
	return waitPods(ctx, c, timeout, "drain "+node, func(ctx context.Context) (bool, string, error) {
		pods, err := podsOnNode(ctx, c, node)
		if err != nil {
			return false, "", err
		}
		cctx, cancel := context.WithTimeout(ctx, c.Timeouts.APICall)
		defer cancel()
		var left []string
		for _, p := range pods {
			if !evictable(&p) {
				continue
			}
			left = append(left, p.Namespace+"/"+p.Name)
			if p.DeletionTimestamp != nil {
				continue
			}
			ev := &policyv1.Eviction{ObjectMeta: metav1.ObjectMeta{Name: p.Name, Namespace: p.Namespace}}
			if err := c.CoreV1().Pods(p.Namespace).EvictV1(cctx, ev); err != nil && !apierrors.IsNotFound(err) {
				left[len(left)-1] += " (" + err.Error() + ")"
			}
		}
		return len(left) == 0, "left: " + strings.Join(left, ", "), nil
	})
}

// evictable: not owned by a DaemonSet, not a static (mirror) pod, not finished.
func evictable(p *corev1.Pod) bool {
	if _, mirror := p.Annotations[corev1.MirrorPodAnnotationKey]; mirror {
		return false
	}
	if p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
		return false
	}
	return daemonSetOf(p) == ""
}

// podsOnNode lists the pods scheduled on node, within one API call's deadline.
func podsOnNode(ctx context.Context, c *kube.Client, node string) ([]corev1.Pod, error) {
	cctx, cancel := context.WithTimeout(ctx, c.Timeouts.APICall)
	defer cancel()
	l, err := c.CoreV1().Pods("").List(cctx, metav1.ListOptions{FieldSelector: "spec.nodeName=" + node})
	if err != nil {
		return nil, err
	}
	return l.Items, nil
}

// daemonSetOf is namespace/name of the DaemonSet that owns the pod, or "" when none does.
func daemonSetOf(p *corev1.Pod) string {
	for _, ref := range p.OwnerReferences {
		if ref.Kind == "DaemonSet" {
			return p.Namespace + "/" + ref.Name
		}
	}
	return ""
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}
