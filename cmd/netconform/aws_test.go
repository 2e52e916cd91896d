package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/netconform/netconform/fixtures/ec2stub"
	"github.com/netconform/netconform/framework/aws/awsclient"
	"github.com/netconform/netconform/framework/aws/ec2check"
	"github.com/netconform/netconform/framework/aws/sweep"
	"github.com/netconform/netconform/framework/platform/aws"
	"github.com/netconform/netconform/providers"
	"github.com/netconform/netconform/providers/catalog"
)

// execute runs the netconform command line in-process.
func execute(t *testing.T, args ...string) (string, error) {
	t.Helper()
	root := newRootCmd()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(args)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	err := root.ExecuteContext(ctx)
	return out.String(), err
}

func exitCode(err error) int {
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	if err != nil {
		return exitCouldNotRun
	}
	return exitOK
}

func TestAWSPlanForCalico(t *testing.T) {
	out, err := execute(t, "aws", "plan", "PROVIDER=calico", "--run-id", "nc-plan", "--state", "s3://bucket", "--zones", "eu-west-1a,eu-west-1b")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"kops create cluster --name nc-plan.k8s.local --cloud aws --zones eu-west-1a,eu-west-1b --control-plane-zones eu-west-1a",
		"--node-count 2 --node-size t3.medium --topology public --networking calico --cloud-labels netconform.io/run-id=nc-plan --state s3://bucket",
		"#         mtu: 8912", "kops update cluster --name nc-plan.k8s.local --yes --state s3://bucket",
		"kops delete cluster --name nc-plan.k8s.local --yes --state s3://bucket",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("plan lacks %q:\n%s", want, out)
		}
	}
}

func TestAWSDryRunWithoutStateStore(t *testing.T) {
	t.Setenv("KOPS_STATE_STORE", "")
	var b bytes.Buffer
	err := awsDryRun(&b, awsOptions{provider: "weave", runID: "nc-x", nodes: 3, zones: []string{"us-east-1a"}, providerOptions: []string{"mtu=8900"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"# note: no --state and no KOPS_STATE_STORE", "--state s3://YOUR-KOPS-STATE-BUCKET", "#         mtu: 8900", "--networking weave"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("plan lacks %q:\n%s", want, b.String())
		}
	}
	err = awsDryRun(&b, awsOptions{provider: "kubenet", runID: "nc-x", nodes: 3, topology: "private", state: "s3://s"})
	if exitCode(err) != exitCouldNotRun || !strings.Contains(err.Error(), "single route table") {
		t.Errorf("kubenet with a private topology: %v", err)
	}
}

func TestSimulateRoutes(t *testing.T) {
	out, err := execute(t, "simulate", "routes", "--nodes", "1..30", "--quota", "10,50")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"quota 10: the table's own 1 route(s) leave 9 node routes, so node 10 is the first without one; 21 nodes stay without a route",
		"quota 50: every node got its route; 19 more fit.",
		"NetworkUnavailable=True, reason NoRouteCreated",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("simulation report lacks %q:\n%s", want, out)
		}
	}
	if _, err := execute(t, "simulate", "routes", "--nodes", "9..3"); exitCode(err) != exitCouldNotRun {
		t.Errorf("--nodes 9..3: %v", err)
	}
}

func TestParseRangeAndOptions(t *testing.T) {
	for in, want := range map[string][2]int{"1..600": {1, 600}, "600": {1, 600}, "5..5": {5, 5}} {
		a, b, err := parseRange(in)
		if err != nil || a != want[0] || b != want[1] {
			t.Errorf("parseRange(%q) = %d, %d, %v", in, a, b, err)
		}
	}
	for _, bad := range []string{"0..3", "x", "3..1", ".."} {
		if _, _, err := parseRange(bad); err == nil {
			t.Errorf("parseRange(%q) accepted", bad)
		}
	}
	_, typed, err := providerSettings("calico", providers.ForKops, []string{"typhaReplicas=3", "ipipMode=Always"})
	if err != nil || typed["typhaReplicas"] != 3 || typed["ipipMode"] != "Always" {
		t.Errorf("options typed by calico's schema = %v %v", typed, err)
	}
	if _, _, err := providerSettings("calico", providers.ForKops, []string{"novalue"}); err == nil {
		t.Error("a bare key was accepted")
	}
}

// buildFakeKops builds the stand-in kops for this test.
func buildFakeKops(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "kops")
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	if out, err := exec.Command(goBin, "build", "-o", bin, "github.com/netconform/netconform/fixtures/fakekops").CombinedOutput(); err != nil {
		t.Fatalf("build fakekops: %v\n%s", err, out)
	}
	return bin
}

