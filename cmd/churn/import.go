package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// newImportCmd is being written (issue 3); this placeholder keeps the build green.
func newImportCmd(a *app) *cobra.Command {
	return &cobra.Command{Use: "import", Short: "Import a CSV file into a contract table",
		RunE: func(cmd *cobra.Command, _ []string) error { return errors.New("import: not built yet") }}
}
