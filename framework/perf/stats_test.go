package perf

import (
	"math"
	"testing"
)

func TestMean(t *testing.T) {
	// 3 samples 10, 12, 14: mean 12, sd 2, half-width 4.303 * 2 / sqrt(3) = 4.969.
	e := Mean([]float64{10, 12, 14})
	if e.Mean != 12 || e.N != 3 || math.Abs(e.CI95-4.969) > 0.001 {
		t.Errorf("got %+v", e)
	}
	if s := e.String(); s != "12.0 ± 4.97 (n=3)" {
		t.Errorf("String: %q", s)
	}
	if e := Mean([]float64{7}); e.Mean != 7 || e.CI95 != 0 || e.String() != "7.00 (n=1)" {
		t.Errorf("one sample: %+v %q", e, e.String())
	}
	if e := Mean(nil); e != (Estimate{}) {
		t.Errorf("none: %+v", e)
	}
	// Identical samples: no spread, no interval.
	if e := Mean([]float64{5, 5, 5, 5}); e.CI95 != 0 {
		t.Errorf("identical: %+v", e)
	}
}

func TestTCritical(t *testing.T) {
	prev := math.Inf(1)
	for df := 1; df < 200; df++ {
		v := tCritical95(df)
		if v > prev || v < 1.96 {
			t.Fatalf("df %d: %v after %v: must fall towards 1.96", df, v, prev)
		}
		prev = v
	}
	if tCritical95(2) != 4.303 || tCritical95(1000) != 1.96 {
		t.Error("table values")
	}
}

func TestRatio(t *testing.T) {
	if Ratio(5, 10) != 0.5 || Ratio(5, 0) != 0 || Ratio(5, -1) != 0 {
		t.Error("Ratio")
	}
}
