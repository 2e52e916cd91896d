// Package suites holds netconform's ginkgo suites (kube-dns, connectivity, and more in later
// files) and runs them inside the netconform binary, so that `netconform check` works from any
// machine without the source tree. Every spec becomes one check in the result JSON.
package suites

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/types"

	"github.com/netconform/netconform/framework/agents"
	"github.com/netconform/netconform/framework/ipfamily"
	"github.com/netconform/netconform/framework/kube"
	"github.com/netconform/netconform/framework/results"
	"github.com/netconform/netconform/providers"
)

// Env is what the specs check: the cluster, the deployed agents, and what the run observed
// while installing networking.
type Env struct {
	Client   *kube.Client
	Fleet    *agents.Fleet
	Provider string
	Platform string
	Healthy  providers.Healthy
	Recorder *results.Recorder
	// Install holds observations made while netconform installed networking; nil when it
	// did not (netconform check against an existing cluster).
	Install *InstallObservations
	// ProbeConcurrency bounds concurrent probes.
	ProbeConcurrency int
	// PodSubnet is the cluster pod CIDR; empty means read it from kube-proxy's configuration.
	PodSubnet string
	// PodSubnets are the cluster pod CIDRs of every family when the platform knows them.
	PodSubnets []string
	// ConfiguredMTU is the MTU the user configured for the provider; 0 means derived from the
	// underlay.
	ConfiguredMTU int
	// RouteQuota is the routes-per-route-table limit the cluster's routes are counted against.
	RouteQuota int
	// Family is the cluster's IP family (ipv4, ipv6, dual): the per-family checks run once per
	// address family it has. Empty is IPv4.
	Family ipfamily.Family
	// Perf is how the perf suite measures; zero is DefaultPerf.
	Perf PerfConfig
	// MaxPairs bounds the node pairs of a pair check (--max-pairs, see nodePairs); 0 is all.
	MaxPairs int
}

// InstallObservations are facts seen around the networking install.
type InstallObservations struct {
	// CoreDNSReadyBefore and CoreDNSTotalBefore: CoreDNS replicas Ready before networking.
	CoreDNSReadyBefore, CoreDNSTotalBefore int
	CoreDNSNotReadyWhy                     []string
	// CoreDNSReadyAfter is how long after the install CoreDNS was fully Ready; 0 if never.
	CoreDNSReadyAfter time.Duration
	CoreDNSReadyError string
}

// Config selects and reports specs.
type Config struct {
	LabelFilter string
	// ReportDir receives ginkgo's JUnit and JSON reports.
	ReportDir string
	Timeout   time.Duration
	Verbose   bool
}

// env is the run's environment. Ginkgo specs are registered at package level and reach the run
// only through package scope; Run sets it before the specs run and clears it after.
var env *Env

// failRecorder satisfies ginkgo.GinkgoTestingT outside `go test`.
type failRecorder struct{ failed bool }

func (f *failRecorder) Fail() { f.failed = true }

// Run runs the selected specs once. It reports whether every selected spec passed; an error
// means the suites could not run at all.
func Run(ctx context.Context, e *Env, cfg Config) (bool, error) {
	if env != nil {
		return false, fmt.Errorf("suites: already running")
	}
	env = e
	defer func() { env = nil }()
	suiteCfg, repCfg := ginkgo.GinkgoConfiguration()
	suiteCfg.LabelFilter = cfg.LabelFilter
	suiteCfg.FailOnPending = true
	suiteCfg.FailOnEmpty = true
	suiteCfg.Timeout = cfg.Timeout
	if suiteCfg.Timeout == 0 {
		suiteCfg.Timeout = kube.DefaultTimeouts().Suites
		if e.Client != nil {
			suiteCfg.Timeout = e.Client.Timeouts.Suites
		}
	}
	suiteCfg.GracePeriod = 10 * time.Second
	// netconform writes its own junit.xml (every phase and check, the verdict); ginkgo's is kept
	// beside it for those who want ginkgo's view of the specs.
	repCfg.JUnitReport = filepath.Join(cfg.ReportDir, "ginkgo-junit.xml")
	repCfg.JSONReport = filepath.Join(cfg.ReportDir, "ginkgo-report.json")
	repCfg.Verbose = cfg.Verbose
	repCfg.Succinct = !cfg.Verbose
	repCfg.NoColor = true
	t := &failRecorder{}
	done := make(chan bool, 1)
	go func() { done <- ginkgo.RunSpecs(t, "netconform", suiteCfg, repCfg) }()
	select {
	case passed := <-done:
		return passed && !t.failed, nil
	case <-ctx.Done():
		// Ginkgo has its own interrupt handling for SIGINT; give it a moment to finish the
		// spec in progress and write its reports.
		select {
		case passed := <-done:
			return passed && !t.failed, ctx.Err()
		case <-time.After(30 * time.Second):
			return false, ctx.Err()
		}
	}
}

