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
	"github.com/netconform/netconform/framework/ipfamily"
	"github.com/netconform/netconform/framework/kube"
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
	// The agent outside the cluster, for the checks from and to outside. ExternalTarget is the
	// control address (HOST:PORT) of a probe agent the user runs there; otherwise the suites
	// start one, in a docker container on ExternalNetwork (run on kind: the cluster's network)
	// or, when that is empty, on the network of kind cluster ExternalKindCluster's nodes (check
	// --kind-cluster), and remove it when they end. None of them: no external agent, and the
	// checks that need one skip. Failing to start or reach it is not fatal: Fleet.ExternalWhy
	// says why, and the checks that need it name it.
	ExternalTarget      string
	ExternalNetwork     string
	ExternalKindCluster string
	// Perf is how the perf suite measures, when it is selected.
	Perf suites.PerfConfig
	// MaxPairs bounds the node pairs of each pair check (0: all).
	MaxPairs int
}

func (s *Suites) Name() string { return "suites" }

// Run deploys the agents and runs the suites. When Kubernetes refuses the agents' pods or the
// nodes cannot get the probe image, no check can observe anything: that is an error (the run
// could not run), not a list of failed checks.
func (s *Suites) Run(ctx context.Context, env *Env) error {
	rec := env.Recorder
	var fleet *agents.Fleet
	// The external agent starts beside the agents' deployment (a docker container needs no
	// cluster), and goes when the suites end, however they end.
	extCtx, cancelExt := context.WithCancel(ctx)
	defer cancelExt()
	extc := make(chan external, 1)
	go func() { extc <- s.external(extCtx, env) }()
	err := rec.Phase("probe agents ready", func() error {
		var err error
		fleet, err = agents.Deploy(ctx, env.Client, env.AgentsNamespace, s.ProbeImage)
		if err != nil && fleet == nil {
			return s.WithPullHint(err)
		}
		return describeFleet(fleet)
	})
	if fleet == nil {
		// No suites will run: do not wait for the external agent to come up (a half-started
		// one is removed all the same).
		cancelExt()
	}
	ext := <-extc
	defer ext.stop()
	if fleet == nil {
		return fmt.Errorf("probe agents: %w", err)
	}
	fleet.External, fleet.ExternalWhy = ext.agent, ext.why
	if ext.why != "" && env.Out != nil {
		fmt.Fprintf(env.Out, "note: %s\n", ext.why)
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
			PodSubnets: env.PodSubnets, Family: clusterFamily(ctx, env), Perf: s.Perf, MaxPairs: s.MaxPairs,
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
// agent in node and role order, then the solo pod and the flow backend (the suites still run and
// name the affected pairs).
func describeFleet(f *agents.Fleet) error {
	var bad []string
	for _, node := range f.Nodes() {
		for _, role := range []string{agents.PodA, agents.PodB, agents.Host} {
			if why := f.AgentOrMissing(role, node).Unavailable(); why != "" {
				bad = append(bad, why)
			}
		}
	}
	for _, a := range []agents.Agent{f.Fixtures.Solo, f.Fixtures.FlowBackend} {
		if why := a.Unavailable(); why != "" {
			bad = append(bad, why)
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

// external is the agent outside the cluster as the suites got it: the agent (nil when there is
// none), why there is none when one was asked for, and how to take it away again.
type external struct {
	agent *agents.Agent
	why   string
	stop  func()
}

// external starts or connects to the agent outside the cluster, as the Suites' fields say,
// within the agents' bound. It never fails the suites: a failure is in why.
func (s *Suites) external(ctx context.Context, env *Env) external {
	t := kube.DefaultTimeouts()
	if env.Client != nil {
		t = env.Client.Timeouts
	}
	none := external{stop: func() {}}
	ctx, cancel := context.WithTimeout(ctx, t.AgentsReady)
	defer cancel()
	if s.ExternalTarget != "" {
		a, err := agents.ConnectExternal(ctx, s.ExternalTarget)
		if err != nil {
			none.why = fmt.Sprintf("no agent outside the cluster: --external-target %s: %v", s.ExternalTarget, err)
			return none
		}
		return external{agent: &a, stop: func() {}}
	}
	network := s.ExternalNetwork
	if network == "" && s.ExternalKindCluster != "" {
		var err error
		if network, err = agents.KindNetwork(ctx, s.ExternalKindCluster); err != nil {
			none.why = "no agent outside the cluster: " + err.Error()
			return none
		}
	}
	if network == "" {
		return none
	}
	c, err := agents.StartExternal(ctx, network, s.ProbeImage, externalName(env.AgentsNamespace, network))
	if err != nil {
		none.why = fmt.Sprintf("no agent outside the cluster on docker network %s: %v", network, err)
		return none
	}
	a := c.Agent()
	return external{agent: &a, stop: func() {
		// Its own deadline, also after an interrupt: a container left running would keep the
		// cluster's network from being removed.
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), agents.ExternalStopTimeout)
		defer cancel()
		if err := c.Stop(sctx); err != nil && env.Out != nil {
			fmt.Fprintf(env.Out, "warning: %v (remove it with: docker rm -f %s)\n", err, c.Name)
		}
	}}
}

// externalName is the external agent's container name: one per agents namespace and docker
// network, so that a run finds (and replaces) what an earlier, killed run of the same kind left,
// and two runs against different clusters do not meet.
func externalName(namespace, network string) string {
	clean := func(s string) string {
		return strings.Map(func(r rune) rune {
			if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.' {
				return r
			}
			return '-'
		}, s)
	}
	return "netconform-ext-" + clean(namespace) + "-" + clean(network)
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

// clusterFamily is the cluster's IP family: the platform's when it made the cluster with one,
// else what the nodes' pod CIDRs say, else IPv4 (a provider that allocates pod addresses
// itself leaves the nodes without pod CIDRs).
func clusterFamily(ctx context.Context, env *Env) ipfamily.Family {
	if env.IPFamily != "" {
		return env.IPFamily
	}
	if nodes, err := env.Client.Nodes(ctx); err == nil {
		if f, ok := kube.ClusterFamily(nodes); ok {
			return f
		}
	}
	return ipfamily.IPv4
}
