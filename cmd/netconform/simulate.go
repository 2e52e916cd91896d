package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/netconform/netconform/framework/aws/routesim"
)

func newSimulateCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "simulate",
		Short: "Simulations on netconform's own models of cloud behaviour (no cloud account needed)",
	}
	cmd.AddCommand(newSimulateRoutesCmd())
	return cmd
}

// simulateRoutesOptions are simulate routes' flags.
type simulateRoutesOptions struct {
	nodes           string
	quotas          []int
	otherRoutes     int
	reconcilePeriod time.Duration
	output          string
	timeout         time.Duration
}

func newSimulateRoutesCmd() *cobra.Command {
	o := simulateRoutesOptions{}
	cmd := &cobra.Command{
		Use:   "routes --nodes 1..600 --quota 50,500",
		Short: "Where the routes-per-route-table quota stops a cluster that relies on VPC routes on AWS, and what it costs",
		Long: `simulate routes builds, on an in-memory model of EC2 route tables (one per quota), a kops-like
VPC whose route table holds --other-routes routes of its own (kops' public topology: the default
route to the internet gateway), and drives it with the EC2 API calls Kubernetes' route controller
makes for a mode with one VPC route per node: nodes join one at a time, each join lists the table and creates the node's
route (one route per node pod CIDR, to the node's instance); a final reconcile retries the nodes
left without a route. The model enforces the quota with EC2's error, RouteLimitExceeded, and is
tested to agree with netconform's wire-level EC2 stand-in.

It reports, per quota, the first node left without a route, the controller's API calls and the
time taken (model time, not AWS latency), and the failing calls the controller keeps making every
reconcile period afterwards.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runSimulateRoutes(cmd.Context(), o, cmd.OutOrStdout())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.nodes, "nodes", "1..600", "nodes joining, FIRST..LAST (or N for 1..N)")
	f.IntSliceVar(&o.quotas, "quota", []int{50, 500}, "Routes per route table quota values to simulate")
	f.IntVar(&o.otherRoutes, "other-routes", 1, "routes the table holds besides node routes (they count against the quota)")
	f.DurationVar(&o.reconcilePeriod, "reconcile-period", 10*time.Second, "the route controller's period (--route-reconciliation-period)")
	f.StringVarP(&o.output, "output", "o", "text", "text or json")
	f.DurationVar(&o.timeout, "timeout", 10*time.Minute, "bound on the whole simulation")
	return cmd
}

// parseRange reads FIRST..LAST or N.
func parseRange(s string) (first, last int, err error) {
	a, b, isRange := strings.Cut(s, "..")
	if !isRange {
		a, b = "1", s
	}
	first, err1 := strconv.Atoi(strings.TrimSpace(a))
	last, err2 := strconv.Atoi(strings.TrimSpace(b))
	if err1 != nil || err2 != nil || first < 1 || last < first {
		return 0, 0, fmt.Errorf("--nodes %q: want FIRST..LAST with 1 <= FIRST <= LAST, or N", s)
	}
	return first, last, nil
}

func runSimulateRoutes(ctx context.Context, o simulateRoutesOptions, out io.Writer) error {
	first, last, err := parseRange(o.nodes)
	if err != nil {
		return &exitError{code: exitCouldNotRun, err: err}
	}
	if len(o.quotas) == 0 {
		return &exitError{code: exitCouldNotRun, err: fmt.Errorf("--quota: give at least one value")}
	}
	for _, q := range o.quotas {
		if q < 1 {
			return &exitError{code: exitCouldNotRun, err: fmt.Errorf("--quota %d: must be at least 1", q)}
		}
	}
	if o.output != "text" && o.output != "json" {
		return &exitError{code: exitCouldNotRun, err: fmt.Errorf("--output %q: want text or json", o.output)}
	}
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	var results []routesim.Result
	for _, q := range o.quotas {
		r, err := simulateOne(ctx, q, routesim.Config{FirstNode: first, LastNode: last, OtherRoutes: o.otherRoutes, ReconcilePeriod: o.reconcilePeriod})
		if err != nil {
			return &exitError{code: exitCouldNotRun, err: err}
		}
		results = append(results, r)
	}
	if o.output == "json" {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(results); err != nil {
			return &exitError{code: exitCouldNotRun, err: err}
		}
		return nil
	}
	if err := writeRouteSimulation(out, o, first, last, results); err != nil {
		return &exitError{code: exitCouldNotRun, err: err}
	}
	return nil
}

// simulateOne runs one quota on routesim's own route model (no EC2 endpoint; the model agrees
// with the EC2 stand-in, tested in routesim).
func simulateOne(ctx context.Context, quota int, cfg routesim.Config) (routesim.Result, error) {
	return routesim.Run(ctx, routesim.NewModel(quota), cfg, quota)
}

func writeRouteSimulation(w io.Writer, o simulateRoutesOptions, first, last int, results []routesim.Result) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s route controller on netconform's route table model: one route table with %d route(s) of its own, nodes 1..%d joining one at a time", routedMode(), o.otherRoutes, last)
	if first > 1 {
		fmt.Fprintf(&b, " (nodes %d..%d reported)", first, last)
	}
	b.WriteString("\n\n")
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "QUOTA\tROUTED\tFIRST WITHOUT ROUTE\tWITHOUT ROUTE (IN RANGE)\tCONTROLLER CALLS (TO LIMIT)\tRouteLimitExceeded\tTIME (TO LIMIT)")
	for _, r := range results {
		firstNo, toLimit, timeToLimit := "none", "-", "-"
		if r.FirstUnrouted > 0 {
			firstNo = fmt.Sprintf("node %d", r.FirstUnrouted)
			toLimit = strconv.Itoa(r.CallsUntilLimit)
			timeToLimit = r.ElapsedUntilLimit.Round(time.Millisecond).String()
		}
		calls := 0
		for _, v := range r.Calls {
			calls += v
		}
		fmt.Fprintf(tw, "%d\t%d\t%s\t%d (%d)\t%d (%s)\t%d\t%s (%s)\n", r.Quota, r.Routed, firstNo, r.Unrouted, r.UnroutedInRange, calls, toLimit,
			r.RouteLimitErrors, r.Elapsed.Round(time.Millisecond), timeToLimit)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	b.WriteString("\n")
	for _, r := range results {
		if r.FirstUnrouted == 0 {
			fmt.Fprintf(&b, "quota %d: every node got its route; %d more fit.\n", r.Quota, r.Quota-r.OtherRoutes-r.Routed)
			continue
		}
		fmt.Fprintf(&b, "quota %d: the table's own %d route(s) leave %d node routes, so node %d is the first without one; %d nodes stay without a route, and the controller keeps retrying them: %d failing CreateRoute calls every %s (%.1f/s).\n",
			r.Quota, r.OtherRoutes, r.Quota-r.OtherRoutes, r.FirstUnrouted, r.Unrouted, r.Unrouted, o.reconcilePeriod, r.SteadyRetryPerSecond)
	}
	b.WriteString(`
What a user sees on a node without a route:
  - kubectl describe node: condition NetworkUnavailable=True, reason NoRouteCreated,
    "RouteController failed to create a route", and the taint
    node.kubernetes.io/network-unavailable:NoSchedule, so ordinary pods are not scheduled there
    while the node itself reports Ready;
  - node events FailedToCreateRoute, and kube-controller-manager logging
    "Could not create route ... RouteLimitExceeded";
  - pods that do run there (DaemonSets tolerate the taint) cannot be reached from other nodes:
    the VPC has no route to the node's pod CIDR;
  - the repeated failing CreateRoute calls count against the account's EC2 API rate limits, so
    other callers start seeing RequestLimitExceeded.
Times are measured on the model, not against AWS.
`)
	_, err := io.WriteString(w, b.String())
	return err
}

// routedMode names the mode the simulation stands for: the registry's provider that puts one
// route per node into a single route table (Requirements.SingleRouteTable).
func routedMode() string {
	for _, p := range registry().All() {
		if d := p.Descriptor(); d.Requirements.SingleRouteTable {
			return d.Name
		}
	}
	return "the"
}
