//go:build e2e

package e2e

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/netconform/netconform/framework/results"
)

// TestProbeAgents checks, on a 2-node kubenet kind cluster, what `check` does when the probe
// agents cannot run: Pod Security admission refusing their pods, and an image the nodes cannot
// pull (both: exit 2 within a minute, saying why and naming what to fix; a namespace the user
// made stays, without the agents); and that --kind-cluster loads the probe image into the nodes.
func TestProbeAgents(t *testing.T) {
	runID := keptClusterName(t, "ncag")
	art := t.TempDir()
	// The cheapest run that makes the cluster: one check.
	out, code := netconform(t, 15*time.Minute, "run", "--provider", "kubenet", "--nodes", "2", "--run-id", runID, "--keep",
		"--node-image", nodeImage, "--probe-image", probeImage, "--artifacts", art, "--label-filter", "route-quota")
	if code != 0 {
		t.Fatalf("run exited %d:\n%s", code, out)
	}
	kubeconfig := filepath.Join(art, "kubeconfig")
	cp, worker := runID+"-control-plane", runID+"-worker"

	// check runs `netconform check` with its own artifacts and reports how long it took.
	check := func(t *testing.T, extra ...string) (string, int, *results.Result, time.Duration) {
		t.Helper()
		dir := t.TempDir()
		args := append([]string{"check", "--kubeconfig", kubeconfig, "--provider", "kubenet", "--artifacts", dir}, extra...)
		start := time.Now()
		out, code := netconform(t, 5*time.Minute, args...)
		took := time.Since(start)
		t.Logf("netconform %s: exit %d after %s\n%s", strings.Join(args, " "), code, took.Round(100*time.Millisecond), out)
		return out, code, loadResult(t, dir), took
	}
	namespaceGone := func(t *testing.T, ns string) {
		t.Helper()
		b, err := exec.Command("docker", "exec", cp, "kubectl", "--kubeconfig", "/etc/kubernetes/admin.conf", "get", "namespace", ns, "--ignore-not-found", "-o", "name").CombinedOutput()
		if err != nil || strings.TrimSpace(string(b)) != "" {
			t.Errorf("namespace %s still there after check (%v): %s", ns, err, b)
		}
	}

	t.Run("Pod Security admission refuses the agents", func(t *testing.T) {
		// The namespace exists before netconform runs, labelled restricted: netconform keeps an
		// existing namespace's labels, so admission refuses every agent pod. (The run above left
		// its agents in the default namespace, netconform.)
		const ns = "nc-restricted"
		kubectl(t, cp, "create", "namespace", ns)
		kubectl(t, cp, "label", "namespace", ns, "pod-security.kubernetes.io/enforce=restricted")
		out, code, r, took := check(t, "--probe-image", probeImage, "--namespace", ns, "--label-filter", "pod-to-pod || dns")
		const admission = `violates PodSecurity "restricted:latest"`
		if code != 2 {
			t.Errorf("exit %d, want 2 (could not run)", code)
		}
		if !strings.Contains(out, admission) || !strings.Contains(out, "Kubernetes refused the probe agents' pods in namespace "+ns) {
			t.Errorf("output lacks the admission message %q", admission)
		}
		if !strings.Contains(r.Error, admission) {
			t.Errorf("result error %q lacks the admission message", r.Error)
		}
		if took > time.Minute {
			t.Errorf("took %s to report the refusal, want under a minute", took)
		}
		// Nothing was observed, so no check may have passed.
		if passed, _, _ := r.Counts(); passed != 0 {
			t.Errorf("%d checks passed without any agent", passed)
		}
		// The namespace was the user's: it stays, without the agents netconform put there.
		if got := kubectl(t, cp, "get", "namespace", ns, "-o", "name"); strings.TrimSpace(got) != "namespace/"+ns {
			t.Errorf("the user's namespace %s was removed: %q", ns, got)
		}
		if left := kubectl(t, cp, "-n", ns, "get", "daemonsets,services", "-o", "name"); strings.TrimSpace(left) != "" {
			t.Errorf("agents left in %s: %s", ns, left)
		}
		kubectl(t, cp, "delete", "namespace", ns, "--wait=false")
	})

	t.Run("the nodes cannot pull the probe image", func(t *testing.T) {
		const missing = "netconform/probe:does-not-exist"
		out, code, r, took := check(t, "--probe-image", missing, "--label-filter", "pod-to-pod")
		if code != 2 {
			t.Errorf("exit %d, want 2 (could not run)", code)
		}
		want := fmt.Sprintf("probe image %s cannot be pulled on nodes %s, %s", missing, cp, worker)
		if !strings.Contains(out, want) || !strings.Contains(r.Error, want) {
			t.Errorf("output or result error (%q) lacks %q", r.Error, want)
		}
		if !strings.Contains(out, "--kind-cluster") || !strings.Contains(out, "ctr -n k8s.io images import") {
			t.Error("output does not say how to get the image onto the nodes")
		}
		if took > time.Minute {
			t.Errorf("took %s to report the image, want under a minute", took)
		}
		namespaceGone(t, "netconform")
	})

	t.Run("--kind-cluster loads the probe image", func(t *testing.T) {
		// A tag the nodes have never seen and cannot pull: only loading it gets the agents up.
		tag := "netconform/probe:e2e-" + runID
		docker(t, "tag", probeImage, tag)
		defer docker(t, "rmi", tag)
		out, code, r, _ := check(t, "--probe-image", tag, "--kind-cluster", runID, "--label-filter", "pod-to-pod && tcp")
		if code != 0 {
			t.Errorf("exit %d, want 0: %s", code, failedChecks(r))
		}
		if !strings.Contains(out, "loaded image "+tag+" into 2 nodes of kind cluster "+runID) {
			t.Error("output does not say the image was loaded")
		}
		c, ok := checkByID(r, "connectivity/pod-to-pod-over-tcp")
		if !ok || c.Status != results.Passed || len(c.Observations) != 4 {
			t.Errorf("pod-to-pod TCP: %+v, want passed with 4 observations (every ordered pair of 2 nodes)", c)
		}
		namespaceGone(t, "netconform")
	})
}
