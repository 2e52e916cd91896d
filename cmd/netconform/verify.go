package main

import (
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
	"github.com/netconform/netconform/framework/lifecycle"
	"github.com/netconform/netconform/framework/redact"
	"github.com/netconform/netconform/framework/results"
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
	// policyWait (--policy-wait) replaces the bound of one NetworkPolicy step, scaled or not.
	policyWait time.Duration
	bounds     kube.Timeouts
	// externalTarget (--external-target HOST:PORT, run and check) is a probe agent outside the
	// cluster the user runs, by its control address.
	externalTarget string
	perfOptions
	// maxPairs bounds the node pairs of each pair check (--max-pairs; 0: all).
	maxPairs int
	// cellRef is --matrix-cell (run and switch) as given; cell is it parsed, for the result.
	cellRef string
	cell    *results.Cell
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
	f.DurationVar(&o.policyWait, "policy-wait", 0, "how long a NetworkPolicy scenario's step may take to be in effect on every cell (default 45s, times --timeout-scale)")
	f.BoolVar(&o.collect, "collect", false, "collect the evidence bundle even when every check passes (it is always collected on failure)")
	o.addPerfFlags(cmd)
	f.IntVar(&o.maxPairs, "max-pairs", 0, "probe at most about this many node pairs per pair check, sampled so that every node is a source and a destination (for large clusters; 0: every ordered pair)")
}

// checkTimeouts scales every bound by --timeout-scale, refusing a factor that makes no sense,
// and sets the NetworkPolicy bound to --policy-wait when given.
func (o *verifyOptions) checkTimeouts() error {
	t, err := kube.DefaultTimeouts().Scale(o.timeoutScale)
	if err != nil {
		return fmt.Errorf("--timeout-scale: %w", err)
	}
	switch {
	case o.policyWait < 0 || (o.policyWait > 0 && o.policyWait < time.Second):
		return fmt.Errorf("--policy-wait: %s: want at least 1s (a table takes about a second to probe)", o.policyWait)
	case o.policyWait > 0:
		t.PolicyTakesEffect = o.policyWait
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

// suites is the suites scenario with these flags, for a cluster on platformName.
func (o *verifyOptions) suites(platformName string) *lifecycle.Suites {
	return &lifecycle.Suites{
		Provider: o.provider, PlatformName: platformName, ProbeImage: o.probeImage, PullHint: pullHint(o.probeImage),
		LabelFilter: o.labelFilter, Verbose: o.verbose, ProbeConcurrency: o.concurrency,
		PodSubnet: o.podSubnet, ConfiguredMTU: o.mtu, RouteQuota: o.routeQuota,
		ExternalTarget: o.externalTarget, Perf: o.perfCfg, MaxPairs: o.maxPairs,
	}
}

// addExternalTargetFlag adds --external-target (run and check).
func (o *verifyOptions) addExternalTargetFlag(cmd *cobra.Command) {
	cmd.Flags().StringVar(&o.externalTarget, "external-target", "", "HOST:PORT, the control address of a probe agent you run outside the cluster "+
		"(the probe image, port 29080), for the checks from and to outside the cluster; on kind netconform starts one itself")
}

// pullHint says how to get the probe image onto nodes that cannot pull it.
func pullHint(image string) string {
	return fmt.Sprintf("on kind, let netconform load it (`netconform check --kind-cluster NAME`); elsewhere copy it to each node "+
		"(`docker save -o probe.tar %s` here, `ctr -n k8s.io images import probe.tar` on the node) or push it to a registry the nodes reach "+
		"and pass --probe-image with that reference", image)
}

// newRecorder starts the run's result (lifecycle.NewRecorder: result.json and junit.xml,
// redacted).
func newRecorder(artifacts string, r results.Result, red *redact.Redactor) (*results.Recorder, error) {
	return lifecycle.NewRecorder(artifacts, r, red)
}

// finish ends the run (lifecycle.Finish) and turns its verdict into the exit code. Before, it
// records kops' standing of the result's provider on the cluster's Kubernetes version, which is
// known only once the cluster is up.
func finish(rec *results.Recorder, runErr error, out io.Writer, red *redact.Redactor) error {
	_ = rec.Update(func(r *results.Result) { r.KopsStanding = kopsStanding(r.Provider, r.KubernetesVersion) })
	v, err := lifecycle.Finish(rec, runErr, out, red)
	if err == nil {
		return nil
	}
	return &exitError{code: v.ExitCode(), err: err}
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
