package diagnose

import (
	"compress/gzip"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/netconform/netconform/framework/results"
)

func obs(from, to, observed string, ok bool) results.Observation {
	return results.Observation{From: from, To: to, Observed: observed, OK: ok}
}

func check(id string, status results.Status, o ...results.Observation) results.Check {
	return results.Check{ID: id, Status: status, Observations: o}
}

func titles(cs []results.Cause) string {
	var t []string
	for _, c := range cs {
		t = append(t, c.Title)
	}
	return strings.Join(t, " | ")
}

func TestMTUBlackHole(t *testing.T) {
	in := Input{Checks: []results.Check{
		check(podICMP, results.Passed, obs("a", "b", "ok", true), obs("b", "a", "ok", true)),
		check(fullSize, results.Failed, obs("a", "b", "timeout", false), obs("b", "a", "ok", true)),
		{ID: devices, Status: results.Failed, Observations: []results.Observation{{From: "b", To: "pod x", Expected: "1400", Observed: "1500"}},
			Measurements: []results.Measurement{{Name: "b_underlay_mtu", Value: 1400}, {Name: "a_underlay_mtu", Value: 1500}}},
	}}
	cs := Analyze(in)
	if len(cs) != 1 || !cs[0].Clear || !strings.Contains(cs[0].Title, "MTU black hole") {
		t.Fatalf("causes: %s", titles(cs))
	}
	ev := strings.Join(cs[0].Evidence, "\n")
	for _, want := range []string{"a -> b", "b_underlay_mtu = 1400", "expected MTU 1400, observed 1500"} {
		if !strings.Contains(ev, want) {
			t.Errorf("evidence lacks %q:\n%s", want, ev)
		}
	}
}

func TestFullSizeFailingWithSmallFailingIsNotMTU(t *testing.T) {
	in := Input{Checks: []results.Check{
		check(podICMP, results.Failed, obs("a", "b", "timeout", false)),
		check(podTCP, results.Failed, obs("a", "b", "timeout", false)),
		check(fullSize, results.Failed, obs("a", "b", "timeout", false)),
		check(nodeRoutes, results.Passed, obs("a", "b", "10.0.1.0/24 via x", true)),
	}}
	cs := Analyze(in)
	if strings.Contains(titles(cs), "MTU") {
		t.Fatalf("a pair that drops small packets too is not an MTU problem: %s", titles(cs))
	}
	if !strings.Contains(titles(cs), "dropped although the routes exist") {
		t.Errorf("want the drop-with-routes cause, got %s", titles(cs))
	}
}

func TestMissingRoute(t *testing.T) {
	in := Input{Checks: []results.Check{
		check(nodeRoutes, results.Failed, results.Observation{From: "w1", To: "w2", Expected: "10.244.2.0/24 via 172.18.0.4", Observed: "missing"}),
		check(podTCP, results.Failed, obs("w1", "w2", "timeout", false)),
	}}
	cs := Analyze(in)
	if len(cs) != 1 || !strings.Contains(cs[0].Title, "missing or wrong routes") || !strings.Contains(cs[0].Evidence[0], "w1 has missing route to w2") {
		t.Fatalf("causes: %+v", cs)
	}
	if len(cs[0].Checks) != 2 {
		t.Errorf("the pod-to-pod failure should be explained by the route: %v", cs[0].Checks)
	}
}

func TestCoreDNSDown(t *testing.T) {
	in := Input{Checks: []results.Check{
		check(podTCP, results.Passed),
		check(dnsUDP, results.Failed, obs("a", "kubernetes.default", "timeout", false)),
		{ID: corednsReady, Status: results.Failed, Reason: "no CoreDNS pods"},
	}}
	cs := Analyze(in)
	if len(cs) != 1 || !strings.Contains(cs[0].Title, "CoreDNS is not running") {
		t.Fatalf("causes: %s", titles(cs))
	}
}

func TestNodeNotReady(t *testing.T) {
	in := Input{
		Checks: []results.Check{check(podTCP, results.Failed, obs("a", "w2", "agent-unreachable", false))},
		Nodes:  []NodeCondition{{Node: "w2", Ready: false, Reason: "KubeletNotReady", Message: "container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized"}},
	}
	cs := Analyze(in)
	if len(cs) == 0 || !strings.Contains(cs[0].Title, "node w2 is NotReady") || len(cs[0].Checks) != 1 {
		t.Fatalf("causes: %+v", cs)
	}
}

