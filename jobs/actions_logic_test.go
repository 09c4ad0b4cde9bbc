package jobs_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/telcoretain/churn"
	"github.com/telcoretain/churn/jobs"
	"github.com/telcoretain/churn/retention"
	"github.com/telcoretain/churn/retention/retentiontest"
)

func defaultPolicy(t *testing.T) func() *retention.Policy {
	t.Helper()
	pol, err := retention.LoadFile("../policies/default.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return func() *retention.Policy { return pol }
}

// memQueue is a loaded queue over an in-memory action log.
func memQueue(t *testing.T) (*retention.Queue, *retentiontest.Log) {
	t.Helper()
	log := &retentiontest.Log{}
	q := retention.NewQueue(log, retention.QueueOptions{})
	if err := q.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	return q, log
}

func TestActionsPlanTheLatestFinishedRunOnce(t *testing.T) {
	st := newMemStore(0)
	ctx := context.Background()
	scoredRun(t, st, time.Date(2025, 5, 1, 0, 0, 0, 0, time.UTC), 500)
	latest := scoredRun(t, st, time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC), 1000)
	q, log := memQueue(t)
	policy := defaultPolicy(t)

	dry, err := (&jobs.Actions{Runs: st, Queue: q, Policy: policy, DryRun: true}).Run(ctx)
	if err != nil || dry.Added != 0 || len(dry.Plan.Actions) == 0 || log.Len() != 0 {
		t.Fatalf("dry run: added %d, planned %v, %d events written (%v)", dry.Added, dry.Plan, log.Len(), err)
	}
	first, err := (&jobs.Actions{Runs: st, Queue: q, Policy: policy}).Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	p := first.Plan
	// The 200 high-risk customers of the latest run, none of the older one.
	if p.RunID != latest || p.Cycle != "2025-06-01" || len(p.Actions)+len(p.Control) != 200 || first.Added != 200 {
		t.Fatalf("first run: run %s cycle %s, %d actions + %d control, added %d", p.RunID, p.Cycle, len(p.Actions), len(p.Control), first.Added)
	}
	again, err := (&jobs.Actions{Runs: st, Queue: q, Policy: policy}).Run(ctx)
	if err != nil || again.Added != 0 || len(again.Plan.Actions) != 0 || again.Plan.Skipped[retention.SkipAlreadyPlanned] != 200 {
		t.Fatalf("second run: %+v %v", again, err)
	}
}

func TestActionsPlanANamedRunAndSayWhatIsMissing(t *testing.T) {
	st := newMemStore(0)
	ctx := context.Background()
	may := time.Date(2025, 5, 1, 0, 0, 0, 0, time.UTC)
	q, _ := memQueue(t)
	policy := defaultPolicy(t)
	if _, err := (&jobs.Actions{Runs: st, Queue: q, Policy: policy}).Run(ctx); churn.ErrorKind(err) != churn.KindNotFound || !strings.Contains(err.Error(), "churn score") {
		t.Fatalf("no run: %v, want not found naming `churn score`", err)
	}
	if _, err := (&jobs.Actions{Runs: st, Queue: q, Policy: policy, RunID: "nope", AsOf: may}).Run(ctx); churn.ErrorKind(err) != churn.KindNotFound {
		t.Fatalf("a run without scores: %v, want not found", err)
	}
	older := scoredRun(t, st, may, 100)
	scoredRun(t, st, may.AddDate(0, 1, 0), 100)
	res, err := (&jobs.Actions{Runs: st, Queue: q, Policy: policy, RunID: older, AsOf: may}).Run(ctx)
	if err != nil || res.Plan.RunID != older || res.Plan.Cycle != "2025-05-01" {
		t.Fatalf("named run: %+v %v", res, err)
	}
}

// actionList is a fixed set of actions.
type actionList []churn.Action

func (l actionList) Actions() ([]churn.Action, error) { return l, nil }

