package switching

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/netconform/netconform/framework/disruption"
	"github.com/netconform/netconform/framework/kube"
	"github.com/netconform/netconform/framework/probe"
	"github.com/netconform/netconform/framework/results"
	"github.com/netconform/netconform/providers"
)

// Check ids of a switch.
const (
	checkRolled     = "switch/every-node-rolled"
	checkDisruption = "switch/disruption"
	checkLeftovers  = "switch/no-leftovers"
)

// switchCheck starts a switch check; conclude gives it its verdict once it has observed.
func switchCheck(id, name string, started time.Time) results.Check {
	return results.Check{ID: id, Suite: "switch", Name: name, Labels: []string{"switch"}, Status: results.Running, Started: started,
		DurationMS: time.Since(started).Milliseconds(), Attempts: 1}
}

// conclude decides a switch check: failed with why when something is wrong, passed only when
// it observed something (an empty node list proves nothing), else failed saying so.
func conclude(ch *results.Check, why []string) {
	switch {
	case len(why) > 0:
		ch.Status, ch.Reason = results.Failed, strings.Join(why, "; ")
	case !ch.Measured():
		ch.Status, ch.Reason = results.Failed, "nothing observed: no node was looked at"
	default:
		ch.Status = results.Passed
	}
}

// reportRolls records whether every node was rolled, and how long each took.
func (s *Switch) reportRolls() {
	ch := switchCheck(checkRolled, fmt.Sprintf("every node is switched from %s to %s", s.cfg.From, s.cfg.To), time.Now())
	rolled := map[string]bool{}
	for _, w := range s.windows {
		obs := results.Observation{From: w.Node, Expected: "rolled", OK: w.Err == ""}
		if w.Err == "" {
			obs.Observed = fmt.Sprintf("rolled in %.1f s", w.End.Sub(w.Start).Seconds())
			rolled[w.Node] = true
		} else {
			obs.Observed = "failed: " + w.Err
		}
		ch.Observations = append(ch.Observations, obs)
		ch.Measurements = append(ch.Measurements, results.Measurement{Name: "roll " + w.Node, Value: w.End.Sub(w.Start).Seconds(), Unit: "s"})
	}
	var missing []string
	for _, n := range s.nodes {
		if !rolled[n.Name] {
			missing = append(missing, n.Name)
		}
	}
	var why []string
	if len(missing) > 0 {
		why = append(why, "not switched: "+strings.Join(missing, ", "))
		for _, w := range s.windows {
			if w.Err != "" {
				why = append(why, w.Node+": "+w.Err)
			}
		}
	}
	conclude(&ch, why)
	_ = s.rec.AddCheck(ch)
}

// attempts turns the probers' records into attempts between nodes. Attempts to a prober pod
// after it was taken off its node are left out: the pod was gone, not the network.
func attempts(logs []proberLog, nodes []kube.Node, retired map[string]time.Time) []disruption.Attempt {
	var out []disruption.Attempt
	// Prober IPs map to their nodes; a target no collected prober had falls back to the node
	// pod CIDRs (providers with their own IPAM do not use them).
	byIP := map[string]string{}
	for _, l := range logs {
		if l.IP != "" {
			byIP[l.IP] = l.Node
		}
	}
	for _, l := range logs {
		for _, r := range l.Records {
			t := time.UnixMilli(r.Time)
			a := disruption.Attempt{Time: t, From: l.Node, Path: r.Path, To: r.To, OK: r.OK, Err: r.Err}
			switch r.Path {
			case probe.LoopPod, probe.LoopConn:
				if rt, ok := retired[r.To]; ok && !t.Before(rt) {
					continue
				}
				if n, ok := byIP[r.To]; ok {
					a.To = n
				} else {
					a.To = nodeOfIP(nodes, r.To)
				}
				if r.Path == probe.LoopConn {
					a.Conn = fmt.Sprintf("%s->%s#%d", l.Pod, r.To, r.Conn)
				}
			case probe.LoopService:
				a.To = "service"
			case probe.LoopDNS:
				a.To = "dns"
			}
			out = append(out, a)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Time.Before(out[j].Time) })
	return out
}

