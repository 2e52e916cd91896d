//go:build e2e

package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/netconform/netconform/framework/results"
)

// knownDivergences are the scenarios a provider fails because it disagrees with the API (see
// docs/networkpolicy.md, "What the providers showed").
var knownDivergences = map[string][]string{
	// kube-router v2.1.0 admits TCP 80 to pods that have no port named "web" (and to x/b, whose
	// "web" is 81) when another selected pod names 80 "web".
	"kube-router": {"networkpolicy/a-named-port-resolves-on-each-destination-pod"},
}

// idFromProd is the scenario after which TestPolicyAgentStopped stops the policy agent.
const idFromProd = "networkpolicy/ingress-from-namespaces-with-a-label"

// TestPolicyAgentStopped runs the NetworkPolicy suite on a provider that enforces it (make
// e2e-test builds its images: NETCONFORM_POLICY_PROVIDER, NETCONFORM_POLICY_IMAGES): every
// scenario must pass as the model says (but the provider's known divergences), with its latency.
// Then it checks the kept cluster again and stops the provider's policy agent
// (NETCONFORM_POLICY_AGENT: its process and its DaemonSet in kube-system) on every node
// (SIGSTOP) once one scenario has ended:
// the scenarios before it pass, and every later one that the model says blocks something
// fails, naming cells allowed that should be blocked.
func TestPolicyAgentStopped(t *testing.T) {
	provider, images := os.Getenv("NETCONFORM_POLICY_PROVIDER"), strings.Fields(os.Getenv("NETCONFORM_POLICY_IMAGES"))
	agent := os.Getenv("NETCONFORM_POLICY_AGENT")
	if provider == "" || len(images) == 0 || agent == "" {
		t.Fatal("NETCONFORM_POLICY_PROVIDER, NETCONFORM_POLICY_IMAGES and NETCONFORM_POLICY_AGENT must be set (make e2e-test sets them)")
	}
	runID := keptClusterName(t, "ncnp")
	art := t.TempDir()
	args := []string{"run", "--provider", provider, "--run-id", runID, "--keep", "--label-filter", "policy",
		"--node-image", nodeImage, "--probe-image", probeImage, "--artifacts", art}
	for _, ref := range images {
		args = append(args, "--provider-image", ref)
	}
	out, code := netconform(t, 20*time.Minute, args...)
	t.Log(out)
	r := loadResult(t, art)
	// Where the provider disagrees with the model (docs/networkpolicy.md says why the provider
	// is wrong there), its scenarios must fail, and only those.
	known := knownDivergences[provider]
	for _, c := range r.Checks {
		if (c.Status == results.Failed) != slices.Contains(known, c.ID) {
			t.Errorf("%s: %s %q; the run should fail exactly %v", c.ID, c.Status, c.Reason, known)
		}
	}
	if want := map[bool]int{true: 0, false: 1}[len(known) == 0]; code != want {
		t.Fatalf("run exited %d, want %d: %s", code, want, failedChecks(r))
	}
	scenarios, measured := 0, 0
	for _, c := range r.Checks {
		if !slices.Contains(c.Labels, "netpol") || c.Status == results.Skipped {
			continue
		}
		scenarios++
		for _, m := range c.Measurements {
			if m.Name == "policy in effect within" {
				measured++
			}
		}
	}
	if scenarios < 30 || measured < 25 {
		t.Errorf("%s: %d scenarios ran, %d with a latency; want at least 30 and 25", provider, scenarios, measured)
	}

	// The fault: the policy agent stopped on every node once idFromProd has ended.
	nodes := strings.Fields(docker(t, "ps", "--filter", "label=io.x-k8s.kind.cluster="+runID, "--format", "{{.Names}}"))
	cont := func() {
		for _, n := range nodes {
			_ = exec.Command("docker", "exec", n, "pkill", "-CONT", "-x", agent).Run()
		}
	}
	t.Cleanup(cont)
	// A stopped process fails its liveness probe and the kubelet restarts it within seconds: the
	// agent's DaemonSet (kube-system/<agent>) loses its liveness probe first, as a hung agent
	// nobody watches would, and rolls out again before the check starts.
	cp := runID + "-control-plane"
	kubectl(t, cp, "-n", "kube-system", "patch", "daemonset", agent, "--type", "json",
		"-p", `[{"op":"remove","path":"/spec/template/spec/containers/0/livenessProbe"}]`)
	kubectl(t, cp, "-n", "kube-system", "rollout", "status", "daemonset/"+agent, "--timeout=300s")
	// The scenarios tagged namespaces (14, two before the stop) keep the test's time down: after
	// the stop each waits out its bound twice (its step, then the deletion).
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	b := startNetconform(t, ctx, "check", "--kubeconfig", filepath.Join(art, "kubeconfig"), "--probe-image", probeImage, "--provider", provider,
		"--artifacts", dir, "--label-filter", "policy && (!netpol || namespaces)", "--policy-wait", "10s")
	stopped := b.onResult(t, dir, time.Second, 20*time.Minute, "check "+idFromProd, func(r *results.Result) bool {
		_, ok := checkByID(r, idFromProd)
		return ok
	}, func() {
		for _, n := range nodes {
			onNode(t, n, "pkill", "-STOP", "-x", agent)
		}
		t.Logf("%s stopped on %v", agent, nodes)
	})
	t.Log(b.out.String())
	cont()
	if !stopped {
		t.Fatalf("the check ended before %s did", idFromProd)
	}
	r = loadResult(t, dir)
	// since counts the scenarios after idFromProd: the first of them is not judged, since the
	// agent may have programmed its policy in the second it took to see idFromProd end and stop
	// the agent on every node.
	since, judged := 0, 0
	for _, c := range r.Checks {
		if !slices.Contains(c.Labels, "netpol") || c.Status == results.Skipped {
			continue
		}
		switch {
		case since == 0 && c.Status != results.Passed:
			t.Errorf("before the agent stopped: %s %s: %s", c.ID, c.Status, c.Reason)
		case since >= 2 && measurement(c, "cells expected blocked") > 0:
			judged++
			if c.Status != results.Failed || !strings.Contains(c.Reason, "cells differ from the model") {
				t.Errorf("after the agent stopped: %s %s, want failed naming cells: %s", c.ID, c.Status, c.Reason)
			}
		}
		if since > 0 || c.ID == idFromProd {
			since++
		}
	}
	if judged < 5 {
		t.Errorf("%d scenarios judged after the agent stopped (%s in the result: %v), want at least 5", judged, idFromProd, since > 0)
	}
}

func measurement(c results.Check, name string) float64 {
	for _, m := range c.Measurements {
		if m.Name == name {
			return m.Value
		}
	}
	return -1
}
