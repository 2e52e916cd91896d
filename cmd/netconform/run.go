package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/netconform/netconform/framework/kube"
	"github.com/netconform/netconform/framework/platform"
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
	// providerImages (--provider-image NAME=REF) are locally built images for the provider's
	// components, loaded into the nodes; providerOptions (--provider-option KEY=VALUE) its settings.
	providerImages  []string
	providerOptions []string
	preflight       bool
	// aws holds the kops platform's settings (--platform aws).
	aws awsOptions
}

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
			if err := setAssignments(cmd, args, map[string]string{"PROVIDER": "provider", "NODES": "nodes", "PLATFORM": "platform"}); err != nil {
				return badInput(err)
			}
			if err := o.validate(); err != nil {
				return badInput(err)
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
	f.StringArrayVar(&o.providerImages, "provider-image", nil, "image for a provider component, as NAME=REF, loaded into the nodes (repeatable; scripts/provider-images.sh prints them)")
	// The AWS platform's flags, except --provider-option which run already has and shares.
	awsFlags := pflag.NewFlagSet("aws", pflag.ContinueOnError)
	o.aws.addFlags(awsFlags)
	o.aws.addPlanFlags(awsFlags)
	awsFlags.VisitAll(func(fl *pflag.Flag) {
		if f.Lookup(fl.Name) == nil && fl.Name != "provider-option" {
			f.AddFlag(fl)
		}
	})
	f.StringArrayVar(&o.providerOptions, "provider-option", nil, "provider setting as KEY=VALUE, e.g. backend=host-gw for flannel (repeatable)")
	f.BoolVar(&o.preflight, "preflight", false, "only check that the provider and its options can be installed here, then exit (0 yes, 2 no)")
	return cmd
}

// validate checks run's input before anything is created (see input.go).
func (o *runOptions) validate() error {
	if err := o.checkTimeouts(); err != nil {
		return err
	}
	target := providers.ForKind
	switch o.platform {
	case "kind":
		if o.dryRun {
			return errors.New("--dry-run applies to --platform aws only (on kind, run runs; --preflight checks the provider and its options without creating anything)")
		}
		if err := checkNodes(o.nodes, 1, needControlPlane); err != nil {
			return err
		}
	case "aws":
		target = providers.ForKops
		if err := checkNodes(o.nodes, 2, needKopsWorker); err != nil {
			return err
		}
	default:
		return fmt.Errorf("--platform %s: want kind or aws", o.platform)
	}
	if _, _, err := providerSettings(o.provider, target, o.providerOptions); err != nil {
		return err
	}
	if _, err := keyValues("--provider-image", o.providerImages); err != nil {
		return err
	}
	return checkLabelFilter(o.labelFilter)
}

// installerFor finds how to install a provider.
func installerFor(name string, mtu int, opts map[string]string) (providers.Installer, providers.Healthy, error) {
	ins, healthy, err := lookupInstaller(name, mtu, opts)
	if err != nil {
		return nil, providers.Healthy{}, err
	}
	return ins, healthy, nil
}

func runRun(ctx context.Context, o *runOptions, out io.Writer) error {
	now := time.Now()
	o.complete(now)
	if o.platform == "aws" && o.dryRun {
		o.aws.provider, o.aws.runID, o.aws.artifacts, o.aws.nodes = o.provider, o.runID, o.artifacts, o.nodes
		// --route-quota is run's own (the routes suite's), and the plan's too.
		o.aws.providerOptions, o.aws.routeQuota = o.providerOptions, o.routeQuota
		if err := awsDryRun(out, o.aws); err != nil {
			return &exitError{code: exitCouldNotRun, err: err}
		}
		return nil
	}
	if o.platform != "kind" {
		return &exitError{code: exitCouldNotRun, err: fmt.Errorf("platform %q: run supports kind here (aws: see 'netconform run --platform aws --dry-run')", o.platform)}
	}
	if o.nodes < 1 {
		return &exitError{code: exitCouldNotRun, err: fmt.Errorf("--nodes %d: need at least 1", o.nodes)}
	}
	providerOpts, err := keyValues("--provider-option", o.providerOptions)
	if err != nil {
		return &exitError{code: exitCouldNotRun, err: err}
	}
	redactSecretOptions(o.red, o.provider, providerOpts)
	if _, err := keyValues("--provider-image", o.providerImages); err != nil {
		return &exitError{code: exitCouldNotRun, err: err}
	}
	installer, healthy, err := installerFor(o.provider, o.mtu, providerOpts)
	if err != nil {
		if !o.preflight {
			writeNotInstallable(o.artifacts, results.Result{RunID: o.runID, Provider: o.provider, ProviderOptions: providerOpts, Platform: o.platform, NodeImage: o.nodeImage, Started: now}, err, o.red)
		}
		return &exitError{code: exitCouldNotRun, err: err}
	}
	if o.preflight {
		fmt.Fprintf(out, "provider %s can be installed on %s\n", o.provider, o.platform)
		return nil
	}
	if o.nodeImage == "" || o.probeImage == "" {
		return &exitError{code: exitCouldNotRun, err: errors.New("--node-image and --probe-image are required (make e2e builds both: scripts/node-image.sh, scripts/probe-image.sh)")}
	}
	pre, err := phaseFlags(o.phases, now)
	if err != nil {
		return &exitError{code: exitCouldNotRun, err: err}
	}
	rec, err := newRecorder(o.artifacts, results.Result{
		RunID: o.runID, Provider: o.provider, ProviderOptions: providerOpts, Platform: o.platform, NodeImage: o.nodeImage, Started: now, Phases: pre,
	}, o.red)
	if err != nil {
		return &exitError{code: exitCouldNotRun, err: err}
	}
	fmt.Fprintf(out, "netconform run %s: provider %s on %s, %d nodes, artifacts %s\n", o.runID, o.provider, o.platform, o.nodes, o.artifacts)
	runErr := runOnKind(ctx, o, rec, installer, healthy, out)
	return finish(rec, runErr, out, o.red)
}

