package reports

import (
	"bytes"
	"encoding/xml"
	"strings"
	"testing"
	"time"

	"github.com/netconform/netconform/framework/results"
	"github.com/netconform/netconform/framework/results/resultstest"
)

// Every renderer shows the verdict results.Judge gives, case by case: none shows PASS for a
// result that did not pass.
func TestRenderersAgreeWithTheVerdict(t *testing.T) {
	for _, tc := range resultstest.Cases() {
		t.Run(tc.Name, func(t *testing.T) {
			r := tc.Result
			r.Provider, r.Platform = "kubenet", "kind"

			var md bytes.Buffer
			if err := Markdown(&md, &r); err != nil {
				t.Fatal(err)
			}
			head, _, _ := strings.Cut(md.String(), "\n")
			if want := "# netconform: " + string(tc.Outcome); head != want {
				t.Errorf("summary heading %q, want %q", head, want)
			}
			if tc.Reason != "" && !strings.Contains(md.String(), tc.Reason) {
				t.Errorf("summary lacks the reason %q:\n%s", tc.Reason, md.String())
			}

			suites := junitOf(t, &r)
			verdict := suites.find("phases", "verdict")
			if verdict == nil {
				t.Fatalf("JUnit has no verdict case")
			}
			if (verdict.Failure == nil) != (tc.Outcome == results.Pass) {
				t.Errorf("JUnit verdict case failure=%v for %s", verdict.Failure, tc.Outcome)
			}
			if tc.Outcome != results.Pass && suites.Failures == 0 {
				t.Errorf("JUnit counts no failure for %s", tc.Outcome)
			}
			if tc.Outcome == results.Pass && suites.Failures != 0 {
				t.Errorf("JUnit counts %d failures for a pass", suites.Failures)
			}

			m := BuildMatrix([]Source{{Path: "r.json", Result: &r}}, time.Unix(0, 0))
			if got := m.Runs[0].Verdict; got != string(tc.Outcome) {
				t.Errorf("matrix verdict %s, want %s", got, tc.Outcome)
			}
			for _, row := range m.Checks {
				if row.Cells[0].Status == results.Passed {
					for _, c := range r.Checks {
						if c.ID == row.ID && (c.Status != results.Passed || !c.Measured()) {
							t.Errorf("matrix shows %s as pass: %+v", c.ID, c)
						}
					}
				}
			}
		})
	}
}

// A check whose status the renderers do not know is a failing test case, never a passing one.
func TestJUnitUnknownStatusFails(t *testing.T) {
	r := results.Result{Complete: true, Checks: []results.Check{{ID: "s/x", Suite: "s", Status: "weird", Observations: []results.Observation{{OK: true}}}}}
	c := junitOf(t, &r).find("s", "s/x")
	if c == nil || c.Failure == nil || !strings.Contains(c.Failure.Message, `unknown status "weird"`) {
		t.Fatalf("unknown status case: %+v", c)
	}
	var md bytes.Buffer
	_ = Markdown(&md, &r)
	if !strings.Contains(md.String(), `**FAIL** (unknown status "weird")`) {
		t.Errorf("summary:\n%s", md.String())
	}
}

// Every phase is a test case; a failed one carries its error; a skipped check its reason.
func TestJUnitPhasesAndSkips(t *testing.T) {
	r := results.Result{Complete: true, Error: "cluster create: kind: exit status 1",
		Phases: []results.Phase{{Name: "host setup", Status: results.Passed}, {Name: "cluster create", Status: results.Failed, Error: "kind: exit status 1\nmore"}},
		Checks: []results.Check{{ID: "mtu/x", Suite: "mtu", Status: results.Skipped, Reason: "not-applicable: no overlay"}}}
	s := junitOf(t, &r)
	if c := s.find("phases", "host setup"); c == nil || c.Failure != nil {
		t.Errorf("host setup: %+v", c)
	}
	if c := s.find("phases", "cluster create"); c == nil || c.Failure == nil || c.Failure.Message != "kind: exit status 1" {
		t.Errorf("cluster create: %+v", c)
	}
	if c := s.find("mtu", "mtu/x"); c == nil || c.Skipped == nil || c.Skipped.Message != "not-applicable: no overlay" {
		t.Errorf("skipped check: %+v", c)
	}
}

type parsedJUnit struct {
	Failures int `xml:"failures,attr"`
	Suites   []struct {
		Name  string       `xml:"name,attr"`
		Cases []parsedCase `xml:"testcase"`
	} `xml:"testsuite"`
}

type parsedCase struct {
	Name    string `xml:"name,attr"`
	Failure *struct {
		Message string `xml:"message,attr"`
	} `xml:"failure"`
	Skipped *struct {
		Message string `xml:"message,attr"`
	} `xml:"skipped"`
}

func (p *parsedJUnit) find(suite, name string) *parsedCase {
	for i := range p.Suites {
		if p.Suites[i].Name != suite {
			continue
		}
		for j := range p.Suites[i].Cases {
			if p.Suites[i].Cases[j].Name == name {
				return &p.Suites[i].Cases[j]
			}
		}
	}
	return nil
}

func junitOf(t *testing.T, r *results.Result) *parsedJUnit {
	t.Helper()
	var b bytes.Buffer
	if err := JUnit(&b, r); err != nil {
		t.Fatal(err)
	}
	var p parsedJUnit
	if err := xml.Unmarshal(b.Bytes(), &p); err != nil {
		t.Fatalf("JUnit does not parse: %v\n%s", err, b.String())
	}
	return &p
}
