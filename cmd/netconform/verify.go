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
	"github.com/netconform/netconform/framework/diagnose"
	"github.com/netconform/netconform/framework/evidence"
	"github.com/netconform/netconform/framework/kube"
	"github.com/netconform/netconform/framework/platform"
	"github.com/netconform/netconform/framework/redact"
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
	// red keeps credentials (kubeconfig, AWS environment, secret provider options) out of
	// every output.
	red        *redact.Redactor
	podSubnet  string
	mtu        int
	routeQuota int
	collect    bool
	// timeoutScale multiplies every bound (--timeout-scale); bounds is the result, set by
	// checkTimeouts before anything starts.
	timeoutScale float64
	bounds       kube.Timeouts
}

func (o *verifyOptions) addFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&o.artifacts, "artifacts", "", "directory for reports (default $ARTIFACTS or _artifacts/<run-id>)")
	f.StringVar(&o.runID, "run-id", "", "identifier of this run (default nc-<date>-<time>)")
	// The default is the image this build's sources produce (see defaultProbeImage), for run,
	// check and switch alike.
	f.StringVar(&o.probeImage, "probe-image", defaultProbeImage, "probe agent image (scripts/probe-image.sh builds the default; empty when built without make)")
	f.StringVar(&o.namespace, "namespace", agents.DefaultNamespace, "namespace for the probe agents")
	f.StringVar(&o.labelFilter, "label-filter", "", "ginkgo label filter selecting checks, e.g. 'dns || connectivity'")
	f.BoolVarP(&o.verbose, "verbose", "v", false, "print every spec as it runs")
	f.IntVar(&o.concurrency, "probe-concurrency", 8, "probes in flight at once")
	f.StringVar(&o.podSubnet, "pod-subnet", "", "cluster pod CIDR (default: the platform's, or kube-proxy's clusterCIDR)")
	f.IntVar(&o.mtu, "mtu", 0, "MTU configured for the provider (default: derived from the underlay minus the encapsulation overhead)")
	f.IntVar(&o.routeQuota, "route-quota", suites.DefaultRouteQuota, "routes-per-route-table quota the cluster's routes are counted against")
	f.Float64Var(&o.timeoutScale, "timeout-scale", 1, "multiply the bound of every wait by this factor (e.g. 2 on a slow machine)")
	f.BoolVar(&o.collect, "collect", false, "collect the evidence bundle even when every check passes (it is always collected on failure)")
}

// checkTimeouts scales every bound by --timeout-scale, refusing a factor that makes no sense.
func (o *verifyOptions) checkTimeouts() error {
	t, err := kube.DefaultTimeouts().Scale(o.timeoutScale)
	if err != nil {
		return fmt.Errorf("--timeout-scale: %w", err)
	}
	o.bounds = t
	return nil
}

// timeouts are the run's bounds: scaled by --timeout-scale once checked, else the defaults.
func (o *verifyOptions) timeouts() kube.Timeouts {
	if o.bounds.Factor == 0 {
		return kube.DefaultTimeouts()
	}
	return o.bounds
}

