package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/netconform/netconform/framework/agents"
	"github.com/netconform/netconform/framework/kube"
	"github.com/netconform/netconform/framework/results"
	"github.com/netconform/netconform/providers"
	"github.com/netconform/netconform/reports"
	"github.com/netconform/netconform/suites"
)

// verifyOptions are the flags shared by run and check.
type verifyOptions struct {
	artifacts   string
	runID       string
	provider    string
	probeImage  string
	namespace   string
	labelFilter string
	verbose     bool
	concurrency int
	podSubnet   string
	mtu         int
	routeQuota  int
}

func (o *verifyOptions) addFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&o.artifacts, "artifacts", "", "directory for reports (default $ARTIFACTS or _artifacts/<run-id>)")
	f.StringVar(&o.runID, "run-id", "", "identifier of this run (default nc-<date>-<time>)")
	f.StringVar(&o.probeImage, "probe-image", "", "probe agent image (make builds netconform/probe:<hash>)")
	f.StringVar(&o.namespace, "namespace", agents.DefaultNamespace, "namespace for the probe agents")
	f.StringVar(&o.labelFilter, "label-filter", "", "ginkgo label filter selecting checks, e.g. 'dns || connectivity'")
	f.BoolVarP(&o.verbose, "verbose", "v", false, "print every spec as it runs")
	f.IntVar(&o.concurrency, "probe-concurrency", 8, "probes in flight at once")
	f.StringVar(&o.podSubnet, "pod-subnet", "", "cluster pod CIDR (default: the platform's, or kube-proxy's clusterCIDR)")
	f.IntVar(&o.mtu, "mtu", 0, "MTU configured for the provider (default: derived from the underlay minus the encapsulation overhead)")
	f.IntVar(&o.routeQuota, "route-quota", suites.DefaultRouteQuota, "routes-per-route-table quota the cluster's routes are counted against")
}

// complete fills defaults that depend on the time and the environment.
func (o *verifyOptions) complete(now time.Time) {
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

// parseAssignments accepts make-style arguments (PROVIDER=weave) after the flags.
func parseAssignments(args []string, set map[string]*string) error {
	for _, a := range args {
		k, v, ok := strings.Cut(a, "=")
		if !ok {
			return fmt.Errorf("unexpected argument %q: use flags, or KEY=VALUE with one of %s", a, keysOf(set))
		}
		p, known := set[strings.ToUpper(k)]
		if !known {
			return fmt.Errorf("unknown setting %q: use one of %s", k, keysOf(set))
		}
		*p = v
	}
	return nil
}

func keysOf(m map[string]*string) string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return strings.Join(ks, ", ")
}

// verify deploys the probe agents and runs the suites, recording everything.
func verify(ctx context.Context, o *verifyOptions, c *kube.Client, rec *results.Recorder, healthy providers.Healthy, platformName string, install *suites.InstallObservations) (bool, error) {
	var fleet *agents.Fleet
	err := rec.Phase("probe agents ready", func() error {
		var err error
		fleet, err = agents.Deploy(ctx, c, o.namespace, o.probeImage)
		if err != nil && fleet == nil {
			return err
		}
		return describeFleet(fleet)
	})
	if fleet == nil {
		return false, fmt.Errorf("probe agents: %w", err)
	}
	var passed bool
	err = rec.Phase("suites", func() error {
		var err error
		passed, err = suites.Run(ctx, &suites.Env{
			Client: c, Fleet: fleet, Provider: o.provider, Platform: platformName, Healthy: healthy,
			Recorder: rec, Install: install, ProbeConcurrency: o.concurrency,
			PodSubnet: o.podSubnet, ConfiguredMTU: o.mtu, RouteQuota: o.routeQuota,
		}, suites.Config{LabelFilter: o.labelFilter, ReportDir: o.artifacts, Verbose: o.verbose})
		if err == nil && !passed {
			return results.ErrChecksFailed
		}
		return err
	})
	if errors.Is(err, results.ErrChecksFailed) {
		err = nil
	}
	return passed, err
}

// describeFleet turns agents that are not Ready into one error (the suites still run and name
// the affected pairs).
func describeFleet(f *agents.Fleet) error {
	var bad []string
	for role, byNode := range f.Agents {
		for node, a := range byNode {
			if !a.Ready {
				bad = append(bad, fmt.Sprintf("%s on %s: %s", role, node, a.Why))
			}
		}
	}
	if len(f.Nodes()) == 0 {
		return errors.New("no probe agent was scheduled on any node")
	}
	if len(bad) > 0 {
		return fmt.Errorf("agents not Ready: %s", strings.Join(bad, "; "))
	}
	return nil
}

// finish completes the result, writes the Markdown summary next to it, prints it, and turns
// the outcome into an exit code.
func finish(rec *results.Recorder, runErr error, out io.Writer) error {
	if err := rec.Finish(runErr); err != nil {
		fmt.Fprintln(os.Stderr, "netconform: could not write result:", err)
	}
	r := rec.Snapshot()
	summary := filepath.Join(filepath.Dir(rec.Path()), "summary.md")
	if f, err := os.Create(summary); err == nil {
		_ = reports.Markdown(f, &r)
		f.Close()
	}
	fmt.Fprintln(out)
	_ = reports.Markdown(out, &r)
	fmt.Fprintf(out, "\nresult: %s\nsummary: %s\n", rec.Path(), summary)
	if runErr != nil {
		return &exitError{code: exitCouldNotRun, err: runErr}
	}
	if r.Failed() {
		_, failed, _ := r.Counts()
		return &exitError{code: exitChecksFail, err: fmt.Errorf("%d check(s) failed: %s", failed, failedIDs(&r))}
	}
	return nil
}

func failedIDs(r *results.Result) string {
	var ids []string
	for _, c := range r.Checks {
		if c.Status == results.Failed {
			ids = append(ids, c.ID)
		}
	}
	return strings.Join(ids, ", ")
}

// phaseFlags parses --phase name=seconds values measured before netconform started.
func phaseFlags(values []string, now time.Time) ([]results.Phase, error) {
	var out []results.Phase
	for _, v := range values {
		name, secs, ok := strings.Cut(v, "=")
		s, err := strconv.ParseFloat(secs, 64)
		if !ok || err != nil || s < 0 {
			return nil, fmt.Errorf("--phase %q: want NAME=SECONDS", v)
		}
		d := time.Duration(s * float64(time.Second))
		out = append(out, results.Phase{Name: name, Status: results.Passed, Started: now.Add(-d), DurationMS: d.Milliseconds()})
	}
	return out, nil
}
