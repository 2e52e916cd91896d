package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/netconform/netconform/reports"
	"github.com/netconform/netconform/reports/htmlreport"
)

type htmlOptions struct {
	out string
}

// newReportHTMLCmd is `netconform report html`: the HTML pages of any results, also of runs made
// before netconform wrote report.html itself, or results gathered from several CI jobs.
func newReportHTMLCmd() *cobra.Command {
	o := &htmlOptions{}
	cmd := &cobra.Command{
		Use:   "html RESULT...",
		Short: "Render results as self-contained HTML pages (a run page, or a matrix with a page per run)",
		Long: `html renders result.json files (a file, or a directory holding result.json or run directories
that do) as HTML into --out. One result: --out/report.html is its run page (a switch page, with the
probe timeline, when disruption.json is beside the result). Several: --out/report.html is the
matrix page and --out/runs/ holds a page per run, linked from it. Every page is one file with
nothing to fetch: it opens from disk in any browser, also on machines without network.

Exit codes: 0 the pages were written (whatever the verdicts), 2 they could not be.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := runHTML(o, args, cmd.OutOrStdout(), time.Now()); err != nil {
				return &exitError{code: exitCouldNotRun, err: err}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&o.out, "out", "", "directory for report.html (required)")
	return cmd
}

func runHTML(o *htmlOptions, args []string, stdout io.Writer, now time.Time) error {
	if o.out == "" {
		return fmt.Errorf("--out is required: the directory for report.html")
	}
	srcs, err := loadResults(args)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return fmt.Errorf("report directory: %w", err)
	}
	index := filepath.Join(o.out, htmlreport.FileName)
	if len(srcs) == 1 {
		s := srcs[0]
		if err := htmlreport.WriteRunPage(index, s.Result, filepath.Dir(s.Path), "", nil); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "report: %s (%s)\n", index, s.Result.Judge().Outcome)
		return nil
	}
	m := reports.BuildMatrix(srcs, now)
	runs := filepath.Join(o.out, "runs")
	if err := os.MkdirAll(runs, 0o755); err != nil {
		return fmt.Errorf("report directory: %w", err)
	}
	links := make([]string, len(srcs))
	for i, s := range srcs {
		page := filepath.Join(runs, fmt.Sprintf("%02d-%s.html", i+1, slug(m.Runs[i].Label)))
		if err := htmlreport.WriteRunPage(page, s.Result, filepath.Dir(s.Path), htmlreport.Href(runs, index), nil); err != nil {
			return err
		}
		links[i] = htmlreport.Href(o.out, page)
	}
	if err := htmlreport.WriteMatrixFile(index, m, links); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "report: %s (matrix of %d runs; their pages in %s)\n", index, len(srcs), runs)
	return nil
}

var (
	unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)
	dashes     = regexp.MustCompile(`-{2,}`)
)

// slug makes a column label a file name: "flannel -> calico (mtu=1400)" is "flannel-calico-mtu-1400".
func slug(s string) string {
	out := strings.Trim(dashes.ReplaceAllString(unsafeName.ReplaceAllString(s, "-"), "-"), "-")
	if len(out) > 60 {
		out = out[:60]
	}
	return out
}
