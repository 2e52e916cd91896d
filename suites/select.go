package suites

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/types"
)

// Selection is what a label filter selects, found without running anything.
type Selection struct {
	// Checks are the ids of the selected checks, as the result names them.
	Checks []string
	// Labels are every label of every check, sorted, so that a filter selecting nothing can
	// be answered with the labels that exist.
	Labels []string
}

// Select returns the checks filter selects. The filter is parsed with ginkgo's own parser
// first: ginkgo's configuration check (VetConfig, inside PreviewSpecs and RunSpecs) ends the
// process with os.Exit(1) on a filter it cannot parse, with no cleanup and no result.
//
// It walks the spec tree with ginkgo.PreviewSpecs (a dry run: no spec body runs). PreviewSpecs
// does not mark the suite as run, so Run's RunSpecs still works afterwards in the same process,
// recording every check (TestSelectThenRun). It must not be called while Run is running: both
// use ginkgo's process-wide suite.
func Select(filter string) (Selection, error) {
	if err := ParseFilter(filter); err != nil {
		return Selection{}, err
	}
	if env != nil {
		return Selection{}, fmt.Errorf("suites: cannot preview while the suites run")
	}
	suiteCfg, _ := ginkgo.GinkgoConfiguration()
	suiteCfg.LabelFilter = filter
	// A preview that selects nothing is the answer, not a configuration error.
	suiteCfg.FailOnEmpty = false
	report := ginkgo.PreviewSpecs("netconform", suiteCfg)
	// PreviewSpecs leaves behind a clone of the suite as it was before the preview, and
	// ginkgo's clone (internal Suite.Clone, v2.34) copies top-level containers and suite
	// nodes but not top-level setup and report nodes: recordCheck would be gone, and the
	// suites would then run without recording a single check. Register it again.
	ginkgo.ReportAfterEach(recordCheck)
	var sel Selection
	labels := map[string]bool{}
	for _, r := range report.SpecReports {
		if r.LeafNodeType != types.NodeTypeIt {
			continue
		}
		for _, l := range r.Labels() {
			labels[l] = true
		}
		// Specs the filter leaves out are reported as skipped; selected ones "pass" the dry run.
		if r.State != types.SpecStateSkipped {
			sel.Checks = append(sel.Checks, CheckFromReport(r).ID)
		}
	}
	for l := range labels {
		sel.Labels = append(sel.Labels, l)
	}
	slices.Sort(sel.Labels)
	slices.Sort(sel.Checks)
	return sel, nil
}

// ParseFilter refuses a label filter ginkgo cannot parse, naming it and saying why in one line.
func ParseFilter(filter string) error {
	if _, err := types.ParseLabelFilter(filter); err != nil {
		return fmt.Errorf("label filter '%s' is not valid: %s (ginkgo's syntax: labels joined with &&, ||, ! and parentheses, e.g. 'dns || (mtu && !bulk)')", filter, oneLine(err))
	}
	return nil
}

// oneLine keeps the reason from ginkgo's multi-line, colour-coded error text: its message is
// the filter (with the offending character marked up) and then the reason.
func oneLine(err error) string {
	var ge types.GinkgoError
	if errors.As(err, &ge) && ge.Message != "" {
		lines := strings.Split(strings.TrimSpace(ge.Message), "\n")
		return lines[len(lines)-1]
	}
	s, _, _ := strings.Cut(strings.TrimSpace(err.Error()), "\n")
	return s
}
