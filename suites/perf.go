package suites

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/onsi/ginkgo/v2"

	"github.com/netconform/netconform/framework/agents"
	"github.com/netconform/netconform/framework/perf"
	"github.com/netconform/netconform/framework/probe"
	"github.com/netconform/netconform/framework/results"
)

// PerfConfig is how the perf suite measures: Samples runs of Duration per test and path, and the
// fraction of the host path's figure below which a pod path fails.
type PerfConfig struct {
	Samples   int
	Duration  time.Duration
	Tolerance float64
}

// DefaultPerf is the perf suite's default: 3 samples of 5 s, as k8s-netperf does, and a pod
// path must reach a third of the host path (what an overlay on a two-core kind machine still
// reaches; see docs/measurements.md).
var DefaultPerf = PerfConfig{Samples: 3, Duration: 5 * time.Second, Tolerance: 0.33}

// gatedTests are the figures a pod path is held to against the host path: bulk throughput and
// request/response rate (the inverse of latency). The other tests are measured and their ratios
// reported, not gated: UDP throughput on a loaded machine is mostly how fast one core sends.
var gatedTests = []perf.Test{perf.TCPStream, perf.TCPRR}

// perfSetupSlack is what a netperf probe may take beyond its run: the control connection,
// netserver's fork, the answer through the API server.
const perfSetupSlack = 15 * time.Second

var _ = ginkgo.Describe("perf", ginkgo.Label("perf"), ginkgo.Ordered, ginkgo.ContinueOnFailure, func() {
	run := &perfRun{}
	ginkgo.BeforeAll(func(ctx ginkgo.SpecContext) { run.setup(ctx) }, within(2*time.Minute))
	ginkgo.AfterAll(func(ctx ginkgo.SpecContext) {
		if err := env.Fleet.RemovePerfService(ctx); err != nil {
			ginkgo.GinkgoWriter.Printf("remove the perf Service: %v\n", err)
		}
	}, within(time.Minute))

	ginkgo.It(pathHost.name, ginkgo.Label(pathHost.label), func(ctx ginkgo.SpecContext) {
		p := run.path(ctx, pathHost)
		figs := run.measure(ctx, p)
		if len(figs) == len(perf.Tests) {
			run.baseline = figs
		}
	}, perfSpecTimeout())

	for _, kind := range []pathKind{pathSameNode, pathCrossNode, pathClusterIP} {
		ginkgo.It(kind.name, ginkgo.Label(kind.label), func(ctx ginkgo.SpecContext) {
			p := run.path(ctx, kind)
			figs := run.measure(ctx, p)
			run.judge(p, figs)
		}, perfSpecTimeout())
	}
})

// perfSpecTimeout bounds one path: every sample of every test with its setup, plus a minute for
// a Service to be programmed.
func perfSpecTimeout() ginkgo.NodeTimeout {
	return within(perfConfig().RunsBound() + time.Minute)
}

// RunsBound is what one path's netperf runs may take with c: every sample of every test, each
// with its setup.
func (c PerfConfig) RunsBound() time.Duration {
	return time.Duration(c.Samples*len(perf.Tests)) * (c.Duration + perfSetupSlack)
}

// perfConfig is the run's perf settings, DefaultPerf where the run set none (and in a preview).
func perfConfig() PerfConfig {
	if env == nil || env.Perf.Samples == 0 {
		return DefaultPerf
	}
	return env.Perf
}

// pathKind is one way through the cluster the suite measures.
type pathKind struct {
	name, label string
}

var (
	pathHost      = pathKind{"host to host across nodes (the baseline)", "baseline"}
	pathSameNode  = pathKind{"pod to pod on one node", "same-node"}
	pathCrossNode = pathKind{"pod to pod across nodes", "cross-node"}
	pathClusterIP = pathKind{"pod to ClusterIP Service across nodes", "service"}
)

// perfPath is a path with its ends: the agent that runs netperf, and the netserver it measures
// against.
type perfPath struct {
	kind     pathKind
	from     agents.Agent
	to       string // the netserver's end, for messages: role on node (or the Service)
	target   string // the netserver's address
	dataPort int
}

func (p perfPath) String() string {
	return fmt.Sprintf("%s (%s on %s -> %s)", p.kind.name, p.from.Role, p.from.Node, p.to)
}