// complete fills defaults that depend on the time and the environment.
func (o *verifyOptions) complete(now time.Time) {
	o.red = redact.New()
	o.red.AddEnvironment()
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

// verify deploys the probe agents and runs the suites, recording everything; when a check
// failed (or --collect), it collects the evidence bundle and names the likely causes.
func verify(ctx context.Context, o *verifyOptions, c *kube.Client, rec *results.Recorder, healthy providers.Healthy, platformName string, install *suites.InstallObservations, nodes platform.NodeRunner) (bool, error) {
	var fleet *agents.Fleet
	passed, err := runSuites(ctx, o, c, rec, healthy, platformName, install, &fleet)
	if ctx.Err() == nil && (o.collect || !passed || err != nil) {
		investigate(ctx, o, c, rec, fleet, nodes)
	}
	return passed, err
}

// investigate collects the evidence bundle and records the likely causes of the failures.
func investigate(ctx context.Context, o *verifyOptions, c *kube.Client, rec *results.Recorder, fleet *agents.Fleet, nodes platform.NodeRunner) {
	red := o.red
	var bundle *evidence.Bundle
	_ = rec.Phase("evidence", func() error {
		snap := rec.Snapshot()
		var failing []results.Check
		for _, ch := range snap.Checks {
			if ch.Status == results.Failed {
				failing = append(failing, ch)
			}
		}
		col := &evidence.Collector{Client: c, Nodes: nodes, Fleet: fleet, Namespace: o.namespace, Redactor: red, PerCollector: c.Timeouts.Collector}
		var err error
		bundle, err = col.Collect(ctx, o.artifacts, failing)
		return err
	})
	snap := rec.Snapshot()
	in := diagnose.Input{Checks: snap.Checks}
	if bundle != nil {
		in.Nodes = bundle.Nodes
	}
	causes := diagnose.Analyze(in)
	_ = rec.Update(func(r *results.Result) {
		r.Causes = causes
		if bundle != nil {
			r.Evidence = filepath.Base(bundle.Path)
		}
	})
}

// runSuites deploys the probe agents and runs the suites. When Kubernetes refuses the agents'
// pods or the nodes cannot get the probe image, no check can observe anything: that is an
// error (the run could not run), not a list of failed checks.
func runSuites(ctx context.Context, o *verifyOptions, c *kube.Client, rec *results.Recorder, healthy providers.Healthy, platformName string, install *suites.InstallObservations, fleetOut **agents.Fleet) (bool, error) {
	var fleet *agents.Fleet
	err := rec.Phase("probe agents ready", func() error {
		var err error
		fleet, err = agents.Deploy(ctx, c, o.namespace, o.probeImage)
		if err != nil && fleet == nil {
			return withPullFix(err, o.probeImage)
		}
		return describeFleet(fleet)
	})
	if fleet == nil {
		return false, fmt.Errorf("probe agents: %w", err)
	}
	*fleetOut = fleet
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

// withPullFix adds to an image pull failure how to get the image onto the nodes; other errors
// pass unchanged.
func withPullFix(err error, image string) error {
	var pe *agents.ImagePullError
	if !errors.As(err, &pe) {
		return err
	}
	return fmt.Errorf("%w: on kind, let netconform load it (`netconform check --kind-cluster NAME`); elsewhere copy it to each node "+
		"(`docker save -o probe.tar %s` here, `ctr -n k8s.io images import probe.tar` on the node) or push it to a registry the nodes reach "+
		"and pass --probe-image with that reference", err, image)
}

// describeFleet turns nodes whose agents are missing or not Ready into one error, one entry per
// agent in node and role order (the suites still run and name the affected pairs).
func describeFleet(f *agents.Fleet) error {
	var bad []string
	for _, node := range f.Nodes() {
		for _, role := range []string{agents.PodA, agents.PodB, agents.Host} {
			if why := f.AgentOrMissing(role, node).Unavailable(); why != "" {
				bad = append(bad, why)
			}
		}
	}
	if len(f.Nodes()) == 0 {
		return errors.New("the cluster has no node to run probe agents on")
	}
	if len(bad) > 0 {
		return fmt.Errorf("probe agents missing or not Ready: %s", strings.Join(bad, "; "))
	}
	return nil
}

// newRecorder starts the run's result in the artifacts directory, redacted from the first
// write on, with netconform's own junit.xml rewritten beside it at every save (ginkgo's report
// is ginkgo-junit.xml): CI finds every phase and check in it, also when setup failed or the run
// was interrupted or killed.
func newRecorder(artifacts string, r results.Result, red *redact.Redactor) (*results.Recorder, error) {
	return results.NewRecorder(filepath.Join(artifacts, "result.json"), r,
		results.WithRedaction(red.Bytes), results.WithCompanion(filepath.Join(artifacts, "junit.xml"), reports.JUnit))
}

// finish completes the result, writes the Markdown summary next to it, prints it, and turns
// the verdict (results.Judge, the one place that decides) into the exit code.
func finish(rec *results.Recorder, runErr error, out io.Writer, red *redact.Redactor) error {
	if runErr == nil && rec.Err() != nil {
		// A result that could not be saved is no verdict: the run ends with the first failed save.
		runErr = fmt.Errorf("saving the result: %w", rec.Err())
	}
	if err := rec.Finish(runErr); err != nil {
		fmt.Fprintln(os.Stderr, "netconform: could not write result:", err)
	}
	r := rec.Snapshot()
	summary := filepath.Join(filepath.Dir(rec.Path()), "summary.md")
	var md strings.Builder
	_ = reports.Markdown(&md, &r)
	text := red.String(md.String())
	if err := os.WriteFile(summary, []byte(text), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "netconform: could not write summary:", err)
	}
	fmt.Fprintln(out)
	io.WriteString(out, text)
	fmt.Fprintf(out, "\nresult: %s\nsummary: %s\njunit: %s\n", rec.Path(), summary, filepath.Join(filepath.Dir(rec.Path()), "junit.xml"))
	v := r.Judge()
	switch {
	case v.Passed():
		return nil
	case runErr != nil:
		return &exitError{code: v.ExitCode(), err: errors.New(red.String(runErr.Error()))}
	}
	return &exitError{code: v.ExitCode(), err: errors.New(red.String(strings.Join(v.Reasons, "; ")))}
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