func TestOutcomesLabelOnlyCyclesWhoseHorizonTheDataReaches(t *testing.T) {
	st := newMemStore(0)
	ctx := context.Background()
	var as actionList
	for _, cycle := range []string{"2025-05-01", "2025-06-01"} {
		for i := range 10 {
			a := churn.Action{ID: fmt.Sprintf("%s-%d", cycle, i), CustomerID: fmt.Sprintf("c%d", i), Cycle: cycle, Rule: "c-high", Status: churn.ActionDone}
			if i%5 == 0 {
				a.Status = churn.ActionControl
			}
			as = append(as, a)
		}
	}
	as = append(as, churn.Action{ID: "m1", CustomerID: "c99", Cycle: "2025-06-01", Rule: retention.RuleManual, Status: churn.ActionDone})
	st.churned["c1"] = time.Date(2025, 5, 20, 0, 0, 0, 0, time.UTC) // within May's horizon
	st.churned["c2"] = time.Date(2025, 6, 10, 0, 0, 0, 0, time.UTC) // after May's, within June's
	st.last = time.Date(2025, 6, 15, 0, 0, 0, 0, time.UTC)          // the data reaches May's horizon only
	j := &jobs.Outcomes{Churn: st, Labels: st, Actions: as, Policy: defaultPolicy(t),
		Now: func() time.Time { return time.Date(2025, 6, 16, 0, 0, 0, 0, time.UTC) }}

	res, err := j.Run(ctx)
	if err != nil || fmt.Sprint(res.Labeled) != "[2025-05-01]" || fmt.Sprint(res.Waiting) != "[2025-06-01]" || res.Rows != 10 {
		t.Fatalf("first run: %+v %v", res, err)
	}
	churned := map[string]bool{}
	for _, o := range st.outcomes {
		churned[o.CustomerID] = o.Churned
		if o.HorizonDays != 30 || !o.LabeledAt.Equal(time.Date(2025, 6, 16, 0, 0, 0, 0, time.UTC)) {
			t.Fatalf("outcome %+v: want the policy's horizon and the job's clock", o)
		}
	}
	if !churned["c1"] || churned["c2"] {
		t.Fatalf("May's labels %v: c1 churned within the horizon, c2 after it", churned)
	}

	// Labelled cycles stay labelled; June waits until the data reaches
	// 2025-07-01, and then leaves the manual action out.
	st.last = time.Date(2025, 6, 30, 0, 0, 0, 0, time.UTC)
	if res, err := j.Run(ctx); err != nil || len(res.Labeled) != 1 || res.Labeled[0] != "2025-06-01" || res.Rows != 10 {
		t.Fatalf("second run: %+v %v", res, err)
	}
	if res, err := j.Run(ctx); err != nil || len(res.Labeled) != 0 || res.Rows != 0 || len(st.outcomes) != 20 {
		t.Fatalf("third run: %+v %v, %d outcomes stored", res, err, len(st.outcomes))
	}
}

