package suites

import (
	"context"
	"strings"
	"testing"

	"github.com/netconform/netconform/framework/agents"
	"github.com/netconform/netconform/framework/probe"
)

// A node of the cluster without any agent is not left out of the pairs (so the check cannot
// pass on the other nodes alone): every pair from or to it is a failing observation that names
// it and why. No probe goes over the network: no agent here is Ready.
func TestPairsNameNodeWithoutAgents(t *testing.T) {
	notReady := func(role string) agents.Agent {
		return agents.Agent{Role: role, Node: "n1", Pod: role + "-x", Why: "Pending: ContainerCreating"}
	}
	f := &agents.Fleet{
		Namespace:    "nc",
		ClusterNodes: []string{"n1", "n2"},
		Agents: map[string]map[string]agents.Agent{
			agents.PodA: {"n1": notReady(agents.PodA)}, agents.PodB: {"n1": notReady(agents.PodB)}, agents.Host: {"n1": notReady(agents.Host)},
		},
		Short: map[string]string{agents.PodA: "its DaemonSet probe-a has 1 of 2 pods", agents.PodB: "its DaemonSet probe-b has 1 of 2 pods"},
	}
	env = &Env{Fleet: f, ProbeConcurrency: 2}
	defer func() { env = nil }()

	pairs := podPairs(probe.TCP, func(dst agents.Agent) probe.Request {
		return probe.Request{Protocol: probe.TCP, Target: hostPort(dst.IP, probe.TCPEchoPort)}
	})
	obs := runPairs(context.Background(), pairs)
	if len(obs) != 4 {
		t.Fatalf("%d observations, want 4 (every ordered pair of n1, n2)", len(obs))
	}
	want := map[string]string{
		"n1->n1": "destination: pod agent probe-b on node n1 not Ready: Pending: ContainerCreating",
		"n1->n2": "destination: no pod agent probe-b on node n2: its DaemonSet probe-b has 1 of 2 pods",
		"n2->n1": "destination: pod agent probe-b on node n1 not Ready",
		"n2->n2": "destination: no pod agent probe-b on node n2",
	}
	for _, o := range obs {
		key := o.From + "->" + o.To
		if o.OK || o.Observed != string(probe.AgentUnreachable) || !strings.Contains(o.Detail, want[key]) {
			t.Errorf("%s: ok=%v observed=%s detail=%q, want a failure containing %q", key, o.OK, o.Observed, o.Detail, want[key])
		}
	}
	// The source side of a pair from n2 is named too, when the destination is fine.
	f.Agents[agents.PodB]["n1"] = agents.Agent{Role: agents.PodB, Node: "n1", IP: "10.244.1.5", Ready: true}
	obs = runPairs(context.Background(), podPairs(probe.TCP, func(dst agents.Agent) probe.Request {
		return probe.Request{Protocol: probe.TCP, Target: hostPort(dst.IP, probe.TCPEchoPort)}
	}))
	for _, o := range obs {
		if o.From == "n2" && o.To == "n1" && (o.OK || o.Detail != "no pod agent probe-a on node n2: its DaemonSet probe-a has 1 of 2 pods") {
			t.Errorf("n2 -> n1: ok=%v detail=%q", o.OK, o.Detail)
		}
	}
}
