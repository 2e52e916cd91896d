package suites

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/onsi/ginkgo/v2"

	"github.com/netconform/netconform/framework/agents"
	"github.com/netconform/netconform/framework/ipfamily"
	"github.com/netconform/netconform/framework/probe"
	"github.com/netconform/netconform/framework/results"
)

// A UDP flow keeps its 5-tuple, so the node keeps sending it where its conntrack entry says:
// when the backend is replaced, kube-proxy (or the provider's replacement) must drop the entries
// that point at the old pod, or the flow black-holes until the entry expires (a classic bug).
// Both flows run through one replacement: datagrams flowIntervalMS apart, each answered or lost.
const (
	flowCount      = 70
	flowIntervalMS = 250
	flowTimeoutMS  = 400
	// flowStartAfter lets the flows settle on the old backend before it is replaced.
	flowStartAfter = 2 * time.Second
	// flowSettle is how long after the new backend is Ready the Service may take to send the
	// flow there (endpoints, then the proxy's sync); from then on every datagram must be answered.
	flowSettle = 4 * time.Second
	// flowMinJudged is how many datagrams after flowSettle the verdict needs.
	flowMinJudged = 5
)

// flowRun is one replacement of the flow backend under two flows.
type flowRun struct {
	old, new agents.Agent
	// readyAt is when the new backend was Ready, from the flows' start.
	readyAt time.Duration
	// flows by address family: the flow to the ClusterIP, then the one to the NodePort.
	flows map[ipfamily.Family][2]agents.Outcome
	err   error
}

var _ = ginkgo.Describe("conntrack", ginkgo.Label("conntrack"), ginkgo.Ordered, ginkgo.ContinueOnFailure, func() {
	var run *flowRun
	ginkgo.BeforeAll(func(ctx ginkgo.SpecContext) {
		run = replaceUnderFlows(ctx)
	}, within(2*time.Minute))

	// One replacement serves every family: each has its two flows running through it.
	perFamily(func(f inFamily) {
		ginkgo.It(f.name("a UDP flow to a ClusterIP keeps working after its backend is replaced"), f.label(), ginkgo.Label("udp", "clusterip"), func() {
			judgeFlow(run, run.flows[f.fam][0])
		})

		ginkgo.It(f.name("a UDP flow to a NodePort keeps working after its backend is replaced"), f.label(), ginkgo.Label("udp", "nodeport"), func() {
			judgeFlow(run, run.flows[f.fam][1])
		})
	})
})

// replaceUnderFlows starts, in every address family of the cluster, a flow to the flow Service's
// ClusterIP (from a pod on another node than the backend) and one to its NodePort (from outside
// the cluster, or from a pod when no agent is outside), replaces the backend while they run,
// and returns what each flow got.
func replaceUnderFlows(ctx context.Context) *flowRun {
	fx := env.Fleet.Fixtures
	svc := fixture(fx.Flow, "flow")
	old := fx.FlowBackend
	if !old.Ready {
		ginkgo.Fail("the flow backend is not Ready: " + old.Unavailable())
	}
	// The client and the NodePort's node are other nodes than the backend's when there are.
	other := old.Node
	for _, n := range env.Fleet.Nodes() {
		if n != old.Node {
			other = n
			break
		}
	}
	flow := func(target string) probe.Request {
		return probe.Request{Protocol: probe.WhoUDP, Target: target, Count: flowCount, IntervalMS: flowIntervalMS, TimeoutMS: flowTimeoutMS}
	}
	var pairs []agents.Pair
	for _, fam := range families() {
		in := env.Fleet.In(fam)
		client := in.AgentOrMissing(agents.PodA, other)
		nodeClient := client
		if in.External != nil && in.External.Ready && in.External.IP != "" {
			nodeClient = *in.External
		}
		svc := svc.In(fam)
		pairs = append(pairs,
			agents.Pair{From: client, To: "service " + svc.ClusterIP, Req: flow(hostPort(svc.ClusterIP, port(svc, agents.PortWhoUDP, false)))},
			agents.Pair{From: nodeClient, To: other + " NodePort", Req: flow(hostPort(nodeIPIn(in, other), port(svc, agents.PortWhoUDP, true)))})
	}
	run := &flowRun{old: old, flows: map[ipfamily.Family][2]agents.Outcome{}}
	start := time.Now()
	var wg sync.WaitGroup
	var outs []agents.Outcome
	wg.Add(1)
	go func() {
		defer wg.Done()
		outs = env.Fleet.RunAll(ctx, pairs, len(pairs))
	}()
	select {
	case <-time.After(flowStartAfter):
		run.old, run.new, run.err = env.Fleet.ReplaceFlowBackend(ctx)
		run.readyAt = time.Since(start)
	case <-ctx.Done():
		run.err = ctx.Err()
	}
	wg.Wait()
	for i, fam := range families() {
		run.flows[fam] = [2]agents.Outcome{outs[2*i], outs[2*i+1]}
	}
	return run
}

