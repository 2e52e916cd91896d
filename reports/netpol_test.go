package reports

import (
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/netconform/netconform/framework/results"
)

// scenario is a NetworkPolicy check: labelled netpol and tags, passed ones with an observation,
// and the measurements given as name/seconds pairs.
func scenario(id string, status results.Status, tags []string, seconds ...any) results.Check {
	c := results.Check{ID: "netpol/" + id, Suite: "netpol", Name: id, Status: status, Labels: append([]string{"netpol"}, tags...)}
	if status == results.Passed {
		c.Observations = []results.Observation{{From: "a", To: "b", Observed: "ok", OK: true}}
	}
	for i := 0; i+1 < len(seconds); i += 2 {
		c.Measurements = append(c.Measurements, results.Measurement{Name: seconds[i].(string), Value: seconds[i+1].(float64), Unit: "s"})
	}
	return c
}

func tags(ts ...string) []string { return ts }

// policyFixture: 4 passed, 2 failed (one of them left running), 1 skipped, and checks that are
// no scenarios.
func policyFixture() *results.Result {
	in, out := inEffectMeasurement, removedMeasurement
	bare := scenario("bare-pass", results.Passed, tags("ports"))
	bare.Observations = nil
	return &results.Result{Complete: true, Checks: []results.Check{
		scenario("deny-ingress", results.Passed, tags("ingress"), in, 1.5, out, 0.5),
		scenario("deny-egress", results.Passed, tags("egress", "extra-label"), in, 3.0),
		scenario("ns-selector", results.Passed, tags("ingress", "namespaces", "ingress"), in, 2.0, out, 1.0),
		scenario("no-cells", results.Passed, tags("ipblock")),
		scenario("update", results.Failed, tags("update", "ingress"), in, 9.0),
		bare,
		scenario("host", results.Skipped, tags("host"), in, 100.0),
		{ID: "policy/deny", Suite: "policy", Status: results.Passed, Labels: []string{"ingress", "networkpolicy"},
			Measurements: []results.Measurement{{Name: in, Value: 50, Unit: "s"}}},
		{ID: "dns/udp", Suite: "dns", Status: results.Failed},
	}}
}

func TestPolicySummaryCounts(t *testing.T) {
	s, ok := PolicySummary(policyFixture())
	if !ok {
		t.Fatal("no NetworkPolicy summary for a run with netpol checks")
	}
	// The pass with nothing observed is a failure, as in results.Judge.
	if s.Passed != 4 || s.Failed != 2 || s.Skipped != 1 || s.Total() != 6 {
		t.Errorf("passed %d failed %d skipped %d total %d, want 4 2 1 6", s.Passed, s.Failed, s.Skipped, s.Total())
	}
	var got []string
	for _, tc := range s.Tags {
		got = append(got, tc.Tag+" "+tagCell(tc))
	}
	// ns-selector carries ingress twice and counts once; the skipped host scenario counts in
	// neither the passed nor the total; the non-netpol policy check is no scenario.
	want := "ingress 2/3|egress 1/1|namespaces 1/1|ipblock 1/1|ports 0/1|update 0/1|service -|host -"
	if strings.Join(got, "|") != want {
		t.Errorf("tags\n got %s\nwant %s", strings.Join(got, "|"), want)
	}
	// In effect: 1.5, 3, 2 from passes and 9 from the failed update (it measured one); not the
	// skipped host scenario's 100, nor the non-netpol check's 50.
	if s.InEffectSeconds != (Percentiles{Samples: 4, P50: 2, P95: 9, P99: 9}) {
		t.Errorf("in effect %+v", s.InEffectSeconds)
	}
	if s.RemovedSeconds != (Percentiles{Samples: 2, P50: 0.5, P95: 1, P99: 1}) {
		t.Errorf("removed %+v", s.RemovedSeconds)
	}
}

