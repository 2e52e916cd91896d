package suites

import (
	"context"
	"fmt"
	"net"
	"slices"
	"sort"
	"strings"

	"github.com/onsi/ginkgo/v2"

	"github.com/netconform/netconform/framework/agents"
	"github.com/netconform/netconform/framework/probe"
	"github.com/netconform/netconform/framework/results"
)

// A scenario table is the shape of the deeper checks (cilium's connectivity test has the same
// one): each row is a client, a destination, a request and the verdict that row must get. "Must
// be blocked" is as much an expectation as "must work", and a row whose client or destination
// agent is missing fails naming why, without a probe.
type row struct {
	labeledPair
	want expectation
}

// expectation judges one probe's result: whether it is what the row must get, and what was
// observed, in words, for the observation.
type expectation struct {
	name  string
	judge func(probe.Result) (bool, string)
}

// reach: the probe must succeed.
func reach() expectation {
	return expectation{name: string(probe.OK), judge: func(r probe.Result) (bool, string) {
		return r.Outcome == probe.OK, string(r.Outcome)
	}}
}

// blockedExpectation: the probe must go unanswered or be rejected (a policy, a traffic policy).
func blockedExpectation() expectation {
	return expectation{name: "blocked (timeout or refused)", judge: func(r probe.Result) (bool, string) {
		return blocked(r.Outcome), string(r.Outcome)
	}}
}

// refused: the probe must be rejected at once, not time out: a black hole and a rejection look
// alike to a user only until the user waits.
func refused() expectation {
	return expectation{name: string(probe.Refused), judge: func(r probe.Result) (bool, string) {
		return r.Outcome == probe.Refused, string(r.Outcome)
	}}
}

// peerIs: every answer of a who probe must come, as the server saw it, from ip. Answers served
// by the client itself (skipSelf, its own "node/pod") are left out: kube-proxy masquerades a pod
// that reaches itself through a Service, by design.
func peerIs(ip, skipSelf string) expectation {
	return expectation{name: "source " + ip, judge: func(r probe.Result) (bool, string) {
		if r.Outcome != probe.OK {
			return false, string(r.Outcome)
		}
		var seen []string
		judged := 0
		for _, w := range r.Who {
			if skipSelf != "" && w.Server == skipSelf {
				continue
			}
			judged++
			if host := hostOf(w.Peer); !slices.Contains(seen, host) {
				seen = append(seen, host)
			}
		}
		if judged == 0 {
			return false, "every answer came from the client itself: nothing to judge"
		}
		if len(seen) == 1 && seen[0] == ip {
			return true, "source " + ip
		}
		return false, "source " + strings.Join(seen, ",")
	}}
}

// servedBy: every answer must come from server ("node/pod").
func servedBy(server string) expectation {
	return expectation{name: "served by " + server, judge: func(r probe.Result) (bool, string) {
		if r.Outcome != probe.OK {
			return false, string(r.Outcome)
		}
		got := servers(r)
		return len(got) == 1 && got[0] == server, "served by " + strings.Join(got, ",")
	}}
}

// oneServer: every answer must come from the same server (session affinity).
func oneServer() expectation {
	return expectation{name: "one backend for every connection", judge: func(r probe.Result) (bool, string) {
		if r.Outcome != probe.OK {
			return false, string(r.Outcome)
		}
		got := servers(r)
		return len(got) == 1, fmt.Sprintf("%d backends: %s", len(got), strings.Join(got, ","))
	}}
}

// spread: the answers must come from at least n servers (load balancing).
func spread(n int) expectation {
	return expectation{name: fmt.Sprintf("at least %d backends", n), judge: func(r probe.Result) (bool, string) {
		if r.Outcome != probe.OK {
			return false, string(r.Outcome)
		}
		got := servers(r)
		return len(got) >= n, fmt.Sprintf("%d backends: %s", len(got), strings.Join(got, ","))
	}}
}

// servers are the distinct servers that answered a who probe, sorted.
func servers(r probe.Result) []string {
	var out []string
	for _, w := range r.Who {
		if w.Outcome == probe.OK && !slices.Contains(out, w.Server) {
			out = append(out, w.Server)
		}
	}
	sort.Strings(out)
	return out
}

func hostOf(addr string) string {
	if h, _, err := net.SplitHostPort(addr); err == nil {
		return h
	}
	return addr
}

// runTable probes every row whose agents are there and judges it; a row whose client or
// destination agent is missing or not Ready is failed naming why, without a probe.
func runTable(ctx context.Context, rows []row) []results.Observation {
	var toRun []agents.Pair
	var idx []int
	obs := make([]results.Observation, len(rows))
	for i, r := range rows {
		obs[i] = results.Observation{From: r.From.Node, To: r.To, Protocol: string(r.Req.Protocol), Expected: r.want.name}
		if r.toAgent != nil && (!r.toAgent.Ready || r.toAgent.IP == "") {
			obs[i].Observed = string(probe.AgentUnreachable)
			obs[i].Detail = "destination: " + r.toAgent.Unavailable()
			if r.toAgent.Ready {
				obs[i].Detail = fmt.Sprintf("destination %s on node %s has no IP address", r.toAgent.Role, r.toAgent.Node)
			}
			continue
		}
		if missingAddress(r.Req) {
			// ":port" would probe the client itself: a row without an address of the family
			// fails naming it instead.
			noAddress(&obs[i], r.Pair)
			continue
		}
		toRun = append(toRun, r.Pair)
		idx = append(idx, i)
	}
	for j, o := range env.Fleet.RunAll(ctx, toRun, env.ProbeConcurrency) {
		i := idx[j]
		if o.Result.Outcome == probe.AgentUnreachable {
			// The client could not be asked: that proves nothing either way.
			obs[i].Observed = string(o.Result.Outcome)
		} else {
			obs[i].OK, obs[i].Observed = rows[i].want.judge(o.Result)
		}
		obs[i].Detail = o.Result.Detail
		obs[i].RTTMS = o.Result.RTTMS
		obs[i].Attempts = o.Result.Attempts
	}
	return obs
}

