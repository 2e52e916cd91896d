package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/netconform/netconform/framework/agents"
	"github.com/netconform/netconform/framework/diagnose"
	"github.com/netconform/netconform/framework/evidence"
	"github.com/netconform/netconform/framework/results"
	"github.com/netconform/netconform/providers"
	"github.com/netconform/netconform/suites"
)

// Suites deploys the probe agents and runs the selected ginkgo suites against the cluster.
type Suites struct {
	Provider string
	// Healthy is what a node looks like under the provider with its options.
	Healthy providers.Healthy
	// PlatformName is told to the suites (some expectations differ on kind).
	PlatformName string
	ProbeImage   string
	// PullHint is added to an image pull failure: how to get the probe image onto the nodes
	// on this platform.
	PullHint         string
	LabelFilter      string
	Verbose          bool
	ProbeConcurrency int
	PodSubnet        string
	ConfiguredMTU    int
	RouteQuota       int
}

func (s *Suites) Name() string { return "suites" }

// Run deploys the agents and runs the suites. When Kubernetes refuses the agents' pods or the
// nodes cannot get the probe image, no check can observe anything: that is an error (the run
// could not run), not a list of failed checks.
func (s *Suites) Run(ctx context.Context, env *Env) error {
	rec := env.Recorder
	var fleet *agents.Fleet
	err := rec.Phase("probe agents ready", func() error {
		var err error
		fleet, err = agents.Deploy(ctx, env.Client, env.AgentsNamespace, s.ProbeImage)
		if err != nil && fleet == nil {
			return s.WithPullHint(err)
		}
		return describeFleet(fleet)
	})
	if fleet == nil {
		return fmt.Errorf("probe agents: %w", err)
	}
	env.Fleet = fleet
	podSubnet := s.PodSubnet
	if podSubnet == "" {
		podSubnet = env.PodSubnet
	}
	err = rec.Phase("suites", func() error {
		passed, err := suites.Run(ctx, &suites.Env{
			Client: env.Client, Fleet: fleet, Provider: s.Provider, Platform: s.PlatformName, Healthy: s.Healthy,
			Recorder: rec, Install: env.Install, ProbeConcurrency: s.ProbeConcurrency,
			PodSubnet: podSubnet, ConfiguredMTU: s.ConfiguredMTU, RouteQuota: s.RouteQuota,
		}, suites.Config{LabelFilter: s.LabelFilter, ReportDir: env.Artifacts, Verbose: s.Verbose})
		if err == nil && !passed {
			return results.ErrChecksFailed
		}
		return err
	})
	if errors.Is(err, results.ErrChecksFailed) {
		return nil
	}
	return err
}

// WithPullHint adds PullHint to an image pull failure; other errors pass unchanged.
func (s *Suites) WithPullHint(err error) error {
	var pe *agents.ImagePullError
	if s.PullHint == "" || !errors.As(err, &pe) {
		return err
	}
	return fmt.Errorf("%w: %s", err, s.PullHint)
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

// collect gathers the evidence bundle for the failing checks and records the likely causes.
func collect(ctx context.Context, env *Env) {
	rec, c := env.Recorder, env.Client
	if c == nil {
		return
	}
	var bundle *evidence.Bundle
	_ = rec.Phase("evidence", func() error {
		var failing []results.Check
		for _, ch := range rec.Snapshot().Checks {
			if ch.Status == results.Failed {
				failing = append(failing, ch)
			}
		}
		col := &evidence.Collector{Client: c, Nodes: env.Nodes, Fleet: env.Fleet, Namespace: env.AgentsNamespace, Redactor: env.Redactor, PerCollector: c.Timeouts.Collector}
		var err error
		bundle, err = col.Collect(ctx, env.Artifacts, failing)
		return err
	})
	in := diagnose.Input{Checks: rec.Snapshot().Checks}
	if bundle != nil {
		in.Nodes = bundle.Nodes
	}
	causes := diagnose.Analyze(in)
	// A failed save is kept by the recorder and ends the run in Finish.
	_ = rec.Update(func(r *results.Result) {
		r.Causes = causes
		if bundle != nil {
			r.Evidence = filepath.Base(bundle.Path)
		}
	})
}
