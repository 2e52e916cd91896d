package main

import (
	"context"
	"errors"
	"fmt"
	"github.com/netconform/netconform/framework/kube"
	"os"

	"github.com/spf13/cobra"

	"github.com/netconform/netconform/framework/platform/kind"
)

func newDeleteCmd() *cobra.Command {
	var name string
	cmd := &cobra.Command{
		Use:   "delete --name RUN-ID",
		Short: "Delete a kind cluster a run kept (--keep), with its docker network",
		Long: `delete deletes a kind cluster a run kept (--keep, KEEP=1), with its docker network. The
whole cluster goes, so probe agents a check --keep-agents left in it go with it; to remove only
the agents from a cluster that stays, use check --remove-agents.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if name == "" {
				return &exitError{code: exitCouldNotRun, err: errors.New("--name is required")}
			}
			ctx, cancel := context.WithTimeout(context.WithoutCancel(cmd.Context()), kube.DefaultTimeouts().ClusterDelete)
			defer cancel()
			dir, err := os.MkdirTemp("", "netconform-delete-")
			if err != nil {
				return err
			}
			defer os.RemoveAll(dir)
			if err := kind.New(name, dir).Delete(ctx); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "deleted kind cluster %s\n", name)
			return nil
		},
	}
	cmd.Flags().StringVar(&name, "name", "", "the run id (kind cluster name) to delete")
	return cmd
}
