package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/netconform/netconform/framework/kube"
	"github.com/netconform/netconform/framework/platform"
	"github.com/netconform/netconform/framework/platform/kind"
	"github.com/netconform/netconform/framework/results"
)

type checkOptions struct {
	verifyOptions
	kubeconfig string
	keepAgents bool
	repeat     int
	// kindCluster names the kind cluster behind the kubeconfig, if it is one: the evidence
	// bundle then holds each node's own state (docker exec), not only what the agents see.
	kindCluster string
}

func newCheckCmd() *cobra.Command {
	o := &checkOptions{}
	cmd := &cobra.Command{
		Use:   "check --kubeconfig FILE [--provider NAME]",
		Short: "Run the suites against an existing cluster, installing and deleting nothing but the probe agents",
		Long: `check runs the suites against a cluster that is already there (a troubleshooting runbook):
it deploys the probe agents into their own namespace, runs the selected checks, writes the reports,
and removes the namespace again.

Exit codes: 0 all checks passed, 1 checks failed (listed), 2 netconform could not run.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runCheck(cmd.Context(), o, cmd.OutOrStdout()) },
	}
	o.addFlags(cmd)
	cmd.Flags().StringVar(&o.kubeconfig, "kubeconfig", "", "kubeconfig of the cluster to check (required)")
	cmd.Flags().StringVar(&o.provider, "provider", "", "networking mode the cluster runs, for provider-specific expectations")
	cmd.Flags().BoolVar(&o.keepAgents, "keep-agents", false, "leave the probe agents' namespace in place")
	cmd.Flags().StringVar(&o.kindCluster, "kind-cluster", "", "the kind cluster (run id) behind --kubeconfig, for full node state in the evidence bundle")
	cmd.Flags().IntVar(&o.repeat, "repeat", 1, "run the selected checks N times and report each check's pass rate")
	return cmd
}

func runCheck(ctx context.Context, o *checkOptions, out io.Writer) error {
	now := time.Now()
	o.complete(now)
	if o.kubeconfig == "" {
		return &exitError{code: exitCouldNotRun, err: errors.New("--kubeconfig is required")}
	}
	if o.probeImage == "" {
		return &exitError{code: exitCouldNotRun, err: errors.New("--probe-image is required (scripts/probe-image.sh builds one; the cluster's nodes must have it or pull it)")}
	}
	if o.repeat < 1 {
		return &exitError{code: exitCouldNotRun, err: fmt.Errorf("--repeat %d: need at least 1", o.repeat)}
	}
	if o.repeat > 1 {
		return runRepeated(ctx, o, o.repeat, out)
	}
	rec, err := newRecorder(o.artifacts, results.Result{RunID: o.runID, Provider: o.provider, Platform: "existing", Started: now}, o.red)
	if err != nil {
		return &exitError{code: exitCouldNotRun, err: err}
	}
	return finish(rec, checkExisting(ctx, o, rec, out), out, o.red)
}

func checkExisting(ctx context.Context, o *checkOptions, rec *results.Recorder, out io.Writer) (runErr error) {
	o.red.AddKubeconfig(o.kubeconfig)
	var c *kube.Client
	if err := rec.Phase("connect", func() error {
		var err error
		c, err = kube.NewClient(ctx, o.kubeconfig, kube.DefaultTimeouts())
		return err
	}); err != nil {
		return fmt.Errorf("%w (check the kubeconfig's server address and credentials)", err)
	}
	nodes, err := c.Nodes(ctx)
	if err != nil {
		return err
	}
	if len(nodes) == 0 {
		return errors.New("the cluster has no nodes: nothing to check")
	}
	v, _ := c.ServerVersion()
	_ = rec.Update(func(r *results.Result) { r.KubernetesVersion, r.Nodes, r.Kernel = v, len(nodes), nodes[0].Kernel })
	fmt.Fprintf(out, "netconform check %s: %d nodes, Kubernetes %s, artifacts %s\n", o.runID, len(nodes), v, o.artifacts)
	if !o.keepAgents {
		defer func() {
			err := rec.Phase("remove probe agents", func() error {
				dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.Timeouts.NamespaceGone+c.Timeouts.APICall)
				defer cancel()
				return c.DeleteNamespace(dctx, o.namespace)
			})
			if err != nil {
				fmt.Fprintf(out, "warning: %v\n", err)
			}
		}()
	}
	var nodeRunner platform.NodeRunner
	if o.kindCluster != "" {
		nodeRunner = kind.New(o.kindCluster, o.artifacts)
	}
	_, err = verify(ctx, &o.verifyOptions, c, rec, healthyFor(o.provider), "existing", nil, nodeRunner)
	return err
}
