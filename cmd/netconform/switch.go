package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/netconform/netconform/framework/kube"
	"github.com/netconform/netconform/framework/lifecycle"
	"github.com/netconform/netconform/framework/platform/kind"
	"github.com/netconform/netconform/framework/results"
	"github.com/netconform/netconform/providers"
	"github.com/netconform/netconform/suites"
)

type switchOptions struct {
	verifyOptions
	from, to        string
	nodeImage       string
	nodes           int
	keep            bool
	phases          []string
	providerImages  []string
	providerOptions []string
	// drainTimeout bounds evicting a node's pods; settle is how long the probers run before
	// the first node and after the last.
	drainTimeout, settle time.Duration
	// maxOutage fails the disruption check when an outage lasts longer (0: report only).
	maxOutage time.Duration
	// skipCleanup are kinds of the old provider's state left on the nodes: a fault for tests.
	skipCleanup []string
	// keepOldRoutes keeps, on a switched node, the old provider's routes to nodes not switched
	// yet, until those switch: the old routes then join the two networks during the migration.
	keepOldRoutes bool
	// platform is kind or aws; aws plans the kops flow (switch_aws.go).
	platform string
	aws      switchAWSOptions
}

// Switch timeouts, beside kube.Timeouts.
const (
	defaultDrainTimeout = 2 * time.Minute
)

