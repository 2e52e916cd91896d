package results_test

import (
	"os"
	"strings"
	"testing"

	. "github.com/netconform/netconform/framework/results"
	"github.com/netconform/netconform/framework/results/resultstest"
)

func TestJudge(t *testing.T) {
	for _, tc := range resultstest.Cases() {
		t.Run(tc.Name, func(t *testing.T) {
			v := tc.Result.Judge()
			if v.Outcome != tc.Outcome {
				t.Fatalf("outcome %s, want %s (reasons: %v)", v.Outcome, tc.Outcome, v.Reasons)
			}
			if tc.Outcome == Pass {
				if len(v.Reasons) != 0 || v.ExitCode() != 0 {
					t.Errorf("a pass has no reasons and exits 0: %+v", v)
				}
				return
			}
			if !strings.Contains(strings.Join(v.Reasons, "\n"), tc.Reason) {
				t.Errorf("reasons %q lack %q", v.Reasons, tc.Reason)
			}
			if v.ExitCode() == 0 {
				t.Errorf("%s exits 0", v.Outcome)
			}
		})
	}
}

func TestExitCodes(t *testing.T) {
	for o, want := range map[Outcome]int{Pass: 0, Fail: 1, CouldNotRun: 2, Incomplete: 2, "SOMETHING ELSE": 2} {
		if got := (Verdict{Outcome: o}).ExitCode(); got != want {
			t.Errorf("%s: exit %d, want %d", o, got, want)
		}
	}
}

func TestRecorderWritesTheVerdictAndKeepsItsFirstSaveError(t *testing.T) {
	dir := t.TempDir()
	rec, err := NewRecorder(dir+"/result.json", Result{RunID: "r"})
	if err != nil {
		t.Fatal(err)
	}
	r, err := Load(rec.Path())
	if err != nil || r.Verdict == nil || r.Verdict.Outcome != Incomplete {
		t.Fatalf("a fresh result's stored verdict: %v %+v", err, r.Verdict)
	}
	_ = rec.AddCheck(Check{ID: "s/a", Status: Passed, Observations: []Observation{{Observed: "ok", OK: true}}})
	_ = rec.Finish(nil)
	if r, _ = Load(rec.Path()); r.Verdict == nil || r.Verdict.Outcome != Pass {
		t.Fatalf("finished: %+v", r.Verdict)
	}
	if rec.Err() != nil {
		t.Fatalf("no save failed yet: %v", rec.Err())
	}
	// The result's directory disappears (a full or removed disk): saves fail, the first error stays.
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	_ = rec.Update(func(*Result) {})
	first := rec.Err()
	if first == nil {
		t.Fatal("a failed save must be kept")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	_ = rec.Update(func(*Result) {})
	if rec.Err() != first {
		t.Errorf("the first error must stay: %v", rec.Err())
	}
}
