package reports

import (
	"strings"
	"testing"
	"time"

	"github.com/netconform/netconform/framework/results"
)

// perfResult is a kind run with a measured host path, a pod path below the tolerance and a
// path that passed without measuring anything.
func perfResult() *results.Result {
	m := func(name string, v float64, unit string) results.Measurement {
		return results.Measurement{Name: name, Value: v, Unit: unit}
	}
	return &results.Result{RunID: "r", Provider: "kubenet", Platform: "kind", Started: time.Unix(0, 0), Checks: []results.Check{
		{ID: "perf/host", Suite: "perf", Name: "host to host across nodes (the baseline)", Labels: []string{"perf", "baseline"}, Status: results.Passed,
			Measurements: []results.Measurement{m("TCP_STREAM throughput", 9000, "Mbit/s"), m("TCP_STREAM throughput ci95", 120, "Mbit/s"),
				m("TCP_RR transactions", 20000, "transactions/s"), m("TCP_RR transactions ci95", 300, "transactions/s"),
				m("TCP_RR latency p50", 45, "µs"), m("TCP_RR latency p90", 60, "µs"), m("TCP_RR latency p99", 130, "µs")}},
		{ID: "perf/cross", Suite: "perf", Name: "pod to pod across nodes", Labels: []string{"perf", "cross-node"}, Status: results.Failed, Reason: "below",
			Measurements: []results.Measurement{m("TCP_STREAM throughput", 2700, "Mbit/s"), m("TCP_STREAM throughput ci95", 80, "Mbit/s"), m("TCP_STREAM ratio to host", 0.3, "ratio"),
				m("UDP_STREAM throughput", 800, "Mbit/s"), m("UDP_STREAM throughput ci95", 5, "Mbit/s"), m("UDP_STREAM loss", 0.125, "ratio")}},
		{ID: "perf/same", Suite: "perf", Name: "pod to pod on one node", Labels: []string{"perf", "same-node"}, Status: results.Passed},
		{ID: "dns/x", Suite: "dns", Name: "x", Labels: []string{"dns"}, Status: results.Passed, Observations: []results.Observation{{OK: true}}},
	}}
}

func TestPerfSummary(t *testing.T) {
	s, ok := PerfSummary(perfResult())
	if !ok || len(s.Paths) != 3 {
		t.Fatalf("got %+v, want 3 paths", s)
	}
	if s.Paths[2].Status != results.Failed {
		t.Errorf("a path that passed with nothing measured is %s, want failed", s.Paths[2].Status)
	}
	cross := s.Paths[1]
	if len(cross.Tests) != 2 || cross.Tests[0].Ratio != 0.3 || cross.Tests[1].Loss != 0.125 {
		t.Errorf("cross-node: %+v", cross.Tests)
	}
	if _, ok := PerfSummary(&results.Result{}); ok {
		t.Error("a run without perf checks has a perf summary")
	}
}

func TestPerfInSummaryAndMatrix(t *testing.T) {
	r := perfResult()
	var sb strings.Builder
	if err := Markdown(&sb, r); err != nil {
		t.Fatal(err)
	}
	md := sb.String()
	for _, want := range []string{"## Performance", "On kind every node is a container on this one machine",
		"| pass | host to host across nodes (the baseline) | 9000 ± 120 Mbit/s | - | 20000 ± 300 tps, 45.0/60.0/130 µs |",
		"| **FAIL** | pod to pod across nodes | 2700 ± 80.0 Mbit/s (×0.30) | 800 ± 5.00 Mbit/s, loss 12.5% |",
		"| **FAIL** | pod to pod on one node | - | - |"} {
		if !strings.Contains(md, want) {
			t.Errorf("summary lacks %q:\n%s", want, md)
		}
	}
	m := BuildMatrix([]Source{{Path: "a.json", Result: r}}, time.Unix(0, 0))
	var mb strings.Builder
	if err := m.WriteMarkdown(&mb); err != nil {
		t.Fatal(err)
	}
	out := mb.String()
	if !strings.Contains(out, "## Performance") || !strings.Contains(out, "| kubenet | **FAIL** | pod to pod across nodes |") ||
		!strings.Contains(out, "compare ratios across runs") {
		t.Errorf("matrix lacks the perf rows:\n%s", out)
	}
}
