//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/netconform/netconform/fixtures/ec2stub"
	"github.com/netconform/netconform/framework/aws/awsclient"
	"github.com/netconform/netconform/framework/aws/ec2check"
	"github.com/netconform/netconform/framework/aws/sweep"
	"github.com/netconform/netconform/framework/platform/aws"
	"github.com/netconform/netconform/framework/results"
)

// awsStandIns are the EC2 stand-in (in this process) and the kops stand-in (built here) that
// `netconform run --platform aws` is pointed at. fakekops backs its cluster with a kind cluster
// from the node image, so the probe agents and suites run on real nodes, and reports that
// cluster's nodes to the EC2 stand-in as instances. Real AWS is never reached.
type awsStandIns struct {
	stub  *ec2stub.Server
	kops  string
	state string
	env   []string
}

func startAWSStandIns(t *testing.T) *awsStandIns {
	t.Helper()
	srv, err := ec2stub.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	kops := filepath.Join(t.TempDir(), "kops")
	build := exec.Command("go", "build", "-tags", "kindbacking", "-o", kops, "./fixtures/fakekops")
	build.Dir = repoRoot
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build fakekops: %v\n%s", err, out)
	}
	// This process asks the stand-in too (what the run left tagged), as the run does.
	for k, v := range map[string]string{"AWS_ACCESS_KEY_ID": "stand-in", "AWS_SECRET_ACCESS_KEY": "stand-in", "AWS_EC2_METADATA_DISABLED": "true", "AWS_PROFILE": ""} {
		t.Setenv(k, v)
	}
	s := &awsStandIns{stub: srv, kops: kops, state: "file://" + filepath.Join(t.TempDir(), "state")}
	s.env = []string{"AWS_ENDPOINT_URL=" + srv.URL(), "AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=stand-in", "AWS_SECRET_ACCESS_KEY=stand-in",
		"AWS_EC2_METADATA_DISABLED=true", "AWS_PROFILE=", "KOPS_STATE_STORE=",
		"FAKEKOPS_KIND_NODE_IMAGE=" + nodeImage, "FAKEKOPS_KIND_IMAGES=" + probeImage}
	return s
}

func (s *awsStandIns) args(runID, art, provider string) []string {
	return []string{"run", "--platform", "aws", "--provider", provider, "--nodes", "2", "--run-id", runID, "--artifacts", art,
		"--kops", s.kops, "--state", s.state, "--aws-endpoint", s.stub.URL(), "--aws-region", "us-east-1", "--probe-image", probeImage}
}

// tagged lists the stand-in's resources still carrying the run's tag.
func (s *awsStandIns) tagged(t *testing.T, runID string) []sweep.Resource {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := awsclient.New(ctx, awsclient.Config{Region: "us-east-1", Endpoint: s.stub.URL()})
	if err != nil {
		t.Fatal(err)
	}
	rs, err := sweep.Find(ctx, c.EC2, sweep.Selector{TagKey: aws.RunIDTag, RunID: runID})
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

func (s *awsStandIns) start(t *testing.T, args ...string) *background {
	t.Helper()
	b := &background{cmd: exec.Command(binary, args...), out: &syncBuffer{}, done: make(chan error, 1)}
	b.cmd.Env = append(os.Environ(), s.env...)
	b.cmd.Stdout, b.cmd.Stderr = b.out, b.out
	if err := b.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { b.done <- b.cmd.Wait() }()
	return b
}

// TestAWSRun runs `netconform run --platform aws` end to end through the CLI against the
// stand-ins: kops create, netconform's spec, update, validate, kubeconfig, probe agents, suites,
// EC2 checks, kops delete; nothing is left behind.
func TestAWSRun(t *testing.T) {
	s := startAWSStandIns(t)
	runID := fmt.Sprintf("nca-%d", time.Now().Unix()%100000)
	art := t.TempDir()
	b := s.start(t, s.args(runID, art, "kubenet")...)
	select {
	case <-b.done:
	case <-time.After(20 * time.Minute):
		_ = b.cmd.Process.Signal(syscall.SIGINT)
		<-b.done
		t.Fatalf("run --platform aws did not end within 20 min:\n%s", b.out.String())
	}
	t.Log(b.out.String())
	if code := b.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("exit %d, want 0", code)
	}
	r := loadResult(t, art)
	if v := r.Judge(); !v.Passed() {
		t.Errorf("verdict %s: %v", v.Outcome, v.Reasons)
	}
	phases := map[string]results.Status{}
	for _, p := range r.Phases {
		phases[p.Name] = p.Status
	}
	for _, want := range []string{"cluster create", "probe agents ready", "suites", "EC2 checks", "cluster delete"} {
		if phases[want] != results.Passed {
			t.Errorf("phase %q: %q, want passed (phases %v)", want, phases[want], phases)
		}
	}
	if r.Platform != "aws" {
		t.Errorf("platform %q", r.Platform)
	}
	// The EC2 checks measured the stand-in's route table against the kind nodes' pod CIDRs.
	for _, id := range []string{ec2check.CheckNodeRoute, ec2check.CheckSourceDest} {
		ch, ok := checkByID(r, id)
		if !ok || ch.Status != results.Passed || !ch.Measured() {
			t.Errorf("check %s: %+v (found %v), want passed with observations", id, ch, ok)
		}
	}
	suitesPassed := 0
	for _, ch := range r.Checks {
		if ch.Suite != "aws" && ch.Status == results.Passed && ch.Measured() {
			suitesPassed++
		}
	}
	if suitesPassed == 0 {
		t.Error("no suite check passed on the stand-in's nodes")
	}
	if left := leftovers(t, runID); len(left) > 0 {
		t.Errorf("left behind: %v", left)
	}
	if left := s.tagged(t, runID); len(left) > 0 {
		t.Errorf("stand-in resources left with the run's tag: %v", left)
	}
	for _, f := range []string{"cluster.yaml", "kops.log", "junit.xml", "summary.md"} {
		if _, err := os.Stat(filepath.Join(art, f)); err != nil {
			t.Errorf("artifact %s: %v", f, err)
		}
	}
}

// TestAWSInterrupt sends SIGINT while kops builds the cluster (its kind nodes exist already):
// kops delete still runs, and neither a node container nor a tagged stand-in resource is left.
func TestAWSInterrupt(t *testing.T) {
	s := startAWSStandIns(t)
	runID := fmt.Sprintf("ncai-%d", time.Now().Unix()%100000)
	art := t.TempDir()
	b := s.start(t, s.args(runID, art, "kubenet")...)
	deadline := time.Now().Add(5 * time.Minute)
	for time.Now().Before(deadline) && len(leftovers(t, runID)) == 0 {
		select {
		case <-b.done:
			t.Fatalf("the run ended before its nodes existed:\n%s", b.out.String())
		case <-time.After(500 * time.Millisecond):
		}
	}
	time.Sleep(3 * time.Second)
	b.interrupt(t, 5*time.Minute)
	if left := leftovers(t, runID); len(left) > 0 {
		t.Errorf("interrupted run left behind: %v", left)
	}
	if left := s.tagged(t, runID); len(left) > 0 {
		t.Errorf("interrupted run left stand-in resources: %v", left)
	}
	expectInterruptedAndDeleted(t, art)
	if !strings.Contains(readFile(t, filepath.Join(art, "kops.log")), "delete cluster") {
		t.Error("kops.log shows no kops delete cluster")
	}
	expectJUnitFailure(t, art, "phases", "verdict", "COULD NOT RUN")
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
