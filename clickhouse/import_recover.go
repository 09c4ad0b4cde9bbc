package clickhouse

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/telcoretain/churn"
	"github.com/telcoretain/churn/dataset"
)

// Steps of a staged import in import_journal, in the order they happen.
const (
	stepStaging = "staging" // the staging table exists and is being loaded
	stepMoving  = "moving"  // partitions may be moving into the target table
	stepDone    = "done"    // every partition moved
	stepUndone  = "undone"  // the moved rows were taken out again
)

// stageRE matches the name of a staging table: <table>_import_<import id>,
// with _local for its local tables on a cluster.
var stageRE = regexp.MustCompile(`^([a-z_]+)_import_([0-9a-f]{12})(_local)?$`)

func stageName(table, id string) string { return table + "_import_" + id }

// PendingImport is a staged import whose staging table is still there: one
// that was stopped (by a crash, a lost connection, a killed process) before
// it finished or was undone, or that finished but could not drop its table.
type PendingImport struct {
	ID    string // the import's id, the suffix of its staging table
	Table string // the contract table it loads
	Stage string // its staging table
	Rows  uint64 // rows of the file, 0 when the journal has no row for it
	// Step is the last step the journal recorded: "staging" (nothing moved),
	// "moving" (some rows may be in Table), "done" or "undone"; empty when
	// the journal has none.
	Step    string
	Started time.Time // when it began, zero when the journal has no row
	Owner   string    // the process that ran it (ImportOptions.Owner)
}

// Moving says whether some of the import's rows may be in its table.
func (p PendingImport) Moving() bool { return p.Step == stepMoving }

// journal records a step of an import.
func (c *Client) journal(ctx context.Context, imp PendingImport, step string, at time.Time) error {
	err := c.insertRow(ctx, "import_journal", []string{"import_id", "table_name", "stage", "step", "rows", "owner", "at"},
		imp.ID, imp.Table, imp.Stage, step, imp.Rows, imp.Owner, at.UTC().Truncate(time.Second))
	if err != nil {
		return fmt.Errorf("record step %s of import %s into %s: %w", step, imp.ID, imp.Table, c.unmigrated("journal", "import_journal", err))
	}
	return nil
}

// dropStage drops a staging table, logging a failure: it runs on the way out
// of an import that already has an error or a result to return.
func (c *Client) dropStage(ctx context.Context, stage string) {
	if err := c.dropStageTables(ctx, stage); err != nil {
		c.log.Warn("import: could not drop the staging table", "table", stage, "err", err)
	}
}

// keyMatch is the condition that selects the rows of t whose key is in stage.
func keyMatch(t dataset.Table, stage string) string {
	key := strings.Join(t.Key, ", ")
	if len(t.Key) == 1 {
		return fmt.Sprintf("%s IN (SELECT %s FROM %s)", key, key, stage)
	}
	return fmt.Sprintf("(%s) IN (SELECT %s FROM %s)", key, key, stage)
}

// undoImport takes out of t the rows of imp that were moved into it, found by
// the keys in its staging table, waits until the delete has run (the mutation
// reads the staging table, which must outlive it), and records the import as
// undone. It returns the rows taken out.
func (c *Client) undoImport(ctx context.Context, t dataset.Table, imp PendingImport, opts ImportOptions) (uint64, error) {
	if c.cfg.Cluster != "" {
		return c.undoClusterImport(ctx, t, imp, opts)
	}
	op := fmt.Sprintf("undo import %s into %s", imp.ID, t.Name)
	match := keyMatch(t, imp.Stage)
	var present uint64
	// Names come from the contract and from system.tables, not from input.
	if err := c.conn.QueryRow(ctx, "SELECT count() FROM "+t.Name+" WHERE "+match).Scan(&present); err != nil {
		return 0, wrap(op, c.cfg, err)
	}
	// An 18.16 mutation rewrites every part of the table: skip it when no
	// partition had moved.
	if present > 0 {
		if err := c.conn.Exec(ctx, "ALTER TABLE "+t.Name+" DELETE WHERE "+match); err != nil {
			return 0, wrap(op, c.cfg, err)
		}
		if err := c.awaitMutations(ctx, op, t.Name, time.Now().Add(opts.UndoWait)); err != nil {
			return 0, err
		}
	}
	// The rollups of the staged months may hold rows that are gone now (a
	// delete fires no view), or miss rows moved before a crash: rebuild
	// them even when nothing is left to delete, since an earlier undo may
	// have died between its delete and this rebuild.
	parts, err := c.partitions(ctx, imp.Stage)
	if err != nil {
		return 0, err
	}
	if err := c.refreshRollups(ctx, t.Name, parts...); err != nil {
		return 0, fmt.Errorf("%s: %w", op, err)
	}
	return present, c.journal(ctx, imp, stepUndone, opts.Now())
}

