//go:build e2e

// Package e2e runs netconform end to end on real kind clusters: a full kubenet run, the suites
// against clusters broken on purpose (each fault must fail exactly the checks it affects), and
// interrupts that must leave nothing behind. `make e2e-test` sets the images it needs.
package e2e

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/netconform/netconform/framework/results"
)

var (
	repoRoot   = mustAbs("../..")
	binary     = filepath.Join(repoRoot, "bin", "netconform")
	nodeImage  = os.Getenv("NETCONFORM_NODE_IMAGE")
	probeImage = os.Getenv("NETCONFORM_PROBE_IMAGE")
	// perfImage is the probe agent with netperf (scripts/probe-image.sh --perf).
	perfImage = os.Getenv("NETCONFORM_PERF_IMAGE")
)

func mustAbs(p string) string {
	a, err := filepath.Abs(p)
	if err != nil {
		panic(err)
	}
	return a
}

func TestMain(m *testing.M) {
	if nodeImage == "" || probeImage == "" {
		fmt.Fprintln(os.Stderr, "e2e: NETCONFORM_NODE_IMAGE and NETCONFORM_PROBE_IMAGE must be set (make e2e-test sets them)")
		os.Exit(2)
	}
	build := exec.Command("go", "build", "-o", binary, "./cmd/netconform")
	build.Dir = repoRoot
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: build netconform:", err)
		os.Exit(2)
	}
	os.Exit(m.Run())
}

// netconform runs the binary with a deadline and returns its output and exit code.
func netconform(t *testing.T, timeout time.Duration, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("netconform %v: %v\n%s", args, err, out.String())
	}
	return out.String(), code
}

