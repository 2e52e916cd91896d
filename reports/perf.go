package reports

import (
	"fmt"
	"slices"
	"strings"

	"github.com/netconform/netconform/framework/results"
)

// The perf suite's conventions, which these reports rely on: every path is one check labelled
// perfLabel, measuring per netperf test "<TEST> throughput" (Mbit/s, stream tests) or
// "<TEST> transactions" (request/response tests), each with a " ci95" twin, "<TEST> latency
// p50|p90|p99" (µs), "<TEST> loss" (UDP stream), "<TEST> retransmits", and on pod paths "<TEST>
// ratio to host".
const perfLabel = "perf"

// PerfTests are netperf's tests in the order the reports show them.
func PerfTests() []string {
	return []string{"TCP_STREAM", "UDP_STREAM", "TCP_RR", "TCP_CRR", "UDP_RR"}
}

// PerfStats are a run's perf paths, in the order they ran.
type PerfStats struct {
	Paths []PerfPath `json:"paths"`
}

// PerfPath is one path's figures: its check's status and one entry per test it measured.
type PerfPath struct {
	Name   string         `json:"name"`
	Status results.Status `json:"status"`
	Reason string         `json:"reason,omitempty"`
	Tests  []PerfFigure   `json:"tests,omitempty"`
}

// PerfFigure is one test on one path: its headline figure (throughput or transactions per
// second) with the 95% confidence interval, latency percentiles, loss and the ratio to the host
// path (0 when there was none).
type PerfFigure struct {
	Test                string  `json:"test"`
	Value               float64 `json:"value"`
	CI95                float64 `json:"ci95"`
	Unit                string  `json:"unit"`
	P50US, P90US, P99US float64 `json:"-"`
	Loss                float64 `json:"loss,omitempty"`
	Ratio               float64 `json:"ratioToHost,omitempty"`
}

// PerfSummary collects the run's perf paths (checks labelled "perf" that measured something);
// false when there are none.
func PerfSummary(r *results.Result) (PerfStats, bool) {
	var s PerfStats
	for _, c := range r.Checks {
		if !slices.Contains(c.Labels, perfLabel) {
			continue
		}
		p := PerfPath{Name: c.Name, Status: c.Status, Reason: c.Reason}
		if c.Status == results.Passed && !c.Measured() {
			// The rule of results.Judge: a pass that measured nothing is not one.
			p.Status = results.Failed
		}
		for _, t := range PerfTests() {
			if f, ok := perfFigure(c, t); ok {
				p.Tests = append(p.Tests, f)
			}
		}
		s.Paths = append(s.Paths, p)
	}
	return s, len(s.Paths) > 0
}

func perfFigure(c results.Check, test string) (PerfFigure, bool) {
	f := PerfFigure{Test: test}
	found := false
	for _, m := range c.Measurements {
		name, ok := strings.CutPrefix(m.Name, test+" ")
		if !ok {
			continue
		}
		switch name {
		case "throughput", "transactions":
			f.Value, f.Unit, found = m.Value, m.Unit, true
		case "throughput ci95", "transactions ci95":
			f.CI95 = m.Value
		case "latency p50":
			f.P50US = m.Value
		case "latency p90":
			f.P90US = m.Value
		case "latency p99":
			f.P99US = m.Value
		case "loss":
			f.Loss = m.Value
		case "ratio to host":
			f.Ratio = m.Value
		}
	}
	return f, found
}

// perfCell is a figure for a table: "812 ± 40 Mbit/s", latency percentiles and loss where the
// test has them, and the ratio to the host path.
func perfCell(f PerfFigure) string {
	s := f.Headline()
	if f.P50US > 0 {
		s += fmt.Sprintf(", %s/%s/%s µs", results.Figure(f.P50US), results.Figure(f.P90US), results.Figure(f.P99US))
	}
	if f.Test == "UDP_STREAM" {
		s += fmt.Sprintf(", loss %.1f%%", 100*f.Loss)
	}
	if f.Ratio > 0 {
		s += fmt.Sprintf(" (×%.2f)", f.Ratio)
	}
	return s
}

// perfTable writes one row per path (label first when given) with a column per test.
func perfTable(b *strings.Builder, label string, s PerfStats, header bool) {
	if header {
		if label != "" {
			b.WriteString("| run ")
		}
		b.WriteString("| | path |")
		for _, t := range PerfTests() {
			fmt.Fprintf(b, " %s |", t)
		}
		b.WriteString("\n")
		if label != "" {
			b.WriteString("|---")
		}
		b.WriteString("|---|---|" + strings.Repeat("---|", len(PerfTests())) + "\n")
	}
	for _, p := range s.Paths {
		if label != "" {
			fmt.Fprintf(b, "| %s ", cell(label))
		}
		fmt.Fprintf(b, "| %s | %s |", markStatus(p.Status), cell(p.Name))
		for _, t := range PerfTests() {
			v := "-"
			for _, f := range p.Tests {
				if f.Test == t {
					v = perfCell(f)
				}
			}
			fmt.Fprintf(b, " %s |", v)
		}
		b.WriteString("\n")
	}
}

