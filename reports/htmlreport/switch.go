package htmlreport

import (
	"encoding/json"
	"fmt"
	"html/template"
	"os"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/netconform/netconform/framework/results"
)

// SwitchFileName is the switch's probe record, written by `netconform switch` beside
// result.json.
const SwitchFileName = "disruption.json"

// Switch is what disruption.json holds, as far as the page draws it. The file is the interface
// (reports read files, not the switch's packages), like result.json.
type Switch struct {
	From   string `json:"from"`
	To     string `json:"to"`
	Report struct {
		Overall             switchStats            `json:"overall"`
		Nodes               []switchNode           `json:"nodes"`
		Paths               map[string]switchStats `json:"paths"`
		Outages             []switchOutage         `json:"outages"`
		ConnectionsOpened   int                    `json:"connectionsOpened"`
		ConnectionsBroken   int                    `json:"connectionsBroken"`
		ConnectionsSurvived int                    `json:"connectionsSurvived"`
	} `json:"report"`
	Mixed []struct {
		Pair     string `json:"pair"`
		Attempts int    `json:"attempts"`
		OK       int    `json:"ok"`
	} `json:"mixedMode"`
	LostForGood []switchOutage `json:"lostForGood"`
}

type switchStats struct {
	Attempts        int           `json:"attempts"`
	Lost            int           `json:"lost"`
	LongestOutageNS time.Duration `json:"longestOutageNS"`
	Longest         *switchOutage `json:"longest"`
	Broken          []string      `json:"broken"`
}

type switchNode struct {
	Node  string    `json:"node"`
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	switchStats
	ConnectionsBroken []string `json:"connectionsBroken"`
}

type switchOutage struct {
	From      string    `json:"from"`
	Path      string    `json:"path"`
	To        string    `json:"to"`
	Start     time.Time `json:"start"`
	End       time.Time `json:"end"`
	Lost      int       `json:"lost"`
	Recovered bool      `json:"recovered"`
	Err       string    `json:"error"`
}

// ReadSwitch reads a switch's disruption.json.
func ReadSwitch(path string) (*Switch, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var s Switch
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("switch record %s: %w", path, err)
	}
	return &s, nil
}

type switchView struct {
	From, To  string
	Overall   string
	Timelines []template.HTML
	Rolls     []rollView
	Paths     []pathView
	Outages   []outageView
	More      int
	Mixed     []mixedView
	Conns     string
}

type rollView struct {
	Node, Took, Longest string
	Attempts, Lost      int
	Broken              []string
}

type pathView struct {
	Path           string
	Attempts, Lost int
	Longest        string
}

type outageView struct {
	Path, From, To, Start, Took, Err string
	Lost                             int
	Recovered                        bool
}

type mixedView struct {
	Pair        string
	Attempts    int
	OK          int
	Percent     string
	Unreachable bool
}

// maxOutages bounds the outage table (longest first); the file has them all.
const maxOutages = 50

// pathOrder is the order the probes' paths are drawn in, then any others.
var pathOrder = []string{"pod", "service", "dns", "conn"}

var pathTitle = map[string]string{
	"pod": "pod to pod, per node pair", "service": "pod to ClusterIP Service, per client node",
	"dns": "DNS lookups, per client node", "conn": "long-lived TCP connections, per node pair",
}