// perfRun is the suite's state across its ordered specs.
type perfRun struct {
	// a and b are the two nodes measured: workers when there are two, so that the control
	// plane's own load stays out of the figures.
	a, b     string
	nodesWhy string // why there are no two nodes
	// nodesErr: the nodes could not be listed, so no path can be chosen: a failure, not a skip
	// (the cluster may well have the nodes).
	nodesErr  error
	baseline  map[perf.Test]perf.Figures
	clusterIP string
	svcErr    error
}

func (r *perfRun) setup(ctx context.Context) {
	nodes, err := env.Client.Nodes(ctx)
	if err != nil {
		r.nodesErr = err
		return
	}
	var workers, ready []string
	for _, n := range nodes {
		if !n.Ready {
			continue
		}
		ready = append(ready, n.Name)
		if !n.ControlPl {
			workers = append(workers, n.Name)
		}
	}
	pick := workers
	if len(pick) < 2 {
		pick = ready
	}
	switch len(pick) {
	case 0:
		r.nodesWhy = "no node is Ready"
		return
	case 1:
		r.a = pick[0]
		r.nodesWhy = fmt.Sprintf("one Ready node (%s): nothing crosses nodes", pick[0])
		return
	}
	r.a, r.b = pick[0], pick[1]
	r.clusterIP, r.svcErr = env.Fleet.EnsurePerfService(ctx, agentOrMissing(agents.PodB, r.b))
}

// path is the path of kind k between the suite's nodes; it skips the spec when the cluster has
// not the nodes for it.
func (r *perfRun) path(ctx context.Context, k pathKind) perfPath {
	if r.nodesErr != nil {
		ginkgo.Fail("choose the nodes to measure between: " + r.nodesErr.Error())
	}
	if r.a == "" || (k != pathSameNode && r.b == "") {
		ginkgo.Skip("not-applicable: " + r.nodesWhy)
	}
	switch k {
	case pathHost:
		to := agentOrMissing(agents.Host, r.b)
		return perfPath{kind: k, from: agentOrMissing(agents.Host, r.a), to: "host agent on " + r.b, target: to.IP}
	case pathSameNode:
		to := agentOrMissing(agents.PodB, r.a)
		return perfPath{kind: k, from: agentOrMissing(agents.PodA, r.a), to: agents.PodB + " on " + r.a, target: to.IP}
	case pathCrossNode:
		to := agentOrMissing(agents.PodB, r.b)
		return perfPath{kind: k, from: agentOrMissing(agents.PodA, r.a), to: agents.PodB + " on " + r.b, target: to.IP}
	}
	if r.svcErr != nil {
		ginkgo.Fail(fmt.Sprintf("%s: %v", k.name, r.svcErr))
	}
	p := perfPath{kind: k, from: agentOrMissing(agents.PodA, r.a), to: fmt.Sprintf("Service %s %s (backend %s on %s)", agents.PerfService, r.clusterIP, agents.PodB, r.b),
		target: r.clusterIP, dataPort: probe.NetperfDataPort}
	// Within the Service bound, wait only while kube-proxy refuses the new Service.
	wctx, cancel := context.WithTimeout(ctx, env.Client.Timeouts.ServiceProgrammed)
	defer cancel()
	env.Fleet.WaitNotRefused(wctx, p.from, p.request(perf.TCPRR, time.Second))
	return p
}

func (p perfPath) request(t perf.Test, d time.Duration) probe.Request {
	secs := max(1, int(d/time.Second))
	return probe.Request{Protocol: probe.Netperf, Test: string(t), Target: hostPort(p.target, probe.NetserverPort),
		DataPort: p.dataPort, Seconds: secs, TimeoutMS: int((time.Duration(secs)*time.Second + perfSetupSlack) / time.Millisecond)}
}