func TestPolicySummaryAbsent(t *testing.T) {
	r := &results.Result{Checks: []results.Check{{ID: "policy/deny", Labels: []string{"ingress", "networkpolicy"}, Status: results.Passed}}}
	if s, ok := PolicySummary(r); ok {
		t.Errorf("a run without netpol checks has a summary: %+v", s)
	}
	if _, ok := PolicySummary(&results.Result{}); ok {
		t.Error("a run without checks has a summary")
	}
	// A run whose scenarios were all skipped (kubenet) has nothing to sum up.
	if s, ok := PolicySummary(&results.Result{Checks: []results.Check{scenario("x", results.Skipped, tags("host"))}}); ok {
		t.Errorf("all skipped: a summary %+v", s)
	}
	// Every step's latency is a sample: a scenario of two steps gives two.
	c := scenario("two", results.Passed, tags("update"))
	c.Measurements = []results.Measurement{{Name: inEffectMeasurement, Value: 1, Unit: "s"}, {Name: inEffectMeasurement, Value: 3, Unit: "s"}}
	if s, ok := PolicySummary(&results.Result{Checks: []results.Check{c}}); !ok || s.InEffectSeconds.Samples != 2 || s.InEffectSeconds.P99 != 3 {
		t.Errorf("two steps: %v %+v", ok, s.InEffectSeconds)
	}
}

// A measurement named like the latency but in another unit is not the latency.
func TestPolicySummaryOnlySeconds(t *testing.T) {
	c := scenario("ms", results.Passed, tags("ingress"))
	c.Measurements = []results.Measurement{{Name: inEffectMeasurement, Value: 1200, Unit: "ms"}, {Name: inEffectMeasurement, Value: 1.2, Unit: "s"}}
	s, _ := PolicySummary(&results.Result{Checks: []results.Check{c}})
	if s.InEffectSeconds != (Percentiles{Samples: 1, P50: 1.2, P95: 1.2, P99: 1.2}) {
		t.Errorf("in effect %+v", s.InEffectSeconds)
	}
}

func TestNearestRankPercentiles(t *testing.T) {
	hundred := make([]float64, 100)
	for i := range hundred {
		hundred[i] = float64(i + 1)
	}
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(hundred), func(i, j int) { hundred[i], hundred[j] = hundred[j], hundred[i] })
	ten := []float64{10, 9, 8, 7, 6, 5, 4, 3, 2, 1}
	for _, tc := range []struct {
		name   string
		sample []float64
		want   Percentiles
	}{
		{"none", nil, Percentiles{}},
		{"one sample is every percentile", []float64{4.2}, Percentiles{Samples: 1, P50: 4.2, P95: 4.2, P99: 4.2}},
		{"two samples: p50 the lower, p95 and p99 the higher", []float64{3, 1}, Percentiles{Samples: 2, P50: 1, P95: 3, P99: 3}},
		{"ten samples: p95 rounds up to the 10th", ten, Percentiles{Samples: 10, P50: 5, P95: 10, P99: 10}},
		{"100 samples: the 50th, 95th and 99th", hundred, Percentiles{Samples: 100, P50: 50, P95: 95, P99: 99}},
		{"101 samples: ranks 51, 96, 100", append(append([]float64{}, hundred...), 101), Percentiles{Samples: 101, P50: 51, P95: 96, P99: 100}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := append([]float64(nil), tc.sample...)
			if got := percentiles(in); got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
			for i := range in {
				if in[i] != tc.sample[i] {
					t.Fatal("percentiles reordered its input")
				}
			}
		})
	}
}

func TestPercent(t *testing.T) {
	for _, tc := range []struct {
		passed, total int
		want          string
	}{
		{0, 0, "-"}, {0, 5, "0%"}, {5, 5, "100%"}, {7, 8, "88%"}, {1, 3, "33%"}, {2, 3, "67%"},
		{199, 200, "99%"}, {1, 300, "1%"}, {31, 36, "86%"},
	} {
		if got := percent(tc.passed, tc.total); got != tc.want {
			t.Errorf("percent(%d, %d) = %s, want %s", tc.passed, tc.total, got, tc.want)
		}
	}
}

func TestPolicyStatsJSON(t *testing.T) {
	s, _ := PolicySummary(&results.Result{Checks: []results.Check{scenario("x", results.Failed, tags("host"))}})
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	// No latency measured: the percentiles are left out rather than read as zero seconds.
	if strings.Contains(string(b), "inEffectSeconds") || strings.Contains(string(b), "removedSeconds") || !strings.Contains(string(b), `{"tag":"host","passed":0,"total":1}`) {
		t.Errorf("JSON %s", b)
	}
}
