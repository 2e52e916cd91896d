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

// TestPerfChanges: a switch result holding a path measured before the roll (label "before",
// ID under "before/") and after it is compared test by test; a before path with no after twin,
// or a test measured on one side only, is not.
func TestPerfChanges(t *testing.T) {
	r := perfResult()
	r.Provider, r.SwitchFrom = "calico", "flannel"
	before := r.Checks[1] // pod to pod across nodes: TCP_STREAM 2700 ± 80, UDP_STREAM 800 ± 5
	before.ID = results.BeforeIDPrefix + before.ID
	before.Name += " (flannel, before the switch)"
	before.Labels = append(append([]string(nil), before.Labels...), results.BeforeLabel)
	before.Measurements = []results.Measurement{
		{Name: "TCP_STREAM throughput", Value: 3000, Unit: "Mbit/s"}, {Name: "TCP_STREAM throughput ci95", Value: 100, Unit: "Mbit/s"},
		{Name: "TCP_STREAM ratio to host", Value: 0.5, Unit: "ratio"},
		{Name: "UDP_STREAM throughput", Value: 810, Unit: "Mbit/s"}, {Name: "UDP_STREAM throughput ci95", Value: 10, Unit: "Mbit/s"},
		{Name: "TCP_RR transactions", Value: 9000, Unit: "transactions/s"}, // no TCP_RR after: not compared
	}
	orphan := before
	orphan.ID = results.BeforeIDPrefix + "perf/gone"
	r.Checks = append(r.Checks, before, orphan)

	changes := PerfChanges(r)
	if len(changes) != 2 {
		t.Fatalf("got %d changes, want TCP_STREAM and UDP_STREAM of one path: %+v", len(changes), changes)
	}
	stream, udp := changes[0], changes[1]
	if stream.Path != "pod to pod across nodes" || stream.Before.Test != "TCP_STREAM" || stream.Before.Value != 3000 || stream.After.Value != 2700 {
		t.Errorf("TCP_STREAM change: %+v", stream)
	}
	if got := stream.Change(); got > -0.099 || got < -0.101 {
		t.Errorf("TCP_STREAM change %.4f, want -0.10", got)
	}
	if stream.WithinNoise() {
		t.Error("300 Mbit/s apart with intervals of 100 and 80 is called noise")
	}
	if !udp.WithinNoise() {
		t.Error("10 Mbit/s apart with intervals of 10 and 5 is not called noise")
	}

	var sb strings.Builder
	if err := Markdown(&sb, r); err != nil {
		t.Fatal(err)
	}
	md := sb.String()
	for _, want := range []string{"## Performance before and after the switch", "| path | test | flannel | calico | change | ratio to host, flannel -> calico |",
		"| pod to pod across nodes | TCP_STREAM | 3000 ± 100 Mbit/s | 2700 ± 80.0 Mbit/s | -10.0% | 0.50 -> 0.30 |",
		"| pod to pod across nodes | UDP_STREAM | 810 ± 10.0 Mbit/s | 800 ± 5.00 Mbit/s | -1.2% (within noise) | - |"} {
		if !strings.Contains(md, want) {
			t.Errorf("summary lacks %q:\n%s", want, md)
		}
	}
	if PerfChanges(perfResult()) != nil {
		t.Error("a run without before checks has changes")
	}
}
