package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/netconform/netconform/framework/lifecycle"
	"github.com/netconform/netconform/framework/lifecycle/switching"
	"github.com/netconform/netconform/framework/platform/kind"
	"github.com/netconform/netconform/framework/results"
	"github.com/netconform/netconform/providers"
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
	// imageOptions are --images and --registry-mirror, for both providers.
	imageOptions
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
	o.addMatrixCellFlag(cmd)
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
	o.addImageFlags(f)
	return cmd
}

// validate checks switch's input before anything is created (see input.go).
func (o *switchOptions) validate() error {
	if err := o.checkTimeouts(); err != nil {
		return err
	}
	if err := o.checkMatrixCell(); err != nil {
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
	if err := o.checkImages(o.platform); err != nil {
		return err
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
	return o.selectChecks()
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
	insA, _, err := lookupInstaller(o.from, o.mtu, nil)
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
	insB, healthyB, err := lookupInstaller(o.to, o.mtu, opts)
	if err != nil {
		return &exitError{code: exitCouldNotRun, err: err}
	}
	// Where both providers' images come from (--images), decided before the cluster exists:
	// upstream ones pullable, those netconform does not build (weave, kopeio, kindnet) here or
	// pullable (loaded into the nodes with the others).
	plan, err := o.plan(ctx, images, o.timeouts(), out, runProvider{o.from, insA}, runProvider{o.to, insB})
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
		RunID: o.runID, Provider: provider, Networking: kopsNetworking(provider), SwitchFrom: o.from, ProviderOptions: opts, Platform: "kind", NodeImage: o.nodeImage, Started: now, Phases: pre, Cell: o.cell,
		Images: plan.source,
	}, o.red)
	if err != nil {
		return &exitError{code: exitCouldNotRun, err: err}
	}
	fmt.Fprintf(out, "netconform switch %s: %s -> %s on kind, %d nodes, artifacts %s\n", o.runID, o.from, o.to, o.nodes, o.artifacts)
	k := kind.New(o.runID, o.artifacts, append([]kind.Option{kind.WithNodeImage(o.nodeImage), kind.WithWorkers(o.nodes - 1), kind.WithOutput(out)}, plan.kindOptions()...)...)
	s := switching.New(switching.Config{
		From: o.from, To: o.to, InsA: insA, InsB: insB, HealthyB: healthyB, Owned: ownerA.Owned, Images: plan.refs,
		ProbeImage: o.probeImage, Nodes: o.nodes, PodSubnet: o.podSubnet, Artifacts: o.artifacts,
		DrainTimeout: o.drainTimeout, Settle: o.settle, MaxOutage: o.maxOutage, SkipCleanup: o.skipCleanup, KeepOldRoutes: o.keepOldRoutes,
		Out: out, Redact: o.red.Bytes,
	})
	suitesB := o.suites("kind")
	suitesB.Healthy = healthyB
	// The switch first; the suites then verify the cluster under the new provider. With perf
	// checks selected, perf is measured on A before the roll too, for the comparison.
	scenarios := []lifecycle.Scenario{s, suitesB}
	if o.perfSelected {
		scenarios = append([]lifecycle.Scenario{o.perfBefore()}, scenarios...)
	}
	run := &lifecycle.Run{
		Platform: k, Nodes: o.nodes, Keep: o.keep, KeepHint: "netconform delete --name " + k.ClusterName(),
		Images:  append(lifecycle.ImagesToLoad(o.probeImage, plan.refs), plan.load...),
		Install: s.InstallFrom, InstallName: o.from,
		Scenarios:     scenarios,
		CollectAlways: o.collect,
		Recorder:      rec, Redactor: o.red, Out: out, Artifacts: o.artifacts, Timeouts: o.timeouts(), AgentsNamespace: o.namespace,
	}
	return finish(rec, run.Execute(ctx), out, o.red)
}

// perfBefore measures the perf suite on A before the roll: a `netconform check` of its own (a
// process runs its suites once), in a namespace of its own, whose perf checks join the switch's
// result for the before-and-after comparison (reports.PerfChanges).
func (o *switchOptions) perfBefore() *lifecycle.Before {
	self, err := os.Executable()
	if err != nil {
		self = os.Args[0]
	}
	dir := filepath.Join(o.artifacts, "perf-before")
	args := []string{"check", "--provider", o.from, "--label-filter", "perf", "--artifacts", dir, "--run-id", o.runID + "-before",
		"--namespace", o.namespace + "-before", "--probe-image", o.perfImage, "--perf-image", o.perfImage,
		"--perf-samples", fmt.Sprint(o.perfCfg.Samples), "--perf-duration", o.perfCfg.Duration.String(),
		"--perf-tolerance", fmt.Sprint(o.perfCfg.Tolerance), "--timeout-scale", fmt.Sprint(o.timeouts().Factor)}
	if o.maxPairs > 0 {
		args = append(args, "--max-pairs", fmt.Sprint(o.maxPairs))
	}
	// The netperf runs of the four paths, and the agents' start and removal.
	return &lifecycle.Before{
		Phase: "perf before the switch", Stage: fmt.Sprintf("(%s, before the switch)", o.from), Label: "perf", Dir: dir,
		Timeout: 4*o.perfCfg.RunsBound() + 2*o.timeouts().AgentsReady + o.timeouts().NamespaceGone,
		Command: func(ctx context.Context, kubeconfig string) *exec.Cmd {
			return exec.CommandContext(ctx, self, append(args, "--kubeconfig", kubeconfig)...)
		},
	}
}
