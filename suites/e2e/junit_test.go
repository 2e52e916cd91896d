//go:build e2e

package e2e

import (
	"context"
	"encoding/xml"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// junitReport is netconform's own junit.xml as CI reads it.
type junitReport struct {
	Failures int `xml:"failures,attr"`
	Suites   []struct {
		Name  string `xml:"name,attr"`
		Cases []struct {
			Name    string `xml:"name,attr"`
			Failure *struct {
				Message string `xml:"message,attr"`
				Body    string `xml:",chardata"`
			} `xml:"failure"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

// junitFailure reads dir/junit.xml and returns the failure message of the case name in suite;
// found is false when the case is missing, failed false when it passed.
func junitFailure(t *testing.T, dir, suite, name string) (msg string, found, failed bool) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "junit.xml"))
	if err != nil {
		t.Fatalf("junit.xml: %v", err)
	}
	var j junitReport
	if err := xml.Unmarshal(b, &j); err != nil {
		t.Fatalf("junit.xml does not parse: %v\n%s", err, b)
	}
	for _, s := range j.Suites {
		if s.Name != suite {
			continue
		}
		for _, c := range s.Cases {
			if c.Name == name {
				if c.Failure == nil {
					return "", true, false
				}
				return c.Failure.Message + "\n" + c.Failure.Body, true, true
			}
		}
	}
	return "", false, false
}

// expectJUnitFailure asserts that junit.xml in dir holds the case as failed, with want in its
// message.
func expectJUnitFailure(t *testing.T, dir, suite, name, want string) {
	t.Helper()
	msg, found, failed := junitFailure(t, dir, suite, name)
	if !found || !failed || !strings.Contains(msg, want) {
		b, _ := os.ReadFile(filepath.Join(dir, "junit.xml"))
		t.Errorf("junit.xml: case %s/%s found=%v failed=%v message %q, want a failure with %q\n%s", suite, name, found, failed, msg, want, b)
	}
}

// TestCreateFailsJUnit: a run whose cluster creation fails (a node image that does not exist)
// exits 2, leaves nothing behind, and its junit.xml holds the failed phase with the error.
func TestCreateFailsJUnit(t *testing.T) {
	runID := fmt.Sprintf("ncf-%d", time.Now().Unix()%100000)
	art := t.TempDir()
	out, code := netconform(t, 5*time.Minute, "run", "--run-id", runID, "--node-image", "netconform/node:does-not-exist",
		"--probe-image", probeImage, "--artifacts", art)
	t.Log(out)
	if code != 2 {
		t.Errorf("a failed cluster creation exited %d, want 2", code)
	}
	if left := leftovers(t, runID); len(left) > 0 {
		t.Errorf("failed creation left behind: %v", left)
	}
	expectJUnitFailure(t, art, "phases", "cluster create", "does-not-exist")
	expectJUnitFailure(t, art, "phases", "verdict", "COULD NOT RUN")
	r := loadResult(t, art)
	if v := r.Judge(); v.Outcome != "COULD NOT RUN" || r.Verdict == nil || r.Verdict.Outcome != v.Outcome {
		t.Errorf("verdict %+v, stored %+v", v, r.Verdict)
	}
}

// TestKubeletRefusesHost: a kubelet that will not start (here: told to refuse this host's cgroup
// v1, as Kubernetes 1.35 and later do by default) fails cluster creation, and the run says why in
// the kubelet's own words, naming the node, instead of kubeadm's "the kubelet is not healthy";
// the nodes kept to read that are deleted.
func TestKubeletRefusesHost(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	v, err := exec.CommandContext(ctx, "docker", "info", "--format", "{{.CgroupVersion}}").Output()
	if err != nil {
		t.Fatalf("docker info: %v", err)
	}
	if strings.TrimSpace(string(v)) != "1" {
		t.Skipf("environment: the host runs cgroup v%s; this fault needs cgroup v1", strings.TrimSpace(string(v)))
	}
	runID := fmt.Sprintf("nck-%d", time.Now().Unix()%100000)
	art := t.TempDir()
	out, code := netconform(t, 9*time.Minute, "run", "--run-id", runID, "--nodes", "1", "--node-image", nodeImage,
		"--probe-image", probeImage, "--artifacts", art, "--kubelet-config", "failCgroupV1: true")
	t.Log(out)
	if code != 2 {
		t.Errorf("exit %d, want 2 (could not run)", code)
	}
	if left := leftovers(t, runID); len(left) > 0 {
		t.Errorf("failed creation left behind: %v", left)
	}
	r := loadResult(t, art)
	want := "the kubelet on " + runID + "-control-plane did not start: "
	if !strings.Contains(r.Error, want) || !strings.Contains(r.Error, "cgroup v1") || strings.Contains(r.Error, "\n") {
		t.Errorf("result error %q: want one line with %q and the kubelet's reason (cgroup v1)", r.Error, want)
	}
	expectJUnitFailure(t, art, "phases", "cluster create", "cgroup v1")
}

// expectPage checks the run's report.html holds each of want (the browser tests in
// reports/htmlreport check how pages behave; this checks every run writes one).
func expectPage(t *testing.T, art string, want ...string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(art, "report.html"))
	if err != nil {
		t.Errorf("report.html: %v", err)
		return
	}
	for _, w := range want {
		if !strings.Contains(string(b), w) {
			t.Errorf("report.html lacks %s", w)
		}
	}
}
