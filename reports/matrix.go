package reports

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/netconform/netconform/framework/results"
)

// MatrixSchemaVersion of the matrix JSON.
const MatrixSchemaVersion = 1

// Matrix is a compatibility matrix: one column per run (a provider with its options on a
// platform), one row per check, and each cell the check's verdict in that run.
type Matrix struct {
	SchemaVersion int       `json:"schemaVersion"`
	Generated     time.Time `json:"generated"`
	Runs          []Run     `json:"runs"`
	Checks        []Row     `json:"checks"`
}

// Run is one column: what ran where, and how it ended.
type Run struct {
	// Label names the column (see BuildMatrix): the provider and its options, "A -> B" for a
	// cluster switched from A to B, " @ VERSION" when the matrix spans Kubernetes versions, and
	// " #2" when the same column ran more than once.
	Label             string            `json:"label"`
	Provider          string            `json:"provider"`
	Networking        string            `json:"networking,omitempty"`
	KopsStanding      string            `json:"kopsStanding,omitempty"`
	ProviderOptions   map[string]string `json:"providerOptions,omitempty"`
	SwitchFrom        string            `json:"switchFrom,omitempty"`
	RunID             string            `json:"runID"`
	Platform          string            `json:"platform"`
	KubernetesVersion string            `json:"kubernetesVersion,omitempty"`
	NodeImage         string            `json:"nodeImage,omitempty"`
	Kernel            string            `json:"kernel,omitempty"`
	Nodes             int               `json:"nodes,omitempty"`
	Started           time.Time         `json:"started"`
	// Verdict is PASS, FAIL, COULD NOT RUN or INCOMPLETE, as in the run's summary (results.Judge),
	// with the reasons it is not PASS.
	Verdict string   `json:"verdict"`
	Reasons []string `json:"reasons,omitempty"`
	Error   string   `json:"error,omitempty"`
	Passed  int      `json:"passed"`
	Failed  int      `json:"failed"`
	Skipped int      `json:"skipped"`
	// Source is the result file the column came from.
	Source string `json:"source,omitempty"`
	// Cell is the name of the matrix plan's cell the run was (results.Cell); empty outside a plan.
	Cell string `json:"cell,omitempty"`
	// NetworkPolicy sums up the run's NetworkPolicy scenarios; nil when it had none.
	NetworkPolicy *PolicyStats `json:"networkPolicy,omitempty"`
	// Perf is the run's perf paths; nil when it measured none.
	Perf *PerfStats `json:"perf,omitempty"`
}

// Row is one check across the runs.
type Row struct {
	ID    string `json:"id"`
	Suite string `json:"suite"`
	Name  string `json:"name"`
	// Cells are in the order of Matrix.Runs.
	Cells []Cell `json:"cells"`
}

// Cell is a check's verdict in one run; Status is empty when the run did not have the check
// (it could not run, or ran with a label filter that left the check out).
type Cell struct {
	Status results.Status `json:"status,omitempty"`
	Reason string         `json:"reason,omitempty"`
}

// Source is a result and where it was read from.
type Source struct {
	Path   string
	Result *results.Result
}

// PlanOrder sorts the results of a matrix plan's cells (results.Result.Cell) into the plan's
// order, by cell index (then name), ahead of results that were no cell, which keep the order
// given: the results of a plan split into shards, merged in any order or grouping, make the same
// columns, labels included, as the plan run on one machine.
func PlanOrder(srcs []Source) {
	sort.SliceStable(srcs, func(i, j int) bool {
		a, b := srcs[i].Result.Cell, srcs[j].Result.Cell
		switch {
		case a == nil || b == nil:
			return a != nil && b == nil
		case a.Index != b.Index:
			return a.Index < b.Index
		}
		return a.Name < b.Name
	})
}

