package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/netconform/netconform/framework/agents"
	"github.com/netconform/netconform/framework/aws/awsclient"
	"github.com/netconform/netconform/framework/aws/ec2check"
	"github.com/netconform/netconform/framework/kube"
	"github.com/netconform/netconform/framework/lifecycle"
	"github.com/netconform/netconform/framework/lint"
	"github.com/netconform/netconform/framework/platform/aws"
	"github.com/netconform/netconform/framework/redact"
	"github.com/netconform/netconform/providers"
	"github.com/netconform/netconform/providers/catalog"
)

// awsOptions are the AWS platform's settings, parsed once from flags. provider, runID,
// artifacts and nodes belong to whichever command embeds them (run, aws plan); addFlags
// registers only the AWS-specific flags.
type awsOptions struct {
	provider  string
	runID     string
	artifacts string
	nodes     int // all nodes, control plane included, as run counts them

	kops              string
	state             string
	clusterName       string
	zones             []string
	nodeSize          string
	controlPlaneSize  string
	topology          string
	kubernetesVersion string
	validateWait      time.Duration
	providerOptions   []string
	region            string
	endpoint          string
	// routeQuota and existingRoutes size the route table of a plan whose mode relies on VPC
	// routes (lint's NC002 figures).
	routeQuota     int
	existingRoutes int
}

// placeholderState stands in for a state store in plans printed without one.
const placeholderState = "s3://YOUR-KOPS-STATE-BUCKET"

func (o *awsOptions) addFlags(f *pflag.FlagSet) {
	f.StringVar(&o.kops, "kops", "", "kops binary (aws; default: kops on PATH)")
	f.StringVar(&o.state, "state", "", "kops state store (aws; default $KOPS_STATE_STORE)")
	f.StringVar(&o.clusterName, "cluster-name", "", "kops cluster name (aws; default <run-id>.k8s.local, gossip DNS)")
	f.StringSliceVar(&o.zones, "zones", []string{aws.DefaultZone}, "availability zones for the nodes; the control plane uses the first (aws)")
	f.StringVar(&o.nodeSize, "node-size", aws.DefaultSize, "EC2 instance type of the nodes (aws)")
	f.StringVar(&o.controlPlaneSize, "control-plane-size", aws.DefaultSize, "EC2 instance type of the control plane (aws)")
	f.StringVar(&o.topology, "topology", "public", "kops topology: public or private (aws)")
	f.StringVar(&o.kubernetesVersion, "kubernetes-version", "", "Kubernetes version for kops (aws; default: kops' channel)")
	f.DurationVar(&o.validateWait, "validate-wait", aws.DefaultTimeouts().Validate, "how long kops validate cluster waits (aws)")
	f.StringArrayVar(&o.providerOptions, "provider-option", nil, "provider setting KEY=VALUE for spec.networking.<provider> (aws; repeatable)")
	f.StringVar(&o.region, "aws-region", "", "AWS region for the EC2 checks (default: the SDK chain, AWS_REGION)")
	f.StringVar(&o.endpoint, "aws-endpoint", "", "EC2 and Service Quotas endpoint (a local stand-in; default: AWS)")
}

// addPlanFlags registers the flags that size a plan's node-route table (aws check reads
// the quota and the table from AWS instead).
func (o *awsOptions) addPlanFlags(f *pflag.FlagSet) {
	f.IntVar(&o.routeQuota, "route-quota", lint.DefaultRouteQuota, "routes-per-route-table quota a plan's node routes are counted against (aws; modes that rely on VPC routes)")
	f.IntVar(&o.existingRoutes, "existing-routes", lint.DefaultExistingRoutes, "routes a node-route table holds besides node routes (aws; local + internet gateway)")
}

// config turns the flags into the platform's configuration. The provider options are typed
// and checked by the provider's option schema for kops (the one run, switch and lint use).
func (o awsOptions) config() (aws.Config, error) {
	_, opts, err := providerSettings(o.provider, providers.ForKops, o.providerOptions)
	if err != nil {
		return aws.Config{}, err
	}
	if err := checkNodes(o.nodes, 2, needKopsWorker); err != nil {
		return aws.Config{}, err
	}
	t := aws.DefaultTimeouts()
	if o.validateWait > 0 {
		t.Validate = o.validateWait
	}
	return aws.Config{
		Providers: catalog.Registry{}, Provider: o.provider, Options: opts, RunID: o.runID, ArtifactsDir: o.artifacts, ClusterName: o.clusterName,
		Kops: o.kops, StateStore: o.state, Zones: o.zones, NodeCount: o.nodes - 1, NodeSize: o.nodeSize,
		ControlPlaneSize: o.controlPlaneSize, Topology: o.topology, KubernetesVersion: o.kubernetesVersion, Timeouts: t,
		RouteQuota: o.routeQuota, ExistingRoutes: o.existingRoutes,
	}, nil
}

