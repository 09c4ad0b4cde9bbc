package retention

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"

	"github.com/telcoretain/churn"
)

// CSVFiles hands automated actions over as one CSV file per cycle and
// channel in a directory the campaign system picks up: actions-CYCLE-CHANNEL.csv.
// A later run for the same cycle and channel rewrites the file with the
// rows it had and the new ones; rows already in it are not repeated, so a
// run that died after writing and before recording rewrites the same file.
// Each row's action_id is its idempotency key.
type CSVFiles struct {
	Dir string
}

// CSVHeader is the header row of a dispatch file.
var CSVHeader = []string{"action_id", "customer_id", "cycle", "kind", "channel", "offer", "tier", "band", "reason", "priority", "cost"}

var safeName = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)

// WriteFile merges as into the file of cycle and channel, atomically (a
// temporary file renamed over it).
func (f CSVFiles) WriteFile(ctx context.Context, cycle, channel string, as []churn.Action) (string, error) {
	if !safeName.MatchString(cycle) || !safeName.MatchString(channel) {
		return "", churn.Invalid("write dispatch file", "channel", "cycle %q or channel %q cannot name a file", cycle, channel)
	}
	path := filepath.Join(f.Dir, fmt.Sprintf("actions-%s-%s.csv", cycle, channel))
	rows, err := readRows(path)
	if err != nil {
		return "", err
	}
	have := map[string]bool{}
	for _, r := range rows {
		have[r[0]] = true
	}
	for _, a := range as {
		if !have[a.ID] {
			rows = append(rows, []string{a.ID, a.CustomerID, a.Cycle, string(a.Kind), channelOf(a), a.Offer, string(a.Tier),
				string(a.Band), a.Reason, strconv.Itoa(a.Priority), strconv.FormatFloat(a.Cost, 'f', -1, 64)})
			have[a.ID] = true
		}
	}
	if err := ctx.Err(); err != nil {
		return "", err
	}
	tmp, err := os.CreateTemp(f.Dir, ".actions-*.csv.tmp")
	if err != nil {
		return "", fmt.Errorf("write dispatch file in %s: %w", f.Dir, err)
	}
	defer os.Remove(tmp.Name()) // after the rename, a no-op
	w := csv.NewWriter(tmp)
	_ = w.Write(CSVHeader)
	_ = w.WriteAll(rows) // flushes; the error is w.Error()
	// CreateTemp makes the file private; the campaign system reads it.
	if err := errors.Join(w.Error(), tmp.Chmod(0o644), tmp.Sync(), tmp.Close()); err != nil {
		return "", fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return "", fmt.Errorf("write %s: %w", path, err)
	}
	return path, nil
}

// readRows returns the data rows of an earlier file, none when there is none.
func readRows(path string) ([][]string, error) {
	fh, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	defer fh.Close()
	rows, err := csv.NewReader(fh).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("read %s: %w (move the file away to start it afresh)", path, err)
	}
	if len(rows) > 0 {
		rows = rows[1:]
	}
	return rows, nil
}
