package reports

import (
	"strings"
	"testing"

	"github.com/netconform/netconform/framework/results"
)

func TestMarkdownNetworkPolicySection(t *testing.T) {
	var b strings.Builder
	if err := Markdown(&b, policyFixture()); err != nil {
		t.Fatal(err)
	}
	md := b.String()
	for _, want := range []string{
		"## NetworkPolicy\n\nscenarios: 4 of 6 passed (1 skipped)\n\n| tag | passed | rate |\n|---|---|---|\n",
		"| ingress | 2/3 | 67% |\n| egress | 1/1 | 100% |\n",
		"| ports | 0/1 | 0% |\n| update | 0/1 | 0% |\n| service | 0/0 | - |\n| host | 0/0 | - |\n",
		"in effect: p50 2 s, p95 9 s, p99 9 s (4 samples); removed: p50 0.5 s, p95 1 s, p99 1 s (2 samples)\n",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("summary lacks %q:\n%s", want, md)
		}
	}
	// The section comes before the checks, and the checks are all still listed.
	if strings.Index(md, "## NetworkPolicy") > strings.Index(md, "## Checks") {
		t.Errorf("NetworkPolicy section after the checks:\n%s", md)
	}
	if !strings.Contains(md, "| pass | netpol | deny-ingress |") || !strings.Contains(md, "### FAILED netpol/update") {
		t.Errorf("checks table changed:\n%s", md)
	}
}

func TestMarkdownNetworkPolicyNotMeasured(t *testing.T) {
	var b strings.Builder
	_ = Markdown(&b, &results.Result{Complete: true, Checks: []results.Check{scenario("one", results.Passed, tags("egress"), inEffectMeasurement, 0.25)}})
	if want := "in effect: p50 0.25 s, p95 0.25 s, p99 0.25 s (1 sample); removed: not measured\n"; !strings.Contains(b.String(), want) {
		t.Errorf("summary lacks %q:\n%s", want, b.String())
	}
}

// A run without netpol checks renders exactly as before: no section, no trace of one.
func TestMarkdownWithoutNetworkPolicy(t *testing.T) {
	r := policyFixture()
	var others []results.Check
	for _, c := range r.Checks {
		if c.Suite != "netpol" {
			others = append(others, c)
		}
	}
	r.Checks = others
	var b strings.Builder
	_ = Markdown(&b, r)
	if strings.Contains(b.String(), "NetworkPolicy") || strings.Contains(b.String(), "scenarios:") {
		t.Errorf("summary of a run without netpol checks:\n%s", b.String())
	}
}
