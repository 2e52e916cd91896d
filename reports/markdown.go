// Package reports renders netconform results for people and CI: a Markdown summary of one run
// (and, in later files, JUnit and the compatibility matrix).
package reports

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/netconform/netconform/framework/results"
)

// maxObservations bounds how many failing observations a check lists in the summary; the
// result JSON keeps all of them.
const maxObservations = 12

// Markdown writes the summary of one run.
func Markdown(w io.Writer, r *results.Result) error {
	var b strings.Builder
	passed, failed, skipped := r.Counts()
	v := r.Judge()
	fmt.Fprintf(&b, "# netconform: %s\n\n", v.Outcome)
	if len(v.Reasons) > 0 {
		b.WriteString("Why not PASS:\n\n")
		for _, why := range v.Reasons {
			fmt.Fprintf(&b, "- %s\n", oneLine(why))
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "| provider | platform | Kubernetes | nodes | node image | kernel |\n|---|---|---|---|---|---|\n")
	provider := r.Provider
	if r.SwitchFrom != "" {
		provider = r.SwitchFrom + " -> " + r.Provider + " (switched node by node)"
	}
	fmt.Fprintf(&b, "| %s | %s | %s | %d | %s | %s |\n\n", cell(provider), cell(r.Platform), cell(r.KubernetesVersion), r.Nodes, cell(r.NodeImage), cell(r.Kernel))
	if s := ImagesLine(r.Images); s != "" {
		b.WriteString(s + "\n\n")
	}
	if s := KopsLine(r); s != "" {
		b.WriteString(s + "\n\n")
	}
	fmt.Fprintf(&b, "%d passed, %d failed, %d skipped", passed, failed, skipped)
	if !r.Complete {
		b.WriteString(" (partial result: the run did not finish)")
	}
	b.WriteString("\n\n")
	if r.Error != "" {
		fmt.Fprintf(&b, "**Could not run:** %s\n\n", oneLine(r.Error))
	}
	if len(r.Phases) > 0 {
		b.WriteString("## Phases\n\n| phase | status | time |\n|---|---|---|\n")
		for _, p := range r.Phases {
			status := string(p.Status)
			if p.Error != "" {
				status += ": " + oneLine(p.Error)
			}
			fmt.Fprintf(&b, "| %s | %s | %s |\n", p.Name, cell(status), dur(p.DurationMS))
		}
		b.WriteString("\n")
	}
	if len(r.Causes) > 0 {
		b.WriteString("## Likely causes\n\n")
		for _, c := range r.Causes {
			title := c.Title
			if !c.Clear {
				title = "No clear cause"
			}
			fmt.Fprintf(&b, "- **%s**", oneLine(title))
			if len(c.Checks) > 0 {
				fmt.Fprintf(&b, " (explains %s)", strings.Join(c.Checks, ", "))
			}
			b.WriteString("\n")
			for _, e := range c.Evidence {
				fmt.Fprintf(&b, "  - %s\n", oneLine(e))
			}
		}
		b.WriteString("\n")
	}
	if r.Evidence != "" {
		fmt.Fprintf(&b, "Evidence bundle: [%s](%s) (node state, provider and CoreDNS logs, events, raw observations; index.md inside)\n\n", r.Evidence, r.Evidence)
	}
	if s, ok := PolicySummary(r); ok {
		writePolicy(&b, s)
	}
	if s, ok := PerfSummary(r); ok {
		writePerf(&b, r, s)
	}
	if changes := PerfChanges(r); len(changes) > 0 {
		writePerfChanges(&b, r, changes)
	}
	if len(r.Checks) > 0 {
		checks := append([]results.Check(nil), r.Checks...)
		results.SortChecks(checks)
		b.WriteString("## Checks\n\n| | suite | check | time | notes |\n|---|---|---|---|---|\n")
		for _, c := range checks {
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", mark(c), c.Suite, cell(c.Name), dur(c.DurationMS), cell(notes(c)))
		}
		b.WriteString("\n")
		for _, c := range checks {
			if c.Status == results.Passed || c.Status == results.Skipped {
				continue
			}
			fmt.Fprintf(&b, "### FAILED %s\n\n%s\n\n", c.ID, quote(c.Reason))
			lines := failingObservations(c)
			for _, l := range lines {
				fmt.Fprintf(&b, "- %s\n", l)
			}
			if len(lines) > 0 {
				b.WriteString("\n")
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// failingObservations are a check's failing observations, one line each, at most
// maxObservations of them and then a line saying the result JSON has the rest.
func failingObservations(c results.Check) []string {
	var out []string
	for _, o := range c.Observations {
		if o.OK {
			continue
		}
		if len(out) == maxObservations {
			return append(out, "... more in the result JSON")
		}
		l := fmt.Sprintf("%s -> %s %s: expected %s, observed %s", o.From, o.To, o.Protocol, orDash(o.Expected), o.Observed)
		if o.Detail != "" {
			l += fmt.Sprintf(" (%s)", oneLine(o.Detail))
		}
		out = append(out, l)
	}
	return out
}

func notes(c results.Check) string {
	var parts []string
	if c.Status != results.Passed && c.Reason != "" {
		parts = append(parts, firstLine(c.Reason))
	}
	for _, m := range c.Measurements {
		parts = append(parts, fmt.Sprintf("%s=%s%s", m.Name, trimFloat(m.Value), m.Unit))
	}
	return strings.Join(parts, "; ")
}

func mark(c results.Check) string {
	switch c.Status {
	case results.Passed:
		if !c.Measured() {
			return "**FAIL** (nothing measured)"
		}
		return "pass"
	case results.Failed:
		return "**FAIL**"
	case results.Skipped:
		return "skip"
	case results.Running:
		return "**FAIL** (did not finish)"
	}
	// A status this renderer does not know is a failure, never a pass.
	return fmt.Sprintf("**FAIL** (unknown status %q)", c.Status)
}

func dur(ms int64) string {
	return (time.Duration(ms) * time.Millisecond).Round(100 * time.Millisecond).String()
}

func trimFloat(v float64) string {
	s := fmt.Sprintf("%.2f", v)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	return s
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	if len(s) > 160 {
		s = s[:157] + "..."
	}
	return s
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func cell(s string) string { return strings.ReplaceAll(oneLine(s), "|", `\|`) }

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func quote(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	for i, l := range lines {
		lines[i] = "> " + l
	}
	return strings.Join(lines, "\n")
}

// KopsLine says what kops says of the provider on the run's Kubernetes version
// (results.Result.KopsStanding), or "" when that is not known.
func KopsLine(r *results.Result) string {
	if r.KopsStanding == "" {
		return ""
	}
	name := r.Networking
	if name == "" {
		name = r.Provider
	}
	return fmt.Sprintf("kops standing of %s on Kubernetes %s: %s.", name, r.KubernetesVersion, r.KopsStanding)
}

// ImagesLine says where the provider's images came from (run --images), or "" when the run
// chose nothing; the summary and the HTML page say it the same way.
func ImagesLine(s *results.ImageSource) string {
	if s == nil {
		return ""
	}
	line := "Provider images: " + s.Source
	if s.Asked != "" && s.Asked != s.Source {
		line += " (--images " + s.Asked + ")"
	}
	if s.Mirror != "" {
		line += ", registry mirror " + s.Mirror
	}
	if len(s.Refs) > 0 {
		line += ", pulled by the nodes: " + strings.Join(s.Refs, ", ")
	}
	if s.Why != "" {
		line += "; upstream not used: " + oneLine(s.Why)
	}
	return line
}
