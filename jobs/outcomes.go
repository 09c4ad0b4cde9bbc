package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/telcoretain/churn"
	"github.com/telcoretain/churn/retention"
)

// Outcomes labels each planned customer (treated and control) of every
// cycle whose horizon has passed as churned or retained, once. The horizon
// has passed when the data reaches it, not the wall clock: churn that has
// not been loaded yet must not count as retention.
type Outcomes struct {
	Churn   ChurnReader
	Labels  OutcomeLog
	Actions ActionLister
	// Archive, when set, archives the labelled cycles the policy's
	// ArchiveAfterDays have passed for (Policy.ArchiveAfterDays).
	Archive CycleArchiver
	Policy  func() *retention.Policy
	Log     *slog.Logger
	Now     func() time.Time
	// Inactivity is the prepaid churn's days without activity: with prepaid
	// customers a cycle waits for them after its horizon. 0:
	// churn.DefaultPrepaidInactivity.
	Inactivity int
}

// OutcomesResult says what a run labelled.
type OutcomesResult struct {
	Labeled  []string // cycles labelled by this run
	Waiting  []string // cycles whose horizon the data does not reach yet
	Archived []string // cycles archived by this run
	Rows     int
}

// Run labels every cycle that is ready.
func (j *Outcomes) Run(ctx context.Context) (*OutcomesResult, error) {
	log, now := j.Log, j.Now
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if now == nil {
		now = time.Now
	}
	pol := j.Policy()
	horizon := pol.HorizonDays
	_, last, err := j.Churn.UsageRange(ctx)
	if err != nil {
		return nil, err
	}
	dataEnd := last.AddDate(0, 0, 1)
	settle, err := settleDays(ctx, j.Churn, j.Inactivity)
	if err != nil {
		return nil, err
	}
	done, err := j.Labels.LabeledCycles(ctx)
	if err != nil {
		return nil, err
	}
	actions, err := j.Actions.Actions()
	if err != nil {
		return nil, err
	}
	byCycle := map[string][]churn.Action{}
	for _, a := range actions {
		if a.Rule != retention.RuleManual && !done[a.Cycle] {
			byCycle[a.Cycle] = append(byCycle[a.Cycle], a)
		}
	}
	res := &OutcomesResult{}
	var all []churn.Outcome
	for cycle, as := range byCycle {
		from, err := retention.CycleDate(cycle)
		if err != nil {
			return nil, err
		}
		to := from.AddDate(0, 0, horizon)
		if to.AddDate(0, 0, settle).After(dataEnd) {
			res.Waiting = append(res.Waiting, cycle)
			continue
		}
		churned, err := j.Churn.ChurnedBetween(ctx, from, to)
		if err != nil {
			return nil, err
		}
		all = append(all, retention.Label(as, churned)...)
		res.Labeled = append(res.Labeled, cycle)
	}
	slices.Sort(res.Labeled)
	slices.Sort(res.Waiting)
	if len(all) > 0 {
		at := now().UTC()
		for i := range all {
			all[i].HorizonDays, all[i].LabeledAt = horizon, at
		}
		if err := j.Labels.WriteActionOutcomes(ctx, all); err != nil {
			return nil, fmt.Errorf("label outcomes of cycles %v: %w", res.Labeled, err)
		}
	}
	res.Rows = len(all)
	for _, c := range res.Labeled {
		done[c] = true
	}
	log.Info("retention outcomes labelled", "cycles", res.Labeled, "waiting", res.Waiting, "customers", res.Rows,
		"data_end", dataEnd.Format(time.DateOnly))
	if j.Archive != nil && pol.ArchiveAfterDays > 0 {
		due := archiveDue(actions, done, dataEnd.AddDate(0, 0, -pol.ArchiveAfterDays))
		if res.Archived, err = j.Archive.ArchiveCycles(ctx, "job:outcomes", due); err != nil {
			// the labels are stored: the result says so, and the next
			// run archives again
			return res, fmt.Errorf("archive cycles %v (their outcomes are labelled): %w", due, err)
		}
		if len(res.Archived) > 0 {
			log.Info("retention cycles archived: their closed actions left the queue", "cycles", res.Archived,
				"archive_after_days", pol.ArchiveAfterDays)
		}
	}
	return res, nil
}

// archiveDue returns the cycles of actions dated on or before cutoff whose
// outcomes are labelled (or that hold manual actions only, which are never
// labelled), sorted.
func archiveDue(actions []churn.Action, labelled map[string]bool, cutoff time.Time) []string {
	planned := map[string]bool{}
	for _, a := range actions {
		planned[a.Cycle] = planned[a.Cycle] || a.Rule != retention.RuleManual
	}
	var due []string
	for c, p := range planned {
		if d, err := retention.CycleDate(c); err == nil && !d.After(cutoff) && (labelled[c] || !p) {
			due = append(due, c)
		}
	}
	slices.Sort(due)
	return due
}

// OutcomesJob runs Outcomes as a scheduled job, counting the labels written.
type OutcomesJob struct{ Outcomes *Outcomes }

// Run labels every cycle whose horizon has passed.
func (j OutcomesJob) Run(ctx context.Context) error {
	res, err := j.Outcomes.Run(ctx)
	if res != nil {
		AddRows(ctx, int64(res.Rows))
	}
	return err
}

// settleDays is how many days after a horizon its churn is known: the
// prepaid inactivity when any customer is prepaid, else 0.
func settleDays(ctx context.Context, st interface {
	HasPrepaid(context.Context) (bool, error)
}, inactivity int) (int, error) {
	prepaid, err := st.HasPrepaid(ctx)
	if err != nil || !prepaid {
		return 0, err
	}
	if inactivity == 0 {
		inactivity = churn.DefaultPrepaidInactivity
	}
	return inactivity, nil
}
