package main

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/netconform/netconform/suites"
)

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

// TestSwitchMeasuresPerfBefore: a switch with perf checks selected measures them on A first, by
// a check of A's perf checks alone in a namespace of its own with the run's perf settings;
// without perf checks it does not.
func TestSwitchMeasuresPerfBefore(t *testing.T) {
	o := &switchOptions{from: "flannel", to: "calico"}
	o.perf, o.perfImage, o.probeImage, o.namespace, o.artifacts, o.runID = true, "perfimg", "probe", "netconform", "/a", "sw"
	o.perfCfg = suites.PerfConfig{Samples: 2, Duration: 3 * time.Second, Tolerance: 0.5}
	if err := o.selectChecks(); err != nil {
		t.Fatal(err)
	}
	if !o.perfSelected {
		t.Fatal("--perf did not select perf checks")
	}
	b := o.perfBefore()
	args := strings.Join(b.Command(context.Background(), "/k/config").Args[1:], " ")
	for _, want := range []string{"check --provider flannel --label-filter perf --artifacts /a/perf-before", "--namespace netconform-before",
		"--probe-image perfimg --perf-image perfimg --perf-samples 2 --perf-duration 3s --perf-tolerance 0.5", "--kubeconfig /k/config"} {
		if !strings.Contains(args, want) {
			t.Errorf("the check before the switch is %q, lacking %q", args, want)
		}
	}
	if b.Stage != "(flannel, before the switch)" || b.Timeout < 4*10*(3+15)*time.Second {
		t.Errorf("stage %q, timeout %s", b.Stage, b.Timeout)
	}
	plain := &switchOptions{from: "flannel", to: "calico"}
	plain.probeImage, plain.perfCfg = "probe", suites.DefaultPerf
	if err := plain.selectChecks(); err != nil {
		t.Fatal(err)
	}
	if plain.perfSelected || slices.Contains(strings.Fields(plain.labelFilter), "perf") {
		t.Errorf("a switch without --perf selects perf (filter %q)", plain.labelFilter)
	}
}
