package main

import "testing"

func TestPerfFilter(t *testing.T) {
	for _, tc := range []struct {
		filter string
		perf   bool
		want   string
	}{
		{"", false, "!perf"},
		{"", true, ""},
		{"!mtu", false, "(!mtu) && !perf"},
		{"dns || mtu", true, "(dns || mtu) || perf"},
		{"perf", false, "perf"},
		{"dns || (perf && baseline)", false, "dns || (perf && baseline)"},
		{"!perf", true, "!perf"},
		// A label that only contains the word is not the perf label.
		{"perf-x", false, "(perf-x) && !perf"},
	} {
		if got := perfFilter(tc.filter, tc.perf); got != tc.want {
			t.Errorf("perfFilter(%q, %v) = %q, want %q", tc.filter, tc.perf, got, tc.want)
		}
	}
}

// TestPerfChecksGetThePerfImage: selecting a perf check deploys the perf image; other
// selections keep the probe image.
func TestPerfChecksGetThePerfImage(t *testing.T) {
	for _, tc := range []struct {
		filter string
		perf   bool
		want   string
	}{
		{"dns", false, "probe"},
		{"", false, "probe"},
		{"dns", true, "perfimg"},
		{"perf && baseline", false, "perfimg"},
	} {
		o := &verifyOptions{probeImage: "probe", labelFilter: tc.filter}
		o.perf, o.perfImage = tc.perf, "perfimg"
		o.perfCfg.Samples, o.perfCfg.Duration, o.perfCfg.Tolerance = 3, 5e9, 0.5
		if err := o.selectChecks(); err != nil {
			t.Fatalf("%q: %v", tc.filter, err)
		}
		if o.probeImage != tc.want {
			t.Errorf("filter %q perf %v: agents run %s, want %s", tc.filter, tc.perf, o.probeImage, tc.want)
		}
	}
}
