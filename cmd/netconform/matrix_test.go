package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/netconform/netconform/framework/matrix"
	"github.com/netconform/netconform/framework/results"
	"github.com/netconform/netconform/providers"
	"github.com/netconform/netconform/reports"
)

// planCLI runs `netconform matrix plan` with args and reads the plan it prints.
func planCLI(t *testing.T, args ...string) matrix.Plan {
	t.Helper()
	out, code, err := runCLI(t, append([]string{"matrix", "plan"}, args...)...)
	if code != 0 || err != nil {
		t.Fatalf("matrix plan %q: exit %d, %v\n%s", args, code, err, out)
	}
	var p matrix.Plan
	if err := json.Unmarshal([]byte(out), &p); err != nil {
		t.Fatalf("matrix plan %q printed no plan: %v\n%s", args, err, out)
	}
	return p
}

func cellNames(cells []matrix.Cell) []string {
	var out []string
	for _, c := range cells {
		out = append(out, c.Name)
	}
	return out
}

// The defaults are scripts/matrix.sh's: every installable provider and, without --providers,
// the default switch; the version is the Makefile's K8S_VERSION default.
func TestMatrixPlanDefaults(t *testing.T) {
	mk, err := os.ReadFile(filepath.Join("..", "..", "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	if m := regexp.MustCompile(`(?m)^K8S_VERSION \?= (\S+)$`).FindSubmatch(mk); m == nil || string(m[1]) != defaultKubernetesVersion {
		t.Errorf("the Makefile's K8S_VERSION default is %q, the plan's %s: keep them equal", m, defaultKubernetesVersion)
	}
	reg := registry()
	installable := providers.Installable(reg)
	def := providers.KindDefault(reg) + "->" + providers.KindSwitchTarget(reg)

	p := planCLI(t)
	if p.Total != len(installable)+1 || len(p.Cells) != p.Total || p.Shard != "" {
		t.Fatalf("default plan: total %d, %d cells, shard %q; want %d installable providers and the default switch", p.Total, len(p.Cells), p.Shard, len(installable))
	}
	for i, c := range p.Cells {
		if c.Index != i || c.KubernetesVersion != defaultKubernetesVersion {
			t.Errorf("cell %d: %+v", i, c)
		}
		if i < len(installable) && (c.Provider != installable[i] || c.From != "" || c.Name != installable[i]+"-"+defaultKubernetesVersion) {
			t.Errorf("cell %d: %+v; want provider %s", i, c, installable[i])
		}
		if !slices.Equal(c.Args[len(c.Args)-2:], []string{"--matrix-cell", c.Ref()}) {
			t.Errorf("cell %d: args %q do not record the cell", i, c.Args)
		}
	}
	if last := p.Cells[len(p.Cells)-1]; last.From+"->"+last.Provider != def {
		t.Errorf("last cell %+v: want the default switch %s", last, def)
	}

	// --providers alone: no switch (as PROVIDERS without SWITCHES); --switches alone: every
	// installable provider and those switches.
	if p := planCLI(t, "--providers", "kubenet flannel:backend=host-gw"); !slices.Equal(cellNames(p.Cells), []string{"kubenet-v1.34.4", "flannel_backend-host-gw-v1.34.4"}) {
		t.Errorf("--providers only: %q", cellNames(p.Cells))
	}
	p = planCLI(t, "--switches", "flannel->calico", "--versions", "v1.33.13 v1.34.4")
	if p.Total != 2*(len(installable)+1) || p.Cells[len(installable)].Name != "flannel-to-calico-v1.33.13" || p.Cells[p.Total-1].Name != "flannel-to-calico-v1.34.4" {
		t.Errorf("--switches only, two versions: %q", cellNames(p.Cells))
	}
	// Each cell names the kops --networking value its run records, which the entry as typed
	// need not be: scripts/matrix.sh writes it into the result of a cell that could not start.
	p = planCLI(t, "--providers", "kuberouter flannel-udp:backend=vxlan", "--switches", "kubenet->kube-router")
	var kops []string
	for _, c := range p.Cells {
		kops = append(kops, c.Networking)
	}
	if !slices.Equal(kops, []string{"kube-router", "flannel-udp", "kube-router"}) {
		t.Errorf("kops --networking values of the cells: %q", kops)
	}
	// The same flags repeated or in one value are the same plan.
	a := planCLI(t, "--providers", "kubenet calico", "--versions", "v1.33.13 v1.34.4")
	b := planCLI(t, "--providers", "kubenet", "--providers", "calico", "--versions", "v1.33.13", "--versions", "v1.34.4")
	if !slices.Equal(cellNames(a.Cells), cellNames(b.Cells)) {
		t.Errorf("one value %q, repeated flags %q", cellNames(a.Cells), cellNames(b.Cells))
	}
}

// Bad input is refused with exit 2 and one line, and nothing is printed.
func TestMatrixPlanBadInput(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--shard", "0/2"}, `--shard "0/2": want i/N with 1 <= i <= N`},
		{[]string{"--shard", "3/2"}, `--shard "3/2": want i/N`},
		{[]string{"--shard", "x"}, `--shard "x": want i/N`},
		{[]string{"--shard", ""}, `--shard "": want i/N`},
		{[]string{"--providers", "kubenet", "--shard", "2/2"}, "--shard 2/2: the plan has 1 cell(s), so shard 2 would run nothing"},
		{[]string{"--providers", "calcio"}, "--providers calcio: unknown provider calcio; did you mean calico?"},
		{[]string{"--providers", "kubenet nothing-like-it"}, `unknown provider "nothing-like-it"; valid:`},
		{[]string{"--providers", "flannel:bakend=udp"}, "flannel has no option bakend on kind; did you mean backend?"},
		{[]string{"--providers", "flannel:backend=ipip"}, `flannel option backend: "ipip" is not one of vxlan, udp, host-gw`},
		{[]string{"--providers", "calico:mtu"}, `option "mtu": want KEY=VALUE`},
		{[]string{"--switches", "kubenet-calico"}, `switch "kubenet-calico": want FROM->TO`},
		{[]string{"--switches", "kubnet->calico"}, "--switches kubnet->calico: FROM: unknown provider kubnet; did you mean kubenet?"},
		{[]string{"--switches", "kubenet->calcio"}, "TO: unknown provider calcio; did you mean calico?"},
		{[]string{"--switches", "kubenet->kubenet"}, "FROM and TO are both kubenet"},
		{[]string{"--switches", "calico:mtu=1400->kubenet"}, "options are TO's"},
		{[]string{"--versions", "1.34"}, `Kubernetes version "1.34": want vMAJOR.MINOR.PATCH`},
		{[]string{"--versions", ""}, "--versions is empty"},
		{[]string{"--providers", "", "--switches", ""}, "the plan has no cells"},
		{[]string{"extra"}, "unknown command"},
	} {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			start := time.Now()
			out, code, err := runCLI(t, append([]string{"matrix", "plan"}, c.args...)...)
			if time.Since(start) > time.Second {
				t.Errorf("took %s", time.Since(start))
			}
			if code != exitCouldNotRun || err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("exit %d, err %v; want exit 2 and one line with %q", code, err, c.want)
			}
			if out != "" {
				t.Errorf("printed %q", out)
			}
		})
	}
	if _, code, err := runCLI(t, "matrix", "bogus"); code != exitCouldNotRun || err == nil {
		t.Errorf("matrix bogus: exit %d, %v", code, err)
	}
	for _, cmd := range [][]string{{"run", "--node-image", "n", "--probe-image", "p"}, {"switch", "--from", "kubenet", "--to", "calico"}} {
		art := filepath.Join(t.TempDir(), "art")
		_, code, err := runCLI(t, append(cmd, "--matrix-cell", "x:kubenet", "--artifacts", art)...)
		if code != exitCouldNotRun || err == nil || !strings.Contains(err.Error(), `--matrix-cell "x:kubenet": want INDEX:NAME`) {
			t.Errorf("%s --matrix-cell x:kubenet: exit %d, %v", cmd[0], code, err)
		}
		if _, err := os.Stat(art); err == nil {
			t.Errorf("%s: bad --matrix-cell left artifacts", cmd[0])
		}
	}
}