// judgeFlow decides one flow: answered by the old backend before the replacement, and every
// datagram from flowSettle after the new backend was Ready on answered by the new one.
func judgeFlow(run *flowRun, o agents.Outcome) {
	if run.err != nil {
		ginkgo.Fail("replace the flow backend: " + run.err.Error())
	}
	oldName, newName := serverName(run.old), serverName(run.new)
	obs := results.Observation{From: o.From.Node, To: o.To, Protocol: string(o.Req.Protocol),
		Expected: fmt.Sprintf("every datagram from %.1f s on answered by %s", (run.readyAt + flowSettle).Seconds(), newName), Attempts: o.Result.Attempts}
	if missingAddress(o.Req) {
		noAddress(&obs, o.Pair)
		verdict([]results.Observation{obs}, noNodes)
		return
	}
	if o.Result.Outcome == probe.AgentUnreachable || len(o.Result.Who) == 0 {
		obs.Observed, obs.Detail = string(o.Result.Outcome), o.Result.Detail
		verdict([]results.Observation{obs}, noNodes)
		return
	}
	judgeFrom := float64((run.readyAt + flowSettle).Milliseconds())
	var after, afterOK, lostAfter int
	var firstOld, lastOld bool
	var strays []string
	for i, w := range o.Result.Who {
		if w.AtMS < judgeFrom {
			if i == 0 {
				firstOld = w.Outcome == probe.OK && w.Server == oldName
			}
			continue
		}
		after++
		switch {
		case w.Outcome != probe.OK:
			lostAfter++
		case w.Server == newName:
			afterOK++
		default:
			if w.Server == oldName {
				lastOld = true
			}
			strays = append(strays, w.Server)
		}
	}
	obs.Observed = fmt.Sprintf("%d of %d datagrams after %.1f s answered by the new backend, %d lost", afterOK, after, judgeFrom/1000, lostAfter)
	if len(strays) > 0 {
		obs.Observed += fmt.Sprintf(", %d answered by %v", len(strays), strays[0])
	}
	obs.OK = after >= flowMinJudged && afterOK == after && firstOld
	switch {
	case !firstOld:
		obs.Detail = fmt.Sprintf("the flow's first datagram was not answered by the old backend %s (%s %s)", oldName, o.Result.Who[0].Outcome, o.Result.Who[0].Server)
	case after < flowMinJudged:
		obs.Detail = fmt.Sprintf("the new backend was Ready %.1f s after the flow started: only %d datagrams were left to judge", run.readyAt.Seconds(), after)
	case lastOld:
		obs.Detail = "datagrams still went to the replaced pod: its conntrack entry was not removed"
	}
	measure("new_backend_ready_after", run.readyAt.Seconds(), "s")
	verdict([]results.Observation{obs}, noNodes)
}
