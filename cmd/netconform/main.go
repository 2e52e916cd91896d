// Command netconform provisions clusters, installs a Kubernetes networking mode, verifies it
// with conformance suites and reports the results.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

// Exit codes: scripts tell "the network is broken" from "netconform could not run".
const (
	exitOK          = 0
	exitChecksFail  = 1
	exitCouldNotRun = 2
)

// exitError carries an exit code up to main.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func main() {
	// The first SIGINT/SIGTERM cancels the context so that every phase cleans up; a second
	// one falls through to the default handler and kills the process.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root := newRootCmd()
	err := root.ExecuteContext(ctx)
	if err == nil {
		return
	}
	fmt.Fprintln(os.Stderr, "netconform:", err)
	var ee *exitError
	if errors.As(err, &ee) {
		os.Exit(ee.code)
	}
	os.Exit(exitCouldNotRun)
}

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "netconform",
		Short:         "Conformance harness for Kubernetes networking modes",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	for _, sub := range []func() *cobra.Command{
		newVersionCmd,
		newRunCmd,
		newCheckCmd,
		newDeleteCmd,
		newProvidersCmd,
		newLintCmd,
		newAWSCmd,
		newSimulateCmd,
		newCleanupCmd,
		newReportCmd,
		newSwitchCmd,
		newMatrixCmd,
	} {
		root.AddCommand(sub())
	}
	refuseUnknownSubcommands(root)
	return root
}
