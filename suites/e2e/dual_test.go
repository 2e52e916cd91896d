//go:build e2e

package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/netconform/netconform/framework/results"
)

// TestDualStack runs kubenet on a dual-stack kind cluster (--ip-family dual): every check that
// applies runs in IPv4 and in IPv6 and passes; then faults confined to IPv6 fail exactly the
// IPv6 checks on their path, while the same checks in IPv4 pass.
func TestDualStack(t *testing.T) {
	runID := keptClusterName(t, "ncdual")
	art := t.TempDir()
	out, code := netconform(t, 15*time.Minute, "run", "--provider", "kubenet", "--ip-family", "dual", "--run-id", runID, "--keep",
		"--node-image", nodeImage, "--probe-image", probeImage, "--artifacts", art)
	t.Log(out)
	if code != 0 {
		t.Fatalf("run exited %d: %s", code, failedChecks(loadResult(t, art)))
	}
	r := loadResult(t, art)
	passed, failed, _ := r.Counts()
	var v6 []string
	for _, c := range r.Checks {
		if strings.HasSuffix(c.ID, "-ipv6") {
			v6 = append(v6, c.ID)
			if c.Status != results.Passed {
				t.Errorf("%s: %s (%s)", c.ID, c.Status, c.Reason)
			}
		}
	}
	// 57 IPv4 checks and their IPv6 twins where they apply (43 at the time of writing).
	if failed != 0 || passed < 90 || len(v6) < 40 || r.IPFamily != "dual" {
		t.Errorf("dual stack: %d passed, %d failed, %d IPv6 checks, family %q", passed, failed, len(v6), r.IPFamily)
	}
	k := &liveCluster{runID: runID, kubeconfig: filepath.Join(art, "kubeconfig"), cp: runID + "-control-plane", worker: runID + "-worker", worker2: runID + "-worker2"}
	dualFaults(t, k)
}

// dualFaults breaks the IPv6 half of a kept dual-stack kubenet cluster and asserts that only
// IPv6 checks fail, on the observations the fault is on.
func dualFaults(t *testing.T, k *liveCluster) {
	keep := k.keepAgents(t)
	check := func(t *testing.T, labels string) *results.Result { t.Helper(); return k.failing(t, labels, keep) }
	// Each family's checks must have run: a fault test that saw no IPv4 check proves nothing
	// about IPv6 being told apart from it.
	ranBoth := func(t *testing.T, r *results.Result, ids ...string) {
		t.Helper()
		for _, id := range ids {
			for _, want := range []string{id, id + "-ipv6"} {
				if _, ok := checkByID(r, want); !ok {
					t.Errorf("%s did not run", want)
				}
			}
		}
	}
	worker, worker2 := k.worker, k.worker2
	v6CIDR := func(t *testing.T, node string) string {
		return ipv6Of(kubectl(t, k.cp, "get", "node", node, "-o", "jsonpath={.spec.podCIDRs[*]}"))
	}
	if _, code := k.check(t, "egress", keep...); code != 0 {
		t.Fatalf("healthy check before the IPv6 faults exited %d", code)
	}

	t.Run("pods leaving the cluster over IPv6 unmasqueraded are lost; IPv4 still leaves", func(t *testing.T) {
		breakNodes(t, fault{node: worker,
			apply: "ip6tables -t nat -I NETCONFORM-KUBENET-MASQ 1 -j RETURN",
			undo:  "ip6tables -t nat -D NETCONFORM-KUBENET-MASQ -j RETURN"})
		r := check(t, "egress")
		ranBoth(t, r, idEgressTCP, idEgressUDP, idEgressICMP)
		expectOnly(t, r, map[string]badWhen{
			idEgressTCP + "-ipv6": fromNode(worker), idEgressUDP + "-ipv6": fromNode(worker), idEgressICMP + "-ipv6": fromNode(worker),
		})
	})

	t.Run("IPv6 dropped between two nodes' pods fails IPv6 pod to pod between them only", func(t *testing.T) {
		from, to := v6CIDR(t, worker), v6CIDR(t, worker2)
		if !strings.Contains(from, ":") || !strings.Contains(to, ":") {
			t.Fatalf("IPv6 pod CIDRs of %s and %s: %q %q", worker, worker2, from, to)
		}
		breakNodes(t, fault{node: worker,
			apply: "ip6tables -I FORWARD 1 -s " + from + " -d " + to + " -j DROP",
			undo:  "ip6tables -D FORWARD -s " + from + " -d " + to + " -j DROP"})
		r := check(t, "pod-to-pod")
		ranBoth(t, r, "connectivity/pod-to-pod-over-tcp", "connectivity/pod-to-pod-over-udp", "connectivity/pod-to-pod-over-icmp")
		// Both ways: the answers from worker's pods to worker2's are dropped too.
		between := func(o results.Observation) bool { return pair(worker, worker2)(o) || pair(worker2, worker)(o) }
		expectOnly(t, r, map[string]badWhen{
			"connectivity/pod-to-pod-over-tcp-ipv6":  between,
			"connectivity/pod-to-pod-over-udp-ipv6":  between,
			"connectivity/pod-to-pod-over-icmp-ipv6": between,
		})
	})

	t.Run("a missing IPv6 route fails the IPv6 route check only", func(t *testing.T) {
		cidr := v6CIDR(t, worker2)
		via := kubectl(t, k.cp, "get", "node", worker2, "-o", `jsonpath={.status.addresses[?(@.type=="InternalIP")].address}`)
		gw := ipv6Of(via)
		if gw == "" {
			t.Fatalf("%s has no IPv6 InternalIP: %q", worker2, via)
		}
		breakNodes(t, fault{node: worker, apply: "ip -6 route del " + cidr, undo: "ip -6 route replace " + cidr + " via " + gw})
		r := check(t, "node-routes")
		ranBoth(t, r, idNodeRoutes)
		expectOnly(t, r, map[string]badWhen{idNodeRoutes + "-ipv6": pair(worker, worker2)})
	})
}

// ipv6Of is the IPv6 one of space-separated addresses or CIDRs ("" when none is).
func ipv6Of(list string) string {
	for _, a := range strings.Fields(list) {
		if strings.Contains(a, ":") {
			return a
		}
	}
	return ""
}

const idNodeRoutes = "routes/every-node-has-exactly-one-route-to-every-other-node-s-pod-cidr-via-that-node"

// TestDualFaultsOnKeptCluster runs the IPv6 fault tests against a cluster kept by
// `make e2e PROVIDER=kubenet IP_FAMILY=dual KEEP=1` (NETCONFORM_KEPT_DUAL_RUN=<run id>,
// NETCONFORM_KEPT_DUAL_KUBECONFIG=<its artifacts>/kubeconfig). make test runs them inside
// TestDualStack instead.
func TestDualFaultsOnKeptCluster(t *testing.T) {
	runID, kubeconfig := os.Getenv("NETCONFORM_KEPT_DUAL_RUN"), os.Getenv("NETCONFORM_KEPT_DUAL_KUBECONFIG")
	if runID == "" || kubeconfig == "" {
		t.Skip("NETCONFORM_KEPT_DUAL_RUN and NETCONFORM_KEPT_DUAL_KUBECONFIG name a kept dual-stack kubenet cluster")
	}
	dualFaults(t, &liveCluster{runID: runID, kubeconfig: kubeconfig, cp: runID + "-control-plane", worker: runID + "-worker", worker2: runID + "-worker2"})
}
