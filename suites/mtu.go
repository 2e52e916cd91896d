package suites

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/onsi/ginkgo/v2"

	"github.com/netconform/netconform/framework/agents"
	"github.com/netconform/netconform/framework/probe"
	"github.com/netconform/netconform/framework/results"
)

// Bulk transfer size: a few MiB must cross in well under the Bulk bound on any working path; a
// path that drops full-size frames stalls instead.
const bulkBytes = 4 << 20

var _ = ginkgo.Describe("mtu", ginkgo.Label("mtu"), func() {
	ginkgo.It("pod and node devices carry the expected MTU", ginkgo.Label("devices"), func(ctx ginkgo.SpecContext) {
		states, err := collectNodeState(ctx)
		if err != nil {
			ginkgo.Fail(err.Error())
		}
		var obs []results.Observation
		underlays := map[int][]string{}
		for _, s := range states {
			n := s.Node.Name
			if s.HostErr != nil || s.Underlay == nil {
				obs = append(obs, results.Observation{From: n, To: "underlay", Observed: "unknown", Detail: errText(s.HostErr, "no link carries "+s.Node.InternalIP)})
				continue
			}
			underlays[s.Underlay.MTU] = append(underlays[s.Underlay.MTU], n)
			want := env.Healthy.PodMTU(s.Underlay.MTU, env.ConfiguredMTU)
			measure(n+"_underlay_mtu", float64(s.Underlay.MTU), "")
			measure(n+"_expected_pod_mtu", float64(want), "")
			// The pod's own interface.
			o := results.Observation{From: n, To: "pod " + s.Pod.Pod, Protocol: "mtu", Expected: fmt.Sprint(want)}
			if l := podLink(s.Pod.Links); s.PodErr == nil && l != nil {
				// What the pod can send across nodes: its link's MTU, or less where the provider
				// puts the limit on the route (eth0 at 1500, routes at 1450 under VXLAN).
				eff := l.MTU
				o.Detail = fmt.Sprintf("underlay %s MTU %d, overhead %d; pod %s MTU %d", s.Underlay.Name, s.Underlay.MTU, env.Healthy.EncapOverhead, l.Name, l.MTU)
				if s.Pod.PathMTU > 0 && s.Pod.PathMTU < eff {
					eff = s.Pod.PathMTU
					o.Detail += fmt.Sprintf(", route toward %s MTU %d", s.Pod.PathMTUTo, s.Pod.PathMTU)
				}
				o.Observed, o.OK = fmt.Sprint(eff), eff == want
			} else {
				o.Observed, o.Detail = "unknown", errText(s.PodErr, "pod has no eth0")
			}
			obs = append(obs, o)
			// The provider's devices (bridge, vxlan) and every pod veth on the node carry the pod
			// MTU, or the underlay's where the provider puts the limit on routes.
			wantDev := want
			if env.Healthy.MTUOnRoutes && env.ConfiguredMTU == 0 {
				wantDev = s.Underlay.MTU
			}
			for _, l := range s.Host.Links {
				wanted := l.Kind == "veth" && l.Name != s.Underlay.Name
				for _, d := range env.Healthy.Devices {
					wanted = wanted || l.Name == d
				}
				if !wanted {
					continue
				}
				obs = append(obs, results.Observation{From: n, To: l.Name, Protocol: "mtu", Expected: fmt.Sprint(wantDev), Observed: fmt.Sprint(l.MTU), OK: l.MTU == wantDev})
			}
			for _, d := range env.Healthy.Devices {
				if !hasLink(s.Host.Links, d) {
					obs = append(obs, results.Observation{From: n, To: d, Protocol: "mtu", Expected: fmt.Sprint(wantDev), Observed: "missing", Detail: "device " + d + " does not exist"})
				}
			}
		}
		// Nodes whose underlays disagree: the smaller one black-holes its peers' full frames.
		if len(underlays) > 1 {
			var parts []string
			for mtu, nodes := range underlays {
				parts = append(parts, fmt.Sprintf("%d on %s", mtu, strings.Join(nodes, ",")))
			}
			obs = append(obs, results.Observation{From: "cluster", To: "underlay", Protocol: "mtu", Expected: "one MTU on every node", Observed: strings.Join(parts, "; ")})
		}
		verdict(obs, "environment: the cluster has no node to read devices on")
	}, within(2*time.Minute))

	perFamily(func(f inFamily) {
		ginkgo.It(f.name("a full-size packet with DF crosses between nodes"), f.label(), ginkgo.Label("pmtu"), f.spec(func(ctx ginkgo.SpecContext) {
			sizes := expectedPodMTUs(ctx)
			expectAll(ctx, crossNodePairs(func(src string, dst agents.Agent) probe.Request {
				return probe.Request{Protocol: probe.ICMP, Target: dst.IP, Size: sizes[src], DontFragment: true}
			}))
		}), within(3*time.Minute))

		ginkgo.It(f.name("one byte above the MTU with DF is refused, never silently lost"), f.label(), ginkgo.Label("pmtu"), f.spec(func(ctx ginkgo.SpecContext) {
			sizes := expectedPodMTUs(ctx)
			pairs := crossNodePairs(func(src string, dst agents.Agent) probe.Request {
				return probe.Request{Protocol: probe.ICMP, Target: dst.IP, Size: sizes[src] + 1, DontFragment: true}
			})
			obs := runPairs(ctx, pairs)
			for i := range obs {
				o := &obs[i]
				o.Expected = string(probe.MessageTooLong) + " or " + string(probe.FragNeeded)
				o.OK = o.Observed == string(probe.MessageTooLong) || o.Observed == string(probe.FragNeeded)
				if o.Observed == string(probe.OK) {
					o.Detail = "an oversized packet with DF got through: the path MTU is larger than the pod MTU, or DF is not honoured"
				}
				if o.Observed == string(probe.Timeout) {
					o.Detail = "silently lost: no fragmentation-needed came back (" + o.Detail + ")"
				}
			}
			verdict(obs, singleNode)
		}), within(3*time.Minute))

		ginkgo.It(f.name("a bulk TCP transfer between pods on different nodes completes"), f.label(), ginkgo.Label("bulk"), f.spec(func(ctx ginkgo.SpecContext) {
			pairs := crossNodePairs(func(_ string, dst agents.Agent) probe.Request {
				return probe.Request{Protocol: probe.Bulk, Target: hostPort(dst.IP, probe.BulkPort), Size: bulkBytes, TimeoutMS: int(env.Client.Timeouts.Bulk / time.Millisecond)}
			})
			obs := runPairs(ctx, pairs)
			for _, o := range obs {
				if o.OK && o.RTTMS > 0 {
					measure(o.From+"_to_"+o.To+"_MiB_per_s", float64(bulkBytes)/(1<<20)/(o.RTTMS/1000), "")
				}
			}
			verdict(obs, singleNode)
		}), within(5*time.Minute))
	})
})

