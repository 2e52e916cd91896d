package aws_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/netconform/netconform/fixtures/ec2stub"
	"github.com/netconform/netconform/framework/aws/awsclient"
	"github.com/netconform/netconform/framework/aws/ec2check"
	"github.com/netconform/netconform/framework/platform/aws"
	"github.com/netconform/netconform/providers/catalog"
)

// fakeKops is the stand-in kops binary, built once for the package's tests.
var fakeKops string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "fakekops")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	fakeKops = filepath.Join(dir, "kops")
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	out, err := exec.Command(goBin, "build", "-o", fakeKops, "github.com/netconform/netconform/fixtures/fakekops").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "build fakekops: %v\n%s", err, out)
		os.Exit(2)
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// env is one test's stand-in EC2, state store and kops log.
type env struct {
	srv     *ec2stub.Server
	ec2     *ec2.Client
	checker *ec2check.Checker
	state   string
	log     string
	runID   string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	srv, err := ec2stub.Start(ec2stub.WithRouteQuota(50))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	c, err := awsclient.New(context.Background(), awsclient.Config{Region: "us-east-1", Endpoint: srv.URL(), StaticCredentials: true})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	return &env{srv: srv, ec2: c.EC2, checker: &ec2check.Checker{EC2: c.EC2, Quotas: c.Quotas},
		state: "file://" + filepath.Join(dir, "state"), log: filepath.Join(dir, "kops.argv"),
		runID: fmt.Sprintf("nc-%08x", crc32.ChecksumIEEE([]byte(t.Name())))}
}

func (e *env) config(t *testing.T, provider string, extraEnv ...string) aws.Config {
	return aws.Config{
		Providers: catalog.Registry{}, Provider: provider, RunID: e.runID, ArtifactsDir: filepath.Join(t.TempDir(), "artifacts"),
		Kops: fakeKops, StateStore: e.state, Zones: []string{"us-east-1a", "us-east-1b"}, NodeCount: 3,
		Env: append([]string{
			"AWS_ENDPOINT_URL=" + e.srv.URL(), "AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=stand-in",
			"AWS_SECRET_ACCESS_KEY=stand-in", "AWS_EC2_METADATA_DISABLED=true", "FAKEKOPS_LOG=" + e.log,
		}, extraEnv...),
	}
}

// commands lists the kops invocations so far, as "verb verb ..." (flags dropped).
func (e *env) commands(t *testing.T) []string {
	t.Helper()
	f, err := os.Open(e.log)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var argv []string
		if err := json.Unmarshal(sc.Bytes(), &argv); err != nil {
			t.Fatal(err)
		}
		var verbs []string
		for _, a := range argv {
			if strings.HasPrefix(a, "-") {
				break
			}
			verbs = append(verbs, a)
		}
		out = append(out, strings.Join(verbs, " "))
	}
	return out
}

func (e *env) argv(t *testing.T, verb string) []string {
	t.Helper()
	b, err := os.ReadFile(e.log)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var argv []string
		if err := json.Unmarshal([]byte(line), &argv); err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(strings.Join(argv, " "), verb) {
			return argv
		}
	}
	t.Fatalf("kops was never run with %q", verb)
	return nil
}