// Shards: for every N, the N shards hold every cell of the plan exactly once, as the plan has it.
func TestMatrixPlanShardsCoverEveryCell(t *testing.T) {
	flags := []string{"--providers", "kubenet calico flannel:backend=host-gw", "--switches", "kubenet->calico", "--versions", "v1.33.13 v1.34.4 v1.35.4"}
	all := planCLI(t, flags...)
	for n := 1; n <= all.Total; n++ {
		seen := map[int]int{}
		for i := 1; i <= n; i++ {
			s := planCLI(t, append(flags, "--shard", fmt.Sprintf("%d/%d", i, n))...)
			if s.Shard != fmt.Sprintf("%d/%d", i, n) || s.Total != all.Total || len(s.Cells) == 0 {
				t.Fatalf("shard %d/%d: %q, total %d, %d cells", i, n, s.Shard, s.Total, len(s.Cells))
			}
			for _, c := range s.Cells {
				seen[c.Index]++
				if !slices.Equal(c.Args, all.Cells[c.Index].Args) || c.Name != all.Cells[c.Index].Name {
					t.Errorf("shard %d/%d: cell %d is %+v, the plan's %+v", i, n, c.Index, c, all.Cells[c.Index])
				}
			}
		}
		for _, c := range all.Cells {
			if seen[c.Index] != 1 {
				t.Errorf("N=%d: cell %s in %d shards", n, c.Name, seen[c.Index])
			}
		}
	}
}

