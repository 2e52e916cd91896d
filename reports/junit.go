package reports

import (
	"encoding/xml"
	"fmt"
	"io"

	"github.com/netconform/netconform/framework/results"
)

// JUnit XML as CI systems read it: one testsuite per suite, one testcase per check, and the
// provisioning phases as test cases of their own, so a failed cluster creation shows in CI too.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Skipped  int         `xml:"skipped,attr"`
	Time     float64     `xml:"time,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      float64       `xml:"time,attr"`
	Failure   *junitMessage `xml:"failure,omitempty"`
	Skipped   *junitMessage `xml:"skipped,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitMessage struct {
	Message string `xml:"message,attr"`
	Body    string `xml:",chardata"`
}

// JUnit writes a result as JUnit XML. A partial result (a crashed run) is rendered as far as it
// got, with a failing case that says the run did not finish.
func JUnit(w io.Writer, r *results.Result) error {
	name := fmt.Sprintf("netconform %s on %s", r.Provider, r.Platform)
	out := junitSuites{Name: name}
	phases := junitSuite{Name: "phases"}
	for _, p := range r.Phases {
		c := junitCase{Name: p.Name, Classname: "phases", Time: float64(p.DurationMS) / 1000}
		if p.Status == results.Failed {
			c.Failure = &junitMessage{Message: firstLine(p.Error), Body: p.Error}
			phases.Failures++
		}
		phases.Cases = append(phases.Cases, c)
	}
	if r.Error != "" {
		phases.Cases = append(phases.Cases, junitCase{Name: "run", Classname: "phases", Failure: &junitMessage{Message: firstLine(r.Error), Body: r.Error}})
		phases.Failures++
	}
	if !r.Complete {
		phases.Cases = append(phases.Cases, junitCase{Name: "run finished", Classname: "phases", Failure: &junitMessage{Message: "the run did not finish: this is a partial result"}})
		phases.Failures++
	}
	phases.Tests = len(phases.Cases)
	out.Suites = append(out.Suites, phases)
	checks := append([]results.Check(nil), r.Checks...)
	results.SortChecks(checks)
	idx := map[string]int{}
	for _, ch := range checks {
		i, ok := idx[ch.Suite]
		if !ok {
			idx[ch.Suite] = len(out.Suites)
			i = len(out.Suites)
			out.Suites = append(out.Suites, junitSuite{Name: ch.Suite})
		}
		s := &out.Suites[i]
		c := junitCase{Name: ch.Name, Classname: ch.Suite, Time: float64(ch.DurationMS) / 1000}
		switch ch.Status {
		case results.Failed:
			c.Failure = &junitMessage{Message: firstLine(ch.Reason), Body: ch.Reason}
			s.Failures++
		case results.Skipped:
			c.Skipped = &junitMessage{Message: ch.Reason}
			s.Skipped++
		case results.Running:
			c.Failure = &junitMessage{Message: "interrupted while running"}
			s.Failures++
		}
		s.Tests++
		s.Time += c.Time
		s.Cases = append(s.Cases, c)
	}
	for _, s := range out.Suites {
		out.Tests += s.Tests
		out.Failures += s.Failures
		out.Skipped += s.Skipped
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("junit: %w", err)
	}
	_, err := io.WriteString(w, "\n")
	return err
}
