package suites

import (
	"time"

	"github.com/onsi/ginkgo/v2"

	"github.com/netconform/netconform/framework/agents"
	"github.com/netconform/netconform/framework/probe"
)

// whoCount is how many connections a who probe makes to a Service: enough that every client
// meets other backends than itself.
const whoCount = 6

// The source address a packet arrives with: routed modes and most overlays keep a pod's own IP
// between pods (NetworkPolicy and logs depend on it); traffic leaving the cluster must carry
// the node's IP, because nothing outside routes pod addresses back.
var _ = ginkgo.Describe("source-ip", ginkgo.Label("source-ip"), func() {
	whoPair := func(proto probe.Protocol, sameNode bool) []row {
		var rows []row
		for _, p := range nodePairs(sameNode, !sameNode) {
			from, to := agentOrMissing(agents.PodA, p[0]), agentOrMissing(agents.PodB, p[1])
			rows = append(rows, toAgentRow(from, p[1], to, probe.Request{Protocol: proto, Target: hostPort(to.IP, probe.WhoPort)}, peerIs(from.IP, "")))
		}
		return rows
	}

	perFamily(func(f inFamily) {
		ginkgo.It(f.name("pod to pod across nodes keeps the client pod's IP over TCP"), f.label(), ginkgo.Label("pod-source", "tcp"), f.spec(func(ctx ginkgo.SpecContext) {
			expectTable(ctx, whoPair(probe.WhoTCP, false), singleNode)
		}), within(2*time.Minute))

		ginkgo.It(f.name("pod to pod across nodes keeps the client pod's IP over UDP"), f.label(), ginkgo.Label("pod-source", "udp"), f.spec(func(ctx ginkgo.SpecContext) {
			expectTable(ctx, whoPair(probe.WhoUDP, false), singleNode)
		}), within(2*time.Minute))

		ginkgo.It(f.name("pod to pod on the same node keeps the client pod's IP"), f.label(), ginkgo.Label("pod-source-local", "tcp"), f.spec(func(ctx ginkgo.SpecContext) {
			expectTable(ctx, whoPair(probe.WhoTCP, true), noNodes)
		}), within(2*time.Minute))

		ginkgo.It(f.name("pod to a ClusterIP Service keeps the client pod's IP"), f.label(), ginkgo.Label("service-source", "tcp"), f.spec(func(ctx ginkgo.SpecContext) {
			svc := fixture(env.Fleet.Fixtures.Probe, "probe")
			target := hostPort(svc.ClusterIP, port(svc, agents.PortWhoTCP, false))
			var rows []row
			for _, src := range env.Fleet.Nodes() {
				from := agentOrMissing(agents.PodA, src)
				rows = append(rows, to(from, "service "+target, probe.Request{Protocol: probe.WhoTCP, Target: target, Count: whoCount}, peerIs(from.IP, serverName(from))))
			}
			expectTable(ctx, rows, noNodes)
		}), within(2*time.Minute))

		egress := func(proto probe.Protocol) []row {
			ext := outside()
			var rows []row
			for _, src := range env.Fleet.Nodes() {
				from := agentOrMissing(agents.PodA, src)
				want := reach()
				if proto != probe.ICMP {
					want = peerIs(nodeIP(src), "")
				}
				req := probe.Request{Protocol: proto, Target: hostPort(ext.IP, probe.WhoPort)}
				if proto == probe.ICMP {
					req.Target = ext.IP
				}
				rows = append(rows, to(from, "outside "+ext.IP, req, want))
			}
			return rows
		}

		ginkgo.It(f.name("pod to outside the cluster leaves with its node's IP over TCP"), f.label(), ginkgo.Label("egress", "masquerade", "tcp"), f.spec(func(ctx ginkgo.SpecContext) {
			expectTable(ctx, egress(probe.WhoTCP), noNodes)
		}), within(2*time.Minute))

		ginkgo.It(f.name("pod to outside the cluster leaves with its node's IP over UDP"), f.label(), ginkgo.Label("egress", "masquerade", "udp"), f.spec(func(ctx ginkgo.SpecContext) {
			expectTable(ctx, egress(probe.WhoUDP), noNodes)
		}), within(2*time.Minute))

		ginkgo.It(f.name("pod to outside the cluster over ICMP"), f.label(), ginkgo.Label("egress", "icmp"), f.spec(func(ctx ginkgo.SpecContext) {
			expectTable(ctx, egress(probe.ICMP), noNodes)
		}), within(2*time.Minute))
	})
})