// BuildMatrix merges results into a matrix. Columns are in the order given (PlanOrder puts a
// plan's results in the plan's order); rows in suite and check order.
//
// A column's label is RunLabel of its provider and options, preceded by "FROM -> " for a switch.
// When the runs span more than one Kubernetes version, the label of every run that knows its
// version ends in " @ VERSION" ("kubenet @ v1.35.4", "kubenet -> calico (mtu=1400) @ v1.34.4"),
// so that the same provider on two versions makes two columns of their own; with one version
// labels carry none. A label that would repeat then gets " #2", " #3", ... in column order: only
// runs of the same provider, options, switch and version.
func BuildMatrix(srcs []Source, now time.Time) *Matrix {
	m := &Matrix{SchemaVersion: MatrixSchemaVersion, Generated: now.UTC(), Runs: []Run{}, Checks: []Row{}}
	versioned := spansVersions(srcs)
	seen := map[string]int{}
	rows := map[string]*Row{}
	for i, s := range srcs {
		r := s.Result
		label := RunLabel(r.Provider, r.ProviderOptions)
		if r.SwitchFrom != "" {
			label = r.SwitchFrom + " -> " + label
		}
		if versioned && r.KubernetesVersion != "" {
			label += " @ " + r.KubernetesVersion
		}
		seen[label]++
		if seen[label] > 1 {
			label = fmt.Sprintf("%s #%d", label, seen[label])
		}
		p, f, sk := r.Counts()
		v := r.Judge()
		run := Run{
			Label: label, Provider: r.Provider, Networking: r.Networking, KopsStanding: r.KopsStanding, ProviderOptions: r.ProviderOptions, SwitchFrom: r.SwitchFrom, RunID: r.RunID, Platform: r.Platform,
			KubernetesVersion: r.KubernetesVersion, NodeImage: r.NodeImage, Kernel: r.Kernel, Nodes: r.Nodes, Started: r.Started,
			Verdict: string(v.Outcome), Reasons: v.Reasons, Error: r.Error, Passed: p, Failed: f, Skipped: sk, Source: s.Path,
		}
		if r.Cell != nil {
			run.Cell = r.Cell.Name
		}
		if ps, ok := PolicySummary(r); ok {
			run.NetworkPolicy = &ps
		}
		if ps, ok := PerfSummary(r); ok {
			run.Perf = &ps
		}
		m.Runs = append(m.Runs, run)
		for _, c := range r.Checks {
			row, ok := rows[c.ID]
			if !ok {
				row = &Row{ID: c.ID, Suite: c.Suite, Name: c.Name}
				rows[c.ID] = row
			}
			for len(row.Cells) < i {
				row.Cells = append(row.Cells, Cell{})
			}
			if len(row.Cells) == i {
				cell := Cell{Status: c.Status, Reason: c.Reason}
				if c.Status == results.Passed && !c.Measured() {
					// The same rule as results.Judge: a pass that observed nothing is not one.
					cell = Cell{Status: results.Failed, Reason: "passed with nothing observed or measured"}
				}
				row.Cells = append(row.Cells, cell)
			}
		}
	}
	for _, row := range rows {
		for len(row.Cells) < len(srcs) {
			row.Cells = append(row.Cells, Cell{})
		}
		m.Checks = append(m.Checks, *row)
	}
	sort.Slice(m.Checks, func(i, j int) bool {
		if m.Checks[i].Suite != m.Checks[j].Suite {
			return m.Checks[i].Suite < m.Checks[j].Suite
		}
		return m.Checks[i].ID < m.Checks[j].ID
	})
	return m
}

// spansVersions tells whether the results name more than one Kubernetes version. A run that
// records none (one that could not start a cluster) is not another version.
func spansVersions(srcs []Source) bool {
	first := ""
	for _, s := range srcs {
		switch v := s.Result.KubernetesVersion; {
		case v == "":
		case first == "":
			first = v
		case v != first:
			return true
		}
	}
	return false
}

// RunLabel is a provider with its options, as a column heading.
func RunLabel(provider string, opts map[string]string) string {
	if len(opts) == 0 {
		return provider
	}
	var kv []string
	for _, k := range slices.Sorted(maps.Keys(opts)) {
		kv = append(kv, k+"="+opts[k])
	}
	return provider + " (" + strings.Join(kv, ", ") + ")"
}

// WriteJSON writes the matrix as JSON.
func (m *Matrix) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(m); err != nil {
		return fmt.Errorf("matrix JSON: %w", err)
	}
	return nil
}

