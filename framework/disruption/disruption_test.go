package disruption

import (
	"reflect"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func at(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }

// series makes attempts every 100 ms from start to end (ms), failing where fail says.
func series(from, path, to string, start, end int, fail func(ms int) bool) []Attempt {
	var out []Attempt
	for ms := start; ms <= end; ms += 100 {
		ok := !fail(ms)
		a := Attempt{Time: at(ms), From: from, Path: path, To: to, OK: ok}
		if !ok {
			a.Err = "timeout"
		}
		out = append(out, a)
	}
	return out
}

func never(int) bool { return false }

func TestOutageDuringOneNodeRoll(t *testing.T) {
	var as []Attempt
	// a -> b breaks from 1000 to 1400 (5 lost), back at 1500.
	as = append(as, series("a", "pod", "b", 0, 5000, func(ms int) bool { return ms >= 1000 && ms <= 1400 })...)
	as = append(as, series("b", "pod", "a", 0, 5000, never)...)
	// the Service breaks for one attempt while c is rolled.
	as = append(as, series("a", "service", "svc", 0, 5000, func(ms int) bool { return ms == 3000 })...)
	rep := Analyze(as, []Window{{Node: "b", Start: at(800), End: at(2000)}, {Node: "c", Start: at(2500), End: at(3500)}})

	if rep.Overall.Lost != 6 {
		t.Errorf("overall lost = %d, want 6", rep.Overall.Lost)
	}
	if rep.Overall.LongestOutage != 500*time.Millisecond {
		t.Errorf("longest outage = %s, want 500ms (first failure to next success)", rep.Overall.LongestOutage)
	}
	if got := rep.Overall.Longest.Key(); got != "pod a -> b" {
		t.Errorf("longest on %q", got)
	}
	if len(rep.Unrecovered) != 0 {
		t.Errorf("unrecovered = %v, want none", rep.Unrecovered)
	}
	b, c := rep.Nodes[0], rep.Nodes[1]
	if b.Lost != 5 || !reflect.DeepEqual(b.Broken, []string{"pod a -> b"}) {
		t.Errorf("node b: lost %d broken %v, want 5 and the a->b pod path", b.Lost, b.Broken)
	}
	if c.Lost != 1 || c.LongestOutage != 100*time.Millisecond || !reflect.DeepEqual(c.Broken, []string{"service a -> svc"}) {
		t.Errorf("node c: lost %d longest %s broken %v", c.Lost, c.LongestOutage, c.Broken)
	}
	if rep.Paths["pod"].Lost != 5 || rep.Paths["service"].Lost != 1 {
		t.Errorf("per path: %+v", rep.Paths)
	}
}

func TestLossForGoodIsUnrecovered(t *testing.T) {
	as := series("a", "pod", "b", 0, 2000, func(ms int) bool { return ms >= 1500 })
	rep := Analyze(as, nil)
	if len(rep.Unrecovered) != 1 {
		t.Fatalf("unrecovered = %v, want one outage", rep.Unrecovered)
	}
	u := rep.Unrecovered[0]
	if u.Recovered || u.Lost != 6 || u.Start != at(1500) || u.End != at(2000) {
		t.Errorf("unrecovered outage %+v", u)
	}
}

func TestNoFailuresNoOutage(t *testing.T) {
	rep := Analyze(series("a", "dns", "kubernetes", 0, 1000, never), []Window{{Node: "a", Start: at(0), End: at(1000)}})
	if rep.Overall.Lost != 0 || rep.Overall.Longest != nil || len(rep.Outages) != 0 || rep.Nodes[0].Attempts != 11 {
		t.Errorf("report %+v", rep)
	}
}

func TestConnections(t *testing.T) {
	var as []Attempt
	// connection 1 a->b breaks at 1200 (during b's roll); connection 2 then works.
	for ms := 0; ms <= 3000; ms += 100 {
		n, ok := "#1", true
		if ms == 1200 {
			ok = false
		}
		if ms > 1200 {
			n = "#2"
		}
		as = append(as, Attempt{Time: at(ms), From: "a", Path: "conn", To: "b", OK: ok, Conn: n})
		// c->a survives throughout.
		as = append(as, Attempt{Time: at(ms), From: "c", Path: "conn", To: "a", OK: true, Conn: "#1"})
	}
	rep := Analyze(as, []Window{{Node: "b", Start: at(1000), End: at(2000)}, {Node: "c", Start: at(2100), End: at(3000)}})
	if rep.ConnectionsOpened != 3 || rep.ConnectionsBroken != 1 || rep.ConnectionsSurvived != 2 {
		t.Errorf("connections opened %d broken %d survived %d, want 3 1 2", rep.ConnectionsOpened, rep.ConnectionsBroken, rep.ConnectionsSurvived)
	}
	if !reflect.DeepEqual(rep.Nodes[0].ConnectionsBroken, []string{"a -> b #1"}) || len(rep.Nodes[1].ConnectionsBroken) != 0 {
		t.Errorf("per node broken: %v / %v", rep.Nodes[0].ConnectionsBroken, rep.Nodes[1].ConnectionsBroken)
	}
}

func TestOutageSpanningRollsCountsPerRollForItsPart(t *testing.T) {
	// a -> b fails from 1000 to 2900 (back at 3000), across the rolls of b (0-1500) and c (1500-4000).
	as := series("a", "pod", "b", 0, 4000, func(ms int) bool { return ms >= 1000 && ms < 3000 })
	as = append(as, series("a", "dns", "dns", 0, 4000, func(ms int) bool { return ms == 3500 })...)
	rep := Analyze(as, []Window{{Node: "b", Start: at(0), End: at(1500)}, {Node: "c", Start: at(1500), End: at(4000)}, {Node: "d", Start: at(4000), End: at(5000)}})
	if rep.Overall.LongestOutage != 2*time.Second {
		t.Errorf("overall longest %s, want 2s", rep.Overall.LongestOutage)
	}
	b, c, d := rep.Nodes[0], rep.Nodes[1], rep.Nodes[2]
	if b.LongestOutage != 500*time.Millisecond || c.LongestOutage != 1500*time.Millisecond {
		t.Errorf("per roll longest: b %s c %s, want 500ms and 1.5s", b.LongestOutage, c.LongestOutage)
	}
	if len(d.Broken) != 0 || d.LongestOutage != 0 {
		t.Errorf("d's roll: broken %v longest %s; the dns outage ended before it", d.Broken, d.LongestOutage)
	}
}
