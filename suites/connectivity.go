package suites

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/onsi/ginkgo/v2"

	"github.com/netconform/netconform/framework/agents"
	"github.com/netconform/netconform/framework/probe"
	"github.com/netconform/netconform/framework/results"
)

// servicePerNode is how many connections each node makes to a Service: backends are spread
// over nodes, and one connection would test one path chosen at random.
const servicePerNode = 6

var _ = ginkgo.Describe("connectivity", ginkgo.Label("connectivity"), func() {
	perFamily(func(f inFamily) {
		ginkgo.It(f.name("pod to pod over TCP"), f.label(), ginkgo.Label("pod-to-pod", "tcp"), f.spec(func(ctx ginkgo.SpecContext) {
			expectAll(ctx, podPairs(probe.TCP, func(dst agents.Agent) probe.Request {
				return probe.Request{Protocol: probe.TCP, Target: hostPort(dst.IP, probe.TCPEchoPort)}
			}))
		}), within(3*time.Minute))

		ginkgo.It(f.name("pod to pod over UDP"), f.label(), ginkgo.Label("pod-to-pod", "udp"), f.spec(func(ctx ginkgo.SpecContext) {
			expectAll(ctx, podPairs(probe.UDP, func(dst agents.Agent) probe.Request {
				return probe.Request{Protocol: probe.UDP, Target: hostPort(dst.IP, probe.UDPEchoPort)}
			}))
		}), within(3*time.Minute))

		ginkgo.It(f.name("pod to pod over ICMP"), f.label(), ginkgo.Label("pod-to-pod", "icmp"), f.spec(func(ctx ginkgo.SpecContext) {
			expectAll(ctx, podPairs(probe.ICMP, func(dst agents.Agent) probe.Request {
				return probe.Request{Protocol: probe.ICMP, Target: dst.IP}
			}))
		}), within(3*time.Minute))

		ginkgo.It(f.name("pod to ClusterIP Service over TCP"), f.label(), ginkgo.Label("service", "tcp"), f.spec(func(ctx ginkgo.SpecContext) {
			expectAll(ctx, servicePairs(agents.PodA, probe.Request{Protocol: probe.TCP, Target: hostPort(env.Fleet.ClusterIP, probe.TCPEchoPort)}))
		}), within(3*time.Minute))

		ginkgo.It(f.name("pod to ClusterIP Service over UDP"), f.label(), ginkgo.Label("service", "udp"), f.spec(func(ctx ginkgo.SpecContext) {
			expectAll(ctx, servicePairs(agents.PodA, probe.Request{Protocol: probe.UDP, Target: hostPort(env.Fleet.ClusterIP, probe.UDPEchoPort)}))
		}), within(3*time.Minute))

		ginkgo.It(f.name("host network to pod over TCP"), f.label(), ginkgo.Label("host-to-pod", "tcp"), f.spec(func(ctx ginkgo.SpecContext) {
			expectAll(ctx, rolePairs(agents.Host, agents.PodA, "", func(dst agents.Agent) probe.Request {
				return probe.Request{Protocol: probe.TCP, Target: hostPort(dst.IP, probe.TCPEchoPort)}
			}))
		}), within(3*time.Minute))

		ginkgo.It(f.name("host network to pod over UDP"), f.label(), ginkgo.Label("host-to-pod", "udp"), f.spec(func(ctx ginkgo.SpecContext) {
			expectAll(ctx, rolePairs(agents.Host, agents.PodA, "", func(dst agents.Agent) probe.Request {
				return probe.Request{Protocol: probe.UDP, Target: hostPort(dst.IP, probe.UDPEchoPort)}
			}))
		}), within(3*time.Minute))

		ginkgo.It(f.name("pod to host network on every node over TCP"), f.label(), ginkgo.Label("pod-to-host", "tcp"), f.spec(func(ctx ginkgo.SpecContext) {
			expectAll(ctx, rolePairs(agents.PodA, agents.Host, " host", func(dst agents.Agent) probe.Request {
				return probe.Request{Protocol: probe.TCP, Target: hostPort(dst.IP, probe.TCPEchoPort)}
			}))
		}), within(3*time.Minute))

		ginkgo.It(f.name("pod to NodePort on every node"), f.label(), ginkgo.Label("nodeport", "tcp"), f.spec(func(ctx ginkgo.SpecContext) {
			if env.Fleet.NodePort == 0 {
				ginkgo.Fail("the probe Service has no NodePort")
			}
			expectAll(ctx, rolePairs(agents.PodA, agents.Host, " NodePort", func(host agents.Agent) probe.Request {
				return probe.Request{Protocol: probe.TCP, Target: hostPort(host.IP, int(env.Fleet.NodePort))}
			}))
		}), within(3*time.Minute))
	})
})

