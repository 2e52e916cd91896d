package aws_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/netconform/netconform/framework/aws/ec2check"
	"github.com/netconform/netconform/framework/platform/aws"
	"github.com/netconform/netconform/providers/catalog"
)

// created builds a cluster with provider and deletes it when the test ends.
func created(t *testing.T, e *env, cfg aws.Config) *aws.AWS {
	t.Helper()
	a, err := aws.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Delete(context.Background()) })
	if err := a.Create(timeout(t, time.Minute)); err != nil {
		t.Fatalf("Create: %v", err)
	}
	return a
}

// storedSpec is the cluster spec in fakekops' state store, as kops replace stored it.
func (e *env) storedSpec(t *testing.T, cluster string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(strings.TrimPrefix(e.state, "file://"), cluster, "config"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// splitNetworking parses a Cluster document into spec.networking and the rest of it.
func splitNetworking(t *testing.T, doc []byte) (map[string]any, map[string]any) {
	t.Helper()
	var m map[string]any
	if err := yaml.Unmarshal(doc, &m); err != nil {
		t.Fatal(err)
	}
	spec, _ := m["spec"].(map[string]any)
	nw, _ := spec["networking"].(map[string]any)
	delete(spec, "networking")
	return nw, m
}

func TestSwitch(t *testing.T) {
	for _, c := range []struct {
		from, to string
		opts     map[string]string
		block    map[string]any // what the new block must hold
	}{
		{"calico", "kubenet", nil, map[string]any{}},
		{"kubenet", "calico", map[string]string{"mtu": "8900", "typhaReplicas": "2"},
			map[string]any{"mtu": float64(8900), "typhaReplicas": float64(2), "ipipMode": "CrossSubnet", "awsSrcDstCheck": "Disable", "encapsulationMode": "ipip"}},
	} {
		t.Run(c.from+"-to-"+c.to, func(t *testing.T) {
			e := newEnv(t)
			cfg := e.config(t, c.from)
			a := created(t, e, cfg)
			before := e.storedSpec(t, a.ClusterName())
			ran := len(e.commands(t))
			ctx := timeout(t, time.Minute)
			// Before the roll, EC2 is not as B needs it (kubenet: no node routes; calico: the
			// source/destination checks kubenet's route controller turned off stay off, so
			// this only holds for kubenet).
			if c.to == "kubenet" {
				bReq, err := aws.LookupNetworking(catalog.Registry{}, c.to)
				if err != nil {
					t.Fatal(err)
				}
				rs, err := e.checker.Run(ctx, bReq.Requirements(), ec2check.Input{ClusterName: a.ClusterName(), Nodes: nodes(t, e, a.ClusterName()), Links: e.links()})
				if err != nil || len(ec2check.Failed(rs)) == 0 {
					t.Fatalf("kubenet checks on the calico cluster before the switch: %v, failed %v", err, ec2check.Failed(rs))
				}
			}

			if err := a.Switch(timeout(t, time.Minute), c.to, c.opts); err != nil {
				t.Fatalf("Switch: %v", err)
			}
			want := "get cluster,replace,update cluster,rolling-update cluster,validate cluster"
			if got := strings.Join(e.commands(t)[ran:], ","); got != want {
				t.Errorf("kops commands = %s, want %s", got, want)
			}
			roll := strings.Join(e.argv(t, "rolling-update cluster"), " ")
			for _, w := range []string{"--name " + a.ClusterName() + " --yes", "--validation-timeout 15m", "--drain-timeout 5m", "--state " + e.state} {
				if !strings.Contains(roll, w) {
					t.Errorf("rolling-update argv lacks %q: %s", w, roll)
				}
			}

			// The stored spec has B's block and not A's; nothing else changed.
			after := e.storedSpec(t, a.ClusterName())
			nwBefore, restBefore := splitNetworking(t, before)
			nwAfter, restAfter := splitNetworking(t, after)
			from, to := a.Plan().Networking, a.Networking()
			if to.Name != c.to {
				t.Errorf("Networking() after the switch = %s, want %s", to.Name, c.to)
			}
			if _, ok := nwBefore[c.from]; !ok {
				t.Fatalf("the spec before the switch has no %s block: %v", c.from, nwBefore)
			}
			if len(nwAfter) != 1 || nwAfter[c.from] != nil {
				t.Errorf("spec.networking after the switch = %v, want only %s", nwAfter, c.to)
			}
			if got, _ := nwAfter[c.to].(map[string]any); !reflect.DeepEqual(got, c.block) {
				t.Errorf("spec.networking.%s = %v, want %v", c.to, got, c.block)
			}
			if !reflect.DeepEqual(restBefore, restAfter) {
				t.Errorf("the switch changed more than spec.networking:\n--- before\n%s\n--- after\n%s", before, after)
			}
			if from.Name != c.to {
				t.Errorf("Plan() after the switch plans %s", from.Name)
			}
			// The artifacts hold what kops printed and what kops replace read.
			for name, w := range map[string][]byte{"cluster.switch-before.yaml": before, "cluster.switch-after.yaml": after} {
				if b, err := os.ReadFile(filepath.Join(cfg.ArtifactsDir, name)); err != nil || string(b) != string(w) {
					t.Errorf("artifact %s: %v\n%s", name, err, b)
				}
			}
			log, err := os.ReadFile(filepath.Join(cfg.ArtifactsDir, "kops.log"))
			if err != nil || !strings.Contains(string(log), "$ kops rolling-update cluster --name "+a.ClusterName()) || !strings.Contains(string(log), "Rolling update completed") {
				t.Errorf("kops.log lacks the rolling update: %v\n%s", err, log)
			}

			// Every instance was replaced, and EC2 looks as B needs it.
			if got := e.tagged(t)["instances"]; got != 4 {
				t.Errorf("%d running instances after the roll, want 4", got)
			}
			rs, err := e.checker.Run(ctx, to.Requirements(), ec2check.Input{ClusterName: a.ClusterName(), Nodes: nodes(t, e, a.ClusterName()), Links: e.links()})
			if err != nil {
				t.Fatal(err)
			}
			if f := ec2check.Failed(rs); len(f) > 0 {
				t.Errorf("EC2 checks for %s failed after the switch: %v", c.to, f)
			}
			passed := map[string]int{}
			for _, r := range rs {
				if r.Status == ec2check.Pass {
					passed[r.Check]++
				}
			}
			if passed[ec2check.CheckSourceDest] != 4 || (c.to == "kubenet") != (passed[ec2check.CheckNodeRoute] == 4) {
				t.Errorf("%s checks passed after the switch: %v", c.to, passed)
			}
		})
	}
}

func TestSwitchRefusedBeforeAnyKopsCommand(t *testing.T) {
	e := newEnv(t)
	cfg := e.config(t, "calico")
	cfg.Topology = "private"
	a, err := aws.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for to, want := range map[string]string{
		"kubenet": "NC001",
		"nope":    `provider "nope" cannot be set up on AWS`,
		"calico":  "already runs calico",
	} {
		err := a.Switch(context.Background(), to, nil)
		t.Logf("switch to %s: %v", to, err)
		if err == nil || !strings.Contains(err.Error(), "switch calico -> ") || !strings.Contains(err.Error(), want) {
			t.Errorf("Switch to %s = %v, want a refusal naming %q", to, err, want)
		}
		if _, err := a.SwitchPlan(to, nil); err == nil {
			t.Errorf("SwitchPlan to %s accepted", to)
		}
	}
	if got := e.commands(t); len(got) > 0 {
		t.Errorf("kops ran for refused switches: %v", got)
	}
}

func TestSwitchRefusedByTheSpec(t *testing.T) {
	e := newEnv(t)
	cfg := e.config(t, "calico")
	cfg.Topology = "private"
	a := created(t, e, cfg)
	before := e.storedSpec(t, a.ClusterName())

	// A platform value that does not know the cluster's topology: the spec tells.
	public := cfg
	public.Topology = "public"
	b, err := aws.New(public, aws.Existing())
	if err != nil {
		t.Fatal(err)
	}
	ran := len(e.commands(t))
	err = b.Switch(timeout(t, time.Minute), "kubenet", nil)
	t.Logf("switch refused by the spec: %v", err)
	for _, w := range []string{"refused before kops replace", "NC001 spec.networking.kubenet", "private topology"} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("Switch = %v, want an error with %q", err, w)
		}
	}
	// A platform value for another provider than the cluster runs.
	other := cfg
	other.Provider = "cilium"
	c, err := aws.New(other, aws.Existing())
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Switch(timeout(t, time.Minute), "flannel", nil); err == nil || !strings.Contains(err.Error(), "selects calico, not cilium") {
		t.Errorf("Switch from a provider the cluster does not run = %v", err)
	}
	if got := strings.Join(e.commands(t)[ran:], ","); got != "get cluster,get cluster" {
		t.Errorf("kops commands = %s, want only the two reads of the spec", got)
	}
	if string(e.storedSpec(t, a.ClusterName())) != string(before) {
		t.Error("a refused switch changed the stored spec")
	}
	if b.Networking().Name != "calico" {
		t.Errorf("Networking() after a refused switch = %s", b.Networking().Name)
	}
}

