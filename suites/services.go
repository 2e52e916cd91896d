package suites

import (
	"context"
	"fmt"
	"time"

	"github.com/onsi/ginkgo/v2"

	"github.com/netconform/netconform/framework/agents"
	"github.com/netconform/netconform/framework/probe"
)

// affinityCount is how many connections a client makes to tell one backend from several.
const affinityCount = 12

// What kube-proxy (or the provider's replacement of it) must do with Services, beyond the
// pod-to-ClusterIP basics in connectivity: clients on the host network, NodePorts from outside
// the cluster, session affinity, both traffic policies, a Service without endpoints, hostPort.
var _ = ginkgo.Describe("services", ginkgo.Label("services"), func() {
	perFamily(func(f inFamily) {
		ginkgo.It(f.name("host network to ClusterIP Service over TCP"), f.label(), ginkgo.Label("host-to-service", "tcp"), f.spec(func(ctx ginkgo.SpecContext) {
			expectAll(ctx, servicePairs(agents.Host, probe.Request{Protocol: probe.TCP, Target: hostPort(env.Fleet.ClusterIP, probe.TCPEchoPort)}))
		}), within(2*time.Minute))

		ginkgo.It(f.name("host network to ClusterIP Service over UDP"), f.label(), ginkgo.Label("host-to-service", "udp"), f.spec(func(ctx ginkgo.SpecContext) {
			expectAll(ctx, servicePairs(agents.Host, probe.Request{Protocol: probe.UDP, Target: hostPort(env.Fleet.ClusterIP, probe.UDPEchoPort)}))
		}), within(2*time.Minute))

		ginkgo.It(f.name("pod to NodePort on every node over UDP"), f.label(), ginkgo.Label("nodeport", "udp"), f.spec(func(ctx ginkgo.SpecContext) {
			if env.Fleet.UDPPort == 0 {
				ginkgo.Fail("the probe Service has no UDP NodePort")
			}
			expectAll(ctx, rolePairs(agents.PodA, agents.Host, " NodePort", func(host agents.Agent) probe.Request {
				return probe.Request{Protocol: probe.UDP, Target: hostPort(host.IP, int(env.Fleet.UDPPort))}
			}))
		}), within(2*time.Minute))

		ginkgo.It(f.name("a pod reaches itself through its Service (hairpin)"), f.label(), ginkgo.Label("hairpin", "tcp"), f.spec(func(ctx ginkgo.SpecContext) {
			fx := env.Fleet.Fixtures
			svc := fixture(fx.Local, "single-endpoint")
			target := hostPort(svc.ClusterIP, port(svc, agents.PortWhoTCP, false))
			expectTable(ctx, []row{toAgentRow(fx.Solo, "its own service "+target, fx.Solo, probe.Request{Protocol: probe.WhoTCP, Target: target}, servedBy(serverName(fx.Solo)))}, noNodes)
		}), within(2*time.Minute))

		ginkgo.It(f.name("sessionAffinity ClientIP keeps each client on one backend"), f.label(), ginkgo.Label("affinity", "tcp"), f.spec(func(ctx ginkgo.SpecContext) {
			svc := fixture(env.Fleet.Fixtures.Affinity, "session-affinity")
			target := hostPort(svc.ClusterIP, port(svc, agents.PortWhoTCP, false))
			var rows []row
			for _, src := range env.Fleet.Nodes() {
				rows = append(rows, to(agentOrMissing(agents.PodA, src), "service "+target, probe.Request{Protocol: probe.WhoTCP, Target: target, Count: affinityCount}, oneServer()))
			}
			expectTable(ctx, rows, noNodes)
		}), within(2*time.Minute))

		ginkgo.It(f.name("without session affinity, connections spread over more than one backend"), f.label(), ginkgo.Label("load-balancing", "tcp"), f.spec(func(ctx ginkgo.SpecContext) {
			svc := fixture(env.Fleet.Fixtures.Probe, "probe")
			target := hostPort(svc.ClusterIP, port(svc, agents.PortWhoTCP, false))
			var rows []row
			for _, src := range env.Fleet.Nodes() {
				rows = append(rows, to(agentOrMissing(agents.PodA, src), "service "+target, probe.Request{Protocol: probe.WhoTCP, Target: target, Count: affinityCount}, spread(2)))
			}
			expectTable(ctx, rows, noNodes)
		}), within(2*time.Minute))

		fromOutside := func(proto probe.Protocol, nodePortName string) []row {
			ext := outside()
			svc := fixture(env.Fleet.Fixtures.Probe, "probe")
			np := port(svc, nodePortName, true)
			var rows []row
			for _, dst := range env.Fleet.Nodes() {
				host := agentOrMissing(agents.Host, dst)
				rows = append(rows, toAgentRow(ext, dst+" NodePort", host, probe.Request{Protocol: proto, Target: hostPort(host.IP, np)}, reach()))
			}
			return rows
		}

		ginkgo.It(f.name("NodePort from outside the cluster on every node over TCP"), f.label(), ginkgo.Label("nodeport-outside", "tcp"), f.spec(func(ctx ginkgo.SpecContext) {
			expectTable(ctx, fromOutside(probe.TCP, agents.PortTCPEcho), noNodes)
		}), within(2*time.Minute))

		ginkgo.It(f.name("NodePort from outside the cluster on every node over UDP"), f.label(), ginkgo.Label("nodeport-outside", "udp"), f.spec(func(ctx ginkgo.SpecContext) {
			expectTable(ctx, fromOutside(probe.UDP, agents.PortUDPEcho), noNodes)
		}), within(2*time.Minute))

		ginkgo.It(f.name("externalTrafficPolicy Local answers on the endpoint's node and keeps the client's IP"), f.label(), ginkgo.Label("external-traffic-policy", "tcp"), f.spec(func(ctx ginkgo.SpecContext) {
			ext := outside()
			fx := env.Fleet.Fixtures
			svc := fixture(fx.Local, "single-endpoint")
			host := agentOrMissing(agents.Host, fx.SoloNode)
			target := hostPort(host.IP, port(svc, agents.PortWhoTCP, true))
			expectTable(ctx, []row{toAgentRow(ext, fx.SoloNode+" NodePort (local endpoint)", fx.Solo, probe.Request{Protocol: probe.WhoTCP, Target: target},
				both(servedBy(serverName(fx.Solo)), peerIs(ext.IP, "")))}, noNodes)
		}), within(2*time.Minute))

		ginkgo.It(f.name("externalTrafficPolicy Local does not answer on nodes without a local endpoint"), f.label(), ginkgo.Label("external-traffic-policy", "tcp"), f.spec(func(ctx ginkgo.SpecContext) {
			ext := outside()
			fx := env.Fleet.Fixtures
			svc := fixture(fx.Local, "single-endpoint")
			np := port(svc, agents.PortWhoTCP, true)
			var rows []row
			for _, dst := range env.Fleet.Nodes() {
				if dst == fx.SoloNode {
					continue
				}
				host := agentOrMissing(agents.Host, dst)
				rows = append(rows, toAgentRow(ext, dst+" NodePort (no local endpoint)", host, probe.Request{Protocol: probe.WhoTCP, Target: hostPort(host.IP, np)}, blockedExpectation()))
			}
			expectTable(ctx, rows, singleNode)
		}), within(2*time.Minute))

		ginkgo.It(f.name("internalTrafficPolicy Local reaches the endpoint from pods on its node"), f.label(), ginkgo.Label("internal-traffic-policy", "tcp"), f.spec(func(ctx ginkgo.SpecContext) {
			fx := env.Fleet.Fixtures
			svc := fixture(fx.Local, "single-endpoint")
			target := hostPort(svc.ClusterIP, port(svc, agents.PortWhoTCP, false))
			expectTable(ctx, []row{toAgentRow(agentOrMissing(agents.PodA, fx.SoloNode), "service "+target, fx.Solo, probe.Request{Protocol: probe.WhoTCP, Target: target}, servedBy(serverName(fx.Solo)))}, noNodes)
		}), within(2*time.Minute))

		ginkgo.It(f.name("internalTrafficPolicy Local does not reach it from pods on other nodes"), f.label(), ginkgo.Label("internal-traffic-policy", "tcp"), f.spec(func(ctx ginkgo.SpecContext) {
			fx := env.Fleet.Fixtures
			svc := fixture(fx.Local, "single-endpoint")
			target := hostPort(svc.ClusterIP, port(svc, agents.PortWhoTCP, false))
			var rows []row
			for _, src := range env.Fleet.Nodes() {
				if src != fx.SoloNode {
					rows = append(rows, to(agentOrMissing(agents.PodA, src), "service "+target, probe.Request{Protocol: probe.WhoTCP, Target: target}, blockedExpectation()))
				}
			}
			expectTable(ctx, rows, singleNode)
		}), within(2*time.Minute))

		noEndpoints := func(proto probe.Protocol, portName string) []row {
			svc := fixture(env.Fleet.Fixtures.Empty, "endpoint-less")
			target := hostPort(svc.ClusterIP, port(svc, portName, false))
			var rows []row
			for _, src := range env.Fleet.Nodes() {
				rows = append(rows, to(agentOrMissing(agents.PodA, src), "service without endpoints "+target, probe.Request{Protocol: proto, Target: target}, refused()))
			}
			return rows
		}

		ginkgo.It(f.name("a Service without endpoints refuses TCP rather than black-holing it"), f.label(), ginkgo.Label("no-endpoints", "tcp"), f.spec(func(ctx ginkgo.SpecContext) {
			expectTable(ctx, noEndpoints(probe.TCP, agents.PortTCPEcho), noNodes)
		}), within(2*time.Minute))

		ginkgo.It(f.name("a Service without endpoints refuses UDP rather than black-holing it"), f.label(), ginkgo.Label("no-endpoints", "udp"), f.spec(func(ctx ginkgo.SpecContext) {
			expectTable(ctx, noEndpoints(probe.UDP, agents.PortUDPEcho), noNodes)
		}), within(2*time.Minute))

		hostPortRows := func(proto probe.Protocol, fromOutside bool) []row {
			var rows []row
			hostPortOf := func(dst string) (agents.Agent, probe.Request) {
				return agentOrMissing(agents.PodB, dst), probe.Request{Protocol: proto, Target: hostPort(nodeIP(dst), probe.HostPortWho)}
			}
			if fromOutside {
				for _, dst := range env.Fleet.Nodes() {
					pod, req := hostPortOf(dst)
					rows = append(rows, toAgentRow(outside(), dst+" hostPort", pod, req, servedBy(serverName(pod))))
				}
				return rows
			}
			for _, p := range nodePairs(false, true) {
				pod, req := hostPortOf(p[1])
				rows = append(rows, toAgentRow(agentOrMissing(agents.PodA, p[0]), p[1]+" hostPort", pod, req, servedBy(serverName(pod))))
			}
			return rows
		}

		ginkgo.It(f.name("hostPort answers from outside the cluster on every node's IP over TCP"), f.label(), ginkgo.Label("hostport", "tcp"), f.spec(func(ctx ginkgo.SpecContext) {
			expectTable(ctx, hostPortRows(probe.WhoTCP, true), noNodes)
		}), within(2*time.Minute))

		ginkgo.It(f.name("hostPort answers from outside the cluster on every node's IP over UDP"), f.label(), ginkgo.Label("hostport", "udp"), f.spec(func(ctx ginkgo.SpecContext) {
			expectTable(ctx, hostPortRows(probe.WhoUDP, true), noNodes)
		}), within(2*time.Minute))

		ginkgo.It(f.name("hostPort answers pods on other nodes"), f.label(), ginkgo.Label("hostport", "tcp"), f.spec(func(ctx ginkgo.SpecContext) {
			expectTable(ctx, hostPortRows(probe.WhoTCP, false), singleNode)
		}), within(2*time.Minute))
	})

	ginkgo.It("Service over SCTP", ginkgo.Label("sctp"), func(ctx ginkgo.SpecContext) {
		sctpSkip(ctx)
	}, within(time.Minute))
})

// sctpSkip skips the running spec: as an environment skip naming the first node whose kernel
// cannot open an SCTP socket, else because netconform has no SCTP probe yet.
func sctpSkip(ctx context.Context) {
	for _, node := range env.Fleet.Nodes() {
		a := agentOrMissing(agents.PodA, node)
		if !a.Ready {
			continue
		}
		info, err := env.Fleet.Info(ctx, a)
		if err != nil {
			ginkgo.Fail(fmt.Sprintf("ask %s on %s whether its kernel has SCTP: %v", a.Role, node, err))
		}
		if info.SCTP != "" {
			ginkgo.Skip(fmt.Sprintf("environment: the kernel of node %s cannot open an SCTP socket (%s): it lacks CONFIG_IP_SCTP", node, info.SCTP))
		}
	}
	ginkgo.Skip("not-implemented: the kernel has SCTP, but netconform has no SCTP probe yet")
}