// measure runs every test's samples on p, one at a time (two at once would share the machine
// and halve each other), records each sample as an observation and each test's figures as
// measurements, and returns the figures. A sample that fails fails the spec, naming it, and
// ends the path: the tests after it would fail the same way, each waiting out its bound.
func (r *perfRun) measure(ctx context.Context, p perfPath) map[perf.Test]perf.Figures {
	if why := p.from.Unavailable(); why != "" {
		ginkgo.Fail(fmt.Sprintf("%s: %s", p, why))
	}
	if p.target == "" {
		ginkgo.Fail(fmt.Sprintf("%s: the netserver's agent has no address", p))
	}
	cfg := perfConfig()
	figs := map[perf.Test]perf.Figures{}
	var obs []results.Observation
	defer func() { observe(obs) }()
	for _, t := range perf.Tests {
		var samples []perf.Sample
		for i := 0; i < cfg.Samples; i++ {
			res := env.Fleet.Probe(ctx, p.from, p.request(t, cfg.Duration))
			o := results.Observation{From: p.from.Role + " on " + p.from.Node, To: p.to, Protocol: "netperf " + string(t),
				Expected: string(probe.OK), Observed: string(res.Outcome), OK: res.Outcome == probe.OK && res.Perf != nil, Detail: res.Detail, Attempts: res.Attempts}
			if o.OK {
				o.Detail = sampleLine(*res.Perf)
				samples = append(samples, *res.Perf)
			}
			obs = append(obs, o)
			if !o.OK {
				ginkgo.Fail(fmt.Sprintf("%s: netperf %s sample %d of %d: %s: %s", p, t, i+1, cfg.Samples, res.Outcome, res.Detail))
			}
		}
		f, err := perf.Summarize(t, samples)
		if err != nil {
			ginkgo.Fail(fmt.Sprintf("%s: %v", p, err))
		}
		figs[t] = f
		recordFigures(f)
		ginkgo.GinkgoWriter.Printf("%s: %s\n", p, f)
	}
	return figs
}

// sampleLine is one sample's figures, for its observation.
func sampleLine(s perf.Sample) string {
	if s.Test.Stream() {
		line := fmt.Sprintf("%.1f Mbit/s", s.ThroughputMbps)
		if s.Test == perf.UDPStream {
			line += fmt.Sprintf(", loss %.2f%%", 100*s.LossRatio())
		}
		if s.Retransmits >= 0 {
			line += fmt.Sprintf(", %d retransmits", s.Retransmits)
		}
		return line
	}
	return fmt.Sprintf("%.0f transactions/s, latency p50/p90/p99 %.0f/%.0f/%.0f µs", s.TransactionsPerSec, s.P50US, s.P90US, s.P99US)
}

// recordFigures attaches a test's figures to the running check as measurements.
func recordFigures(f perf.Figures) {
	t := string(f.Test)
	h, unit := f.Headline()
	name := "transactions"
	if f.Test.Stream() {
		name = "throughput"
	}
	measure(t+" "+name, h.Mean, unit)
	measure(t+" "+name+" ci95", h.CI95, unit)
	switch {
	case f.Test == perf.UDPStream:
		measure(t+" loss", f.LossRatio, "ratio")
	case !f.Test.Stream():
		measure(t+" latency p50", f.P50US, "µs")
		measure(t+" latency p90", f.P90US, "µs")
		measure(t+" latency p99", f.P99US, "µs")
	}
	if f.Retransmits >= 0 {
		measure(t+" retransmits", float64(f.Retransmits), "count")
	}
}

// judge records each test's ratio to the host path and fails the spec when a gated one is below
// the tolerance, naming the figures. Without a baseline there is nothing to hold the path to:
// its figures stay recorded, and the check is skipped, saying why.
func (r *perfRun) judge(p perfPath, figs map[perf.Test]perf.Figures) {
	if r.baseline == nil {
		ginkgo.Skip("precondition: the host path was not measured (see 'host to host across nodes (the baseline)'): no ratio to judge; the figures are recorded")
	}
	var low []string
	for _, t := range perf.Tests {
		pod, base := figs[t], r.baseline[t]
		ph, unit := pod.Headline()
		bh, _ := base.Headline()
		ratio := perf.Ratio(ph.Mean, bh.Mean)
		measure(string(t)+" ratio to host", ratio, "ratio")
		for _, g := range gatedTests {
			if g == t && ratio < perfConfig().Tolerance {
				low = append(low, fmt.Sprintf("%s %s %s is %.2f of the host path's %s %s", t, ph, unit, ratio, bh, unit))
			}
		}
	}
	if len(low) > 0 {
		ginkgo.Fail(fmt.Sprintf("%s: below --perf-tolerance %.2f of the host path (%s -> %s):\n%s", p, perfConfig().Tolerance, r.a, r.b, strings.Join(low, "\n")))
	}
}
