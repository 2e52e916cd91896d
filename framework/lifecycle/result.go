package lifecycle

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/netconform/netconform/framework/redact"
	"github.com/netconform/netconform/framework/results"
	"github.com/netconform/netconform/reports"
	"github.com/netconform/netconform/reports/htmlreport"
)

// NewRecorder starts the run's result in the artifacts directory, redacted from the first
// write on, with netconform's own junit.xml rewritten beside it at every save (ginkgo's report
// is ginkgo-junit.xml): CI finds every phase and check in it, also when setup failed or the run
// was interrupted or killed.
func NewRecorder(artifacts string, r results.Result, red *redact.Redactor) (*results.Recorder, error) {
	return results.NewRecorder(filepath.Join(artifacts, "result.json"), r,
		results.WithRedaction(red.Bytes), results.WithCompanion(filepath.Join(artifacts, "junit.xml"), reports.JUnit))
}

// Finish completes the result, writes the Markdown summary next to it and prints it. It
// returns the verdict (results.Result.Judge, the one place that decides) and, unless the run
// passed, the error to exit with: the run's own error, else the verdict's reasons, redacted.
func Finish(rec *results.Recorder, runErr error, out io.Writer, red *redact.Redactor) (results.Verdict, error) {
	if runErr == nil && rec.Err() != nil {
		// A result that could not be saved is no verdict: the run ends with the first failed save.
		runErr = fmt.Errorf("saving the result: %w", rec.Err())
	}
	if err := rec.Finish(runErr); err != nil {
		fmt.Fprintln(os.Stderr, "netconform: could not write result:", err)
	}
	r := rec.Snapshot()
	dir := filepath.Dir(rec.Path())
	summary := filepath.Join(dir, "summary.md")
	var md strings.Builder
	if err := reports.Markdown(&md, &r); err != nil {
		fmt.Fprintln(os.Stderr, "netconform: could not render summary:", err)
	}
	text := red.String(md.String())
	if err := os.WriteFile(summary, []byte(text), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "netconform: could not write summary:", err)
	}
	page := writePage(rec.Path(), red)
	fmt.Fprintln(out)
	io.WriteString(out, text)
	fmt.Fprintf(out, "\nresult: %s\nsummary: %s\njunit: %s\n", rec.Path(), summary, filepath.Join(dir, "junit.xml"))
	if page != "" {
		fmt.Fprintf(out, "report: %s\n", page)
	}
	v := r.Judge()
	switch {
	case v.Passed():
		return v, nil
	case runErr != nil:
		return v, errors.New(red.String(runErr.Error()))
	}
	return v, errors.New(red.String(strings.Join(v.Reasons, "; ")))
}

// writePage writes report.html beside the result, rendered from the result as saved (redacted)
// and redacted again as a page; "" when it could not be written, which is said on standard error
// and does not change the verdict.
func writePage(resultPath string, red *redact.Redactor) string {
	saved, err := results.Load(resultPath)
	if err == nil {
		err = htmlreport.WriteRunDir(filepath.Dir(resultPath), saved, red.Bytes)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "netconform: could not write the HTML report:", err)
		return ""
	}
	return filepath.Join(filepath.Dir(resultPath), htmlreport.FileName)
}

// WriteRefusal leaves a result saying why the run could not start (a provider that cannot be
// installed here), so that a matrix of runs shows the entry with its reason instead of leaving
// it out.
func WriteRefusal(artifacts string, r results.Result, why error, red *redact.Redactor) error {
	rec, err := NewRecorder(artifacts, r, red)
	if err == nil {
		err = rec.Finish(why)
	}
	if err == nil {
		writePage(rec.Path(), red)
	}
	return err
}
