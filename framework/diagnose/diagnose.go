// Package diagnose names the likely causes of failing checks from what the checks observed and
// what the nodes report. It only names a cause when the observations make it clear, and says so
// when they do not: a wrong guess in a runbook costs more than no guess.
package diagnose

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/netconform/netconform/framework/results"
)

// Check ids the rules read.
const (
	podTCP        = "connectivity/pod-to-pod-over-tcp"
	podUDP        = "connectivity/pod-to-pod-over-udp"
	podICMP       = "connectivity/pod-to-pod-over-icmp"
	serviceTCP    = "connectivity/pod-to-clusterip-service-over-tcp"
	serviceUDP    = "connectivity/pod-to-clusterip-service-over-udp"
	fullSize      = "mtu/a-full-size-packet-with-df-crosses-between-nodes"
	bulk          = "mtu/a-bulk-tcp-transfer-between-pods-on-different-nodes-completes"
	devices       = "mtu/pod-and-node-devices-carry-the-expected-mtu"
	nodeRoutes    = "routes/every-node-has-exactly-one-route-to-every-other-node-s-pod-cidr-via-that-node"
	staleRoutes   = "routes/no-route-to-a-pod-cidr-that-no-node-owns"
	dnsUDP        = "dns/cluster-names-resolve-over-udp-from-every-node"
	dnsTCP        = "dns/cluster-names-resolve-over-tcp-from-every-node"
	corednsReady  = "dns/every-coredns-replica-is-ready"
	routeQuota    = "routes/the-cluster-s-routes-fit-the-route-table-quota"
	noClearCause  = "no clear cause"
	networkPlugin = "network plugin"
)

// NodeCondition is a node's Ready condition as the evidence saw it.
type NodeCondition struct {
	Node    string
	Ready   bool
	Reason  string
	Message string
}

// Input is what the rules look at.
type Input struct {
	Checks []results.Check
	Nodes  []NodeCondition
}

type pair struct{ from, to string }

func (p pair) String() string { return p.from + " -> " + p.to }

type view struct {
	byID map[string]results.Check
}

func (v view) failed(id string) bool { c, ok := v.byID[id]; return ok && c.Status == results.Failed }
func (v view) passed(id string) bool { c, ok := v.byID[id]; return ok && c.Status == results.Passed }

// badPairs are the failing observations of a check, by pair.
func (v view) badPairs(id string) map[pair]results.Observation {
	out := map[pair]results.Observation{}
	for _, o := range v.byID[id].Observations {
		if !o.OK {
			out[pair{o.From, o.To}] = o
		}
	}
	return out
}

func (v view) okPairs(id string) map[pair]bool {
	out := map[pair]bool{}
	for _, o := range v.byID[id].Observations {
		if o.OK {
			out[pair{o.From, o.To}] = true
		}
	}
	return out
}

