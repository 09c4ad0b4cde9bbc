package jobs

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/telcoretain/churn"
	"github.com/telcoretain/churn/retention"
)

// Actions plans the retention actions of the latest scoring run under the
// policy in force and queues them. Planning a run again queues nothing new:
// action ids are deterministic, customers already planned in the cycle are
// skipped and the cycle's spent budget is counted.
type Actions struct {
	Runs   ScoreRuns
	Queue  ActionQueue
	Policy func() *retention.Policy
	RunID  string    // plan from this run instead of the latest (with AsOf)
	AsOf   time.Time // the run's as-of date when RunID is set
	DryRun bool      // plan only: queue nothing
	// Outcomes, when set, are the labelled outcomes response rates are
	// learned from (retention.Learn); nil plans with the policy's rates.
	Outcomes OutcomeReader
	// Rand, when set, gives the random source of a cycle's exploration
	// (retention.PlanRand); nil explores nothing.
	Rand func(p *retention.Policy, cycle string) *rand.Rand
	// Uplift estimates the customers' uplift when the policy targets by
	// uplift; nil (or no uplift champion) plans by risk and says why.
	Uplift *UpliftScorer
	Log    *slog.Logger
	Now    func() time.Time
	// Progress, when set, hears the number of scores read.
	Progress func(n int64)
}

// ActionsResult is what a run planned and queued.
type ActionsResult struct {
	Plan  *retention.Plan
	Added int // events appended; 0 on a dry run or a repeated run
}

// Run plans and, unless DryRun, queues.
func (j *Actions) Run(ctx context.Context) (*ActionsResult, error) {
	log := j.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	runID, asOf := j.RunID, j.AsOf
	if runID == "" {
		run, err := j.Runs.LatestFinishedRun(ctx)
		if err != nil {
			return nil, err
		}
		if run == nil {
			return nil, churn.Errorf(churn.KindNotFound, "plan actions", "no finished scoring run: run `churn score` first")
		}
		runID, asOf = run.ID, run.AsOf
	}
	var scores []churn.Score
	err := j.Runs.ScanRunScores(ctx, runID, func(s churn.Score) error {
		scores = append(scores, s)
		if j.Progress != nil && len(scores)%10000 == 0 {
			j.Progress(10000)
		}
		return ctx.Err()
	})
	if err != nil {
		return nil, err
	}
	if j.Progress != nil {
		j.Progress(int64(len(scores) % 10000))
	}
	if len(scores) == 0 {
		return nil, churn.Errorf(churn.KindNotFound, "plan actions", "scoring run %s has no scores", runID)
	}
	existing, archive, err := j.Queue.History()
	if err != nil {
		return nil, err
	}
	pol, cycle := j.Policy(), retention.Cycle(asOf)
	pl := &retention.Planner{Policy: pol, Now: j.Now, Archive: archive}
	if j.Outcomes != nil {
		outs, err := j.Outcomes.ActionOutcomes(ctx)
		if err != nil {
			return nil, err
		}
		pl.Learned = retention.Learn(outs, pol.PriorStrength)
	}
	if j.Rand != nil {
		pl.Rand = j.Rand(pol, cycle)
	}
	var note string
	if pol.Targeting == retention.TargetUplift {
		// only the customers a rule acts on: the plan reads no one else's
		// uplift, and at a million customers the two predictions for all
		// would cost seconds
		up, v, why, err := j.Uplift.Score(ctx, asOf, pol.Actionable(scores))
		if err != nil {
			return nil, err
		}
		pl.Uplift, note = up, why
		if up == nil {
			log.Warn("the policy targets by uplift but the plan ranks by risk", "cycle", cycle, "why", why)
			note = "ranked by risk: " + why
		} else {
			log.Info("the plan ranks by uplift", "cycle", cycle, "uplift_model", v)
		}
	}
	plan, err := pl.Plan(cycle, runID, scores, existing)
	if err != nil {
		return nil, err
	}
	plan.TargetingNote = note
	res := &ActionsResult{Plan: plan}
	if !j.DryRun {
		if res.Added, err = j.Queue.Enqueue(ctx, "job:actions", plan.Actions, plan.Control); err != nil {
			return nil, err
		}
	}
	log.Info("retention actions planned", "run", runID, "cycle", plan.Cycle, "actions", len(plan.Actions),
		"control", len(plan.Control), "explored", plan.Explored, "spent", plan.Spent, "budget_left", plan.Budget-plan.Spent,
		"added", res.Added, "dry_run", j.DryRun, "targeting", plan.Targeting)
	return res, nil
}

// ActionsJob runs Actions as a scheduled job, counting the events queued.
type ActionsJob struct{ Actions *Actions }

// Run plans the latest scoring run's actions and queues them.
func (j ActionsJob) Run(ctx context.Context) error {
	res, err := j.Actions.Run(ctx)
	if res != nil {
		AddRows(ctx, int64(res.Added))
	}
	return err
}
