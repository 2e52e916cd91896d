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
		{Path: "a/result.json", Result: &results.Result{Provider: "kubenet", Networking: "kubenet", Platform: "kind", KubernetesVersion: "v1.34.4", KopsStanding: "supported", Nodes: 3, Complete: true,
			Checks: []results.Check{check("dns/udp", "passed", ""), check("routes/node-routes", "passed", "")}}},
		{Path: "b/result.json", Result: &results.Result{Provider: "flannel", Networking: "flannel", ProviderOptions: map[string]string{"backend": "host-gw"}, Platform: "kind", KubernetesVersion: "v1.34.4", Complete: true,
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
		"| run | kops --networking | platform | Kubernetes | kops on it | nodes | kernel | verdict | passed | failed | skipped |",
		"| kubenet | kubenet | kind | v1.34.4 | supported | 3 | - | PASS | 2 | 0 | 0 |",
		"| cilium | - | kind | - | - | - | - | COULD NOT RUN [2] | 0 | 0 | 0 |",
		"| flannel (backend=host-gw) | flannel | kind | v1.34.4 | - | - | - | FAIL [1] | 0 | 1 | 1 |",
		"1. flannel (backend=host-gw): 1 check(s) failed: dns/udp",
		"2. cilium: could not run: provider \"cilium\" cannot be installed on kind: /proc/modules missing; no check ran",
		"3. not-applicable: flannel does not program routes",
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

// Across Kubernetes versions every label names its version, so the same provider on two
// versions is two columns of their own; " #N" is left to runs that repeat provider, options,
// switch and version. A run that records no version (it could not start a cluster) names none.
func TestLabelsAcrossVersions(t *testing.T) {
	run := func(provider, from, version string, opts map[string]string) Source {
		return Source{Result: &results.Result{Provider: provider, SwitchFrom: from, ProviderOptions: opts, Platform: "kind", KubernetesVersion: version, Complete: true}}
	}
	srcs := []Source{
		run("kubenet", "", "v1.33.13", nil),
		run("kubenet", "", "v1.35.4", nil),
		run("kubenet", "", "v1.35.4", nil),
		run("flannel", "", "v1.35.4", map[string]string{"backend": "host-gw"}),
		run("calico", "kubenet", "v1.33.13", nil),
		run("calico", "kubenet", "v1.35.4", nil),
		run("kubenet", "", "", nil),
		run("kubenet", "", "", nil),
	}
	m := BuildMatrix(srcs, time.Unix(0, 0))
	var labels []string
	for _, r := range m.Runs {
		labels = append(labels, r.Label)
	}
	want := "kubenet @ v1.33.13|kubenet @ v1.35.4|kubenet @ v1.35.4 #2|flannel (backend=host-gw) @ v1.35.4|" +
		"kubenet -> calico @ v1.33.13|kubenet -> calico @ v1.35.4|kubenet|kubenet #2"
	if got := strings.Join(labels, "|"); got != want {
		t.Errorf("labels\n got %s\nwant %s", got, want)
	}
	var buf bytes.Buffer
	if err := m.WriteMarkdown(&buf); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "| kubenet @ v1.35.4 #2 | - | kind | v1.35.4 |") {
		t.Errorf("matrix.md lacks the versioned duplicate's run row:\n%s", buf.String())
	}

	// One version, or one beside runs that record none: the labels of a single-version matrix.
	one := BuildMatrix([]Source{run("kubenet", "", "v1.35.4", nil), run("kubenet", "", "", nil), run("kubenet", "", "v1.35.4", nil)}, time.Unix(0, 0))
	if got := one.Runs[0].Label + "|" + one.Runs[1].Label + "|" + one.Runs[2].Label; got != "kubenet|kubenet #2|kubenet #3" {
		t.Errorf("one version: labels %s", got)
	}
}

// The kops --networking value a run recorded is the matrix's too: in the JSON, and a column of
// matrix.md's runs, where the provider as typed ("kuberouter") need not be one.
func TestMatrixNetworking(t *testing.T) {
	srcs := []Source{
		{Result: &results.Result{Provider: "kuberouter", Networking: "kube-router", Platform: "kind", KubernetesVersion: "v1.35.4", Complete: true}},
		{Result: &results.Result{Provider: "flannel-udp", Networking: "flannel-udp", Platform: "kind", KubernetesVersion: "v1.35.4", Complete: true}},
	}
	m := BuildMatrix(srcs, time.Unix(0, 0))
	var buf bytes.Buffer
	if err := m.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	var back Matrix
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil || back.Runs[0].Networking != "kube-router" || back.Runs[1].Networking != "flannel-udp" {
		t.Errorf("JSON round trip: %v %+v", err, back.Runs)
	}
	buf.Reset()
	if err := m.WriteMarkdown(&buf); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"| run | kops --networking | platform |",
		"| kuberouter | kube-router | kind | v1.35.4 |",
		"| flannel-udp | flannel-udp | kind | v1.35.4 |",
	} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("matrix.md lacks %q:\n%s", want, buf.String())
		}
	}
}

func TestKopsLine(t *testing.T) {
	r := &results.Result{Provider: "canal", Networking: "canal", KubernetesVersion: "v1.36.3", KopsStanding: "not supported from Kubernetes 1.28"}
	if got, want := KopsLine(r), "kops standing of canal on Kubernetes v1.36.3: not supported from Kubernetes 1.28."; got != want {
		t.Errorf("KopsLine = %q, want %q", got, want)
	}
	var md bytes.Buffer
	if err := Markdown(&md, r); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(md.String(), "kops standing of canal on Kubernetes v1.36.3") {
		t.Errorf("summary lacks kops' standing:\n%s", md.String())
	}
	if KopsLine(&results.Result{Provider: "calico"}) != "" {
		t.Error("a result without kops' standing gets a line")
	}
}
