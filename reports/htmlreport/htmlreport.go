// Package htmlreport renders netconform results as HTML pages people would rather look at than
// read: a run page (verdict, phase timeline, checks with node x node grids, MTU per device,
// NetworkPolicy truth tables, perf charts, likely causes), the same page with a switch's probe
// timeline when the run switched providers, and the compatibility matrix.
//
// Every page is one self-contained file: CSS, script and SVG are inline and nothing is fetched
// (CI artifacts are opened from disk, often on air-gapped machines). The page's Content Security
// Policy forbids every request, so a renderer change that adds one fails in the browser tests
// rather than in a user's browser. Status is shown by a word and a symbol as well as by colour.
package htmlreport

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/netconform/netconform/framework/results"
	"github.com/netconform/netconform/reports"
)

// FileName is the page written beside result.json (and beside matrix.md).
const FileName = "report.html"

//go:embed assets
var assets embed.FS

var pages = template.Must(template.New("").Funcs(template.FuncMap{
	"statusClass": statusClass,
	"statusWord":  statusWord,
	"statusMark":  statusMark,
	"outcomeMark": outcomeMark,
	"dur":         dur,
	"figure":      results.Figure,
	"clip":        clip,
	"join":        strings.Join,
}).ParseFS(assets, "assets/*.tmpl"))

// page is what every template gets: the shared head (inline style and script) and the view.
type page struct {
	Title  string
	Kind   string // run, switch or matrix: body[data-page]
	Style  template.CSS
	Script template.JS
	View   any
}

func render(w io.Writer, tmpl, kind, title string, view any) error {
	css, err := assets.ReadFile("assets/style.css")
	if err != nil {
		return fmt.Errorf("html report style: %w", err)
	}
	js, err := assets.ReadFile("assets/script.js")
	if err != nil {
		return fmt.Errorf("html report script: %w", err)
	}
	var buf bytes.Buffer
	p := page{Title: title, Kind: kind, Style: template.CSS(css), Script: template.JS(js), View: view}
	if err := pages.ExecuteTemplate(&buf, tmpl, p); err != nil {
		return fmt.Errorf("render %s page: %w", kind, err)
	}
	_, err = w.Write(buf.Bytes())
	return err
}

// Filter passes over a page before it is written (the run's redaction: secrets never reach a
// file); nil writes the page as rendered.
type Filter func([]byte) []byte

// WriteRunDir writes report.html into dir, the directory of the run's result.json, with the
// switch's timeline when the switch left disruption.json there.
func WriteRunDir(dir string, r *results.Result, filter Filter) error {
	return WriteRunPage(filepath.Join(dir, FileName), r, dir, "", filter)
}

// WriteRunPage writes the page of a result read from resultDir into path. The evidence bundle
// and the switch record are looked for in resultDir, and linked relative to path, so the page
// works wherever it is written as long as the run's directory stays where it was.
func WriteRunPage(path string, r *results.Result, resultDir, matrixHref string, filter Filter) error {
	opt := RunOptions{MatrixHref: matrixHref}
	if r.Evidence != "" {
		ev := filepath.Join(resultDir, r.Evidence)
		if _, err := os.Stat(ev); err == nil {
			opt.EvidenceHref = Href(filepath.Dir(path), ev)
		}
	}
	if sw, err := ReadSwitch(filepath.Join(resultDir, SwitchFileName)); err == nil {
		opt.Switch = sw
	} else if !os.IsNotExist(err) {
		// A damaged switch record is named on the page rather than failing the whole report.
		opt.SwitchError = err.Error()
	}
	return writeFile(path, filter, func(w io.Writer) error { return Run(w, r, opt) })
}

// Href is target's address from a page in dir: relative, slash-separated, each segment escaped.
func Href(dir, target string) string {
	rel, err := filepath.Rel(dir, target)
	if err != nil {
		rel = target
	}
	segs := strings.Split(filepath.ToSlash(rel), "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return strings.Join(segs, "/")
}

// writeFile renders into path atomically: a reader (or a CI upload) never sees half a page.
func writeFile(path string, filter Filter, render func(io.Writer) error) error {
	var buf bytes.Buffer
	if err := render(&buf); err != nil {
		return err
	}
	b := buf.Bytes()
	if filter != nil {
		b = filter(b)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	return nil
}

// Status, the same rule as results.Judge and the Markdown summary: a pass with nothing observed,
// a check left running and a status this renderer does not know are failures.
func effective(c results.Check) results.Status {
	switch {
	case c.Status == results.Passed && !c.Measured():
		return results.Failed
	case c.Status == results.Passed, c.Status == results.Skipped, c.Status == results.Failed:
		return c.Status
	}
	return results.Failed
}

// look is how a status is shown: a CSS class for the colour, a word and a shape that say it
// without colour. Anything but a pass or a skip looks like a failure; "" is a check a run did not
// have (a matrix cell).
type look struct{ class, word, mark string }

func lookOf(s results.Status) look {
	switch s {
	case results.Passed:
		return look{"pass", "PASS", "✓"}
	case results.Skipped:
		return look{"skip", "SKIP", "○"}
	case "":
		return look{"none", "not run", "·"}
	}
	return look{"fail", "FAIL", "✗"}
}

func statusClass(s results.Status) string { return lookOf(s).class }
func statusWord(s results.Status) string  { return lookOf(s).word }
func statusMark(s results.Status) string  { return lookOf(s).mark }

func outcomeMark(o results.Outcome) string {
	switch o {
	case results.Pass:
		return "✓"
	case results.Fail:
		return "✗"
	}
	return "!"
}

func outcomeClass(o results.Outcome) string {
	switch o {
	case results.Pass:
		return "pass"
	case results.Fail:
		return "fail"
	}
	return "warn"
}

func dur(ms int64) string {
	return (time.Duration(ms) * time.Millisecond).Round(100 * time.Millisecond).String()
}

// Matrix writes the matrix page; links[i] is the address of run i's page ("" for none).
func Matrix(w io.Writer, m *reports.Matrix, links []string) error {
	return render(w, "matrix.tmpl", "matrix", "netconform matrix", matrixView(m, links))
}

// WriteMatrixFile writes the matrix page to path.
func WriteMatrixFile(path string, m *reports.Matrix, links []string) error {
	return writeFile(path, nil, func(w io.Writer) error { return Matrix(w, m, links) })
}
