// Command churn is the churn-prediction and retention service: one binary with
// subcommands to set up the schema, load data, build features, train and score
// models, and serve the HTTP API. Run `churn --help` for the list.
//
// Exit codes: 0 success, 1 failure, 2 invalid input or usage, 3 ClickHouse
// unavailable, 4 not found, 130 stopped by SIGINT or SIGTERM.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/telcoretain/churn"
	"github.com/telcoretain/churn/model/liblinear"
)

func main() {
	// Training fits liblinear in a child process that is this executable
	// started again (see package model/liblinear); it does nothing else.
	if liblinear.IsChild() {
		os.Exit(liblinear.RunChild())
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// The first signal cancels ctx and the command stops cleanly; stop then
	// restores the default handling, so a second one kills at once.
	context.AfterFunc(ctx, stop)
	code := execute(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop() // after execute has read ctx: stop cancels it too
	os.Exit(code)
}

// execute runs the command line args until ctx ends and returns the exit
// code: that of the error's kind, or exitStopped when the command failed
// after ctx ended (stopped by a signal, not failed: the shell's
// convention).
func execute(ctx context.Context, args []string, stdout, stderr *os.File) int {
	cmd := newRootCmd(stdout, stderr)
	cmd.SetArgs(args)
	code := exitCode(stderr, cmd.ExecuteContext(ctx))
	if code != 0 && ctx.Err() != nil {
		code = exitStopped
	}
	return code
}

// exitStopped is the exit code of a command stopped by SIGINT or SIGTERM.
const exitStopped = 130

// exitCode prints err for people and maps its kind to the process exit code.
func exitCode(w *os.File, err error) int {
	if err == nil {
		return 0
	}
	fmt.Fprintf(w, "churn: %v\n", err)
	var uerr usageError
	if errors.As(err, &uerr) {
		return 2
	}
	switch churn.ErrorKind(err) {
	case churn.KindInvalid:
		return 2
	case churn.KindUnavailable:
		return 3
	case churn.KindNotFound:
		return 4
	}
	return 1
}

// usageError marks errors in flags and arguments, detected by cobra.
type usageError struct{ error }

func (u usageError) Unwrap() error { return u.error }

func newRootCmd(stdout, stderr *os.File) *cobra.Command {
	a := &app{stdout: stdout, stderr: stderr}
	root := &cobra.Command{
		Use:   "churn",
		Short: "Churn prediction and retention for telecom operators",
		Long: `churn predicts which telecom customers are about to leave, explains why, and
queues retention actions by customer value. Data lives in ClickHouse.

Start with:  churn migrate && churn seed && churn status`,
		SilenceUsage:      true,
		SilenceErrors:     true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error { return a.init(cmd) },
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return usageError{fmt.Errorf("%w (see `%s --help`)", err, cmd.CommandPath())}
	})
	a.cfg.bindFlags(root)
	root.AddCommand(
		newConfigCmd(a),
		newMigrateCmd(a),
		newStatusCmd(a),
		newSeedCmd(a),
		newImportCmd(a),
		newModelsCmd(a), newUpliftCmd(a),
		newServeCmd(a),
		newTrainCmd(a),
		newPredictCmd(a),
		newScoreCmd(a),
		newFeaturesCmd(a), newCustomersCmd(a),
		newActionsCmd(a), newPolicyCmd(a),
		newJobsCmd(a),
	)
	return root
}