func TestSwitchStepDeadline(t *testing.T) {
	e := newEnv(t)
	cfg := e.config(t, "calico")
	created(t, e, cfg)
	hang := cfg
	hang.Env = append(append([]string(nil), cfg.Env...), "FAKEKOPS_HANG=rolling-update")
	// Long enough for the stand-in to start and log itself on a loaded machine; it then hangs.
	hang.Timeouts.Roll = 2 * time.Second
	a, err := aws.New(hang, aws.Existing())
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err = a.Switch(timeout(t, time.Minute), "kubenet", nil)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "kops rolling-update cluster") ||
		!strings.Contains(err.Error(), "switch calico -> kubenet: replace every instance") {
		t.Errorf("Switch = %v, want a deadline error naming the rolling update", err)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("Switch took %s with a 2s rolling-update deadline", d)
	}
	// The stand-in logs a command when it starts; nothing may follow the rolling update (the
	// update before it is last only if the deadline hit before the process could start).
	if cmds := e.commands(t); cmds[len(cmds)-1] != "rolling-update cluster" && cmds[len(cmds)-1] != "update cluster" {
		t.Errorf("kops ran after the rolling update timed out: %v", cmds)
	}
	if a.Networking().Name != "calico" {
		t.Errorf("Networking() after a failed switch = %s, want calico", a.Networking().Name)
	}
}