// within is a spec's bound, declared next to the spec and scaled like every other bound
// (--timeout-scale). Specs are built when the suites run (env set) and when a label filter is
// previewed (env nil: the bound as declared, which a preview never waits on).
func within(d time.Duration) ginkgo.NodeTimeout {
	if env != nil && env.Client != nil {
		d = env.Client.Timeouts.Scaled(d)
	}
	return ginkgo.NodeTimeout(d)
}

// Entry names for ginkgo report entries that become result fields.
const (
	entryObservations = "netconform.observations"
	entryMeasurement  = "netconform.measurement"
)

// observe attaches observations to the running spec.
func observe(obs []results.Observation) {
	ginkgo.AddReportEntry(entryObservations, obs, ginkgo.ReportEntryVisibilityNever)
}

// measure attaches a figure to the running spec.
func measure(name string, value float64, unit string) {
	ginkgo.AddReportEntry(entryMeasurement, results.Measurement{Name: name, Value: value, Unit: unit}, ginkgo.ReportEntryVisibilityNever)
}

// recordCheck is registered at the top level, here and again by Select after each preview
// (see Select for why).
var _ = ginkgo.ReportAfterEach(recordCheck)

// recordCheck records each spec that ran as a check, as soon as it ends.
func recordCheck(report ginkgo.SpecReport) {
	if env == nil || env.Recorder == nil {
		return
	}
	// Specs the label filter did not select are reported as skipped without a reason; they
	// are not checks of this run.
	if report.State == types.SpecStateSkipped && report.Failure.Message == "" {
		return
	}
	_ = env.Recorder.AddCheck(CheckFromReport(report))
}

var nonSlug = regexp.MustCompile(`[^a-z0-9]+`)

func slug(s string) string {
	return strings.Trim(nonSlug.ReplaceAllString(strings.ToLower(s), "-"), "-")
}

// CheckFromReport turns a ginkgo spec report into a check.
func CheckFromReport(r ginkgo.SpecReport) results.Check {
	texts := append(append([]string{}, r.ContainerHierarchyTexts...), r.LeafNodeText)
	suite := ""
	if len(r.ContainerHierarchyTexts) > 0 {
		suite = r.ContainerHierarchyTexts[0]
	}
	ids := make([]string, 0, len(texts))
	for _, t := range texts {
		ids = append(ids, slug(t))
	}
	c := results.Check{
		ID:         strings.Join(ids, "/"),
		Suite:      suite,
		Name:       strings.Join(texts[min(1, len(texts)-1):], " / "),
		Labels:     r.Labels(),
		Started:    r.StartTime,
		DurationMS: r.RunTime.Milliseconds(),
		Attempts:   max(1, r.NumAttempts),
	}
	switch r.State {
	case types.SpecStatePassed:
		c.Status = results.Passed
	case types.SpecStateSkipped, types.SpecStatePending:
		c.Status = results.Skipped
		c.Reason = r.Failure.Message
	default:
		c.Status = results.Failed
		c.Reason = r.Failure.Message
		if r.State != types.SpecStateFailed {
			c.Reason = fmt.Sprintf("%s: %s", r.State, r.Failure.Message)
		}
	}
	for _, e := range r.ReportEntries {
		switch e.Name {
		case entryObservations:
			if obs, ok := e.GetRawValue().([]results.Observation); ok {
				c.Observations = append(c.Observations, obs...)
			} else {
				var obs []results.Observation
				if json.Unmarshal([]byte(e.Value.AsJSON), &obs) == nil {
					c.Observations = append(c.Observations, obs...)
				}
			}
		case entryMeasurement:
			if m, ok := e.GetRawValue().(results.Measurement); ok {
				c.Measurements = append(c.Measurements, m)
			}
		}
	}
	for _, o := range c.Observations {
		c.Attempts = max(c.Attempts, o.Attempts)
	}
	return c
}