// Analyze returns the likely causes of the failing checks in in, most specific first. Every
// failing check is explained by some cause or listed under "no clear cause".
func Analyze(in Input) []results.Cause {
	v := view{byID: map[string]results.Check{}}
	for _, c := range in.Checks {
		v.byID[c.ID] = c
	}
	var causes []results.Cause
	explained := map[string]bool{}
	add := func(c results.Cause) {
		c.Clear = true
		causes = append(causes, c)
		for _, id := range c.Checks {
			explained[id] = true
		}
	}

	// A NotReady node explains the failures that involve it: with its network plugin not
	// initialized, or gone silent altogether (kubelet stopped posting status).
	for _, n := range in.Nodes {
		if n.Ready {
			continue
		}
		msg := strings.ToLower(n.Message)
		title := fmt.Sprintf("node %s is NotReady (%s)", n.Node, n.Reason)
		switch {
		case strings.Contains(msg, networkPlugin) || strings.Contains(msg, "cni"):
			title = fmt.Sprintf("node %s is NotReady: its network plugin is not initialized", n.Node)
		case strings.Contains(msg, "stopped posting"):
			title = fmt.Sprintf("node %s is NotReady: its kubelet stopped answering (node hung, down or cut off)", n.Node)
		}
		checks := failingOn(v, n.Node)
		if len(checks) == 0 {
			continue
		}
		add(results.Cause{Title: title, Evidence: []string{fmt.Sprintf("%s Ready=False %s: %s", n.Node, n.Reason, n.Message)}, Checks: checks})
	}

	// MTU black hole: small packets cross a pair, full-size ones do not.
	small := v.okPairs(podICMP)
	var holes []string
	var holeChecks []string
	for p, o := range v.badPairs(fullSize) {
		if small[p] && (o.Observed == "timeout" || o.Observed == "frag-needed") {
			holes = append(holes, fmt.Sprintf("%s: small ICMP ok, %s-byte DF ICMP %s", p, strings.TrimSpace(sizeOf(o)), o.Observed))
		}
	}
	if len(holes) > 0 {
		sort.Strings(holes)
		ev := append(holes, mtuFacts(v)...)
		holeChecks = append(holeChecks, fullSize)
		if v.failed(bulk) {
			holeChecks = append(holeChecks, bulk)
		}
		if v.failed(devices) {
			holeChecks = append(holeChecks, devices)
			for _, o := range v.byID[devices].Observations {
				if !o.OK {
					ev = append(ev, fmt.Sprintf("%s %s: expected MTU %s, observed %s", o.From, o.To, o.Expected, o.Observed))
				}
			}
		}
		add(results.Cause{Title: "MTU black hole: small packets cross between nodes but full-size ones do not", Evidence: ev, Checks: holeChecks})
	}

	// A missing route explains the pod-to-pod failures across it, and every other failure that
	// only ever involves a node at either end of it: a Service whose backend sits across the
	// missing route, a reply that cannot find its way back, a NodePort forwarded there.
	if v.failed(nodeRoutes) {
		var ev []string
		ends := map[string]bool{}
		for p, o := range v.badPairs(nodeRoutes) {
			ev = append(ev, fmt.Sprintf("%s has %s route to %s's pod CIDR (expected %s)", p.from, o.Observed, p.to, o.Expected))
			ends[p.from], ends[p.to] = true, true
		}
		sort.Strings(ev)
		checks := append([]string{nodeRoutes}, failedAmong(v, podTCP, podUDP, podICMP, "connectivity/host-network-to-pod-over-tcp", bulk, fullSize)...)
		for _, id := range onlyInvolving(v, ends) {
			if !slices.Contains(checks, id) {
				checks = append(checks, id)
			}
		}
		add(results.Cause{Title: "missing or wrong routes to other nodes' pod CIDRs", Evidence: ev, Checks: checks})
	}
	if v.failed(staleRoutes) {
		var ev []string
		for p, o := range v.badPairs(staleRoutes) {
			ev = append(ev, fmt.Sprintf("%s: %s", p.from, o.Observed))
		}
		sort.Strings(ev)
		add(results.Cause{Title: "stale routes to pod CIDRs that no node owns (left by deleted nodes or an old provider)", Evidence: ev, Checks: []string{staleRoutes}})
	}
	if v.failed(routeQuota) {
		add(results.Cause{Title: "the cluster needs more routes than one route table may hold", Evidence: []string{v.byID[routeQuota].Reason}, Checks: []string{routeQuota}})
	}

	// Drops between nodes whose routes are fine and whose MTU is not the problem.
	if !explained[podTCP] && !explained[podICMP] && (v.failed(podTCP) || v.failed(podICMP)) {
		bad := map[pair]bool{}
		for _, id := range []string{podTCP, podICMP, podUDP} {
			for p := range v.badPairs(id) {
				bad[p] = true
			}
		}
		var ev []string
		for p := range bad {
			ev = append(ev, p.String())
		}
		sort.Strings(ev)
		if v.passed(nodeRoutes) {
			ev = append(ev, "every node has its routes to the other nodes' pod CIDRs")
			add(results.Cause{Title: "traffic between some nodes' pods is dropped although the routes exist (a firewall or iptables rule, or the provider's datapath)",
				Evidence: ev, Checks: failedAmong(v, podTCP, podUDP, podICMP, fullSize, bulk, "connectivity/host-network-to-pod-over-tcp")})
		}
	}

	// DNS failing while pods reach each other.
	if (v.failed(dnsUDP) || v.failed(dnsTCP)) && !v.failed(podTCP) {
		if v.failed(corednsReady) {
			add(results.Cause{Title: "CoreDNS is not running: names cannot resolve although pod networking works",
				Evidence: []string{v.byID[corednsReady].Reason}, Checks: failedAmong(v, dnsUDP, dnsTCP, corednsReady)})
		} else if v.failed(serviceTCP) || v.failed(serviceUDP) {
			add(results.Cause{Title: "Service forwarding is broken (kube-proxy): DNS and Services fail while pods reach each other",
				Checks: failedAmong(v, dnsUDP, dnsTCP, serviceTCP, serviceUDP)})
		}
	}
	if (v.failed(serviceTCP) || v.failed(serviceUDP)) && v.passed(podTCP) && !explained[serviceTCP] {
		add(results.Cause{Title: "Service forwarding is broken (kube-proxy) while pods reach each other directly",
			Checks: failedAmong(v, serviceTCP, serviceUDP, "connectivity/pod-to-nodeport-on-every-node")})
	}

	var rest []string
	for _, c := range in.Checks {
		if c.Status == results.Failed && !explained[c.ID] {
			rest = append(rest, c.ID)
		}
	}
	if len(rest) > 0 {
		causes = append(causes, results.Cause{Title: noClearCause, Clear: false,
			Evidence: []string{"the observations do not point at one cause; see the failing observations and the evidence bundle"}, Checks: rest})
	}
	return causes
}

