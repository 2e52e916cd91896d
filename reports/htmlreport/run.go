package htmlreport

import (
	"fmt"
	"html/template"
	"io"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/netconform/netconform/framework/results"
	"github.com/netconform/netconform/reports"
)

// RunOptions add what the result file does not hold.
type RunOptions struct {
	// Switch is the switch's probe record (disruption.json); with it the page shows the timeline.
	Switch *Switch
	// SwitchError says why a switch record beside the result could not be read.
	SwitchError string
	// EvidenceHref is the evidence bundle's address from the page; "" shows none.
	EvidenceHref string
	// MatrixHref links back to a matrix page; "" shows none.
	MatrixHref string
}

// Bounds that keep a page of a large cluster readable and its file small; the result JSON keeps
// everything.
const (
	maxListed   = 60 // observations listed per check (failing first)
	maxGridSide = 24 // nodes per grid side; larger clusters get the list only
)

type runView struct {
	Outcome      results.Outcome
	OutcomeClass string
	Reasons      []string
	Facts        [][2]string
	Passed       int
	Failed       int
	Skipped      int
	Partial      bool
	Error        string
	Timeline     template.HTML
	Phases       []phaseView
	Causes       []results.Cause
	EvidenceHref string
	MatrixHref   string
	Suites       []string
	Labels       []string
	Checks       []checkView
	MTU          []mtuNode
	Policy       *reports.PolicyStats
	PerfCharts   []template.HTML
	PerfChanges  []changeView
	Switch       *switchView
	SwitchError  string
}

type phaseView struct {
	Name   string
	Status results.Status
	Time   string
	Error  string
}

type checkView struct {
	ID, Suite, Name string
	Status          results.Status
	Labels          string
	Time            string
	Reason          string
	Measurements    []string
	Grids           []gridView
	Policies        []policyTable
	Observations    []obsView
	More            int
	Open            bool
}

type obsView struct {
	results.Observation
	Status results.Status
}

// Run writes the page of one run: a switch page when the run switched providers.
func Run(w io.Writer, r *results.Result, opt RunOptions) error {
	v := runPage(r, opt)
	kind, title := "run", fmt.Sprintf("netconform %s: %s", v.Outcome, r.Provider)
	if v.Switch != nil || r.SwitchFrom != "" {
		kind, title = "switch", fmt.Sprintf("netconform %s: %s -> %s", v.Outcome, r.SwitchFrom, r.Provider)
	}
	return render(w, "run.tmpl", kind, title, v)
}

func runPage(r *results.Result, opt RunOptions) *runView {
	verdict := r.Judge()
	p, f, s := r.Counts()
	v := &runView{
		Outcome: verdict.Outcome, OutcomeClass: outcomeClass(verdict.Outcome), Reasons: verdict.Reasons,
		Passed: p, Failed: f, Skipped: s, Partial: !r.Complete, Error: r.Error, Causes: r.Causes,
		EvidenceHref: opt.EvidenceHref, MatrixHref: opt.MatrixHref, SwitchError: opt.SwitchError,
	}
	provider := r.Provider
	if r.SwitchFrom != "" {
		provider = r.SwitchFrom + " -> " + r.Provider + " (switched node by node)"
	}
	v.Facts = [][2]string{{"provider", provider}, {"kops --networking", r.Networking}, {"platform", r.Platform}, {"Kubernetes", r.KubernetesVersion},
		{"nodes", fmt.Sprint(r.Nodes)}, {"node image", r.NodeImage}, {"kernel", r.Kernel}, {"run", r.RunID},
		{"started", r.Started.UTC().Format(time.RFC3339)}}
	if !r.Finished.IsZero() {
		v.Facts = append(v.Facts, [2]string{"took", r.Finished.Sub(r.Started).Round(time.Second).String()})
	}
	if r.KopsStanding != "" {
		v.Facts = append(v.Facts, [2]string{"kops on it", r.KopsStanding})
	}
	if line := reports.ImagesLine(r.Images); line != "" {
		v.Facts = append(v.Facts, [2]string{"images", strings.TrimPrefix(line, "Provider images: ")})
	}
	if len(r.ProviderOptions) > 0 {
		v.Facts = append(v.Facts, [2]string{"options", strings.TrimSuffix(strings.TrimPrefix(reports.RunLabel("", r.ProviderOptions), " ("), ")")})
	}
	for _, ph := range r.Phases {
		v.Phases = append(v.Phases, phaseView{Name: ph.Name, Status: phaseStatus(ph.Status), Time: dur(ph.DurationMS), Error: ph.Error})
	}
	v.Timeline = phaseTimeline(r)
	checks := append([]results.Check(nil), r.Checks...)
	results.SortChecks(checks)
	// Failures first: they are what a reader opens the page for; then suite order as elsewhere.
	sort.SliceStable(checks, func(i, j int) bool {
		return effective(checks[i]) == results.Failed && effective(checks[j]) != results.Failed
	})
	suites, labels := map[string]bool{}, map[string]bool{}
	for _, c := range checks {
		suites[c.Suite] = true
		for _, l := range c.Labels {
			labels[l] = true
		}
		v.Checks = append(v.Checks, checkPage(c))
	}
	v.Suites = sortedKeys(suites)
	v.Labels = sortedKeys(labels)
	v.MTU = mtuTable(checks)
	if ps, ok := reports.PolicySummary(r); ok {
		v.Policy = &ps
	}
	if ps, ok := reports.PerfSummary(r); ok {
		v.PerfCharts = perfCharts(ps)
	}
	for _, c := range reports.PerfChanges(r) {
		v.PerfChanges = append(v.PerfChanges, changePage(c))
	}
	if opt.Switch != nil {
		v.Switch = switchPage(opt.Switch, r)
	}
	return v
}

