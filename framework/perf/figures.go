package perf

import "fmt"

// Figures summarise the samples of one test on one path.
type Figures struct {
	Test    Test
	Samples int
	// ThroughputMbps (stream tests) and TransactionsPerSec (request/response tests): mean
	// and 95% confidence interval over samples.
	ThroughputMbps     Estimate
	TransactionsPerSec Estimate
	// Latency percentiles in microseconds (request/response tests): the mean over samples of
	// each sample's percentile (netperf computes them per run, from its own histogram).
	P50US, P90US, P99US float64
	// Retransmits are the sender's TCP retransmissions over all samples; -1 when netperf
	// could not tell for any of them (UDP, or a kernel that does not say).
	Retransmits int64
	// LossRatio is the mean share of UDP bytes sent that did not arrive (UDP stream).
	LossRatio float64
}

// Summarize turns the samples of test t into figures. Samples of another test are refused: a
// mix-up would average unrelated figures.
func Summarize(t Test, samples []Sample) (Figures, error) {
	f := Figures{Test: t, Samples: len(samples), Retransmits: -1}
	var thr, tps, loss []float64
	for _, s := range samples {
		if s.Test != t {
			return Figures{}, fmt.Errorf("summarize %s: a sample of %s", t, s.Test)
		}
		thr = append(thr, s.ThroughputMbps)
		tps = append(tps, s.TransactionsPerSec)
		loss = append(loss, s.LossRatio())
		f.P50US += s.P50US / float64(len(samples))
		f.P90US += s.P90US / float64(len(samples))
		f.P99US += s.P99US / float64(len(samples))
		if s.Retransmits >= 0 {
			f.Retransmits = max(f.Retransmits, 0) + s.Retransmits
		}
	}
	if t.Stream() {
		f.ThroughputMbps = Mean(thr)
		f.LossRatio = Mean(loss).Mean
		f.P50US, f.P90US, f.P99US = 0, 0, 0
	} else {
		f.TransactionsPerSec = Mean(tps)
	}
	return f, nil
}

// Headline is the figure a path is compared by: throughput for a stream test, transactions
// per second for a request/response test (the inverse of its mean latency).
func (f Figures) Headline() (Estimate, string) {
	if f.Test.Stream() {
		return f.ThroughputMbps, "Mbit/s"
	}
	return f.TransactionsPerSec, "transactions/s"
}

// String is one line: the headline with its interval, then what else the test measured.
func (f Figures) String() string {
	h, unit := f.Headline()
	s := fmt.Sprintf("%s %s %s", f.Test, h, unit)
	switch {
	case f.Test == UDPStream:
		s += fmt.Sprintf(", loss %.2f%%", 100*f.LossRatio)
	case !f.Test.Stream():
		s += fmt.Sprintf(", latency p50/p90/p99 %.0f/%.0f/%.0f µs", f.P50US, f.P90US, f.P99US)
	}
	if f.Retransmits >= 0 {
		s += fmt.Sprintf(", %d retransmits", f.Retransmits)
	}
	return s
}