// tagged counts the run's live resources in the stand-in, by the run-id tag.
func (e *env) tagged(t *testing.T) map[string]int {
	t.Helper()
	x := context.Background()
	f := []types.Filter{{Name: sdkaws.String("tag:" + aws.RunIDTag), Values: []string{e.runID}}}
	got := map[string]int{"instances": 0}
	ins, err := e.ec2.DescribeInstances(x, &ec2.DescribeInstancesInput{Filters: append(f, types.Filter{Name: sdkaws.String("instance-state-name"), Values: []string{"running"}})})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range ins.Reservations {
		got["instances"] += len(r.Instances)
	}
	vpcs, err := e.ec2.DescribeVpcs(x, &ec2.DescribeVpcsInput{Filters: f})
	if err != nil {
		t.Fatal(err)
	}
	got["vpcs"] = len(vpcs.Vpcs)
	sns, err := e.ec2.DescribeSubnets(x, &ec2.DescribeSubnetsInput{Filters: f})
	if err != nil {
		t.Fatal(err)
	}
	got["subnets"] = len(sns.Subnets)
	rts, err := e.ec2.DescribeRouteTables(x, &ec2.DescribeRouteTablesInput{Filters: f})
	if err != nil {
		t.Fatal(err)
	}
	got["route tables"] = len(rts.RouteTables)
	igws, err := e.ec2.DescribeInternetGateways(x, &ec2.DescribeInternetGatewaysInput{Filters: f})
	if err != nil {
		t.Fatal(err)
	}
	got["internet gateways"] = len(igws.InternetGateways)
	return got
}

// nodes reads the node list fakekops wrote, as the Kubernetes API would give it.
func nodes(t *testing.T, e *env, cluster string) []ec2check.Node {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(strings.TrimPrefix(e.state, "file://"), cluster, "nodes.json"))
	if err != nil {
		t.Fatal(err)
	}
	var raw []struct {
		Name, ProviderID, PodCIDR string
		MaxPods                   int
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	var out []ec2check.Node
	for _, r := range raw {
		id, err := ec2check.InstanceIDFromProviderID(r.ProviderID)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, ec2check.Node{Name: r.Name, InstanceID: id, PodCIDR: r.PodCIDR, MaxPods: r.MaxPods})
	}
	return out
}

func (e *env) links() ec2check.LinkSource {
	return ec2check.LinkSourceFunc(func(ctx context.Context, id string) ([]ec2check.Link, error) {
		ls, err := e.srv.NodeLinks(ctx, id)
		var out []ec2check.Link
		for _, l := range ls {
			out = append(out, ec2check.Link{Name: l.Name, MAC: l.MAC, Addrs: l.Addrs, MTU: l.MTU})
		}
		return out, err
	})
}