// phaseStatus: a phase's status as the verdict reads it (running or unknown is not a pass).
func phaseStatus(s results.Status) results.Status {
	if s == results.Passed || s == results.Skipped {
		return s
	}
	return results.Failed
}

func checkPage(c results.Check) checkView {
	st := effective(c)
	cv := checkView{ID: c.ID, Suite: c.Suite, Name: c.Name, Status: st, Labels: strings.Join(c.Labels, " "),
		Time: dur(c.DurationMS), Reason: c.Reason, Open: st == results.Failed}
	if c.Status == results.Passed && !c.Measured() {
		cv.Reason = "passed with nothing observed or measured: not a pass"
	} else if !c.Status.Known() || c.Status == results.Running {
		cv.Reason = fmt.Sprintf("status %q: not a verdict this report can trust; %s", c.Status, c.Reason)
	}
	for _, m := range c.Measurements {
		cv.Measurements = append(cv.Measurements, fmt.Sprintf("%s = %s%s", m.Name, results.Figure(m.Value), unitSuffix(m.Unit)))
	}
	if slices.Contains(c.Labels, "netpol") {
		cv.Policies = policyTables(c)
	}
	if len(cv.Policies) == 0 {
		cv.Grids = pairGrids(c)
	}
	// The list has every observation the grids and tables do not show, failing ones first.
	var failing, ok []obsView
	for _, o := range c.Observations {
		ov := obsView{Observation: o, Status: results.Passed}
		if !o.OK {
			ov.Status = results.Failed
			failing = append(failing, ov)
		} else {
			ok = append(ok, ov)
		}
	}
	all := append(failing, ok...)
	if len(cv.Policies) > 0 {
		all = failing // the truth tables show every cell; the list keeps the rows that differ
	}
	if len(all) > maxListed {
		cv.More = len(all) - maxListed
		all = all[:maxListed]
	}
	cv.Observations = all
	return cv
}

func unitSuffix(u string) string {
	if u == "" {
		return ""
	}
	return " " + u
}

func sortedKeys(m map[string]bool) []string { return slices.Sorted(maps.Keys(m)) }

// gridView is one protocol's node x node grid of a pair check.
type gridView struct {
	Protocol string
	Nodes    []string // column order; rows use the same order
	Short    []string // node names without the cluster's common prefix
	Rows     []gridRow
}

type gridRow struct {
	From  string
	Short string
	Cells []gridCell
}

type gridCell struct {
	From, To string
	Protocol string
	Status   string // ok, fail, none
	Mark     string
	RTT      string
	Obs      []results.Observation
}

