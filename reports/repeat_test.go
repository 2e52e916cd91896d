package reports

import (
	"strings"
	"testing"

	"github.com/netconform/netconform/framework/results"
)

func TestPassRates(t *testing.T) {
	seen := []results.Observation{{Observed: "ok", OK: true}}
	run := func(status results.Status, reason string) *results.Result {
		return &results.Result{Checks: []results.Check{
			{ID: "a/flaky", Status: status, Reason: reason, Observations: seen},
			{ID: "a/solid", Status: results.Passed, Observations: seen},
		}}
	}
	rates := PassRates([]*results.Result{run(results.Passed, ""), run(results.Failed, "x -> y tcp: timeout\nmore"), run(results.Passed, ""), run(results.Failed, "x -> y tcp: timeout")})
	if len(rates) != 2 || rates[0].ID != "a/flaky" || rates[0].Passed != 2 || rates[0].Failed != 2 || rates[0].Rate() != 0.5 {
		t.Fatalf("rates: %+v", rates)
	}
	if len(rates[0].Reasons) != 1 || rates[0].Reasons[0] != "x -> y tcp: timeout" {
		t.Errorf("reasons: %q", rates[0].Reasons)
	}
	var b strings.Builder
	if err := RepeatMarkdown(&b, rates, 4); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "| a/flaky | 2 | 2 | 0 | 50% |") || !strings.Contains(b.String(), "| a/solid | 4 | 0 | 0 | 100% |") {
		t.Errorf("markdown:\n%s", b.String())
	}
}
