package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"sigs.k8s.io/yaml"

	"github.com/netconform/netconform/framework/aws/awsclient"
	"github.com/netconform/netconform/framework/ipfamily"
	"github.com/netconform/netconform/framework/lifecycle"
	"github.com/netconform/netconform/framework/platform/aws"
	"github.com/netconform/netconform/framework/platform/kind"
	"github.com/netconform/netconform/framework/results"
	"github.com/netconform/netconform/providers"
	"github.com/netconform/netconform/providers/catalog"
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
	// ipFamily is --ip-family as given (ipv4, ipv6, dual); family is it parsed, by validate.
	ipFamily string
	family   ipfamily.Family
	// kubeletConfig (--kubelet-config) is YAML fields added to every kind node's
	// KubeletConfiguration.
	kubeletConfig string
	// imageOptions are --images and --registry-mirror (kind).
	imageOptions
	// aws holds the kops platform's settings (--platform aws).
	aws awsOptions
}

func newRunCmd() *cobra.Command {
	o := &runOptions{}
	cmd := &cobra.Command{
		Use:   "run [PROVIDER=name] [NODES=n] [IP_FAMILY=ipv4|ipv6|dual]",
		Short: "Create a cluster, install a networking mode, verify it, report, and delete the cluster",
		Long: `run creates a cluster on a platform (kind by default), installs one networking mode or CNI
provider, waits until it is ready, runs the suites, writes the reports into the artifacts directory
and deletes the cluster (unless --keep). Interrupting it (SIGINT, SIGTERM) deletes the cluster too.
On kind, --ip-family makes the cluster IPv4 (the default), IPv6 or dual stack, where the provider's
installer configures that family ('netconform providers NAME' says which it does).

Exit codes: 0 all checks passed, 1 checks failed, 2 netconform could not run.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := setAssignments(cmd, args, map[string]string{"PROVIDER": "provider", "NODES": "nodes", "PLATFORM": "platform", "IP_FAMILY": "ip-family"}); err != nil {
				return badInput(err)
			}
			if err := o.validate(); err != nil {
				return badInput(err)
			}
			return runRun(cmd.Context(), o, cmd.OutOrStdout())
		},
	}
	o.addFlags(cmd)
	o.addExternalTargetFlag(cmd)
	o.addMatrixCellFlag(cmd)
	f := cmd.Flags()
	f.StringVar(&o.provider, "provider", providers.KindDefault(catalog.Registry{}), "networking mode or CNI provider to install")
	f.StringVar(&o.platform, "platform", "kind", "where the cluster runs: kind")
	f.StringVar(&o.nodeImage, "node-image", "", "kind node image (make builds netconform/node:<version>-<hash>)")
	f.IntVar(&o.nodes, "nodes", 3, "number of nodes: one control plane, the rest workers")
	f.StringVar(&o.kubeletConfig, "kubelet-config", "", "YAML fields added to every kind node's KubeletConfiguration, e.g. 'maxPods: 50'")
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
	f.StringArrayVar(&o.providerOptions, "provider-option", nil, "provider setting as KEY=VALUE (repeatable; `netconform providers NAME` lists them)")
	f.BoolVar(&o.preflight, "preflight", false, "only check that the provider and its options can be installed here, then exit (0 yes, 2 no)")
	f.StringVar(&o.ipFamily, "ip-family", string(ipfamily.IPv4), "the cluster's IP family on kind: ipv4, ipv6 or dual (the provider must support it there)")
	o.addImageFlags(f)
	return cmd
}

// validate checks run's input before anything is created (see input.go).
func (o *runOptions) validate() error {
	if err := o.checkTimeouts(); err != nil {
		return err
	}
	if err := checkExternalTarget(o.externalTarget); err != nil {
		return err
	}
	if err := o.checkMatrixCell(); err != nil {
		return err
	}
	fam, err := ipfamily.Parse(o.ipFamily)
	if err != nil {
		return fmt.Errorf("--ip-family %s: want %s", o.ipFamily, ipfamily.Names())
	}
	o.family = fam
	target := providers.ForKind
	switch o.platform {
	case "kind":
		if o.dryRun {
			return errors.New("--dry-run applies to --platform aws only (on kind, run runs; --preflight checks the provider and its options without creating anything)")
		}
		if err := checkNodes(o.nodes, 1, needControlPlane); err != nil {
			return err
		}
		if err := checkKubeletConfig(o.kubeletConfig); err != nil {
			return err
		}
	case "aws":
		target = providers.ForKops
		if fam != ipfamily.IPv4 {
			return fmt.Errorf("--ip-family %s: AWS is IPv4 only in netconform (use --platform kind for %s)", fam, fam.Title())
		}
		if err := checkNodes(o.nodes, 2, needKopsWorker); err != nil {
			return err
		}
	default:
		return fmt.Errorf("--platform %s: want kind or aws", o.platform)
	}
	if err := o.checkImages(o.platform); err != nil {
		return err
	}
	if _, _, err := providerSettings(o.provider, target, o.providerOptions); err != nil {
		return err
	}
	if target == providers.ForKind {
		if err := checkKindIPFamily(o.provider, fam); err != nil {
			return err
		}
	}
	if _, err := keyValues("--provider-image", o.providerImages); err != nil {
		return err
	}
	return o.selectChecks()
}

func runRun(ctx context.Context, o *runOptions, out io.Writer) error {
	now := time.Now()
	o.complete(now)
	if o.platform == "aws" {
		o.aws.provider, o.aws.runID, o.aws.artifacts, o.aws.nodes = o.provider, o.runID, o.artifacts, o.nodes
		// --route-quota is run's own (the routes suite's), and the plan's too.
		o.aws.providerOptions, o.aws.routeQuota = o.providerOptions, o.routeQuota
		if o.dryRun {
			if err := awsDryRun(out, o.aws); err != nil {
				return &exitError{code: exitCouldNotRun, err: err}
			}
			return nil
		}
	}
	if o.nodes < 1 {
		return &exitError{code: exitCouldNotRun, err: fmt.Errorf("--nodes %d: need at least 1", o.nodes)}
	}
	providerOpts, err := keyValues("--provider-option", o.providerOptions)
	if err != nil {
		return &exitError{code: exitCouldNotRun, err: err}
	}
	redactSecretOptions(o.red, o.provider, providerOpts)
	images, err := keyValues("--provider-image", o.providerImages)
	if err != nil {
		return &exitError{code: exitCouldNotRun, err: err}
	}
	base := results.Result{RunID: o.runID, Provider: o.provider, Networking: kopsNetworking(o.provider), ProviderOptions: providerOpts, Platform: o.platform, NodeImage: o.nodeImage, Started: now, Cell: o.cell}
	if o.platform != "aws" {
		base.IPFamily = string(o.family)
	}
	run := &lifecycle.Run{
		Redactor: o.red, Out: out, Artifacts: o.artifacts, Timeouts: o.timeouts(),
		AgentsNamespace: o.namespace, CollectAlways: o.collect, Keep: o.keep,
	}
	suitesScenario := o.suites(o.platform)
	switch o.platform {
	case "aws":
		if o.preflight {
			return &exitError{code: exitCouldNotRun, err: errors.New("--preflight applies to --platform kind (aws: --dry-run prints the plan)")}
		}
		if o.probeImage == "" {
			return &exitError{code: exitCouldNotRun, err: errors.New("--probe-image is required: a reference the cluster's nodes can pull")}
		}
		kopsValue, err := o.awsRun(run, suitesScenario, out)
		if err != nil {
			return &exitError{code: exitCouldNotRun, err: err}
		}
		base.Networking, base.NodeImage = kopsValue, ""
	default:
		installer, healthy, err := lookupInstaller(o.provider, o.mtu, providerOpts)
		var plan imagePlan
		if err == nil {
			// Where the images come from (--images): upstream ones must be pullable now, and
			// those netconform does not build (weave, kopeio, kindnet) here or pullable, else the
			// run ends before a cluster exists.
			plan, err = o.plan(ctx, images, o.timeouts(), out, runProvider{o.provider, installer})
			base.Images = plan.source
		}
		if err != nil {
			if !o.preflight {
				if werr := lifecycle.WriteRefusal(o.artifacts, base, err, o.red); werr != nil {
					fmt.Fprintln(os.Stderr, "netconform: could not write result:", werr)
				}
			}
			return &exitError{code: exitCouldNotRun, err: err}
		}
		if o.preflight {
			fmt.Fprintf(out, "provider %s can be installed on %s (IP family %s)\n", o.provider, o.platform, o.family)
			return nil
		}
		if o.nodeImage == "" || o.probeImage == "" {
			return &exitError{code: exitCouldNotRun, err: errors.New("--node-image and --probe-image are required (make e2e builds both: scripts/node-image.sh, scripts/probe-image.sh)")}
		}
		kopts := append([]kind.Option{kind.WithNodeImage(o.nodeImage), kind.WithWorkers(o.nodes - 1), kind.WithIPFamily(o.family), kind.WithOutput(out)}, plan.kindOptions()...)
		if o.kubeletConfig != "" {
			kopts = append(kopts, kind.WithKubeletConfig(o.kubeletConfig))
		}
		k := kind.New(o.runID, o.artifacts, kopts...)
		run.Platform, run.Nodes = k, o.nodes
		run.KeepHint = "netconform delete --name " + k.ClusterName()
		run.Images = append(lifecycle.ImagesToLoad(o.probeImage, plan.refs), plan.load...)
		run.Install = func(ctx context.Context, env *lifecycle.Env) error {
			return installer.Install(ctx, providers.Cluster{Client: env.Client, Nodes: env.Nodes, Images: env.Images, PodSubnet: env.PodSubnet, PodSubnets: env.PodSubnets, ImageRefs: plan.refs, Out: out})
		}
		suitesScenario.Healthy = healthy
		// The agent outside the cluster joins the cluster's docker network, as a machine next
		// to the nodes would be (--external-target, when given, is used instead).
		suitesScenario.ExternalNetwork = k.NetworkName()
		run.Scenarios = []lifecycle.Scenario{suitesScenario}
	}
	pre, err := phaseFlags(o.phases, now)
	if err != nil {
		return &exitError{code: exitCouldNotRun, err: err}
	}
	base.Phases = pre
	rec, err := newRecorder(o.artifacts, base, o.red)
	if err != nil {
		return &exitError{code: exitCouldNotRun, err: err}
	}
	run.Recorder = rec
	family := ""
	if o.family.Has(ipfamily.IPv6) {
		family = ", " + o.family.Title()
	}
	fmt.Fprintf(out, "netconform run %s: provider %s on %s, %d nodes%s, artifacts %s\n", o.runID, o.provider, o.platform, o.nodes, family, o.artifacts)
	return finish(rec, run.Execute(ctx), out, o.red)
}

// awsRun sets run up for a kops cluster on AWS: kops builds the cluster with the provider
// (netconform installs nothing), the suites run through the probe agents, then the EC2 checks
// ask the cloud; kops deletes the cluster at the end, also after an interrupt. It returns the
// --networking value kops is given, for the result.
func (o *runOptions) awsRun(run *lifecycle.Run, suitesScenario *lifecycle.Suites, out io.Writer) (string, error) {
	cfg, err := o.aws.config()
	if err != nil {
		return "", err
	}
	p, err := aws.New(cfg, aws.WithOutput(out))
	if err != nil {
		return "", err
	}
	run.Platform = p
	// kops' own bound for deleting cloud resources, longer than a kind cluster's.
	run.DeleteTimeout = cfg.Timeouts.Delete + time.Minute
	run.KeepHint = fmt.Sprintf("kops delete cluster --name %s --yes (then netconform cleanup --run-id %s)", p.ClusterName(), o.runID)
	// What netconform expects of a node under the provider: its kind installer's model where
	// it has one (the overheads are the provider's own), the generic one otherwise.
	settings, _, _ := providerSettings(o.provider, providers.ForKops, o.providerOptions)
	if _, h, err := lookupInstaller(o.provider, 0, settings); err == nil {
		suitesScenario.Healthy = h
	}
	suitesScenario.PullHint = "the nodes pull the probe image themselves on AWS: push it to a registry they reach and pass --probe-image with that reference"
	run.Scenarios = []lifecycle.Scenario{suitesScenario, &lifecycle.EC2Checks{
		ClusterName: p.ClusterName(), Networking: p.Networking(), AWS: awsclient.Config{Region: o.aws.region, Endpoint: o.aws.endpoint},
		Timeout: o.timeouts().Suites,
	}}
	return p.Networking().KopsValue, nil
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

// checkKubeletConfig accepts --kubelet-config when it is YAML fields (a mapping), without the kind
// and apiVersion that netconform writes itself.
func checkKubeletConfig(fields string) error {
	if fields == "" {
		return nil
	}
	var m map[string]any
	if err := yaml.Unmarshal([]byte(fields), &m); err != nil || len(m) == 0 {
		return fmt.Errorf("--kubelet-config %q: want KubeletConfiguration fields as YAML, e.g. 'maxPods: 50'", fields)
	}
	for _, k := range []string{"kind", "apiVersion"} {
		if _, ok := m[k]; ok {
			return fmt.Errorf("--kubelet-config: leave out %s (netconform patches the KubeletConfiguration kind writes)", k)
		}
	}
	return nil
}