// nodeOfIP finds the node whose pod CIDR holds ip.
func nodeOfIP(nodes []kube.Node, ip string) string {
	p := net.ParseIP(ip)
	for _, n := range nodes {
		if _, cidr, err := net.ParseCIDR(n.PodCIDR); err == nil && p != nil && cidr.Contains(p) {
			return n.Name
		}
	}
	return ip
}

// mixedMode is pod-to-pod reachability while some nodes run A and others B: attempts between
// nodes that are not being rolled, by which provider each end runs.
type mixedMode struct {
	Pair     string `json:"pair"`
	Attempts int    `json:"attempts"`
	OK       int    `json:"ok"`
}

func mixedModes(as []disruption.Attempt, windows []rollWindow, from, to string) []mixedMode {
	state := func(node string, t time.Time) string {
		for _, w := range windows {
			if w.Node != node {
				continue
			}
			switch {
			case t.Before(w.Start):
				return from
			case t.After(w.End) && w.Err == "":
				return to
			default:
				return ""
			}
		}
		return from
	}
	agg := map[string]*mixedMode{}
	for _, a := range as {
		if a.Path != probe.LoopPod {
			continue
		}
		f, t := state(a.From, a.Time), state(a.To, a.Time)
		if f == "" || t == "" {
			continue
		}
		k := f + " -> " + t
		if agg[k] == nil {
			agg[k] = &mixedMode{Pair: k}
		}
		agg[k].Attempts++
		if a.OK {
			agg[k].OK++
		}
	}
	var out []mixedMode
	for _, m := range agg {
		out = append(out, *m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Pair < out[j].Pair })
	return out
}

// switchDisruption is what disruption.json holds.
type switchDisruption struct {
	From    string              `json:"from"`
	To      string              `json:"to"`
	Report  disruption.Report   `json:"report"`
	Mixed   []mixedMode         `json:"mixedMode"`
	LostFor []disruption.Outage `json:"lostForGood,omitempty"`
}

