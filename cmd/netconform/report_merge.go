package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/netconform/netconform/framework/results"
	"github.com/netconform/netconform/reports"
	"github.com/netconform/netconform/reports/htmlreport"
)

type mergeOptions struct {
	out string
}

// newReportMergeCmd is `netconform report merge`: results of separate runs (one per provider,
// or one per CI job) into one compatibility matrix.
func newReportMergeCmd() *cobra.Command {
	o := &mergeOptions{}
	cmd := &cobra.Command{
		Use:   "merge RESULT...",
		Short: "Merge result.json files of several runs into a compatibility matrix (matrix.md, matrix.json, report.html)",
		Long: `merge reads the result.json of several runs (a file, or a directory holding result.json or
run directories that do) and writes a compatibility matrix: matrix.md (one row per check, one column
per provider run, with each run's platform, Kubernetes version and kernel), matrix.json and the
matrix as an HTML page (report.html, linking each column to the run's own report.html), into --out.
Columns keep the order given, except the runs of a matrix plan's cells ('netconform matrix plan'),
which come first in the plan's order however they were sharded and gathered. Skipped checks carry
their reasons; a run that could not run shows why. The Markdown also goes to standard output.

Exit codes: 0 the matrix was written (whatever the verdicts), 2 it could not be.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := runMerge(o, args, cmd.OutOrStdout(), time.Now()); err != nil {
				return &exitError{code: exitCouldNotRun, err: err}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&o.out, "out", ".", "directory for matrix.md, matrix.json and report.html")
	return cmd
}

func runMerge(o *mergeOptions, args []string, stdout io.Writer, now time.Time) error {
	srcs, err := loadResults(args)
	if err != nil {
		return err
	}
	m := reports.BuildMatrix(srcs, now)
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return fmt.Errorf("matrix directory: %w", err)
	}
	if err := writeFile(filepath.Join(o.out, "matrix.json"), m.WriteJSON); err != nil {
		return err
	}
	mdPath := filepath.Join(o.out, "matrix.md")
	if err := writeFile(mdPath, m.WriteMarkdown); err != nil {
		return err
	}
	// The matrix page links each column to the run's own report.html where the run wrote one.
	links := make([]string, len(srcs))
	for i, s := range srcs {
		if page := filepath.Join(filepath.Dir(s.Path), htmlreport.FileName); fileExists(page) {
			links[i] = htmlreport.Href(o.out, page)
		}
	}
	htmlPath := filepath.Join(o.out, htmlreport.FileName)
	if err := htmlreport.WriteMatrixFile(htmlPath, m, links); err != nil {
		return err
	}
	if err := m.WriteMarkdown(stdout); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\nmatrix: %s, %s, %s (%d runs)\n", mdPath, filepath.Join(o.out, "matrix.json"), htmlPath, len(srcs))
	return nil
}

// loadResults reads every result the arguments name (see resultPaths), all before anything is
// written: one bad input leaves nothing half made. The results of a matrix plan's cells come in
// the plan's order (reports.PlanOrder), whatever order or grouping they were given in.
func loadResults(args []string) ([]reports.Source, error) {
	paths, err := resultPaths(args)
	if err != nil {
		return nil, err
	}
	var srcs []reports.Source
	for _, p := range paths {
		r, err := results.Load(p)
		if err != nil {
			return nil, err
		}
		srcs = append(srcs, reports.Source{Path: p, Result: r})
	}
	reports.PlanOrder(srcs)
	return srcs, nil
}

// resultPaths expands the arguments: a file is a result; a directory is its result.json, or
// else every result.json one level below it, in name order.
func resultPaths(args []string) ([]string, error) {
	var out []string
	for _, a := range args {
		st, err := os.Stat(a)
		if err != nil {
			return nil, fmt.Errorf("result %s: %w", a, err)
		}
		if !st.IsDir() {
			out = append(out, a)
			continue
		}
		if _, err := os.Stat(filepath.Join(a, "result.json")); err == nil {
			out = append(out, filepath.Join(a, "result.json"))
			continue
		}
		found, _ := filepath.Glob(filepath.Join(a, "*", "result.json"))
		if len(found) == 0 {
			return nil, fmt.Errorf("directory %s holds no result.json, nor run directories with one", a)
		}
		out = append(out, found...)
	}
	if len(out) == 0 {
		return nil, errors.New("no results to merge")
	}
	return out, nil
}

func writeFile(path string, write func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := write(f); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
