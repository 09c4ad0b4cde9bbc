package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/telcoretain/churn"
	"github.com/telcoretain/churn/clickhouse"
	"github.com/telcoretain/churn/dataset"
)

// importArgs are the flags of `churn import`.
type importArgs struct {
	table, file string
	maxErrors   int
	blockRows   int
}

func newImportCmd(a *app) *cobra.Command {
	var args importArgs
	cmd := &cobra.Command{
		Use:   "import --table NAME --csv FILE",
		Short: "Validate an operator's CSV file and load it into a contract table, all or nothing",
		Long: `Load an operator's own data into one input contract table (` + strings.Join(contractTableNames(), ", ") + `).

The file is checked in full before anything is written:
  - the header names every column of the table, in any order, and no others;
  - each cell has the column's type: dates as YYYY-MM-DD, date-times as
    YYYY-MM-DD HH:MM:SS (UTC) or RFC 3339, numbers within the column's bounds,
    enumerations from their list; empty, NA or NULL only where a column is
    nullable;
  - rows obey the table's rules (due_date not before issued_at, resolved_at
    not before opened_at, ids not empty);
  - keys are unique in the file and not already stored, and every reference
    (customer_id, invoice_id) names a stored row.
Every problem is reported as FILE:LINE: column: problem, up to --max-errors,
and nothing is written unless the whole file is valid. The file may be
gzip'd.

Files larger than --block-rows are loaded into a staging table, then moved
into the table partition by partition. If ClickHouse or this command dies
while partitions move, some rows may be visible: run the same command again.
It first takes out the rows of any unfinished import into the table and drops
leftover staging tables (` + "`churn status`" + ` lists them), then loads the file.
On a cluster the rows are staged on their shards and moved shard by shard;
taking them out needs every node to answer (docs/scaling.md).
An import still running in another process of this host is left alone.
Exit status 3 means ClickHouse could not be reached.

Import tables in order: customers first, then the tables that refer to them;
invoices before payments.

Sample files for every table are in dataset/testdata of the source tree.`,
		Example: `  churn import --table customers --csv customers.csv
  churn import --table usage_daily --csv usage-2024-01.csv.gz --max-errors 200`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runImport(cmd.Context(), a, args)
		},
	}
	f := cmd.Flags()
	f.StringVar(&args.table, "table", "", "contract table to load: "+strings.Join(contractTableNames(), ", "))
	f.StringVar(&args.file, "csv", "", "CSV file with a header line, plain or gzip'd")
	f.IntVar(&args.maxErrors, "max-errors", dataset.DefaultMaxErrors, "problems to list before only counting the rest")
	f.IntVar(&args.blockRows, "block-rows", clickhouse.DefaultImportBlockRows,
		"rows per INSERT block; larger files are staged and moved over by partition")
	return cmd
}

func runImport(ctx context.Context, a *app, args importArgs) error {
	const op = "import"
	t, err := importTable(args.table)
	if err != nil {
		return err
	}
	t = t.WithVocabulary(a.op.Vocabulary)
	if args.file == "" {
		return churn.Invalid(op, "--csv", "missing: name the file to import with --csv FILE")
	}
	if args.maxErrors < 1 {
		return churn.Invalid(op, "--max-errors", "%d: want at least 1", args.maxErrors)
	}
	if args.blockRows < 1 {
		return churn.Invalid(op, "--block-rows", "%d: want at least 1", args.blockRows)
	}
	f, size, err := openImportFile(args.file)
	if err != nil {
		return err
	}
	defer f.Close()
	// Connect before reading: the checks need the stored keys, and a server
	// that is down should fail the command at once, not after a long read.
	st, err := a.openStore(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	// An earlier import into this table that a crash cut short may have
	// left some of its rows: take them out first, so that running the same
	// command again loads the file exactly once.
	owner := processOwner()
	recovered, err := st.RecoverImports(ctx, t.Name, clickhouse.ImportOptions{Owner: owner, Running: importRunning})
	for _, r := range recovered {
		fmt.Fprintf(a.stdout, "recovered import %s into %s (stopped at step %q): took out %d %s it had moved, dropped %s\n",
			r.ID, t.Name, r.Step, r.Removed, importPlural(int(r.Removed), "row", "rows"), r.Stage)
	}
	if err != nil {
		return err
	}

	began := time.Now()
	a.log.Info("validating", "file", args.file, "table", t.Name, "bytes", size)
	prog := a.newProgress("validate "+filepath.Base(args.file), "bytes", size)
	cols, err := dataset.ReadCSV(ctx, &importByteCounter{r: f, add: prog.Add}, t,
		dataset.ReadOptions{Name: args.file, MaxErrors: args.maxErrors, Lookup: st})
	prog.End(err)
	var probs *dataset.Problems
	if errors.As(err, &probs) {
		for _, line := range probs.Lines() {
			fmt.Fprintln(a.stderr, line)
		}
		return &churn.Error{Op: op + " " + t.Name, Kind: churn.KindInvalid,
			Msg: fmt.Sprintf("%s has %d %s; nothing was written", args.file, probs.Total, importPlural(probs.Total, "error", "errors"))}
	}
	if err != nil {
		return err
	}

	ins := a.newProgress("insert "+t.Name, "rows", int64(cols.Len()))
	err = st.Import(ctx, t.Name, cols, clickhouse.ImportOptions{
		BlockRows:  args.blockRows,
		AfterBlock: func(n int) { ins.Add(int64(n)) },
		Owner:      owner,
	})
	ins.End(err)
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "imported %d %s into %s.%s from %s in %s\n", cols.Len(), importPlural(cols.Len(), "row", "rows"),
		st.Database(), t.Name, args.file, time.Since(began).Round(time.Millisecond))
	return nil
}

// importRunning says whether the import named by owner may still be running:
// a process of this host with that pid exists. Imports of other hosts are
// taken for stopped, since no process there can be checked.
func importRunning(owner string) bool {
	_, running := localProcess(owner)
	return running
}

// importTable resolves --table, listing the valid names when it is wrong.
func importTable(name string) (dataset.Table, error) {
	if name == "" {
		return dataset.Table{}, churn.Invalid("import", "--table", "missing: name one of %s", strings.Join(contractTableNames(), ", "))
	}
	t, ok := dataset.TableByName(name)
	if !ok {
		return dataset.Table{}, churn.Invalid("import", "--table", "unknown table %q: the contract tables are %s",
			name, strings.Join(contractTableNames(), ", "))
	}
	return t, nil
}

// openImportFile opens the file to import and returns its size for progress.
func openImportFile(path string) (*os.File, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, &churn.Error{Op: "import", Kind: churn.KindInvalid, Field: "--csv", Msg: "cannot open the file", Err: err}
	}
	fi, err := f.Stat()
	if err == nil && fi.IsDir() {
		err = errors.New("is a directory")
	}
	if err != nil {
		f.Close()
		return nil, 0, &churn.Error{Op: "import", Kind: churn.KindInvalid, Field: "--csv", Msg: path, Err: err}
	}
	return f, fi.Size(), nil
}

func contractTableNames() []string {
	out := make([]string, len(dataset.Tables))
	for i, t := range dataset.Tables {
		out[i] = t.Name
	}
	return out
}

// importByteCounter reports the bytes read from the file on disk (compressed or
// not), so progress matches the file's size.
type importByteCounter struct {
	r   io.Reader
	add func(int64)
}

func (c *importByteCounter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.add(int64(n))
	return n, err
}

func importPlural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
