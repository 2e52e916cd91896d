package reports

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/netconform/netconform/framework/results"
)

// netpolMatrixFixture: cilium with the fixture's scenarios, kubenet without any, flannel whose
// scenarios measured no latency.
func netpolMatrixFixture() []Source {
	cilium := policyFixture()
	cilium.Provider, cilium.Platform = "cilium", "kind"
	return []Source{
		{Path: "a/result.json", Result: cilium},
		{Path: "b/result.json", Result: &results.Result{Provider: "kubenet", Platform: "kind", Complete: true,
			Checks: []results.Check{{ID: "dns/udp", Suite: "dns", Status: results.Passed, Observations: []results.Observation{{OK: true}}}}}},
		{Path: "c/result.json", Result: &results.Result{Provider: "flannel", ProviderOptions: map[string]string{"backend": "vxlan"}, Platform: "kind", Complete: true,
			Checks: []results.Check{scenario("deny-ingress", results.Failed, tags("ingress", "ports")), scenario("host", results.Skipped, tags("host"))}}},
	}
}

func TestMatrixNetworkPolicyJSON(t *testing.T) {
	m := BuildMatrix(netpolMatrixFixture(), time.Unix(0, 0))
	if np := m.Runs[0].NetworkPolicy; np == nil || np.Passed != 4 || np.Total() != 6 || np.InEffectSeconds.P95 != 9 {
		t.Errorf("cilium's NetworkPolicy: %+v", np)
	}
	if np := m.Runs[1].NetworkPolicy; np != nil {
		t.Errorf("kubenet ran no netpol check and has %+v", np)
	}
	var buf bytes.Buffer
	if err := m.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	var raw struct {
		Runs []map[string]json.RawMessage `json:"runs"`
	}
	if err := json.Unmarshal(buf.Bytes(), &raw); err != nil {
		t.Fatal(err)
	}
	if _, ok := raw.Runs[1]["networkPolicy"]; ok {
		t.Errorf("kubenet's run has a networkPolicy field:\n%s", buf.String())
	}
	var back Matrix
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if np := back.Runs[2].NetworkPolicy; np == nil || np.Failed != 1 || np.Skipped != 1 || np.Tags[4] != (TagCount{Tag: "ports", Total: 1}) {
		t.Errorf("flannel's NetworkPolicy after a JSON round trip: %+v", np)
	}
}

func TestMatrixMarkdownNetworkPolicy(t *testing.T) {
	var buf bytes.Buffer
	if err := BuildMatrix(netpolMatrixFixture(), time.Unix(0, 0)).WriteMarkdown(&buf); err != nil {
		t.Fatal(err)
	}
	md := buf.String()
	_, section, ok := strings.Cut(md, "\n## NetworkPolicy\n\n")
	if !ok {
		t.Fatalf("no NetworkPolicy section:\n%s", md)
	}
	for _, want := range []string{
		"| run | scenarios | ingress | egress | namespaces | ipblock | ports | update | service | host | in effect p50 / p95 / p99 |\n|---|---|---|---|---|---|---|---|---|---|---|\n",
		"| cilium | 4/6 | 2/3 | 1/1 | 1/1 | 1/1 | 0/1 | 0/1 | - | - | 2 / 9 / 9 s |\n",
		"| flannel (backend=vxlan) | 0/1 | 0/1 | - | - | - | 0/1 | - | - | - | - |\n",
	} {
		if !strings.Contains(section, want) {
			t.Errorf("NetworkPolicy section lacks %q:\n%s", want, section)
		}
	}
	if strings.Contains(section, "| kubenet |") {
		t.Errorf("kubenet ran no netpol check and has a row:\n%s", section)
	}
	// The section sits between the checks and the notes.
	if !strings.Contains(md, "not run: the run ended before its checks, or its label filter left the check out.\n\n## NetworkPolicy") ||
		!strings.Contains(section, "\n## Notes\n") {
		t.Errorf("section out of place:\n%s", md)
	}
}

// No run with netpol checks, no section: the existing matrices render as before.
func TestMatrixMarkdownWithoutNetworkPolicy(t *testing.T) {
	var buf bytes.Buffer
	if err := BuildMatrix(matrixFixture(), time.Unix(0, 0)).WriteMarkdown(&buf); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "NetworkPolicy") {
		t.Errorf("matrix without netpol checks:\n%s", buf.String())
	}
}
