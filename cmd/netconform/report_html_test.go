package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/netconform/netconform/framework/results"
)

func writeResult(t *testing.T, dir string, r results.Result) string {
	t.Helper()
	rec, err := results.NewRecorder(filepath.Join(dir, "result.json"), r)
	if err != nil {
		t.Fatal(err)
	}
	if err := rec.Finish(nil); err != nil {
		t.Fatal(err)
	}
	return rec.Path()
}

// report html: one result is its page; several make a matrix page linking a page per run; bad
// input writes nothing.
func TestReportHTML(t *testing.T) {
	seen := []results.Observation{{From: "n1", To: "n2", Observed: "ok", OK: true}}
	a := writeResult(t, t.TempDir(), results.Result{RunID: "a", Provider: "kubenet", Platform: "kind",
		Checks: []results.Check{{ID: "dns/x", Suite: "dns", Name: "x", Status: results.Passed, Observations: seen}}})
	b := writeResult(t, t.TempDir(), results.Result{RunID: "b", Provider: "calico", SwitchFrom: "flannel", Platform: "kind",
		Checks: []results.Check{{ID: "dns/x", Suite: "dns", Name: "x", Status: results.Failed, Reason: "timeout"}}})

	one := t.TempDir()
	if _, code, err := runCLI(t, "report", "html", "--out", one, a); code != 0 || err != nil {
		t.Fatalf("one result: exit %d, %v", code, err)
	}
	page, err := os.ReadFile(filepath.Join(one, "report.html"))
	if err != nil || !strings.Contains(string(page), `data-outcome="PASS"`) {
		t.Fatalf("one result's page: %v\n%.300s", err, page)
	}

	many := t.TempDir()
	out, code, err := runCLI(t, "report", "html", "--out", many, a, filepath.Dir(b))
	if code != 0 || err != nil {
		t.Fatalf("two results: exit %d, %v", code, err)
	}
	index, _ := os.ReadFile(filepath.Join(many, "report.html"))
	for _, want := range []string{`data-page="matrix"`, `href="runs/01-kubenet.html"`, `href="runs/02-flannel-calico.html"`} {
		if !strings.Contains(string(index), want) {
			t.Errorf("matrix page lacks %s\n%s", want, out)
		}
	}
	run2, err := os.ReadFile(filepath.Join(many, "runs", "02-flannel-calico.html"))
	if err != nil || !strings.Contains(string(run2), `data-outcome="FAIL"`) || !strings.Contains(string(run2), `href="../report.html"`) {
		t.Errorf("second run's page: %v", err)
	}

	damaged := filepath.Join(t.TempDir(), "result.json")
	if err := os.WriteFile(damaged, []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, args := range map[string][]string{
		"no --out":        {"report", "html", a},
		"no result":       {"report", "html", "--out", "OUT"},
		"missing file":    {"report", "html", "--out", "OUT", a, "/nonexistent/result.json"},
		"damaged result":  {"report", "html", "--out", "OUT", a, damaged},
		"empty directory": {"report", "html", "--out", "OUT", t.TempDir()},
	} {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "out")
			for i := range args {
				if args[i] == "OUT" {
					args[i] = dir
				}
			}
			_, code, err := runCLI(t, args...)
			if code != exitCouldNotRun || err == nil {
				t.Fatalf("exit %d, err %v: want 2 with a message", code, err)
			}
			if _, statErr := os.Stat(dir); statErr == nil {
				t.Errorf("bad input left %s behind", dir)
			}
		})
	}
}
