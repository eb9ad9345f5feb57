// Command deferproxy is dbt's "defer to production" for any PostgreSQL client: a wire proxy that rewrites reads of
// dev relations that do not exist to their production relations. See README.md.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
)

func main() {
	// The first SIGINT/SIGTERM cancels ctx (graceful shutdown); after that the default handling is restored so a
	// second Ctrl-C ends the process at once.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop()
	}()
	err := execute(ctx, newRootCmd(), os.Args[1:])
	stop()
	os.Exit(exitCode(err))
}

// exitCode is the process's exit status for err: 0 for success, 2 for a command line or configuration the user must
// fix (an unknown command, flag or argument, a bad value), 1 for anything that failed while running.
func exitCode(err error) int {
	var ue usageError
	var st exitStatus
	switch {
	case err == nil:
		return 0
	case errors.As(err, &st):
		return int(st)
	case errors.As(err, &ue):
		return 2
	}
	return 1
}

// exitStatus is the exit status of a command deferproxy ran (deferproxy exec): deferproxy exits with it and says
// nothing more (the command said what went wrong).
type exitStatus int

func (e exitStatus) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

// usageError marks errors caused by the command line or configuration (exit status 2, like flag errors).
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// newRootCmd builds the whole command tree. Tests (and the docker-compose check) build their own tree with it, so
// nothing here may live in package-level state.
func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "deferproxy",
		Short: "dbt's defer-to-production for any PostgreSQL client, on the wire",
		Long: `deferproxy is a PostgreSQL wire proxy for dbt developers. Point your dev profile (or psql, a BI tool, an IDE)
at it instead of the warehouse: reads of dev relations that do not exist in your dev schema are rewritten to the
production relations named in the production manifest, exactly as "dbt run --defer --state prod/" would resolve them.

Start with "deferproxy demo" (a throwaway PostgreSQL with an example project), then "deferproxy serve --help".`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       version,
	}
	root.SetVersionTemplate("deferproxy {{.Version}}\n")
	root.AddCommand(newServeCmd(), newVersionCmd(), newStatusCmd(), newDemoCmd(), newRewriteCmd(), newManifestCmd(),
		newSetupNotifyCmd(), newExecCmd(), newCheckGrantsCmd())
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageError{fmt.Errorf("%w (see %s --help)", err, c.CommandPath())}
	})
	return root
}

// execute runs the tree with args and prints an error once (cobra's own printing is silenced); main and tests use it.
func execute(ctx context.Context, root *cobra.Command, args []string) error {
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err != nil && isCobraUsage(err) {
		err = usageError{fmt.Errorf("%w (see %s --help)", err, root.CommandPath())}
	}
	var st exitStatus
	if err != nil && !errors.As(err, &st) {
		fmt.Fprintln(root.ErrOrStderr(), "deferproxy:", err)
	}
	return err
}

// isCobraUsage recognises the command-line errors cobra raises before a command runs (unknown command, wrong number
// of arguments), which it returns as plain errors: they exit 2 like flag errors.
func isCobraUsage(err error) bool {
	var ue usageError
	if errors.As(err, &ue) {
		return false // already marked (flag errors carry their own --help hint)
	}
	msg := err.Error()
	for _, p := range []string{"unknown command ", "accepts ", "requires at least ", "requires at most ", "received "} {
		if strings.HasPrefix(msg, p) {
			return true
		}
	}
	return false
}
