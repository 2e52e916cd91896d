// Package disruption turns the timelines of continuous probes taken during a rolling change
// (every attempt with its time and outcome) into outages: per path, per node rolled and
// overall, with lost attempts, the longest outage, the paths that broke and whether
// long-lived connections survived.
package disruption

import (
	"fmt"
	"sort"
	"time"
)

// Attempt is one probe. Series are keyed by From, Path and To, so that a client or target pod
// replaced on the same node continues the same series.
type Attempt struct {
	Time time.Time
	// From is the client's node; To the target's node, or the Service or DNS name.
	From, Path, To string
	OK             bool
	Err            string
	// Conn names the long-lived connection an attempt used (path "conn"); "" elsewhere.
	Conn string
}

// Window is the time a node was being rolled.
type Window struct {
	Node       string
	Start, End time.Time
}

// Outage is a run of failed attempts on one series, from the first failure to the next
// success (or to the last attempt, when none came: not recovered).
type Outage struct {
	From      string    `json:"from"`
	Path      string    `json:"path"`
	To        string    `json:"to"`
	Start     time.Time `json:"start"`
	End       time.Time `json:"end"`
	Lost      int       `json:"lost"`
	Recovered bool      `json:"recovered"`
	// Err is the first failure seen.
	Err string `json:"error,omitempty"`
}

// Duration of the outage.
func (o Outage) Duration() time.Duration { return o.End.Sub(o.Start) }

// Key names the series.
func (o Outage) Key() string { return SeriesKey(o.From, o.Path, o.To) }

// SeriesKey names a series as "path from -> to".
func SeriesKey(from, path, to string) string { return fmt.Sprintf("%s %s -> %s", path, from, to) }

// Stats summarise attempts and outages over some span.
type Stats struct {
	Attempts      int           `json:"attempts"`
	Lost          int           `json:"lost"`
	LongestOutage time.Duration `json:"longestOutageNS"`
	// Longest is the series and times of the longest outage; over a node's roll, the
	// outage's part inside the roll counts (LongestOutage), its full times are in Longest.
	Longest *Outage `json:"longest,omitempty"`
	// Broken are the series with an outage in the span, sorted.
	Broken []string `json:"broken,omitempty"`
}

// NodeReport is what happened while one node was rolled.
type NodeReport struct {
	Node  string    `json:"node"`
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	Stats
	// ConnectionsBroken are long-lived connections that broke in the window.
	ConnectionsBroken []string `json:"connectionsBroken,omitempty"`
}

// Connection is one long-lived connection of a pair.
type Connection struct {
	From, To string
	ID       string
	Opened   time.Time
	// Last is the last attempt on it; Broke tells whether that attempt failed.
	Last  time.Time
	Broke bool
	Err   string
}

// Report is the analysis of a whole change.
type Report struct {
	Overall Stats        `json:"overall"`
	Nodes   []NodeReport `json:"nodes"`
	// Paths are the stats per path (pod, service, dns, conn).
	Paths   map[string]Stats `json:"paths"`
	Outages []Outage         `json:"outages"`
	// Unrecovered are outages still going on at the series' last attempt.
	Unrecovered []Outage `json:"unrecovered,omitempty"`
	// Connections: how many long-lived connections existed, how many broke, and which.
	ConnectionsOpened   int          `json:"connectionsOpened"`
	ConnectionsBroken   int          `json:"connectionsBroken"`
	ConnectionsSurvived int          `json:"connectionsSurvived"`
	Connections         []Connection `json:"-"`
}

