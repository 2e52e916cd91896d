package htmlreport

import (
	"fmt"
	"html/template"
	"sort"
	"strings"

	"github.com/netconform/netconform/framework/results"
	"github.com/netconform/netconform/reports"
)

type matrixPage struct {
	Generated string
	Runs      []matrixRun
	Rows      []matrixRow
	Suites    []string
	Policy    []matrixPolicy
	Perf      []matrixPerf
	// PerfCharts compare the runs: per netperf test a bar per run and path.
	PerfCharts []template.HTML
}

type matrixRun struct {
	reports.Run
	Href, OutcomeClass, Mark, Options string
}

type matrixRow struct {
	ID, Suite, Name string
	Statuses        string // space separated, one per cell: for the status filter
	Failed          int
	Cells           []matrixCell
}

type matrixCell struct {
	Status        results.Status
	Reason, Title string
}

type matrixPolicy struct {
	Label string
	Stats reports.PolicyStats
}

type matrixPerf struct {
	Label string
	Paths []string
}

func matrixView(m *reports.Matrix, links []string) matrixPage {
	v := matrixPage{Generated: m.Generated.Format("2006-01-02 15:04 MST")}
	var perf reports.PerfStats
	for i, r := range m.Runs {
		o := results.Outcome(r.Verdict)
		mr := matrixRun{Run: r, OutcomeClass: outcomeClass(o), Mark: outcomeMark(o)}
		if i < len(links) {
			mr.Href = links[i]
		}
		if len(r.ProviderOptions) > 0 {
			mr.Options = strings.TrimSuffix(strings.TrimPrefix(reports.RunLabel("", r.ProviderOptions), " ("), ")")
		}
		v.Runs = append(v.Runs, mr)
		if r.NetworkPolicy != nil {
			v.Policy = append(v.Policy, matrixPolicy{Label: r.Label, Stats: *r.NetworkPolicy})
		}
		if r.Perf != nil {
			mp := matrixPerf{Label: r.Label}
			for _, p := range r.Perf.Paths {
				runPath := p
				runPath.Name = r.Label + ": " + p.Name
				perf.Paths = append(perf.Paths, runPath)
				var figs []string
				for _, f := range p.Tests {
					figs = append(figs, f.Test+" "+f.Headline())
				}
				line := p.Name + ": " + strings.Join(figs, ", ")
				if p.Status != results.Passed {
					line = fmt.Sprintf("%s %s: %s", statusWord(p.Status), p.Name, p.Reason)
				}
				mp.Paths = append(mp.Paths, line)
			}
			v.Perf = append(v.Perf, mp)
		}
	}
	if len(perf.Paths) > 0 {
		v.PerfCharts = perfCharts(perf)
	}
	suites := map[string]bool{}
	for _, row := range m.Checks {
		suites[row.Suite] = true
		mr := matrixRow{ID: row.ID, Suite: row.Suite, Name: row.Name}
		var sts []string
		for i, c := range row.Cells {
			st := c.Status
			if st != "" && st != results.Passed && st != results.Skipped {
				st = results.Failed // running or unknown: not a verdict to trust
			}
			cell := matrixCell{Status: st, Reason: c.Reason}
			run := ""
			if i < len(m.Runs) {
				run = m.Runs[i].Label
			}
			switch {
			case st == "" && i < len(m.Runs) && m.Runs[i].Error != "":
				cell.Reason = "the run could not run: " + firstLine(m.Runs[i].Error)
			case st == "":
				cell.Reason = "not in this run (left out by its label filter, or added later)"
			}
			cell.Title = fmt.Sprintf("%s in %s: %s", row.ID, run, statusWord(st))
			if cell.Reason != "" {
				// The cell shows the reason's first line; the title has more of it (a
				// NetworkPolicy reason carries whole truth tables; the run's page draws them).
				cell.Title += ": " + clip(strings.TrimSpace(cell.Reason), 600)
				cell.Reason = firstLine(cell.Reason)
			}
			if st == results.Failed {
				mr.Failed++
			}
			label := string(st)
			if label == "" {
				label = "none"
			}
			sts = append(sts, label)
			mr.Cells = append(mr.Cells, cell)
		}
		mr.Statuses = strings.Join(sts, " ")
		v.Rows = append(v.Rows, mr)
	}
	v.Suites = sortedKeys(suites)
	sort.SliceStable(v.Rows, func(i, j int) bool {
		if v.Rows[i].Suite != v.Rows[j].Suite {
			return v.Rows[i].Suite < v.Rows[j].Suite
		}
		return v.Rows[i].ID < v.Rows[j].ID
	})
	return v
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return clip(s, 200)
}
