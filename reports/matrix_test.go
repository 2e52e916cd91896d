package reports

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/netconform/netconform/framework/results"
)

func matrixFixture() []Source {
	check := func(id, status, reason string) results.Check {
		suite, name, _ := strings.Cut(id, "/")
		c := results.Check{ID: id, Suite: suite, Name: name, Status: results.Status(status), Reason: reason}
		if c.Status == results.Passed {
			c.Observations = []results.Observation{{From: "n1", To: "n2", Observed: "ok", OK: true}}
		}
		return c
	}
	return []Source{
		{Path: "a/result.json", Result: &results.Result{Provider: "kubenet", Platform: "kind", KubernetesVersion: "v1.34.4", Nodes: 3, Complete: true,
			Checks: []results.Check{check("dns/udp", "passed", ""), check("routes/node-routes", "passed", "")}}},
		{Path: "b/result.json", Result: &results.Result{Provider: "flannel", ProviderOptions: map[string]string{"backend": "host-gw"}, Platform: "kind", KubernetesVersion: "v1.34.4", Complete: true,
			Checks: []results.Check{check("dns/udp", "failed", "timeout"), check("routes/node-routes", "skipped", "not-applicable: flannel does not program routes")}}},
		{Path: "c/result.json", Result: &results.Result{Provider: "cilium", Platform: "kind", Complete: true, Error: "provider \"cilium\" cannot be installed on kind: /proc/modules missing"}},
		{Path: "d/result.json", Result: &results.Result{Provider: "kubenet", Platform: "kind", Complete: true,
			Checks: []results.Check{check("dns/udp", "passed", "")}}},
	}
}

func TestBuildMatrix(t *testing.T) {
	m := BuildMatrix(matrixFixture(), time.Unix(0, 0))
	labels := []string{}
	for _, r := range m.Runs {
		labels = append(labels, r.Label)
	}
	if got := strings.Join(labels, "|"); got != "kubenet|flannel (backend=host-gw)|cilium|kubenet #2" {
		t.Errorf("labels = %s", got)
	}
	if m.Runs[1].Verdict != "FAIL" || m.Runs[2].Verdict != "COULD NOT RUN" || m.Runs[0].Verdict != "PASS" {
		t.Errorf("verdicts: %+v", m.Runs)
	}
	if len(m.Checks) != 2 || m.Checks[0].ID != "dns/udp" || m.Checks[1].ID != "routes/node-routes" {
		t.Fatalf("rows: %+v", m.Checks)
	}
	for _, row := range m.Checks {
		if len(row.Cells) != 4 {
			t.Fatalf("%s: %d cells, want one per run", row.ID, len(row.Cells))
		}
	}
	routes := m.Checks[1].Cells
	if routes[1].Status != results.Skipped || routes[2].Status != "" || routes[3].Status != "" {
		t.Errorf("routes cells: %+v", routes)
	}
	var buf bytes.Buffer
	if err := m.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	var back Matrix
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil || len(back.Runs) != 4 || back.SchemaVersion != MatrixSchemaVersion {
		t.Errorf("JSON round trip: %v %+v", err, back)
	}
}

func TestMatrixMarkdownNeverShowsASkipAsAPass(t *testing.T) {
	var buf bytes.Buffer
	if err := BuildMatrix(matrixFixture(), time.Unix(0, 0)).WriteMarkdown(&buf); err != nil {
		t.Fatal(err)
	}
	md := buf.String()
	for _, want := range []string{
		"| routes | node-routes | pass | skip [3] | not run [2] | not run |",
		"| dns | udp | pass | **FAIL** | not run [2] | pass |",
		"| cilium | kind | - | - | - | COULD NOT RUN [2] | 0 | 0 | 0 |",
		"| flannel (backend=host-gw) | kind | v1.34.4 | - | - | FAIL [1] | 0 | 1 | 1 |",
		"1. flannel (backend=host-gw): 1 check(s) failed: dns/udp",
		"2. cilium: could not run: provider \"cilium\" cannot be installed on kind: /proc/modules missing; no check ran",
		"3. not-applicable: flannel does not program routes",
		"| flannel (backend=host-gw) | kind | v1.34.4 |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("matrix.md lacks %q:\n%s", want, md)
		}
	}
}

func TestEmptyMatrix(t *testing.T) {
	var buf bytes.Buffer
	if err := BuildMatrix(nil, time.Unix(0, 0)).WriteMarkdown(&buf); err != nil || !strings.Contains(buf.String(), "No results") {
		t.Errorf("%v %s", err, buf.String())
	}
}