func loadResult(t *testing.T, dir string) *results.Result {
	t.Helper()
	r, err := results.Load(filepath.Join(dir, "result.json"))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func checkByID(r *results.Result, id string) (results.Check, bool) {
	for _, c := range r.Checks {
		if c.ID == id {
			return c, true
		}
	}
	return results.Check{}, false
}

// docker runs a docker command and returns its trimmed output.
func docker(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command("docker", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("docker %v: %v: %s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// onNode runs a command in a kind node container.
func onNode(t *testing.T, node string, argv ...string) string {
	t.Helper()
	return docker(t, append([]string{"exec", node}, argv...)...)
}

func leftovers(t *testing.T, runID string) []string {
	t.Helper()
	var left []string
	if s := docker(t, "ps", "-a", "--filter", "name="+runID, "--format", "{{.Names}}"); s != "" {
		left = append(left, strings.Fields(s)...)
	}
	for _, n := range strings.Fields(docker(t, "network", "ls", "--format", "{{.Name}}")) {
		if strings.Contains(n, runID) {
			left = append(left, "network "+n)
		}
	}
	return left
}

// TestKubenet runs kubenet end to end, keeps the cluster, and then breaks it in several ways.
func TestKubenet(t *testing.T) {
	runID := keptClusterName(t, "nce2e")
	art := t.TempDir()
	out, code := netconform(t, 15*time.Minute, "run", "--provider", "kubenet", "--run-id", runID, "--keep",
		"--node-image", nodeImage, "--probe-image", probeImage, "--artifacts", art)
	t.Log(out)
	if code != 0 {
		t.Fatalf("run exited %d", code)
	}
	r := loadResult(t, art)
	passed, failed, skipped := r.Counts()
	// The skips: kubenet does not enforce NetworkPolicy (every check of the networkpolicy
	// suite), and this kernel has no SCTP; each check says so.
	policySkips := 0
	for _, c := range r.Checks {
		policy := c.Suite == "networkpolicy" && strings.Contains(c.Reason, "not-applicable: kubenet does not enforce NetworkPolicy")
		sctp := c.ID == "services/service-over-sctp" && strings.Contains(c.Reason, "environment: the kernel of node")
		if policy {
			policySkips++
		}
		if c.Status == results.Skipped && !policy && !sctp {
			t.Errorf("unexpected skip %s: %s", c.ID, c.Reason)
		}
	}
	if failed != 0 || policySkips < 30 || skipped != policySkips+1 || passed < 50 || !r.Complete || r.Nodes != 3 {
		t.Errorf("healthy kubenet: %d passed, %d failed, %d skipped (%d of them policy), complete=%v, nodes=%d: %s", passed, failed, skipped, policySkips, r.Complete, r.Nodes, failedChecks(r))
	}
	for _, want := range []string{"cluster create", "networking install", "networking ready", "suites"} {
		found := false
		for _, p := range r.Phases {
			found = found || (p.Name == want && p.Status == results.Passed && p.DurationMS > 0)
		}
		if !found {
			t.Errorf("phase %q missing or without a duration: %+v", want, r.Phases)
		}
	}
	for _, f := range []string{"junit.xml", "ginkgo-report.json", "summary.md", "kubeconfig"} {
		if _, err := os.Stat(filepath.Join(art, f)); err != nil {
			t.Errorf("artifact %s: %v", f, err)
		}
	}
	expectPage(t, art, `data-outcome="PASS"`, `class="pairgrid" data-check="connectivity/pod-to-pod-over-tcp"`, `<section id="mtu">`)
	kubeconfig := filepath.Join(art, "kubeconfig")
	worker, worker2, cp := runID+"-worker", runID+"-worker2", runID+"-control-plane"

	k := &liveCluster{runID: runID, kubeconfig: kubeconfig, cp: cp, worker: worker, worker2: worker2}
	check, expectPairs, expectPassed := k.check, k.expectPairs, k.expectPassed
	between := func(a, b string) func(from, to string) bool {
		return func(from, to string) bool { return (from == a && to == b) || (from == b && to == a) }
	}

	t.Run("bad input on check is refused before anything is created", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			args []string
			want string
		}{
			{"malformed label filter", []string{"--provider", "kubenet", "--label-filter", "(("}, "(("},
			{"label filter selecting no check", []string{"--provider", "kubenet", "--label-filter", "no-such-label"}, "selects no check"},
			{"unknown provider", []string{"--provider", "calcio"}, "did you mean calico"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				dir := filepath.Join(t.TempDir(), "art")
				// The run above kept its agents' namespace: what matters is that nothing changes.
				nsBefore := kubectl(t, cp, "get", "namespaces", "-o", "name")
				start := time.Now()
				out, code := netconform(t, time.Minute, append([]string{"check", "--kubeconfig", kubeconfig, "--probe-image", probeImage, "--artifacts", dir}, tc.args...)...)
				took := time.Since(start)
				if code != 2 || !strings.Contains(out, tc.want) {
					t.Errorf("exit %d, output %q: want exit 2 naming %q", code, out, tc.want)
				}
				// Refused before anything is contacted: well within a second of work (the
				// process start included).
				if took > 3*time.Second {
					t.Errorf("refusal took %s", took)
				}
				if _, err := os.Stat(dir); err == nil {
					t.Errorf("a refused check created %s", dir)
				}
				if after := kubectl(t, cp, "get", "namespaces", "-o", "name"); after != nsBefore {
					t.Errorf("a refused check changed the cluster's namespaces: before %q, after %q", nsBefore, after)
				}
			})
		}
	})

	t.Run("missing route fails exactly the pairs across it", func(t *testing.T) {
		cidr := podCIDR(t, cp, worker2)
		ip := nodeIP(t, worker2)
		onNode(t, worker, "ip", "route", "del", cidr)
		defer onNode(t, worker, "ip", "route", "replace", cidr, "via", ip)
		r, code := check(t, "pod-to-pod || host-to-pod || node-routes")
		if code != 1 {
			t.Fatalf("check exited %d, want 1 (checks failed)", code)
		}
		for _, id := range []string{"connectivity/pod-to-pod-over-tcp", "connectivity/pod-to-pod-over-udp", "connectivity/pod-to-pod-over-icmp"} {
			expectPairs(t, r, id, between(worker, worker2))
			if c, _ := checkByID(r, id); !strings.Contains(c.Reason, worker+" -> "+worker2) {
				t.Errorf("%s: failure does not name the pair: %s", id, c.Reason)
			}
		}
		// worker's host network to worker2's pod crosses the missing route too.
		c, _ := checkByID(r, "connectivity/host-network-to-pod-over-tcp")
		if c.Status != results.Failed || !strings.Contains(c.Reason, worker+" -> "+worker2) {
			t.Errorf("host-to-pod: %s %q, want a failure naming %s -> %s", c.Status, c.Reason, worker, worker2)
		}
		expectPairs(t, r, idHostToPodUDP, func(from, to string) bool { return from == worker && to == worker2 })
		expectPairs(t, r, "routes/every-node-has-exactly-one-route-to-every-other-node-s-pod-cidr-via-that-node",
			func(from, to string) bool { return from == worker && to == worker2 })
		expectCause(t, r, "missing or wrong routes", worker+" has missing route to "+worker2)
		// The bundle holds the node state that shows it: worker's routes without worker2's CIDR.
		routes := bundleFile(t, filepath.Join(k.lastDir, r.Evidence), "nodes/"+worker+"/links-routes.json")
		if !strings.Contains(routes, `"routes"`) || strings.Contains(routes, `"dst": "`+cidr+`"`) {
			t.Errorf("evidence of %s's routes should show no route to %s:\n%s", worker, cidr, routes)
		}
		onNode(t, worker, "ip", "route", "replace", cidr, "via", ip)
		expectPassed(t, "pod-to-pod || node-routes")
	})

	t.Run("stale route to a pod CIDR nobody owns", func(t *testing.T) {
		const stale = "10.244.200.0/24"
		onNode(t, worker, "ip", "route", "add", stale, "via", nodeIP(t, cp))
		defer onNode(t, worker, "sh", "-c", "ip route del "+stale+" 2>/dev/null || true")
		r, code := check(t, "stale-routes", "--kind-cluster", runID)
		if code != 1 {
			t.Fatalf("check exited %d, want 1", code)
		}
		expectCause(t, r, "stale routes", stale)
		// With the kind cluster named, the bundle holds the node's own routing table.
		if routes := bundleFile(t, filepath.Join(k.lastDir, r.Evidence), "nodes/"+worker+"/routes.txt"); !strings.Contains(routes, stale) {
			t.Errorf("evidence of %s's routes lacks the stale route:\n%s", worker, routes)
		}
		c, _ := checkByID(r, "routes/no-route-to-a-pod-cidr-that-no-node-owns")
		if c.Status != results.Failed || len(c.Observations) != 1 || c.Observations[0].From != worker || c.Observations[0].To != stale {
			t.Errorf("stale route: %s %+v, want one failure on %s for %s", c.Status, c.Observations, worker, stale)
		}
		onNode(t, worker, "ip", "route", "del", stale)
		expectPassed(t, "stale-routes")
	})

	t.Run("a lower MTU on one node's link black-holes full-size frames to it", func(t *testing.T) {
		onNode(t, worker2, "ip", "link", "set", "eth0", "mtu", "1400")
		defer onNode(t, worker2, "ip", "link", "set", "eth0", "mtu", "1500")
		r, code := check(t, "mtu || pod-to-pod")
		if code != 1 {
			t.Fatalf("check exited %d, want 1", code)
		}
		toWorker2 := func(_, to string) bool { return to == worker2 }
		expectPairs(t, r, "mtu/a-full-size-packet-with-df-crosses-between-nodes", toWorker2)
		expectPairs(t, r, "mtu/a-bulk-tcp-transfer-between-pods-on-different-nodes-completes", toWorker2)
		c, _ := checkByID(r, "mtu/pod-and-node-devices-carry-the-expected-mtu")
		if c.Status != results.Failed || !strings.Contains(c.Reason, worker2) {
			t.Errorf("devices: %s %q, want a failure naming %s", c.Status, c.Reason, worker2)
		}
		for _, o := range c.Observations {
			if !o.OK && o.From != worker2 && o.From != "cluster" {
				t.Errorf("devices: %s blamed (%s -> %s: %s), only %s has the low MTU", o.From, o.From, o.To, o.Observed, worker2)
			}
		}
		expectCause(t, r, "MTU black hole", worker2+"_underlay_mtu = 1400")
		links := bundleFile(t, filepath.Join(k.lastDir, r.Evidence), "nodes/"+worker2+"/links-routes.json")
		if !strings.Contains(links, `"mtu": 1400`) {
			t.Errorf("evidence of %s's links should show MTU 1400:\n%s", worker2, links)
		}
		onNode(t, worker2, "ip", "link", "set", "eth0", "mtu", "1500")
		expectPassed(t, "mtu")
	})

	t.Run("one-way loss between two nodes", func(t *testing.T) {
		src := podCIDR(t, cp, worker)
		dst := podCIDR(t, cp, worker2)
		rule := []string{"FORWARD", "-s", src, "-d", dst, "-j", "DROP"}
		onNode(t, worker2, append([]string{"iptables", "-I"}, rule...)...)
		defer onNode(t, worker2, "sh", "-c", "iptables -D "+strings.Join(rule, " ")+" || true")
		r, code := check(t, "pod-to-pod || pmtu")
		if code != 1 {
			t.Fatalf("check exited %d, want 1", code)
		}
		// Requests from worker to worker2 are lost, and so are worker's replies to worker2.
		expectPairs(t, r, "connectivity/pod-to-pod-over-tcp", between(worker, worker2))
		expectPairs(t, r, "connectivity/pod-to-pod-over-icmp", between(worker, worker2))
		expectPairs(t, r, "mtu/a-full-size-packet-with-df-crosses-between-nodes", between(worker, worker2))
		onNode(t, worker2, append([]string{"iptables", "-D"}, rule...)...)
		expectPassed(t, "pod-to-pod || pmtu")
	})

	t.Run("route quota smaller than the cluster needs", func(t *testing.T) {
		r, code := check(t, "route-quota", "--route-quota", "2")
		if code != 1 {
			t.Fatalf("check exited %d, want 1", code)
		}
		c, _ := checkByID(r, "routes/the-cluster-s-routes-fit-the-route-table-quota")
		if c.Status != results.Failed || !strings.Contains(c.Reason, "kubenet needs 3 routes in one table; quota 2") {
			t.Errorf("quota: %s %q", c.Status, c.Reason)
		}
		expectPassed(t, "route-quota", "--route-quota", "3")
	})

	t.Run("a node's pod link shaped with tc fails the perf ratio of the paths through that node only", func(t *testing.T) {
		if perfImage == "" {
			t.Fatal("NETCONFORM_PERF_IMAGE must be set (make e2e-test sets it)")
		}
		// Short samples: the figures need not be precise, only far apart.
		perf := []string{"--perf-image", perfImage, "--kind-cluster", runID, "--perf-samples", "2", "--perf-duration", "2s"}
		// The suite measures from worker to worker2 (the two workers). Traffic routed to
		// worker2's pods leaves through its bridge, cbr0: shaping the bridge slows every path
		// into a pod of worker2 and no other. This kernel has no netem; tbf shapes the rate.
		onNode(t, worker2, "tc", "qdisc", "add", "dev", "cbr0", "root", "tbf", "rate", "50mbit", "burst", "64kb", "latency", "100ms")
		defer onNode(t, worker2, "sh", "-c", "tc qdisc del dev cbr0 root 2>/dev/null || true")
		r, code := k.checkWithin(t, 10*time.Minute, "perf", perf...)
		if code != 1 {
			t.Fatalf("check exited %d, want 1 (checks failed): %s", code, failedChecks(r))
		}
		for id, want := range map[string]results.Status{
			"perf/host-to-host-across-nodes-the-baseline": results.Passed,
			"perf/pod-to-pod-on-one-node":                 results.Passed,
			"perf/pod-to-pod-across-nodes":                results.Failed,
			"perf/pod-to-clusterip-service-across-nodes":  results.Failed,
		} {
			c, ok := checkByID(r, id)
			if !ok || c.Status != want {
				t.Errorf("%s: %s %q, want %s", id, c.Status, c.Reason, want)
				continue
			}
			if want != results.Failed {
				continue
			}
			// The throughput ratio, named with its figures and the nodes; request/response with
			// 1-byte messages is not rate-bound, and must not be what failed.
			if !strings.Contains(c.Reason, "TCP_STREAM") || !strings.Contains(c.Reason, "below --perf-tolerance") ||
				!strings.Contains(c.Reason, worker2) || !strings.Contains(c.Reason, "Mbit/s") || strings.Contains(c.Reason, "TCP_RR") {
				t.Errorf("%s: reason %q, want the TCP_STREAM ratio below the tolerance, naming %s and the figures", id, c.Reason, worker2)
			}
		}
		onNode(t, worker2, "tc", "qdisc", "del", "dev", "cbr0", "root")
		k.expectPassed(t, "perf", perf...)
		if left := kubectl(t, cp, "get", "service", "-n", "netconform", "perf", "--ignore-not-found", "-o", "name"); left != "" {
			t.Errorf("the perf Service was left behind: %s", left)
		}
	})

	t.Run("a provider said to enforce NetworkPolicy that does not fails every cell that must be blocked", func(t *testing.T) {
		// kubenet enforces nothing: checked as calico, each scenario must fail on exactly the
		// cells the model says are blocked, and nothing of the suite may be left afterwards.
		// Each failing step waits for its whole bound: 5 s here rather than 45.
		r, code := k.checkWithin(t, 15*time.Minute, "policy", "--provider", "calico", "--policy-wait", "5s")
		if code != 1 {
			t.Fatalf("check exited %d, want 1", code)
		}
		scenarios := 0
		for _, c := range r.Checks {
			if c.Suite != "networkpolicy" || c.Status == results.Skipped {
				continue
			}
			if !slices.Contains(c.Labels, "netpol") {
				if c.Status != results.Passed {
					t.Errorf("%s: %s %q, want passed (no policy in place)", c.ID, c.Status, c.Reason)
				}
				continue
			}
			scenarios++
			blocked, wrong := measurement(c, "cells expected blocked"), measurement(c, "cells not as the model says")
			switch {
			case blocked < 0 || wrong < 0:
				t.Errorf("%s: no cell counts (%s %q)", c.ID, c.Status, c.Reason)
			case blocked == 0 && c.Status != results.Passed:
				t.Errorf("%s blocks nothing by the model: %s %q, want passed", c.ID, c.Status, c.Reason)
			case blocked > 0 && (c.Status != results.Failed || wrong != blocked || !strings.Contains(c.Reason, "cells differ from the model")):
				t.Errorf("%s: %s with %v of %v blocked cells wrong, want failed on every one: %q", c.ID, c.Status, wrong, blocked, c.Reason)
			}
		}
		if scenarios < 30 {
			t.Errorf("%d scenarios ran, want at least 30", scenarios)
		}
		if left := kubectl(t, cp, "get", "networkpolicy", "-A", "-o", "name"); left != "" {
			t.Errorf("policies left behind: %s", left)
		}
		if left := kubectl(t, cp, "get", "namespace", "-l", "netconform.io/policy-fixture", "-o", "name"); left != "" {
			t.Errorf("fixture namespaces left behind: %s", left)
		}
		// As kubenet no check of the suite applies: each is skipped with its reason, and a run in
		// which no check ran is no PASS (exit 2, "no check ran").
		r, code = k.check(t, "policy")
		_, _, skipped := r.Counts()
		if code != 2 || skipped < 30 {
			t.Errorf("as kubenet: exit %d, %d skipped, want every check skipped and exit 2", code, skipped)
		}
		if v := r.Judge(); v.Outcome != results.CouldNotRun || !strings.Contains(strings.Join(v.Reasons, ";"), "no check ran") {
			t.Errorf("as kubenet: verdict %s, want COULD NOT RUN because no check ran", v)
		}
	})

	t.Run("CoreDNS scaled to zero fails DNS and only DNS", func(t *testing.T) {
		kubectl(t, cp, "-n", "kube-system", "scale", "deployment/coredns", "--replicas=0")
		defer kubectl(t, cp, "-n", "kube-system", "scale", "deployment/coredns", "--replicas=2")
		kubectl(t, cp, "-n", "kube-system", "wait", "--for=delete", "pod", "-l", "k8s-app=kube-dns", "--timeout=90s")
		r, code := check(t, "dns || pod-to-pod")
		if code != 1 {
			t.Fatalf("check exited %d, want 1", code)
		}
		for _, c := range r.Checks {
			wantFail := c.ID == "dns/cluster-names-resolve-over-udp-from-every-node" || c.ID == "dns/cluster-names-resolve-over-tcp-from-every-node" ||
				c.ID == "dns/every-coredns-replica-is-ready" || (c.Suite == "dns-records" && c.ID != idResolvConf)
			switch {
			case wantFail && c.Status != results.Failed:
				t.Errorf("%s: %s, want failed", c.ID, c.Status)
			case !wantFail && c.Status == results.Failed:
				t.Errorf("%s failed but DNS is not on its path: %s", c.ID, c.Reason)
			}
		}
		expectCause(t, r, "CoreDNS is not running", "")
		kubectl(t, cp, "-n", "kube-system", "scale", "deployment/coredns", "--replicas=2")
		kubectl(t, cp, "-n", "kube-system", "rollout", "status", "deployment/coredns", "--timeout=120s")
		expectPassed(t, "dns")
	})

	t.Run("deeper checks, each broken on purpose", func(t *testing.T) { depthFaults(t, k) })

	t.Run("a node that hangs does not hang the run", func(t *testing.T) {
		docker(t, "pause", worker2)
		unpaused := false
		unpause := func() {
			if !unpaused {
				docker(t, "unpause", worker2)
				unpaused = true
			}
		}
		defer unpause()
		dir := t.TempDir()
		start := time.Now()
		out, code := netconform(t, 8*time.Minute, "check", "--kubeconfig", kubeconfig, "--probe-image", probeImage, "--provider", "kubenet",
			"--artifacts", dir, "--namespace", "nc-hang", "--label-filter", "pod-to-pod")
		took := time.Since(start)
		t.Log(out)
		unpause()
		if code != 1 {
			t.Errorf("check with a hung node exited %d, want 1 (checks failed)", code)
		}
		if took > 6*time.Minute {
			t.Errorf("check with a hung node took %s", took)
		}
		r := loadResult(t, dir)
		if r.Evidence == "" {
			t.Fatal("no evidence bundle")
		}
		expectCause(t, r, "node "+worker2+" is NotReady", "stopped posting")
		idx := bundleFile(t, filepath.Join(dir, r.Evidence), "index.json")
		if !strings.Contains(idx, worker2) || !strings.Contains(idx, "no answer within") {
			t.Errorf("the index should record that %s did not answer:\n%s", worker2, idx)
		}
		// The cluster recovers once the node runs again.
		kubectl(t, cp, "wait", "--for=condition=Ready", "node", "--all", "--timeout=180s")
		kubectl(t, cp, "delete", "namespace", "nc-hang", "--ignore-not-found", "--timeout=120s")
	})

	t.Run("killed in the middle of a suite leaves a partial result that renders", func(t *testing.T) {
		dir := t.TempDir()
		cmd := exec.Command(binary, "check", "--kubeconfig", kubeconfig, "--probe-image", probeImage, "--provider", "kubenet",
			"--artifacts", dir, "--namespace", "nc-kill", "--label-filter", "connectivity || mtu")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		defer kubectl(t, cp, "delete", "namespace", "nc-kill", "--wait=false", "--ignore-not-found")
		// Kill once at least one check is on disk and the run is not finished.
		deadline := time.Now().Add(3 * time.Minute)
		for time.Now().Before(deadline) {
			if r, err := results.Load(filepath.Join(dir, "result.json")); err == nil && len(r.Checks) > 0 && !r.Complete {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		out, code := netconform(t, time.Minute, "report", filepath.Join(dir, "result.json"), "--junit", filepath.Join(dir, "j.xml"))
		if code != 0 || !strings.Contains(out, "INCOMPLETE") || !strings.Contains(out, "partial result") {
			t.Errorf("report of a killed run: exit %d\n%s", code, out)
		}
		r := loadResult(t, dir)
		if r.Complete || len(r.Checks) == 0 {
			t.Errorf("killed run's result: complete=%v, %d checks", r.Complete, len(r.Checks))
		}
	})
}

// keptClusterName names the kind cluster a test keeps (run --keep) and deletes it when the test
// ends, asserting that nothing of it is left.
func keptClusterName(t *testing.T, prefix string) string {
	t.Helper()
	runID := fmt.Sprintf("%s-%d", prefix, time.Now().Unix()%100000)
	t.Cleanup(func() {
		out, code := netconform(t, 5*time.Minute, "delete", "--name", runID)
		if code != 0 {
			t.Errorf("delete: %s", out)
		}
		if left := leftovers(t, runID); len(left) > 0 {
			t.Errorf("left behind after delete: %v", left)
		}
	})
	return runID
}

// liveCluster is TestKubenet's kept cluster, shared by its fault tests (here and in
// depth_test.go): each breaks it, checks, asserts what failed, and restores it.
type liveCluster struct {
	runID, kubeconfig, cp, worker, worker2 string
	// lastDir is the artifacts directory of the last check.
	lastDir string
}

// check runs netconform check with a label filter against the cluster.
func (k *liveCluster) check(t *testing.T, labels string, extra ...string) (*results.Result, int) {
	t.Helper()
	return k.checkWithin(t, 5*time.Minute, labels, extra...)
}

// checkWithin is check with another deadline than 5 minutes.
func (k *liveCluster) checkWithin(t *testing.T, within time.Duration, labels string, extra ...string) (*results.Result, int) {
	t.Helper()
	dir := t.TempDir()
	k.lastDir = dir
	args := append([]string{"check", "--kubeconfig", k.kubeconfig, "--probe-image", probeImage,
		"--provider", "kubenet", "--artifacts", dir, "--label-filter", labels}, extra...)
	out, code := netconform(t, within, args...)
	t.Log(out)
	return loadResult(t, dir), code
}

// keepAgents are the check flags of a fault test: the agents and fixtures stay between its
// checks (--keep-agents), so their addresses can be read and aimed at, and --kind-cluster starts
// the agent outside the cluster. The kept agents hold their host ports (29080-29085) on every
// node, and later tests deploy agents of their own, which could not be scheduled beside them:
// their namespace goes when the test ends.
func (k *liveCluster) keepAgents(t *testing.T) []string {
	t.Helper()
	t.Cleanup(func() { kubectl(t, k.cp, "delete", "namespace", "netconform", "--ignore-not-found", "--timeout=180s") })
	return []string{"--keep-agents", "--kind-cluster", k.runID}
}

// failing runs a check with the kept agents that must exit 1 (checks failed).
func (k *liveCluster) failing(t *testing.T, labels string, keep []string) *results.Result {
	t.Helper()
	r, code := k.check(t, labels, keep...)
	if code != 1 {
		t.Fatalf("check %q exited %d, want 1 (checks failed): %s", labels, code, failedChecks(r))
	}
	return r
}

// expectPairs asserts that a check failed and that its failing observations are exactly
// those for which bad(from, to) holds.
func (k *liveCluster) expectPairs(t *testing.T, r *results.Result, id string, bad func(from, to string) bool) {
	t.Helper()
	c, ok := checkByID(r, id)
	if !ok || c.Status != results.Failed {
		t.Errorf("%s: %q, want failed", id, c.Status)
		return
	}
	for _, o := range c.Observations {
		if want := !bad(o.From, o.To); o.OK != want {
			t.Errorf("%s: %s -> %s ok=%v (%s %s), want ok=%v", id, o.From, o.To, o.OK, o.Observed, o.Detail, want)
		}
	}
}

// expectPassed asserts that a check with these labels passes (after a fault is undone).
func (k *liveCluster) expectPassed(t *testing.T, labels string, extra ...string) {
	t.Helper()
	if r, code := k.check(t, labels, extra...); code != 0 {
		t.Errorf("after restoring (%s): exit %d: %s", labels, code, failedChecks(r))
	}
}

// expectCause asserts that a result names a cause whose title contains title, with evidence
// containing evidence (if given).
func expectCause(t *testing.T, r *results.Result, title, evidence string) {
	t.Helper()
	for _, c := range r.Causes {
		if strings.Contains(c.Title, title) && (evidence == "" || strings.Contains(strings.Join(c.Evidence, "\n"), evidence)) {
			return
		}
	}
	t.Errorf("no cause %q with evidence %q among %+v", title, evidence, r.Causes)
}

// bundleFile reads one file of an evidence bundle.
func bundleFile(t *testing.T, bundle, name string) string {
	t.Helper()
	f, err := os.Open(bundle)
	if err != nil {
		t.Fatalf("evidence bundle: %v", err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if err != nil {
			t.Fatalf("%s not in %s: %v", name, bundle, err)
		}
		if h.Name == "evidence/"+name {
			b, _ := io.ReadAll(tr)
			return string(b)
		}
	}
}

func failedChecks(r *results.Result) string {
	var ids []string
	for _, c := range r.Checks {
		if c.Status == results.Failed {
			ids = append(ids, c.ID+": "+c.Reason)
		}
	}
	return strings.Join(ids, "\n")
}

// TestInterruptDuringCreate sends SIGINT while the cluster is being created: the run must end
// with a result and leave no container or network behind.
func TestInterruptDuringCreate(t *testing.T) {
	runID := fmt.Sprintf("nci-%d", time.Now().Unix()%100000)
	art := t.TempDir()
	b := startNetconform(t, context.Background(), "run", "--run-id", runID, "--node-image", nodeImage, "--probe-image", probeImage, "--artifacts", art)
	// Wait until kind has started making node containers, then interrupt.
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) && !strings.Contains(b.out.String(), "Preparing nodes") {
		time.Sleep(200 * time.Millisecond)
	}
	time.Sleep(2 * time.Second)
	b.interrupt(t, 4*time.Minute)
	if left := leftovers(t, runID); len(left) > 0 {
		t.Errorf("interrupted run left behind: %v", left)
	}
	r := loadResult(t, art)
	if !r.Complete || r.Error == "" {
		t.Errorf("interrupted run's result: complete=%v error=%q, want complete with the interruption", r.Complete, r.Error)
	}
	// CI reads junit.xml: the interrupted phase fails there, and so does the verdict.
	expectJUnitFailure(t, art, "phases", "cluster create", "")
	expectJUnitFailure(t, art, "phases", "verdict", "COULD NOT RUN")
}

// TestInterruptDuringSuites sends SIGINT while the suites run: the cluster must be deleted and
// the result must say the run was interrupted.
func TestInterruptDuringSuites(t *testing.T) {
	runID := fmt.Sprintf("ncs-%d", time.Now().Unix()%100000)
	art := t.TempDir()
	b := startNetconform(t, context.Background(), "run", "--run-id", runID, "--node-image", nodeImage, "--probe-image", probeImage, "--artifacts", art)
	signalled := b.onPhase(t, art, "suites", results.Running, 20*time.Millisecond, 5*time.Minute, func() {
		_ = b.cmd.Process.Signal(syscall.SIGINT)
	})
	t.Log(b.out.String())
	if !signalled {
		t.Fatal("the suites finished before they could be interrupted")
	}
	if b.cmd.ProcessState.ExitCode() == 0 {
		t.Error("an interrupted run exited 0")
	}
	if left := leftovers(t, runID); len(left) > 0 {
		t.Errorf("run interrupted during its suites left behind: %v", left)
	}
	expectInterruptedAndDeleted(t, art)
	expectJUnitFailure(t, art, "phases", "suites", "")
	expectJUnitFailure(t, art, "phases", "verdict", "COULD NOT RUN")
}

func podCIDR(t *testing.T, controlPlane, node string) string {
	t.Helper()
	return kubectl(t, controlPlane, "get", "node", node, "-o", "jsonpath={.spec.podCIDR}")
}

func nodeIP(t *testing.T, node string) string {
	t.Helper()
	return docker(t, "inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", node)
}

// kubectl runs kubectl inside the control-plane node (the host has none) with the node's admin
// kubeconfig.
func kubectl(t *testing.T, controlPlane string, args ...string) string {
	t.Helper()
	return onNode(t, controlPlane, append([]string{"kubectl", "--kubeconfig", "/etc/kubernetes/admin.conf"}, args...)...)
}

// background is netconform running in the background, its output collected.
type background struct {
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan error
}

// startNetconform starts the binary; ctx kills it.
func startNetconform(t *testing.T, ctx context.Context, args ...string) *background {
	t.Helper()
	b := &background{cmd: exec.CommandContext(ctx, binary, args...), out: &syncBuffer{}, done: make(chan error, 1)}
	b.cmd.Stdout, b.cmd.Stderr = b.out, b.out
	if err := b.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { b.done <- b.cmd.Wait() }()
	return b
}

// expectInterruptedAndDeleted: the result in art is complete, says why the run stopped, and
// its cluster delete passed.
func expectInterruptedAndDeleted(t *testing.T, art string) {
	t.Helper()
	r := loadResult(t, art)
	deleted := false
	for _, p := range r.Phases {
		deleted = deleted || (p.Name == "cluster delete" && p.Status == results.Passed)
	}
	if !r.Complete || r.Error == "" || !deleted {
		t.Errorf("interrupted run's result: complete=%v error=%q cluster deleted=%v", r.Complete, r.Error, deleted)
	}
}

// interrupt sends SIGINT and waits up to within for the run to end (else kills it and fails),
// logs its output and fails when it exited 0.
func (b *background) interrupt(t *testing.T, within time.Duration) {
	t.Helper()
	_ = b.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-b.done:
	case <-time.After(within):
		_ = b.cmd.Process.Kill()
		t.Fatalf("run did not end within %s of SIGINT:\n%s", within, b.out.String())
	}
	t.Log(b.out.String())
	if b.cmd.ProcessState.ExitCode() == 0 {
		t.Error("an interrupted run exited 0")
	}
}

// onPhase polls the run's result.json in art every `every` until the process ends: the first
// time a phase called name shows (with status, unless it is ""), act runs, once. Past deadline
// the process is killed and the test fails. It reports whether act ran.
func (b *background) onPhase(t *testing.T, art, name string, status results.Status, every, deadline time.Duration, act func()) bool {
	t.Helper()
	return b.onResult(t, art, every, deadline, fmt.Sprintf("phase %q", name), func(r *results.Result) bool {
		for _, p := range r.Phases {
			if p.Name == name && (status == "" || p.Status == status) {
				return true
			}
		}
		return false
	}, act)
}

// onResult polls the run's result.json in art every `every` until the process ends: the first
// time seen (what, in words) holds of it, act runs, once. Past deadline the process is killed
// and the test fails. It reports whether act ran.
func (b *background) onResult(t *testing.T, art string, every, deadline time.Duration, what string, seen func(*results.Result) bool, act func()) bool {
	t.Helper()
	acted := false
	timeout := time.After(deadline)
	for {
		select {
		case <-b.done:
			return acted
		case <-timeout:
			_ = b.cmd.Process.Kill()
			t.Fatalf("netconform did not end within %s (%s seen: %v):\n%s", deadline, what, acted, b.out.String())
		case <-time.After(every):
		}
		if acted {
			continue
		}
		if r, err := results.Load(filepath.Join(art, "result.json")); err == nil && seen(r) {
			act()
			acted = true
		}
	}
}

// syncBuffer is a bytes.Buffer that the process writes while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