func TestCleanupByRunID(t *testing.T) {
	kopsBin := buildFakeKops(t)
	srv, err := ec2stub.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	for k, v := range map[string]string{"AWS_ENDPOINT_URL": srv.URL(), "AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "stand-in",
		"AWS_SECRET_ACCESS_KEY": "stand-in", "AWS_EC2_METADATA_DISABLED": "true", "AWS_PROFILE": "", "KOPS_STATE_STORE": ""} {
		t.Setenv(k, v)
	}
	state := "file://" + filepath.Join(t.TempDir(), "state")
	ctx := context.Background()
	// Two runs leave clusters behind (interrupted before their Delete).
	for _, run := range []string{"nc-left-a", "nc-left-b"} {
		p, err := aws.New(aws.Config{Providers: catalog.Registry{}, Provider: "kubenet", RunID: run, Kops: kopsBin, StateStore: state, ArtifactsDir: t.TempDir(), NodeCount: 2})
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Create(ctx); err != nil {
			t.Fatal(err)
		}
	}
	c, err := awsclient.New(ctx, awsclient.Config{})
	if err != nil {
		t.Fatal(err)
	}
	count := func(run string) int {
		rs, err := sweep.Find(ctx, c.EC2, sweep.Selector{TagKey: aws.RunIDTag, RunID: run})
		if err != nil {
			t.Fatal(err)
		}
		return len(rs)
	}
	if a, b := count("nc-left-a"), count("nc-left-b"); a != 7 || b != 7 {
		t.Fatalf("tagged resources before cleanup: a %d, b %d, want 7 each (3 instances, VPC, subnet, route table, gateway)", a, b)
	}
	// kops delete fails for run a: the EC2 sweep must still remove everything of run a, and
	// nothing of run b.
	t.Setenv("FAKEKOPS_FAIL", "delete")
	out, err := execute(t, "cleanup", "--platform", "aws", "--run-id", "nc-left-a", "--kops", kopsBin, "--state", state)
	if err != nil {
		t.Fatalf("cleanup: %v\n%s", err, out)
	}
	for _, want := range []string{"7 resources tagged for run nc-left-a", "kops delete cluster nc-left-a.k8s.local", "kops delete failed", "swept 7 resources through EC2", "nothing tagged for run nc-left-a is left"} {
		if !strings.Contains(out, want) {
			t.Errorf("cleanup output lacks %q:\n%s", want, out)
		}
	}
	if a, b := count("nc-left-a"), count("nc-left-b"); a != 0 || b != 7 {
		t.Errorf("after cleaning run a: a %d, b %d; want 0 and 7", a, b)
	}
	// Without --run-id every run is cleaned; kops works this time and leaves nothing to sweep.
	t.Setenv("FAKEKOPS_FAIL", "")
	out, err = execute(t, "cleanup", "--platform", "aws", "--kops", kopsBin, "--state", state)
	if err != nil {
		t.Fatalf("cleanup: %v\n%s", err, out)
	}
	if !strings.Contains(out, "kops delete cluster nc-left-b.k8s.local") || strings.Contains(out, "swept") || count("") != 0 {
		t.Errorf("cleanup of every run:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(strings.TrimPrefix(state, "file://"), "nc-left-b.k8s.local")); !os.IsNotExist(err) {
		t.Errorf("kops state of nc-left-b still there: %v", err)
	}
	if _, err := execute(t, "cleanup", "--platform", "kind"); exitCode(err) != exitCouldNotRun {
		t.Errorf("cleanup --platform kind: %v", err)
	}
}

func TestWriteCheckResults(t *testing.T) {
	rs := []ec2check.Result{
		{Check: ec2check.CheckSourceDest, Status: ec2check.Fail, Location: "node a (i-1)", Reason: "still on", Expected: "sourceDestCheck=false", Observed: "sourceDestCheck=true"},
		{Check: ec2check.CheckMaxPods, Status: ec2check.Skip, Reason: "not amazonvpc"},
	}
	var b bytes.Buffer
	if err := writeCheckResults(&b, rs, "text"); err != nil {
		t.Fatal(err)
	}
	want := "fail aws/ec2/source-dest-check [node a (i-1)]: still on (expected sourceDestCheck=false, observed sourceDestCheck=true)\n" +
		"skip aws/eni/max-pods: not amazonvpc\n0 passed, 1 failed, 1 skipped\n"
	if b.String() != want {
		t.Errorf("text =\n%s\nwant\n%s", b.String(), want)
	}
	b.Reset()
	if err := writeCheckResults(&b, rs, "json"); err != nil || !strings.Contains(b.String(), `"status": "fail"`) {
		t.Errorf("json = %s %v", b.String(), err)
	}
	if err := writeCheckResults(&b, rs, "yaml"); err == nil {
		t.Error("accepted -o yaml")
	}
}