// missingAddress says whether a request names no destination address: its target's host (an
// ICMP target's address) is empty.
func missingAddress(req probe.Request) bool {
	if req.Protocol == probe.ICMP {
		return req.Target == ""
	}
	host, _, err := net.SplitHostPort(req.Target)
	return err == nil && host == ""
}

// noAddress records that a pair's destination has no address of the check's IP family.
func noAddress(ob *results.Observation, p agents.Pair) {
	ob.Observed = "no address"
	ob.Detail = fmt.Sprintf("the destination %s has no address of this IP family (target %q)", p.To, p.Req.Target)
}

// expectTable runs a table and decides the check (skipped with whyEmpty when it has no row).
func expectTable(ctx context.Context, rows []row, whyEmpty string) {
	verdict(runTable(ctx, rows), whyEmpty)
}

// to builds a row to a named destination (no agent to check first).
func to(from agents.Agent, dest string, req probe.Request, want expectation) row {
	return row{labeledPair: labeledPair{Pair: agents.Pair{From: from, To: dest, Req: req}}, want: want}
}

// toAgentRow builds a row whose destination agent must be Ready.
func toAgentRow(from agents.Agent, dest string, dst agents.Agent, req probe.Request, want expectation) row {
	r := to(from, dest, req, want)
	r.toAgent = &dst
	return r
}

// serverName is how a who answer names an agent.
func serverName(a agents.Agent) string { return a.Node + "/" + a.Pod }

// outside is the agent outside the cluster, or the spec ends: skipped when none was asked for
// (not on kind and no --external-target), failed when one should be there and is not.
func outside() agents.Agent {
	switch {
	case env.Fleet.External != nil && env.Fleet.External.Ready && env.Fleet.External.IP == "":
		ginkgo.Fail(fmt.Sprintf("the agent outside the cluster has no address of this IP family (it has %s)", strings.Join(env.Fleet.External.IPs, ", ")))
	case env.Fleet.External != nil && env.Fleet.External.Ready:
		return *env.Fleet.External
	case env.Fleet.ExternalWhy != "":
		ginkgo.Fail("the agent outside the cluster is not there: " + env.Fleet.ExternalWhy)
	}
	ginkgo.Skip("environment: no agent outside the cluster (netconform starts one on kind; elsewhere pass --external-target HOST:PORT of a netconform-probe you run outside)")
	return agents.Agent{}
}

// nodeIP is a node's address as its host agent has it ("" when the node has no Ready host agent).
func nodeIP(node string) string { return nodeIPIn(env.Fleet, node) }

// nodeIPIn is nodeIP as fleet f (a family's view) has it.
func nodeIPIn(f *agents.Fleet, node string) string {
	if a, ok := f.Agent(agents.Host, node); ok && a.Ready {
		return a.IP
	}
	return ""
}

// fixture returns a fixture Service, or fails the spec naming why it is not there.
func fixture(s agents.ServiceAddr, what string) agents.ServiceAddr {
	switch {
	case s.Missing != "":
		ginkgo.Fail(fmt.Sprintf("the %s Service %s is not there: %s", what, s.Name, s.Missing))
	case s.ClusterIP == "" && len(s.ClusterIPs) > 0:
		ginkgo.Fail(fmt.Sprintf("the %s Service %s has no ClusterIP of this IP family (it has %s)", what, s.Name, strings.Join(s.ClusterIPs, ", ")))
	case s.ClusterIP == "":
		ginkgo.Fail(fmt.Sprintf("the %s Service %s is not there: %s", what, s.Name, orUnknown(s.Missing)))
	}
	return s
}

// port of a fixture Service by name, or the spec fails.
func port(s agents.ServiceAddr, name string, node bool) int {
	m := s.Ports
	if node {
		m = s.NodePorts
	}
	if p := m[name]; p != 0 {
		return int(p)
	}
	kind := "port"
	if node {
		kind = "node port"
	}
	ginkgo.Fail(fmt.Sprintf("the Service %s has no %s %q", s.Name, kind, name))
	return 0
}

// both: the probe must meet a and b.
func both(a, b expectation) expectation {
	return expectation{name: a.name + " and " + b.name, judge: func(r probe.Result) (bool, string) {
		okA, sawA := a.judge(r)
		okB, sawB := b.judge(r)
		if sawA == sawB {
			return okA && okB, sawA
		}
		return okA && okB, sawA + "; " + sawB
	}}
}
