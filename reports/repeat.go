package reports

import (
	"fmt"
	"io"
	"sort"

	"github.com/netconform/netconform/framework/results"
)

// PassRate is how often one check passed over repeated runs.
type PassRate struct {
	ID      string   `json:"id"`
	Passed  int      `json:"passed"`
	Failed  int      `json:"failed"`
	Skipped int      `json:"skipped"`
	Runs    int      `json:"runs"`
	Reasons []string `json:"reasons,omitempty"` // distinct failure reasons, first lines
}

// Rate is the fraction of runs (that ran the check) in which it passed.
func (p PassRate) Rate() float64 {
	if p.Passed+p.Failed == 0 {
		return 0
	}
	return float64(p.Passed) / float64(p.Passed+p.Failed)
}

// PassRates counts each check's verdicts over repeated results.
func PassRates(runs []*results.Result) []PassRate {
	byID := map[string]*PassRate{}
	for _, r := range runs {
		for _, c := range r.Checks {
			p := byID[c.ID]
			if p == nil {
				p = &PassRate{ID: c.ID}
				byID[c.ID] = p
			}
			p.Runs++
			switch {
			case c.Status == results.Passed && c.Measured():
				p.Passed++
			case c.Status == results.Skipped:
				p.Skipped++
			default:
				p.Failed++
				reason := firstLine(c.Reason)
				if c.Status == results.Passed {
					reason = "passed with nothing observed or measured"
				}
				found := false
				for _, x := range p.Reasons {
					found = found || x == reason
				}
				if !found && len(p.Reasons) < 5 {
					p.Reasons = append(p.Reasons, reason)
				}
			}
		}
	}
	out := make([]PassRate, 0, len(byID))
	for _, p := range byID {
		out = append(out, *p)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Rate() != out[j].Rate() {
			return out[i].Rate() < out[j].Rate()
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// RepeatMarkdown writes pass rates, flakiest first.
func RepeatMarkdown(w io.Writer, rates []PassRate, runs int) error {
	_, err := fmt.Fprintf(w, "# netconform: pass rates over %d runs\n\n| check | passed | failed | skipped | pass rate | failures |\n|---|---|---|---|---|---|\n", runs)
	for _, p := range rates {
		if err != nil {
			return err
		}
		rate := "-"
		if p.Passed+p.Failed > 0 {
			rate = fmt.Sprintf("%.0f%%", 100*p.Rate())
		}
		_, err = fmt.Fprintf(w, "| %s | %d | %d | %d | %s | %s |\n", p.ID, p.Passed, p.Failed, p.Skipped, rate, cell(joinReasons(p.Reasons)))
	}
	return err
}

func joinReasons(rs []string) string {
	s := ""
	for i, r := range rs {
		if i > 0 {
			s += "; "
		}
		s += r
	}
	return s
}