func failedAmong(v view, ids ...string) []string {
	var out []string
	for _, id := range ids {
		if v.failed(id) {
			out = append(out, id)
		}
	}
	return out
}

// onlyInvolving lists the failing checks each of whose failed observations comes from, or goes
// to, one of nodes ("<node>", "<node> host", "<node> NodePort", ...); a check that failed with
// no failed observation, or with one elsewhere, is not among them.
func onlyInvolving(v view, nodes map[string]bool) []string {
	var out []string
	for id, c := range v.byID {
		if c.Status != results.Failed {
			continue
		}
		n, all := 0, true
		for _, o := range c.Observations {
			if o.OK {
				continue
			}
			n++
			to, _, _ := strings.Cut(o.To, " ")
			if !nodes[o.From] && !nodes[to] {
				all = false
				break
			}
		}
		if n > 0 && all {
			out = append(out, id)
		}
	}
	sort.Strings(out)
	return out
}

// failingOn lists failing checks with an observation from or to node.
func failingOn(v view, node string) []string {
	var out []string
	for id, c := range v.byID {
		if c.Status != results.Failed {
			continue
		}
		for _, o := range c.Observations {
			if !o.OK && (o.From == node || o.To == node) {
				out = append(out, id)
				break
			}
		}
	}
	sort.Strings(out)
	return out
}

// mtuFacts lists the underlay and expected pod MTUs the devices check measured.
func mtuFacts(v view) []string {
	var out []string
	for _, m := range v.byID[devices].Measurements {
		if strings.HasSuffix(m.Name, "_underlay_mtu") || strings.HasSuffix(m.Name, "_expected_pod_mtu") {
			out = append(out, fmt.Sprintf("%s = %g", m.Name, m.Value))
		}
	}
	sort.Strings(out)
	return out
}

func sizeOf(o results.Observation) string {
	if i := strings.Index(o.Detail, "of "); i >= 0 {
		f := strings.Fields(o.Detail[i+3:])
		if len(f) > 0 {
			return f[0]
		}
	}
	return "full"
}
