package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// newSeedCmd is being written (issue 3); this placeholder keeps the build green.
func newSeedCmd(a *app) *cobra.Command {
	return &cobra.Command{Use: "seed", Short: "Load a synthetic telecom data set",
		RunE: func(cmd *cobra.Command, _ []string) error { return errors.New("seed: not built yet") }}
}
