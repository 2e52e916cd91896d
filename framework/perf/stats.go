package perf

import (
	"fmt"
	"math"

	"github.com/netconform/netconform/framework/results"
)

// Estimate is a mean over samples with the half-width of its 95% confidence interval
// (Student's t, n-1 degrees of freedom: with 3 samples the interval is wide, and says so).
type Estimate struct {
	Mean, CI95 float64
	N          int
}

// String is "mean ± ci (n=N)"; with one sample there is no interval.
func (e Estimate) String() string {
	if e.N < 2 {
		return fmt.Sprintf("%s (n=%d)", results.Figure(e.Mean), e.N)
	}
	return fmt.Sprintf("%s ± %s (n=%d)", results.Figure(e.Mean), results.Figure(e.CI95), e.N)
}

// Estimate of xs; the zero Estimate when there is none.
func Mean(xs []float64) Estimate {
	n := len(xs)
	if n == 0 {
		return Estimate{}
	}
	sum := 0.0
	for _, x := range xs {
		sum += x
	}
	mean := sum / float64(n)
	if n == 1 {
		return Estimate{Mean: mean, N: 1}
	}
	ss := 0.0
	for _, x := range xs {
		ss += (x - mean) * (x - mean)
	}
	sd := math.Sqrt(ss / float64(n-1))
	return Estimate{Mean: mean, CI95: tCritical95(n-1) * sd / math.Sqrt(float64(n)), N: n}
}

// tCritical95 is the two-sided 95% critical value of Student's t for df degrees of freedom.
func tCritical95(df int) float64 {
	table := []float64{0, 12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
		2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
		2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042}
	switch {
	case df <= 0:
		return math.Inf(1)
	case df < len(table):
		return table[df]
	case df < 60:
		return 2.000 + (2.042-2.000)*float64(60-df)/30 // between df 30 and 60, close enough
	case df < 120:
		return 1.980 + (2.000-1.980)*float64(120-df)/60
	}
	return 1.960
}

// Ratio is a/b, or 0 when b is not positive (no baseline, no ratio).
func Ratio(a, b float64) float64 {
	if b <= 0 {
		return 0
	}
	return a / b
}
