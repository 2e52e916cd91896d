package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/netconform/netconform/framework/kube"
	"github.com/netconform/netconform/framework/platform"
	"github.com/netconform/netconform/framework/platform/kind"
	"github.com/netconform/netconform/framework/results"
)

// defaultProbeImage is the probe image the sources of this build produce, set by `make build`
// (-ldflags -X main.defaultProbeImage=...; scripts/probe-image.sh --tag computes it). A plain
// `go build` leaves it empty, and check then asks for --probe-image.
var defaultProbeImage string

// probeImageLoadTimeout bounds saving the probe image from docker and importing it into every
// kind node.
const probeImageLoadTimeout = 3 * time.Minute

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
and removes the namespace again. The agents need privileged pods (host network, NET_RAW): the
namespace netconform creates is labelled pod-security.kubernetes.io/enforce=privileged. The probe
image must be on the nodes or pullable by them; with --kind-cluster netconform loads it itself.

Exit codes: 0 all checks passed, 1 checks failed (listed), 2 netconform could not run.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runCheck(cmd.Context(), o, cmd.OutOrStdout()) },
	}
	o.addFlags(cmd)
	if f := cmd.Flags().Lookup("probe-image"); f != nil && defaultProbeImage != "" {
		// The flag's value and the default its help shows: the image this build produces.
		f.DefValue = defaultProbeImage
		_ = f.Value.Set(defaultProbeImage)
	}
	cmd.Flags().StringVar(&o.kubeconfig, "kubeconfig", "", "kubeconfig of the cluster to check (required)")
	cmd.Flags().StringVar(&o.provider, "provider", "", "networking mode the cluster runs, for provider-specific expectations")
	cmd.Flags().BoolVar(&o.keepAgents, "keep-agents", false, "leave the probe agents' namespace in place")
	cmd.Flags().StringVar(&o.kindCluster, "kind-cluster", "", "the kind cluster (run id) behind --kubeconfig: netconform loads the probe image into its nodes, and the evidence bundle gets each node's own state")
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
		return &exitError{code: exitCouldNotRun, err: errors.New("--probe-image is required: this netconform was built without a default probe image " +
			"(`make build` gives it one); build the image with scripts/probe-image.sh and pass the reference it prints, e.g. --probe-image netconform/probe:<tag>")}
	}
	if o.repeat < 1 {
		return &exitError{code: exitCouldNotRun, err: fmt.Errorf("--repeat %d: need at least 1", o.repeat)}
	}
	if o.repeat > 1 {
		return runRepeated(ctx, o, o.repeat, out)
	}
	rec, err := results.NewRecorder(o.artifacts+"/result.json", results.Result{RunID: o.runID, Provider: o.provider, Platform: "existing", Started: now},
		results.WithRedaction(o.red.Bytes))
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
		k := kind.New(o.kindCluster, o.artifacts)
		nodeRunner = k
		if err := rec.Phase("load probe image", func() error { return loadProbeImage(ctx, k, o.kindCluster, o.probeImage, out) }); err != nil {
			return err
		}
	}
	_, err = verify(ctx, &o.verifyOptions, c, rec, healthyFor(o.provider), "existing", nil, nodeRunner)
	return err
}

// loadProbeImage puts the probe image from this machine's docker into every node of a kind
// cluster, so that the agents start without a registry. An image this machine's docker does not
// have is not an error here: the nodes may pull it, and if they cannot, the agents' wait says
// so naming the nodes.
func loadProbeImage(ctx context.Context, k *kind.Kind, cluster, image string, out io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, probeImageLoadTimeout)
	defer cancel()
	nodes, err := k.Nodes()
	if err != nil {
		return err
	}
	if len(nodes) == 0 {
		return fmt.Errorf("--kind-cluster %s: kind has no cluster of that name (its nodes are the containers named %s-control-plane, %s-worker, ...)", cluster, cluster, cluster)
	}
	inspect := exec.CommandContext(ctx, "docker", "image", "inspect", "--format", "{{.Id}}", image)
	if b, err := inspect.CombinedOutput(); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("docker image inspect %s: %w", image, ctx.Err())
		}
		fmt.Fprintf(out, "probe image %s is not in this machine's docker (%s): not loading it; the nodes must pull it (scripts/probe-image.sh builds it)\n",
			image, strings.TrimSpace(string(b)))
		return nil
	}
	// The node side of kind's image import takes no context; the deadline ends the wait for it
	// (and the run, which cannot go on without the image) rather than hang.
	done := make(chan error, 1)
	go func() { done <- k.LoadImage(ctx, image) }()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("load probe image %s into kind cluster %s: %w", image, cluster, err)
		}
		fmt.Fprintf(out, "loaded probe image %s into %d nodes of kind cluster %s\n", image, len(nodes), cluster)
		return nil
	case <-ctx.Done():
		return fmt.Errorf("load probe image %s into kind cluster %s: not done within %s", image, cluster, probeImageLoadTimeout)
	}
}