// WriteMarkdown writes matrix.md: the runs (provider, kops --networking value, platform,
// Kubernetes version, kernel, verdict), then one row per check with a column per run. Skips and
// could-not-run cells carry numbered notes with their reasons, so that no skip reads as a pass.
// Runs with NetworkPolicy scenarios then get a row each in a NetworkPolicy section.
func (m *Matrix) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	b.WriteString("# netconform compatibility matrix\n\n")
	if len(m.Runs) == 0 {
		b.WriteString("No results.\n")
		_, err := io.WriteString(w, b.String())
		return err
	}
	notes := map[string]int{}
	var noteText []string
	note := func(reason string) int {
		reason = oneLine(reason)
		if n, ok := notes[reason]; ok {
			return n
		}
		noteText = append(noteText, reason)
		notes[reason] = len(noteText)
		return len(noteText)
	}
	b.WriteString("| run | kops --networking | platform | Kubernetes | kops on it | nodes | kernel | verdict | passed | failed | skipped |\n|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range m.Runs {
		verdict := r.Verdict
		if len(r.Reasons) > 0 {
			verdict = fmt.Sprintf("%s [%d]", verdict, note(r.note()))
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %s | %d | %d | %d |\n", cell(r.Label), cell(orDash(r.Networking)), cell(r.Platform), cell(orDash(r.KubernetesVersion)),
			cell(orDash(r.KopsStanding)), nodesText(r.Nodes), cell(orDash(r.Kernel)), cell(verdict), r.Passed, r.Failed, r.Skipped)
	}
	b.WriteString("\n")
	if len(m.Checks) == 0 {
		b.WriteString("No checks ran.\n")
	} else {
		m.writeRows(&b, note)
	}
	m.writePolicy(&b)
	m.writePerf(&b)
	if len(noteText) > 0 {
		b.WriteString("\n## Notes\n\n")
		for i, t := range noteText {
			fmt.Fprintf(&b, "%d. %s\n", i+1, cell(t))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func (m *Matrix) writeRows(b *strings.Builder, note func(string) int) {
	b.WriteString("| suite | check |")
	for _, r := range m.Runs {
		fmt.Fprintf(b, " %s |", cell(r.Label))
	}
	b.WriteString("\n|---|---|")
	for range m.Runs {
		b.WriteString("---|")
	}
	b.WriteString("\n")
	for _, row := range m.Checks {
		fmt.Fprintf(b, "| %s | %s |", row.Suite, cell(row.Name))
		for i, c := range row.Cells {
			fmt.Fprintf(b, " %s |", m.cellText(i, c, note))
		}
		b.WriteString("\n")
	}
	b.WriteString("\npass: the check passed; FAIL: it failed; skip: it could not apply (see the note); " +
		"not run: the run ended before its checks, or its label filter left the check out.\n")
}

func (m *Matrix) cellText(run int, c Cell, note func(string) int) string {
	switch c.Status {
	case results.Passed:
		return "pass"
	case results.Failed:
		return "**FAIL**"
	case results.Skipped:
		if c.Reason == "" {
			return "skip"
		}
		return fmt.Sprintf("skip [%d]", note(c.Reason))
	case results.Running:
		return "**FAIL** (did not finish)"
	case "":
	default:
		// A status this renderer does not know is a failure, never a pass.
		return fmt.Sprintf("**FAIL** (unknown status %q)", c.Status)
	}
	if r := m.Runs[run]; r.Error != "" {
		return fmt.Sprintf("not run [%d]", note(r.note()))
	}
	return "not run"
}

// note is the run's verdict reasons as a matrix note.
func (r Run) note() string { return r.Label + ": " + strings.Join(r.Reasons, "; ") }

func nodesText(n int) string {
	if n == 0 {
		return "-"
	}
	return fmt.Sprint(n)
}

// writePolicy writes the NetworkPolicy section: a row per run with NetworkPolicy scenarios, none
// when no run had them.
func (m *Matrix) writePolicy(b *strings.Builder) {
	var runs []Run
	for _, r := range m.Runs {
		if r.NetworkPolicy != nil {
			runs = append(runs, r)
		}
	}
	if len(runs) == 0 {
		return
	}
	tags := PolicyTags()
	b.WriteString("\n## NetworkPolicy\n\n| run | scenarios |")
	for _, t := range tags {
		fmt.Fprintf(b, " %s |", t)
	}
	b.WriteString(" in effect p50 / p95 / p99 |\n|---|---|")
	for range tags {
		b.WriteString("---|")
	}
	b.WriteString("---|\n")
	for _, r := range runs {
		s := r.NetworkPolicy
		fmt.Fprintf(b, "| %s | %d/%d |", cell(r.Label), s.Passed, s.Total())
		for _, t := range s.Tags {
			fmt.Fprintf(b, " %s |", tagCell(t))
		}
		fmt.Fprintf(b, " %s |\n", percentilesCell(s.InEffectSeconds))
	}
	b.WriteString("\nscenarios and tags: passed/total of the scenarios that ran (skipped ones count in neither); " +
		"-: the run had no scenario with the tag. in effect: seconds from creating or updating a scenario's policies " +
		"to their effect on every affected cell, nearest-rank percentiles over every step that changed cells (a scenario of two steps measures twice); -: none did.\n")
}

// writePerf writes the performance section: a row per run and path, none when no run measured
// performance.
func (m *Matrix) writePerf(b *strings.Builder) {
	header, kind := true, false
	for _, r := range m.Runs {
		if r.Perf == nil {
			continue
		}
		kind = kind || r.Platform == "kind"
		if header {
			b.WriteString("\n## Performance\n\n")
		}
		perfTable(b, r.Label, *r.Perf, header)
		header = false
	}
	if !header {
		b.WriteString("\n" + perfNote)
		if kind {
			b.WriteString("On kind every node is a container on one machine: compare ratios across runs, not figures across machines.\n")
		}
	}
}

// percentilesCell is "1.2 / 3.4 / 3.9 s", or "-" with no sample.
func percentilesCell(p Percentiles) string {
	if p.Samples == 0 {
		return "-"
	}
	return fmt.Sprintf("%s / %s / %s s", trimFloat(p.P50), trimFloat(p.P95), trimFloat(p.P99))
}