func TestOutcomesArchiveLabelledCyclesOnceTheDataIsPastThePolicysDays(t *testing.T) {
	st := newMemStore(0)
	ctx := context.Background()
	q, _ := memQueue(t)
	var as []churn.Action
	for _, cycle := range []string{"2025-03-01", "2025-05-01"} {
		for i := range 4 {
			as = append(as, churn.Action{ID: fmt.Sprintf("%s-%d", cycle, i), CustomerID: fmt.Sprintf("c%d", i), Cycle: cycle,
				Kind: churn.ActionOffer, Rule: "c-high", Status: churn.ActionQueued})
		}
	}
	manual := churn.Action{ID: "m1", CustomerID: "c9", Cycle: "2025-04-15", Kind: churn.ActionOffer, Rule: retention.RuleManual}
	if _, err := q.Enqueue(ctx, "test", append(as, manual), nil); err != nil {
		t.Fatal(err)
	}
	for _, a := range as[:3] {
		if _, err := q.Cancel(ctx, a.ID, "", "", "test"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := q.Cancel(ctx, "m1", "", "", "test"); err != nil {
		t.Fatal(err)
	}
	pol := *defaultPolicy(t)()
	j := &jobs.Outcomes{Churn: st, Labels: st, Actions: q, Archive: q, Policy: func() *retention.Policy { return &pol },
		Now: func() time.Time { return time.Date(2025, 8, 2, 0, 0, 0, 0, time.UTC) }}

	// The data ends 2025-06-15: both cycles are labelled, and only March
	// is 90 days behind it. Its one open action stays until it closes.
	st.last = time.Date(2025, 6, 15, 0, 0, 0, 0, time.UTC)
	res, err := j.Run(ctx)
	if err != nil || fmt.Sprint(res.Labeled) != "[2025-03-01 2025-05-01]" || fmt.Sprint(res.Archived) != "[2025-03-01]" {
		t.Fatalf("first run: %+v %v", res, err)
	}
	left, _ := q.Actions()
	if len(left) != 6 { // March's open one, May's four, the manual one
		t.Fatalf("%d actions left after archiving March, want 6", len(left))
	}

	// With archiving off nothing more is archived, however old.
	st.last = time.Date(2025, 12, 31, 0, 0, 0, 0, time.UTC)
	pol.ArchiveAfterDays = 0
	if res, err := j.Run(ctx); err != nil || len(res.Archived) != 0 {
		t.Fatalf("run with archive_after_days 0: %+v %v", res, err)
	}
	// Back on, May goes, and April, which holds a manual action only and
	// is never labelled; a run after that archives nothing again.
	pol.ArchiveAfterDays = 90
	if res, err := j.Run(ctx); err != nil || fmt.Sprint(res.Archived) != "[2025-04-15 2025-05-01]" {
		t.Fatalf("third run: %+v %v", res, err)
	}
	if res, err := j.Run(ctx); err != nil || len(res.Archived) != 0 {
		t.Fatalf("fourth run: %+v %v", res, err)
	}
	left, _ = q.Actions()
	if len(left) != 5 { // the open ones of March and May
		t.Fatalf("%d actions left, want 5 open ones: %+v", len(left), left)
	}
}

// failingArchiver refuses every archive.
type failingArchiver struct{}

func (failingArchiver) ArchiveCycles(context.Context, string, []string) ([]string, error) {
	return nil, churn.Unavailable("insert into action_events", errors.New("connection reset"))
}

func TestAFailedArchiveStillReportsTheLabelsItStored(t *testing.T) {
	st := newMemStore(0)
	as := actionList{{ID: "a", CustomerID: "c1", Cycle: "2025-01-01", Rule: "c-high", Status: churn.ActionDone}}
	st.last = time.Date(2025, 6, 15, 0, 0, 0, 0, time.UTC)
	res, err := (&jobs.Outcomes{Churn: st, Labels: st, Actions: as, Archive: failingArchiver{}, Policy: defaultPolicy(t)}).Run(context.Background())
	if churn.ErrorKind(err) != churn.KindUnavailable || !strings.Contains(err.Error(), "archive cycles [2025-01-01]") {
		t.Fatalf("err %v, want the archive's error naming the cycle", err)
	}
	if res == nil || fmt.Sprint(res.Labeled) != "[2025-01-01]" || len(st.outcomes) != 1 {
		t.Fatalf("result %+v with %d outcomes stored: the labels were written and must be reported", res, len(st.outcomes))
	}
}

func TestAFailedOutcomeWriteNamesTheCycles(t *testing.T) {
	st := newMemStore(0)
	st.failOn("WriteActionOutcomes")
	as := actionList{{ID: "a", CustomerID: "c1", Cycle: "2025-05-01", Rule: "c-high", Status: churn.ActionDone}}
	_, err := (&jobs.Outcomes{Churn: st, Labels: st, Actions: as, Policy: defaultPolicy(t)}).Run(context.Background())
	if churn.ErrorKind(err) != churn.KindUnavailable || !strings.Contains(err.Error(), "2025-05-01") {
		t.Fatalf("err %v, want the store's error naming the cycle", err)
	}
}

func TestScheduledActionsOutcomesAndDriftCountTheRowsTheyWrite(t *testing.T) {
	st := shiftedAfterTraining(t, 3)
	ctx := context.Background()
	q, _ := memQueue(t)
	policy := defaultPolicy(t)
	as := actionList{{ID: "a", CustomerID: "c1", Cycle: "2025-05-01", Rule: "c-high", Status: churn.ActionDone}}
	sched, err := jobs.New(jobs.Options{History: &memHistory{}},
		jobs.Spec{Name: "actions", Job: jobs.ActionsJob{Actions: &jobs.Actions{Runs: st, Queue: q, Policy: policy}}},
		jobs.Spec{Name: "outcomes", Job: jobs.OutcomesJob{Outcomes: &jobs.Outcomes{Churn: st, Labels: st, Actions: as, Policy: policy}}},
		jobs.Spec{Name: "drift", Job: driftOn(st, &retrains{})})
	if err != nil {
		t.Fatal(err)
	}
	for job, want := range map[string]func(int64) bool{
		"actions": func(n int64) bool {
			return n > 0 && n == int64(q.Counts()[churn.ActionQueued]+q.Counts()[churn.ActionControl])
		},
		"outcomes": func(n int64) bool { return n == 1 },
		"drift":    func(n int64) bool { return n == int64(len(st.checks)) && n > 1 },
	} {
		runs, err := sched.RunNow(ctx, job, jobs.TriggerManual)
		if err != nil || runs[0].Status != churn.JobSucceeded || !want(runs[0].Rows) {
			t.Errorf("%s: %+v (%v)", job, runs, err)
		}
	}
}

// outcomeList is labelled outcomes in memory.
type outcomeList []churn.Outcome

func (o outcomeList) ActionOutcomes(context.Context, ...string) ([]churn.Outcome, error) {
	return o, nil
}

func TestActionsPlanWithTheRatesLearnedFromOutcomes(t *testing.T) {
	st := newMemStore(0)
	ctx := context.Background()
	scoredRun(t, st, time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC), 1000)
	// Past cycles: offers to tier C kept nobody (treated churned as much
	// as control), so an offer is no longer worth its cost.
	var past outcomeList
	for i := range 4000 {
		grp := churn.GroupTreated
		if i%10 == 0 {
			grp = churn.GroupControl
		}
		past = append(past, churn.Outcome{Cycle: "2025-05-01", CustomerID: fmt.Sprintf("p%05d", i), Group: grp,
			Kind: churn.ActionOffer, Tier: churn.TierC, Probability: 0.3, Churned: (i/10)%10 < 3})
	}
	plan := func(o jobs.OutcomeReader) *retention.Plan {
		q, _ := memQueue(t)
		res, err := (&jobs.Actions{Runs: st, Queue: q, Policy: defaultPolicy(t), DryRun: true, Outcomes: o}).Run(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return res.Plan
	}
	kinds := func(p *retention.Plan) map[churn.ActionKind]int {
		m := map[churn.ActionKind]int{}
		for _, a := range append(p.Actions, p.Control...) {
			m[a.Kind]++
		}
		return m
	}
	if got := kinds(plan(nil)); got[churn.ActionOffer] != 100 || got[churn.ActionSpecialistCall] != 100 {
		t.Fatalf("with the policy's rates: %v, want 100 offers and 100 calls", got)
	}
	if got := kinds(plan(past)); got[churn.ActionOffer] != 0 || got[churn.ActionSpecialistCall] != 100 {
		t.Fatalf("with learned rates: %v, want no offer and 100 calls", got)
	}
}