func TestSwitchRollingUpdateFailure(t *testing.T) {
	e := newEnv(t)
	cfg := e.config(t, "kubenet")
	created(t, e, cfg)
	fail := cfg
	fail.Env = append(append([]string(nil), cfg.Env...), "FAKEKOPS_FAIL=rolling-update")
	a, err := aws.New(fail, aws.Existing())
	if err != nil {
		t.Fatal(err)
	}
	err = a.Switch(timeout(t, time.Minute), "cilium", map[string]string{"enableNodePort": "false"})
	t.Logf("failed rolling update: %v", err)
	if err == nil {
		t.Fatal("Switch succeeded with a failing rolling update")
	}
	for _, w := range []string{"aws: switch kubenet -> cilium: replace every instance", "kops rolling-update cluster", "stopping the rolling update"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error lacks %q: %v", w, err)
		}
	}
	// The stand-in logs a command when it starts; nothing may follow the rolling update (the
	// update before it is last only if the deadline hit before the process could start).
	if cmds := e.commands(t); cmds[len(cmds)-1] != "rolling-update cluster" && cmds[len(cmds)-1] != "update cluster" {
		t.Errorf("kops ran after the rolling update failed: %v", cmds)
	}
	log, _ := os.ReadFile(filepath.Join(cfg.ArtifactsDir, "kops.log"))
	if !strings.Contains(string(log), "stopping the rolling update") {
		t.Errorf("kops.log lacks the rolling update's output:\n%s", log)
	}
}