// PendingImports lists the staging tables of imports found in the database,
// with what the journal knows of each, oldest first.
func (c *Client) PendingImports(ctx context.Context) ([]PendingImport, error) {
	const op = "list unfinished imports"
	var out []PendingImport
	err := c.each(ctx, op, `SELECT name FROM system.tables
WHERE database = currentDatabase() AND name LIKE '%\\_import\\_%' ORDER BY name`, func(s scanner) error {
		var name string
		if err := s.Scan(&name); err != nil {
			return err
		}
		m := stageRE.FindStringSubmatch(name)
		if m == nil {
			return nil
		}
		// On a cluster both tables of one import are listed (the local one
		// alone after a drop cut short): the import once, by its stage.
		stage := stageName(m[1], m[2])
		if _, ok := dataset.TableByName(m[1]); ok && !slices.ContainsFunc(out, func(p PendingImport) bool { return p.Stage == stage }) {
			out = append(out, PendingImport{ID: m[2], Table: m[1], Stage: stage})
		}
		return nil
	})
	if err != nil || len(out) == 0 {
		return out, err
	}
	ids := make([]string, len(out))
	for i, p := range out {
		ids[i] = p.ID
	}
	type entry struct {
		steps   []string
		rows    uint64
		owner   string
		started time.Time
	}
	seen := map[string]entry{}
	err = c.each(ctx, op, `SELECT import_id, groupUniqArray(step), max(rows), any(owner), min(at) FROM import_journal
WHERE has(?, import_id) GROUP BY import_id`, func(s scanner) error {
		var id string
		var e entry
		if err := s.Scan(&id, &e.steps, &e.rows, &e.owner, &e.started); err != nil {
			return err
		}
		seen[id] = e
		return nil
	}, ids)
	if err != nil {
		return nil, c.unmigrated(op, "import_journal", err)
	}
	for i, p := range out {
		e, ok := seen[p.ID]
		if !ok {
			continue
		}
		p.Rows, p.Started, p.Owner = e.rows, e.started, e.owner
		// The latest step is the furthest one recorded.
		for _, step := range []string{stepStaging, stepMoving, stepDone, stepUndone} {
			if slices.Contains(e.steps, step) {
				p.Step = step
			}
		}
		out[i] = p
	}
	slices.SortStableFunc(out, func(a, b PendingImport) int { return a.Started.Compare(b.Started) })
	return out, nil
}

// RecoveredImport is a pending import that RecoverImports settled.
type RecoveredImport struct {
	PendingImport
	Removed uint64 // rows it had moved into the table and that were taken out
}

// RecoverImports settles every pending import into table, so that none of its
// rows stay visible: an import stopped while moving partitions has the rows it
// moved taken out (found by the keys in its staging table), then every staging
// table of the table is dropped. `churn import` runs it before it validates a
// file, so running a failed import again loads the file exactly once.
//
// An import whose owner opts.Running reports as still running is left
// alone: two imports into one table may run at once.
func (c *Client) RecoverImports(ctx context.Context, table string, opts ImportOptions) ([]RecoveredImport, error) {
	t, ok := dataset.TableByName(table)
	if !ok {
		return nil, churn.Invalid("recover imports", "table", "%q is not a contract table", table)
	}
	if opts.UndoWait <= 0 {
		opts.UndoWait = 5 * time.Minute
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	pending, err := c.PendingImports(ctx)
	if err != nil {
		return nil, err
	}
	var out []RecoveredImport
	for _, p := range pending {
		if p.Table != t.Name {
			continue
		}
		if p.Owner != "" && p.Step != stepDone && p.Step != stepUndone && opts.Running != nil && opts.Running(p.Owner) {
			c.log.Info("import: another import into the table is running", "import", p.ID, "table", t.Name, "owner", p.Owner)
			continue
		}
		r := RecoveredImport{PendingImport: p}
		if p.Moving() {
			if r.Removed, err = c.undoImport(ctx, t, p, opts); err != nil {
				return out, fmt.Errorf("recover import %s into %s: %w", p.ID, t.Name, err)
			}
		}
		if err := c.dropStageTables(ctx, p.Stage); err != nil {
			return out, wrap(fmt.Sprintf("recover import %s: drop the staging table %s", p.ID, p.Stage), c.cfg, err)
		}
		c.log.Info("import recovered", "import", p.ID, "table", t.Name, "step", p.Step, "rows_removed", r.Removed, "staging_table", p.Stage)
		out = append(out, r)
	}
	return out, nil
}