// complete fills the run id and artifacts directory the way run does.
func (o *awsOptions) complete(now time.Time) {
	if o.runID == "" {
		o.runID = "nc-" + now.UTC().Format("20060102-150405")
	}
	if o.artifacts == "" {
		if a := os.Getenv("ARTIFACTS"); a != "" {
			o.artifacts = a
		} else {
			o.artifacts = filepath.Join("_artifacts", o.runID)
		}
	}
}

// awsDryRun prints the kops plan for the options without running anything.
//
// The run command delegates to it for `netconform run --platform aws --dry-run PROVIDER=x`:
//
//	if o.platform == "aws" && o.dryRun {
//		o.aws.provider, o.aws.runID, o.aws.artifacts, o.aws.nodes = o.provider, o.runID, o.artifacts, o.nodes
//		return awsDryRun(out, o.aws)
//	}
//
// with o.aws an awsOptions whose addFlags was called on run's flag set.
func awsDryRun(w io.Writer, o awsOptions) error {
	o.complete(time.Now())
	note := ""
	if o.state == "" && os.Getenv("KOPS_STATE_STORE") == "" {
		o.state = placeholderState
		note = fmt.Sprintf("# note: no --state and no KOPS_STATE_STORE: %s stands in for your kops state store\n", placeholderState)
	}
	cfg, err := o.config()
	if err != nil {
		return &exitError{code: exitCouldNotRun, err: err}
	}
	p, err := aws.New(cfg)
	if err != nil {
		return &exitError{code: exitCouldNotRun, err: err}
	}
	return writePlan(w, o.provider, o.providerOptions, func(b io.Writer) error {
		if _, err := io.WriteString(b, note); err != nil {
			return err
		}
		return p.Plan().Write(b)
	})
}

// writePlan writes what write renders with every secret masked: the values of the provider's
// secret options and AWS credentials in the environment. The platform already keeps secret
// options out of plans; this is the last line of defence for anything that slips through
// (lint rule NC014 says secrets have no place in a spec, and so none in a plan).
func writePlan(w io.Writer, provider string, kv []string, write func(io.Writer) error) error {
	red := redact.New()
	red.AddEnvironment()
	opts, _ := keyValues("--provider-option", kv)
	redactSecretOptions(red, provider, opts)
	var b bytes.Buffer
	if err := write(&b); err != nil {
		return err
	}
	if _, err := w.Write(red.Bytes(b.Bytes())); err != nil {
		return fmt.Errorf("writing the plan: %w", err)
	}
	return nil
}

func newAWSCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "aws",
		Short: "The AWS platform: kops plans and EC2 checks",
		Long: `The AWS platform builds clusters with kops (create cluster, spec merge, update, validate,
export kubecfg, delete) and checks what the networking mode needs from EC2: VPC routes and the
routes-per-route-table quota (modes that rely on VPC routes), source/destination checks,
interface MTUs, and pod capacity of instance types (modes that give pods interface addresses).`,
	}
	cmd.AddCommand(newAWSPlanCmd(), newAWSCheckCmd())
	return cmd
}

