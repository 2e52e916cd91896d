package lifecycle

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/netconform/netconform/framework/results"
)

// TestBefore runs a Before scenario whose check is a shell script writing a result: its perf
// checks join the run's result renamed and labelled, its other checks do not; a check that
// writes no result, or one without perf checks, fails the phase but not the scenario.
func TestBefore(t *testing.T) {
	dir := t.TempDir()
	written := &results.Result{SchemaVersion: results.SchemaVersion, Checks: []results.Check{
		{ID: "perf/cross", Suite: "perf", Name: "pod to pod across nodes", Labels: []string{"perf"}, Status: results.Passed,
			Measurements: []results.Measurement{{Name: "TCP_STREAM throughput", Value: 1}}},
		{ID: "dns/x", Suite: "dns", Name: "x", Labels: []string{"dns"}, Status: results.Passed},
	}}
	b, err := json.Marshal(written)
	if err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(dir, "src.json")
	if err := os.WriteFile(src, b, 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(t *testing.T, script string) (*results.Result, error) {
		rec, err := results.NewRecorder(filepath.Join(t.TempDir(), "result.json"), results.Result{RunID: "sw"})
		if err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(t.TempDir(), "perf-before")
		var gotKubeconfig string
		s := &Before{Phase: "perf before the switch", Stage: "(flannel, before the switch)", Label: "perf", Dir: out, Timeout: 10 * time.Second,
			Command: func(ctx context.Context, kubeconfig string) *exec.Cmd {
				gotKubeconfig = kubeconfig
				return exec.CommandContext(ctx, "sh", "-c", script, "sh", out, src)
			}}
		err = s.Run(context.Background(), &Env{Platform: &fakePlatform{kubeconfig: "/k/config"}, Recorder: rec, Out: io.Discard})
		if gotKubeconfig != "/k/config" {
			t.Errorf("the check was given kubeconfig %q", gotKubeconfig)
		}
		r := rec.Snapshot()
		return &r, err
	}

	t.Run("perf checks taken in", func(t *testing.T) {
		r, err := run(t, `mkdir -p "$1" && cp "$2" "$1/result.json"; exit 1`)
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Checks) != 1 {
			t.Fatalf("took %d checks, want the perf one: %+v", len(r.Checks), r.Checks)
		}
		c := r.Checks[0]
		if c.ID != "before/perf/cross" || c.Name != "pod to pod across nodes (flannel, before the switch)" || !slices.Contains(c.Labels, results.BeforeLabel) || !slices.Contains(c.Labels, "perf") {
			t.Errorf("taken as %+v", c)
		}
		if len(r.Phases) != 1 || r.Phases[0].Status != results.Passed {
			t.Errorf("phases %+v, want one passed (the check's own exit 1 is its checks' verdict)", r.Phases)
		}
	})
	t.Run("no result", func(t *testing.T) {
		r, err := run(t, `echo could not run >&2; exit 2`)
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Phases) != 1 || r.Phases[0].Status != results.Failed || !strings.Contains(r.Phases[0].Error, "no result") {
			t.Errorf("phases %+v, want one failed naming the missing result", r.Phases)
		}
	})
	t.Run("nothing measured", func(t *testing.T) {
		r, err := run(t, `mkdir -p "$1" && echo '{"schemaVersion":1,"checks":[],"error":"probe agents: refused"}' > "$1/result.json"`)
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Phases) != 1 || r.Phases[0].Status != results.Failed || !strings.Contains(r.Phases[0].Error, "no check labelled perf ran: probe agents: refused") {
			t.Errorf("phases %+v, want one failed saying nothing was measured and why", r.Phases)
		}
	})
}