// pairGrids draws a grid per protocol when a check's observations go from node to node (the
// target may be a node's host network, NodePort or hostPort: the cell is still a node pair).
// Checks whose targets are Services, names or outside addresses keep the list.
func pairGrids(c results.Check) []gridView {
	if len(c.Observations) == 0 {
		return nil
	}
	from := map[string]bool{}
	for _, o := range c.Observations {
		if o.From == "" || o.To == "" {
			return nil
		}
		from[o.From] = true
	}
	byProto := map[string][]results.Observation{}
	var protos []string
	nodes := map[string]bool{}
	for _, o := range c.Observations {
		to := targetNode(o.To)
		if !from[to] {
			return nil
		}
		nodes[to], nodes[o.From] = true, true
		if _, ok := byProto[o.Protocol]; !ok {
			protos = append(protos, o.Protocol)
		}
		byProto[o.Protocol] = append(byProto[o.Protocol], o)
	}
	if len(nodes) < 2 || len(nodes) > maxGridSide {
		return nil
	}
	order := sortedKeys(nodes)
	short := shortNames(order)
	var grids []gridView
	for _, p := range protos {
		g := gridView{Protocol: p, Nodes: order, Short: short}
		cells := map[[2]string]*gridCell{}
		for _, o := range byProto[p] {
			k := [2]string{o.From, targetNode(o.To)}
			gc := cells[k]
			if gc == nil {
				gc = &gridCell{From: k[0], To: k[1], Protocol: p, Status: "ok"}
				cells[k] = gc
			}
			gc.Obs = append(gc.Obs, o)
			if !o.OK {
				gc.Status = "fail"
			}
		}
		for i, f := range order {
			row := gridRow{From: f, Short: short[i]}
			for _, t := range order {
				gc := cells[[2]string{f, t}]
				if gc == nil {
					row.Cells = append(row.Cells, gridCell{From: f, To: t, Protocol: p, Status: "none", Mark: "·"})
					continue
				}
				gc.Mark = "✓"
				if gc.Status == "fail" {
					gc.Mark = "✗"
				}
				gc.RTT = cellRTT(gc.Obs)
				row.Cells = append(row.Cells, *gc)
			}
			g.Rows = append(g.Rows, row)
		}
		grids = append(grids, g)
	}
	return grids
}

// targetNode is the node a target names: "<node>", "<node> host", "<node> NodePort",
// "<node> hostPort" and "<node> NodePort (local endpoint)" all name <node>.
func targetNode(to string) string {
	for _, suffix := range []string{" host", " NodePort", " hostPort"} {
		if i := strings.Index(to, suffix); i > 0 {
			return to[:i]
		}
	}
	return to
}

func cellRTT(obs []results.Observation) string {
	var sum float64
	n := 0
	for _, o := range obs {
		if o.OK && o.RTTMS > 0 {
			sum += o.RTTMS
			n++
		}
	}
	if n == 0 {
		return ""
	}
	return results.Figure(sum/float64(n)) + " ms"
}

// shortNames drops the prefix every name shares up to its last "-" (kind names nodes
// "<cluster>-worker2"), so grid headers stay narrow; the full name is in each cell's title.
func shortNames(names []string) []string {
	out := append([]string(nil), names...)
	if len(names) < 2 {
		return out
	}
	prefix := names[0]
	for _, n := range names[1:] {
		for !strings.HasPrefix(n, prefix) {
			prefix = prefix[:len(prefix)-1]
		}
	}
	cut := strings.LastIndex(prefix, "-") + 1
	if cut <= 0 {
		return out
	}
	for i, n := range names {
		if len(n) > cut {
			out[i] = n[cut:]
		}
	}
	return out
}

// mtuNode is one node's devices with their expected and observed MTU.
type mtuNode struct {
	Node    string
	Devices []mtuDevice
}

type mtuDevice struct {
	Device, Expected, Observed string
	OK                         bool
}

// mtuTable collects the MTU checks' device observations (protocol "mtu"), node by node.
func mtuTable(checks []results.Check) []mtuNode {
	var out []mtuNode
	idx := map[string]int{}
	for _, c := range checks {
		for _, o := range c.Observations {
			if o.Protocol != "mtu" || o.From == "" {
				continue
			}
			i, ok := idx[o.From]
			if !ok {
				i = len(out)
				idx[o.From] = i
				out = append(out, mtuNode{Node: o.From})
			}
			out[i].Devices = append(out[i].Devices, mtuDevice{Device: o.To, Expected: o.Expected, Observed: o.Observed, OK: o.OK})
		}
	}
	return out
}

