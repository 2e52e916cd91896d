package reports

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"

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

// JUnit writes a result as JUnit XML: every phase a test case (a failed phase fails with its
// error), every check a test case (skips with their reason), and a "verdict" case that fails
// with results.Judge's reasons whenever the run did not pass, so that CI cannot read an empty,
// unfinished or unmeasured run as green. A partial result (a crashed run) renders as far as it got.
func JUnit(w io.Writer, r *results.Result) error {
	name := fmt.Sprintf("netconform %s on %s", r.Provider, r.Platform)
	if r.SwitchFrom != "" {
		name = fmt.Sprintf("netconform %s -> %s on %s", r.SwitchFrom, r.Provider, r.Platform)
	}
	out := junitSuites{Name: name}
	phases := junitSuite{Name: "phases"}
	for _, p := range r.Phases {
		c := junitCase{Name: p.Name, Classname: "phases", Time: float64(p.DurationMS) / 1000}
		switch p.Status {
		case results.Passed:
		case results.Skipped:
			c.Skipped = &junitMessage{Message: p.Error}
			phases.Skipped++
		case results.Running:
			c.Failure = &junitMessage{Message: "did not finish"}
			phases.Failures++
		default:
			msg := p.Error
			if p.Status != results.Failed {
				msg = fmt.Sprintf("unknown status %q: %s", p.Status, p.Error)
			}
			c.Failure = &junitMessage{Message: firstLine(msg), Body: msg}
			phases.Failures++
		}
		phases.Time += c.Time
		phases.Cases = append(phases.Cases, c)
	}
	if r.Error != "" {
		phases.Cases = append(phases.Cases, junitCase{Name: "run", Classname: "phases", Failure: &junitMessage{Message: firstLine(r.Error), Body: r.Error}})
		phases.Failures++
	}
	v := r.Judge()
	verdict := junitCase{Name: "verdict", Classname: "phases", SystemOut: string(v.Outcome)}
	if !v.Passed() {
		verdict.Failure = &junitMessage{Message: string(v.Outcome) + ": " + firstLine(strings.Join(v.Reasons, "; ")), Body: strings.Join(v.Reasons, "\n")}
		phases.Failures++
	}
	phases.Cases = append(phases.Cases, verdict)
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
		// The id names the case: stable across runs and providers, so CI can follow a check's
		// history; the readable name and the figures go to system-out.
		c := junitCase{Name: ch.ID, Classname: ch.Suite, Time: float64(ch.DurationMS) / 1000, SystemOut: checkOut(ch)}
		switch ch.Status {
		case results.Failed:
			c.Failure = &junitMessage{Message: firstLine(ch.Reason), Body: ch.Reason}
			s.Failures++
		case results.Skipped:
			c.Skipped = &junitMessage{Message: ch.Reason}
			s.Skipped++
		case results.Passed:
			if !ch.Measured() {
				c.Failure = &junitMessage{Message: "passed with nothing observed or measured: not a verdict"}
				s.Failures++
			}
		case results.Running:
			c.Failure = &junitMessage{Message: "did not finish"}
			s.Failures++
		default:
			// A status this renderer does not know is a failure, never a pass.
			c.Failure = &junitMessage{Message: fmt.Sprintf("unknown status %q: %s", ch.Status, firstLine(ch.Reason)), Body: ch.Reason}
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

// checkOut is a check's readable name, measurements and failing observations, for system-out.
func checkOut(ch results.Check) string {
	var b strings.Builder
	b.WriteString(ch.Name)
	for _, m := range ch.Measurements {
		fmt.Fprintf(&b, "\n%s = %s %s", m.Name, trimFloat(m.Value), m.Unit)
	}
	for _, l := range failingObservations(ch) {
		b.WriteString("\n" + l)
	}
	return b.String()
}
