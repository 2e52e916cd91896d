package htmlreport

import (
	"fmt"
	"html/template"
	"math"
	"strings"
	"time"

	"github.com/netconform/netconform/framework/results"
	"github.com/netconform/netconform/reports"
)

// The pictures are SVG written here rather than by a charting script: they must render from
// file:// with scripts off and nothing fetched, and a bar chart and a Gantt chart are a few
// rectangles each.

const (
	labelW = 300 // left column for names
	plotW  = 640 // the plot
	rowH   = 18
)

func esc(s string) string { return template.HTMLEscapeString(s) }

// phaseTimeline draws the run's phases on one time axis, a row each, coloured and marked by
// status (a failed phase's bar is hatched and its label says FAIL).
func phaseTimeline(r *results.Result) template.HTML {
	var start, end time.Time
	for _, p := range r.Phases {
		if p.Started.IsZero() {
			continue
		}
		if start.IsZero() || p.Started.Before(start) {
			start = p.Started
		}
		if e := p.Started.Add(time.Duration(p.DurationMS) * time.Millisecond); e.After(end) {
			end = e
		}
	}
	if start.IsZero() || !end.After(start) {
		return ""
	}
	total := end.Sub(start)
	var b strings.Builder
	n := 0
	for _, p := range r.Phases {
		if !p.Started.IsZero() {
			n++
		}
	}
	h := n*rowH + 30
	fmt.Fprintf(&b, `<svg class="phases" role="img" aria-label="phase timeline" width="%d" height="%d" viewBox="0 0 %d %d">`, labelW+plotW+80, h, labelW+plotW+80, h)
	axis(&b, total, h-24)
	y := 0
	for _, p := range r.Phases {
		if p.Started.IsZero() {
			continue
		}
		st := phaseStatus(p.Status)
		x := labelW + int(float64(plotW)*float64(p.Started.Sub(start))/float64(total))
		w := int(math.Max(2, float64(plotW)*float64(p.DurationMS)/float64(total.Milliseconds())))
		word := ""
		if st != results.Passed {
			word = statusWord(st) + " "
		}
		fmt.Fprintf(&b, `<g class="%s"><title>%s: %s%s</title><text x="%d" y="%d" class="lbl">%s%s</text><rect x="%d" y="%d" width="%d" height="%d" class="bar %s"/><text x="%d" y="%d" class="val">%s</text></g>`,
			statusClass(st), esc(p.Name), word, dur(p.DurationMS), labelW-6, y+13, esc(statusMark(st)+" "), esc(clip(p.Name, 44)),
			x, y+3, w, rowH-6, statusClass(st), x+w+4, y+13, dur(p.DurationMS))
		y += rowH
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// axis draws a time axis at y with about six ticks.
func axis(b *strings.Builder, total time.Duration, y int) {
	fmt.Fprintf(b, `<line x1="%d" y1="%d" x2="%d" y2="%d" class="axis"/>`, labelW, y, labelW+plotW, y)
	step := niceStep(total / 6)
	for t := time.Duration(0); t <= total; t += step {
		x := labelW + int(float64(plotW)*float64(t)/float64(total))
		fmt.Fprintf(b, `<line x1="%d" y1="%d" x2="%d" y2="%d" class="tick"/><text x="%d" y="%d" class="tickl">%s</text>`, x, y, x, y+4, x, y+16, t.Round(time.Second))
	}
}

func niceStep(d time.Duration) time.Duration {
	for _, s := range []time.Duration{time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second, 15 * time.Second, 30 * time.Second,
		time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute, time.Hour} {
		if d <= s {
			return s
		}
	}
	return 2 * time.Hour
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// perfCharts draws one bar chart per netperf test: a bar per path with its 95% interval as a
// whisker, so the paths compare at a glance; a path that failed or was skipped shows its word.
func perfCharts(s reports.PerfStats) []template.HTML {
	var out []template.HTML
	for _, test := range reports.PerfTests() {
		type bar struct {
			path   string
			status results.Status
			fig    reports.PerfFigure
			ok     bool
		}
		var bars []bar
		var maxV float64
		unit := ""
		for _, p := range s.Paths {
			bb := bar{path: p.Name, status: p.Status}
			for _, f := range p.Tests {
				if f.Test == test {
					bb.fig, bb.ok = f, true
					unit = f.Unit
					maxV = math.Max(maxV, f.Value+f.CI95)
				}
			}
			bars = append(bars, bb)
		}
		if maxV == 0 {
			continue
		}
		var b strings.Builder
		h := len(bars)*22 + 34
		fmt.Fprintf(&b, `<svg class="perf" role="img" aria-label="%s" width="%d" height="%d" viewBox="0 0 %d %d">`, esc(test), labelW+plotW+120, h, labelW+plotW+120, h)
		fmt.Fprintf(&b, `<text x="0" y="14" class="ttl">%s (%s; longer is better)</text>`, esc(test), esc(unit))
		y := 24
		for _, bb := range bars {
			fmt.Fprintf(&b, `<text x="%d" y="%d" class="lbl">%s</text>`, labelW-6, y+13, esc(clip(bb.path, 44)))
			if !bb.ok {
				fmt.Fprintf(&b, `<text x="%d" y="%d" class="val %s">%s %s: not measured</text>`, labelW+4, y+13, statusClass(bb.status), statusMark(bb.status), statusWord(bb.status))
				y += 22
				continue
			}
			w := int(float64(plotW) * bb.fig.Value / maxV)
			lo := labelW + int(float64(plotW)*(bb.fig.Value-bb.fig.CI95)/maxV)
			hi := labelW + int(float64(plotW)*(bb.fig.Value+bb.fig.CI95)/maxV)
			fmt.Fprintf(&b, `<g><title>%s %s: %s</title><rect x="%d" y="%d" width="%d" height="14" class="bar %s"/>`, esc(bb.path), esc(test), esc(bb.fig.Headline()), labelW, y+2, max(w, 1), statusClass(bb.status))
			if bb.fig.CI95 > 0 {
				fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" class="ci"/>`, lo, y+9, hi, y+9)
			}
			fmt.Fprintf(&b, `<text x="%d" y="%d" class="val">%s</text></g>`, max(hi, labelW+w)+4, y+13, esc(bb.fig.Headline()))
			y += 22
		}
		b.WriteString(`</svg>`)
		out = append(out, template.HTML(b.String()))
	}
	return out
}