// cellResult is a synthetic result of a cell: what run or switch with the cell's args would
// record, with checks whose verdicts differ by cell, so that every column is its own.
func cellResult(c matrix.Cell, withCell bool) results.Result {
	seen := []results.Observation{{From: "n1", To: "n2", Observed: "ok", OK: true}}
	r := results.Result{
		RunID: "nc-" + c.Name, Provider: c.ProviderName, Networking: c.Networking, SwitchFrom: c.From, Platform: "kind", KubernetesVersion: c.KubernetesVersion,
		Nodes: 3, Started: time.Date(2026, 12, 3, 10, c.Index, 0, 0, time.UTC),
		Checks: []results.Check{
			{ID: "dns/a-record", Suite: "dns", Name: "a-record", Status: results.Passed, Observations: seen},
			{ID: "connectivity/pod-to-pod", Suite: "connectivity", Name: "pod-to-pod", Status: results.Passed, Observations: seen},
		},
	}
	if len(c.ProviderOptions) > 0 {
		r.ProviderOptions = map[string]string{}
		for _, kv := range c.ProviderOptions {
			k, v, _ := strings.Cut(kv, "=")
			r.ProviderOptions[k] = v
		}
	}
	switch c.Index % 3 {
	case 1:
		r.Checks[1].Status, r.Checks[1].Reason, r.Checks[1].Observations = results.Failed, "timeout after "+c.Name, nil
	case 2:
		r.Checks = append(r.Checks, results.Check{ID: "policy/deny-" + c.ProviderName, Suite: "policy", Name: "deny", Status: results.Skipped, Reason: "not-applicable: " + c.Name})
	}
	if withCell {
		r.Cell = &results.Cell{Index: c.Index, Name: c.Name}
	}
	return r
}