func switchPage(s *Switch, r *results.Result) *switchView {
	rep := s.Report
	v := &switchView{From: s.From, To: s.To}
	v.Overall = fmt.Sprintf("%d probes, %d lost, longest outage %s", rep.Overall.Attempts, rep.Overall.Lost, seconds(rep.Overall.LongestOutageNS))
	if l := rep.Overall.Longest; l != nil {
		v.Overall += fmt.Sprintf(" (%s %s -> %s)", l.Path, l.From, l.To)
	}
	v.Conns = fmt.Sprintf("long-lived TCP connections: %d opened, %d broken, %d never broken", rep.ConnectionsOpened, rep.ConnectionsBroken, rep.ConnectionsSurvived)
	for _, n := range rep.Nodes {
		v.Rolls = append(v.Rolls, rollView{Node: n.Node, Took: seconds(n.End.Sub(n.Start)), Attempts: n.Attempts, Lost: n.Lost,
			Longest: seconds(n.LongestOutageNS), Broken: n.Broken})
	}
	for _, p := range orderedPaths(rep.Paths) {
		st := rep.Paths[p]
		v.Paths = append(v.Paths, pathView{Path: p, Attempts: st.Attempts, Lost: st.Lost, Longest: seconds(st.LongestOutageNS)})
	}
	outs := append([]switchOutage(nil), rep.Outages...)
	sort.SliceStable(outs, func(i, j int) bool { return outs[i].End.Sub(outs[i].Start) > outs[j].End.Sub(outs[j].Start) })
	if len(outs) > maxOutages {
		v.More = len(outs) - maxOutages
		outs = outs[:maxOutages]
	}
	for _, o := range outs {
		v.Outages = append(v.Outages, outageView{Path: o.Path, From: o.From, To: o.To, Start: o.Start.UTC().Format("15:04:05.000"),
			Took: seconds(o.End.Sub(o.Start)), Err: o.Err, Lost: o.Lost, Recovered: o.Recovered})
	}
	for _, m := range s.Mixed {
		mv := mixedView{Pair: m.Pair, Attempts: m.Attempts, OK: m.OK, Unreachable: m.OK == 0}
		if m.Attempts > 0 {
			mv.Percent = fmt.Sprintf("%.0f%%", 100*float64(m.OK)/float64(m.Attempts))
		}
		v.Mixed = append(v.Mixed, mv)
	}
	v.Timelines = switchTimelines(s, r)
	return v
}

func orderedPaths(m map[string]switchStats) []string {
	var out []string
	for _, p := range pathOrder {
		if _, ok := m[p]; ok {
			out = append(out, p)
		}
	}
	var rest []string
	for p := range m {
		if !slices.Contains(pathOrder, p) {
			rest = append(rest, p)
		}
	}
	sort.Strings(rest)
	return append(out, rest...)
}

// pairs interleaves old and new names for strings.NewReplacer, longest names first so that
// "<cluster>-worker2" is not replaced as "<cluster>-worker" followed by "2".
func pairs(old, new []string) []string {
	idx := make([]int, len(old))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return len(old[idx[a]]) > len(old[idx[b]]) })
	var out []string
	for _, i := range idx {
		out = append(out, old[i], new[i])
	}
	return out
}

func seconds(d time.Duration) string { return fmt.Sprintf("%.1f s", d.Seconds()) }

// step is one of a node's roll steps, from the run's phases named "<node>: <step>".
type step struct {
	node, name string
	start, end time.Time
	status     results.Status
}