// perfNote explains the table's figures.
const perfNote = "mean ± 95% confidence interval over the samples; request/response tests: transactions per second and " +
	"latency p50/p90/p99 in µs (means of each sample's percentiles); (×r): the pod path's figure over the host path's. " +
	"Only TCP_STREAM and TCP_RR ratios are gated (--perf-tolerance).\n"

// writePerf writes a run summary's performance section.
func writePerf(b *strings.Builder, r *results.Result, s PerfStats) {
	b.WriteString("## Performance\n\n")
	if r.Platform == "kind" {
		b.WriteString("On kind every node is a container on this one machine: the figures are this machine's, " +
			"and only the ratios of pod paths to the host path are judged.\n\n")
	}
	perfTable(b, "", s, true)
	b.WriteString("\n" + perfNote + "\n")
}

// markStatus is a path's status as the checks table shows it (PerfSummary has already turned
// a pass with nothing measured into a failure).
func markStatus(s results.Status) string {
	switch s {
	case results.Passed:
		return "pass"
	case results.Skipped:
		return "skip"
	}
	return "**FAIL**"
}

// PerfChange is one test on one path, measured before the run changed the cluster (a switch's
// provider A) and after it (provider B).
type PerfChange struct {
	Path          string     `json:"path"`
	Before, After PerfFigure `json:"-"`
}

// Change is the after figure over the before figure, minus one.
func (c PerfChange) Change() float64 {
	if c.Before.Value == 0 {
		return 0
	}
	return c.After.Value/c.Before.Value - 1
}

// WithinNoise: the two means lie within the sum of their 95% intervals of each other, so the
// samples do not tell the difference from noise.
func (c PerfChange) WithinNoise() bool {
	d := c.After.Value - c.Before.Value
	if d < 0 {
		d = -d
	}
	return d <= c.Before.CI95+c.After.CI95
}

// PerfChanges pairs every perf path measured before the run changed the cluster (a check
// labelled results.BeforeLabel) with the same path measured after it (the check whose ID is the
// before check's without results.BeforeIDPrefix), test by test, in the order the before paths
// ran. Paths or tests measured only once have no change.
func PerfChanges(r *results.Result) []PerfChange {
	after := map[string]results.Check{}
	for _, c := range r.Checks {
		if slices.Contains(c.Labels, perfLabel) && !slices.Contains(c.Labels, results.BeforeLabel) {
			after[c.ID] = c
		}
	}
	var out []PerfChange
	for _, b := range r.Checks {
		if !slices.Contains(b.Labels, perfLabel) || !slices.Contains(b.Labels, results.BeforeLabel) {
			continue
		}
		a, ok := after[strings.TrimPrefix(b.ID, results.BeforeIDPrefix)]
		if !ok {
			continue
		}
		for _, t := range PerfTests() {
			fb, okB := perfFigure(b, t)
			fa, okA := perfFigure(a, t)
			if okB && okA {
				out = append(out, PerfChange{Path: a.Name, Before: fb, After: fa})
			}
		}
	}
	return out
}

// writePerfChanges writes a switch summary's comparison: each figure on the provider the
// cluster ran before the switch and on the one after it.
func writePerfChanges(b *strings.Builder, r *results.Result, changes []PerfChange) {
	from := r.SwitchFrom
	if from == "" {
		from = "before"
	}
	b.WriteString("## Performance before and after the switch\n\n")
	fmt.Fprintf(b, "The same paths on the same cluster: on %s before the roll, on %s after it. "+
		"\"within noise\": the means are closer than their two 95%% intervals together. The host path is "+
		"measured again each time, and moves with the machine's state as much as the pod paths do: the "+
		"pod paths' ratios to it (last column), each against its own host measurement, are the comparison that "+
		"depends least on the machine.\n\n", from, r.Provider)
	fmt.Fprintf(b, "| path | test | %s | %s | change | ratio to host, %s -> %s |\n|---|---|---|---|---|---|\n",
		cell(from), cell(r.Provider), cell(from), cell(r.Provider))
	for _, c := range changes {
		change := fmt.Sprintf("%+.1f%%", 100*c.Change())
		if c.WithinNoise() {
			change += " (within noise)"
		}
		ratio := "-"
		if c.Before.Ratio > 0 && c.After.Ratio > 0 {
			ratio = fmt.Sprintf("%.2f -> %.2f", c.Before.Ratio, c.After.Ratio)
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %s |\n", cell(c.Path), c.Before.Test, changeCell(c.Before), changeCell(c.After), change, ratio)
	}
	b.WriteString("\n")
}

// changeCell is a headline figure with its interval and, for request/response tests, the
// median latency.
func changeCell(f PerfFigure) string {
	s := f.Headline()
	if f.P50US > 0 {
		s += fmt.Sprintf(", p50 %s µs", results.Figure(f.P50US))
	}
	return s
}

// Headline is the figure's mean with its 95% interval and unit ("812 ± 40 Mbit/s"); one
// sample has no interval, and none is shown.
func (f PerfFigure) Headline() string {
	unit := f.Unit
	if unit == "transactions/s" {
		unit = "tps"
	}
	if f.CI95 == 0 {
		return fmt.Sprintf("%s %s", results.Figure(f.Value), unit)
	}
	return fmt.Sprintf("%s ± %s %s", results.Figure(f.Value), results.Figure(f.CI95), unit)
}
