package lint

import (
	"encoding/json"
	"fmt"
	"io"
)

// Summary counts findings by severity.
type Summary struct {
	Errors   int `json:"errors"`
	Warnings int `json:"warnings"`
	Infos    int `json:"infos"`
}

// Summarize counts fs by severity.
func Summarize(fs []Finding) Summary {
	var s Summary
	for _, f := range fs {
		switch f.Severity {
		case Error:
			s.Errors++
		case Warning:
			s.Warnings++
		default:
			s.Infos++
		}
	}
	return s
}

func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}

// WriteText writes one line per finding (file:line: severity rule path: message), its fix
// indented below, and a summary line.
func WriteText(w io.Writer, fs []Finding) error {
	for _, f := range fs {
		if _, err := fmt.Fprintf(w, "%s:%d: %s %s %s: %s\n    fix: %s\n", f.File, f.Line, f.Severity, f.Rule, f.Path, f.Message, f.Fix); err != nil {
			return fmt.Errorf("writing findings: %w", err)
		}
	}
	s := Summarize(fs)
	line := "no findings"
	if len(fs) > 0 {
		line = fmt.Sprintf("%s, %s, %s", plural(s.Errors, "error", "errors"), plural(s.Warnings, "warning", "warnings"), plural(s.Infos, "info", "infos"))
	}
	if _, err := fmt.Fprintln(w, line); err != nil {
		return fmt.Errorf("writing summary: %w", err)
	}
	return nil
}

// Report is the JSON output.
type Report struct {
	Findings []Finding `json:"findings"`
	Summary  Summary   `json:"summary"`
}

// WriteJSON writes fs as an indented Report.
func WriteJSON(w io.Writer, fs []Finding) error {
	if fs == nil {
		fs = []Finding{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(Report{Findings: fs, Summary: Summarize(fs)}); err != nil {
		return fmt.Errorf("writing JSON report: %w", err)
	}
	return nil
}