// labeledPair is a probe with the destination agent it needs, if any.
type labeledPair struct {
	agents.Pair
	toAgent *agents.Agent
}

// hostPort joins an address and a port (an IPv6 address in brackets).
func hostPort(ip string, port int) string { return net.JoinHostPort(ip, strconv.Itoa(port)) }

// agentOrMissing returns the agent of a role on a node, or a not-Ready placeholder that names
// the node and why it has none.
func agentOrMissing(role, node string) agents.Agent {
	return env.Fleet.AgentOrMissing(role, node)
}

// podPairs is every ordered pair of nodes, from the first pod agent on the source node to the
// second on the destination (so same-node pairs cross the node's bridge, not loopback).
func podPairs(proto probe.Protocol, req func(dst agents.Agent) probe.Request) []labeledPair {
	return rolePairs(agents.PodA, agents.PodB, "", req)
}

// rolePairs is every ordered pair of nodes (nodePairs: a sample with --max-pairs), from the
// agent of srcRole on the source node to the agent of dstRole on the destination (named by its
// node and suffix), which must be Ready.
func rolePairs(srcRole, dstRole, suffix string, req func(dst agents.Agent) probe.Request) []labeledPair {
	var pairs []labeledPair
	for _, p := range nodePairs(true, true) {
		from, to := agentOrMissing(srcRole, p[0]), agentOrMissing(dstRole, p[1])
		pairs = append(pairs, labeledPair{Pair: agents.Pair{From: from, To: p[1] + suffix, Req: req(to)}, toAgent: &to})
	}
	return pairs
}

// servicePairs: from the agent of role on every node, servicePerNode connections to a Service.
func servicePairs(role string, req probe.Request) []labeledPair {
	var pairs []labeledPair
	for _, src := range env.Fleet.Nodes() {
		from := agentOrMissing(role, src)
		for i := 0; i < servicePerNode; i++ {
			pairs = append(pairs, labeledPair{Pair: agents.Pair{From: from, To: "service " + req.Target, Req: req}})
		}
	}
	return pairs
}

// runPairs probes every pair (pairs whose destination agent is missing fail without a probe)
// and returns one observation per pair: each must simply succeed.
func runPairs(ctx context.Context, pairs []labeledPair) []results.Observation {
	rows := make([]row, len(pairs))
	for i, p := range pairs {
		rows[i] = row{labeledPair: p, want: reach()}
	}
	return runTable(ctx, rows)
}

// noNodes is why a check that probes from every node has nothing to observe.
const noNodes = "environment: the cluster has no node to probe from"

// expectAll probes every pair, records the observations, and fails naming every pair whose
// outcome was not ok. Pod-to-pod verdicts are never retried: a retry would hide the fault.
func expectAll(ctx ginkgo.SpecContext, pairs []labeledPair) {
	verdict(runPairs(ctx, pairs), noNodes)
}

// verdict records a check's observations and decides it: skipped with whyEmpty when there was
// nothing to observe (a check that saw nothing proves nothing, so it must not pass), failed
// naming every observation that was not ok, passed otherwise.
func verdict(obs []results.Observation, whyEmpty string) {
	if len(obs) == 0 {
		ginkgo.Skip(whyEmpty)
	}
	observe(obs)
	failOnBad(obs)
}

// failOnBad fails the spec with one line per failing observation.
func failOnBad(obs []results.Observation) {
	var bad []string
	for _, o := range obs {
		if !o.OK {
			line := fmt.Sprintf("%s -> %s %s: %s", o.From, o.To, o.Protocol, o.Observed)
			if o.Expected != "" && o.Expected != string(probe.OK) {
				line = fmt.Sprintf("%s -> %s %s: expected %s, observed %s", o.From, o.To, o.Protocol, o.Expected, o.Observed)
			}
			if o.Detail != "" {
				line += " (" + o.Detail + ")"
			}
			bad = append(bad, line)
		}
	}
	if len(bad) > 0 {
		ginkgo.Fail(fmt.Sprintf("%d of %d failed:\n%s", len(bad), len(obs), strings.Join(bad, "\n")))
	}
}