// Analyze computes the report. windows are the nodes' roll times, in order.
func Analyze(attempts []Attempt, windows []Window) Report {
	series := map[string][]Attempt{}
	for _, a := range attempts {
		k := SeriesKey(a.From, a.Path, a.To)
		series[k] = append(series[k], a)
	}
	keys := make([]string, 0, len(series))
	for k := range series {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var rep Report
	rep.Paths = map[string]Stats{}
	for _, k := range keys {
		s := series[k]
		sort.SliceStable(s, func(i, j int) bool { return s[i].Time.Before(s[j].Time) })
		outs := outages(s)
		rep.Outages = append(rep.Outages, outs...)
		for _, o := range outs {
			if !o.Recovered {
				rep.Unrecovered = append(rep.Unrecovered, o)
			}
		}
		if s[0].Path == "conn" {
			rep.Connections = append(rep.Connections, connections(s)...)
		}
	}
	rep.Overall = stats(attempts, rep.Outages, time.Time{}, time.Time{})
	byPath := map[string][]Attempt{}
	for _, a := range attempts {
		byPath[a.Path] = append(byPath[a.Path], a)
	}
	for p, as := range byPath {
		var outs []Outage
		for _, o := range rep.Outages {
			if o.Path == p {
				outs = append(outs, o)
			}
		}
		rep.Paths[p] = stats(as, outs, time.Time{}, time.Time{})
	}
	for _, w := range windows {
		nr := NodeReport{Node: w.Node, Start: w.Start, End: w.End, Stats: stats(attempts, rep.Outages, w.Start, w.End)}
		for _, c := range rep.Connections {
			if c.Broke && !c.Last.Before(w.Start) && !c.Last.After(w.End) {
				nr.ConnectionsBroken = append(nr.ConnectionsBroken, fmt.Sprintf("%s -> %s %s", c.From, c.To, c.ID))
			}
		}
		rep.Nodes = append(rep.Nodes, nr)
	}
	for _, c := range rep.Connections {
		rep.ConnectionsOpened++
		if c.Broke {
			rep.ConnectionsBroken++
		} else {
			rep.ConnectionsSurvived++
		}
	}
	return rep
}

// outages finds the runs of failures in one series sorted by time.
func outages(s []Attempt) []Outage {
	var out []Outage
	var cur *Outage
	for _, a := range s {
		switch {
		case !a.OK && cur == nil:
			cur = &Outage{From: a.From, Path: a.Path, To: a.To, Start: a.Time, End: a.Time, Lost: 1, Err: a.Err}
		case !a.OK:
			cur.Lost++
			cur.End = a.Time
		case cur != nil:
			cur.End, cur.Recovered = a.Time, true
			out = append(out, *cur)
			cur = nil
		}
	}
	if cur != nil {
		out = append(out, *cur)
	}
	return out
}

// connections splits a pair's conn series into its connections.
func connections(s []Attempt) []Connection {
	var out []Connection
	idx := map[string]int{}
	for _, a := range s {
		i, ok := idx[a.Conn]
		if !ok {
			i = len(out)
			idx[a.Conn] = i
			out = append(out, Connection{From: a.From, To: a.To, ID: a.Conn, Opened: a.Time})
		}
		c := &out[i]
		c.Last = a.Time
		if !a.OK {
			c.Broke, c.Err = true, a.Err
		}
	}
	return out
}

// stats over [from, to]; zero times mean unbounded. Outages count when they overlap the span.
func stats(attempts []Attempt, outs []Outage, from, to time.Time) Stats {
	in := func(t time.Time) bool {
		return (from.IsZero() || !t.Before(from)) && (to.IsZero() || !t.After(to))
	}
	var st Stats
	for _, a := range attempts {
		if in(a.Time) {
			st.Attempts++
			if !a.OK {
				st.Lost++
			}
		}
	}
	broken := map[string]bool{}
	for _, o := range outs {
		if (!from.IsZero() && o.End.Before(from)) || (!to.IsZero() && o.Start.After(to)) {
			continue
		}
		// Within a span, an outage counts for the part inside it, and a series is broken in
		// the span only when one of its attempts failed inside it.
		start, end := o.Start, o.End
		if !from.IsZero() && start.Before(from) {
			start = from
		}
		if !to.IsZero() && end.After(to) {
			end = to
		}
		if !failedIn(attempts, o, start, end) {
			continue
		}
		broken[o.Key()] = true
		if d := end.Sub(start); st.Longest == nil || d > st.LongestOutage {
			o := o
			st.LongestOutage, st.Longest = d, &o
		}
	}
	for k := range broken {
		st.Broken = append(st.Broken, k)
	}
	sort.Strings(st.Broken)
	return st
}

// failedIn reports whether o's series has a failed attempt within [from, to].
func failedIn(attempts []Attempt, o Outage, from, to time.Time) bool {
	for _, a := range attempts {
		if !a.OK && a.From == o.From && a.Path == o.Path && a.To == o.To && !a.Time.Before(from) && !a.Time.After(to) {
			return true
		}
	}
	return false
}
