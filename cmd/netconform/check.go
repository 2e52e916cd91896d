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

	"github.com/netconform/netconform/framework/agents"
	"github.com/netconform/netconform/framework/kube"
	"github.com/netconform/netconform/framework/platform"
	"github.com/netconform/netconform/framework/platform/kind"
	"github.com/netconform/netconform/framework/results"
	"github.com/netconform/netconform/providers"
	"github.com/netconform/netconform/providers/catalog"
)

// defaultProbeImage is the probe image the sources of this build produce, set by `make build`
// (-ldflags -X main.defaultProbeImage=...; scripts/probe-image.sh --tag computes it). A plain
// `go build` leaves it empty, and check then asks for --probe-image.
var defaultProbeImage string

type checkOptions struct {
	verifyOptions
	kubeconfig string
	keepAgents bool
	repeat     int
	// kindCluster names the kind cluster behind the kubeconfig, if it is one: the evidence
	// bundle then holds each node's own state (docker exec), not only what the agents see.
	kindCluster string
	// providerOptions (--provider-option KEY=VALUE) are the provider's settings in the
	// cluster, for the expectations that depend on them (flannel's backend).
	providerOptions []string
}

func newCheckCmd() *cobra.Command {
	o := &checkOptions{}
	cmd := &cobra.Command{
		Use:   "check --kubeconfig FILE [--provider NAME [--provider-option KEY=VALUE]...]",
		Short: "Run the suites against an existing cluster, installing and deleting nothing but the probe agents",
		Long: `check runs the suites against a cluster that is already there (a troubleshooting runbook):
it deploys the probe agents into their own namespace, runs the selected checks, writes the reports,
and removes the namespace again. The agents need privileged pods (host network, NET_RAW): the
namespace netconform creates is labelled pod-security.kubernetes.io/enforce=privileged. The probe
image must be on the nodes or pullable by them; with --kind-cluster netconform loads it itself.

--provider names the networking the cluster runs, and --provider-option its settings (the
same names and values as for run, or the cluster spec's on AWS): the checks then expect what
that provider does (its MTU overhead, its routes). Without --provider, check expects nothing
provider-specific (generic expectations); a name netconform does not know is refused.

Exit codes: 0 all checks passed, 1 checks failed (listed), 2 netconform could not run.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.validate(); err != nil {
				return badInput(err)
			}
			return runCheck(cmd.Context(), o, cmd.OutOrStdout())
		},
	}
	o.addFlags(cmd)
	cmd.Flags().StringVar(&o.kubeconfig, "kubeconfig", "", "kubeconfig of the cluster to check (required)")
	cmd.Flags().StringVar(&o.provider, "provider", "", "networking mode the cluster runs, for provider-specific expectations")
	cmd.Flags().BoolVar(&o.keepAgents, "keep-agents", false, "leave the probe agents' namespace in place")
	cmd.Flags().StringVar(&o.kindCluster, "kind-cluster", "", "the kind cluster (run id) behind --kubeconfig: netconform loads the probe image into its nodes, and the evidence bundle gets each node's own state")
	cmd.Flags().IntVar(&o.repeat, "repeat", 1, "run the selected checks N times and report each check's pass rate")
	cmd.Flags().StringArrayVar(&o.providerOptions, "provider-option", nil, "setting of the provider the cluster runs, as KEY=VALUE, e.g. backend=host-gw for flannel (repeatable; needs --provider)")
	return cmd
}

// validate checks check's input before the cluster is contacted (see input.go).
func (o *checkOptions) validate() error {
	if err := o.checkTimeouts(); err != nil {
		return err
	}
	if o.repeat < 1 {
		return fmt.Errorf("--repeat %d: need at least 1", o.repeat)
	}
	switch {
	case o.provider != "":
		// The widest schema: the cluster may have been built by kops or by netconform on kind.
		if _, _, err := providerSettings(o.provider, providers.ForKind, o.providerOptions); err != nil {
			return err
		}
	case len(o.providerOptions) > 0:
		return errors.New("--provider-option needs --provider: options belong to a provider")
	}
	return checkLabelFilter(o.labelFilter)
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
	opts, _ := keyValues("--provider-option", o.providerOptions)
	redactSecretOptions(o.red, o.provider, opts)
	rec, err := newRecorder(o.artifacts, results.Result{RunID: o.runID, Provider: o.provider, ProviderOptions: opts, Platform: "existing", Started: now}, o.red)
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
		c, err = kube.NewClient(ctx, o.kubeconfig, o.timeouts())
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
				return agents.Remove(dctx, c, o.namespace)
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
		if err := rec.Phase("load probe image", func() error {
			return loadProbeImage(ctx, k, o.kindCluster, o.probeImage, o.timeouts().ProbeImageLoad, out)
		}); err != nil {
			return err
		}
	}
	_, err = verify(ctx, &o.verifyOptions, c, rec, o.healthy(out), "existing", nil, nodeRunner)
	return err
}

// healthy is what the checks expect of the provider with its options. Expectations come from
// netconform's installers; for options they do not model (calico with kops' ipip), the
// provider's defaults are expected and a note says so.
func (o *checkOptions) healthy(out io.Writer) providers.Healthy {
	if o.provider == "" {
		return providers.Healthy{}
	}
	settings, _, _ := providerSettings(o.provider, providers.ForKind, o.providerOptions)
	if _, h, err := lookupInstaller(o.provider, 0, settings); err == nil || len(settings) == 0 {
		return h
	}
	p, _ := catalog.Lookup(o.provider)
	d := p.Descriptor()
	_, h, err := lookupInstaller(d.Name, 0, nil)
	if err == nil {
		fmt.Fprintf(out, "note: netconform has no expectations for %s with these options; it expects what %s does with its defaults\n", d.Name, d.Name)
	}
	return h
}

// loadProbeImage puts the probe image from this machine's docker into every node of a kind
// cluster, so that the agents start without a registry. An image this machine's docker does not
// have is not an error here: the nodes may pull it, and if they cannot, the agents' wait says
// so naming the nodes.
func loadProbeImage(ctx context.Context, k *kind.Kind, cluster, image string, timeout time.Duration, out io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
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
		return fmt.Errorf("load probe image %s into kind cluster %s: not done within %s", image, cluster, timeout)
	}
}
