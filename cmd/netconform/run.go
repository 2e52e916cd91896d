package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/netconform/netconform/framework/kube"
	"github.com/netconform/netconform/framework/platform/kind"
	"github.com/netconform/netconform/framework/results"
	"github.com/netconform/netconform/providers"
	"github.com/netconform/netconform/suites"
)

type runOptions struct {
	verifyOptions
	platform  string
	nodeImage string
	nodes     int
	keep      bool
	phases    []string
	dryRun    bool
}

// cleanupTimeout bounds deleting the cluster at the end, also after an interrupt.
const cleanupTimeout = 3 * time.Minute

func newRunCmd() *cobra.Command {
	o := &runOptions{}
	cmd := &cobra.Command{
		Use:   "run [PROVIDER=name] [NODES=n]",
		Short: "Create a cluster, install a networking mode, verify it, report, and delete the cluster",
		Long: `run creates a cluster on a platform (kind by default), installs one networking mode or CNI
provider, waits until it is ready, runs the suites, writes the reports into the artifacts directory
and deletes the cluster (unless --keep). Interrupting it (SIGINT, SIGTERM) deletes the cluster too.

Exit codes: 0 all checks passed, 1 checks failed, 2 netconform could not run.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			nodes := ""
			if err := parseAssignments(args, map[string]*string{"PROVIDER": &o.provider, "NODES": &nodes, "PLATFORM": &o.platform}); err != nil {
				return &exitError{code: exitCouldNotRun, err: err}
			}
			if nodes != "" {
				n, err := strconv.Atoi(nodes)
				if err != nil {
					return &exitError{code: exitCouldNotRun, err: fmt.Errorf("NODES=%q is not a number", nodes)}
				}
				o.nodes = n
			}
			return runRun(cmd.Context(), o, cmd.OutOrStdout())
		},
	}
	o.addFlags(cmd)
	f := cmd.Flags()
	f.StringVar(&o.provider, "provider", "kubenet", "networking mode or CNI provider to install")
	f.StringVar(&o.platform, "platform", "kind", "where the cluster runs: kind")
	f.StringVar(&o.nodeImage, "node-image", "", "kind node image (make builds netconform/node:<version>-<hash>)")
	f.IntVar(&o.nodes, "nodes", 3, "number of nodes: one control plane, the rest workers")
	f.BoolVar(&o.keep, "keep", false, "keep the cluster after the run (for debugging)")
	f.StringArrayVar(&o.phases, "phase", nil, "a phase measured before netconform started, as NAME=SECONDS (repeatable)")
	f.BoolVar(&o.dryRun, "dry-run", false, "print what would be done without doing it (aws)")
	return cmd
}

// installerFor finds how to install a provider.
func installerFor(name string) (providers.Installer, providers.Healthy, error) {
	ins, healthy, err := lookupInstaller(name)
	if err != nil {
		return nil, providers.Healthy{}, err
	}
	return ins, healthy, nil
}

func runRun(ctx context.Context, o *runOptions, out io.Writer) error {
	now := time.Now()
	o.complete(now)
	if o.platform != "kind" {
		return &exitError{code: exitCouldNotRun, err: fmt.Errorf("platform %q: run supports kind here (aws: see 'netconform run --platform aws --dry-run')", o.platform)}
	}
	if o.nodes < 1 {
		return &exitError{code: exitCouldNotRun, err: fmt.Errorf("--nodes %d: need at least 1", o.nodes)}
	}
	installer, healthy, err := installerFor(o.provider)
	if err != nil {
		return &exitError{code: exitCouldNotRun, err: err}
	}
	if o.nodeImage == "" || o.probeImage == "" {
		return &exitError{code: exitCouldNotRun, err: errors.New("--node-image and --probe-image are required (make e2e builds both: scripts/node-image.sh, scripts/probe-image.sh)")}
	}
	pre, err := phaseFlags(o.phases, now)
	if err != nil {
		return &exitError{code: exitCouldNotRun, err: err}
	}
	rec, err := results.NewRecorder(o.artifacts+"/result.json", results.Result{
		RunID: o.runID, Provider: o.provider, Platform: o.platform, NodeImage: o.nodeImage, Started: now, Phases: pre,
	})
	if err != nil {
		return &exitError{code: exitCouldNotRun, err: err}
	}
	fmt.Fprintf(out, "netconform run %s: provider %s on %s, %d nodes, artifacts %s\n", o.runID, o.provider, o.platform, o.nodes, o.artifacts)
	runErr := runOnKind(ctx, o, rec, installer, healthy, out)
	return finish(rec, runErr, out)
}

func runOnKind(ctx context.Context, o *runOptions, rec *results.Recorder, installer providers.Installer, healthy providers.Healthy, out io.Writer) (runErr error) {
	k := kind.New(o.runID, o.artifacts, kind.WithNodeImage(o.nodeImage), kind.WithWorkers(o.nodes-1), kind.WithOutput(out))
	defer func() {
		if o.keep {
			fmt.Fprintf(out, "keeping cluster %s (kubeconfig %s); delete it with: netconform delete --name %s\n", k.ClusterName(), k.KubeconfigPath(), k.ClusterName())
			return
		}
		err := rec.Phase("cluster delete", func() error {
			dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
			defer cancel()
			return k.Delete(dctx)
		})
		if err != nil && runErr == nil {
			runErr = fmt.Errorf("cleanup: %w", err)
		}
	}()
	if err := rec.Phase("cluster create", func() error { return k.Create(ctx) }); err != nil {
		return err
	}
	c, err := kube.NewClient(ctx, k.KubeconfigPath(), kube.DefaultTimeouts())
	if err != nil {
		return err
	}
	if v, err := c.ServerVersion(); err == nil {
		_ = rec.Update(func(r *results.Result) { r.KubernetesVersion = v })
	}
	install := &suites.InstallObservations{}
	if err := rec.Phase("CoreDNS before networking", func() error { return observeCoreDNSBefore(ctx, c, install) }); err != nil {
		return err
	}
	if nodes, err := c.Nodes(ctx); err == nil && len(nodes) > 0 {
		_ = rec.Update(func(r *results.Result) { r.Nodes, r.Kernel = len(nodes), nodes[0].Kernel })
	}
	if err := rec.Phase("load images", func() error { return k.LoadImage(ctx, o.probeImage) }); err != nil {
		return err
	}
	cluster := providers.Cluster{Client: c, Nodes: k, Images: k, PodSubnet: k.PodSubnet(), Out: out}
	if err := rec.Phase("networking install", func() error { return installer.Install(ctx, cluster) }); err != nil {
		return err
	}
	installed := time.Now()
	// A cluster whose networking does not come up still gets its suites run: they say what is
	// broken, which is the point of the run.
	_ = rec.Phase("networking ready", func() error {
		if err := c.WaitNodesReady(ctx, o.nodes); err != nil {
			install.CoreDNSReadyError = err.Error()
			return err
		}
		if err := c.WaitDeployment(ctx, suites.CoreDNSNamespace, suites.CoreDNSDeployment, c.Timeouts.CoreDNSReady); err != nil {
			install.CoreDNSReadyError = err.Error()
			return err
		}
		install.CoreDNSReadyAfter = time.Since(installed)
		return nil
	})
	if ctx.Err() != nil {
		return ctx.Err()
	}
	_, err = verify(ctx, &o.verifyOptions, c, rec, healthy, "kind", install)
	return err
}

// observeCoreDNSBefore records CoreDNS's readiness before any networking exists. kubeadm
// creates the Deployment a little after the API server answers, so this waits for its pods.
func observeCoreDNSBefore(ctx context.Context, c *kube.Client, in *suites.InstallObservations) error {
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	for {
		ready, total, notReady, err := c.PodsReady(ctx, suites.CoreDNSNamespace, suites.CoreDNSSelector)
		if err == nil && total > 0 {
			in.CoreDNSReadyBefore, in.CoreDNSTotalBefore, in.CoreDNSNotReadyWhy = ready, total, notReady
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("no CoreDNS pods appeared within 90 s: %v", err)
		case <-time.After(time.Second):
		}
	}
}