// switchTimelines draws, per path, the probe outcomes across the roll: a row per series that
// lost probes, red where it was out; the nodes' roll windows as bands behind them; a row per node
// on top with its roll steps. Series that never lost a probe are not drawn one by one: the
// caption says how many probes the path had and how many were lost.
func switchTimelines(s *Switch, r *results.Result) []template.HTML {
	rep := s.Report
	var start, end time.Time
	grow := func(a, b time.Time) {
		if a.IsZero() || b.IsZero() {
			return
		}
		if start.IsZero() || a.Before(start) {
			start = a
		}
		if b.After(end) {
			end = b
		}
	}
	nodes := map[string]bool{}
	for _, n := range rep.Nodes {
		grow(n.Start, n.End)
		nodes[n.Node] = true
	}
	for _, o := range rep.Outages {
		grow(o.Start, o.End)
	}
	var steps []step
	for _, p := range r.Phases {
		node, name, ok := strings.Cut(p.Name, ": ")
		if !ok || !nodes[node] || p.Started.IsZero() {
			continue
		}
		e := p.Started.Add(time.Duration(p.DurationMS) * time.Millisecond)
		steps = append(steps, step{node: node, name: name, start: p.Started, end: e, status: phaseStatus(p.Status)})
		grow(p.Started, e)
	}
	if start.IsZero() || !end.After(start) {
		return nil
	}
	// A little air on both sides, so outages at the edges are visible.
	pad := end.Sub(start) / 40
	start, end = start.Add(-pad), end.Add(pad)
	total := end.Sub(start)
	x := func(t time.Time) int { return labelW + int(float64(plotW)*float64(t.Sub(start))/float64(total)) }
	width := func(a, b time.Time) int { return max(2, x(b)-x(a)) }

	// Labels use the nodes' short names (kind's "<cluster>-worker2" is "worker2"): the full
	// names are in the tables below and in every bar's title.
	var names []string
	for _, n := range rep.Nodes {
		names = append(names, n.Node)
	}
	short := strings.NewReplacer(pairs(names, shortNames(names))...)

	var out []template.HTML
	for _, path := range orderedPaths(rep.Paths) {
		st := rep.Paths[path]
		series := map[string][]switchOutage{}
		var keys []string
		for _, o := range rep.Outages {
			if o.Path != path {
				continue
			}
			k := o.From + " -> " + o.To
			if _, ok := series[k]; !ok {
				keys = append(keys, k)
			}
			series[k] = append(series[k], o)
		}
		sort.Strings(keys)
		rows := len(rep.Nodes) + len(keys)
		h := rows*rowH + 64
		var b strings.Builder
		fmt.Fprintf(&b, `<svg class="timeline" data-path="%s" role="img" aria-label="%s timeline" width="%d" height="%d" viewBox="0 0 %d %d">`,
			esc(path), esc(path), labelW+plotW+20, h, labelW+plotW+20, h)
		title := pathTitle[path]
		if title == "" {
			title = path
		}
		fmt.Fprintf(&b, `<text x="0" y="14" class="ttl">%s: %d probes, %d lost, longest outage %s; %d series lost probes, the others none</text>`,
			esc(title), st.Attempts, st.Lost, seconds(st.LongestOutageNS), len(keys))
		top := 22
		bottom := top + rows*rowH
		for _, n := range rep.Nodes {
			fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="%d" class="roll"><title>rolling %s: %s</title></rect>`,
				x(n.Start), top, width(n.Start, n.End), bottom-top, esc(n.Node), seconds(n.End.Sub(n.Start)))
		}
		y := top
		for _, n := range rep.Nodes {
			fmt.Fprintf(&b, `<text x="%d" y="%d" class="lbl">roll %s</text>`, labelW-6, y+13, esc(clip(short.Replace(n.Node), 40)))
			i := 0
			for _, sp := range steps {
				if sp.node != n.Node {
					continue
				}
				fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="%d" class="step s%d %s"><title>%s: %s, %s %s</title></rect>`,
					x(sp.start), y+3, width(sp.start, sp.end), rowH-6, i%2, statusClass(sp.status), esc(sp.node), esc(sp.name), statusWord(sp.status), seconds(sp.end.Sub(sp.start)))
				i++
			}
			y += rowH
		}
		for _, k := range keys {
			fmt.Fprintf(&b, `<text x="%d" y="%d" class="lbl">%s</text>`, labelW-6, y+13, esc(clip(short.Replace(k), 46)))
			fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="%d" class="probed"/>`, labelW, y+5, plotW, rowH-10)
			for _, o := range series[k] {
				word := "recovered"
				if !o.Recovered {
					word = "NOT recovered"
				}
				fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="%d" class="out%s"><title>%s %s: %d lost over %s from %s, %s; %s</title></rect>`,
					x(o.Start), y+2, width(o.Start, o.End), rowH-4, map[bool]string{true: "", false: " lost"}[o.Recovered],
					esc(path), esc(k), o.Lost, seconds(o.End.Sub(o.Start)), o.Start.UTC().Format("15:04:05.000"), word, esc(o.Err))
			}
			y += rowH
		}
		axisAt(&b, start, total, bottom+4)
		b.WriteString(`</svg>`)
		out = append(out, template.HTML(b.String()))
	}
	return out
}

// axisAt is axis with wall-clock tick labels (the outage table lists wall-clock times).
func axisAt(b *strings.Builder, start time.Time, total time.Duration, y int) {
	fmt.Fprintf(b, `<line x1="%d" y1="%d" x2="%d" y2="%d" class="axis"/>`, labelW, y, labelW+plotW, y)
	step := niceStep(total / 6)
	first := start.Truncate(step).Add(step)
	for t := first; t.Before(start.Add(total)); t = t.Add(step) {
		x := labelW + int(float64(plotW)*float64(t.Sub(start))/float64(total))
		fmt.Fprintf(b, `<line x1="%d" y1="%d" x2="%d" y2="%d" class="tick"/><text x="%d" y="%d" class="tickl">%s</text>`, x, y, x, y+4, x, y+16, t.UTC().Format("15:04:05"))
	}
}