// reportDisruption analyses the records and records the disruption check, disruption.json and
// disruption.md.
func (s *Switch) reportDisruption() {
	started := time.Now()
	as := attempts(s.logs, s.nodes, s.retired)
	var ws []disruption.Window
	for _, w := range s.windows {
		ws = append(ws, disruption.Window{Node: w.Node, Start: w.Start, End: w.End})
	}
	rep := disruption.Analyze(as, ws)
	mixed := mixedModes(as, s.windows, s.cfg.From, s.cfg.To)
	// Lost for good: still failing in the settle period after the last node came back.
	var lastEnd time.Time
	if len(s.windows) > 0 {
		lastEnd = s.windows[len(s.windows)-1].End
	}
	var forGood []disruption.Outage
	for _, u := range rep.Unrecovered {
		if u.End.After(lastEnd) {
			forGood = append(forGood, u)
		}
	}
	ch := switchCheck(checkDisruption, "traffic during the switch: outages recover, none longer than allowed", started)
	m := func(name string, v float64, unit string) {
		ch.Measurements = append(ch.Measurements, results.Measurement{Name: name, Value: v, Unit: unit})
	}
	m("probe attempts", float64(rep.Overall.Attempts), "")
	m("lost probes", float64(rep.Overall.Lost), "")
	m("longest outage", rep.Overall.LongestOutage.Seconds(), "s")
	for _, p := range []string{probe.LoopPod, probe.LoopService, probe.LoopDNS, probe.LoopConn} {
		st := rep.Paths[p]
		m(p+": lost probes", float64(st.Lost), "")
		m(p+": longest outage", st.LongestOutage.Seconds(), "s")
	}
	for _, n := range rep.Nodes {
		m("rolling "+n.Node+": lost probes", float64(n.Lost), "")
		m("rolling "+n.Node+": longest outage", n.LongestOutage.Seconds(), "s")
	}
	m("long-lived connections opened", float64(rep.ConnectionsOpened), "")
	m("long-lived connections broken", float64(rep.ConnectionsBroken), "")
	for _, mm := range mixed {
		m("pod to pod "+mm.Pair+": ok", float64(mm.OK), "")
		m("pod to pod "+mm.Pair+": attempts", float64(mm.Attempts), "")
	}
	for _, o := range rep.Outages {
		obs := results.Observation{From: o.From, To: o.To, Protocol: o.Path, Expected: "answer every 100 ms",
			Observed: fmt.Sprintf("%d lost over %.1f s from %s", o.Lost, o.Duration().Seconds(), o.Start.UTC().Format("15:04:05.000")),
			OK:       o.Recovered, Detail: o.Err}
		if !o.Recovered {
			obs.Observed += ", not recovered"
		}
		ch.Observations = append(ch.Observations, obs)
	}
	var why []string
	switch {
	case rep.Overall.Attempts == 0:
		why = append(why, "no probe records were collected")
	case len(forGood) > 0:
		for _, u := range forGood {
			why = append(why, fmt.Sprintf("%s lost for good since %s (%s)", u.Key(), u.Start.UTC().Format("15:04:05"), u.Err))
		}
	}
	if s.cfg.MaxOutage > 0 && rep.Overall.LongestOutage > s.cfg.MaxOutage {
		why = append(why, fmt.Sprintf("longest outage %.1f s (%s) exceeds --max-outage %s", rep.Overall.LongestOutage.Seconds(), rep.Overall.Longest.Key(), s.cfg.MaxOutage))
	}
	conclude(&ch, why)
	ch.DurationMS = time.Since(started).Milliseconds()
	_ = s.rec.AddCheck(ch)
	d := switchDisruption{From: s.cfg.From, To: s.cfg.To, Report: rep, Mixed: mixed, LostFor: forGood}
	if b, err := json.MarshalIndent(d, "", "  "); err == nil {
		_ = os.WriteFile(filepath.Join(s.cfg.Artifacts, "disruption.json"), s.redact(b), 0o644)
	}
	var md strings.Builder
	writeDisruptionMarkdown(&md, d, s.windows)
	mdb := s.redact([]byte(md.String()))
	_ = os.WriteFile(filepath.Join(s.cfg.Artifacts, "disruption.md"), mdb, 0o644)
	fmt.Fprintln(s.out)
	s.out.Write(mdb)
}

