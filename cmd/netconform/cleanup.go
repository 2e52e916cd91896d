package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/netconform/netconform/framework/aws/awsclient"
	"github.com/netconform/netconform/framework/aws/kops"
	"github.com/netconform/netconform/framework/aws/sweep"
	"github.com/netconform/netconform/framework/platform/aws"
)

// cleanupOptions are netconform cleanup's flags.
type cleanupOptions struct {
	platform string
	runID    string
	kops     string
	state    string
	region   string
	endpoint string
	dryRun   bool
	timeout  time.Duration
}

func newCleanupCmd() *cobra.Command {
	o := cleanupOptions{}
	cmd := &cobra.Command{
		Use:   "cleanup --platform aws [--run-id ID]",
		Short: "Find and delete what netconform runs left behind in the cloud, by their run-id tag",
		Long: `cleanup lists the EC2 resources tagged netconform.io/run-id (with --run-id, only that run's),
deletes their kops clusters with kops delete cluster --yes (the clusters are named by the
resources' KubernetesCluster tag), then deletes what is still there directly through EC2, in
dependency order: instances, detached network interfaces, route tables, internet gateways,
subnets, VPCs. Resources of other kinds (load balancers, volumes, security groups, IAM, DNS, the
state store) are left to kops delete cluster.

Exit codes: 0 nothing is left, 1 resources remain, 2 cleanup could not run.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runCleanup(cmd.Context(), o, cmd.OutOrStdout())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.platform, "platform", "", "platform to clean up: aws (kind clusters: netconform delete)")
	f.StringVar(&o.runID, "run-id", "", "only this run's resources (default: every netconform run's)")
	f.StringVar(&o.kops, "kops", "", "kops binary (default: kops on PATH)")
	f.StringVar(&o.state, "state", "", "kops state store (default $KOPS_STATE_STORE)")
	f.StringVar(&o.region, "aws-region", "", "AWS region (default: the SDK chain, AWS_REGION)")
	f.StringVar(&o.endpoint, "aws-endpoint", "", "EC2 endpoint (a local stand-in; default: AWS)")
	f.BoolVar(&o.dryRun, "dry-run", false, "list what would be deleted, delete nothing")
	f.DurationVar(&o.timeout, "timeout", 45*time.Minute, "bound on the whole cleanup")
	return cmd
}

func runCleanup(ctx context.Context, o cleanupOptions, out io.Writer) error {
	if o.platform != "aws" {
		return &exitError{code: exitCouldNotRun, err: fmt.Errorf("--platform %q: cleanup knows aws (kind clusters go with netconform delete)", o.platform)}
	}
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	clients, err := awsclient.New(ctx, awsclient.Config{Region: o.region, Endpoint: o.endpoint})
	if err != nil {
		return &exitError{code: exitCouldNotRun, err: err}
	}
	sel := sweep.Selector{TagKey: aws.RunIDTag, RunID: o.runID}
	what := "every netconform run"
	if o.runID != "" {
		what = "run " + o.runID
	}
	found, err := sweep.Find(ctx, clients.EC2, sel)
	if err != nil {
		return &exitError{code: exitCouldNotRun, err: err}
	}
	fmt.Fprintf(out, "%d resources tagged for %s\n", len(found), what)
	printResources(out, found)
	if o.dryRun || len(found) == 0 {
		return nil
	}
	// First kops, which knows everything a cluster is made of.
	cli := &kops.CLI{Bin: o.kops, State: o.state}
	for _, name := range sweep.Clusters(found) {
		fmt.Fprintf(out, "kops delete cluster %s\n", name)
		_, err := cli.Run(ctx, aws.DefaultTimeouts().Delete, "delete", "cluster", "--name", name, "--yes")
		switch {
		case err == nil:
		case kops.IsNotFound(err):
			fmt.Fprintf(out, "  kops has no cluster %s in its state store; sweeping its EC2 resources directly\n", name)
		default:
			fmt.Fprintf(out, "  kops delete failed, sweeping its EC2 resources directly: %s\n", firstLine(err))
		}
	}
	// Then whatever is still tagged.
	rest, err := sweep.Find(ctx, clients.EC2, sel)
	if err != nil {
		return &exitError{code: exitCouldNotRun, err: err}
	}
	if len(rest) > 0 {
		done, derr := sweep.Delete(ctx, clients.EC2, rest)
		fmt.Fprintf(out, "swept %d resources through EC2\n", len(done))
		printResources(out, done)
		if derr != nil {
			fmt.Fprintf(out, "sweep errors:\n  %s\n", strings.ReplaceAll(derr.Error(), "\n", "\n  "))
		}
	}
	left, err := sweep.Find(ctx, clients.EC2, sel)
	if err != nil {
		return &exitError{code: exitCouldNotRun, err: err}
	}
	if len(left) > 0 {
		fmt.Fprintf(out, "%d resources remain:\n", len(left))
		printResources(out, left)
		return &exitError{code: exitChecksFail, err: fmt.Errorf("%d resources of %s remain", len(left), what)}
	}
	fmt.Fprintf(out, "nothing tagged for %s is left\n", what)
	return nil
}

func printResources(w io.Writer, rs []sweep.Resource) {
	for _, r := range rs {
		fmt.Fprintf(w, "  %-17s %-22s run %s", r.Kind, r.ID, r.RunID)
		if r.Cluster != "" {
			fmt.Fprintf(w, " cluster %s", r.Cluster)
		}
		fmt.Fprintln(w)
	}
}

// firstLine is an error's first line (kops errors carry the whole output after it).
func firstLine(err error) string {
	var re *kops.RunError
	if errors.As(err, &re) {
		out := strings.TrimSpace(string(re.Output))
		if i := strings.LastIndex(out, "\n"); i >= 0 {
			out = out[i+1:]
		}
		return fmt.Sprintf("%v: %s", re.Err, out)
	}
	s := err.Error()
	if i := strings.Index(s, "\n"); i >= 0 {
		s = s[:i]
	}
	return s
}