// mergedMatrix runs `report merge` on args and returns matrix.json with its generation time
// and each column's source reduced to the cell directory's name (the shards' results lie
// elsewhere than the unsharded run's), and matrix.md.
func mergedMatrix(t *testing.T, args ...string) (string, string) {
	t.Helper()
	out := t.TempDir()
	if o, code, err := runCLI(t, append([]string{"report", "merge", "--out", out}, args...)...); code != 0 || err != nil {
		t.Fatalf("report merge: exit %d, %v\n%s", code, err, o)
	}
	b, err := os.ReadFile(filepath.Join(out, "matrix.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m reports.Matrix
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	m.Generated = time.Time{}
	for i := range m.Runs {
		m.Runs[i].Source = filepath.Base(filepath.Dir(m.Runs[i].Source))
	}
	var j bytes.Buffer
	if err := m.WriteJSON(&j); err != nil {
		t.Fatal(err)
	}
	md, err := os.ReadFile(filepath.Join(out, "matrix.md"))
	if err != nil {
		t.Fatal(err)
	}
	return j.String(), string(md)
}

// TestShardedMergeIsTheUnshardedMatrix: a plan split into N shards, each shard's cells run on
// "a machine of its own" (its own directory), merged in shuffled order and grouping, makes the
// same matrix (JSON and Markdown) as all cells run in one directory, in the plan's order.
func TestShardedMergeIsTheUnshardedMatrix(t *testing.T) {
	flags := []string{"--providers", "kubenet calico flannel:backend=host-gw kubenet", "--switches", "kubenet->calico:mtu=1400", "--versions", "v1.33.13 v1.34.4"}
	all := planCLI(t, flags...)
	const n = 3
	base := t.TempDir()
	write := func(dir string, c matrix.Cell, withCell bool) string {
		return writeResult(t, filepath.Join(base, dir, c.Name), cellResult(c, withCell))
	}
	for _, c := range all.Cells {
		write("unsharded", c, true)
	}
	wantJSON, wantMD := mergedMatrix(t, filepath.Join(base, "unsharded"))
	var runs []reports.Run
	var m reports.Matrix
	if err := json.Unmarshal([]byte(wantJSON), &m); err != nil {
		t.Fatal(err)
	}
	runs = m.Runs
	if len(runs) != all.Total {
		t.Fatalf("unsharded matrix has %d columns, the plan %d cells", len(runs), all.Total)
	}
	for i, r := range runs {
		if r.Cell != all.Cells[i].Name {
			t.Errorf("column %d is cell %q; want the plan's order (%s)", i, r.Cell, all.Cells[i].Name)
		}
		// Two versions: every label names its version; the kops value comes from the result.
		if !strings.Contains(r.Label, " @ "+all.Cells[i].KubernetesVersion) || r.Networking == "" || r.Networking != all.Cells[i].Networking {
			t.Errorf("column %d: label %q, networking %q; want the version %s in the label and networking %q", i, r.Label, r.Networking, all.Cells[i].KubernetesVersion, all.Cells[i].Networking)
		}
	}
	if got := runs[0].Label + "|" + runs[3].Label; got != "kubenet @ v1.33.13|kubenet @ v1.33.13 #2" {
		t.Errorf("the provider that ran twice on one version: %s", got)
	}

	var shardDirs, files, bare []string
	for i := 1; i <= n; i++ {
		s := planCLI(t, append(flags, "--shard", fmt.Sprintf("%d/%d", i, n))...)
		dir := fmt.Sprintf("shard-%d", i)
		shardDirs = append(shardDirs, filepath.Join(base, dir))
		for _, c := range s.Cells {
			files = append(files, write(dir, c, true))
			bare = append(bare, write("bare-"+dir, c, false))
		}
	}
	rng := rand.New(rand.NewSource(17))
	for round := 0; round < 5; round++ {
		rng.Shuffle(len(shardDirs), func(i, j int) { shardDirs[i], shardDirs[j] = shardDirs[j], shardDirs[i] })
		rng.Shuffle(len(files), func(i, j int) { files[i], files[j] = files[j], files[i] })
		for name, args := range map[string][]string{"shard directories": shardDirs, "result files": files} {
			gotJSON, gotMD := mergedMatrix(t, args...)
			if gotJSON != wantJSON {
				t.Errorf("round %d, %s %q: matrix.json differs from the unsharded one\n got %s\nwant %s", round, name, args, gotJSON, wantJSON)
			}
			if gotMD != wantMD {
				t.Errorf("round %d, %s: matrix.md differs from the unsharded one\n got %s\nwant %s", round, name, gotMD, wantMD)
			}
		}
	}
	// Without the cells recorded, the same results in shard order make another matrix (the
	// columns, and the "#2" of the provider that ran twice per version, follow the order given):
	// what the recorded cell is for.
	if gotJSON, _ := mergedMatrix(t, bare...); gotJSON == wantJSON {
		t.Error("results without cells merged in shard order gave the plan's matrix: the test shows nothing")
	}
}