func runOnKind(ctx context.Context, o *runOptions, rec *results.Recorder, installer providers.Installer, healthy providers.Healthy, out io.Writer) (runErr error) {
	k := kind.New(o.runID, o.artifacts, kind.WithNodeImage(o.nodeImage), kind.WithWorkers(o.nodes-1), kind.WithOutput(out))
	defer func() {
		if o.keep {
			fmt.Fprintf(out, "keeping cluster %s (kubeconfig %s); delete it with: netconform delete --name %s\n", k.ClusterName(), k.KubeconfigPath(), k.ClusterName())
			return
		}
		err := rec.Phase("cluster delete", func() error {
			dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), o.timeouts().ClusterDelete)
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
	o.red.AddKubeconfig(k.KubeconfigPath())
	c, err := kube.NewClient(ctx, k.KubeconfigPath(), o.timeouts())
	if err != nil {
		return err
	}
	if v, err := c.ServerVersion(); err == nil {
		_ = rec.Update(func(r *results.Result) { r.KubernetesVersion = v })
	}
	if err := rec.Phase("nodes registered", func() error {
		_, err := c.WaitNodesRegistered(ctx, o.nodes)
		return err
	}); err != nil {
		return err
	}
	install := &suites.InstallObservations{}
	if err := rec.Phase("CoreDNS before networking", func() error { return observeCoreDNSBefore(ctx, c, install) }); err != nil {
		return err
	}
	if nodes, err := c.Nodes(ctx); err == nil && len(nodes) > 0 {
		_ = rec.Update(func(r *results.Result) { r.Nodes, r.Kernel = len(nodes), nodes[0].Kernel })
	}
	images, _ := keyValues("--provider-image", o.providerImages)
	if err := rec.Phase("load images", func() error { return loadImages(ctx, k, o.probeImage, images) }); err != nil {
		return err
	}
	if o.podSubnet == "" {
		o.podSubnet = k.PodSubnet()
	}
	cluster := providers.Cluster{Client: c, Nodes: k, Images: k, PodSubnet: k.PodSubnet(), ImageRefs: images, Out: out}
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
	_, err = verify(ctx, &o.verifyOptions, c, rec, healthy, "kind", install, k)
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

// keyValues parses repeated KEY=VALUE flag values.
func keyValues(flag string, values []string) (map[string]string, error) {
	out := map[string]string{}
	for _, v := range values {
		k, val, ok := strings.Cut(v, "=")
		if !ok || k == "" || val == "" {
			return nil, fmt.Errorf("%s %q: want KEY=VALUE", flag, v)
		}
		out[k] = val
	}
	return out, nil
}

// loadImages loads the probe image and each distinct provider image into every node. Entries
// named *-manifest are files the installer reads (upstream manifests from the module cache), not
// images.
func loadImages(ctx context.Context, loader platform.ImageLoader, probe string, provider map[string]string) error {
	done := map[string]bool{}
	for name, ref := range provider {
		if strings.HasSuffix(name, "-manifest") {
			done[ref] = true
		}
	}
	for _, ref := range append([]string{probe}, slices.Sorted(maps.Values(provider))...) {
		if done[ref] {
			continue
		}
		done[ref] = true
		if err := loader.LoadImage(ctx, ref); err != nil {
			return err
		}
	}
	return nil
}
