package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/netconform/netconform/framework/results"
	"github.com/netconform/netconform/reports"
)

func newReportCmd() *cobra.Command {
	var junit string
	cmd := &cobra.Command{
		Use:   "report FILE",
		Short: "Render the Markdown summary (and JUnit) of a result, complete or partial",
		Long: `report renders a result.json written by run or check as the Markdown summary, on standard
output. A result left by a crashed or killed run is partial: it renders as far as it got.
With --junit FILE it also writes JUnit XML.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := results.Load(args[0])
			if err != nil {
				return &exitError{code: exitCouldNotRun, err: err}
			}
			if err := reports.Markdown(cmd.OutOrStdout(), r); err != nil {
				return err
			}
			if junit != "" {
				f, err := os.Create(junit)
				if err != nil {
					return &exitError{code: exitCouldNotRun, err: fmt.Errorf("junit: %w", err)}
				}
				defer f.Close()
				if err := reports.JUnit(f, r); err != nil {
					return err
				}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&junit, "junit", "", "also write JUnit XML to this file")
	cmd.AddCommand(newReportMergeCmd(), newReportHTMLCmd())
	return cmd
}