func writeDisruptionMarkdown(w io.Writer, d switchDisruption, windows []rollWindow) {
	r := d.Report
	fmt.Fprintf(w, "## Disruption: %s -> %s\n\n", d.From, d.To)
	fmt.Fprintf(w, "Overall: %d probes, %d lost, longest outage %.1f s", r.Overall.Attempts, r.Overall.Lost, r.Overall.LongestOutage.Seconds())
	if r.Overall.Longest != nil {
		fmt.Fprintf(w, " (%s)", r.Overall.Longest.Key())
	}
	fmt.Fprintf(w, ". Long-lived TCP connections: %d opened, %d broken, %d never broken.\n\n", r.ConnectionsOpened, r.ConnectionsBroken, r.ConnectionsSurvived)
	fmt.Fprintln(w, "| node rolled | took | probes | lost | longest outage | paths that broke | connections broken |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|")
	for i, n := range r.Nodes {
		took := n.End.Sub(n.Start).Seconds()
		note := ""
		if i < len(windows) && windows[i].Err != "" {
			note = " (failed)"
		}
		fmt.Fprintf(w, "| %s%s | %.1f s | %d | %d | %.1f s | %s | %s |\n", n.Node, note, took, n.Attempts, n.Lost, n.LongestOutage.Seconds(),
			orNone(strings.Join(n.Broken, "<br>")), orNone(strings.Join(n.ConnectionsBroken, "<br>")))
	}
	fmt.Fprintln(w, "\n| path | probes | lost | longest outage |")
	fmt.Fprintln(w, "|---|---|---|---|")
	paths := make([]string, 0, len(r.Paths))
	for p := range r.Paths {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		st := r.Paths[p]
		fmt.Fprintf(w, "| %s | %d | %d | %.1f s |\n", p, st.Attempts, st.Lost, st.LongestOutage.Seconds())
	}
	if len(d.Mixed) > 0 {
		fmt.Fprintf(w, "\nPod to pod between nodes not being rolled, by the provider each end runs (%s nodes and %s nodes side by side):\n\n", d.From, d.To)
		fmt.Fprintln(w, "| client -> server | attempts | answered |")
		fmt.Fprintln(w, "|---|---|---|")
		for _, m := range d.Mixed {
			pct := 0.0
			if m.Attempts > 0 {
				pct = 100 * float64(m.OK) / float64(m.Attempts)
			}
			fmt.Fprintf(w, "| %s | %d | %d (%.0f%%) |\n", m.Pair, m.Attempts, m.OK, pct)
		}
	}
	if len(d.LostFor) > 0 {
		fmt.Fprintln(w, "\nLost for good (still failing after the last node came back):")
		for _, u := range d.LostFor {
			fmt.Fprintf(w, "- %s since %s: %s\n", u.Key(), u.Start.UTC().Format("15:04:05"), u.Err)
		}
	}
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// reportLeftovers looks on every node for anything of the old provider.
func (s *Switch) reportLeftovers(ctx context.Context) {
	started := time.Now()
	ch := switchCheck(checkLeftovers, fmt.Sprintf("nothing of %s is left on any node (CNI config, interfaces, routes, iptables chains)", s.cfg.From), started)
	// A new provider that routes via the peers itself writes the same routes the old one did.
	skipRoutes := s.cfg.HealthyB.NodeRoutes
	if skipRoutes {
		ch.Reason = fmt.Sprintf("routes not compared: %s routes pod CIDRs via the peers itself", s.cfg.To)
	}
	var found []string
	for _, n := range s.nodes {
		state := s.cfg.Owned(n.Name, s.nodes, s.cfg.PodSubnet)
		cctx, cancel := context.WithTimeout(ctx, s.c.Timeouts.Leftovers)
		left, err := state.Leftovers(cctx, s.nodesRun, n.Name, skipRoutes)
		cancel()
		if err != nil {
			found = append(found, err.Error())
			ch.Observations = append(ch.Observations, results.Observation{From: n.Name, Expected: "clean", Observed: "could not look: " + err.Error()})
			continue
		}
		for _, l := range left {
			found = append(found, l.String())
			ch.Observations = append(ch.Observations, results.Observation{From: n.Name, Protocol: l.Kind, To: l.Item, Expected: "absent", Observed: "present: " + l.Seen})
		}
		if len(left) == 0 {
			ch.Observations = append(ch.Observations, results.Observation{From: n.Name, Expected: "absent", Observed: fmt.Sprintf("none of %d items", itemCount(state, skipRoutes)), OK: true})
		}
	}
	conclude(&ch, found)
	ch.DurationMS = time.Since(started).Milliseconds()
	_ = s.rec.AddCheck(ch)
}

func itemCount(s providers.NodeState, skipRoutes bool) int {
	n := len(s.Files) + len(s.Links) + len(s.Chains) + len(s.RouteProtocols)
	if !skipRoutes {
		n += len(s.Routes)
	}
	return n
}

// redact applies the run's redactor (Config.Redact), if any.
func (s *Switch) redact(b []byte) []byte {
	if s.cfg.Redact == nil {
		return b
	}
	return s.cfg.Redact(b)
}
