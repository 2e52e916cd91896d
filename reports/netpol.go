package reports

import (
	"fmt"
	"slices"
	"strings"

	"github.com/netconform/netconform/framework/results"
)

// The NetworkPolicy suite's conventions, which these reports rely on: every scenario is one
// check labelled netpolLabel and one or more of policyTags; a scenario that passed measures
// inEffectMeasurement, and may measure removedMeasurement, both in seconds.
const (
	netpolLabel         = "netpol"
	inEffectMeasurement = "policy in effect within"
	removedMeasurement  = "policy removed within"
	secondsUnit         = "s"
)

// PolicyTags are the NetworkPolicy scenario tags, in the order the reports show them. Each call
// returns a new slice.
func PolicyTags() []string {
	return []string{"ingress", "egress", "namespaces", "ipblock", "ports", "update", "service", "host"}
}

// PolicyStats sums up a run's NetworkPolicy scenarios: how many passed, per tag, and how long
// policies took to take effect and to go away.
type PolicyStats struct {
	// Passed, Failed and Skipped count scenarios by the rule of results.Result.Counts: a pass
	// with nothing observed or measured, a scenario left running or with an unknown status is
	// a failure.
	Passed  int `json:"passed"`
	Failed  int `json:"failed"`
	Skipped int `json:"skipped"`
	// Tags has one entry per tag of PolicyTags, in that order, also for tags no scenario had.
	Tags []TagCount `json:"tags"`
	// InEffectSeconds are the percentiles of "policy in effect within" over the scenarios that
	// measured it (passed or failed; skipped ones left out).
	InEffectSeconds Percentiles `json:"inEffectSeconds,omitzero"`
	// RemovedSeconds are the same for "policy removed within".
	RemovedSeconds Percentiles `json:"removedSeconds,omitzero"`
}

// Total is the number of scenarios that ran: passed and failed, not skipped.
func (s PolicyStats) Total() int { return s.Passed + s.Failed }

// TagCount is how many of the scenarios with one tag passed, out of those that ran (skipped
// ones count in neither).
type TagCount struct {
	Tag    string `json:"tag"`
	Passed int    `json:"passed"`
	Total  int    `json:"total"`
}

// Percentiles of a sample, by nearest rank; all zero when Samples is 0.
type Percentiles struct {
	Samples int     `json:"samples"`
	P50     float64 `json:"p50"`
	P95     float64 `json:"p95"`
	P99     float64 `json:"p99"`
}

// PolicySummary sums up the run's NetworkPolicy scenarios (checks labelled "netpol"); false when
// none of them ran.
func PolicySummary(r *results.Result) (PolicyStats, bool) {
	tags := PolicyTags()
	s := PolicyStats{Tags: make([]TagCount, len(tags))}
	for i, t := range tags {
		s.Tags[i].Tag = t
	}
	var inEffect, removed []float64
	found := false
	for _, c := range r.Checks {
		if !slices.Contains(c.Labels, netpolLabel) {
			continue
		}
		found = true
		if c.Status == results.Skipped {
			s.Skipped++
			continue
		}
		passed := c.Status == results.Passed && c.Measured()
		if passed {
			s.Passed++
		} else {
			s.Failed++
		}
		for i, t := range tags {
			if slices.Contains(c.Labels, t) {
				s.Tags[i].Total++
				if passed {
					s.Tags[i].Passed++
				}
			}
		}
		inEffect = append(inEffect, seconds(c, inEffectMeasurement)...)
		removed = append(removed, seconds(c, removedMeasurement)...)
	}
	// A run whose scenarios were all skipped (a provider that does not enforce NetworkPolicy)
	// has nothing to sum up; its checks table says why each was skipped.
	if !found || s.Total() == 0 {
		return PolicyStats{}, false
	}
	s.InEffectSeconds = percentiles(inEffect)
	s.RemovedSeconds = percentiles(removed)
	return s, true
}

// seconds are the check's measurements called name, in seconds: one per step of the scenario
// that measured it. One in another unit is not the figure the suite reports.
func seconds(c results.Check, name string) []float64 {
	var out []float64
	for _, m := range c.Measurements {
		if m.Name == name && m.Unit == secondsUnit {
			out = append(out, m.Value)
		}
	}
	return out
}

func percentiles(sample []float64) Percentiles {
	if len(sample) == 0 {
		return Percentiles{}
	}
	sorted := slices.Clone(sample)
	slices.Sort(sorted)
	return Percentiles{Samples: len(sorted), P50: nearestRank(sorted, 50), P95: nearestRank(sorted, 95), P99: nearestRank(sorted, 99)}
}

// nearestRank is the p-th percentile of a sorted, non-empty sample by the nearest-rank method:
// the value of rank ceil(p/100 × n), counting from 1, so the smallest value with at least p
// percent of the sample at or below it. It is always a measured value, never an interpolation:
// with one sample every percentile is that sample; with two, p50 is the lower and p95 and p99
// the higher; with 100, p95 is the 95th smallest.
func nearestRank(sorted []float64, p int) float64 {
	rank := (p*len(sorted) + 99) / 100 // ceil in integers: no rounding error at exact ranks
	return sorted[max(rank, 1)-1]
}

// writePolicy writes a run summary's NetworkPolicy section.
func writePolicy(b *strings.Builder, s PolicyStats) {
	b.WriteString("## NetworkPolicy\n\n")
	fmt.Fprintf(b, "scenarios: %d of %d passed (%d skipped)\n\n", s.Passed, s.Total(), s.Skipped)
	b.WriteString("| tag | passed | rate |\n|---|---|---|\n")
	for _, t := range s.Tags {
		fmt.Fprintf(b, "| %s | %d/%d | %s |\n", t.Tag, t.Passed, t.Total, percent(t.Passed, t.Total))
	}
	fmt.Fprintf(b, "\nin effect: %s; removed: %s\n\n", latencyText(s.InEffectSeconds), latencyText(s.RemovedSeconds))
}

// latencyText is "p50 1.2 s, p95 3.4 s, p99 3.9 s (34 samples)", or "not measured". Samples, not
// scenarios: a scenario of several steps measures each step that changes cells.
func latencyText(p Percentiles) string {
	if p.Samples == 0 {
		return "not measured"
	}
	noun := "samples"
	if p.Samples == 1 {
		noun = "sample"
	}
	return fmt.Sprintf("p50 %s s, p95 %s s, p99 %s s (%d %s)", trimFloat(p.P50), trimFloat(p.P95), trimFloat(p.P99), p.Samples, noun)
}

// percent is passed of total as a whole percentage, "-" for none. Rounding never reads as all or
// nothing when it is not: 199 of 200 is 99%, 1 of 300 is 1%.
func percent(passed, total int) string {
	if total == 0 {
		return "-"
	}
	pc := (200*passed + total) / (2 * total) // rounded half up, in integers
	switch {
	case pc == 100 && passed < total:
		pc = 99
	case pc == 0 && passed > 0:
		pc = 1
	}
	return fmt.Sprintf("%d%%", pc)
}

// tagCell is a tag's passed/total in a matrix row, "-" when the run had no scenario with it.
func tagCell(t TagCount) string {
	if t.Total == 0 {
		return "-"
	}
	return fmt.Sprintf("%d/%d", t.Passed, t.Total)
}