func TestHungNode(t *testing.T) {
	in := Input{
		Checks: []results.Check{check(podTCP, results.Failed, obs("w2", "w1", "agent-unreachable", false), obs("w1", "w1", "ok", true))},
		Nodes: []NodeCondition{{Node: "w2", Ready: false, Reason: "NodeStatusUnknown", Message: "Kubelet stopped posting node status."},
			{Node: "w3", Ready: false, Reason: "NodeStatusUnknown", Message: "Kubelet stopped posting node status."}},
	}
	cs := Analyze(in)
	if len(cs) != 1 || !strings.Contains(cs[0].Title, "node w2 is NotReady: its kubelet stopped answering") {
		t.Fatalf("causes: %s (a NotReady node no failing check involves is not a cause)", titles(cs))
	}
}

func TestUnclearSaysSo(t *testing.T) {
	cs := Analyze(Input{Checks: []results.Check{check("dns/every-coredns-replica-is-ready", results.Passed), check("connectivity/pod-to-nodeport-on-every-node", results.Failed, obs("a", "b NodePort", "timeout", false))}})
	if len(cs) != 1 || cs[0].Clear || cs[0].Title != noClearCause {
		t.Fatalf("causes: %+v", cs)
	}
	if len(Analyze(Input{Checks: []results.Check{check(podTCP, results.Passed)}})) != 0 {
		t.Error("a passing run has no causes")
	}
}

// realResult reads one of the real results kept as the HTML report's testdata.
func realResult(t *testing.T, name string) *results.Result {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "..", "reports", "htmlreport", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var r results.Result
	if err := json.NewDecoder(zr).Decode(&r); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return &r
}

// On a real kubenet cluster with one route deleted (worker's to worker2's pod CIDR), every one
// of the 18 failed checks only involves worker or worker2: the missing route explains them all,
// Services and NodePorts included, and nothing is left as "no clear cause". On kube-router's
// run, whose failures have nothing to do with routes, nothing changes.
func TestMissingRouteOnRealCluster(t *testing.T) {
	r := realResult(t, "kubenet-fail.result.json.gz")
	_, failed, _ := r.Counts()
	cs := Analyze(Input{Checks: r.Checks})
	if len(cs) != 1 || !cs[0].Clear || !strings.Contains(cs[0].Title, "missing or wrong routes") {
		t.Fatalf("causes: %s", titles(cs))
	}
	if len(cs[0].Checks) != failed {
		t.Errorf("the route explains %d of %d failed checks: %v", len(cs[0].Checks), failed, cs[0].Checks)
	}
	for _, want := range []string{serviceTCP, "connectivity/pod-to-nodeport-on-every-node", "source-ip/pod-to-a-clusterip-service-keeps-the-client-pod-s-ip"} {
		if !slices.Contains(cs[0].Checks, want) {
			t.Errorf("the route cause does not list %s", want)
		}
	}

	kr := realResult(t, "kube-router-fail.result.json.gz")
	cs = Analyze(Input{Checks: kr.Checks})
	if len(cs) != 1 || cs[0].Clear || cs[0].Title != noClearCause || len(cs[0].Checks) != 2 {
		t.Errorf("kube-router causes: %s %v", titles(cs), cs)
	}
}

// A failure elsewhere (a third node's Service check) is not put on a missing route between two
// others.
func TestMissingRouteExplainsOnlyItsNodes(t *testing.T) {
	in := Input{Checks: []results.Check{
		check(nodeRoutes, results.Failed, obs("a", "b", "missing", false)),
		check(podTCP, results.Failed, obs("a", "b", "timeout", false)),
		check(serviceTCP, results.Failed, obs("a", "service 10.96.0.1:80", "timeout", false), obs("c", "service 10.96.0.1:80", "timeout", false)),
		check("services/host-network-to-clusterip-service-over-tcp", results.Failed, obs("b", "service 10.96.0.1:80", "timeout", false)),
	}}
	cs := Analyze(in)
	if len(cs) != 2 || !slices.Equal(cs[0].Checks, []string{nodeRoutes, podTCP, "services/host-network-to-clusterip-service-over-tcp"}) ||
		cs[1].Title != noClearCause || !slices.Equal(cs[1].Checks, []string{serviceTCP}) {
		t.Errorf("causes: %+v", cs)
	}
}