// policyTable is one NetworkPolicy scenario's truth table for one port: sources by
// destinations, each cell the model's answer and what was seen.
type policyTable struct {
	Protocol     string
	Destinations []string
	Rows         []policyRow
	Differ       int
}

type policyRow struct {
	Source string
	Node   string
	Cells  []policyCell
}

type policyCell struct {
	Expected, Observed string
	// Class is "" where the observation agrees with the model, "differ" where not and "self" for
	// the source itself; only differing cells carry a title (a scenario has hundreds of cells).
	Class string
	Title string
}

// policyTables reads the NetworkPolicy suite's observations: From "<node> <ns>/<pod>", Protocol
// "<port>/<proto>", Expected and Observed one character per destination ("A" admitted, "-"
// blocked), Detail "destinations in order: <ns>/<pod> ...". A scenario whose observations do not
// have that shape keeps the list.
func policyTables(c results.Check) []policyTable {
	type source struct {
		name, node string
		answers    map[string][2]rune // destination -> model, observed
	}
	var protos []string
	sources := map[string][]source{}
	dests := map[string]map[string]bool{}
	for _, o := range c.Observations {
		list, ok := strings.CutPrefix(o.Detail, "destinations in order: ")
		fields := strings.Fields(o.From)
		if !ok || len(fields) == 0 {
			continue
		}
		var names []string
		for _, d := range strings.Fields(list) {
			if !strings.HasPrefix(d, "(") { // "(ok)" marks a cell the summary explains
				names = append(names, d)
			}
		}
		exp, obs := []rune(o.Expected), []rune(o.Observed)
		if len(exp) != len(names) || len(obs) != len(names) {
			continue
		}
		if _, seen := sources[o.Protocol]; !seen {
			protos = append(protos, o.Protocol)
			dests[o.Protocol] = map[string]bool{}
		}
		src := source{name: fields[len(fields)-1], node: strings.Join(fields[:len(fields)-1], " "), answers: map[string][2]rune{}}
		dests[o.Protocol][src.name] = true
		for j, n := range names {
			src.answers[n] = [2]rune{exp[j], obs[j]}
			dests[o.Protocol][n] = true
		}
		sources[o.Protocol] = append(sources[o.Protocol], src)
	}
	var tables []policyTable
	for _, p := range protos {
		t := policyTable{Protocol: p, Destinations: sortedKeys(dests[p])}
		for _, src := range sources[p] {
			row := policyRow{Source: src.name, Node: src.node}
			for _, d := range t.Destinations {
				a, ok := src.answers[d]
				switch {
				case d == src.name:
					row.Cells = append(row.Cells, policyCell{Class: "self"})
				case !ok:
					row.Cells = append(row.Cells, policyCell{Class: "self", Title: "not probed"})
				default:
					pc := policyCell{Expected: string(a[0]), Observed: string(a[1])}
					if a[0] != a[1] {
						pc.Class = "differ"
						pc.Title = fmt.Sprintf("%s -> %s on %s: model %s, observed %s", src.name, d, p, answerWord(a[0]), answerWord(a[1]))
						t.Differ++
					}
					row.Cells = append(row.Cells, pc)
				}
			}
			t.Rows = append(t.Rows, row)
		}
		tables = append(tables, t)
	}
	return tables
}

func answerWord(r rune) string {
	switch r {
	case 'A':
		return "admitted"
	case '-':
		return "blocked"
	}
	return fmt.Sprintf("%q", r)
}

type changeView struct {
	Path, Test, Before, After, Change, Ratio string
	Noise                                    bool
}

func changePage(c reports.PerfChange) changeView {
	cv := changeView{Path: c.Path, Test: c.Before.Test, Before: c.Before.Headline(), After: c.After.Headline(),
		Change: fmt.Sprintf("%+.1f%%", 100*c.Change()), Noise: c.WithinNoise(), Ratio: "-"}
	if c.Before.Ratio > 0 && c.After.Ratio > 0 {
		cv.Ratio = fmt.Sprintf("%.2f -> %.2f", c.Before.Ratio, c.After.Ratio)
	}
	return cv
}
