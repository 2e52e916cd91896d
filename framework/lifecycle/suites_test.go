package lifecycle

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/netconform/netconform/framework/agents"
	"github.com/netconform/netconform/framework/kube"
)

func TestExternalName(t *testing.T) {
	if got := externalName("netconform", "netconform-nc-20260101-120000"); got != "netconform-ext-netconform-netconform-nc-20260101-120000" {
		t.Errorf("externalName = %q", got)
	}
	if got := externalName("nc", "my net/1"); got != "netconform-ext-nc-my-net-1" {
		t.Errorf("externalName with odd characters = %q", got)
	}
}

// The external agent: none asked for (nil, no reason: the checks skip); a user's agent by its
// control address; one that does not answer (nil, and why, within the bound).
func TestSuitesExternal(t *testing.T) {
	tm := kube.DefaultTimeouts()
	tm.AgentsReady = 700 * time.Millisecond
	env := &Env{Client: &kube.Client{Timeouts: tm}, AgentsNamespace: "nc"}
	ctx := context.Background()

	if e := (&Suites{}).external(ctx, env); e.agent != nil || e.why != "" {
		t.Errorf("none asked for: %+v", e)
	}

	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" {
			w.Write([]byte("ok\n"))
			return
		}
		http.NotFound(w, r)
	}))
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	e := (&Suites{ExternalTarget: addr, ExternalNetwork: "ignored: the user's agent wins"}).external(ctx, env)
	if e.agent == nil || e.why != "" || e.agent.Control != addr || !e.agent.Ready || e.agent.Role != agents.External {
		t.Errorf("--external-target: %+v %+v", e, e.agent)
	}
	e.stop()

	srv.Close()
	start := time.Now()
	e = (&Suites{ExternalTarget: addr}).external(ctx, env)
	if e.agent != nil || !strings.Contains(e.why, "no agent outside the cluster: --external-target "+addr) {
		t.Errorf("unreachable target: %+v", e)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("took %s, bound %s", took, tm.AgentsReady)
	}
}

// The solo pod and the flow backend are agents: describeFleet names them when not Ready.
func TestDescribeFleetNamesFixtures(t *testing.T) {
	ready := func(role, node string) agents.Agent { return agents.Agent{Role: role, Node: node, Ready: true} }
	f := &agents.Fleet{
		ClusterNodes: []string{"n1"},
		Agents:       map[string]map[string]agents.Agent{agents.PodA: {"n1": ready(agents.PodA, "n1")}, agents.PodB: {"n1": ready(agents.PodB, "n1")}, agents.Host: {"n1": ready(agents.Host, "n1")}},
		Fixtures: agents.Fixtures{
			Solo:        agents.Agent{Role: agents.Solo, Node: "n1", Pod: agents.SoloPod, Why: "Pending: ContainerCreating"},
			FlowBackend: ready(agents.Flow, "n1"),
		},
	}
	err := describeFleet(f)
	if err == nil || !strings.Contains(err.Error(), "solo pod agent probe-solo on node n1 not Ready: Pending: ContainerCreating") {
		t.Errorf("describeFleet = %v", err)
	}
	f.Fixtures.Solo.Ready = true
	if err := describeFleet(f); err != nil {
		t.Errorf("every agent Ready: %v", err)
	}
}
