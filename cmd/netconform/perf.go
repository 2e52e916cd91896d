package main

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/netconform/netconform/suites"
)

// defaultPerfImage is the perf image the sources of this build produce, set by `make build`
// like defaultProbeImage (scripts/probe-image.sh --perf --tag).
var defaultPerfImage string

// perfOptions are the perf suite's flags (run and check).
type perfOptions struct {
	perf      bool
	perfImage string
	perfCfg   suites.PerfConfig
	// perfSelected: the label filter selects perf checks (set by selectChecks).
	perfSelected bool
}

func (o *perfOptions) addPerfFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.BoolVar(&o.perf, "perf", false, "also run the perf suite (netperf between hosts and pods; opt-in, it takes minutes); a --label-filter that names perf selects it too")
	f.StringVar(&o.perfImage, "perf-image", defaultPerfImage, "agent image with netperf, deployed instead of --probe-image when perf checks are selected (scripts/probe-image.sh --perf builds the default)")
	f.IntVar(&o.perfCfg.Samples, "perf-samples", suites.DefaultPerf.Samples, "netperf runs per test and path")
	f.DurationVar(&o.perfCfg.Duration, "perf-duration", suites.DefaultPerf.Duration, "length of one netperf run (whole seconds)")
	f.Float64Var(&o.perfCfg.Tolerance, "perf-tolerance", suites.DefaultPerf.Tolerance, "a pod path fails below this fraction of the host path's TCP throughput or request/response rate")
}

// namesPerf: a label filter that names the perf label asks for the perf suite itself.
var namesPerf = regexp.MustCompile(`(^|[^A-Za-z0-9_-])perf($|[^A-Za-z0-9_-])`)

// perfFilter is the label filter the suites run with. The perf suite is opt-in: it runs when
// --perf is given or the filter names it; otherwise it is left out of any filter (an empty one,
// or one like '!mtu' that would select it by not naming it).
func perfFilter(filter string, perf bool) string {
	switch {
	case namesPerf.MatchString(filter):
		return filter
	case perf && strings.TrimSpace(filter) == "":
		return ""
	case perf:
		return "(" + filter + ") || perf"
	case strings.TrimSpace(filter) == "":
		return "!perf"
	}
	return "(" + filter + ") && !perf"
}

// checkPerf refuses perf settings that make no sense, before anything is created.
func (o *perfOptions) checkPerf() error {
	c := o.perfCfg
	switch {
	case c.Samples < 1 || c.Samples > 30:
		return fmt.Errorf("--perf-samples %d: want 1 to 30 (2 or more give a confidence interval)", c.Samples)
	case c.Duration < time.Second || c.Duration > 50*time.Second || c.Duration%time.Second != 0:
		return fmt.Errorf("--perf-duration %s: want whole seconds from 1s to 50s", c.Duration)
	case c.Tolerance <= 0 || c.Tolerance > 1:
		return fmt.Errorf("--perf-tolerance %g: want a fraction above 0 and at most 1", c.Tolerance)
	}
	return nil
}

// selectChecks sets the run's label filter (perfFilter), refuses one that selects no check,
// and when it selects perf checks deploys the perf image as the agents' image: those checks
// need netperf in every agent.
func (o *verifyOptions) selectChecks() error {
	if err := o.checkPerf(); err != nil {
		return err
	}
	if o.maxPairs < 0 {
		return fmt.Errorf("--max-pairs %d: want 0 (every pair) or more", o.maxPairs)
	}
	given := o.labelFilter
	// The filter as given is parsed first, so that an error names what the user wrote.
	if err := suites.ParseFilter(given); err != nil {
		return err
	}
	o.labelFilter = perfFilter(given, o.perf)
	sel, err := selectFilter(o.labelFilter, given)
	if err != nil {
		return err
	}
	for _, id := range sel.Checks {
		if strings.HasPrefix(id, "perf/") {
			if o.perfImage == "" {
				return errors.New("--perf-image is required for the perf checks: this netconform was built without a default perf image (`make build` gives it one; scripts/probe-image.sh --perf builds it)")
			}
			o.probeImage = o.perfImage
			o.perfSelected = true
			break
		}
	}
	return nil
}