func newSwitchCmd() *cobra.Command {
	o := &switchOptions{}
	cmd := &cobra.Command{
		Use:   "switch --from A --to B",
		Short: "Create a cluster with provider A, switch it to B node by node under continuous probes, verify B",
		Long: `switch creates a kind cluster with networking provider A, starts continuous probers on every
node (pod to pod across nodes on new and on long-lived TCP connections, pod to Service, DNS, every
100 ms), and then rolls the nodes one at a time: cordon, drain, remove A's state (CNI config,
interfaces, routes, iptables chains A owns), give the node to B (B's DaemonSets select nodes
labelled netconform.io/network=B), restart containerd and kubelet, uncordon, wait until the node, B's
pod and the prober on it are Ready. Afterwards it reports the disruption (per node rolled and
overall: longest outage, lost probes, broken paths, established connections), looks for anything
of A left on every node, and runs the suites on B.

Exit codes: 0 all checks passed, 1 checks failed, 2 netconform could not run.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := setAssignments(cmd, args, map[string]string{"FROM": "from", "TO": "to"}); err != nil {
				return badInput(err)
			}
			if err := o.validate(); err != nil {
				return badInput(err)
			}
			return runSwitch(cmd.Context(), o, cmd.OutOrStdout())
		},
	}
	o.addFlags(cmd)
	f := cmd.Flags()
	f.StringVar(&o.from, "from", "", "provider the cluster starts with")
	f.StringVar(&o.to, "to", "", "provider the cluster is switched to")
	f.StringVar(&o.nodeImage, "node-image", "", "kind node image (make builds netconform/node:<version>-<hash>)")
	f.IntVar(&o.nodes, "nodes", 3, "number of nodes: one control plane, the rest workers")
	f.BoolVar(&o.keep, "keep", false, "keep the cluster afterwards (for debugging)")
	f.StringArrayVar(&o.phases, "phase", nil, "a phase measured before netconform started, as NAME=SECONDS (repeatable)")
	f.StringArrayVar(&o.providerImages, "provider-image", nil, "image for a component of either provider, as NAME=REF (repeatable)")
	f.StringArrayVar(&o.providerOptions, "provider-option", nil, "setting of the provider switched to, as KEY=VALUE (repeatable)")
	f.DurationVar(&o.drainTimeout, "drain-timeout", defaultDrainTimeout, "deadline for evicting a node's pods")
	f.DurationVar(&o.settle, "settle", 10*time.Second, "probing before the first node and after the last")
	f.DurationVar(&o.maxOutage, "max-outage", 0, "fail when any outage lasts longer (0: report outages, fail only on connectivity not recovered)")
	f.BoolVar(&o.keepOldRoutes, "keep-old-routes", false, "keep A's routes to nodes not switched yet on switched nodes until those switch (joins A's and B's nodes during the migration)")
	f.StringSliceVar(&o.skipCleanup, "skip-cleanup", nil, "for tests: leave these kinds of A's state on the nodes (file, link, route, chain)")
	f.StringVar(&o.platform, "platform", "kind", "where the cluster runs: kind, or aws (with --dry-run: prints the kops plan)")
	o.aws.addFlags(f)
	return cmd
}

// validate checks switch's input before anything is created (see input.go).
func (o *switchOptions) validate() error {
	if err := o.checkTimeouts(); err != nil {
		return err
	}
	target := providers.ForKind
	switch o.platform {
	case "kind":
		if o.aws.dryRun {
			return errors.New("--dry-run applies to --platform aws only: on kind, switch runs the switch")
		}
	case "aws":
		target = providers.ForKops
	default:
		return fmt.Errorf("--platform %s: want kind, or aws with --dry-run", o.platform)
	}
	if o.from == "" || o.to == "" {
		return errors.New("--from and --to are required")
	}
	if _, err := lookupProvider(o.from); err != nil {
		return fmt.Errorf("--from: %w", err)
	}
	if _, err := lookupProvider(o.to); err != nil {
		return fmt.Errorf("--to: %w", err)
	}
	if _, _, err := providerSettings(o.to, target, o.providerOptions); err != nil {
		return err
	}
	if err := checkNodes(o.nodes, 2, needSwitchPeers); err != nil {
		return err
	}
	if _, err := keyValues("--provider-image", o.providerImages); err != nil {
		return err
	}
	return checkLabelFilter(o.labelFilter)
}

func runSwitch(ctx context.Context, o *switchOptions, out io.Writer) error {
	now := time.Now()
	o.complete(now)
	if o.platform != "kind" || o.aws.dryRun {
		return runSwitchAWS(o, out)
	}
	if o.from == "" || o.to == "" {
		return &exitError{code: exitCouldNotRun, err: errors.New("--from and --to are required")}
	}
	for _, k := range o.skipCleanup {
		if !slices.Contains([]string{providers.ItemFile, providers.ItemLink, providers.ItemRoute, providers.ItemChain}, k) {
			return &exitError{code: exitCouldNotRun, err: fmt.Errorf("--skip-cleanup %q: want file, link, route or chain", k)}
		}
	}
	opts, err := keyValues("--provider-option", o.providerOptions)
	if err != nil {
		return &exitError{code: exitCouldNotRun, err: err}
	}
	images, err := keyValues("--provider-image", o.providerImages)
	if err != nil {
		return &exitError{code: exitCouldNotRun, err: err}
	}
	insA, _, err := installerFor(o.from, o.mtu, nil)
	if err != nil {
		return &exitError{code: exitCouldNotRun, err: err}
	}
	ownerA, ok := insA.(providers.Owner)
	if !ok {
		return &exitError{code: exitCouldNotRun, err: fmt.Errorf("switch --from %s: netconform does not yet know what %s leaves on a node (switching from: %s)", o.from, o.from, strings.Join(switchableFrom(), ", "))}
	}
	if o.from == o.to {
		return &exitError{code: exitCouldNotRun, err: fmt.Errorf("--from and --to are both %s", o.from)}
	}
	insB, healthyB, err := installerFor(o.to, o.mtu, opts)
	if err != nil {
		return &exitError{code: exitCouldNotRun, err: err}
	}
	if o.nodeImage == "" || o.probeImage == "" {
		return &exitError{code: exitCouldNotRun, err: errors.New("--node-image and --probe-image are required (make e2e-switch builds both)")}
	}
	if o.nodes < 2 {
		return &exitError{code: exitCouldNotRun, err: fmt.Errorf("--nodes %d: a switch needs at least 2 nodes", o.nodes)}
	}
	pre, err := phaseFlags(o.phases, now)
	if err != nil {
		return &exitError{code: exitCouldNotRun, err: err}
	}
	provider := o.to
	o.provider = o.to
	rec, err := newRecorder(o.artifacts, results.Result{
		RunID: o.runID, Provider: provider, SwitchFrom: o.from, ProviderOptions: opts, Platform: "kind", NodeImage: o.nodeImage, Started: now, Phases: pre,
	}, o.red)
	if err != nil {
		return &exitError{code: exitCouldNotRun, err: err}
	}
	fmt.Fprintf(out, "netconform switch %s: %s -> %s on kind, %d nodes, artifacts %s\n", o.runID, o.from, o.to, o.nodes, o.artifacts)
	k := kind.New(o.runID, o.artifacts, kind.WithNodeImage(o.nodeImage), kind.WithWorkers(o.nodes-1), kind.WithOutput(out))
	s := &switcher{o: o, rec: rec, out: out, insA: insA, insB: insB, healthyB: healthyB, owned: ownerA.Owned, images: images, k: k}
	suitesB := o.suites("kind")
	suitesB.Healthy = healthyB
	run := &lifecycle.Run{
		Platform: k, Nodes: o.nodes, Keep: o.keep, KeepHint: "netconform delete --name " + k.ClusterName(),
		Images:  lifecycle.ImagesToLoad(o.probeImage, images),
		Install: s.installFrom, InstallName: o.from,
		// The switch first; the suites then verify the cluster under the new provider.
		Scenarios:     []lifecycle.Scenario{s, suitesB},
		CollectAlways: o.collect,
		Recorder:      rec, Redactor: o.red, Out: out, Artifacts: o.artifacts, Timeouts: o.timeouts(), AgentsNamespace: o.namespace,
	}
	return finish(rec, run.Execute(ctx), out, o.red)
}

// switcher carries one switch run.
type switcher struct {
	o          *switchOptions
	rec        *results.Recorder
	out        io.Writer
	insA, insB providers.Installer
	healthyB   providers.Healthy
	owned      func(node string, nodes []kube.Node, podSubnet string) providers.NodeState
	images     map[string]string
	// viewA saw what A's installer wrote: its DaemonSets run on nodes labelled for A only.
	viewA *switchView

	k       *kind.Kind
	c       *kube.Client
	cluster providers.Cluster
	nodes   []kube.Node // as they were under A
	// logs are the probers' records, collected as their pods leave and at the end; retired
	// says when each prober pod IP stopped being a target.
	logs    []proberLog
	retired map[string]time.Time
	windows []rollWindow
	// switched are the nodes given to B so far.
	switched map[string]bool
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
func (s *switcher) installFrom(ctx context.Context, env *lifecycle.Env) error {
	s.c = env.Client
	if s.o.podSubnet == "" {
		s.o.podSubnet = env.PodSubnet
	}
	s.cluster = providers.Cluster{Client: env.Client, Nodes: env.Nodes, Images: env.Images, PodSubnet: env.PodSubnet, ImageRefs: s.images, Out: s.out}
	ac, viewA, err := newSwitchClient(s.c, networkLabel, s.o.from)
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
		if err := labelNode(ctx, s.c, n.Name, networkLabel, s.o.from); err != nil {
			return err
		}
	}
	return s.insA.Install(ctx, clusterA)
}

func (s *switcher) Name() string { return "switch" }

// Run switches the cluster node by node to the new provider under continuous probes and
// reports the disruption and what the old provider left. A switch that did not finish ends
// Verify (lifecycle.ErrSkipRest): a half-switched cluster is not worth running the suites on.
func (s *switcher) Run(ctx context.Context, env *lifecycle.Env) error {
	o, c := s.o, s.c
	s.retired = map[string]time.Time{}
	s.switched = map[string]bool{}
	var err error
	if s.nodes, err = c.Nodes(ctx); err != nil {
		return err
	}
	_ = s.rec.Update(func(r *results.Result) { r.Nodes, r.Kernel = len(s.nodes), s.nodes[0].Kernel })
	if err := s.rec.Phase("probers", func() error {
		if err := deployProbers(ctx, c, o.probeImage, len(s.nodes)); err != nil {
			return err
		}
		return s.publishPeers(ctx)
	}); err != nil {
		return err
	}
	if err := sleepCtx(ctx, o.settle); err != nil {
		return err
	}
	bc, view, err := newSwitchClient(c, networkLabel, o.to)
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
	if rollErr == nil && o.keepOldRoutes && !s.healthyB.NodeRoutes && !slices.Contains(o.skipCleanup, providers.ItemRoute) {
		// Routes kept for the migration whose peer switched: B has replaced them (flannel
		// does) or they go now. A B that routes via the peers itself keeps its own.
		_ = s.rec.Phase("remove kept "+o.from+" routes", func() error {
			var errs []error
			for _, n := range s.nodes {
				errs = append(errs, s.runCleanup(ctx, n.Name, func(st providers.CleanupStep) bool { return st.Kind == providers.ItemRoute }))
			}
			return errors.Join(errs...)
		})
	}
	if rollErr == nil {
		_ = s.rec.Phase("remove "+o.from+" workloads", func() error { return s.removeOldWorkloads(ctx) })
		_ = sleepCtx(ctx, o.settle)
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
	_ = s.rec.Phase("networking ready: "+o.to, func() error {
		if err := c.WaitNodesReady(ctx, o.nodes); err != nil {
			return err
		}
		return c.WaitDeployment(ctx, suites.CoreDNSNamespace, suites.CoreDNSDeployment, c.Timeouts.CoreDNSReady)
	})
	return ctx.Err()
}

// roll switches one node from A to B.
func (s *switcher) roll(ctx context.Context, n kube.Node, clusterB providers.Cluster, view *switchView) error {
	c, name := s.c, n.Name
	step := func(what string, f func() error) error {
		return s.rec.Phase(name+": "+what, f)
	}
	if err := step("cordon", func() error { return setUnschedulable(ctx, c, name, true) }); err != nil {
		return err
	}
	if err := step("drain", func() error { return drain(ctx, c, name, s.o.drainTimeout) }); err != nil {
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
	if err := step(s.o.from+" leaves the node", func() error { return s.oldLeaves(ctx, name) }); err != nil {
		return err
	}
	if err := step("remove "+s.o.from, func() error { return s.removeOld(ctx, name) }); err != nil {
		return err
	}
	if err := step(s.o.to+" takes the node", func() error {
		if err := labelNode(ctx, c, name, networkLabel, s.o.to); err != nil {
			return err
		}
		s.switched[name] = true
		// The installer sees only the nodes given to it (this one included) and writes its
		// DaemonSets with the nodeSelector: it installs here and waits for its own signs of
		// health on every switched node.
		return s.insB.Install(ctx, clusterB)
	}); err != nil {
		return err
	}
	if err := step("restart containerd and kubelet", func() error {
		rctx, cancel := context.WithTimeout(ctx, s.c.Timeouts.NodeRestart)
		defer cancel()
		for _, unit := range []string{"containerd", "kubelet"} {
			if _, err := s.k.RunOnNode(rctx, name, []string{"systemctl", "restart", unit}, nil); err != nil {
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

func (s *switcher) publishPeers(ctx context.Context) error {
	names := make([]string, 0, len(s.nodes))
	for _, n := range s.nodes {
		names = append(names, n.Name)
	}
	return publishPeers(ctx, s.c, s.k, names)
}

// proberLeaves collects the node's prober records and takes the prober off the node, so that it
// comes back on the new network.
func (s *switcher) proberLeaves(ctx context.Context, node string) error {
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
	return waitPods(ctx, s.c, s.o.drainTimeout, "prober gone from "+node, func(ctx context.Context) (bool, string, error) {
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
func (s *switcher) oldLeaves(ctx context.Context, node string) error {
	if err := labelNode(ctx, s.c, node, networkLabel, ""); err != nil {
		return err
	}
	ds := s.viewA.DaemonSets()
	if len(ds) == 0 {
		return nil
	}
	return waitPods(ctx, s.c, s.o.drainTimeout, s.o.from+" pods gone from "+node, func(ctx context.Context) (bool, string, error) {
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
func (s *switcher) removeOldWorkloads(ctx context.Context) error {
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
func (s *switcher) removeOld(ctx context.Context, node string) error {
	viaUnswitched := map[string]bool{}
	for _, n := range s.nodes {
		if n.Name != node && !s.switched[n.Name] {
			viaUnswitched[n.InternalIP] = true
		}
	}
	return s.runCleanup(ctx, node, func(st providers.CleanupStep) bool {
		if slices.Contains(s.o.skipCleanup, st.Kind) {
			fmt.Fprintf(s.out, "switch: %s: leaving %s %s (--skip-cleanup)\n", node, st.Kind, st.Item)
			return false
		}
		if s.o.keepOldRoutes && st.Kind == providers.ItemRoute {
			if _, via, _ := strings.Cut(st.Item, " via "); viaUnswitched[via] {
				fmt.Fprintf(s.out, "switch: %s: keeping route %s until its peer switches (--keep-old-routes)\n", node, st.Item)
				return false
			}
		}
		return true
	})
}

// runCleanup runs the old provider's cleanup steps on node that want selects.
func (s *switcher) runCleanup(ctx context.Context, node string, want func(providers.CleanupStep) bool) error {
	state := s.owned(node, s.nodes, s.o.podSubnet)
	for _, st := range state.Cleanup() {
		if !want(st) {
			continue
		}
		cctx, cancel := context.WithTimeout(ctx, s.c.Timeouts.CleanupStep)
		_, err := s.k.RunOnNode(cctx, node, st.Argv, nil)
		cancel()
		if err != nil {
			return fmt.Errorf("remove %s %s: %w", st.Kind, st.Item, err)
		}
	}
	return nil
}

// waitBack waits until the node is Ready and schedulable, and the new provider's pods and the
// prober on it are Ready.
func (s *switcher) waitBack(ctx context.Context, node string, view *switchView) error {
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
func (s *switcher) collectAll(ctx context.Context) error {
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
