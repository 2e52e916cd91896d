//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/netconform/netconform/framework/results"
	"github.com/netconform/netconform/providers/kubenet"
)

// TestSwitchFaults switches a two-node cluster from kubenet to the switch target (make e2e-test
// asks the binary for it: netconform providers --switch-target) with two faults: the
// switch leaves kubenet's masquerade chain behind (--skip-cleanup chain), and once the last
// node is back, traffic to and from the worker's prober is dropped for good. Each must fail its
// check with the cause and location; the cluster must be gone afterwards.
func TestSwitchFaults(t *testing.T) {
	to := os.Getenv("NETCONFORM_SWITCH_TO")
	toImages := strings.Fields(os.Getenv("NETCONFORM_SWITCH_IMAGES"))
	if to == "" || len(toImages) == 0 {
		t.Fatal("NETCONFORM_SWITCH_TO and NETCONFORM_SWITCH_IMAGES must be set (make e2e-test sets them)")
	}
	runID := fmt.Sprintf("ncsw-%d", time.Now().Unix()%100000)
	art := t.TempDir()
	args := []string{"switch", "--from", "kubenet", "--to", to, "--nodes", "2", "--run-id", runID,
		"--node-image", nodeImage, "--probe-image", probeImage, "--artifacts", art,
		"--skip-cleanup", "chain", "--settle", "20s"}
	for _, ref := range toImages {
		args = append(args, "--provider-image", ref)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	b := startNetconform(t, ctx, args...)
	t.Cleanup(func() {
		if left := leftovers(t, runID); len(left) > 0 {
			t.Errorf("switch left behind: %v", left)
			netconform(t, 5*time.Minute, "delete", "--name", runID)
		}
	})

	cp, worker := runID+"-control-plane", runID+"-worker"
	var proberIP string
	// The fault goes in once the last node is back, inside the settle period.
	b.onPhase(t, art, "remove kubenet workloads", "", 300*time.Millisecond, 15*time.Minute, func() {
		proberIP = kubectl(t, cp, "-n", "netconform-switch", "get", "pods", "--field-selector", "spec.nodeName="+worker,
			"-l", "netconform.io/app=prober", "-o", "jsonpath={.items[0].status.podIP}")
		for _, dir := range []string{"-s", "-d"} {
			onNode(t, worker, "iptables", "-I", "FORWARD", dir, proberIP, "-j", "DROP")
		}
		t.Logf("dropping traffic of prober %s on %s", proberIP, worker)
	})
	t.Log(b.out.String())
	if proberIP == "" {
		t.Fatal("the switch ended before its last node was back: no fault injected")
	}
	if code := b.cmd.ProcessState.ExitCode(); code != 1 {
		t.Fatalf("switch with faults exited %d, want 1 (checks failed)", code)
	}
	r := loadResult(t, art)
	rolled, _ := checkByID(r, "switch/every-node-rolled")
	if rolled.Status != results.Passed {
		t.Errorf("every node rolled: %s %s", rolled.Status, rolled.Reason)
	}
	left, _ := checkByID(r, "switch/no-leftovers")
	for _, node := range []string{cp, worker} {
		if want := node + ": chain nat/" + kubenet.MasqChain + " left behind"; left.Status != results.Failed || !strings.Contains(left.Reason, want) {
			t.Errorf("leftovers check %s %q, want failed naming %q", left.Status, left.Reason, want)
		}
	}
	dis, _ := checkByID(r, "switch/disruption")
	if dis.Status != results.Failed || !strings.Contains(dis.Reason, "lost for good") || !strings.Contains(dis.Reason, worker) {
		t.Errorf("disruption check %s %q, want failed: traffic with %s lost for good", dis.Status, dis.Reason, worker)
	}
	// CI sees the failed switch in netconform's junit.xml, not only passing suites.
	expectJUnitFailure(t, art, "switch", "switch/no-leftovers", kubenet.MasqChain)
	expectJUnitFailure(t, art, "switch", "switch/disruption", "lost for good")
	expectJUnitFailure(t, art, "phases", "verdict", "FAIL")
	// The switch page: the verdict, and the timeline drawn from the switch's own record.
	expectPage(t, art, `data-outcome="FAIL"`, `<section id="switch">`, `<svg class="timeline" data-path="pod"`)
	for _, c := range r.Checks {
		if strings.HasPrefix(c.ID, "switch/") {
			continue
		}
		// The suites still ran on the target; the dropped prober is not one of their agents.
		if c.Status == results.Failed {
			t.Errorf("suite check %s failed after the switch: %s", c.ID, c.Reason)
		}
	}
	if left := leftovers(t, runID); len(left) > 0 {
		t.Errorf("switch left behind: %v", left)
	}
}