func timeout(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func TestCreateChecksDelete(t *testing.T) {
	for _, provider := range []string{"calico", "kubenet", "amazon-vpc-routed-eni"} {
		t.Run(provider, func(t *testing.T) {
			e := newEnv(t)
			a, err := aws.New(e.config(t, provider))
			if err != nil {
				t.Fatal(err)
			}
			ctx := timeout(t, 2*time.Minute)
			if err := a.Create(ctx); err != nil {
				t.Fatalf("Create: %v", err)
			}
			want := "create cluster,get cluster,replace,update cluster,validate cluster,export kubecfg"
			if got := strings.Join(e.commands(t), ","); got != want {
				t.Errorf("kops commands = %s, want %s", got, want)
			}
			create := strings.Join(e.argv(t, "create cluster"), " ")
			for _, w := range []string{"--networking " + a.Networking().KopsValue, "--cloud-labels netconform.io/run-id=" + e.runID, "--state " + e.state, "--zones us-east-1a,us-east-1b", "--node-count 3"} {
				if !strings.Contains(create, w) {
					t.Errorf("create cluster argv lacks %q: %s", w, create)
				}
			}
			if _, err := os.Stat(a.KubeconfigPath()); err != nil {
				t.Errorf("no kubeconfig: %v", err)
			}
			// Every resource carries the run id (kops applies spec.cloudLabels to all of them).
			if got := e.tagged(t); fmt.Sprint(got) != fmt.Sprint(map[string]int{"instances": 4, "vpcs": 1, "subnets": 2, "route tables": 1, "internet gateways": 1}) {
				t.Errorf("resources tagged with the run id = %v", got)
			}
			rs, err := e.checker.Run(ctx, a.Networking().Requirements(), ec2check.Input{ClusterName: a.ClusterName(), Nodes: nodes(t, e, a.ClusterName()), Links: e.links()})
			if err != nil {
				t.Fatal(err)
			}
			if f := ec2check.Failed(rs); len(f) > 0 {
				t.Errorf("checks failed on a healthy cluster: %v", f)
			}
			passed := map[string]int{}
			for _, r := range rs {
				if r.Status == ec2check.Pass {
					passed[r.Check]++
				}
			}
			switch provider {
			case "kubenet":
				if passed[ec2check.CheckNodeRoute] != 4 || passed[ec2check.CheckRouteQuota] != 1 || passed[ec2check.CheckSourceDest] != 4 {
					t.Errorf("kubenet passes = %v", passed)
				}
			case "calico":
				if passed[ec2check.CheckSourceDest] != 4 || passed[ec2check.CheckPodMTU] != 4 || passed[ec2check.CheckNodeRoute] != 0 {
					t.Errorf("calico passes = %v", passed)
				}
			case "amazon-vpc-routed-eni":
				if passed[ec2check.CheckMaxPods] != 4 {
					t.Errorf("amazonvpc passes = %v", passed)
				}
			}
			if err := a.Delete(ctx); err != nil {
				t.Fatalf("Delete: %v", err)
			}
			if got := e.tagged(t); fmt.Sprint(got) != fmt.Sprint(map[string]int{"instances": 0, "vpcs": 0, "subnets": 0, "route tables": 0, "internet gateways": 0}) {
				t.Errorf("left after Delete: %v", got)
			}
			if err := a.Delete(ctx); err != nil {
				t.Errorf("second Delete: %v", err)
			}
			if n := strings.Count(strings.Join(e.commands(t), ","), "delete cluster"); n != 1 {
				t.Errorf("kops delete ran %d times, want once", n)
			}
		})
	}
}

func TestCalicoSpecIsMerged(t *testing.T) {
	e := newEnv(t)
	cfg := e.config(t, "calico")
	cfg.Options = map[string]any{"typhaReplicas": 2}
	a, err := aws.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Create(timeout(t, time.Minute)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Delete(context.Background()) })
	b, err := os.ReadFile(filepath.Join(cfg.ArtifactsDir, "cluster.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	spec := string(b)
	for _, w := range []string{"mtu: 8912", "ipipMode: CrossSubnet", "awsSrcDstCheck: Disable", "typhaReplicas: 2",
		"nonMasqueradeCIDR: 100.64.0.0/10", "netconform.io/run-id: " + e.runID} {
		if !strings.Contains(spec, w) {
			t.Errorf("merged spec lacks %q (netconform's settings and kops' own fields must both be there):\n%s", w, spec)
		}
	}
	// kops replace stored it: get cluster now prints the merged spec.
	stored, err := os.ReadFile(filepath.Join(strings.TrimPrefix(e.state, "file://"), a.ClusterName(), "config"))
	if err != nil {
		t.Fatal(err)
	}
	if string(stored) != spec {
		t.Errorf("the state store holds a different spec than the merged one")
	}
}

func TestFailedValidationKeepsOutputAndDeleteCleansUp(t *testing.T) {
	e := newEnv(t)
	a, err := aws.New(e.config(t, "kubenet", "FAKEKOPS_FAIL=validate"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := timeout(t, time.Minute)
	err = a.Create(ctx)
	if err == nil {
		t.Fatal("Create succeeded with a failing validation")
	}
	for _, w := range []string{"kops validate cluster", "Validation Failed", `node "node-1" of role "node" is not ready`} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error lacks %q: %v", w, err)
		}
	}
	if e.tagged(t)["instances"] != 4 {
		t.Fatalf("update should have built 4 instances before validation failed: %v", e.tagged(t))
	}
	if err := a.Delete(ctx); err != nil {
		t.Fatal(err)
	}
	if got := e.tagged(t)["instances"]; got != 0 {
		t.Errorf("%d instances left after Delete", got)
	}
}

func TestInterruptStillDeletes(t *testing.T) {
	e := newEnv(t)
	a, err := aws.New(e.config(t, "calico", "FAKEKOPS_HANG=validate"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- a.Create(ctx) }()
	// Interrupt once validation is running (the cluster is built by then).
	deadline := time.After(time.Minute)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !strings.Contains(strings.Join(e.commands(t), ","), "validate cluster") {
		select {
		case <-deadline:
			t.Fatal("kops validate never started")
		case <-tick.C:
		}
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Create after interrupt = %v, want context.Canceled", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Create did not return after the interrupt")
	}
	// The run's context is cancelled; Delete must still run.
	if err := a.Delete(ctx); err != nil {
		t.Fatalf("Delete after interrupt: %v", err)
	}
	if got := e.tagged(t); got["instances"] != 0 || got["vpcs"] != 0 {
		t.Errorf("left after interrupt and Delete: %v", got)
	}
}

func TestStepDeadline(t *testing.T) {
	e := newEnv(t)
	cfg := e.config(t, "calico", "FAKEKOPS_HANG=update")
	cfg.Timeouts.Update = 300 * time.Millisecond
	a, err := aws.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err = a.Create(timeout(t, time.Minute))
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "kops update cluster") {
		t.Errorf("Create = %v, want a deadline error naming kops update cluster", err)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("Create took %s with a 300ms update deadline", d)
	}
	if err := a.Delete(context.Background()); err != nil {
		t.Errorf("Delete: %v", err)
	}
}

func TestMissingKops(t *testing.T) {
	e := newEnv(t)
	cfg := e.config(t, "calico")
	cfg.Kops = filepath.Join(t.TempDir(), "no-kops-here")
	a, err := aws.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Create(context.Background()); err == nil || !strings.Contains(err.Error(), "--kops") {
		t.Errorf("Create without kops = %v, want an error saying how to pass --kops", err)
	}
	if err := a.Delete(context.Background()); err != nil {
		t.Errorf("Delete after Create never started = %v, want nil", err)
	}
}

func TestNewRefusesBadConfigs(t *testing.T) {
	base := aws.Config{Providers: catalog.Registry{}, Provider: "calico", RunID: "nc-x", StateStore: "s3://s"}
	for name, mod := range map[string]func(*aws.Config){
		"kubenet private": func(c *aws.Config) { c.Provider, c.Topology = "kubenet", "private" },
		"unknown":         func(c *aws.Config) { c.Provider = "nope" },
		"no run id":       func(c *aws.Config) { c.RunID = "" },
		"bad run id":      func(c *aws.Config) { c.RunID = "Bad_ID" },
		"topology":        func(c *aws.Config) { c.Topology = "hybrid" },
		"no registry":     func(c *aws.Config) { c.Providers = nil },
	} {
		c := base
		mod(&c)
		if _, err := aws.New(c); err == nil {
			t.Errorf("%s: New accepted %+v", name, c)
		}
	}
	t.Setenv("KOPS_STATE_STORE", "")
	c := base
	c.StateStore = ""
	if _, err := aws.New(c); err == nil || !strings.Contains(err.Error(), "KOPS_STATE_STORE") {
		t.Errorf("no state store: %v", err)
	}
	t.Setenv("KOPS_STATE_STORE", "s3://from-env")
	a, err := aws.New(c)
	if err != nil || a.Plan().StateStore != "s3://from-env" {
		t.Errorf("state store from the environment: %v", err)
	}
}

func TestDeleteAfterFailedCreateClusterIsQuiet(t *testing.T) {
	e := newEnv(t)
	a, err := aws.New(e.config(t, "calico", "FAKEKOPS_FAIL=create"))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Create(timeout(t, time.Minute)); err == nil || !strings.Contains(err.Error(), "kops create cluster") {
		t.Fatalf("Create = %v, want the kops create cluster failure", err)
	}
	// kops create failed before registering anything: kops delete answers that the cluster
	// does not exist, which is what Delete wants.
	if err := a.Delete(context.Background()); err != nil {
		t.Errorf("Delete = %v, want nil", err)
	}
	if got := strings.Join(e.commands(t), ","); got != "create cluster,delete cluster" {
		t.Errorf("kops commands = %s", got)
	}
}
