package results

import (
	"fmt"
	"strings"
)

// Outcome is a run's overall verdict, the one thing a release engineer signs off on.
type Outcome string

// Outcomes, from best to worst for the exit code: PASS 0, FAIL 1, COULD NOT RUN and
// INCOMPLETE 2.
const (
	// Pass: every phase succeeded, at least one check ran, every passed check rests on an
	// observation or measurement, nothing was left running, the result is complete.
	Pass Outcome = "PASS"
	// Fail: checks ran and at least one failed (or cannot be trusted: an unknown status, or a
	// pass with nothing observed).
	Fail Outcome = "FAIL"
	// CouldNotRun: netconform could not produce a verdict on the network: the run's error, a
	// failed phase, or no check that ran.
	CouldNotRun Outcome = "COULD NOT RUN"
	// Incomplete: the result was left by a run that did not finish (killed, or still going).
	Incomplete Outcome = "INCOMPLETE"
)

// Verdict is a run's outcome with every reason that kept it from passing.
type Verdict struct {
	Outcome Outcome `json:"outcome"`
	// Reasons say why the outcome is not PASS, most important first; empty for PASS.
	Reasons []string `json:"reasons,omitempty"`
}

// ExitCode is the process exit code for the verdict: 0 pass, 1 checks failed, 2 otherwise.
func (v Verdict) ExitCode() int {
	switch v.Outcome {
	case Pass:
		return 0
	case Fail:
		return 1
	}
	return 2
}

// Passed reports whether the verdict is PASS.
func (v Verdict) Passed() bool { return v.Outcome == Pass }

// String is the outcome with its first reason.
func (v Verdict) String() string {
	if len(v.Reasons) == 0 {
		return string(v.Outcome)
	}
	return fmt.Sprintf("%s: %s", v.Outcome, strings.Join(v.Reasons, "; "))
}

// Known reports whether s is a status netconform writes. Anything else (a newer or damaged
// result) is treated as a failure wherever it is rendered, never as a pass.
func (s Status) Known() bool {
	switch s {
	case Passed, Failed, Skipped, Running:
		return true
	}
	return false
}

// Measured reports whether a check rests on at least one observation or measurement: a pass
// without one proves nothing.
func (c Check) Measured() bool { return len(c.Observations) > 0 || len(c.Measurements) > 0 }

// Judge computes the run's verdict. It is the only place that decides whether a run passed:
// the exit code, the summary, the result JSON's verdict field, JUnit and the matrix all use it,
// and none of them trusts a verdict stored in a file: they judge the result again.
//
// The headline outcome follows a fixed precedence (the run's own error, then failed checks, then
// an unfinished result, then anything else that keeps it from passing); every reason is listed.
func (r *Result) Judge() Verdict {
	var errs, fails, unfinished, other []string
	if r.Error != "" {
		errs = append(errs, "could not run: "+firstLine(r.Error))
	}
	for _, p := range r.Phases {
		switch p.Status {
		case Passed, Skipped:
		case Running:
			unfinished = append(unfinished, fmt.Sprintf("phase %q did not finish", p.Name))
		case Failed:
			other = append(other, fmt.Sprintf("phase %q failed: %s", p.Name, firstLine(p.Error)))
		default:
			other = append(other, fmt.Sprintf("phase %q has unknown status %q", p.Name, p.Status))
		}
	}
	ran, skipped := 0, 0
	var failedIDs []string
	for _, c := range r.Checks {
		switch c.Status {
		case Passed:
			ran++
			if !c.Measured() {
				fails = append(fails, fmt.Sprintf("check %s passed with nothing observed or measured", c.ID))
			}
		case Failed:
			ran++
			failedIDs = append(failedIDs, c.ID)
		case Skipped:
			skipped++
		case Running:
			unfinished = append(unfinished, fmt.Sprintf("check %s did not finish", c.ID))
		default:
			ran++
			fails = append(fails, fmt.Sprintf("check %s has unknown status %q", c.ID, c.Status))
		}
	}
	if len(failedIDs) > 0 {
		fails = append([]string{fmt.Sprintf("%d check(s) failed: %s", len(failedIDs), strings.Join(failedIDs, ", "))}, fails...)
	}
	if !r.Complete {
		unfinished = append([]string{"the run did not finish: this is a partial result"}, unfinished...)
	}
	if ran == 0 {
		if skipped > 0 {
			other = append(other, fmt.Sprintf("no check ran: all %d were skipped", skipped))
		} else {
			other = append(other, "no check ran")
		}
	}
	reasons := append(append(append(append([]string{}, errs...), fails...), unfinished...), other...)
	v := Verdict{Outcome: Pass, Reasons: reasons}
	switch {
	case len(errs) > 0:
		v.Outcome = CouldNotRun
	case len(fails) > 0:
		v.Outcome = Fail
	case len(unfinished) > 0:
		v.Outcome = Incomplete
	case len(other) > 0:
		v.Outcome = CouldNotRun
	}
	if v.Outcome == Pass {
		v.Reasons = nil
	}
	return v
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}