func newAWSPlanCmd() *cobra.Command {
	o := awsOptions{}
	cmd := &cobra.Command{
		Use:   "plan [PROVIDER=name] [NODES=n]",
		Short: "Print the kops commands and the cluster spec settings for a provider, without running them",
		Args:  cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := setAssignments(cmd, args, map[string]string{"PROVIDER": "provider", "NODES": "nodes"}); err != nil {
				return badInput(err)
			}
			if _, err := o.config(); err != nil {
				return badInput(err)
			}
			return awsDryRun(cmd.OutOrStdout(), o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.provider, "provider", providers.KindDefault(registry()), "networking provider")
	f.StringVar(&o.runID, "run-id", "", "run id (default nc-<date>-<time>); tags every resource")
	f.StringVar(&o.artifacts, "artifacts", "", "artifacts directory (default $ARTIFACTS or _artifacts/<run-id>)")
	f.IntVar(&o.nodes, "nodes", 3, "number of nodes: one control plane, the rest workers")
	o.addFlags(f)
	o.addPlanFlags(f)
	return cmd
}

// awsCheckOptions are aws check's flags.
type awsCheckOptions struct {
	awsOptions
	kubeconfig  string
	namespace   string
	minHeadroom int
	output      string
	timeout     time.Duration
}

func newAWSCheckCmd() *cobra.Command {
	o := awsCheckOptions{}
	cmd := &cobra.Command{
		Use:   "check --kubeconfig FILE --provider NAME",
		Short: "Check an existing kops cluster's EC2 side: routes and quota, source/destination checks, MTUs, max pods",
		Long: `check lists the nodes through the Kubernetes API (spec.providerID, spec.podCIDR,
capacity pods), reads their instances, interfaces, route tables and the Routes per route table
quota through EC2 and Service Quotas, and reports each check with expected and observed values.
Interface MTUs come from netconform's host probe agents when they run in --namespace (EC2's API
does not report MTUs); without them the MTU checks are skipped.

Exit codes: 0 all checks passed, 1 a check failed, 2 netconform could not run.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runAWSCheck(cmd.Context(), o, cmd.OutOrStdout())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.kubeconfig, "kubeconfig", "", "kubeconfig of the cluster (kops export kubecfg --admin)")
	f.StringVar(&o.provider, "provider", providers.KindDefault(registry()), "networking provider the cluster runs")
	f.StringVar(&o.namespace, "namespace", agents.DefaultNamespace, "namespace of netconform's probe agents (for node MTUs)")
	f.IntVar(&o.minHeadroom, "route-headroom", 0, "fail the route quota check when fewer nodes than this can still join")
	f.StringVarP(&o.output, "output", "o", "text", "text or json")
	f.DurationVar(&o.timeout, "timeout", 10*time.Minute, "bound on all the checks")
	o.addFlags(f)
	return cmd
}

func runAWSCheck(ctx context.Context, o awsCheckOptions, out io.Writer) error {
	if o.kubeconfig == "" {
		return &exitError{code: exitCouldNotRun, err: errors.New("--kubeconfig is required")}
	}
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	// Not o.config(): the cluster exists, so there is no size to plan.
	_, opts, err := providerSettings(o.provider, providers.ForKops, o.providerOptions)
	if err != nil {
		return &exitError{code: exitCouldNotRun, err: err}
	}
	n, err := aws.LookupNetworking(catalog.Registry{}, o.provider)
	if err != nil {
		return &exitError{code: exitCouldNotRun, err: err}
	}
	name := o.clusterName
	if name == "" {
		raw, err := clientcmd.LoadFromFile(o.kubeconfig)
		if err != nil {
			return &exitError{code: exitCouldNotRun, err: fmt.Errorf("read kubeconfig: %w", err)}
		}
		name = raw.CurrentContext // kops export kubecfg names the context after the cluster
	}
	c, err := kube.NewClient(ctx, o.kubeconfig, kube.DefaultTimeouts())
	if err != nil {
		return &exitError{code: exitCouldNotRun, err: err}
	}
	var fleet *agents.Fleet
	f, err := agents.Discover(ctx, c, o.namespace)
	switch {
	case err != nil:
		fmt.Fprintf(out, "note: no probe agents in %s (%v): interface MTUs cannot be read, MTU checks skipped\n", o.namespace, err)
	case len(f.Agents[agents.Host]) == 0:
		fmt.Fprintf(out, "note: no host probe agents in %s: interface MTUs cannot be read, MTU checks skipped\n", o.namespace)
	default:
		fleet = f
	}
	rs, err := lifecycle.AWSChecks(ctx, c, fleet, name, n.WithOptions(opts, 0), awsclient.Config{Region: o.region, Endpoint: o.endpoint}, o.minHeadroom)
	if err != nil {
		return &exitError{code: exitCouldNotRun, err: err}
	}
	if err := writeCheckResults(out, rs, o.output); err != nil {
		return &exitError{code: exitCouldNotRun, err: err}
	}
	if f := ec2check.Failed(rs); len(f) > 0 {
		return &exitError{code: exitChecksFail, err: fmt.Errorf("%d EC2 checks failed", len(f))}
	}
	return nil
}

// writeCheckResults prints results as text lines with a summary, or as JSON.
func writeCheckResults(w io.Writer, rs []ec2check.Result, format string) error {
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(rs)
	case "text", "":
	default:
		return fmt.Errorf("output %q: want text or json", format)
	}
	count := map[ec2check.Status]int{}
	for _, r := range rs {
		count[r.Status]++
		if _, err := fmt.Fprintln(w, r.String()); err != nil {
			return err
		}
	}
	_, err := fmt.Fprintf(w, "%d passed, %d failed, %d skipped\n", count[ec2check.Pass], count[ec2check.Fail], count[ec2check.Skip])
	return err
}