// crossNodePairs is every ordered pair of distinct nodes (nodePairs), pod agent to pod agent.
func crossNodePairs(req func(src string, dst agents.Agent) probe.Request) []labeledPair {
	var pairs []labeledPair
	for _, p := range nodePairs(false, true) {
		from, to := agentOrMissing(agents.PodA, p[0]), agentOrMissing(agents.PodB, p[1])
		pairs = append(pairs, labeledPair{Pair: agents.Pair{From: from, To: p[1], Req: req(p[0], to)}, toAgent: &to})
	}
	if len(pairs) == 0 {
		ginkgo.Skip(singleNode)
	}
	return pairs
}

// singleNode is why a check between nodes has nothing to observe.
const singleNode = "environment: a single-node cluster has no pair of nodes"

// expectedPodMTUs is each node's expected pod MTU, from the pod's own interface when it
// matches the expectation or the expectation otherwise (the devices check reports mismatches).
func expectedPodMTUs(ctx context.Context) map[string]int {
	states, err := collectNodeState(ctx)
	if err != nil {
		ginkgo.Fail(err.Error())
	}
	out := map[string]int{}
	for _, s := range states {
		if s.Underlay == nil {
			continue
		}
		out[s.Node.Name] = env.Healthy.PodMTU(s.Underlay.MTU, env.ConfiguredMTU)
		if l := podLink(s.Pod.Links); l != nil && l.MTU < out[s.Node.Name] {
			// A pod cannot send more than its own MTU; test what it can send.
			out[s.Node.Name] = l.MTU
		}
		if s.Pod.PathMTU > 0 && s.Pod.PathMTU < out[s.Node.Name] {
			out[s.Node.Name] = s.Pod.PathMTU
		}
	}
	return out
}

func hasLink(links []probe.Link, name string) bool {
	for _, l := range links {
		if l.Name == name {
			return true
		}
	}
	return false
}

func errText(err error, otherwise string) string {
	if err != nil {
		return err.Error()
	}
	return otherwise
}
