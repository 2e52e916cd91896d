// Package resultstest holds results that must or must not pass, for the tests of the verdict
// and of every renderer: each renderer must agree with results.Judge case by case.
package resultstest

import "github.com/netconform/netconform/framework/results"

// Cases are results that must or must not pass, each with the outcome and a reason the
// verdict must give. Renderer tests (reports) use the same cases, so that every renderer agrees
// with Judge case by case.
func Cases() []Case {
	seen := []results.Observation{{From: "n1", To: "n2", Protocol: "tcp", Expected: "ok", Observed: "ok", OK: true}}
	pass := func(id string) results.Check {
		return results.Check{ID: id, Suite: "s", Status: results.Passed, Observations: seen}
	}
	measured := func(id string) results.Check {
		return results.Check{ID: id, Suite: "s", Status: results.Passed, Measurements: []results.Measurement{{Name: "seconds", Value: 3}}}
	}
	ok := results.Phase{Name: "cluster create", Status: results.Passed}
	return []Case{
		{"every check measured", results.Result{Complete: true, Phases: []results.Phase{ok}, Checks: []results.Check{pass("s/a"), measured("s/b")}}, results.Pass, ""},
		{"a skip beside a pass", results.Result{Complete: true, Checks: []results.Check{pass("s/a"), {ID: "s/b", Status: results.Skipped, Reason: "not-applicable: x"}}}, results.Pass, ""},
		{"a failed check", results.Result{Complete: true, Checks: []results.Check{pass("s/a"), {ID: "s/b", Status: results.Failed, Reason: "timeout"}}}, results.Fail, "1 check(s) failed: s/b"},
		{"no checks at all", results.Result{Complete: true, Phases: []results.Phase{ok}}, results.CouldNotRun, "no check ran"},
		{"every check skipped", results.Result{Complete: true, Checks: []results.Check{{ID: "s/a", Status: results.Skipped, Reason: "r"}, {ID: "s/b", Status: results.Skipped, Reason: "r"}}}, results.CouldNotRun, "no check ran: all 2 were skipped"},
		{"a pass with nothing observed", results.Result{Complete: true, Checks: []results.Check{pass("s/a"), {ID: "s/bare", Status: results.Passed}}}, results.Fail, "check s/bare passed with nothing observed or measured"},
		{"a check left running", results.Result{Complete: true, Checks: []results.Check{pass("s/a"), {ID: "s/b", Status: results.Running}}}, results.Incomplete, "check s/b did not finish"},
		{"an unknown status", results.Result{Complete: true, Checks: []results.Check{pass("s/a"), {ID: "s/b", Status: "flaky", Observations: seen}}}, results.Fail, `check s/b has unknown status "flaky"`},
		{"a failed phase and passing checks", results.Result{Complete: true, Phases: []results.Phase{ok, {Name: "suites", Status: results.Failed, Error: "selects no check"}}, Checks: []results.Check{pass("s/a")}}, results.CouldNotRun, `phase "suites" failed: selects no check`},
		{"a phase left running", results.Result{Complete: true, Phases: []results.Phase{{Name: "evidence", Status: results.Running}}, Checks: []results.Check{pass("s/a")}}, results.Incomplete, `phase "evidence" did not finish`},
		{"an unknown phase status", results.Result{Complete: true, Phases: []results.Phase{{Name: "install", Status: "meh"}}, Checks: []results.Check{pass("s/a")}}, results.CouldNotRun, `phase "install" has unknown status "meh"`},
		{"a partial result", results.Result{Checks: []results.Check{pass("s/a")}}, results.Incomplete, "the run did not finish"},
		{"the run's own error", results.Result{Complete: true, Error: "kubeconfig: no such file", Checks: []results.Check{pass("s/a")}}, results.CouldNotRun, "could not run: kubeconfig: no such file"},
		{"an error beats failed checks", results.Result{Complete: true, Error: "interrupted", Checks: []results.Check{{ID: "s/b", Status: results.Failed}}}, results.CouldNotRun, "1 check(s) failed: s/b"},
	}
}

// Case is one result with the verdict it must get.
type Case struct {
	Name    string
	Result  results.Result
	Outcome results.Outcome
	// Reason is a substring of one of the verdict's reasons; empty for PASS.
	Reason string
}
